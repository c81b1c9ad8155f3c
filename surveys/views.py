from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import roles
from cases.access import get_current_campaign, get_household_for_user
from cases.lists import page_size, url_maker
from cases.models import Member, Village
from cases.services import DomainError

from . import services
from .access import get_survey_for_user
from .differences import differences
from .eligibility import COUNTED_INCOME, EXCLUDED_INCOME
from .forms import (
    CorrectionForm,
    InvestigatorsForm,
    LateReasonForm,
    ScreeningForm,
    SignForm,
    SurveyForms,
)
from .models import Survey, VillageReport

SIGN_ATTEMPTS = 5
SIGN_LOCK_MINUTES = 15


def _village_for_user(request, code) -> Village:
    village = Village.objects.visible_to(request.user).filter(code=code).first()
    if village is None:
        raise Http404("没有找到该村（社区）。")
    return village


@login_required
@require_GET
def coverage(request):
    campaign = get_current_campaign(request)
    villages = list(Village.objects.visible_to(request.user))
    rows = services.coverage_by_village(campaign, villages)
    totals = {k: sum(r[k] for r in rows) for k in ("total", "submitted", "draft", "not_visited")}
    return render(
        request,
        "surveys/coverage.html",
        {
            "campaign": campaign,
            "rows": rows,
            "totals": totals,
            "can_survey": roles.can_survey(request.user),
        },
    )


@dataclass(frozen=True)
class VisitRow:
    """One line of a village's list of households to visit, computed once."""

    start_url: str
    survey_url: str
    survey_draft: bool
    head_name: str
    place: str
    size: int
    names: str
    form: str
    stage: str
    stage_label: str


def _visit_rows(cases, surveys: dict[int, Survey]) -> list[VisitRow]:
    start, detail = url_maker("survey_start"), url_maker("survey_detail")
    rows = []
    for case in cases:
        h = case.household
        live = h.live_members()
        head = next((m for m in live if m.relationship == Member.Relationship.HEAD), None)
        survey = surveys.get(h.id)
        rows.append(
            VisitRow(
                start_url=start(h.public_id),
                survey_url=detail(survey.public_id) if survey else "",
                survey_draft=bool(survey and survey.is_draft),
                head_name=head.name if head else "（无户主）",
                place=h.group.name if h.group_id else "",
                size=len(live),
                names="、".join(m.name for m in live),
                form=case.form,
                stage=case.stage,
                stage_label=case.get_stage_display(),
            )
        )
    return rows


@login_required
@require_GET
def village_households(request, code):
    """The households one village must visit, with their survey state."""
    campaign = get_current_campaign(request)
    village = _village_for_user(request, code)
    status = request.GET.get("status", "")
    live = Member.objects.filter(status=Member.Status.PRESENT).only("household_id", "name", "relationship", "status")
    cases = (
        services.village_cases(campaign, village, status)
        .select_related("household__group")
        .prefetch_related(Prefetch("household__members", queryset=live))
    )
    page = Paginator(cases, page_size()).get_page(request.GET.get("page"))
    surveys = {
        s.household_id: s
        for s in Survey.objects.filter(
            campaign=campaign,
            household__in=[c.household_id for c in page],
            status__in=[Survey.Status.DRAFT, Survey.Status.SUBMITTED],
        ).only("household_id", "public_id", "status")
    }
    return render(
        request,
        "surveys/village_households.html",
        {
            "campaign": campaign,
            "village": village,
            "page": page,
            "rows": _visit_rows(page, surveys),
            "status": status,
            "can_survey": roles.can_survey(request.user),
            "report": VillageReport.objects.filter(campaign=campaign, village=village)
            .select_related("campaign")
            .first(),
            "unaccounted": services.unaccounted_members(campaign, village),
        },
    )


@login_required
@require_POST
def report(request, code):
    campaign = get_current_campaign(request)
    village = _village_for_user(request, code)
    roles.require(roles.can_report_village(request.user))
    try:
        services.report_village(campaign, village, actor=request.user, note=request.POST.get("note", "")[:200])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{village.name}的复核结果已上报镇社会事务办。")
    return redirect("survey_village", code=village.code)


@login_required
@require_GET
def household_survey(request, household_id):
    """From a household's page: its current survey, or the way to start one."""
    household = get_household_for_user(request, household_id)
    campaign = get_current_campaign(request)
    current = (
        Survey.objects.filter(campaign=campaign, household=household)
        .exclude(status=Survey.Status.SUPERSEDED)
        .order_by("-version")
        .first()
    )
    if current is not None:
        return redirect("survey_detail", public_id=current.public_id)
    return render(
        request,
        "surveys/household.html",
        {
            "household": household,
            "campaign": campaign,
            "in_universe": services.survey_universe(campaign).filter(pk=household.pk).exists(),
            "can_survey": roles.can_survey(request.user),
            "screening_form": ScreeningForm(),
        },
    )


@login_required
@require_POST
def start(request, household_id):
    household = get_household_for_user(request, household_id)
    roles.require(roles.can_survey(request.user))
    campaign = get_current_campaign(request)
    try:
        survey = services.start_survey(
            household, campaign=campaign, actor=request.user, late_reason=request.POST.get("late_reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("survey_village", code=household.village.code)
    return redirect("survey_edit", public_id=survey.public_id)


def _edit_context(request, survey, forms, **extra):
    candidates = services.investigator_candidates(survey.household)
    states = services.signature_states(survey)
    return {
        "survey": survey,
        "forms": forms,
        "household": survey.household,
        "counted_categories": [f"inc_{c}" for c in COUNTED_INCOME],
        "excluded_categories": [f"inc_{c}" for c in EXCLUDED_INCOME],
        "investigators_form": InvestigatorsForm(
            candidates=candidates, initial={"investigators": [s.investigator for s, _valid in states]}
        ),
        "signatures": states,
        "problems": services.missing_for_submission(survey, states),
        "late_form": LateReasonForm(),
        "needs_late_reason": survey.campaign.current_phase != survey.campaign.PhaseNumber.REVIEW,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, public_id):
    survey = get_survey_for_user(request, public_id, write=request.method == "POST")
    if not survey.is_draft:
        return redirect("survey_detail", public_id=survey.public_id)
    roles.require(roles.can_survey(request.user))
    forms = SurveyForms(survey, request.POST or None)
    result = None
    if request.method == "POST":
        if forms.is_valid():
            data = forms.to_input()
            try:
                services.save_survey(survey, data, actor=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "草稿已保存。")
                return redirect("survey_edit", public_id=survey.public_id)
        else:
            messages.error(request, "表中有需要改正的项目（见标红处），草稿未保存。")
    else:
        result = services.assess_survey(survey)
    return render(
        request,
        "surveys/edit.html",
        _edit_context(request, survey, forms, result=result),
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def preview(request, public_id):
    """The eligibility panel for what the form holds now, unsaved (called while the cadre types)."""
    survey = get_survey_for_user(request, public_id, write=True)
    forms = SurveyForms(survey, request.POST)
    if not forms.is_valid():
        return render(request, "surveys/_eligibility.html", {"invalid": True})
    result = services.assess_survey(survey, forms.to_input())
    return render(request, "surveys/_eligibility.html", {"result": result, "survey": survey})


@login_required
@require_POST
def investigators(request, public_id):
    survey = get_survey_for_user(request, public_id, write=True)
    form = InvestigatorsForm(request.POST, candidates=services.investigator_candidates(survey.household))
    if form.is_valid():
        try:
            services.set_investigators(survey, form.cleaned_data["investigators"], actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "调查人已确定，请各调查人签字。")
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect("survey_edit", public_id=survey.public_id)


@login_required
@require_POST
def sign(request, public_id):
    """Sign from one's own login, or on the same device by entering one's own password."""
    survey = get_survey_for_user(request, public_id, write=True)
    form = SignForm(request.POST)
    if not form.is_valid():
        raise Http404
    signature = (
        survey.signatures.select_related("investigator")
        .filter(investigator_id=form.cleaned_data["investigator"])
        .first()
    )
    if signature is None:
        raise Http404
    investigator = signature.investigator
    if investigator.pk == request.user.pk:
        method = "本人登录签字"
    else:
        # A password typed on someone else's device: limit guesses per investigator.
        failures_key = f"sign-failures:{investigator.pk}"
        if cache.get(failures_key, 0) >= SIGN_ATTEMPTS:
            messages.error(
                request,
                f"{investigator.username}的密码错误次数过多，请{SIGN_LOCK_MINUTES}分钟后再试，或由本人登录签字。",
            )
            return redirect("survey_edit", public_id=survey.public_id)
        password = form.cleaned_data["password"]
        if not password or authenticate(request, username=investigator.username, password=password) is None:
            cache.set(failures_key, cache.get(failures_key, 0) + 1, SIGN_LOCK_MINUTES * 60)
            messages.error(request, f"{investigator.username}的密码不正确，未签字。")
            return redirect("survey_edit", public_id=survey.public_id)
        cache.delete(failures_key)
        method = "同一设备输入密码签字"
    try:
        services.sign_survey(survey, investigator=investigator, actor=request.user, method=method)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{investigator.username}已签字。")
    return redirect("survey_edit", public_id=survey.public_id)


@login_required
@require_POST
def submit(request, public_id):
    survey = get_survey_for_user(request, public_id, write=True)
    try:
        services.submit_survey(survey, actor=request.user, late_reason=request.POST.get("late_reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("survey_edit", public_id=survey.public_id)
    messages.success(request, "调查已提交并锁定。")
    return redirect("survey_detail", public_id=survey.public_id)


def _version_chain(survey: Survey) -> list[Survey]:
    return list(
        Survey.objects.filter(campaign=survey.campaign, household=survey.household)
        .select_related("created_by", "submitted_by")
        .order_by("-version")
    )


@login_required
@require_GET
def detail(request, public_id):
    survey = get_survey_for_user(request, public_id)
    if survey.is_draft and roles.can_survey(request.user):
        return redirect("survey_edit", public_id=survey.public_id)
    chain = _version_chain(survey)
    previous = survey.supersedes.with_rows() if survey.supersedes_id else None
    # The stored figures are what the signers saw; recomputing shows the effect of changed standards.
    recomputed = services.assess_survey(survey) if survey.result else None
    if recomputed and (
        recomputed.per_capita_monthly == survey.per_capita_income
        and recomputed.suggested_outcome == survey.suggested_outcome
        and recomputed.suggested_amount == survey.suggested_amount
    ):
        recomputed = None
    return render(
        request,
        "surveys/detail.html",
        {
            "survey": survey,
            "household": survey.household,
            "versions": chain,
            "members": survey.members.all(),
            "signatures": survey.signatures.select_related("investigator__profile"),
            "diff": differences(previous, survey) if previous else None,
            "previous": previous,
            "correction_form": CorrectionForm(),
            "can_survey": roles.can_survey(request.user),
            "needs_late_reason": survey.campaign.current_phase != survey.campaign.PhaseNumber.REVIEW,
            "income_labels": {**COUNTED_INCOME, **EXCLUDED_INCOME},
            "recomputed": recomputed,
        },
    )


@login_required
@require_POST
def correct(request, public_id):
    survey = get_survey_for_user(request, public_id, write=True)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写更正原因。")
        return redirect("survey_detail", public_id=survey.public_id)
    try:
        copy = services.start_correction(
            survey, actor=request.user, reason=form.cleaned_data["reason"], late_reason=form.cleaned_data["late_reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("survey_detail", public_id=survey.public_id)
    messages.success(request, f"已建立第{copy.version}版更正草稿；原版本保留可查。")
    return redirect("survey_edit", public_id=copy.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def screening(request, household_id=None):
    """大排查: the form-B list, drawn from the registry; the town office adds and removes households."""
    campaign = get_current_campaign(request)
    if request.method == "POST":
        roles.require(roles.can_edit_campaign(request.user))
        household = get_household_for_user(request, household_id or request.POST.get("household", ""))
        form = ScreeningForm(request.POST)
        if form.is_valid():
            try:
                services.add_to_screening(campaign, household, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "已加入排查名单，可用表B入户调查。")
        else:
            messages.error(request, "请选择排查类别。")
        return redirect("survey_screening")
    page = Paginator(services.screening_entries(campaign, request.user), page_size()).get_page(request.GET.get("page"))
    can_edit = roles.can_edit_campaign(request.user)
    return render(
        request,
        "surveys/screening.html",
        {
            "campaign": campaign,
            "page": page,
            "can_edit": can_edit,
            "candidates": services.screening_candidates(campaign, request.user)[:50] if can_edit else None,
            "unlisted": services.unlisted_from_registry(campaign).count() if can_edit else 0,
            "form": ScreeningForm(),
        },
    )


@login_required
@require_POST
def screening_remove(request, household_id):
    campaign = get_current_campaign(request, write=True)
    household = get_household_for_user(request, household_id)
    try:
        services.remove_from_screening(campaign, household, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已移出排查名单，原因已记录。")
    return redirect("survey_screening")


@login_required
@require_POST
def screening_from_registry(request):
    campaign = get_current_campaign(request, write=True)
    counts = services.list_from_registry(campaign, actor=request.user)
    messages.success(request, f"已按花名册列入在保户{counts['dibao']}户、排查对象（表B）{counts['screening']}户。")
    return redirect("survey_screening")
