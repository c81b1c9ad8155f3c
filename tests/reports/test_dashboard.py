"""The leadership dashboard (进度看板): its figures equal the lists they click through to,
each reader sees their own villages, nothing on it writes, and its queries do not grow with
the number of households."""

import re

import pytest
from django.urls import reverse

from cases.assistance import green_overdue_q
from cases.demo import generate_assistance, generate_households
from cases.models import Campaign, Case, Complaint, GreenChannel, Village
from surveys import review, services
from surveys.demo import generate_surveys
from surveys.services import coverage_by_village
from tests.reports.test_home import texts
from tests.surveys.conftest import revisit_sample, verify_town  # noqa: F401 - the shared fixture


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def numbers(found: list[str]) -> list[int]:
    return [int(re.match(r"\d+", t).group()) for t in found]


@pytest.fixture
def surveying_town(campaign):
    """Mid phase 2: 150 households listed, the villages at different stages of their visits."""
    generate_households(campaign, 150, seed=11)
    generate_surveys(campaign, seed=11)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.REVIEW)
    return Campaign.objects.get(pk=campaign.pk)


def test_it_shows_each_villages_surveyed_households_as_coverage_and_the_village_list_count_them(
    client, leadership, surveying_town
):
    page = dashboard(client, leadership)
    found = texts(page)
    villages = list(Village.objects.filter(town=surveying_town.town).order_by("order", "code"))
    coverage = coverage_by_village(surveying_town, villages)
    assert numbers(found["count"]) == [row["submitted"] for row in coverage]
    # some villages are done, some are not: the check tells them apart
    assert len({row["percent"] for row in coverage}) > 1
    for row in coverage[:3]:
        village = row["village"]
        listed = client.get(reverse("survey_village", args=[village.code]), {"status": "submitted"})
        assert listed.context["page"].paginator.count == row["submitted"]
        assert f'href="/surveys/villages/{village.code}/?status=submitted"' in page
    total = sum(row["submitted"] for row in coverage)
    assert f"已调查 {total}（" in " ".join(found["totals"])


def test_it_shows_each_villages_decisions_left_as_the_decision_list_counts_them(
    client,
    leadership,
    town_office,
    verify_town,  # noqa: F811 - the shared fixture
):
    # the town draws and re-visits its sample, then decides what it may as proposed
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(sample, town_office)
    review.decide_all_as_proposed(verify_town, actor=town_office)
    page = dashboard(client, leadership)
    shown = numbers(texts(page)["decisions-left"])

    client.force_login(leadership)
    listed = client.get(reverse("review_decisions"))
    assert shown == [row["left"] for row in listed.context["summary"]]
    # some left to decide by hand, fewer than were reported: the figure counts the undecided
    assert 0 < sum(shown) < Case.objects.filter(campaign=verify_town, stage=Case.Stage.REPORTED).count()
    left = dict(zip([row["village"].code for row in listed.context["summary"]], shown, strict=True))
    village = Village.objects.get(code=max(left, key=left.get))
    chosen = client.get(reverse("review_decisions"), {"village": village.code, "status": "left"})
    assert chosen.context["page"].paginator.count == left[village.code]
    assert f'href="/surveys/review/?village={village.code}&amp;status=left"' in page
    # phase 3: the ranking is by decisions left, most first
    ranked = numbers(texts(page)["left"])
    assert ranked == sorted(shown, reverse=True)
    assert "各村剩余工作排名：待镇级决定" in page
    # the town's sample as its page counts it, all of it re-visited
    sampled = client.get(reverse("survey_sample", args=["town"]))
    drawn = sum(row["drawn"] + row["extra"] for row in sampled.context["rows"])
    assert f"{drawn} 户" in " ".join(texts(page)["totals"]) and "已核查 " + str(drawn) + "（100%）" in page


def test_a_village_cadre_sees_only_their_village(client, cadre_a, village_a, village_b, surveying_town):
    page = dashboard(client, cadre_a)
    assert village_a.name in page
    assert village_b.name not in page
    others = Village.objects.exclude(pk=village_a.pk).values_list("name", flat=True)
    assert not [name for name in others if name in page]
    # neither the sample's figures nor complaints are a village's to see
    assert "镇级抽查" not in page and "投诉" not in page.split("<main", 1)[-1].split("</main>", 1)[0]


def test_a_work_group_user_sees_their_groups_villages(client, group_leader_a, surveying_town):
    page = dashboard(client, group_leader_a)
    theirs = list(Village.objects.visible_to(group_leader_a).values_list("name", flat=True))
    others = Village.objects.exclude(name__in=theirs).values_list("name", flat=True)
    assert theirs and all(name in page for name in theirs)
    assert not [name for name in others if name in page]


def test_the_leadership_sees_every_village_and_nothing_to_write(client, leadership, surveying_town):
    page = dashboard(client, leadership)
    for name in Village.objects.values_list("name", flat=True):
        assert name in page
    # the only form on the page is the sign-out in the menu
    assert page.count("<form") == 1 and 'action="/accounts/logout/"' in page
    assert "<button" not in page.split("<main", 1)[-1]


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# The query budget at 100 and at 10,000 households: tests/reports/test_dashboard_figures.py


def test_its_complaints_and_green_channel_figures_are_the_lists_overdue_and_open(client, leadership, campaign):
    generate_households(campaign, 400, seed=7)
    generate_assistance(campaign)
    page = dashboard(client, leadership)
    client.force_login(leadership)

    def listed(name, **query) -> int:
        return client.get(reverse(name), query).context["page"].paginator.count

    totals = " ".join(texts(page)["totals"])
    open_, overdue = listed("complaint_list", status="open"), listed("complaint_list", status="overdue")
    assert overdue > 0 and f"投诉举报未办结 {open_} 逾期 {overdue}" in totals
    green_overdue = listed("green_list", status="overdue")
    assert green_overdue > 0 and f"逾期 {green_overdue}" in totals.split("绿色通道待办")[1]
    # per village, each overdue figure is the count of the list it opens
    for code in GreenChannel.objects.filter(green_overdue_q()).values_list("village__code", flat=True):
        href = (
            f'href="/green/?village={code}&amp;status=overdue">{listed("green_list", village=code, status="overdue")}<'
        )
        assert href in page
    for code in Complaint.objects.exclude(village=None).values_list("village__code", flat=True):
        count = listed("complaint_list", village=code, status="overdue")
        assert f'href="/complaints/?village={code}&amp;status=overdue">{count}<' in page
