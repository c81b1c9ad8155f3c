"""Pages of 抓调整 (the green channel, temporary assistance) and of complaints.

Thin views over `cases.assistance` and `cases.complaints`: access helper → form → service →
redirect. A detail page carries the forms of the steps the user may take now; a refused step
shows the page again with its form and the message beside the field (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import assistance, complaints, roles
from .access import (
    get_complaint_for_user,
    get_current_campaign,
    get_green_channel_for_user,
    get_household_for_user,
    get_temporary_aid_for_user,
    public_uuid,
    scoped,
)
from .forms import (
    AidDecisionForm,
    AidForm,
    AidPaymentForm,
    AidVillageReviewForm,
    ComplaintForm,
    ComplaintNoteForm,
    ComplaintReplyForm,
    ComplaintResultForm,
    GreenAcceptForm,
    GreenApproveForm,
    GreenDocumentsForm,
    GreenLapseForm,
    GreenReviewForm,
    HouseholdPickForm,
    StatusFilterForm,
    apply_domain_error,
)
from .lists import page_size, several_villages
from .models import Case, Complaint, Decision, GreenChannel, Household, Member, TemporaryAid, Village
from .services import DomainError

HEADS = Prefetch(
    "members",
    queryset=Member.objects.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD),
    to_attr="heads",
)


def _heads(path: str) -> Prefetch:
    return Prefetch(f"{path}__members", queryset=HEADS.queryset, to_attr="heads")


def _filtered(request, qs, statuses: dict[str, str], *, village_field: str = "village"):
    """The list's filter form and the page of `qs` it selects (status through `qs`'s own filter)."""
    villages = Village.objects.visible_to(request.user).order_by("order", "code")
    form = StatusFilterForm(request.GET or None, statuses=statuses, villages=villages)
    village = form.cleaned_data["village"] if form.is_valid() else None
    if village is not None:
        qs = qs.filter(**{village_field: village})
    page = Paginator(qs, page_size()).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return form, page, query.urlencode()


def _status(request, statuses: dict[str, str]) -> str:
    status = request.GET.get("status", "")
    return status if status in statuses else ""


def _picked_household(request) -> Household | None:
    """The household a new record is about, chosen with the picker (404 outside the user's area)."""
    public_id = request.POST.get("household") or request.GET.get("household")
    return get_household_for_user(request, public_id) if public_id else None


def _picker(request) -> tuple[HouseholdPickForm, list[Household]]:
    """Households in the user's area with a live member of the name typed (at most 10)."""
    form = HouseholdPickForm(request.GET if "q" in request.GET else None)
    found: list[Household] = []
    if form.is_bound and form.is_valid():
        found = list(
            Household.objects.visible_to(request.user)
            .search(form.cleaned_data["q"])
            .select_related("village", "group")
            .prefetch_related(HEADS)
            .order_by("village__order", "-id")[:10]
        )
    return form, found


def _act(request, form, run: Callable[[dict], object], *, success: str, done, again):
    """Run one step of a detail page: its form, then its service; refused, the page again."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, success)
            return done
    return again(form)


# --- the green channel ------------------------------------------------------------------------


@login_required
@require_GET
def green_list(request):
    """Applications by status; the overdue ones (documents or democratic review past due) first for the town."""
    campaign = get_current_campaign(request)
    status = _status(request, assistance.GREEN_FILTERS)
    qs = (
        scoped(assistance.green_for(campaign, status), request.user)
        .select_related("village", "member", "household__group")
        .order_by("-accepted_on", "-id")
    )
    form, page, query = _filtered(request, qs, assistance.GREEN_FILTERS)
    overdue = scoped(assistance.green_for(campaign, "overdue"), request.user).count()
    return render(
        request,
        "cases/green_list.html",
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "query": query,
            "overdue": overdue,
            "today": timezone.localdate(),
            "can_take": roles.can_take_assistance(request.user),
            "several_villages": several_villages(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def green_create(request):
    roles.require(roles.can_take_assistance(request.user))
    campaign = get_current_campaign(request)
    household = _picked_household(request)
    if household is None:
        picker, found = _picker(request)
        return render(request, "cases/green_form.html", {"picker": picker, "found": found, "campaign": campaign})
    form = GreenAcceptForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        try:
            green = assistance.accept_green(campaign, household, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "已受理绿色通道申请；该户列入镇、县全面核查。")
            return redirect("green_detail", public_id=green.public_id)
    return render(
        request,
        "cases/green_form.html",
        {"form": form, "household": household, "campaign": campaign},
        status=400 if form.errors else 200,
    )


def _green_page(request, green: GreenChannel, *, bound=None, status: int = 200):
    user, today = request.user, timezone.localdate()
    forms = {}
    if green.status == GreenChannel.Status.DOCUMENTS and roles.can_take_assistance(user):
        forms["documents"] = GreenDocumentsForm(prefix="documents", initial={"received_on": today})
    if green.documents_overdue(today) and roles.can_edit_campaign(user):
        forms["lapse"] = GreenLapseForm(prefix="lapse")
    if green.status == GreenChannel.Status.COMPLETE and roles.can_approve_green(user):
        forms["approve"] = GreenApproveForm(prefix="approve", initial={"approved_on": today})
    if green.status == GreenChannel.Status.APPROVED and roles.can_take_assistance(user):
        forms["review"] = GreenReviewForm(prefix="review")
    if bound is not None:
        forms[bound.prefix] = bound
    return render(
        request,
        "cases/green_detail.html",
        {
            "green": green,
            "household": green.household,
            "forms": forms,
            "today": today,
            "documents_overdue": green.documents_overdue(today),
            "review_overdue": green.review_overdue(today),
            "case": Case.objects.filter(campaign=green.campaign, household=green.household).first(),
        },
        status=status,
    )


@login_required
@require_GET
def green_detail(request, public_id):
    return _green_page(request, get_green_channel_for_user(request, public_id))


def _green_step(request, public_id, form_class, prefix, allowed, run, success):
    green = get_green_channel_for_user(request, public_id, write=True)
    roles.require(allowed(request.user))
    return _act(
        request,
        form_class(request.POST, prefix=prefix),
        lambda data: run(green, actor=request.user, **data),
        success=success,
        done=redirect("green_detail", public_id=green.public_id),
        again=lambda form: _green_page(request, green, bound=form, status=400),
    )


@login_required
@require_POST
def green_documents(request, public_id):
    return _green_step(
        request,
        public_id,
        GreenDocumentsForm,
        "documents",
        roles.can_take_assistance,
        assistance.receive_documents,
        "已登记材料补齐，待县民政局审批。",
    )


@login_required
@require_POST
def green_lapse(request, public_id):
    return _green_step(
        request,
        public_id,
        GreenLapseForm,
        "lapse",
        roles.can_edit_campaign,
        assistance.lapse_green,
        "申请已终止，终止原因已记录。",
    )


@login_required
@require_POST
def green_approve(request, public_id):
    return _green_step(
        request,
        public_id,
        GreenApproveForm,
        "approve",
        roles.can_approve_green,
        assistance.approve_green,
        "已审批并纳入低保；民主评议待补。",
    )


@login_required
@require_POST
def green_review(request, public_id):
    return _green_step(
        request,
        public_id,
        GreenReviewForm,
        "review",
        roles.can_take_assistance,
        assistance.record_green_review,
        "已记录民主评议。",
    )


# --- temporary assistance ---------------------------------------------------------------------


@login_required
@require_GET
def aid_list(request):
    """Records by status, and the town's decisions 临时救助 still without a record."""
    campaign = get_current_campaign(request)
    status = _status(request, assistance.AID_FILTERS)
    qs = (
        scoped(assistance.aid_for(campaign, status), request.user)
        .select_related("village", "household__group")
        .order_by("-recorded_at", "-id")
    )
    form, page, query = _filtered(request, qs, assistance.AID_FILTERS)
    awaiting = (
        assistance.decisions_awaiting_aid(campaign)
        .filter(case__village__in=Village.objects.visible_to(request.user))
        .select_related("case__household__village")
        .prefetch_related(_heads("case__household"))
        .order_by("-decided_at")[:50]
    )
    return render(
        request,
        "cases/aid_list.html",
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "query": query,
            "awaiting": awaiting,
            "can_take": roles.can_take_assistance(request.user),
            "can_link": roles.can_edit_campaign(request.user),
            "several_villages": several_villages(request.user),
        },
    )


def _decision_for(request, campaign, public_id) -> Decision:
    decision = (
        Decision.objects.filter(
            public_id=public_uuid(public_id),
            case__campaign=campaign,
            case__village__in=Village.objects.visible_to(request.user),
        )
        .select_related("case__household__village", "case__campaign")
        .first()
    )
    if decision is None:
        raise Http404("没有找到该决定。")
    return decision


@login_required
@require_http_methods(["GET", "POST"])
def aid_create(request):
    """Record help given first, or take a spending application; for a household picked from the
    registry, for someone outside it, or carrying out a town decision 临时救助."""
    roles.require(roles.can_take_assistance(request.user))
    campaign = get_current_campaign(request)
    decision = None
    decision_id = request.POST.get("decision") or request.GET.get("decision")
    if decision_id:
        roles.require(roles.can_edit_campaign(request.user))
        decision = _decision_for(request, campaign, decision_id)
        household = decision.case.household
    else:
        household = _picked_household(request)
    villages = Village.objects.visible_to(request.user).order_by("order", "code")
    initial = {"handler": getattr(roles.profile_of(request.user), "display_name", ""), "kind": "spending"}
    scope = roles.village_scope(request.user)
    if scope is not None and len(scope) == 1:
        initial["village"] = villages.first()
    if household is not None:
        head = household.head()
        initial["person"] = head.name if head else ""
    form = AidForm(request.POST or None, villages=villages, household=household, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        kind = data.pop("kind")
        handler, helped_on = data.pop("handler"), data.pop("helped_on")
        try:
            if kind == TemporaryAid.Kind.EMERGENCY:
                aid = assistance.record_emergency(
                    campaign,
                    actor=request.user,
                    household=household,
                    decision=decision,
                    handler=handler,
                    helped_on=helped_on,
                    **data,
                )
            else:
                aid = assistance.apply_aid(campaign, actor=request.user, household=household, decision=decision, **data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, "已登记先行救助。" if kind == TemporaryAid.Kind.EMERGENCY else "已受理临时救助申请。"
            )
            return redirect("aid_detail", public_id=aid.public_id)
    picker, found = _picker(request) if household is None else (None, [])
    return render(
        request,
        "cases/aid_form.html",
        {
            "form": form,
            "household": household,
            "decision": decision,
            "picker": picker,
            "found": found,
            "campaign": campaign,
            "limits": [(label, assistance.level_limit(campaign, level)) for level, label in TemporaryAid.Level.choices],
        },
        status=400 if form.errors else 200,
    )


def _aid_page(request, aid: TemporaryAid, *, bound=None, status: int = 200):
    user, today = request.user, timezone.localdate()
    forms = {}
    if aid.status == TemporaryAid.Status.VILLAGE and assistance.acting_level(user, aid.status) == "village":
        forms["village"] = AidVillageReviewForm(prefix="village")
    awaiting_approval = aid.status in (TemporaryAid.Status.TOWN, TemporaryAid.Status.COUNTY)
    if awaiting_approval and assistance.acting_level(user, aid.status) == aid.status:
        forms["decide"] = AidDecisionForm(prefix="decide", initial={"amount": aid.requested_amount})
    if aid.status == TemporaryAid.Status.APPROVED and aid.left_to_pay > 0 and roles.can_edit_campaign(user):
        forms["pay"] = AidPaymentForm(prefix="pay", initial={"paid_on": today, "amount": aid.left_to_pay})
    if bound is not None:
        forms[bound.prefix] = bound
    return render(
        request,
        "cases/aid_detail.html",
        {
            "aid": aid,
            "approvals": aid.approvals.select_related("by__profile"),
            "payments": aid.payments.select_related("recorded_by__profile"),
            "forms": forms,
            "limits": [
                (label, assistance.level_limit(aid.campaign, level)) for level, label in TemporaryAid.Level.choices
            ],
        },
        status=status,
    )


@login_required
@require_GET
def aid_detail(request, public_id):
    return _aid_page(request, get_temporary_aid_for_user(request, public_id))


def _aid_step(request, public_id, form_class, prefix, run, success, *, levels):
    aid = get_temporary_aid_for_user(request, public_id, write=True)
    roles.require(roles.aid_level(request.user) in {*levels, "any"})
    return _act(
        request,
        form_class(request.POST, prefix=prefix),
        lambda data: run(aid, data),
        success=success,
        done=redirect("aid_detail", public_id=aid.public_id),
        again=lambda form: _aid_page(request, aid, bound=form, status=400),
    )


@login_required
@require_POST
def aid_village_review(request, public_id):
    return _aid_step(
        request,
        public_id,
        AidVillageReviewForm,
        "village",
        lambda aid, data: assistance.review_in_village(aid, actor=request.user, **data),
        "已记录村级审核意见。",
        levels={"village"},
    )


@login_required
@require_POST
def aid_decide(request, public_id):
    outcome = {}

    def run(aid, data):
        outcome["status"] = assistance.decide_aid(aid, actor=request.user, **data)

    response = _aid_step(
        request, public_id, AidDecisionForm, "decide", run, "已记录审批意见。", levels={"town", "county"}
    )
    if outcome.get("status") == TemporaryAid.Status.COUNTY:
        messages.info(request, "金额超过镇级审批限额，已报县民政局审批。")
    return response


@login_required
@require_POST
def aid_pay(request, public_id):
    roles.require(roles.can_edit_campaign(request.user))
    return _aid_step(
        request,
        public_id,
        AidPaymentForm,
        "pay",
        lambda aid, data: assistance.pay_aid(aid, actor=request.user, **data),
        "已登记发放。",
        levels={"town"},
    )


# --- complaints -------------------------------------------------------------------------------


@login_required
@require_GET
def complaint_list(request):
    """Complaints with their status and overdue flags; the 公示's objections, read-only, on their own tab."""
    roles.require(roles.can_read_complaints(request.user))
    campaign = get_current_campaign(request)
    kind = request.GET.get("kind") if request.GET.get("kind") in complaints.KINDS else "complaints"
    today = timezone.localdate()
    if kind == "objections":
        statuses = {k: v[0] for k, v in complaints.OBJECTION_FILTERS.items()}
        status = _status(request, statuses)
        qs = (
            complaints.objections_for(campaign, status)
            .select_related("case__village", "case__household")
            .prefetch_related(_heads("case__household"))
            .order_by("-recorded_at", "-id")
        )
    else:
        statuses = {k: v[0] for k, v in complaints.STATUS_FILTERS.items()}
        status = _status(request, statuses)
        qs = (
            complaints.complaints_for(campaign, status, today)
            .select_related("village", "handler__profile", "household")
            .prefetch_related(_heads("household"))
            .order_by("-received_on", "-id")
        )
    form, page, query = _filtered(
        request, qs, statuses, village_field="case__village" if kind == "objections" else "village"
    )
    return render(
        request,
        "cases/complaint_list.html",
        {
            "campaign": campaign,
            "kind": kind,
            "kinds": complaints.KINDS,
            "form": form,
            "page": page,
            "query": query,
            "today": today,
            "overdue": complaints.complaints_for(campaign, "overdue", today).count(),
            "can_handle": roles.can_handle_complaints(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request):
    roles.require(roles.can_handle_complaints(request.user))
    campaign = get_current_campaign(request)
    household = _picked_household(request)
    handlers = complaints.handlers(campaign)
    initial = {}
    if roles.role_of(request.user) == roles.Role.TOWN:
        initial["handler"] = request.user.get_username()
    form = ComplaintForm(
        request.POST or None,
        villages=Village.objects.visible_to(request.user).filter(town=campaign.town_id).order_by("order", "code"),
        handlers=handlers,
        household=household,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            complaint = complaints.record_complaint(campaign, actor=request.user, household=household, **data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            note = "；该户列入镇、县全面核查" if household is not None else ""
            messages.success(request, f"已受理投诉举报，办理期限{complaint.due_on:%m月%d日}{note}。")
            return redirect("complaint_detail", public_id=complaint.public_id)
    picker, found = _picker(request) if household is None else (None, [])
    return render(
        request,
        "cases/complaint_form.html",
        {"form": form, "household": household, "picker": picker, "found": found, "campaign": campaign},
        status=400 if form.errors else 200,
    )


def _complaint_page(request, complaint: Complaint, *, bound=None, status: int = 200):
    forms = {}
    if complaint.status != Complaint.Status.CLOSED and roles.can_handle_complaints(request.user):
        forms["note"] = ComplaintNoteForm(prefix="note")
        if complaint.status != Complaint.Status.OPEN:
            forms["result"] = ComplaintResultForm(
                prefix="result", initial={"finding": complaint.finding, "result": complaint.result}
            )
        if complaint.status == Complaint.Status.CONCLUDED and not complaint.anonymous:
            forms["reply"] = ComplaintReplyForm(prefix="reply", initial={"replied_on": timezone.localdate()})
    if bound is not None:
        forms[bound.prefix] = bound
    return render(
        request,
        "cases/complaint_detail.html",
        {
            "complaint": complaint,
            "notes": complaint.notes.select_related("written_by__profile"),
            "heads": complaint.household.head() if complaint.household else None,
            "case": Case.objects.filter(campaign=complaint.campaign, household=complaint.household).first()
            if complaint.household
            else None,
            "forms": forms,
            "overdue": complaint.is_overdue(),
            "can_close": complaint.status == Complaint.Status.CONCLUDED and roles.can_handle_complaints(request.user),
            "sees_reporter": roles.can_see_reporters(request.user),
        },
        status=status,
    )


@login_required
@require_GET
def complaint_detail(request, public_id):
    return _complaint_page(request, get_complaint_for_user(request, public_id))


def _complaint_step(request, public_id, form_class, prefix, run, success):
    complaint = get_complaint_for_user(request, public_id, write=True)
    return _act(
        request,
        form_class(request.POST, prefix=prefix),
        lambda data: run(complaint, actor=request.user, **data),
        success=success,
        done=redirect("complaint_detail", public_id=complaint.public_id),
        again=lambda form: _complaint_page(request, complaint, bound=form, status=400),
    )


@login_required
@require_POST
def complaint_note(request, public_id):
    return _complaint_step(request, public_id, ComplaintNoteForm, "note", complaints.add_note, "已记录核查情况。")


@login_required
@require_POST
def complaint_result(request, public_id):
    return _complaint_step(
        request, public_id, ComplaintResultForm, "result", complaints.conclude, "已记录核查结论和处理结果。"
    )


@login_required
@require_POST
def complaint_reply(request, public_id):
    return _complaint_step(request, public_id, ComplaintReplyForm, "reply", complaints.record_reply, "已记录答复。")


@login_required
@require_POST
def complaint_close(request, public_id):
    complaint = get_complaint_for_user(request, public_id, write=True)
    try:
        complaints.close(complaint, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _complaint_page(request, complaint, status=400)
    messages.success(request, "投诉举报已办结。")
    return redirect("complaint_detail", public_id=complaint.public_id)
