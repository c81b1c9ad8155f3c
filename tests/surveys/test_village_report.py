"""A village's households to visit, and its report (上报) once every one is submitted."""

from django.urls import reverse

from surveys.models import Survey, VillageReport
from tests.surveys.conftest import database_state, submit_complete


def test_it_names_every_member_still_to_visit(client, cadre_a, household_a, make_household, village_a):
    make_household(village_a, head="钱有福")
    client.force_login(cadre_a)
    page = client.get(reverse("survey_village", args=[village_a.code])).content.decode()
    assert 'data-testid="unaccounted">4<' in page  # 2 households × 2 members
    assert "张建国、李秀英" in page  # every member of a household still to visit is named


def test_it_refuses_a_village_below_100_percent(client, cadre_a, household_a, make_household, village_a):
    make_household(village_a, head="钱有福")
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_report", args=[village_a.code]), follow=True)
    page = response.content.decode()
    assert "尚有2户未完成入户调查（涉及4名成员未核实）" in page and "张建国" in page and "钱有福" in page
    assert database_state() == before
    assert not VillageReport.objects.exists()


def test_it_reports_a_village_once_every_household_is_submitted(
    client, cadre_a, group_leader_a, household_a, make_household, village_a
):
    other = make_household(village_a, head="钱有福")
    client.force_login(cadre_a)
    for household in (household_a, other):
        client.post(reverse("survey_start", args=[household.public_id]))
        submit_complete(client, Survey.objects.get(household=household), cadre_a, group_leader_a)
    response = client.post(reverse("survey_report", args=[village_a.code]), follow=True)
    assert "复核结果已上报" in response.content.decode()
    report = VillageReport.objects.get()
    assert report.households == 2 and report.reported_by == cadre_a


def test_it_answers_404_to_another_villages_cadre(client, cadre_b, household_a, village_a):
    client.force_login(cadre_b)
    before = database_state()
    for response in [
        client.get(reverse("survey_village", args=[village_a.code])),
        client.post(reverse("survey_report", args=[village_a.code])),
    ]:
        assert response.status_code == 404
        page = response.content.decode()
        assert "没有找到" in page and "湖滨村" not in page
    assert database_state() == before


def test_it_refuses_read_only_roles(client, read_only_user, household_a, village_a):
    client.force_login(read_only_user)
    before = database_state()
    response = client.post(reverse("survey_report", args=[village_a.code]))
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
