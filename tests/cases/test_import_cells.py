"""The importer's pure helpers: reading one cell, naming one header, finding the header row."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from cases.importer import (
    FIELDS,
    CellError,
    ImportFileError,
    group_number,
    match_headers,
    normalise_header,
    parse_amount,
    parse_count,
    parse_date,
    parse_yes_no,
    read_table,
)


@pytest.mark.parametrize("value", ["是", "√", "✓", "✔", "Y", "y", "yes", "1", 1, 1.0, True, " √ ", "Ｙ"])
def test_it_reads_yes(value):
    assert parse_yes_no(value) is True


@pytest.mark.parametrize("value", ["否", "", None, "×", "N", "no", "0", 0, False, "  "])
def test_it_reads_no(value):
    assert parse_yes_no(value) is False


@pytest.mark.parametrize("value", ["有", "是的", "2", "√√"])
def test_it_refuses_other_yes_no_cells(value):
    with pytest.raises(CellError, match="应填 是/否"):
        parse_yes_no(value)


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (420, Decimal("420.00")),
        (420.5, Decimal("420.50")),
        ("420", Decimal("420.00")),
        ("420元", Decimal("420.00")),
        ("420.00 元", Decimal("420.00")),
        ("1,234.50", Decimal("1234.50")),
        ("1,234.50元", Decimal("1234.50")),
        ("￥1,234", Decimal("1234.00")),
        ("１２３４", Decimal("1234.00")),  # full-width digits
        ("", None),
        (None, None),
    ],
)
def test_it_reads_amounts(value, amount):
    assert parse_amount(value) == amount


@pytest.mark.parametrize(
    ("value", "message"),
    [("五百元", "不是金额"), ("1,23", "不是金额"), ("12,34.5", "不是金额"), ("-5", "不能为负数"), (-5, "不能为负数")],
)
def test_it_refuses_unreadable_amounts(value, message):
    with pytest.raises(CellError, match=message):
        parse_amount(value)


@pytest.mark.parametrize(("value", "count"), [(3, 3), (3.0, 3), ("3", 3), ("3人", 3), ("", None)])
def test_it_reads_counts(value, count):
    assert parse_count(value) == count


@pytest.mark.parametrize(("value", "message"), [("三人", "不是人数"), (2.5, "应为整数"), ("500", "不合理")])
def test_it_refuses_unreadable_counts(value, message):
    with pytest.raises(CellError, match=message):
        parse_count(value)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        (dt.datetime(2018, 5, 1), dt.date(2018, 5, 1)),  # an Excel date cell
        (dt.date(2018, 5, 1), dt.date(2018, 5, 1)),
        ("2018-05-01", dt.date(2018, 5, 1)),
        ("2018/5/1", dt.date(2018, 5, 1)),
        ("2018.5.1", dt.date(2018, 5, 1)),
        ("2018.05", dt.date(2018, 5, 1)),  # a month alone means the 1st
        (2018.05, dt.date(2018, 5, 1)),  # typed into Excel as a number
        (2018.12, dt.date(2018, 12, 1)),
        ("2018-05", dt.date(2018, 5, 1)),
        ("2018年5月", dt.date(2018, 5, 1)),
        ("2018年05月", dt.date(2018, 5, 1)),
        ("2018年5月1日", dt.date(2018, 5, 1)),
        ("2016年7月20日", dt.date(2016, 7, 20)),
        ("20180501", dt.date(2018, 5, 1)),
        (20180501, dt.date(2018, 5, 1)),
        ("201805", dt.date(2018, 5, 1)),
        ("2018-05-01 00:00:00", dt.date(2018, 5, 1)),
        ("２０１８年５月", dt.date(2018, 5, 1)),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_dates(value, date):
    assert parse_date(value) == date


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2018.13", "不是真实的日期"),
        ("2018-02-30", "不是真实的日期"),
        ("五月", "不是日期"),
        ("18.5", "不是日期"),
        (43221, "不是日期"),  # an Excel serial number without its date format: not guessed
        (2018.1, "看不出是1月还是10月"),  # 2018.10 or 2018.1?
        ("1850-01-01", "年份不合理"),
    ],
)
def test_it_refuses_unreadable_dates(value, message):
    with pytest.raises(CellError, match=message):
        parse_date(value)


@pytest.mark.parametrize(
    ("header", "plain"),
    [
        ("月保障金（元）", "月保障金"),
        ("月保障金\n(元)", "月保障金"),
        ("保障人数（人）", "保障人数"),
        ("月保障金额（元/月）", "月保障金额"),
        ("公民身份\n号码", "公民身份号码"),
        (" 所在村（居） ", "所在村(居)"),  # a bracket that is part of the name stays
        ("*姓名：", "姓名"),
    ],
)
def test_it_normalises_headers(header, plain):
    assert normalise_header(header) == plain


def test_it_has_each_spelling_for_one_field_only():
    spellings = [normalise_header(s) for f in FIELDS for s in (f.label, *f.spellings)]
    assert len(spellings) == len(set(spellings))


def test_it_recognises_county_spellings():
    headers = ["序号", "所在村（居）", "户主姓名", "成员姓名", "与户主关系", "公民身份号码", "保障人数"]
    headers += ["月保障金（元）", "享受时间", "户籍性质"]
    mapping = match_headers(headers)
    assert mapping.columns == {
        "village": 1,
        "head_name": 2,
        "name": 3,
        "relationship": 4,
        "id_number": 5,
        "covered_persons": 6,
        "monthly_amount": 7,
        "dibao_since": 8,
        "hukou_type": 9,
    }
    assert mapping.missing == ["dibao_status"]


def test_it_leaves_a_field_claimed_by_two_columns_to_the_user():
    mapping = match_headers(["姓名", "身份证号", "姓名"])
    assert "name" not in mapping.columns
    assert mapping.ambiguous == ["name"]
    assert not mapping.complete


@pytest.mark.parametrize(("text", "number"), [("3", 3), ("3组", 3), ("第3组", 3), ("第三组", 3), ("第十二村民组", 12)])
def test_it_reads_group_numbers(text, number):
    assert group_number(text) == number


@pytest.mark.parametrize("text", ["东组", "第3队", "三十三十"])
def test_it_does_not_read_other_group_names_as_numbers(text):
    assert group_number(text) is None


def _upload(rows) -> SimpleUploadedFile:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("x.xlsx", buffer.getvalue())


def test_it_finds_the_header_below_title_rows():
    table = read_table(
        _upload(
            [
                ["泥汊镇低保花名册"],
                [],
                ["单位：元"],
                ["序号", "所在村（居）", "成员姓名", "公民身份号码"],
                [1, "湖滨村", "赵德明", "x"],
            ]
        )
    )
    assert table.header_rows == (4,)
    assert table.headers == ["序号", "所在村（居）", "成员姓名", "公民身份号码"]
    assert table.rows == [(5, (1, "湖滨村", "赵德明", "x"))]


def test_it_joins_a_two_row_header():
    table = read_table(
        _upload(
            [
                ["序号", "户主情况", None, "家庭成员", None, "保障人数", "月保障金"],
                [None, "户主姓名", "户主身份证号", "姓名", "身份证号"],
                [1, "赵德明", "x", "赵德明", "x", 2, 505],
            ]
        )
    )
    assert table.header_rows == (1, 2)
    assert table.headers == ["序号", "户主姓名", "户主身份证号", "姓名", "身份证号", "保障人数", "月保障金"]
    assert [n for n, _ in table.rows] == [3]


def test_it_takes_the_fullest_row_as_header_when_no_header_is_known():
    table = read_table(_upload([["名单"], ["编号", "人员", "证件"], ["1", "赵德明", "x"]]))
    assert table.headers == ["编号", "人员", "证件"]
    assert match_headers(table.headers).columns == {}


def test_it_refuses_an_empty_sheet():
    with pytest.raises(ImportFileError, match="文件是空的"):
        read_table(_upload([]))
