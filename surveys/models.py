"""Door-to-door surveys (phase 2): forms A and B, their rows, signatures, and the
village reports and screening list that frame them."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.compiled import prefetched, rows_of
from cases.idnumber import mask_id
from cases.models import MONEY as REGISTRY_MONEY
from cases.models import Member

from .eligibility import DEDUCTIONS, EXCLUDED_INCOME, INCOME_CATEGORIES

# What a survey's form fills in on the survey row itself (its other sections are rows of their own).
HEADER_FIELDS = [
    "visit_date",
    "covered_persons",
    "deposits",
    "securities",
    "commercial_insurance",
    "money_owed",
    "business",
    "employs_others",
    "shop_fronts",
    "livestock",
    "flat_purchased_on",
    "major_build_on",
    "main_cause",
    "second_cause",
    "third_cause",
    "tag_serious_illness",
    "tag_severe_disability",
    "tag_lonely_elderly",
    "tag_single_parent",
    "tag_orphan",
    "tag_disaster",
    "dibao_reason",
    "flyer_delivered",
    "knows_policy",
    "findings",
    "recommendation",
    "recommendation_reason",
    "head_confirmation",
    "head_refusal_reason",
    "committee_opinion",
]

MONEY = {**REGISTRY_MONEY, "validators": [MinValueValidator(Decimal("0"))]}


class ScreeningEntry(models.Model):
    """大排查: a non-dibao hardship household put on the campaign's list for form B."""

    class Kind(models.TextChoices):
        POVERTY = "poverty", _("未脱贫建档立卡户")
        EDGE = "edge", _("低保边缘户")
        OTHER = "other", _("其他困难户")

    campaign = models.ForeignKey("cases.Campaign", on_delete=models.CASCADE, related_name="screening")
    household = models.ForeignKey("cases.Household", on_delete=models.CASCADE, related_name="screening")
    kind = models.CharField(_("排查类别"), max_length=10, choices=Kind.choices)
    from_registry = models.BooleanField(_("由花名册自动列入"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    # Removal keeps the row: who took the household off the list, when and why.
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    removed_reason = models.CharField(_("移出原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("排查对象")
        verbose_name_plural = _("排查对象")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household"], name="screening_once_per_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household}"


class SurveyQuerySet(models.QuerySet):
    def visible_to(self, user) -> SurveyQuerySet:
        from cases.models import Household

        return self.filter(household__in=Household.objects.visible_to(user))


class Survey(models.Model):
    class Form(models.TextChoices):
        A = "A", _("表A：城乡低保对象复核入户调查表")
        B = "B", _("表B：困难群众调查登记表（非低保户）")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        SUPERSEDED = "superseded", _("已被更正")

    class Cause(models.TextChoices):
        ILLNESS = "illness", _("因病")
        DISABILITY = "disability", _("因残")
        STUDY = "study", _("因学")
        DISASTER = "disaster", _("因灾")
        MARRIAGE = "marriage", _("因婚")
        NO_LAND = "no_land", _("缺土地")
        NO_WATER = "no_water", _("缺水")
        NO_SKILL = "no_skill", _("缺技术")
        NO_LABOUR = "no_labour", _("缺劳动力")
        NO_FUNDS = "no_funds", _("缺资金")
        TRANSPORT = "transport", _("交通条件落后")
        NO_DRIVE = "no_drive", _("自身发展动力不足")

    class HeadConfirmation(models.TextChoices):
        SIGNED = "signed", _("户主签字")
        THUMBPRINT = "thumbprint", _("户主按手印")
        REFUSED = "refused", _("户主拒绝签字")

    class Business(models.TextChoices):
        NONE = "", _("无")
        LEGAL_PERSON = "legal_person", _("企业法人")
        INDIVIDUAL = "individual", _("个体工商户")

    class Recommendation(models.TextChoices):
        # the same codes as the eligibility engine's OUTCOMES
        KEEP = "keep", _("保留")
        ADJUST = "adjust", _("调整金额或类别")
        EXIT = "exit", _("清退")
        ENROL = "enrol", _("新纳入")
        TEMPORARY = "temporary", _("临时救助")
        REJECT = "reject", _("不符合")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey("cases.Campaign", on_delete=models.PROTECT, related_name="surveys")
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="surveys")
    form = models.CharField(_("表式"), max_length=1, choices=Form.choices)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    late_reason = models.CharField(_("阶段外操作原因"), max_length=300, blank=True)

    visit_date = models.DateField(_("入户调查日期"), null=True, blank=True)
    covered_persons = models.PositiveSmallIntegerField(_("拟保障人数"), default=0)

    deposits = models.DecimalField(_("存款（元）"), default=0, **MONEY)
    securities = models.DecimalField(_("有价证券（元）"), default=0, **MONEY)
    commercial_insurance = models.DecimalField(_("商业保险现金价值（元）"), default=0, **MONEY)
    money_owed = models.DecimalField(_("债权（元）"), default=0, **MONEY)
    business = models.CharField(_("工商登记"), max_length=12, choices=Business.choices, blank=True)
    employs_others = models.BooleanField(_("雇佣他人"), default=False)
    shop_fronts = models.PositiveSmallIntegerField(_("经营性门面（处）"), default=0)
    livestock = models.CharField(_("养殖规模"), max_length=100, blank=True)
    flat_purchased_on = models.DateField(_("购买商品房日期"), null=True, blank=True)
    major_build_on = models.DateField(_("新建/翻建住房日期"), null=True, blank=True)

    main_cause = models.CharField(_("主要致困原因"), max_length=12, choices=Cause.choices, blank=True)
    second_cause = models.CharField(_("次要致困原因一"), max_length=12, choices=Cause.choices, blank=True)
    third_cause = models.CharField(_("次要致困原因二"), max_length=12, choices=Cause.choices, blank=True)
    tag_serious_illness = models.BooleanField(_("重病"), default=False)
    tag_severe_disability = models.BooleanField(_("重残"), default=False)
    tag_lonely_elderly = models.BooleanField(_("孤寡老人"), default=False)
    tag_single_parent = models.BooleanField(_("单亲"), default=False)
    tag_orphan = models.BooleanField(_("孤儿"), default=False)
    tag_disaster = models.BooleanField(_("受灾"), default=False)
    dibao_reason = models.TextField(_("享受低保原因"), blank=True)

    flyer_delivered = models.BooleanField(_("政策宣传单已送达"), default=False)
    knows_policy = models.BooleanField(_("知晓低保政策"), default=False)

    findings = models.TextField(_("调查情况"), blank=True)
    recommendation = models.CharField(_("调查结论"), max_length=10, choices=Recommendation.choices, blank=True)
    recommendation_reason = models.TextField(
        _("结论与系统建议不一致的理由"),
        blank=True,
        help_text=_("调查结论与系统测算建议不同时必须填写。"),
    )
    head_confirmation = models.CharField(_("户主确认"), max_length=12, choices=HeadConfirmation.choices, blank=True)
    head_refusal_reason = models.CharField(_("拒签原因"), max_length=200, blank=True)
    committee_opinion = models.TextField(_("村委会意见"), blank=True)

    # Stored with the submission so later readers see what the signers saw.
    header = models.JSONField(_("表头"), null=True, blank=True, help_text=_("提交时记录的县、镇、村、组、类型和身份"))
    result = models.JSONField(_("测算结果"), null=True, blank=True)
    per_capita_income = models.DecimalField(_("人均月收入"), max_digits=12, decimal_places=2, null=True, blank=True)
    suggested_outcome = models.CharField(_("系统建议"), max_length=10, choices=Recommendation.choices, blank=True)
    # Kept by the database: the town's bulk decision reads it, and the planner counts a column
    # where it would guess at a comparison of two (a guess of 0.5% for what is most surveys).
    engine_agrees = models.GeneratedField(
        expression=Q(recommendation=F("suggested_outcome")),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("结论与系统建议一致"),
    )
    suggested_amount = models.DecimalField(_("建议月补差"), max_digits=12, decimal_places=2, null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Bumped by every saved edit of the draft: a form that carries an older number is refused.
    edit_version = models.PositiveIntegerField(_("编辑版本"), default=1, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("入户调查")
        verbose_name_plural = _("入户调查")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household", "version"], name="survey_version_unique"),
            # At most one open draft and one valid submission per household and campaign.
            models.UniqueConstraint(
                fields=["campaign", "household"], condition=Q(status="draft"), name="one_draft_per_household"
            ),
            models.UniqueConstraint(
                fields=["campaign", "household"], condition=Q(status="submitted"), name="one_submission_per_household"
            ),
        ]
        indexes = [
            # coverage: the surveys of one campaign by household and status
            models.Index(fields=["campaign", "status", "household"], name="survey_coverage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_form_display()[:2]} 第{self.version}版"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def header_values(self) -> dict:
        """The form's header: as stored at submission, or read from the registry while a draft."""
        if self.header:
            return self.header
        h = self.household
        village = h.village
        return {
            "county": village.town.county,
            "town": village.town.name,
            "village": village.name,
            "group": h.group.name if h.group_id else "",
            "hukou_type": h.get_hukou_type_display(),
            "in_dibao": h.is_dibao,
            "dibao_class": h.dibao_class,
            "covered_persons": h.covered_persons,
            "monthly_amount": str(h.monthly_amount),
            "poverty_status": h.get_poverty_status_display() if h.poverty_status else "",
            "is_edge": h.is_edge,
            "is_tekun": h.is_tekun,
            "is_other_hardship": h.is_other_hardship,
        }

    def with_rows(self) -> Survey:
        """Load (or reload) every row of the survey in one query per kind, as prefetch_related
        would, by statements compiled once per process (`rows_of`)."""
        self._prefetched_objects_cache = {}
        self.__dict__.pop("_fingerprint", None)
        self.__dict__.pop("_assessment", None)
        members = rows_of(SurveyMember, "survey_id", self.pk)
        incomes = {m.pk: [] for m in members}
        for income in rows_of(SurveyIncome, "survey_member__survey_id", self.pk) if members else []:
            incomes[income.survey_member_id].append(income)
        for member in members:
            prefetched(member, "incomes", incomes[member.pk], survey_member=member)
        prefetched(self, "members", members, survey=self)
        for name, model in (
            ("deductions", SurveyDeduction),
            ("houses", SurveyHouse),
            ("vehicles", SurveyVehicle),
            ("supporters", SurveySupporter),
        ):
            prefetched(self, name, rows_of(model, "survey_id", self.pk), survey=self)
        household = self.household
        registered = rows_of(Member, "household_id", household.pk)
        prefetched(household, "members", registered, household=household)
        # Each row's registry member from the household's members, read once above (a member
        # since moved to another household is read on its own).
        registry = {m.pk: m for m in registered}
        elsewhere = [r.member_id for r in members if r.member_id and r.member_id not in registry]
        if elsewhere:
            registry.update({m.pk: m for m in Member.objects.filter(pk__in=elsewhere)})
        for row in members:
            if row.member_id:
                row.member = registry[row.member_id]
        return self

    def content_fingerprint(self) -> str:
        """A hash of everything the investigators sign; a change after signing voids the signatures.

        Kept until the rows are loaded again (`with_rows`), which every change does.
        """
        if "_fingerprint" not in self.__dict__:
            self.__dict__["_fingerprint"] = self._compute_fingerprint()
        return self.__dict__["_fingerprint"]

    def _compute_fingerprint(self) -> str:
        from cases.audit import snapshot

        data = {
            "survey": snapshot(self),
            "members": [
                (snapshot(m), sorted((i.category, str(i.amount)) for i in m.incomes.all())) for m in self.members.all()
            ],
            "deductions": sorted((d.kind, str(d.amount)) for d in self.deductions.all()),
            "houses": [snapshot(h) for h in self.houses.all()],
            "vehicles": [snapshot(v) for v in self.vehicles.all()],
            "supporters": [snapshot(s) for s in self.supporters.all()],
        }
        for key in (
            # written by the submission itself, not by the investigators
            "status",
            "header",
            "late_reason",
            "result",
            "per_capita_income",
            "suggested_outcome",
            "suggested_amount",
            "submitted_by",
            "submitted_at",
        ):
            data["survey"].pop(key, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class SurveyMember(models.Model):
    class Presence(models.TextChoices):
        PRESENT = "present", _("在户")
        MOVED_OUT = "moved_out", _("迁出")
        DIED = "died", _("死亡")
        MARRIED_OUT = "married_out", _("嫁出")
        NEW = "new", _("新增成员")

    class LeftOut(models.TextChoices):
        NONE = "", _("—")
        PRISON = "服刑", _("服刑")
        REHAB = "强制隔离戒毒", _("强制隔离戒毒")
        MISSING = "宣告失踪", _("宣告失踪")
        CLERGY = "出家满三年", _("出家满三年")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey("cases.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(_("姓名"), max_length=30)
    id_number = models.CharField(_("身份证号"), max_length=18)
    relationship = models.CharField(_("与户主关系"), max_length=2, choices=Member.Relationship.choices)
    presence = models.CharField(_("核实情况"), max_length=12, choices=Presence.choices, default=Presence.PRESENT)
    change_date = models.DateField(_("变动日期"), null=True, blank=True)
    change_reason = models.CharField(_("变动说明"), max_length=200, blank=True)
    co_resident = models.BooleanField(_("共同生活"), default=True)
    left_out_reason = models.CharField(_("不计入原因"), max_length=10, choices=LeftOut.choices, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("调查成员")
        verbose_name_plural = _("调查成员")
        ordering = ["survey", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "id_number"], name="survey_member_once"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def stays(self) -> bool:
        return self.presence in {self.Presence.PRESENT, self.Presence.NEW}

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def income_totals(self) -> dict[str, Decimal]:
        """Counted and excluded income of the member (from prefetched rows)."""
        totals = {"counted": Decimal("0.00"), "excluded": Decimal("0.00")}
        for income in self.incomes.all():
            totals["excluded" if income.is_excluded else "counted"] += income.amount
        return totals


class SurveyIncome(models.Model):
    survey_member = models.ForeignKey(SurveyMember, on_delete=models.CASCADE, related_name="incomes")
    category = models.CharField(_("收入类别"), max_length=16, choices=list(INCOME_CATEGORIES.items()))
    amount = models.DecimalField(_("近12个月收入（元）"), **MONEY)

    class Meta:
        verbose_name = _("收入")
        verbose_name_plural = _("收入")
        constraints = [
            models.UniqueConstraint(fields=["survey_member", "category"], name="income_once_per_category"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="income_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"

    @property
    def is_excluded(self) -> bool:
        """Recorded but not counted as income (domain.md §5)."""
        return self.category in EXCLUDED_INCOME


class SurveyDeduction(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="deductions")
    kind = models.CharField(_("扣减项目"), max_length=12, choices=list(DEDUCTIONS.items()))
    amount = models.DecimalField(_("近12个月金额（元）"), **MONEY)

    class Meta:
        verbose_name = _("扣减")
        verbose_name_plural = _("扣减")
        constraints = [models.UniqueConstraint(fields=["survey", "kind"], name="deduction_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class SurveyHouse(models.Model):
    # the fields the survey form fills in, in its order
    FIELDS = ("kind", "count", "area", "fit_out", "owner")

    class Kind(models.TextChoices):
        SELF_BUILT = "self_built", _("自建房")
        COMMERCIAL = "commercial", _("商品房")
        RESETTLEMENT = "resettlement", _("还建房")
        RENTED = "rented", _("租住")
        WITH_CHILDREN = "with_children", _("与子女同住")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="houses")
    kind = models.CharField(_("住房类型"), max_length=14, choices=Kind.choices)
    count = models.PositiveSmallIntegerField(_("套数"), default=1)
    area = models.DecimalField(
        _("面积（㎡）"), max_digits=7, decimal_places=1, default=0, validators=[MinValueValidator(0)]
    )
    fit_out = models.CharField(_("装修情况"), max_length=50, blank=True)
    owner = models.CharField(_("产权人"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("住房")
        verbose_name_plural = _("住房")

    def __str__(self) -> str:
        return self.get_kind_display()


class SurveyVehicle(models.Model):
    # the fields the survey form fills in, in its order
    FIELDS = ("kind", "count", "disability_vehicle")

    class Kind(models.TextChoices):
        CAR = "car", _("小汽车")
        MOTORBIKE = "motorbike", _("摩托车/电动车")
        FARM = "farm", _("农用车")
        MACHINERY = "machinery", _("大型农机具")
        BOAT = "boat", _("船舶")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="vehicles")
    kind = models.CharField(_("车辆类型"), max_length=10, choices=Kind.choices)
    count = models.PositiveSmallIntegerField(_("数量"), default=1, validators=[MinValueValidator(1)])
    disability_vehicle = models.BooleanField(_("残疾人功能性补偿代步车"), default=False)

    class Meta:
        verbose_name = _("车辆")
        verbose_name_plural = _("车辆")

    def __str__(self) -> str:
        return self.get_kind_display()


class SurveySupporter(models.Model):
    """赡养/扶养/抚养义务人 living outside the household."""

    # the fields the survey form fills in, in its order
    FIELDS = ("name", "relationship", "age", "health", "occupation", "annual_income", "household_size")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="supporters")
    name = models.CharField(_("姓名"), max_length=30)
    relationship = models.CharField(_("与申请人关系"), max_length=20)
    age = models.PositiveSmallIntegerField(_("年龄"), validators=[MaxValueValidator(120)])
    health = models.CharField(_("健康状况"), max_length=20, blank=True)
    occupation = models.CharField(_("职业"), max_length=30, blank=True)
    annual_income = models.DecimalField(_("年收入（元）"), default=0, **MONEY)
    household_size = models.PositiveSmallIntegerField(_("其家庭人口"), default=1)

    class Meta:
        verbose_name = _("赡养义务人")
        verbose_name_plural = _("赡养义务人")

    def __str__(self) -> str:
        return self.name


class SurveySignature(models.Model):
    """An investigator named on a survey; signed when signed_at is set.

    The fingerprint is the survey's content when signed: any later edit voids it.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="signatures")
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("调查人")
    )
    order = models.PositiveSmallIntegerField(default=0)
    signed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    method = models.CharField(_("签字方式"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("调查人签字")
        verbose_name_plural = _("调查人签字")
        ordering = ["survey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "investigator"], name="investigator_once_per_survey"),
        ]

    def __str__(self) -> str:
        return f"{self.investigator} {'已签' if self.signed_at else '未签'}"


class SurveyContent(models.Model):
    """The readable content of a draft at each fingerprint it has had.

    A signature names the fingerprint of the page the signer read; when the draft has
    changed since, this is what lets the page say what changed.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="contents")
    fingerprint = models.CharField(max_length=64)
    content = models.JSONField(_("内容"), help_text=_("项目: 值"))
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("调查内容版本")
        verbose_name_plural = _("调查内容版本")
        constraints = [
            models.UniqueConstraint(fields=["survey", "fingerprint"], name="survey_content_once"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} {self.fingerprint[:8]}"


class VillageReport(models.Model):
    """上报: a village hands its complete results to the town."""

    campaign = models.ForeignKey("cases.Campaign", on_delete=models.CASCADE, related_name="village_reports")
    village = models.ForeignKey("cases.Village", on_delete=models.PROTECT, related_name="reports")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)
    households = models.PositiveIntegerField(_("户数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("村级上报")
        verbose_name_plural = _("村级上报")
        constraints = [models.UniqueConstraint(fields=["campaign", "village"], name="one_report_per_village")]

    def __str__(self) -> str:
        return f"{self.village} {self.reported_at:%m-%d %H:%M}"

    def on_time(self) -> bool:
        return timezone.localtime(self.reported_at).date() <= self.campaign.village_report_deadline


class TownReport(models.Model):
    """The town's report to the county (due 11/10): who sent it and when; it locks the town's decisions.

    `figures` keeps what the report said when it was sent (counts, the sample's estimates),
    so a later reader sees the report as the county received it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.OneToOneField("cases.Campaign", on_delete=models.PROTECT, related_name="town_report")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    late_reason = models.CharField(_("逾期原因"), max_length=300, blank=True)
    figures = models.JSONField(_("报告数据"), default=dict)

    class Meta:
        verbose_name = _("镇级报告")
        verbose_name_plural = _("镇级报告")

    def __str__(self) -> str:
        return f"镇级报告 {self.sent_at:%Y-%m-%d %H:%M}"

    def on_time(self) -> bool:
        return timezone.localtime(self.sent_at).date() <= self.campaign.county_report_deadline


class Sample(models.Model):
    """A re-verification sample: the town's (≥20%, phase 3) or the county's (≥10%, phase 4).

    Drawn once, reproducibly: the seed, the ratio, who drew it and when are kept, and
    anyone can re-derive the list (`manage.py verify_sample`). Nothing is ever removed.
    """

    class Level(models.TextChoices):
        TOWN = "town", _("镇级入户核实")
        COUNTY = "county", _("县级抽查")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey("cases.Campaign", on_delete=models.PROTECT, related_name="samples")
    level = models.CharField(_("层级"), max_length=8, choices=Level.choices)
    seed = models.CharField(_("随机种子"), max_length=64)
    ratio = models.DecimalField(_("抽样比例（%）"), max_digits=5, decimal_places=2)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(_("抽样时间"), default=timezone.now)

    class Meta:
        verbose_name = _("抽查样本")
        verbose_name_plural = _("抽查样本")
        constraints = [models.UniqueConstraint(fields=["campaign", "level"], name="one_sample_per_level")]

    def __str__(self) -> str:
        return f"{self.get_level_display()}（{self.drawn_at:%Y-%m-%d %H:%M}）"


class SampleEntry(models.Model):
    """A household in a sample: drawn at random, checked in full, or added by the town with a reason."""

    class Reason(models.TextChoices):
        DRAWN = "drawn", _("随机抽取")
        FULL_CHECK = "full_check", _("全面核查")
        ADDED = "added", _("另行增加")

    # sample and village: read through the indexes below, which lead with them (a draw writes
    # some 16,000 entries at once; each index more is written for every one)
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="entries", db_index=False)
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="sample_entries")
    village = models.ForeignKey("cases.Village", on_delete=models.PROTECT, related_name="+", db_index=False)
    reason = models.CharField(_("入样方式"), max_length=12, choices=Reason.choices)
    # Drawn: its place in the village's draw order; the others: 0.
    rank = models.PositiveIntegerField(_("抽取顺序"), default=0)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("样本户")
        verbose_name_plural = _("样本户")
        ordering = ["village__order", "reason", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["sample", "household"], name="household_once_per_sample")]
        indexes = [
            # the sample page: one village's entries, a page at a time in the page's order
            models.Index(fields=["sample", "village", "reason", "rank", "id"], name="sample_entry_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.household}"


class Revisit(models.Model):
    """核查: the town's (or county's) re-visit of a sampled household, compared field by field
    with the village survey. Signed by at least two verifiers like a village survey; once
    submitted, its differences with the village survey are kept for a verdict each."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("核查中")
        SUBMITTED = "submitted", _("已提交")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.OneToOneField(SampleEntry, on_delete=models.PROTECT, related_name="revisit")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="revisits")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    visit_date = models.DateField(_("核查日期"), null=True, blank=True)
    covered_persons = models.PositiveSmallIntegerField(_("拟保障人数"), default=0)
    financial_assets = models.DecimalField(_("金融资产合计（元）"), default=0, **MONEY)
    refusing_vehicle = models.BooleanField(_("有小汽车、船舶或大型农机具（非残疾人代步车）"), default=False)
    registered_business = models.BooleanField(_("登记经营企业或个体户"), default=False)
    employs_others = models.BooleanField(_("雇佣他人"), default=False)
    shop_fronts = models.PositiveSmallIntegerField(_("经营性门面（处）"), default=0)
    main_cause = models.CharField(_("主要致困原因"), max_length=12, choices=Survey.Cause.choices, blank=True)
    recommendation = models.CharField(_("核查结论"), max_length=10, choices=Survey.Recommendation.choices, blank=True)
    findings = models.TextField(_("核查情况"), blank=True)
    # The engine on what the verifiers found, stored with the submission like a survey's.
    suggested_outcome = models.CharField(
        _("系统建议"), max_length=10, choices=Survey.Recommendation.choices, blank=True
    )
    suggested_amount = models.DecimalField(_("建议月补差"), max_digits=12, decimal_places=2, null=True, blank=True)
    edit_version = models.PositiveIntegerField(_("编辑版本"), default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("入户核查")
        verbose_name_plural = _("入户核查")

    def __str__(self) -> str:
        return f"{self.entry.sample.get_level_display()} {self.get_status_display()}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def content_fingerprint(self) -> str:
        """A hash of everything the verifiers sign."""
        from cases.audit import snapshot

        data = {
            "revisit": {k: v for k, v in snapshot(self).items() if k not in {"status", "submitted_by", "submitted_at"}},
            "members": [snapshot(m) for m in self.members.all()],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class RevisitMember(models.Model):
    """One member as the verifier found them: present, counted in the household, income by kind."""

    revisit = models.ForeignKey(Revisit, on_delete=models.CASCADE, related_name="members")
    survey_member = models.ForeignKey(SurveyMember, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("在户"), default=True)
    counted = models.BooleanField(_("计入家庭人口"), default=True)
    # category -> annual yuan as text (the categories of surveys.eligibility)
    incomes = models.JSONField(_("近12个月收入"), default=dict)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("核查成员")
        verbose_name_plural = _("核查成员")
        ordering = ["revisit", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["revisit", "survey_member"], name="revisit_member_once"),
        ]

    def __str__(self) -> str:
        return self.survey_member.name


class RevisitSignature(models.Model):
    """A verifier named on a re-visit; signed when signed_at is set, on the content with that fingerprint."""

    revisit = models.ForeignKey(Revisit, on_delete=models.CASCADE, related_name="signatures")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    method = models.CharField(_("签字方式"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("核查人签字")
        verbose_name_plural = _("核查人签字")
        constraints = [models.UniqueConstraint(fields=["revisit", "verifier"], name="verifier_once_per_revisit")]

    def __str__(self) -> str:
        return f"{self.verifier} {'已签' if self.signed_at else '未签'}"


class Difference(models.Model):
    """A field on which the re-visit found other than the village survey, with its verdict.

    Attributed to the village survey's signing investigators (谁调查、谁签字、谁负责)."""

    class Verdict(models.TextChoices):
        RECORDING = "recording", _("村级记录错误")
        CHANGED = "changed", _("调查后情况变化")
        HOUSEHOLD = "household", _("疑似家庭虚报")
        INVESTIGATOR = "investigator", _("疑似调查人弄虚作假")

    revisit = models.ForeignKey(Revisit, on_delete=models.PROTECT, related_name="differences")
    key = models.CharField(max_length=60)
    label = models.CharField(_("项目"), max_length=100)
    village_value = models.CharField(_("村级调查"), max_length=200, blank=True)
    revisit_value = models.CharField(_("入户核查"), max_length=200, blank=True)
    material = models.BooleanField(_("影响认定或金额"), default=False)
    verdict = models.CharField(_("认定"), max_length=12, choices=Verdict.choices, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    judged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("核查差异")
        verbose_name_plural = _("核查差异")
        ordering = ["revisit", "id"]
        constraints = [models.UniqueConstraint(fields=["revisit", "key"], name="difference_once_per_field")]

    def __str__(self) -> str:
        return f"{self.label}：{self.village_value} → {self.revisit_value}"
