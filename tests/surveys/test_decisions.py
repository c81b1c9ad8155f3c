"""The town's decisions (phase 3): one by hand with a reason where it departs from the engine
or the village, in bulk only where everything agrees; a sampled household only after its
re-visit; never edited in place; refused outside phase 3 and for read-only roles."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import AuditEvent, Campaign, Case, Decision, Household
from cases.services import DomainError
from surveys import review, services
from surveys.models import Survey, VillageReport
from tests.surveys.conftest import revisit_sample


@pytest.fixture(autouse=True)
def drawn(verify_town, town_office):
    """The town's sample is drawn first: until it is, no household of the village is decided."""
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    return sample


def _case(campaign, **filters):
    return (
        Case.objects.select_related("campaign", "household")
        .filter(campaign=campaign, stage=Case.Stage.REPORTED, **filters)
        .order_by("id")
        .first()
    )


def _dibao_case(campaign, outcome="adjust", **filters):
    households = Survey.objects.filter(campaign=campaign, status="submitted", suggested_outcome=outcome)
    return _case(campaign, household__in=households.values("household_id"), town_sampled=False, **filters)


def _keep_case(campaign):
    """A dibao household whose survey found it should keep exactly what it has."""
    case = _dibao_case(campaign, "adjust")
    survey = Survey.objects.get(household=case.household_id, status="submitted")
    Household.objects.filter(pk=case.household_id).update(
        monthly_amount=survey.suggested_amount, covered_persons=survey.covered_persons
    )
    Survey.objects.filter(pk=survey.pk).update(suggested_outcome="keep", recommendation="keep")
    return Case.objects.select_related("campaign", "household").get(pk=case.pk)


def test_a_sampled_household_is_decided_only_after_its_revisit_is_signed(verify_town, town_office, drawn):
    sample = drawn
    entry = sample.entries.select_related("household").first()
    case = Case.objects.select_related("campaign", "household").get(campaign=verify_town, household=entry.household)
    proposal = review.proposal_for(case)
    with pytest.raises(DomainError, match="须先完成入户核查并由核查人签字提交"):
        review.decide_case(
            case,
            actor=town_office,
            outcome=proposal.outcome,
            covered_persons=proposal.covered_persons,
            monthly_amount=proposal.monthly_amount,
            dibao_class=case.household.dibao_class,
        )
    assert not Decision.objects.exists()

    revisit_sample(sample, town_office, entries=[entry])
    case.refresh_from_db()
    assert case.town_revisited
    proposal = review.proposal_for(case)
    assert proposal.basis == Decision.Basis.REVISIT
    decision = review.decide_case(
        case,
        actor=town_office,
        outcome=proposal.outcome,
        covered_persons=proposal.covered_persons,
        monthly_amount=proposal.monthly_amount,
        dibao_class=case.household.dibao_class,
    )
    assert decision.basis == "revisit" and decision.proposal["依据"] == "镇级入户核查"


def test_a_departure_from_the_engine_needs_a_reason_and_is_recorded(verify_town, town_office):
    case = _keep_case(verify_town)
    household = case.household
    with pytest.raises(DomainError, match=r"与系统建议（维持）不同.*须写明理由") as refused:
        review.decide_case(
            case,
            actor=town_office,
            outcome="adjust",
            covered_persons=household.covered_persons,
            monthly_amount=household.monthly_amount + 10,
        )
    assert refused.value.field == "reason"
    assert not Decision.objects.exists() and not AuditEvent.objects.filter(model="cases.Decision").exists()

    decision = review.decide_case(case, actor=town_office, outcome="exit", reason="家庭成员已稳定就业，收入超过标准。")
    case.refresh_from_db()
    assert (case.decision, case.outcome, case.review) == (decision, "exit", Case.Review.DECIDED)
    assert (decision.covered_persons, decision.monthly_amount) == (0, Decimal("0"))
    event = AuditEvent.objects.get(model="cases.Decision", object_id=str(decision.public_id))
    assert event.household_id == household.pk and event.actor == town_office
    assert "家庭成员已稳定就业" in event.reason


def test_an_exit_needs_a_reason_even_when_the_engine_proposes_it(verify_town, town_office):
    case = _dibao_case(verify_town, "exit")
    if case is None:
        pytest.skip("the generated town has no proposed exit")
    with pytest.raises(DomainError, match="清退须写明理由"):
        review.decide_case(case, actor=town_office, outcome="exit")


def test_keep_means_the_same_figures_and_persons_stay_within_the_household(verify_town, town_office):
    case = _keep_case(verify_town)
    h = case.household
    with pytest.raises(DomainError, match="请选择“调整”"):
        review.decide_case(
            case,
            actor=town_office,
            outcome="keep",
            covered_persons=h.covered_persons,
            monthly_amount=h.monthly_amount + 1,
            dibao_class=h.dibao_class,
        )
    with pytest.raises(DomainError, match="保障人数须在1到计入家庭人口"):
        review.decide_case(
            case,
            actor=town_office,
            outcome="adjust",
            covered_persons=99,
            monthly_amount=h.monthly_amount,
            dibao_class=h.dibao_class,
            reason="x",
        )
    with pytest.raises(DomainError, match="在保户的决定只能是"):
        review.decide_case(case, actor=town_office, outcome="enrol", covered_persons=1, monthly_amount=Decimal("10"))
    assert not Decision.objects.exists()


def test_deciding_again_keeps_the_earlier_decision_as_signed(verify_town, town_office):
    case = _keep_case(verify_town)
    h = case.household
    first = review.decide_case(
        case,
        actor=town_office,
        outcome="keep",
        covered_persons=h.covered_persons,
        monthly_amount=h.monthly_amount,
        dibao_class=h.dibao_class,
    )
    second = review.decide_case(case, actor=town_office, outcome="exit", reason="复核发现有稳定收入。")
    first.refresh_from_db()
    assert first.outcome == "keep" and first.monthly_amount == h.monthly_amount
    case.refresh_from_db()
    assert case.decision == second and case.decisions.count() == 2
    changes = AuditEvent.objects.filter(model="cases.Decision", household=h).order_by("at", "id")
    assert [e.action for e in changes] == ["create", "update"]


def test_bulk_decides_only_where_everything_agrees(verify_town, town_office, village_a):
    cases = Case.objects.filter(campaign=verify_town, village=village_a, stage="reported")
    disagreeing = cases.filter(town_sampled=False).order_by("id").first()
    Survey.objects.filter(household=disagreeing.household_id, status="submitted").update(recommendation="temporary")
    flagged = cases.filter(town_sampled=False).exclude(pk=disagreeing.pk).order_by("id").first()
    Case.objects.filter(pk=flagged.pk).update(full_check=True)
    sampled = set(cases.filter(town_sampled=True).values_list("pk", flat=True))
    assert sampled

    decided, left = review.decide_all_as_proposed(verify_town, actor=town_office, village=village_a)
    undecided = set(cases.filter(review="").values_list("pk", flat=True))
    assert undecided == sampled | {disagreeing.pk, flagged.pk}
    assert left == len(undecided) and decided == cases.count() - len(undecided)
    bulk = Decision.objects.filter(case__village=village_a)
    assert bulk.count() == decided and all(d.as_proposed and d.decided_by == town_office for d in bulk)
    assert AuditEvent.objects.filter(model="cases.Decision", reason__startswith="按建议批量决定").count() == decided
    # other villages are untouched
    assert not Decision.objects.exclude(case__village=village_a).exists()


def test_decisions_are_refused_outside_phase_3(verify_town, town_office):
    Campaign.objects.filter(pk=verify_town.pk).update(current_phase=Campaign.PhaseNumber.REVIEW)
    case = _keep_case(verify_town)
    with pytest.raises(DomainError, match="镇级决定只能在第三阶段"):
        review.decide_case(case, actor=town_office, outcome="exit", reason="x")
    with pytest.raises(DomainError, match="镇级决定只能在第三阶段"):
        review.decide_all_as_proposed(Campaign.objects.get(pk=verify_town.pk), actor=town_office)
    assert not Decision.objects.exists()


def test_the_decide_page_shows_the_proposal_and_refuses_bad_input_next_to_the_field(client, verify_town, town_office):
    case = _keep_case(verify_town)
    client.force_login(town_office)
    url = reverse("review_decide", args=[case.household.public_id])
    page = client.get(url).content.decode()
    assert "系统建议" in page and "维持" in page and "签署决定" in page
    response = client.post(url, {"outcome": "adjust", "covered_persons": "x", "monthly_amount": "12.345"})
    body = response.content.decode()
    assert response.status_code == 400 and "保障人数须为整数" in body and "最多两位小数" in body
    response = client.post(url, {"outcome": "exit", "reason": ""})
    assert "清退须写明理由" in response.content.decode() or "须写明理由" in response.content.decode()
    assert not Decision.objects.exists()
    response = client.post(url, {"outcome": "exit", "reason": "已外出务工，收入超标。"}, follow=True)
    assert "已作出决定" in response.content.decode() and Decision.objects.get().outcome == "exit"


@pytest.mark.parametrize("persona", ["leadership", "county_officer"])
def test_read_only_roles_see_decisions_and_cannot_decide(client, request, persona, verify_town):
    case = _keep_case(verify_town)
    client.force_login(request.getfixturevalue(persona))
    assert "镇级决定" in client.get(reverse("review_decisions")).content.decode()
    url = reverse("review_decide", args=[case.household.public_id])
    assert "签署决定" not in client.get(url).content.decode()
    assert client.post(url, {"outcome": "exit", "reason": "x"}).status_code == 403
    assert client.post(reverse("review_decide_bulk")).status_code == 403
    assert not Decision.objects.exists()


def test_deciding_twice_the_same_is_refused_not_a_server_error(client, verify_town, town_office):
    case = _keep_case(verify_town)
    client.force_login(town_office)
    url = reverse("review_decide", args=[case.household.public_id])
    form = {"outcome": "exit", "reason": "已外出务工，收入超标。"}
    assert client.post(url, form).status_code == 302
    response = client.post(url, form)
    assert response.status_code == 400 and "与当前决定相同" in response.content.decode()
    assert client.post(url, {**form, "reason": "补充：务工收入每月3000元。"}).status_code == 302
    assert case.decisions.count() == 2


def test_nonsense_numbers_are_refused_next_to_the_field(client, verify_town, town_office):
    case = _keep_case(verify_town)
    client.force_login(town_office)
    url = reverse("review_decide", args=[case.household.public_id])
    for amount in ["Infinity", "sNaN", "²", "-5"]:
        response = client.post(url, {"outcome": "adjust", "covered_persons": "1", "monthly_amount": amount})
        assert response.status_code == 400 and "月保障金" in response.content.decode(), amount
    response = client.post(url, {"outcome": "adjust", "covered_persons": "²", "monthly_amount": "100"})
    assert response.status_code == 400 and "保障人数须为整数" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_village_cadre_sees_only_their_village(client, verify_town, cadre_a, village_a, village_b):
    other = _case(verify_town, village=village_b)
    client.force_login(cadre_a)
    page = client.get(reverse("review_decisions")).content.decode()
    assert village_a.name in page and village_b.name not in page
    assert client.get(reverse("review_decide", args=[other.household.public_id])).status_code == 404
    assert client.get(reverse("review_decisions") + f"?village={village_b.code}").status_code == 404


def test_the_decision_list_has_a_fixed_number_of_queries(
    client, verify_town, town_office, django_assert_max_num_queries
):
    from cases.demo import generate_households
    from surveys.demo import generate_surveys

    client.force_login(town_office)
    url = reverse("review_decisions") + "?status=left"
    client.get(url)
    with django_assert_max_num_queries(14) as before:
        client.get(url)
    VillageReport.objects.all().delete()  # the generator reports each village again
    generate_households(verify_town, 60, seed=99)
    generate_surveys(verify_town, seed=99, complete=True)
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(url)


def test_a_proposed_exit_is_never_offered_in_bulk(verify_town, town_office, village_a):
    case = _case(verify_town, village=village_a)
    Survey.objects.filter(household=case.household_id, status="submitted").update(
        recommendation="exit", suggested_outcome="exit", suggested_amount=0
    )
    assert not review.bulk_ready(verify_town).filter(pk=case.pk).exists()
    review.decide_all_as_proposed(verify_town, actor=town_office, village=village_a)
    case.refresh_from_db()
    assert case.review == Case.Review.UNDECIDED and case.decision is None
