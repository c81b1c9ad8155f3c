"""The county's towns: one county installation holds several towns, each running its own
campaign. A county or administrator account chooses the town it works in (kept in its session,
read by `roles.town_scope`); every other account is bound to its own town."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import roles
from .models import Campaign, Case, Town, VillageTally


def town_rows() -> list[dict]:
    """Each town with the campaign it runs and where that stands, from the villages' tallies
    (two queries whatever the number of households)."""
    campaigns: dict[int, Campaign] = {}
    for campaign in Campaign.objects.filter(is_active=True).select_related("town").order_by("-created_at"):
        campaigns.setdefault(campaign.town_id, campaign)
    reported = Q(stage=Case.Stage.REPORTED)
    figures = {
        row["campaign"]: row
        for row in VillageTally.objects.filter(campaign__in=list(campaigns.values()))
        .values("campaign")
        .annotate(
            in_scope=Sum("households"),
            reported=Sum("households", filter=reported),
            town_sampled=Sum("town_sampled"),
            county_sampled=Sum("county_sampled"),
            county_revisited=Sum("county_revisited"),
            sent=Sum("households", filter=Q(review=Case.Review.SENT)),
            approved=Sum("households", filter=Q(review=Case.Review.APPROVED)),
            returned=Sum("households", filter=Q(review=Case.Review.RETURNED)),
        )
    }
    rows = []
    for town in Town.objects.order_by("code"):
        campaign = campaigns.get(town.pk)
        rows.append({"town": town, "campaign": campaign, "figures": figures.get(campaign.pk, {}) if campaign else {}})
    return rows


@login_required
@require_GET
def town_list(request):
    """The county's towns, each with its campaign's progress; the one the account works in is marked."""
    if not roles.can_choose_town(request.user):
        roles.require(False)
    return render(
        request,
        "cases/towns.html",
        {"rows": town_rows(), "chosen": roles.town_scope(request.user)},
    )


@login_required
@require_POST
def town_choose(request, code: str):
    """Work in this town: its campaign, villages and registry on every page from now on."""
    if not roles.can_choose_town(request.user):
        roles.require(False)
    town = Town.objects.filter(code=code).first()
    if town is None:
        raise Http404("没有找到该乡镇。")
    request.session[roles.TOWN_SESSION_KEY] = town.pk
    messages.success(request, f"已切换到{town.name}。")
    return redirect("home")
