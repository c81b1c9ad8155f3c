"""The access helper for surveys: the survey if the user's area covers its
household (404 otherwise), 403 for a write by a role that may only read."""

from __future__ import annotations

from django.http import Http404

from cases import roles
from cases.access import public_uuid
from cases.compiled import one_with_related

from .models import Revisit, Survey


def get_survey_for_user(
    request, public_id, *, write: bool = False, related: tuple[str, ...] = (), rows: bool = True
) -> Survey:
    """The survey if the user's area covers its household (404 otherwise); 403 for a read-only role's write.

    `rows`: with its members, incomes, property and supporters (Survey.with_rows).
    `related`: more relations a page shows, read in the same query. Only what is shown: each
    joined table costs PostgreSQL more to plan than to read (with both accounts joined, the
    planning took 1.2 ms of the query's 1.3 ms). The statement is written once
    (cases.compiled.one_with_related): compiling it took longer than running it.
    """
    survey = one_with_related(
        Survey,
        "public_id",
        public_uuid(public_id),
        ("campaign__town", "household__village", "household__group", *related),
    )
    # the scope of Survey.objects.visible_to, checked on the village read with it
    if survey is None or not roles.covers_village(request.user, survey.household.village):
        raise Http404("没有找到该调查。")
    if write:
        roles.require(roles.can_survey(request.user))
    return survey.with_rows() if rows else survey


def get_revisit_for_user(request, public_id, *, write: bool = False) -> Revisit:
    """A re-visit for the roles that see the whole town (404 when missing), 403 for a read-only write."""
    if roles.village_scope(request.user) is not None:
        roles.require(False)
    revisit = (
        Revisit.objects.select_related("entry__sample__campaign", "entry__household__village", "survey")
        .prefetch_related("members__survey_member", "survey__members__incomes", "survey__vehicles")
        .filter(roles.town_q(request.user, "entry__sample__campaign"), public_id=public_uuid(public_id))
        .first()
    )
    if revisit is None:
        raise Http404("没有找到该核查。")
    if write:
        # the town writes its re-visits, the county its spot-checks
        town = revisit.entry.sample.level == "town"
        roles.require(roles.can_edit_campaign(request.user) if town else roles.can_review_county(request.user))
    return revisit
