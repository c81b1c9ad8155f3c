"""Personas and the small objects most tests need.

The town is the demo town's structure (15 villages, work groups, users) built
by the same code as `manage.py demo_town`, without generated households.
村A is 湖滨村 (cadre02, work group 2), 村B is 江岸村 (cadre03).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model

from cases import compiled, services
from cases.demo import build_town
from cases.idnumber import make_id
from cases.models import Household, Member, Village

PASSWORD = "pw-for-tests"
_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def compiled_anew():
    """Each test compiles the statements it reads (cases.compiled.values_rows) for itself: one
    that fails only when compiled fails in every test that reads it, whatever the order."""
    compiled._STATEMENTS.clear()


@pytest.fixture(autouse=True)
def test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests serve static files from the finders; production uses collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def campaign(db):
    return build_town(password=PASSWORD)


@pytest.fixture
def village_a(campaign):
    return Village.objects.get(name="湖滨村")


@pytest.fixture
def village_b(campaign):
    return Village.objects.get(name="江岸村")


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def cadre_a(campaign):
    return _user("cadre02")


@pytest.fixture
def cadre_b(campaign):
    return _user("cadre03")


@pytest.fixture
def group_leader_a(campaign):
    return _user("group02")


@pytest.fixture
def town_office(campaign):
    return _user("town")


@pytest.fixture
def leadership(campaign):
    return _user("leader")


@pytest.fixture
def county_officer(campaign):
    return _user("county")


@pytest.fixture
def admin_user(campaign):
    return _user("admin")


def new_id(birth=dt.date(1970, 5, 17), sex="M") -> str:
    """A fresh valid synthetic ID number for each call."""
    return make_id("340225", birth + dt.timedelta(days=next(_sequence)), 101 if sex == "M" else 102)


@pytest.fixture
def make_household(town_office):
    def make(village, *, head="张建国", others=("李秀英",), dibao=True, actor=None):
        household = services.create_household(
            actor=actor or town_office,
            data={
                "village": village,
                "hukou_type": Household.HukouType.RURAL,
                "dibao_status": Household.DibaoStatus.ACTIVE if dibao else Household.DibaoStatus.NONE,
                "covered_persons": 1 + len(others) if dibao else 0,
                "monthly_amount": "505.00" if dibao else "0",
                "is_edge": not dibao,
            },
            head={"name": head, "id_number": new_id()},
        )
        for i, name in enumerate(others):
            services.add_member(
                household,
                actor=actor or town_office,
                data={
                    "name": name,
                    "id_number": new_id(dt.date(1972, 3, 1), "F"),
                    "relationship": Member.Relationship.SPOUSE if i == 0 else Member.Relationship.SON,
                },
                joined_on=dt.date(1995, 1, 1),
                reason="登记",
            )
        return household

    return make


@pytest.fixture
def household_a(make_household, village_a):
    return make_household(village_a, head="张建国")


@pytest.fixture
def household_b(make_household, village_b):
    return make_household(village_b, head="王德华")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login
