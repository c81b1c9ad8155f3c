"""Import of the existing dibao roll from .xlsx.

Reading and checking are separate from saving: `read_workbook` and `check_rows`
never write; `services.import_roll` saves a checked plan in one transaction.
Nothing is saved when any row is wrong, and the report says which row and why.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from .idnumber import IdNumberError, parse_id
from .models import Household, Member, Village, VillagerGroup

YES_NO = {"是": True, "否": False, "": False}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    note: str = ""
    household: bool = False  # read from the head's row only


COLUMNS = [
    Column("village", "村（社区）", True, "村（社区）全称，如：泥汊社区", household=True),
    Column("group", "村民小组", False, "如：第3组", household=True),
    Column("head_id", "户主身份证号", True, "同一户的每一行都填户主的身份证号"),
    Column("name", "姓名", True),
    Column("id_number", "身份证号", True, "18位，单元格须为文本格式"),
    Column("relationship", "与户主关系", True, "户主/配偶/子/女/孙子/孙女/父母/祖父母/兄弟姐妹/其他"),
    Column("hukou_type", "户籍类型", True, "城市/农村", household=True),
    Column("dibao_status", "低保状态", False, "在保/未在保/已退保", household=True),
    Column("dibao_class", "保障类别/档次", False, household=True),
    Column("covered_persons", "保障人数", False, "整数", household=True),
    Column("monthly_amount", "月保障金额（元）", False, "数字", household=True),
    Column("dibao_since", "纳入低保日期", False, "如：2018-05-01", household=True),
    Column("is_tekun", "特困供养", False, "是/否", household=True),
    Column("poverty_status", "建档立卡", False, "已脱贫/未脱贫/否", household=True),
    Column("is_edge", "低保边缘户", False, "是/否", household=True),
    Column("is_other_hardship", "其他困难户", False, "是/否", household=True),
    Column("address", "家庭住址", False, household=True),
    Column("phone", "联系电话", False, household=True),
    Column("health", "健康状况", False, "健康/长期慢性病/患有大病/残疾"),
    Column("disability_type", "残疾类别", False, "视力/听力/言语/肢体/智力/精神/多重"),
    Column("disability_grade", "残疾等级", False, "一级/二级/三级/四级"),
    Column("work_ability", "劳动能力", False, "普通劳动力/技能劳动力/弱或半劳动力/丧失劳动力/无劳动力"),
]
HEADERS = [c.header for c in COLUMNS]
ID_COLUMNS = {"head_id", "id_number"}

RELATIONSHIP_ALIASES = {"孙子": "40", "孙女": "40", "父亲": "50", "母亲": "50", "本人": "02"}


def _labels(choices) -> dict[str, Any]:
    return {str(label): value for value, label in choices}


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, in Chinese."""


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


@dataclass
class ImportCheck:
    households: list[PlannedHousehold]
    errors: list[RowIssue]
    warnings: list[RowIssue]
    row_count: int

    @property
    def ok(self) -> bool:
        return not self.errors


def build_template() -> bytes:
    """The blank roll with Chinese headers, ID columns formatted as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "低保花名册"
    ws.append(HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        if col.required:
            cell.fill = fill
        letter = cell.column_letter
        ws.column_dimensions[letter].width = 22 if col.key in ID_COLUMNS else 14
        if col.key in ID_COLUMNS:
            # Text format stops Excel from turning an 18-digit number into 3.40225E+17.
            for row in range(2, 2002):
                ws.cell(row=row, column=i).number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "必填", "说明"])
    for col in COLUMNS:
        notes.append(
            [col.header, "是" if col.required else "", col.note + ("（只读取户主所在行）" if col.household else "")]
        )
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["C"].width = 60
    for cell in notes[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read_workbook(upload) -> list[tuple[int, dict[str, Any]]]:
    """Rows of the first sheet as (Excel row number, {column key: raw value})."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"文件太大（{size / 1024 / 1024:.1f} MB），上限为 {settings.IMPORT_MAX_BYTES // 1024 // 1024} MB。"
        )
    name = getattr(upload, "name", "") or ""
    if name and not name.lower().endswith(".xlsx"):
        raise ImportFileError("只能导入 .xlsx 格式的 Excel 文件（旧的 .xls 请先在 Excel 中另存为 .xlsx）。")
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, EOFError) as exc:
        raise ImportFileError("文件无法打开：不是有效的 .xlsx 文件，或文件已损坏。") from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError("文件是空的，请使用下载的模板填写。")
        positions = {}
        for i, title in enumerate(header):
            title = str(title).strip() if title is not None else ""
            if title in HEADERS:
                positions[title] = i
        missing = [c.header for c in COLUMNS if c.required and c.header not in positions]
        if missing:
            raise ImportFileError(f"缺少必填列：{'、'.join(missing)}。请使用下载的模板填写。")
        out = []
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(out) >= settings.IMPORT_MAX_ROWS:
                raise ImportFileError(f"行数超过上限 {settings.IMPORT_MAX_ROWS} 行，请分批导入。")
            record = {}
            for col in COLUMNS:
                i = positions.get(col.header)
                record[col.key] = values[i] if i is not None and i < len(values) else None
            out.append((number, record))
        return out
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ImportFileError("文件内容无法读取：文件可能已损坏或被截断。") from exc
    finally:
        wb.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _RowChecker:
    def __init__(self, number: int, errors: list[RowIssue], warnings: list[RowIssue]):
        self.row, self.errors, self.warnings = number, errors, warnings

    def error(self, key: str, message: str) -> None:
        self.errors.append(RowIssue(self.row, _header(key), message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(RowIssue(self.row, _header(key), message))

    def id_number(self, key: str, value: Any) -> str | None:
        if value is None or _text(value) == "":
            self.error(key, "必填。")
            return None
        try:
            info = parse_id(value)
        except IdNumberError as exc:
            self.error(key, str(exc))
            return None
        if info.had_full_width:
            self.warn(key, "含全角字符，已转换为半角。")
        if info.upgraded_from_15:
            self.warn(key, f"15位旧号码已升级为18位：{info.number}。")
        return info.number

    def choice(self, key: str, value: Any, mapping: dict[str, Any], default: Any = None) -> Any:
        text = _text(value)
        if not text:
            return default
        if text not in mapping:
            self.error(key, f"“{text}”不是可选值（可选：{'/'.join(k for k in mapping if k)}）。")
            return default
        return mapping[text]

    def number(self, key: str, value: Any, *, integer: bool = False) -> Decimal | int | None:
        text = _text(value)
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.error(key, f"“{text}”不是数字。")
            return None
        if amount < 0:
            self.error(key, "不能为负数。")
            return None
        if integer:
            if amount != amount.to_integral_value():
                self.error(key, "应为整数。")
                return None
            return int(amount)
        return amount.quantize(Decimal("0.01"))

    def date(self, key: str, value: Any) -> dt.date | None:
        if value is None or _text(value) == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _text(value).replace("/", "-").replace(".", "-")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.error(key, f"“{_text(value)}”不是日期（如 2018-05-01）。")
            return None


def _header(key: str) -> str:
    return next(c.header for c in COLUMNS if c.key == key)


def check_rows(rows: list[tuple[int, dict[str, Any]]], *, town) -> ImportCheck:
    """Check every row against the rules and the registry; write nothing."""
    errors: list[RowIssue] = []
    warnings: list[RowIssue] = []
    villages = {v.name: v for v in Village.objects.filter(town=town)}
    groups = {(g.village_id, g.name): g for g in VillagerGroup.objects.filter(village__town=town)}
    relationships = {**_labels(Member.Relationship.choices), **RELATIONSHIP_ALIASES}
    hukou = _labels(Household.HukouType.choices)
    status = _labels(Household.DibaoStatus.choices)
    poverty = {"已脱贫": Household.PovertyStatus.LIFTED, "未脱贫": Household.PovertyStatus.NOT_LIFTED, "否": ""}
    health = _labels(Member.Health.choices)
    disability = {k: v for k, v in _labels(Member.Disability.choices).items() if v}
    grade = _labels(Member.DisabilityGrade.choices)
    ability = _labels(Member.WorkAbility.choices)

    households: dict[str, PlannedHousehold] = {}
    seen_ids: dict[str, int] = {}
    for number, raw in rows:
        check = _RowChecker(number, errors, warnings)
        head_id = check.id_number("head_id", raw["head_id"])
        member_id = check.id_number("id_number", raw["id_number"])
        name = _text(raw["name"])
        if not name:
            check.error("name", "必填。")
        elif len(name) > 30:
            check.error("name", "姓名过长。")
        relationship = check.choice("relationship", raw["relationship"], relationships)
        if relationship is None and not _text(raw["relationship"]):
            check.error("relationship", "必填。")
        if member_id:
            if member_id in seen_ids:
                check.error("id_number", f"与第{seen_ids[member_id]}行的身份证号重复。")
            else:
                seen_ids[member_id] = number
        if relationship == Member.Relationship.HEAD and head_id and member_id and head_id != member_id:
            check.error("head_id", "户主行的“户主身份证号”应与本人身份证号一致。")
        member = {
            "name": name,
            "id_number": member_id,
            "relationship": relationship,
            "health": check.choice("health", raw["health"], health, Member.Health.HEALTHY),
            "disability_type": check.choice("disability_type", raw["disability_type"], disability, ""),
            "disability_grade": check.choice("disability_grade", raw["disability_grade"], grade),
            "work_ability": check.choice("work_ability", raw["work_ability"], ability, Member.WorkAbility.NORMAL),
        }
        if member["disability_type"] and not member["disability_grade"]:
            check.error("disability_grade", "填写了残疾类别时，残疾等级必填。")
        if not head_id:
            continue
        plan = households.setdefault(head_id, PlannedHousehold(head_id=head_id, rows=[]))
        plan.rows.append(number)
        plan.members.append(PlannedMember(row=number, data=member))
        if relationship != Member.Relationship.HEAD:
            continue
        if plan.data:
            check.error("relationship", f"同一户有两个户主行（另见第{plan.rows[0]}行）。")
            continue
        village = villages.get(_text(raw["village"]))
        if village is None:
            check.error(
                "village", f"未知的村（社区）“{_text(raw['village'])}”。" if _text(raw["village"]) else "必填。"
            )
        group = None
        group_text = _text(raw["group"])
        if village and group_text:
            if group_text.isdigit():
                group_text = f"第{group_text}组"
            group = groups.get((village.id, group_text))
            if group is None:
                check.error("group", f"{village.name}没有村民小组“{group_text}”。")
        hukou_type = check.choice("hukou_type", raw["hukou_type"], hukou)
        if hukou_type is None and not _text(raw["hukou_type"]):
            check.error("hukou_type", "必填。")
        data = {
            "village": village,
            "group": group,
            "hukou_type": hukou_type,
            "dibao_status": check.choice("dibao_status", raw["dibao_status"], status, Household.DibaoStatus.NONE),
            "dibao_class": _text(raw["dibao_class"])[:20],
            "covered_persons": check.number("covered_persons", raw["covered_persons"], integer=True) or 0,
            "monthly_amount": check.number("monthly_amount", raw["monthly_amount"]) or Decimal("0.00"),
            "dibao_since": check.date("dibao_since", raw["dibao_since"]),
            "is_tekun": check.choice("is_tekun", raw["is_tekun"], YES_NO, False),
            "poverty_status": check.choice("poverty_status", raw["poverty_status"], poverty, ""),
            "is_edge": check.choice("is_edge", raw["is_edge"], YES_NO, False),
            "is_other_hardship": check.choice("is_other_hardship", raw["is_other_hardship"], YES_NO, False),
            "address": _text(raw["address"])[:200],
            "phone": _text(raw["phone"])[:20],
        }
        if data["dibao_status"] == Household.DibaoStatus.ACTIVE and data["covered_persons"] < 1:
            check.error("covered_persons", "在保家庭的保障人数至少为1。")
        plan.data = data

    for plan in households.values():
        if not plan.data:
            for number in plan.rows:
                errors.append(
                    RowIssue(number, _header("head_id"), f"户主身份证号为{plan.head_id[-4:]}结尾的这一户没有户主行。")
                )
    _check_against_registry(households, errors)
    errors.sort(key=lambda i: (i.row, HEADERS.index(i.column)))
    warnings.sort(key=lambda i: i.row)
    return ImportCheck(households=list(households.values()), errors=errors, warnings=warnings, row_count=len(rows))


def _check_against_registry(households: dict[str, PlannedHousehold], errors: list[RowIssue]) -> None:
    """A live ID number may only be re-imported into the household it already belongs to."""
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
        household_id = head.household_id if head else None
        for planned in plan.members:
            found = existing.get(planned.data["id_number"])
            if found and found.household_id != household_id:
                errors.append(
                    RowIssue(
                        planned.row,
                        _header("id_number"),
                        f"该身份证号已登记在{found.household.village.name}{found.name}所在的另一户中。",
                    )
                )
