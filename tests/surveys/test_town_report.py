"""The town's report to the county: refused with every reason until the sample is re-visited,
every household decided and every notice over without an open objection; late sends need a
reason; sending locks the decisions. And what the sample says about everyone."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AuditEvent, Campaign, Case, Decision
from cases.services import DomainError
from surveys import review, sampling, services
from surveys.models import Difference, SampleEntry, Survey, TownReport
from tests.surveys.conftest import revisit_sample


def test_the_report_is_refused_with_every_reason(verify_town, town_office):
    problems = review.report_problems(verify_town)
    assert any("尚未抽取镇级核查样本" in p for p in problems)
    assert any("未作出镇级决定" in p for p in problems)
    assert any("尚未公示" in p for p in problems)
    services.draw_sample(verify_town, level="town", actor=town_office)
    problems = review.report_problems(verify_town)
    assert any("已签字提交0户" in p for p in problems)
    with pytest.raises(DomainError, match="镇级报告暂不能报县"):
        review.send_town_report(verify_town, actor=town_office, late_reason="x")
    assert not TownReport.objects.exists()


def test_an_open_notice_or_objection_holds_the_report(ready_town, town_office, village_a):
    notice = ready_town.notices.get(village=village_a)
    type(notice).objects.filter(pk=notice.pk).update(ends_on=timezone.localdate())
    assert any("尚未结束" in p for p in review.report_problems(ready_town))
    notice.refresh_from_db()
    case = Case.objects.filter(campaign=ready_town, village=village_a).select_related("household").first()
    review.record_objection(notice, case, actor=town_office, channel="letter", content="收入不实")
    assert any("1件公示异议尚未处理" in p for p in review.report_problems(ready_town))


def test_sending_records_who_and_why_late_and_locks_the_decisions(ready_town, town_office):
    assert review.report_problems(ready_town) == []
    # the demo campaign's deadline (2019) is long past: a reason is required
    with pytest.raises(DomainError, match="请写明逾期原因"):
        review.send_town_report(ready_town, actor=town_office)
    report = review.send_town_report(ready_town, actor=town_office, late_reason="系统上线晚于截止日")
    assert report.sent_by == town_office and not report.on_time()
    assert report.figures["villages"] and report.figures["estimates"]["share"]["value"] == "0.0000"
    assert set(Case.objects.filter(campaign=ready_town, in_scope=True).values_list("review", flat=True)) == {"sent"}
    assert AuditEvent.objects.filter(model="surveys.TownReport").count() == 1
    case = Case.objects.filter(campaign=ready_town).select_related("household", "campaign").first()
    with pytest.raises(DomainError, match="已报县，决定已锁定"):
        review.decide_case(case, actor=town_office, outcome="exit", reason="x")
    with pytest.raises(DomainError, match="已报送"):
        review.send_town_report(ready_town, actor=town_office, late_reason="x")
    # phase 4 opens without a further reason
    campaign = services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    assert campaign.current_phase == Campaign.PhaseNumber.SUPERVISE


def test_an_on_time_report_needs_no_reason(ready_town, town_office):
    Campaign.objects.filter(pk=ready_town.pk).update(county_report_deadline=timezone.localdate())
    report = review.send_town_report(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    assert report.on_time() and report.late_reason == ""


def test_the_estimate_counts_drawn_households_by_village_against_a_hand_computation(verify_town, town_office):
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    drawn = list(sample.entries.filter(reason=SampleEntry.Reason.DRAWN).order_by("village__order", "rank"))
    first, rest = drawn[0], drawn[1:]
    # the first drawn household: the verifiers find one covered person fewer (a material difference)
    revisit_sample(sample, town_office, entries=rest)
    # the village survey of that same household (another's may count other persons)
    survey_persons = (
        Survey.objects.filter(household=first.household, status=Survey.Status.SUBMITTED)
        .latest("version")
        .covered_persons
    )
    revisit_sample(sample, town_office, entries=[first], covered_persons=survey_persons - 1 if survey_persons else 2)
    assert Difference.objects.filter(revisit__entry=first, key="covered_persons", material=True).exists()

    result = review.sample_estimates(sample)
    population = {
        v: Case.objects.filter(campaign=verify_town, village_id=v, stage="reported", in_scope=True).count()
        for v in {e.village_id for e in drawn}
    }
    n = {v: sum(1 for e in drawn if e.village_id == v) for v in population}
    total = sum(population.values())
    # by hand: only the first household's village has a difference, 1 of its n drawn
    expected = Decimal(population[first.village_id]) / total * (Decimal(1) / n[first.village_id])
    assert abs(result["share"].value - expected) < Decimal("1e-12")
    village_row = next(r for r in result["villages"] if r.village.id == first.village_id)
    assert village_row.share.value == Decimal(1) / n[first.village_id]
    assert result["share"].lower <= result["share"].value <= result["share"].upper
    # the method is stated, and full-check households are not part of the estimate
    assert result["share"].method.startswith(sampling.ESTIMATE_METHOD[:10])
    assert result["share"].n == len(drawn)


def test_the_report_page_lists_the_problems_and_only_the_town_may_send(client, verify_town, town_office, leadership):
    client.force_login(leadership)
    page = client.get(reverse("review_town_report")).content.decode()
    assert "暂不能报县" in page and "报县并锁定镇级决定" not in page
    assert client.post(reverse("review_town_report_send")).status_code == 403
    client.force_login(town_office)
    response = client.post(reverse("review_town_report_send"), {"late_reason": "x"}, follow=True)
    assert "暂不能报县" in response.content.decode() and not TownReport.objects.exists()


def test_village_cadres_do_not_see_the_town_report(client, verify_town, cadre_a):
    client.force_login(cadre_a)
    assert client.get(reverse("review_town_report")).status_code == 403


def test_nothing_is_decided_before_the_villages_sample_is_drawn(verify_town, town_office):
    campaign = verify_town
    case = Case.objects.filter(campaign=campaign, stage="reported").select_related("campaign", "household").first()
    with pytest.raises(DomainError, match="尚未抽取镇级核查样本"):
        review.decide_case(case, actor=town_office, outcome="exit", reason="x")
    with pytest.raises(DomainError, match="没有可按建议批量决定的户"):
        review.decide_all_as_proposed(campaign, actor=town_office)
    assert not Decision.objects.exists()
