"""A deterministic synthetic 泥汊镇: the demo town, the test town and the bench data.

Everything is fictional except the campaign's own text (document number, phases,
leadership group names from the source document). Standards are labelled as
example figures. The same seed always gives the same town.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import assistance, complaints, roles
from .idnumber import make_id
from .models import (
    AuditEvent,
    Campaign,
    Household,
    LeadershipMember,
    Member,
    Phase,
    Profile,
    Town,
    Village,
    VillagerGroup,
    WorkGroup,
    WorkGroupMember,
)

DEMO_PASSWORD = "dibao2019"  # noqa: S105 - the published demo password; the command refuses DEBUG off
AREA_CODE = "340225"
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo_town.json"
# The day the synthetic registry describes (ages and dates are relative to it).
REFERENCE_DAY = dt.date(2019, 10, 21)


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@dataclass
class DemoLogin:
    username: str
    role: str
    scope: str


def demo_logins(campaign: Campaign) -> list[DemoLogin]:
    rows = []
    profiles = Profile.objects.select_related("user", "village", "work_group").order_by("user__username")
    for p in profiles:
        if p.village:
            scope = p.village.name
        elif p.work_group:
            scope = p.work_group.name
        else:
            scope = roles.AREAS[p.role]
        rows.append(DemoLogin(p.user.username, p.get_role_display(), scope))
    return rows


@transaction.atomic
def build_town(*, password: str = DEMO_PASSWORD) -> Campaign:
    """Town, villages, groups, the 2019 campaign, its leadership and work groups, and the demo users."""
    data = load_fixture()
    town = Town.objects.create(**data["town"])
    villages = Village.objects.bulk_create(
        [
            Village(town=town, code=f"{town.code}{i:03d}", name=v["name"], kind=v["kind"], order=i)
            for i, v in enumerate(data["villages"], start=1)
        ]
    )
    VillagerGroup.objects.bulk_create(
        [
            VillagerGroup(village=village, number=n, name=f"第{n}组")
            for village, v in zip(villages, data["villages"], strict=True)
            for n in range(1, v["groups"] + 1)
        ]
    )
    c = data["campaign"]
    campaign = Campaign.objects.create(
        town=town,
        name=c["name"],
        document_number=c["document_number"],
        current_phase=c["current_phase"],
        village_report_deadline=dt.date.fromisoformat(c["village_report_deadline"]),
        county_report_deadline=dt.date.fromisoformat(c["county_report_deadline"]),
        urban_standard=Decimal(c["urban_standard"]),
        rural_standard=Decimal(c["rural_standard"]),
        standards_note=c["standards_note"],
    )
    Phase.objects.bulk_create(
        [
            Phase(
                campaign=campaign,
                number=p["number"],
                name=p["name"],
                description=p["description"],
                starts_on=dt.date.fromisoformat(p["starts_on"]),
                ends_on=dt.date.fromisoformat(p["ends_on"]),
            )
            for p in c["phases"]
        ]
    )

    User = get_user_model()
    hashed = make_password(password)
    lead = data["leadership"]
    specs = [
        ("admin", "系统管理员", Profile.Role.ADMIN, None, None),
        ("town", lead["office_director"], Profile.Role.TOWN, None, None),
        ("leader", lead["head"][0], Profile.Role.LEADERSHIP, None, None),
        ("county", "县民政局督查组", Profile.Role.COUNTY, None, None),
        # a county spot-check is signed by two: the second county officer
        ("county2", "县民政局督查组（二）", Profile.Role.COUNTY, None, None),
    ]
    work_groups = []
    for i, village in enumerate(villages, start=1):
        wg = WorkGroup.objects.create(campaign=campaign, number=i, name=f"第{i}工作组（{village.name}）")
        wg.villages.add(village)
        work_groups.append(wg)
        specs.append((f"cadre{i:02d}", f"{village.name}经办人", Profile.Role.VILLAGE, village, None))
        specs.append((f"group{i:02d}", data["work_group_cadres"][i - 1], Profile.Role.WORK_GROUP, None, wg))
    users = User.objects.bulk_create(
        [User(username=u, password=hashed, is_staff=(u == "admin"), is_superuser=(u == "admin")) for u, *_ in specs]
    )
    Profile.objects.bulk_create(
        [
            Profile(
                user=user,
                display_name=name,
                role=role,
                town=None if role in {Profile.Role.COUNTY, Profile.Role.ADMIN} else campaign.town,
                village=village,
                work_group=wg,
            )
            for user, (_, name, role, village, wg) in zip(users, specs, strict=True)
        ]
    )
    by_name = {name: user for user, (_, name, *_rest) in zip(users, specs, strict=True)}

    leaders = [
        LeadershipMember(campaign=campaign, name=n, role=LeadershipMember.Role.HEAD, order=0, user=by_name.get(n))
        for n in lead["head"]
    ]
    leaders += [
        LeadershipMember(campaign=campaign, name=n, role=LeadershipMember.Role.DEPUTY, order=i)
        for i, n in enumerate(lead["deputy"], start=1)
    ]
    for i, n in enumerate(lead["member"], start=20):
        office = ""
        if n == lead["office_director"]:
            office = LeadershipMember.OfficeRole.DIRECTOR
        elif n in lead["office_staff"]:
            office = LeadershipMember.OfficeRole.STAFF
        leaders.append(
            LeadershipMember(
                campaign=campaign,
                name=n,
                role=LeadershipMember.Role.MEMBER,
                order=i,
                office_role=office,
                user=by_name.get(n),
            )
        )
    LeadershipMember.objects.bulk_create(leaders)
    members = []
    for wg, cadre, secretary in zip(work_groups, data["work_group_cadres"], data["village_secretaries"], strict=True):
        members += [
            WorkGroupMember(
                work_group=wg,
                name=cadre,
                role=WorkGroupMember.Role.LEADER,
                position="分工干部",
                user=by_name.get(cadre),
            ),
            WorkGroupMember(work_group=wg, name=secretary, role=WorkGroupMember.Role.LEADER, position="村书记"),
            WorkGroupMember(
                work_group=wg, name=f"{secretary[0]}委员", role=WorkGroupMember.Role.MEMBER, position="村两委干部"
            ),
        ]
    WorkGroupMember.objects.bulk_create(members)
    AuditEvent.objects.create(
        action=AuditEvent.Action.GENERATE,
        model=Campaign._meta.label,
        object_id=str(campaign.public_id),
        object_repr=str(campaign),
        campaign=campaign,
        reason="生成演示镇",
    )
    return campaign


class _People:
    """Deterministic fictional names and unique synthetic ID numbers."""

    def __init__(self, rng: random.Random, data: dict):
        self.rng = rng
        self.surnames = data["surnames"]
        self.male = data["given_male"]
        self.female = data["given_female"]
        self.used: set[tuple[dt.date, int]] = set()

    def name(self, sex: str, surname: str | None = None) -> str:
        given = self.rng.choice(self.male if sex == "M" else self.female)
        return (surname or self.rng.choice(self.surnames)) + given

    def id_number(self, birth: dt.date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(1, 999)
            if (seq % 2 == 1) != (sex == "M"):
                seq = seq + 1 if seq < 998 else seq - 1
            if (birth, seq) not in self.used:
                self.used.add((birth, seq))
                return make_id(AREA_CODE, birth, seq)

    def birth(self, age_low: int, age_high: int) -> dt.date:
        age = self.rng.randint(age_low, age_high)
        return REFERENCE_DAY - dt.timedelta(days=age * 365 + self.rng.randrange(0, 365))


def _health(rng: random.Random, age: int) -> dict:
    """Realistic shares: more illness and disability with age."""
    roll = rng.random()
    ill_share = 0.15 if age < 60 else 0.35
    disabled_share = 0.10 if age < 60 else 0.14
    if roll < disabled_share:
        kind = rng.choice([c for c in Member.Disability.values if c])
        grade = rng.choice([1, 2, 2, 3, 3, 4])
        return {
            "health": Member.Health.DISABLED,
            "disability_type": kind,
            "disability_grade": grade,
            "disability_certificate": f"34022{rng.randrange(10**8, 10**9)}",
            "work_ability": Member.WorkAbility.LOST if grade <= 2 else Member.WorkAbility.WEAK,
        }
    if roll < disabled_share + ill_share:
        serious = rng.random() < 0.35
        return {
            "health": Member.Health.SERIOUS if serious else Member.Health.CHRONIC,
            "work_ability": Member.WorkAbility.LOST if serious else Member.WorkAbility.WEAK,
        }
    if age >= 70:
        return {"health": Member.Health.HEALTHY, "work_ability": Member.WorkAbility.NONE}
    return {"health": Member.Health.HEALTHY, "work_ability": Member.WorkAbility.NORMAL}


def generate_households(campaign: Campaign, total: int, *, seed: int = 2019, batch_size: int = 4000) -> int:
    """Add `total` households (3 dibao : 1 non-dibao hardship) with 2–4 members each.

    Built in memory and written with bulk inserts so that the county-size set
    (80,000 households, about 240,000 members) takes seconds, not hours.
    Each household gets one audit event that says it was generated.
    """
    rng = random.Random(seed)
    people = _People(rng, load_fixture())
    villages = list(Village.objects.filter(town=campaign.town).order_by("order"))
    groups: dict[int, list[VillagerGroup]] = {}
    for g in VillagerGroup.objects.filter(village__in=villages):
        groups.setdefault(g.village_id, []).append(g)
    existing = set(Member.objects.filter(status=Member.Status.PRESENT).values_list("id_number", flat=True))
    made = 0
    while made < total:
        size = min(batch_size, total - made)
        with transaction.atomic():
            _generate_batch(campaign, rng, people, villages, groups, existing, size, start=made)
        made += size
    return made


def _generate_batch(campaign, rng, people, villages, groups, existing, count, *, start):
    households, member_lists = [], []
    for i in range(start, start + count):
        village = villages[i % len(villages)]
        urban = village.kind == Village.Kind.URBAN
        dibao = i % 4 != 3
        size = rng.choices([2, 3, 4], weights=[45, 33, 22])[0]
        h = Household(
            public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            village=village,
            group=rng.choice(groups[village.id]),
            address=f"{village.name}{rng.randint(1, 120)}号",
            hukou_type=Household.HukouType.URBAN if urban else Household.HukouType.RURAL,
            phone=f"139{rng.randrange(10**7, 10**8)}",
        )
        if dibao:
            h.dibao_status = Household.DibaoStatus.ACTIVE
            h.covered_persons = size if rng.random() < 0.8 else 1
            standard = campaign.standard_for(h.hukou_type)
            h.monthly_amount = (
                standard * Decimal(rng.choice(["0.3", "0.4", "0.5", "0.6"])) * h.covered_persons
            ).quantize(Decimal("1"))
            h.dibao_class = rng.choice(["一类", "二类", "三类"])
            h.dibao_since = dt.date(rng.randint(2008, 2019), rng.randint(1, 12), 1)
            h.bank_name = "无为农商银行"
            h.bank_account = f"6229{rng.randrange(10**11, 10**12)}"
        else:
            kind = rng.random()
            if kind < 0.45:
                h.poverty_status = Household.PovertyStatus.NOT_LIFTED
            elif kind < 0.8:
                h.is_edge = True
            else:
                h.is_other_hardship = True
        h.is_tekun = dibao and rng.random() < 0.04
        households.append(h)
        member_lists.append(_family(rng, people, size, existing))
    Household.objects.bulk_create(households)
    for h, family in zip(households, member_lists, strict=True):
        for m in family:
            m.household = h
    Member.objects.bulk_create([m for family in member_lists for m in family])
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=AuditEvent.Action.GENERATE,
                model=Household._meta.label,
                object_id=str(h.public_id),
                object_repr=str(h)[:200],
                household=h,
                campaign=campaign,
                reason="生成演示数据",
                changes={"成员人数": [None, len(family)]},
            )
            for h, family in zip(households, member_lists, strict=True)
        ]
    )


def _family(rng, people: _People, size: int, existing: set[str]) -> list[Member]:
    elderly = rng.random() < 0.35
    head_sex = "M" if rng.random() < 0.7 else "F"
    head_birth = people.birth(60, 88) if elderly else people.birth(28, 59)
    surname = rng.choice(people.surnames)
    plan = [(Member.Relationship.HEAD, head_sex, head_birth)]
    if size >= 2:
        spouse_birth = head_birth + dt.timedelta(days=rng.randint(-1500, 1500))
        plan.append((Member.Relationship.SPOUSE, "F" if head_sex == "M" else "M", min(spouse_birth, REFERENCE_DAY)))
    for _ in range(size - len(plan)):
        sex = rng.choice("MF")
        rel = Member.Relationship.SON if sex == "M" else Member.Relationship.DAUGHTER
        child_birth = head_birth + dt.timedelta(days=rng.randint(20 * 365, 35 * 365))
        if child_birth >= REFERENCE_DAY:
            child_birth = REFERENCE_DAY - dt.timedelta(days=rng.randint(200, 3000))
        plan.append((rel, sex, child_birth))
    family = []
    for rel, sex, birth in plan:
        number = people.id_number(birth, sex)
        while number in existing:
            number = people.id_number(birth, sex)
        existing.add(number)
        age = (REFERENCE_DAY - birth).days // 365
        is_child = age < 18
        member = Member(
            name=people.name(
                sex,
                surname
                if rel in {Member.Relationship.SON, Member.Relationship.DAUGHTER} or rel == Member.Relationship.HEAD
                else None,
            ),
            id_number=number,
            id_reversed=number[::-1],
            relationship=rel,
            sex=sex,
            birth_date=birth,
            marital_status=Member.Marital.UNMARRIED
            if is_child
            else (Member.Marital.WIDOWED if (size == 1 and age > 60) else Member.Marital.MARRIED),
            education=Member.Education.PRESCHOOL
            if age < 6
            else rng.choice(
                [Member.Education.NONE, Member.Education.PRIMARY, Member.Education.JUNIOR, Member.Education.SENIOR]
            ),
            is_student=6 <= age < 22 and is_child,
            employment=(
                Member.Employment.PRESCHOOL
                if age < 6
                else Member.Employment.STUDENT
                if is_child
                else Member.Employment.RETIRED
                if age >= 60
                else rng.choice([Member.Employment.FARMING, Member.Employment.FLEXIBLE, Member.Employment.UNEMPLOYED])
            ),
            is_cadre_relative=rng.random() < 0.01,
            **(_health(rng, age) if not is_child else {"work_ability": Member.WorkAbility.NONE}),
        )
        member.name_reversed = member.name[::-1]  # written in bulk: save() does not run
        family.append(member)
    return family


def generate_assistance(campaign: Campaign, *, seed: int = 2019) -> dict[str, int]:
    """Green-channel applications, temporary aid and complaints in each of their states, made
    through the services by the demo's own users (village cadres, the town office, the county),
    dated relative to today so that some are overdue. Needs generated households; households
    already in the green channel are left out, so it may be run again. Returns what was made.
    """
    rng = random.Random(seed)
    today = timezone.localdate()

    def ago(n: int) -> dt.date:
        return today - dt.timedelta(days=n)

    users = {p.role: p.user for p in Profile.objects.filter(role__in=["town", "county"]).select_related("user")}
    town, county = users[Profile.Role.TOWN], users[Profile.Role.COUNTY]
    cadres = {p.village_id: p.user for p in Profile.objects.filter(role=Profile.Role.VILLAGE).select_related("user")}
    severe = Member.objects.filter(status=Member.Status.PRESENT).filter(
        Q(health=Member.Health.SERIOUS) | Q(health=Member.Health.DISABLED, disability_grade__lte=2)
    )
    candidates = list(
        Household.objects.filter(village__town=campaign.town, dibao_status=Household.DibaoStatus.NONE)
        .filter(id__in=severe.values("household_id"))
        .exclude(green_channels__campaign=campaign)
        .select_related("village")
        .order_by("id")[:40]
    )
    rng.shuffle(candidates)
    made = {"green": 0, "aid": 0, "complaints": 0}

    # the green channel: (accepted days ago, documents missing, due in days, what happens next)
    plans = [
        (3, "残疾证复印件\n近三个月住院病历", 12, None),
        (30, "住院病历", -3, None),  # documents overdue
        (40, "收入证明", -10, "lapse"),
        (5, "", None, None),  # complete, waiting for the county
        (15, "户口簿复印件", 10, "approve:10"),  # approved, review owed
        (50, "", None, "approve:40"),  # approved, review overdue
        (60, "诊断证明", 30, "approve:45,review"),
    ]
    for household, (accepted, missing, due, then) in zip(candidates, plans, strict=False):
        member = severe.filter(household=household).first()
        green = assistance.accept_green(
            campaign,
            household,
            actor=cadres.get(household.village_id, town),
            member=member,
            ground="illness" if member.health == Member.Health.SERIOUS else "disability",
            accepted_on=ago(accepted),
            commitment_on=ago(accepted),
            consent_on=ago(accepted + 1),
            consent_note="经村委会研究，同意容缺受理",
            missing_documents=missing,
            documents_due=ago(-due) if due is not None else None,
        )
        made["green"] += 1
        if then == "lapse":
            assistance.lapse_green(green, actor=town, reason="逾期未补交收入证明，已告知申请人可重新申请")
        elif then and then.startswith("approve"):
            days_ago = int(then.split(":")[1].split(",")[0])
            if missing:
                assistance.receive_documents(green, actor=town, received_on=ago(days_ago + 1))
            persons = household.members.filter(status=Member.Status.PRESENT).count()
            standard = campaign.standard_for(household.hukou_type)
            assistance.approve_green(
                green,
                actor=county,
                approved_on=ago(days_ago),
                covered_persons=persons,
                monthly_amount=(standard * Decimal("0.5") * persons).quantize(Decimal("1")),
            )
            if then.endswith("review"):
                assistance.record_green_review(
                    green, actor=cadres.get(household.village_id, town), review_on=ago(5), attendance=27,
                    result="passed", note="村民代表一致同意",
                )  # fmt: skip

    # temporary assistance
    villages = list(Village.objects.filter(town=campaign.town).order_by("order"))
    people = list(
        Member.objects.filter(household__village__in=villages, status=Member.Status.PRESENT, relationship="02")
        .select_related("household__village")
        .order_by("id")[:200]
    )
    picks = rng.sample(people, min(10, len(people)))

    def cadre_of(member):
        return cadres.get(member.household.village_id, town)

    def spending(member, amount):
        return assistance.apply_aid(
            campaign, actor=cadre_of(member), person=member.name, household=member.household,
            reason=rng.choice(["突发重病住院，自付医疗费用高", "子女上学费用负担重", "家庭主要劳动力意外受伤"]),
            amount=Decimal(amount), referral=rng.choice(["", "医疗救助", "慈善援助"]),
        )  # fmt: skip

    steps = [
        ("emergency_village", "400"),
        ("emergency_town", "2000"),
        ("village", "1500"),
        ("town", "2500"),
        ("approved_part_paid", "2000"),
        ("county", "6000"),
        ("county_paid", "8000"),
        ("refused", "1200"),
    ]
    for member, (state, amount) in zip(picks, steps, strict=False):
        made["aid"] += 1
        if state.startswith("emergency"):
            by_town = state == "emergency_town"
            assistance.record_emergency(
                campaign, actor=town if by_town else cadre_of(member), person=member.name,
                household=member.household, reason="房屋失火，生活用品被毁" if by_town else "暴雨致房屋漏雨倒塌",
                amount=Decimal(amount), handler="镇社会事务办" if by_town else f"{member.household.village.name}经办人",
                helped_on=ago(rng.randint(1, 10)),
            )  # fmt: skip
            continue
        aid = spending(member, amount)
        if state == "village":
            continue
        assistance.review_in_village(aid, actor=cadre_of(member), agree=True, note="经入户核实，情况属实")
        if state == "town":
            continue
        if state == "refused":
            assistance.decide_aid(aid, actor=town, approve=False, note="已纳入医疗救助，不重复救助")
            continue
        assistance.decide_aid(aid, actor=town, approve=True, amount=Decimal(amount))
        if state == "approved_part_paid":
            assistance.pay_aid(aid, actor=town, paid_on=ago(2), amount=Decimal("1000"))
            continue
        if state == "county_paid":
            assistance.decide_aid(aid, actor=county, approve=True, amount=Decimal(amount))
            assistance.pay_aid(aid, actor=town, paid_on=ago(6), amount=Decimal("5000"))
            assistance.pay_aid(aid, actor=town, paid_on=ago(1), amount=Decimal("3000"))
    awaiting = assistance.decisions_awaiting_aid(campaign).select_related("case__household").first()
    if awaiting is not None:  # one town decision carried out; any others stay offered on the list
        head = awaiting.case.household.head()
        assistance.apply_aid(
            campaign, actor=town, person=head.name if head else "受助人", household=awaiting.case.household,
            reason="镇级决定给予临时救助", amount=Decimal("1000"), decision=awaiting,
        )  # fmt: skip
        made["aid"] += 1

    # complaints
    named = rng.sample(people, min(4, len(people)))

    def complaint(received, **fields):
        made["complaints"] += 1
        return complaints.record_complaint(
            campaign, actor=town, channel=fields.pop("channel", "phone"), received_on=ago(received),
            handler=town, **fields,
        )  # fmt: skip

    about = {"subject": "household", "content": "反映该户家中有小轿车，子女在外经商，不符合低保条件"}
    if named:
        complaint(2, anonymous=False, reporter="群众甲", contact="13900000001", household=named[0].household, **about)
    if len(named) > 1:
        c = complaint(
            6, anonymous=True, subject="person", subject_name=named[1].name, household=named[1].household,
            content="反映其长期在外务工收入较高", channel="letter",
        )  # fmt: skip
        complaints.add_note(c, actor=town, text="已调取务工信息，正在核实。")
    if len(named) > 2:
        c = complaint(
            10, anonymous=False, reporter="群众乙", contact="13900000002", household=named[2].household, **about
        )
        complaints.add_note(c, actor=town, text="入户核查：确有小轿车一辆，登记在户主儿子名下。")
        complaints.conclude(c, actor=town, finding="true", result="举报属实，镇级决定清退，报县审批。")
    if len(named) > 3:
        c = complaint(
            14, anonymous=False, reporter="群众丙", contact="13900000003", household=named[3].household, **about
        )
        complaints.add_note(c, actor=town, text="入户核查：车辆为残疾人代步车，不属财产限制。")
        complaints.conclude(c, actor=town, finding="false", result="举报不属实，维持原保障。")
        complaints.record_reply(c, actor=town, replied_on=ago(3), reply_channel="phone", reply="已电话告知核查结果。")
        complaints.close(c, actor=town)
    complaint(
        20, anonymous=True, subject="cadre", subject_name="某村干部", village=villages[0], due_on=ago(5),
        content="反映村干部优亲厚友，为亲属违规办理低保", channel="online",
    )  # fmt: skip
    c = complaint(9, anonymous=True, subject="cadre", subject_name="某经办人", content="反映经办人态度生硬")
    complaints.add_note(c, actor=town, text="约谈经办人，了解情况。")
    complaints.conclude(c, actor=town, finding="partly", result="部分属实，已批评教育。")
    complaints.close(c, actor=town)
    return made
