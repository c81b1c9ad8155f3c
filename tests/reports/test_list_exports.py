"""Excel exports of the list pages: every row the page would show, in the user's scope and with
the page's filters; read back with openpyxl, totals checked against the database; formula-like
text stays text; long lists go to the worker; the queue's rows and files are pruned."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskContext
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from cases import complaints as complaint_services
from cases.idnumber import mask_id
from cases.models import AuditEvent, Campaign, Case, Household, Member, Village
from reports import list_exports
from reports.list_exports import Book, Column, cell
from surveys import services
from surveys.models import Sample, SampleEntry
from tests.surveys.conftest import ready_town  # noqa: F401 - shared fixture (verify_town: ./conftest.py)

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://x","y")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX and "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def body(sheet) -> list[tuple]:
    """The data rows: without the header and the 合计 row."""
    return rows_of(sheet)[1:-1]


def total(sheet) -> int:
    """The row count the 合计 row states, e.g. 合计（12户）."""
    label = rows_of(sheet)[-1][0]
    assert label.startswith("合计（"), label
    return int(re.search(r"\d+", label).group())


def column(sheet, header: str) -> list:
    headers = rows_of(sheet)[0]
    i = headers.index(header)
    return [row[i] for row in body(sheet)]


def total_of(sheet, header: str):
    return rows_of(sheet)[-1][rows_of(sheet)[0].index(header)]


def run_queued():
    """What the worker does with each waiting task (the real worker process: test_worker.py)."""
    for row in DBTaskResult.objects.filter(status="READY"):
        row.claim("test")
        result = row.task_result
        row.set_successful(row.task.call(TaskContext(task_result=result), *result.args, **result.kwargs))


@pytest.fixture
def queued(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings


# --- the writer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [EVIL, "+1+2", "-3+4", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1+1", "#N/A", "a\x01b", "凤英"]
)
def test_it_writes_any_text_as_a_string_that_no_spreadsheet_evaluates(text, tmp_path):
    book = Book()
    sheet = book.sheet("表", [Column("姓名"), Column("人数", total=True)])
    sheet.append([text, 1])
    book.save(tmp_path / "x.xlsx", notes=[("名单", text)])
    read = load_workbook(tmp_path / "x.xlsx")
    written = read["表"]["A2"]
    shown = text.replace("\x01", "").replace("\r", "\n")  # XML reads a carriage return as a line feed
    assert written.data_type == "s" and written.value == shown
    assert written.quotePrefix == (text[:1] in "=+-@\t\r")
    assert read["说明"]["B1"].data_type == "s" and read["说明"]["B1"].value == shown
    assert rows_of(read["表"]) == [("姓名", "人数"), (shown, 1), ("合计（1户）", 1)]
    assert read["表"].freeze_panes == "A2"


def test_plain_values_take_the_fast_path(tmp_path):
    assert cell(None, "张建国") == "张建国" and cell(None, 3) == 3
    aware = timezone.make_aware(dt.datetime(2019, 11, 6, 16, 0))
    assert cell(None, aware) == dt.datetime(2019, 11, 6, 16, 0)  # local time, without a zone


# --- 家庭花名册 ---------------------------------------------------------------------------------


@pytest.fixture
def two_villages(make_household, village_a, village_b, cadre_a):
    for i in range(4):
        make_household(village_a, head=f"张{i}号", others=("李秀英", "张小明"))
    make_household(village_a, head="王五", others=(), dibao=False)
    make_household(village_b, head="赵六")


def test_it_exports_every_household_of_the_users_area_with_its_members(
    client_for, two_villages, cadre_a, village_a, settings
):
    settings.LIST_PAGE_SIZE = 2  # the page shows 2; the file holds them all
    book = workbook(client_for(cadre_a).get(reverse("list_export", args=["households"])))
    assert book.sheetnames == ["家庭", "成员", "说明"]
    households, members = book["家庭"], book["成员"]
    assert rows_of(households)[0][:6] == ("家庭编号", "村（社区）", "村民小组", "户主姓名", "户主身份证号", "在户人数")
    mine = Household.objects.filter(village=village_a)
    assert total(households) == len(body(households)) == mine.count() == 5
    assert set(column(households, "村（社区）")) == {"湖滨村"} and "赵六" not in column(households, "户主姓名")
    assert set(column(households, "家庭编号")) == {str(h.public_id) for h in mine}
    live = Member.objects.filter(household__in=mine, status="present")
    assert total(members) == len(body(members)) == live.count() == total_of(households, "在户人数") == 13
    assert total_of(households, "保障人数") == mine.aggregate(n=Sum("covered_persons"))["n"] == 12
    assert Decimal(str(total_of(households, "月保障金额（元）"))) == mine.aggregate(s=Sum("monthly_amount"))["s"]
    head = Member.objects.get(household__village=village_a, name="张0号")
    assert mask_id(head.id_number) in column(households, "户主身份证号")
    everything = str(rows_of(households) + rows_of(members))
    assert head.id_number not in everything and all(m.id_number not in everything for m in live)
    about = dict(rows_of(book["说明"]))
    assert about["名单"] == "家庭花名册" and about["范围"] == "湖滨村" and "已遮蔽" in about["身份证号"]


def test_it_applies_the_pages_filters(client_for, two_villages, town_office, village_a):
    client = client_for(town_office)
    book = workbook(client.get(reverse("list_export", args=["households"]), {"q": "张", "village": village_a.code}))
    assert sorted(column(book["家庭"], "户主姓名")) == ["张0号", "张1号", "张2号", "张3号"]
    book = workbook(client.get(reverse("list_export", args=["households"]), {"status": "none"}))
    assert column(book["家庭"], "户主姓名") == ["王五"] and column(book["家庭"], "低保状态") == ["未在保"]
    assert dict(rows_of(book["说明"]))["筛选"] == "低保状态：未在保"


def test_an_id_number_search_is_recorded_and_answered_in_the_request(client_for, two_villages, cadre_a, settings):
    head = Member.objects.get(name="张1号")
    client = client_for(cadre_a)
    book = workbook(client.get(reverse("list_export", args=["households"]), {"q": head.id_number[-4:]}))
    assert "张1号" in column(book["家庭"], "户主姓名")
    assert AuditEvent.objects.filter(actor=cadre_a, action="search_id").count() == 1
    # too broad for the request: refused, never queued (the text would be stored with the job)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    list_exports.SYNC_ROWS, before = 0, list_exports.SYNC_ROWS
    try:
        response = client.get(reverse("list_export", args=["households"]), {"q": head.id_number[-4:]})
    finally:
        list_exports.SYNC_ROWS = before
    assert response.status_code == 302 and response["Location"].startswith(reverse("household_list"))
    assert not DBTaskResult.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "按身份证号查找到的家庭过多" in page


def test_it_refuses_an_id_search_the_page_refuses(client_for, two_villages, leadership):
    response = client_for(leadership).get(reverse("list_export", args=["households"]), {"q": "1234567"})
    assert response.status_code == 302 and "q=1234567" in response["Location"]
    assert not AuditEvent.objects.filter(action="download").exists()


def test_full_id_numbers_only_for_roles_that_may_reveal_them_and_each_household_recorded(
    client_for, two_villages, cadre_a, leadership, village_a
):
    response = client_for(cadre_a).post(reverse("list_export", args=["households"]), {"full_ids": "1"})
    book = workbook(response)
    mine = Household.objects.filter(village=village_a)
    numbers = set(Member.objects.filter(household__in=mine, status="present").values_list("id_number", flat=True))
    assert set(column(book["成员"], "身份证号")) == numbers
    reveals = AuditEvent.objects.filter(action="view_id", actor=cadre_a)
    assert sorted(reveals.values_list("household_id", flat=True)) == sorted(mine.values_list("id", flat=True))
    assert len(set(reveals.values_list("batch", flat=True))) == 1
    assert "完整" in dict(rows_of(book["说明"]))["身份证号"]
    assert (
        client_for(leadership).post(reverse("list_export", args=["households"]), {"full_ids": "1"}).status_code == 403
    )


def test_the_export_reads_a_fixed_number_of_queries_whatever_the_rows(
    client_for, make_household, village_a, cadre_a, django_assert_num_queries
):
    client = client_for(cadre_a)
    url = reverse("list_export", args=["households"])
    make_household(village_a)
    workbook(client.get(url))  # what is read once per process (content types)
    for more in (0, 10):
        for i in range(more):
            make_household(village_a, head=f"张{i}")
        # session, account (user, profile, campaign: cases.auth); the area's name; the count; (savepoint) the
        # households, their members, the download's audit row (release): one query more for
        # each further 2,000 households
        with django_assert_num_queries(10):
            book = workbook(client.get(url))
        assert total(book["家庭"]) == 1 + more


# --- surveys, sample, decisions, county, complaints --------------------------------------------


def test_the_village_survey_list_holds_every_household_to_visit(client_for, verify_town):
    village = Village.objects.filter(town=verify_town.town).order_by("order").first()
    cadre = get_user_model().objects.get(profile__role="village", profile__village=village)
    book = workbook(client_for(cadre).get(reverse("list_export_village", args=[village.code])))
    sheet = book["调查名单"]
    cases = services.village_cases(verify_town, village)
    assert total(sheet) == len(body(sheet)) == cases.count() > 0
    assert set(column(sheet, "调查状态")) <= {"已提交", "已上报"}
    assert all(column(sheet, "村级调查结论"))  # every survey is submitted: its conclusion is there
    other = Village.objects.filter(town=verify_town.town).exclude(pk=village.pk).first()
    assert client_for(cadre).get(reverse("list_export_village", args=[other.code])).status_code == 404


def test_the_coverage_export_counts_as_the_page(client_for, verify_town, town_office):
    sheet = workbook(client_for(town_office).get(reverse("list_export", args=["coverage"])))["调查进度"]
    assert total(sheet) == 15
    assert total_of(sheet, "应调查户数") == Case.objects.filter(campaign=verify_town, in_scope=True).count()


def test_the_sample_is_exported_for_the_town_and_refused_to_a_village(client_for, verify_town, town_office):
    services.draw_sample(verify_town, level="town", actor=town_office)
    sample = Sample.objects.get(level="town")
    sheet = workbook(client_for(town_office).get(reverse("list_export_sample", args=["town"])))["镇级入户核实样本"]
    assert total(sheet) == len(body(sheet)) == SampleEntry.objects.filter(sample=sample).count() > 0
    assert set(column(sheet, "核查状态")) == {"待核查"}
    village = sample.entries.first().village
    sheet = workbook(
        client_for(town_office).get(reverse("list_export_sample", args=["town"]), {"village": village.code})
    )["镇级入户核实样本"]
    assert total(sheet) == sample.entries.filter(village=village).count()
    cadre = get_user_model().objects.get(profile__role="village", profile__village=village)
    response = client_for(cadre).get(reverse("list_export_sample", args=["town"]))
    assert response.status_code == 403


def test_decisions_keep_their_review_status_and_outcome(client_for, ready_town, town_office):  # noqa: F811 - the shared fixture
    book = workbook(client_for(town_office).get(reverse("list_export", args=["decisions"]), {"status": ""}))
    sheet = book["镇级决定"]
    cases = Case.objects.filter(campaign=ready_town, in_scope=True, stage="reported")
    assert total(sheet) == len(body(sheet)) == cases.count()
    assert set(column(sheet, "审核状态")) == {str(Case.Review(c.review).label) for c in cases}
    by_number = dict(zip(column(sheet, "家庭编号"), column(sheet, "决定"), strict=True))
    for case in cases.select_related("decision", "household"):
        assert by_number[str(case.household.public_id)] == case.decision.get_outcome_display()
    paid = cases.aggregate(s=Sum("decision__monthly_amount"))["s"]
    assert Decimal(str(total_of(sheet, "月保障金（元）"))).quantize(Decimal("0.01")) == paid
    assert "镇级核查" in rows_of(sheet)[0] and "已核查" in column(sheet, "镇级核查")


def test_a_village_sees_its_decisions_without_the_higher_levels_checks(client_for, ready_town):  # noqa: F811 - the shared fixture
    village = Case.objects.filter(campaign=ready_town, town_sampled=True).first().village
    cadre = get_user_model().objects.get(profile__role="village", profile__village=village)
    sheet = workbook(client_for(cadre).get(reverse("list_export", args=["decisions"]), {"status": "decided"}))[
        "镇级决定"
    ]
    assert total(sheet) == Case.objects.filter(campaign=ready_town, village=village, in_scope=True).count()
    assert "镇级核查" not in rows_of(sheet)[0] and "全面核查" not in rows_of(sheet)[0]


def test_the_county_list_shows_the_countys_answer(client_for, ready_town, county_officer):  # noqa: F811 - the shared fixture
    cases = Case.objects.filter(campaign=ready_town, in_scope=True)
    cases.update(review=Case.Review.SENT)
    sheet = workbook(client_for(county_officer).get(reverse("list_export", args=["county"])))["县级审批"]
    assert total(sheet) == cases.count() and set(column(sheet, "审核状态")) == {"已报县"}
    assert {"县级抽查", "县级审批", "执行起始月"} <= set(rows_of(sheet)[0])


def test_complaints_name_the_reporter_only_for_those_who_may_see_it(
    client_for, household_a, town_office, leadership, cadre_a
):
    campaign = Campaign.objects.current()
    complaint_services.record_complaint(
        campaign,
        actor=town_office,
        channel="phone",
        received_on=timezone.localdate(),
        anonymous=False,
        reporter="周举报",
        contact="13900000000",
        subject="household",
        household=household_a,
        content="反映该户有车",
        handler=town_office,
    )
    sheet = workbook(client_for(town_office).get(reverse("list_export", args=["complaints"])))["投诉举报"]
    assert total(sheet) == 1 and column(sheet, "被举报对象") == ["张建国户"] and column(sheet, "举报人") == ["周举报"]
    sheet = workbook(client_for(leadership).get(reverse("list_export", args=["complaints"])))["投诉举报"]
    assert "举报人" not in rows_of(sheet)[0] and "周举报" not in str(rows_of(sheet))
    assert client_for(cadre_a).get(reverse("list_export", args=["complaints"])).status_code == 403


def test_a_formula_looking_name_is_plain_text_in_every_export(client_for, ready_town, town_office, county_officer):  # noqa: F811 - the shared fixture
    entry = SampleEntry.objects.filter(sample__level="town").select_related("household", "village").first()
    household, village = entry.household, entry.village
    Member.objects.filter(household=household, relationship="02", status="present").update(name=EVIL)
    Case.objects.filter(household=household).update(review=Case.Review.SENT)
    complaint_services.record_complaint(
        ready_town,
        actor=town_office,
        channel="phone",
        received_on=timezone.localdate(),
        anonymous=True,
        subject="household",
        household=household,
        content=EVIL,
        handler=town_office,
    )
    cadre = get_user_model().objects.get(profile__role="village", profile__village=village)
    exports = [
        (cadre, reverse("list_export", args=["households"]), {}),
        (cadre, reverse("list_export_village", args=[village.code]), {}),
        (town_office, reverse("list_export_sample", args=["town"]), {}),
        (town_office, reverse("list_export", args=["decisions"]), {"status": ""}),
        (county_officer, reverse("list_export", args=["county"]), {}),
        (town_office, reverse("list_export", args=["complaints"]), {}),
    ]
    for user, url, params in exports:
        book = workbook(client_for(user).get(url, params))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        named = [c for c in cells if c.value == EVIL]
        assert named, url
        assert all(c.data_type == "s" and c.quotePrefix for c in named), url
        assert not [c for c in cells if c.data_type == "f"], url


# --- long lists: the worker ------------------------------------------------------------------


@pytest.fixture
def long_lists(monkeypatch):
    monkeypatch.setattr(list_exports, "SYNC_ROWS", 2)


def test_a_long_list_is_made_by_the_worker_and_offered_to_its_requester(
    client_for, queued, long_lists, two_villages, town_office, cadre_a
):
    client = client_for(town_office)
    response = client.get(reverse("list_export", args=["households"]), {"category": "rural_dibao"})
    task = DBTaskResult.objects.get()
    assert response["Location"] == reverse("list_export_job", args=[task.id])
    assert task.task_path == "reports.tasks.build_list_export" and task.status == "READY"
    assert task.args_kwargs["args"] == [town_office.pk, "households", {}, {"category": "rural_dibao"}, False, None]
    page = client.get(response["Location"]).content.decode()
    assert "排队中" in page and "js/export.js" in page and "category=rural_dibao" in page

    run_queued()
    page = client.get(response["Location"]).content.decode()
    assert "已完成" in page and reverse("list_export_job_download", args=[task.id]) in page
    assert client.get(reverse("export_list")).content.decode().count(reverse("list_export_job", args=[task.id])) == 1
    assert client.get(reverse("list_export_job_status", args=[task.id])).json()["pending"] is False
    book = workbook(client.get(reverse("list_export_job_download", args=[task.id])))
    rural = Household.objects.filter(dibao_status="active", hukou_type="rural")
    assert total(book["家庭"]) == rural.count() == 5
    download = AuditEvent.objects.get(action="download")
    assert download.actor == town_office and download.changes["筛选"][1] == "category=rural_dibao"
    assert download.changes["行数"][1] == 5

    # only its requester gets it
    assert client_for(cadre_a).get(reverse("list_export_job", args=[task.id])).status_code == 404
    assert client_for(cadre_a).get(reverse("list_export_job_download", args=[task.id])).status_code == 404


def test_a_job_whose_requester_lost_the_area_gives_no_file(client_for, queued, long_lists, two_villages, cadre_a):
    from cases.models import Profile

    client = client_for(cadre_a)
    response = client.get(reverse("list_export", args=["households"]))
    job_id = DBTaskResult.objects.get().id
    run_queued()
    Profile.objects.filter(user=cadre_a).update(village=Village.objects.get(name="江岸村"))
    assert client.get(reverse("list_export_job_download", args=[job_id])).status_code == 404
    assert response.status_code == 302 and not AuditEvent.objects.filter(action="download").exists()


def test_an_interrupted_job_says_so_and_starts_again(client_for, queued, long_lists, two_villages, town_office):
    client = client_for(town_office)
    client.get(reverse("list_export", args=["households"]))
    task = DBTaskResult.objects.get()
    task.claim("gone")  # a worker took it, then died
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - dt.timedelta(minutes=6))
    page = client.get(reverse("list_export_job", args=[task.id])).content.decode()
    assert "生成中断" in page and "重新生成" in page
    response = client.post(reverse("list_export_job_retry", args=[task.id]))
    again = DBTaskResult.objects.exclude(pk=task.pk).get()
    assert response["Location"] == reverse("list_export_job", args=[again.id])
    assert again.status == "READY" and again.args_kwargs == task.args_kwargs


def test_prune_keeps_what_a_waiting_running_or_retryable_job_needs(
    client_for, queued, long_lists, two_villages, town_office
):
    client = client_for(town_office)
    for filters in ({}, {"status": "active"}, {"category": "rural_dibao"}):
        client.get(reverse("list_export", args=["households"]), filters)
    waiting, running, done = DBTaskResult.objects.order_by("enqueued_at")
    run_queued()
    DBTaskResult.objects.filter(pk=running.pk).update(status="RUNNING", finished_at=None)
    DBTaskResult.objects.filter(pk=waiting.pk).update(status="READY", finished_at=None, started_at=None)
    path = list_exports.job_file(done.id)
    assert path.exists()

    assert list_exports.prune() == 0  # all recent
    later = timezone.now() + dt.timedelta(days=8)
    assert list_exports.prune(later) == 2  # the finished one with its file, and the long-dead runner
    assert not path.exists()
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_without_a_worker_a_running_job_is_marked_interrupted(
    client_for, queued, long_lists, two_villages, town_office
):
    from django.core.management import call_command

    client = client_for(town_office)
    client.get(reverse("list_export", args=["households"]))
    task = DBTaskResult.objects.get()
    task.claim("gone")
    out = io.StringIO()
    call_command("cleanup_exports", "--interrupted", stdout=out)
    assert "清理后台任务记录0条" in out.getvalue()
    task.refresh_from_db()
    assert task.status == "FAILED"
    job = list_exports.get_job(task.id, town_office)
    assert job.status == "failed" and job.can_retry and "生成中断" in job.error
