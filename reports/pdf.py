"""The county's forms as PDF: survey form A (附表1) and form B (附表2), and the town's re-visit
record, rendered by WeasyPrint from templates/reports/pdf/ with static/css/print.css.

Each form is a document of its own, so that its pages are numbered 第 x 页 共 y 页 within the
form; a batch joins the pages of several forms (`write_pdf`). The font configuration and the
stylesheet are made once per process: a worker renders hundreds of forms with them.

Personal data: ID numbers are masked unless the caller passes `full_ids=True`, which it does
only after recording the reveal (reports.exports.record_reveal).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import gc
import re
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from cases.idnumber import IdNumberError, mask_id, parse_id
from cases.models import Member
from surveys.eligibility import DEDUCTIONS, EXCLUDED_INCOME, INCOME_CATEGORIES
from surveys.models import Difference, Revisit, RevisitSignature, Survey, SurveyMember, SurveySignature
from surveys.revisits import comparison

# The members table groups the counted income as the county form does; every category
# appears on its own in the income details below it.
INCOME_GROUPS = {
    "工资性收入": ["wage"],
    "经营净收入": ["crop", "livestock", "business"],
    "财产净收入": ["rent", "interest", "land"],
    "转移净收入": ["support", "pension", "unemployment", "compensation", "donation"],
    "其他收入": ["other"],
}
FORM_NUMBERS = {Survey.Form.A: "附表1", Survey.Form.B: "附表2"}
FORM_TITLES = {
    Survey.Form.A: "无为县城乡居民最低生活保障对象复核入户调查表",
    Survey.Form.B: "无为县困难群众调查登记表（非低保户）",
}
CAUSE_RANKS = {"main_cause": "主要", "second_cause": "次要", "third_cause": "次要"}
TAGS = [
    ("tag_serious_illness", "重病"),
    ("tag_severe_disability", "重残"),
    ("tag_lonely_elderly", "孤寡老人"),
    ("tag_single_parent", "单亲"),
    ("tag_orphan", "孤儿"),
    ("tag_disaster", "受灾"),
]


# --- loading -------------------------------------------------------------------------------


def surveys_for_print(surveys: QuerySet[Survey]) -> QuerySet[Survey]:
    """Everything a printed survey shows, in a fixed number of queries whatever the count:
    the survey with its place and users (1), then its members (1), their incomes (1),
    deductions, houses, vehicles, supporters (4) and signatures with their signers (1)."""
    return surveys.select_related(
        "campaign__town", "household__village__town", "household__group", "created_by", "submitted_by"
    ).prefetch_related(
        Prefetch("members", queryset=SurveyMember.objects.order_by("order", "id")),
        "members__incomes",
        "deductions",
        "houses",
        "vehicles",
        "supporters",
        Prefetch("signatures", queryset=SurveySignature.objects.select_related("investigator__profile")),
    )


def revisits_for_print(revisits: QuerySet[Revisit]) -> QuerySet[Revisit]:
    """A re-visit with its sample and household (1 query), its members, signatures and
    differences (3); its village survey comes from `surveys_for_print` (see `attach_surveys`)."""
    return revisits.select_related(
        "entry__sample", "entry__household__village__town", "entry__household__group", "created_by", "submitted_by"
    ).prefetch_related(
        "members",
        Prefetch("signatures", queryset=RevisitSignature.objects.select_related("verifier__profile")),
        Prefetch("differences", queryset=Difference.objects.select_related("judged_by")),
    )


def attach_surveys(revisits: Iterable[Revisit], surveys: Iterable[Survey]) -> None:
    """Give each re-visit its village survey from surveys already loaded for print (no query);
    a re-visit whose survey is not among them (corrected since) has it loaded (8 queries for all
    of those)."""
    by_pk = {s.pk: s for s in surveys}
    missing = [r.survey_id for r in revisits if r.survey_id not in by_pk]
    if missing:
        by_pk.update({s.pk: s for s in surveys_for_print(Survey.objects.filter(pk__in=missing))})
    for revisit in revisits:
        revisit.survey = by_pk[revisit.survey_id]
        # RevisitMember.survey_member: the survey's own member rows, already loaded
        members = {m.pk: m for m in revisit.survey.members.all()}
        for row in revisit.members.all():
            row.survey_member = members[row.survey_member_id]


# --- what a form shows ---------------------------------------------------------------------


@dataclass
class MemberLine:
    number: int
    name: str
    id_number: str
    sex: str
    age: str
    relationship: str
    presence: str
    change: str
    counted: bool
    counted_text: str
    groups: list[Decimal]
    excluded: Decimal
    incomes: list[tuple[str, Decimal, bool]] = field(default_factory=list)


def _sum(amounts) -> Decimal:
    return sum(amounts, Decimal("0.00"))


def _person(id_number: str, on: dt.date | None) -> tuple[str, str]:
    """Sex and age at the visit, read from the ID number (the registry derives them the same way)."""
    try:
        info = parse_id(id_number)
    except IdNumberError:
        return "—", "—"
    sex = "男" if info.sex == "M" else "女"
    if on is None:
        return sex, "—"
    b = info.birth_date
    return sex, str(on.year - b.year - ((on.month, on.day) < (b.month, b.day)))


def _member_lines(survey: Survey, *, full_ids: bool) -> list[MemberLine]:
    lines = []
    for number, m in enumerate(survey.members.all(), start=1):
        amounts = {i.category: i.amount for i in m.incomes.all()}
        counted = m.stays and m.co_resident and not m.left_out_reason
        if m.left_out_reason:
            counted_text = f"否（{m.get_left_out_reason_display()}）"
        elif not m.stays:
            counted_text = "否（不在户）"
        elif not m.co_resident:
            counted_text = "否（不共同生活）"
        else:
            counted_text = "是"
        sex, age = _person(m.id_number, survey.visit_date)
        change = "；".join(
            part for part in (m.change_date.isoformat() if m.change_date else "", m.change_reason) if part
        )
        lines.append(
            MemberLine(
                number=number,
                name=m.name,
                id_number=m.id_number if full_ids else mask_id(m.id_number),
                sex=sex,
                age=age,
                relationship=m.get_relationship_display(),
                presence=m.get_presence_display(),
                change=change,
                counted=counted,
                counted_text=counted_text,
                groups=[_sum(amounts.get(c, 0) for c in cats) for cats in INCOME_GROUPS.values()],
                excluded=_sum(amounts.get(c, 0) for c in EXCLUDED_INCOME),
                incomes=[
                    (INCOME_CATEGORIES[c], amounts[c], c in EXCLUDED_INCOME) for c in INCOME_CATEGORIES if c in amounts
                ],
            )
        )
    return lines


def _signer(user) -> str:
    profile = getattr(user, "profile", None)
    name = profile.display_name if profile is not None and profile.display_name else ""
    return f"{name}（{user.username}）" if name else user.username


def survey_context(survey: Survey, *, full_ids: bool) -> dict:
    """The template's context for one survey loaded by `surveys_for_print` (no query)."""
    members = _member_lines(survey, full_ids=full_ids)
    head = next((m for m in members if m.relationship == Member.Relationship.HEAD.label), None)
    causes = {getattr(survey, name): rank for name, rank in CAUSE_RANKS.items() if getattr(survey, name)}
    deductions = {d.kind: d.amount for d in survey.deductions.all()}
    return {
        "survey": survey,
        "hv": survey.header_values(),
        "result": survey.result or {},
        "form_number": FORM_NUMBERS[survey.form],
        "form_title": FORM_TITLES[survey.form],
        "head": head,
        "members": members,
        "staying": sum(1 for m in members if m.counted),
        "any_income": any(m.incomes for m in members),
        "income_groups": list(INCOME_GROUPS),
        "group_totals": [_sum(m.groups[i] for m in members if m.counted) for i in range(len(INCOME_GROUPS))],
        "deductions": [(label, deductions.get(kind)) for kind, label in DEDUCTIONS.items()],
        "causes": [(label, causes.get(value, "")) for value, label in Survey.Cause.choices],
        "tags": [(label, getattr(survey, name)) for name, label in TAGS],
        "recommendations": Survey.Recommendation.choices,
        "confirmations": Survey.HeadConfirmation.choices,
        "businesses": [c for c in Survey.Business.choices if c[0]],
        "signatures": [(_signer(s.investigator), s) for s in survey.signatures.all()],
        "full_ids": full_ids,
        "printed_at": timezone.localtime(),
    }


def revisit_context(revisit: Revisit, *, full_ids: bool) -> dict:
    """The template's context for one re-visit (its survey attached by `attach_surveys`)."""
    survey = revisit.survey
    head = next((m for m in survey.members.all() if m.relationship == Member.Relationship.HEAD), None)
    return {
        "revisit": revisit,
        "survey": survey,
        "entry": revisit.entry,
        "household": revisit.entry.household,
        "hv": survey.header_values(),
        "head_name": head.name if head else "",
        "members": [
            {
                "name": row.survey_member.name,
                "id_number": row.survey_member.id_number if full_ids else mask_id(row.survey_member.id_number),
                "relationship": row.survey_member.get_relationship_display(),
                "present": row.present,
                "counted": row.counted,
                "incomes": [
                    (label, Decimal(row.incomes[c])) for c, label in INCOME_CATEGORIES.items() if c in row.incomes
                ],
            }
            for row in revisit.members.all()
        ],
        "comparison": comparison(revisit),
        "differences": list(revisit.differences.all()),
        "signatures": [(_signer(s.verifier), s) for s in revisit.signatures.all()],
        "full_ids": full_ids,
        "printed_at": timezone.localtime(),
    }


# --- rendering -----------------------------------------------------------------------------


# The forms' font: the system's Noto Serif CJK SC cut down to GB 2312 and the punctuation and
# symbol blocks (9,000 glyphs) by scripts/subset_fonts.py, which `make` runs. A PDF embeds a
# subset of each face it uses, made from the whole face: for the system's Noto, regular and bold,
# 26 MB read and 65,000 glyphs subset on every form (0.1 s of a form's 0.35 s). print.css names
# the system's Noto next: it draws a rarer character (a name's 堃), and whole forms until the
# cut-down faces are made.
FONT_DIR = settings.BASE_DIR / "var" / "fonts"
FORM_FONT = "Noto Serif SC Form"
FORM_FONT_FILES = {"normal": "NotoSerifSCForm-Regular.otf", "bold": "NotoSerifSCForm-Bold.otf"}


@functools.cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _font_faces() -> str:
    """@font-face rules for the forms' font, if both its faces have been made."""
    paths = {weight: FONT_DIR / name for weight, name in FORM_FONT_FILES.items()}
    if not all(path.is_file() for path in paths.values()):
        return ""
    return "".join(
        f'@font-face {{ font-family: "{FORM_FONT}"; font-weight: {weight}; src: url("{path.as_uri()}") }}'
        for weight, path in paths.items()
    )


@functools.cache
def _stylesheets() -> list:
    from weasyprint import CSS

    sheets = [CSS(filename=finders.find("css/print.css"), font_config=_font_config())]
    if faces := _font_faces():
        sheets.insert(0, CSS(string=faces, font_config=_font_config()))
        atexit.register(_remove_font_copies, _font_config())
    return sheets


def _remove_font_copies(font_config) -> None:
    """WeasyPrint copies @font-face fonts to a folder of its own, to be removed with the font
    configuration, which at exit comes too late to remove anything (WeasyPrint issue 2090):
    without this, every process would leave 6 MB in /tmp."""
    if folder := getattr(font_config, "_folder", None):
        shutil.rmtree(folder, ignore_errors=True)
        font_config._folder = None


# White space between tags: the templates' indentation, which WeasyPrint would otherwise turn
# into text boxes to lay out (a quarter of a form's time). Spacing on the forms is CSS's.
_BETWEEN_TAGS = re.compile(r">[ \t\r\n]+<")


# Python's cyclic garbage collector is held off while WeasyPrint lays out or writes a form. A form
# is some 38,000 objects (styles, boxes, text layouts), all alive until it is written: the
# collector, run every 700 allocations, scanned them again and again and, once they reached the
# oldest generation, everything else the process holds (0.1 s of a form's 0.45 s; 22 s of a
# 150-form batch's 65 s, with 25 forms alive at a time). WeasyPrint leaves a form in reference
# cycles: the collector frees it afterwards, a batch's forms when the next batch is written
# (`write_pdf`), which keeps a worker's memory flat (about two batches).
_gc_lock = threading.Lock()
_gc_holds = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _collector_held():
    global _gc_holds, _gc_was_enabled
    with _gc_lock:
        if _gc_holds == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holds += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holds -= 1
            if _gc_holds == 0 and _gc_was_enabled:
                gc.enable()


def render(template: str, context: dict):
    """One form as a laid-out WeasyPrint document (its pages numbered within it)."""
    from weasyprint import HTML

    with _collector_held():
        html = _BETWEEN_TAGS.sub("><", render_to_string(template, context))
        return HTML(string=html).render(stylesheets=_stylesheets(), font_config=_font_config())


def render_survey(survey: Survey, *, full_ids: bool = False):
    return render("reports/pdf/survey.html", survey_context(survey, full_ids=full_ids))


def render_revisit(revisit: Revisit, *, full_ids: bool = False):
    return render("reports/pdf/revisit.html", revisit_context(revisit, full_ids=full_ids))


def write_pdf(documents: list, target=None, *, title: str = "") -> bytes | None:
    """The pages of several documents as one PDF (bytes, or written to `target`)."""
    if len(documents) > 1:
        gc.collect()  # a batch: the previous batch's forms (see _collector_held)
    with _collector_held():
        pages = [page for document in documents for page in document.pages]
        joined = documents[0].copy(pages)
        if title:
            joined.metadata.title = title
        return joined.write_pdf(target)
