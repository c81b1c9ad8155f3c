import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from cases import services
from cases.idnumber import mask_id
from cases.importer import HEADERS
from cases.models import AuditEvent, Household, Member
from tests.conftest import new_id


def _row(**values):
    row = dict.fromkeys(HEADERS, None)
    row.update(values)
    return row


def _family(village="湖滨村", head_name="赵德明", *, head_id=None, spouse_id=None, amount="505"):
    head_id = head_id or new_id(dt.date(1950, 1, 1), "M")
    spouse_id = spouse_id or new_id(dt.date(1953, 1, 1), "F")
    return [
        _row(
            **{
                "村（社区）": village,
                "村民小组": "第3组",
                "户主身份证号": head_id,
                "姓名": head_name,
                "身份证号": head_id,
                "与户主关系": "户主",
                "户籍类型": "农村",
                "低保状态": "在保",
                "保障人数": 2,
                "月保障金额（元）": amount,
                "特困供养": "否",
                "建档立卡": "未脱贫",
                "健康状况": "患有大病",
            }
        ),
        _row(
            **{
                "户主身份证号": head_id,
                "姓名": "钱玉珍",
                "身份证号": spouse_id,
                "与户主关系": "配偶",
                "健康状况": "残疾",
                "残疾类别": "肢体",
                "残疾等级": "二级",
            }
        ),
    ]


def _xlsx(rows, *, template=None) -> SimpleUploadedFile:
    if template is not None:
        wb = load_workbook(io.BytesIO(template))
        ws = wb["低保花名册"]
    else:
        wb = Workbook()
        ws = wb.active
        ws.append(HEADERS)
    for row in rows:
        ws.append([row[h] for h in HEADERS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(
        "花名册.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _upload(client, upload):
    return client.post(reverse("import_roll"), {"file": upload})


@pytest.fixture
def office(client, town_office):
    client.force_login(town_office)
    return client


def test_it_imports_the_downloaded_template(office):
    response = office.get(reverse("import_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    template = response.content
    sheet = load_workbook(io.BytesIO(template))["低保花名册"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["E2"].number_format == "@"  # ID columns are text
    rows = _family() + _family(head_name="孙长林", village="江岸村")
    response = _upload(office, _xlsx(rows, template=template))
    assert response.status_code == 200, response.content.decode()
    assert "新增2户" in response.content.decode()
    household = Household.objects.get(members__name="赵德明")
    assert household.village.name == "湖滨村" and household.group.name == "第3组"
    assert household.poverty_status == "not_lifted" and household.monthly_amount == 505
    spouse = household.members.get(name="钱玉珍")
    assert (spouse.disability_type, spouse.disability_grade, spouse.sex) == ("limb", 2, "F")
    assert AuditEvent.objects.filter(model="cases.Member", action="create").count() == 4
    assert len(set(AuditEvent.objects.filter(action="create").values_list("batch", flat=True))) == 1


def test_it_changes_nothing_when_the_same_file_is_imported_again(office):
    rows = _family()
    _upload(office, _xlsx(rows))
    events = AuditEvent.objects.count()
    response = _upload(office, _xlsx(rows))
    assert "新增0户、更新0户；新增成员0人、更新成员0人" in response.content.decode()
    assert Household.objects.count() == 1 and Member.objects.count() == 2
    assert AuditEvent.objects.count() == events


def test_it_updates_only_the_changed_amount_on_reimport(office):
    head_id, spouse_id = new_id(), new_id(sex="F")
    _upload(office, _xlsx(_family(head_id=head_id, spouse_id=spouse_id)))
    response = _upload(office, _xlsx(_family(head_id=head_id, spouse_id=spouse_id, amount="600")))
    assert "更新1户" in response.content.decode()
    event = AuditEvent.objects.filter(action="update").get()
    assert event.changes == {"monthly_amount": ["505.00", "600.00"]}


def test_it_reports_bad_rows_one_by_one_and_saves_nothing(office, household_b):
    good = _family()
    bad_check = _family(head_name="坏校验")
    bad_check[1]["身份证号"] = bad_check[1]["身份证号"][:17] + ("0" if bad_check[1]["身份证号"][17] != "0" else "1")
    as_number = _family(head_name="数字")
    as_number[1]["身份证号"] = 3.40225e17
    as_text_number = _family(head_name="科学计数")
    as_text_number[1]["身份证号"] = "3.40225E+17"
    unknown = _family(village="不存在村", head_name="未知村")
    duplicate = _family(head_name="重复")
    duplicate[1]["身份证号"] = good[1]["身份证号"]
    registered = _family(head_name="已登记")
    registered[1]["身份证号"] = household_b.head().id_number
    no_head = _family(head_name="无户主")[1:]
    full_width = _family(head_name="全角")
    full_width[1]["身份证号"] = full_width[1]["身份证号"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = good + bad_check + as_number + as_text_number + unknown + duplicate + registered + no_head + full_width
    before = (Household.objects.count(), Member.objects.count(), AuditEvent.objects.count())
    response = _upload(office, _xlsx(rows))
    page = response.content.decode()
    assert response.status_code == 400
    assert "未导入任何数据" in page
    for row, text in [
        (5, "校验位不正确"),
        (7, "被存成了数字"),
        (9, "数字格式（精度已丢失）"),
        (10, "未知的村（社区）“不存在村”"),
        (13, "与第3行的身份证号重复"),
        (15, "已登记在江岸村王德华所在的另一户中"),
        (16, "没有户主行"),
    ]:
        assert f"<td>第{row}行</td>" in page, row
        assert text in page, text
    assert "含全角字符，已转换为半角" in page
    assert (Household.objects.count(), Member.objects.count(), AuditEvent.objects.count()) == before


def test_it_refuses_a_file_that_is_not_xlsx(office):
    upload = SimpleUploadedFile("花名册.csv", "村,姓名\n".encode(), content_type="text/csv")
    response = _upload(office, upload)
    assert response.status_code == 400
    assert "只能导入 .xlsx" in response.content.decode()
    assert not Household.objects.exists()


def test_it_refuses_a_file_named_xlsx_that_is_not_one(office):
    response = _upload(office, SimpleUploadedFile("花名册.xlsx", b"not a zip at all"))
    assert response.status_code == 400
    assert "不是有效的 .xlsx 文件" in response.content.decode()
    assert not Household.objects.exists()


def test_it_refuses_a_truncated_xlsx(office):
    content = _xlsx(_family()).read()
    response = _upload(office, SimpleUploadedFile("花名册.xlsx", content[: len(content) // 2]))
    assert response.status_code == 400
    assert "文件" in response.content.decode() and "损坏" in response.content.decode()
    assert not Household.objects.exists()


def test_it_refuses_an_oversized_file(office, settings):
    settings.IMPORT_MAX_BYTES = 1000
    response = _upload(office, _xlsx(_family() * 1))
    assert response.status_code == 400
    assert "文件太大" in response.content.decode()
    assert not Household.objects.exists()


def test_it_refuses_a_file_with_a_header_and_no_rows(office):
    response = _upload(office, _xlsx([]))
    assert response.status_code == 400
    assert "表头下面没有数据行" in response.content.decode()
    assert not Household.objects.exists()


def test_it_asks_for_a_file_when_none_was_sent(office):
    response = office.post(reverse("import_roll"), {})
    assert "请选择要导入的 .xlsx 文件" in response.content.decode()
    assert not Household.objects.exists()


def test_it_puts_a_member_row_without_a_head_id_into_the_household_of_the_head_row_above(office):
    rows = _family()
    rows[1]["户主身份证号"] = None
    response = _upload(office, _xlsx(rows))
    assert "新增1户" in response.content.decode()
    household = Household.objects.get()
    assert sorted(household.members.values_list("name", flat=True)) == ["赵德明", "钱玉珍"]


def test_it_upgrades_a_15_digit_number_and_shows_it_masked(office):
    old = "340225500308011"  # born 1950-03-08
    rows = _family(head_id=old)
    rows[1]["户主身份证号"] = old
    page = _upload(office, _xlsx(rows)).content.decode()
    head = Member.objects.get(name="赵德明")
    assert head.id_number[:17] == "34022519500308011"  # 19 inserted, check character added
    assert "15位旧号码已升级为18位" in page
    assert mask_id(head.id_number) in page and head.id_number not in page


def test_an_import_counts_its_new_households_in_their_villages(office, household_a, village_a, village_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.models import RegistryTally

    rows = _family(village="江岸村") + _family(head_name="孙长林") + _family(head_name="周国强", village="江岸村")
    with CaptureQueriesContext(connection) as ctx:
        response = _upload(office, _xlsx(rows))
    assert "新增3户" in response.content.decode()
    assert {t.village_id: t.households for t in RegistryTally.objects.filter(households__gt=0)} == {
        village_a.pk: 2,  # household_a and 孙长林
        village_b.pk: 2,
    }
    # the counts of both villages were locked first, in id order, before any household was added
    sql = [q["sql"] for q in ctx.captured_queries]
    locks = [i for i, q in enumerate(sql) if q.startswith('SELECT "cases_registrytally"."village_id"')]
    first_insert = next(i for i, q in enumerate(sql) if q.startswith('INSERT INTO "cases_household"'))
    assert len(locks) == 1 and locks[0] < first_insert
    assert "ORDER BY 1 ASC" in sql[locks[0]]  # the village id
    if connection.features.has_select_for_update:
        assert sql[locks[0]].endswith("FOR UPDATE")


def test_a_large_roll_has_the_planners_statistics_read_anew(office, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", 4)

    def analyzed(rows) -> list[str]:
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            assert _upload(office, _xlsx(rows)).status_code == 200
        return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]

    assert analyzed(_family()) == []  # a household and its two members: three rows
    tables = analyzed(_family(head_name="孙长林") + _family(head_name="周海", village="江岸村"))
    names = ("cases_household", "cases_member", "cases_case")
    assert tables == [f"ANALYZE {connection.ops.quote_name(t)}" for t in names]
    assert Household.objects.count() == 3
