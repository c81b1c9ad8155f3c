"""The public notice board (四、3 公开): the policy, the standards, how to apply, the hotline,
and each village's 公示 list while it runs — for anyone, without signing in.

Only what a 公示 may show leaves the database: the head's name, the covered persons, the
category, the monthly amount and the village (conventions, "Personal data"). The lists are
the staff notice page's (`surveys.review.notice_sections`: the same rows, sections and order),
read as those columns only, so that no ID number, phone, address, bank account or health
detail is ever in reach of the template. The board lists the villages on notice with their
numbers per section (from the tallies); each village's list is a page of its own, the one
a village board's QR code opens.

Notices whose period ended are listed for `campaign.notice_days` more days with their period
only, not their names: a villager who comes to the board late learns the notice took place
and where an objection goes now (the hotline), while the names stay public for the notice
period the plan sets and no longer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import segno
from django.db.models import OuterRef, Subquery, Sum
from django.utils.safestring import SafeString, mark_safe

from cases.models import Campaign, Case, Decision, Household, Member, Notice, Village, VillageTally
from surveys.review import NOTICE_SECTIONS


@dataclass(frozen=True)
class NoticeRow:
    """One household on a 公示 list: the public fields and nothing else."""

    name: str
    covered_persons: int | None  # None for an exit: nobody is covered any more
    category: str
    amount: Decimal | None  # None for an exit: 停发
    village: str


@dataclass
class VillageNotice:
    code: str
    village: str
    starts_on: dt.date
    ends_on: dt.date
    # households per section, (label, count), on the board's overview
    counts: list[tuple[str, int]] = field(default_factory=list)
    # the list itself, (label, rows), on the village's page while the notice runs
    sections: list[tuple[str, list[NoticeRow]]] = field(default_factory=list)

    def is_running(self, today: dt.date) -> bool:
        return self.starts_on <= today <= self.ends_on


@dataclass
class Board:
    running: list[VillageNotice]
    ended: list[VillageNotice]


NOTICE_FIELDS = ("village__code", "village__name", "starts_on", "ends_on")


def _notice(row: dict) -> VillageNotice:
    return VillageNotice(
        code=row["village__code"], village=row["village__name"], starts_on=row["starts_on"], ends_on=row["ends_on"]
    )


def _category(hukou_type: str, dibao_class: str) -> str:
    """As the staff 公示 page writes it: 农村低保 or 城市低保, with the class if any."""
    label = f"{Household.HukouType(hukou_type).label}低保"
    return f"{label} {dibao_class}" if dibao_class else label


def build_board(campaign: Campaign, today: dt.date) -> Board:
    """The notices running today with their households per section, and those ended within
    the last `notice_days` days (period only): two queries whatever the number of villages
    and households (the counts are the villages' tallies by outcome)."""
    notices = [
        _notice(n)
        for n in Notice.objects.filter(
            campaign=campaign, starts_on__lte=today, ends_on__gte=today - dt.timedelta(days=campaign.notice_days)
        )
        .values(*NOTICE_FIELDS)
        .order_by("village__order", "village__code")
    ]
    running = [n for n in notices if n.is_running(today)]
    if running:
        counts = {
            (t["village__code"], t["outcome"]): t["n"]
            for t in VillageTally.objects.filter(
                campaign=campaign,
                village__code__in=[n.code for n in running],
                outcome__in=[outcome for outcome, _ in NOTICE_SECTIONS],
            )
            .values("village__code", "outcome")
            .annotate(n=Sum("households"))
            .order_by()
        }
        for n in running:
            n.counts = [(label, counts.get((n.code, outcome), 0)) for outcome, label in NOTICE_SECTIONS]
    return Board(running=running, ended=[n for n in notices if not n.is_running(today)])


def village_notice(campaign: Campaign, village: Village, today: dt.date) -> VillageNotice | None:
    """The village's notice if it has started (None before), with its list while it runs:
    two queries."""
    row = Notice.objects.filter(campaign=campaign, village=village, starts_on__lte=today).values(*NOTICE_FIELDS).first()
    if row is None:
        return None
    notice = _notice(row)
    if notice.is_running(today):
        notice.sections = notice_list(campaign, village)
    return notice


def notice_list(campaign: Campaign, village: Village) -> list[tuple[str, list[NoticeRow]]]:
    """One query: the village's households on notice by section, public fields only."""
    head = Member.objects.filter(
        household=OuterRef("household_id"), status=Member.Status.PRESENT, relationship=Member.Relationship.HEAD
    ).order_by("id")
    sections: dict[str, list[NoticeRow]] = {outcome: [] for outcome, _ in NOTICE_SECTIONS}
    rows = (
        Case.objects.in_scope()
        .filter(campaign=campaign, village=village, outcome__in=list(sections))
        .annotate(head_name=Subquery(head.values("name")[:1]))
        .values(
            "outcome",
            "head_name",
            "household__hukou_type",
            "decision__covered_persons",
            "decision__monthly_amount",
            "decision__dibao_class",
        )
        .order_by("household__group__number", "household_id")
    )
    for r in rows:
        leaves = r["outcome"] == Decision.Outcome.EXIT
        sections[r["outcome"]].append(
            NoticeRow(
                name=r["head_name"] or "（无户主）",
                covered_persons=None if leaves else r["decision__covered_persons"],
                category=_category(r["household__hukou_type"], r["decision__dibao_class"] or ""),
                amount=None if leaves else r["decision__monthly_amount"],
                village=village.name,
            )
        )
    return [(label, sections[outcome]) for outcome, label in NOTICE_SECTIONS]


def qr_svg(url: str) -> SafeString:
    """The URL as a QR code, an inline SVG that scales with its box (segno: pure Python, no
    image files, nothing fetched). Error correction M or better, so that a weathered print on
    an outdoor board still reads."""
    code = segno.make_qr(url, error="m")
    svg = code.svg_inline(
        scale=1, border=4, light="#fff", omitsize=True, svgclass="qr-code d-block w-100 h-auto", lineclass=None
    )
    # segno's own output: path data of the code, no text of ours
    return mark_safe(svg)  # noqa: S308
