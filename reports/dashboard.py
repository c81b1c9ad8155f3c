"""The leadership dashboard's figures: per village, per work group and for the whole area.

Each kind of figure is one aggregate query grouped by village, whatever the number of
households: coverage and the case rows' sampling and decisions from the villages' tallies
(`VillageTally`, kept by the services that move a case row), the monthly amounts before and
after, the re-visits' differences, complaints, the green channel, policy outreach (flyers,
awareness, training: `reports.outreach`) and the work groups' villages. Work groups and the
total are sums of the village rows, so every figure on the page adds up to the same lists the
town works from.

"Overdue" is the lists' own rule: `complaints_for(..., "overdue")`, `green_overdue_q`,
`report_state` (the village 上报 against its deadline).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from cases.assistance import green_for, green_overdue_q
from cases.complaints import complaints_for
from cases.models import Campaign, Case, Decision, GreenChannel, Village, VillageTally, WorkGroup
from surveys.departments import open_screening_tasks_by_village
from surveys.models import Difference
from surveys.services import coverage_by_village

from .outreach import policy_by_village, training_by_village, training_totals
from .timeline import ReportState, report_state

ZERO = Decimal("0")
CENT = Decimal("0.01")
VERDICTS = [("", "待认定"), *Difference.Verdict.choices]
OUTCOMES = Decision.Outcome.choices
# The case rows' counts per village (`_case_counts`, from the tallies), one annotation each.
CASE_COUNTS = (
    "reported",
    "town_sampled",
    "town_revisited",
    "county_sampled",
    "county_revisited",
    "decisions_left",
    "decided",
    "sent",
    "returned",
    "approved",
)


def percent(part: int, whole: int) -> int:
    """Whole percents, rounded down (as the coverage page shows them): 100 only when all are done."""
    return 100 * part // whole if whole else 0


@dataclass
class Figures:
    """One village's figures, or the sum of several (a work group, the whole area)."""

    name: str
    village: Village | None = None
    # the village's 上报 against the deadline; a sum counts its villages by state instead
    report: ReportState | None = None
    reports: Counter = field(default_factory=Counter)
    households: int = 0
    surveyed: int = 0
    reported: int = 0
    town_sampled: int = 0
    town_revisited: int = 0
    county_sampled: int = 0
    county_revisited: int = 0
    decisions_left: int = 0
    decided: int = 0
    sent: int = 0
    returned: int = 0
    approved: int = 0
    outcomes: Counter = field(default_factory=Counter)
    town_verdicts: Counter = field(default_factory=Counter)
    county_verdicts: Counter = field(default_factory=Counter)
    amount_before: Decimal = ZERO
    amount_after: Decimal = ZERO
    complaints_open: int = 0
    complaints_overdue: int = 0
    green_owed: int = 0
    green_overdue: int = 0
    # 防止漏保: screening tasks from the departments' lists still open, and those past due
    tasks_open: int = 0
    tasks_overdue: int = 0
    # 送政策: submitted surveys, of them with the flyer delivered and knowing the policy; cadres
    # trained (attendances), and the sessions attended (a village's; the total's are distinct)
    policy_asked: int = 0
    flyers: int = 0
    knows_policy: int = 0
    trained: int = 0
    trainings: int = 0
    # what is left in the current phase (see `left_in_phase`)
    left: int = 0

    COUNTS = (
        "households",
        "surveyed",
        *CASE_COUNTS,
        "complaints_open",
        "complaints_overdue",
        "green_owed",
        "green_overdue",
        "tasks_open",
        "tasks_overdue",
        "policy_asked",
        "flyers",
        "knows_policy",
        "trained",
        "left",
    )
    COUNTERS = ("reports", "outcomes", "town_verdicts", "county_verdicts")

    def add(self, other: Figures) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in self.COUNTERS:
            getattr(self, name).update(getattr(other, name))
        self.amount_before += other.amount_before
        self.amount_after += other.amount_after

    @property
    def surveyed_percent(self) -> int:
        return percent(self.surveyed, self.households)

    @property
    def town_sampled_percent(self) -> int:
        return percent(self.town_sampled, self.reported)

    @property
    def town_revisited_percent(self) -> int:
        return percent(self.town_revisited, self.town_sampled)

    @property
    def county_sampled_percent(self) -> int:
        return percent(self.county_sampled, self.reported)

    @property
    def flyers_percent(self) -> int:
        return percent(self.flyers, self.policy_asked)

    @property
    def knows_percent(self) -> int:
        return percent(self.knows_policy, self.policy_asked)

    @property
    def amount_change(self) -> Decimal:
        return self.amount_after - self.amount_before

    @property
    def outcome_list(self) -> list[tuple[str, str, int, str]]:
        """(outcome, label, count, the chart's colour) in the outcomes' order."""
        return [(key, label, self.outcomes[key], OUTCOME_COLOURS[key]) for key, label in OUTCOMES]

    @property
    def differences(self) -> int:
        return sum(self.town_verdicts.values()) + sum(self.county_verdicts.values())

    @property
    def town_verdict_list(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.town_verdicts[key]) for key, label in VERDICTS]

    @property
    def county_verdict_list(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.county_verdicts[key]) for key, label in VERDICTS]

    @property
    def segments(self) -> list[Segment]:
        return outcome_segments(self)


# What is left, by the campaign's current phase: the households still to survey (phases 1-2),
# the decisions still to make (3), the decisions waiting for the county (4).
LEFT_LABELS = {1: "待入户调查", 2: "待入户调查", 3: "待镇级决定", 4: "待县级审批"}


def left_in_phase(row: Figures, phase: int) -> int:
    if phase <= Campaign.PhaseNumber.REVIEW:
        return row.households - row.surveyed
    if phase == Campaign.PhaseNumber.VERIFY:
        return row.decisions_left
    if phase == Campaign.PhaseNumber.SUPERVISE:
        return row.sent
    return 0


@dataclass
class Dashboard:
    villages: list[Figures]
    work_groups: list[Figures]
    total: Figures
    left_label: str

    @property
    def ranked(self) -> list[Figures]:
        """The villages by what is left, most first (then in their usual order)."""
        return sorted(self.villages, key=lambda r: -r.left)

    @property
    def most_left(self) -> int:
        return max((r.left for r in self.villages), default=0)


def _case_counts(campaign: Campaign, villages: list[Village]) -> dict[int, dict]:
    """One query over the villages' tallies (a few rows per village, not every household): per
    village, the case rows' sampling, review stages and outcomes."""
    reported = Q(stage=Case.Stage.REPORTED)
    rows = (
        VillageTally.objects.filter(campaign=campaign, village__in=villages)
        .values("village_id")
        .annotate(
            reported=Sum("households", filter=reported),
            **{flag: Sum(flag) for flag in VillageTally.FLAGS},
            # as the decision list counts them: reported rows, undecided or not
            decisions_left=Sum("households", filter=reported & Q(review=Case.Review.UNDECIDED)),
            decided=Sum("households", filter=reported & ~Q(review=Case.Review.UNDECIDED)),
            sent=Sum("households", filter=Q(review=Case.Review.SENT)),
            returned=Sum("households", filter=Q(review=Case.Review.RETURNED)),
            approved=Sum("households", filter=Q(review=Case.Review.APPROVED)),
            **{f"outcome_{key}": Sum("households", filter=Q(outcome=key)) for key, _ in OUTCOMES},
        )
        .order_by()
    )
    # a sum over no rows is NULL
    return {r["village_id"]: {k: v or 0 for k, v in r.items()} for r in rows}


def _amounts(campaign: Campaign, villages: list[Village]) -> dict[int, dict]:
    """One query over the tallies: per village, the monthly amounts paid before the review (as
    each household was listed) and after it (the current decision's amount, else the same)."""
    rows = (
        VillageTally.objects.filter(campaign=campaign, village__in=villages)
        .values("village_id")
        .annotate(**{amount: Sum(amount) for amount in VillageTally.AMOUNTS})
        .order_by()
    )
    return {r["village_id"]: r for r in rows}


def _verdicts(campaign: Campaign, villages: list[Village]) -> dict[int, dict[str, Counter]]:
    """One query: per village and sample level, the re-visits' differences by verdict."""
    rows = (
        Difference.objects.filter(revisit__entry__sample__campaign=campaign, revisit__entry__village__in=villages)
        .values("revisit__entry__village_id", "revisit__entry__sample__level", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[int, dict[str, Counter]] = {}
    for r in rows:
        by_level = out.setdefault(r["revisit__entry__village_id"], {"town": Counter(), "county": Counter()})
        by_level[r["revisit__entry__sample__level"]][r["verdict"]] += r["n"]
    return out


def _per_village(qs, **annotations) -> dict[int, dict]:
    return {r["village_id"]: r for r in qs.values("village_id").annotate(**annotations).order_by()}


def build_dashboard(
    campaign: Campaign, villages, *, today: dt.date, with_complaints: bool, whole_area: bool
) -> Dashboard:
    """The figures of `villages` (already narrowed to the reader's area) in a fixed number of
    queries: coverage (2), case rows' tallies (1), amounts (1), differences (1, `whole_area`),
    complaints (2, `with_complaints`), green channel (1), screening tasks (1), policy outreach (3),
    work groups (1).

    `whole_area`: the reader sees every village, so the samples' differences are theirs to see
    and the training total counts every session with the town's own attendees."""
    villages = list(villages)
    coverage = coverage_by_village(campaign, villages)
    cases = _case_counts(campaign, villages)
    amounts = _amounts(campaign, villages)
    verdicts = _verdicts(campaign, villages) if whole_area else {}
    complaints_open = complaints_overdue = {}
    if with_complaints:
        # the whole town's, as only the roles that see every village read complaints
        complaints_open = _per_village(complaints_for(campaign, "open"), n=Count("id"))
        complaints_overdue = _per_village(complaints_for(campaign, "overdue", today), n=Count("id"))
    green = _per_village(
        green_for(campaign).filter(village__in=villages, status__in=GreenChannel.OPEN),
        owed=Count("id"),
        overdue=Count("id", filter=green_overdue_q(today)),
    )
    policy = policy_by_village(campaign, villages)
    trained = training_by_village(campaign, villages)
    tasks = open_screening_tasks_by_village(campaign, [v.id for v in villages])
    phase = campaign.current_phase
    rows: list[Figures] = []
    for cov in coverage:
        village = cov["village"]
        c = cases.get(village.id, {})
        money = amounts.get(village.id, {})
        asked = policy.get(village.id, {})
        state = report_state(cov["report"], deadline=campaign.village_report_deadline, today=today)
        row = Figures(
            name=village.name,
            village=village,
            report=state,
            reports=Counter({state.key: 1}),
            households=cov["total"],
            surveyed=cov["submitted"],
            outcomes=Counter({key: c.get(f"outcome_{key}", 0) for key, _ in OUTCOMES}),
            town_verdicts=verdicts.get(village.id, {}).get("town", Counter()),
            county_verdicts=verdicts.get(village.id, {}).get("county", Counter()),
            # SQLite sums decimals as floats: back to yuan and fen
            amount_before=Decimal(money.get("amount_before") or ZERO).quantize(CENT),
            amount_after=Decimal(money.get("amount_after") or ZERO).quantize(CENT),
            complaints_open=complaints_open.get(village.id, {}).get("n", 0),
            complaints_overdue=complaints_overdue.get(village.id, {}).get("n", 0),
            green_owed=green.get(village.id, {}).get("owed", 0),
            green_overdue=green.get(village.id, {}).get("overdue", 0),
            tasks_open=tasks.get(village.id, {}).get("open", 0),
            tasks_overdue=tasks.get(village.id, {}).get("overdue", 0),
            policy_asked=asked.get("asked", 0),
            flyers=asked.get("flyers", 0),
            knows_policy=asked.get("knows", 0),
            trained=trained.get(village.id, {}).get("attendees", 0),
            trainings=trained.get(village.id, {}).get("sessions", 0),
            **{key: c.get(key, 0) for key in CASE_COUNTS},
        )
        row.left = left_in_phase(row, phase)
        rows.append(row)

    by_id = {r.village.id: r for r in rows}
    groups: dict[int, Figures] = {}
    links = WorkGroup.villages.through.objects.filter(workgroup__campaign=campaign, village_id__in=list(by_id))
    for link in links.values("workgroup_id", "workgroup__number", "workgroup__name", "village_id").order_by(
        "workgroup__number", "village_id"
    ):
        group = groups.setdefault(link["workgroup_id"], Figures(name=link["workgroup__name"]))
        group.add(by_id[link["village_id"]])

    total = Figures(name="合计")
    for row in rows:
        total.add(row)
    # complaints about the town's own cadres have no village: counted in the total only
    if with_complaints and None in complaints_open:
        total.complaints_open += complaints_open[None]["n"]
        total.complaints_overdue += complaints_overdue.get(None, {}).get("n", 0)
    # sessions are counted once, however many villages came; the town's own staff count in the total
    sessions = training_totals(campaign, villages, whole_area=whole_area)
    total.trainings = sessions["sessions"]
    total.trained += sessions["town_attendees"]
    return Dashboard(
        villages=rows, work_groups=list(groups.values()), total=total, left_label=LEFT_LABELS.get(phase, "")
    )


# The outcome chart's colours (the legend reads the same list).
OUTCOME_COLOURS = {
    Decision.Outcome.KEEP: "#6c8ebf",
    Decision.Outcome.ADJUST: "#0d6efd",
    Decision.Outcome.EXIT: "#dc3545",
    Decision.Outcome.ENROL: "#198754",
    Decision.Outcome.TEMPORARY: "#fd7e14",
    Decision.Outcome.REJECT: "#adb5bd",
}


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    x: float
    width: float
    colour: str


def outcome_segments(row: Figures) -> list[Segment]:
    """The village's decisions as one bar of 100 units, a segment per outcome."""
    decided = sum(row.outcomes.values())
    segments, x = [], 0.0
    for key, label in OUTCOMES:
        n = row.outcomes[key]
        if n:
            width = 100 * n / decided
            segments.append(Segment(str(label), n, round(x, 2), round(width, 2), OUTCOME_COLOURS[key]))
            x += width
    return segments
