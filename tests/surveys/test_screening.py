"""大排查: the town office puts non-dibao hardship households on the list for form B."""

import pytest
from django.urls import reverse

from surveys import services
from tests.surveys.conftest import database_state


@pytest.fixture
def edge(make_household, village_a):
    return make_household(village_a, head="孙长林", others=(), dibao=False)


def test_it_puts_a_non_dibao_household_on_form_b(client, town_office, cadre_a, edge, campaign):
    before = database_state()
    with pytest.raises(services.DomainError, match="排查名单"):
        services.start_survey(edge, campaign=campaign, actor=cadre_a)
    assert database_state() == before
    client.force_login(town_office)
    client.post(reverse("survey_screening_add", args=[edge.public_id]), {"kind": "edge"})
    page = client.get(reverse("survey_screening")).content.decode()
    assert "孙长林" in page and "低保边缘户" in page
    survey = services.start_survey(edge, campaign=campaign, actor=cadre_a)
    assert survey.form == "B"


def test_it_refuses_a_household_already_in_dibao(client, town_office, household_a):
    client.force_login(town_office)
    before = database_state()
    response = client.post(reverse("survey_screening_add", args=[household_a.public_id]), {"kind": "edge"}, follow=True)
    assert "在保家庭使用表A复核，不需加入排查名单" in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("persona", ["cadre_a", "leadership", "county_officer"])
def test_it_refuses_anyone_but_the_town_office(request, client, persona, edge):
    client.force_login(request.getfixturevalue(persona))
    before = database_state()
    response = client.post(reverse("survey_screening_add", args=[edge.public_id]), {"kind": "edge"})
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
    assert "孙长林" not in client.get(reverse("survey_screening")).content.decode()
