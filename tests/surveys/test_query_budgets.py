"""Survey page and coverage list: a fixed number of queries whatever the size."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.demo import generate_households
from cases.models import Case
from surveys import services
from surveys.models import VillageReport
from tests.surveys.conftest import form_data


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_survey_page_costs_the_same_for_2_and_6_members(
    client, cadre_a, survey_a, household_a, make_household, village_a, campaign
):
    client.force_login(cadre_a)
    client.post(
        reverse("survey_edit", args=[survey_a.public_id]),
        form_data(survey_a, **{"m-0-inc_wage": "3600", "m-1-inc_crop": "100"}),
    )
    small = _count(client, reverse("survey_edit", args=[survey_a.public_id]))
    big_household = make_household(village_a, head="钱有福", others=("甲", "乙", "丙", "丁", "戊"))
    big = services.start_survey(big_household, campaign=campaign, actor=cadre_a)
    overrides = {f"m-{i}-inc_wage": "1000" for i in range(6)}
    client.post(reverse("survey_edit", args=[big.public_id]), form_data(big, **overrides))
    assert _count(client, reverse("survey_edit", args=[big.public_id])) == small


def test_the_coverage_list_has_a_fixed_query_budget(client, town_office, cadre_a, campaign):
    generate_households(campaign, 60, seed=3)
    services.list_from_registry(campaign, actor=town_office)
    client.force_login(town_office)
    small = _count(client, reverse("survey_coverage"))
    generate_households(campaign, 600, seed=4)
    services.list_from_registry(campaign, actor=town_office)
    for village in campaign.town.villages.all()[:3]:  # reports do not add queries either
        VillageReport.objects.create(campaign=campaign, village=village, reported_by=cadre_a, households=1)
    large = _count(client, reverse("survey_coverage"))
    # session, account (user, profile, campaign: cases.auth), villages, case rows per village and
    # stage, reports (with their campaign)
    assert small == large == 5
    response = client.get(reverse("survey_coverage"))
    listed = Case.objects.filter(campaign=campaign, in_scope=True).count()
    assert listed > 600
    assert f'<td class="fw-semibold">合计</td><td class="text-end">{listed}</td>' in response.content.decode().replace(
        "<td>合计</td>", '<td class="fw-semibold">合计</td>'
    )
    village = campaign.town.villages.get(name="湖滨村")
    small_village = _count(client, reverse("survey_village", args=[village.code]))
    generate_households(campaign, 300, seed=5)
    services.list_from_registry(campaign, actor=town_office)
    assert _count(client, reverse("survey_village", args=[village.code])) == small_village


def test_the_survey_page_has_a_fixed_query_budget(client, cadre_a, group_leader_a, survey_a):
    services.set_investigators(survey_a, [cadre_a, group_leader_a], actor=cadre_a)
    client.force_login(cadre_a)
    # session, account (user, profile, campaign: cases.auth); the survey with its campaign,
    # town, household, village and group; its members, their incomes, deductions, houses,
    # vehicles, supporters, the household's members, which are also the rows' registry members
    # (Survey.with_rows); the signatures; the investigators the village may name, read once for
    # the checks before submission, the checkboxes, the signers and the draft's author
    assert _count(client, reverse("survey_edit", args=[survey_a.public_id])) == 12


def test_the_investigator_checkboxes_show_who_may_be_named_and_who_is(
    client, cadre_a, group_leader_a, town_office, survey_a
):
    services.set_investigators(survey_a, [cadre_a, group_leader_a], actor=cadre_a)
    client.force_login(cadre_a)
    page = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    boxes = re.findall(
        r'<input type="checkbox" class="form-check-input" name="investigators" value="(\d+)"[^>]*>', page
    )
    assert sorted(int(pk) for pk in boxes) == sorted([cadre_a.pk, group_leader_a.pk, town_office.pk])
    checked = re.findall(r'name="investigators" value="(\d+)" id="id_investigators_\d+" checked>', page)
    assert sorted(int(pk) for pk in checked) == sorted([cadre_a.pk, group_leader_a.pk])
    assert (
        '<legend class="form-label requiredField fs-6">调查人（至少两人）<span class="asteriskField">*</span></legend>'
        in page
    )
    assert f"（{town_office.username}，镇社会事务办）</label>" in page


def test_the_village_list_reads_surveys_only_for_households_already_visited(
    client, town_office, cadre_a, campaign, village_a, make_household
):
    make_household(village_a, head="孙小梅")
    visited = make_household(village_a, head="钱有福")
    services.list_from_registry(campaign, actor=town_office)
    survey = services.start_survey(visited, campaign=campaign, actor=cadre_a)
    client.force_login(cadre_a)
    url = reverse("survey_village", args=[village_a.code])
    # session, account (user, profile, campaign: cases.auth), village, the count and the members
    # not yet accounted for (tallies, one query), the page's case rows, their members, their
    # surveys, the village's report
    assert _count(client, url) == 8
    page = client.get(url).content.decode()
    assert f'href="{reverse("survey_detail", args=[survey.public_id])}">继续填写</a>' in page
    # not yet visited: no survey to look for
    assert _count(client, url + "?status=not_visited") == 7
    page = client.get(url + "?status=not_visited").content.decode()
    assert "钱有福" not in page and "孙小梅" in page and "开始调查" in page


def test_the_investigator_choice_shown_needs_no_queryset_but_a_posted_one_does(cadre_a, group_leader_a):
    from surveys.forms import InvestigatorsForm

    shown = InvestigatorsForm(loaded=[cadre_a, group_leader_a], initial={"investigators": [cadre_a]})
    assert f'value="{group_leader_a.pk}"' in shown["investigators"].as_bootstrap()
    with pytest.raises(TypeError):
        InvestigatorsForm({"investigators": [cadre_a.pk, group_leader_a.pk]}, loaded=[cadre_a, group_leader_a])
