import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases import services
from cases.models import AuditEvent, Household, Member
from tests.conftest import new_id

MEMBER_FORM = {
    "ethnicity": "汉族",
    "marital_status": "married",
    "education": "junior",
    "health": "healthy",
    "work_ability": "normal",
    "employment": "farming",
    "relationship": "10",
}


def _member_post(member, **changes):
    data = {**MEMBER_FORM, "name": member.name, "id_number": member.id_number, "relationship": member.relationship}
    data.update(changes)
    return data


def test_it_creates_a_household_with_its_head(client, cadre_a, village_a):
    client.force_login(cadre_a)
    number = new_id(dt.date(1961, 4, 2), "F")
    response = client.post(
        reverse("household_create"),
        {
            "head_name": "刘桂兰",
            "head_id_number": number.lower(),
            "village": village_a.id,
            "hukou_type": "rural",
            "dibao_status": "active",
            "covered_persons": 1,
            "monthly_amount": "300",
        },
    )
    household = Household.objects.get()
    assert response.status_code == 302
    head = household.head()
    assert head.name == "刘桂兰" and head.id_number == number.upper()
    assert head.sex == "F"
    assert head.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert AuditEvent.objects.filter(household=household, action="create", actor=cadre_a).count() == 2


def test_it_refuses_a_household_in_another_village_for_a_cadre(client, cadre_a, village_b):
    client.force_login(cadre_a)
    response = client.post(
        reverse("household_create"),
        {
            "head_name": "刘桂兰",
            "head_id_number": new_id(),
            "village": village_b.id,
            "hukou_type": "rural",
            "dibao_status": "none",
            "covered_persons": 0,
            "monthly_amount": "0",
        },
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not Household.objects.exists()


def test_it_shows_a_clear_message_for_a_bad_id_and_saves_nothing(client, cadre_a, village_a):
    client.force_login(cadre_a)
    response = client.post(
        reverse("household_create"),
        {
            "head_name": "刘桂兰",
            "head_id_number": "110105194912310021",
            "village": village_a.id,
            "hukou_type": "rural",
            "dibao_status": "active",
            "covered_persons": 0,
            "monthly_amount": "-5",
        },
    )
    page = response.content.decode()
    assert "校验位不正确" in page
    assert "在保家庭的保障人数至少为1" in page
    assert not Household.objects.exists()


def test_it_refuses_an_id_number_already_live_in_another_household(client, cadre_a, household_a, household_b):
    client.force_login(cadre_a)
    taken = household_b.head().id_number
    member = household_a.head()
    response = client.post(reverse("member_edit", args=[member.public_id]), _member_post(member, id_number=taken))
    assert "一人只能属于一户" in response.content.decode()
    member.refresh_from_db()
    assert member.id_number != taken


def test_the_database_enforces_one_live_household_per_id(household_a, household_b):
    taken = household_b.head().id_number
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(
            household=household_a,
            name="重复",
            id_number=taken,
            relationship="99",
            sex="M",
            birth_date=dt.date(1970, 1, 1),
        )


def test_it_edits_a_member_and_records_before_and_after(client, cadre_a, household_a):
    client.force_login(cadre_a)
    member = household_a.head()
    response = client.post(
        reverse("member_edit", args=[member.public_id]), _member_post(member, health="chronic", work_ability="weak")
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_id=str(member.public_id), action="update").get()
    assert event.actor == cadre_a
    assert event.changes["health"] == ["healthy", "chronic"]
    page = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    assert "长期慢性病" in page and "<del>健康</del>" in page


def test_it_records_a_death_and_keeps_the_member_in_history(client, cadre_a, household_a):
    client.force_login(cadre_a)
    spouse = next(m for m in household_a.live_members() if m.relationship == "10")
    response = client.post(
        reverse("member_change", args=[spouse.public_id]), {"status": "died", "on": "2019-09-30", "reason": "病故"}
    )
    assert response.status_code == 302
    spouse.refresh_from_db()
    assert spouse.status == "died" and spouse.status_changed_on == dt.date(2019, 9, 30)
    page = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    assert "已不在户的成员" in page and "病故" in page


def test_it_needs_a_new_head_when_the_head_leaves(client, cadre_a, household_a):
    client.force_login(cadre_a)
    head = household_a.head()
    spouse = next(m for m in household_a.live_members() if m.relationship == "10")
    response = client.post(
        reverse("member_change", args=[head.public_id]), {"status": "moved_out", "on": "2019-09-30", "reason": "外迁"}
    )
    assert "这个字段是必填项" in response.content.decode()
    head.refresh_from_db()
    assert head.is_live
    client.post(
        reverse("member_change", args=[head.public_id]),
        {"status": "moved_out", "on": "2019-09-30", "reason": "外迁", "new_head": spouse.id},
    )
    spouse.refresh_from_db()
    assert spouse.relationship == "02"
    assert household_a.head() == spouse


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("on", "2099-01-01", "日期不能晚于今天"),
        ("reason", "", "这个字段是必填项"),
    ],
)
def test_it_refuses_a_bad_member_change(client, cadre_a, household_a, field, value, message):
    client.force_login(cadre_a)
    spouse = next(m for m in household_a.live_members() if m.relationship == "10")
    data = {"status": "died", "on": "2019-09-30", "reason": "病故", field: value}
    response = client.post(reverse("member_change", args=[spouse.public_id]), data)
    assert message in response.content.decode()
    spouse.refresh_from_db()
    assert spouse.is_live


def test_it_adds_a_new_member_with_date_and_reason(client, cadre_a, household_a):
    client.force_login(cadre_a)
    number = new_id(dt.date(2019, 3, 3), "F")
    response = client.post(
        reverse("member_add", args=[household_a.public_id]),
        {
            **MEMBER_FORM,
            "name": "张小红",
            "id_number": number,
            "relationship": "30",
            "joined_on": "2019-03-10",
            "reason": "出生",
            "marital_status": "unmarried",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(id_number=number)
    assert member.sex == "F"
    event = AuditEvent.objects.get(object_id=str(member.public_id))
    assert event.reason == "出生" and event.changes["status_changed_on"] == [None, "2019-03-10"]


def test_it_refuses_a_second_head(household_a, town_office):
    with pytest.raises(services.DomainError, match="已有户主"):
        services.add_member(
            household_a,
            actor=town_office,
            data={"name": "某", "id_number": new_id(), "relationship": "02"},
            joined_on=dt.date(2019, 1, 1),
            reason="迁入",
        )


def test_lists_mask_id_numbers(client, town_office, household_a):
    client.force_login(town_office)
    number = household_a.head().id_number
    page = client.get(reverse("household_list")).content.decode()
    assert number not in page
    assert number[:6] + "********" + number[-4:] in page
    detail = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    assert number not in detail


def test_revealing_full_ids_is_recorded(client, cadre_a, household_a):
    client.force_login(cadre_a)
    number = household_a.head().id_number
    page = client.post(reverse("household_reveal_ids", args=[household_a.public_id])).content.decode()
    assert number in page
    event = AuditEvent.objects.get(action="view_id")
    assert event.actor == cadre_a and event.household == household_a


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a"])
def test_roles_without_need_cannot_reveal_ids(request, client, persona, household_a):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(reverse("household_reveal_ids", args=[household_a.public_id]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="view_id").exists()


def test_audit_events_cannot_be_changed(household_a):
    event = AuditEvent.objects.filter(household=household_a).first()
    event.reason = "篡改"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_it_edits_household_fields_and_shows_them_in_the_timeline(client, town_office, household_a):
    client.force_login(town_office)
    response = client.post(
        reverse("household_edit", args=[household_a.public_id]),
        {
            "village": household_a.village_id,
            "hukou_type": "rural",
            "dibao_status": "active",
            "covered_persons": 2,
            "monthly_amount": "420.00",
            "address": "湖滨村8号",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    assert "<del>505.00</del> → 420.00" in page
    assert "湖滨村8号" in page
