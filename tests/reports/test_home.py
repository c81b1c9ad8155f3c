"""The home page: today's place in the campaign's timeline and what is overdue, in the
user's villages, at a fixed number of queries.

"Today" is the real date: the tests set the campaign's dates around it.
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.demo import generate_households
from cases.models import Campaign, Phase, Village
from surveys import services
from surveys.models import VillageReport

VOID = {"br", "hr", "img", "input", "link", "meta"}


class _Texts(HTMLParser):
    """The text of each element carrying data-testid (or data-state), whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.open: list[list] = []  # [key, depth, words]
        self.found: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        for entry in self.open:
            entry[1] += 1
        attrs = dict(attrs)
        key = attrs.get("data-testid") or (attrs.get("data-state") and f"state:{attrs['data-state']}")
        if key:
            self.open.append([key, 1, []])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for entry in self.open:
            entry[1] -= 1
        for entry in [e for e in self.open if e[1] == 0]:
            self.open.remove(entry)
            self.found.setdefault(entry[0], []).append(" ".join(" ".join(entry[2]).split()))

    def handle_data(self, data):
        for entry in self.open:
            entry[2].append(data)


def texts(page: str) -> dict[str, list[str]]:
    parser = _Texts()
    parser.feed(page)
    return parser.found


def text(page: str, key: str) -> str:
    return " | ".join(texts(page).get(key, []))


def schedule(campaign, *, phase: int, ends_in: int, report_deadline_in: int = 10) -> None:
    """The campaign in `phase`, which ends `ends_in` days from today (negative: already past);
    phases of six days back to back; the village report deadline `report_deadline_in` days away."""
    today = timezone.localdate()
    end = today + dt.timedelta(days=ends_in)
    for number in range(1, 5):
        ends_on = end + dt.timedelta(days=7 * (number - phase))
        Phase.objects.filter(campaign=campaign, number=number).update(
            starts_on=ends_on - dt.timedelta(days=5), ends_on=ends_on
        )
    deadline = today + dt.timedelta(days=report_deadline_in)
    Campaign.objects.filter(pk=campaign.pk).update(
        current_phase=phase, village_report_deadline=deadline, county_report_deadline=deadline + dt.timedelta(days=4)
    )


def report(campaign, village, by, *, days_ago: int = 0) -> VillageReport:
    return VillageReport.objects.create(
        campaign=campaign,
        village=village,
        reported_by=by,
        households=0,
        reported_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_marks_the_current_phase_and_the_days_left(client, town_office, campaign):
    schedule(campaign, phase=3, ends_in=4)
    page = home(client, town_office)
    found = texts(page)
    assert [t.split(" ")[0] for t in found["state:done"]] == ["第一阶段", "第二阶段"]
    assert found["state:current"] == [f"第三阶段 汇总核实 进行中 {_md(4 - 5)}–{_md(4)}"]
    assert [t.split(" ")[0] for t in found["state:upcoming"]] == ["第四阶段"]
    today = text(page, "today")
    assert "第三阶段 · 汇总核实" in today and f"本阶段截止 {_md(4)}：还剩 4 天" in today
    assert timezone.localdate().strftime("%Y年") in today
    assert "逾期" not in today


def test_the_last_day_of_a_phase_is_due_today_not_overdue(client, town_office, campaign):
    schedule(campaign, phase=2, ends_in=0)
    today = text(home(client, town_office), "today")
    assert "今天截止" in today and "逾期" not in today


def test_a_phase_past_its_end_date_is_overdue_until_the_campaign_moves_on(client, town_office, campaign):
    schedule(campaign, phase=2, ends_in=-3)
    page = home(client, town_office)
    assert "已逾期 3 天" in text(page, "today")
    assert texts(page)["state:current"][0].startswith("第二阶段 全面复核 已逾期")
    overdue = text(page, "overdue")
    assert "第二阶段（全面复核）" in overdue and "已过 3 天，行动尚未进入下一阶段" in overdue

    services.advance_phase(campaign, actor=town_office, reason="各村已上报")
    page = home(client, town_office)
    assert texts(page)["state:current"][0].startswith("第三阶段 汇总核实 进行中")
    assert "逾期" not in text(page, "today")


def test_a_closed_campaign_shows_every_phase_done(client, town_office, campaign):
    schedule(campaign, phase=4, ends_in=-1)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.CLOSED)
    page = home(client, town_office)
    assert len(texts(page)["state:done"]) == 4 and "state:current" not in texts(page)
    assert "行动已结束" in text(page, "today") and "逾期" not in text(page, "today")


def test_after_the_deadline_it_tells_overdue_late_and_on_time_reports_apart(
    client, town_office, cadre_a, cadre_b, campaign, village_a, village_b
):
    schedule(campaign, phase=3, ends_in=3, report_deadline_in=-2)
    late = Village.objects.get(name="柳塘村")
    report(campaign, village_a, cadre_a, days_ago=3)  # before the deadline
    report(campaign, late, town_office, days_ago=1)  # the day after it
    page = home(client, town_office)

    overdue = texts(page)["overdue"][0]
    assert "江岸村 已提交 0/0 户 逾期未上报 2 天" in overdue
    assert f"柳塘村 逾期上报 · {_md(-1)}" in overdue
    assert "湖滨村" not in overdue  # reported on time
    assert overdue.count("逾期未上报 2 天") == 13  # 15 villages, 2 reported
    assert reverse("survey_village", args=[village_b.code]) in page
    assert f"湖滨村 农村 按时上报 · {_md(-3)}" in text(page, "villages")


def test_before_the_deadline_an_unreported_village_is_not_overdue(client, town_office, campaign, village_a):
    schedule(campaign, phase=2, ends_in=2, report_deadline_in=3)
    report(campaign, village_a, town_office)
    page = home(client, town_office)
    assert "逾期未上报" not in page and "逾期上报" not in page and "已逾期" not in page
    assert text(page, "overdue") == "没有逾期事项。"
    assert "尚有 14 个村（社区）未上报" in page and "还剩 3 天" in page
    states = texts(page)["report-state"]
    assert states.count("未上报") == 14 and f"按时上报 · {_md(0)}" in states


def test_a_village_cadre_sees_only_their_own_village(client, cadre_a, campaign, village_a, household_a, household_b):
    schedule(campaign, phase=2, ends_in=-1, report_deadline_in=-1)
    page = home(client, cadre_a)
    assert "湖滨村 已提交 0/1 户 逾期未上报 1 天" in text(page, "overdue")
    assert text(page, "villages").startswith("湖滨村 农村 逾期未上报 1 天 应调查 1 户")
    assert "我负责的村（社区）" in page
    for other in Village.objects.exclude(pk=village_a.pk):
        assert other.name not in page, other.name


def test_a_work_group_sees_its_villages_and_the_town_sees_them_all(
    client, group_leader_a, leadership, county_officer, campaign
):
    mine = sorted(Village.objects.visible_to(group_leader_a).values_list("name", flat=True))
    listed = texts(home(client, group_leader_a))["villages"][0]
    assert "湖滨村" in mine and len(mine) < 15
    assert sorted(v for v in Village.objects.values_list("name", flat=True) if v in listed) == mine
    for user in (leadership, county_officer):
        listed = texts(home(client, user))["villages"][0]
        assert all(v.name in listed for v in Village.objects.all())


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, campaign):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def _md(days: int) -> str:
    """A date `days` from today as the page writes it (11月6日)."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return f"{day.month}月{day.day}日"


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("persona", "budget"), [("town_office", 6), ("cadre_a", 6), ("group_leader_a", 7)])
def test_it_has_a_fixed_query_budget_whatever_the_number_of_households(
    request, persona, budget, client, town_office, campaign
):
    schedule(campaign, phase=2, ends_in=1, report_deadline_in=-1)
    generate_households(campaign, 30, seed=3)
    services.list_from_registry(campaign, actor=town_office)
    client.force_login(request.getfixturevalue(persona))
    client.get(reverse("home"))  # the session's first request renews it: not counted
    small = _queries(client)
    generate_households(campaign, 300, seed=4)
    services.list_from_registry(campaign, actor=town_office)
    for village in Village.objects.all()[:4]:
        report(campaign, village, town_office)
    # session, account (user, profile, campaign with its town: cases.auth), [a work group's
    # village ids,] villages, case tallies per village and stage, reports (with their campaign), phases
    assert small == _queries(client) == budget
    listed = texts(client.get(reverse("home")).content.decode())["villages"][0]
    assert "应调查 0 户" not in listed


def test_the_town_report_is_flagged_overdue_after_its_deadline(client, campaign, town_office):
    import datetime as dt

    from django.utils import timezone

    from cases.models import Campaign

    today = timezone.localdate()
    Campaign.objects.filter(pk=campaign.pk).update(
        current_phase=Campaign.PhaseNumber.VERIFY,
        village_report_deadline=today - dt.timedelta(days=5),
        county_report_deadline=today - dt.timedelta(days=2),
    )
    client.force_login(town_office)
    page = client.get("/").content.decode()
    assert "逾期未报县 2 天" in page
    Campaign.objects.filter(pk=campaign.pk).update(county_report_deadline=today)
    assert "逾期未报县" not in client.get("/").content.decode()
