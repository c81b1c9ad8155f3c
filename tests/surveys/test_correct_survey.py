"""Correcting a submitted survey: a new version with its reason; the old one stays readable."""

import pytest
from django.urls import reverse

from surveys.models import Survey
from tests.surveys.conftest import database_state, submit_complete


@pytest.fixture
def submitted_a(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a)
    client.logout()
    survey_a.refresh_from_db()
    return survey_a


def test_it_makes_a_new_version_with_a_reason_and_shows_the_differences(client, cadre_a, group_leader_a, submitted_a):
    client.force_login(cadre_a)
    client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": "工资收入登记错误"})
    v2 = Survey.objects.get(version=2)
    assert v2.status == "draft" and v2.supersedes == submitted_a and v2.correction_reason == "工资收入登记错误"
    submit_complete(client, v2, cadre_a, group_leader_a, **{"m-0-inc_wage": "4800"})
    submitted_a.refresh_from_db()
    v2.refresh_from_db()
    assert (submitted_a.status, v2.status) == ("superseded", "submitted")
    page = client.get(reverse("survey_detail", args=[v2.public_id])).content.decode()
    assert "与第1版相比的变化" in page
    assert "张建国：工资性收入" in page and "<del>3600.00</del>" in page and "4800.00" in page
    old = client.get(reverse("survey_detail", args=[submitted_a.public_id])).content.decode()
    assert "已被更正" in old and "3600.00" in old


def test_it_refuses_a_correction_without_a_reason(client, cadre_a, submitted_a):
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": ""}, follow=True)
    assert "请填写更正原因" in response.content.decode()
    assert database_state() == before


def test_it_refuses_a_second_correction_while_one_is_open(client, cadre_a, submitted_a):
    client.force_login(cadre_a)
    client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": "工资收入登记错误"})
    before = database_state()
    response = client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": "再改"}, follow=True)
    assert "该户已有一份未提交的更正" in response.content.decode()
    assert database_state() == before


def test_it_answers_404_to_another_villages_cadre(client, cadre_b, submitted_a):
    client.force_login(cadre_b)
    before = database_state()
    response = client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": "工资收入登记错误"})
    assert response.status_code == 404
    page = response.content.decode()
    assert "没有找到" in page and "张建国" not in page
    assert database_state() == before


def test_it_refuses_read_only_roles(client, read_only_user, submitted_a):
    client.force_login(read_only_user)
    before = database_state()
    response = client.post(reverse("survey_correct", args=[submitted_a.public_id]), {"reason": "工资收入登记错误"})
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
