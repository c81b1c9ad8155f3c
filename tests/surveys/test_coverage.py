"""The coverage list: per village, households visited, in draft and not visited, and the report."""

from django.urls import reverse

from surveys.models import Survey
from tests.surveys.conftest import submit_complete


def test_it_counts_households_by_survey_state(client, cadre_a, group_leader_a, household_a, make_household, village_a):
    drafted = make_household(village_a, head="钱有福")
    make_household(village_a, head="孙长林")
    client.force_login(cadre_a)
    for household in (household_a, drafted):
        client.post(reverse("survey_start", args=[household.public_id]))
    submit_complete(client, Survey.objects.get(household=household_a), cadre_a, group_leader_a)
    page = client.get(reverse("survey_coverage")).content.decode()
    # to visit 3, submitted 1, draft 1, not visited 1
    assert '<td class="text-end">3</td><td class="text-end">1</td><td class="text-end">1</td>' in page
    assert '<td class="text-end text-danger">1</td>' in page and "未上报" in page


def test_it_marks_a_report_after_the_deadline_as_overdue(client, cadre_a, group_leader_a, household_a, village_a):
    client.force_login(cadre_a)
    client.post(reverse("survey_start", args=[household_a.public_id]))
    submit_complete(client, Survey.objects.get(), cadre_a, group_leader_a)
    client.post(reverse("survey_report", args=[village_a.code]))
    coverage = client.get(reverse("survey_coverage")).content.decode()
    assert "逾期" in coverage and "按时" not in coverage  # reported in 2026, after the 2019 deadline


def test_it_flags_a_village_without_a_report_after_the_deadline_as_overdue(client, town_office, campaign, household_a):
    import datetime as dt

    from cases.models import Campaign

    client.force_login(town_office)
    Campaign.objects.filter(pk=campaign.pk).update(
        village_report_deadline=dt.date.today() + dt.timedelta(days=1),
        county_report_deadline=dt.date.today() + dt.timedelta(days=5),
    )
    page = client.get(reverse("survey_coverage")).content.decode()
    assert "逾期未上报" not in page and "未上报" in page
    Campaign.objects.filter(pk=campaign.pk).update(village_report_deadline=dt.date(2019, 11, 6))
    page = client.get(reverse("survey_coverage")).content.decode()
    assert page.count('data-testid="overdue"') == 15
