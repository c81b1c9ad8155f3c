"""The audit trail behind 谁调查、谁签字、谁负责.

Every service that changes campaign or registry data calls `record` inside its
transaction, so the change and its record commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .idnumber import mask_id
from .models import AuditEvent

# Values that appear in timelines masked, like everywhere else on staff screens.
# Internal links that the household page already shows.
HIDDEN_FIELDS = {"household", "campaign"}
# Search-only forms of personal data never enter an audit row (the reversed ID
# number would give the full number back to anyone who can read the timeline).
NEVER_RECORDED = {"id_reversed", "name_reversed"}
# Bookkeeping, not content: identifiers, timestamps and edit counters.
BOOKKEEPING = {"public_id", "created_at", "updated_at", "version", "edit_version"}
SENSITIVE_FIELDS = {"id_number": mask_id, "bank_account": lambda v: mask_id(v) if v else v}


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, dt.date, dt.datetime, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The editable concrete field values of `obj`, as JSON-friendly values."""
    data = {}
    for field in obj._meta.concrete_fields:
        # a generated column is the database's arithmetic on the others, never edited
        if field.primary_key or field.generated or field.name in BOOKKEEPING | NEVER_RECORDED:
            continue
        if fields is not None and field.name not in fields:
            continue
        if field.is_relation:
            related = getattr(obj, field.name)
            data[field.name] = str(related) if related is not None else None
        else:
            value = getattr(obj, field.attname)
            if isinstance(field, models.DecimalField) and isinstance(value, (Decimal, int)):
                # 530 from a form (or a default) and 530.00 from the database are the same amount.
                value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
            data[field.name] = _plain(value)
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(
    *,
    actor,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    household=None,
    campaign=None,
    reason: str = "",
    batch: uuid.UUID | None = None,
    save: bool = True,
) -> AuditEvent | None:
    """Build (and by default save) one audit event; None for an update that changed nothing."""
    changes = diff(before or {}, after or {})
    if action == AuditEvent.Action.UPDATE and not changes:
        return None
    event = AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        model=obj._meta.label,
        object_id=str(getattr(obj, "public_id", None) or obj.pk),
        object_repr=str(obj)[:200],
        household=household,
        campaign=campaign,
        changes=changes,
        reason=reason[:300],
        batch=batch,
    )
    if save:
        event.save()
    return event


@dataclass
class Tracked:
    """What a `tracking` block may still decide before its event is written."""

    reason: str = ""


@contextmanager
def tracking(
    obj: models.Model,
    *,
    actor,
    action: str = AuditEvent.Action.UPDATE,
    fields: list[str] | None = None,
    household=None,
    campaign=None,
    reason: str = "",
) -> Iterator[Tracked]:
    """Record `obj` before and after the block as one audit event (none if nothing changed).

    The block may set `.reason` on what it is given, e.g. when the reason depends on
    what the change turned out to do. Nothing is recorded if the block raises.
    """
    before = snapshot(obj, fields)
    tracked = Tracked(reason)
    yield tracked
    record(
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=snapshot(obj, fields),
        household=household,
        campaign=campaign,
        reason=tracked.reason,
    )


def display_changes(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """(field label, before, after) rows for the timeline, with choice labels and masking."""
    from django.apps import apps

    try:
        model = apps.get_model(event.model)
    except LookupError:
        model = None
    rows = []
    for name, (before, after) in event.changes.items():
        if name in HIDDEN_FIELDS or (before in (None, "") and after in (None, "")):
            continue
        label, show = name, (lambda v: v)
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a label written as is, or a field removed since
                field = None
            if field is not None and not field.concrete:
                field = None
            if field is not None:
                label = str(field.verbose_name)
                choices = dict(field.flatchoices) if field.choices else None
                if choices:
                    show = lambda v, c=choices: c.get(v, v)  # noqa: E731
                if isinstance(field, models.BooleanField):
                    show = lambda v: {True: "是", False: "否"}.get(v, v)  # noqa: E731
        mask = SENSITIVE_FIELDS.get(name)
        if mask:
            before = mask(before) if before else before
            after = mask(after) if after else after
        rows.append((label, show(before), show(after)))
    return rows
