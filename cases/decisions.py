"""The town's review after the villages report (phase 3): decisions, 公示 and objections.

The surveys layer works out what to propose for each household (from the village survey
or the town's re-visit, with the engine's figures) and passes it in as a `Proposal`; the
rules of deciding live here, on the ground floor, so that the county's approval and the
registry's update (phase 4) stand on the same functions. Each function is atomic,
checks its phase, writes its audit record and raises DomainError with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import audit
from .models import (
    AuditEvent,
    Campaign,
    Case,
    CountyReview,
    Decision,
    ExitNotice,
    Household,
    Member,
    Notice,
    Objection,
    Village,
)
from .services import DomainError, follow_payments, retally

Outcome = Decision.Outcome
# A dibao household keeps, changes or leaves its dibao; temporary assistance for it is a
# separate record (cases/assistance.py), not a decision that would stop its payments.
DIBAO_OUTCOMES = {Outcome.KEEP, Outcome.ADJUST, Outcome.EXIT}
OTHER_OUTCOMES = {Outcome.ENROL, Outcome.REJECT, Outcome.TEMPORARY}


@dataclass(frozen=True)
class Proposal:
    """What the town officer is shown for one household.

    `outcome`, `covered_persons` and `monthly_amount` are the proposal (the basis's
    conclusion with the engine's amount); the rest says where it came from.
    """

    basis: str  # Decision.Basis
    outcome: str  # the conclusion of the basis: the village's, or the re-visit's
    covered_persons: int
    monthly_amount: Decimal
    engine_outcome: str
    engine_amount: Decimal
    village_outcome: str
    max_persons: int  # members counted in the household: covered persons never exceed them
    revisit_outcome: str = ""
    # Whether the town's sample of the household's village is drawn: until it is, nobody knows
    # which households must be re-visited first, so none is decided.
    sample_drawn: bool = True

    @property
    def outcome_label(self) -> str:
        return _label(self.outcome)

    @property
    def engine_label(self) -> str:
        return _label(self.engine_outcome)

    @property
    def village_label(self) -> str:
        return _label(self.village_outcome)

    @property
    def revisit_label(self) -> str:
        return _label(self.revisit_outcome)

    def record(self) -> dict[str, str]:
        """The proposal as kept with the decision (keys in Chinese, for the record)."""
        out = {
            "依据": str(Decision.Basis(self.basis).label),
            "系统建议": _label(self.engine_outcome),
            "系统测算月补差": f"{self.engine_amount:.2f}",
            "村级结论": _label(self.village_outcome),
            "拟保障人数": str(self.covered_persons),
            "计入家庭人口": str(self.max_persons),
        }
        if self.revisit_outcome:
            out["核查结论"] = _label(self.revisit_outcome)
        return out


def _label(outcome: str) -> str:
    return str(Outcome(outcome).label) if outcome in Outcome.values else (outcome or "（无）")


def _phase_gate(campaign: Campaign, action: str) -> None:
    if campaign.current_phase != Campaign.PhaseNumber.VERIFY:
        raise DomainError(f"当前是{campaign.get_current_phase_display()}；{action}只能在第三阶段（汇总核实）进行。")


def _decision_gate(case: Case) -> None:
    """The town decides in phase 3; in phase 4 it answers only the decisions the county returned."""
    phase = case.campaign.current_phase
    if phase == Campaign.PhaseNumber.SUPERVISE and case.review == Case.Review.RETURNED:
        return
    if phase == Campaign.PhaseNumber.SUPERVISE:
        raise DomainError("第四阶段只能答复县级退回的决定。")
    _phase_gate(case.campaign, "镇级决定")


@dataclass(frozen=True)
class Checked:
    outcome: str
    covered_persons: int
    monthly_amount: Decimal
    dibao_class: str
    reason: str


def check_decision(
    case: Case,
    proposal: Proposal,
    *,
    outcome: str,
    covered_persons: int | None,
    monthly_amount: Decimal | None,
    dibao_class: str,
    reason: str,
    open_objection: bool,
) -> Checked:
    """The rules of one decision, without touching the database. Raises DomainError."""
    if case.review in (Case.Review.SENT, Case.Review.APPROVED):
        raise DomainError("镇级报告已报县，决定已锁定。")
    if not case.in_scope or case.stage != Case.Stage.REPORTED:
        raise DomainError("该户的调查尚未由村上报，不能作出决定。")
    if not proposal.sample_drawn:
        raise DomainError("该村尚未抽取镇级核查样本：抽样后才能作出决定（抽中的户须先核查）。")
    if open_objection:
        raise DomainError("该户有未处理的公示异议，须先核实并写明处理结果，才能作出决定。")
    if case.town_sampled and not case.town_revisited:
        raise DomainError("该户在镇级核查样本中，须先完成入户核查并由核查人签字提交，才能作出决定。")
    if outcome not in Outcome.values:
        raise DomainError("请选择决定。", field="outcome")
    household = case.household
    allowed = DIBAO_OUTCOMES if household.is_dibao else OTHER_OUTCOMES
    if outcome not in allowed:
        kind = "在保户" if household.is_dibao else "非低保户"
        names = "、".join(str(Outcome(o).label) for o in Outcome.values if o in allowed)
        raise DomainError(f"{kind}的决定只能是{names}。", field="outcome")
    reason = reason.strip()
    dibao_class = dibao_class.strip()
    if outcome in Decision.PAYING:
        if covered_persons is None or not 1 <= covered_persons <= proposal.max_persons:
            raise DomainError(f"保障人数须在1到计入家庭人口（{proposal.max_persons}人）之间。", field="covered_persons")
        if monthly_amount is None or monthly_amount <= 0:
            raise DomainError("请填写月保障金（大于0元）。", field="monthly_amount")
        same = (
            monthly_amount == household.monthly_amount
            and covered_persons == household.covered_persons
            and dibao_class == household.dibao_class
        )
        if outcome == Outcome.KEEP and not same:
            raise DomainError("月保障金、保障人数或类别与现行不同，请选择“调整”。", field="outcome")
        if outcome == Outcome.ADJUST and same:
            raise DomainError("月保障金、保障人数和类别均与现行相同，请选择“维持”。", field="outcome")
    else:
        covered_persons, monthly_amount, dibao_class = 0, Decimal("0"), ""
    if outcome == Outcome.EXIT and not reason:
        raise DomainError("清退须写明理由（将告知本人）。", field="reason")
    departures = []
    if outcome != proposal.engine_outcome:
        departures.append(f"与系统建议（{_label(proposal.engine_outcome)}）不同")
    elif outcome in Decision.PAYING and monthly_amount != proposal.engine_amount:
        departures.append(f"月保障金与系统测算（{proposal.engine_amount:.2f}元）不同")
    conclusion = proposal.revisit_outcome or proposal.village_outcome
    if outcome != conclusion:
        who = "镇级核查结论" if proposal.revisit_outcome else "村级调查结论"
        departures.append(f"与{who}（{_label(conclusion)}）不同")
    if departures and not reason:
        raise DomainError("；".join(departures) + "，须写明理由。", field="reason")
    return Checked(outcome, covered_persons, monthly_amount, dibao_class, reason)


def _new_decision(case: Case, checked: Checked, proposal: Proposal, *, actor, as_proposed: bool) -> Decision:
    return Decision(
        case=case,
        outcome=checked.outcome,
        covered_persons=checked.covered_persons,
        monthly_amount=checked.monthly_amount,
        dibao_class=checked.dibao_class,
        basis=proposal.basis,
        proposal=proposal.record(),
        reason=checked.reason,
        as_proposed=as_proposed,
        decided_by=actor,
    )


def _decision_event(decision: Decision, case: Case, before: Decision | None, *, actor) -> AuditEvent:
    def shown(d: Decision | None) -> dict[str, str]:
        if d is None:
            return {}
        return {
            "决定": d.get_outcome_display(),
            "保障人数": str(d.covered_persons),
            "月保障金": f"{d.monthly_amount:.2f}",
            "类别": d.dibao_class,
            "依据": d.get_basis_display(),
            "理由": d.reason,
        }

    how = "按建议批量决定" if decision.as_proposed else "镇级决定"
    return audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE,
        obj=decision,
        before=shown(before),
        after=shown(decision),
        household=case.household,
        campaign=case.campaign,
        reason=how + (f"：{decision.reason}" if decision.reason else ""),
        save=False,
    )


def _has_open_objection(cases) -> set[int]:
    return set(Objection.objects.filter(case__in=cases, resolved_at__isnull=True).values_list("case_id", flat=True))


@transaction.atomic
def decide(
    case: Case,
    proposal: Proposal,
    *,
    outcome: str,
    actor,
    covered_persons: int | None = None,
    monthly_amount: Decimal | None = None,
    dibao_class: str = "",
    reason: str = "",
) -> Decision:
    """The town decides one household.

    1. In phase 3 only; the row is locked; 2. the rules of `check_decision` (not sent, reported,
    re-visited if sampled, no open objection, an outcome fitting the household, figures within
    bounds, a reason for an exit and for any departure from the engine or the conclusion);
    3. a new decision row, the case pointing at it (earlier ones are kept as signed);
    4. recorded on the household's timeline.
    """
    # the campaign row first: a decision and the report to the county never cross (the report
    # locks it too, and reads every decision once it holds it)
    Campaign.objects.select_for_update().filter(pk=case.campaign_id).first()
    case = _lock_case(case)
    _decision_gate(case)
    checked = check_decision(
        case,
        proposal,
        outcome=outcome,
        covered_persons=covered_persons,
        monthly_amount=monthly_amount,
        dibao_class=dibao_class,
        reason=reason,
        open_objection=bool(_has_open_objection([case])),
    )
    before = case.decision
    decision = _new_decision(case, checked, proposal, actor=actor, as_proposed=False)
    if case.review == Case.Review.RETURNED and not checked.reason:
        raise DomainError("答复县级退回的决定须写明理由。", field="reason")
    if before is not None and _same(before, decision):
        raise DomainError("与当前决定相同（含理由），无需重新决定。")
    decision.save()
    _point_case_at(case, decision)
    case.save(update_fields=["decision", "outcome", "review", "amount_after", "updated_at"])
    retally(case.campaign, [case.village_id])
    event = _decision_event(decision, case, before, actor=actor)
    if event is not None:
        event.save()
    return decision


def _same(a: Decision, b: Decision) -> bool:
    keys = ("outcome", "covered_persons", "monthly_amount", "dibao_class", "basis", "reason")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _point_case_at(case: Case, decision: Decision) -> None:
    case.decision, case.outcome, case.updated_at = decision, decision.outcome, timezone.now()
    case.amount_after = decision.monthly_amount
    if case.review == Case.Review.RETURNED:
        case.review = Case.Review.SENT  # the town's answer goes back to the county
    elif case.review != Case.Review.ON_NOTICE:
        case.review = Case.Review.DECIDED


@transaction.atomic
def decide_as_proposed(campaign: Campaign, proposals: dict[int, Proposal], *, actor) -> int:
    """Bulk: decide each given case (by id) as proposed; all or nothing.

    The caller (the surveys layer) chooses the cases it may offer in bulk; the rules are
    checked again here for each one, and any refusal refuses the whole batch. A fixed
    number of queries whatever the number of households.
    """
    _phase_gate(Campaign.objects.select_for_update().get(pk=campaign.pk), "镇级决定")
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("campaign", "household", "decision")
        .filter(campaign=campaign, pk__in=list(proposals), review=Case.Review.UNDECIDED)
        .order_by("pk")
    )
    held = _has_open_objection(cases)
    decisions, events = [], []
    for case in cases:
        proposal = proposals[case.pk]
        try:
            checked = check_decision(
                case,
                proposal,
                outcome=proposal.outcome,
                covered_persons=proposal.covered_persons,
                monthly_amount=proposal.monthly_amount,
                dibao_class=case.household.dibao_class,
                reason="",
                open_objection=case.pk in held,
            )
        except DomainError as exc:
            raise DomainError(f"批量决定未执行：有一户不符合条件（{exc.message.rstrip('。')}）。") from exc
        decisions.append(_new_decision(case, checked, proposal, actor=actor, as_proposed=True))
    Decision.objects.bulk_create(decisions)
    for case, decision in zip(cases, decisions, strict=True):
        _point_case_at(case, decision)
        events.append(_decision_event(decision, case, None, actor=actor))
    Case.objects.bulk_update(cases, ["decision", "outcome", "review", "amount_after", "updated_at"])
    retally(campaign, {case.village_id for case in cases})
    AuditEvent.objects.bulk_create(events)
    return len(decisions)


# --- 公示 and objections ---------------------------------------------------------------


def undecided_count(campaign: Campaign, village: Village) -> int:
    return Case.objects.in_scope().filter(campaign=campaign, village=village, review=Case.Review.UNDECIDED).count()


@transaction.atomic
def open_notice(campaign: Campaign, village: Village, *, actor, starts_on: dt.date | None = None) -> Notice:
    """Put a village's results on public notice for the campaign's notice period.

    1. Phase 3; 2. once per village; 3. every household of the village decided;
    4. the notice runs `notice_days` days from today; 5. its households are on notice; 6. recorded.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _phase_gate(campaign, "公示")
    existing = Notice.objects.filter(campaign=campaign, village=village).first()
    if existing is not None:
        raise DomainError(f"{village.name}已于{existing.starts_on:%m月%d日}开始公示，不能重复公示。")
    cases = Case.objects.in_scope().filter(campaign=campaign, village=village)
    if not cases.exists():
        raise DomainError(f"{village.name}没有复核对象，无需公示。")
    left = undecided_count(campaign, village)
    if left:
        raise DomainError(f"{village.name}尚有{left}户未作出镇级决定，全部决定后才能公示。")
    starts_on = starts_on or timezone.localdate()
    notice = Notice.objects.create(
        campaign=campaign,
        village=village,
        starts_on=starts_on,
        ends_on=starts_on + dt.timedelta(days=campaign.notice_days - 1),
        opened_by=actor,
    )
    cases.filter(review=Case.Review.DECIDED).update(review=Case.Review.ON_NOTICE, updated_at=timezone.now())
    retally(campaign, [village.id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=notice,
        after={"村": village.name, "公示开始": str(notice.starts_on), "公示结束": str(notice.ends_on)},
        campaign=campaign,
        reason="公示镇级决定",
    )
    return notice


@transaction.atomic
def record_objection(
    notice: Notice, case: Case, *, actor, channel: str, content: str, objector: str = "", contact: str = ""
) -> Objection:
    """An objection to a household on notice: the household is checked in full and its decision held.

    1. Phase 3, within the notice period, a household of the notice's village; 2. channel and
    content required (the objector may stay anonymous); 3. the case is marked full-check;
    4. recorded (channel and whether named; the content stays on the objection).
    """
    notice = Notice.objects.select_related("campaign", "village").get(pk=notice.pk)
    _phase_gate(notice.campaign, "登记公示异议")
    if not notice.is_open():
        raise DomainError(f"公示期为{notice.starts_on:%m月%d日}至{notice.ends_on:%m月%d日}，期外不能登记异议。")
    case = Case.objects.select_for_update(of=("self",)).select_related("household").get(pk=case.pk)
    if case.campaign_id != notice.campaign_id or case.village_id != notice.village_id or not case.in_scope:
        raise DomainError("该户不在本次公示名单中。")
    if channel not in Objection.Channel.values:
        raise DomainError("请选择异议渠道。", field="channel")
    content = content.strip()
    if not content:
        raise DomainError("请填写异议内容。", field="content")
    objection = Objection.objects.create(
        notice=notice,
        case=case,
        channel=channel,
        objector=objector.strip()[:50],
        contact=contact.strip()[:50],
        content=content[:2000],
        recorded_by=actor,
    )
    case.full_check, case.updated_at = True, timezone.now()
    case.save(update_fields=["full_check", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=objection,
        after={"渠道": objection.get_channel_display(), "异议人": "实名" if objection.objector else "匿名"},
        household=case.household,
        campaign=notice.campaign,
        reason="公示期间收到异议，该户列入全面核查",
    )
    return objection


@transaction.atomic
def resolve_objection(objection: Objection, *, actor, result: str) -> Objection:
    """Close an objection with a written result, once the household's full check (re-visit) is done."""
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("notice__campaign", "case__household")
        .get(pk=objection.pk)
    )
    _phase_gate(objection.notice.campaign, "处理公示异议")
    if not objection.is_open:
        raise DomainError("该异议已处理。")
    result = result.strip()
    if not result:
        raise DomainError("请写明核实处理结果。", field="result")
    case = objection.case
    if case.town_sampled and not case.town_revisited:
        raise DomainError("该户须先完成入户核查（全面核查）并签字提交，再写处理结果。")
    with audit.tracking(
        objection,
        actor=actor,
        fields=["result", "resolved_at"],
        household=case.household,
        campaign=objection.notice.campaign,
        reason="公示异议处理",
    ):
        objection.result, objection.resolved_by, objection.resolved_at = result[:2000], actor, timezone.now()
        objection.save(update_fields=["result", "resolved_by", "resolved_at"])
    return objection


def open_objections(campaign: Campaign):
    return Objection.objects.filter(notice__campaign=campaign, resolved_at__isnull=True)


def full_check_q() -> Q:
    """A case row checked in full: named in an objection or a complaint, or a live member is a
    relative of a village cadre or of dibao staff."""
    # an uncorrelated IN over a partial index: the database hashes the few relatives'
    # households once, where an EXISTS under the OR would be probed for every case row
    relatives = Member.objects.filter(status=Member.Status.PRESENT, is_cadre_relative=True).values("household_id")
    return Q(full_check=True) | Q(household__in=relatives)


def full_check_cases(campaign: Campaign):
    """The campaign's case rows checked in full (`full_check_q`)."""
    return Case.objects.in_scope().filter(campaign=campaign).filter(full_check_q())


# --- phase 4: the county approves or returns; approved decisions take effect -----------------


def _county_gate(campaign: Campaign, action: str) -> None:
    if campaign.current_phase != Campaign.PhaseNumber.SUPERVISE:
        raise DomainError(f"当前是{campaign.get_current_phase_display()}；{action}只能在第四阶段（督查落实）进行。")


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s."""
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


def first_of_next_month(day: dt.date) -> dt.date:
    return _add_months(day, 1)


def check_county(case: Case) -> None:
    """Whether the county may answer this case's decision now. Raises DomainError."""
    if case.review == Case.Review.APPROVED:
        raise DomainError("该户的决定已批准。")
    if case.review == Case.Review.RETURNED:
        raise DomainError("该户的决定已退回镇里，待镇里答复。")
    if case.review != Case.Review.SENT or case.decision_id is None:
        raise DomainError("镇里尚未报县该户的决定。")
    if case.county_sampled and not case.county_revisited:
        raise DomainError("该户在县级抽查样本中，须先完成县级入户核查并签字提交，才能审批。")
    if not case.county_revisited and full_check_cases(case.campaign).filter(pk=case.pk).exists():
        raise DomainError("全面核查户须经县级入户核查后才能审批。")
    # a drawn village always has a sampled household (k = ⌈ratio × n⌉ ≥ 1)
    drawn = Case.objects.filter(campaign=case.campaign_id, village=case.village_id, county_sampled=True)
    if not drawn.exists():
        raise DomainError("该村尚未抽取县级抽查样本：抽样后才能审批。")


def _lock_case(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",)).select_related("campaign", "household", "decision").get(pk=case.pk)
    )


@transaction.atomic
def approve(
    case: Case,
    *,
    actor,
    effective_from: dt.date | None = None,
    note: str = "",
    bulk: bool = False,
    gradual: bool = False,
):
    """The county approves the town's current decision on a household.

    1. Phase 4; the case locked; 2. `check_county` (sent, not answered yet, spot-checked if
    sampled); 3. the approval with the month it takes effect from (next month by default, never
    before this month) and, for the exit of a 建档立卡 household whose income rose, the
    campaign's gradual-exit period; 4. the decision takes effect in the registry; 5. recorded.
    """
    case = _lock_case(case)
    _county_gate(case.campaign, "县级审批")
    check_county(case)
    this_month = timezone.localdate().replace(day=1)
    effective_from = (effective_from or first_of_next_month(timezone.localdate())).replace(day=1)
    if effective_from < this_month:
        raise DomainError("执行起始月不能早于本月。", field="effective_from")
    months = 0
    if gradual:
        if case.decision.outcome != Outcome.EXIT or not case.household.poverty_status:
            raise DomainError("渐退只适用于建档立卡户的清退。", field="gradual")
        months = case.campaign.gradual_exit_months
        if not months:
            raise DomainError("本次行动未设渐退期（行动设置中的“渐退期（月）”）。", field="gradual")
    review = CountyReview.objects.create(
        decision=case.decision,
        verdict=CountyReview.Verdict.APPROVE,
        note=note.strip()[:2000],
        effective_from=effective_from,
        gradual_months=months,
        as_bulk=bulk,
        reviewed_by=actor,
    )
    case.review, case.updated_at = Case.Review.APPROVED, timezone.now()
    case.save(update_fields=["review", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=review,
        after={"审批": "批准", "决定": case.decision.get_outcome_display(), "执行起始月": f"{effective_from:%Y-%m}"},
        household=case.household,
        campaign=case.campaign,
        reason="县级批量批准" if bulk else "县级批准",
    )
    take_effect(case, case.decision, effective_from, actor=actor, gradual_months=months)
    # the village last, as every writer locks it (household first, then its village's tally)
    if not bulk:  # a bulk approval's caller recounts once for all its households
        retally(case.campaign, [case.village_id])
    return review


@transaction.atomic
def return_decision(case: Case, *, actor, note: str) -> CountyReview:
    """The county sends the town's decision back with a reason; the town answers with a new decision."""
    case = _lock_case(case)
    _county_gate(case.campaign, "县级退回")
    check_county(case)
    note = note.strip()
    if not note:
        raise DomainError("退回须写明理由。", field="note")
    review = CountyReview.objects.create(
        decision=case.decision, verdict=CountyReview.Verdict.RETURN, note=note[:2000], reviewed_by=actor
    )
    case.review, case.updated_at = Case.Review.RETURNED, timezone.now()
    case.save(update_fields=["review", "updated_at"])
    retally(case.campaign, [case.village_id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=review,
        after={"审批": "退回", "决定": case.decision.get_outcome_display()},
        household=case.household,
        campaign=case.campaign,
        reason=f"县级退回：{note}",
    )
    return review


REGISTRY_EFFECT_FIELDS = [
    "dibao_status",
    "dibao_class",
    "covered_persons",
    "monthly_amount",
    "dibao_since",
    "amount_since",
    "dibao_ended_on",
]


def register_paid(
    household: Household,
    *,
    covered_persons: int,
    monthly_amount: Decimal,
    dibao_class: str,
    effective_from,
    enrol: bool,
) -> None:
    """Write an approved payment into the registry (the caller records it): in dibao from
    `effective_from` with these figures; an enrolment also starts there."""
    household.dibao_status = Household.DibaoStatus.ACTIVE
    household.covered_persons, household.monthly_amount = covered_persons, monthly_amount
    household.dibao_class = dibao_class
    household.amount_since, household.dibao_ended_on = effective_from, None
    if enrol:
        household.dibao_since = effective_from
    _save_registry(household)


def register_exit(household: Household, *, ended_on: dt.date) -> None:
    """Write an exit into the registry (the caller records it): out of dibao after `ended_on`."""
    household.dibao_status = Household.DibaoStatus.EXITED
    household.covered_persons, household.monthly_amount = 0, Decimal("0")
    household.dibao_ended_on, household.amount_since = ended_on, None
    _save_registry(household)


def _save_registry(household: Household) -> None:
    household.version += 1
    household.updated_at = timezone.now()
    household.save()
    follow_payments([household.pk])


def take_effect(case: Case, decision: Decision, effective_from: dt.date, *, actor, gradual_months: int = 0) -> None:
    """An approved decision changes the registry from `effective_from`, recorded on the
    household's timeline with the decision it came from. Keep, temporary assistance and a
    refusal change nothing in the dibao registry. A gradual exit keeps the dibao as it is
    until the period's last day, which is recorded as the end."""
    if decision.outcome not in (Outcome.ADJUST, Outcome.ENROL, Outcome.EXIT):
        return
    household = Household.objects.select_for_update().get(pk=case.household_id)
    when = f"{effective_from:%Y年%m月}起"
    gradual_end = _add_months(effective_from, gradual_months) - dt.timedelta(days=1)
    if gradual_months:
        when = f"渐退{gradual_months}个月，至{gradual_end:%Y年%m月%d日}"
    with audit.tracking(
        household,
        actor=actor,
        fields=REGISTRY_EFFECT_FIELDS,
        household=household,
        campaign=case.campaign,
        reason=f"县级批准的{decision.get_outcome_display()}决定生效（{when}）",
    ):
        if decision.outcome == Outcome.EXIT and gradual_months:
            household.dibao_ended_on = gradual_end
            _save_registry(household)
        elif decision.outcome == Outcome.EXIT:
            register_exit(household, ended_on=effective_from - dt.timedelta(days=1))
        else:
            register_paid(
                household,
                covered_persons=decision.covered_persons,
                monthly_amount=decision.monthly_amount,
                dibao_class=decision.dibao_class,
                effective_from=effective_from,
                enrol=decision.outcome == Outcome.ENROL,
            )


@transaction.atomic
def record_exit_notice(
    case: Case,
    *,
    actor,
    notified_on: dt.date,
    method: str,
    recipient: str,
    recovery_required: bool = False,
    recovery_amount: Decimal = Decimal("0"),
    recovery_note: str = "",
) -> ExitNotice:
    """清退 by procedure: record that the household was told in writing of its approved exit
    (the decision's written reasons), and any recovery of money obtained by false information."""
    case = _lock_case(case)
    _county_gate(case.campaign, "清退告知")
    decision = case.decision
    if decision is None or decision.outcome != Outcome.EXIT or case.review != Case.Review.APPROVED:
        raise DomainError("只有县级已批准的清退才需登记告知。")
    if ExitNotice.objects.filter(decision=decision).exists():
        raise DomainError("已登记清退告知。")
    if method not in ExitNotice.Method.values:
        raise DomainError("请选择告知方式。", field="method")
    if notified_on > timezone.localdate():
        raise DomainError("告知日期不能晚于今天。", field="notified_on")
    if not recipient.strip():
        raise DomainError("请填写签收人。", field="recipient")
    if recovery_required and (recovery_amount <= 0 or not recovery_note.strip()):
        raise DomainError("追回违规领取的资金须写明金额和依据。", field="recovery_amount")
    notice = ExitNotice.objects.create(
        decision=decision,
        notified_on=notified_on,
        method=method,
        recipient=recipient.strip()[:50],
        recovery_required=recovery_required,
        recovery_amount=recovery_amount if recovery_required else Decimal("0"),
        recovery_note=recovery_note.strip()[:2000] if recovery_required else "",
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=notice,
        after={
            "告知日期": str(notified_on),
            "告知方式": notice.get_method_display(),
            "追回金额": f"{notice.recovery_amount:.2f}",
        },
        household=case.household,
        campaign=case.campaign,
        reason="清退书面告知" + ("，追回违规领取资金" if recovery_required else ""),
    )
    return notice


def end_gradual_exits(*, today: dt.date | None = None) -> int:
    """Households whose gradual-exit period (渐退) is over leave dibao: status, amount and covered
    persons as for any exit, each recorded on its timeline. Run daily (manage.py end_gradual_exits)."""
    today = today or timezone.localdate()
    ended = 0
    due = Household.objects.filter(
        dibao_status=Household.DibaoStatus.ACTIVE,
        dibao_ended_on__lt=today,
        cases__decision__outcome=Outcome.EXIT,
        cases__decision__county_reviews__gradual_months__gt=0,
    ).distinct()
    for household in due:
        with transaction.atomic():
            household = Household.objects.select_for_update().get(pk=household.pk)
            if household.dibao_status != Household.DibaoStatus.ACTIVE:
                continue
            with audit.tracking(
                household,
                actor=None,
                fields=REGISTRY_EFFECT_FIELDS,
                household=household,
                reason=f"渐退期满（{household.dibao_ended_on:%Y年%m月%d日}），停发低保",
            ):
                register_exit(household, ended_on=household.dibao_ended_on)
            ended += 1
    return ended
