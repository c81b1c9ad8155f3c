"""Demo surveys: leave the demo town in the middle of phase 2.

Villages 1–5 have visited everyone and reported; villages 6–10 are well under
way; villages 11–15 have started. Surveys are written in bulk (the demo and
the bench need thousands), with figures from the real eligibility engine and
one audit event each saying they were generated.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases.models import AuditEvent, Campaign, Member, Profile, Village

from .eligibility import Facts, Person, assess
from .models import Survey, SurveyIncome, SurveyMember, SurveySignature, VillageReport
from .services import list_from_registry, recompute_stages, rules_for, survey_universe

# Share of each village's households submitted and in draft, by village order.
PROGRESS = [(1.0, 0.0)] * 5 + [(0.7, 0.15)] * 5 + [(0.3, 0.2)] * 5


def _aware(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _incomes(rng: random.Random, member: Member, standard: Decimal, day: dt.date) -> dict[str, Decimal]:
    age = member.age_on(day)
    if age < 16:
        return {}
    if age >= 60:
        return {"basic_pension": Decimal(1260), "crop": Decimal(rng.randrange(0, 3000, 100))}
    if member.work_ability in {Member.WorkAbility.LOST, Member.WorkAbility.NONE}:
        return {}
    # Most dibao households sit below the standard; a few have risen above it.
    scale = rng.choice([2, 3, 4, 5, 6, 12, 16])
    return {rng.choice(["wage", "crop", "livestock"]): (standard * scale).quantize(Decimal(1))}


@transaction.atomic
def generate_surveys(campaign: Campaign, *, seed: int = 2019, complete: bool = False) -> int:
    """Surveys for the demo town: mid phase 2 (see PROGRESS), or with `complete` every
    household visited and every village reported, as the town finds it when phase 3 opens."""
    rng = random.Random(seed)
    User = get_user_model()
    cadres = {p.village_id: p.user for p in Profile.objects.filter(role=Profile.Role.VILLAGE).select_related("user")}
    group_users = {}
    for p in (
        Profile.objects.filter(role=Profile.Role.WORK_GROUP)
        .select_related("user")
        .prefetch_related("work_group__villages")
    ):
        for v in p.work_group.villages.all():
            group_users.setdefault(v.id, p.user)
    town = User.objects.filter(profile__role=Profile.Role.TOWN).first()

    # The list is drawn from the registry when phase 2 opens.
    list_from_registry(campaign, actor=town)

    surveyed = Survey.objects.filter(campaign=campaign).values("household_id")
    created = 0
    for index, village in enumerate(Village.objects.filter(town=campaign.town).order_by("order")):
        submitted_share, draft_share = (1.0, 0.0) if complete else PROGRESS[index % len(PROGRESS)]
        households = list(
            survey_universe(campaign)
            .filter(village=village)
            .exclude(id__in=surveyed)
            .select_related("village__town", "group")
            .prefetch_related("members")
            .order_by("id")
        )
        n_submitted = round(len(households) * submitted_share)
        n_draft = round(len(households) * draft_share)
        plan = [(h, Survey.Status.SUBMITTED) for h in households[:n_submitted]]
        plan += [(h, Survey.Status.DRAFT) for h in households[n_submitted : n_submitted + n_draft]]
        created += _write_surveys(campaign, rng, plan, cadres[village.id], group_users.get(village.id, town))
        if submitted_share == 1.0 and households:
            day = campaign.village_report_deadline - dt.timedelta(days=rng.choice([2, 1, 0]))
            VillageReport.objects.create(
                campaign=campaign,
                village=village,
                reported_by=cadres[village.id],
                reported_at=_aware(day, 16),
                households=len(households),
            )
    recompute_stages(campaign)
    return created


def _write_surveys(campaign, rng, plan, cadre, partner) -> int:
    surveys, member_rows, incomes, signatures, events = [], [], [], [], []
    review = campaign.phases.get(number=Campaign.PhaseNumber.REVIEW)
    for household, status in plan:
        visit = review.starts_on + dt.timedelta(days=rng.randrange(0, (review.ends_on - review.starts_on).days))
        members = [m for m in household.members.all() if m.is_live]
        survey = Survey(
            campaign=campaign,
            household=household,
            form=Survey.Form.A if household.is_dibao else Survey.Form.B,
            status=status,
            visit_date=visit,
            covered_persons=household.covered_persons,
            created_by=cadre,
            created_at=_aware(visit, 9),
            updated_at=_aware(visit, 11),
            main_cause=rng.choice(["illness", "disability", "no_labour", "no_skill"]),
            tag_serious_illness=any(m.health == Member.Health.SERIOUS for m in members),
            tag_severe_disability=any(m.disability_grade in (1, 2) for m in members),
            dibao_reason="家庭成员患病或残疾，劳动能力弱，收入低于当地低保标准。" if household.is_dibao else "",
            flyer_delivered=True,
            knows_policy=rng.random() < 0.8,
            head_confirmation="signed",
            findings="入户核实家庭人口、收入、财产情况。",
        )
        survey._people = [(m, _incomes(rng, m, campaign.standard_for(household.hukou_type), visit)) for m in members]
        survey._household = household
        surveys.append(survey)
    for survey in surveys:
        household = survey._household
        result = assess(
            Facts(
                people=[Person(m.name, inc) for m, inc in survey._people],
                covered_persons=survey.covered_persons,
                in_dibao=household.is_dibao,
                current_amount=household.monthly_amount,
                severe_illness_or_disability=survey.tag_serious_illness or survey.tag_severe_disability,
                visit_date=survey.visit_date,
            ),
            rules_for(survey),
        )
        survey.recommendation = result.suggested_outcome
        if survey.status == Survey.Status.SUBMITTED:
            survey.result = result.as_dict()
            survey.per_capita_income = result.per_capita_monthly
            survey.suggested_outcome = result.suggested_outcome
            survey.suggested_amount = result.suggested_amount
            survey.submitted_by = cadre
            survey.submitted_at = _aware(survey.visit_date, 17)
            survey.header = survey.header_values()
    Survey.objects.bulk_create(surveys, batch_size=2000)
    for survey in surveys:
        for order, (m, inc) in enumerate(survey._people):
            row = SurveyMember(
                survey=survey, member=m, name=m.name, id_number=m.id_number, relationship=m.relationship, order=order
            )
            row._incomes = inc
            member_rows.append(row)
        signed = survey.status == Survey.Status.SUBMITTED
        for order, user in enumerate([cadre, partner]):
            signatures.append(
                SurveySignature(
                    survey=survey,
                    investigator=user,
                    order=order,
                    signed_at=_aware(survey.visit_date, 12) if signed else None,
                    method="本人登录签字" if signed else "",
                )
            )
        events.append(
            AuditEvent(
                action=AuditEvent.Action.GENERATE,
                model=Survey._meta.label,
                object_id=str(survey.public_id),
                object_repr=str(survey),
                household=survey._household,
                campaign=campaign,
                reason="生成演示调查",
                at=survey.created_at,
            )
        )
    SurveyMember.objects.bulk_create(member_rows, batch_size=4000)
    for row in member_rows:
        incomes += [SurveyIncome(survey_member=row, category=c, amount=a) for c, a in row._incomes.items()]
    SurveyIncome.objects.bulk_create(incomes, batch_size=4000)
    SurveySignature.objects.bulk_create(signatures, batch_size=4000)
    AuditEvent.objects.bulk_create(events, batch_size=4000)
    return len(surveys)


def revisit_as_found(entry, *, verifiers, actor, visit_date: dt.date, **changes):
    """A town re-visit that finds what the village recorded (with `changes` to the header),
    signed by the verifiers and submitted: for the demo's later stages, the tests and the bench."""
    from .eligibility import REFUSING_VEHICLES
    from .revisits import RevisitInput, RevisitMemberInput, save_revisit, set_verifiers, sign_revisit, start_revisit
    from .revisits import submit_revisit as submit

    revisit = start_revisit(entry, actor=actor)
    survey = revisit.survey
    incomes = {m.pk: {i.category: i.amount for i in m.incomes.all()} for m in survey.members.all()}
    members = [
        RevisitMemberInput(
            survey_member_id=m.survey_member_id,
            present=m.present,
            counted=m.counted,
            incomes=incomes.get(m.survey_member_id, {}),
        )
        for m in revisit.members.all()
    ]
    header = {
        "visit_date": visit_date,
        "covered_persons": survey.covered_persons,
        "financial_assets": survey.deposits + survey.securities + survey.commercial_insurance + survey.money_owed,
        "registered_business": bool(survey.business),
        "employs_others": survey.employs_others,
        "shop_fronts": survey.shop_fronts,
        "refusing_vehicle": any(
            v.kind in REFUSING_VEHICLES and not v.disability_vehicle for v in survey.vehicles.all()
        ),
        "main_cause": survey.main_cause,
        "recommendation": survey.recommendation,
        **changes,
    }
    revisit = save_revisit(revisit, RevisitInput(header=header, members=members), actor=actor)
    set_verifiers(revisit, verifiers, actor=actor)
    for verifier in verifiers:
        fingerprint = type(revisit).objects.prefetch_related("members").get(pk=revisit.pk).content_fingerprint()
        sign_revisit(revisit, verifier=verifier, actor=actor, method="本人登录签字", shown_fingerprint=fingerprint)
    return submit(revisit, actor=actor)


def complete_phase3(campaign: Campaign, *, seed: int = 2019) -> None:
    """Carry the demo town through phase 3 to the start of phase 4, through the services: the
    town's sample drawn and re-visited (a few re-visits find a household's income higher than
    the village recorded, each judged), every household decided (in bulk where everything
    agrees, by hand with a reason otherwise), every village's notice over, the report sent."""
    from cases import decisions
    from cases.models import Case, Decision

    from . import review
    from .models import Difference, SampleEntry
    from .revisits import eligible_verifiers, judge_difference
    from .services import advance_phase, draw_sample

    rng = random.Random(seed)
    town = get_user_model().objects.filter(profile__role=Profile.Role.TOWN).order_by("username").first()
    sample, _ = draw_sample(campaign, level="town", actor=town)
    verify = campaign.phases.get(number=Campaign.PhaseNumber.VERIFY)
    entries = list(sample.entries.select_related("household", "sample__campaign").order_by("village__order", "rank"))
    for entry in entries:
        verifiers = eligible_verifiers(entry)[:2]
        changes = {}
        if entry.reason == SampleEntry.Reason.DRAWN and rng.random() < 0.08:
            # savings the village did not record: above the limit, the verifiers conclude against dibao
            changes = {
                "financial_assets": Decimal(rng.choice([60000, 90000, 120000])),
                "recommendation": "exit" if entry.household.is_dibao else "reject",
            }
        revisit_as_found(entry, verifiers=verifiers, actor=town, visit_date=verify.starts_on, **changes)
    for difference in Difference.objects.filter(revisit__entry__sample=sample, verdict=""):
        judge_difference(
            difference,
            verdict=Difference.Verdict.HOUSEHOLD,
            note="核查发现未申报的存款，户主承认。",
            actor=town,
        )
    review.decide_all_as_proposed(campaign, actor=town)
    for case in (
        Case.objects.in_scope()
        .filter(campaign=campaign, review=Case.Review.UNDECIDED)
        .select_related("household", "campaign")
    ):
        proposal = review.proposal_for(case)
        exit_ = proposal.outcome == Decision.Outcome.EXIT
        review.decide_case(
            case,
            actor=town,
            outcome=proposal.outcome,
            covered_persons=proposal.covered_persons,
            monthly_amount=proposal.monthly_amount,
            dibao_class=case.household.dibao_class,
            reason=(
                ("入户核查发现未申报的存款，超过金融资产上限，清退。" if proposal.revisit_outcome else "")
                or "家庭人均收入超过低保标准，经核实后清退。"
            )
            if exit_
            else "经镇级核实，按核查结论决定。",
        )
    opened = verify.starts_on - dt.timedelta(days=campaign.notice_days)
    for village in Village.objects.filter(town=campaign.town).order_by("order"):
        if Case.objects.in_scope().filter(campaign=campaign, village=village).exists():
            decisions.open_notice(campaign, village, actor=town, starts_on=opened)
    review.send_town_report(campaign, actor=town, late_reason="演示数据：按2019年行动日期生成。")
    advance_phase(Campaign.objects.get(pk=campaign.pk), actor=town)
