"""Every URL against every persona: own area allowed, another village 404,
read-only roles 403 on writes, anonymous visitors sent to the login page."""

import pytest
from django.urls import reverse

from cases.models import Complaint, GreenChannel, Household, TemporaryAid

PERSONAS = ["cadre_a", "cadre_b", "group_leader_a", "town_office", "leadership", "county_officer", "admin_user"]
READ_ALL = {"town_office", "leadership", "county_officer", "admin_user"}
WRITE_REGISTRY = {"cadre_a", "cadre_b", "town_office", "admin_user"}
WRITE_CAMPAIGN = {"town_office", "admin_user"}
# The green channel's intake and temporary-aid applications: a village's cadre for their village, the town.
TAKE_ASSISTANCE = {"cadre_a", "cadre_b", "town_office", "admin_user"}


def _urls(household, member, records=None):
    h, m = household.public_id, member.public_id
    assist = {}
    if records is not None:
        g, a, c = (records[k].public_id for k in ("green", "aid", "complaint"))
        assist = {
            "green_list": (reverse("green_list"), "read"),
            "green_create": (reverse("green_create"), "take_assistance"),
            "green_create_for": (f"{reverse('green_create')}?household={h}", "take_assistance_a"),
            "green_detail": (reverse("green_detail", args=[g]), "read_a"),
            "aid_list": (reverse("aid_list"), "read"),
            "aid_create": (reverse("aid_create"), "take_assistance"),
            "aid_detail": (reverse("aid_detail", args=[a]), "read_a"),
            "complaint_list": (reverse("complaint_list"), "read_town"),
            "complaint_objections": (f"{reverse('complaint_list')}?kind=objections", "read_town"),
            "complaint_create": (reverse("complaint_create"), "write_campaign"),
            "complaint_detail": (reverse("complaint_detail", args=[c]), "read_town_object"),
        }
    return assist | {
        # name: (url, kind) — kind says who may: read_a, write_a, read, write_registry, write_campaign
        "home": (reverse("home"), "read"),
        "household_list": (reverse("household_list"), "read"),
        "campaign_detail": (reverse("campaign_detail"), "read"),
        "household_detail": (reverse("household_detail", args=[h]), "read_a"),
        "household_edit": (reverse("household_edit", args=[h]), "write_a"),
        "member_add": (reverse("member_add", args=[h]), "write_a"),
        "member_edit": (reverse("member_edit", args=[m]), "write_a"),
        "member_change": (reverse("member_change", args=[m]), "write_a"),
        "household_create": (reverse("household_create"), "write_registry"),
        "campaign_edit": (reverse("campaign_edit"), "write_campaign"),
        "import_roll": (reverse("import_roll"), "write_campaign"),
        "import_template": (reverse("import_template"), "write_campaign"),
        "accounts": (reverse("accounts"), "write_campaign"),
        "account_create": (reverse("account_create"), "write_campaign"),
        "password_change": (reverse("password_change"), "read"),
        "town_list": (reverse("town_list"), "choose_town"),
    }


def _expected(persona, kind):
    sees_a = persona in READ_ALL or persona in {"cadre_a", "group_leader_a"}
    if kind == "read":
        return 200
    if kind == "read_a":
        return 200 if sees_a else 404
    if kind == "write_a":
        if not sees_a:
            return 404
        return 200 if persona in WRITE_REGISTRY else 403
    if kind == "write_registry":
        return 200 if persona in WRITE_REGISTRY else 403
    if kind == "write_campaign":
        return 200 if persona in WRITE_CAMPAIGN else 403
    if kind == "take_assistance":
        return 200 if persona in TAKE_ASSISTANCE else 403
    if kind == "take_assistance_a":
        if persona not in TAKE_ASSISTANCE:
            return 403
        return 200 if sees_a else 404
    if kind == "read_town":  # complaints: the whole town's roles only
        return 200 if persona in READ_ALL else 403
    if kind == "choose_town":  # the county's and the administrator's towns page
        return 200 if persona in {"county_officer", "admin_user"} else 403
    if kind == "read_town_object":
        return 200 if persona in READ_ALL else 404
    raise AssertionError(kind)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_every_url_by_role_and_area(persona, request, client, household_a, records):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    member = household_a.head()
    for name, (url, kind) in _urls(household_a, member, records).items():
        response = client.get(url)
        assert response.status_code == _expected(persona, kind), (persona, name, response.status_code)


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a"])
def test_it_refuses_every_write_by_a_read_only_role_and_changes_nothing(persona, request, client, household_a):
    client.force_login(request.getfixturevalue(persona))
    member = household_a.head()
    before = (Household.objects.count(), member.name, household_a.address)
    posts = [
        reverse("household_edit", args=[household_a.public_id]),
        reverse("member_add", args=[household_a.public_id]),
        reverse("member_edit", args=[member.public_id]),
        reverse("member_change", args=[member.public_id]),
        reverse("household_create"),
        reverse("campaign_edit"),
        reverse("import_roll"),
    ]
    for url in posts:
        response = client.post(url, {"name": "改名", "address": "新地址", "status": "died", "reason": "x"})
        assert response.status_code == 403, url
    household_a.refresh_from_db()
    member.refresh_from_db()
    assert (Household.objects.count(), member.name, household_a.address) == before


def test_it_gives_another_village_cadre_404_on_posts_too(client, cadre_b, household_a):
    client.force_login(cadre_b)
    member = household_a.head()
    response = client.post(reverse("member_edit", args=[member.public_id]), {"name": "改名"})
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.name == "张建国"


def test_it_sends_anonymous_visitors_to_login(client, household_a, records):
    member = household_a.head()
    for url, _kind in _urls(household_a, member, records).values():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    response = client.post(reverse("household_reveal_ids", args=[household_a.public_id]))
    assert response.status_code == 302


def test_it_lists_only_the_cadres_own_village(client, cadre_a, household_a, household_b):
    client.force_login(cadre_a)
    page = client.get(reverse("household_list")).content.decode()
    assert "张建国" in page
    assert "王德华" not in page
    # asking for the other village by code does not widen the scope
    page = client.get(reverse("household_list"), {"village": household_b.village.code}).content.decode()
    assert "王德华" not in page


def test_it_lists_the_work_groups_villages_only(client, group_leader_a, household_a, household_b):
    client.force_login(group_leader_a)
    page = client.get(reverse("household_list")).content.decode()
    assert "张建国" in page and "王德华" not in page


def test_it_lists_the_whole_town_for_the_town_office(client, town_office, household_a, household_b):
    client.force_login(town_office)
    page = client.get(reverse("household_list")).content.decode()
    assert "张建国" in page and "王德华" in page


def test_it_answers_404_for_a_malformed_identifier(client, town_office):
    client.force_login(town_office)
    assert client.get("/households/not-a-uuid/").status_code == 404


def _assistance_posts(records):
    g, a, c = (records[k].public_id for k in ("green", "aid", "complaint"))
    return {
        "green_create": reverse("green_create"),
        "green_documents": reverse("green_documents", args=[g]),
        "green_lapse": reverse("green_lapse", args=[g]),
        "green_approve": reverse("green_approve", args=[g]),
        "green_review": reverse("green_review", args=[g]),
        "aid_create": reverse("aid_create"),
        "aid_village_review": reverse("aid_village_review", args=[a]),
        "aid_decide": reverse("aid_decide", args=[a]),
        "aid_pay": reverse("aid_pay", args=[a]),
        "complaint_create": reverse("complaint_create"),
        "complaint_note": reverse("complaint_note", args=[c]),
        "complaint_result": reverse("complaint_result", args=[c]),
        "complaint_reply": reverse("complaint_reply", args=[c]),
        "complaint_close": reverse("complaint_close", args=[c]),
    }


# What the county may write here: the green channel's approval and temporary aid above the town's limit.
COUNTY_WRITES = {"green_approve", "aid_decide"}


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a"])
def test_it_refuses_assistance_and_complaint_writes_by_read_only_roles(persona, request, client, records):
    client.force_login(request.getfixturevalue(persona))
    for name, url in _assistance_posts(records).items():
        if persona == "county_officer" and name in COUNTY_WRITES:
            continue
        expected = (
            404 if persona == "group_leader_a" and name.startswith("complaint_") and name != "complaint_create" else 403
        )
        response = client.post(url, {"documents-received_on": "2019-11-01", "note-text": "x", "reason": "x"})
        assert response.status_code == expected, (persona, name, response.status_code)
    assert GreenChannel.objects.get().status == GreenChannel.Status.DOCUMENTS
    assert TemporaryAid.objects.get().status == TemporaryAid.Status.VILLAGE
    complaint = Complaint.objects.get()
    assert complaint.status == Complaint.Status.OPEN and not complaint.notes.exists()


def test_another_village_cadre_gets_404_on_assistance_writes(client, cadre_b, records):
    client.force_login(cadre_b)
    for name in ("green_documents", "green_review", "aid_village_review", "aid_decide"):
        response = client.post(_assistance_posts(records)[name], {"documents-received_on": "2019-11-01"})
        assert response.status_code == 404, name
    assert GreenChannel.objects.get().status == GreenChannel.Status.DOCUMENTS
