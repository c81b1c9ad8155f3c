import pytest
from django.core.management import CommandError, call_command

from cases.demo import generate_households
from cases.models import AuditEvent, Household, Member


def test_healthz_answers_when_the_database_is_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_login_page_is_in_chinese(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert '<h1 class="h3 mb-3">低保复核系统</h1>' in page and "登录" in page  # no campaign yet


def test_the_login_page_names_the_town_or_the_county_of_several(client, campaign, request):
    assert "泥汊镇低保复核系统" in client.get("/accounts/login/").content.decode()
    request.getfixturevalue("second_town")  # 蜀山镇 runs a campaign of its own
    page = client.get("/accounts/login/").content.decode()
    assert "无为县低保复核系统" in page and "泥汊镇低保复核系统" not in page


def test_the_demo_command_refuses_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_town")


def test_the_demo_command_builds_the_town_once(db, settings, capsys):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo_town", households=80)
    call_command("demo_town", households=80)
    out = capsys.readouterr().out
    assert Household.objects.count() == 80
    assert "已有80户，不再生成" in out
    assert "cadre15" in out and "group15" in out and "dibao2019" in out


def test_generated_households_are_deterministic_and_realistic(campaign):
    generate_households(campaign, 400, seed=7)
    first = list(Member.objects.order_by("id").values_list("name", "id_number")[:50])
    assert Household.objects.filter(dibao_status="active").count() == 300
    assert Household.objects.exclude(dibao_status="active").count() == 100
    sizes = {h.members.count() for h in Household.objects.all()[:100]}
    assert sizes <= {2, 3, 4}
    members = Member.objects.all()
    assert all(m.id_number.startswith("340225") for m in members)
    elderly = sum(1 for m in members if m.age_on(m.birth_date.replace(year=2019)) >= 0 and m.birth_date.year <= 1959)
    assert 0.15 < elderly / members.count() < 0.6
    assert members.filter(health="disabled").exists() and members.filter(health="serious").exists()
    assert AuditEvent.objects.filter(action="generate", model="cases.Household").count() == 400
    Member.objects.all().delete()
    Household.objects.all().delete()
    generate_households(campaign, 400, seed=7)
    assert list(Member.objects.order_by("id").values_list("name", "id_number")[:50]) == first


def test_a_served_site_refuses_to_start_without_a_secret_key(settings):
    from django.core.exceptions import ImproperlyConfigured

    from dibao.wsgi import require_secret_key

    settings.SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        require_secret_key()
