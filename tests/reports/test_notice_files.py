"""A village's 公示 list as files: a PDF for the notice board (A4 landscape, title, period,
hotline) and a workbook, both holding the list the notice page shows and nothing personal beyond
name, covered persons, category, monthly amount and village; for the village's own cadre and the
roles that see the whole town; every download recorded; a fixed number of queries."""

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from cases.models import AuditEvent, Campaign, Case, Household, Member, Notice
from surveys import review
from tests.reports.conftest import pdf_text
from tests.reports.test_summary_report import EVIL, workbook
from tests.surveys.conftest import ready_town, verify_town  # noqa: F401 - shared fixtures

HOTLINE = "0553-6612345"
ID_NUMBER = re.compile(r"\d{17}[\dX]|\d{6}\*+\d{3}[\dX]")
SECTIONS = ["新纳入", "调整", "清退", "维持"]


@pytest.fixture
def noticed(ready_town, village_a):  # noqa: F811 - the shared fixture
    """Every notice over; the village's households carry a phone, an address and a bank account,
    and a member's health is recorded; one head's name would be a formula in a spreadsheet."""
    Campaign.objects.filter(pk=ready_town.pk).update(hotline=HOTLINE)
    Household.objects.filter(village=village_a).update(
        phone="13912345678", address="湖滨村三组88号", bank_name="农商银行", bank_account="6228480012345678901"
    )
    Member.objects.filter(household__village=village_a).update(
        health=Member.Health.DISABLED, disability_certificate="34022519700101001X44"
    )
    case = listed(ready_town, village_a)[0][1]
    Member.objects.filter(household=case.household_id, relationship="02", status="present").update(name=EVIL)
    return Campaign.objects.get(pk=ready_town.pk)


def get(client, user, code, fmt):
    client.force_login(user)
    return client.get(reverse("document_notice", args=[code, fmt]))


def listed(campaign, village) -> list[tuple[str, Case]]:
    return [(label, case) for label, cases in review.notice_sections(campaign, village) for case in cases]


def test_it_prints_the_notice_for_the_board(client, town_office, noticed, village_a):
    response = get(client, town_office, village_a.code, "pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4
    text = pdf_text(response.content)
    notice = Notice.objects.get(campaign=noticed, village=village_a)
    assert "湖滨村城乡低保复核结果公示" in text
    assert f"公示期：{notice.starts_on:%Y}年{notice.starts_on.month}月{notice.starts_on.day}日至" in text
    assert HOTLINE in text
    rows = listed(noticed, village_a)
    assert rows
    for label, cases in review.notice_sections(noticed, village_a):
        assert f"{label}（{len(cases)}户）" in text
    for _label, case in rows:
        name = case.household.heads[0].name.replace(" ", "")
        assert name in text
        if case.outcome != "exit":
            assert f"{case.decision.monthly_amount:,.2f}" in text


def test_it_writes_the_notice_as_a_workbook_of_the_same_list(client, cadre_a, noticed, village_a):
    response = get(client, cadre_a, village_a.code, "xlsx")
    assert "attachment" in response["Content-Disposition"]
    wb = workbook(response.content)
    assert wb.sheetnames == SECTIONS
    for label, cases in review.notice_sections(noticed, village_a):
        ws = wb[label]
        assert [c.value for c in ws[1]] == ["序号", "户主姓名", "保障人数", "类别", "月保障金（元）", "村（社区）"]
        assert ws.freeze_panes == "A2"
        found = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        assert len(found) == len(cases)
        for number, (row, case) in enumerate(zip(found, cases, strict=True), start=1):
            assert row[0] == number and row[1] == case.household.heads[0].name and row[5] == "湖滨村"
            if case.outcome == "exit":
                assert row[2] == "—" and row[4] == "停发"
            else:
                assert row[2] == case.decision.covered_persons
                assert f"{row[4]:.2f}" == f"{case.decision.monthly_amount:.2f}"
                assert row[3].endswith("低保" + (f" {case.decision.dibao_class}" if case.decision.dibao_class else ""))


def test_it_holds_no_id_number_phone_address_bank_account_or_health_detail(client, town_office, noticed, village_a):
    pdf = pdf_text(get(client, town_office, village_a.code, "pdf").content)
    wb = workbook(get(client, town_office, village_a.code, "xlsx").content)
    cells = "".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    members = Member.objects.filter(household__village=village_a)
    for text in (pdf, cells):
        assert not ID_NUMBER.search(text)
        for m in members:
            assert m.id_number not in text and m.id_number[-6:] not in text
        secrets = ("13912345678", "湖滨村三组88号", "三组", "农商银行", "6228480012345678901", "34022519700101001X44")
        for secret in secrets:
            assert secret not in text
        for health in ("残疾", "重病", "大病", "慢性病", "健康"):
            assert health not in text


def test_it_keeps_a_formula_like_name_as_plain_text(client, town_office, noticed, village_a):
    content = get(client, town_office, village_a.code, "xlsx").content
    wb = load_workbook(io.BytesIO(content))
    cell = next(c for ws in wb.worksheets for row in ws.iter_rows(min_row=2) for c in row if c.value == EVIL)
    assert cell.data_type == "s" and cell.quotePrefix
    pdf = get(client, town_office, village_a.code, "pdf").content
    assert EVIL.replace(" ", "") in pdf_text(pdf) and b"/URI" not in pdf


@pytest.mark.parametrize("persona", ["town_office", "leadership", "county_officer", "cadre_a", "group_leader_a"])
def test_the_village_and_the_roles_that_see_it_may_download_and_each_download_is_recorded(
    client, request, persona, noticed, village_a
):
    user = request.getfixturevalue(persona)
    for fmt, label in (("pdf", "PDF"), ("xlsx", "Excel")):
        response = get(client, user, village_a.code, fmt)
        assert response.status_code == 200 and len(response.content) > 1000
        event = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).latest("id")
        assert event.actor == user and event.model == "cases.Notice"
        assert event.changes["文件"][1] == f"湖滨村公示名单（{label}）"
        assert event.changes["行数"][1] == len(listed(noticed, village_a))


def test_another_villages_cadre_gets_404(client, cadre_b, noticed, village_a, village_b):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()
    for fmt in ("pdf", "xlsx"):
        assert get(client, cadre_b, village_a.code, fmt).status_code == 404
    assert get(client, cadre_b, village_b.code, "pdf").status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == before + 1


def test_a_village_not_yet_on_notice_has_no_files(client, town_office, verify_town, village_a):  # noqa: F811
    response = get(client, town_office, village_a.code, "pdf")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_a_visitor_is_asked_to_sign_in(client, noticed, village_a):
    response = client.get(reverse("document_notice", args=[village_a.code, "pdf"]))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_notice_page_offers_the_files(client, cadre_a, noticed, village_a):
    client.force_login(cadre_a)
    page = client.get(reverse("review_notice", args=[village_a.code])).content.decode()
    assert reverse("document_notice", args=[village_a.code, "pdf"]) in page
    assert reverse("document_notice", args=[village_a.code, "xlsx"]) in page


# The files' queries, whatever the number of households: the session, and the account with its
# profile and campaign (2, cases.auth); the village and its notice (2); the list with its heads (2); the download's
# audit row (1).
@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_it_reads_a_fixed_number_of_queries_whatever_the_size(
    client, django_assert_num_queries, town_office, noticed, village_a, village_b, fmt
):
    # 江岸村's list made shorter: five of its households taken off the review
    taken_off = Case.objects.filter(campaign=noticed, village=village_b).order_by("pk")[:5]
    Case.objects.filter(pk__in=list(taken_off.values_list("pk", flat=True))).update(in_scope=False)
    assert len(listed(noticed, village_b)) + 5 <= len(listed(noticed, village_a))
    client.force_login(town_office)
    for village in (village_b, village_a):
        with django_assert_num_queries(7):
            assert client.get(reverse("document_notice", args=[village.code, fmt])).status_code == 200


# The page's queries: the session, and the account with its profile and campaign (2, cases.auth);
# the villages and their notices (2).
def test_the_documents_page_lists_what_the_reader_may_download(
    client, django_assert_num_queries, cadre_a, town_office, noticed, village_a, village_b
):
    client.force_login(cadre_a)
    page = client.get(reverse("documents")).content.decode()
    assert reverse("document_notice", args=[village_a.code, "pdf"]) in page
    assert reverse("document_notice", args=[village_b.code, "pdf"]) not in page
    assert reverse("document_report", args=["town", "pdf"]) not in page
    assert reverse("document_flyer") in page
    client.force_login(town_office)
    with django_assert_num_queries(4):
        page = client.get(reverse("documents")).content.decode()
    assert reverse("document_report", args=["town", "pdf"]) in page
    assert reverse("document_notice", args=[village_b.code, "xlsx"]) in page
    assert reverse("document_report", args=["closing", "pdf"]) not in page  # phase 4 not begun
    assert "第四阶段开始后可生成" in page
