"""A village cadre surveys a household on a phone, with a second investigator
signing on the same device, and the household leaves the unvisited list."""

import pytest
from django.contrib.auth import get_user_model

from surveys.models import Survey
from tests.browser.conftest import assert_fits_phone, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


def test_a_cadre_fills_form_a_and_submits_it_with_a_second_investigator(
    phone, browser, live_server, cadre_a, group_leader_a, household_a, cadre_b
):
    page = phone
    _login(page, cadre_a.username)
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="入户调查", exact=True).click()
    page.get_by_role("link", name="湖滨村").click()
    page.get_by_role("link", name="未走访").click()
    listing = page.get_by_test_id("survey-households")
    assert "张建国" in listing.inner_text()
    assert_fits_phone(page)
    screenshot(page, "10-unvisited")
    listing.locator(".list-group-item", has_text="张建国").get_by_role("button", name="开始调查").click()
    page.get_by_role("heading", name="表A：城乡低保对象复核入户调查表").wait_for()

    page.get_by_label("入户调查日期").fill("2019-10-25")
    rows = page.get_by_test_id("member-row")
    head, spouse = rows.nth(0), rows.nth(1)
    head.locator("summary").click()
    head.get_by_label("工资性收入").fill("6000")
    spouse.locator("summary").click()
    spouse.get_by_label("经营净收入：种植").fill("1200")
    # 7,200 / 12 / 2 = 300.00, updated while typing, before anything is saved
    panel = page.get_by_test_id("eligibility")
    page.get_by_test_id("per-capita").filter(has_text="300.00").wait_for()
    assert "调整金额或类别" in panel.inner_text()  # (505 − 300) × 2 = 410.00 ≠ 505.00
    assert_fits_phone(page)
    screenshot(page, "11-survey-incomes")
    spouse.get_by_label("工资性收入").fill("18000")  # 25,200 / 12 / 2 = 1,050.00: above the standard
    page.get_by_test_id("per-capita").filter(has_text="1050.00").wait_for()
    assert "清退" in panel.inner_text()
    spouse.get_by_label("工资性收入").fill("")
    page.get_by_test_id("per-capita").filter(has_text="300.00").wait_for()

    page.get_by_label("主要致困原因").select_option(label="因病")
    page.get_by_label("享受低保原因").fill("户主患慢性病，配偶务农，收入低。")
    page.get_by_label("政策宣传单已送达").check()
    page.get_by_label("调查结论").select_option(label="调整金额或类别")
    page.get_by_label("户主确认").select_option(label="户主签字")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("草稿已保存").wait_for()

    page.get_by_label("cadre02", exact=False).check()
    page.get_by_label("group02", exact=False).check()
    page.get_by_role("button", name="确定调查人").click()
    page.get_by_text("调查人已确定").wait_for()
    page.get_by_role("button", name="本人签字").click()
    page.get_by_text("cadre02已签字").wait_for()
    page.get_by_label("group02 的密码").fill(PASSWORD)
    page.get_by_role("button", name="在本设备签字").click()
    page.get_by_text("group02已签字").wait_for()
    assert_fits_phone(page)
    screenshot(page, "12-signed")
    page.get_by_role("button", name="提交调查").click()
    page.get_by_text("调查已提交并锁定").wait_for()
    assert "已提交" in page.get_by_test_id("survey-status").inner_text()
    screenshot(page, "13-submitted")

    survey = Survey.objects.get()
    assert survey.status == "submitted" and str(survey.per_capita_income) == "300.00"
    page.goto(f"/surveys/villages/{household_a.village.code}/?status=not_visited")
    assert "张建国" not in page.get_by_test_id("survey-households").inner_text()

    # a cadre of another village gets 404 on the survey
    other = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    other_page = other.new_page()
    _login(other_page, cadre_b.username)
    response = other_page.goto(f"/surveys/{survey.public_id}/")
    assert response.status == 404
    other.close()
    assert get_user_model().objects.filter(username="group02").exists()
