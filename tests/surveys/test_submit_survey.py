"""Submitting a survey: complete and signed, within the phase, then locked with its figures."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import Campaign, Member
from surveys import services
from tests.surveys.conftest import database_state, fill_in, form_data, sign_both, submit_complete


def test_it_submits_and_locks_a_survey_signed_by_two_investigators(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    died = {"m-1-presence": "died", "m-1-change_date": "2019-10-01", "m-1-change_reason": "病故"}
    fill_in(client, survey_a, **died)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    # 拟保障人数 still says 2 while one member is counted: refused with a clear message, nothing saved
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    assert "拟保障人数（2人）超过计入家庭人口（1人）" in response.content.decode()
    survey_a.refresh_from_db()
    assert survey_a.status == "draft"
    fill_in(client, survey_a, **died, **{"h-covered_persons": "1"})
    sign_both(client, survey_a, cadre_a, group_leader_a)
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]))
    assert response["Location"] == reverse("survey_detail", args=[survey_a.public_id])
    survey_a.refresh_from_db()
    assert survey_a.status == "submitted" and survey_a.submitted_by == cadre_a
    # only 张建国 counts now: 3,600 / 12 / 1 = 300.00; (505 − 300) × covered 1 = 205.00
    assert survey_a.per_capita_income == Decimal("300.00")
    assert survey_a.suggested_amount == Decimal("205.00") and survey_a.suggested_outcome == "adjust"
    signatures = list(survey_a.signatures.order_by("order"))
    assert [s.method for s in signatures] == ["本人登录签字", "同一设备输入密码签字"]
    assert all(s.signed_at for s in signatures)
    spouse = Member.objects.get(name="李秀英")
    assert spouse.status == "died" and spouse.status_changed_on == dt.date(2019, 10, 1)
    # locked: the edit page now shows the read-only survey, and a POST changes nothing
    before = database_state()
    response = client.post(
        reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **{"h-findings": "改"})
    )
    assert response["Location"] == reverse("survey_detail", args=[survey_a.public_id])
    with pytest.raises(services.DomainError, match="锁定"):
        services.save_survey(survey_a, services.input_from(survey_a), actor=cadre_a)
    assert database_state() == before
    survey_a.refresh_from_db()
    assert survey_a.findings == ""


def test_it_refuses_a_survey_that_is_incomplete_or_unsigned(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    page = response.content.decode()
    for text in ["请填写入户调查日期", "表A须说明享受低保的原因", "至少需要两名调查人", "请选择主要致困原因"]:
        assert text in page
    assert database_state() == before
    survey_a.refresh_from_db()
    assert survey_a.status == "draft"


def test_it_refuses_a_cadre_after_the_review_phase(client, cadre_a, town_office, household_a, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    campaign.refresh_from_db()
    survey = services.start_survey(household_a, campaign=campaign, actor=town_office, late_reason="补调查")
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_submit", args=[survey.public_id]), follow=True)
    assert "第二阶段" in response.content.decode()
    assert database_state() == before


def test_it_keeps_the_figures_signed_for_and_shows_a_recomputation_under_new_standards(
    client, cadre_a, group_leader_a, survey_a, campaign
):
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a)
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    assert 'data-testid="recomputed"' not in page
    Campaign.objects.filter(pk=campaign.pk).update(rural_standard=Decimal("600"))
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    # stored: 3,600 / 12 / 2 = 150.00 against 505; recomputed against 600: (600 − 150) × 2 = 900.00
    assert "人均月收入 <strong>150.00</strong> 元（标准 505.00 元）" in page
    assert "按当前标准重新测算：人均月收入 150.00 元（标准 600.00 元），建议调整金额或类别，月补差 900.00 元" in page


def test_it_answers_404_to_another_villages_cadre(client, cadre_a, cadre_b, group_leader_a, survey_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    client.force_login(cadre_b)
    before = database_state()
    for response in [
        client.post(reverse("survey_submit", args=[survey_a.public_id])),
        client.get(reverse("survey_detail", args=[survey_a.public_id])),
    ]:
        assert response.status_code == 404
        page = response.content.decode()
        assert "没有找到" in page and "张建国" not in page
    assert database_state() == before


def test_it_refuses_read_only_roles_but_shows_them_the_survey(
    client, read_only_user, cadre_a, group_leader_a, survey_a
):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    client.force_login(read_only_user)
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    assert "草稿</span> 第1版" in page and "张建国：在户" in page
    before = database_state()
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]))
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
