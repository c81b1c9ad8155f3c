"""One access helper per object kind: the object if the user's area covers it,
404 otherwise (the same answer for "missing" and "not yours"), 403 for a write
by a role that may only read."""

from __future__ import annotations

import uuid

from django.http import Http404

from . import roles
from .models import Campaign, Household, Member


def public_uuid(value) -> uuid.UUID:
    """A public identifier from a URL; a malformed one is simply not found."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404 from exc


def get_household_for_user(request, public_id, *, write: bool = False) -> Household:
    qs = Household.objects.visible_to(request.user).select_related("village", "group")
    household = qs.filter(public_id=public_uuid(public_id)).first()
    if household is None:
        raise Http404("没有找到该家庭。")
    if write:
        roles.require(roles.can_write_registry(request.user))
    return household


def get_member_for_user(request, public_id, *, write: bool = False) -> Member:
    visible = Household.objects.visible_to(request.user)
    member = (
        Member.objects.filter(public_id=public_uuid(public_id), household__in=visible)
        .select_related("household__village", "household__group")
        .first()
    )
    if member is None:
        raise Http404("没有找到该成员。")
    if write:
        roles.require(roles.can_write_registry(request.user))
    return member


def get_current_campaign(request, *, write: bool = False) -> Campaign:
    campaign = Campaign.objects.current()
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    if write:
        roles.require(roles.can_edit_campaign(request.user))
    return campaign
