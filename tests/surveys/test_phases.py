"""The campaign moves on through its phases on the server, with what each step needs."""

import pytest
from django.urls import reverse

from cases.models import AuditEvent, Campaign, Case, Household
from surveys import services
from surveys.models import VillageReport


def _phase(campaign):
    return Campaign.objects.get(pk=campaign.pk).current_phase


def test_entering_phase_2_draws_the_list_from_the_registry(client, town_office, campaign, village_a):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.DEPLOY)
    from cases import services as registry
    from tests.conftest import new_id

    edge = registry.create_household(
        actor=town_office,
        data={"village": village_a, "hukou_type": "rural", "is_edge": True},
        head={"name": "边缘户甲", "id_number": new_id()},
    )
    assert not Case.objects.filter(household=edge).exists()  # phase 1: nothing listed yet
    client.force_login(town_office)
    response = client.post(reverse("campaign_advance"), follow=True)
    assert "已进入第二阶段：全面复核" in response.content.decode()
    assert _phase(campaign) == Campaign.PhaseNumber.REVIEW
    assert Case.objects.get(household=edge).source == Case.Source.EDGE
    event = AuditEvent.objects.get(model="cases.Campaign", changes__has_key="current_phase")
    assert event.actor == town_office and event.changes["current_phase"] == [1, 2]


def test_phase_3_waits_for_every_villages_report_unless_a_reason_is_given(client, town_office, campaign, cadre_a):
    client.force_login(town_office)
    VillageReport.objects.create(
        campaign=campaign, village=campaign.town.villages.first(), reported_by=cadre_a, households=0
    )
    response = client.post(reverse("campaign_advance"), follow=True)
    page = response.content.decode()
    assert "尚有14个村（社区）未上报复核结果" in page and "湖滨村" in page
    assert _phase(campaign) == Campaign.PhaseNumber.REVIEW
    client.post(reverse("campaign_advance"), {"reason": "县局同意先行汇总"})
    assert _phase(campaign) == Campaign.PhaseNumber.VERIFY
    assert AuditEvent.objects.filter(model="cases.Campaign", reason="县局同意先行汇总").exists()


def test_every_village_reported_opens_phase_3_without_a_reason(town_office, campaign, cadre_a):
    for village in campaign.town.villages.all():
        VillageReport.objects.create(campaign=campaign, village=village, reported_by=cadre_a, households=0)
    services.advance_phase(campaign, actor=town_office)
    assert _phase(campaign) == Campaign.PhaseNumber.VERIFY


def test_the_closed_campaign_goes_no_further(town_office, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.CLOSED)
    with pytest.raises(services.DomainError, match="已结束"):
        services.advance_phase(campaign, actor=town_office, reason="x")


@pytest.mark.parametrize("persona", ["cadre_a", "group_leader_a", "leadership", "county_officer"])
def test_only_the_town_office_moves_the_phase(client, request, persona, campaign):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(reverse("campaign_advance"), {"reason": "x"})
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert _phase(campaign) == Campaign.PhaseNumber.REVIEW


def test_the_settings_form_no_longer_moves_the_phase(client, town_office, campaign):
    from tests.cases.test_campaign import _form

    client.force_login(town_office)
    client.post(reverse("campaign_edit"), _form(campaign, current_phase="4", seen_version=campaign.version))
    assert _phase(campaign) == Campaign.PhaseNumber.REVIEW
    assert Household.objects.count() == 0
