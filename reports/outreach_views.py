"""政策培训: the town office records its training sessions; every role reads those of its area."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cases import roles
from cases.access import get_current_campaign, get_village_for_user, public_uuid
from cases.forms import apply_domain_error
from cases.lists import page_size
from cases.models import Village
from cases.services import DomainError

from . import outreach
from .models import TrainingAttendance, TrainingSession
from .outreach_forms import TrainingForm


def _attendance(user) -> Prefetch:
    """Each session's attendance, narrowed to the villages the reader covers."""
    rows = TrainingAttendance.objects.select_related("village").order_by("village__order", "village__code")
    scope = roles.village_scope(user)
    if scope is not None:
        rows = rows.filter(village_id__in=scope)
    return Prefetch("attendance", queryset=rows, to_attr="shown_attendance")


@login_required
@require_GET
def training_list(request):
    """The campaign's training sessions (a village's cadre: those their village attended), with
    each village's attendees; `?village=` narrows to one village of the reader's area."""
    campaign = get_current_campaign(request)
    sessions = outreach.trainings_visible_to(request.user, campaign)
    village = None
    if request.GET.get("village"):
        village = get_village_for_user(request, request.GET["village"])
        sessions = sessions.filter(attendance__village=village)
    sessions = (
        sessions.select_related("recorded_by__profile")
        .prefetch_related(_attendance(request.user))
        .order_by("-held_on", "-id")
    )
    page = Paginator(sessions, page_size()).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/training_list.html",
        {
            "campaign": campaign,
            "page": page,
            "query": query.urlencode(),
            "village": village,
            "whole_area": roles.village_scope(request.user) is None,
            "can_record": roles.can_edit_campaign(request.user),
        },
    )


def _form_page(request, form, session=None):
    return render(
        request,
        "reports/training_form.html",
        {"form": form, "session": session},
        status=400 if form.errors else 200,
    )


def _town_villages(campaign):
    return Village.objects.filter(town=campaign.town).order_by("order", "code")


@login_required
@require_http_methods(["GET", "POST"])
def training_create(request):
    campaign = get_current_campaign(request, write=True)
    form = TrainingForm(request.POST or None, villages=_town_villages(campaign))
    if request.method == "POST" and form.is_valid():
        try:
            session = outreach.record_training(campaign, actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已登记{session.held_on:%m月%d日}的政策培训。")
            return redirect("training_list")
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def training_edit(request, public_id):
    campaign = get_current_campaign(request, write=True)
    session = TrainingSession.objects.filter(campaign=campaign, public_id=public_uuid(public_id)).first()
    if session is None:
        raise Http404("没有找到该培训记录。")
    villages = _town_villages(campaign)
    initial = {
        "held_on": session.held_on,
        "place": session.place,
        "topic": session.topic,
        "town_attendees": session.town_attendees or None,
    }
    for row in session.attendance.select_related("village"):
        initial[TrainingForm.village_field(row.village)] = row.attendees
    form = TrainingForm(request.POST or None, villages=villages, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outreach.correct_training(session, actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "培训记录已更正。")
            return redirect("training_list")
    return _form_page(request, form, session)
