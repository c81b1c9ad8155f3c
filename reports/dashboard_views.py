from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from cases import roles
from cases.access import get_current_campaign
from cases.models import Village

from .dashboard import build_dashboard
from .timeline import build_timeline


@login_required
def dashboard(request):
    """进度看板: where the campaign stands in the reader's villages, the policy outreach (flyers,
    awareness, training) with it. Read-only for every role.

    The sample's figures and the complaints are for the roles that see the whole town, as
    their lists are: a village must not learn which of its households are to be re-visited,
    nor who complained.
    """
    campaign = get_current_campaign(request)
    today = timezone.localdate()
    whole_area = roles.village_scope(request.user) is None
    villages = Village.objects.visible_to(request.user).filter(town=campaign.town).order_by("order", "code")
    board = build_dashboard(
        campaign,
        villages,
        today=today,
        with_complaints=roles.can_read_complaints(request.user),
        whole_area=whole_area,
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "campaign": campaign,
            "timeline": build_timeline(list(campaign.phases.all()), campaign.current_phase, today),
            "board": board,
            "whole_area": whole_area,
            "phase": campaign.current_phase,
        },
    )
