"""Services of the re-visits (核查) of sampled households, phase 3 (the town) and 4 (the county).

A verifier records what they find on the key fields; the page shows the village survey
beside it; two verifiers sign the content they were shown; on submission every field that
differs from the village survey is kept as a Difference, each of which gets a verdict that
counts against the village survey's signing investigators (谁调查、谁签字、谁负责).
Each function is atomic, checks the phase, writes the audit record and raises DomainError.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import audit, roles
from cases import services as registry
from cases.models import AuditEvent, Campaign, Case
from cases.services import DomainError

from .eligibility import INCOME_CATEGORIES, REFUSING_VEHICLES, Person, Result, Vehicle, assess
from .models import (
    Difference,
    Revisit,
    RevisitMember,
    RevisitSignature,
    Sample,
    SampleEntry,
    Survey,
    SurveySignature,
)
from .services import facts_from, input_from, rules_for, sample_phase_gate

REVISIT_FIELDS = [
    "visit_date",
    "covered_persons",
    "financial_assets",
    "refusing_vehicle",
    "registered_business",
    "employs_others",
    "shop_fronts",
    "main_cause",
    "recommendation",
    "findings",
]
# Fields whose difference changes who is eligible or how much is paid: they decide the
# "material difference" the sample's estimate counts.
MATERIAL = {
    "covered_persons",
    "financial_assets",
    "refusing_vehicle",
    "registered_business",
    "employs_others",
    "shop_fronts",
    "recommendation",
}
# Verdicts that accuse someone: they need a written note.
ACCUSING = {Difference.Verdict.HOUSEHOLD, Difference.Verdict.INVESTIGATOR}


@dataclass
class RevisitMemberInput:
    survey_member_id: int
    present: bool
    counted: bool
    incomes: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class RevisitInput:
    header: dict[str, Any]
    members: list[RevisitMemberInput]


VERIFIER_ROLES = {
    # the town office's staff and the work groups' members (whom the office assigns)
    "town": [roles.Role.TOWN, roles.Role.WORK_GROUP],
    # the county's officers, with town office staff accompanying them (at least one county officer)
    "county": [roles.Role.COUNTY, roles.Role.TOWN],
}


def verifier_candidates(level: str, town: int):
    """Who may re-visit for the town (phase 3) or the county (phase 4): of the town's office and
    work groups (`town`: the campaign's town), and the county's officers."""
    town_staff = Q(profile__town=town) | Q(profile__role=roles.Role.COUNTY)
    return (
        get_user_model()
        .objects.filter(town_staff, profile__role__in=VERIFIER_ROLES[level], is_active=True)
        .select_related("profile")
        .order_by("profile__role", "username")
    )


def _lock(revisit: Revisit) -> Revisit:
    revisit = (
        Revisit.objects.select_for_update(of=("self",))
        .select_related("entry__sample__campaign", "survey", "entry__household")
        .get(pk=revisit.pk)
    )
    if not revisit.is_draft:
        raise DomainError("核查已提交，不能修改。")
    sample_phase_gate(revisit.entry.sample.campaign, revisit.entry.sample.level, "核查")
    return revisit


@transaction.atomic
def start_revisit(entry: SampleEntry, *, actor) -> Revisit:
    """Open the re-visit of a sampled household against its submitted village survey.

    Members are listed from the village survey so that each is accounted for; what the
    verifier finds (presence, income, property) starts empty and is recorded afresh.
    """
    campaign = entry.sample.campaign
    sample_phase_gate(campaign, entry.sample.level, "核查")
    existing = Revisit.objects.filter(entry=entry).first()
    if existing is not None:
        return existing
    survey = (
        Survey.objects.filter(campaign=campaign, household=entry.household, status=Survey.Status.SUBMITTED)
        .order_by("-version")
        .first()
    )
    if survey is None:
        raise DomainError("该户没有已提交的村级调查，无法核查。")
    revisit = Revisit.objects.create(entry=entry, survey=survey, created_by=actor)
    RevisitMember.objects.bulk_create(
        [
            RevisitMember(revisit=revisit, survey_member=m, present=m.stays, counted=m.stays, order=i)
            for i, m in enumerate(survey.members.all())
        ]
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=revisit,
        after={"核查": entry.sample.get_level_display()},
        household=entry.household,
        campaign=campaign,
        reason="开始入户核查",
    )
    return revisit


@transaction.atomic
def save_revisit(revisit: Revisit, data: RevisitInput, *, actor, version: int | None = None) -> Revisit:
    """Save what the verifier found; a change of content voids signatures given before it."""
    revisit = _lock(revisit)
    registry.check_version(revisit, version, field="edit_version")
    if data.header.get("visit_date") and data.header["visit_date"] > timezone.localdate():
        raise DomainError("核查日期不能晚于今天。", field="visit_date")
    rows = {m.survey_member_id: m for m in revisit.members.all()}
    if {m.survey_member_id for m in data.members} - set(rows):
        raise DomainError("成员列表与村级调查不符。")
    before = revisit.content_fingerprint()
    with audit.tracking(
        revisit,
        actor=actor,
        fields=REVISIT_FIELDS,
        household=revisit.entry.household,
        campaign=revisit.entry.sample.campaign,
        reason="保存核查",
    ) as tracked:
        for name in REVISIT_FIELDS:
            if name in data.header:
                setattr(revisit, name, data.header[name])
        revisit.save()
        for m in data.members:
            if any(c not in INCOME_CATEGORIES or a < 0 for c, a in m.incomes.items()):
                raise DomainError("收入类别或金额不正确。")
            row = rows[m.survey_member_id]
            row.present, row.counted = m.present, m.counted and m.present
            row.incomes = {c: str(a) for c, a in m.incomes.items() if a}
            row.save()
        revisit = Revisit.objects.prefetch_related("members").get(pk=revisit.pk)
        if revisit.content_fingerprint() != before:
            voided = revisit.signatures.exclude(signed_at=None).update(signed_at=None, fingerprint="", method="")
            if voided:
                tracked.reason = "保存核查，内容变化，已签字作废"
    return revisit


def _village_investigators(entry: SampleEntry) -> set[int]:
    """Who signed the household's submitted village survey: they may not check it."""
    return set(
        SurveySignature.objects.filter(
            survey__campaign=entry.sample.campaign_id,
            survey__household=entry.household_id,
            survey__status=Survey.Status.SUBMITTED,
        ).values_list("investigator_id", flat=True)
    )


def _town_verifiers(entry: SampleEntry) -> set[int]:
    """Who signed the town's re-visit of the household: they may not spot-check it for the county."""
    return set(
        RevisitSignature.objects.filter(
            revisit__entry__sample__campaign=entry.sample.campaign_id,
            revisit__entry__sample__level=Sample.Level.TOWN,
            revisit__entry__household=entry.household_id,
        ).values_list("verifier_id", flat=True)
    )


def eligible_verifiers(entry: SampleEntry) -> list:
    """The candidates who may re-visit this household (for the demo, the bench and the tests,
    which name two of them; set_verifiers checks any choice against the same rules)."""
    excluded = _village_investigators(entry)
    if entry.sample.level == Sample.Level.COUNTY:
        excluded |= _town_verifiers(entry)
    return [u for u in verifier_candidates(entry.sample.level, entry.sample.campaign.town_id) if u.pk not in excluded]


@transaction.atomic
def set_verifiers(revisit: Revisit, verifiers: list, *, actor) -> None:
    revisit = _lock(revisit)
    ids = [u.pk for u in verifiers]
    if len(set(ids)) != len(ids) or len(ids) < 2:
        raise DomainError("入户核查至少需要两名不同的核查人。", field="verifiers")
    level, town = revisit.entry.sample.level, revisit.entry.sample.campaign.town_id
    if set(ids) - set(verifier_candidates(level, town).values_list("pk", flat=True)):
        if level == Sample.Level.COUNTY:
            raise DomainError("县级抽查的核查人须是县民政局人员或陪同的镇社会事务办人员。", field="verifiers")
        raise DomainError("核查人必须是镇社会事务办人员或工作组成员。", field="verifiers")
    if set(ids) & _village_investigators(revisit.entry):
        raise DomainError("村级调查的调查人不能核查自己调查的户。", field="verifiers")
    if level == Sample.Level.COUNTY:
        if not any(u.profile.role == roles.Role.COUNTY for u in verifiers):
            raise DomainError("县级抽查至少需要一名县民政局人员。", field="verifiers")
        if set(ids) & _town_verifiers(revisit.entry):
            raise DomainError("镇级核查过该户的人员不能参加县级抽查。", field="verifiers")
    revisit.signatures.exclude(verifier_id__in=ids).delete()
    existing = set(revisit.signatures.values_list("verifier_id", flat=True))
    RevisitSignature.objects.bulk_create(
        [RevisitSignature(revisit=revisit, verifier=u) for u in verifiers if u.pk not in existing]
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=revisit,
        after={"核查人": "、".join(u.username for u in verifiers)},
        household=revisit.entry.household,
        campaign=revisit.entry.sample.campaign,
    )


@transaction.atomic
def sign_revisit(revisit: Revisit, *, verifier, actor, method: str, shown_fingerprint: str) -> None:
    """A verifier signs the content they were shown; a changed page is refused."""
    revisit = _lock(revisit)
    signature = revisit.signatures.filter(verifier=verifier).first()
    if signature is None:
        raise DomainError(f"{verifier.username}不是本次核查的核查人。")
    sample = revisit.entry.sample
    if not verifier_candidates(sample.level, sample.campaign.town_id).filter(pk=verifier.pk).exists():
        raise DomainError(f"{verifier.username}已不能担任核查人。")
    current = Revisit.objects.prefetch_related("members").get(pk=revisit.pk).content_fingerprint()
    if shown_fingerprint != current:
        raise DomainError("签字未生效：您看到页面后，核查内容已被修改。请刷新、核对后重新签字。")
    signature.signed_at, signature.fingerprint, signature.method = timezone.now(), current, method
    signature.save()
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=revisit,
        after={"签字": f"{verifier.username}（{method}）"},
        household=revisit.entry.household,
        campaign=revisit.entry.sample.campaign,
        reason="核查人签字",
    )


def revisit_problems(revisit: Revisit) -> list[str]:
    """What stops a submission, in words the verifier can act on."""
    problems = []
    if not revisit.visit_date:
        problems.append("请填写核查日期。")
    if not revisit.recommendation:
        problems.append("请填写核查结论。")
    fingerprint = revisit.content_fingerprint()
    signatures = list(revisit.signatures.select_related("verifier"))
    if len(signatures) < 2:
        problems.append("入户核查至少需要两名核查人。")
    for s in signatures:
        if not (s.signed_at and s.fingerprint == fingerprint):
            problems.append(f"核查人{s.verifier.username}尚未签字（或签字后内容有改动）。")
    return problems


def _village_values(survey: Survey) -> dict[str, str]:
    assets = survey.deposits + survey.securities + survey.commercial_insurance + survey.money_owed
    refusing = any(v.kind in REFUSING_VEHICLES and not v.disability_vehicle for v in survey.vehicles.all())
    values = {
        "covered_persons": str(survey.covered_persons),
        "financial_assets": f"{assets:.2f}",
        "refusing_vehicle": "是" if refusing else "否",
        "registered_business": "是" if survey.business else "否",
        "employs_others": "是" if survey.employs_others else "否",
        "shop_fronts": str(survey.shop_fronts),
        "main_cause": survey.get_main_cause_display() if survey.main_cause else "",
        "recommendation": survey.get_recommendation_display() if survey.recommendation else "",
    }
    for m in survey.members.all():
        values[f"m:{m.pk}:present"] = "在户" if m.stays else "不在户"
        values[f"m:{m.pk}:counted"] = "计入" if m.stays and m.co_resident and not m.left_out_reason else "不计入"
        for income in m.incomes.all():
            values[f"m:{m.pk}:{income.category}"] = f"{income.amount:.2f}"
    return values


def _revisit_values(revisit: Revisit) -> dict[str, str]:
    values = {
        "covered_persons": str(revisit.covered_persons),
        "financial_assets": f"{Decimal(revisit.financial_assets):.2f}",
        "refusing_vehicle": "是" if revisit.refusing_vehicle else "否",
        "registered_business": "是" if revisit.registered_business else "否",
        "employs_others": "是" if revisit.employs_others else "否",
        "shop_fronts": str(revisit.shop_fronts),
        "main_cause": revisit.get_main_cause_display() if revisit.main_cause else "",
        "recommendation": revisit.get_recommendation_display() if revisit.recommendation else "",
    }
    for m in revisit.members.all():
        values[f"m:{m.survey_member_id}:present"] = "在户" if m.present else "不在户"
        values[f"m:{m.survey_member_id}:counted"] = "计入" if m.counted else "不计入"
        for category, amount in m.incomes.items():
            values[f"m:{m.survey_member_id}:{category}"] = f"{Decimal(amount):.2f}"
    return values


def comparison(revisit: Revisit) -> list[dict[str, Any]]:
    """Every compared field: its label, the village survey's value, the re-visit's, and whether they differ."""
    village, found = _village_values(revisit.survey), _revisit_values(revisit)
    names = {m.pk: m.name for m in revisit.survey.members.all()}
    labels = {name: str(Revisit._meta.get_field(name).verbose_name) for name in MATERIAL | {"main_cause"}}
    labels["financial_assets"] = "金融资产合计（元）"
    rows = []
    for key in dict.fromkeys([*village, *found]):
        if key.startswith("m:"):  # a member's row: m:<survey member id>:<what>
            member_id, what = key[2:].split(":", 1)
            part = {"present": "在户情况", "counted": "计入家庭人口"}.get(what) or INCOME_CATEGORIES[what]
            label = f"{names.get(int(member_id), '')}：{part}"
            material = True
            blank = "0.00" if what in INCOME_CATEGORIES else ""
        else:
            label, material, blank = labels[key], key in MATERIAL, ""
        a, b = village.get(key, blank), found.get(key, blank)
        rows.append({"key": key, "label": label, "village": a, "revisit": b, "differs": a != b, "material": material})
    return rows


def assess_revisit(revisit: Revisit) -> Result:
    """The engine on what the verifiers found: the village survey's facts with the re-visit's
    members, incomes, covered persons and property grounds in their place."""
    survey = revisit.survey
    registered = {m.pk: m for m in survey.household.members.all()}
    people = []
    for m in revisit.members.all():
        if not (m.present and m.counted):
            continue
        member = registered.get(m.survey_member.member_id)
        people.append(
            Person(
                name=m.survey_member.name,
                incomes={k: Decimal(v) for k, v in m.incomes.items()},
                health=member.health if member else "",
                disability_grade=member.disability_grade if member else None,
            )
        )
    facts = replace(
        facts_from(survey, input_from(survey)),
        people=people,
        covered_persons=revisit.covered_persons,
        financial_assets=Decimal(revisit.financial_assets),
        vehicles=[Vehicle("car")] if revisit.refusing_vehicle else [],
        registered_business=revisit.registered_business,
        employs_others=revisit.employs_others,
        shop_fronts=revisit.shop_fronts,
        visit_date=revisit.visit_date,
    )
    return assess(facts, rules_for(survey))


@transaction.atomic
def submit_revisit(revisit: Revisit, *, actor) -> Revisit:
    """Submit a complete, signed re-visit: its differences with the village survey are kept for verdicts."""
    revisit = _lock(revisit)
    sample_phase_gate(revisit.entry.sample.campaign, revisit.entry.sample.level, "核查")
    revisit = (
        Revisit.objects.prefetch_related("members__survey_member")
        .select_related("entry__sample__campaign", "survey__campaign", "survey__household")
        .get(pk=revisit.pk)
    )
    problems = revisit_problems(revisit)
    if problems:
        raise DomainError("不能提交：" + "；".join(p.rstrip("。") for p in problems) + "。")
    Difference.objects.bulk_create(
        [
            Difference(
                revisit=revisit,
                key=row["key"],
                label=row["label"][:100],
                village_value=row["village"][:200],
                revisit_value=row["revisit"][:200],
                material=row["material"],
            )
            for row in comparison(revisit)
            if row["differs"]
        ]
    )
    result = assess_revisit(revisit)
    revisit.suggested_outcome, revisit.suggested_amount = result.suggested_outcome, result.suggested_amount
    revisit.status, revisit.submitted_by, revisit.submitted_at = Revisit.Status.SUBMITTED, actor, timezone.now()
    revisit.save(update_fields=["status", "submitted_by", "submitted_at", "suggested_outcome", "suggested_amount"])
    # The case row says the household may now be decided (or approved) and counts it as re-visited.
    flag = "town_revisited" if revisit.entry.sample.level == Sample.Level.TOWN else "county_revisited"
    Case.objects.filter(campaign=revisit.entry.sample.campaign, household=revisit.entry.household_id).update(
        **{flag: True, "updated_at": timezone.now()}
    )
    registry.retally(revisit.entry.sample.campaign, [revisit.entry.village_id])
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=revisit,
        before={"状态": "核查中"},
        after={"状态": "已提交", "差异": revisit.differences.count()},
        household=revisit.entry.household,
        campaign=revisit.entry.sample.campaign,
        reason="提交入户核查",
    )
    return revisit


@transaction.atomic
def judge_difference(difference: Difference, *, verdict: str, note: str, actor) -> Difference:
    """A verdict on one difference; one that accuses the household or the investigator needs a note."""
    difference = (
        Difference.objects.select_for_update(of=("self",))
        .select_related("revisit__entry__sample__campaign")
        .get(pk=difference.pk)
    )
    sample_phase_gate(difference.revisit.entry.sample.campaign, difference.revisit.entry.sample.level, "认定差异")
    if verdict not in Difference.Verdict.values:
        raise DomainError("请选择认定结果。", field="verdict")
    if verdict in ACCUSING and not note.strip():
        raise DomainError("认定为疑似虚报或弄虚作假时，须写明依据。", field="note")
    with audit.tracking(
        difference,
        actor=actor,
        fields=["verdict", "note"],
        household=difference.revisit.entry.household,
        campaign=difference.revisit.entry.sample.campaign,
        reason=f"核查差异认定：{difference.label}",
    ):
        difference.verdict, difference.note = verdict, note.strip()[:300]
        difference.judged_by, difference.judged_at = actor, timezone.now()
        difference.save()
    return difference


def investigator_records(campaign: Campaign) -> list[dict[str, Any]]:
    """Per investigator who signed village surveys: surveys signed, sampled by the town,
    re-visited, with differences, and differences by verdict. A fixed number of queries."""
    signed = SurveySignature.objects.filter(
        survey__campaign=campaign, survey__status=Survey.Status.SUBMITTED, signed_at__isnull=False
    )
    sampled_households = Case.objects.filter(campaign=campaign, town_sampled=True).values("household_id")
    rows = {
        r["investigator"]: {**r, "verdicts": {}}
        for r in signed.values("investigator")
        .annotate(
            surveys=Count("survey", distinct=True),
            sampled=Count("survey", filter=Q(survey__household__in=sampled_households), distinct=True),
            revisited=Count(
                "survey__revisits", filter=Q(survey__revisits__status=Revisit.Status.SUBMITTED), distinct=True
            ),
            with_differences=Count(
                "survey__revisits",
                filter=Q(survey__revisits__differences__isnull=False),
                distinct=True,
            ),
        )
        .order_by()
    }
    verdicts = (
        Difference.objects.filter(revisit__survey__campaign=campaign)
        .exclude(verdict="")
        .values("revisit__survey__signatures__investigator", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    for v in verdicts:
        row = rows.get(v["revisit__survey__signatures__investigator"])
        if row is not None:
            row["verdicts"][v["verdict"]] = v["n"]
    users = get_user_model().objects.filter(pk__in=rows).select_related("profile")
    out = []
    for user in users:
        row = rows[user.pk]
        row["user"] = user
        row["by_verdict"] = [(label, row["verdicts"].get(value, 0)) for value, label in Difference.Verdict.choices]
        out.append(row)
    return sorted(out, key=lambda r: (-sum(r["verdicts"].values()), r["user"].username))


def verifier_records(campaign: Campaign) -> list[dict[str, Any]]:
    """Per town verifier: households they re-visited and signed, how many of those the county
    spot-checked, and the county's differences on them by verdict — the town's own error
    record (a difference the county finds is the town verifiers' as well as the village's).
    A fixed number of queries."""
    signed = RevisitSignature.objects.filter(
        revisit__entry__sample__campaign=campaign,
        revisit__entry__sample__level=Sample.Level.TOWN,
        revisit__status=Revisit.Status.SUBMITTED,
        signed_at__isnull=False,
    )
    county = Revisit.objects.filter(
        entry__sample__campaign=campaign, entry__sample__level=Sample.Level.COUNTY, status=Revisit.Status.SUBMITTED
    )
    rows = {
        r["verifier"]: {**r, "verdicts": {}, "with_differences": 0, "county_checked": 0}
        for r in signed.values("verifier").annotate(revisited=Count("revisit", distinct=True)).order_by()
    }
    checked = (
        signed.filter(revisit__entry__household__in=county.values("entry__household"))
        .values("verifier")
        .annotate(n=Count("revisit", distinct=True))
        .order_by()
    )
    for r in checked:
        rows[r["verifier"]]["county_checked"] = r["n"]
    # the county's differences, joined to the town verifiers of the same household
    found = (
        Difference.objects.filter(revisit__in=county)
        .values("revisit__entry__household", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_household: dict[int, list[tuple[str, int]]] = {}
    for d in found:
        by_household.setdefault(d["revisit__entry__household"], []).append((d["verdict"], d["n"]))
    for verifier, household in signed.filter(revisit__entry__household__in=list(by_household)).values_list(
        "verifier", "revisit__entry__household"
    ):
        row = rows[verifier]
        row["with_differences"] += 1
        for verdict, n in by_household[household]:
            if verdict:
                row["verdicts"][verdict] = row["verdicts"].get(verdict, 0) + n
    users = get_user_model().objects.filter(pk__in=rows).select_related("profile")
    out = []
    for user in users:
        row = rows[user.pk]
        row["user"] = user
        row["by_verdict"] = [(label, row["verdicts"].get(value, 0)) for value, label in Difference.Verdict.choices]
        out.append(row)
    return sorted(out, key=lambda r: (-sum(r["verdicts"].values()), r["user"].username))
