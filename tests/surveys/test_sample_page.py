"""The sample page: per-village figures and the estimate, one village's households a page at a
time, the county's own sample drawn by the county; a fixed number of queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Campaign
from surveys import review, services
from surveys.models import Sample
from tests.surveys.conftest import revisit_sample


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_sample_page_shows_each_villages_progress_and_the_estimate(client, verify_town, town_office, village_a):
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(sample, town_office, entries=list(sample.entries.filter(village=village_a)))
    client.force_login(town_office)
    url = reverse("survey_sample", args=["town"])
    _, page = _queries(client, url)
    assert "抽样推断（全镇）" in page and "95%置信区间" in page and "分层估计" in page
    _, page = _queries(client, url + f"?village={village_a.code}")
    assert 'data-testid="sample-entries"' in page and "已提交" in page
    head = sample.entries.filter(village=village_a).first().household.head().name
    assert head in page
    estimate = review.sample_estimates(sample)["share"].as_dict()
    assert estimate["value"] in page


def test_the_sample_page_has_a_fixed_query_budget(client, verify_town, town_office, village_a):
    from cases.demo import generate_households
    from surveys.demo import generate_surveys
    from surveys.models import VillageReport

    services.draw_sample(verify_town, level="town", actor=town_office)
    client.force_login(town_office)
    url = reverse("survey_sample", args=["town"]) + f"?village={village_a.code}"
    small, _ = _queries(client, url)
    # more households reported in every village, drawn with the same seed
    VillageReport.objects.all().delete()
    generate_households(verify_town, 90, seed=41)
    generate_surveys(verify_town, seed=41, complete=True)
    large, _ = _queries(client, url)
    assert large == small


def test_the_county_draws_its_own_sample_in_phase_4(client, verify_town, town_office, county_officer):
    Campaign.objects.filter(pk=verify_town.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
    url = reverse("survey_sample", args=["county"])
    client.force_login(town_office)
    assert "抽取样本" not in client.get(url).content.decode()
    assert client.post(reverse("survey_sample_draw", args=["county"])).status_code == 403
    client.force_login(county_officer)
    assert "抽取样本" in client.get(url).content.decode()
    response = client.post(reverse("survey_sample_draw", args=["county"]), follow=True)
    assert "已抽样，种子" in response.content.decode()
    assert Sample.objects.get(level="county").drawn_by == county_officer


def test_the_county_re_visits_its_own_sample_and_the_town_only_reads_it(
    client, verify_town, town_office, county_officer
):
    Campaign.objects.filter(pk=verify_town.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
    sample, _ = services.draw_sample(Campaign.objects.get(pk=verify_town.pk), level="county", actor=county_officer)
    entry = sample.entries.select_related("household").first()
    start = reverse("survey_revisit_start", args=["county", entry.household.public_id])
    client.force_login(town_office)
    assert client.post(start).status_code == 403
    client.force_login(county_officer)
    response = client.post(start, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "county2" in page  # the second county officer may sign
    revisit = entry.revisit
    client.force_login(town_office)
    assert client.get(reverse("survey_revisit", args=[revisit.public_id])).status_code == 200
    assert client.post(reverse("survey_revisit_verifiers", args=[revisit.public_id])).status_code == 403


def test_the_county_sample_shows_which_households_the_town_re_visited(client, ready_town, town_office, county_officer):
    review.send_town_report(ready_town, actor=town_office, late_reason="测试")
    campaign = services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    sample, _ = services.draw_sample(campaign, level="county", actor=county_officer)
    both = sample.entries.filter(household__sample_entries__sample__level="town").select_related("village").first()
    # full-check households (relatives of cadres) are in both samples whatever the draw
    assert both is not None
    client.force_login(county_officer)
    page = client.get(reverse("survey_sample", args=["county"]) + f"?village={both.village.code}").content.decode()
    assert "镇级已核查" in page
