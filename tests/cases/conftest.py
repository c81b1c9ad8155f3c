"""Fixtures shared by the tests of the campaign and registry: records of 村A for the access
matrix and the town boundary, and a second town in the installation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases import assistance, complaints, roles, services
from cases.models import Campaign, Case, Household, Profile, Town, Village
from tests.conftest import PASSWORD, new_id


@pytest.fixture
def records(campaign, make_household, village_a, household_a, cadre_a, town_office):
    """One green-channel application, one temporary-aid record and one complaint, all of 村A."""
    applicant = make_household(village_a, head="赵春花", others=(), dibao=False)
    today = timezone.localdate()
    green = assistance.accept_green(
        campaign,
        applicant,
        actor=cadre_a,
        member=applicant.head(),
        ground="illness",
        accepted_on=today,
        commitment_on=today,
        consent_on=today,
        missing_documents="病历",
        documents_due=today + dt.timedelta(days=5),
    )
    aid = assistance.apply_aid(
        campaign, actor=cadre_a, person="周桂兰", reason="大病", amount=Decimal("1000"), village=village_a
    )
    services.ensure_case(campaign, household_a, Case.Source.DIBAO)
    complaint = complaints.record_complaint(
        campaign,
        actor=town_office,
        channel="phone",
        received_on=today,
        anonymous=True,
        subject="household",
        household=household_a,
        content="有车",
        handler=town_office,
    )
    return {"green": green, "aid": aid, "complaint": complaint}


@pytest.fixture
def second_town(campaign):
    """蜀山镇: one village, its own campaign (a copy of 泥汊镇's settings), a town office account
    and one dibao household."""
    town = Town.objects.create(code="340225107", name="蜀山镇", county="无为县")
    village = Village.objects.create(town=town, code="340225107001", name="山前村", kind="rural", order=1)
    fields = {
        f.name: getattr(campaign, f.name)
        for f in Campaign._meta.concrete_fields
        if f.name not in {"id", "public_id", "town", "created_at", "name"}
    }
    other = Campaign.objects.create(**fields, town=town, name="蜀山镇低保复核攻坚月")
    user = get_user_model().objects.create_user(username="town2", password=PASSWORD)
    Profile.objects.create(user=user, role=roles.Role.TOWN, town=town, display_name="蜀山镇社会事务办")
    household = services.create_household(
        actor=user,
        data={
            "village": village,
            "hukou_type": Household.HukouType.RURAL,
            "dibao_status": Household.DibaoStatus.ACTIVE,
            "covered_persons": 1,
            "monthly_amount": "505.00",
        },
        head={"name": "山前户主", "id_number": new_id()},
    )
    return {"town": town, "village": village, "campaign": other, "officer": user, "household": household}
