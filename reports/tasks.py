"""Background tasks (django-tasks; run by `manage.py db_worker`, a process of its own)."""

from __future__ import annotations

from django_tasks import task

from . import exports


@task()
def build_export(export_id: int, attempt: int) -> None:
    """Make a batch PDF, then delete the files past their time."""
    try:
        exports.build(export_id, attempt)
    finally:
        exports.cleanup()
