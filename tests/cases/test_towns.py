"""Several towns in one county installation: each town's accounts see their own town's
villages, registry and campaign only; the county (and the administrator) choose the town they
work in, on a page listing every town's progress; public pages take the town by its code."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases import roles, services, town_views
from cases.models import Case, Town, Village
from surveys import services as survey_services


def page(client, user, name, *args, **query):
    client.force_login(user)
    return client.get(reverse(name, args=args), query)


def test_a_town_account_sees_only_its_own_towns_registry_and_campaign(client, second_town, household_a, town_office):
    officer = second_town["officer"]
    listing = page(client, officer, "household_list").content.decode()
    assert "山前户主" in listing and "张建国" not in listing
    assert page(client, officer, "household_detail", household_a.public_id).status_code == 404
    assert page(client, officer, "survey_village", "340225107001").status_code == 200
    assert page(client, officer, "survey_village", household_a.village.code).status_code == 404
    campaign_page = page(client, officer, "campaign_detail").content.decode()
    assert "蜀山镇低保复核攻坚月" in campaign_page and "蜀山镇低保复核系统" in campaign_page

    # and the other way round
    listing = page(client, town_office, "household_list").content.decode()
    assert "张建国" in listing and "山前户主" not in listing
    assert page(client, town_office, "household_detail", second_town["household"].public_id).status_code == 404
    assert "蜀山镇低保复核攻坚月" not in page(client, town_office, "campaign_detail").content.decode()


def test_a_household_of_another_town_is_not_named_in_an_id_clash(second_town, town_office, village_a):
    head = second_town["household"].members.get()
    with pytest.raises(services.DomainError) as refused:
        services.create_household(
            actor=town_office,
            data={"village": village_a, "hukou_type": "rural", "dibao_status": "none", "covered_persons": 0},
            head={"name": "某", "id_number": head.id_number},
        )
    assert "山前村" not in refused.value.message and "管辖范围以外" in refused.value.message


def test_the_county_chooses_the_town_it_works_in(client, second_town, county_officer, household_a):
    client.force_login(county_officer)
    # it starts in the town running the latest campaign
    assert client.session[roles.TOWN_SESSION_KEY] == second_town["town"].pk
    towns = client.get(reverse("town_list")).content.decode()
    assert "泥汊镇" in towns and "蜀山镇" in towns and 'data-testid="choose-340225107"' not in towns

    response = client.post(reverse("town_choose", args=[household_a.village.town.code]))
    assert response.status_code == 302
    assert client.session[roles.TOWN_SESSION_KEY] == household_a.village.town_id
    listing = client.get(reverse("household_list")).content.decode()
    assert "张建国" in listing and "山前户主" not in listing
    assert "泥汊镇" in client.get(reverse("campaign_detail")).content.decode()

    client.post(reverse("town_choose", args=["340225107"]))
    listing = client.get(reverse("household_list")).content.decode()
    assert "山前户主" in listing and "张建国" not in listing
    assert "蜀山镇低保复核攻坚月" in client.get(reverse("campaign_detail")).content.decode()
    assert client.post(reverse("town_choose", args=["999"])).status_code == 404


@pytest.mark.parametrize("persona", ["town_office", "leadership", "cadre_a", "group_leader_a"])
def test_only_the_county_and_the_administrator_choose_a_town(client, request, persona, second_town):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("town_list")).status_code == 403
    assert client.post(reverse("town_choose", args=["340225107"])).status_code == 403
    assert roles.TOWN_SESSION_KEY not in client.session
    assert 'data-testid="town-switch"' not in client.get(reverse("household_list")).content.decode()


def test_the_towns_page_counts_each_towns_campaign(client, admin_user, second_town, household_a, campaign):
    survey_services.advance_phase(campaign, actor=admin_user, reason="测试")  # phase 2: the list is drawn
    client.force_login(admin_user)
    rows = {r["town"].code: r for r in town_views.town_rows()}
    assert rows[campaign.town.code]["figures"]["in_scope"] == Case.objects.filter(campaign=campaign).count() > 0
    # 蜀山镇's campaign is in phase 2: its household was listed in its own campaign, not 泥汊镇's
    assert rows["340225107"]["figures"]["in_scope"] == 1
    assert Case.objects.get(household=second_town["household"]).campaign == second_town["campaign"]
    assert 'data-testid="town-switch"' in client.get(reverse("town_list")).content.decode()


def test_a_new_account_belongs_to_the_creators_town(second_town, village_a):
    officer = second_town["officer"]
    user, _ = services.create_account(
        actor=officer, username="cadre-sq", display_name="某", role="village", village=second_town["village"]
    )
    assert user.profile.town == second_town["town"]
    with pytest.raises(services.DomainError, match="不属于本镇"):
        services.create_account(actor=officer, username="cadre-x", display_name="某", role="village", village=village_a)
    assert not get_user_model().objects.filter(username="cadre-x").exists()


def test_the_public_board_and_flyer_take_the_town_by_its_code(client, second_town, campaign):
    board = client.get(reverse("board"), {"town": "340225107"}).content.decode()
    assert "蜀山镇" in board and "?town=340225107" in board
    assert "泥汊镇" in client.get(reverse("board"), {"town": campaign.town.code}).content.decode()


def _registry_queries(client, user) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("household_list")).status_code == 200
    # the page's households and their total (read from the registry's tallies)
    tables = ('FROM "cases_household"', 'FROM "cases_registrytally"')
    return [q["sql"] for q in ctx.captured_queries if any(t in q["sql"] for t in tables)]


def _narrowed_to_town(sql: str) -> bool:
    return '"town_id" = ' in sql


def test_one_town_needs_no_town_filter_and_two_towns_do(client, town_office, household_a):
    """In an installation of one town the registry is read as before (no join to the villages);
    once a second town has a village, the rows and the total of a town account are narrowed."""
    queries = _registry_queries(client, town_office)
    assert len(queries) == 2 and not any(_narrowed_to_town(sql) for sql in queries)
    other = Town.objects.create(code="340225107", name="蜀山镇", county="无为县")
    Village.objects.create(town=other, code="340225107001", name="山前村", kind="rural", order=1)
    queries = _registry_queries(client, town_office)
    assert len(queries) == 2 and all(_narrowed_to_town(sql) for sql in queries)
