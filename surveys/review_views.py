"""Pages of the town's review in phase 3: decisions, 公示 with objections, the report to the county.

Thin views over `surveys.review` and `cases.decisions`: access helper → form → service → redirect.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import roles
from cases.access import get_current_campaign, get_village_for_user, public_uuid
from cases.decisions import first_of_next_month, undecided_count
from cases.lists import ByVillage, page_size
from cases.models import Case, CountyReview, Decision, ExitNotice, Member, Notice, Objection, Village
from cases.services import DomainError

from . import review
from .models import Difference, Revisit, Sample, TownReport
from .review import COUNTY_STATUSES, STATUSES

HEADS = review.HEADS


def _village_for(request, code: str | None) -> Village | None:
    """The village a list is narrowed to, if any (404 when it is not the user's)."""
    return get_village_for_user(request, code) if code else None


def _query(village: Village | None, status: str) -> str:
    """The list's filters, carried by its page links."""
    return urlencode({k: v for k, v in (("village", village.code if village else ""), ("status", status)) if v})


def _back_to_list(name: str, village: Village | None):
    """Back to a list, on the village the user was working on."""
    target = redirect(name)
    if village is not None:
        target["Location"] += f"?village={village.code}"
    return target


def _page(request, rows, counts, villages, states):
    """A page of `rows` (already filtered to the review `states`), village after village, by
    one query: the villages' tallies tell where the page starts (`cases.lists.ByVillage`)."""
    rows = rows.select_related("household__village", "household__group", "decision").prefetch_related(HEADS)
    by_village = [(v.id, sum(counts.get(v.id, {}).get(s, 0) for s in states)) for v in villages]
    return Paginator(ByVillage(rows, by_village), page_size()).get_page(request.GET.get("page"))


def _can_decide(user) -> bool:
    return roles.can_edit_campaign(user)


def _may_decide_now(user, campaign, case=None) -> bool:
    """The town decides in phase 3, and in phase 4 answers what the county returned."""
    if not _can_decide(user):
        return False
    if campaign.current_phase == campaign.PhaseNumber.VERIFY:
        return case is None or case.review not in (Case.Review.SENT, Case.Review.APPROVED)
    return campaign.current_phase == campaign.PhaseNumber.SUPERVISE and case is not None and case.review == "returned"


def _may_review_now(user, campaign, case=None) -> bool:
    return (
        roles.can_review_county(user)
        and campaign.current_phase == campaign.PhaseNumber.SUPERVISE
        and (case is None or case.review == Case.Review.SENT)
    )


def _get_case_for_user(request, campaign, household_id, *, write: bool = False) -> Case:
    """The case row of a household the user's area covers (404 otherwise); 403 for a read-only write."""
    case = (
        Case.objects.visible_to(request.user)
        .select_related("campaign", "household__village", "household__group", "decision__decided_by")
        .filter(campaign=campaign, household__public_id=public_uuid(household_id))
        .first()
    )
    if case is None:
        raise Http404("没有找到该户。")
    if write:
        roles.require(_can_decide(request.user))
    return case


@login_required
def decisions(request):
    """The town's decisions: per village what is left, and a page of households."""
    campaign = get_current_campaign(request)
    village = _village_for(request, request.GET.get("village"))
    status = request.GET.get("status", "left")
    if status not in STATUSES and status != "bulk":
        status = "left"
    cases = review.review_cases(campaign, request.user)
    villages = list(Village.objects.visible_to(request.user).order_by("order", "code"))
    counts = review.review_counts(campaign, villages)
    # what may be decided in bulk: for the chosen village, on its own tab only (the rules read
    # the village's surveys and re-visits: counting them on every view would grow with the village)
    if status == "bulk" and village is None:
        status = "left"
    ready = review.bulk_ready(campaign).filter(village=village) if status == "bulk" else None
    summary = [
        {
            "village": v,
            "total": counts[v.id].total() if v.id in counts else 0,
            "left": counts.get(v.id, {}).get(Case.Review.UNDECIDED, 0),
        }
        for v in villages
    ]
    if ready is None:
        shown = [village] if village is not None else villages
        page = _page(request, cases.filter(STATUSES[status][1]), counts, shown, STATUSES[status][2])
    else:
        rows = ready.select_related("household__village", "household__group", "decision").prefetch_related(HEADS)
        page = Paginator(rows.order_by("-household_id"), page_size()).get_page(request.GET.get("page"))
    offered = review.proposals(campaign, list(page.object_list))
    return render(
        request,
        "surveys/decisions.html",
        {
            "campaign": campaign,
            "village": village,
            "status": status,
            "query": _query(village, status),
            "statuses": [(k, v[0]) for k, v in STATUSES.items()] + ([("bulk", "可按建议批量决定")] if village else []),
            "summary": summary,
            "page": page,
            "rows": [(c, offered.get(c.pk)) for c in page.object_list],
            "can_decide": _can_decide(request.user) and campaign.current_phase == campaign.PhaseNumber.VERIFY,
            "total_left": sum(r["left"] for r in summary),
            "returned": sum(c.get(Case.Review.RETURNED, 0) for c in counts.values()),
            "whole_town": roles.village_scope(request.user) is None,
            "sees_samples": roles.can_see_samples(request.user),
            "ready": page.paginator.count if ready is not None else None,
            "village_left": village is not None and counts.get(village.id, {}).get(Case.Review.UNDECIDED, 0),
        },
    )


@login_required
@require_POST
def decide_bulk(request):
    campaign = get_current_campaign(request)
    roles.require(_can_decide(request.user))
    village = _village_for(request, request.POST.get("village"))
    try:
        decided, left = review.decide_all_as_proposed(campaign, actor=request.user, village=village)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已按建议决定{decided}户；{'尚有' + str(left) + '户须逐户决定' if left else '全部决定完毕'}。"
        )
    return _back_to_list("review_decisions", village)


def _parse_figures(post) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    figures: dict = {
        "outcome": post.get("outcome", ""),
        "dibao_class": post.get("dibao_class", "")[:20],
        "reason": post.get("reason", "")[:2000],
        "covered_persons": None,
        "monthly_amount": None,
    }
    raw = post.get("covered_persons", "").strip()
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) < 4:
            figures["covered_persons"] = int(raw)
        else:
            errors["covered_persons"] = "保障人数须为整数。"
    raw = post.get("monthly_amount", "").strip().removesuffix("元")
    if raw:
        try:
            amount = Decimal(raw)
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors["monthly_amount"] = "月保障金须为金额，如 305.00。"
        else:
            if amount != amount.quantize(Decimal("0.01")) or not 0 <= amount < Decimal("1000000"):
                errors["monthly_amount"] = "月保障金最多两位小数。"
            else:
                figures["monthly_amount"] = amount
    return figures, errors


@login_required
def decide(request, household_id):
    """One household: the proposal and its basis, the decisions so far, and the form to decide."""
    campaign = get_current_campaign(request)
    case = _get_case_for_user(request, campaign, household_id, write=request.method == "POST")
    proposal = review.proposal_for(case)
    errors: dict[str, str] = {}
    values = {}
    if request.method == "POST":
        values, errors = _parse_figures(request.POST)
        if not errors:
            try:
                review.decide_case(case, actor=request.user, **values)
            except DomainError as exc:
                errors[exc.field or "general"] = exc.message
            else:
                messages.success(request, "已作出决定。")
                return redirect("review_decide", household_id=household_id)
    elif proposal is not None:
        values = {
            "outcome": proposal.outcome,
            "covered_persons": proposal.covered_persons or "",
            "monthly_amount": proposal.monthly_amount or "",
            "dibao_class": case.household.dibao_class,
        }
    revisits = {
        r.entry.sample.level: r
        for r in Revisit.objects.filter(entry__sample__campaign=campaign, entry__household=case.household)
        .select_related("entry__sample")
        .prefetch_related("differences")
    }
    revisit = revisits.get(Sample.Level.TOWN)
    survey = review._submitted_surveys(campaign).filter(household=case.household).first()
    heads = [m for m in case.household.members.all() if m.relationship == Member.Relationship.HEAD and m.is_live]
    return render(
        request,
        "surveys/decide.html",
        {
            "campaign": campaign,
            "case": case,
            "sees_samples": roles.can_see_samples(request.user),
            "household": case.household,
            "head": heads[0] if heads else None,
            "proposal": proposal,
            "survey": survey,
            "revisit": revisit,
            "county_revisit": revisits.get(Sample.Level.COUNTY),
            "history": case.decisions.select_related("decided_by__profile").order_by("-decided_at", "-id"),
            "objections": case.objections.select_related("recorded_by", "resolved_by"),
            "outcomes": [
                (value, label)
                for value, label in Decision.Outcome.choices
                if value in (review.rules.DIBAO_OUTCOMES if case.household.is_dibao else review.rules.OTHER_OUTCOMES)
            ],
            "sees_objector": roles.can_see_reporters(request.user),
            "values": values,
            "errors": errors,
            "can_decide": _may_decide_now(request.user, campaign, case),
            "can_review": _may_review_now(request.user, campaign, case),
            "county_reviews": CountyReview.objects.filter(decision__case=case).select_related(
                "reviewed_by__profile", "decision"
            ),
            "next_month": first_of_next_month(timezone.localdate()),
            "gradual_offered": case.decision_id is not None
            and case.decision.outcome == Decision.Outcome.EXIT
            and bool(case.household.poverty_status)
            and campaign.gradual_exit_months > 0,
            "exit_notice": ExitNotice.objects.filter(decision__case=case).first(),
            "exit_notice_due": case.review == Case.Review.APPROVED
            and case.decision_id is not None
            and case.decision.outcome == Decision.Outcome.EXIT
            and (_can_decide(request.user) or roles.can_review_county(request.user)),
            "exit_methods": ExitNotice.Method.choices,
            "today": timezone.localdate(),
        },
        status=400 if errors else 200,
    )


# --- 公示 ------------------------------------------------------------------------------


@login_required
def notices(request):
    campaign = get_current_campaign(request)
    villages = list(Village.objects.visible_to(request.user).order_by("order", "code"))
    opened = {n.village_id: n for n in Notice.objects.filter(campaign=campaign, village__in=villages)}
    left = dict(
        Case.objects.in_scope()
        .filter(campaign=campaign, village__in=villages, review=Case.Review.UNDECIDED)
        .values("village_id")
        .annotate(n=Count("id"))
        .values_list("village_id", "n")
    )
    held = dict(
        Objection.objects.filter(notice__campaign=campaign, resolved_at__isnull=True, case__village__in=villages)
        .values("case__village_id")
        .annotate(n=Count("id"))
        .values_list("case__village_id", "n")
    )
    rows = [
        {"village": v, "notice": opened.get(v.id), "left": left.get(v.id, 0), "held": held.get(v.id, 0)}
        for v in villages
    ]
    return render(
        request,
        "surveys/notices.html",
        {
            "campaign": campaign,
            "rows": rows,
            "can_open": _can_decide(request.user) and campaign.current_phase == campaign.PhaseNumber.VERIFY,
        },
    )


@login_required
@require_POST
def notice_open(request, code):
    campaign = get_current_campaign(request)
    village = _village_for(request, code)
    roles.require(_can_decide(request.user))
    try:
        notice = review.rules.open_notice(campaign, village, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("review_notices")
    messages.success(request, f"{village.name}开始公示，至{notice.ends_on:%m月%d日}结束。")
    return redirect("review_notice", code=code)


@login_required
def notice(request, code):
    """A village's notice list (name, covered persons, category, amount, village — nothing else
    personal) and the objections recorded against it."""
    campaign = get_current_campaign(request)
    village = _village_for(request, code)
    current = Notice.objects.filter(campaign=campaign, village=village).select_related("opened_by").first()
    sections = review.notice_sections(campaign, village)
    objections = (
        Objection.objects.filter(notice__campaign=campaign, case__village=village)
        .select_related("case__household", "recorded_by", "resolved_by__profile")
        .prefetch_related(Prefetch("case__household__members", queryset=HEADS.queryset, to_attr="heads"))
    )
    return render(
        request,
        "surveys/notice.html",
        {
            "campaign": campaign,
            "village": village,
            "notice": current,
            "sections": sections,
            "listed": [c for _, rows in sections for c in rows],
            "objections": objections,
            "channels": Objection.Channel.choices,
            "left": undecided_count(campaign, village),
            "can_write": _can_decide(request.user) and campaign.current_phase == campaign.PhaseNumber.VERIFY,
            "sees_objector": roles.can_see_reporters(request.user),
        },
    )


@login_required
@require_POST
def objection_add(request, code):
    campaign = get_current_campaign(request)
    village = _village_for(request, code)
    roles.require(_can_decide(request.user))
    current = get_object_or_404(Notice, campaign=campaign, village=village)
    case = _get_case_for_user(request, campaign, request.POST.get("household", ""), write=True)
    try:
        review.record_objection(
            current,
            case,
            actor=request.user,
            channel=request.POST.get("channel", ""),
            content=request.POST.get("content", ""),
            objector=request.POST.get("objector", ""),
            contact=request.POST.get("contact", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记异议：该户列入全面核查，决定暂缓，须核实并写明处理结果。")
    return redirect("review_notice", code=code)


@login_required
@require_POST
def objection_resolve(request, public_id):
    campaign = get_current_campaign(request)
    roles.require(_can_decide(request.user))
    objection = get_object_or_404(
        Objection.objects.select_related("case__village"),
        public_id=public_uuid(public_id),
        notice__campaign=campaign,
        case__village__in=Village.objects.visible_to(request.user),
    )
    try:
        review.rules.resolve_objection(objection, actor=request.user, result=request.POST.get("result", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "异议已处理。")
    return redirect("review_notice", code=objection.case.village.code)


# --- the town's report to the county ------------------------------------------------------


@login_required
def town_report(request):
    campaign = get_current_campaign(request)
    if roles.village_scope(request.user) is not None:
        roles.require(False)
    sent = TownReport.objects.filter(campaign=campaign).select_related("sent_by").first()
    figures = sent.figures if sent else review.report_figures(campaign)
    return render(
        request,
        "surveys/town_report.html",
        {
            "campaign": campaign,
            "sent": sent,
            "problems": [] if sent else review.report_problems(campaign),
            "figures": figures,
            "verdicts": Difference.Verdict.choices,
            "can_send": _can_decide(request.user) and not sent,
            "late": campaign.county_report_deadline,
        },
    )


@login_required
@require_POST
def town_report_send(request):
    campaign = get_current_campaign(request, write=True)
    try:
        review.send_town_report(campaign, actor=request.user, late_reason=request.POST.get("late_reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "镇级报告已报县；镇级决定已锁定。")
    return redirect("review_town_report")


# --- phase 4: the county approves or returns ---------------------------------------------------


@login_required
def county(request):
    """The county's list: per village what waits for approval, and a page of households."""
    campaign = get_current_campaign(request)
    village = _village_for(request, request.GET.get("village"))
    status = request.GET.get("status", "sent")
    if status not in COUNTY_STATUSES and not (status == "bulk" and village is not None):
        status = "sent"
    villages = list(Village.objects.visible_to(request.user).order_by("order", "code"))
    cases = Case.objects.visible_to(request.user).in_scope().filter(campaign=campaign)
    counts = review.review_counts(campaign, villages)
    summary = [
        {"village": v, **{key: counts.get(v.id, {}).get(state, 0) for key, (_, _, [state]) in COUNTY_STATUSES.items()}}
        for v in villages
    ]
    # what may be approved in bulk: for the chosen village, on its own tab (see `decisions`);
    # the button only once the village's county sample is drawn
    ready = None
    if status == "bulk":
        rows = review.county_bulk_ready(campaign).filter(village=village)
        rows = rows.select_related("household__village", "household__group", "decision").prefetch_related(HEADS)
        page = Paginator(rows.order_by("-household_id"), page_size()).get_page(request.GET.get("page"))
        ready = page.paginator.count
    else:
        _, condition, states = COUNTY_STATUSES[status]
        page = _page(request, cases.filter(condition), counts, [village] if village else villages, states)
    waiting = village is not None and counts.get(village.id, {}).get(Case.Review.SENT, 0)
    drawn = bool(waiting) and review.county_drawn(campaign, village)
    return render(
        request,
        "surveys/county.html",
        {
            "campaign": campaign,
            "village": village,
            "status": status,
            "statuses": [(k, v[0]) for k, v in COUNTY_STATUSES.items()] + ([("bulk", "可批量批准")] if village else []),
            "summary": summary,
            "page": page,
            "query": _query(village, status),
            "can_review": _may_review_now(request.user, campaign),
            "ready": ready,
            "may_bulk": drawn,
        },
    )


@login_required
@require_POST
def county_bulk(request):
    campaign = get_current_campaign(request)
    roles.require(roles.can_review_county(request.user))
    village = _village_for(request, request.POST.get("village"))
    try:
        approved = review.approve_all(campaign, actor=request.user, village=village)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已批准{approved}户的决定，自{first_of_next_month(timezone.localdate()):%Y年%m月}起执行。"
        )
    return _back_to_list("review_county", village)


@login_required
@require_POST
def county_answer(request, household_id):
    """Approve (with the month it takes effect from) or return (with a reason) one decision."""
    campaign = get_current_campaign(request)
    case = _get_case_for_user(request, campaign, household_id)
    roles.require(roles.can_review_county(request.user))
    try:
        if request.POST.get("verdict") == CountyReview.Verdict.RETURN:
            review.rules.return_decision(case, actor=request.user, note=request.POST.get("note", ""))
            messages.success(request, "已退回镇里，待镇里答复。")
        else:
            month = request.POST.get("effective_from", "")
            try:
                effective = dt.date.fromisoformat(month + "-01") if month else None
            except ValueError:
                raise DomainError("执行起始月格式不正确（如 2026-12）。", field="effective_from") from None
            review.rules.approve(
                case,
                actor=request.user,
                effective_from=effective,
                note=request.POST.get("note", ""),
                gradual=request.POST.get("gradual") == "on",
            )
            messages.success(request, "已批准，决定生效。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("review_decide", household_id=household_id)


@login_required
@require_POST
def exit_notice(request, household_id):
    """Record that the household was told in writing of its approved exit (and any recovery)."""
    campaign = get_current_campaign(request)
    case = _get_case_for_user(request, campaign, household_id)
    roles.require(_can_decide(request.user) or roles.can_review_county(request.user))
    post = request.POST
    try:
        try:
            notified_on = dt.date.fromisoformat(post.get("notified_on", ""))
        except ValueError:
            raise DomainError("请填写告知日期。", field="notified_on") from None
        try:
            amount = Decimal(post.get("recovery_amount") or "0")
            if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or amount >= 10**8:
                raise InvalidOperation
        except InvalidOperation:
            raise DomainError("追回金额须为金额，如 1200.00。", field="recovery_amount") from None
        review.rules.record_exit_notice(
            case,
            actor=request.user,
            notified_on=notified_on,
            method=post.get("method", ""),
            recipient=post.get("recipient", ""),
            recovery_required=post.get("recovery_required") == "on",
            recovery_amount=amount,
            recovery_note=post.get("recovery_note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记清退告知。")
    return redirect("review_decide", household_id=household_id)
