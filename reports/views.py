from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from cases.access import get_current_campaign
from cases.models import Campaign, Village
from surveys.models import TownReport
from surveys.services import coverage_by_village

from .timeline import DUE, LATE, OVERDUE, build_timeline, report_state


@login_required
def home(request):
    """Today's place in the campaign's timeline and what is overdue in the user's villages."""
    campaign = get_current_campaign(request)
    today = timezone.localdate()
    villages = Village.objects.visible_to(request.user).filter(town=campaign.town)
    rows = [
        {**row, "state": report_state(row["report"], deadline=campaign.village_report_deadline, today=today)}
        for row in coverage_by_village(campaign, villages)
    ]
    # the town's report to the county (due 11/10): overdue once the deadline passed unsent
    report_overdue = 0
    if (
        campaign.current_phase == Campaign.PhaseNumber.VERIFY
        and today > campaign.county_report_deadline
        and not TownReport.objects.filter(campaign=campaign).exists()
    ):
        report_overdue = (today - campaign.county_report_deadline).days
    return render(
        request,
        "reports/home.html",
        {
            "campaign": campaign,
            "timeline": build_timeline(list(campaign.phases.all()), campaign.current_phase, today),
            "rows": rows,
            "overdue": [r for r in rows if r["state"].key == OVERDUE],
            "late": [r for r in rows if r["state"].key == LATE],
            "due": [r for r in rows if r["state"].key == DUE],
            "town_report_overdue": report_overdue,
            "report_days_left": (campaign.village_report_deadline - today).days,
            # the list of households to visit is drawn from the registry when phase 2 opens
            "listed": campaign.current_phase >= Campaign.PhaseNumber.REVIEW,
        },
    )
