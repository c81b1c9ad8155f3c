"""The documents the town prints and hands out, besides the county's forms (reports.pdf):

- the written report to the county and the closing report (`reports.summary`), as PDF and .xlsx;
- a village's 公示 list for the notice board (A4 landscape PDF) and as .xlsx, built from the
  list the notice page shows (`surveys.review.notice_sections`) and holding only its public
  fields: name, covered persons, category, monthly amount, village;
- the policy flyer (送政策), one page from the campaign's settings, for every household.

The PDFs are rendered by WeasyPrint with the forms' stylesheet (fonts, A4, page x of y); each
template adds its own page rules.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Campaign, Case, Decision, Notice, Village
from surveys.eligibility import EXCLUDED_INCOME, REFUSING_VEHICLES
from surveys.review import NOTICE_SECTIONS, notice_sections

from . import pdf
from .summary import Report, category
from .workbook import INT, MONEY, RATIO, SUMMED, Column, Table, display_width, write_workbook

# --- the written report ----------------------------------------------------------------------

NUMERIC = SUMMED | {RATIO}


def _align(column: Column) -> str:
    """The cell's class in the PDF: numbers right-aligned, long text wrapping at the top."""
    if column.kind in NUMERIC:
        return "num"
    return "text" if column.wrap else ""


def _cells(values: list[str], columns: list[Column]) -> list[tuple[str, str]]:
    return [(text, _align(c)) for text, c in zip(values, columns, strict=True)]


def column_widths(table: Table, shown: list[list[str]]) -> list[float]:
    """Each column's share of the page width (percent), from its longest text: the PDF's tables
    are laid out with these fixed widths (measuring every cell for an automatic layout would
    take most of the rendering time of a long list). A header may take two lines, long text more."""
    weights = []
    for i, column in enumerate(table.columns):
        longest = max((display_width(row[i]) for row in shown), default=0)
        cap = 36 if column.wrap else 34
        weights.append(max(min(longest, cap), (display_width(column.label) + 1) // 2, 5))
    total = sum(weights)
    return [round(100 * w / total, 2) for w in weights]


def table_context(table: Table) -> dict:
    """A table as the PDF templates print it: its cells as text with their alignment, the 合计
    row apart (printed once, after the last row, not repeated on every page)."""
    shown = table.shown_rows()
    total = shown.pop() if table.totals else None
    return {
        "title": table.title,
        "note": table.note,
        "columns": [(c.label, _align(c)) for c in table.columns],
        "widths": column_widths(table, [*shown, total] if total is not None else shown),
        "rows": [_cells(row, table.columns) for row in shown],
        "total": _cells(total, table.columns) if total is not None else None,
        "wide": len(table.columns) > 9,
    }


def report_pdf(report: Report) -> bytes:
    document = pdf.render(
        "reports/pdf/summary.html",
        {
            "report": report,
            "facts": report.facts,
            "tables": [table_context(t) for t in report.tables],
            "printed_at": report.generated_at,
        },
    )
    return pdf.write_pdf([document], title=report.title)


def report_xlsx(report: Report, *, author: str = "") -> bytes:
    return write_workbook(report.workbook_tables(), title=report.title, author=author)


# --- 公示 --------------------------------------------------------------------------------------

NOTICE_COLUMNS = [
    Column("序号", INT),
    Column("户主姓名"),
    Column("保障人数", INT),
    Column("类别"),
    Column("月保障金（元）", MONEY),
    Column("村（社区）"),
]
# An exit is listed without figures: no one is covered and nothing is paid from its month.
EXIT_COLUMNS = [*NOTICE_COLUMNS[:2], Column("保障人数"), NOTICE_COLUMNS[3], Column("月保障金（元）"), NOTICE_COLUMNS[5]]
NO_HEAD = "（无户主）"
EXIT_LABEL = dict(NOTICE_SECTIONS)[Decision.Outcome.EXIT]


def notice_tables(campaign: Campaign, village: Village) -> list[Table]:
    """The village's 公示 list, a table per section (新纳入, 调整, 清退, 维持). Nothing but the
    public fields is written into it: no ID number, phone, address, bank account or health detail."""
    tables = []
    for label, cases in notice_sections(campaign, village):
        rows = [_notice_row(number, case, village) for number, case in enumerate(cases, start=1)]
        columns = EXIT_COLUMNS if label == EXIT_LABEL else NOTICE_COLUMNS
        tables.append(Table(sheet=label, title=f"{label}（{len(rows)}户）", columns=columns, rows=rows))
    return tables


def _notice_row(number: int, case: Case, village: Village) -> list:
    heads = case.household.heads
    name = heads[0].name if heads else NO_HEAD
    d = case.decision
    if case.outcome == Decision.Outcome.EXIT:
        return [number, name, "—", category(case.household, d.dibao_class), "停发", village.name]
    return [number, name, d.covered_persons, category(case.household, d.dibao_class), d.monthly_amount, village.name]


def notice_title(village: Village) -> str:
    return f"{village.name}城乡低保复核结果公示"


def notice_pdf(notice: Notice, tables: list[Table]) -> bytes:
    campaign, village = notice.campaign, notice.village
    document = pdf.render(
        "reports/pdf/notice_list.html",
        {
            "title": notice_title(village),
            "notice": notice,
            "campaign": campaign,
            "village": village,
            "town": campaign.town,
            "sections": [table_context(t) for t in tables],
            "households": sum(len(t.rows) for t in tables),
            "printed_at": timezone.localtime(),
        },
    )
    return pdf.write_pdf([document], title=notice_title(village))


def notice_xlsx(notice: Notice, tables: list[Table]) -> bytes:
    return write_workbook(tables, title=notice_title(notice.village))


def notice_filename(notice: Notice, extension: str) -> str:
    return f"{notice.village.name}低保复核结果公示_{notice.starts_on:%Y%m%d}.{extension}"


# --- the policy flyer ----------------------------------------------------------------------------

FLYER_KEEP_SECONDS = 12 * 3600


FLYER_TEMPLATE = "reports/pdf/flyer.html"


def flyer_context(campaign: Campaign) -> dict:
    """What the flyer says, from the campaign's settings: nothing on it is a constant of the code."""
    return {
        "campaign": campaign,
        "town": campaign.town,
        "excluded": list(EXCLUDED_INCOME.values()),
        "vehicles": list(REFUSING_VEHICLES.values()),
    }


def flyer_pdf(campaign: Campaign) -> bytes:
    """The flyer as the campaign's settings stand. Anyone may ask for it, so the PDF is kept
    (by the text it prints) and made again only when a setting it shows has changed."""
    context = flyer_context(campaign)
    key = "dibao:flyer:" + hashlib.sha256(render_to_string(FLYER_TEMPLATE, context).encode()).hexdigest()
    content = cache.get(key)
    if content is None:
        document = pdf.render(FLYER_TEMPLATE, context)
        content = pdf.write_pdf([document], title=f"{campaign.town.name}城乡低保政策宣传单")
        cache.set(key, content, timeout=FLYER_KEEP_SECONDS)
    return content


def flyer_filename(campaign: Campaign) -> str:
    return f"{campaign.town.name}城乡低保政策宣传单.pdf"
