"""Two people saving the same record: the later form, opened on an older version, is
refused with HTTP 409 and the other person's change; nothing is overwritten."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse

from cases.models import AuditEvent, Campaign, Household
from tests.cases.test_campaign import _form
from tests.cases.test_member_facts import _member_form


def _household_form(household, **changes):
    data = {
        "village": household.village_id,
        "hukou_type": "rural",
        "dibao_status": "active",
        "covered_persons": 2,
        "monthly_amount": "505.00",
        "seen_version": household.version,
    }
    data.update(changes)
    return data


def test_a_stale_household_save_is_refused_and_shows_the_other_change(client, cadre_a, town_office, household_a):
    opened = Household.objects.get(pk=household_a.pk)  # both open the form on version 1
    client.force_login(town_office)
    client.post(reverse("household_edit", args=[household_a.public_id]), _household_form(opened, address="新址1号"))
    client.force_login(cadre_a)
    response = client.post(
        reverse("household_edit", args=[household_a.public_id]),
        _household_form(opened, monthly_amount="420.00"),
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "保存未生效" in page and "新址1号" in page and "打开最新内容" in page
    household_a.refresh_from_db()
    assert household_a.address == "新址1号" and household_a.monthly_amount == Decimal("505.00")
    assert household_a.version == 2
    # opened again on the latest version, the same change goes through
    client.post(
        reverse("household_edit", args=[household_a.public_id]),
        _household_form(household_a, monthly_amount="420.00", address="新址1号"),
    )
    household_a.refresh_from_db()
    assert household_a.monthly_amount == Decimal("420.00") and household_a.version == 3


def test_a_stale_member_save_is_refused(client, cadre_a, town_office, household_a):
    head = household_a.head()
    data = _member_form(head, id_number="", seen_version=head.version)
    client.force_login(town_office)
    client.post(reverse("member_edit", args=[head.public_id]), {**data, "education": "junior"})
    client.force_login(cadre_a)
    response = client.post(reverse("member_edit", args=[head.public_id]), {**data, "health": "serious"})
    assert response.status_code == 409 and "初中" in response.content.decode()
    head.refresh_from_db()
    assert (head.education, head.health) == ("junior", "healthy")


def test_a_stale_campaign_save_is_refused(client, town_office, campaign):
    client.force_login(town_office)
    stale = _form(campaign, rural_standard="520", seen_version=campaign.version)
    client.post(reverse("campaign_edit"), _form(campaign, urban_standard="620", seen_version=campaign.version))
    response = client.post(reverse("campaign_edit"), stale)
    assert response.status_code == 409
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert fresh.urban_standard == Decimal("620") and fresh.rural_standard == Decimal("505")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's; SQLite keeps the model guard"
)
def test_the_database_refuses_to_change_or_delete_an_audit_row(household_a):
    from django.db import transaction

    event = AuditEvent.objects.filter(household=household_a).first()
    for statement in [
        AuditEvent.objects.filter(pk=event.pk).update,
        AuditEvent.objects.filter(pk=event.pk).delete,
    ]:
        with pytest.raises(DatabaseError, match="操作记录只能新增"), transaction.atomic():
            statement(reason="篡改") if statement.__name__ == "update" else statement()
    assert AuditEvent.objects.get(pk=event.pk).reason == event.reason
