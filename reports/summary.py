"""The campaign in numbers: the town's written report to the county (due 11/10, 三、第三阶段)
and the county's closing report after phase 4 — one builder, so both say the same thing.

`build_report` returns the report as `Table`s (reports.workbook) that the workbook writes a
sheet each and the PDF prints one after another: per village the households and members on
the roll, surveys by form, the village reports on time or late, the town's (and county's)
samples and re-visits, differences by verdict, decisions by outcome, the dibao paid before
and after; the exits with their reasons, enrolments and adjustments; green-channel cases and
what they still owe; temporary assistance; complaints and objections; policy outreach; the
sampling seeds and what the sample says about everyone.

Figures computed elsewhere are taken from there: the dashboard's per-village figures
(`build_dashboard`: coverage, the tallies' sampling and decisions, differences by verdict, the
amount paid after, policy outreach), the sample's estimates (`surveys.review.sample_estimates`),
what is still missing before sending (`surveys.review.report_problems`), and the lists' own rules
for complaints, objections, the green channel and temporary aid. What is new here is read in
one pass over the case rows and their submitted surveys: members, forms, and the dibao before
(as the village survey recorded the household when it was submitted: the registry itself
changes once the county approves) and the covered persons after (the town's current decision).

A fixed number of queries whatever the number of households.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from cases.assistance import aid_for, green_for
from cases.complaints import complaints_for, objections_for
from cases.models import (
    Campaign,
    Case,
    Complaint,
    CountyReview,
    Decision,
    GreenChannel,
    Household,
    Member,
    Village,
)
from surveys import review
from surveys.models import Revisit, Sample, SampleEntry, Survey, TownReport

from .dashboard import OUTCOMES, VERDICTS, build_dashboard
from .workbook import DATE, DATETIME, INT, MONEY, RATIO, Column, Table

ZERO = Decimal("0.00")
Outcome = Decision.Outcome
LISTED = (Outcome.EXIT, Outcome.ENROL, Outcome.ADJUST)
NO_VILLAGE = "镇直（不涉及村）"
TOWN_STAFF = "镇机关"
NUMERALS = ["", *"一二三四五六七八九十", *(f"十{n}" for n in "一二三四五六七八九"), "二十"]


@dataclass
class Report:
    campaign: Campaign
    closing: bool
    title: str
    subtitle: str
    generated_at: dt.datetime
    facts: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)

    def facts_table(self) -> Table:
        """The report's particulars, the workbook's first sheet."""
        return Table(
            sheet="报告说明",
            title="报告说明",
            columns=[Column("项目"), Column("内容", wrap=True)],
            rows=[["报告", self.title], *map(list, self.facts)],
        )

    def workbook_tables(self) -> list[Table]:
        return [self.facts_table(), *self.tables]

    def filename(self, extension: str) -> str:
        return f"{self.campaign.town.name}{self.title_short}_{self.generated_at:%Y%m%d}.{extension}"

    @property
    def title_short(self) -> str:
        return "督查落实情况报告" if self.closing else "复核核实情况报告"


# --- one pass over the case rows and their surveys -----------------------------------------


@dataclass
class VillageExtra:
    """What the dashboard does not count: members, forms, the dibao before and after."""

    members: int = 0
    form_a: int = 0
    form_b: int = 0
    paid_before: int = 0
    paid_after: int = 0
    persons_before: int = 0
    persons_after: int = 0
    amount_before: Decimal = ZERO


@dataclass(frozen=True)
class Before:
    persons: int
    amount: Decimal


def _before(header: dict | None, row: dict) -> Before:
    """The household's dibao before the review: as its village survey recorded it at submission
    (the registry changes once the county approves), else as the registry has it."""
    if header is not None:
        if header.get("in_dibao"):
            return Before(int(header.get("covered_persons") or 0), Decimal(header.get("monthly_amount") or 0))
        return Before(0, ZERO)
    if row["household__dibao_status"] == Household.DibaoStatus.ACTIVE:
        return Before(row["household__covered_persons"], row["household__monthly_amount"])
    return Before(0, ZERO)


def _after_persons(row: dict) -> int:
    """Covered persons after: the town's current decision, else the registry (the dashboard's
    rule for the amount after)."""
    if row["decision_id"] is not None:
        return row["decision__covered_persons"]
    if row["household__dibao_status"] == Household.DibaoStatus.ACTIVE:
        return row["household__covered_persons"]
    return 0


def _one_pass(campaign: Campaign) -> tuple[dict[int, VillageExtra], dict[int, Before]]:
    """Two queries: the in-scope case rows, the campaign's submitted surveys. Returns the
    per-village extras and each case's dibao before (by case id)."""
    surveys = {
        s["household_id"]: s
        for s in Survey.objects.filter(campaign=campaign, status=Survey.Status.SUBMITTED).values(
            "household_id", "form", "header"
        )
    }
    rows = (
        Case.objects.in_scope()
        .filter(campaign=campaign)
        .values(
            "id",
            "village_id",
            "household_id",
            "live_members",
            "decision_id",
            "decision__covered_persons",
            "household__dibao_status",
            "household__covered_persons",
            "household__monthly_amount",
        )
    )
    extras: dict[int, VillageExtra] = defaultdict(VillageExtra)
    before: dict[int, Before] = {}
    for row in rows:
        extra = extras[row["village_id"]]
        extra.members += row["live_members"]
        survey = surveys.get(row["household_id"])
        if survey is not None:
            extra.form_a += survey["form"] == Survey.Form.A
            extra.form_b += survey["form"] == Survey.Form.B
        was = before[row["id"]] = _before(survey["header"] if survey else None, row)
        after = _after_persons(row)
        extra.paid_before += was.persons > 0
        extra.paid_after += after > 0
        extra.persons_before += was.persons
        extra.persons_after += after
        extra.amount_before += was.amount
    return extras, before


# --- the tables ------------------------------------------------------------------------------

VILLAGE = Column("村（社区）")


def _village_table(sheet, title, columns, board, values, *, note="") -> Table:
    return Table(
        sheet=sheet,
        title=title,
        columns=[VILLAGE, *columns],
        rows=[[row.name, *values(row)] for row in board.villages],
        totals=True,
        note=note,
    )


def _progress(board, extras, closing: bool) -> Table:
    columns = [
        Column("复核户数", INT),
        Column("在册人数", INT),
        Column("已调查（表A）", INT),
        Column("已调查（表B）", INT),
        Column("上报情况"),
        Column("上报时间", DATETIME),
        Column("镇级核查户", INT),
        Column("镇级已核查", INT),
    ]
    if closing:
        columns += [Column("县级抽查户", INT), Column("县级已核查", INT)]

    def values(row):
        extra = extras.get(row.village.id, VillageExtra())
        out = [
            row.households,
            extra.members,
            extra.form_a,
            extra.form_b,
            row.report.label,
            row.report.reported_at,
            row.town_sampled,
            row.town_revisited,
        ]
        if closing:
            out += [row.county_sampled, row.county_revisited]
        return out

    return _village_table(
        "各村复核进度",
        "各村复核进度",
        columns,
        board,
        values,
        note="复核户数为列入本次复核的在保户和排查户；在册人数为其在户成员；镇级核查户含随机抽取、全面核查和另行增加的户。",
    )


def _differences(board, level: str) -> Table:
    columns = [*(Column(str(label), INT) for _, label in VERDICTS), Column("合计", INT)]

    def values(row):
        counts = row.town_verdicts if level == "town" else row.county_verdicts
        found = [counts[key] for key, _ in VERDICTS]
        return [*found, sum(found)]

    if level == "town":
        return _village_table("镇级核查差异", "镇级入户核查发现的差异（按认定）", columns, board, values)
    return _village_table("县级抽查差异", "县级抽查发现的差异（按认定）", columns, board, values)


def _decisions(board, closing: bool) -> Table:
    columns = [Column("已上报", INT), *(Column(str(label), INT) for _, label in OUTCOMES), Column("待决定", INT)]
    if closing:
        columns += [Column("待县级审批", INT), Column("县级退回", INT), Column("县级已批准", INT)]

    def values(row):
        out = [row.reported, *(row.outcomes[key] for key, _ in OUTCOMES), row.decisions_left]
        if closing:
            out += [row.sent, row.returned, row.approved]
        return out

    return _village_table(
        "镇级决定",
        "镇级审核决定（按结果）",
        columns,
        board,
        values,
        note="已上报户 = 各项决定户数 + 待决定户数。",
    )


def _amounts(board, extras) -> Table:
    columns = [
        Column("复核前保障户数", INT),
        Column("复核后保障户数", INT),
        Column("复核前保障人数", INT),
        Column("复核后保障人数", INT),
        Column("复核前月保障金（元）", MONEY),
        Column("复核后月保障金（元）", MONEY),
        Column("月保障金增减（元）", MONEY),
    ]

    def values(row):
        extra = extras.get(row.village.id, VillageExtra())
        return [
            extra.paid_before,
            extra.paid_after,
            extra.persons_before,
            extra.persons_after,
            extra.amount_before,
            row.amount_after,
            row.amount_after - extra.amount_before,
        ]

    return _village_table(
        "保障变化",
        "复核前后保障人数和月保障金",
        columns,
        board,
        values,
        note="复核前：村级入户调查提交时记录的在保情况；复核后：镇级当前决定（未决定的户按现行在保情况）。",
    )


def _approval_text(case: Case) -> str:
    """Where the household's current decision stands with the county."""
    if case.review == Case.Review.APPROVED:
        approved = next(
            (r for r in case.decision.county_reviews.all() if r.verdict == CountyReview.Verdict.APPROVE), None
        )
        if approved is not None:
            text = f"已批准（{approved.effective_from:%Y年%m月}起"
            return text + (f"，渐退{approved.gradual_months}个月）" if approved.gradual_months else "）")
    return case.get_review_display()


def _listed_cases(campaign: Campaign):
    """The exits, enrolments and adjustments with their decision, its county review and exit
    notice (two queries)."""
    return (
        Case.objects.in_scope()
        .filter(campaign=campaign, outcome__in=LISTED, decision__isnull=False)
        .select_related("village", "household", "decision", "decision__exit_notice")
        .prefetch_related(Prefetch("decision__county_reviews", queryset=CountyReview.objects.order_by("-id")))
        .order_by("village__order", "village__code", "household__group__number", "household_id")
    )


def _heads(households) -> dict[int, str]:
    """The live head's name of each household in the given queryset of ids (one query)."""
    return dict(
        Member.objects.filter(
            household__in=households, status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD
        ).values_list("household_id", "name")
    )


def category(household: Household, dibao_class: str) -> str:
    return f"{household.get_hukou_type_display()}低保" + (f" {dibao_class}" if dibao_class else "")


def _exits(cases, heads, before, closing: bool) -> Table:
    columns = [
        VILLAGE,
        Column("户主姓名"),
        Column("原保障人数", INT),
        Column("原月保障金（元）", MONEY),
        Column("清退理由", wrap=True),
        Column("依据"),
        Column("决定日期", DATE),
        Column("县级审批"),
    ]
    if closing:
        columns += [Column("书面告知日期", DATE), Column("追回金额（元）", MONEY)]
    rows = []
    for case in cases:
        d, was = case.decision, before.get(case.pk, Before(0, ZERO))
        row = [
            case.village.name,
            heads.get(case.household_id, "（无户主）"),
            was.persons,
            was.amount,
            d.reason,
            d.get_basis_display(),
            timezone.localdate(d.decided_at),
            _approval_text(case),
        ]
        if closing:
            notice = getattr(d, "exit_notice", None)
            row += [notice.notified_on if notice else None, notice.recovery_amount if notice else ZERO]
        rows.append(row)
    return Table("清退名单", "清退名单及理由", columns, rows, totals=True)


def _enrolments(cases, heads) -> Table:
    columns = [
        VILLAGE,
        Column("户主姓名"),
        Column("类别"),
        Column("保障人数", INT),
        Column("月保障金（元）", MONEY),
        Column("依据"),
        Column("决定日期", DATE),
        Column("县级审批"),
    ]
    rows = [
        [
            c.village.name,
            heads.get(c.household_id, "（无户主）"),
            category(c.household, c.decision.dibao_class),
            c.decision.covered_persons,
            c.decision.monthly_amount,
            c.decision.get_basis_display(),
            timezone.localdate(c.decision.decided_at),
            _approval_text(c),
        ]
        for c in cases
    ]
    return Table("新纳入名单", "新纳入名单", columns, rows, totals=True)


def _adjustments(cases, heads, before) -> Table:
    columns = [
        VILLAGE,
        Column("户主姓名"),
        Column("原保障人数", INT),
        Column("新保障人数", INT),
        Column("原月保障金（元）", MONEY),
        Column("新月保障金（元）", MONEY),
        Column("增减（元）", MONEY),
        Column("理由", wrap=True),
        Column("县级审批"),
    ]
    rows = []
    for c in cases:
        d, was = c.decision, before.get(c.pk, Before(0, ZERO))
        rows.append(
            [
                c.village.name,
                heads.get(c.household_id, "（无户主）"),
                was.persons,
                d.covered_persons,
                was.amount,
                d.monthly_amount,
                d.monthly_amount - was.amount,
                d.reason or "按系统测算调整",
                _approval_text(c),
            ]
        )
    return Table("调整名单", "调整名单", columns, rows, totals=True)


def _owed(green: GreenChannel, today: dt.date) -> tuple[str, dt.date | None, str]:
    """What a green-channel case still owes, by when, and whether it is late."""
    if green.status == GreenChannel.Status.DOCUMENTS:
        late = "逾期" if green.documents_overdue(today) else ""
        return "补交材料：" + "、".join(green.missing_list()), green.documents_due, late
    if green.status == GreenChannel.Status.APPROVED:
        return "民主评议（先审批后评议）", green.review_due, "逾期" if green.review_overdue(today) else ""
    if green.status == GreenChannel.Status.COMPLETE:
        return "县级审批", None, ""
    return "—", None, ""


def _green(campaign: Campaign, today: dt.date) -> Table:
    columns = [
        VILLAGE,
        Column("户主姓名"),
        Column("情形"),
        Column("受理日期", DATE),
        Column("状态"),
        Column("尚欠事项", wrap=True),
        Column("期限", DATE),
        Column("逾期"),
        Column("保障人数", INT),
        Column("月保障金（元）", MONEY),
    ]
    items = list(
        green_for(campaign).select_related("village").order_by("village__order", "village__code", "accepted_on", "id")
    )
    heads = _heads(green_for(campaign).values("household_id"))
    rows = []
    for g in items:
        owed, due, late = _owed(g, today)
        rows.append(
            [
                g.village.name,
                heads.get(g.household_id, "（无户主）"),
                g.get_ground_display(),
                g.accepted_on,
                g.get_status_display(),
                owed,
                due,
                late,
                g.covered_persons,
                g.monthly_amount,
            ]
        )
    return Table("绿色通道", "绿色通道（容缺受理、先审批后评议）", columns, rows, totals=True)


def _aid(campaign: Campaign) -> Table:
    columns = [
        VILLAGE,
        Column("受助人"),
        Column("救助类型"),
        Column("状态"),
        Column("申请金额（元）", MONEY),
        Column("批准金额（元）", MONEY),
        Column("已发放（元）", MONEY),
        Column("待发放（元）", MONEY),
        Column("转介其他救助", wrap=True),
    ]
    rows = [
        [
            a.village.name,
            a.person,
            a.get_kind_display(),
            a.get_status_display(),
            a.requested_amount,
            a.approved_amount,
            a.paid_total,
            a.left_to_pay,
            a.referral,
        ]
        for a in aid_for(campaign).select_related("village").order_by("village__order", "village__code", "recorded_at")
    ]
    return Table("临时救助", "临时救助", columns, rows, totals=True)


def _complaints(campaign: Campaign, villages: list[Village], today: dt.date) -> Table:
    findings = Complaint.Finding.choices
    overdue = complaints_for(campaign, "overdue", today).values("pk")
    complaints = {
        r["village_id"]: r
        for r in complaints_for(campaign)
        .values("village_id")
        .annotate(
            received=Count("id"),
            closed=Count("id", filter=Q(status=Complaint.Status.CLOSED)),
            overdue=Count("id", filter=Q(pk__in=overdue)),
            **{f"finding_{key}": Count("id", filter=Q(finding=key)) for key, _ in findings},
        )
        .order_by()
    }
    objections = {
        r["case__village_id"]: r
        for r in objections_for(campaign)
        .values("case__village_id")
        .annotate(received=Count("id"), open=Count("id", filter=Q(resolved_at__isnull=True)))
        .order_by()
    }
    columns = [
        VILLAGE,
        Column("投诉举报（件）", INT),
        Column("已办结", INT),
        Column("未办结", INT),
        Column("其中逾期", INT),
        *(Column(str(label), INT) for _, label in findings),
        Column("公示异议（件）", INT),
        Column("已处理", INT),
        Column("待处理", INT),
    ]

    def row(name: str, key) -> list:
        c, o = complaints.get(key, {}), objections.get(key, {})
        received, closed = c.get("received", 0), c.get("closed", 0)
        return [
            name,
            received,
            closed,
            received - closed,
            c.get("overdue", 0),
            *(c.get(f"finding_{k}", 0) for k, _ in findings),
            o.get("received", 0),
            o.get("received", 0) - o.get("open", 0),
            o.get("open", 0),
        ]

    rows = [row(v.name, v.id) for v in villages]
    if None in complaints:
        rows.append(row(NO_VILLAGE, None))
    return Table(
        "投诉举报与异议",
        "投诉举报和公示异议",
        columns,
        rows,
        totals=True,
        note="核查结论按已有结果的件数统计；不涉及村的为对镇级干部的投诉举报。",
    )


def _outreach(board) -> Table:
    """送政策 as the dashboard counts it (`reports.outreach`): flyers and awareness from the
    submitted surveys, cadres trained from the town's record of its sessions."""
    columns = [
        VILLAGE,
        Column("已调查户", INT),
        Column("政策宣传单已送达", INT),
        Column("送达率", RATIO, ratio_of=(2, 1)),
        Column("知晓低保政策", INT),
        Column("知晓率", RATIO, ratio_of=(4, 1)),
        Column("参加政策培训（人次）", INT),
    ]
    rows = [
        [
            row.name,
            row.policy_asked,
            row.flyers,
            _share(row.flyers, row.policy_asked),
            row.knows_policy,
            _share(row.knows_policy, row.policy_asked),
            row.trained,
        ]
        for row in board.villages
    ]
    town_staff = board.total.trained - sum(row.trained for row in board.villages)
    if town_staff:
        rows.append([TOWN_STAFF, None, None, None, None, None, town_staff])
    return Table(
        "政策宣传",
        "送政策（宣传单、政策知晓、干部培训）",
        columns,
        rows,
        totals=True,
        note=f"宣传单送达和政策知晓按入户调查记录统计；共举办政策培训{board.total.trainings}场。",
    )


def percent_text(value: Decimal) -> str:
    """20.00 → "20", 12.50 → "12.5"."""
    return f"{float(value):g}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _samples(campaign: Campaign, levels: list[str]) -> tuple[Table, dict[str, Sample]]:
    samples = {
        s.level: s
        for s in Sample.objects.filter(campaign=campaign, level__in=levels).select_related(
            "drawn_by__profile", "campaign__town"
        )
    }
    counts = {
        r["sample_id"]: r
        for r in SampleEntry.objects.filter(sample__in=list(samples.values()))
        .values("sample_id")
        .annotate(
            drawn=Count("id", filter=Q(reason=SampleEntry.Reason.DRAWN)),
            full=Count("id", filter=Q(reason=SampleEntry.Reason.FULL_CHECK)),
            added=Count("id", filter=Q(reason=SampleEntry.Reason.ADDED)),
            done=Count("id", filter=Q(revisit__status=Revisit.Status.SUBMITTED)),
        )
        .order_by()
    }
    columns = [
        Column("层级"),
        Column("随机种子"),
        Column("抽样比例（%）"),
        Column("抽样时间", DATETIME),
        Column("抽样人"),
        Column("随机抽取", INT),
        Column("全面核查", INT),
        Column("另行增加", INT),
        Column("已核查", INT),
    ]
    rows = []
    for level in levels:
        sample = samples.get(level)
        if sample is None:
            rows.append([str(Sample.Level(level).label), "尚未抽样", "", None, "", 0, 0, 0, 0])
            continue
        c = counts.get(sample.pk, {})
        profile = getattr(sample.drawn_by, "profile", None)
        rows.append(
            [
                sample.get_level_display(),
                sample.seed,
                percent_text(sample.ratio),
                sample.drawn_at,
                (profile.display_name if profile and profile.display_name else "") or sample.drawn_by.username,
                c.get("drawn", 0),
                c.get("full", 0),
                c.get("added", 0),
                c.get("done", 0),
            ]
        )
    table = Table(
        "抽样",
        "抽样及随机种子",
        columns,
        rows,
        note="样本可由随机种子复核重现（manage.py verify_sample）。",
    )
    return table, samples


# As the town's report page shows them (`Estimate.as_dict`: a share to 4 places, money and
# households to 2), the share also as a percentage.
ESTIMATES = [
    ("share", "村级调查有实质差异的户占比"),
    ("households", "有实质差异的户数"),
    ("overpaid", "每月多发金额（元）"),
    ("underpaid", "每月少发金额（元）"),
]


def _estimate_text(key: str, value: str) -> str:
    if not value:
        return "—"
    return f"{value}（{Decimal(value) * 100:.2f}%）" if key == "share" else value


def _estimates(samples: dict[str, Sample]) -> Table | None:
    rows = []
    for level, sample in samples.items():
        est = review.sample_estimates(sample)
        for key, label in ESTIMATES:
            e = est[key].as_dict()
            interval = f"{e['lower']}～{e['upper']}" if e["value"] else "—"
            rows.append(
                [
                    str(Sample.Level(level).label),
                    label,
                    _estimate_text(key, e["value"]),
                    interval,
                    e["n"],
                    e["population"],
                ]
            )
    if not rows:
        return None
    columns = [
        Column("样本"),
        Column("指标"),
        Column("估计值"),
        Column("95%置信区间"),
        Column("样本户数", INT),
        Column("总体户数", INT),
    ]
    return Table(
        "抽样推断",
        "抽样推断（随机抽取户）",
        columns,
        rows,
        note="按村分层估计，有限总体校正，95%置信区间（正态近似）；只用随机抽取且已核查的户。",
    )


def _problems(campaign: Campaign) -> Table:
    rows = [[p] for p in review.report_problems(campaign)]
    return Table("尚待完成", "尚待完成的事项（报县前）", [Column("事项", wrap=True)], rows)


# --- the report --------------------------------------------------------------------------------


def _person(user) -> str:
    profile = getattr(user, "profile", None)
    return (profile.display_name if profile and profile.display_name else "") or user.username


def build_report(campaign: Campaign, *, closing: bool = False, actor=None, now: dt.datetime | None = None) -> Report:
    """The town's report to the county (`closing=False`) or the county's closing report."""
    now = timezone.localtime(now)
    today = now.date()
    town = campaign.town
    villages = list(Village.objects.filter(town=town).order_by("order", "code"))
    board = build_dashboard(campaign, villages, today=today, with_complaints=False, whole_area=True)
    extras, before = _one_pass(campaign)
    listed = list(_listed_cases(campaign))
    heads = _heads(_listed_cases(campaign).order_by().values("household_id"))
    by_outcome: dict[str, list[Case]] = {o: [] for o in LISTED}
    for case in listed:
        by_outcome[case.outcome].append(case)
    sent = TownReport.objects.filter(campaign=campaign).select_related("sent_by__profile").first()

    if sent is None:
        sent_text = f"尚未报县（截止日{campaign.county_report_deadline:%Y年%m月%d日}）"
    else:
        sent_text = f"{timezone.localtime(sent.sent_at):%Y年%m月%d日 %H:%M} 由{_person(sent.sent_by)}报县"
        sent_text += "（按期）" if sent.on_time() else f"（逾期，原因：{sent.late_reason}）"
    facts = [
        ("行动", campaign.name + (f"（{campaign.document_number}）" if campaign.document_number else "")),
        ("乡镇", f"{town.county}{town.name}"),
        ("当前阶段", campaign.get_current_phase_display()),
        ("村级上报截止日", f"{campaign.village_report_deadline:%Y年%m月%d日}"),
        ("报县截止日", f"{campaign.county_report_deadline:%Y年%m月%d日}"),
        ("镇级报告", sent_text),
        ("抽查比例", f"镇级{percent_text(campaign.town_ratio)}%，县级{percent_text(campaign.county_ratio)}%"),
        ("数据截至", f"{now:%Y年%m月%d日 %H:%M}"),
    ]
    if actor is not None:
        facts.append(("生成人", _person(actor)))

    levels = [Sample.Level.TOWN, Sample.Level.COUNTY] if closing else [Sample.Level.TOWN]
    tables = [_progress(board, extras, closing), _differences(board, "town")]
    if closing:
        tables.append(_differences(board, "county"))
    tables += [
        _decisions(board, closing),
        _amounts(board, extras),
        _exits(by_outcome[Outcome.EXIT], heads, before, closing),
        _enrolments(by_outcome[Outcome.ENROL], heads),
        _adjustments(by_outcome[Outcome.ADJUST], heads, before),
        _green(campaign, today),
        _aid(campaign),
        _complaints(campaign, villages, today),
        _outreach(board),
    ]
    sample_table, samples = _samples(campaign, levels)
    tables.append(sample_table)
    estimates = _estimates(samples)
    if estimates is not None:
        tables.append(estimates)
    if not closing and sent is None:
        problems = _problems(campaign)
        if problems.rows:
            tables.append(problems)

    for number, table in enumerate(tables, start=1):
        table.title = f"{NUMERALS[number]}、{table.title}"

    if closing:
        title = f"{town.name}低保复核攻坚月行动督查落实情况报告"
        subtitle = f"（第四阶段 · 县级抽查不低于{percent_text(campaign.county_ratio)}%，审批及清退出保）"
    else:
        title = f"{town.name}低保复核攻坚月行动复核核实情况报告"
        subtitle = f"（报{town.county}民政局 · {campaign.county_report_deadline:%m月%d日}前）"
    return Report(
        campaign=campaign, closing=closing, title=title, subtitle=subtitle, generated_at=now, facts=facts, tables=tables
    )


def available(campaign: Campaign, closing: bool) -> bool:
    """The town's report from phase 3 on; the closing report once the county's phase 4 has begun."""
    if closing:
        return campaign.current_phase >= Campaign.PhaseNumber.SUPERVISE
    return campaign.current_phase >= Campaign.PhaseNumber.VERIFY
