"""A leadership-group member on a phone (issue #11): opens the dashboard, sees each village's
progress and the policy outreach, drills into the village with the most left to do, and gets
403 on every write within reach; a villager opens the public notice board from its QR code.

The town is prepared with the project's own generators (households, surveys mid phase 2) and
services (a training session); the browser does what the member does.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from cases.demo import generate_households
from cases.models import AuditEvent, Campaign, Case, Complaint, GreenChannel, Household, TemporaryAid, Village
from reports import outreach
from reports.models import TrainingAttendance, TrainingSession
from surveys.demo import generate_surveys
from surveys.models import Sample, Survey, VillageReport
from surveys.services import coverage_by_village
from tests.browser.conftest import assert_fits_phone, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def surveying_town(campaign, town_office):
    """Mid phase 2: 150 households, the villages at different stages of their visits, one training."""
    generate_households(campaign, 150, seed=11)
    generate_surveys(campaign, seed=11)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.REVIEW, hotline="0553-6712345")
    campaign = Campaign.objects.get(pk=campaign.pk)
    outreach.record_training(
        campaign,
        actor=town_office,
        held_on=dt.date(2019, 10, 16),
        place="镇政府三楼会议室",
        topic="低保政策与入户调查培训",
        attendance=dict.fromkeys(Village.objects.all(), 3),
        town_attendees=8,
    )
    return campaign


def _written_rows() -> dict[str, list[dict]]:
    """Every row the writes below could touch (sign-in events aside)."""
    sign_in = [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT]
    models = [TrainingSession, TrainingAttendance, Campaign, Household, Case, Survey, VillageReport, Sample]
    models += [GreenChannel, TemporaryAid, Complaint, get_user_model()]
    state = {m.__name__: list(m.objects.order_by("pk").values()) for m in models}
    state["AuditEvent"] = list(AuditEvent.objects.exclude(action__in=sign_in).order_by("pk").values())
    return state


def test_the_leadership_follows_the_campaign_on_a_phone_and_can_change_nothing(phone, leadership, surveying_town):
    page = phone
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(leadership.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    page.get_by_role("button", name="菜单").click()
    page.locator("#nav").get_by_role("link", name="进度看板", exact=True).click()
    page.get_by_role("heading", name="进度看板").wait_for()
    assert_fits_phone(page)
    screenshot(page, "dashboard-01-leader")

    # per village: surveyed of listed, as the coverage counts them
    villages = list(Village.objects.order_by("order", "code"))
    coverage = coverage_by_village(surveying_town, villages)
    surveyed = page.get_by_test_id("surveyed").locator("li")
    assert surveyed.count() == len(villages)
    for i, row in enumerate(coverage):
        text = surveyed.nth(i).inner_text()
        assert row["village"].name in text and f"{row['submitted']}/{row['total']}" in text
    # the policy outreach from the surveys and the training record
    asked = Survey.objects.filter(campaign=surveying_town, status="submitted")
    knows = asked.filter(knows_policy=True).count()
    outreach_text = page.get_by_test_id("outreach-totals").inner_text()
    assert f"{asked.filter(flyer_delivered=True).count()}/{asked.count()} 户" in outreach_text
    assert f"知晓 {knows}/{asked.count()} 户" in outreach_text
    assert "1 场" in outreach_text and f"参训 {3 * len(villages) + 8} 人次" in outreach_text

    # the slowest village heads the ranking: most households still to survey
    left = {row["village"].code: row["total"] - row["submitted"] for row in coverage}
    slowest = Village.objects.get(code=max(left, key=left.get))
    first = page.get_by_test_id("ranked").locator("li").first
    assert slowest.name in first.inner_text() and first.get_by_test_id("left").inner_text() == str(left[slowest.code])
    assert left[slowest.code] > min(left.values())
    first.get_by_role("link").click()
    page.get_by_role("heading", name=f"{slowest.name} 入户调查").wait_for()
    assert_fits_phone(page)
    screenshot(page, "dashboard-02-slowest-village")
    # what is left there: not visited plus in draft, as the ranking said
    counts = []
    for tab in ("未走访", "调查中"):
        page.get_by_role("link", name=tab, exact=True).click()
        page.wait_for_url(f"**status={'not_visited' if tab == '未走访' else 'draft'}")
        counts.append(int(page.get_by_text("共 ").first.inner_text().split()[1]))
    assert sum(counts) == left[slowest.code]
    # the leadership sees the list but has nothing to press
    assert page.get_by_role("main").get_by_role("button", name="开始调查").count() == 0
    assert page.get_by_role("button", name="上报复核结果").count() == 0

    # every write within reach answers 403 and changes nothing
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    pending = Case.objects.filter(campaign=surveying_town, village=slowest, stage=Case.Stage.PENDING).first()
    household = pending.household
    session = TrainingSession.objects.get()
    writes = {
        "/dashboard/training/new/": {"held_on": "2019-10-18", "place": "镇政府", "topic": "x", "town_attendees": "3"},
        f"/dashboard/training/{session.public_id}/edit/": {"held_on": "2019-10-16", "place": "x", "topic": "x"},
        f"/surveys/start/{household.public_id}/": {},
        f"/surveys/villages/{slowest.code}/report/": {"note": "领导小组上报"},
        "/surveys/phase/advance/": {"reason": "领导小组推进"},
        "/surveys/screening/from-registry/": {},
        "/surveys/sample/town/draw/": {},
        "/surveys/review/bulk/": {"village": slowest.code},
        f"/surveys/notices/{slowest.code}/open/": {},
        "/campaign/edit/": {"name": "改名", "hotline": "12345"},
        "/households/new/": {"village": slowest.code},
        f"/households/{household.public_id}/edit/": {"address": "新地址"},
        "/green/new/": {},
        "/aid/new/": {"person": "某人", "reason": "x", "amount": "100"},
        "/complaints/new/": {"content": "x"},
        "/accounts/manage/new/": {"username": "leader2"},
    }
    before = _written_rows()
    for url, data in writes.items():
        response = page.request.post(url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)
        assert response.status == 403 and "没有权限" in response.text(), (url, response.status)
    assert _written_rows() == before


def test_a_villager_opens_the_notice_board_on_a_phone(phone, surveying_town):
    page = phone
    page.goto("/board/")
    page.get_by_role("heading", name="泥汊镇最低生活保障政策公开栏").wait_for()
    assert "505.00 元/人·月" in page.get_by_test_id("board-standards").inner_text()
    assert "0553-6712345" in page.get_by_test_id("board-hotline").inner_text()
    assert page.get_by_test_id("board-none").is_visible()  # nothing on notice in phase 2
    assert page.locator("svg.qr-code").count() == 1
    assert page.get_by_role("link", name="登录").count() == 0 and page.locator("#nav").count() == 0
    assert_fits_phone(page)
    screenshot(page, "board-01-phone")
    page.get_by_role("link", name="打印公开栏海报（A4）").click()
    page.get_by_test_id("poster").wait_for()
    assert "投诉举报电话：0553-6712345" in page.get_by_test_id("poster").inner_text()
    assert_fits_phone(page)
    screenshot(page, "board-02-poster")
