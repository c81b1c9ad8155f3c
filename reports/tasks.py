"""Background tasks (django-tasks; run by `manage.py db_worker`, a process of its own)."""

from __future__ import annotations

from django_tasks import task

from . import exports, list_exports


def tidy() -> None:
    """After each job: files past their time, silent jobs, and the queue's rows past their use."""
    exports.cleanup()
    list_exports.prune()


@task()
def build_export(export_id: int, attempt: int) -> None:
    """Make a batch PDF, then delete the files past their time."""
    try:
        exports.build(export_id, attempt)
    finally:
        tidy()


@task(takes_context=True)
def build_list_export(
    context, user_id: int, kind: str, args: dict, params: dict, full_ids: bool = False, town: int | None = None
) -> dict:
    """Write a list page's rows as a workbook (a list too long to write in the request); what it
    returns is the job's record (rows, file name, or why there is no file)."""
    try:
        return list_exports.build_job(context.task_result.id, user_id, kind, args, params, full_ids, town)
    finally:
        tidy()
