"""`make bench`, the reports' part (called by surveys' bench command at each size, after phases 3
and 4): one household's form as PDF; a village's batch of 150 forms made by the real worker
process (`manage.py db_worker`), with that process's memory as the batch goes on; and the
export of every household of the town as Excel, timed against openpyxl's write-only mode
writing the same rows bare, and written by the worker process, whose peak memory is measured.

Each function returns {label: (milliseconds, {query counts})} like the command's own results and
prints its further figures (memory, ratio). Goals: a form ≤ 0.3 s; 150 forms ≤ 60 s with the
worker's memory flat; the export ≤ 1.5 × openpyxl's bare writing and its process < 300 MB.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from cases.models import Case, Household, Profile, Village
from surveys.models import Survey

from . import exports, list_exports
from .models import Export

BATCH = 150
Results = dict[str, tuple[float, set[int]]]


def run(campaign, size: int, *, out, repeat: int) -> Results:
    """Everything below at this size, with its files in a folder of its own."""
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="dibao-bench-") as folder, override_settings(EXPORT_ROOT=Path(folder)):
        results.update(form_pdf(campaign, repeat=repeat))
        results.update(village_batch(campaign, out=out))
        results.update(household_export(campaign, size, out=out))
    return results


def form_pdf(campaign, *, repeat: int) -> Results:
    survey = Survey.objects.filter(campaign=campaign, status=Survey.Status.SUBMITTED).order_by("id").first()
    cadre = get_user_model().objects.get(profile__role=Profile.Role.VILLAGE, profile__village=survey.household.village)
    client = Client()
    client.force_login(cadre)
    url = f"/reports/surveys/{survey.public_id}/pdf/"
    client.get(url)  # warm-up: fonts
    runs = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            runs.append(((time.perf_counter() - started) * 1000, len(ctx.captured_queries)))
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    return {"调查表PDF（一户）": (statistics.median(t for t, _ in runs), {q for _, q in runs})}


def _worker() -> subprocess.Popen:
    """The real worker: `db_worker --batch` takes what waits on the queue, then exits."""
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_worker", "--batch", "--no-reload"]
    environment = {**os.environ, "EXPORT_ROOT": str(settings.EXPORT_ROOT)}
    log = Path(settings.EXPORT_ROOT) / "worker.log"  # a file, not a pipe: a full pipe would stall it
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=log.open("ab"))  # noqa: S603


def _rss_mb(pid: int, key: str = "VmRSS") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _run_worker(on_tick=None) -> float:
    """Run the worker to the end; returns its peak resident memory in MB: VmHWM, the kernel's
    high-water mark of the process's own memory, read while it runs. (wait4's ru_maxrss would
    also count the bench process the worker was forked from, which Linux keeps across exec.)"""
    process = _worker()
    peak = 0.0
    while process.poll() is None:
        high = _rss_mb(process.pid, "VmHWM")
        peak = max(peak, high or 0.0)
        if on_tick:
            on_tick(process.pid)
        time.sleep(0.1)
    if process.returncode != 0:
        raise RuntimeError(f"worker failed: {_worker_log()}")
    return peak


def _worker_log() -> str:
    return (Path(settings.EXPORT_ROOT) / "worker.log").read_text(errors="replace")[-3000:]


def village_batch(campaign, *, out) -> Results:
    """150 forms as one village's batch, through the queue and the worker process. The bench town
    has no village of exactly 150 (a village holds ~1/15 of the households), so 150 surveyed
    households are lent to a village of their own for the run and given back afterwards."""
    town = get_user_model().objects.get(username="town")
    households = list(
        Survey.objects.filter(campaign=campaign, status=Survey.Status.SUBMITTED)
        .order_by("household_id")
        .values_list("household_id", "household__village_id")[:BATCH]
    )
    ids = [h for h, _ in households]
    lent = Village.objects.create(town=campaign.town, code="BENCH150", name="基准测试村", kind="rural", order=999)
    export = None
    try:
        Household.objects.filter(id__in=ids).update(village=lent)
        Case.objects.filter(campaign=campaign, household_id__in=ids).update(village=lent)
        export = exports.request_export(actor=town, campaign=campaign, village=lent)
        memory: list[tuple[int, float]] = []

        def sample(pid):
            done = Export.objects.filter(pk=export.pk).values_list("done", flat=True).first()
            rss = _rss_mb(pid)
            if rss and done is not None and (not memory or memory[-1][0] != done):
                memory.append((done, rss))

        peak = _run_worker(on_tick=sample)
        export.refresh_from_db()
        assert (export.status, export.done) == ("done", BATCH), (export.status, _worker_log())
        seconds = (export.finished_at - export.started_at).total_seconds()
        steps = "，".join(f"{done}份{rss:.0f}MB" for done, rss in memory if done)
        out.write(
            f"  村批量PDF（{BATCH}份）：后台进程生成用时 {seconds:.1f} 秒（目标≤60秒），"
            f"进程内存峰值 {peak:.0f} MB；生成中的内存：{steps}"
        )
        return {f"村批量PDF（{BATCH}份，后台进程）": (seconds * 1000, set())}
    finally:
        for household_id, village_id in households:
            Household.objects.filter(id=household_id).update(village_id=village_id)
            Case.objects.filter(campaign=campaign, household_id=household_id).update(village_id=village_id)
        if export is not None:
            Export.objects.get(pk=export.pk).file.delete(save=False)
            Export.objects.filter(pk=export.pk).delete()
        lent.delete()
        _clear_queue()


def _clear_queue() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()


def household_export(campaign, size: int, *, out) -> Results:
    """Every household of the town as Excel: in this process (time and queries) against openpyxl
    writing the same rows bare; then by the worker process, whose peak memory is the figure."""
    town = get_user_model().objects.get(username="town")
    target = Path(settings.EXPORT_ROOT) / "bench.xlsx"
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        listing = list_exports.households(town, {})
        rows = list_exports.write(listing, target, actor=town)
        ours = time.perf_counter() - started
    assert rows == listing.count == size, (rows, listing.count, size)

    collected = _Collector()
    listing.fill(collected, None)
    bare_target = Path(settings.EXPORT_ROOT) / "bare.xlsx"
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    for title, header, values in collected.sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in values:
            sheet.append(row)
    workbook.save(bare_target)
    bare = time.perf_counter() - started
    del collected

    job = list_exports.request_job(actor=town, kind="households", args={}, params={})
    peak = _run_worker()
    task = list_exports._task_rows().get(id=job)
    job = list_exports.get_job(job, town)
    assert job.status == "done" and job.rows == size, (job.status, job.error, _worker_log())
    worker_seconds = (task.finished_at - task.started_at).total_seconds()
    out.write(
        f"  花名册Excel（{size}户，含成员表）：本进程 {ours:.1f} 秒，openpyxl只写模式裸写同样的行 {bare:.1f} 秒，"
        f"倍数 {ours / bare:.2f}（目标≤1.5）；后台进程生成 {worker_seconds:.1f} 秒，"
        f"进程内存峰值 {peak:.0f} MB（目标<300MB）；文件 {job.result['size'] / 1e6:.1f} MB"
    )
    job.path.unlink(missing_ok=True)
    _clear_queue()
    return {
        "花名册Excel（全镇）": (ours * 1000, {len(ctx.captured_queries)}),
        "openpyxl裸写同样的行": (bare * 1000, {0}),
    }


class _Collector:
    """Stands in for a `Book`: keeps the rows a listing writes, as plain values."""

    def __init__(self):
        self.sheets: list[tuple[str, list, list]] = []

    def sheet(self, title, columns, unit="户"):
        rows: list = []
        self.sheets.append((title, [c.header for c in columns], rows))
        return _Rows(rows)


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def append(self, values):
        self.rows.append(list(values))
