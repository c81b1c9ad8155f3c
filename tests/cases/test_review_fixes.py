"""Regressions for the security review of the trust and phase-3 work."""

import pytest
from django.urls import reverse

from cases import services
from cases.models import AuditEvent, Profile
from tests.conftest import PASSWORD


def test_a_password_someone_else_set_cannot_sign_for_its_owner(rf, town_office, campaign):
    ghost, temporary = services.create_account(
        actor=town_office,
        username="ghost",
        display_name="某",
        role="work_group",
        work_group=campaign.work_groups.first(),
    )
    request = rf.post("/")
    with pytest.raises(services.DomainError, match="须先本人登录并修改密码"):
        services.confirm_identity(request, ghost, temporary)


def test_changing_to_the_same_password_keeps_the_forced_change(client, town_office, campaign):
    user, temporary = services.create_account(
        actor=town_office,
        username="newcadre",
        display_name="某",
        role="village",
        village=campaign.town.villages.first(),
    )
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": temporary, "new_password2": temporary},
    )
    assert "新密码不能与原密码相同" in response.content.decode()
    assert Profile.objects.get(user=user).must_change_password


def test_every_reset_is_recorded(client, town_office, campaign):
    village = campaign.town.villages.first()
    services.create_account(actor=town_office, username="twice", display_name="某", role="village", village=village)
    client.force_login(town_office)
    for _ in range(2):
        client.post(reverse("account_reset", args=["twice"]))
    assert AuditEvent.objects.filter(model="cases.Profile", reason="重置密码").count() == 2


def test_an_id_number_is_no_login_name(client, town_office, village_a):
    client.force_login(town_office)
    response = client.post(
        reverse("account_create"),
        {"username": "11010519491231002X", "display_name": "某", "role": "village", "village": village_a.pk},
    )
    assert "登录名不能使用身份证号" in response.content.decode()
    assert not Profile.objects.filter(user__username="11010519491231002X").exists()


def test_restricted_roles_are_limited_in_whole_number_searches(client, settings, group_leader_a, household_a):
    settings.ID_SEARCHES_PER_HOUR = 3
    client.force_login(group_leader_a)
    number = household_a.head().id_number
    for _ in range(3):
        assert "张建国" in client.get(reverse("household_list"), {"q": number}).content.decode()
    page = client.get(reverse("household_list"), {"q": number}).content.decode()
    assert "按身份证号查找过于频繁" in page and "张建国" not in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH_ID).count() == 3


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_a_malformed_verifier_is_not_found(client, town_office):
    import uuid

    client.force_login(town_office)
    response = client.post(
        reverse("survey_revisit_sign", args=[uuid.uuid4()]), {"verifier": "abc", "password": PASSWORD}
    )
    assert response.status_code == 404
