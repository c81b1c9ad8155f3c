"""Files made in the background: a village's survey forms, or a sample's forms with their
re-visit records, as one PDF; the town's written report and the county's closing report (PDF or
workbook), which take seconds to minutes at county size.

`request_export` records the job and puts it on the queue in one transaction (the queue is
a table: the job and its task commit together or not at all); the worker process
(`manage.py db_worker`) runs `reports.tasks.build_export`, which calls `build`. The forms are
read and rendered a chunk of households at a time, each chunk with a fixed number of queries
and written to a file of its own, and the chunk files are joined at the end: memory holds one
chunk, never the village. Files are deleted EXPORT_KEEP_DAYS after they were made
(`cleanup`, run after each job and by `manage.py cleanup_exports`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases import audit, roles
from cases.models import AuditEvent, Campaign, Case, Household, Village
from cases.services import DomainError
from surveys.models import Revisit, Sample, SampleEntry, Survey

from . import pdf
from .models import Export

logger = logging.getLogger(__name__)

FULL_ID_REASON = "打印调查表，显示完整身份证号"
INTERRUPTED = "生成中断：后台进程已停止（如重启）。请点击“重新生成”。"
FAILED = "生成失败：系统内部错误，已记录。请点击“重新生成”；如仍失败请联系管理员。"


def record_reveal(
    households: list[Household], *, actor, campaign: Campaign, batch=None, what: str = "", on=None
) -> None:
    """Printing full ID numbers is a reveal, recorded like the household page's (one event
    per household, in one query). `on`: what was printed, when it is a higher level's check (a
    sample, a re-visit): the event names it, so that the household's village, which does not
    see those checks on the timeline, does not learn of the check from the reveal."""
    events = [
        audit.record(
            actor=actor,
            action=AuditEvent.Action.VIEW_ID,
            obj=on or h,
            household=h,
            campaign=campaign,
            reason=what or FULL_ID_REASON,
            batch=batch,
            save=False,
        )
        for h in households
    ]
    AuditEvent.objects.bulk_create(events)


# --- what a batch holds ----------------------------------------------------------------------


def _village_surveys(campaign: Campaign, village: Village):
    return Survey.objects.filter(campaign=campaign, household__village=village, status=Survey.Status.SUBMITTED)


def _sample_entries(sample: Sample):
    return SampleEntry.objects.filter(sample=sample)


# A report is made in two steps: its figures (reports.summary), then the file.
REPORT_STEPS = 2
REPORT_KINDS = {False: Export.Kind.TOWN_REPORT, True: Export.Kind.CLOSING_REPORT}


def count_households(export: Export) -> int:
    """What the job's progress counts to: the batch's households, or a report's steps."""
    if export.is_report:
        return REPORT_STEPS
    if export.village_id:
        return _village_surveys(export.campaign, export.village).count()
    return _sample_entries(export.sample).count()


@dataclass
class Chunk:
    households: list[Household]
    documents: list  # laid-out WeasyPrint documents, in print order


def chunks(export: Export, *, size: int | None = None) -> Iterator[Chunk]:
    """The batch's forms, EXPORT_CHUNK_SIZE households at a time, each chunk read with a fixed
    number of queries (its ids from one small list read first, then the rows for print)."""
    size = size or settings.EXPORT_CHUNK_SIZE
    if export.village_id:
        # in the order of the village's list: group, then household
        ids = list(
            _village_surveys(export.campaign, export.village)
            .order_by(F("household__group__number").asc(nulls_last=True), "household_id")
            .values_list("id", flat=True)
        )
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            surveys = {s.pk: s for s in pdf.surveys_for_print(Survey.objects.filter(pk__in=part))}
            ordered = [surveys[i] for i in part if i in surveys]
            yield Chunk(
                households=[s.household for s in ordered],
                documents=[pdf.render_survey(s, full_ids=export.full_ids) for s in ordered],
            )
        return
    entries_in_order = _sample_entries(export.sample).order_by("village__order", "reason", "rank", "id")
    ids = list(entries_in_order.values_list("id", flat=True))
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        entries = {
            e.pk: e
            for e in SampleEntry.objects.filter(pk__in=part).select_related(
                "sample", "household__village__town", "household__group"
            )
        }
        households = [entries[i].household_id for i in part if i in entries]
        # the village survey in force for each sampled household, and its re-visit if begun
        surveys = {
            s.household_id: s
            for s in pdf.surveys_for_print(
                Survey.objects.filter(
                    campaign=export.campaign, household_id__in=households, status=Survey.Status.SUBMITTED
                )
            )
        }
        revisits = {r.entry_id: r for r in pdf.revisits_for_print(Revisit.objects.filter(entry_id__in=part))}
        pdf.attach_surveys(revisits.values(), surveys.values())
        documents = []
        for i in part:
            entry = entries.get(i)
            if entry is None:
                continue
            survey = surveys.get(entry.household_id)
            if survey is not None:
                documents.append(pdf.render_survey(survey, full_ids=export.full_ids))
            revisit = revisits.get(i)
            if revisit is not None:
                revisit.entry = entry
                documents.append(pdf.render_revisit(revisit, full_ids=export.full_ids))
        yield Chunk(households=[entries[i].household for i in part if i in entries], documents=documents)


def _cover(export: Export, count: int):
    missing = 0
    if export.village_id:
        # the village's listed households without a submitted survey: counted on the cover
        printed = _village_surveys(export.campaign, export.village).values("household_id")
        missing = (
            Case.objects.filter(campaign=export.campaign, village=export.village, in_scope=True)
            .exclude(household_id__in=printed)
            .count()
        )
    return pdf.render(
        "reports/pdf/cover.html",
        {"export": export, "count": count, "missing": missing, "printed_at": timezone.localtime()},
    )


# --- the job ---------------------------------------------------------------------------------


def _pending(actor, **what) -> Export | None:
    """The same file still waiting or running for the same person (not one whose worker is gone)."""
    pending = (
        Export.objects.filter(requested_by=actor, status__in=[Export.Status.QUEUED, Export.Status.RUNNING], **what)
        .order_by("-created_at")
        .first()
    )
    return None if pending is None or pending.is_stalled else pending


@transaction.atomic
def request_export(
    *, actor, campaign: Campaign, village: Village | None = None, sample: Sample | None = None, full_ids: bool = False
) -> Export:
    """Record a batch and queue it. The caller has checked that `actor` sees the village or
    sample; full ID numbers need the role that may reveal them. The same batch still waiting
    or running for the same person is returned instead of a second one."""
    from .tasks import build_export

    if full_ids:
        roles.require(roles.can_read_full_ids(actor))
    pending = _pending(actor, campaign=campaign, village=village, sample=sample, full_ids=full_ids)
    if pending is not None:
        return pending
    export = Export(
        kind=Export.Kind.SURVEY_FORMS,
        campaign=campaign,
        village=village,
        sample=sample,
        full_ids=full_ids,
        requested_by=actor,
    )
    export.total = count_households(export)
    if not export.total:
        raise DomainError("没有可打印的调查表：本范围内还没有已提交的入户调查。")
    export.save()
    build_export.enqueue(export.pk, export.attempt)
    return export


@transaction.atomic
def request_report(*, actor, campaign: Campaign, closing: bool, fmt: str) -> Export:
    """Queue the town's written report (or the county's closing report) as PDF or workbook. The
    caller has checked that `actor` reads the whole town's report and that it is available; the
    same report still waiting or running for the same person is returned instead of a second."""
    from .tasks import build_export

    kind = REPORT_KINDS[closing]
    pending = _pending(actor, campaign=campaign, kind=kind, fmt=fmt)
    if pending is not None:
        return pending
    export = Export.objects.create(kind=kind, fmt=fmt, campaign=campaign, requested_by=actor, total=REPORT_STEPS)
    build_export.enqueue(export.pk, export.attempt)
    return export


@transaction.atomic
def retry_export(export: Export, *, actor) -> Export:
    """Start a failed, interrupted or expired batch again, from the beginning."""
    from .tasks import build_export

    export = Export.objects.select_for_update().get(pk=export.pk)
    if not export.can_retry:
        raise DomainError("该文件正在生成或已生成，无需重试。")
    export.file.delete(save=False)
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.QUEUED,
        attempt=F("attempt") + 1,
        total=count_households(export),
        done=0,
        error="",
        file="",
        size=0,
        started_at=None,
        heartbeat_at=None,
        finished_at=None,
        expires_at=None,
    )
    export.refresh_from_db()
    build_export.enqueue(export.pk, export.attempt)
    return export


def _claim(export_id: int, attempt: int) -> Export | None:
    """Mark the job running, unless a newer attempt replaced it or it is no longer queued."""
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(of=("self",))
            .select_related("campaign__town", "village", "sample", "requested_by")
            .filter(pk=export_id)
            .first()
        )
        if export is None or export.attempt != attempt or export.status != Export.Status.QUEUED:
            return None
        now = timezone.now()
        export.status, export.started_at, export.heartbeat_at = Export.Status.RUNNING, now, now
        export.save(update_fields=["status", "started_at", "heartbeat_at"])
        return export


def _progress(export: Export, done: int) -> bool:
    """Record progress; False when this attempt no longer owns the job (retried meanwhile)."""
    return bool(
        Export.objects.filter(pk=export.pk, attempt=export.attempt, status=Export.Status.RUNNING).update(
            done=done, heartbeat_at=timezone.now()
        )
    )


# The jobs this process is running: one cut short by the development reloader (which ends the
# process under the running job) is marked interrupted on the way out. A worker killed outright
# leaves its job to `cleanup` (at the next start, or once its heartbeat is old).
_running: set[int] = set()


@atexit.register
def _mark_interrupted() -> None:
    if _running:
        _fail(_running, INTERRUPTED)


def _fail(export_ids, error: str) -> None:
    Export.objects.filter(pk__in=export_ids, status=Export.Status.RUNNING).update(
        status=Export.Status.FAILED, error=error, finished_at=timezone.now()
    )


def build(export_id: int, attempt: int) -> None:
    """The worker's part: render the batch chunk by chunk, join, store, and say so. An error
    or a stop leaves the job failed with a reason the requester can read, and retryable."""
    export = _claim(export_id, attempt)
    if export is None:
        return
    _running.add(export.pk)
    try:
        _build(export)
    except Exception:
        logger.exception("export %s failed", export.public_id)
        _fail([export.pk], FAILED)
        raise
    except BaseException:  # the worker told to stop at once (a second SIGTERM, Ctrl-C)
        _fail([export.pk], INTERRUPTED)
        raise
    finally:
        _running.discard(export.pk)


def _build(export: Export) -> None:
    if export.is_report:
        _build_report(export)
    else:
        _build_forms(export)


def _build_report(export: Export) -> None:
    """The report's figures as of now, then its file (reports.documents)."""
    from . import documents, summary

    report = summary.build_report(
        export.campaign, closing=export.kind == Export.Kind.CLOSING_REPORT, actor=export.requested_by
    )
    if not _progress(export, 1):
        return
    if export.fmt == Export.Format.XLSX:
        content = documents.report_xlsx(report, author=export.requested_by.get_username())
    else:
        content = documents.report_pdf(report)
    _store(export, ContentFile(content), REPORT_STEPS)


def _store(export: Export, content: File, done: int) -> None:
    """Keep the finished file and say so, unless a newer attempt took the job meanwhile."""
    with transaction.atomic():
        current = Export.objects.select_for_update().get(pk=export.pk)
        if current.attempt != export.attempt or current.status != Export.Status.RUNNING:
            return
        current.file.save(f"{current.public_id}.{current.fmt}", content, save=False)
        now = timezone.now()
        current.size = current.file.size
        current.status, current.done, current.finished_at = Export.Status.DONE, done, now
        current.expires_at = now + dt.timedelta(days=settings.EXPORT_KEEP_DAYS)
        current.save(update_fields=["file", "size", "status", "done", "finished_at", "expires_at"])


def _build_forms(export: Export) -> None:
    from pypdf import PdfWriter

    with tempfile.TemporaryDirectory(prefix="dibao-export-") as folder:
        parts, done = [], 0
        for number, chunk in enumerate(chunks(export)):
            if export.full_ids:
                record_reveal(
                    chunk.households,
                    actor=export.requested_by,
                    campaign=export.campaign,
                    batch=export.public_id,
                    what=f"批量{FULL_ID_REASON}（{export.scope_label}）",
                    on=export.sample,
                )
            part = Path(folder) / f"{number:05d}.pdf"
            if chunk.documents:
                pdf.write_pdf(chunk.documents, str(part))
                parts.append(part)
            done += len(chunk.households)
            if not _progress(export, done):
                return
        writer = PdfWriter()
        cover = Path(folder) / "cover.pdf"
        pdf.write_pdf([_cover(export, done)], str(cover))
        for part in [cover, *parts]:
            writer.append(str(part))
        writer.add_metadata({"/Title": f"{export.scope_label}入户调查表"})
        joined = Path(folder) / "joined.pdf"
        with joined.open("wb") as out:
            writer.write(out)
        writer.close()
        with joined.open("rb") as handle:
            _store(export, File(handle), done)


def cleanup(now: dt.datetime | None = None, *, all_running: bool = False) -> tuple[int, int]:
    """Delete the files past their time (the row stays, as a record of what was made) and mark
    jobs whose worker went silent as failed, or every running job with `all_running` (when no
    worker runs, e.g. before the production profile starts one). Returns (deleted, failed)."""
    now = now or timezone.now()
    deleted = 0
    for export in Export.objects.filter(status=Export.Status.DONE, expires_at__lte=now):
        export.file.delete(save=False)
        deleted += Export.objects.filter(pk=export.pk, status=Export.Status.DONE).update(
            status=Export.Status.EXPIRED, file="", size=0
        )
    running = Export.objects.filter(status=Export.Status.RUNNING)
    if not all_running:
        silent_since = now - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)
        running = running.filter(
            Q(heartbeat_at__lt=silent_since) | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
        )
    stalled = running.update(status=Export.Status.FAILED, error=INTERRUPTED, finished_at=now)
    return deleted, stalled
