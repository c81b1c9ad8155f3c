"""One access helper per object kind: the object if the user's area covers it,
404 otherwise (the same answer for "missing" and "not yours"), 403 for a write
by a role that may only read."""

from __future__ import annotations

import uuid

from django.http import Http404

from . import roles
from .auth import campaign_read_with
from .compiled import one_with_related
from .models import Campaign, Complaint, GreenChannel, Household, Member, TemporaryAid, Village


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


def get_village_for_user(request, code) -> Village:
    """A village the user's area covers, by its code (404 otherwise)."""
    # by a statement written once (every page of a village starts here); then the area
    village = one_with_related(Village, "code", code)
    if village is None or not roles.covers_village(request.user, village):
        raise Http404("没有找到该村（社区）。")
    return village


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
    """The campaign the user's town is running (a county account's: the town it chose), once per
    request (the page's footer shows its hotline): a town-bound account's came with the account
    (`cases.auth`)."""
    campaign = getattr(request, "_dibao_campaign", None)
    if campaign is None:
        known, campaign = campaign_read_with(request.user)  # the account's statement read it
        if not known:
            campaign = Campaign.objects.current(roles.town_scope(request.user))
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    request._dibao_campaign = campaign
    if write:
        roles.require(roles.can_edit_campaign(request.user))
    return campaign


def get_public_campaign(request, *, village_code: str = "") -> Campaign | None:
    """The campaign a public page (the notice board, the flyer) shows: of the town `?town=<code>`
    names, or of the village `village_code`, else the installation's latest (one town)."""
    town_code = request.GET.get("town", "")
    campaigns = Campaign.objects.filter(is_active=True).select_related("town").order_by("-created_at")
    if village_code:
        campaign = campaigns.filter(town__villages__code=village_code).first()
    elif town_code:
        campaign = campaigns.filter(town__code=town_code).first()
    else:
        campaign = campaigns.first()
    # an error page's footer (cases.context_processors) reads the hotline from here
    request._dibao_campaign = campaign
    return campaign


def scoped(qs, user):
    """`qs` (rows with a village) narrowed to the villages the user covers."""
    return qs.filter(roles.area_q(user))


def get_green_channel_for_user(request, public_id, *, write: bool = False) -> GreenChannel:
    """A green-channel application of a village the user covers; `write`: a role that acts on them."""
    green = (
        scoped(GreenChannel.objects, request.user)
        .select_related("campaign", "household__village", "household__group", "member", "accepted_by__profile")
        .select_related("approved_by__profile")
        .filter(public_id=public_uuid(public_id))
        .first()
    )
    if green is None:
        raise Http404("没有找到该绿色通道申请。")
    if write:
        roles.require(roles.can_take_assistance(request.user) or roles.can_approve_green(request.user))
    return green


def get_temporary_aid_for_user(request, public_id, *, write: bool = False) -> TemporaryAid:
    """A temporary-aid record of a village the user covers; `write`: a role with an approval level."""
    aid = (
        scoped(TemporaryAid.objects, request.user)
        .select_related("campaign", "village", "household__village", "decision", "recorded_by__profile")
        .filter(public_id=public_uuid(public_id))
        .first()
    )
    if aid is None:
        raise Http404("没有找到该临时救助记录。")
    if write:
        roles.require(roles.aid_level(request.user) is not None)
    return aid


def get_complaint_for_user(request, public_id, *, write: bool = False) -> Complaint:
    """A complaint, for the roles that see the whole town (a village's users see none: 404)."""
    complaint = None
    if roles.can_read_complaints(request.user):
        complaint = (
            Complaint.objects.select_related("campaign", "household__village", "village", "handler__profile")
            .select_related("recorded_by__profile", "closed_by__profile")
            .filter(roles.town_q(request.user), public_id=public_uuid(public_id))
            .first()
        )
    if complaint is None:
        raise Http404("没有找到该投诉举报。")
    if write:
        roles.require(roles.can_handle_complaints(request.user))
    return complaint
