from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import roles
from cases import services as registry
from cases.access import get_current_campaign, get_household_for_user, get_village_for_user
from cases.compiled import values_rows
from cases.lists import CompiledNewestFirst, CountedPaginator, live_members, page_size, url_maker
from cases.models import Case, Member, Village
from cases.responses import conflict
from cases.services import DomainError, StaleEdit

from . import review, revisits, sampling, services
from .access import get_revisit_for_user, get_survey_for_user
from .differences import differences
from .forms import (
    CorrectionForm,
    InvestigatorsForm,
    LateReasonForm,
    RevisitForm,
    ScreeningForm,
    SignForm,
    SurveyForms,
    VerifiersForm,
)
from .models import Difference, Revisit, Sample, SampleEntry, Survey, VillageReport


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
            "sees_town": roles.village_scope(request.user) is None,
            # after the deadline a missing report is overdue, not merely not yet in
            "overdue": timezone.localdate() > campaign.village_report_deadline,
        },
    )


BADGE_BY_STAGE = {Case.Stage.PENDING: "text-bg-secondary", Case.Stage.DRAFT: "text-bg-warning"}


@dataclass(frozen=True)
class VisitRow:
    """One line of a village's list of households to visit, computed once; it writes its own
    markup (through the template's tags, thirty rows took a fifth of the page's time)."""

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

    def markup(self, *, can_survey: bool, csrf_token: str) -> SafeString:
        place = f"{escape(self.place)} · " if self.place else ""
        badge = BADGE_BY_STAGE.get(self.stage, "text-bg-success")
        if self.survey_url:
            action = "继续填写" if self.survey_draft and can_survey else "查看"
            button = f'<a class="btn btn-sm btn-outline-primary" href="{escape(self.survey_url)}">{action}</a>'
        elif can_survey:
            button = (
                f'<form method="post" action="{escape(self.start_url)}">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
                '<button class="btn btn-sm btn-primary" type="submit">开始调查</button></form>'
            )
        else:
            button = ""
        return mark_safe(  # noqa: S308 - every value is escaped
            '<div class="list-group-item"><div class="d-flex justify-content-between align-items-center gap-2"><div>'
            f"<strong>{escape(self.head_name)}</strong> "
            f'<span class="small text-muted">{place}{self.size}人 · 表{escape(self.form)}</span>'
            f'<div class="small text-muted">{escape(self.names)}</div>'
            f'<div class="small"><span class="badge {badge}">{escape(self.stage_label)}</span></div>'
            f"</div><div>{button}</div></div></div>"
        )


def _open_surveys(campaign, households):
    return (
        Survey.objects.filter(
            campaign_id=campaign,
            household_id__in=households,
            status__in=[Survey.Status.DRAFT, Survey.Status.SUBMITTED],
        )
        # a correction's draft and the version it corrects: the draft is the one to open
        .order_by("household_id", "version")
        .values_list("household_id", "public_id", "status")
    )


def _visit_rows(campaign, cases: list[dict]) -> list[VisitRow]:
    """Rows from values() of the page's case rows, one query for their live members and one
    for their surveys: a page of the list builds no model instances."""
    start, detail = url_maker("survey_start"), url_maker("survey_detail")
    ids = [c["household_id"] for c in cases]
    live = defaultdict(list)
    for household_id, name, relationship in live_members(ids, ("name", "relationship")):
        live[household_id].append((name, relationship))
    # A household not yet visited has no survey to open (starting one moves its case row on
    # from "pending"): a page of them, as the "未走访" list is, reads no surveys.
    visited = [c["household_id"] for c in cases if c["stage"] != Case.Stage.PENDING]
    surveys = {
        household_id: (public_id, status)
        for household_id, public_id, status in values_rows(_open_surveys, campaign.pk, visited)
    }
    stages = dict(Case.Stage.choices)
    rows = []
    for c in cases:
        people = live[c["household_id"]]
        head = next((name for name, rel in people if rel == Member.Relationship.HEAD), "（无户主）")
        survey = surveys.get(c["household_id"])
        rows.append(
            VisitRow(
                start_url=start(c["household__public_id"]),
                survey_url=detail(survey[0]) if survey else "",
                survey_draft=bool(survey and survey[1] == Survey.Status.DRAFT),
                head_name=head,
                place=c["household__group__name"] or "",
                size=len(people),
                names="、".join(name for name, _rel in people),
                form="A" if c["source"] == Case.Source.DIBAO else "B",
                stage=c["stage"],
                stage_label=stages[c["stage"]],
            )
        )
    return rows


def _campaign_cases(campaign, *_rest):
    return Case.objects.filter(campaign_id=campaign)


def _village_report(campaign, village):
    return VillageReport.objects.filter(campaign_id=campaign, village_id=village).values("reported_at", "households")


@login_required
@require_GET
def village_households(request, code):
    """The households one village must visit, with their survey state."""
    campaign = get_current_campaign(request)
    village = get_village_for_user(request, code)
    status = request.GET.get("status", "")
    # Counted from the village's tallies; the page's rows read in one query with what they show.
    count, unaccounted = services.village_list_counts(campaign, village, status)
    # a page's households picked by the village's index alone, then joined to what they show
    stages = services.VILLAGE_LIST_FILTERS.get(status)
    cases = CompiledNewestFirst(
        services.cases_to_visit,
        _campaign_cases,
        [campaign.pk, village.pk, None if stages is None else list(stages)],
        ["household_id", "household__public_id", "household__group__name", "source", "stage"],
        count=count,
        key="household_id",
    )
    page = CountedPaginator(cases, page_size(), count=count).get_page(request.GET.get("page"))
    can_survey = roles.can_survey(request.user)
    # masked once for the page: each get_token() draws a fresh mask from the system's random source
    csrf_token = get_token(request) if can_survey else ""
    return render(
        request,
        "surveys/village_households.html",
        {
            "campaign": campaign,
            "village": village,
            "page": page,
            "rows": [
                row.markup(can_survey=can_survey, csrf_token=csrf_token) for row in _visit_rows(campaign, list(page))
            ],
            "status": status,
            "can_survey": can_survey,
            # one row at most (one report per village and campaign); the page shows its time and count
            "report": next(iter(values_rows(_village_report, campaign.pk, village.pk)), None),
            "unaccounted": unaccounted,
        },
    )


@login_required
@require_POST
def report(request, code):
    campaign = get_current_campaign(request)
    village = get_village_for_user(request, code)
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


def _seen_version(request) -> int:
    """The draft's edit version the form was opened on; a form without one counts as stale,
    so that no client can save over a later save by leaving the field out."""
    try:
        return int(request.POST["edit_version"])
    except (KeyError, ValueError):
        return 0


def _edit_context(request, survey, forms, **extra):
    loaded = services.investigator_candidate_list(survey.household)
    # The draft's author is nearly always one of them: its fingerprint names the author.
    author = next((u for u in loaded if u.pk == survey.created_by_id), None)
    if author is not None:
        survey.created_by = author
    states = services.signature_states(survey, users=loaded)
    return {
        "survey": survey,
        "forms": forms,
        "household": survey.household,
        # shown only: the investigators view checks a choice against the candidates' queryset
        "investigators_form": InvestigatorsForm(
            loaded=loaded, initial={"investigators": [s.investigator for s, _valid in states]}
        ),
        "signatures": states,
        # The signing forms send it back: a signature covers exactly the content shown.
        "fingerprint": survey.content_fingerprint(),
        "problems": services.missing_for_submission(survey, states, candidates=loaded),
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
    # a draft is of its town's running campaign: the page's footer reads its hotline from it
    request._dibao_campaign = survey.campaign
    forms = SurveyForms(survey, request.POST or None)
    result = None
    if request.method == "POST":
        if forms.is_valid():
            data = forms.to_input()
            try:
                services.save_survey(survey, data, actor=request.user, version=_seen_version(request))
            except StaleEdit as exc:
                return conflict(request, exc, back_url=reverse("survey_edit", args=[survey.public_id]))
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
    _sign_as(
        request,
        investigator,
        form.cleaned_data["password"],
        lambda **how: services.sign_survey(survey, investigator=investigator, actor=request.user, **how),
    )
    return redirect("survey_edit", public_id=survey.public_id)


def _sign_as(request, signer, password: str, sign) -> None:
    """Sign as `signer`, from their own login or on this device with their password (the
    sign-in throttle applies), on the content the page showed (its fingerprint)."""
    try:
        if signer.pk == request.user.pk:
            method = "本人登录签字"
        else:
            registry.confirm_identity(request, signer, password)
            method = "同一设备输入密码签字"
        sign(method=method, shown_fingerprint=request.POST.get("fingerprint", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{signer.username}已签字。")


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
    survey = get_survey_for_user(request, public_id, related=("submitted_by",))
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


@login_required
@require_POST
def advance_phase(request):
    """The town office moves the campaign to its next phase (with a reason where a step is missing)."""
    campaign = get_current_campaign(request, write=True)
    try:
        campaign = services.advance_phase(campaign, actor=request.user, reason=request.POST.get("reason", "")[:300])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已进入{campaign.get_current_phase_display()}。")
    return redirect("campaign_detail")


def _sample_reader(request, level: str):
    """The sample pages are for roles that see the whole town: a village must not know in
    advance which of its households will be re-visited."""
    if level not in Sample.Level.values:
        raise Http404
    roles.require(roles.can_see_samples(request.user))
    return get_current_campaign(request)


def _sample_writer(user, level: str) -> bool:
    """The town draws and re-visits its sample (phase 3); the county its own (phase 4)."""
    return roles.can_edit_campaign(user) if level == Sample.Level.TOWN else roles.can_review_county(user)


@login_required
@require_GET
def sample(request, level):
    """Per village: reported, to draw, drawn, added, re-visited, with differences and the
    estimated share with a difference; the entries of one chosen village, a page at a time;
    the whole town's estimate. A fixed number of queries whatever the size."""
    campaign = _sample_reader(request, level)
    current = Sample.objects.filter(campaign=campaign, level=level).select_related("drawn_by__profile").first()
    villages = list(Village.objects.filter(town=campaign.town).order_by("order", "code"))
    chosen = next((v for v in villages if v.code == request.GET.get("village")), None)
    reported = services.reported_counts(campaign)
    stats, page, estimates, by_village = {}, None, None, {}
    if current is not None:
        stats = {
            r["village_id"]: r
            for r in current.entries.values("village_id")
            .annotate(
                drawn=Count("id", filter=Q(reason=SampleEntry.Reason.DRAWN)),
                extra=Count("id", filter=~Q(reason=SampleEntry.Reason.DRAWN)),
            )
            .order_by()
        }
        visited = Revisit.objects.filter(entry__sample=current, status=Revisit.Status.SUBMITTED)
        for village_id, n in (
            visited.values("entry__village_id").annotate(n=Count("id")).values_list("entry__village_id", "n")
        ):
            stats.setdefault(village_id, {})["revisited"] = n
        differing = Difference.objects.filter(revisit__entry__sample=current)
        for village_id, n in (
            differing.values("revisit__entry__village_id")
            .annotate(n=Count("revisit", distinct=True))
            .values_list("revisit__entry__village_id", "n")
        ):
            stats.setdefault(village_id, {})["differing"] = n
        found = review.sample_estimates(current)
        by_village = {row.village.id: row.share.as_dict() for row in found["villages"]}
        estimates = {k: found[k].as_dict() for k in ("share", "households", "overpaid", "underpaid")}
        if chosen is not None:
            heads = Member.objects.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD)
            town_checked = Revisit.objects.filter(
                entry__sample__campaign=campaign,
                entry__sample__level=Sample.Level.TOWN,
                entry__household=OuterRef("household"),
                status=Revisit.Status.SUBMITTED,
            )
            entries = (
                current.entries.filter(village=chosen)
                .annotate(town_checked=Exists(town_checked))
                .select_related("household__group", "revisit")
                .prefetch_related(Prefetch("household__members", queryset=heads, to_attr="heads"))
                .order_by("reason", "rank", "id")
            )
            listed = stats.get(chosen.id, {})
            count = listed.get("drawn", 0) + listed.get("extra", 0)
            page = CountedPaginator(entries, page_size(), count=count).get_page(request.GET.get("page"))
    ratio = current.ratio if current else (campaign.town_ratio if level == "town" else campaign.county_ratio)
    rows = [
        {
            "village": v,
            "n": reported.get(v.id, 0),
            "k": sampling.sample_size(reported.get(v.id, 0), ratio),
            **{key: stats.get(v.id, {}).get(key, 0) for key in ("drawn", "extra", "revisited", "differing")},
            "estimate": by_village.get(v.id),
        }
        for v in villages
    ]
    phase = services.SAMPLE_PHASE[level]
    return render(
        request,
        "surveys/sample.html",
        {
            "campaign": campaign,
            "level": level,
            "level_label": Sample.Level(level).label,
            "sample": current,
            "rows": rows,
            "chosen": chosen,
            "page": page,
            "query": f"village={chosen.code}" if chosen else "",
            "estimates": estimates,
            "ratio": ratio,
            "method": sampling.method_text(ratio),
            "can_draw": _sample_writer(request.user, level) and campaign.current_phase == phase,
            "undrawn": [r["village"] for r in rows if r["n"] and not r["drawn"]],
        },
    )


@login_required
@require_POST
def sample_draw(request, level):
    campaign = _sample_reader(request, level)
    roles.require(_sample_writer(request.user, level))
    try:
        drawn, waiting = services.draw_sample(campaign, level=level, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        note = f"；{len(waiting)}个村尚未上报，上报后用同一种子补抽" if waiting else ""
        messages.success(request, f"已抽样，种子 {drawn.seed}{note}。")
    return redirect("survey_sample", level=level)


@login_required
@require_POST
def sample_add(request, level):
    campaign = _sample_reader(request, level)
    roles.require(_sample_writer(request.user, level))
    current = Sample.objects.filter(campaign=campaign, level=level).first()
    if current is None:
        messages.error(request, "尚未抽样。")
        return redirect("survey_sample", level=level)
    household = get_household_for_user(request, request.POST.get("household", ""))
    try:
        services.add_to_sample(current, household, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已加入核查样本，原因已记录。")
    return redirect("survey_sample", level=level)


# --- re-visits (核查) -----------------------------------------------------------------


@login_required
@require_POST
def revisit_start(request, level, household_id):
    campaign = _sample_reader(request, level)
    # the county's own spot-checks are the county's work (phase 4), not the town office's
    roles.require(_sample_writer(request.user, level))
    household = get_household_for_user(request, household_id)
    entry = SampleEntry.objects.filter(sample__campaign=campaign, sample__level=level, household=household).first()
    if entry is None:
        raise Http404("该户不在样本中。")
    try:
        revisit = revisits.start_revisit(entry, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("survey_sample", level=level)
    return redirect("survey_revisit", public_id=revisit.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def revisit(request, public_id):
    current = get_revisit_for_user(request, public_id, write=request.method == "POST")
    form = RevisitForm(request.POST or None, revisit=current)
    if request.method == "POST" and current.is_draft:
        if form.is_valid():
            try:
                revisits.save_revisit(current, form.to_input(), actor=request.user, version=_seen_version(request))
            except StaleEdit as exc:
                return conflict(request, exc, back_url=reverse("survey_revisit", args=[current.public_id]))
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "核查已保存。")
                return redirect("survey_revisit", public_id=current.public_id)
        else:
            messages.error(request, "表中有需要改正的项目（见标红处），未保存。")
    signatures = list(current.signatures.select_related("verifier__profile"))
    fingerprint = current.content_fingerprint()
    return render(
        request,
        "surveys/revisit.html",
        {
            "revisit": current,
            "household": current.entry.household,
            "form": form,
            "comparison": revisits.comparison(current),
            "signatures": [(s, bool(s.signed_at) and s.fingerprint == fingerprint) for s in signatures],
            "fingerprint": fingerprint,
            "problems": revisits.revisit_problems(current) if current.is_draft else [],
            "verifiers_form": VerifiersForm(
                candidates=revisits.verifier_candidates(
                    current.entry.sample.level, current.entry.sample.campaign.town_id
                ),
                initial={"verifiers": [s.verifier for s in signatures]},
            ),
            "differences": current.differences.select_related("judged_by"),
            "verdicts": Difference.Verdict.choices,
            "can_write": _sample_writer(request.user, current.entry.sample.level),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def revisit_verifiers(request, public_id):
    current = get_revisit_for_user(request, public_id, write=True)
    sample = current.entry.sample
    form = VerifiersForm(request.POST, candidates=revisits.verifier_candidates(sample.level, sample.campaign.town_id))
    if not form.is_valid():
        messages.error(request, "请选择至少两名核查人。")
    else:
        try:
            revisits.set_verifiers(current, list(form.cleaned_data["verifiers"]), actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "核查人已确定，请各核查人签字。")
    return redirect("survey_revisit", public_id=current.public_id)


@login_required
@require_POST
def revisit_sign(request, public_id):
    current = get_revisit_for_user(request, public_id, write=True)
    verifier_id = request.POST.get("verifier", "")
    if not verifier_id.isdigit():
        raise Http404
    signature = current.signatures.select_related("verifier").filter(verifier_id=int(verifier_id)).first()
    if signature is None:
        raise Http404
    verifier = signature.verifier
    _sign_as(
        request,
        verifier,
        request.POST.get("password", ""),
        lambda **how: revisits.sign_revisit(current, verifier=verifier, actor=request.user, **how),
    )
    return redirect("survey_revisit", public_id=current.public_id)


@login_required
@require_POST
def revisit_submit(request, public_id):
    current = get_revisit_for_user(request, public_id, write=True)
    try:
        revisits.submit_revisit(current, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "核查已提交，请对每项差异作出认定。")
    return redirect("survey_revisit", public_id=current.public_id)


@login_required
@require_POST
def revisit_judge(request, public_id):
    current = get_revisit_for_user(request, public_id, write=True)
    difference = current.differences.filter(key=request.POST.get("key", "")).first()
    if difference is None:
        raise Http404
    try:
        revisits.judge_difference(
            difference, verdict=request.POST.get("verdict", ""), note=request.POST.get("note", ""), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已认定：{difference.label}。")
    return redirect("survey_revisit", public_id=current.public_id)


@login_required
@require_GET
def investigator_records(request):
    """谁调查、谁签字、谁负责: each investigator's surveys, how many the town re-visited, and what it found."""
    if roles.village_scope(request.user) is not None:
        roles.require(False)
    campaign = get_current_campaign(request)
    return render(
        request,
        "surveys/investigators.html",
        {
            "rows": revisits.investigator_records(campaign),
            "verifiers": revisits.verifier_records(campaign),
            "verdicts": Difference.Verdict.choices,
        },
    )
