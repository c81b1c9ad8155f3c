"""The real worker: `manage.py db_worker`, a process of its own, takes a batch from the database
queue and makes the file; killed mid-batch, it leaves the job retryable, not stuck "running"."""

import os
import secrets
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from cases.models import Campaign, Profile, Village
from reports import exports
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

    exports.retry_export(export, actor=export.requested_by)
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        worker("--batch"), env=worker_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    export.refresh_from_db()
    assert (export.status, export.done, export.attempt) == ("done", export.total, 2)
