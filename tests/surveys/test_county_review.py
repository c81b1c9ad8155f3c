"""Phase 4: the county's ≥10% sample, approval one by one or in bulk, return and answer; a
decision takes effect in the registry only when approved, from the month set."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import decisions
from cases.models import AuditEvent, Campaign, Case, CountyReview, Household
from cases.services import DomainError
from surveys import review, services
from surveys.models import Sample, SampleEntry
from tests.surveys.conftest import revisit_sample


@pytest.fixture
def sent_town(ready_town, town_office):
    review.send_town_report(ready_town, actor=town_office, late_reason="测试")
    return services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)


@pytest.fixture
def phase4(sent_town, county_officer):
    """Phase 4 with the county's sample drawn."""
    services.draw_sample(sent_town, level="county", actor=county_officer)
    return sent_town


def _sent(campaign, outcome, **filters):
    return (
        Case.objects.select_related("campaign", "household", "decision")
        .filter(campaign=campaign, review="sent", outcome=outcome, full_check=False, county_sampled=False, **filters)
        .order_by("id")
        .first()
    )


def _next_month():
    return decisions.first_of_next_month(timezone.localdate())


def test_an_approved_adjustment_changes_the_registry_from_its_month(phase4, county_officer):
    case = _sent(phase4, "adjust")
    before = Household.objects.get(pk=case.household_id)
    decisions.approve(case, actor=county_officer)
    household = Household.objects.get(pk=case.household_id)
    d = case.decision
    assert (household.monthly_amount, household.covered_persons) == (d.monthly_amount, d.covered_persons)
    assert household.amount_since == _next_month() and household.version == before.version + 1
    event = AuditEvent.objects.filter(model="cases.Household", household=household).latest("at")
    assert "县级批准的调整决定生效" in event.reason and event.actor == county_officer
    case.refresh_from_db()
    assert case.review == Case.Review.APPROVED


def test_an_approved_exit_and_enrolment_take_effect(phase4, county_officer):
    leaving, joining = _sent(phase4, "exit"), _sent(phase4, "enrol")
    decisions.approve(leaving, actor=county_officer)
    decisions.approve(joining, actor=county_officer, effective_from=_next_month() + dt.timedelta(days=40))
    left = Household.objects.get(pk=leaving.household_id)
    assert left.dibao_status == "exited" and left.monthly_amount == 0 and left.covered_persons == 0
    assert left.dibao_ended_on == _next_month() - dt.timedelta(days=1)
    joined = Household.objects.get(pk=joining.household_id)
    month = decisions.first_of_next_month(_next_month())
    assert joined.dibao_status == "active" and joined.dibao_since == month == joined.amount_since
    assert joined.monthly_amount == joining.decision.monthly_amount > 0


def test_nothing_changes_in_the_registry_while_a_decision_waits(phase4, county_officer):
    case = _sent(phase4, "adjust")
    before = Household.objects.get(pk=case.household_id)
    assert case.decision.monthly_amount != before.monthly_amount or case.decision.covered_persons
    after = Household.objects.get(pk=case.household_id)
    assert (after.monthly_amount, after.version, after.amount_since) == (
        before.monthly_amount,
        before.version,
        None,
    )
    with pytest.raises(DomainError, match="执行起始月不能早于本月"):
        decisions.approve(case, actor=county_officer, effective_from=dt.date(2019, 1, 1))
    assert Household.objects.get(pk=case.household_id).version == before.version
    assert not CountyReview.objects.exists()


def test_a_returned_decision_is_answered_by_the_town_and_then_approved(phase4, county_officer, town_office):
    case = _sent(phase4, "adjust")
    with pytest.raises(DomainError, match="退回须写明理由"):
        decisions.return_decision(case, actor=county_officer, note=" ")
    decisions.return_decision(case, actor=county_officer, note="保障人数与户籍不符，请核实。")
    case.refresh_from_db()
    assert case.review == Case.Review.RETURNED
    with pytest.raises(DomainError, match="已退回镇里"):
        decisions.approve(case, actor=county_officer)
    # the town answers in phase 4 with a new decision, which goes back to the county
    p = review.proposal_for(case)
    answer = review.decide_case(
        case,
        actor=town_office,
        outcome="adjust",
        covered_persons=max(p.covered_persons - 1, 1),
        monthly_amount=p.monthly_amount,
        dibao_class=case.household.dibao_class,
        reason="核实后保障人数减1人",
    )
    case.refresh_from_db()
    assert case.review == Case.Review.SENT and case.decision == answer
    decisions.approve(case, actor=county_officer)
    household = Household.objects.get(pk=case.household_id)
    assert household.covered_persons == answer.covered_persons
    assert [r.verdict for r in CountyReview.objects.filter(decision__case=case).order_by("id")] == [
        "return",
        "approve",
    ]


def test_the_town_cannot_change_a_sent_decision_in_phase_4(phase4, town_office):
    case = _sent(phase4, "adjust")
    with pytest.raises(DomainError, match="第四阶段只能答复县级退回的决定"):
        review.decide_case(case, actor=town_office, outcome="exit", reason="x")


def test_bulk_approval_leaves_full_check_and_unchecked_county_sample_households(phase4, county_officer, village_a):
    sample = Sample.objects.get(level="county")
    for village in phase4.town.villages.all():
        n = Case.objects.filter(campaign=phase4, village=village, stage="reported", in_scope=True).count()
        drawn = sample.entries.filter(village=village, reason=SampleEntry.Reason.DRAWN).count()
        assert drawn == math.ceil(n * 10 / 100)
    cases = Case.objects.filter(campaign=phase4, village=village_a, in_scope=True)
    full = cases.filter(county_sampled=False).first()
    Case.objects.filter(pk=full.pk).update(full_check=True)
    sampled = set(cases.filter(county_sampled=True).values_list("pk", flat=True))
    approved = review.approve_all(phase4, actor=county_officer, village=village_a)
    waiting = set(cases.filter(review="sent").values_list("pk", flat=True))
    assert waiting == sampled | {full.pk} and approved == cases.count() - len(waiting)
    one = Case.objects.select_related("campaign").get(pk=next(iter(sampled)))
    with pytest.raises(DomainError, match="须先完成县级入户核查"):
        decisions.approve(one, actor=county_officer)
    revisit_sample(sample, county_officer, entries=list(sample.entries.filter(household=one.household_id)))
    decisions.approve(one, actor=county_officer)


def test_nothing_is_approved_before_the_villages_county_sample_is_drawn(sent_town, county_officer):
    case = Case.objects.filter(campaign=sent_town, review="sent").select_related("campaign").first()
    with pytest.raises(DomainError, match="尚未抽取县级抽查样本"):
        decisions.approve(case, actor=county_officer)
    with pytest.raises(DomainError, match="没有可批量批准的决定"):
        review.approve_all(sent_town, actor=county_officer)
    assert not CountyReview.objects.exists()


def test_approvals_are_refused_outside_phase_4(ready_town, county_officer):
    case = Case.objects.filter(campaign=ready_town).select_related("campaign").first()
    with pytest.raises(DomainError, match="只能在第四阶段"):
        decisions.approve(case, actor=county_officer)
    assert not CountyReview.objects.exists()


@pytest.mark.parametrize("persona", ["town_office", "leadership", "cadre_a"])
def test_only_the_county_approves_or_returns(client, request, persona, phase4, village_a):
    case = _sent(phase4, "adjust", village=village_a)
    client.force_login(request.getfixturevalue(persona))
    url = reverse("review_county_answer", args=[case.household.public_id])
    assert client.post(url, {"verdict": "approve"}).status_code in (403, 404)
    assert client.post(reverse("review_county_bulk"), {"village": village_a.code}).status_code == 403
    assert not CountyReview.objects.exists()


def test_the_county_pages_show_what_waits_and_the_household_page_the_new_amount(client, phase4, county_officer):
    case = _sent(phase4, "adjust")
    client.force_login(county_officer)
    page = client.get(reverse("review_county")).content.decode()
    assert "县级审批" in page and "待审批" in page
    decide = client.get(reverse("review_decide", args=[case.household.public_id])).content.decode()
    assert "批准（" in decide and "退回镇里" in decide
    month = _next_month()
    response = client.post(
        reverse("review_county_answer", args=[case.household.public_id]),
        {"verdict": "approve", "effective_from": f"{month:%Y-%m}"},
        follow=True,
    )
    assert "已批准，决定生效" in response.content.decode()
    detail = client.get(reverse("household_detail", args=[case.household.public_id])).content.decode()
    amount = Decimal(case.decision.monthly_amount)
    assert f"{amount}元（{month.year}年{month.month}月起）" in detail


def test_an_approved_exit_is_told_in_writing_and_fraud_recovered(client, phase4, county_officer, town_office):
    case = _sent(phase4, "exit")
    with pytest.raises(DomainError, match="只有县级已批准的清退"):
        decisions.record_exit_notice(
            case, actor=town_office, notified_on=timezone.localdate(), method="in_person", recipient="户主"
        )
    decisions.approve(case, actor=county_officer)
    with pytest.raises(DomainError, match="须写明金额和依据"):
        decisions.record_exit_notice(
            case,
            actor=town_office,
            notified_on=timezone.localdate(),
            method="in_person",
            recipient="户主本人",
            recovery_required=True,
        )
    client.force_login(town_office)
    response = client.post(
        reverse("review_exit_notice", args=[case.household.public_id]),
        {
            "notified_on": timezone.localdate().isoformat(),
            "method": "in_person",
            "recipient": "户主本人",
            "recovery_required": "on",
            "recovery_amount": "1200",
            "recovery_note": "隐瞒务工收入，追回2019年1–4月多领的低保金。",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "已登记清退告知" in body and "追回 1200.00 元" in body
    notice = case.decision.exit_notice
    assert notice.recovery_amount == Decimal("1200") and notice.recorded_by == town_office
    with pytest.raises(DomainError, match="已登记清退告知"):
        decisions.record_exit_notice(
            case, actor=town_office, notified_on=timezone.localdate(), method="post", recipient="x"
        )


def test_a_poor_household_whose_income_rose_exits_gradually(phase4, county_officer):
    case = _sent(phase4, "exit")
    Household.objects.filter(pk=case.household_id).update(poverty_status="lifted")
    case = Case.objects.select_related("campaign", "household", "decision").get(pk=case.pk)
    with pytest.raises(DomainError, match="未设渐退期"):
        decisions.approve(case, actor=county_officer, gradual=True)
    Campaign.objects.filter(pk=phase4.pk).update(gradual_exit_months=6)
    before = Household.objects.get(pk=case.household_id)
    decisions.approve(case, actor=county_officer, gradual=True)
    after = Household.objects.get(pk=case.household_id)
    start = _next_month()
    end = decisions._add_months(start, 6) - dt.timedelta(days=1)
    assert after.dibao_status == "active" and after.monthly_amount == before.monthly_amount
    assert after.dibao_ended_on == end
    assert CountyReview.objects.get(decision=case.decision).gradual_months == 6


def test_a_difference_the_county_finds_counts_against_the_village_and_the_town_verifiers(
    client, phase4, county_officer, town_office, leadership
):
    from surveys import revisits
    from surveys.models import Difference, Revisit, RevisitSignature

    sample = Sample.objects.get(level="county")
    town_checked = Revisit.objects.filter(entry__sample__level="town", status="submitted").values("entry__household")
    entry = sample.entries.filter(household__in=town_checked).select_related("household").first()
    if entry is None:
        county_entry = sample.entries.first()
        pytest.skip(f"no household checked by both levels ({county_entry})")
    survey_persons = Revisit.objects.filter(entry__household=entry.household).first().survey.covered_persons
    revisit_sample(sample, county_officer, entries=[entry], covered_persons=survey_persons + 1)
    difference = Difference.objects.get(revisit__entry=entry, key="covered_persons")
    revisits.judge_difference(difference, verdict="recording", note="多报一人", actor=county_officer)

    town_verifiers = set(
        RevisitSignature.objects.filter(
            revisit__entry__sample__level="town", revisit__entry__household=entry.household
        ).values_list("verifier__username", flat=True)
    )
    records = {r["user"].username: r for r in revisits.verifier_records(phase4)}
    for name in town_verifiers:
        assert records[name]["county_checked"] >= 1 and records[name]["with_differences"] == 1
        assert dict(records[name]["by_verdict"])["村级记录错误"] == 1
    others = [r for n, r in records.items() if n not in town_verifiers]
    assert all(r["with_differences"] == 0 for r in others)
    client.force_login(leadership)
    page = client.get(reverse("survey_investigators_record")).content.decode()
    assert "镇级核查人记录" in page and all(f"（{name}）" in page for name in town_verifiers)
    village = {r["user"].username: r for r in revisits.investigator_records(phase4)}
    investigators = entry.household.surveys.get(status="submitted").signatures.values_list(
        "investigator__username", flat=True
    )
    assert all(village[name]["verdicts"].get("recording", 0) >= 1 for name in investigators)


def test_a_gradual_exit_ends_when_its_period_is_over(phase4, county_officer):
    from django.core.management import call_command

    case = _sent(phase4, "exit")
    Household.objects.filter(pk=case.household_id).update(poverty_status="lifted")
    Campaign.objects.filter(pk=phase4.pk).update(gradual_exit_months=6)
    case = Case.objects.select_related("campaign", "household", "decision").get(pk=case.pk)
    decisions.approve(case, actor=county_officer, gradual=True)
    end = Household.objects.get(pk=case.household_id).dibao_ended_on
    assert decisions.end_gradual_exits(today=end) == 0  # the last day is still paid
    assert decisions.end_gradual_exits(today=end + dt.timedelta(days=1)) == 1
    household = Household.objects.get(pk=case.household_id)
    assert household.dibao_status == "exited" and household.monthly_amount == 0
    assert AuditEvent.objects.filter(household=household, reason__startswith="渐退期满").count() == 1
    call_command("end_gradual_exits")  # nothing more to end
    assert AuditEvent.objects.filter(household=household, reason__startswith="渐退期满").count() == 1


def test_a_complaint_in_phase_4_puts_the_household_in_the_county_sample(phase4, county_officer, town_office):
    from cases import complaints
    from cases.models import Complaint

    case = _sent(phase4, "adjust")
    complaints.record_complaint(
        phase4,
        actor=town_office,
        channel="phone",
        received_on=timezone.localdate(),
        anonymous=True,
        subject=Complaint.Subject.HOUSEHOLD,
        household=case.household,
        content="该户有一辆小汽车未申报。",
        handler=town_office,
    )
    entry = SampleEntry.objects.get(sample__level="county", household=case.household_id)
    assert entry.reason == SampleEntry.Reason.FULL_CHECK
    case.refresh_from_db()
    assert case.full_check and case.county_sampled and not case.county_revisited
    # not on the household's timeline, which its village reads
    assert not AuditEvent.objects.filter(household=case.household, model="surveys.SampleEntry").exists()
    with pytest.raises(DomainError, match="须先完成县级入户核查"):
        decisions.approve(case, actor=county_officer)
    assert case.household_id not in review.county_bulk_ready(phase4).values_list("household_id", flat=True)
