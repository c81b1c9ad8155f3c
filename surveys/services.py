"""State changes of surveys: start, save, sign, submit, correct, report.

Each function is atomic, checks the phase gate where it applies, writes the
audit record and raises `DomainError` with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from cases import audit, roles
from cases import services as registry
from cases.compiled import all_with_related, quoted, rows_of, values_rows
from cases.decisions import full_check_cases
from cases.models import AuditEvent, Campaign, Case, Household, Member, Profile, Village, VillageTally, WorkGroup
from cases.services import DomainError

from . import sampling
from .differences import flatten
from .eligibility import (
    DEDUCTIONS,
    INCOME_CATEGORIES,
    Facts,
    Person,
    Result,
    Rules,
    Vehicle,
    assess,
    covered_persons_problem,
)
from .models import (
    HEADER_FIELDS,
    Sample,
    SampleEntry,
    ScreeningEntry,
    Survey,
    SurveyContent,
    SurveyDeduction,
    SurveyHouse,
    SurveyIncome,
    SurveyMember,
    SurveySignature,
    SurveySupporter,
    SurveyVehicle,
    TownReport,
    VillageReport,
)

LEAVING = {SurveyMember.Presence.MOVED_OUT, SurveyMember.Presence.DIED, SurveyMember.Presence.MARRIED_OUT}


@dataclass
class MemberInput:
    name: str
    id_number: str
    relationship: str
    presence: str
    member_id: int | None = None
    change_date: dt.date | None = None
    change_reason: str = ""
    co_resident: bool = True
    left_out_reason: str = ""
    incomes: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class SurveyInput:
    """Everything the survey form collects, already cleaned by the forms."""

    header: dict[str, Any]
    members: list[MemberInput]
    deductions: dict[str, Decimal] = field(default_factory=dict)
    houses: list[dict[str, Any]] = field(default_factory=list)
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    supporters: list[dict[str, Any]] = field(default_factory=list)


# --- rules shared by the views --------------------------------------------------


def phase_gate(campaign: Campaign, actor, late_reason: str = "") -> str:
    """Surveys are created and submitted in phase 2; later only by the town office with a reason."""
    if campaign.current_phase == Campaign.PhaseNumber.REVIEW:
        return ""
    if roles.can_override_phase(actor):
        if late_reason.strip():
            return late_reason.strip()
        raise DomainError("当前不在全面复核阶段：镇社会事务办需填写原因后才能操作。", field="late_reason")
    raise DomainError(f"当前是{campaign.get_current_phase_display()}，入户调查只能在第二阶段（全面复核）新建和提交。")


def survey_universe(campaign: Campaign):
    """Households the campaign must visit: those with a case row in scope (dibao and the screening list)."""
    return Household.objects.filter(cases__campaign=campaign, cases__in_scope=True)


def form_for(household: Household) -> str:
    return Survey.Form.A if household.is_dibao else Survey.Form.B


def investigator_candidates(household: Household):
    """Users of the campaign who may visit this household: its village's cadres, its work group,
    its town's office."""
    # The work groups and the town by sub-selects: one row per account with no DISTINCT (joining
    # the groups' villages made it, and its planning took longer than its run).
    groups = WorkGroup.villages.through.objects.filter(village_id=household.village_id).values("workgroup_id")
    town = Village.objects.filter(pk=household.village_id).values("town_id")
    return (
        get_user_model()
        .objects.filter(
            Q(profile__role=Profile.Role.VILLAGE, profile__village=household.village_id)
            | Q(profile__role=Profile.Role.WORK_GROUP, profile__work_group__in=groups)
            | Q(profile__role=Profile.Role.TOWN, profile__town__in=town),
            is_active=True,
        )
        .select_related("profile")
        .order_by("username")
    )


_CANDIDATE_CONDITIONS: dict[str, str] = {}


def investigator_candidate_list(household: Household) -> list:
    """`investigator_candidates(household)` as a list, each account with its profile, read by a
    statement written once (the survey page reads them on every view; compiling the queryset
    took longer than running it). The queryset stays the rule the forms check against; a test
    holds the two to the same accounts."""
    user_model = get_user_model()
    alias = user_model._default_manager.db
    where = _CANDIDATE_CONDITIONS.get(alias)
    if where is None:

        def column(model, name: str) -> str:
            return quoted(alias, model, name)

        through = WorkGroup.villages.through
        # t0: the account, t1: its profile (compiled.all_with_related)
        where = _CANDIDATE_CONDITIONS[alias] = (
            f"t0.{column(user_model, 'is_active')} AND ("  # noqa: S608 - names from the models
            f"(t1.{column(Profile, 'role')} = %s AND t1.{column(Profile, 'village')} = %s)"
            f" OR (t1.{column(Profile, 'role')} = %s AND t1.{column(Profile, 'work_group')} IN"
            f" (SELECT w.{column(through, 'workgroup')} FROM {quoted(alias, through)} w"
            f" WHERE w.{column(through, 'village')} = %s))"
            f" OR (t1.{column(Profile, 'role')} = %s AND t1.{column(Profile, 'town')} ="
            f" (SELECT v.{column(Village, 'town')} FROM {quoted(alias, Village)} v"
            f" WHERE v.{column(Village, 'id')} = %s))"
            f") ORDER BY t0.{column(user_model, 'username')}"
        )
    village = household.village_id
    roles_ = (Profile.Role.VILLAGE.value, Profile.Role.WORK_GROUP.value, Profile.Role.TOWN.value)
    return all_with_related(user_model, where, [value for role in roles_ for value in (role, village)], ("profile",))


def rules_for(survey: Survey) -> Rules:
    c = survey.campaign
    return Rules(
        standard=c.standard_for(survey.household.hukou_type),
        edge_multiplier=c.edge_multiplier,
        asset_multiplier=c.asset_multiplier,
        asset_multiplier_severe=c.asset_multiplier_severe,
        purchase_lookback_years=c.purchase_lookback_years,
        minimum_amount=c.minimum_amount,
    )


def facts_from(survey: Survey, data: SurveyInput) -> Facts:
    h = data.header
    # Health and disability grade come from the registry: they decide the 重病/重残 allowances.
    registered = {m.pk: m for m in survey.household.members.all()}
    return Facts(
        people=[
            Person(
                name=m.name,
                incomes=dict(m.incomes),
                co_resident=m.co_resident,
                left_out_reason=m.left_out_reason,
                health=registered[m.member_id].health if m.member_id in registered else "",
                disability_grade=registered[m.member_id].disability_grade if m.member_id in registered else None,
            )
            for m in data.members
            if m.presence in {SurveyMember.Presence.PRESENT, SurveyMember.Presence.NEW}
        ],
        deductions=dict(data.deductions),
        covered_persons=h.get("covered_persons") or 0,
        in_dibao=survey.household.is_dibao,
        current_amount=survey.household.monthly_amount,
        vehicles=[Vehicle(v["kind"], v.get("disability_vehicle", False)) for v in data.vehicles],
        financial_assets=sum(
            (h.get(k) or Decimal(0) for k in ("deposits", "securities", "commercial_insurance", "money_owed")),
            Decimal(0),
        ),
        registered_business=bool(h.get("business")),
        employs_others=bool(h.get("employs_others")),
        shop_fronts=h.get("shop_fronts") or 0,
        flat_purchased_on=h.get("flat_purchased_on"),
        major_build_on=h.get("major_build_on"),
        severe_illness_or_disability=bool(h.get("tag_serious_illness") or h.get("tag_severe_disability")),
        visit_date=h.get("visit_date"),
    )


def input_from(survey: Survey) -> SurveyInput:
    """The stored survey as the same structure the form produces."""
    return SurveyInput(
        header={f: getattr(survey, f) for f in HEADER_FIELDS},
        members=[
            MemberInput(
                name=m.name,
                id_number=m.id_number,
                relationship=m.relationship,
                presence=m.presence,
                member_id=m.member_id,
                change_date=m.change_date,
                change_reason=m.change_reason,
                co_resident=m.co_resident,
                left_out_reason=m.left_out_reason,
                incomes={i.category: i.amount for i in m.incomes.all()},
            )
            for m in survey.members.all()
        ],
        deductions={d.kind: d.amount for d in survey.deductions.all()},
        houses=row_values(survey.houses.all(), SurveyHouse.FIELDS),
        vehicles=row_values(survey.vehicles.all(), SurveyVehicle.FIELDS),
        supporters=row_values(survey.supporters.all(), SurveySupporter.FIELDS),
    )


def row_values(rows, fields) -> list[dict[str, Any]]:
    """A survey's rows of one kind as the form's dicts."""
    return [{k: getattr(row, k) for k in fields} for row in rows]


def assess_survey(survey: Survey, data: SurveyInput | None = None) -> Result:
    """The engine on the form's unsaved input, or on the survey as stored (kept until its rows reload)."""
    if data is not None:
        return assess(facts_from(survey, data), rules_for(survey))
    if "_assessment" not in survey.__dict__:
        survey.__dict__["_assessment"] = assess(facts_from(survey, input_from(survey)), rules_for(survey))
    return survey.__dict__["_assessment"]


# --- changes --------------------------------------------------------------------


@transaction.atomic
def start_survey(household: Household, *, campaign: Campaign, actor, late_reason: str = "") -> Survey:
    """Open a draft survey for a household of the campaign.

    1. Phase gate; 2. the household must be in the campaign's universe (in
    dibao: form A; on the screening list: form B); 3. one survey per household
    (a submitted one is corrected instead); 4. members are copied from the
    registry so that each can be accounted for.
    """
    reason = phase_gate(campaign, actor, late_reason)
    if not survey_universe(campaign).filter(pk=household.pk).exists():
        raise DomainError("该户既不在保，也不在排查名单中：请先由镇社会事务办加入排查名单。")
    existing = (
        Survey.objects.select_for_update()
        .filter(campaign=campaign, household=household, status__in=[Survey.Status.DRAFT, Survey.Status.SUBMITTED])
        .first()
    )
    if existing:
        if existing.is_draft:
            return existing
        raise DomainError("该户已提交调查；如需修改，请在调查页面发起更正。")
    registry.move_case(campaign, household.pk, Case.Stage.DRAFT, unless=(Case.Stage.DRAFT, *Case.SURVEYED))
    survey = Survey.objects.create(
        campaign=campaign,
        household=household,
        form=form_for(household),
        created_by=actor,
        covered_persons=household.covered_persons if household.is_dibao else 0,
        late_reason=reason,
    )
    SurveyMember.objects.bulk_create(
        [
            SurveyMember(
                survey=survey, member=m, name=m.name, id_number=m.id_number, relationship=m.relationship, order=i
            )
            for i, m in enumerate(household.members.filter(status=Member.Status.PRESENT).order_by("relationship", "id"))
        ]
    )
    _keep_content(survey.with_rows(), actor)
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=survey,
        after=audit.snapshot(survey),
        household=household,
        campaign=campaign,
        reason=reason or "开始入户调查",
    )
    return survey


def _lock_draft(survey: Survey) -> Survey:
    survey = (
        Survey.objects.select_for_update(of=("self",))
        .select_related("campaign", "household__village__town", "household__group")
        .get(pk=survey.pk)
    )
    if not survey.is_draft:
        raise DomainError("调查已提交并锁定，不能修改；如需修改，请发起更正。")
    return survey.with_rows()


def _check_members(survey: Survey, members: list[MemberInput], actor) -> None:
    seen: set[str] = set()
    registered = set(survey.household.members.filter(status=Member.Status.PRESENT).values_list("id", flat=True))
    listed = {m.member_id for m in members if m.member_id}
    if listed - registered - set(survey.members.exclude(member=None).values_list("member_id", flat=True)):
        raise DomainError("成员列表中有不属于该户的人员。", field="members")
    for m in members:
        if m.id_number in seen:
            raise DomainError(f"{m.name}的身份证号在本表中重复出现。", field="members")
        seen.add(m.id_number)
        if m.presence in LEAVING and m.member_id is None:
            raise DomainError(f"{m.name}不是登记成员，不能记为迁出、死亡或嫁出。", field="members")
        if m.presence == SurveyMember.Presence.NEW:
            if m.member_id is not None:
                raise DomainError(f"{m.name}已是登记成员，不能记为新增。", field="members")
            other = (
                Member.objects.filter(id_number=m.id_number, status=Member.Status.PRESENT)
                .select_related("household__village")
                .first()
            )
            if other:
                raise DomainError(f"新增成员{m.name}：" + registry.id_clash_message(other, actor), field="members")
        if m.presence in LEAVING and not m.change_date:
            raise DomainError(f"请填写{m.name}的变动日期。", field="members")
        for category, amount in m.incomes.items():
            if category not in INCOME_CATEGORIES:
                raise DomainError(f"未知的收入类别“{category}”。", field="members")
            if amount < 0:
                raise DomainError(f"{m.name}的收入不能为负数。", field="members")


def _write_rows(survey: Survey, data: SurveyInput) -> None:
    """Replace every row of the survey (members and their income, deductions, houses, vehicles, supporters)."""
    survey.members.all().delete()
    for i, m in enumerate(data.members):
        row = SurveyMember.objects.create(
            survey=survey,
            member_id=m.member_id,
            name=m.name,
            id_number=m.id_number,
            relationship=m.relationship,
            presence=m.presence,
            change_date=m.change_date,
            change_reason=m.change_reason,
            co_resident=m.co_resident,
            left_out_reason=m.left_out_reason,
            order=i,
        )
        SurveyIncome.objects.bulk_create(
            [SurveyIncome(survey_member=row, category=c, amount=a) for c, a in m.incomes.items() if a]
        )
    survey.deductions.all().delete()
    SurveyDeduction.objects.bulk_create(
        [SurveyDeduction(survey=survey, kind=k, amount=a) for k, a in data.deductions.items() if a]
    )
    for model, rows, related in (
        (SurveyHouse, data.houses, "houses"),
        (SurveyVehicle, data.vehicles, "vehicles"),
        (SurveySupporter, data.supporters, "supporters"),
    ):
        getattr(survey, related).all().delete()
        model.objects.bulk_create([model(survey=survey, **row) for row in rows])


@transaction.atomic
def save_survey(survey: Survey, data: SurveyInput, *, actor, version: int | None = None) -> Survey:
    """Save the draft as the form sent it (any section may still be empty).

    1. Only drafts change, and only from a form opened on the latest save (else StaleEdit);
    2. member rows are checked against the registry;
    3. header and rows are replaced together; 4. signatures given before a
    change of content are voided; 5. the change is recorded.
    """
    survey = _lock_draft(survey)
    registry.check_version(survey, version, field="edit_version")
    if data.header.get("visit_date") and data.header["visit_date"] > timezone.localdate():
        raise DomainError("入户调查日期不能晚于今天。", field="visit_date")
    for kind, amount in data.deductions.items():
        if kind not in DEDUCTIONS:
            raise DomainError(f"未知的扣减项目“{kind}”。", field="deductions")
        if amount < 0:
            raise DomainError("扣减金额不能为负数。", field="deductions")
    _check_members(survey, data.members, actor)
    before_print = survey.content_fingerprint()
    tracking = audit.tracking(
        survey, actor=actor, fields=HEADER_FIELDS, household=survey.household, campaign=survey.campaign
    )
    with tracking as tracked:
        for name in HEADER_FIELDS:
            if name in data.header:
                setattr(survey, name, data.header[name])
        survey.updated_at = timezone.now()
        survey.save()
        _write_rows(survey, data)
        voided = 0
        if _keep_content(survey.with_rows(), actor) != before_print:
            voided = survey.signatures.exclude(signed_at=None).update(signed_at=None, fingerprint="", method="")
        tracked.reason = "保存草稿" + ("，内容变化，已签字作废" if voided else "")
    return survey


@transaction.atomic
def set_investigators(survey: Survey, investigators: list, *, actor) -> None:
    """Name the investigators (at least two, distinct, users of the campaign for this village)."""
    survey = _lock_draft(survey)
    ids = [u.pk for u in investigators]
    if len(set(ids)) != len(ids):
        raise DomainError("同一人不能重复作为调查人。", field="investigators")
    if len(ids) < 2:
        raise DomainError("入户调查至少需要两名调查人。", field="investigators")
    allowed = set(investigator_candidates(survey.household).values_list("pk", flat=True))
    if set(ids) - allowed:
        raise DomainError("调查人必须是负责该村的村干部、工作组成员或镇社会事务办人员。", field="investigators")
    before = [s.investigator.username for s in survey.signatures.select_related("investigator")]
    survey.signatures.exclude(investigator_id__in=ids).delete()
    existing = set(survey.signatures.values_list("investigator_id", flat=True))
    for order, user in enumerate(investigators):
        if user.pk in existing:
            survey.signatures.filter(investigator=user).update(order=order)
        else:
            SurveySignature.objects.create(survey=survey, investigator=user, order=order)
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=survey,
        before={"调查人": "、".join(before)},
        after={"调查人": "、".join(u.username for u in investigators)},
        household=survey.household,
        campaign=survey.campaign,
    )


@transaction.atomic
def sign_survey(survey: Survey, *, investigator, actor, method: str, shown_fingerprint: str) -> SurveySignature:
    """An investigator signs the content they were shown (谁调查、谁签字、谁负责).

    1. Only a draft; 2. the investigator is named on it and may still visit this
    household; 3. the page they read (its fingerprint) is the survey's content now,
    otherwise the signature is refused with what changed since; 4. recorded.
    """
    survey = _lock_draft(survey)
    signature = survey.signatures.filter(investigator=investigator).first()
    if signature is None:
        raise DomainError(f"{investigator.username}不是本次调查的调查人。", field="investigator")
    if not investigator_candidates(survey.household).filter(pk=investigator.pk).exists():
        raise DomainError(f"{investigator.username}已不是负责该村的调查人员（账号停用或调动），不能签字。")
    current = survey.content_fingerprint()
    if shown_fingerprint != current:
        raise DomainError("签字未生效：" + changed_since(survey, shown_fingerprint))
    signature.signed_at = timezone.now()
    signature.fingerprint = current
    signature.method = method
    signature.save()
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=survey,
        before={"签字": None},
        after={"签字": f"{investigator.username}（{method}）"},
        household=survey.household,
        campaign=survey.campaign,
        reason="调查人签字",
    )
    return signature


def _keep_content(survey: Survey, actor) -> str:
    """Remember the draft's readable content under its fingerprint; the fingerprint."""
    fingerprint = survey.content_fingerprint()
    SurveyContent.objects.get_or_create(
        survey=survey, fingerprint=fingerprint, defaults={"content": flatten(survey), "saved_by": actor}
    )
    return fingerprint


def changed_since(survey: Survey, fingerprint: str) -> str:
    """In words: what differs between the content with `fingerprint` and the survey now."""
    shown = SurveyContent.objects.filter(survey=survey, fingerprint=fingerprint).first()
    if shown is None:
        return "您看到的页面已过期，请刷新后查看最新内容再签字。"
    now = flatten(survey)
    labels = [k for k in dict.fromkeys([*shown.content, *now]) if shown.content.get(k, "") != now.get(k, "")]
    listed = "；".join(f"{k}：{shown.content.get(k) or '（空）'} → {now.get(k) or '（空）'}" for k in labels[:8])
    more = f"等{len(labels)}项" if len(labels) > 8 else ""
    return f"您看到页面后，调查内容已被修改（{listed}{more}）。请核对最新内容后重新签字。"


def signature_states(survey: Survey, users: list | None = None) -> list[tuple[SurveySignature, bool]]:
    """Each investigator's signature and whether it covers the survey's current content.

    `users`: accounts the caller read already (with their profiles), such as the household's
    investigator candidates; the signatures' investigators are taken from them when there."""
    fingerprint = survey.content_fingerprint()
    if users is None:
        signatures = list(survey.signatures.select_related("investigator__profile"))
    else:
        signatures = rows_of(SurveySignature, "survey_id", survey.pk)
        known = {u.pk: u for u in users}
        missing = {s.investigator_id for s in signatures} - known.keys()
        if missing:
            known.update({u.pk: u for u in get_user_model().objects.select_related("profile").filter(pk__in=missing)})
        for signature in signatures:
            signature.investigator = known[signature.investigator_id]
            signature.survey = survey
    return [(s, bool(s.signed_at) and s.fingerprint == fingerprint) for s in signatures]


def missing_for_submission(
    survey: Survey, states: list[tuple[SurveySignature, bool]] | None = None, *, candidates: list | None = None
) -> list[str]:
    """Everything that stops a submission, in words the cadre can act on (`candidates`: the
    household's investigator candidates, if the caller read them already)."""
    states = signature_states(survey) if states is None else states
    problems = []
    if not survey.visit_date:
        problems.append("请填写入户调查日期。")
    registered = {m.pk: m.name for m in survey.household.live_members()}
    accounted = {m.member_id for m in survey.members.all() if m.member_id}
    unaccounted = [name for pk, name in registered.items() if pk not in accounted]
    if unaccounted:
        problems.append(f"以下登记成员未核实：{'、'.join(unaccounted)}（户不漏人）。")
    staying = [m for m in survey.members.all() if m.stays]
    if not staying:
        problems.append("至少要有一名在户成员。")
    elif sum(1 for m in staying if m.relationship == Member.Relationship.HEAD) != 1:
        problems.append("在户成员中应有且只有一名户主（户主迁出或去世时，请把另一名成员的关系改为户主）。")
    if survey.form == Survey.Form.A and not survey.dibao_reason.strip():
        problems.append("表A须说明享受低保的原因。")
    if not survey.main_cause:
        problems.append("请选择主要致困原因。")
    if not survey.recommendation:
        problems.append("请填写调查结论。")
    result = assess_survey(survey)
    covered = covered_persons_problem(survey.covered_persons, result.household_size)
    if covered:
        problems.append(covered + "请核减拟保障人数。")
    suggested = result.suggested_outcome
    if survey.recommendation and survey.recommendation != suggested and not survey.recommendation_reason.strip():
        problems.append(
            f"调查结论（{survey.get_recommendation_display()}）与系统建议"
            f"（{Survey.Recommendation(suggested).label}）不一致，请写明理由。"
        )
    if not survey.head_confirmation:
        problems.append("请记录户主确认情况（签字、按手印或拒签）。")
    elif survey.head_confirmation == Survey.HeadConfirmation.REFUSED and not survey.head_refusal_reason.strip():
        problems.append("户主拒绝签字时请填写原因。")
    if len(states) < 2:
        problems.append("入户调查至少需要两名调查人。")
    if candidates is None:
        eligible = set(investigator_candidates(survey.household).values_list("pk", flat=True))
    else:
        eligible = {u.pk for u in candidates}
    for signature, _valid in states:
        if signature.investigator_id not in eligible:
            problems.append(f"{signature.investigator.username}已不是负责该村的调查人员，请更换调查人。")
    for signature, valid in states:
        if not valid:
            problems.append(f"调查人{signature.investigator.username}尚未签字（或签字后内容有改动，需重新签字）。")
    return problems


def _apply_member_changes(survey: Survey, actor) -> None:
    """Member changes recorded in the survey reach the registry only now.

    1. Members who left (a leaving head hands over to the member the survey
    names as head); 2. changed relationships of those who stay; 3. new members.
    """
    reason_prefix = f"入户调查（{survey}）："
    rows = list(survey.members.select_related("member"))
    staying_head = next((r for r in rows if r.stays and r.relationship == Member.Relationship.HEAD), None)
    for row in rows:
        if row.presence in LEAVING and row.member and row.member.is_live:
            new_head = None
            if row.member.relationship == Member.Relationship.HEAD and staying_head and staying_head.member:
                new_head = staying_head.member
            registry.change_member_status(
                row.member,
                actor=actor,
                status=row.presence,
                on=row.change_date,
                reason=reason_prefix + (row.change_reason or row.get_presence_display()),
                new_head=new_head,
            )
    # A former head first, so that a new head never meets the old one.
    for row in sorted(rows, key=lambda r: r.relationship == Member.Relationship.HEAD):
        if row.presence == SurveyMember.Presence.PRESENT and row.member_id:
            member = Member.objects.get(pk=row.member_id)
            if member.is_live and member.relationship != row.relationship:
                registry.update_member(
                    member, actor=actor, data={"relationship": row.relationship}, reason=reason_prefix + "核实家庭关系"
                )
    for row in rows:
        if (
            row.presence == SurveyMember.Presence.NEW
            and not Member.objects.filter(id_number=row.id_number, status=Member.Status.PRESENT).exists()
        ):
            created = registry.add_member(
                survey.household,
                actor=actor,
                data={"name": row.name, "id_number": row.id_number, "relationship": row.relationship},
                joined_on=row.change_date or survey.visit_date,
                reason=reason_prefix + (row.change_reason or "新增成员"),
            )
            row.member = created
            row.save(update_fields=["member"])


@transaction.atomic
def submit_survey(survey: Survey, *, actor, late_reason: str = "") -> Survey:
    """Submit and lock a signed survey.

    1. Only a draft, within the phase gate; 2. complete and signed by every
    investigator on the current content; 3. the eligibility figures are
    computed and stored; 4. member changes flow back to the registry; 5. a
    corrected version replaces the one it corrects; 6. recorded.
    """
    survey = _lock_draft(survey)
    reason = phase_gate(survey.campaign, actor, late_reason)
    problems = missing_for_submission(survey)
    if problems:
        raise DomainError("不能提交：" + "；".join(p.rstrip("。") for p in problems) + "。")
    result = assess_survey(survey)
    survey.result = result.as_dict()
    survey.per_capita_income = result.per_capita_monthly
    survey.suggested_outcome = result.suggested_outcome
    survey.suggested_amount = result.suggested_amount
    _apply_member_changes(survey, actor)
    previous = survey.supersedes
    if previous is not None:
        Survey.objects.filter(pk=previous.pk).update(status=Survey.Status.SUPERSEDED)
    survey.header = survey.header_values()
    registry.move_case(
        survey.campaign,
        survey.household_id,
        Case.Stage.SUBMITTED,
        unless=(Case.Stage.REPORTED,),
        also={"flyer_delivered": survey.flyer_delivered, "knows_policy": survey.knows_policy},
    )
    survey.status = Survey.Status.SUBMITTED
    survey.submitted_by = actor
    survey.submitted_at = timezone.now()
    if reason:
        survey.late_reason = reason
    survey.save()
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=survey,
        before={"状态": "草稿"},
        after={
            "状态": "已提交",
            "人均月收入": str(result.per_capita_monthly),
            "系统建议": result.suggested_outcome_label,
        },
        household=survey.household,
        campaign=survey.campaign,
        reason=reason or "提交入户调查",
    )
    return survey


@transaction.atomic
def start_correction(survey: Survey, *, actor, reason: str, late_reason: str = "") -> Survey:
    """A submitted survey is never edited in place: a correction is a new version, with its reason."""
    survey = Survey.objects.select_for_update().select_related("campaign", "household").get(pk=survey.pk)
    if survey.status != Survey.Status.SUBMITTED:
        raise DomainError("只能更正已提交的当前版本。")
    if not reason.strip():
        raise DomainError("请填写更正原因。", field="reason")
    if Survey.objects.filter(campaign=survey.campaign, household=survey.household, status=Survey.Status.DRAFT).exists():
        raise DomainError("该户已有一份未提交的更正。")
    phase_gate(survey.campaign, actor, late_reason)
    data = input_from(survey.with_rows())
    copy = Survey.objects.create(
        campaign=survey.campaign,
        household=survey.household,
        form=survey.form,
        version=survey.version + 1,
        supersedes=survey,
        correction_reason=reason.strip(),
        created_by=actor,
        **{f: getattr(survey, f) for f in HEADER_FIELDS},
    )
    _write_rows(copy, data)
    _keep_content(copy.with_rows(), actor)
    SurveySignature.objects.bulk_create(
        [
            SurveySignature(survey=copy, investigator_id=s.investigator_id, order=s.order)
            for s in survey.signatures.all()
        ]
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=copy,
        after={"版本": copy.version},
        household=survey.household,
        campaign=survey.campaign,
        reason=f"更正：{reason.strip()}",
    )
    return copy


SCREENING_SOURCES = {
    ScreeningEntry.Kind.POVERTY: Case.Source.POVERTY,
    ScreeningEntry.Kind.EDGE: Case.Source.EDGE,
    ScreeningEntry.Kind.OTHER: Case.Source.OTHER,
}


def screening_kind(household: Household) -> str | None:
    """Why the registry puts a household not in dibao on the form-B list, or None (大排查)."""
    if household.is_dibao:
        return None
    if household.poverty_status == Household.PovertyStatus.NOT_LIFTED:
        return ScreeningEntry.Kind.POVERTY
    if household.is_edge:
        return ScreeningEntry.Kind.EDGE
    if household.is_other_hardship:
        return ScreeningEntry.Kind.OTHER
    return None


def unlisted_from_registry(campaign: Campaign):
    """Registry households the campaign should visit that are not on its list yet.

    A household the town took off the screening list (with a reason) stays off.
    """
    listed = Case.objects.filter(campaign=campaign, household=OuterRef("pk"))
    screened = ScreeningEntry.objects.filter(campaign=campaign, household=OuterRef("pk"))
    hardship = (
        Q(poverty_status=Household.PovertyStatus.NOT_LIFTED) | Q(is_edge=True) | Q(is_other_hardship=True)
    ) & ~Q(dibao_status=Household.DibaoStatus.ACTIVE)
    return Household.objects.filter(village__town=campaign.town).filter(
        (Q(dibao_status=Household.DibaoStatus.ACTIVE) | (hardship & ~Exists(screened))) & ~Exists(listed)
    )


@transaction.atomic
def list_from_registry(campaign: Campaign, *, actor) -> dict[str, int]:
    """Draw the campaign's list from the registry (at the start of phase 2, and again on demand).

    1. Every household in dibao gets a case row (form A); 2. every household not in
    dibao that is 未脱贫建档立卡, an edge household or another hardship household goes on
    the screening list, marked as coming from the registry, with its case row (form B);
    3. one audit event per household, sharing a batch id. Households already listed,
    or taken off the list with a reason, are left as they are, so running it again adds
    only what is new.
    """
    batch = uuid.uuid4()
    now = timezone.now()
    households = list(
        unlisted_from_registry(campaign)
        .select_related("village")
        .annotate(live=Count("members", filter=Q(members__status=Member.Status.PRESENT)))
    )
    cases, entries = [], []
    counts = {"dibao": 0, "screening": 0}
    for household in households:
        kind = screening_kind(household)
        if household.is_dibao:
            source = Case.Source.DIBAO
            counts["dibao"] += 1
        else:
            source = SCREENING_SOURCES[kind]
            counts["screening"] += 1
            entries.append(
                ScreeningEntry(
                    campaign=campaign, household=household, kind=kind, from_registry=True, added_by=actor, added_at=now
                )
            )
        cases.append(
            Case(
                campaign=campaign,
                household=household,
                village_id=household.village_id,
                source=source,
                live_members=household.live,
                amount_before=Case.paid_before(household),
                amount_after=Case.paid_before(household),
            )
        )
    ScreeningEntry.objects.bulk_create(entries, batch_size=2000)
    Case.objects.bulk_create(cases, batch_size=2000)
    events = [
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=case,
            after={"source": case.get_source_display()},
            household=case.household,
            campaign=campaign,
            reason="由花名册列入本次复核名单",
            batch=batch,
            save=False,
        )
        for case in cases
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    registry.retally(campaign, {case.village_id for case in cases})
    return counts


def screening_entries(campaign: Campaign, user):
    """The form-B list as the user may see it, newest first, with each household's head."""
    return (
        ScreeningEntry.objects.filter(
            campaign=campaign,
            removed_at__isnull=True,
            household__in=Household.objects.visible_to(user),
        )
        .select_related("household__village", "added_by")
        .prefetch_related(
            Prefetch(
                "household__members",
                queryset=Member.objects.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD),
            )
        )
        .order_by("-added_at", "-id")
    )


def screening_candidates(campaign: Campaign, user):
    """Households not in dibao and not on the list, that the town may add by hand."""
    return (
        Household.objects.visible_to(user)
        .exclude(dibao_status=Household.DibaoStatus.ACTIVE)
        .exclude(screening__campaign=campaign, screening__removed_at__isnull=True)
        .select_related("village")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Member.objects.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD),
            )
        )
        .order_by("-id")
    )


@transaction.atomic
def add_to_screening(campaign: Campaign, household: Household, *, kind: str, actor, note: str = "") -> ScreeningEntry:
    """大排查: the town puts a non-dibao hardship household on the list for form B (again, if it was removed)."""
    if household.is_dibao:
        raise DomainError("在保家庭使用表A复核，不需加入排查名单。", field="household")
    entry = ScreeningEntry.objects.select_for_update().filter(campaign=campaign, household=household).first()
    if entry is not None and entry.removed_at is None:
        raise DomainError("该户已在排查名单中。", field="household")
    before = audit.snapshot(entry) if entry else {}
    if entry is None:
        entry = ScreeningEntry(campaign=campaign, household=household)
    entry.kind, entry.note, entry.added_by, entry.added_at = kind, note, actor, timezone.now()
    entry.from_registry = False
    entry.removed_by, entry.removed_at, entry.removed_reason = None, None, ""
    entry.save()
    registry.ensure_case(campaign, household, SCREENING_SOURCES[kind])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE,
        obj=entry,
        before=before,
        after=audit.snapshot(entry),
        household=household,
        campaign=campaign,
        reason="加入排查名单",
    )
    return entry


@transaction.atomic
def remove_from_screening(campaign: Campaign, household: Household, *, actor, reason: str) -> ScreeningEntry:
    """The town takes a household off the form-B list, with a reason; nothing is deleted."""
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写移出排查名单的原因。", field="reason")
    entry = ScreeningEntry.objects.select_for_update().filter(campaign=campaign, household=household).first()
    if entry is None or entry.removed_at is not None:
        raise DomainError("该户不在排查名单中。")
    if Survey.objects.filter(campaign=campaign, household=household).exists():
        raise DomainError("该户已开始入户调查，不能移出排查名单。")
    with audit.tracking(entry, actor=actor, household=household, campaign=campaign, reason=f"移出排查名单：{reason}"):
        entry.removed_by, entry.removed_at, entry.removed_reason = actor, timezone.now(), reason[:200]
        entry.save()
    Case.objects.filter(campaign=campaign, household=household).update(in_scope=False, updated_at=timezone.now())
    registry.retally(campaign, [household.village_id])
    return entry


# --- coverage and village reports ----------------------------------------------


def coverage_by_village(campaign: Campaign, villages) -> list[dict[str, Any]]:
    """Per village: households to visit, submitted, in draft, not visited, and the report.

    Read from the villages' tallies (kept with the case rows) and one query for the
    reports, whatever the number of households.
    """
    villages = list(villages)
    counts = {
        (t["village_id"], t["stage"]): t["n"]
        for t in VillageTally.objects.filter(campaign=campaign, village__in=villages)
        .values("village_id", "stage")
        .annotate(n=Sum("households"))
        .order_by()
    }
    reports = {r.village_id: r for r in VillageReport.objects.filter(campaign=campaign).select_related("campaign")}
    out = []
    for village in villages:
        by_stage = {stage: counts.get((village.id, stage), 0) for stage in Case.Stage.values}
        total = sum(by_stage.values())
        submitted = sum(by_stage[s] for s in Case.SURVEYED)
        draft = by_stage[Case.Stage.DRAFT]
        out.append(
            {
                "village": village,
                "total": total,
                "submitted": submitted,
                "draft": draft,
                "not_visited": by_stage[Case.Stage.PENDING],
                "complete": total > 0 and submitted == total,
                "percent": 100 * submitted // total if total else 0,
                "report": reports.get(village.id),
            }
        )
    return out


def open_cases(campaign: Campaign, village: Village):
    """The village's case rows still without a submitted survey."""
    return Case.objects.in_scope().filter(
        campaign=campaign, village=village, stage__in=[Case.Stage.PENDING, Case.Stage.DRAFT]
    )


def unsubmitted(campaign: Campaign, village: Village):
    """The village's households that still lack a submitted survey."""
    return Household.objects.filter(id__in=open_cases(campaign, village).values("household_id"))


# the stages whose households' members no submitted survey has accounted for yet
OPEN_STAGES = (Case.Stage.PENDING, Case.Stage.DRAFT)


def unaccounted_members(campaign: Campaign, village: Village) -> int:
    """Registered members of the village not yet accounted for by a submitted survey (户不漏人)."""
    return village_list_counts(campaign, village)[1]


def village_case_count(campaign: Campaign, village: Village, status: str = "") -> int:
    """How many rows the village's list has for the filter, from its tallies."""
    return village_list_counts(campaign, village, status)[0]


def village_list_counts(campaign: Campaign, village: Village, status: str = "") -> tuple[int, int]:
    """From the village's tallies in one query: how many rows its list has for the filter, and
    how many of its registered members are not yet accounted for (`unaccounted_members`)."""
    stages = VILLAGE_LIST_FILTERS.get(status, Case.Stage.values)
    households = unaccounted = 0
    # a few rows: one per stage, review state and outcome
    for stage, n, members in values_rows(_village_tallies, campaign.pk, village.pk):
        households += n if stage in stages else 0
        unaccounted += members if stage in OPEN_STAGES else 0
    return households, unaccounted


def _village_tallies(campaign, village):
    return VillageTally.objects.filter(campaign_id=campaign, village_id=village).values_list(
        "stage", "households", "members"
    )


VILLAGE_LIST_FILTERS = {
    "not_visited": [Case.Stage.PENDING],
    "draft": [Case.Stage.DRAFT],
    "submitted": list(Case.SURVEYED),
}


def village_cases(campaign: Campaign, village: Village, status: str = ""):
    """The village's list of households to visit, newest first, filtered by survey state."""
    return cases_to_visit(campaign.pk, village.pk, VILLAGE_LIST_FILTERS.get(status)).order_by("-household_id")


def cases_to_visit(campaign: int, village: int, stages: list[str] | None):
    """`village_cases` by ids, the stages of a filter (None: every stage), unordered."""
    cases = Case.objects.in_scope().filter(campaign_id=campaign, village_id=village)
    return cases if stages is None else cases.filter(stage__in=stages)


def recompute_stages(campaign: Campaign) -> None:
    """Set every case row's stage from the surveys and reports (for data written in bulk, as the demo does)."""
    surveys = Survey.objects.filter(campaign=campaign)
    now = timezone.now()
    cases = Case.objects.filter(campaign=campaign)
    cases.update(stage=Case.Stage.PENDING, updated_at=now)
    cases.filter(household__in=surveys.filter(status=Survey.Status.DRAFT).values("household_id")).update(
        stage=Case.Stage.DRAFT
    )
    cases.filter(household__in=surveys.filter(status=Survey.Status.SUBMITTED).values("household_id")).update(
        stage=Case.Stage.SUBMITTED
    )
    reported = VillageReport.objects.filter(campaign=campaign).values("village_id")
    cases.filter(stage=Case.Stage.SUBMITTED, village__in=reported).update(stage=Case.Stage.REPORTED)
    # 送政策 as each household's latest submitted survey recorded it (as `submit_survey` sets it)
    latest = surveys.filter(household=OuterRef("household_id"), status=Survey.Status.SUBMITTED).order_by("-version")
    cases.update(
        flyer_delivered=Coalesce(Subquery(latest.values("flyer_delivered")[:1]), Value(False)),
        knows_policy=Coalesce(Subquery(latest.values("knows_policy")[:1]), Value(False)),
    )
    registry.retally(campaign, Village.objects.filter(town=campaign.town).values_list("id", flat=True))


@transaction.atomic
def report_village(campaign: Campaign, village: Village, *, actor, note: str = "") -> VillageReport:
    """上报: refused, with what is missing, until every household of the village is submitted."""
    if campaign.current_phase not in {Campaign.PhaseNumber.REVIEW, Campaign.PhaseNumber.VERIFY}:
        raise DomainError("只能在全面复核或汇总核实阶段上报。")
    if VillageReport.objects.filter(campaign=campaign, village=village).exists():
        raise DomainError(f"{village.name}已经上报。")
    missing = unsubmitted(campaign, village)
    count = missing.count()
    if count:
        heads = list(
            Member.objects.filter(
                household__in=missing[:10], status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD
            ).values_list("name", flat=True)
        )
        people = unaccounted_members(campaign, village)
        raise DomainError(
            f"{village.name}尚有{count}户未完成入户调查（涉及{people}名成员未核实），不能上报。"
            f"未完成的户（部分）：{'、'.join(heads)}{'等' if count > len(heads) else ''}。"
        )
    reported = Case.objects.in_scope().filter(campaign=campaign, village=village)
    report = VillageReport.objects.create(
        campaign=campaign, village=village, reported_by=actor, households=reported.count(), note=note
    )
    reported.update(stage=Case.Stage.REPORTED, updated_at=timezone.now())
    registry.retally(campaign, [village.id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=report,
        after=audit.snapshot(report),
        campaign=campaign,
        reason="村级上报复核结果",
    )
    return report


# --- the campaign's phases ----------------------------------------------------------


def advance_phase(campaign: Campaign, *, actor, reason: str = "") -> Campaign:
    """The town office moves the campaign on: 1 → 2 → 3 → 4 → closed, one step at a time.

    1. Entering phase 2 draws the list of households to visit from the registry;
    2. entering phase 3 needs every village's report (上报), or a written reason to go on
       without the missing ones; 3. leaving phase 3 needs the town's report to the county
       and leaving phase 4 the county's conclusion, which later stages record — until then
       a written reason is required; 4. recorded, with the reason.
    """
    reason = reason.strip()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        current = campaign.current_phase
        if current >= Campaign.PhaseNumber.CLOSED:
            raise DomainError("本次行动已结束。")
        target = current + 1
        if target == Campaign.PhaseNumber.VERIFY:
            missing = unreported_villages(campaign)
            if missing and not reason:
                raise DomainError(
                    f"尚有{len(missing)}个村（社区）未上报复核结果：{'、'.join(v.name for v in missing)}。"
                    "请督促上报；确需先进入汇总核实阶段的，请写明原因。",
                    field="reason",
                )
        elif target == Campaign.PhaseNumber.SUPERVISE and not reason:
            if not TownReport.objects.filter(campaign=campaign).exists():
                raise DomainError(
                    "镇级报告尚未报县；如已通过其他方式报送，请写明情况后再进入下一阶段。", field="reason"
                )
        elif target == Campaign.PhaseNumber.CLOSED and not reason:
            raise DomainError("系统尚未记录县级督查结论；如已完成，请写明情况后再进入下一阶段。", field="reason")
        with audit.tracking(
            campaign, actor=actor, fields=["current_phase"], campaign=campaign, reason=reason or "进入下一阶段"
        ):
            registry.check_version(campaign, None)
            campaign.current_phase = target
            campaign.save(update_fields=["current_phase", "version"])
        if target == Campaign.PhaseNumber.REVIEW:
            list_from_registry(campaign, actor=actor)
    return campaign


def unreported_villages(campaign: Campaign) -> list[Village]:
    reported = VillageReport.objects.filter(campaign=campaign).values("village_id")
    return list(Village.objects.filter(town=campaign.town).exclude(id__in=reported).order_by("order", "code"))


# --- re-verification samples (phase 3: the town; phase 4: the county) ------------------

SAMPLE_PHASE = {"town": Campaign.PhaseNumber.VERIFY, "county": Campaign.PhaseNumber.SUPERVISE}


def sample_phase_gate(campaign: Campaign, level: str, action: str) -> None:
    """The town's sample and re-visits belong to phase 3, the county's to phase 4."""
    if campaign.current_phase != SAMPLE_PHASE[level]:
        phase = Campaign.PhaseNumber(SAMPLE_PHASE[level]).label
        label = Sample.Level(level).label
        raise DomainError(f"当前是{campaign.get_current_phase_display()}；{label}只能在{phase}{action}。")


def full_check_households(campaign: Campaign):
    """Households the higher level checks in full, never by chance (cases.decisions.full_check_cases):
    a live member is a relative of a village cadre or of dibao staff, or the household is named
    in an objection to the 公示 (later: a complaint)."""
    return Household.objects.filter(pk__in=full_check_cases(campaign).values("household_id"))


def reported_counts(campaign: Campaign) -> dict[int, int]:
    """Reported households (in scope) per village id, from the tallies: the population each
    village's sample is drawn from, without counting the case rows."""
    tallies = VillageTally.objects.filter(campaign=campaign, stage=Case.Stage.REPORTED)
    return dict(tallies.values_list("village_id").annotate(n=Sum("households")).order_by())


def _population(campaign: Campaign, villages=None) -> list[tuple[str, str, int, int]]:
    """(village code, household code, household id, village id) of every reported household."""
    cases = Case.objects.in_scope().filter(campaign=campaign, stage=Case.Stage.REPORTED)
    if villages is not None:
        cases = cases.filter(village__in=villages)
    code = F("household__public_id")
    if connection.vendor == "postgresql":
        # the text of the uuid, as str(uuid) writes it: no uuid objects made and printed again
        code = Cast(code, output_field=CharField())
    rows = cases.values_list("village__code", code, "household_id", "village_id")
    return [(v, str(code), h, vid) for v, code, h, vid in rows]


def sample_units(campaign: Campaign, villages=None) -> list[tuple[str, str]]:
    """(village code, household code) of every reported household: the population drawn from."""
    return [(v, code) for v, code, _, _ in _population(campaign, villages)]


def _add_entries(sample: Sample, rows: list[tuple[int, int, int]], *, reason: str, note: str, actor) -> None:
    """Write the sample's entries for `rows` of (household id, village id, rank).

    On PostgreSQL one INSERT of unnested arrays: a town's draw is some 16,000 rows, and
    building that many model objects for `bulk_create` costs more than the draw itself.
    """
    if not rows:
        return
    now = timezone.now()
    if connection.vendor != "postgresql":
        SampleEntry.objects.bulk_create(
            SampleEntry(
                sample=sample,
                household_id=h,
                village_id=v,
                reason=reason,
                rank=r,
                note=note,
                added_by=actor,
                added_at=now,
            )
            for h, v, r in rows
        )
        return
    households, villages, ranks = (list(c) for c in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO surveys_sampleentry"
            " (sample_id, household_id, village_id, reason, rank, note, added_by_id, added_at)"
            " SELECT %s, h, v, %s, r, %s, %s, %s FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS t(h, v, r)",
            [sample.pk, reason, note, actor.pk, now, households, villages, ranks],
        )


@transaction.atomic
def draw_sample(campaign: Campaign, *, level: str, actor, seed: str | None = None) -> tuple[Sample, list[Village]]:
    """Draw the re-verification sample of every village that has reported and is not drawn yet.

    1. Only in its phase (the town in phase 3, the county in phase 4); 2. the first draw
    makes and keeps the seed; a village that reports later is drawn with the same seed, so
    the whole list stays reproducible, and a village once drawn is never drawn again;
    3. per village k = ⌈ratio × n⌉ of its reported households, by SHA-256 of seed and
    household code (surveys/sampling.py); 4. full-check households are added on top, never
    counted toward k; 5. the case rows are marked; 6. recorded. Returns the sample and the
    villages still waiting for their report.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    sample_phase_gate(campaign, level, "抽样")
    ratio = campaign.town_ratio if level == Sample.Level.TOWN else campaign.county_ratio
    sample = Sample.objects.filter(campaign=campaign, level=level).first()
    if sample is None:
        sample = Sample.objects.create(
            campaign=campaign, level=level, seed=seed or sampling.new_seed(), ratio=ratio, drawn_by=actor
        )
    villages = list(Village.objects.filter(town=campaign.town).order_by("order", "code"))
    drawn_villages = set(sample.entries.filter(reason=SampleEntry.Reason.DRAWN).values_list("village_id", flat=True))
    reported = set(VillageReport.objects.filter(campaign=campaign).values_list("village_id", flat=True))
    to_draw = [v for v in villages if v.id in reported and v.id not in drawn_villages]
    waiting = [v for v in villages if v.id not in reported]
    if not to_draw:
        raise DomainError("没有可抽样的村：已上报的村均已抽样" + ("；其余村尚未上报。" if waiting else "。"))
    population = _population(campaign, to_draw)
    picks = sampling.draw([(v, code) for v, code, _, _ in population], ratio_percent=sample.ratio, seed=sample.seed)
    ids = {code: (h, v) for _, code, h, v in population}
    drawn = [(*ids[code], rank) for codes in picks.values() for rank, code in enumerate(codes, start=1)]
    _add_entries(sample, drawn, reason=SampleEntry.Reason.DRAWN, note="", actor=actor)
    drawn_count = len(drawn)
    full = full_check_households(campaign).filter(village__in=to_draw)
    full = full.exclude(id__in=sample.entries.values("household_id"))
    full = [(h, v, 0) for h, v in full.values_list("id", "village_id")]
    _add_entries(
        sample,
        full,
        reason=SampleEntry.Reason.FULL_CHECK,
        note="全面核查户（村干部或经办人员近亲属、投诉、公示异议或绿色通道）",
        actor=actor,
    )
    flag = "town_sampled" if level == Sample.Level.TOWN else "county_sampled"
    entered = sample.entries.filter(village__in=to_draw).values("household_id")
    Case.objects.filter(campaign=campaign, village__in=to_draw, household__in=entered).update(
        **{flag: True, "updated_at": timezone.now()}
    )
    registry.retally(campaign, [v.id for v in to_draw])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=sample,
        after={
            "村": "、".join(v.name for v in to_draw),
            "随机抽取": drawn_count,
            "全面核查": len(full),
            "比例": str(sample.ratio),
        },
        campaign=campaign,
        reason=f"{sample.get_level_display()}抽样（种子已记录）",
    )
    return sample, waiting


@transaction.atomic
def add_to_sample(sample: Sample, household: Household, *, actor, reason: str) -> SampleEntry:
    """The town adds a household to its re-visits (say, a proposed exit or enrolment), with a reason."""
    sample_phase_gate(sample.campaign, sample.level, "增加核查户")
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写增加核查的原因。", field="reason")
    if not survey_universe(sample.campaign).filter(pk=household.pk).exists():
        raise DomainError("该户不在本次复核名单中。")
    if SampleEntry.objects.filter(sample=sample, household=household).exists():
        raise DomainError("该户已在样本中。")
    entry = SampleEntry.objects.create(
        sample=sample,
        household=household,
        village_id=household.village_id,
        reason=SampleEntry.Reason.ADDED,
        note=reason[:200],
        added_by=actor,
    )
    flag = "town_sampled" if sample.level == Sample.Level.TOWN else "county_sampled"
    Case.objects.filter(campaign=sample.campaign, household=household).update(**{flag: True})
    registry.retally(sample.campaign, [household.village_id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=entry,
        after={"入样方式": entry.get_reason_display()},
        household=household,
        campaign=sample.campaign,
        reason=f"增加{sample.get_level_display()}：{reason}",
    )
    return entry


def sample_discrepancies(sample: Sample) -> list[str]:
    """Re-derive the randomly drawn part of the sample from its seed; [] when it matches."""
    drawn = sample.entries.filter(reason=SampleEntry.Reason.DRAWN)
    villages = list(Village.objects.filter(id__in=drawn.values("village_id")))
    recorded: dict[str, list[str]] = {v.code: [] for v in villages}
    for village_code, code in drawn.values_list("village__code", "household__public_id"):
        recorded[village_code].append(str(code))
    return sampling.verify(
        sample_units(sample.campaign, villages), ratio_percent=sample.ratio, seed=sample.seed, recorded=recorded
    )
