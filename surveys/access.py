"""The access helper for surveys: the survey if the user's area covers its
household (404 otherwise), 403 for a write by a role that may only read."""

from __future__ import annotations

from django.http import Http404

from cases import roles
from cases.access import public_uuid

from .models import Survey


def get_survey_for_user(request, public_id, *, write: bool = False) -> Survey:
    """The survey if the user's area covers its household (404 otherwise); 403 for a read-only role's write."""
    survey = (
        Survey.objects.visible_to(request.user)
        .select_related("campaign", "household__village", "household__group", "created_by", "submitted_by")
        .filter(public_id=public_uuid(public_id))
        .first()
    )
    if survey is None:
        raise Http404("没有找到该调查。")
    if write:
        roles.require(roles.can_survey(request.user))
    return survey.with_rows()
