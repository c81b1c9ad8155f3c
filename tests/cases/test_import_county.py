"""County rolls: title rows, the county's header spellings, households formed from
member rows, and the column mapping page for headers nobody recognises.

Every shape holds the same two households as `TEMPLATE_ROWS` and must import with
the same result as our own template.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from cases.idnumber import make_id, mask_id
from cases.importer import HEADERS
from cases.models import AuditEvent, Household, Member

H1 = make_id("340225", dt.date(1950, 3, 8), 11)  # 赵德明, head of the 湖滨村 household
S1 = make_id("340225", dt.date(1953, 6, 1), 22)  # 钱玉珍, his wife
C1 = make_id("340225", dt.date(1980, 2, 2), 31)  # 赵小明, their son
H2 = make_id("340225", dt.date(1946, 11, 30), 41)  # 孙长林, lives alone in 江岸村

# The result every shape must give: (village, group, hukou, status, class, covered,
# amount, since, tekun, poverty, members as (name, ID, relationship, health, disability, grade)).
EXPECTED = [
    (
        "江岸村",
        "第1组",
        "rural",
        "active",
        "B类",
        1,
        Decimal("1234.50"),
        dt.date(2016, 7, 1),
        True,
        "",
        [("孙长林", H2, "02", "healthy", "", None)],
    ),
    (
        "湖滨村",
        "第3组",
        "rural",
        "active",
        "A类",
        2,
        Decimal("505.00"),
        dt.date(2018, 5, 1),
        False,
        "not_lifted",
        [
            ("赵德明", H1, "02", "serious", "", None),
            ("钱玉珍", S1, "10", "disabled", "limb", 2),
            ("赵小明", C1, "20", "healthy", "", None),
        ],
    ),
]

TEMPLATE_ROWS = [
    {
        "村（社区）": "湖滨村",
        "村民小组": "第3组",
        "户主身份证号": H1,
        "姓名": "赵德明",
        "身份证号": H1,
        "与户主关系": "户主",
        "户籍类型": "农村",
        "低保状态": "在保",
        "保障类别/档次": "A类",
        "保障人数": 2,
        "月保障金额（元）": "505",
        "纳入低保日期": "2018-05-01",
        "特困供养": "否",
        "建档立卡": "未脱贫",
        "家庭住址": "湖滨村3组12号",
        "健康状况": "患有大病",
    },
    {
        "户主身份证号": H1,
        "姓名": "钱玉珍",
        "身份证号": S1,
        "与户主关系": "配偶",
        "健康状况": "残疾",
        "残疾类别": "肢体",
        "残疾等级": "二级",
    },
    {"户主身份证号": H1, "姓名": "赵小明", "身份证号": C1, "与户主关系": "子"},
    {
        "村（社区）": "江岸村",
        "村民小组": "第1组",
        "户主身份证号": H2,
        "姓名": "孙长林",
        "身份证号": H2,
        "与户主关系": "户主",
        "户籍类型": "农村",
        "低保状态": "在保",
        "保障类别/档次": "B类",
        "保障人数": 1,
        "月保障金额（元）": "1234.5",
        "纳入低保日期": "2016-07-01",
        "特困供养": "是",
        "建档立卡": "否",
        "健康状况": "健康",
    },
]


def xlsx(rows, *, merges=(), name="花名册.xlsx") -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def template_roll() -> SimpleUploadedFile:
    return xlsx([HEADERS, *([row.get(h) for h in HEADERS] for row in TEMPLATE_ROWS)])


# (a) title rows, 序号, the county's spellings with line breaks and units in the
# headers, one row per member with each 户主 row leading its household, √ and 元,
# dates written 2018.05 and 2016年7月, a 合计 line and the signatures below.
COUNTY_HEADER_A = [
    "序号",
    "所在村（居）",
    "组别",
    "户主姓名",
    "成员姓名",
    "与户主关系",
    "公民身份\n号码",
    "户籍性质",
    "保障状态",
    "保障类别",
    "保障人数\n（人）",
    "月保障金\n（元）",
    "享受时间",
    "特困供养",
    "建档立卡",
    "健康状况",
    "残疾类别",
    "残疾等级",
]


def county_rows_a():
    hh1 = ["农业", "正常", "A类", 2, "505元", "2018.05", None, "未脱贫", "患有大病"]
    hh2 = ["农业", "正常", "B类", 1, "1,234.50元", "2016年7月", "√", None, "健康"]
    return [
        ["无为县泥汊镇2024年12月城乡低保花名册"],
        ["填报单位：泥汊镇民政办", *[None] * 15, "单位：元、人"],
        COUNTY_HEADER_A,
        [1, "湖滨村", "3组", "赵德明", "赵德明", "户主", H1, *hh1],
        [None, None, None, None, "钱玉珍", "妻", S1, *[None] * 8, "残疾", "肢体残疾", "2级"],
        [None, None, None, None, "赵小明", "之子", C1],
        [2, "江岸村委会", "第一组", "孙长林", "孙长林", "本人", H2, *hh2],
        ["合计", *[None] * 9, 3, "1739.50"],
        ["制表人：王某某", *[None] * 8, "审核人：李某某"],
    ]


def county_roll_a() -> SimpleUploadedFile:
    return xlsx(county_rows_a(), merges=["A1:R1"])


# (b) a two-row header (户主情况 / 家庭成员 over their columns), a head-ID column,
# members in any order, an Excel date, numbers for the amount and the group, Y/0.
def county_roll_b() -> SimpleUploadedFile:
    upper = ["序号", "户主情况", None, "家庭成员", None, None, "村（社区）", "村民小组", "户籍类型", "低保状态"]
    upper += ["保障类别/档次", "保障人数", "月保障金额（元）", "纳入低保日期", "特困供养", "建档立卡", "健康状况"]
    upper += ["残疾类别", "残疾等级"]
    lower = [None, "户主姓名", "户主身份证号码", "姓名", "与户主的关系", "身份证号码"]
    hh2 = ["江岸村", 1, "农村", "在保", "B类", 1, 1234.5, dt.date(2016, 7, 1), "Y", "否", "健康"]
    hh1 = ["湖滨村", "第3组", "农村", "在保", "A类", 2, 505, "2018/5/1", 0, "未脱贫", "患有大病"]
    rows = [
        ["泥汊镇低保家庭成员花名册"],
        upper,
        lower,
        [1, "赵德明", H1, "钱玉珍", "配偶", S1, *[None] * 10, "残疾", "肢体", "二级"],
        [2, "孙长林", H2, "孙长林", "户主", H2, *hh2],
        [3, "赵德明", H1, "赵德明", "户主", H1, *hh1],
        [4, "赵德明", H1, "赵小明", "子", C1],
    ]
    return xlsx(rows, merges=["A1:S1", "B2:C2", "D2:F2"])


# (c) headers nobody recognises: the user maps them, and gives 低保状态 for the whole file.
COUNTY_HEADER_C = ["编号", "村别", "村民小组", "人员", "证件号", "家庭角色", "户别", "保障档次", "补助人口"]
COUNTY_HEADER_C += ["月补助标准", "起始年月", "五保", "扶贫", "身体", "残疾类别", "残疾等级"]
MAPPING_C = {
    "column_1": "village",
    "column_2": "group",
    "column_3": "name",
    "column_4": "id_number",
    "column_5": "relationship",
    "column_6": "hukou_type",
    "column_7": "dibao_class",
    "column_8": "covered_persons",
    "column_9": "monthly_amount",
    "column_10": "dibao_since",
    "column_11": "is_tekun",
    "column_12": "poverty_status",
    "column_13": "health",
    "column_14": "disability_type",
    "column_15": "disability_grade",
    "fixed_dibao_status": "active",
}


def county_roll_c(*, header=COUNTY_HEADER_C) -> SimpleUploadedFile:
    hh1 = ["农村", "A类", "2", "505.00", "2018年5月1日", "否", "未脱贫", "患有大病"]
    hh2 = ["农村", "B类", "1", "￥1234.5", "2016-07", "✓", "否", "健康"]
    rows = [
        ["低保对象名单"],
        header,
        ["1", "湖滨村", "3", "赵德明", H1, "户主", *hh1],
        ["", "", "", "钱玉珍", S1, "配偶", *[""] * 7, "残疾", "肢体", "2"],
        ["", "", "", "赵小明", C1, "儿子"],
        ["2", "江岸村", "1", "孙长林", H2, "户主", *hh2],
    ]
    return xlsx(rows)


def roll_snapshot():
    households = Household.objects.select_related("village", "group").prefetch_related("members")
    return sorted(
        (
            h.village.name,
            h.group.name if h.group else "",
            h.hukou_type,
            h.dibao_status,
            h.dibao_class,
            h.covered_persons,
            h.monthly_amount,
            h.dibao_since,
            h.is_tekun,
            h.poverty_status,
            sorted(
                ((m.name, m.id_number, m.relationship, m.health, m.disability_type, m.disability_grade))
                for m in h.members.all()
            ),
        )
        for h in households
    )


def _sorted_expected():
    return [(*h[:-1], sorted(h[-1])) for h in EXPECTED]


def _db_state():
    # Signing in writes an audit event of its own; the import's are about households and members.
    return (Household.objects.count(), Member.objects.count(), AuditEvent.objects.exclude(model="auth.User").count())


@pytest.fixture
def empty(campaign):
    """The database before any import (the town's set-up writes audit events of its own)."""
    assert not Household.objects.exists()
    return _db_state()


@pytest.fixture
def office(client, town_office):
    client.force_login(town_office)
    return client


def _upload(client, upload, **data):
    return client.post(reverse("import_roll"), {"file": upload, **data})


def _map(client, upload, first_page, choices):
    """Post the mapping page back as a browser would: its hidden headers, the choices and the file again."""
    return _upload(client, upload, step="mapping", headers=first_page.context["headers_json"], **choices)


@pytest.mark.parametrize("roll", [template_roll, county_roll_a, county_roll_b], ids=["template", "a", "b"])
def test_it_imports_each_recognised_shape_with_the_templates_result(office, roll):
    response = _upload(office, roll())
    page = response.content.decode()
    assert response.status_code == 200, page
    assert "新增2户、更新0户；新增成员4人、更新成员0人" in page
    assert roll_snapshot() == _sorted_expected()


def test_it_maps_unknown_headers_and_then_imports_the_same_result(office, empty):
    first = _upload(office, county_roll_c())
    page = first.content.decode()
    assert first.status_code == 200
    assert "确认列的对应关系" in page
    assert "低保状态" in page and "村（社区）" in page  # named as missing
    assert "月补助标准" in page and "第2行" in page  # the file's headers and where they are
    assert "孙长林" in page  # a preview of the first rows ...
    assert H1 not in page and mask_id(H1) in page  # ... with ID numbers masked
    assert _db_state() == empty

    response = _map(office, county_roll_c(), first, MAPPING_C)
    assert response.status_code == 200, response.content.decode()
    assert "新增2户、更新0户；新增成员4人、更新成员0人" in response.content.decode()
    assert roll_snapshot() == _sorted_expected()


def test_it_sees_a_county_roll_as_the_same_roll_as_the_template(office):
    _upload(office, template_roll())
    before, events = roll_snapshot(), AuditEvent.objects.count()
    for roll in (county_roll_a, county_roll_b):
        response = _upload(office, roll())
        assert "新增0户、更新0户；新增成员0人、更新成员0人" in response.content.decode()
    assert roll_snapshot() == before
    assert AuditEvent.objects.count() == events
    # (a) has no address column: what a file does not carry is left as it was.
    assert Household.objects.get(village__name="湖滨村").address == "湖滨村3组12号"


def test_it_changes_nothing_when_a_county_roll_is_imported_again(office):
    _upload(office, county_roll_a())
    state = _db_state()
    response = _upload(office, county_roll_a())
    assert "新增0户、更新0户；新增成员0人、更新成员0人" in response.content.decode()
    assert _db_state() == state


def test_it_skips_total_and_signature_lines_with_a_notice(office):
    page = _upload(office, county_roll_a()).content.decode()
    assert "共4行" in page
    assert "第8行：没有姓名、身份证号和与户主关系，不是成员行，已跳过。" in page
    assert "第9行：" in page


def test_it_reports_bad_county_rows_by_row_and_column_and_saves_nothing(office, household_b):
    rows = county_rows_a()[:-2]
    rows.insert(3, [None, None, None, None, "周某", "之女", make_id("340225", dt.date(1990, 1, 1), 52)])
    rows[4][11] = "五百元"  # the amount of 赵德明's household, now on row 5
    rows[4][12] = "2018.13"
    rows[4][13] = "有"
    rows[5][6] = 3.40225e17  # 钱玉珍's ID stored as a number
    rows[6][3] = "钱玉珍"  # 户主姓名 on 赵小明's row does not match the head above
    rows.append(
        [3, "江岸村", 1, "王德华", "王德华", "户主", household_b.head().id_number, "农业", "正常", "A类", 1, 300]
    )
    before = _db_state()
    response = _upload(office, xlsx(rows))
    page = response.content.decode()
    assert response.status_code == 400
    assert "未导入任何数据" in page
    for row, column, text in [
        (4, "与户主关系", "这一行之前没有户主行"),
        (5, "月保障金（元）", "“五百元”不是金额"),
        (5, "享受时间", "“2018.13”不是真实的日期"),
        (5, "特困供养", "“有”应填 是/否"),
        (6, "公民身份号码", "身份证号被存成了数字"),
        (7, "户主姓名", "户主姓名“钱玉珍”与本户户主行（第5行）的姓名“赵德明”不一致"),
    ]:
        assert f"<td>第{row}行</td><td>{column}</td><td>{text}" in page, (row, column, text)
    # A household already registered is updated, not refused: only the mistakes above count.
    assert page.count("<td>第") == 6
    assert _db_state() == before


def test_it_explains_full_width_digits_spaces_and_lowercase_x_in_ids(office):
    rows = county_rows_a()[:7]
    x_id = next(i for i in (make_id("340225", dt.date(1990, 1, d), 32) for d in range(1, 29)) if i.endswith("X"))
    rows[4][6] = S1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows[5][6] = f"{C1[:6]} {C1[6:14]} {C1[14:]}"
    rows.append([None, None, None, None, "赵小红", "之女", x_id.lower()])
    page = _upload(office, xlsx(rows)).content.decode()
    assert "新增成员5人" in page
    assert "含全角字符，已转换为半角" in page
    assert "含空格，已去除" in page
    assert "末位是小写x，已改为大写X" in page
    assert set(Member.objects.values_list("id_number", flat=True)) == {H1, S1, C1, H2, x_id}


def test_it_names_the_missing_columns_and_saves_nothing_when_the_mapping_is_incomplete(office, empty):
    first = _upload(office, county_roll_c())
    choices = {**MAPPING_C, "column_3": "village", "fixed_dibao_status": ""}
    response = _map(office, county_roll_c(), first, choices)
    page = response.content.decode()
    assert response.status_code == 400
    assert "“村（社区）”只能对应一列，现在选了 B、D 列。" in page
    assert "请为“姓名”选择对应的列。" in page
    assert "请为“低保状态”选择对应的列，或选择整个文件统一的值。" in page
    assert '<option value="hukou_type" selected>' in page  # the user's choices are kept
    assert _db_state() == empty


def test_it_refuses_a_column_and_a_file_wide_value_for_the_same_field(office, empty):
    first = _upload(office, county_roll_c())
    response = _map(office, county_roll_c(), first, {**MAPPING_C, "fixed_hukou_type": "urban"})
    assert "“户籍类型”已对应到一列，请不要再选整个文件统一的值。" in response.content.decode()
    assert _db_state() == empty


def test_it_asks_again_when_the_second_file_has_other_headers(office, empty):
    first = _upload(office, county_roll_c())
    other = county_roll_c(header=["编号", "人员", "村别", *COUNTY_HEADER_C[3:]])
    response = _map(office, other, first, MAPPING_C)
    page = response.content.decode()
    assert response.status_code == 400
    assert "所选文件的表头与上一步的不同" in page
    assert _db_state() == empty


def test_it_keeps_the_choices_when_the_file_is_not_sent_again(office, empty):
    first = _upload(office, county_roll_c())
    response = office.post(
        reverse("import_roll"), {"step": "mapping", "headers": first.context["headers_json"], **MAPPING_C}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择要导入的 .xlsx 文件" in page
    assert '<option value="monthly_amount" selected>' in page
    assert _db_state() == empty


def test_it_shows_row_errors_on_the_mapping_page_so_the_file_can_be_sent_again(office, empty):
    first = _upload(office, county_roll_c())
    response = _map(office, county_roll_c(), first, {**MAPPING_C, "fixed_dibao_status": "active", "column_8": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert "<td>第3行</td><td>保障人数</td><td>在保家庭的保障人数至少为1。" in page
    assert 'name="step" value="mapping"' in page
    assert _db_state() == empty


def test_it_imports_a_roll_with_one_row_per_household(office):
    rows = [
        ["序号", "村（社区）", "户主姓名", "身份证号码", "户籍类型", "保障人数", "月保障金（元）"],
        [1, "湖滨村", "赵德明", H1, "农村", 2, "505元"],
        [2, "江岸村", "孙长林", H2, "农村", 1, "1234.5元"],
    ]
    first = _upload(office, xlsx(rows))
    assert "确认列的对应关系" in first.content.decode()
    choices = {"column_1": "village", "column_2": "name", "column_3": "id_number", "column_4": "hukou_type"}
    choices |= {"column_5": "covered_persons", "column_6": "monthly_amount"}
    choices |= {"fixed_relationship": "02", "fixed_dibao_status": "active"}
    response = _map(office, xlsx(rows), first, choices)
    assert "新增2户" in response.content.decode()
    household = Household.objects.get(members__id_number=H2)
    assert (household.head().name, household.monthly_amount, household.covered_persons) == (
        "孙长林",
        Decimal("1234.50"),
        1,
    )


def test_it_lets_only_the_town_office_post_a_mapping(client, cadre_a, leadership, empty):
    for user in (cadre_a, leadership):
        client.force_login(user)
        response = _upload(client, county_roll_c(), step="mapping", headers="[]", **MAPPING_C)
        assert response.status_code == 403
    assert _db_state() == empty
