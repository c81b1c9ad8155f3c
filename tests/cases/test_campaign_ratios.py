"""The plan's floors: the village visits everyone, the town re-checks ≥20%, the county ≥10%."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases.models import AuditEvent, Campaign
from tests.cases.test_campaign import _form


def _unchanged(campaign):
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert (fresh.village_ratio, fresh.town_ratio, fresh.county_ratio) == (100, 20, 10)
    assert not AuditEvent.objects.filter(model="cases.Campaign", action=AuditEvent.Action.UPDATE).exists()


def test_it_refuses_a_town_ratio_below_20_percent_and_says_why(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("campaign_edit"), _form(campaign, town_ratio="19.99"))
    assert "镇级抽查比例不得低于20%" in response.content.decode()
    _unchanged(campaign)


def test_it_refuses_a_county_ratio_below_10_percent_and_says_why(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("campaign_edit"), _form(campaign, county_ratio="5"))
    assert "县级抽查比例不得低于10%" in response.content.decode()
    _unchanged(campaign)


def test_it_accepts_higher_ratios(client, town_office, campaign):
    client.force_login(town_office)
    client.post(reverse("campaign_edit"), _form(campaign, town_ratio="25", county_ratio="12.5"))
    campaign.refresh_from_db()
    assert (campaign.town_ratio, campaign.county_ratio) == (Decimal("25"), Decimal("12.5"))


def test_it_offers_no_way_to_change_the_village_ratio(client, town_office, campaign):
    client.force_login(town_office)
    page = client.get(reverse("campaign_edit")).content.decode()
    assert 'name="village_ratio"' not in page
    client.post(reverse("campaign_edit"), _form(campaign, village_ratio="50", rural_standard="520"))
    campaign.refresh_from_db()
    assert campaign.village_ratio == 100 and campaign.rural_standard == Decimal("520")


@pytest.mark.parametrize(
    ("field", "value"),
    [("town_ratio", Decimal("10")), ("county_ratio", Decimal("9")), ("village_ratio", Decimal("99"))],
)
def test_the_database_refuses_ratios_below_the_floors(campaign, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(**{field: value})
