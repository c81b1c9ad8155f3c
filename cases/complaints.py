"""Complaints (投诉举报, 四、3) and the full check of the households they name.

Every real-name complaint is checked and answered; a household named in a complaint (or taken
into the green channel) is checked in full by the higher levels: its case row is marked here,
and `full_check_marked` tells the upper floor (the surveys app adds the household to a sample
already drawn) without this floor importing it. Each service is atomic, writes its audit record
and raises DomainError with a Chinese message.

A complaint's events carry the campaign, never the household: the household's timeline is read
by its village, and a village must not learn that one of its households was reported, nor by whom.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from . import audit, roles
from .models import AuditEvent, Campaign, Case, Complaint, ComplaintNote, Household, Objection, Village
from .services import DomainError

# Sent inside the transaction that marked a case row for the full check: case, actor, reason.
full_check_marked = Signal()

# The complaint list's two tabs (its page and its export).
KINDS = {"complaints": "投诉举报", "objections": "公示异议"}


def check_open(campaign: Campaign) -> None:
    if campaign.current_phase == Campaign.PhaseNumber.CLOSED:
        raise DomainError("本次行动已结束，不能再办理。")


def not_after_today(day: dt.date | None, field: str, label: str) -> None:
    if day is not None and day > timezone.localdate():
        raise DomainError(f"{label}不能晚于今天。", field=field)


def mark_full_check(campaign: Campaign, household: Household, *, actor, reason: str, on_timeline: bool) -> Case | None:
    """The household's case row in the campaign, marked to be checked in full by the town and
    the county (None when the household is not on this campaign's list: there is nothing to
    re-check). Recorded when it changes; `full_check_marked` is sent either way, so that a
    sample drawn already takes the household in. Call inside the caller's transaction."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("household")
        .filter(campaign=campaign, household=household)
        .first()
    )
    if case is None:
        return None
    if not case.full_check:
        case.full_check, case.updated_at = True, timezone.now()
        case.save(update_fields=["full_check", "updated_at"])
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=case,
            before={"full_check": False},
            after={"full_check": True},
            household=household if on_timeline else None,
            campaign=campaign,
            reason=f"{reason}，列入全面核查",
        )
    full_check_marked.send(sender=Case, case=case, actor=actor, reason=reason)
    return case


def handlers(campaign: Campaign) -> QuerySet:
    """Who may be given a complaint to handle: the active accounts of the campaign's town office."""
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__role=roles.Role.TOWN, profile__town=campaign.town_id)
        .select_related("profile")
        .order_by("username")
    )


@transaction.atomic
def record_complaint(
    campaign: Campaign,
    *,
    actor,
    channel: str,
    received_on: dt.date,
    anonymous: bool,
    reporter: str = "",
    contact: str = "",
    subject: str,
    household: Household | None = None,
    village: Village | None = None,
    subject_name: str = "",
    content: str,
    handler,
    due_on: dt.date | None = None,
) -> Complaint:
    """Take a complaint in.

    1. The campaign is running; 2. a channel, a date not in the future, a real name with a way
    to answer (or anonymous), what it is about (a household named; a person's or a cadre's
    name), the content, a town-office handler and a due date not before the date received
    (by default the campaign's time limit); 3. saved and recorded (without the content or the
    reporter); 4. a household named is marked for the full check.
    """
    campaign = Campaign.objects.get(pk=campaign.pk)
    check_open(campaign)
    if channel not in Complaint.Channel.values:
        raise DomainError("请选择受理渠道。", field="channel")
    if received_on is None:
        raise DomainError("请填写受理日期。", field="received_on")
    not_after_today(received_on, "received_on", "受理日期")
    reporter, contact = reporter.strip(), contact.strip()
    if anonymous:
        reporter, contact = "", ""
    elif not reporter:
        raise DomainError("实名举报须填写举报人姓名；不愿留名的请选“匿名”。", field="reporter")
    elif not contact:
        raise DomainError("实名举报须留联系方式，以便答复举报人。", field="contact")
    if subject not in Complaint.Subject.values:
        raise DomainError("请选择举报对象的类别。", field="subject")
    subject_name = subject_name.strip()
    if subject == Complaint.Subject.HOUSEHOLD and household is None:
        raise DomainError("请先查找并选择被举报的家庭户。", field="household")
    if subject == Complaint.Subject.PERSON and not subject_name:
        raise DomainError("请填写被举报人的姓名。", field="subject_name")
    if subject == Complaint.Subject.CADRE and not subject_name:
        raise DomainError("请填写被举报干部的姓名。", field="subject_name")
    if subject == Complaint.Subject.CADRE:
        household = None
    if household is not None:
        village = household.village
    if village is not None and village.town_id != campaign.town_id:
        raise DomainError("所选村（社区）不属于本镇。", field="village")
    content = content.strip()
    if not content:
        raise DomainError("请填写举报内容。", field="content")
    if handler is None or not handlers(campaign).filter(pk=handler.pk).exists():
        raise DomainError("承办人须为镇社会事务办的工作人员。", field="handler")
    due_on = due_on or received_on + dt.timedelta(days=campaign.complaint_days)
    if due_on < received_on:
        raise DomainError("办理期限不能早于受理日期。", field="due_on")
    complaint = Complaint.objects.create(
        campaign=campaign,
        channel=channel,
        received_on=received_on,
        anonymous=anonymous,
        reporter=reporter[:30],
        contact=contact[:50],
        subject=subject,
        household=household,
        village=village,
        subject_name=subject_name[:30],
        content=content[:4000],
        handler=handler,
        due_on=due_on,
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=complaint,
        after={
            "渠道": complaint.get_channel_display(),
            "举报人": "匿名" if anonymous else "实名",
            "对象": complaint.get_subject_display(),
            "承办人": handler.get_username(),
            "办理期限": str(due_on),
        },
        campaign=campaign,
        reason="受理投诉举报",
    )
    if household is not None:
        mark_full_check(campaign, household, actor=actor, reason="收到投诉举报", on_timeline=False)
    return complaint


def _lock(complaint: Complaint) -> Complaint:
    complaint = Complaint.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=complaint.pk)
    check_open(complaint.campaign)
    if complaint.status == Complaint.Status.CLOSED:
        raise DomainError("该投诉举报已办结。")
    return complaint


@transaction.atomic
def add_note(complaint: Complaint, *, actor, text: str) -> ComplaintNote:
    """An entry of the investigation; the first one starts it."""
    complaint = _lock(complaint)
    text = text.strip()
    if not text:
        raise DomainError("请填写核查情况。", field="text")
    note = ComplaintNote.objects.create(complaint=complaint, text=text[:4000], written_by=actor)
    if complaint.status == Complaint.Status.OPEN:
        with audit.tracking(
            complaint, actor=actor, fields=["status"], campaign=complaint.campaign, reason="开始核查投诉举报"
        ):
            complaint.status = Complaint.Status.INVESTIGATING
            complaint.save(update_fields=["status"])
    return note


@transaction.atomic
def conclude(complaint: Complaint, *, actor, finding: str, result: str) -> Complaint:
    """The finding and what was done about it (may be written again until the complaint is closed)."""
    complaint = _lock(complaint)
    if finding not in Complaint.Finding.values:
        raise DomainError("请选择核查结论。", field="finding")
    result = result.strip()
    if not result:
        raise DomainError("请写明处理结果。", field="result")
    if not complaint.notes.exists():
        raise DomainError("请先记录核查情况，再写结论。", field="result")
    with audit.tracking(
        complaint,
        actor=actor,
        fields=["status", "finding", "result"],
        campaign=complaint.campaign,
        reason="投诉举报核查结论",
    ):
        complaint.finding, complaint.result = finding, result[:4000]
        complaint.status = Complaint.Status.CONCLUDED
        complaint.save(update_fields=["finding", "result", "status"])
    return complaint


@transaction.atomic
def record_reply(complaint: Complaint, *, actor, replied_on: dt.date, reply_channel: str, reply: str) -> Complaint:
    """The answer given to a real-name reporter: when, how and what."""
    complaint = _lock(complaint)
    if complaint.anonymous:
        raise DomainError("匿名举报没有答复对象，无需答复。")
    if complaint.status != Complaint.Status.CONCLUDED:
        raise DomainError("请先写明核查结论和处理结果，再答复举报人。")
    if replied_on is None:
        raise DomainError("请填写答复日期。", field="replied_on")
    not_after_today(replied_on, "replied_on", "答复日期")
    if replied_on < complaint.received_on:
        raise DomainError("答复日期不能早于受理日期。", field="replied_on")
    if reply_channel not in Complaint.Channel.values:
        raise DomainError("请选择答复方式。", field="reply_channel")
    reply = reply.strip()
    if not reply:
        raise DomainError("请填写答复内容。", field="reply")
    with audit.tracking(
        complaint,
        actor=actor,
        fields=["replied_on", "reply_channel"],
        campaign=complaint.campaign,
        reason="答复举报人",
    ):
        complaint.replied_on, complaint.reply_channel, complaint.reply = replied_on, reply_channel, reply[:4000]
        complaint.save(update_fields=["replied_on", "reply_channel", "reply"])
    return complaint


@transaction.atomic
def close(complaint: Complaint, *, actor) -> Complaint:
    """办结: only with a finding and a result, and a real-name complaint only once answered."""
    complaint = _lock(complaint)
    if complaint.status != Complaint.Status.CONCLUDED:
        raise DomainError("请先写明核查结论和处理结果，才能办结。")
    if not complaint.anonymous and complaint.replied_on is None:
        raise DomainError("实名举报须先答复举报人，才能办结。")
    with audit.tracking(complaint, actor=actor, fields=["status"], campaign=complaint.campaign, reason="投诉举报办结"):
        complaint.status, complaint.closed_at, complaint.closed_by = Complaint.Status.CLOSED, timezone.now(), actor
        complaint.save(update_fields=["status", "closed_at", "closed_by"])
    return complaint


# --- the lists ----------------------------------------------------------------------------

STATUS_FILTERS = {
    "": ("全部", Q()),
    "open": ("未办结", ~Q(status=Complaint.Status.CLOSED)),
    "overdue": ("逾期", None),  # needs today: see `complaints_for`
    "closed": ("已办结", Q(status=Complaint.Status.CLOSED)),
}


def complaints_for(campaign: Campaign, status: str = "", today: dt.date | None = None) -> QuerySet:
    qs = Complaint.objects.filter(campaign=campaign)
    if status == "overdue":
        return qs.filter(due_on__lt=today or timezone.localdate()).exclude(status=Complaint.Status.CLOSED)
    return qs.filter(STATUS_FILTERS.get(status, STATUS_FILTERS[""])[1])


OBJECTION_FILTERS = {
    "": ("全部", Q()),
    "open": ("待处理", Q(resolved_at__isnull=True)),
    "closed": ("已处理", Q(resolved_at__isnull=False)),
}


def objections_for(campaign: Campaign, status: str = "") -> QuerySet:
    """Objections raised during the 公示: complaints of their own kind, handled on the notice page."""
    condition = OBJECTION_FILTERS.get(status, OBJECTION_FILTERS[""])[1]
    return Objection.objects.filter(notice__campaign=campaign).filter(condition)
