"""Every file that leaves the system is recorded: who, what, with which filters.

`record_download` writes one audit row (action 下载) for a PDF, a workbook or a batch,
in the caller's transaction. Filters are kept as the page shows them, except a search
text that is (part of) an ID number: that is written as "按身份证号查找" only, since a
number or its digits never enter the audit trail.
"""

from __future__ import annotations

from django.db import models

from cases import audit
from cases.models import AuditEvent, Campaign, id_search_kind

ID_SEARCH = "按身份证号查找"


def safe_filters(filters) -> dict[str, str]:
    """The filters as plain strings, empty ones left out, ID-number searches replaced."""
    out: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if hasattr(filters, "getlist"):
            value = ",".join(filters.getlist(key))
        value = str(value).strip()
        if key in ("page", "csrfmiddlewaretoken") or not value:
            continue
        out[key] = ID_SEARCH if id_search_kind(value) else value[:100]
    return out


def record_download(
    *,
    actor,
    what: str,
    obj: models.Model,
    campaign: Campaign | None = None,
    household=None,
    filters=None,
    rows: int | None = None,
) -> AuditEvent | None:
    """One audit row for a download: `what` names the file (say "公示名单（PDF）"), `obj` the
    thing it is of (the campaign, a village, a survey), `filters` the request's query."""
    after = {"文件": what}
    kept = safe_filters(filters)
    if kept:
        after["筛选"] = "；".join(f"{k}={v}" for k, v in kept.items())
    if rows is not None:
        after["行数"] = rows
    return audit.record(
        actor=actor,
        action=AuditEvent.Action.DOWNLOAD,
        obj=obj,
        after=after,
        household=household,
        campaign=campaign,
        reason=f"下载{what}",
    )
