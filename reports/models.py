"""Files the system makes in the background (a village's survey forms as one PDF, ...):
who asked, for what, how far the worker has got, and where the file is until it expires."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _


class ExportStorage(LazyObject):
    """EXPORT_ROOT, with no URL: a file is only ever sent by the download view, which checks
    the reader. (Lazy, so that tests can point EXPORT_ROOT elsewhere.)"""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.EXPORT_ROOT, base_url=None)


export_storage = ExportStorage()


@receiver(setting_changed)
def _export_root_changed(*, setting, **kwargs):
    if setting == "EXPORT_ROOT":
        export_storage._wrapped = empty


def _storage():
    return export_storage


class Export(models.Model):
    class Kind(models.TextChoices):
        SURVEY_FORMS = "survey_forms", _("入户调查表（PDF）")
        # The whole campaign's written reports (reports.summary): the town's to the county (11/10)
        # and the county's closing report, as PDF or workbook (`fmt`).
        TOWN_REPORT = "town_report", _("镇级复核核实情况报告（报县）")
        CLOSING_REPORT = "closing_report", _("督查落实情况报告")

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期删除")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    campaign = models.ForeignKey("cases.Campaign", on_delete=models.PROTECT, related_name="+")
    # The scope: one village, or one re-verification sample (all its villages).
    village = models.ForeignKey("cases.Village", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sample = models.ForeignKey("surveys.Sample", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    full_ids = models.BooleanField(_("含完整身份证号"), default=False)
    fmt = models.CharField(_("格式"), max_length=4, choices=Format.choices, default=Format.PDF)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("应生成份数"), default=0)
    done = models.PositiveIntegerField(_("已生成份数"), default=0)
    error = models.CharField(_("失败原因"), max_length=300, blank=True)
    # Each start (the first and every retry) counts up; a job started by an older count stops.
    attempt = models.PositiveSmallIntegerField(_("第几次生成"), default=1)
    file = models.FileField(_("文件"), storage=_storage, blank=True)
    size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # Written with each chunk's progress: a running job whose beat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出文件")
        verbose_name_plural = _("导出文件")
        constraints = [
            # forms: of one village or one sample; a report: the whole campaign, no personal data
            models.CheckConstraint(
                condition=Q(
                    Q(village__isnull=False, sample__isnull=True) | Q(village__isnull=True, sample__isnull=False),
                    kind="survey_forms",
                    fmt="pdf",
                )
                | Q(
                    kind__in=["town_report", "closing_report"],
                    village__isnull=True,
                    sample__isnull=True,
                    full_ids=False,
                ),
                name="export_scope_fits_kind",
            ),
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="export_done_within_total"),
        ]
        indexes = [
            # the export page: one user's jobs, newest first
            models.Index(fields=["requested_by", "-created_at"], name="export_requester_idx"),
            # cleanup: finished files past their time
            models.Index(fields=["status", "expires_at"], name="export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label} {self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def is_report(self) -> bool:
        return self.kind != self.Kind.SURVEY_FORMS

    @property
    def scope_label(self) -> str:
        if self.village_id:
            return self.village.name
        if self.sample_id:
            return self.sample.get_level_display() + "样本"
        return "全镇"

    @property
    def unit(self) -> str:
        """What `done` and `total` count: households for forms, steps for a report."""
        return "步" if self.is_report else "户"

    @property
    def is_stalled(self) -> bool:
        """Running, but no progress for EXPORT_STALL_MINUTES: its worker is gone."""
        if self.status != self.Status.RUNNING:
            return False
        beat = self.heartbeat_at or self.started_at or self.created_at
        return timezone.now() - beat > dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING} and not self.is_stalled

    @property
    def can_retry(self) -> bool:
        return self.status in {self.Status.FAILED, self.Status.EXPIRED} or self.is_stalled

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def filename(self) -> str:
        """What the browser saves it as (Chinese, without anything personal)."""
        made = timezone.localtime(self.finished_at or self.created_at)
        if self.is_report:
            return f"{self.get_kind_display()}_{made:%Y%m%d_%H%M}.{self.fmt}"
        return f"{self.scope_label}入户调查表_{made:%Y%m%d_%H%M}.pdf"


class TrainingSession(models.Model):
    """送政策 (二、3): a training of the town's and villages' cadres on the dibao policy and its
    procedure, with how many came from each village. Recorded by the town office."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey("cases.Campaign", on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("培训日期"))
    place = models.CharField(_("培训地点"), max_length=100)
    topic = models.CharField(_("培训内容"), max_length=200)
    # The town's own staff (社会事务办, the cadres assigned to the work groups) beside the villages'.
    town_attendees = models.PositiveSmallIntegerField(_("镇机关参加人数"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策培训")
        verbose_name_plural = _("政策培训")
        indexes = [
            # the training list: one campaign's sessions, latest first
            models.Index(fields=["campaign", "-held_on"], name="training_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%m月%d日} {self.topic}"


class TrainingAttendance(models.Model):
    """How many cadres of one village attended a training session (only villages that came)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendance")
    village = models.ForeignKey(
        "cases.Village", on_delete=models.PROTECT, related_name="+", verbose_name=_("村（社区）")
    )
    attendees = models.PositiveSmallIntegerField(_("参加人数"))

    class Meta:
        verbose_name = _("培训参加人数")
        verbose_name_plural = _("培训参加人数")
        constraints = [
            models.UniqueConstraint(fields=["session", "village"], name="one_attendance_per_village"),
            models.CheckConstraint(condition=Q(attendees__gt=0), name="attendance_positive"),
        ]
        indexes = [
            # the dashboard's per-village sums and a village cadre's list: by village
            models.Index(fields=["village", "session"], name="attendance_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.attendees}人"
