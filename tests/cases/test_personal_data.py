"""Personal data: no derived ID in the trail, no ID oracle, no full ID without a
recorded reveal, no names from outside the reader's area."""

import pytest
from django.urls import reverse

from cases import services
from cases.models import AuditEvent, Household, Member
from tests.cases.test_member_facts import _member_form
from tests.conftest import new_id


def test_no_audit_row_holds_the_reversed_id_number(client, town_office, household_a):
    head = household_a.head()
    services.update_member(head, actor=town_office, data={"id_number": new_id()}, reason="更正")
    head.refresh_from_db()
    for event in AuditEvent.objects.all():
        assert "id_reversed" not in event.changes
        assert head.id_number[::-1] not in str(event.changes)
    client.force_login(town_office)
    page = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    assert head.id_number[::-1] not in page and head.id_number not in page


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a"])
def test_roles_without_full_id_rights_search_by_whole_number_or_last_four_only(client, request, persona, household_a):
    number = household_a.head().id_number
    client.force_login(request.getfixturevalue(persona))
    for fragment in [number[-5:], number[-8:], number[-2:], number[:-1]]:
        response = client.get(reverse("household_list"), {"q": fragment})
        page = response.content.decode()
        assert "请输入完整的18位号码或最后4位" in page
        assert "张建国" not in page  # nothing listed for a refused search
    page = client.get(reverse("household_list"), {"q": number[-4:]}).content.decode()
    assert "张建国" in page
    page = client.get(reverse("household_list"), {"q": number}).content.decode()
    assert "张建国" in page
    searches = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH_ID)
    assert [e.reason for e in searches.order_by("id")] == ["按身份证号搜索（后4位）", "按身份证号搜索（完整号码）"]
    for event in searches:
        assert number[-4:] not in event.reason + event.object_repr + str(event.changes)


def test_the_village_cadre_may_search_any_last_digits_and_it_is_recorded(client, cadre_a, household_a):
    number = household_a.head().id_number
    client.force_login(cadre_a)
    assert "张建国" in client.get(reverse("household_list"), {"q": number[-6:]}).content.decode()
    assert AuditEvent.objects.get(action=AuditEvent.Action.SEARCH_ID).reason == "按身份证号搜索（部分号码）"


def test_a_given_name_finds_the_household(client, cadre_a, make_household, village_a):
    make_household(village_a, head="梁凤英", others=())
    client.force_login(cadre_a)
    assert "梁凤英" in client.get(reverse("household_list"), {"q": "凤英"}).content.decode()


def test_the_member_form_never_shows_the_full_number(client, cadre_a, household_a):
    head = household_a.head()
    client.force_login(cadre_a)
    page = client.get(reverse("member_edit", args=[head.public_id])).content.decode()
    assert head.id_number not in page and head.masked_id in page
    # left empty, the number stays; a complete new number corrects it
    data = _member_form(head, id_number="", seen_version=head.version)
    client.post(reverse("member_edit", args=[head.public_id]), data)
    head.refresh_from_db()
    assert head.marital_status == "married" and head.id_number == household_a.head().id_number


def test_the_admin_never_shows_the_full_number(client, admin_user, household_a):
    head = household_a.head()
    client.force_login(admin_user)
    page = client.get(reverse("admin:cases_member_change", args=[head.pk])).content.decode()
    assert head.id_number not in page and head.masked_id in page
    assert head.id_number not in client.get(reverse("admin:cases_member_changelist")).content.decode()


def test_a_clash_outside_the_callers_area_names_no_one(cadre_a, household_a, household_b):
    other = household_b.head()
    with pytest.raises(services.DomainError) as refused:
        services.add_member(
            household_a,
            actor=cadre_a,
            data={"name": "冒名", "id_number": other.id_number, "relationship": "99"},
            joined_on=household_a.created_at.date(),
            reason="迁入",
        )
    assert "王德华" not in refused.value.message and "江岸村" not in refused.value.message
    assert "管辖范围以外" in refused.value.message
    assert not Member.objects.filter(name="冒名").exists()


def test_a_clash_inside_the_callers_area_names_the_household(town_office, household_a, household_b):
    with pytest.raises(services.DomainError, match="江岸村王德华"):
        services.add_member(
            household_a,
            actor=town_office,
            data={"name": "冒名", "id_number": household_b.head().id_number, "relationship": "99"},
            joined_on=household_a.created_at.date(),
            reason="迁入",
        )


def test_the_campaign_history_shows_only_campaign_events_to_a_cadre(client, cadre_a, cadre_b, household_b, campaign):
    from surveys import services as survey_services

    survey_services.start_survey(household_b, campaign=campaign, actor=cadre_b)
    client.force_login(cadre_a)
    page = client.get(reverse("campaign_detail")).content.decode()
    assert "开始入户调查" not in page and "王德华" not in page


def test_households_with_history_are_never_deleted(household_a):
    with pytest.raises(ValueError, match="不能删除"):
        household_a.delete()
    assert Household.objects.filter(pk=household_a.pk).exists()
