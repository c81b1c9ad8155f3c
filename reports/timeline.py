"""Where the campaign stands today: its phases as done / current / upcoming, and the
current phase's deadline with the days left or overdue.

Plain Python on dates, no Django: the home page and later dashboards read the same
answer, and the unit tests state it without a database.

The campaign's own `current_phase` decides which phase is current: the town office
moves the campaign on (`surveys.services.advance_phase`), the calendar does not. The
calendar decides how much time is left: once the current phase's end date has passed
and the campaign has not moved on, the phase is overdue by the days since that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

# The plan's four phases; CLOSED (5) follows the last one.
LAST_PHASE = 4
ORDINALS = {1: "一", 2: "二", 3: "三", 4: "四"}

DONE, CURRENT, UPCOMING = "done", "current", "upcoming"
STATE_LABELS = {DONE: "已完成", CURRENT: "进行中", UPCOMING: "未开始"}


class PhaseDates(Protocol):
    number: int
    name: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    state: str

    @property
    def ordinal(self) -> str:
        return f"第{ORDINALS.get(self.number, self.number)}阶段"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Timeline:
    today: dt.date
    steps: list[Step]
    # None once the campaign is closed (or if its current phase has no dates).
    current: Step | None
    closed: bool

    @property
    def days_left(self) -> int | None:
        """Days until the current phase's end date, 0 on the day itself; None when overdue or closed."""
        if self.current is None or self.today > self.current.ends_on:
            return None
        return (self.current.ends_on - self.today).days

    @property
    def days_overdue(self) -> int:
        """Days since the current phase's end date passed without the campaign moving on."""
        if self.current is None or self.today <= self.current.ends_on:
            return 0
        return (self.today - self.current.ends_on).days


def build_timeline(phases: list[PhaseDates], current_phase: int, today: dt.date) -> Timeline:
    """The phases in order, each done, current or upcoming by the campaign's current phase."""
    steps = []
    for phase in sorted(phases, key=lambda p: p.number):
        if phase.number < current_phase:
            state = DONE
        elif phase.number == current_phase:
            state = CURRENT
        else:
            state = UPCOMING
        steps.append(Step(phase.number, phase.name, phase.starts_on, phase.ends_on, state))
    current = next((s for s in steps if s.state == CURRENT), None)
    return Timeline(today=today, steps=steps, current=current, closed=current_phase > LAST_PHASE)


OVERDUE, LATE, ON_TIME, DUE = "overdue", "late", "on_time", "due"
REPORT_LABELS = {OVERDUE: "逾期未上报", LATE: "逾期上报", ON_TIME: "按时上报", DUE: "未上报"}


class Report(Protocol):
    reported_at: dt.datetime

    def on_time(self) -> bool: ...


@dataclass(frozen=True)
class ReportState:
    """A village's 上报 against the village report deadline."""

    key: str
    reported_at: dt.datetime | None = None
    days_overdue: int = 0

    @property
    def label(self) -> str:
        return REPORT_LABELS[self.key]


def report_state(report: Report | None, *, deadline: dt.date, today: dt.date) -> ReportState:
    """Reported on time or late (the report's own rule); not reported: overdue once the
    deadline has passed, still due until then (the deadline day included)."""
    if report is not None:
        return ReportState(ON_TIME if report.on_time() else LATE, reported_at=report.reported_at)
    if today > deadline:
        return ReportState(OVERDUE, days_overdue=(today - deadline).days)
    return ReportState(DUE)
