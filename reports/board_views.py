"""The public notice board and its printable poster: no sign-in, no staff navigation, no link
into the staff pages, and a fixed number of queries."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.access import get_public_campaign
from cases.models import Campaign, Village

from .board import build_board, qr_svg, village_notice


def _town_query(request, campaign: Campaign) -> str:
    """`?town=<code>` when the page was asked for a town by name (an installation of several)."""
    return f"?town={campaign.town.code}" if request.GET.get("town") else ""


def _flyer_url(request, campaign: Campaign) -> str:
    """The policy flyer (PDF, no sign-in), where the documents part of the site offers it."""
    try:
        return reverse("document_flyer") + _town_query(request, campaign)
    except NoReverseMatch:
        return ""


@require_GET
def board(request):
    """低保政策公开栏: the policy and standards from the campaign's settings, how to apply, the
    hotline, and each village's 公示 while it runs."""
    campaign = get_public_campaign(request)
    if campaign is None:
        return render(request, "reports/board.html", {"campaign": None})
    today = timezone.localdate()
    url = request.build_absolute_uri(reverse("board") + _town_query(request, campaign))
    return render(
        request,
        "reports/board.html",
        {
            "campaign": campaign,
            "today": today,
            "board": build_board(campaign, today),
            "flyer_url": _flyer_url(request, campaign),
            "town_query": _town_query(request, campaign),
            "board_url": url,
            "qr": qr_svg(url),
        },
    )


def _village(campaign: Campaign, code: str) -> Village:
    village = Village.objects.filter(town=campaign.town_id, code=code).first()
    if village is None:
        raise Http404("没有找到该村（社区）。")
    return village


@require_GET
def village_board(request, code):
    """A village's 公示 list while it runs (the QR code on its board opens this page)."""
    campaign = get_public_campaign(request, village_code=code)
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    village = _village(campaign, code)
    today = timezone.localdate()
    return render(
        request,
        "reports/board_village.html",
        {"campaign": campaign, "village": village, "today": today, "notice": village_notice(campaign, village, today)},
    )


@require_GET
def poster(request):
    """An A4 poster for the village boards: the standards, the hotline and the board's QR code
    (`?village=`: the code opens that village's 公示 page)."""
    campaign = get_public_campaign(request)
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    village = _village(campaign, request.GET["village"]) if request.GET.get("village") else None
    target = (
        reverse("board_village", args=[village.code]) if village else reverse("board") + _town_query(request, campaign)
    )
    url = request.build_absolute_uri(target)
    return render(
        request,
        "reports/board_poster.html",
        {
            "campaign": campaign,
            "village": village,
            "villages": Village.objects.filter(town=campaign.town_id).order_by("order", "code"),
            "town_code": campaign.town.code if request.GET.get("town") else "",
            "board_url": url,
            "qr": qr_svg(url),
        },
    )
