"""The real worker: `manage.py db_worker`, a process of its own, takes a batch (or a long list's
Excel) from the database queue and makes the file; killed mid-batch, it leaves the job retryable,
not stuck "running", in the Export table and in the queue's own."""

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from cases.models import Campaign, Household, Profile, Village
from reports import exports, list_exports
from reports.models import Export
from surveys.models import Survey
from tests.deploy.conftest import database_url, environment, on_postgresql

from .conftest import pdf_pages

# The worker reads what the test wrote: committed rows (transaction=True), in the test database.
pytestmark = [on_postgresql, pytest.mark.django_db(transaction=True)]


def worker(*args) -> list[str]:
    return [
        sys.executable,
        str(settings.BASE_DIR / "manage.py"),
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        *args,
    ]


def worker_env(tmp_path, **extra) -> dict[str, str]:
    return environment(
        DATABASE_URL=database_url(),
        SECRET_KEY=secrets.token_urlsafe(50),
        EXPORT_ROOT=str(tmp_path / "exports"),
        **extra,
    )


@pytest.fixture
def queued_village_batch(verify_town, settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_ROOT = tmp_path / "exports"
    village = max(
        Village.objects.filter(town=verify_town.town),
        key=lambda v: Survey.objects.filter(household__village=v, status="submitted").count(),
    )
    cadre = Profile.objects.get(role="village", village=village).user
    return exports.request_export(actor=cadre, campaign=Campaign.objects.current(), village=village)


def test_the_worker_process_makes_a_queued_batch(queued_village_batch, tmp_path):
    export = queued_village_batch
    assert export.status == "queued"
    # --batch: take every job waiting, then exit
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        worker("--batch"), env=worker_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    export.refresh_from_db()
    assert (export.status, export.done) == ("done", export.total), done.stdout + done.stderr
    with export.file.open("rb") as stored:
        pages = pdf_pages(stored.read())
    assert (
        sum(1 for p in pages if "复核入户调查表" in p and "第1页共" in p)
        + sum(1 for p in pages if "调查登记表（非低保户）" in p and "第1页共" in p)
        == export.total
    )


def test_a_worker_killed_mid_batch_leaves_the_job_retryable(queued_village_batch, tmp_path):
    export = queued_village_batch
    # one household a chunk: progress is written after each, and the kill lands between two
    process = subprocess.Popen(  # noqa: S603 - our own command, no shell
        worker(),
        env=worker_env(tmp_path, EXPORT_CHUNK_SIZE="1"),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            export.refresh_from_db()
            if export.status == "running" and export.done >= 2:
                break
            time.sleep(0.2)
        assert export.status == "running" and 2 <= export.done < export.total
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    export.refresh_from_db()
    assert export.status == "running" and not export.file  # what a dead worker leaves behind
    (task,) = DBTaskResult.objects.filter(task_path="reports.tasks.build_export")
    assert task.status == "RUNNING"  # and in django-tasks' own table
    # Even if nobody clears it, a job silent for EXPORT_STALL_MINUTES is offered again.
    Export.objects.filter(pk=export.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=6))
    export.refresh_from_db()
    assert export.is_stalled and export.can_retry and not export.is_pending

    # The production profile clears it before starting its worker again.
    cleared = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "cleanup_exports", "--interrupted"],
        env=worker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cleared.returncode == 0 and "标记中断的生成任务1个" in cleared.stdout, cleared.stderr
    export.refresh_from_db()
    assert export.status == "failed" and export.can_retry and "生成中断" in export.error
    task.refresh_from_db()
    assert task.status == "FAILED"  # not left "running" in the queue's table either

    exports.retry_export(export, actor=export.requested_by)
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        worker("--batch"), env=worker_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    export.refresh_from_db()
    assert (export.status, export.done, export.attempt) == ("done", export.total, 2)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"FAILED", "SUCCESSFUL"}


def test_the_worker_process_writes_a_long_list_as_excel(verify_town, settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_ROOT = tmp_path / "exports"
    town = get_user_model().objects.get(username="town")
    job_id = list_exports.request_job(actor=town, kind="households", args={}, params={"status": "active"})
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        worker("--batch"), env=worker_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    job = list_exports.get_job(job_id, town)
    active = Household.objects.filter(dibao_status="active")
    assert (job.status, job.rows) == ("done", active.count())
    book = load_workbook(job.path, read_only=True)
    assert book.sheetnames == ["家庭", "成员", "说明"]
    assert list(book["家庭"].iter_rows(values_only=True))[-1][0] == f"合计（{active.count()}户）"
