"""The town's review in phase 3, as the surveys layer sees it: what to propose for each
household, which households may be decided in bulk, objections that send a household to
the full check, what the sample says about everyone, and the report to the county.

The rules of deciding themselves are in `cases.decisions` (the ground floor); this module
feeds them the village surveys and the re-visits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Sum
from django.utils import timezone

from cases import audit
from cases import decisions as rules
from cases import services as registry
from cases.decisions import Proposal
from cases.models import (
    AuditEvent,
    Campaign,
    Case,
    Decision,
    Household,
    Member,
    Notice,
    Objection,
    Village,
    VillageTally,
)
from cases.services import DomainError

from . import sampling, services
from .models import Difference, Revisit, Sample, SampleEntry, Survey, TownReport, VillageReport

ZERO = Decimal("0")
PAYING = {str(o) for o in Decision.PAYING}


# --- proposals ------------------------------------------------------------------------


def _submitted_surveys(campaign: Campaign):
    return Survey.objects.filter(campaign=campaign, status=Survey.Status.SUBMITTED)


def _town_revisits(campaign: Campaign):
    return Revisit.objects.filter(
        entry__sample__campaign=campaign, entry__sample__level=Sample.Level.TOWN, status=Revisit.Status.SUBMITTED
    )


def proposals(campaign: Campaign, cases: list[Case]) -> dict[int, Proposal]:
    """The proposal for each case (by id): three queries whatever the number of cases.

    Without a town re-visit the basis is the village survey: its conclusion, its covered
    persons and the engine's amount. With one, the re-visit's conclusion and the engine on
    what the verifiers found. A case without a submitted survey gets no proposal.
    """
    households = [c.household_id for c in cases]
    surveys = {
        row["household_id"]: row
        for row in _submitted_surveys(campaign)
        .filter(household_id__in=households)
        .values(
            "household_id",
            "recommendation",
            "suggested_outcome",
            "suggested_amount",
            "covered_persons",
            "result__household_size",
        )
    }
    revisits = {
        row["entry__household_id"]: row
        for row in _town_revisits(campaign)
        .filter(entry__household_id__in=households)
        .values("entry__household_id", "recommendation", "suggested_outcome", "suggested_amount", "covered_persons")
        .annotate(counted=Count("members", filter=Q(members__present=True, members__counted=True)))
    }
    drawn_villages = set(
        SampleEntry.objects.filter(
            sample__campaign=campaign,
            sample__level=Sample.Level.TOWN,
            reason=SampleEntry.Reason.DRAWN,
            village_id__in={case.village_id for case in cases},
        )
        .order_by()  # not the entries' ordering: it would make every entry distinct
        .values_list("village_id", flat=True)
        .distinct()
    )
    out = {}
    for case in cases:
        survey = surveys.get(case.household_id)
        if survey is None:
            continue
        household = case.household
        revisit = revisits.get(case.household_id)
        if revisit is not None:
            basis, source, max_persons = Decision.Basis.REVISIT, revisit, revisit["counted"]
        else:
            basis, source, max_persons = Decision.Basis.SURVEY, survey, int(survey["result__household_size"] or 0)
        outcome = source["recommendation"]
        engine_amount = source["suggested_amount"] or ZERO
        if outcome == Decision.Outcome.KEEP:
            persons, amount = household.covered_persons, household.monthly_amount
        elif outcome in PAYING:
            # as the engine counts them: the proposed number, or everyone counted, never more
            persons, amount = min(source["covered_persons"] or max_persons, max_persons), engine_amount
        else:
            persons, amount = 0, ZERO
        out[case.pk] = Proposal(
            basis=basis,
            outcome=outcome,
            covered_persons=persons,
            monthly_amount=amount,
            engine_outcome=source["suggested_outcome"],
            engine_amount=engine_amount,
            village_outcome=survey["recommendation"],
            max_persons=max_persons,
            revisit_outcome=revisit["recommendation"] if revisit else "",
            sample_drawn=case.village_id in drawn_villages,
        )
    return out


def proposal_for(case: Case) -> Proposal | None:
    return proposals(case.campaign, [case]).get(case.pk)


# A list's filters: its label, its condition, and the review states it counts in the tallies.
DECIDED = [s for s in Case.Review.values if s != Case.Review.UNDECIDED]
STATUSES = {
    "left": ("待决定", Q(review=Case.Review.UNDECIDED), [Case.Review.UNDECIDED]),
    "returned": ("县级退回待答复", Q(review=Case.Review.RETURNED), [Case.Review.RETURNED]),
    "decided": ("已决定", ~Q(review=Case.Review.UNDECIDED), DECIDED),
    "": ("全部", Q(), Case.Review.values),
}
# The county's list: the same, by the states the county answers.
COUNTY_STATUSES = {
    "sent": ("待审批", Q(review=Case.Review.SENT), [Case.Review.SENT]),
    "returned": ("已退回镇里", Q(review=Case.Review.RETURNED), [Case.Review.RETURNED]),
    "approved": ("已批准", Q(review=Case.Review.APPROVED), [Case.Review.APPROVED]),
}


def review_cases(campaign: Campaign, user):
    """The case rows the user may see in the review lists, with what the rows show."""
    return (
        Case.objects.visible_to(user)
        .in_scope()
        .filter(campaign=campaign, stage=Case.Stage.REPORTED)
        .select_related("household__village", "household__group", "decision")
    )


def review_counts(campaign: Campaign, villages) -> dict[int, Counter]:
    """Per village id: its reported households (in scope) by town review state, from the
    tallies (the review lists' counts and page boundaries, without counting case rows)."""
    out: dict[int, Counter] = {}
    rows = (
        VillageTally.objects.filter(campaign=campaign, village__in=villages, stage=Case.Stage.REPORTED)
        .values_list("village_id", "review")
        .annotate(n=Sum("households"))
        .order_by()
    )
    for village_id, state, n in rows:
        out.setdefault(village_id, Counter())[state] += n
    return out


def bulk_ready(campaign: Campaign):
    """Case rows a town officer may decide as proposed, by SQL (for counts and lists):
    undecided; not checked in full (objection, complaint, relatives); the village's
    conclusion equals the engine's and is not an exit; not sampled, or re-visited with the
    same conclusion as the village and the engine and no difference without a verdict.
    """
    # an exit always needs a written reason (told to the household): never in bulk
    survey_agrees = (
        _submitted_surveys(campaign)
        .filter(household=OuterRef("household"), engine_agrees=True)
        .exclude(recommendation=Decision.Outcome.EXIT)
    )
    revisit_agrees = (
        _town_revisits(campaign)
        .filter(entry__household=OuterRef("household"), recommendation=F("suggested_outcome"))
        .filter(recommendation=F("survey__recommendation"))
    )
    open_difference = Difference.objects.filter(
        revisit__entry__household=OuterRef("household"),
        revisit__entry__sample__campaign=campaign,
        verdict="",
    )
    return (
        Case.objects.in_scope()
        .filter(campaign=campaign, stage=Case.Stage.REPORTED, review=Case.Review.UNDECIDED)
        .exclude(rules.full_check_q())
        .filter(Exists(survey_agrees))
        .filter(Q(town_sampled=False) | Q(Exists(revisit_agrees), town_revisited=True))
        .exclude(Exists(open_difference))
    )


def decide_all_as_proposed(campaign: Campaign, *, actor, village: Village | None = None) -> tuple[int, int]:
    """Decide every bulk-ready household (of one village, or the town) as proposed.

    Returns (decided, left to decide by hand in that area). Cases whose proposal would not
    pass the rules of a decision (say, no covered persons for an enrolment) are left for a
    hand decision rather than refusing the batch.
    """
    ready = bulk_ready(campaign)
    if village is not None:
        ready = ready.filter(village=village)
    cases = list(ready.select_related("household"))
    offered = proposals(campaign, cases)
    passing = {}
    for case in cases:
        proposal = offered.get(case.pk)
        if proposal is None:
            continue
        try:
            rules.check_decision(
                case,
                proposal,
                outcome=proposal.outcome,
                covered_persons=proposal.covered_persons,
                monthly_amount=proposal.monthly_amount,
                dibao_class=case.household.dibao_class,
                reason="",
                open_objection=False,
            )
        except DomainError:
            continue
        passing[case.pk] = proposal
    if not passing:
        raise DomainError("没有可按建议批量决定的户：其余各户须逐户决定。")
    decided = rules.decide_as_proposed(campaign, passing, actor=actor)
    left = Case.objects.in_scope().filter(campaign=campaign, review=Case.Review.UNDECIDED)
    if village is not None:
        left = left.filter(village=village)
    return decided, left.count()


def decide_case(case: Case, *, actor, **figures) -> Decision:
    proposal = proposal_for(case)
    if proposal is None:
        raise DomainError("该户没有已提交的村级调查，不能作出决定。")
    return rules.decide(case, proposal, actor=actor, **figures)


# --- phase 4: the county's approval ----------------------------------------------------------


def county_drawn(campaign: Campaign, village: Village) -> bool:
    """Whether the county's sample of the village is drawn (from the tallies)."""
    return VillageTally.objects.filter(campaign=campaign, village=village, county_sampled__gt=0).exists()


def county_bulk_ready(campaign: Campaign):
    """Sent decisions the county may approve in bulk: the village's county sample drawn; not a
    full-check household; not in the county's sample unless spot-checked; and no difference
    (the town's or the county's) without a verdict."""
    open_difference = Difference.objects.filter(
        revisit__entry__household=OuterRef("household"), revisit__entry__sample__campaign=campaign, verdict=""
    )
    drawn = Case.objects.filter(campaign=campaign, village=OuterRef("village"), county_sampled=True)
    return (
        Case.objects.in_scope()
        .filter(campaign=campaign, review=Case.Review.SENT)
        .filter(Exists(drawn))
        .exclude(rules.full_check_q())
        .filter(Q(county_sampled=False) | Q(county_revisited=True))
        .exclude(Exists(open_difference))
    )


def approve_all(campaign: Campaign, *, actor, village: Village | None = None) -> int:
    """Approve every bulk-ready decision of a village (or the town), all or nothing."""
    ready = county_bulk_ready(campaign)
    if village is not None:
        ready = ready.filter(village=village)
    cases = list(ready.order_by("pk"))
    if not cases:
        raise DomainError("没有可批量批准的决定：其余各户须逐户审批。")
    with transaction.atomic():
        for case in cases:
            rules.approve(case, actor=actor, bulk=True)
        registry.retally(campaign, {case.village_id for case in cases})
    return len(cases)


# --- 公示 -------------------------------------------------------------------------------

# The household's live head, as the review lists name a household.
HEADS = Prefetch(
    "household__members",
    queryset=Member.objects.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD),
    to_attr="heads",
)
NOTICE_SECTIONS = [
    (Decision.Outcome.ENROL, "新纳入"),
    (Decision.Outcome.ADJUST, "调整"),
    (Decision.Outcome.EXIT, "清退"),
    (Decision.Outcome.KEEP, "维持"),
]


def notice_sections(campaign: Campaign, village: Village) -> list[tuple[str, list[Case]]]:
    """A village's 公示 list by section (新纳入, 调整, 清退, 维持), in villager-group order: the
    case rows with their decision and household, the live head as `household.heads` (two
    queries). The notice page and its printed and workbook files show it, and only its public
    fields: name, covered persons, category, amount, village."""
    cases = (
        Case.objects.in_scope()
        .filter(campaign=campaign, village=village, outcome__in=[o for o, _ in NOTICE_SECTIONS])
        .select_related("household", "decision")
        .prefetch_related(HEADS)
        .order_by("household__group__number", "household_id")
    )
    sections: dict[str, list[Case]] = {o: [] for o, _ in NOTICE_SECTIONS}
    for case in cases:
        sections[case.outcome].append(case)
    return [(label, sections[o]) for o, label in NOTICE_SECTIONS]


# --- objections -------------------------------------------------------------------------


def take_into_sample(case: Case, *, actor, note: str, on_timeline: bool) -> SampleEntry | None:
    """A household newly to be checked in full joins the running sample, on top of the draw:
    the town's in phase 3, the county's in phase 4 (None when no sample is drawn yet — the draw
    will take it in — or it is in already). Call inside the caller's transaction."""
    phase = case.campaign.current_phase
    level = {Campaign.PhaseNumber.VERIFY: Sample.Level.TOWN, Campaign.PhaseNumber.SUPERVISE: Sample.Level.COUNTY}
    if phase not in level:
        return None
    sample = Sample.objects.filter(campaign=case.campaign_id, level=level[phase]).first()
    if sample is None or SampleEntry.objects.filter(sample=sample, household_id=case.household_id).exists():
        return None
    entry = SampleEntry.objects.create(
        sample=sample,
        household_id=case.household_id,
        village_id=case.village_id,
        reason=SampleEntry.Reason.FULL_CHECK,
        note=note[:200],
        added_by=actor,
    )
    if sample.level == Sample.Level.TOWN:
        Case.objects.filter(pk=case.pk).update(town_sampled=True, town_revisited=False)
    else:
        Case.objects.filter(pk=case.pk).update(county_sampled=True, county_revisited=False)
    registry.retally(case.campaign, [case.village_id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=entry,
        after={"入样方式": entry.get_reason_display()},
        household=Household.objects.get(pk=case.household_id) if on_timeline else None,
        campaign=case.campaign,
        reason=f"列入{sample.get_level_display()}全面核查",
    )
    return entry


@transaction.atomic
def record_objection(notice: Notice, case: Case, *, actor, **fields) -> Objection:
    """An objection (cases.decisions) and the household's place in the town's re-visits:
    a full check, added to the town sample on top of the draw if it is not in it yet."""
    objection = rules.record_objection(notice, case, actor=actor, **fields)
    case = Case.objects.select_related("campaign").get(pk=case.pk)
    take_into_sample(case, actor=actor, note="公示期间收到异议", on_timeline=True)
    return objection


def full_check_marked(sender, *, case: Case, actor, reason: str, **kwargs) -> None:
    """A complaint or a green-channel case named the household (cases.complaints): it joins the
    running sample. Not on the household's timeline: its village must not learn of a complaint."""
    case = Case.objects.select_related("campaign").get(pk=case.pk)
    take_into_sample(case, actor=actor, note=reason, on_timeline=False)


# --- what the sample says about everyone ---------------------------------------------------


@dataclass
class VillageEstimate:
    village: Village
    population: int
    drawn: int
    revisited: int
    share: sampling.Estimate


def _paid(outcome: str, amount: Decimal | None, current: Decimal = ZERO) -> Decimal:
    """What a conclusion pays a month: the current amount for a keep, the engine's for an
    adjustment or enrolment, nothing otherwise."""
    if outcome == Decision.Outcome.KEEP:
        return current
    return (amount or ZERO) if outcome in PAYING else ZERO


def sample_estimates(sample: Sample) -> dict[str, Any]:
    """From the randomly drawn households' re-visits: per village and for the town, the share
    whose village survey had a material difference; for the town, the monthly amount paid
    too much and too little, each with a 95% interval (surveys.sampling). Fixed queries."""
    campaign = sample.campaign
    villages = list(Village.objects.filter(town=campaign.town).order_by("order", "code"))
    population = services.reported_counts(campaign)
    drawn = dict(
        sample.entries.filter(reason=SampleEntry.Reason.DRAWN)
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("village_id", "n")
    )
    observed = (
        Revisit.objects.filter(entry__sample=sample, entry__reason=SampleEntry.Reason.DRAWN, status="submitted")
        .annotate(material=Exists(Difference.objects.filter(revisit=OuterRef("pk"), material=True)))
        .values(
            "entry__village_id",
            "material",
            "recommendation",
            "suggested_amount",
            "survey__recommendation",
            "survey__suggested_amount",
            "entry__household__monthly_amount",
        )
    )
    shares: dict[int, list[int]] = {v.id: [] for v in villages}
    over: dict[int, list[Decimal]] = {v.id: [] for v in villages}
    under: dict[int, list[Decimal]] = {v.id: [] for v in villages}
    for row in observed:
        vid = row["entry__village_id"]
        shares[vid].append(1 if row["material"] else 0)
        current = row["entry__household__monthly_amount"]
        village_pays = _paid(row["survey__recommendation"], row["survey__suggested_amount"], current)
        correct = _paid(row["recommendation"], row["suggested_amount"], current)
        over[vid].append(max(village_pays - correct, ZERO))
        under[vid].append(max(correct - village_pays, ZERO))

    def strata(values):
        return [sampling.Stratum(v.name, population.get(v.id, 0), values[v.id]) for v in villages]

    rows = [
        VillageEstimate(
            village=v,
            population=population.get(v.id, 0),
            drawn=drawn.get(v.id, 0),
            revisited=len(shares[v.id]),
            share=sampling.estimate_mean([sampling.Stratum(v.name, population.get(v.id, 0), shares[v.id])], share=True),
        )
        for v in villages
    ]
    return {
        "villages": rows,
        "share": sampling.estimate_mean(strata(shares), share=True),
        "households": sampling.estimate_total(strata(shares), share=True),
        "overpaid": sampling.estimate_total(strata(over)),
        "underpaid": sampling.estimate_total(strata(under)),
    }


# --- the town's report to the county --------------------------------------------------------


def report_problems(campaign: Campaign) -> list[str]:
    """Why the town's report cannot go to the county yet; [] when it can."""
    problems = []
    # phase 4 too: a town that moved on with a written reason still owes its report
    if campaign.current_phase not in (Campaign.PhaseNumber.VERIFY, Campaign.PhaseNumber.SUPERVISE):
        problems.append(f"当前是{campaign.get_current_phase_display()}，镇级报告只能在第三阶段（汇总核实）报送。")
    if TownReport.objects.filter(campaign=campaign).exists():
        problems.append("镇级报告已报送。")
        return problems
    villages = list(Village.objects.filter(town=campaign.town).order_by("order", "code"))
    reported = set(VillageReport.objects.filter(campaign=campaign).values_list("village_id", flat=True))
    sample = Sample.objects.filter(campaign=campaign, level=Sample.Level.TOWN).first()
    quota = {}
    if sample is not None:
        quota = {
            row["village_id"]: row
            for row in sample.entries.values("village_id").annotate(
                entries=Count("id"),
                drawn=Count("id", filter=Q(reason=SampleEntry.Reason.DRAWN)),
                done=Count("id", filter=Q(revisit__status=Revisit.Status.SUBMITTED)),
            )
        }
    undecided = dict(
        VillageTally.objects.filter(campaign=campaign, review=Case.Review.UNDECIDED)
        .values_list("village_id")
        .annotate(n=Sum("households"))
        .order_by()
    )
    notices = {n.village_id: n for n in Notice.objects.filter(campaign=campaign)}
    held = dict(
        rules.open_objections(campaign)
        .values("case__village_id")
        .annotate(n=Count("id"))
        .values_list("case__village_id", "n")
    )
    population = services.reported_counts(campaign)
    # a sampled household decided before its re-visit (say, added by an objection) is decided again
    stale = dict(
        Case.objects.in_scope()
        .filter(campaign=campaign, town_sampled=True, decision__basis=Decision.Basis.SURVEY)
        .values("village_id")
        .annotate(n=Count("id"))
        .values_list("village_id", "n")
    )
    for v in villages:
        if v.id not in reported:
            problems.append(f"{v.name}：尚未上报复核结果。")
            continue
        row = quota.get(v.id)
        if population.get(v.id) and (row is None or not row["drawn"]):
            problems.append(f"{v.name}：尚未抽取镇级核查样本。")
        elif row is not None and row["done"] < row["entries"]:
            problems.append(f"{v.name}：核查样本{row['entries']}户，已签字提交{row['done']}户。")
        if undecided.get(v.id):
            problems.append(f"{v.name}：尚有{undecided[v.id]}户未作出镇级决定。")
        if stale.get(v.id):
            problems.append(f"{v.name}：{stale[v.id]}户在核查前作出的决定，须按核查结果重新决定。")
        notice = notices.get(v.id)
        if not population.get(v.id):
            continue  # nothing to decide or put on notice
        if notice is None:
            problems.append(f"{v.name}：尚未公示。")
        elif not notice.has_ended():
            problems.append(f"{v.name}：公示期至{notice.ends_on:%m月%d日}，尚未结束。")
        if held.get(v.id):
            problems.append(f"{v.name}：有{held[v.id]}件公示异议尚未处理。")
    return problems


def report_figures(campaign: Campaign) -> dict[str, Any]:
    """The campaign in numbers, as the report to the county carries them (kept when sent)."""
    # from the tallies (a few rows per village), not the case rows
    rows = [
        {k: v or 0 for k, v in row.items()}
        for row in VillageTally.objects.filter(campaign=campaign)
        .values("village__name", "village__order", "village__code")
        .annotate(
            total=Sum("households"),
            reported=Sum("households", filter=Q(stage=Case.Stage.REPORTED)),
            sampled=Sum("town_sampled"),
            revisited=Sum("town_revisited"),
            **{f"outcome_{o}": Sum("households", filter=Q(outcome=o)) for o in Decision.Outcome.values},
        )
        .order_by("village__order", "village__code")
        if row["total"]
    ]
    # rows as lists under named columns: a JSON column (PostgreSQL jsonb) keeps no key order
    outcomes = list(Decision.Outcome.values)
    columns = ["村（社区）", "复核户数", "已上报", "镇级核查户", "已核查"]
    columns += [str(Decision.Outcome(o).label) for o in outcomes]
    villages = [
        [
            r["village__name"],
            r["total"],
            r["reported"],
            r["sampled"],
            r["revisited"],
            *(r[f"outcome_{o}"] for o in outcomes),
        ]
        for r in rows
    ]
    totals = ["合计", *(sum(v[i] for v in villages) for i in range(1, len(columns)))]
    verdicts = dict(
        Difference.objects.filter(
            revisit__entry__sample__campaign=campaign, revisit__entry__sample__level=Sample.Level.TOWN
        )
        .values("verdict")
        .annotate(n=Count("id"))
        .values_list("verdict", "n")
    )
    figures: dict[str, Any] = {
        "columns": columns,
        "villages": villages,
        "totals": totals,
        "differences": {(str(Difference.Verdict(k).label) if k else "未认定"): n for k, n in sorted(verdicts.items())},
    }
    sample = Sample.objects.filter(campaign=campaign, level=Sample.Level.TOWN).first()
    if sample is not None:
        est = sample_estimates(sample)
        figures["sample"] = {"seed": sample.seed, "ratio": str(sample.ratio), "drawn_at": sample.drawn_at.isoformat()}
        figures["estimates"] = {k: est[k].as_dict() for k in ("share", "households", "overpaid", "underpaid")}
    return figures


@transaction.atomic
def send_town_report(campaign: Campaign, *, actor, late_reason: str = "") -> TownReport:
    """Send the town's report to the county.

    1. Refused, with every reason listed, until each village has reported, has its sample
    re-visited and signed, every household decided, its 公示 ended and no objection open;
    2. after the deadline a reason for the delay is required; 3. the figures are kept with
    the report; 4. every case row is marked sent, which locks the town's decisions; 5. recorded.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = report_problems(campaign)
    if problems:
        raise DomainError("镇级报告暂不能报县：" + "；".join(p.rstrip("。") for p in problems) + "。")
    late_reason = late_reason.strip()
    late = timezone.localdate() > campaign.county_report_deadline
    if late and not late_reason:
        raise DomainError(
            f"已过报县截止日（{campaign.county_report_deadline:%m月%d日}），请写明逾期原因。", field="late_reason"
        )
    report = TownReport.objects.create(
        campaign=campaign,
        sent_by=actor,
        late_reason=late_reason[:300] if late else "",
        figures=report_figures(campaign),
    )
    cases = Case.objects.in_scope().filter(campaign=campaign)
    cases.update(review=Case.Review.SENT, updated_at=timezone.now())
    registry.retally(campaign, cases.values_list("village_id", flat=True).distinct())
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=report,
        after={"报送": "逾期报送" if late else "按期报送", "逾期原因": report.late_reason},
        campaign=campaign,
        reason="镇级报告报县，镇级决定锁定",
    )
    return report
