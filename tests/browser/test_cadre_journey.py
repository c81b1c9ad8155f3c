"""A village cadre on a phone: log in, see only their village, edit a member,
see the change in the household's history."""

import pytest

from cases.models import AuditEvent
from tests.browser.conftest import assert_fits_phone, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_cadre_edits_a_member_on_a_phone(phone, cadre_a, household_a, household_b):
    page = phone
    page.goto("/")
    page.get_by_label("用户名").fill(cadre_a.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    assert_fits_phone(page)
    screenshot(page, "01-home-cadre")

    page.goto("/households/")
    listing = page.get_by_test_id("household-list")
    assert "张建国" in listing.inner_text()
    assert "王德华" not in listing.inner_text()  # 江岸村 is another village
    assert_fits_phone(page)
    screenshot(page, "02-household-list")

    listing.get_by_text("张建国").click()
    page.get_by_role("heading", name="张建国户").wait_for()
    screenshot(page, "03-household-detail")
    card = page.get_by_test_id("members").locator(".card", has_text="李秀英")
    card.get_by_role("link", name="修改").click()
    page.get_by_label("健康状况").select_option(label="长期慢性病")
    page.get_by_label("劳动能力").select_option(label="弱或半劳动力")
    assert_fits_phone(page)
    screenshot(page, "04-member-form")
    page.get_by_role("button", name="保存").click()
    # never recorded before: the form asks for them instead of assuming 已婚、初中、务农
    page.get_by_text("请选择婚姻状况").wait_for()
    page.get_by_label("婚姻状况").select_option(label="已婚")
    page.get_by_label("文化程度").select_option(label="小学")
    page.get_by_label("从业状况").select_option(label="务农")
    page.get_by_role("button", name="保存").click()

    page.get_by_text("李秀英的信息已保存").wait_for()
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "长期慢性病" in timeline and "弱或半劳动力" in timeline
    assert cadre_a.username in timeline
    assert_fits_phone(page)
    screenshot(page, "05-history")
    event = AuditEvent.objects.get(action="update", model="cases.Member")
    assert event.actor == cadre_a and event.changes["health"] == ["healthy", "chronic"]

    # another village's household is not found, even with its address in hand
    response = page.goto(f"/households/{household_b.public_id}/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "没有找到"
    assert "王德华" not in page.content()
