"""Uploading the departments' lists (四、2): each list with its own columns, bad rows reported
with nothing saved, the column mapping, rows matched by ID number and the others listed."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from cases.idnumber import mask_id
from cases.importer import match_headers, normalise_header, read_table
from cases.models import AuditEvent, DepartmentList, DepartmentRecord, HouseholdFlag, ScreeningTask
from surveys.departments import SPECS, check_list, import_list
from tests.conftest import new_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(headers, rows, *, title=None, name="名单.xlsx") -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def upload(client, department, file, **fields):
    data = {
        "department": department,
        "source": "无为县残疾人联合会",
        "as_of": "2019-10-20",
        "due_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        "file": file,
        **fields,
    }
    return client.post(reverse("department_import"), data)


def imported(client, department, headers, rows, **fields) -> DepartmentList:
    """Upload a list that must import; the list as saved."""
    response = upload(client, department, xlsx(headers, rows), **fields)
    assert response.status_code == 302, response.content.decode()[:4000]
    return DepartmentList.objects.get(public_id=response["Location"].rstrip("/").rsplit("/", 1)[1])


def import_rows(campaign, actor, department, headers, rows, **fields) -> DepartmentList:
    """Check and save a list through the services, as the upload page does; it must import."""
    schema = SPECS[department].schema
    table = read_table(xlsx(headers, rows), schema)
    mapping = match_headers(table.headers, schema)
    assert mapping.complete, mapping.missing
    check = check_list(department, table, mapping, town=campaign.town)
    assert check.ok, check.errors
    fields = {
        "source": "县直部门",
        "as_of": dt.date(2019, 10, 20),
        "filename": "名单.xlsx",
        "due_on": timezone.localdate() + dt.timedelta(days=10),
        **fields,
    }
    return import_list(campaign, check, actor=actor, department=department, **fields)


@pytest.fixture
def office(client, town_office):
    client.force_login(town_office)
    return client


def test_it_imports_a_disability_list_and_lists_the_people_not_in_the_registry(office, household_a):
    head = household_a.head()
    stranger, unknown = new_id(dt.date(1960, 1, 1)), new_id(dt.date(1961, 1, 1), "F")
    rows = [
        (head.name, head.id_number, "湖滨村", "肢体", "二级"),
        ("王小二", stranger, "泥汊镇湖滨村委会", "视力残疾", "一级"),
        ("赵四妹", unknown, "江岸村", "听力", "3级"),
    ]
    saved = imported(office, "disability", ["姓名", "身份证号", "所在村", "残疾类别", "残疾等级"], rows)
    assert (saved.rows, saved.matched, saved.unmatched, saved.flags_raised, saved.tasks_created) == (3, 1, 2, 1, 1)
    assert saved.source == "无为县残疾人联合会" and saved.as_of == dt.date(2019, 10, 20)
    outcomes = dict(saved.records.values_list("name", "outcome"))
    assert outcomes == {"张建国": "matched", "王小二": "task", "赵四妹": "unmatched"}
    page = office.get(reverse("department_list", args=[saved.public_id])).content.decode()
    # the unmatched rows, listed by row number and name with their ID masked
    assert "第3行" in page and "王小二" in page and "疑似漏保，已生成排查任务" in page
    assert "第4行" in page and "赵四妹" in page and "不在花名册中" in page
    assert stranger not in page and mask_id(stranger) in page
    assert "张建国" not in page  # the matched row is on the other tab
    matched = office.get(reverse("department_list", args=[saved.public_id]) + "?show=matched").content.decode()
    assert "张建国" in matched and "肢体残疾二级" in matched
    event = AuditEvent.objects.get(model="cases.DepartmentList")
    assert event.changes["新增排查任务"] == [None, 1] and event.reason == "导入部门名单：名单.xlsx"
    assert stranger not in str(list(AuditEvent.objects.values_list("changes", "reason", "object_repr")))


def test_it_reports_every_bad_row_and_saves_nothing(office, household_a):
    good, twice = new_id(), new_id()
    rows = [
        ("王小二", good, "湖滨村", "视力", "一级"),
        ("", new_id(), "湖滨村", "视力", "一级"),  # no name
        ("钱三", "340225197001010011", "湖滨村", "视力", "一级"),  # wrong check character
        ("孙五", twice, "湖滨村", "肢体", "五级"),  # no such grade
        ("周六", twice, "湖滨村", "肢体", "二级"),  # the same ID again
        ("吴七", 340225197001010000, "湖滨村", "肢体", "二级"),  # stored as a number
        ("郑八", new_id(), "湖滨村", "", ""),
    ]
    response = upload(office, "disability", xlsx(["姓名", "身份证号", "村", "残疾类别", "残疾等级"], rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert "未导入任何数据" in page
    for row, text in [
        (3, "必填"),
        (4, "校验位不正确"),
        (5, "“五级”不是可选值"),
        (6, "与第5行的身份证号重复"),
        (7, "被存成了数字"),
        (8, "必填"),
    ]:
        assert f"<td>第{row}行</td>" in page, row
        assert text in page, text
    assert "<td>第2行</td>" not in page
    assert not DepartmentList.objects.exists() and not DepartmentRecord.objects.exists()
    assert not HouseholdFlag.objects.exists() and not ScreeningTask.objects.exists()


# One good list and one bad row per department: (headers, good rows, a bad row, the bad row's message).
def _lists(head):
    other = new_id(dt.date(1958, 6, 1))
    return {
        "poverty": (
            ["姓名", "公民身份号码", "村（居）", "脱贫状态"],
            [(head.name, head.id_number, "湖滨村", "未脱贫"), ("陈有才", other, "湖滨村", "未脱贫户")],
            ("冯九", new_id(), "湖滨村", "半脱贫"),
            "“半脱贫”不是可选值",
        ),
        "disability": (
            ["姓名", "身份证号", "村", "残疾类别", "残疾等级"],
            [(head.name, head.id_number, "湖滨村", "肢体", "二级"), ("陈有才", other, "湖滨村", "智力", "一级")],
            ("冯九", new_id(), "湖滨村", "肢体", ""),
            "必填",
        ),
        "medical": (
            ["参保人姓名", "身份证号", "村", "个人自付（元）"],
            [(head.name, head.id_number, "湖滨村", "23000"), ("陈有才", other, "湖滨村", "41,000元")],
            ("冯九", new_id(), "湖滨村", "两万"),
            "“两万”不是金额",
        ),
        "social": (
            ["姓名", "身份证号", "村", "月养老金", "就业状态"],
            [(head.name, head.id_number, "湖滨村", "1800", ""), ("陈有才", other, "湖滨村", "", "灵活就业")],
            ("冯九", new_id(), "湖滨村", "", ""),
            "这一行没有养老金、就业或失业保险金的内容",
        ),
        "vehicle": (
            ["机动车所有人", "身份证明号码", "号牌号码", "车辆类型"],
            [(head.name, head.id_number, "皖B12345", "小型轿车"), ("陈有才", other, "皖B54321", "重型货车")],
            ("冯九", "12345", "皖B00001", "小型轿车"),
            "身份证号应为18位",
        ),
        "business": (
            ["经营者姓名", "证件号码", "主体类型", "名称"],
            [(head.name, head.id_number, "个体工商户", "建国小卖部"), ("陈有才", other, "有限责任公司", "有才农业")],
            ("", new_id(), "个体工商户", "无名店"),
            "必填",
        ),
        "payroll": (
            ["姓名", "身份证号", "工作单位", "月工资"],
            [(head.name, head.id_number, "泥汊镇中心小学", "4200"), ("陈有才", other, "泥汊镇卫生院", "3900")],
            ("冯九", new_id(), "泥汊镇政府", "-10"),
            "不能为负数",
        ),
    }


@pytest.mark.parametrize("department", list(SPECS))
def test_it_imports_each_department_list_and_reports_its_bad_rows(office, household_a, department):
    headers, good, bad, message = _lists(household_a.head())[department]
    response = upload(office, department, xlsx(headers, [*good, bad]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "<td>第4行</td>" in page and message in page, page[-3000:]
    assert not DepartmentList.objects.exists()
    saved = imported(office, department, headers, good)
    assert (saved.department, saved.rows, saved.matched) == (department, 2, 1)
    matched = saved.records.get(outcome="matched")
    assert matched.member == household_a.head() and matched.household == household_a
    assert saved.records.exclude(outcome="matched").get().name == "陈有才"


def test_it_reads_a_county_export_with_a_title_row_and_its_own_headers(office, household_a):
    head = household_a.head()
    file = xlsx(
        ["序号", "机动车所有人", "身份证明号码", "号牌号码", "车辆类型", "机动车状态"],
        [(1, head.name, head.id_number, "皖B12345", "小型普通客车", "正常")],
        title="泥汊镇机动车登记信息（截至2019年10月）",
    )
    response = upload(office, "vehicle", file)
    assert response.status_code == 302, response.content.decode()[:3000]
    record = DepartmentRecord.objects.get()
    assert (record.row, record.summary, record.facts["kind"]) == (3, "小型普通客车 皖B12345", "car")


def test_it_asks_which_column_is_which_and_imports_with_the_choices(office, household_a):
    head = household_a.head()
    headers = ["人员", "号码", "脱贫"]
    rows = [(head.name, head.id_number, "未脱贫")]
    response = upload(office, "poverty", xlsx(headers, rows))
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="mapping-form"' in page
    assert "姓名、身份证号、脱贫状态" in page
    assert head.id_number not in page and mask_id(head.id_number) in page
    data = {
        "step": "mapping",
        "headers": '["人员", "号码", "脱贫"]',
        "column_0": "name",
        "column_1": "id_number",
        "column_2": "poverty_status",
        "department": "poverty",
        "source": "县扶贫办",
        "as_of": "2019-10-20",
        "due_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
    }
    response = office.post(reverse("department_import"), {**data, "file": xlsx(headers, rows)})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert DepartmentList.objects.get().source == "县扶贫办"
    assert HouseholdFlag.objects.get().detail == "扶贫办名单：未脱贫；花名册：非建档立卡户"


def test_it_asks_for_one_of_a_social_lists_columns(office, household_a):
    head = household_a.head()
    response = upload(office, "social", xlsx(["姓名", "身份证号", "备注"], [(head.name, head.id_number, "")]))
    page = response.content.decode()
    assert 'data-testid="mapping-missing-any"' in page
    assert "“养老金（元/月）”、“就业状态”、“月工资（元）”、“失业保险金（元/月）”" in page
    assert not DepartmentList.objects.exists()


def test_it_refuses_a_due_date_in_the_past_and_a_list_dated_in_the_future(office, household_a):
    head = household_a.head()
    file = xlsx(["姓名", "身份证号", "脱贫状态"], [(head.name, head.id_number, "未脱贫")])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = upload(
        office, "poverty", file, due_on=yesterday.isoformat(), as_of=(timezone.localdate() + dt.timedelta(days=3))
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "走访期限不能早于今天" in page and "日期不能晚于今天" in page
    assert not DepartmentList.objects.exists()


def test_it_refuses_a_file_that_is_not_xlsx(office):
    response = upload(
        office, "poverty", SimpleUploadedFile("名单.xls", b"old", content_type="application/vnd.ms-excel")
    )
    assert response.status_code == 400
    assert "只能导入 .xlsx 格式" in response.content.decode()


def test_it_notes_a_name_that_differs_from_the_registry(office, household_a):
    head = household_a.head()
    response = upload(office, "payroll", xlsx(["姓名", "身份证号"], [("张健国", head.id_number)]))
    assert response.status_code == 302
    assert HouseholdFlag.objects.get().member == head  # matched by the ID number
    rows = [("张健国", head.id_number, "4200"), ("冯九", new_id(), "abc")]
    response = upload(office, "payroll", xlsx(["姓名", "身份证号", "月工资"], rows))
    page = response.content.decode()
    assert "与花名册中该身份证号的姓名“张建国”不一致，已按身份证号比对" in page


def test_it_raises_nothing_twice_when_the_same_list_comes_again(office, household_a):
    head = household_a.head()
    stranger = new_id()
    headers = ["姓名", "身份证号", "村", "残疾类别", "残疾等级"]
    rows = [(head.name, head.id_number, "湖滨村", "肢体", "二级"), ("王小二", stranger, "湖滨村", "视力", "一级")]
    first = imported(office, "disability", headers, rows)
    second = imported(office, "disability", headers, rows)
    assert (first.flags_raised, first.tasks_created) == (1, 1)
    assert (second.flags_raised, second.tasks_created) == (0, 0)
    assert HouseholdFlag.objects.count() == 1 and ScreeningTask.objects.count() == 1
    assert second.records.get(name="王小二").outcome == "task_exists"


def test_every_spelling_names_one_column_of_its_list():
    for spec in SPECS.values():
        seen = {}
        for f in spec.schema.fields:
            for spelling in (f.label, *f.spellings):
                key = normalise_header(spelling)
                assert seen.setdefault(key, f.key) == f.key, (spec.department, spelling, seen[key], f.key)


@pytest.mark.parametrize(
    "written", ["湖滨村", "湖滨村委会", "湖滨村村委会", "湖滨村村民委员会", "泥汊镇湖滨村", "无为县泥汊镇湖滨村村委会"]
)
def test_it_finds_the_village_however_a_list_writes_it(campaign, town_office, village_a, written):
    saved = import_rows(
        campaign,
        town_office,
        "disability",
        ["姓名", "身份证号", "村", "残疾类别", "残疾等级"],
        [("王小二", new_id(), written, "视力", "一级")],
    )
    record = saved.records.get()
    assert (record.village, record.outcome, record.village_text) == (village_a, "task", written)


def test_a_row_never_vanishes_without_a_word(office, household_a):
    """A disability of 无 in a 残联 list is an error; a pension of 0 in a 人社 list is a row all the same."""
    head = household_a.head()
    response = upload(
        office, "disability", xlsx(["姓名", "身份证号", "残疾类别", "残疾等级"], [("冯十", new_id(), "无", "二级")])
    )
    assert response.status_code == 400 and "“无”不是可选值" in response.content.decode()
    saved = imported(office, "social", ["姓名", "身份证号", "月养老金"], [(head.name, head.id_number, "0")])
    record = saved.records.get()
    assert (saved.rows, saved.flags_raised, record.summary) == (1, 0, "无养老金、就业或失业保险金")
