"""Sign-in: throttled per account and per address, recorded, strong passwords, idle
timeout, and a forced change of a password someone else set."""

import pytest
from django.conf import settings
from django.urls import reverse

from cases import services
from cases.models import AuditEvent, Profile
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_throttle(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_it_records_a_successful_and_a_failed_login(client, cadre_a):
    _login(client, "cadre02", "wrong")
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.object_repr == "cadre02" and failed.actor is None and "10.0.0.1" in failed.reason
    response = _login(client, "cadre02", PASSWORD)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN, actor=cadre_a).count() == 1
    page = client.get(reverse("home")).content.decode()
    assert "cadre02" in page


def test_it_locks_an_account_after_five_wrong_passwords_even_with_the_right_one(client, cadre_a):
    for i in range(5):
        _login(client, "cadre02", f"guess{i}", ip=f"10.0.1.{i}")  # from five addresses
    response = _login(client, "cadre02", PASSWORD, ip="10.0.2.1")
    assert response.status_code == 429
    assert "密码错误次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).count() == 6


def test_it_locks_an_address_that_tries_many_accounts(client, cadre_a, cadre_b):
    for name in ["cadre04", "cadre05", "cadre06", "cadre07", "cadre08"]:
        _login(client, name, "guess", ip="10.9.9.9")
    response = _login(client, "cadre03", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert _login(client, "cadre03", PASSWORD, ip="10.9.9.10").status_code == 302


def test_wrong_signing_passwords_count_toward_the_same_lock(client, cadre_a, group_leader_a):
    # a guessed investigator password on someone else's device locks the login page too
    from surveys import services as survey_services

    household = services.create_household(
        actor=cadre_a,
        data={
            "village": cadre_a.profile.village,
            "hukou_type": "rural",
            "dibao_status": "active",
            "covered_persons": 1,
        },
        head={"name": "赵一", "id_number": "11010519491231002X"},
    )
    survey = survey_services.start_survey(household, campaign=household.cases.get().campaign, actor=cadre_a)
    survey_services.set_investigators(survey, [cadre_a, group_leader_a], actor=cadre_a)
    client.force_login(cadre_a)
    url = reverse("survey_sign", args=[survey.public_id])
    for _ in range(5):
        client.post(url, {"investigator": group_leader_a.pk, "password": "guess"})
    page = client.post(url, {"investigator": group_leader_a.pk, "password": PASSWORD}, follow=True).content.decode()
    assert "错误次数过多" in page
    assert not survey.signatures.exclude(signed_at=None).exists()
    client.logout()
    assert _login(client, "group02", PASSWORD, ip="10.3.3.3").status_code == 429


def test_the_password_rules_refuse_a_weak_password(client, cadre_a):
    client.force_login(cadre_a)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    page = response.content.decode()
    assert "密码过于常见" in page or "这个密码太常见了" in page or "全部为数字" in page
    cadre_a.refresh_from_db()
    assert cadre_a.check_password(PASSWORD)


def test_sessions_end_when_idle_and_with_the_browser():
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_pages_with_personal_data_are_never_cached(client, cadre_a, household_a):
    client.force_login(cadre_a)
    response = client.get(reverse("household_detail", args=[household_a.public_id]))
    assert "no-store" in response["Cache-Control"]


def test_the_office_creates_an_account_whose_password_must_be_changed(client, town_office, village_a, campaign):
    client.force_login(town_office)
    response = client.post(
        reverse("account_create"),
        {"username": "cadre_new", "display_name": "新干部", "role": "village", "village": village_a.pk},
    )
    page = response.content.decode()
    temporary = page.split('data-testid="temporary-password">')[1].split("<")[0]
    assert len(temporary) == 10
    profile = Profile.objects.get(user__username="cadre_new")
    assert profile.village == village_a and profile.must_change_password
    created = AuditEvent.objects.get(model="cases.Profile", action=AuditEvent.Action.CREATE)
    assert created.actor == town_office and temporary not in str(created.changes)
    # the person signs in and must choose a password before anything else
    client.logout()
    assert _login(client, "cadre_new", temporary).status_code == 302
    response = client.get(reverse("household_list"))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "请先设置只有您本人知道的新密码" in page
    client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": "Huai-river-2019", "new_password2": "Huai-river-2019"},
    )
    profile.refresh_from_db()
    assert not profile.must_change_password
    assert client.get(reverse("household_list")).status_code == 200


def test_a_village_cadre_account_needs_its_village(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("account_create"), {"username": "nobody", "display_name": "某", "role": "village"})
    assert "村干部账号须指定所在村（社区）" in response.content.decode()
    assert not Profile.objects.filter(user__username="nobody").exists()


def test_the_office_resets_and_deactivates_a_cadre_account(client, town_office, cadre_b):
    client.force_login(town_office)
    page = client.post(reverse("account_reset", args=["cadre03"])).content.decode()
    temporary = page.split('data-testid="temporary-password">')[1].split("<")[0]
    cadre_b.refresh_from_db()
    assert cadre_b.check_password(temporary) and cadre_b.profile.must_change_password
    response = client.post(reverse("account_active", args=["cadre03"]), {"active": "0", "reason": "调离"}, follow=True)
    assert "已停用" in response.content.decode()
    cadre_b.refresh_from_db()
    assert not cadre_b.is_active
    event = AuditEvent.objects.filter(model="cases.Profile").latest("at")
    assert event.reason == "停用账号：调离" and event.changes == {"is_active": [True, False]}


@pytest.mark.parametrize("persona", ["cadre_a", "group_leader_a", "leadership", "county_officer"])
def test_only_the_office_manages_accounts(client, request, persona, cadre_b):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("accounts")).status_code == 403
    response = client.post(reverse("account_reset", args=["cadre03"]))
    assert response.status_code == 403
    cadre_b.refresh_from_db()
    assert cadre_b.check_password(PASSWORD)


def test_the_office_cannot_manage_accounts_above_it(client, town_office, leadership, admin_user):
    client.force_login(town_office)
    for username in ["leader", "admin", "county"]:
        assert client.post(reverse("account_reset", args=[username])).status_code == 404
    page = client.get(reverse("accounts")).content.decode()
    assert "cadre02" in page and ">leader<" not in page
    leadership.refresh_from_db()
    assert leadership.check_password(PASSWORD)


@pytest.mark.skipif(
    __import__("django.db", fromlist=["connection"]).connection.vendor != "postgresql",
    reason="concurrent requests need a database that several connections share",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_checked_one_at_a_time(campaign, settings):
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    # the production hasher: a check takes long enough for unserialised attempts to overlap
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = get_user_model().objects.get(username="cadre02")
    user.set_password(PASSWORD)
    user.save()

    def attempt(i):
        try:
            return _login(Client(), "cadre02", f"guess{i}", ip=f"10.7.0.{i}").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(attempt, range(12)))
    # every password that was actually checked answered 200 (wrong password); the rest were locked out
    assert answers.count(200) <= settings.AXES_FAILURE_LIMIT, answers
    assert answers.count(429) >= 12 - settings.AXES_FAILURE_LIMIT
