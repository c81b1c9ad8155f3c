import datetime as dt
from decimal import Decimal

from django.urls import reverse

from cases.models import AuditEvent, Campaign, Phase


def _form(campaign, **changes):
    data = {
        "name": campaign.name,
        "document_number": campaign.document_number,
        "current_phase": campaign.current_phase,
        "village_report_deadline": "2019-11-06",
        "county_report_deadline": "2019-11-10",
        "village_ratio": "100",
        "town_ratio": "20",
        "county_ratio": "10",
        "urban_standard": "610",
        "rural_standard": "505",
        "standards_note": campaign.standards_note,
        "edge_multiplier": "1.5",
        "asset_multiplier": "24",
        "asset_multiplier_severe": "48",
        "purchase_lookback_years": "2",
        "minimum_amount": "0",
        "notice_days": "7",
        "gradual_exit_months": "0",
        "hotline": campaign.hotline,
        "complaint_days": "15",
        "green_review_days": "30",
        "aid_village_limit": "500",
        "aid_town_limit": "3000",
        "aid_county_limit": "20000",
    }
    for p in campaign.phases.all():
        data[f"start_{p.number}"] = p.starts_on.isoformat()
        data[f"end_{p.number}"] = p.ends_on.isoformat()
    data.update(changes)
    return data


def test_the_demo_campaign_follows_the_source_document(campaign):
    assert campaign.document_number == "泥政〔2019〕133号"
    dates = [(p.starts_on, p.ends_on) for p in campaign.phases.all()]
    assert dates == [
        (dt.date(2019, 10, 15), dt.date(2019, 10, 20)),
        (dt.date(2019, 10, 21), dt.date(2019, 11, 5)),
        (dt.date(2019, 11, 5), dt.date(2019, 11, 10)),
        (dt.date(2019, 11, 11), dt.date(2019, 11, 15)),
    ]
    assert (campaign.village_ratio, campaign.town_ratio, campaign.county_ratio) == (100, 20, 10)
    assert campaign.edge_multiplier == Decimal("1.5")
    assert campaign.work_groups.count() == 15
    assert campaign.leaders.get(role="head").name == "范志庆"
    assert campaign.leaders.get(office_role="director").name == "王超"


def test_the_town_office_changes_standards_and_the_change_is_recorded(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("campaign_edit"), _form(campaign, rural_standard="530", reason="县里新标准"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.rural_standard == Decimal("530")
    event = AuditEvent.objects.get(model="cases.Campaign", action="update")
    assert event.actor == town_office and event.reason == "县里新标准"
    assert event.changes == {"rural_standard": ["505.00", "530.00"]}
    page = client.get(reverse("campaign_detail")).content.decode()
    assert "530.00" in page and "县里新标准" in page


def test_it_changes_phase_dates(client, town_office, campaign):
    client.force_login(town_office)
    client.post(reverse("campaign_edit"), _form(campaign, end_2="2019-11-04"))
    assert Phase.objects.get(number=2).ends_on == dt.date(2019, 11, 4)


def test_bad_settings_get_messages_and_change_nothing(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(
        reverse("campaign_edit"),
        _form(
            campaign,
            town_ratio="120",
            rural_standard="-1",
            village_report_deadline="2019-11-12",
        ),
    )
    page = response.content.decode()
    assert "村级上报截止日不能晚于报县截止日" in page
    assert "确保该值小于或等于100" in page
    assert "确保该值大于或等于0" in page
    assert Campaign.objects.get().rural_standard == Decimal("505")


def test_overlapping_phases_are_refused_atomically(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("campaign_edit"), _form(campaign, start_3="2019-10-30", rural_standard="999"))
    assert "不能早于上一阶段结束前开始" in response.content.decode()
    assert Campaign.objects.get().rural_standard == Decimal("505")
    assert Phase.objects.get(number=3).starts_on == dt.date(2019, 11, 5)
