"""A village must not learn from its households' timelines which of them the town will re-visit, nor why."""

from django.urls import reverse

from surveys import services as survey_services


def test_a_village_does_not_see_the_towns_sample_on_its_timeline(client, cadre_a, town_office, survey_a, campaign):
    from cases.models import Campaign
    from tests.surveys.conftest import submit_complete

    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, _user("group02"))
    survey_services.report_village(campaign, survey_a.household.village, actor=cadre_a)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    sample, _ = survey_services.draw_sample(Campaign.objects.get(pk=campaign.pk), level="town", actor=town_office)
    from surveys import revisits

    revisits.start_revisit(sample.entries.get(household=survey_a.household), actor=town_office)
    page = client.get(reverse("household_detail", args=[survey_a.household.public_id])).content.decode()
    assert "开始入户核查" not in page and "入户调查" in page
    client.force_login(town_office)
    page = client.get(reverse("household_detail", args=[survey_a.household.public_id])).content.decode()
    assert "开始入户核查" in page


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)
