"""Excel exports of the list pages: every row the page would show (all its pages), for the
user's role and area and with the page's own filters, as one .xlsx.

One writer serves every list (`Book`): openpyxl's write-only mode, in which each appended row
goes to a temporary file at once, so that memory holds a chunk of rows, never the list. Every
sheet has a frozen header row and ends with a 合计 row counted while writing; a last sheet (说明)
says what the file is, for whom, when and with which filters. Identifiers are text, never
numbers. A text cell that a spreadsheet could read as a formula (first character = + - @, a tab
or a carriage return) is stored as a string with the quote-prefix flag: Excel and LibreOffice
show it as typed and never evaluate it, not even after the cell is edited.

Small lists are written in the request (`SYNC_ROWS` rows at most: a village's, a filtered
list); larger ones by the background worker (`reports.tasks.build_list_export`), so that the
county's 80,000 households hold no web process for long. Such a job is recorded by its task
row in django-tasks' queue table (the Export table holds one village or one sample per row,
and a list may cover the whole town): who asked, for which list and filters, and what the
worker made of it. Its file is kept EXPORT_KEEP_DAYS, like a batch PDF (`reports.exports.cleanup`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cases import roles
from cases.complaints import KINDS as COMPLAINT_KINDS
from cases.complaints import OBJECTION_FILTERS, STATUS_FILTERS, complaints_for, objections_for
from cases.forms import StatusFilterForm
from cases.idnumber import mask_id
from cases.lists import household_queryset
from cases.models import (
    Campaign,
    Case,
    Complaint,
    CountyReview,
    Decision,
    Household,
    Member,
    Village,
    id_search_kind,
)
from surveys import review, services
from surveys.models import Difference, Revisit, Sample, SampleEntry, Survey
from surveys.review import COUNTY_STATUSES, STATUSES

from .downloads import safe_filters
from .workbook import FORMULA_TRIGGERS

# Rows (of a list's first sheet) written in the request; more go to the worker.
SYNC_ROWS = 5000
# Rows read from the database at a time (one query for them, one for each thing they show).
CHUNK = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FULL_ID_REASON = "导出Excel，显示完整身份证号"

# Texts starting like a formula (reports.workbook.FORMULA_TRIGGERS, OWASP: CSV injection) or
# an error value, which openpyxl would store as such: always written through `cell`'s slow path.
_SLOW_START = frozenset(FORMULA_TRIGGERS) | {"#"}
BOLD = Font(bold=True)


def _choices(choices) -> dict:
    return {value: str(label) for value, label in choices}


RELATIONSHIPS = _choices(Member.Relationship.choices)
SEXES = _choices(Member.Sex.choices)
HEALTH = _choices(Member.Health.choices)
DISABILITIES = {**_choices(Member.Disability.choices), "": ""}
WORK_ABILITY = _choices(Member.WorkAbility.choices)
DIBAO_STATUSES = _choices(Household.DibaoStatus.choices)
HUKOU = _choices(Household.HukouType.choices)
STAGES = _choices(Case.Stage.choices)
SOURCES = _choices(Case.Source.choices)
REVIEWS = _choices(Case.Review.choices)
OUTCOMES = _choices(Decision.Outcome.choices)
CONCLUSIONS = _choices(Survey.Recommendation.choices)
VERDICTS = _choices(CountyReview.Verdict.choices)


def yes(flag) -> str:
    return "是" if flag else ""


# --- the writer ------------------------------------------------------------------------------


def cell(ws, value):
    """What to append for `value`: most values as they are (the fast path: no cell object); a
    text openpyxl would store as a formula or an error, or one a spreadsheet would evaluate, as a
    string cell (with the quote prefix when it starts like a formula); a time in local time."""
    if value.__class__ is str:
        if value.isprintable() and value[:1] not in _SLOW_START:
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters: openpyxl refuses them
        text = WriteOnlyCell(ws, value)
        text.data_type = "s"
        if value[:1] in FORMULA_TRIGGERS:
            text.quotePrefix = True
        return text
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    return value


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12
    total: bool = False  # summed in the 合计 row
    text: bool = False  # an identifier (an ID number, a household's number): a text column


class Sheet:
    """One sheet of a `Book`: a header row, rows appended one at a time, a 合计 row at the end."""

    def __init__(self, book: Book, title: str, columns: list[Column], unit: str):
        self.ws = book.workbook.create_sheet(title)
        self.title, self.columns, self.unit = title, columns, unit
        self.rows = 0
        self.totals = {i: 0 for i, c in enumerate(columns) if c.total}
        for i, column in enumerate(columns, 1):
            dimension = self.ws.column_dimensions[get_column_letter(i)]
            dimension.width = column.width
            if column.text:
                dimension.number_format = "@"  # what is typed into the column stays text too
        self.ws.freeze_panes = "A2"
        self.ws.append([self._bold(c.header) for c in columns])

    def _bold(self, value) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value)
        cell.font = BOLD
        return cell

    def append(self, values) -> None:
        ws = self.ws
        ws.append([cell(ws, v) for v in values])
        self.rows += 1
        for i in self.totals:
            self.totals[i] += values[i] or 0

    def close(self) -> None:
        row = [""] * len(self.columns)
        row[0] = f"合计（{self.rows}{self.unit}）"
        for i, total in self.totals.items():
            row[i] = total
        self.ws.append([self._bold(v) for v in row])


class Book:
    """The workbook of one export, written as it is filled (openpyxl's write-only mode)."""

    def __init__(self):
        self.workbook = Workbook(write_only=True)
        self.sheets: list[Sheet] = []

    def sheet(self, title: str, columns: list[Column], unit: str = "户") -> Sheet:
        sheet = Sheet(self, title, columns, unit)
        self.sheets.append(sheet)
        return sheet

    def save(self, target, notes: list[tuple[str, str]]) -> None:
        for sheet in self.sheets:
            sheet.close()
        about = self.workbook.create_sheet("说明")
        about.column_dimensions["A"].width = 14
        about.column_dimensions["B"].width = 60
        for label, value in [
            *notes,
            *((f"{s.title}（行数）", f"{s.rows}{s.unit}") for s in self.sheets),
            ("注意", "本文件含个人信息，仅限工作使用，请勿外传；用毕删除。"),
        ]:
            about.append([label, cell(about, value)])
        self.workbook.save(target)


def _chunks(rows: Iterable, size: int = CHUNK) -> Iterator[list]:
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def _live_members(household_ids, *fields: str) -> dict[int, list[tuple]]:
    """The live members of these households (head first), one query."""
    found: dict[int, list[tuple]] = {}
    members = (
        Member.objects.filter(household_id__in=household_ids, status=Member.Status.PRESENT)
        .order_by("household_id", "relationship", "id")
        .values_list("household_id", "relationship", *fields)
    )
    for household_id, *member in members:
        found.setdefault(household_id, []).append(tuple(member))
    return found


def _head(members: list[tuple]) -> tuple:
    """(relationship, name, id_number, ...) of the head, or blanks."""
    head = members[0] if members and members[0][0] == Member.Relationship.HEAD else None
    return head or (Member.Relationship.HEAD, "（无户主）", "")


def _heads(household_ids) -> dict[int, tuple[str, str]]:
    """Each household's head: (name, masked ID number), one query."""
    heads = Member.objects.filter(
        household_id__in=household_ids, status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD
    ).values_list("household_id", "name", "id_number")
    return {h: (name, mask_id(number)) for h, name, number in heads}


NO_HEAD = ("（无户主）", "")


# --- what a list is --------------------------------------------------------------------------


@dataclass
class Listing:
    """One list page's rows for one user and its filters, ready to be written."""

    kind: str
    title: str  # the list, e.g. 家庭花名册
    scope: str  # the area it covers, e.g. 全镇 or a village's name
    campaign: Campaign
    count: int  # rows of the first sheet
    fill: Callable[[Book, Reveal | None], None]
    page: str  # the list page's URL (with its filters), where a refusal goes back to
    obj: models.Model  # what the download's audit row names
    # The villages the file covers (None: the whole town): a download later needs them still.
    villages: list[int] | None = None
    described: list[tuple[str, str]] = field(default_factory=list)  # the filters, in words
    id_search: bool = False  # the filters hold a search by ID number (never sent to the worker)
    offers_full_ids: bool = False
    error: str = ""  # filters the page refuses: nothing to export

    def filename(self, when: dt.datetime | None = None) -> str:
        made = timezone.localtime(when or timezone.now())
        return f"{self.title}_{self.scope}_{made:%Y%m%d_%H%M}.xlsx"


@dataclass
class Reveal:
    """Full ID numbers written into a file: each household recorded like a reveal on its page."""

    actor: object
    campaign: Campaign
    batch: uuid.UUID
    what: str

    def record(self, household_ids: list[int]) -> None:
        from .exports import record_reveal

        households = list(Household.objects.filter(id__in=household_ids).select_related("village"))
        record_reveal(households, actor=self.actor, campaign=self.campaign, batch=self.batch, what=self.what)


def _person(user) -> str:
    profile = roles.profile_of(user)
    return (profile.display_name if profile else "") or user.get_username()


def _campaign(user) -> Campaign:
    """The campaign of the user's town (a county account's: the town it chose)."""
    campaign = Campaign.objects.current(roles.town_scope(user))
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    return campaign


def _area(user, campaign: Campaign) -> tuple[str, list[int] | None]:
    """The user's whole area: its label and its villages (None: the whole town)."""
    scope = roles.village_scope(user)
    if scope is None:
        return campaign.town.name, None
    names = Village.objects.filter(id__in=scope).order_by("order", "code").values_list("name", flat=True)
    return "、".join(names) or "无", list(scope)


def _visible_village(user, code: str) -> Village:
    """A village of the user's area by its code (404 otherwise, like the page's helper)."""
    village = Village.objects.visible_to(user).filter(code=code).first()
    if village is None:
        raise Http404("没有找到该村（社区）。")
    return village


def _page(name: str, query: dict | None = None, args=()) -> str:
    kept = {k: v for k, v in (query or {}).items() if v}
    return reverse(name, args=args) + (f"?{urlencode(kept)}" if kept else "")


# --- 家庭花名册 ---------------------------------------------------------------------------------

HOUSEHOLD_COLUMNS = [
    Column("家庭编号", 38, text=True),
    Column("村（社区）", 12),
    Column("村民小组", 10),
    Column("户主姓名", 10),
    Column("户主身份证号", 21, text=True),
    Column("在户人数", 8, total=True),
    Column("类别", 22),
    Column("低保状态", 8),
    Column("户籍类型", 8),
    Column("保障类别/档次", 12),
    Column("保障人数", 8, total=True),
    Column("月保障金额（元）", 12, total=True),
    Column("纳入低保日期", 12),
]
MEMBER_COLUMNS = [
    Column("家庭编号", 38, text=True),
    Column("村（社区）", 12),
    Column("村民小组", 10),
    Column("户主姓名", 10),
    Column("姓名", 10),
    Column("与户主关系", 10),
    Column("性别", 6),
    Column("身份证号", 21, text=True),
    Column("健康状况", 10),
    Column("残疾类别", 8),
    Column("劳动能力", 12),
]
HOUSEHOLD_FIELDS = (
    "id",
    "public_id",
    "village__name",
    "group__name",
    "dibao_class",
    "covered_persons",
    "monthly_amount",
    "dibao_since",
    *Household.LABEL_FIELDS,
)
MEMBER_FIELDS = ("name", "id_number", "sex", "health", "disability_type", "work_ability")


def households(user, params) -> Listing:
    """花名册: the page's filters and scope through the page's own helper (which also limits and
    records a search by ID number), every household with its head, and its live members."""
    campaign = _campaign(user)
    form, qs = household_queryset(user, params)
    query = {k: params.get(k, "") for k in ("q", "village", "category", "status")}
    valid = form.is_valid()
    village = form.cleaned_data.get("village") if valid else None
    scope, villages = (village.name, [village.id]) if village else _area(user, campaign)
    described = []
    if valid:
        data = form.cleaned_data
        if data["q"]:
            described.append(("查找", "按身份证号查找" if id_search_kind(data["q"]) else data["q"]))
        if data["category"]:
            described.append(("类别", str(Household.Category(data["category"]).label)))
        if data["status"]:
            described.append(("低保状态", DIBAO_STATUSES[data["status"]]))
    listing = Listing(
        kind="households",
        title="家庭花名册",
        scope=scope,
        campaign=campaign,
        count=0,
        fill=lambda book, reveal: _fill_households(book, qs, reveal),
        page=_page("household_list", query),
        obj=village or campaign,
        villages=villages,
        described=described,
        id_search=bool(id_search_kind(str(params.get("q", "")).strip().upper())),
        offers_full_ids=True,
    )
    if "q" in form.errors:
        listing.error = "；".join(form.errors["q"])
        return listing
    listing.count = qs.count()
    return listing


def _fill_households(book: Book, qs, reveal: Reveal | None) -> None:
    rows = book.sheet("家庭", HOUSEHOLD_COLUMNS)
    people = book.sheet("成员", MEMBER_COLUMNS, unit="人")
    show_id = (lambda n: n) if reveal else mask_id
    ordered = qs.order_by("village__order", "village_id", "group__number", "id").values(*HOUSEHOLD_FIELDS)
    categories: dict[tuple, str] = {}  # a few combinations, each worded once
    for chunk in _chunks(ordered.iterator(chunk_size=CHUNK)):
        ids = [h["id"] for h in chunk]
        if reveal:
            reveal.record(ids)
        members = _live_members(ids, *MEMBER_FIELDS)
        for h in chunk:
            live = members.get(h["id"], [])
            head = _head(live)
            number, village, group = str(h["public_id"]), h["village__name"], h["group__name"] or ""
            flags = tuple(h[f] for f in Household.LABEL_FIELDS)
            if flags not in categories:
                categories[flags] = "、".join(str(label) for label in Household.labels_for(h))
            rows.append(
                [
                    number,
                    village,
                    group,
                    head[1],
                    show_id(head[2]),
                    len(live),
                    categories[flags],
                    DIBAO_STATUSES[h["dibao_status"]],
                    HUKOU[h["hukou_type"]],
                    h["dibao_class"],
                    h["covered_persons"],
                    h["monthly_amount"],
                    h["dibao_since"],
                ]
            )
            for relationship, name, id_number, sex, health, disability, ability in live:
                people.append(
                    [
                        number,
                        village,
                        group,
                        head[1],
                        name,
                        RELATIONSHIPS[relationship],
                        SEXES.get(sex, ""),
                        show_id(id_number),
                        HEALTH.get(health, ""),
                        DISABILITIES.get(disability, ""),
                        WORK_ABILITY.get(ability, ""),
                    ]
                )


# --- 入户调查：进度（各村）与一村的调查名单 ---------------------------------------------------------

COVERAGE_COLUMNS = [
    Column("村（社区）", 14),
    Column("应调查户数", 10, total=True),
    Column("已提交", 8, total=True),
    Column("调查中", 8, total=True),
    Column("未走访", 8, total=True),
    Column("完成率（%）", 10),
    Column("上报时间", 17),
    Column("上报情况", 10),
]


def coverage(user, params) -> Listing:
    """The coverage page: per village of the user's area, households to visit and how far."""
    campaign = _campaign(user)
    scope, villages = _area(user, campaign)
    area = list(Village.objects.visible_to(user))
    overdue = timezone.localdate() > campaign.village_report_deadline

    def fill(book: Book, reveal) -> None:
        sheet = book.sheet("调查进度", COVERAGE_COLUMNS, unit="个村（社区）")
        for r in services.coverage_by_village(campaign, area):
            report = r["report"]
            state = ("按时" if report.on_time() else "逾期") if report else ("逾期未上报" if overdue else "未上报")
            sheet.append(
                [
                    r["village"].name,
                    r["total"],
                    r["submitted"],
                    r["draft"],
                    r["not_visited"],
                    r["percent"],
                    report.reported_at if report else "",
                    state,
                ]
            )

    return Listing(
        kind="coverage",
        title="入户调查进度",
        scope=scope,
        campaign=campaign,
        count=len(area),
        fill=fill,
        page=_page("survey_coverage"),
        obj=campaign,
        villages=villages,
    )


VISIT_COLUMNS = [
    Column("家庭编号", 38, text=True),
    Column("村民小组", 10),
    Column("户主姓名", 10),
    Column("户主身份证号", 21, text=True),
    Column("在户人数", 8, total=True),
    Column("家庭成员", 24),
    Column("调查表", 6),
    Column("列入原因", 14),
    Column("调查状态", 8),
    Column("村级调查结论", 14),
]
VILLAGE_STATUSES = {"": "全部", "not_visited": "未走访", "draft": "调查中", "submitted": "已提交"}


def village(user, params, code: str) -> Listing:
    """A village's list of households to visit (the page's status filter), with the
    conclusion of each submitted survey."""
    campaign = _campaign(user)
    place = _visible_village(user, code)
    status = params.get("status", "")
    status = status if status in VILLAGE_STATUSES else ""
    cases = services.village_cases(campaign, place, status)

    def fill(book: Book, reveal) -> None:
        sheet = book.sheet("调查名单", VISIT_COLUMNS)
        ordered = cases.order_by("household__group__number", "household_id").values_list(
            "household_id", "household__public_id", "household__group__name", "source", "stage"
        )
        for chunk in _chunks(ordered.iterator(chunk_size=CHUNK)):
            ids = [c[0] for c in chunk]
            members = _live_members(ids, "name", "id_number")
            conclusions = dict(
                Survey.objects.filter(
                    campaign=campaign, household_id__in=ids, status=Survey.Status.SUBMITTED
                ).values_list("household_id", "recommendation")
            )
            for household_id, public_id, group, source, stage in chunk:
                live = members.get(household_id, [])
                head = _head(live)
                sheet.append(
                    [
                        str(public_id),
                        group or "",
                        head[1],
                        mask_id(head[2]),
                        len(live),
                        "、".join(m[1] for m in live),
                        "A" if source == Case.Source.DIBAO else "B",
                        SOURCES[source],
                        STAGES[stage],
                        CONCLUSIONS.get(conclusions.get(household_id, ""), ""),
                    ]
                )

    return Listing(
        kind="village",
        title="入户调查名单",
        scope=place.name,
        campaign=campaign,
        count=services.village_case_count(campaign, place, status),
        fill=fill,
        page=_page("survey_village", {"status": status}, args=[place.code]),
        obj=place,
        villages=[place.id],
        described=[("调查状态", VILLAGE_STATUSES[status])] if status else [],
    )


# --- 样本 -------------------------------------------------------------------------------------

SAMPLE_COLUMNS = [
    Column("村（社区）", 12),
    Column("村民小组", 10),
    Column("家庭编号", 38, text=True),
    Column("户主姓名", 10),
    Column("户主身份证号", 21, text=True),
    Column("入样方式", 10),
    Column("抽取顺序", 8),
    Column("说明", 20),
    Column("核查状态", 8),
    Column("核查结论", 14),
    Column("核查日期", 12),
    Column("差异项", 8, total=True),
    Column("待认定差异", 10, total=True),
]


def sample(user, params, level: str) -> Listing:
    """The town's or county's sample (all villages, or the page's chosen village) with each
    entry's re-visit: for the roles that see the whole town only, as the page is (403 for a
    village's or a work group's users: a village must not learn which households are sampled)."""
    if level not in Sample.Level.values:
        raise Http404
    if roles.village_scope(user) is not None:
        roles.require(False)
    campaign = _campaign(user)
    current = Sample.objects.filter(campaign=campaign, level=level).first()
    chosen = Village.objects.filter(town=campaign.town, code=params.get("village", "")).first()
    label = str(Sample.Level(level).label)
    columns = SAMPLE_COLUMNS + ([Column("镇级已核查", 10)] if level == Sample.Level.COUNTY else [])
    entries = SampleEntry.objects.none()
    if current is not None:
        entries = current.entries.all() if chosen is None else current.entries.filter(village=chosen)

    def fill(book: Book, reveal) -> None:
        sheet = book.sheet(f"{label}样本", columns)
        rows = entries.order_by("village__order", "reason", "rank", "id")
        if level == Sample.Level.COUNTY:
            town_checked = Revisit.objects.filter(
                entry__sample__campaign=campaign,
                entry__sample__level=Sample.Level.TOWN,
                entry__household=OuterRef("household"),
                status=Revisit.Status.SUBMITTED,
            )
            rows = rows.annotate(town_checked=Exists(town_checked))
        rows = rows.select_related("village", "household__group", "revisit")
        for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
            heads = _heads([e.household_id for e in chunk])
            differences = {
                r["revisit__entry_id"]: r
                for r in Difference.objects.filter(revisit__entry_id__in=[e.pk for e in chunk])
                .values("revisit__entry_id")
                .annotate(n=Count("id"), open=Count("id", filter=Q(verdict="")))
                .order_by()
            }
            for e in chunk:
                revisit = getattr(e, "revisit", None)
                found = differences.get(e.pk, {})
                row = [
                    e.village.name,
                    e.household.group.name if e.household.group else "",
                    str(e.household.public_id),
                    *heads.get(e.household_id, NO_HEAD),
                    e.get_reason_display(),
                    e.rank or "",
                    e.note,
                    revisit.get_status_display() if revisit else "待核查",
                    CONCLUSIONS.get(revisit.recommendation, "") if revisit else "",
                    revisit.visit_date if revisit and revisit.visit_date else "",
                    found.get("n", 0),
                    found.get("open", 0),
                ]
                if level == Sample.Level.COUNTY:
                    row.append(yes(e.town_checked))
                sheet.append(row)

    listing = Listing(
        kind="sample",
        title=f"{label}样本",
        scope=chosen.name if chosen else campaign.town.name,
        campaign=campaign,
        count=entries.count() if current is not None else 0,
        fill=fill,
        page=_page("survey_sample", {"village": chosen.code if chosen else ""}, args=[level]),
        obj=current or campaign,
        villages=None,  # the town's sample: only for those who see the whole town
    )
    if current is None:
        listing.error = "尚未抽样。"
    return listing


# --- 镇级决定与县级审批 -----------------------------------------------------------------------

DECISION_COLUMNS = [
    Column("村（社区）", 12),
    Column("村民小组", 10),
    Column("家庭编号", 38, text=True),
    Column("户主姓名", 10),
    Column("户主身份证号", 21, text=True),
    Column("调查表", 6),
    Column("审核状态", 10),
    Column("决定", 8),
    Column("保障人数", 8, total=True),
    Column("月保障金（元）", 12, total=True),
    Column("保障类别/档次", 12),
    Column("决定时间", 17),
    Column("按建议批量决定", 12),
    Column("建议", 14),
    Column("村级结论与系统建议", 16),
]
# What a village's users do not see of the town's and county's checks: which of their households
# are sampled, and which are checked in full (named in a complaint or an objection).
CHECK_COLUMNS = [Column("镇级核查", 12), Column("全面核查", 8)]
COUNTY_COLUMNS = [Column("县级抽查", 12)]
APPROVAL_COLUMNS = [Column("县级审批", 8), Column("执行起始月", 10), Column("审批意见", 24)]


def _checked(sampled: bool, revisited: bool) -> str:
    return ("已核查" if revisited else "待核查") if sampled else ""


def decisions(user, params) -> Listing:
    """镇级决定: the page's village and status (its STATUSES, or what may be decided in bulk
    for the chosen village), every household with its decision and review state."""
    campaign = _campaign(user)
    place = _visible_village(user, params["village"]) if params.get("village") else None
    status = params.get("status", "left")
    if status not in STATUSES and not (status == "bulk" and place is not None):
        status = "left"
    if status == "bulk":
        cases, status_label = review.bulk_ready(campaign).filter(village=place), "可按建议批量决定"
    else:
        cases, status_label = review.review_cases(campaign, user).filter(STATUSES[status][1]), STATUSES[status][0]
    return _review_listing(
        user,
        campaign,
        place,
        cases,
        kind="decisions",
        title="镇级决定",
        described=[("状态", status_label)],
        page=_page("review_decisions", {"village": place.code if place else "", "status": status}),
    )


def county(user, params) -> Listing:
    """县级审批: the page's village and status (its COUNTY_STATUSES), with the county's answer."""
    campaign = _campaign(user)
    place = _visible_village(user, params["village"]) if params.get("village") else None
    status = params.get("status", "sent")
    status = status if status in COUNTY_STATUSES else "sent"
    return _review_listing(
        user,
        campaign,
        place,
        review.review_cases(campaign, user).filter(COUNTY_STATUSES[status][1]),
        kind="county",
        title="县级审批",
        described=[("状态", COUNTY_STATUSES[status][0])],
        page=_page("review_county", {"village": place.code if place else "", "status": status}),
    )


def _review_listing(user, campaign, place, cases, *, kind, title, described, page) -> Listing:
    if place is not None:
        cases = cases.filter(village=place)
        scope, villages = place.name, [place.id]
    else:
        scope, villages = _area(user, campaign)
    checks = roles.village_scope(user) is None
    columns = DECISION_COLUMNS + (CHECK_COLUMNS if checks else [])
    if kind == "county":
        columns += (COUNTY_COLUMNS if checks else []) + APPROVAL_COLUMNS

    def fill(book: Book, reveal) -> None:
        sheet = book.sheet(title, columns)
        rows = cases.select_related("household__village", "household__group", "decision").order_by(
            "village__order", "-household_id"
        )
        for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
            heads = _heads([c.household_id for c in chunk])
            offered = review.proposals(campaign, chunk)
            answers = {}
            if kind == "county":
                latest = CountyReview.objects.filter(decision_id__in=[c.decision_id for c in chunk if c.decision_id])
                answers = {r.decision_id: r for r in latest.order_by("decision_id", "reviewed_at", "id")}
            for case in chunk:
                household, decision, proposal = case.household, case.decision, offered.get(case.pk)
                row = [
                    household.village.name,
                    household.group.name if household.group else "",
                    str(household.public_id),
                    *heads.get(case.household_id, NO_HEAD),
                    case.form,
                    REVIEWS.get(case.review, ""),
                    OUTCOMES.get(decision.outcome, "") if decision else "",
                    decision.covered_persons if decision else 0,
                    decision.monthly_amount if decision else 0,
                    decision.dibao_class if decision else "",
                    decision.decided_at if decision else "",
                    yes(decision and decision.as_proposed),
                    proposal.outcome_label if proposal else "",
                    ("一致" if proposal.village_outcome == proposal.engine_outcome else "不一致") if proposal else "",
                ]
                if checks:
                    row += [_checked(case.town_sampled, case.town_revisited), yes(case.full_check)]
                if kind == "county":
                    if checks:
                        row.append(_checked(case.county_sampled, case.county_revisited))
                    answer = answers.get(case.decision_id)
                    row += [
                        VERDICTS[answer.verdict] if answer else "",
                        answer.effective_from.strftime("%Y-%m") if answer and answer.effective_from else "",
                        answer.note if answer else "",
                    ]
                sheet.append(row)

    return Listing(
        kind=kind,
        title=title,
        scope=scope,
        campaign=campaign,
        count=cases.count(),
        fill=fill,
        page=page,
        obj=place or campaign,
        villages=villages,
        described=described,
    )


# --- 投诉举报与公示异议 -----------------------------------------------------------------------

COMPLAINT_COLUMNS = [
    Column("受理日期", 12),
    Column("村（社区）", 12),
    Column("被举报对象", 12),
    Column("对象类别", 10),
    Column("渠道", 8),
    Column("实名/匿名", 8),
    Column("举报内容", 40),
    Column("承办人", 10),
    Column("办理期限", 12),
    Column("状态", 10),
    Column("逾期", 6),
    Column("核查结论", 12),
    Column("处理结果", 30),
    Column("答复日期", 12),
    Column("办结时间", 17),
]
REPORTER_COLUMNS = [Column("举报人", 10), Column("联系方式", 14)]
OBJECTION_COLUMNS = [
    Column("登记时间", 17),
    Column("村（社区）", 12),
    Column("户主姓名", 10),
    Column("渠道", 8),
    Column("实名/匿名", 8),
    Column("异议内容", 40),
    Column("状态", 8),
    Column("处理结果", 30),
    Column("处理时间", 17),
]
OBJECTOR_COLUMNS = [Column("异议人", 10), Column("联系方式", 14)]


def complaints(user, params) -> Listing:
    """投诉举报 (or the 公示's objections): the page's tab, status and village; who reported or
    objected only for the roles that may see it."""
    roles.require(roles.can_read_complaints(user))
    campaign = _campaign(user)
    kind = params.get("kind") if params.get("kind") in COMPLAINT_KINDS else "complaints"
    filters = OBJECTION_FILTERS if kind == "objections" else STATUS_FILTERS
    statuses = {k: v[0] for k, v in filters.items()}
    status = params.get("status", "")
    status = status if status in statuses else ""
    villages = Village.objects.visible_to(user).order_by("order", "code")
    form = StatusFilterForm(params or None, statuses=statuses, villages=villages)
    place = form.cleaned_data["village"] if form.is_valid() else None
    reporters = roles.can_see_reporters(user)
    today = timezone.localdate()
    if kind == "objections":
        rows = objections_for(campaign, status)
        rows = rows.filter(case__village=place) if place else rows
    else:
        rows = complaints_for(campaign, status, today)
        rows = rows.filter(village=place) if place else rows

    def fill(book: Book, reveal) -> None:
        if kind == "objections":
            _fill_objections(book, rows, reporters)
        else:
            _fill_complaints(book, rows, reporters, today)

    return Listing(
        kind="complaints",
        title=COMPLAINT_KINDS[kind],
        scope=place.name if place else campaign.town.name,
        campaign=campaign,
        count=rows.count(),
        fill=fill,
        page=_page("complaint_list", {"kind": kind, "status": status, "village": place.code if place else ""}),
        obj=place or campaign,
        villages=None,
        described=[("状态", statuses[status])] if status else [],
    )


def _fill_complaints(book: Book, rows, reporters: bool, today: dt.date) -> None:
    sheet = book.sheet("投诉举报", COMPLAINT_COLUMNS + (REPORTER_COLUMNS if reporters else []), unit="件")
    rows = rows.select_related("village", "handler__profile").order_by("-received_on", "-id")
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
        heads = _heads([c.household_id for c in chunk if c.household_id])
        for c in chunk:
            closed = c.status == Complaint.Status.CLOSED
            subject = f"{heads.get(c.household_id, NO_HEAD)[0]}户" if c.household_id else c.subject_name
            handler = _person(c.handler)
            row = [
                c.received_on,
                c.village.name if c.village else "镇级",
                subject,
                c.get_subject_display(),
                c.get_channel_display(),
                "匿名" if c.anonymous else "实名",
                c.content,
                handler,
                c.due_on,
                c.get_status_display(),
                yes(not closed and c.due_on < today),
                c.get_finding_display() if c.finding else "",
                c.result,
                c.replied_on or "",
                c.closed_at or "",
            ]
            if reporters:
                row += [c.reporter, c.contact]
            sheet.append(row)


def _fill_objections(book: Book, rows, reporters: bool) -> None:
    sheet = book.sheet("公示异议", OBJECTION_COLUMNS + (OBJECTOR_COLUMNS if reporters else []), unit="件")
    rows = rows.select_related("case__village").order_by("-recorded_at", "-id")
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
        heads = _heads([o.case.household_id for o in chunk])
        for o in chunk:
            row = [
                o.recorded_at,
                o.case.village.name,
                heads.get(o.case.household_id, NO_HEAD)[0],
                o.get_channel_display(),
                "实名" if o.objector else "匿名",
                o.content,
                "已处理" if o.resolved_at else "待处理",
                o.result,
                o.resolved_at or "",
            ]
            if reporters:
                row += [o.objector, o.contact]
            sheet.append(row)


LISTS: dict[str, Callable[..., Listing]] = {
    "households": households,
    "coverage": coverage,
    "village": village,
    "sample": sample,
    "decisions": decisions,
    "county": county,
    "complaints": complaints,
}
# What a list takes from its URL besides the page's filters.
URL_ARGS = {"village": {"code"}, "sample": {"level"}}


# --- writing ---------------------------------------------------------------------------------


def write(listing: Listing, target, *, actor, full_ids: bool = False, batch: uuid.UUID | None = None) -> int:
    """Write the listing's workbook to `target` (a path or a binary file); returns its rows.
    With `full_ids` every household written is recorded as a reveal (under `batch`)."""
    if full_ids:
        roles.require(listing.offers_full_ids and roles.can_read_full_ids(actor))
    book = Book()
    reveal = None
    if full_ids:
        reveal = Reveal(actor, listing.campaign, batch or uuid.uuid4(), f"{FULL_ID_REASON}（{listing.title}）")
    listing.fill(book, reveal)
    who = _person(actor)
    book.save(
        target,
        notes=[
            ("名单", listing.title),
            ("范围", listing.scope),
            ("筛选", "；".join(f"{k}：{v}" for k, v in listing.described) or "无"),
            ("导出人", f"{who}（{dict(roles.Role.choices).get(roles.role_of(actor), '')}）"),
            ("导出时间", f"{timezone.localtime():%Y-%m-%d %H:%M}"),
            ("身份证号", "完整显示（逐户记录为查看身份证号）" if full_ids else "已遮蔽（只显示前6位和后4位）"),
        ],
    )
    return book.sheets[0].rows


# --- jobs on the worker ----------------------------------------------------------------------

TASK_PATH = "reports.tasks.build_list_export"
INTERRUPTED = "生成中断：后台进程已停止（如重启）。请点击“重新生成”。"
FAILED = "生成失败：系统内部错误，已记录。请点击“重新生成”；如仍失败请联系管理员。"


def job_params(params) -> dict[str, str]:
    """The filters a job carries: the page's own, never a search by ID number (such a search is
    answered in the request, so that its text is never stored)."""
    kept = {k: str(v) for k, v in params.items() if k not in ("page", "csrfmiddlewaretoken", "full_ids") and v}
    if id_search_kind(kept.get("q", "").strip().upper()):
        raise ValueError("an ID-number search is never queued")
    return kept


def request_job(*, actor, kind: str, args: dict, params, full_ids: bool = False) -> uuid.UUID:
    """Queue the list's export for the worker; returns the job's id (its task's)."""
    from .tasks import build_list_export

    if full_ids:
        roles.require(roles.can_read_full_ids(actor))
    # a county account's chosen town goes with the job (the worker has no session)
    town = getattr(actor, "_dibao_chosen_town", None)
    result = build_list_export.enqueue(actor.pk, kind, args, job_params(params), full_ids, town)
    return uuid.UUID(str(result.id))


def job_file(job_id) -> Path:
    return Path(settings.EXPORT_ROOT) / "lists" / f"{job_id}.xlsx"


def build_job(
    job_id, user_id: int, kind: str, args: dict, params: dict, full_ids: bool, town: int | None = None
) -> dict:
    """The worker's part: the list as the user may see it now, written to the job's file.
    A user who may no longer see it gets a reason, not a file."""
    user = get_user_model().objects.get(pk=user_id)
    user._dibao_chosen_town = town
    try:
        listing = LISTS[kind](user, params, **args)
        if full_ids:
            roles.require(listing.offers_full_ids and roles.can_read_full_ids(user))
    except (Http404, PermissionDenied):
        return {"error": "您已无权导出该名单（角色或负责的村已变更）。"}
    if listing.error:
        return {"error": listing.error}
    path = job_file(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    with part.open("wb") as out:
        rows = write(listing, out, actor=user, full_ids=full_ids, batch=uuid.UUID(str(job_id)))
    part.replace(path)
    return {
        "rows": rows,
        "title": listing.title,
        "scope": listing.scope,
        "villages": listing.villages,
        "filename": listing.filename(),
        "size": path.stat().st_size,
    }


def _task_rows():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=TASK_PATH)


@dataclass
class ListJob:
    """A list export on the worker, as its requester sees it (read from its task row)."""

    id: uuid.UUID
    user_id: int
    kind: str
    args: dict
    params: dict
    full_ids: bool
    status: str  # as an Export's: queued, running, done, failed, expired
    created_at: dt.datetime
    finished_at: dt.datetime | None
    result: dict
    error: str = ""

    STATUS_LABELS = {
        "queued": "排队中",
        "running": "生成中",
        "done": "已完成",
        "failed": "失败",
        "expired": "已过期删除",
    }

    @classmethod
    def from_row(cls, row) -> ListJob:
        user_id, kind, args, params, full_ids, *_town = row.args_kwargs["args"]  # and the chosen town, if any
        result = row.return_value or {}
        status, error = {"READY": "queued", "RUNNING": "running"}.get(row.status, "failed"), ""
        if row.status == "SUCCESSFUL":
            status, error = ("failed", result["error"]) if "error" in result else ("done", "")
            if status == "done" and not job_file(row.id).exists():
                status = "expired"
        elif row.status == "FAILED":
            error = INTERRUPTED if row.exception_class_path == INTERRUPTED_CLASS else FAILED
        stalled = dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)
        if status == "running" and row.started_at and timezone.now() - row.started_at > stalled:
            status, error = "failed", INTERRUPTED  # a list is written in minutes: its worker is gone
        return cls(
            id=uuid.UUID(str(row.id)),
            user_id=user_id,
            kind=kind,
            args=args,
            params=params,
            full_ids=full_ids,
            status=status,
            created_at=row.enqueued_at,
            finished_at=row.finished_at,
            result=result,
            error=error,
        )

    @property
    def title(self) -> str:
        return self.result.get("title") or TITLES.get(self.kind, "名单")

    @property
    def label(self) -> str:
        return self.STATUS_LABELS[self.status]

    @property
    def is_pending(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def can_retry(self) -> bool:
        return self.status in ("failed", "expired")

    @property
    def rows(self) -> int:
        return self.result.get("rows", 0)

    @property
    def filters(self) -> str:
        return "；".join(f"{k}={v}" for k, v in safe_filters(self.params).items())

    @property
    def expires_at(self) -> dt.datetime | None:
        return self.finished_at + dt.timedelta(days=settings.EXPORT_KEEP_DAYS) if self.finished_at else None

    @property
    def path(self) -> Path:
        return job_file(self.id)


TITLES = {
    "households": "家庭花名册",
    "coverage": "入户调查进度",
    "village": "入户调查名单",
    "sample": "样本",
    "decisions": "镇级决定",
    "county": "县级审批",
    "complaints": "投诉举报",
}
# What `cleanup` writes on a task row whose worker was stopped.
INTERRUPTED_CLASS = "reports.list_exports.Interrupted"


def get_job(job_id, user) -> ListJob | None:
    """One of the user's own list jobs (None for another's, or a missing one)."""
    row = _task_rows().filter(id=job_id).first()
    if row is None or row.args_kwargs["args"][0] != user.pk:
        return None
    return ListJob.from_row(row)


def jobs_of(user, limit: int = 50) -> list[ListJob]:
    rows = _task_rows().filter(args_kwargs__args__0=user.pk).order_by("-enqueued_at")[:limit]
    return [ListJob.from_row(r) for r in rows]


def covers(user, job: ListJob) -> bool:
    """Whether the user's area still covers every village the file holds."""
    scope = roles.village_scope(user)
    villages = job.result.get("villages")
    return scope is None or (villages is not None and set(villages) <= set(scope))


def retry_job(job: ListJob, *, actor) -> uuid.UUID:
    return request_job(actor=actor, kind=job.kind, args=job.args, params=job.params, full_ids=job.full_ids)


def prune(now: dt.datetime | None = None, *, all_running: bool = False) -> int:
    """The queue's own rows past their use, with the files of list jobs: a task row is kept
    while it waits, while it runs and for EXPORT_KEEP_DAYS after (a list job's row is its
    record: its file, and its filters for a retry; a batch PDF's job is in its Export row and
    starts again with a new task). With `all_running` (no worker runs) a running row lost its
    worker: it is marked failed, so that its job shows as interrupted. Returns rows deleted."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    if all_running:
        DBTaskResult.objects.running().update(
            status="FAILED", finished_at=now, exception_class_path=INTERRUPTED_CLASS, traceback=INTERRUPTED
        )
    old = now - dt.timedelta(days=settings.EXPORT_KEEP_DAYS)
    gone = DBTaskResult.objects.filter(
        Q(status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=old) | Q(status="RUNNING", started_at__lt=old)
    )
    for job_id in gone.filter(task_path=TASK_PATH).values_list("id", flat=True):
        job_file(job_id).unlink(missing_ok=True)
    deleted, _ = gone.delete()
    # files whose row is gone (deleted by hand, or a job cut short while writing)
    folder = job_file("x").parent
    if folder.is_dir():
        for path in folder.iterdir():
            if dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) < old:
                path.unlink(missing_ok=True)
    return deleted
