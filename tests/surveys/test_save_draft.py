"""Saving a draft survey: any section may still be empty, bad input saves nothing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from surveys import services
from tests.surveys.conftest import database_state, fill_in, form_data


def test_it_saves_a_draft_and_shows_the_figures(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    # 6,000 wage + 1,200 crop = 7,200; 2 people: 7,200 / 12 / 2 = 300.00
    fill_in(client, survey_a, **{"m-0-inc_wage": "6000", "m-1-inc_crop": "1200"})
    page = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    assert 'data-testid="per-capita">300.00<' in page
    assert "调整金额或类别" in page  # (505 − 300) × 2 = 410.00 ≠ current 505.00


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"m-0-inc_wage": "-5"}, "确保该值大于或等于0"),
        ({"h-visit_date": "2099-01-01"}, "日期不能晚于今天"),
        ({"m-1-presence": "unknown"}, "选择一个有效的选项"),
        ({"m-1-presence": "died"}, "请填写变动日期"),
    ],
)
def test_it_refuses_bad_input_with_a_message_and_saves_nothing(client, cadre_a, survey_a, overrides, message):
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before
    survey_a.refresh_from_db()
    assert survey_a.visit_date is None
    assert not survey_a.members.filter(incomes__isnull=False).exists()


def test_it_refuses_an_unknown_income_category(survey_a, cadre_a):
    data = services.input_from(survey_a)
    data.members[0].incomes = {"lottery": Decimal("100")}
    before = database_state()
    with pytest.raises(services.DomainError, match="未知的收入类别"):
        services.save_survey(survey_a, data, actor=cadre_a)
    assert database_state() == before


def test_it_answers_404_to_another_villages_cadre(client, cadre_b, survey_a):
    client.force_login(cadre_b)
    url = reverse("survey_edit", args=[survey_a.public_id])
    before = database_state()
    for response in [client.get(url), client.post(url, form_data(survey_a, **{"h-findings": "改"}))]:
        assert response.status_code == 404
        page = response.content.decode()
        assert "没有找到" in page and "张建国" not in page
    assert database_state() == before


def test_it_refuses_read_only_roles(client, read_only_user, survey_a):
    client.force_login(read_only_user)
    before = database_state()
    response = client.post(
        reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **{"h-findings": "改"})
    )
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
