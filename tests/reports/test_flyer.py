"""The policy flyer (送政策): one A4 page built from the campaign's settings — what dibao is, who
may qualify, the standards, how to apply, the green channel, temporary assistance, the hotline —
public (the notice board links to it), each download recorded."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from cases.models import AuditEvent, Campaign
from tests.reports.conftest import pdf_text


@pytest.fixture
def configured(campaign):
    """Settings with figures of their own, so that the flyer can only have read them from here."""
    Campaign.objects.filter(pk=campaign.pk).update(
        urban_standard=Decimal("612.34"),
        rural_standard=Decimal("487.65"),
        standards_note="测试标准，以县民政局公布为准。",
        notice_days=9,
        green_review_days=21,
        complaint_days=12,
        asset_multiplier=Decimal("30"),
        hotline="0553-7654321",
    )
    return Campaign.objects.get(pk=campaign.pk)


def test_it_is_one_page_built_from_the_campaigns_settings(client, configured):
    response = client.get(reverse("document_flyer"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842  # A4 portrait
    text = pdf_text(response.content)
    for part in ("什么是低保", "低保标准", "哪些家庭可以申请", "怎样申请", "绿色通道", "临时救助", "投诉举报电话"):
        assert part in text
    for figure in ("612.34元/人·月", "487.65元/人·月", "测试标准，以县民政局公布为准", "公示9天", "30倍"):
        assert figure in text
    assert "审批后21天内" in text and "12天内办理" in text and "0553-7654321" in text
    assert "容缺受理" in text and "先审批后评议" in text and "先行救助" in text


def test_it_follows_a_change_of_the_settings(client, configured):
    assert "612.34" in pdf_text(client.get(reverse("document_flyer")).content)
    Campaign.objects.filter(pk=configured.pk).update(urban_standard=Decimal("650.00"), hotline="12345")
    text = pdf_text(client.get(reverse("document_flyer")).content)
    assert "650.00元/人·月" in text and "612.34" not in text and "12345" in text


def test_it_needs_no_sign_in_and_records_each_download(client, configured, town_office):
    response = client.get(reverse("document_flyer"), {"from": "board"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert event.actor is None and event.campaign_id == configured.pk
    assert event.changes["文件"][1] == "政策宣传单（PDF）" and event.changes["筛选"][1] == "from=board"
    client.force_login(town_office)
    client.get(reverse("document_flyer"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).latest("id").actor == town_office


def test_its_address_is_the_one_the_notice_board_links_to(configured):
    assert reverse("document_flyer") == "/reports/documents/flyer/"


def test_it_says_so_when_there_is_no_campaign(client, db):
    assert client.get(reverse("document_flyer")).status_code == 404


# Whatever the town's size: the campaign with its town (1) and the download's audit row (1).
def test_it_reads_a_fixed_number_of_queries(client, django_assert_num_queries, configured):
    client.get(reverse("document_flyer"))  # made once (the second request reads it back)
    with django_assert_num_queries(2):
        assert client.get(reverse("document_flyer")).status_code == 200
