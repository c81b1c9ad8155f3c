"""The campaign's place in its timeline, without a database: the plan's 2019 dates."""

import datetime as dt
from types import SimpleNamespace

import pytest

from reports.timeline import CURRENT, DONE, UPCOMING, build_timeline, report_state

D = dt.date
PLAN = [  # 泥政〔2019〕133号 三: phase 3 starts on the day phase 2 ends
    SimpleNamespace(number=1, name="安排部署", starts_on=D(2019, 10, 15), ends_on=D(2019, 10, 20)),
    SimpleNamespace(number=2, name="全面复核", starts_on=D(2019, 10, 21), ends_on=D(2019, 11, 5)),
    SimpleNamespace(number=3, name="汇总核实", starts_on=D(2019, 11, 5), ends_on=D(2019, 11, 10)),
    SimpleNamespace(number=4, name="督查落实", starts_on=D(2019, 11, 11), ends_on=D(2019, 11, 15)),
]
DEADLINE = D(2019, 11, 6)


def test_it_marks_phases_by_the_campaigns_current_phase():
    timeline = build_timeline(list(reversed(PLAN)), 2, D(2019, 11, 1))
    assert [s.state for s in timeline.steps] == [DONE, CURRENT, UPCOMING, UPCOMING]
    assert timeline.current.name == "全面复核" and timeline.current.ordinal == "第二阶段"
    assert timeline.days_left == 4 and timeline.days_overdue == 0  # 11/01 → 11/05


def test_the_end_date_itself_leaves_zero_days_not_overdue():
    timeline = build_timeline(PLAN, 2, D(2019, 11, 5))
    assert timeline.days_left == 0 and timeline.days_overdue == 0


def test_the_calendar_does_not_move_the_campaign_on():
    # 11/08 falls in phase 3's dates, but the town office has not advanced: phase 2 is 3 days overdue
    timeline = build_timeline(PLAN, 2, D(2019, 11, 8))
    assert timeline.current.number == 2
    assert timeline.days_left is None and timeline.days_overdue == 3


def test_a_closed_campaign_has_every_phase_done_and_nothing_due():
    timeline = build_timeline(PLAN, 5, D(2019, 12, 1))
    assert timeline.closed and timeline.current is None
    assert {s.state for s in timeline.steps} == {DONE}
    assert timeline.days_left is None and timeline.days_overdue == 0


class Report(SimpleNamespace):
    def on_time(self):
        return self.reported_at.date() <= DEADLINE


@pytest.mark.parametrize(
    ("reported", "today", "key", "days"),
    [
        (None, D(2019, 11, 6), "due", 0),  # the deadline day itself is not late
        (None, D(2019, 11, 9), "overdue", 3),
        (dt.datetime(2019, 11, 6, 16), D(2019, 11, 9), "on_time", 0),
        (dt.datetime(2019, 11, 7, 9), D(2019, 11, 9), "late", 0),
    ],
)
def test_a_villages_report_is_due_overdue_on_time_or_late(reported, today, key, days):
    state = report_state(reported and Report(reported_at=reported), deadline=DEADLINE, today=today)
    assert (state.key, state.days_overdue) == (key, days)
    assert state.label == {"due": "未上报", "overdue": "逾期未上报", "on_time": "按时上报", "late": "逾期上报"}[key]
