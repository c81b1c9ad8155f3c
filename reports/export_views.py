"""PDF downloads: one form straight away, a village's or a sample's forms through the worker."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import roles
from cases.access import get_current_campaign, public_uuid
from cases.models import Member, Village
from cases.services import DomainError
from surveys.access import get_revisit_for_user, get_survey_for_user
from surveys.models import Revisit, Sample, Survey

from . import exports, list_exports, pdf
from .downloads import record_download
from .models import Export
from .workbook import XLSX_TYPE


def wants_full_ids(request) -> bool:
    """Full ID numbers only on a POST that asks for them, by a role that may see them (403 otherwise).
    (The list exports ask the same way.)"""
    if request.method != "POST" or request.POST.get("full_ids") != "1":
        return False
    roles.require(roles.can_read_full_ids(request.user))
    return True


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    # inline: the browser shows it and offers to print or save it
    return HttpResponse(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(False, filename)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_pdf(request, public_id):
    """A submitted survey as the county's form (GET: ID numbers masked; POST full_ids=1: in
    full, for the roles that may reveal them, recorded as a reveal)."""
    survey = get_survey_for_user(request, public_id, rows=False)  # read again below, for print
    if survey.is_draft:
        raise Http404("草稿不能打印，请提交后再打印。")
    full_ids = wants_full_ids(request)
    survey = pdf.surveys_for_print(Survey.objects.filter(pk=survey.pk)).get()
    if full_ids:
        exports.record_reveal([survey.household], actor=request.user, campaign=survey.campaign)
    head = next((m.name for m in survey.members.all() if m.relationship == Member.Relationship.HEAD), "")
    name = f"{survey.household.village.name}{head}户_表{survey.form}_第{survey.version}版.pdf"
    content = pdf.write_pdf([pdf.render_survey(survey, full_ids=full_ids)])
    record_download(
        actor=request.user,
        what=_what(f"入户调查表（表{survey.form}）", full_ids),
        obj=survey,
        campaign=survey.campaign,
        household=survey.household,
        filters=request.GET,
    )
    return _pdf_response(content, name)


@login_required
@require_http_methods(["GET", "POST"])
def revisit_pdf(request, public_id):
    """The town's (or county's) re-visit record with its comparison, differences and verdicts."""
    revisit = get_revisit_for_user(request, public_id)
    full_ids = wants_full_ids(request)
    revisit = pdf.revisits_for_print(Revisit.objects.filter(pk=revisit.pk)).get()
    pdf.attach_surveys([revisit], [])
    if full_ids:
        exports.record_reveal(
            [revisit.entry.household],
            actor=request.user,
            campaign=revisit.survey.campaign,
            what="打印入户核查记录，显示完整身份证号",
            on=revisit,
        )
    name = f"{revisit.entry.household.village.name}_入户核查记录.pdf"
    content = pdf.write_pdf([pdf.render_revisit(revisit, full_ids=full_ids)])
    # not on the household's timeline: its village does not see the higher levels' checks
    record_download(
        actor=request.user,
        what=_what("入户核查记录", full_ids),
        obj=revisit,
        campaign=revisit.survey.campaign,
        filters=request.GET,
    )
    return _pdf_response(content, name)


def _what(title: str, full_ids: bool) -> str:
    return f"{title}（PDF{'，含完整身份证号' if full_ids else ''}）"


# --- batches ---------------------------------------------------------------------------------


def _start(request, back, **scope):
    """Queue the batch and show its progress; a refusal goes back to the list it came from."""
    campaign = get_current_campaign(request)
    try:
        export = exports.request_export(
            actor=request.user, campaign=campaign, full_ids=wants_full_ids(request), **scope
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    return redirect("export_detail", public_id=export.public_id)


@login_required
@require_POST
def village_export(request, code):
    """All submitted forms of a village the user sees, as one PDF made by the worker."""
    village = Village.objects.visible_to(request.user).filter(code=code).first()
    if village is None:
        raise Http404("没有找到该村（社区）。")
    return _start(request, redirect("survey_village", code=village.code), village=village)


@login_required
@require_POST
def sample_export(request, level):
    """The forms and re-visit records of the current campaign's sample: for the roles that see
    the whole town (a village must not learn which of its households are sampled)."""
    if level not in Sample.Level.values:
        raise Http404
    if roles.village_scope(request.user) is not None:
        roles.require(False)
    sample = Sample.objects.filter(campaign=get_current_campaign(request), level=level).first()
    if sample is None:
        raise Http404("尚未抽样。")
    return _start(request, redirect("survey_sample", level=level), sample=sample)


def get_export_for_user(request, public_id) -> Export:
    """One of the user's own exports, while its scope is still theirs (404 otherwise)."""
    export = (
        Export.objects.select_related("village", "sample", "campaign")
        .filter(public_id=public_uuid(public_id), requested_by=request.user)
        .first()
    )
    if export is None:
        raise Http404("没有找到该文件。")
    if export.village_id and not roles.covers_village(request.user, export.village):
        raise Http404("没有找到该文件。")
    if export.sample_id and roles.village_scope(request.user) is not None:
        raise Http404("没有找到该文件。")
    if export.is_report and not roles.can_read_town_report(request.user):
        raise Http404("没有找到该文件。")
    return export


@login_required
@require_GET
def export_list(request):
    items = (
        Export.objects.filter(requested_by=request.user)
        .select_related("village", "sample")
        .order_by("-created_at")[:50]
    )
    return render(request, "reports/exports.html", {"exports": items, "list_jobs": list_exports.jobs_of(request.user)})


@login_required
@require_GET
def export_detail(request, public_id):
    return render(request, "reports/export.html", {"export": get_export_for_user(request, public_id)})


@login_required
@require_GET
def export_status(request, public_id):
    """What the page's script polls: progress and whether to reload."""
    export = get_export_for_user(request, public_id)
    return JsonResponse(
        {
            "status": export.status,
            "label": export.get_status_display(),
            "done": export.done,
            "total": export.total,
            "pending": export.is_pending,
        }
    )


@login_required
@require_POST
def export_retry(request, public_id):
    export = get_export_for_user(request, public_id)
    if export.full_ids:
        roles.require(roles.can_read_full_ids(request.user))
    try:
        exports.retry_export(export, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新排队生成。")
    return redirect("export_detail", public_id=export.public_id)


@login_required
@require_GET
def export_download(request, public_id):
    export = get_export_for_user(request, public_id)
    if export.full_ids:
        roles.require(roles.can_read_full_ids(request.user))
    if export.status != Export.Status.DONE or not export.file:
        raise Http404("文件尚未生成或已过期删除。")
    if export.is_report:
        what, rows = f"{export.get_kind_display()}（{export.get_fmt_display()}）", None
    else:
        what, rows = f"{export.scope_label}{_what('入户调查表（批量）', export.full_ids)}", export.done
    record_download(actor=request.user, what=what, obj=export, campaign=export.campaign, filters=request.GET, rows=rows)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename(),
        content_type=XLSX_TYPE if export.fmt == Export.Format.XLSX else "application/pdf",
    )
