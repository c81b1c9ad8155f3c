"""送政策 (二、3): the policy outreach of the campaign.

Three figures per village: the flyers delivered and the households that know the policy, both
read from the submitted surveys (form A and B ask both questions at the door), and the cadres
trained, from the town office's record of its training sessions (`record_training`,
`correct_training`: atomic, audited, Chinese refusals).

The figures are one aggregate query each, grouped by village, whatever the number of
households or sessions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum

from cases import audit, roles
from cases.complaints import check_open, not_after_today
from cases.models import AuditEvent, Campaign, Case, Village, VillageTally
from cases.services import DomainError

from .models import TrainingAttendance, TrainingSession

# --- the record of training sessions ---------------------------------------------------------

SESSION_FIELDS = ["held_on", "place", "topic", "town_attendees"]


def trainings_visible_to(user, campaign: Campaign) -> QuerySet[TrainingSession]:
    """The campaign's sessions the user may read: all of them for the roles that see the whole
    town, else those that one of the user's villages attended."""
    sessions = TrainingSession.objects.filter(campaign=campaign)
    scope = roles.village_scope(user)
    if scope is None:
        return sessions
    return sessions.filter(pk__in=TrainingAttendance.objects.filter(village_id__in=scope).values("session_id"))


def _clean(
    campaign: Campaign,
    *,
    held_on: dt.date | None,
    place: str,
    topic: str,
    town_attendees: int,
    attendance: Mapping[Village, int],
) -> tuple[str, str, dict[Village, int]]:
    check_open(campaign)
    if held_on is None:
        raise DomainError("请填写培训日期。", field="held_on")
    not_after_today(held_on, "held_on", "培训日期")
    place, topic = place.strip(), topic.strip()
    if not place:
        raise DomainError("请填写培训地点。", field="place")
    if not topic:
        raise DomainError("请填写培训内容。", field="topic")
    if town_attendees < 0 or any(n < 0 for n in attendance.values()):
        raise DomainError("参加人数不能为负数。")
    attended = {village: n for village, n in attendance.items() if n}
    if any(village.town_id != campaign.town_id for village in attended):
        raise DomainError("参加培训的村（社区）须属于本镇。")
    if not attended and not town_attendees:
        raise DomainError("请至少填写一个村（社区）或镇机关的参加人数。")
    return place, topic, attended


def _attendance_record(attended: Mapping[Village, int]) -> dict[str, int]:
    """The audit trail's view of the attendance: one entry per village, by name."""
    return {f"参加人数·{village.name}": n for village, n in sorted(attended.items(), key=lambda kv: kv[0].order)}


@transaction.atomic
def record_training(
    campaign: Campaign,
    *,
    actor,
    held_on: dt.date | None,
    place: str,
    topic: str,
    attendance: Mapping[Village, int],
    town_attendees: int = 0,
) -> TrainingSession:
    """Record a training session.

    1. The campaign is running; 2. a date not in the future, a place, a topic, and at least
    one attendee (villages of the campaign's town; zero counts are left out); 3. the session
    and its attendance saved; 4. recorded in the audit trail with each village's count.
    """
    place, topic, attended = _clean(
        campaign, held_on=held_on, place=place, topic=topic, town_attendees=town_attendees, attendance=attendance
    )
    session = TrainingSession.objects.create(
        campaign=campaign,
        held_on=held_on,
        place=place[:100],
        topic=topic[:200],
        town_attendees=town_attendees,
        recorded_by=actor,
    )
    TrainingAttendance.objects.bulk_create(
        [TrainingAttendance(session=session, village=village, attendees=n) for village, n in attended.items()]
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=session,
        after={**audit.snapshot(session, SESSION_FIELDS), **_attendance_record(attended)},
        campaign=campaign,
        reason="登记政策培训",
    )
    return session


@transaction.atomic
def correct_training(
    session: TrainingSession,
    *,
    actor,
    held_on: dt.date | None,
    place: str,
    topic: str,
    attendance: Mapping[Village, int],
    town_attendees: int = 0,
) -> TrainingSession:
    """Correct a recorded session.

    1. The session is locked and its campaign running; 2. the same checks as recording it;
    3. its fields and attendance replaced; 4. one audit record with what changed (nothing is
    recorded when nothing changed).
    """
    session = TrainingSession.objects.select_for_update().select_related("campaign").get(pk=session.pk)
    campaign = session.campaign
    place, topic, attended = _clean(
        campaign, held_on=held_on, place=place, topic=topic, town_attendees=town_attendees, attendance=attendance
    )
    before = {
        **audit.snapshot(session, SESSION_FIELDS),
        **_attendance_record({a.village: a.attendees for a in session.attendance.select_related("village")}),
    }
    session.held_on, session.place, session.topic = held_on, place[:100], topic[:200]
    session.town_attendees = town_attendees
    session.save(update_fields=SESSION_FIELDS)
    session.attendance.all().delete()
    TrainingAttendance.objects.bulk_create(
        [TrainingAttendance(session=session, village=village, attendees=n) for village, n in attended.items()]
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=session,
        before=before,
        after={**audit.snapshot(session, SESSION_FIELDS), **_attendance_record(attended)},
        campaign=campaign,
        reason="更正政策培训记录",
    )
    return session


# --- the figures ------------------------------------------------------------------------------


def policy_by_village(campaign: Campaign, villages) -> dict[int, dict[str, int]]:
    """One query over the villages' tallies: per village, the households surveyed (asked), how
    many had the flyer delivered and how many knew the policy (their latest submitted survey)."""
    rows = (
        VillageTally.objects.filter(campaign=campaign, village__in=villages)
        .values("village_id")
        .annotate(
            asked=Sum("households", filter=Q(stage__in=Case.SURVEYED)),
            flyers=Sum("flyer_delivered"),
            knows=Sum("knows_policy"),
        )
        .order_by()
    )
    return {r["village_id"]: {k: v or 0 for k, v in r.items()} for r in rows}


def training_by_village(campaign: Campaign, villages) -> dict[int, dict[str, int]]:
    """One query: per village, the sessions its cadres attended and how many came in all."""
    rows = (
        TrainingAttendance.objects.filter(session__campaign=campaign, village__in=villages)
        .values("village_id")
        .annotate(sessions=Count("session_id"), attendees=Sum("attendees"))
        .order_by()
    )
    return {r["village_id"]: r for r in rows}


def training_totals(campaign: Campaign, villages, *, whole_area: bool) -> dict[str, int]:
    """One query: the sessions held and the town's own attendees (the whole area), or the
    sessions the reader's villages attended (a village or a work group)."""
    if whole_area:
        totals = TrainingSession.objects.filter(campaign=campaign).aggregate(
            sessions=Count("id"), town_attendees=Sum("town_attendees")
        )
    else:
        totals = TrainingAttendance.objects.filter(session__campaign=campaign, village__in=villages).aggregate(
            sessions=Count("session_id", distinct=True)
        )
    return {"sessions": totals["sessions"] or 0, "town_attendees": totals.get("town_attendees") or 0}
