"""A cadre's phone loses its connection while saving a survey: nothing typed is lost."""

import pytest

from surveys import services
from surveys.models import Survey
from tests.browser.conftest import ARTIFACTS, assert_fits_phone, screenshot
from tests.browser.test_survey_journey import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typed_input_survives_a_dropped_connection_and_a_reload(phone, cadre_a, household_a, campaign):
    survey = services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    page = phone
    _login(page, cadre_a.username)
    page.goto(f"/surveys/{survey.public_id}/edit/")
    page.get_by_label("调查情况").fill("户主腿伤，停工三个月")
    page.get_by_label("养殖规模").fill("养鸡30只")

    page.context.set_offline(True)
    page.get_by_role("button", name="保存草稿").click()
    status = page.get_by_test_id("save-status")
    status.filter(has_text="保存没有送达服务器").wait_for()
    assert_fits_phone(page)
    screenshot(page, "14-save-offline")
    page.screenshot(path=str(ARTIFACTS / "14-save-offline-screen.png"))  # what the phone shows
    survey.refresh_from_db()
    assert survey.findings == "" and survey.livestock == ""

    # back online, the page is reloaded (as a cadre would): the input is offered back
    page.context.set_offline(False)
    page.reload()
    offer = page.get_by_test_id("restore-offer")
    offer.wait_for()
    assert page.get_by_label("调查情况").input_value() == ""
    offer.get_by_role("button", name="恢复").click()
    assert page.get_by_label("调查情况").input_value() == "户主腿伤，停工三个月"
    assert page.get_by_label("养殖规模").input_value() == "养鸡30只"
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("草稿已保存").wait_for()
    survey = Survey.objects.get(pk=survey.pk)
    assert survey.findings == "户主腿伤，停工三个月" and survey.livestock == "养鸡30只"
    page.reload()
    assert not page.get_by_test_id("restore-offer").is_visible()


def test_restored_input_goes_through_the_version_check(phone, cadre_a, household_a, campaign):
    survey = services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    page = phone
    _login(page, cadre_a.username)
    page.goto(f"/surveys/{survey.public_id}/edit/")
    page.get_by_label("调查情况").fill("本机填写")
    page.context.set_offline(True)
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_test_id("save-status").filter(has_text="保存没有送达服务器").wait_for()
    # meanwhile someone else saves the draft
    data = services.input_from(Survey.objects.get(pk=survey.pk).with_rows())
    data.header["livestock"] = "养猪2头"
    services.save_survey(Survey.objects.get(pk=survey.pk), data, actor=cadre_a)
    page.context.set_offline(False)
    page.reload()
    page.get_by_test_id("restore-offer").get_by_role("button", name="恢复").click()
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_test_id("conflict").wait_for()
    assert "养猪2头" in page.content()
    survey = Survey.objects.get(pk=survey.pk)
    assert survey.livestock == "养猪2头" and survey.findings == ""
