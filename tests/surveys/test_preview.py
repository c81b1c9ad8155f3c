"""The eligibility preview: what the form holds now, assessed without saving."""

from django.urls import reverse

from tests.surveys.conftest import database_state, form_data


def test_it_reassesses_unsaved_input(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    data = form_data(survey_a, **{"m-0-inc_wage": "12000", "m-1-inc_wage": "3000"})
    before = database_state()
    page = client.post(reverse("survey_preview", args=[survey_a.public_id]), data).content.decode()
    # 15,000 / 12 / 2 = 625.00 ≥ 505: exit
    assert 'data-testid="per-capita">625.00<' in page and "清退" in page
    assert database_state() == before  # nothing saved


def test_it_asks_for_corrections_instead_of_assessing_invalid_input(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(
        reverse("survey_preview", args=[survey_a.public_id]), form_data(survey_a, **{"m-0-inc_wage": "-5"})
    )
    page = response.content.decode()
    assert "表中有需要改正的项目" in page and 'data-testid="per-capita"' not in page
    assert database_state() == before


def test_it_answers_404_to_another_villages_cadre(client, cadre_b, survey_a):
    client.force_login(cadre_b)
    response = client.post(reverse("survey_preview", args=[survey_a.public_id]), form_data(survey_a))
    assert response.status_code == 404
    page = response.content.decode()
    assert "没有找到" in page and 'data-testid="per-capita"' not in page


def test_it_refuses_read_only_roles(client, read_only_user, survey_a):
    client.force_login(read_only_user)
    response = client.post(reverse("survey_preview", args=[survey_a.public_id]), form_data(survey_a))
    assert response.status_code == 403
    page = response.content.decode()
    assert "没有权限" in page and 'data-testid="per-capita"' not in page
