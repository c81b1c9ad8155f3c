"""Downloads of the written report, the 公示 files and the policy flyer; a page listing them.

Each download is scoped to the reader (the report: the roles that see the whole town; a 公示
list: a village the reader's area covers; the flyer: anyone) and recorded in the audit trail
with who, what and which filters (`reports.downloads.record_download`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from cases import roles
from cases.access import get_current_campaign, get_public_campaign, get_village_for_user
from cases.models import Campaign, Notice, Village

from . import documents, exports, summary
from .downloads import record_download
from .workbook import XLSX_TYPE

PDF_TYPE = "application/pdf"
REPORT_KINDS = {"town": False, "closing": True}
FORMATS = {"pdf": ("PDF", PDF_TYPE), "xlsx": ("Excel", XLSX_TYPE)}


def _file(content: bytes, filename: str, content_type: str) -> HttpResponse:
    """A PDF opens in the browser (to print or save); a workbook is saved."""
    attachment = content_type != PDF_TYPE
    # (a signed-in reader's response is never cached: cases.middleware.PersonalDataMiddleware)
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": content_disposition_header(attachment, filename)},
    )


@login_required
@require_POST
def report(request, kind: str, fmt: str):
    """The town's written report to the county (kind "town", from phase 3) or the county's
    closing report ("closing", from phase 4), as PDF or workbook: one builder, the same figures,
    made by the worker (a county-size report takes minutes); the page of the job follows its
    progress and offers the file, whose download is recorded (reports.export_views)."""
    if kind not in REPORT_KINDS or fmt not in FORMATS:
        raise Http404
    if not roles.can_read_town_report(request.user):
        raise PermissionDenied("全镇报告只供镇社会事务办、领导组和县民政局下载。")
    campaign = get_current_campaign(request)
    closing = REPORT_KINDS[kind]
    if not summary.available(campaign, closing):
        raise Http404("第四阶段开始后才能生成督查落实情况报告。" if closing else "第三阶段开始后才能生成镇级报告。")
    export = exports.request_report(actor=request.user, campaign=campaign, closing=closing, fmt=fmt)
    return redirect("export_detail", public_id=export.public_id)


def get_notice_for_user(request, campaign: Campaign, code: str) -> Notice:
    """The notice of a village the user's area covers (404 for another village, and until the
    village's 公示 has been opened)."""
    village = get_village_for_user(request, code)
    notice = Notice.objects.filter(campaign=campaign, village=village).select_related("campaign__town").first()
    if notice is None:
        raise Http404("该村（社区）尚未公示。")
    notice.village = village
    return notice


@login_required
@require_GET
def notice_file(request, code: str, fmt: str):
    """A village's 公示 list for the notice board (PDF, A4 landscape) or as a workbook."""
    if fmt not in FORMATS:
        raise Http404
    campaign = get_current_campaign(request)
    notice = get_notice_for_user(request, campaign, code)
    tables = documents.notice_tables(campaign, notice.village)
    label, content_type = FORMATS[fmt]
    content = documents.notice_pdf(notice, tables) if fmt == "pdf" else documents.notice_xlsx(notice, tables)
    record_download(
        actor=request.user,
        what=f"{notice.village.name}公示名单（{label}）",
        obj=notice,
        campaign=campaign,
        filters=request.GET,
        rows=sum(len(t.rows) for t in tables),
    )
    return _file(content, documents.notice_filename(notice, fmt), content_type)


@require_GET
def flyer(request):
    """The policy flyer (送政策): public, no personal data, linked from the notice board."""
    campaign = get_public_campaign(request)
    if campaign is None:
        raise Http404("尚未设置复核行动。")
    content = documents.flyer_pdf(campaign)
    record_download(
        actor=request.user if request.user.is_authenticated else None,
        what="政策宣传单（PDF）",
        obj=campaign,
        campaign=campaign,
        filters=request.GET,
    )
    return _file(content, documents.flyer_filename(campaign), PDF_TYPE)


@login_required
@require_GET
def document_list(request):
    """What the reader may download: the reports (whole-town roles), each covered village's 公示
    files once its notice is open, and the flyer."""
    campaign = get_current_campaign(request)
    villages = list(Village.objects.visible_to(request.user).filter(town=campaign.town).order_by("order", "code"))
    notices = {n.village_id: n for n in Notice.objects.filter(campaign=campaign, village__in=villages)}
    whole_town = roles.can_read_town_report(request.user)
    return render(
        request,
        "reports/documents.html",
        {
            "campaign": campaign,
            "reports": [
                (kind, exports.REPORT_KINDS[closing].label, summary.available(campaign, closing))
                for kind, closing in REPORT_KINDS.items()
            ]
            if whole_town
            else [],
            "villages": [(v, notices.get(v.id)) for v in villages],
        },
    )
