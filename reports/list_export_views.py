"""Excel exports of the list pages (see `reports.list_exports`): a short list is written and sent
in the request; a long one goes to the worker, whose job page offers the file when it is made.
Every file sent is recorded in the audit trail (who, which list, which filters, how many rows)."""

from __future__ import annotations

import tempfile
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import roles

from . import list_exports
from .downloads import record_download
from .export_views import wants_full_ids
from .list_exports import XLSX, ListJob

TOO_MANY_FOUND = "按身份证号查找到的家庭过多（超过{n}户），不能导出；请输入更完整的号码。"


@login_required
@require_http_methods(["GET", "POST"])
def export(request, kind, **args):
    """The list `kind` as the user's page shows it (GET: the page's filters), every page of it.
    POST full_ids=1 (the household roll, for the roles that may reveal): ID numbers in full."""
    make = list_exports.LISTS.get(kind)
    if make is None or set(args) != list_exports.URL_ARGS.get(kind, set()):
        raise Http404
    listing = make(request.user, request.GET, **args)  # 404 outside the user's area, 403 for a role without the list
    if listing.error:
        messages.error(request, listing.error)
        return redirect(listing.page)
    full_ids = wants_full_ids(request)
    if full_ids:
        roles.require(listing.offers_full_ids)
    if listing.count <= list_exports.SYNC_ROWS:
        return _send_now(request, listing, full_ids)
    if listing.id_search:
        # the search text is never stored with a job: a search this broad is refused
        messages.error(request, TOO_MANY_FOUND.format(n=list_exports.SYNC_ROWS))
        return redirect(listing.page)
    job_id = list_exports.request_job(actor=request.user, kind=kind, args=args, params=request.GET, full_ids=full_ids)
    messages.info(request, f"共{listing.count}行，已交后台生成，完成后在本页下载。")
    return redirect("list_export_job", job_id=job_id)


def _send_now(request, listing, full_ids: bool) -> FileResponse:
    """Write the workbook to a temporary file (rows go to disk as they are written) and send it
    from there; the file's reveals and its download are recorded together or not at all."""
    handle = tempfile.TemporaryFile(prefix="dibao-list-")  # noqa: SIM115 - the response closes it
    with transaction.atomic():
        rows = list_exports.write(listing, handle, actor=request.user, full_ids=full_ids, batch=uuid.uuid4())
        record_download(
            actor=request.user,
            what=_what(listing.title, full_ids),
            obj=listing.obj,
            campaign=listing.campaign,
            filters=request.GET,
            rows=rows,
        )
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=listing.filename(), content_type=XLSX)


def _what(title: str, full_ids: bool) -> str:
    return f"{title}（Excel{'，含完整身份证号' if full_ids else ''}）"


def get_job_for_user(request, job_id) -> ListJob:
    """One of the user's own list jobs (404 for anyone else's, or a malformed id)."""
    try:
        job_id = uuid.UUID(str(job_id))
    except ValueError:
        raise Http404 from None
    job = list_exports.get_job(job_id, request.user)
    if job is None:
        raise Http404("没有找到该文件。")
    return job


@login_required
@require_GET
def job(request, job_id):
    return render(request, "reports/export_list_job.html", {"job": get_job_for_user(request, job_id)})


@login_required
@require_GET
def job_status(request, job_id):
    """What the page's script polls (the same answer as a batch PDF's)."""
    job = get_job_for_user(request, job_id)
    return JsonResponse(
        {"status": job.status, "label": job.label, "done": job.rows, "total": job.rows, "pending": job.is_pending}
    )


@login_required
@require_POST
def job_retry(request, job_id):
    job = get_job_for_user(request, job_id)
    if not job.can_retry:
        messages.error(request, "该文件正在生成或已生成，无需重试。")
        return redirect("list_export_job", job_id=job.id)
    if job.full_ids:
        roles.require(roles.can_read_full_ids(request.user))
    messages.success(request, "已重新排队生成。")
    return redirect("list_export_job", job_id=list_exports.retry_job(job, actor=request.user))


@login_required
@require_GET
def job_download(request, job_id):
    """The worker's file, for its requester while the list is still theirs to export: the same
    list and filters must still be allowed (404/403 otherwise) and cover the file's villages."""
    job = get_job_for_user(request, job_id)
    if job.status != "done":
        raise Http404("文件尚未生成或已过期删除。")
    listing = list_exports.LISTS[job.kind](request.user, job.params, **job.args)
    if not list_exports.covers(request.user, job):
        raise Http404("没有找到该文件。")
    if job.full_ids:
        roles.require(listing.offers_full_ids and roles.can_read_full_ids(request.user))
    record_download(
        actor=request.user,
        what=_what(job.title, job.full_ids),
        obj=listing.obj,
        campaign=listing.campaign,
        filters=job.params,
        rows=job.rows,
    )
    return FileResponse(
        job.path.open("rb"),
        as_attachment=True,
        filename=job.result.get("filename") or f"{job.title}.xlsx",
        content_type=XLSX,
    )
