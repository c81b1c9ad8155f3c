"""The written report to the county (11/10) and the county's closing report: one builder, a
workbook whose totals are the workbook's own formulas and equal counts taken straight from the
database, the same figures in the PDF, for the roles that see the whole town, each download
recorded, and a fixed number of queries whatever the size of the town."""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from cases import decisions
from cases.demo import generate_assistance, generate_households
from cases.models import (
    AuditEvent,
    Campaign,
    Case,
    Complaint,
    Decision,
    GreenChannel,
    Household,
    Member,
    TemporaryAid,
    Village,
)
from reports import exports, summary
from reports.models import Export
from surveys import review, revisits, services
from surveys.demo import generate_surveys
from surveys.models import Difference, Revisit, SampleEntry, Survey
from tests.reports.conftest import pdf_text
from tests.surveys.conftest import decide_rest, revisit_sample, verify_town  # noqa: F401 - the shared fixture

EVIL = '=HYPERLINK("http://x","y")'


# --- reading the files back --------------------------------------------------------------------


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def evaluate(ws, formula):
    """The value of a 合计 cell as a spreadsheet computes it: =SUM over a column, =IF(d=0,0,n/d)."""
    if not isinstance(formula, str) or not formula.startswith("="):
        return formula
    if m := re.fullmatch(r"=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", formula):
        col, first, _, last = m.groups()
        return sum((ws[f"{col}{r}"].value or 0) for r in range(int(first), int(last) + 1))
    if m := re.fullmatch(r"=IF\(([A-Z]+\d+)=0,0,([A-Z]+\d+)/([A-Z]+\d+)\)", formula):
        den, num, _ = m.groups()
        d = evaluate(ws, ws[den].value)
        return evaluate(ws, ws[num].value) / d if d else 0
    raise AssertionError(f"unexpected formula {formula}")


def totals(ws) -> dict[str, object]:
    """The 合计 row by column header, evaluated."""
    last = ws.max_row
    assert ws[f"A{last}"].value == "合计"
    return {label: evaluate(ws, cell.value) for label, cell in zip(header(ws), ws[last], strict=True) if label}


def rows(ws) -> list[dict]:
    labels = header(ws)
    return [dict(zip(labels, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


@pytest.fixture(autouse=True)
def _worker(immediate_tasks):
    """The reports are made by the worker: here at once, in the test's process."""


def download(client, user, name, *args, **query):
    """Ask for the report as a user does (a POST that queues it for the worker, which makes it),
    then download the finished file from the job's page; a refusal is returned as it is."""
    client.force_login(user)
    response = client.post(reverse(name, args=args))
    if response.status_code != 302 or "/reports/exports/" not in response["Location"]:
        return response
    export = Export.objects.get(public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert export.status == "done", export.error
    got = client.get(reverse("export_download", args=[export.public_id]), query)
    assert got.status_code == 200
    return HttpResponse(
        b"".join(got.streaming_content),
        content_type=got["Content-Type"],
        headers={"Content-Disposition": got["Content-Disposition"]},
    )


# --- the town ------------------------------------------------------------------------------------


def _adjusted_head(campaign) -> Member:
    case = Case.objects.filter(campaign=campaign, decision__outcome=Decision.Outcome.ADJUST).order_by("pk").first()
    return Member.objects.get(household=case.household_id, status="present", relationship="02")


def make_ready(campaign, town_office) -> Campaign:
    """The shared ready_town's steps (sample drawn and re-visited, every household decided, every
    notice over), with two re-visits that find one more covered person than the village recorded
    (one difference judged, one not)."""
    sample, _ = services.draw_sample(campaign, level="town", actor=town_office)
    entries = list(sample.entries.select_related("household", "sample__campaign").order_by("pk"))
    for entry in entries[:2]:
        survey = Survey.objects.get(campaign=campaign, household=entry.household_id, status="submitted")
        revisit_sample(sample, town_office, entries=[entry], covered_persons=survey.covered_persons + 1)
    found = Difference.objects.filter(revisit__entry__sample=sample).order_by("pk").first()
    revisits.judge_difference(found, verdict="recording", note="多报一人", actor=town_office)
    revisit_sample(sample, town_office, entries=entries[2:])
    decide_rest(campaign, town_office)
    start = timezone.localdate() - dt.timedelta(days=campaign.notice_days)
    for village in Village.objects.filter(town=campaign.town):
        if Case.objects.filter(campaign=campaign, village=village).exists():
            decisions.open_notice(campaign, village, actor=town_office, starts_on=start)
    return campaign


@pytest.fixture
def reviewed(verify_town, town_office):  # noqa: F811 - the shared fixture
    """Phase 3 with the town's review done, and an adjusted household whose head's name would be
    a formula in a spreadsheet."""
    make_ready(verify_town, town_office)
    Member.objects.filter(pk=_adjusted_head(verify_town).pk).update(name=EVIL)
    return verify_town


@pytest.fixture
def town(reviewed):
    """…with green-channel cases, temporary aid and complaints (the households they name join the
    town's sample for a full check, which the report lists as still to do)."""
    generate_assistance(reviewed)
    return reviewed


def expected(campaign) -> dict[tuple[str, str], object]:
    """The report's totals counted straight from the tables they come from (not from the report's
    own queries, the tallies or the dashboard)."""
    in_scope = Case.objects.filter(campaign=campaign, in_scope=True)
    households = in_scope.values("household_id")
    surveys = Survey.objects.filter(campaign=campaign, status=Survey.Status.SUBMITTED, household__in=households)
    town_entries = SampleEntry.objects.filter(sample__campaign=campaign, sample__level="town")
    differences = Difference.objects.filter(revisit__entry__in=town_entries)
    aid = TemporaryAid.objects.filter(campaign=campaign)
    submitted = Survey.objects.filter(campaign=campaign, status="submitted")
    current = Decision.objects.filter(case__campaign=campaign, case__in_scope=True, case__decision=F("pk"))
    headers = [s.header for s in surveys]
    before_persons = sum(h["covered_persons"] for h in headers if h["in_dibao"])
    before_amount = sum(Decimal(h["monthly_amount"]) for h in headers if h["in_dibao"])
    undecided = in_scope.filter(decision__isnull=True, household__dibao_status=Household.DibaoStatus.ACTIVE)
    after_amount = (current.aggregate(s=Sum("monthly_amount"))["s"] or 0) + (
        undecided.aggregate(s=Sum("household__monthly_amount"))["s"] or 0
    )
    exits = current.filter(outcome="exit")
    exit_headers = [s.header for s in surveys.filter(household__cases__decision__in=exits)]
    out = {
        ("各村复核进度", "复核户数"): in_scope.count(),
        ("各村复核进度", "在册人数"): Member.objects.filter(status="present", household__in=households).count(),
        ("各村复核进度", "已调查（表A）"): surveys.filter(form="A").count(),
        ("各村复核进度", "已调查（表B）"): surveys.filter(form="B").count(),
        ("各村复核进度", "镇级核查户"): town_entries.count(),
        ("各村复核进度", "镇级已核查"): Revisit.objects.filter(entry__in=town_entries, status="submitted").count(),
        ("镇级核查差异", "合计"): differences.count(),
        ("镇级核查差异", "待认定"): differences.filter(verdict="").count(),
        ("镇级决定", "已上报"): in_scope.filter(stage="reported").count(),
        ("镇级决定", "待决定"): in_scope.filter(stage="reported", decision__isnull=True).count(),
        ("保障变化", "复核前保障人数"): before_persons,
        ("保障变化", "复核前月保障金（元）"): before_amount,
        ("保障变化", "复核后月保障金（元）"): after_amount,
        ("清退名单", "原保障人数"): sum(h["covered_persons"] for h in exit_headers if h["in_dibao"]),
        ("清退名单", "原月保障金（元）"): sum(Decimal(h["monthly_amount"]) for h in exit_headers if h["in_dibao"]),
        ("新纳入名单", "保障人数"): current.filter(outcome="enrol").aggregate(s=Sum("covered_persons"))["s"],
        ("新纳入名单", "月保障金（元）"): current.filter(outcome="enrol").aggregate(s=Sum("monthly_amount"))["s"],
        ("调整名单", "新月保障金（元）"): current.filter(outcome="adjust").aggregate(s=Sum("monthly_amount"))["s"],
        ("临时救助", "批准金额（元）"): aid.aggregate(s=Sum("approved_amount"))["s"],
        ("临时救助", "已发放（元）"): aid.aggregate(s=Sum("paid_total"))["s"],
        ("投诉举报与异议", "投诉举报（件）"): Complaint.objects.filter(campaign=campaign).count(),
        ("投诉举报与异议", "已办结"): Complaint.objects.filter(campaign=campaign, status="closed").count(),
        ("政策宣传", "政策宣传单已送达"): submitted.filter(flyer_delivered=True).count(),
        ("政策宣传", "知晓低保政策"): submitted.filter(knows_policy=True).count(),
    }
    for verdict, label in Difference.Verdict.choices:
        out[("镇级核查差异", str(label))] = differences.filter(verdict=verdict).count()
    for outcome, label in Decision.Outcome.choices:
        out[("镇级决定", str(label))] = current.filter(outcome=outcome).count()
    return out


# --- the workbook ------------------------------------------------------------------------------


def test_it_writes_a_sheet_per_table_with_chinese_headers_a_frozen_header_row_and_number_formats(
    client, town_office, town
):
    response = download(client, town_office, "document_report", "town", "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = workbook(response.content)
    assert wb.sheetnames[:6] == ["报告说明", "各村复核进度", "镇级核查差异", "镇级决定", "保障变化", "清退名单"]
    others = {"新纳入名单", "调整名单", "绿色通道", "临时救助", "投诉举报与异议", "政策宣传", "抽样", "抽样推断"}
    assert others <= set(wb.sheetnames)
    progress = wb["各村复核进度"]
    assert header(progress)[:5] == ["村（社区）", "复核户数", "在册人数", "已调查（表A）", "已调查（表B）"]
    villages = list(Village.objects.filter(town=town.town).order_by("order", "code").values_list("name", flat=True))
    assert [r["村（社区）"] for r in rows(progress)] == [*villages, "合计"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.bold for c in ws[1]), ws.title
        # each column at least as wide as its header (a Chinese character counts two)
        for cell in ws[1]:
            needed = sum(2 if ord(c) > 127 else 1 for c in cell.value)
            assert ws.column_dimensions[cell.column_letter].width >= min(needed, 20), (ws.title, cell.value)
    amounts = wb["保障变化"]
    assert amounts["F2"].number_format == "#,##0.00" and amounts["B2"].number_format == "#,##0"
    assert wb["政策宣传"]["D2"].number_format == "0.0%"
    assert wb["清退名单"]["G2"].number_format == "yyyy-mm-dd"


def test_it_totals_every_table_by_formulas_that_equal_counts_from_the_database(client, town_office, town):
    wb = workbook(download(client, town_office, "document_report", "town", "xlsx").content)
    progress = wb["各村复核进度"]
    assert progress[f"B{progress.max_row}"].value == f"=SUM(B2:B{progress.max_row - 1})"
    assert wb["政策宣传"][f"D{wb['政策宣传'].max_row}"].value.startswith("=IF(")
    found = {}
    for (sheet, label), value in expected(town).items():
        shown = totals(wb[sheet])[label]
        found[(sheet, label)] = shown
        assert shown == pytest.approx(float(value or 0)), (sheet, label)
    # the data is not trivial: the comparisons above can fail
    assert found[("各村复核进度", "复核户数")] == 120 and found[("清退名单", "原月保障金（元）")] > 0
    assert found[("镇级核查差异", "合计")] > 0 and found[("临时救助", "批准金额（元）")] > 0
    assert found[("投诉举报与异议", "投诉举报（件）")] > 0 and found[("政策宣传", "知晓低保政策")] > 0
    # the ratio's total is the ratio of the totals
    outreach = totals(wb["政策宣传"])
    assert outreach["知晓率"] == pytest.approx(outreach["知晓低保政策"] / outreach["已调查户"])
    # decisions add up: every reported household is decided or left
    decided = totals(wb["镇级决定"])
    assert decided["已上报"] == sum(decided[str(label)] for _, label in Decision.Outcome.choices) + decided["待决定"]


def test_it_lists_the_exits_with_their_reasons_the_enrolments_and_the_adjustments(client, town_office, town):
    wb = workbook(download(client, town_office, "document_report", "town", "xlsx").content)
    exits = [r for r in rows(wb["清退名单"]) if r["村（社区）"] != "合计"]
    decided = Decision.objects.filter(case__campaign=town, case__decision=F("pk"))
    assert len(exits) == decided.filter(outcome="exit").count() > 0
    reasons = set(decided.filter(outcome="exit").values_list("reason", flat=True))
    assert {r["清退理由"] for r in exits} == reasons
    enrolled = [r for r in rows(wb["新纳入名单"]) if r["村（社区）"] != "合计"]
    assert len(enrolled) == decided.filter(outcome="enrol").count() > 0
    adjusted = [r for r in rows(wb["调整名单"]) if r["村（社区）"] != "合计"]
    assert len(adjusted) == decided.filter(outcome="adjust").count() > 0
    one = decided.filter(outcome="adjust").select_related("case__household").order_by("case_id").first()
    row = next(r for r in adjusted if r["户主姓名"] == EVIL)
    assert Decimal(str(row["新月保障金（元）"])) == one.monthly_amount
    green = [r for r in rows(wb["绿色通道"]) if r["村（社区）"] != "合计"]
    assert len(green) == GreenChannel.objects.filter(campaign=town).count() > 0
    owed = GreenChannel.objects.filter(campaign=town, status="documents").first()
    assert any(owed.missing_list()[0] in (r["尚欠事项"] or "") for r in green)
    assert rows(wb["抽样"])[0]["随机种子"] == town.samples.get(level="town").seed


def test_it_keeps_a_name_that_looks_like_a_formula_as_plain_text(client, town_office, town):
    content = download(client, town_office, "document_report", "town", "xlsx").content
    ws = workbook(content)["调整名单"]
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row if c.value == EVIL)
    assert cell.data_type == "s" and cell.quotePrefix
    # no formula in the file holds the name: only the 合计 rows' SUM and IF
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "HYPERLINK" not in "".join(re.findall(r"<f>(.*?)</f>", sheets))
    pdf = download(client, town_office, "document_report", "town", "pdf").content
    assert EVIL.replace(" ", "") in pdf_text(pdf)
    assert b"/URI" not in pdf  # printed as text, not a link


# --- the PDF -------------------------------------------------------------------------------------


def test_it_prints_the_same_figures_in_the_pdf(client, leadership, town):
    response = download(client, leadership, "document_report", "town", "pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    report = summary.build_report(town)
    assert report.title in text and f"{town.town.name}" in text
    for table in report.tables:
        assert table.title in text
        total = table.total_row()
        if total is not None:
            # the 合计 row, cell after cell, as the workbook computes it
            assert "".join(table._shown(total)) in text, table.title
    # a household's data: an exit with its reason
    exit_case = (
        Case.objects.filter(campaign=town, decision__outcome="exit").select_related("decision").order_by("pk").first()
    )
    head = Member.objects.get(household=exit_case.household_id, status="present", relationship="02")
    assert head.name in text and re.sub(r"\s+", "", exit_case.decision.reason) in text
    # repeated headers: every page of the adjustments list starts with its header row
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(response.content)).pages]
    listing = [p for p in pages if "按系统测算调整" in p]
    assert listing and all("户主姓名原保障人数新保障人数" in p for p in listing)


def test_it_says_when_the_report_was_sent_and_what_is_still_missing(client, town_office, verify_town):  # noqa: F811
    text = pdf_text(download(client, town_office, "document_report", "town", "pdf").content)
    assert "尚未报县" in text and "尚待完成" in text and "尚未抽取镇级核查样本" in text


# --- who may download, and the record of it ---------------------------------------------------------


@pytest.mark.parametrize("persona", ["town_office", "leadership", "county_officer"])
def test_it_is_for_the_roles_that_see_the_whole_town_and_records_each_download(client, request, persona, town):
    user = request.getfixturevalue(persona)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()
    response = download(client, user, "document_report", "town", "pdf", via="dashboard")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).latest("id")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == before + 1
    assert event.actor == user and event.campaign_id == town.pk
    assert event.changes["文件"][1] == "镇级复核核实情况报告（报县）（PDF）"
    assert event.changes["筛选"][1] == "via=dashboard"


@pytest.mark.parametrize("persona", ["cadre_a", "group_leader_a"])
def test_a_village_or_work_group_account_may_not_download_it(client, request, persona, town):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()
    for fmt in ("pdf", "xlsx"):
        response = download(client, request.getfixturevalue(persona), "document_report", "town", fmt)
        assert response.status_code == 403
        assert b"%PDF" not in response.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == before


def test_it_asks_a_visitor_to_sign_in(client, campaign):
    response = client.post(reverse("document_report", args=["town", "pdf"]))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_it_is_asked_for_by_a_post_and_made_by_the_worker(client, settings, town_office, leadership, town):
    """Asking queues the job on the database queue (the web process renders nothing); its page
    counts steps, not households; asking again while it waits gives the same job; the file is
    its requester's alone."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.force_login(town_office)
    assert client.get(reverse("document_report", args=["town", "pdf"])).status_code == 405
    response = client.post(reverse("document_report", args=["town", "pdf"]))
    export = Export.objects.get()
    assert response["Location"] == reverse("export_detail", args=[export.public_id])
    assert (export.kind, export.fmt, export.status, export.total) == ("town_report", "pdf", "queued", 2)
    task = DBTaskResult.objects.get()
    assert task.task_path == "reports.tasks.build_export" and task.args_kwargs["args"] == [export.pk, 1]
    page = client.get(response["Location"]).content.decode()
    assert "镇级复核核实情况报告（报县）（PDF）" in page and '/ <span id="export-total">2</span> 步' in page
    client.post(reverse("document_report", args=["town", "pdf"]))
    assert Export.objects.count() == 1

    exports.build(export.pk, export.attempt)  # what the worker does
    export.refresh_from_db()
    assert export.status == "done" and export.file
    client.force_login(leadership)
    assert client.get(reverse("export_download", args=[export.public_id])).status_code == 404
    client.force_login(town_office)
    got = client.get(reverse("export_download", args=[export.public_id]))
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    assert "attachment" in got["Content-Disposition"] and ".pdf" in got["Content-Disposition"]


# --- the county's closing report ----------------------------------------------------------------------


@pytest.fixture
def closing_town(reviewed, town_office, county_officer):
    """Phase 4: the report sent; green-channel cases, temporary aid and complaints; the county's
    sample drawn and re-visited, every decision approved, an exit told with money recovered."""
    review.send_town_report(reviewed, actor=town_office, late_reason="测试")
    campaign = services.advance_phase(Campaign.objects.get(pk=reviewed.pk), actor=town_office)
    generate_assistance(campaign)
    sample, _ = services.draw_sample(campaign, level="county", actor=county_officer)
    revisit_sample(sample, county_officer)
    review.approve_all(campaign, actor=county_officer)
    exit_case = (
        Case.objects.filter(campaign=campaign, outcome="exit", review="approved").select_related("household").first()
    )
    decisions.record_exit_notice(
        exit_case,
        actor=town_office,
        notified_on=timezone.localdate(),
        method="in_person",
        recipient="本人",
        recovery_required=True,
        recovery_amount=Decimal("1200.00"),
        recovery_note="隐瞒存款",
    )
    return campaign


def test_the_closing_report_comes_from_the_same_builder_with_the_countys_part(client, county_officer, closing_town):
    wb = workbook(download(client, county_officer, "document_report", "closing", "xlsx").content)
    assert {"县级抽查差异", "抽样"} <= set(wb.sheetnames)
    progress = totals(wb["各村复核进度"])
    county = SampleEntry.objects.filter(sample__campaign=closing_town, sample__level="county")
    assert progress["县级抽查户"] == county.count() > 0
    decided = totals(wb["镇级决定"])
    assert decided["县级已批准"] == Case.objects.filter(campaign=closing_town, review="approved").count() > 0
    assert totals(wb["清退名单"])["追回金额（元）"] == 1200
    # the registry changed with the approvals: the amounts before are still the village surveys'
    assert totals(wb["保障变化"])["复核前月保障金（元）"] == pytest.approx(
        float(expected(closing_town)[("保障变化", "复核前月保障金（元）")])
    )
    levels = [r["层级"] for r in rows(wb["抽样"])]
    assert levels == ["镇级入户核实", "县级抽查"]
    text = pdf_text(download(client, county_officer, "document_report", "closing", "pdf").content)
    assert "督查落实情况报告" in text and "县级抽查发现的差异" in text and "已批准（" in text


def test_the_closing_report_waits_for_phase_4(client, town_office, town):
    response = download(client, town_office, "document_report", "closing", "pdf")
    assert response.status_code == 404


# --- queries ----------------------------------------------------------------------------------------------


def _town_of(campaign, town_office, size: int) -> Campaign:
    """A town of `size` households at the end of phase 3 (as the shared verify_town, with its size)."""
    generate_households(campaign, size, seed=3)
    generate_surveys(campaign, seed=3, complete=True)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    campaign = make_ready(Campaign.objects.get(pk=campaign.pk), town_office)
    generate_assistance(campaign)
    return campaign


# The worker's queries for a report, whatever the number of households: the job claimed with its
# campaign and requester (2, in a transaction: 4 with its savepoint's statements here); the
# requester's profile (1); the villages (1); the dashboard's figures: coverage (2), the tallies (1), amounts
# (1), differences (1), green channel (1), screening tasks (1), policy outreach (3), work groups (1);
# the case rows and their surveys (2); the exits, enrolments and adjustments with their county
# reviews, and their heads (3); the town's report (1); the green channel and its heads (2);
# temporary aid (1); complaints and objections (2); the samples and their entries (2); the town
# sample's estimates (4); what is still missing before sending (10); the progress (1); the file
# stored (2, and 2 savepoint statements).
@pytest.mark.parametrize("size", [40, 90])
@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_it_reads_a_fixed_number_of_queries_whatever_the_size(
    django_assert_num_queries, campaign, town_office, size, fmt
):
    town = _town_of(campaign, town_office, size)
    assert Case.objects.filter(campaign=town).count() == size
    export = Export.objects.create(kind="town_report", fmt=fmt, campaign=town, requested_by=town_office, total=2)
    with django_assert_num_queries(REPORT_QUERIES):
        exports.build(export.pk, export.attempt)
    export.refresh_from_db()
    assert export.status == "done" and export.done == export.total == 2


REPORT_QUERIES = 49
