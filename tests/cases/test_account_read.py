"""cases.auth and cases.sessions: a signed-in request reads its session, and then the account
with its profile and its town's running campaign, in one statement each; what they read is
what the ORM reads, and who is signed out stays signed out."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import roles
from cases.access import get_current_campaign
from cases.auth import campaign_read_with, read_account
from cases.compiled import one_with_related
from cases.models import Campaign, Profile


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_account_comes_with_its_profile_and_its_towns_running_campaign(cadre_a, campaign):
    user = read_account(cadre_a.pk)
    with CaptureQueriesContext(connection) as ctx:
        profile, running, town = user.profile, user.dibao_campaign, user.dibao_campaign.town
    assert ctx.captured_queries == []
    orm_user = get_user_model().objects.select_related("profile").get(pk=cadre_a.pk)
    assert _values(user) == _values(orm_user)
    assert _values(profile) == _values(orm_user.profile) and profile.user is user
    orm_campaign = Campaign.objects.current(cadre_a.profile.town_id)
    assert _values(running) == _values(orm_campaign) and _values(town) == _values(orm_campaign.town)
    # decimals, dates and times converted as the ORM converts them
    assert running.urban_standard == orm_campaign.urban_standard and running.created_at == orm_campaign.created_at
    assert read_account(-1) is None


def test_the_running_campaign_is_the_towns_latest_active_one(cadre_a, campaign, second_town):
    fields = {
        f.name: getattr(campaign, f.name)
        for f in Campaign._meta.concrete_fields
        if f.name not in {"id", "public_id", "created_at", "name"}
    }
    newer = Campaign.objects.create(**fields, name="第二轮")
    Campaign.objects.filter(pk=newer.pk).update(created_at=campaign.created_at + dt.timedelta(days=1))
    assert read_account(cadre_a.pk).dibao_campaign.pk == newer.pk
    Campaign.objects.filter(pk=newer.pk).update(is_active=False)
    assert read_account(cadre_a.pk).dibao_campaign.pk == campaign.pk
    # another town's campaign is never the user's
    assert read_account(second_town["officer"].pk).dibao_campaign.pk == second_town["campaign"].pk
    Campaign.objects.filter(town=campaign.town).update(is_active=False)
    user = read_account(cadre_a.pk)
    assert user.dibao_campaign is None and campaign_read_with(user) == (True, None)


def test_an_account_without_profile_reads_as_the_orm_would(campaign):
    root = get_user_model().objects.create_superuser("root", password="x-long-password-1")
    user = read_account(root.pk)
    with pytest.raises(ObjectDoesNotExist):
        user.profile  # noqa: B018 - the access is the test
    assert user.dibao_campaign is None
    assert campaign_read_with(user) == (False, None)  # its campaign is read the usual way
    assert roles.role_of(user) == roles.Role.ADMIN


def test_a_county_account_reads_the_campaign_of_the_town_it_chose(client, county_officer, second_town, rf):
    user = read_account(county_officer.pk)
    user._dibao_chosen_town = second_town["town"].pk
    assert campaign_read_with(user) == (False, None)
    request = rf.get("/")
    request.user = user
    assert get_current_campaign(request).pk == second_town["campaign"].pk


def test_whether_lists_need_the_towns_filter_follows_the_villages_towns(cadre_a, county_officer, campaign, rf):
    user = read_account(cadre_a.pk)
    profile = roles.load_profile(user, None)
    assert profile.villages_elsewhere is False and roles.town_filter(user) is None
    county = read_account(county_officer.pk)
    county._dibao_chosen_town = campaign.town_id
    assert roles.load_profile(county, campaign.town_id).villages_elsewhere is False
    other = read_account(county_officer.pk)
    other._dibao_chosen_town = campaign.town_id + 1000
    assert roles.load_profile(other, campaign.town_id + 1000).villages_elsewhere is True


def test_a_signed_in_page_reads_session_and_account_in_two_statements(client, cadre_a):
    client.force_login(cadre_a)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("password_change"))
    assert response.status_code == 200
    session, account = (q["sql"] for q in ctx.captured_queries)
    if connection.vendor == "postgresql":  # prepared once per connection (compiled._prepared)
        assert all(re.match(r"(PREPARE|EXECUTE) dibao_\d+\b", sql) for sql in (session, account))
    else:
        assert 'FROM "django_session"' in session and 'FROM "auth_user" t0 LEFT JOIN "cases_profile"' in account


def test_the_footer_shows_the_running_campaigns_hotline_without_a_query_of_its_own(client, cadre_a, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(hotline="0553-6666666")
    client.force_login(cadre_a)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("password_change"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "0553-6666666" in page and campaign.town.name in page
    assert len(ctx.captured_queries) == 2


def test_an_expired_or_deleted_session_signs_out(client, cadre_a):
    client.force_login(cadre_a)
    assert client.get("/households/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/households/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(cadre_a)
    Session.objects.all().delete()
    assert client.get("/households/").status_code == 302


def test_a_deactivated_account_is_signed_out_at_its_next_request(client, cadre_a):
    client.force_login(cadre_a)
    get_user_model().objects.filter(pk=cadre_a.pk).update(is_active=False)
    response = client.get("/households/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_changed_password_signs_out_the_other_sessions(client, cadre_a):
    client.force_login(cadre_a)
    user = get_user_model().objects.get(pk=cadre_a.pk)
    user.set_password("another-long-password-2")
    user.save()
    assert client.get("/households/").status_code == 302  # the session's hash no longer matches


def test_a_profile_read_so_saves_like_any_other(cadre_a):
    user = read_account(cadre_a.pk)
    user.profile.display_name = "新名字"
    user.profile.save(update_fields=["display_name"])
    assert Profile.objects.get(user=cadre_a).display_name == "新名字"


def test_compiled_reads_refuse_a_relation_to_many(cadre_a):
    with pytest.raises(ValueError, match="no foreign key or one-to-one"):
        one_with_related(get_user_model(), "id", cadre_a.pk, ("groups",))
