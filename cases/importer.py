"""Import of the existing dibao roll from .xlsx: our template or the county's export.

Nothing here writes to the database:

1. `read_table` opens the upload within limits (file size, unpacked size, the
   sheet's declared dimension, every row counted, a time budget) and finds the
   header row below any title rows;
2. `match_headers` recognises the usual spellings of our columns; when a needed
   column is still unknown the user maps the columns (`mapping_from_form`);
3. `check_table` checks every row and forms the households.

`services.import_roll` then saves a checked plan in one transaction. Nothing is
saved when any row is wrong, and the report names the row, the column and why.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .idnumber import IdNumberError, mask_id, parse_id
from .models import Household, Member, Village, VillagerGroup

# Limits on what an upload may make the server do (IMPORT_MAX_BYTES and
# IMPORT_MAX_ROWS are settings). A 20,000-row roll unpacks to about 25 MB and
# reads in a few seconds; a zip bomb or a sheet claiming a million rows does not.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 200
READ_SECONDS = 20.0
HEADER_SCAN_ROWS = 10
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # our header, as in the template
    spellings: tuple[str, ...] = ()  # other headers with the same meaning, as county rolls spell them
    required: bool = False  # every row (household fields: the head's row) must fill it
    note: str = ""
    household: bool = False  # read from the head's row only
    in_template: bool = True


# The one table of header spellings. Headers are compared after `normalise_header`
# (full-width to half-width, no spaces or line breaks, no "（元）"-style unit), so
# each spelling is listed once in its plain form.
FIELDS = [
    Field(
        "village",
        "村（社区）",
        (
            "所在村（居）",
            "村（居）",
            "所在村",
            "所属村（居）",
            "所属村",
            "村居",
            "村名",
            "村",
            "社区",
            "行政村",
            "村（社区）名称",
        ),
        required=True,
        note="村（社区）全称，如：泥汊社区",
        household=True,
    ),
    Field(
        "group",
        "村民小组",
        ("组", "组别", "小组", "村民组", "所在组", "居民小组", "村（居）民小组"),
        note="如：第3组",
        household=True,
    ),
    Field(
        "head_id",
        "户主身份证号",
        ("户主身份证号码", "户主公民身份号码", "户主证件号码"),
        note="成员行填户主的身份证号；也可以不填，把成员行紧接在本户户主行之后",
    ),
    Field("head_name", "户主姓名", ("户主名字",), in_template=False),
    Field("name", "姓名", ("成员姓名", "家庭成员姓名", "人员姓名", "保障对象姓名", "救助对象姓名"), required=True),
    Field(
        "id_number",
        "身份证号",
        (
            "身份证号码",
            "公民身份号码",
            "公民身份证号码",
            "居民身份证号码",
            "成员身份证号",
            "成员身份证号码",
            "身份证件号码",
            "证件号码",
        ),
        required=True,
        note="18位，单元格须为文本格式",
    ),
    Field(
        "relationship",
        "与户主关系",
        ("与户主的关系", "家庭关系", "关系", "成员关系"),
        required=True,
        note="户主/配偶/子/女/孙子/孙女/父母/祖父母/兄弟姐妹/其他",
    ),
    Field(
        "hukou_type",
        "户籍类型",
        ("户籍性质", "户口性质", "户口类型", "户籍类别", "城乡类别", "城乡类型"),
        required=True,
        note="城市/农村",
        household=True,
    ),
    Field("dibao_status", "低保状态", ("保障状态", "救助状态", "在保状态"), note="在保/未在保/已退保", household=True),
    Field(
        "dibao_class",
        "保障类别/档次",
        ("保障类别", "保障档次", "低保类别", "低保档次", "救助类别", "类别", "档次"),
        household=True,
    ),
    Field(
        "covered_persons",
        "保障人数",
        ("保障人口", "享受人数", "享受低保人数", "救助人数", "在保人数", "保障人口数"),
        note="整数",
        household=True,
    ),
    Field(
        "monthly_amount",
        "月保障金额（元）",
        (
            "月保障金",
            "保障金额",
            "保障金",
            "月低保金",
            "月补差金额",
            "月救助金额",
            "救助金额",
            "月发放金额",
            "发放金额",
        ),
        note="数字，可带“元”",
        household=True,
    ),
    Field(
        "dibao_since",
        "纳入低保日期",
        (
            "享受时间",
            "享受日期",
            "开始享受时间",
            "享受低保时间",
            "纳入低保时间",
            "纳入时间",
            "保障起始时间",
            "保障开始时间",
            "起始时间",
            "起保时间",
            "批准时间",
            "审批时间",
        ),
        note="如：2018-05-01、2018.05、2018年5月",
        household=True,
    ),
    Field("is_tekun", "特困供养", ("是否特困供养", "是否特困", "特困人员"), note="是/否（或 √）", household=True),
    Field(
        "poverty_status",
        "建档立卡",
        ("是否建档立卡", "建档立卡户", "脱贫状态"),
        note="已脱贫/未脱贫/否",
        household=True,
    ),
    Field("is_edge", "低保边缘户", ("边缘户", "是否边缘户", "是否低保边缘户"), note="是/否（或 √）", household=True),
    Field("is_other_hardship", "其他困难户", ("是否其他困难户",), note="是/否（或 √）", household=True),
    Field("address", "家庭住址", ("住址", "家庭地址", "地址", "居住地址", "现住址"), household=True),
    Field("phone", "联系电话", ("电话", "电话号码", "手机", "手机号码", "联系方式"), household=True),
    Field("health", "健康状况", ("健康状态", "身体状况"), note="健康/长期慢性病/患有大病/残疾"),
    Field("disability_type", "残疾类别", ("残疾类型", "残疾种类"), note="视力/听力/言语/肢体/智力/精神/多重"),
    Field("disability_grade", "残疾等级", ("残疾级别",), note="一级/二级/三级/四级"),
    Field(
        "work_ability",
        "劳动能力",
        ("劳动能力状况",),
        note="普通劳动力/技能劳动力/弱或半劳动力/丧失劳动力/无劳动力",
    ),
]
TEMPLATE_FIELDS = [f for f in FIELDS if f.in_template]
HEADERS = [f.label for f in TEMPLATE_FIELDS]
ID_FIELDS = {"head_id", "id_number"}
# Every row must say these: by a column, or (those in `_file_wide_choices`) by one value
# for the whole file. A county roll of recipients has no 低保状态 column; we do not guess it.
NEEDED = ("village", "name", "id_number", "relationship", "hukou_type", "dibao_status")


def _file_wide_choices() -> dict[str, list[tuple[str, str]]]:
    """Values a user may give for the whole file when it has no such column."""
    return {
        "hukou_type": list(Household.HukouType.choices),
        "dibao_status": list(Household.DibaoStatus.choices),
        "relationship": [(Member.Relationship.HEAD, "户主（每行一户，只列户主）")],
    }


@dataclass(frozen=True)
class Schema:
    """The columns of one kind of file (the roll, or a department's list): each column's header
    spellings, what every row must say, and what may be given once for the whole file instead."""

    fields: tuple[Field, ...]
    needed: tuple[str, ...]
    file_wide: Callable[[], dict[str, list[tuple[str, str]]]] = dict

    @cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @cached_property
    def spellings(self) -> dict[str, str]:
        return {normalise_header(s): f.key for f in self.fields for s in (f.label, *f.spellings)}


ROLL = Schema(tuple(FIELDS), NEEDED, _file_wide_choices)


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, in Chinese."""


class CellError(ValueError):
    """One cell cannot be read; `str(error)` is a Chinese explanation."""


# --- reading cells -------------------------------------------------------------


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return str(value).strip()


def _plain(value: Any) -> str:
    """Half-width, no spaces: the form in which cells and headers are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(value)))


_UNIT = re.compile(r"\((?:[元人户个年月日/、·.\-]|万元)+\)")
_MARKS = re.compile(r"^[*※★]+|[*※★:]+$")


def normalise_header(value: Any) -> str:
    """月保障金（元） → 月保障金; "公民身份\\n号码" → 公民身份号码; "*姓名：" → 姓名."""
    return _MARKS.sub("", _UNIT.sub("", _plain(value))).lower()


_YES = {"是", "√", "✓", "✔", "☑", "y", "yes", "1", "true"}
_NO = {"否", "×", "✗", "✘", "n", "no", "0", "false", ""}


def parse_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _plain(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(f"“{cell_text(value)}”应填 是/否（也可填 √、Y/N、1/0；空白表示否）。")


_AMOUNT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def parse_amount(value: Any) -> Decimal | None:
    """420, "420元", "¥1,234.50" → Decimal with two places; blank → None."""
    if isinstance(value, bool):
        raise CellError(f"“{value}”不是金额。")
    if isinstance(value, (int, float)):
        amount = Decimal(repr(value))
    else:
        text = _plain(value).removeprefix("¥").removesuffix("元")
        if not text:
            return None
        if not _AMOUNT.match(text):
            raise CellError(f"“{cell_text(value)}”不是金额（可写成 420、420元 或 1,234.50）。")
        amount = Decimal(text.replace(",", ""))
    if not amount.is_finite() or amount >= 10**10:
        raise CellError(f"“{cell_text(value)}”不是合理的金额。")
    if amount < 0:
        raise CellError("不能为负数。")
    return amount.quantize(Decimal("0.01"))


def parse_count(value: Any) -> int | None:
    """3, "3人" → 3; blank → None."""
    text = _plain(value).removesuffix("人")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(f"“{cell_text(value)}”不是人数。") from None
    if number != number.to_integral_value():
        raise CellError("应为整数。")
    if number < 0:
        raise CellError("不能为负数。")
    if number > 100:
        raise CellError(f"“{cell_text(value)}”人不合理。")
    return int(number)


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月|[-/.月](\d{1,2})日?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_TIME_OF_DAY = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2})?$")


def parse_date(value: Any) -> dt.date | None:
    """Excel dates, 2018-05-01, 2018/5/1, 2018.05, 2018年5月, 2018年5月1日, 20180501;
    a month alone means its first day; blank → None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and not value.is_integer() and re.fullmatch(r"\d{4}\.1", repr(value)):
        # "2018.10" typed into Excel becomes the number 2018.1: October or January?
        raise CellError(f"“{value!r}”是数字，看不出是1月还是10月；请写成 2018-10 或 2018-01，或把单元格设为文本。")
    shown = cell_text(value)
    text = _plain(_TIME_OF_DAY.sub("", shown))
    if not text:
        return None
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        raise CellError(f"“{shown}”不是日期（可写成 2018-05-01、2018/5/1、2018.05、2018年5月 或 2018年5月1日）。")
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise CellError(f"“{shown}”不是真实的日期。") from None
    if not 1900 <= year <= 2100:
        raise CellError(f"“{shown}”的年份不合理。")
    return date


def _chinese_number(text: str) -> int | None:
    """一 … 九十九, as villager groups are often written (第三组, 第十二组)."""
    digits = "一二三四五六七八九"
    if not text or any(c not in digits + "十" for c in text) or text.count("十") > 1:
        return None
    if "十" not in text:
        return digits.index(text) + 1 if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)


_GROUP = re.compile(r"^第?(\d+|[一二三四五六七八九十]+)(?:组|村民组|村民小组|小组|居民组)?$")


def group_number(text: str) -> int | None:
    """3, 3组, 第3组, 第三村民组 → 3; anything else → None."""
    match = _GROUP.match(_plain(text))
    if match is None:
        return None
    return int(match[1]) if match[1].isdigit() else _chinese_number(match[1])


def _preview(value: Any) -> str:
    """A cell as shown on the mapping page: long digit strings (ID and bank numbers) masked."""
    text = cell_text(value)
    plain = _plain(value).upper()
    if re.fullmatch(r"\d{14,}[\dX]", plain):
        return mask_id(plain)
    return text if len(text) <= 30 else text[:29] + "…"


# --- reading the file ----------------------------------------------------------

# What a damaged or hostile file raises inside zipfile and openpyxl.
_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    ParseError,
    KeyError,
    IndexError,
    TypeError,
    OSError,
    ValueError,
    EOFError,
)

Row = tuple[int, tuple[Any, ...]]  # (Excel row number, cell values)


@dataclass
class Table:
    header_rows: tuple[int, ...]  # Excel row numbers of the header (two when sub-headers sit below a group)
    headers: list[str]  # one label per column, as written in the file
    rows: list[Row]  # the non-blank rows below the header


def read_table(upload, schema: Schema = ROLL) -> Table:
    """The first sheet as a header and the rows below it; ImportFileError if it cannot be read."""
    rows = _read_rows(upload)
    if not rows:
        raise ImportFileError("文件是空的，请使用下载的模板或县里导出的花名册。")
    first, last = _find_header(rows[:HEADER_SCAN_ROWS], schema.spellings)
    if last + 1 == len(rows):
        raise ImportFileError("表头下面没有数据行。")
    width = max(len(values) for _, values in rows[first:])
    headers = []
    for i in range(width):
        # The lowest filled cell names the column: a sub-header beats its group label.
        cells = [re.sub(r"\s+", "", cell_text(values[i])) for _, values in rows[first : last + 1] if i < len(values)]
        headers.append(next((c for c in reversed(cells) if c), ""))
    return Table(header_rows=tuple(n for n, _ in rows[first : last + 1]), headers=headers, rows=rows[last + 1 :])


def _check_upload(upload) -> None:
    size = getattr(upload, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"文件太大（{size / 1024 / 1024:.1f} MB），上限为 {settings.IMPORT_MAX_BYTES // 1024 // 1024} MB。"
        )
    name = getattr(upload, "name", "") or ""
    if name and not name.lower().endswith(".xlsx"):
        raise ImportFileError("只能导入 .xlsx 格式的 Excel 文件（旧的 .xls 请先在 Excel 中另存为 .xlsx）。")


def _check_archive(upload) -> None:
    """Refuse a zip bomb before anything is unpacked.

    zipfile stops every member at its declared size (and fails the CRC check if
    the data runs on), so the declared total bounds what reading can unpack.
    """
    try:
        with zipfile.ZipFile(upload) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except _UNREADABLE as exc:
        raise ImportFileError("文件无法打开：不是有效的 .xlsx 文件，或文件已损坏。") from exc
    finally:
        upload.seek(0)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"文件解压后有 {unpacked / 1024 / 1024:.0f} MB，超过上限 {MAX_UNPACKED_BYTES // 1024 // 1024} MB，"
            "不像一份正常的花名册（可能是恶意构造的压缩文件）。请把花名册复制到新的工作簿，另存为 .xlsx 后再上传。"
        )


def _read_rows(upload) -> list[Row]:
    """The first sheet's non-blank rows, read within the limits."""
    started = time.monotonic()
    _check_upload(upload)
    _check_archive(upload)
    limit = settings.IMPORT_MAX_ROWS
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except _UNREADABLE as exc:
        raise ImportFileError("文件无法打开：不是有效的 .xlsx 文件，或文件已损坏。") from exc
    try:
        if not wb.worksheets:
            raise ImportFileError("文件中没有工作表。")
        ws = wb.worksheets[0]
        # In read-only mode max_row/max_column are the sheet's declared dimension:
        # a cell at XFD1048576 declares a million rows, refused before reading any.
        if (ws.max_row or 0) > limit or (ws.max_column or 0) > MAX_COLUMNS:
            raise ImportFileError(
                f"工作表的范围到第 {ws.max_row} 行、第 {ws.max_column} 列，超出导入上限"
                f"（{limit} 行、{MAX_COLUMNS} 列，空行也计算在内）。"
                "请删除表格下方和右侧多余的行和列（或把花名册复制到新的工作簿）后重新上传。"
            )
        # The declared dimension may also be too small (some exporters write A1), and
        # openpyxl would then stop early, so read without it and bound the reading
        # ourselves: every row, blank or not, counts toward the limit, and a row is as
        # wide as its last cell, so a cell past the column limit is seen, not dropped.
        ws.reset_dimensions()
        out = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if number > limit:
                raise ImportFileError(f"行数超过上限 {limit} 行（空行也计算在内），请删除多余的行或分批导入。")
            _check_time(started)
            values = _trim(values)
            if len(values) > MAX_COLUMNS:
                raise ImportFileError(f"第 {number} 行超过 {MAX_COLUMNS} 列，不像一份花名册。请删除右侧多余的列。")
            if values:
                out.append((number, values))
        _check_time(started)
        return out
    except ImportFileError:
        raise
    except _UNREADABLE as exc:
        raise ImportFileError("文件内容无法读取：文件可能已损坏或被截断。") from exc
    finally:
        wb.close()


def _check_time(started: float) -> None:
    if time.monotonic() - started > READ_SECONDS:
        raise ImportFileError(
            f"读取文件超过 {READ_SECONDS:.0f} 秒仍未完成，已停止。"
            "请删除多余的行、列和格式，另存为新的 .xlsx 后重试，或分批导入。"
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trim(values: tuple[Any, ...]) -> tuple[Any, ...]:
    end = len(values)
    while end and _blank(values[end - 1]):
        end -= 1
    return tuple(values[:end])


def _known_headers(values: tuple[Any, ...], spellings: dict[str, str]) -> int:
    return len({spellings[h] for h in map(normalise_header, values) if h in spellings})


def _find_header(rows: list[Row], spellings: dict[str, str]) -> tuple[int, int]:
    """Positions (first, last) of the header among the first rows.

    The header is the row with the most known headers, the first on a tie; title
    rows above it hold one or two cells. A neighbouring row that also holds known
    headers is its other half (a group label such as 家庭成员 over 姓名/身份证号).
    With no known header at all, the row with the most filled cells is the likeliest
    header, and the user maps its columns.
    """
    scores = [_known_headers(values, spellings) for _, values in rows]
    best = max(range(len(rows)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        best = max(range(len(rows)), key=lambda i: (sum(not _blank(v) for v in rows[i][1]), -i))
        return best, best

    def adjacent(i: int, j: int) -> bool:
        return 0 <= j < len(rows) and abs(rows[i][0] - rows[j][0]) == 1 and scores[j] >= 2

    if adjacent(best, best + 1):
        return best, best + 1
    if adjacent(best, best - 1):
        return best - 1, best
    return best, best


# --- which column is which -----------------------------------------------------


@dataclass
class ColumnMapping:
    columns: dict[str, int] = field(default_factory=dict)  # field key → column index (from 0)
    fixed: dict[str, str] = field(default_factory=dict)  # field key → one value for every row
    ambiguous: list[str] = field(default_factory=list)  # fields that several columns claim
    needed: tuple[str, ...] = NEEDED  # the schema's

    @property
    def missing(self) -> list[str]:
        return [k for k in self.needed if k not in self.columns and k not in self.fixed]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.ambiguous


def match_headers(headers: list[str], schema: Schema = ROLL) -> ColumnMapping:
    claims: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        key = schema.spellings.get(normalise_header(header))
        if key:
            claims.setdefault(key, []).append(i)
    # Two columns with one meaning (姓名 under 户主 and under 成员) are the user's call.
    return ColumnMapping(
        columns={k: v[0] for k, v in claims.items() if len(v) == 1},
        ambiguous=[k for k, v in claims.items() if len(v) > 1],
        needed=schema.needed,
    )


def posted_headers(data: Mapping[str, str]) -> list[str] | None:
    """The headers the mapping page was made for, carried in a hidden field."""
    try:
        headers = json.loads(data.get("headers", ""))
    except ValueError:
        return None
    if not isinstance(headers, list) or len(headers) > MAX_COLUMNS:
        return None
    if not all(isinstance(h, str) and len(h) <= 200 for h in headers):
        return None
    return headers


def mapping_from_form(
    data: Mapping[str, str], headers: list[str], schema: Schema = ROLL
) -> tuple[ColumnMapping, list[str]]:
    """The user's choices on the mapping page, and what is wrong with them (in Chinese)."""
    by_key = schema.by_key
    problems = []
    claims: dict[str, list[int]] = {}
    for i in range(len(headers)):
        key = data.get(f"column_{i}", "")
        if key in by_key:
            claims.setdefault(key, []).append(i)
        elif key:
            problems.append(f"第 {get_column_letter(i + 1)} 列的选择无效。")
    columns = {}
    for key, indexes in claims.items():
        if len(indexes) > 1:
            letters = "、".join(get_column_letter(i + 1) for i in indexes)
            problems.append(f"“{by_key[key].label}”只能对应一列，现在选了 {letters} 列。")
        else:
            columns[key] = indexes[0]
    fixed = {}
    wide = schema.file_wide()
    for key, choices in wide.items():
        value = data.get(f"fixed_{key}", "")
        if not value:
            continue
        if value not in {v for v, _ in choices}:
            problems.append(f"“{by_key[key].label}”的统一值无效。")
        elif key in columns:
            problems.append(f"“{by_key[key].label}”已对应到一列，请不要再选整个文件统一的值。")
        else:
            fixed[key] = value
    mapping = ColumnMapping(columns=columns, fixed=fixed, needed=schema.needed)
    for key in mapping.missing:
        alternative = "，或选择整个文件统一的值" if key in wide else ""
        problems.append(f"请为“{by_key[key].label}”选择对应的列{alternative}。")
    return mapping, problems


@dataclass
class MappingColumn:
    index: int
    letter: str
    header: str
    samples: list[str]
    chosen: str


@dataclass
class FileWideChoice:
    key: str
    label: str
    choices: list[tuple[str, str]]
    chosen: str


def mapping_page(table: Table, mapping: ColumnMapping, schema: Schema = ROLL) -> dict[str, Any]:
    """What the mapping page shows: each column with its first rows, and the file-wide values."""
    chosen = {i: key for key, i in mapping.columns.items()}
    columns = [
        MappingColumn(
            index=i,
            letter=get_column_letter(i + 1),
            header=header,
            samples=[_preview(values[i]) if i < len(values) else "" for _, values in table.rows[:PREVIEW_ROWS]],
            chosen=chosen.get(i, ""),
        )
        for i, header in enumerate(table.headers)
    ]
    wide = [
        FileWideChoice(key=key, label=schema.by_key[key].label, choices=choices, chosen=mapping.fixed.get(key, ""))
        for key, choices in schema.file_wide().items()
    ]
    return {
        "columns": columns,
        "fields": [(f.key, f.label) for f in schema.fields],
        "file_wide": wide,
        "header_rows": table.header_rows,
        "headers_json": json.dumps(table.headers, ensure_ascii=False),
        "missing": [schema.by_key[k].label for k in mapping.missing],
        "ambiguous": [schema.by_key[k].label for k in mapping.ambiguous],
    }


# --- checking rows -------------------------------------------------------------


@dataclass
class RowIssue:
    row: int
    column: str
    message: str


@dataclass
class PlannedMember:
    row: int
    data: dict[str, Any]


@dataclass
class PlannedHousehold:
    head_id: str
    rows: list[int]
    data: dict[str, Any] = field(default_factory=dict)
    members: list[PlannedMember] = field(default_factory=list)
    head_names: list[tuple[int, str]] = field(default_factory=list)  # (row, 户主姓名 on a member's row)


@dataclass
class ImportCheck:
    households: list[PlannedHousehold]
    errors: list[RowIssue]
    warnings: list[RowIssue]
    row_count: int

    @property
    def ok(self) -> bool:
        return not self.errors


def choice_lookup(choices, aliases: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Lookup table from a cell's plain text: the model's labels plus common spellings."""
    table = {_plain(label): value for value, label in choices}
    table.update({_plain(k): v for k, v in (aliases or {}).items()})
    return table


def disability_type_lookup() -> dict[str, str]:
    """肢体, 肢体残疾 → "limb"; 无 → ""."""
    return choice_lookup(
        [(v, label) for v, label in Member.Disability.choices if v],
        {**{f"{label}残疾": v for v, label in Member.Disability.choices if v}, "无": ""},
    )


def disability_grade_lookup() -> dict[str, int]:
    """二级, 二, 2, 2级 → 2."""
    return choice_lookup(
        Member.DisabilityGrade.choices,
        {k: v for v, label in Member.DisabilityGrade.choices for k in (str(v), f"{v}级", str(label)[0])},
    )


def find_village(text: str, villages: Mapping[str, Village], town) -> Village | None:
    """The town's village a cell names: 湖滨村, 湖滨村委会, 湖滨村村委会, 泥汊镇湖滨村 all name 湖滨村.
    `villages` are the town's villages by name."""
    text = re.sub(r"\s+", "", text)
    for prefix in (town.county, town.name):
        text = text.removeprefix(prefix)
    committees = (("村村民委员会", "村"), ("村村委会", "村"), ("村民委员会", "村"), ("村委会", "村"))
    for suffix, back in (*committees, ("居民委员会", ""), ("居委会", "")):
        if text.endswith(suffix) and text not in villages:
            text = text.removesuffix(suffix) + back
    return villages.get(text)


Relationship = Member.Relationship
# Spellings of the relationship in county rolls, grouped as GB/T 4761 groups them
# (女婿 is in the sons' group, 儿媳 in the daughters').
RELATIONSHIP_ALIASES = {
    **dict.fromkeys(["本人", "户主本人"], Relationship.HEAD),
    **dict.fromkeys(["妻", "妻子", "夫", "丈夫", "之妻", "之夫"], Relationship.SPOUSE),
    **dict.fromkeys(["儿子", "之子", "长子", "次子", "三子", "独生子", "养子", "继子", "女婿"], Relationship.SON),
    **dict.fromkeys(["女儿", "之女", "长女", "次女", "三女", "独生女", "养女", "继女", "儿媳"], Relationship.DAUGHTER),
    **dict.fromkeys(["孙子", "孙女", "外孙", "外孙子", "外孙女"], Relationship.GRANDCHILD),
    **dict.fromkeys(["父", "母", "父亲", "母亲", "公公", "婆婆", "岳父", "岳母"], Relationship.PARENT),
    **dict.fromkeys(["祖父", "祖母", "外祖父", "外祖母"], Relationship.GRANDPARENT),
    **dict.fromkeys(["兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹"], Relationship.SIBLING),
}
HUKOU_ALIASES = {
    "城镇": Household.HukouType.URBAN,
    "非农业": Household.HukouType.URBAN,
    "农业": Household.HukouType.RURAL,
}
STATUS_ALIASES = {"正常": Household.DibaoStatus.ACTIVE, "保障中": Household.DibaoStatus.ACTIVE}
POVERTY_CHOICES = [
    (Household.PovertyStatus.LIFTED, "已脱贫"),
    (Household.PovertyStatus.NOT_LIFTED, "未脱贫"),
    ("", "否"),
]
HEALTH_ALIASES = {"良好": Member.Health.HEALTHY, "慢性病": Member.Health.CHRONIC, "大病": Member.Health.SERIOUS}
WORK_ALIASES = {
    "有劳动能力": Member.WorkAbility.NORMAL,
    "部分丧失劳动能力": Member.WorkAbility.WEAK,
    "丧失劳动能力": Member.WorkAbility.LOST,
    "无劳动能力": Member.WorkAbility.NONE,
}


class RowChecker:
    """Reads the cells of one row, collecting what is wrong under the file's column names."""

    def __init__(self, number: int, raw: dict[str, Any], labels: dict[str, str], issues: Issues):
        self.row, self.raw, self.labels, self.issues = number, raw, labels, issues

    def error(self, key: str, message: str) -> None:
        self.issues.errors.append(RowIssue(self.row, self.labels[key], message))

    def warn(self, key: str, message: str) -> None:
        self.issues.warnings.append(RowIssue(self.row, self.labels[key], message))

    def text(self, key: str) -> str:
        return cell_text(self.raw.get(key))

    def cell(self, key: str, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.raw.get(key))
        except CellError as exc:
            self.error(key, str(exc))
            return None

    def id_number(self, key: str, *, required: bool) -> str | None:
        value = self.raw.get(key)
        if self.text(key) == "":
            if required:
                self.error(key, "必填。")
            return None
        try:
            info = parse_id(value)
        except IdNumberError as exc:
            self.error(key, str(exc))
            return None
        if isinstance(value, str):
            if re.search(r"\s", value.strip()):
                self.warn(key, "含空格，已去除。")
            if value.strip().endswith(("x", "ｘ")):
                self.warn(key, "末位是小写x，已改为大写X。")
        if info.had_full_width:
            self.warn(key, "含全角字符，已转换为半角。")
        if info.upgraded_from_15:
            self.warn(key, f"15位旧号码已升级为18位（{mask_id(info.number)}）。")
        return info.number

    def choice(self, key: str, table: dict[str, Any], default: Any = None, *, shown: list[str]) -> Any:
        text = self.text(key)
        if not text:
            return default
        value = table.get(_plain(text), _NOT_FOUND)
        if value is _NOT_FOUND:
            self.error(key, f"“{text}”不是可选值（可选：{'/'.join(shown)}）。")
            return default
        return value


_NOT_FOUND = object()


@dataclass
class Issues:
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


def check_table(table: Table, mapping: ColumnMapping, *, town) -> ImportCheck:
    """Check every row against the rules and the registry, and form the households; write nothing.

    1. Rows without a name, an ID number or a relationship (a 合计 line, the
       signatures under a roll) and repeated header rows are skipped with a notice;
    2. each row is read under the mapping, household figures from the head's row;
    3. a row belongs to the household of the 户主身份证号 it gives, else to the
       household whose 户主 row came last above it;
    4. every member's ID is checked against the live registry.
    """
    issues = Issues()
    labels = {f.key: f.label for f in FIELDS}
    labels.update({key: table.headers[i] or f"{get_column_letter(i + 1)}列" for key, i in mapping.columns.items()})
    records = []
    identity = [k for k in ("name", "id_number", "relationship", "head_id", "head_name") if k in mapping.columns]
    name_header = normalise_header(table.headers[mapping.columns["name"]]) if "name" in mapping.columns else None
    for number, values in table.rows:
        raw = {key: values[i] if i < len(values) else None for key, i in mapping.columns.items()}
        if all(_blank(raw[k]) for k in identity):
            issues.warnings.append(RowIssue(number, "", "没有姓名、身份证号和与户主关系，不是成员行，已跳过。"))
        elif name_header and normalise_header(raw["name"]) == name_header:
            issues.warnings.append(RowIssue(number, "", "重复的表头行，已跳过。"))
        else:
            records.append((number, raw))
    households = _form_households(records, town=town, mapping=mapping, labels=labels, issues=issues)
    _check_against_registry(households, issues, labels, town=town)
    issues.errors.sort(key=lambda i: i.row)
    issues.warnings.sort(key=lambda i: i.row)
    return ImportCheck(
        households=list(households.values()), errors=issues.errors, warnings=issues.warnings, row_count=len(records)
    )


def _same_name(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def _form_households(
    records: list[tuple[int, dict[str, Any]]],
    *,
    town,
    mapping: ColumnMapping,
    labels: dict[str, str],
    issues: Issues,
) -> dict[str, PlannedHousehold]:
    relationships = choice_lookup(Relationship.choices, RELATIONSHIP_ALIASES)
    health = choice_lookup(Member.Health.choices, HEALTH_ALIASES)
    disability = disability_type_lookup()
    grades = disability_grade_lookup()
    ability = choice_lookup(Member.WorkAbility.choices, WORK_ALIASES)
    household_reader = _HouseholdReader(town, mapping)
    fixed_relationship = mapping.fixed.get("relationship")

    households: dict[str, PlannedHousehold] = {}
    seen_ids: dict[str, int] = {}
    current: str | None = None  # head ID of the household whose 户主 row came last; "" if that row was wrong
    for number, raw in records:
        check = RowChecker(number, raw, labels, issues)
        member_id = check.id_number("id_number", required=True)
        head_id = check.id_number("head_id", required=False)
        head_name = re.sub(r"\s+", "", check.text("head_name"))
        if fixed_relationship:
            relationship = fixed_relationship
        else:
            relationship = check.choice(
                "relationship", relationships, shown=[str(label) for _, label in Relationship.choices]
            )
            if relationship is None and not check.text("relationship"):
                check.error("relationship", "必填。")
        # Alignment spaces (王　芳) are not part of a name.
        name = re.sub(r"\s+", "", check.text("name"))
        if relationship == Relationship.HEAD:
            if not name:
                name = head_name
            elif head_name and not _same_name(name, head_name):
                check.error("head_name", f"户主行的户主姓名“{head_name}”与姓名“{name}”不一致。")
        if not name:
            check.error("name", "必填。")
        elif len(name) > 30:
            check.error("name", "姓名过长。")
        if member_id:
            if member_id in seen_ids:
                check.error("id_number", f"与第{seen_ids[member_id]}行的身份证号重复。")
            else:
                seen_ids[member_id] = number
        member = {"name": name, "id_number": member_id, "relationship": relationship}
        if "health" in mapping.columns:
            member["health"] = check.choice("health", health, Member.Health.HEALTHY, shown=_shown(Member.Health))
        if "disability_type" in mapping.columns:
            member["disability_type"] = check.choice(
                "disability_type", disability, "", shown=[str(label) for v, label in Member.Disability.choices if v]
            )
        if "disability_grade" in mapping.columns:
            member["disability_grade"] = check.choice("disability_grade", grades, shown=_shown(Member.DisabilityGrade))
        if "work_ability" in mapping.columns:
            member["work_ability"] = check.choice(
                "work_ability", ability, Member.WorkAbility.NORMAL, shown=_shown(Member.WorkAbility)
            )
        if member.get("disability_type") and not member.get("disability_grade"):
            check.error("disability_grade", "填写了残疾类别时，残疾等级必填。")

        if relationship == Relationship.HEAD:
            if head_id and member_id and head_id != member_id:
                check.error("head_id", "户主行的“户主身份证号”应与本人身份证号一致。")
            key = current = member_id or ""
        elif check.text("head_id"):
            key = head_id or ""
        elif current is None:
            check.error(
                "relationship",
                "这一行之前没有户主行，无法确定属于哪一户：请把户主行放在本户成员之前，或增加“户主身份证号”列。",
            )
            key = ""
        else:
            key = current
        if not key:
            continue  # the row that would name the household is wrong and already reported
        plan = households.setdefault(key, PlannedHousehold(head_id=key, rows=[]))
        plan.rows.append(number)
        plan.members.append(PlannedMember(row=number, data=member))
        if relationship != Relationship.HEAD:
            if head_name:
                plan.head_names.append((number, head_name))
            continue
        if plan.data:
            check.error("relationship", f"同一户有两个户主行（另见第{plan.rows[0]}行）。")
            continue
        plan.data = household_reader.read(check)

    for plan in households.values():
        head = next((m for m in plan.members if m.data["relationship"] == Relationship.HEAD), None)
        if not plan.data or head is None:
            for number in plan.rows:
                issues.errors.append(
                    RowIssue(number, labels["head_id"], "这一户（按本行的户主身份证号）在文件中没有户主行。")
                )
            continue
        for number, head_name in plan.head_names:
            if not _same_name(head_name, head.data["name"]):
                issues.errors.append(
                    RowIssue(
                        number,
                        labels["head_name"],
                        f"户主姓名“{head_name}”与本户户主行（第{head.row}行）的姓名“{head.data['name']}”不一致，"
                        "请检查是否漏了户主行。",
                    )
                )
    return households


def _shown(choices) -> list[str]:
    return [str(label) for label in choices.labels]


class _HouseholdReader:
    """Reads the household fields from a head's row: only those the file gives, so a
    re-import never blanks what the file does not carry."""

    def __init__(self, town, mapping: ColumnMapping):
        self.town, self.mapping = town, mapping
        self.villages = {v.name: v for v in Village.objects.filter(town=town)}
        self.groups: dict[tuple[int, str | int], VillagerGroup] = {}
        for g in VillagerGroup.objects.filter(village__town=town):
            self.groups[(g.village_id, g.name)] = g
            self.groups[(g.village_id, g.number)] = g
        self.hukou = choice_lookup(Household.HukouType.choices, HUKOU_ALIASES)
        self.status = choice_lookup(Household.DibaoStatus.choices, STATUS_ALIASES)
        self.poverty = choice_lookup(
            POVERTY_CHOICES,
            {"已脱贫户": Household.PovertyStatus.LIFTED, "未脱贫户": Household.PovertyStatus.NOT_LIFTED},
        )

    def has(self, key: str) -> bool:
        return key in self.mapping.columns or key in self.mapping.fixed

    def village(self, text: str) -> Village | None:
        return find_village(text, self.villages, self.town)

    def read(self, check: RowChecker) -> dict[str, Any]:
        fixed = self.mapping.fixed
        village_text = check.text("village")
        village = self.village(village_text)
        if village is None:
            check.error("village", f"未知的村（社区）“{village_text}”。" if village_text else "必填。")
        data: dict[str, Any] = {"village": village}
        if "group" in self.mapping.columns:
            group = None
            group_text = check.text("group")
            if village and group_text:
                number = group_number(group_text)
                group = self.groups.get((village.id, group_text)) or self.groups.get((village.id, number))
                if group is None:
                    check.error("group", f"{village.name}没有村民小组“{group_text}”。")
            data["group"] = group
        if "hukou_type" in fixed:
            data["hukou_type"] = fixed["hukou_type"]
        else:
            data["hukou_type"] = check.choice("hukou_type", self.hukou, shown=_shown(Household.HukouType))
            if data["hukou_type"] is None and not check.text("hukou_type"):
                check.error("hukou_type", "必填。")
        data["dibao_status"] = fixed.get("dibao_status") or check.choice(
            "dibao_status", self.status, Household.DibaoStatus.NONE, shown=_shown(Household.DibaoStatus)
        )
        if self.has("dibao_class"):
            data["dibao_class"] = check.text("dibao_class")[:20]
        if self.has("covered_persons"):
            data["covered_persons"] = check.cell("covered_persons", parse_count) or 0
        if self.has("monthly_amount"):
            data["monthly_amount"] = check.cell("monthly_amount", parse_amount) or Decimal("0.00")
        if self.has("dibao_since"):
            data["dibao_since"] = check.cell("dibao_since", parse_date)
        for key in ("is_tekun", "is_edge", "is_other_hardship"):
            if self.has(key):
                data[key] = bool(check.cell(key, parse_yes_no))
        if self.has("poverty_status"):
            data["poverty_status"] = check.choice("poverty_status", self.poverty, "", shown=["已脱贫", "未脱贫", "否"])
        if self.has("address"):
            data["address"] = check.text("address")[:200]
        if self.has("phone"):
            data["phone"] = check.text("phone")[:20]
        if data["dibao_status"] == Household.DibaoStatus.ACTIVE and data.get("covered_persons", 0) < 1:
            check.error("covered_persons", "在保家庭的保障人数至少为1。")
        return data


def _check_against_registry(
    households: dict[str, PlannedHousehold], issues: Issues, labels: dict[str, str], *, town
) -> None:
    """A live ID number may only be re-imported into the household it already belongs to, and
    only a household of this town: one registered in another town is refused without naming
    it (the office may not learn another town's registry from a roll)."""
    ids = [m.data["id_number"] for p in households.values() for m in p.members if m.data["id_number"]]
    existing: dict[str, Member] = {}
    for chunk_start in range(0, len(ids), 2000):
        chunk = ids[chunk_start : chunk_start + 2000]
        for m in Member.objects.filter(id_number__in=chunk, status=Member.Status.PRESENT).select_related(
            "household__village"
        ):
            existing[m.id_number] = m
    for plan in households.values():
        head = existing.get(plan.head_id)
        household_id = head.household_id if head and head.household.village.town_id == town.pk else None
        for planned in plan.members:
            found = existing.get(planned.data["id_number"])
            if found is None or found.household_id == household_id:
                continue
            if found.household.village.town_id != town.pk:
                message = "该身份证号已登记在本镇以外的另一户中，一人只能属于一户；请联系县民政局核实。"
            else:
                message = f"该身份证号已登记在{found.household.village.name}{found.name}所在的另一户中。"
            issues.errors.append(RowIssue(planned.row, labels["id_number"], message))


# --- the template --------------------------------------------------------------


def build_template() -> bytes:
    """The blank roll with Chinese headers, ID columns formatted as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "低保花名册"
    ws.append(HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(TEMPLATE_FIELDS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        if col.required:
            cell.fill = fill
        letter = cell.column_letter
        ws.column_dimensions[letter].width = 22 if col.key in ID_FIELDS else 14
        if col.key in ID_FIELDS:
            # Text format stops Excel from turning an 18-digit number into 3.40225E+17.
            for row in range(2, 2002):
                ws.cell(row=row, column=i).number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "必填", "说明"])
    for col in TEMPLATE_FIELDS:
        notes.append(
            [col.label, "是" if col.required else "", col.note + ("（只读取户主所在行）" if col.household else "")]
        )
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["C"].width = 60
    for cell in notes[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
