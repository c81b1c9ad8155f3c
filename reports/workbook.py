"""Tables as a workbook (openpyxl): one sheet per table, Chinese headers in a frozen first row,
number formats by column kind, widths that fit the text, and a 合计 row computed by the
workbook's own formulas (=SUM over the column, a ratio of two totals).

A `Table` is format-neutral: the PDF templates render the same rows and the same totals
(`Table.total_row`, `Table.shown_rows`), so the file and the print never disagree.

Text that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is written as a text cell with a quote prefix: a member named =HYPERLINK(...) stays a
name when the file is opened and when the cell is edited.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

TEXT, INT, MONEY, RATIO, DATE, DATETIME = "text", "int", "money", "ratio", "date", "datetime"
# Kinds summed in the 合计 row.
SUMMED = {INT, MONEY}
NUMBER_FORMATS = {
    INT: "#,##0",
    MONEY: "#,##0.00",
    RATIO: "0.0%",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TOTAL_LABEL = "合计"
# Column widths in character cells (a Chinese character takes two).
MIN_WIDTH, MAX_WIDTH = 6, 48
# Excel's limit, and characters a sheet name may not hold.
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))

HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT
    # RATIO: the columns (indexes) of its numerator and denominator; the total is their totals' ratio
    ratio_of: tuple[int, int] | None = None
    # long text (reasons, owed documents): wrapped, and its width capped
    wrap: bool = False


@dataclass
class Table:
    """One table of a report: a sheet of the workbook, a table of the PDF."""

    sheet: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    totals: bool = False
    note: str = ""

    def total_row(self) -> list | None:
        """The 合计 row as the workbook's formulas compute it: sums of the summed kinds, ratios
        of their totals, nothing under the other columns. None for a table without totals."""
        if not self.totals:
            return None
        out: list = []
        for i, column in enumerate(self.columns):
            if i == 0:
                out.append(TOTAL_LABEL)
            elif column.kind in SUMMED:
                zero = Decimal("0.00") if column.kind == MONEY else 0
                out.append(sum((row[i] or 0 for row in self.rows), zero))
            else:
                out.append(None)
        for i, column in enumerate(self.columns):
            if column.kind == RATIO and column.ratio_of:
                num, den = column.ratio_of
                out[i] = ratio(out[num], out[den])
        return out

    def shown_rows(self) -> list[list[str]]:
        """Every row as text for the PDF, the 合计 row last."""
        rows = [self._shown(row) for row in self.rows]
        total = self.total_row()
        if total is not None:
            rows.append(self._shown(total))
        return rows

    def _shown(self, row: Sequence) -> list[str]:
        return [shown(value, column.kind) for value, column in zip(row, self.columns, strict=True)]


def ratio(part, whole) -> float:
    """A share as a fraction (0 when there is nothing to divide by), as the workbook's =IF(...) does."""
    return float(part) / float(whole) if whole else 0.0


def shown(value, kind: str = TEXT) -> str:
    """A value as the PDF prints it, in the workbook's number formats."""
    if value is None or value == "":
        return ""
    if kind == INT:
        return f"{int(value):,}"
    if kind == MONEY:
        return f"{Decimal(value):,.2f}"
    if kind == RATIO:
        return f"{float(value):.1%}"
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def display_width(text: str) -> int:
    """Character cells: wide (CJK, full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name."""
    base = name.translate(SHEET_NAME_FORBIDDEN)[:SHEET_NAME_MAX] or "Sheet"
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"({n})"
        candidate, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _cell_value(value, kind: str):
    """What a cell holds: numbers as numbers, times without a zone (Excel has none), text as is."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if kind in (INT, MONEY, RATIO) and isinstance(value, Decimal):
        return float(value) if kind == RATIO else value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _put(ws: Worksheet, row: int, col: int, value, kind: str):
    cell = ws.cell(row=row, column=col)
    cell.value = _cell_value(value, kind)
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
        # openpyxl takes a leading "=" for a formula: keep it text, and tell Excel to as well
        cell.data_type = "s"
        cell.quotePrefix = True
    if kind in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[kind]
    cell.border = BORDER
    return cell


def _formula(table: Table, index: int, letters: list[str], first: int, last: int, total_row: int) -> str | int | None:
    column = table.columns[index]
    if index == 0:
        return TOTAL_LABEL
    if column.kind in SUMMED:
        # no rows: nothing to sum (a range ending above its start would take the header in)
        return f"=SUM({letters[index]}{first}:{letters[index]}{last})" if last >= first else 0
    if column.kind == RATIO and column.ratio_of:
        num, den = (f"{letters[i]}{total_row}" for i in column.ratio_of)
        return f"=IF({den}=0,0,{num}/{den})"
    return None


def write_table(ws: Worksheet, table: Table) -> None:
    """One table on its sheet: header row frozen, rows, the 合计 row by formulas, widths that fit."""
    letters = [get_column_letter(i) for i in range(1, len(table.columns) + 1)]
    widths = [display_width(c.label) for c in table.columns]
    for col, column in enumerate(table.columns, start=1):
        cell = _put(ws, 1, col, column.label, TEXT)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(table.rows, start=2):
        for col, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = _put(ws, r, col, value, column.kind)
            if column.wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[col - 1] = max(widths[col - 1], display_width(shown(value, column.kind)))
    if table.totals:
        first, last = 2, len(table.rows) + 1
        total_row = last + 1
        shown_total = table.total_row() or []
        for col, column in enumerate(table.columns, start=1):
            cell = _put(ws, total_row, col, None, column.kind)
            # written after _put: a formula is meant here
            cell.value = _formula(table, col - 1, letters, first, last, total_row)
            cell.font = Font(bold=True)
            cell.fill = TOTAL_FILL
            widths[col - 1] = max(widths[col - 1], display_width(shown(shown_total[col - 1], column.kind)))
    ws.freeze_panes = "A2"
    if table.rows:
        ws.auto_filter.ref = f"A1:{letters[-1]}{len(table.rows) + 1}"
    for letter, width, column in zip(letters, widths, table.columns, strict=True):
        cap = MAX_WIDTH if not column.wrap else MAX_WIDTH // 2 + 8
        ws.column_dimensions[letter].width = min(max(width + 2, MIN_WIDTH), cap)
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape" if len(table.columns) > 7 else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_workbook(tables: list[Table], *, title: str = "", author: str = "") -> bytes:
    """The tables as one .xlsx file, a sheet each, in their order."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for table in tables:
        write_table(wb.create_sheet(sheet_name(table.sheet, taken)), table)
    wb.properties.title = title
    wb.properties.creator = author or "低保复核系统"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
