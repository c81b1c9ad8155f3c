"""Every survey URL against every persona."""

import pytest
from django.urls import reverse

PERSONAS = ["cadre_a", "cadre_b", "group_leader_a", "town_office", "leadership", "county_officer", "admin_user"]
SEES_A = {"cadre_a", "group_leader_a", "town_office", "leadership", "county_officer", "admin_user"}
SURVEYS = {"cadre_a", "cadre_b", "group_leader_a", "town_office", "admin_user"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_every_survey_page_by_role_and_area(persona, request, client, survey_a, village_a):
    client.force_login(request.getfixturevalue(persona))
    sees, writes = persona in SEES_A, persona in SURVEYS
    expected = {
        reverse("survey_coverage"): 200,
        reverse("survey_screening"): 200,
        reverse("survey_village", args=[village_a.code]): 200 if sees else 404,
        reverse("survey_detail", args=[survey_a.public_id]): (302 if writes else 200) if sees else 404,
        reverse("survey_edit", args=[survey_a.public_id]): (200 if writes else 403) if sees else 404,
        reverse("survey_household", args=[survey_a.household.public_id]): 302 if sees else 404,
    }
    for url, status in expected.items():
        assert client.get(url).status_code == status, (persona, url)


def test_the_coverage_page_lists_only_the_users_villages(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    page = client.get(reverse("survey_coverage")).content.decode()
    assert "湖滨村" in page and "江岸村" not in page


def test_anonymous_visitors_are_sent_to_login(client, survey_a, village_a):
    for url in [
        reverse("survey_coverage"),
        reverse("survey_screening"),
        reverse("survey_village", args=[village_a.code]),
        reverse("survey_detail", args=[survey_a.public_id]),
        reverse("survey_edit", args=[survey_a.public_id]),
        reverse("survey_household", args=[survey_a.household.public_id]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    for name in ["survey_preview", "survey_submit", "survey_sign", "survey_investigators", "survey_correct"]:
        assert client.post(reverse(name, args=[survey_a.public_id])).status_code == 302


WHOLE_TOWN = {"town_office", "leadership", "county_officer", "admin_user"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_the_town_level_pages_by_role(persona, request, client, campaign):
    """The sample and the investigators' record: whole-town roles read them; villages and work
    groups may not see in advance which of their households will be re-visited."""
    client.force_login(request.getfixturevalue(persona))
    status = 200 if persona in WHOLE_TOWN else 403
    for url in [reverse("survey_sample", args=["town"]), reverse("survey_investigators_record")]:
        response = client.get(url)
        assert response.status_code == status, (persona, url)
        assert ("样本" in response.content.decode() or "调查人记录" in response.content.decode()) == (status == 200)
    assert client.get(reverse("survey_sample", args=["nowhere"])).status_code in (403, 404)


def test_anonymous_visitors_are_sent_to_login_from_the_new_pages(client, campaign):
    for url in [
        reverse("survey_sample", args=["town"]),
        reverse("survey_investigators_record"),
        reverse("accounts"),
        reverse("account_create"),
        reverse("password_change"),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    for url in [
        reverse("survey_sample_draw", args=["town"]),
        reverse("campaign_advance"),
        reverse("survey_screening_from_registry"),
    ]:
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
