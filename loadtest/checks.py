"""After a run: is every confirmed save in the database, and is every survey whole?"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import connections

from cases.models import AuditEvent, Case, Member
from surveys.models import Survey, SurveyContent

from .scenario import Ledger


def lost_writes(ledger: Ledger) -> list[str]:
    """Each (survey, field) whose last confirmed value is not what the database holds."""
    connections.close_all()  # the database may have restarted since this process last asked
    surveys = {str(s.public_id): s for s in Survey.objects.filter(public_id__in={k[0] for k in ledger.confirmed})}
    lost = []
    for (public_id, name), expected in sorted(ledger.confirmed.items()):
        survey = surveys[public_id]
        if name.startswith("h-"):
            actual = getattr(survey, name[2:])
            same = actual == expected
        else:
            row = survey.deductions.filter(kind=name[2:]).first()
            actual = row.amount if row else Decimal(0)
            try:
                same = actual == Decimal(expected)
            except InvalidOperation:
                same = False
        if not same:
            lost.append(f"{public_id[:8]} {name}: confirmed {expected!r}, database has {actual!r}")
    return lost


def half_saved(ledger: Ledger) -> list[str]:
    """Every survey the run touched is whole: all registered members on it; a saved draft has the
    record of its current content; a submitted one has two or more signatures of one recorded
    content, its figures, its case stage and its audit event."""
    connections.close_all()
    problems = []
    touched = Survey.objects.filter(public_id__in=ledger.touched).select_related("household", "campaign")
    saved = {k[0] for k in ledger.confirmed}
    for survey in touched:
        survey.with_rows()
        name = str(survey.public_id)[:8]
        registered = set(survey.household.members.filter(status=Member.Status.PRESENT).values_list("id", flat=True))
        rows = list(survey.members.all())
        if not rows:
            problems.append(f"{name}: no member rows")
        if missing := registered - {r.member_id for r in rows}:
            problems.append(f"{name}: {len(missing)} registered members missing from the survey")
        contents = set(SurveyContent.objects.filter(survey=survey).values_list("fingerprint", flat=True))
        if survey.status != Survey.Status.SUBMITTED:
            # Rows and the record of their content are written in one transaction.
            if str(survey.public_id) in saved and survey.content_fingerprint() not in contents:
                problems.append(f"{name}: draft rows without the record of their content")
            continue
        if survey.result is None or survey.submitted_at is None or survey.per_capita_income is None:
            problems.append(f"{name}: submitted without its figures")
        signed = {s.fingerprint for s in survey.signatures.all() if s.signed_at}
        if survey.signatures.count() < 2 or survey.signatures.filter(signed_at=None).exists() or len(signed) != 1:
            problems.append(f"{name}: submitted without two signatures of the same content")
        elif not signed <= contents:
            problems.append(f"{name}: signed content not on record")
        case = Case.objects.filter(campaign=survey.campaign, household=survey.household).first()
        if case is None or case.stage not in Case.SURVEYED:
            problems.append(f"{name}: submitted but the case row says {case.stage if case else 'nothing'}")
        events = AuditEvent.objects.filter(object_id=str(survey.public_id)).values_list("changes", flat=True)
        if not any((changes.get("状态") or [None])[-1] == "已提交" for changes in events):
            problems.append(f"{name}: submitted without its audit event")
    return problems


def submitted(ledger: Ledger) -> int:
    connections.close_all()
    return Survey.objects.filter(public_id__in=ledger.touched, status=Survey.Status.SUBMITTED).count()
