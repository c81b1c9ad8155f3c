"""State changes of the campaign and the registry.

Each function is atomic, writes its audit record in the same transaction and
raises `DomainError` (a Chinese message for the user) when a rule forbids it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import audit, roles
from .idnumber import IdNumberError
from .models import (
    AuditEvent,
    Campaign,
    Case,
    Household,
    Member,
    Phase,
    Profile,
    RegistryTally,
    Village,
    VillageTally,
)

HOUSEHOLD_FIELDS = [
    "village",
    "group",
    "address",
    "hukou_type",
    "phone",
    "bank_name",
    "bank_account",
    "dibao_status",
    "dibao_class",
    "covered_persons",
    "monthly_amount",
    "dibao_since",
    "is_tekun",
    "poverty_status",
    "is_edge",
    "is_other_hardship",
]
MEMBER_FIELDS = [
    "name",
    "id_number",
    "relationship",
    "ethnicity",
    "marital_status",
    "education",
    "is_student",
    "health",
    "disability_type",
    "disability_grade",
    "disability_certificate",
    "work_ability",
    "employment",
    "work_place",
    "is_public_payroll",
    "is_cadre_relative",
]
CAMPAIGN_FIELDS = [
    "name",
    "document_number",
    "village_report_deadline",
    "county_report_deadline",
    "town_ratio",
    "county_ratio",
    "urban_standard",
    "rural_standard",
    "standards_note",
    "edge_multiplier",
    "asset_multiplier",
    "asset_multiplier_severe",
    "purchase_lookback_years",
    "minimum_amount",
    "notice_days",
    "gradual_exit_months",
    "hotline",
    "complaint_days",
    "green_review_days",
    "aid_village_limit",
    "aid_town_limit",
    "aid_county_limit",
]


class DomainError(Exception):
    """A rule of the campaign forbids the change; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(DomainError):
    """Someone saved the record after this form was opened: the save is refused, nothing is overwritten."""

    def __init__(self, obj, event: AuditEvent | None):
        who = "其他人"
        if event is not None and event.actor is not None:
            who = getattr(getattr(event.actor, "profile", None), "display_name", "") or event.actor.get_username()
        when = f"于{timezone.localtime(event.at):%m-%d %H:%M}" if event is not None else ""
        super().__init__(
            f"保存未生效：您打开此页后，{who}{when}已修改了这条记录。请查看对方的修改，再在最新内容上重新填写。"
        )
        self.obj = obj
        self.event = event


def check_version(obj, seen: int | None, *, field: str = "version") -> None:
    """Refuse a save from a form opened on an older version of `obj`; count this save.

    `seen` is the version the form was opened on (None: a change made by the system,
    not from a form). The latest recorded change is kept on the refusal, to show it.
    """
    current = getattr(obj, field)
    if seen is not None and seen != current:
        event = (
            AuditEvent.objects.filter(model=obj._meta.label, object_id=str(getattr(obj, "public_id", None) or obj.pk))
            .select_related("actor__profile")
            .order_by("-at", "-id")
            .first()
        )
        raise StaleEdit(obj, event)
    setattr(obj, field, current + 1)


def _assign(obj, data: dict[str, Any], fields: list[str]) -> None:
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])


def _check_household(household: Household) -> None:
    if household.group_id and household.group.village_id != household.village_id:
        raise DomainError("所选村民小组不属于该村（社区）。", field="group")
    if household.dibao_status == Household.DibaoStatus.ACTIVE and household.covered_persons < 1:
        raise DomainError("在保家庭的保障人数至少为1。", field="covered_persons")


def id_clash_message(other: Member, actor) -> str:
    """The refusal for an ID number already live in another household, naming that
    household only when the actor's own area covers it."""
    if roles.covers_village(actor, other.household.village):
        return f"身份证号已登记在{other.household.village.name}{other.name}的家庭中，一人只能属于一户。"
    return "该身份证号已登记在您管辖范围以外的另一户中，一人只能属于一户；请联系镇社会事务办核实。"


def _prepare_member(member: Member, actor) -> None:
    try:
        member.derive_from_id()
    except IdNumberError as exc:
        raise DomainError(str(exc), field="id_number") from exc
    if member.is_live:
        clash = Member.objects.filter(id_number=member.id_number, status=Member.Status.PRESENT)
        if member.pk:
            clash = clash.exclude(pk=member.pk)
        other = clash.select_related("household__village").first()
        if other:
            raise DomainError(id_clash_message(other, actor), field="id_number")


def _save_member(member: Member) -> None:
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        # A concurrent save won the race for the same ID number or head.
        raise DomainError("该身份证号或户主已被登记，请刷新后重试。", field="id_number") from exc


# --- the campaign's case rows ------------------------------------------------------


def ensure_case(campaign: Campaign, household: Household, source: str) -> Case:
    """The household's case row in the campaign, listed (again) for a visit.

    A household not yet visited takes the latest reason for listing it (a screened
    household that has since entered dibao is surveyed on form A).
    """
    case, created = Case.objects.get_or_create(
        campaign=campaign,
        household=household,
        defaults={
            "village_id": household.village_id,
            "source": source,
            "live_members": household.members.filter(status=Member.Status.PRESENT).count(),
            "amount_before": Case.paid_before(household),
            "amount_after": Case.paid_before(household),
        },
    )
    villages = {household.village_id}
    if not created:
        villages.add(case.village_id)
        changed = {"in_scope": True, "village_id": household.village_id}
        if case.stage == Case.Stage.PENDING:
            changed["source"] = source
        if any(getattr(case, k) != v for k, v in changed.items()):
            Case.objects.filter(pk=case.pk).update(**changed, updated_at=timezone.now())
            case.refresh_from_db()
    retally(campaign, villages)
    return case


# What each tally row counts of its case rows, beyond how many they are.
TALLY_SUMS = {
    "members": Sum("live_members"),
    **{flag: Count("id", filter=Q(**{flag: True})) for flag in VillageTally.FLAGS},
    **{amount: Sum(amount) for amount in VillageTally.AMOUNTS},
}


@transaction.atomic(savepoint=False)
def retally(campaign: Campaign, village_ids) -> None:
    """Recount the villages' case rows by stage, review state and outcome into VillageTally.

    The villages are locked first (in id order) so that two transactions recounting the
    same village write one after the other, the later one counting what the earlier wrote.
    Callers recount last, after the rows they lock (a household, a case row), so that every
    writer takes its locks in the same order.
    Keys that no longer occur are set to zero rather than deleted, so that the write is one
    upsert whatever runs beside it.
    """
    village_ids = sorted(set(village_ids))
    if not village_ids:
        return
    list(Village.objects.select_for_update(no_key=True).filter(id__in=village_ids).order_by("id").values_list("id"))
    key = ("village_id", "stage", "review", "outcome")
    rows = {
        tuple(r[k] for k in key): r
        for r in Case.objects.in_scope()
        .filter(campaign=campaign, village_id__in=village_ids)
        .values(*key)
        .annotate(households=Count("id"), **TALLY_SUMS)
        .order_by()
    }
    stale = VillageTally.objects.filter(campaign=campaign, village_id__in=village_ids).values_list(*key)
    zero = dict.fromkeys(["households", *TALLY_SUMS], 0)
    counts = {**dict.fromkeys(stale, zero), **rows}
    VillageTally.objects.bulk_create(
        [
            VillageTally(
                campaign=campaign,
                **dict(zip(key, k, strict=True)),
                households=c["households"],
                **{name: c[name] or 0 for name in TALLY_SUMS},
            )
            for k, c in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["campaign", *(k.removesuffix("_id") for k in key)],
        update_fields=["households", *TALLY_SUMS],
    )


def refresh_member_counts(household_ids) -> None:
    """Set the case rows' count of live members from the registry (one query)."""
    live = (
        Member.objects.filter(household=OuterRef("household"), status=Member.Status.PRESENT)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    cases = Case.objects.filter(household_id__in=household_ids)
    cases.update(live_members=Coalesce(Subquery(live), 0))
    touched: dict[int, set[int]] = {}
    for campaign_id, village_id in cases.values_list("campaign_id", "village_id").distinct():
        touched.setdefault(campaign_id, set()).add(village_id)
    for campaign in Campaign.objects.filter(pk__in=touched):
        retally(campaign, touched[campaign.pk])


def move_case(
    campaign: Campaign, household_id: int, stage: str, *, unless: tuple[str, ...] = (), also: dict | None = None
) -> None:
    """Move the household's case row to `stage` (not from a stage listed in `unless`); `also`:
    other fields of the row to set whatever its stage (say, what a corrected survey recorded)."""
    rows = Case.objects.filter(campaign=campaign, household_id=household_id)
    villages = list(rows.values_list("village_id", flat=True))
    moved = rows.exclude(stage__in=unless).update(stage=stage, updated_at=timezone.now())
    if also:
        rows.update(**also)
    if moved or also:
        retally(campaign, villages)


def follow_payments(household_ids) -> None:
    """The registry now pays these households differently: their case rows without a decision
    count the new amount as paid after the review (a decided row counts its decision's), and
    the tallies follow. Two queries, and a recount of the villages touched."""
    paid = Household.objects.filter(pk=OuterRef("household_id"), dibao_status=Household.DibaoStatus.ACTIVE)
    rows = Case.objects.filter(household_id__in=household_ids, decision__isnull=True)
    touched: dict[int, set[int]] = {}
    for campaign_id, village_id in rows.values_list("campaign_id", "village_id").distinct():
        touched.setdefault(campaign_id, set()).add(village_id)
    if not touched:
        return
    rows.update(amount_after=Coalesce(Subquery(paid.values("monthly_amount")[:1]), Value(Decimal("0"))))
    for campaign in Campaign.objects.filter(pk__in=touched):
        retally(campaign, touched[campaign.pk])


def _list_if_dibao(households) -> None:
    """Households in dibao while the campaign's visits are under way must be visited too; what
    the registry pays them is followed by their case rows (`follow_payments`)."""
    households = list(households)
    follow_payments([h.pk for h in households])
    # the campaign each household's town is running (one query)
    campaigns = Campaign.objects.current_by_village({h.village_id for h in households})
    for household in households:
        campaign = campaigns.get(household.village_id)
        if campaign is None or campaign.current_phase < Campaign.PhaseNumber.REVIEW:
            continue  # the list is drawn from the registry when phase 2 opens
        if household.dibao_status == Household.DibaoStatus.ACTIVE:
            ensure_case(campaign, household, Case.Source.DIBAO)
        else:
            # A household's village may change; its case row follows.
            moved = Case.objects.filter(campaign=campaign, household=household).exclude(village_id=household.village_id)
            old_villages = list(moved.values_list("village_id", flat=True))
            if moved.update(village_id=household.village_id):
                retally(campaign, [*old_villages, household.village_id])


@transaction.atomic
def create_household(*, actor, data: dict[str, Any], head: dict[str, Any], reason: str = "") -> Household:
    """Register a household with its head.

    1. Build and check the household; 2. derive and check the head's ID;
    3. save both; 4. record two audit events.
    """
    household = Household()
    _assign(household, data, HOUSEHOLD_FIELDS)
    _check_household(household)
    household.save()
    member = Member(household=household, relationship=Member.Relationship.HEAD)
    _assign(member, {**head, "relationship": Member.Relationship.HEAD}, MEMBER_FIELDS)
    _prepare_member(member, actor)
    _save_member(member)
    _list_if_dibao([household])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=household,
        after=audit.snapshot(household),
        household=household,
        reason=reason,
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=member,
        after=audit.snapshot(member),
        household=household,
        reason=reason,
    )
    refresh_member_counts([household.pk])
    return household


@transaction.atomic
def update_household(
    household: Household, *, actor, data: dict[str, Any], reason: str = "", version: int | None = None
) -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    check_version(household, version)
    with audit.tracking(household, actor=actor, household=household, reason=reason):
        _assign(household, data, HOUSEHOLD_FIELDS)
        _check_household(household)
        household.updated_at = timezone.now()
        household.save()
    _list_if_dibao([household])
    return household


@transaction.atomic
def add_member(household: Household, *, actor, data: dict[str, Any], joined_on: dt.date, reason: str) -> Member:
    """A new member (birth, marriage in, moving in), with the date and reason kept in history."""
    if not reason.strip():
        raise DomainError("请填写新增成员的原因。", field="reason")
    if joined_on > timezone.localdate():
        raise DomainError("变动日期不能晚于今天。", field="joined_on")
    if data.get("relationship") == Member.Relationship.HEAD and household.head() is not None:
        raise DomainError("该户已有户主；如需更换户主，请先修改原户主的关系。", field="relationship")
    member = Member(household=household)
    _assign(member, data, MEMBER_FIELDS)
    _prepare_member(member, actor)
    _save_member(member)
    after = audit.snapshot(member)
    after["status_changed_on"] = str(joined_on)
    audit.record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=member, after=after, household=household, reason=reason
    )
    refresh_member_counts([household.pk])
    return member


@transaction.atomic
def update_member(
    member: Member, *, actor, data: dict[str, Any], reason: str = "", version: int | None = None
) -> Member:
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    if not member.is_live:
        raise DomainError("该成员已不在户，不能修改其信息。")
    check_version(member, version)
    new_relationship = data.get("relationship", member.relationship)
    if new_relationship == Member.Relationship.HEAD and member.relationship != Member.Relationship.HEAD:
        current = member.household.head()
        if current is not None:
            raise DomainError(f"该户户主是{current.name}；请先修改原户主的关系。", field="relationship")
    with audit.tracking(member, actor=actor, household=member.household, reason=reason):
        _assign(member, data, MEMBER_FIELDS)
        _prepare_member(member, actor)
        _save_member(member)
    return member


@transaction.atomic
def change_member_status(
    member: Member, *, actor, status: str, on: dt.date, reason: str, new_head: Member | None = None
) -> Member:
    """A member leaves the household: moved out, died or married out.

    1. Check the date and reason; 2. if the head leaves while others stay, the
    chosen new head takes over; 3. record the change in the history.
    """
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    if not member.is_live:
        raise DomainError("该成员已不在户。")
    if status not in {Member.Status.MOVED_OUT, Member.Status.DIED, Member.Status.MARRIED_OUT}:
        raise DomainError("请选择变动类型。", field="status")
    if not reason.strip():
        raise DomainError("请填写变动原因。", field="reason")
    if on > timezone.localdate():
        raise DomainError("变动日期不能晚于今天。", field="on")
    if on < member.birth_date:
        raise DomainError("变动日期不能早于出生日期。", field="on")
    household = member.household
    others = [m for m in household.members.all() if m.is_live and m.pk != member.pk]
    head_leaves = member.relationship == Member.Relationship.HEAD and others
    if head_leaves and (new_head is None or new_head.pk not in {m.pk for m in others}):
        raise DomainError("户主变动后，请从在户成员中指定新户主。", field="new_head")
    check_version(member, None)
    with audit.tracking(member, actor=actor, action=AuditEvent.Action.STATUS, household=household, reason=reason):
        member.status = status
        member.status_changed_on = on
        member.status_reason = reason
        member.save()
    if member.relationship == Member.Relationship.HEAD and others:
        with audit.tracking(new_head, actor=actor, household=household, reason=f"原户主{member.name}{reason}"):
            new_head.relationship = Member.Relationship.HEAD
            new_head.save(update_fields=["relationship"])
    refresh_member_counts([household.pk])
    return member


ID_SEARCH_KINDS = {"full": "完整号码", "last4": "后4位", "fragment": "部分号码"}


def record_id_search(*, actor, kind: str) -> None:
    """Searching by ID number is recorded: who and how, never the digits searched for."""
    AuditEvent.objects.create(
        actor=actor,
        action=AuditEvent.Action.SEARCH_ID,
        model="cases.Household",
        object_id="",
        object_repr="花名册搜索",
        reason=f"按身份证号搜索（{ID_SEARCH_KINDS[kind]}）",
    )


@transaction.atomic
def reveal_id_numbers(household: Household, *, actor) -> None:
    """Viewing full ID numbers is itself a recorded event."""
    audit.record(
        actor=actor, action=AuditEvent.Action.VIEW_ID, obj=household, household=household, reason="查看完整身份证号"
    )


@transaction.atomic
def update_campaign(
    campaign: Campaign,
    *,
    actor,
    data: dict[str, Any],
    phase_dates: dict[int, tuple[dt.date, dt.date]] | None = None,
    reason: str = "",
    version: int | None = None,
) -> Campaign:
    """Change the campaign's settings and phase dates together, or not at all.

    1. Apply and check the settings; 2. apply the phase dates in order, each
    starting no earlier than the previous one ends; 3. record every change.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_version(campaign, version)
    with audit.tracking(campaign, actor=actor, campaign=campaign, reason=reason):
        _assign(campaign, data, CAMPAIGN_FIELDS)
        if campaign.village_report_deadline > campaign.county_report_deadline:
            raise DomainError("村级上报截止日不能晚于报县截止日。", field="village_report_deadline")
        campaign.save()
    previous_end = None
    for phase in Phase.objects.select_for_update().filter(campaign=campaign).order_by("number"):
        start, end = (phase_dates or {}).get(phase.number, (phase.starts_on, phase.ends_on))
        if start > end:
            raise DomainError(f"{phase.name}的开始日期晚于结束日期。")
        if previous_end and start < previous_end:
            raise DomainError(f"{phase.name}不能早于上一阶段结束前开始。")
        previous_end = end
        with audit.tracking(phase, actor=actor, campaign=campaign, reason=reason):
            phase.starts_on, phase.ends_on = start, end
            phase.save()
    return campaign


def _import_one(obj, data: dict[str, Any], fields: list[str], *, actor, household, reason: str, batch):
    """Create or update one object of an import; its audit event, or None when nothing changed."""
    created = obj.pk is None
    before = {} if created else audit.snapshot(obj)
    _assign(obj, data, fields)
    if isinstance(obj, Member):
        obj.derive_from_id()
    elif not created:
        obj.updated_at = timezone.now()
    event = audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=obj,
        before=before,
        after=audit.snapshot(obj),
        household=household,
        reason=reason,
        batch=batch,
        save=False,
    )
    if event:
        if not created:
            check_version(obj, None)
        obj.save()
    return event


def lock_registry_tallies(village_ids) -> None:
    """Lock the registry counts of these villages, in id order, before adding households to them.

    A trigger adds each new household to its village's count (RegistryTally), locking that row
    until the transaction ends; a transaction adding households to several villages takes the
    locks first and in one order, so that two of them never wait on each other crosswise."""
    village_ids = sorted(set(village_ids))
    if not village_ids:
        return
    RegistryTally.objects.bulk_create(
        [RegistryTally(village_id=v, households=0) for v in village_ids], ignore_conflicts=True
    )
    list(
        RegistryTally.objects.select_for_update()
        .filter(village_id__in=village_ids)
        .order_by("village_id")
        .values_list("village_id")
    )


@transaction.atomic
def import_roll(check, *, actor, filename: str) -> dict[str, int]:
    """Save a checked roll: households matched by the head's ID, members by ID.

    1. Refuse a check with errors; 2. per household, create it or update the
    changed fields; 3. per member, create or update; 4. every change is an audit
    event sharing one batch id. Unchanged rows write nothing, so importing the
    same file twice changes nothing the second time.
    """
    if not check.ok:
        raise DomainError("文件中有错误，未导入任何数据。")
    batch = uuid.uuid4()
    reason = f"导入花名册：{filename}"[:300]
    counts = {"households_created": 0, "households_updated": 0, "members_created": 0, "members_updated": 0}
    ids = [m.data["id_number"] for p in check.households for m in p.members]
    existing = {
        m.id_number: m
        for m in Member.objects.select_for_update()
        .filter(id_number__in=ids, status=Member.Status.PRESENT)
        .select_related("household")
    }
    # the town's villages: a roll only ever updates households of the town it is for
    town_villages = {p.data["village"].pk for p in check.households if p.data.get("village")}
    if town_villages:
        town_villages = set(Village.objects.filter(town__villages__in=town_villages).values_list("pk", flat=True))
    lock_registry_tallies(
        p.data["village"].pk for p in check.households if p.head_id not in existing and p.data.get("village")
    )
    events = []
    try:
        for plan in check.households:
            head = existing.get(plan.head_id)
            household = head.household if head else Household()
            if head and household.village_id not in town_villages:
                raise DomainError("文件中有其他乡镇已登记的家庭，未导入任何数据。")
            event = _import_one(
                household, plan.data, HOUSEHOLD_FIELDS, actor=actor, household=household, reason=reason, batch=batch
            )
            if event:
                counts["households_updated" if head else "households_created"] += 1
                events.append(event)
            # Heads first, so that a changed head never meets the old one.
            for planned in sorted(plan.members, key=lambda p: p.data["relationship"] != Member.Relationship.HEAD):
                member = existing.get(planned.data["id_number"])
                event = _import_one(
                    member or Member(household=household),
                    planned.data,
                    MEMBER_FIELDS,
                    actor=actor,
                    household=household,
                    reason=reason,
                    batch=batch,
                )
                if event:
                    counts["members_updated" if member else "members_created"] += 1
                    events.append(event)
            if (
                household.members.filter(status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD).count()
                != 1
            ):
                raise DomainError(f"第{plan.rows[0]}行所在的户导入后户主不唯一，请核对“与户主关系”。")
    except IntegrityError as exc:
        raise DomainError("导入时发现身份证号或户主冲突，未导入任何数据。") from exc
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    touched = {e.household_id for e in events if e.household_id}
    _list_if_dibao(Household.objects.filter(pk__in=touched))
    refresh_member_counts(touched)
    if counts["households_created"] + counts["members_created"] >= ANALYZE_AFTER_ROWS:
        # robust: the roll is saved whatever becomes of the statistics
        transaction.on_commit(_analyze_registry, robust=True)
    return counts


# A roll that adds this many rows has the planner's statistics read anew when it is saved: until
# autovacuum gets to the tables, the searches would be planned for the registry before it (one
# name search planned so on PostgreSQL ran for minutes instead of milliseconds).
ANALYZE_AFTER_ROWS = 1000


def _analyze_registry() -> None:
    with connection.cursor() as cursor:
        for model in (Household, Member, Case):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- accounts -----------------------------------------------------------------------

# Letters and digits that cannot be misread when a password is read out or copied by hand.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _temporary_password() -> str:
    return "".join(secrets.choice(READABLE_CHARACTERS) for _ in range(10))


def manageable_roles(actor) -> set[str]:
    """Whose accounts the actor may create and manage: the town office its village cadres and
    work groups; the administrator everyone's."""
    role = roles.role_of(actor)
    if role == roles.Role.ADMIN:
        return set(roles.Role.values)
    if role == roles.Role.TOWN:
        return {roles.Role.VILLAGE, roles.Role.WORK_GROUP}
    return set()


def managed_profiles(actor):
    """The accounts the actor manages: the town office its own town's cadres and work groups;
    the administrator every account."""
    profiles = Profile.objects.filter(role__in=manageable_roles(actor))
    if roles.role_of(actor) in roles.TOWN_BOUND:
        profiles = profiles.filter(town_id=roles.town_scope(actor))
    return profiles


def _check_manageable(actor, role: str) -> None:
    if role not in manageable_roles(actor):
        raise DomainError("您不能管理该角色的账号。")


@transaction.atomic
def create_account(*, actor, username: str, display_name: str, role: str, town=None, village=None, work_group=None):
    """Create a person's account bound to its area, with a temporary password they must change.

    1. Only roles the actor manages; 2. a village cadre needs a village, a work group
    member a work group, and every town-bound role its town (`town`: the town the actor works
    in; a village or work group must be of it); 3. the username is free; 4. recorded. Returns
    the user and the temporary password, which is shown once and stored only as a hash.
    """
    _check_manageable(actor, role)
    username = username.strip()
    if role == roles.Role.VILLAGE and village is None:
        raise DomainError("村干部账号须指定所在村（社区）。", field="village")
    if role == roles.Role.WORK_GROUP and work_group is None:
        raise DomainError("工作组账号须指定工作组。", field="work_group")
    bound = role in roles.TOWN_BOUND
    town_id = town.pk if town is not None else roles.town_scope(actor)
    if bound and town_id is None:
        raise DomainError("请先选择该账号所属的乡镇。", field="role")
    if role == roles.Role.VILLAGE and village.town_id != town_id:
        raise DomainError("所选村（社区）不属于本镇。", field="village")
    if role == roles.Role.WORK_GROUP and work_group.campaign.town_id != town_id:
        raise DomainError("所选工作组不属于本镇。", field="work_group")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise DomainError("该登录名已被使用。", field="username")
    password = _temporary_password()
    user = user_model.objects.create_user(username=username, password=password)
    profile = Profile.objects.create(
        user=user,
        role=role,
        display_name=display_name.strip(),
        town_id=town_id if bound else None,
        village=village if role == roles.Role.VILLAGE else None,
        work_group=work_group if role == roles.Role.WORK_GROUP else None,
        must_change_password=True,
    )
    audit.record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=profile, after=audit.snapshot(profile), reason="新建账号"
    )
    return user, password


def _managed_profile(user, actor) -> Profile:
    profile = Profile.objects.select_for_update().select_related("user").filter(user=user).first()
    if profile is None:
        raise DomainError("该账号没有角色，请在管理后台处理。")
    _check_manageable(actor, profile.role)
    if roles.role_of(actor) in roles.TOWN_BOUND and profile.town_id != roles.town_scope(actor):
        raise DomainError("您不能管理其他乡镇的账号。")
    if user.pk == actor.pk:
        raise DomainError("不能在此修改自己的账号；请使用“修改密码”。")
    return profile


@transaction.atomic
def reset_password(user, *, actor) -> str:
    """A new temporary password the person must change at the next sign-in; recorded, never stored in clear."""
    profile = _managed_profile(user, actor)
    password = _temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    profile.must_change_password = True
    profile.save(update_fields=["must_change_password"])
    # recorded every time, also when the account still had to change its password
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=profile,
        after={"密码": "已重置（临时密码）"},
        reason="重置密码",
    )
    return password


@transaction.atomic
def set_account_active(user, *, actor, active: bool, reason: str) -> None:
    """Deactivate (or reactivate) an account, with the reason; its history stays."""
    profile = _managed_profile(user, actor)
    if not reason.strip():
        raise DomainError("请填写原因。", field="reason")
    before = {"is_active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=profile,
        before=before,
        after={"is_active": active},
        reason=("启用账号：" if active else "停用账号：") + reason.strip(),
    )


@transaction.atomic
def password_changed(user) -> None:
    """The person chose their own password: the forced change is done."""
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is not None and profile.must_change_password:
        with audit.tracking(profile, actor=user, reason="本人修改密码"):
            profile.must_change_password = False
            profile.save(update_fields=["must_change_password"])


def lock_account(username: str) -> None:
    """Hold the account's row until the transaction ends, so that concurrent password
    attempts for one account are checked one after another: each sees the failures
    recorded before it, and the sixth wrong password is refused even when all arrive at once."""
    get_user_model().objects.select_for_update().filter(username=username).values_list("pk", flat=True).first()


def confirm_identity(request, user, password: str) -> None:
    """A person proves who they are by typing their password on someone else's device.

    Goes through the same sign-in throttle as the login page (django-axes, shared by
    every worker): a locked account is refused before its password is even checked.
    """
    if not password:
        raise DomainError(f"请{user.get_username()}输入本人密码。", field="password")
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.must_change_password:
        # a password someone else set (a new account, a reset) proves nothing about the person
        raise DomainError(f"{user.get_username()}须先本人登录并修改密码，才能签字。", field="password")
    with transaction.atomic():
        lock_account(user.get_username())
        confirmed = authenticate(request, username=user.get_username(), password=password)
    if getattr(request, "axes_locked_out", False):
        # Answered here, beside the signature, instead of by the lockout page.
        request.axes_locked_out = False
        raise DomainError(
            f"{user.get_username()}的账号或本设备的密码错误次数过多，已暂时锁定"
            f"{settings.AXES_COOLOFF_TIME.seconds // 60}分钟；请稍后再试，或由本人登录签字。",
            field="password",
        )
    if confirmed is None or confirmed.pk != user.pk:
        raise DomainError(f"{user.get_username()}的密码不正确，未签字。", field="password")
