"""抓调整 (二、4): the green channel for the seriously ill and disabled, and temporary assistance.

Green channel: 容缺受理 (accepted with documents missing, on the applicant's commitment and the
village committee's consent; lapses with its reason when they never come), then 先审批后评议
(the county approves first; the democratic review is recorded afterwards, by a due date).
Temporary aid: emergency help given first and recorded afterwards, or the full procedure for
spending hardship; each level approves up to its limit (campaign settings), the next level above
it; paid in instalments never above the approved amount.

Each service is atomic, locks its row, writes its audit record and raises DomainError with a
Chinese message naming the form field it concerns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from . import audit, roles
from .complaints import check_open, mark_full_check, not_after_today
from .decisions import REGISTRY_EFFECT_FIELDS, first_of_next_month, register_paid
from .models import (
    AidApproval,
    AidPayment,
    AuditEvent,
    Campaign,
    Decision,
    GreenChannel,
    Household,
    Member,
    TemporaryAid,
    Village,
)
from .services import DomainError

# --- the green channel ---------------------------------------------------------------------

Green = GreenChannel.Status


def _green_event(green: GreenChannel, *, actor, after: dict, reason: str, created: bool = False) -> None:
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=green,
        after=after,
        household=green.household,
        campaign=green.campaign,
        reason=reason,
    )


@transaction.atomic
def accept_green(
    campaign: Campaign,
    household: Household,
    *,
    actor,
    member: Member | None,
    ground: str,
    accepted_on: dt.date | None,
    commitment_on: dt.date | None,
    consent_on: dt.date | None,
    consent_note: str = "",
    missing_documents: str = "",
    documents_due: dt.date | None = None,
) -> GreenChannel:
    """容缺受理 of a 重病/重残 household.

    1. The campaign is running; the household locked, not in dibao already, with no application
    under way; 2. the ill or disabled member lives in it; 3. the applicant's commitment and the
    village committee's consent, both on or before the day accepted (not in the future);
    4. missing documents listed with a due date not before that day (none missing: ready for
    approval); 5. saved and recorded; 6. the household's case row is marked for the full check.
    """
    check_open(campaign)
    household = Household.objects.select_for_update().select_related("village").get(pk=household.pk)
    if household.is_dibao:
        raise DomainError("该户已在保，无需绿色通道申请；调整保障请走镇级决定。")
    under_way = GreenChannel.objects.filter(campaign=campaign, household=household).exclude(status=Green.LAPSED)
    if under_way.exists():
        raise DomainError("该户已有绿色通道申请在办理中，不能重复受理。")
    if ground not in GreenChannel.Ground.values:
        raise DomainError("请选择情形：重病或重残。", field="ground")
    if member is None or member.household_id != household.pk or not member.is_live:
        raise DomainError("请选择该户在户的重病或重残成员。", field="member")
    if accepted_on is None:
        raise DomainError("请填写受理日期。", field="accepted_on")
    not_after_today(accepted_on, "accepted_on", "受理日期")
    if commitment_on is None:
        raise DomainError("容缺受理须有申请人签署的承诺书，请填写签署日期。", field="commitment_on")
    if commitment_on > accepted_on:
        raise DomainError("承诺书须在受理当日或之前签署。", field="commitment_on")
    if consent_on is None:
        raise DomainError("容缺受理须经村委会同意，请填写同意日期。", field="consent_on")
    if consent_on > accepted_on:
        raise DomainError("村委会须在受理当日或之前同意。", field="consent_on")
    missing = "\n".join(line.strip() for line in missing_documents.splitlines() if line.strip())
    if missing and documents_due is None:
        raise DomainError("请填写容缺材料的补交期限。", field="documents_due")
    if missing and documents_due < accepted_on:
        raise DomainError("补交期限不能早于受理日期。", field="documents_due")
    green = GreenChannel.objects.create(
        campaign=campaign,
        household=household,
        village=household.village,
        member=member,
        ground=ground,
        status=Green.DOCUMENTS if missing else Green.COMPLETE,
        accepted_on=accepted_on,
        missing_documents=missing[:2000],
        documents_due=documents_due if missing else None,
        commitment_on=commitment_on,
        consent_on=consent_on,
        consent_note=consent_note.strip()[:200],
        accepted_by=actor,
    )
    _green_event(
        green,
        actor=actor,
        after={
            "情形": green.get_ground_display(),
            "容缺材料": "；".join(green.missing_list()) or "无",
            "补交期限": str(green.documents_due or ""),
            "承诺书签署日期": str(commitment_on),
            "村委会同意日期": str(consent_on),
        },
        reason="绿色通道受理" + ("（容缺受理）" if missing else ""),
        created=True,
    )
    mark_full_check(campaign, household, actor=actor, reason="绿色通道（重病重残）", on_timeline=True)
    return green


def _lock_green(green: GreenChannel) -> GreenChannel:
    green = (
        GreenChannel.objects.select_for_update(of=("self",))
        .select_related("campaign", "household__village")
        .get(pk=green.pk)
    )
    check_open(green.campaign)
    return green


@transaction.atomic
def receive_documents(green: GreenChannel, *, actor, received_on: dt.date | None) -> GreenChannel:
    """The missing documents arrived: the application is complete and may be approved."""
    green = _lock_green(green)
    if green.status != Green.DOCUMENTS:
        raise DomainError(f"该申请{green.get_status_display()}，不需要补交材料。")
    if received_on is None:
        raise DomainError("请填写材料补齐日期。", field="received_on")
    not_after_today(received_on, "received_on", "材料补齐日期")
    if received_on < green.accepted_on:
        raise DomainError("材料补齐日期不能早于受理日期。", field="received_on")
    green.status, green.documents_received_on = Green.COMPLETE, received_on
    green.save(update_fields=["status", "documents_received_on"])
    _green_event(green, actor=actor, after={"材料补齐日期": str(received_on)}, reason="容缺材料已补齐")
    return green


@transaction.atomic
def lapse_green(green: GreenChannel, *, actor, reason: str) -> GreenChannel:
    """The documents never came: after the due date the town ends the application, with its reason."""
    green = _lock_green(green)
    if green.status != Green.DOCUMENTS:
        raise DomainError(f"该申请{green.get_status_display()}，不能以材料未补齐终止。")
    today = timezone.localdate()
    if green.documents_due >= today:
        raise DomainError(f"补交期限为{green.documents_due:%Y年%m月%d日}，期限未过不能终止。")
    reason = reason.strip()
    if not reason:
        raise DomainError("请写明终止原因（将告知申请人）。", field="reason")
    green.status, green.lapsed_reason, green.lapsed_on = Green.LAPSED, reason[:2000], today
    green.save(update_fields=["status", "lapsed_reason", "lapsed_on"])
    _green_event(green, actor=actor, after={"终止原因": green.lapsed_reason}, reason="容缺受理逾期未补齐材料，终止")
    return green


@transaction.atomic
def approve_green(
    green: GreenChannel,
    *,
    actor,
    approved_on: dt.date | None,
    covered_persons: int | None,
    monthly_amount: Decimal | None,
    effective_from: dt.date | None = None,
) -> GreenChannel:
    """先审批: the county approves before the democratic review.

    1. The application is complete (documents in) and the household not in dibao meanwhile;
    2. covered persons within the household's live members, an amount above 0 and not above the
    standard for them; 3. approved on a day not in the future nor before acceptance; the review
    is due `green_review_days` later; 4. the household enters dibao from the month given (by
    default the next), on its timeline with this approval.
    """
    green = _lock_green(green)
    if green.status == Green.DOCUMENTS:
        raise DomainError(f"容缺材料尚未补齐（{'、'.join(green.missing_list())}），补齐后才能审批。")
    if green.status != Green.COMPLETE:
        raise DomainError(f"该申请{green.get_status_display()}，不能审批。")
    household = Household.objects.select_for_update().get(pk=green.household_id)
    if household.is_dibao:
        raise DomainError("该户已在保，不能再按绿色通道纳入。")
    if approved_on is None:
        raise DomainError("请填写审批日期。", field="approved_on")
    not_after_today(approved_on, "approved_on", "审批日期")
    if approved_on < green.accepted_on:
        raise DomainError("审批日期不能早于受理日期。", field="approved_on")
    live = household.members.filter(status=Member.Status.PRESENT).count()
    if covered_persons is None or not 1 <= covered_persons <= live:
        raise DomainError(f"保障人数须在1到在户人数（{live}人）之间。", field="covered_persons")
    if monthly_amount is None or monthly_amount <= 0:
        raise DomainError("请填写月保障金（大于0元）。", field="monthly_amount")
    ceiling = green.campaign.standard_for(household.hukou_type) * covered_persons
    if monthly_amount > ceiling:
        raise DomainError(f"月保障金不能超过低保标准×保障人数（{ceiling:.2f}元）。", field="monthly_amount")
    effective_from = (effective_from or first_of_next_month(approved_on)).replace(day=1)
    if effective_from < approved_on.replace(day=1):
        raise DomainError("执行起始月不能早于审批当月。", field="effective_from")
    green.status, green.approved_on, green.approved_by = Green.APPROVED, approved_on, actor
    green.covered_persons, green.monthly_amount, green.effective_from = covered_persons, monthly_amount, effective_from
    green.review_due = approved_on + dt.timedelta(days=green.campaign.green_review_days)
    green.save()
    _green_event(
        green,
        actor=actor,
        after={
            "保障人数": str(covered_persons),
            "月保障金": f"{monthly_amount:.2f}",
            "执行起始月": f"{effective_from:%Y-%m}",
            "民主评议期限": str(green.review_due),
        },
        reason="绿色通道先审批后评议：已审批",
    )
    with audit.tracking(
        household,
        actor=actor,
        fields=REGISTRY_EFFECT_FIELDS,
        household=household,
        campaign=green.campaign,
        reason=f"绿色通道审批纳入低保（{effective_from:%Y年%m月}起）",
    ):
        register_paid(
            household,
            covered_persons=covered_persons,
            monthly_amount=monthly_amount,
            dibao_class=household.dibao_class,
            effective_from=effective_from,
            enrol=True,
        )
    return green


@transaction.atomic
def record_green_review(
    green: GreenChannel,
    *,
    actor,
    review_on: dt.date | None,
    attendance: int | None,
    result: str,
    note: str = "",
) -> GreenChannel:
    """后评议: the democratic review the approval still owed — date, attendance, result."""
    green = _lock_green(green)
    if green.status != Green.APPROVED:
        raise DomainError(f"该申请{green.get_status_display()}，没有待补的民主评议。")
    if review_on is None:
        raise DomainError("请填写民主评议日期。", field="review_on")
    not_after_today(review_on, "review_on", "民主评议日期")
    if review_on < green.approved_on:
        raise DomainError("先审批后评议：评议日期不能早于审批日期。", field="review_on")
    if not attendance or attendance < 1:
        raise DomainError("请填写参加评议的人数。", field="attendance")
    if result not in GreenChannel.ReviewResult.values:
        raise DomainError("请选择评议结果。", field="result")
    note = note.strip()
    if result == GreenChannel.ReviewResult.FAILED and not note:
        raise DomainError("评议未通过，须写明评议情况，由镇里重新审核。", field="note")
    green.status, green.review_on, green.review_attendance = Green.REVIEWED, review_on, attendance
    green.review_result, green.review_note = result, note[:2000]
    green.save(update_fields=["status", "review_on", "review_attendance", "review_result", "review_note"])
    _green_event(
        green,
        actor=actor,
        after={"评议日期": str(review_on), "参加人数": str(attendance), "评议结果": green.get_review_result_display()},
        reason="绿色通道民主评议",
    )
    return green


GREEN_FILTERS = {
    "": "全部",
    "overdue": "逾期",
    **{s.value: s.label for s in Green},
}


def green_overdue_q(today: dt.date | None = None) -> Q:
    """Documents past their due date, or a democratic review past its due date."""
    today = today or timezone.localdate()
    return Q(status=Green.DOCUMENTS, documents_due__lt=today) | Q(status=Green.APPROVED, review_due__lt=today)


def green_for(campaign: Campaign, status: str = "") -> QuerySet:
    qs = GreenChannel.objects.filter(campaign=campaign)
    if status == "overdue":
        return qs.filter(green_overdue_q())
    return qs.filter(status=status) if status in Green.values else qs


# --- temporary assistance -------------------------------------------------------------------

Aid = TemporaryAid.Status
Level = TemporaryAid.Level
NEXT_LEVEL = {Level.VILLAGE: Level.TOWN, Level.TOWN: Level.COUNTY, Level.COUNTY: None}


def level_limit(campaign: Campaign, level: str) -> Decimal:
    return {
        Level.VILLAGE: campaign.aid_village_limit,
        Level.TOWN: campaign.aid_town_limit,
        Level.COUNTY: campaign.aid_county_limit,
    }[level]


def acting_level(actor, pending: str | None = None) -> str | None:
    """The level the actor approves at; the administrator acts at the level that is pending
    (at the town's when recording help given first)."""
    level = roles.aid_level(actor)
    if level == "any":
        return pending or Level.TOWN
    return level


def _check_decision(decision: Decision | None, campaign: Campaign) -> None:
    if decision is None:
        return
    if decision.outcome != Decision.Outcome.TEMPORARY or decision.case.campaign_id != campaign.pk:
        raise DomainError("只有本次行动中“临时救助”的镇级决定才能登记临时救助。")
    if TemporaryAid.objects.filter(decision=decision).exists():
        raise DomainError("该决定已登记临时救助。")
    if decision.case.decision_id != decision.pk:
        raise DomainError("该决定已被新的决定取代。")


def _common(person: str, reason: str, amount: Decimal | None, village: Village | None, household) -> Village:
    if not person.strip():
        raise DomainError("请填写受助人姓名。", field="person")
    if not reason.strip():
        raise DomainError("请写明救助事由。", field="reason")
    if amount is None or amount <= 0:
        raise DomainError("请填写救助金额（大于0元）。", field="amount")
    village = household.village if household is not None else village
    if village is None:
        raise DomainError("请选择受助人所在的村（社区）。", field="village")
    return village


def _create_aid(**fields) -> TemporaryAid:
    try:
        with transaction.atomic():
            return TemporaryAid.objects.create(**fields)
    except IntegrityError as exc:  # a second record for the same decision, saved at the same moment
        raise DomainError("该决定已登记临时救助。") from exc


def _aid_event(aid: TemporaryAid, *, actor, action: str, after: dict, reason: str) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=aid,
        after=after,
        household=aid.household,
        campaign=aid.campaign,
        reason=reason,
    )


@transaction.atomic
def record_emergency(
    campaign: Campaign,
    *,
    actor,
    person: str,
    reason: str,
    amount: Decimal | None,
    handler: str,
    helped_on: dt.date | None,
    village: Village | None = None,
    household: Household | None = None,
    referral: str = "",
    decision: Decision | None = None,
) -> TemporaryAid:
    """先行救助, recorded afterwards: who was helped, why, how much, by whom and when.

    1. The campaign is running; 2. person, reason, an amount above 0 and within the limit of the
    recording level (village or town: help above it waits for the next level's approval by the
    spending procedure), the handler, a date not in the future; 3. recorded as approved at that
    level and paid on that date, in one transaction.
    """
    campaign = Campaign.objects.get(pk=campaign.pk)
    check_open(campaign)
    _check_decision(decision, campaign)
    village = _common(person, reason, amount, village, household)
    level = acting_level(actor)
    if level not in (Level.VILLAGE, Level.TOWN):
        raise DomainError("先行救助由村或镇经办；县级请审批报来的申请。")
    limit = level_limit(campaign, level)
    if amount > limit:
        raise DomainError(
            f"先行救助金额超过{Level(level).label}限额（{limit:.2f}元）；超出部分请按支出型程序申请，由上级审批。",
            field="amount",
        )
    if not handler.strip():
        raise DomainError("请填写经办人。", field="handler")
    if helped_on is None:
        raise DomainError("请填写先行救助日期。", field="helped_on")
    not_after_today(helped_on, "helped_on", "先行救助日期")
    aid = _create_aid(
        campaign=campaign,
        village=village,
        household=household,
        decision=decision,
        kind=TemporaryAid.Kind.EMERGENCY,
        person=person.strip()[:30],
        reason=reason.strip()[:2000],
        requested_amount=amount,
        approved_amount=amount,
        paid_total=amount,
        status=Aid.APPROVED,
        helped_on=helped_on,
        handler=handler.strip()[:30],
        referral=referral.strip()[:200],
        recorded_by=actor,
    )
    AidApproval.objects.create(aid=aid, level=level, verdict=AidApproval.Verdict.APPROVE, amount=amount, by=actor)
    AidPayment.objects.create(aid=aid, paid_on=helped_on, amount=amount, recorded_by=actor)
    _aid_event(
        aid,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        after={"类型": aid.get_kind_display(), "金额": f"{amount:.2f}", "经办人": aid.handler, "日期": str(helped_on)},
        reason=f"先行救助（{Level(level).label}）",
    )
    return aid


@transaction.atomic
def apply_aid(
    campaign: Campaign,
    *,
    actor,
    person: str,
    reason: str,
    amount: Decimal | None,
    village: Village | None = None,
    household: Household | None = None,
    referral: str = "",
    decision: Decision | None = None,
) -> TemporaryAid:
    """A spending-type application: it goes to the village's review, then the town, then (above
    the town's limit) the county. The amount asked may not exceed the county's limit."""
    campaign = Campaign.objects.get(pk=campaign.pk)
    check_open(campaign)
    _check_decision(decision, campaign)
    village = _common(person, reason, amount, village, household)
    if amount > campaign.aid_county_limit:
        raise DomainError(
            f"申请金额超过单次临时救助的最高额（县级审批限额{campaign.aid_county_limit:.2f}元）。", field="amount"
        )
    aid = _create_aid(
        campaign=campaign,
        village=village,
        household=household,
        decision=decision,
        kind=TemporaryAid.Kind.SPENDING,
        person=person.strip()[:30],
        reason=reason.strip()[:2000],
        requested_amount=amount,
        status=Aid.VILLAGE,
        handler=(getattr(roles.profile_of(actor), "display_name", "") or actor.get_username())[:30],
        referral=referral.strip()[:200],
        recorded_by=actor,
    )
    _aid_event(
        aid,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        after={"类型": aid.get_kind_display(), "申请金额": f"{amount:.2f}"},
        reason="临时救助申请",
    )
    return aid


def _lock_aid(aid: TemporaryAid) -> TemporaryAid:
    aid = (
        TemporaryAid.objects.select_for_update(of=("self",))
        .select_related("campaign", "household", "village")
        .get(pk=aid.pk)
    )
    check_open(aid.campaign)
    return aid


def _status_change(aid: TemporaryAid, *, actor, approval: AidApproval, status: str, approved_amount=None) -> None:
    before = {"status": aid.get_status_display(), "approved_amount": f"{aid.approved_amount:.2f}"}
    aid.status = status
    if approved_amount is not None:
        aid.approved_amount = approved_amount
    aid.save(update_fields=["status", "approved_amount"])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=aid,
        before=before,
        after={"status": aid.get_status_display(), "approved_amount": f"{aid.approved_amount:.2f}"},
        household=aid.household,
        campaign=aid.campaign,
        reason=f"{approval.get_level_display()}{approval.get_verdict_display()}"
        + (f"：{approval.note}" if approval.note else ""),
    )


@transaction.atomic
def review_in_village(aid: TemporaryAid, *, actor, agree: bool, note: str = "") -> TemporaryAid:
    """The village's review of a spending application: agreed, it goes to the town; not agreed
    (with the reason), it is refused."""
    aid = _lock_aid(aid)
    if aid.status != Aid.VILLAGE:
        raise DomainError(f"该申请{aid.get_status_display()}，不在村级审核环节。")
    if acting_level(actor, Aid.VILLAGE) != Level.VILLAGE:
        raise DomainError("村级审核由本村（社区）村干部办理。")
    note = note.strip()
    if not agree and not note:
        raise DomainError("不同意的，请写明理由。", field="note")
    verdict = AidApproval.Verdict.FORWARD if agree else AidApproval.Verdict.REFUSE
    approval = AidApproval.objects.create(
        aid=aid, level=Level.VILLAGE, verdict=verdict, amount=aid.requested_amount, note=note[:2000], by=actor
    )
    _status_change(aid, actor=actor, approval=approval, status=Aid.TOWN if agree else Aid.REFUSED)
    return aid


@transaction.atomic
def decide_aid(aid: TemporaryAid, *, actor, approve: bool, amount: Decimal | None = None, note: str = "") -> str:
    """The town's or the county's approval (or refusal) of a spending application.

    1. The application waits at the actor's level; 2. refused: with a reason; approved: an
    amount above 0, not above the amount asked; 3. within the level's limit the application is
    approved; above the town's limit the town's agreement sends it to the county; above the
    county's limit nobody may approve it. Returns the new status.
    """
    aid = _lock_aid(aid)
    if aid.status not in (Aid.TOWN, Aid.COUNTY):
        raise DomainError(f"该申请{aid.get_status_display()}，不在审批环节。")
    level = acting_level(actor, aid.status)
    if level != aid.status:
        raise DomainError(f"该申请{aid.get_status_display()}，{Level(level).label}不能审批。")
    note = note.strip()
    if not approve:
        if not note:
            raise DomainError("不予救助须写明理由（将告知申请人）。", field="note")
        approval = AidApproval.objects.create(
            aid=aid, level=level, verdict=AidApproval.Verdict.REFUSE, note=note[:2000], by=actor
        )
        _status_change(aid, actor=actor, approval=approval, status=Aid.REFUSED)
        return aid.status
    if amount is None or amount <= 0:
        raise DomainError("请填写批准金额（大于0元）。", field="amount")
    if amount > aid.requested_amount:
        raise DomainError(f"批准金额不能超过申请金额（{aid.requested_amount:.2f}元）。", field="amount")
    limit = level_limit(aid.campaign, level)
    if amount <= limit:
        verdict, status, approved = AidApproval.Verdict.APPROVE, Aid.APPROVED, amount
    elif NEXT_LEVEL[level] is not None:
        verdict, status, approved = AidApproval.Verdict.FORWARD, NEXT_LEVEL[level], None
    else:
        raise DomainError(f"金额超过县级审批限额（{limit:.2f}元），不能批准。", field="amount")
    approval = AidApproval.objects.create(
        aid=aid, level=level, verdict=verdict, amount=amount, note=note[:2000], by=actor
    )
    _status_change(aid, actor=actor, approval=approval, status=status, approved_amount=approved)
    return status


@transaction.atomic
def pay_aid(aid: TemporaryAid, *, actor, paid_on: dt.date | None, amount: Decimal | None) -> AidPayment:
    """One instalment: the total paid never exceeds the approved amount."""
    aid = _lock_aid(aid)
    if aid.status != Aid.APPROVED:
        raise DomainError(f"该申请{aid.get_status_display()}，批准后才能发放。")
    if paid_on is None:
        raise DomainError("请填写发放日期。", field="paid_on")
    not_after_today(paid_on, "paid_on", "发放日期")
    if amount is None or amount <= 0:
        raise DomainError("请填写发放金额（大于0元）。", field="amount")
    left = aid.approved_amount - aid.paid_total
    if amount > left:
        raise DomainError(
            f"累计发放不能超过批准金额（{aid.approved_amount:.2f}元）；本次最多可发放{left:.2f}元。", field="amount"
        )
    payment = AidPayment.objects.create(aid=aid, paid_on=paid_on, amount=amount, recorded_by=actor)
    TemporaryAid.objects.filter(pk=aid.pk).update(paid_total=F("paid_total") + amount)
    _aid_event(
        aid,
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        after={"发放日期": str(paid_on), "发放金额": f"{amount:.2f}", "累计发放": f"{aid.paid_total + amount:.2f}"},
        reason="临时救助发放",
    )
    return payment


AID_FILTERS = {"": "全部", **{s.value: s.label for s in Aid}}


def aid_for(campaign: Campaign, status: str = "") -> QuerySet:
    qs = TemporaryAid.objects.filter(campaign=campaign)
    return qs.filter(status=status) if status in Aid.values else qs


def decisions_awaiting_aid(campaign: Campaign) -> QuerySet:
    """The town's current decisions 临时救助 that no temporary-aid record carries out yet."""
    return Decision.objects.filter(
        case__campaign=campaign,
        case__decision=F("pk"),
        outcome=Decision.Outcome.TEMPORARY,
        temporary_aid__isnull=True,
    )
