"""The campaign and its people: the ground floor every other app stands on."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .idnumber import mask_id, parse_id
from .roles import Role, area_filter, area_of, area_q, town_filter, village_scope

MONEY = {"max_digits": 12, "decimal_places": 2}
# The plan's floors for re-checks by the town and the county (泥政〔2019〕133号 二、1).
TOWN_RATIO_FLOOR = Decimal("20")
COUNTY_RATIO_FLOOR = Decimal("10")


class Town(models.Model):
    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("镇名"), max_length=50)
    county = models.CharField(_("县"), max_length=50)

    class Meta:
        verbose_name = _("乡镇")
        verbose_name_plural = _("乡镇")

    def __str__(self) -> str:
        return f"{self.county}{self.name}"


class VillageQuerySet(models.QuerySet):
    def visible_to(self, user) -> VillageQuerySet:
        scope = village_scope(user)
        if scope is not None:
            return self.filter(id__in=scope)
        town = town_filter(user)
        return self if town is None else self.filter(town_id=town)


class Village(models.Model):
    class Kind(models.TextChoices):
        RURAL = "rural", _("农村")
        URBAN = "urban", _("城市（社区）")

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="villages")
    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("村（社区）"), max_length=50)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = _("村（社区）")
        verbose_name_plural = _("村（社区）")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="village_name_unique_in_town"),
        ]

    def __str__(self) -> str:
        return self.name


class VillagerGroup(models.Model):
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveSmallIntegerField(_("组号"))
    name = models.CharField(_("村民小组"), max_length=30)

    class Meta:
        verbose_name = _("村民小组")
        verbose_name_plural = _("村民小组")
        ordering = ["village", "number"]
        constraints = [
            models.UniqueConstraint(fields=["village", "number"], name="group_number_unique_in_village"),
        ]

    def __str__(self) -> str:
        return f"{self.village.name}{self.name}"


class CampaignQuerySet(models.QuerySet):
    def current(self, town: int | None = None) -> Campaign | None:
        """The campaign `town` is running now (the latest active one); without a town, the
        installation's latest (one town, or a county account that has not chosen one)."""
        qs = self.filter(is_active=True) if town is None else self.filter(is_active=True, town_id=town)
        return qs.select_related("town").order_by("-created_at").first()

    def current_by_village(self, village_ids) -> dict[int, Campaign]:
        """The campaign each village's town is running now, in one query."""
        found: dict[int, Campaign] = {}
        rows = (
            self.filter(is_active=True, town__villages__in=list(village_ids))
            .annotate(village_pk=models.F("town__villages"))
            .order_by("-created_at")
        )
        for campaign in rows:
            found.setdefault(campaign.village_pk, campaign)
        return found


class Campaign(models.Model):
    """One review campaign with every rule parameter as editable data.

    Standards and thresholds marked unconfirmed in the domain notes are entered
    by the town office; nothing here is a constant in code.
    """

    class PhaseNumber(models.IntegerChoices):
        DEPLOY = 1, _("第一阶段：安排部署")
        REVIEW = 2, _("第二阶段：全面复核")
        VERIFY = 3, _("第三阶段：汇总核实")
        SUPERVISE = 4, _("第四阶段：督查落实")
        CLOSED = 5, _("行动已结束")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("行动名称"), max_length=100)
    document_number = models.CharField(_("文号"), max_length=50, blank=True)
    is_active = models.BooleanField(_("进行中"), default=True)
    current_phase = models.PositiveSmallIntegerField(
        _("当前阶段"), choices=PhaseNumber.choices, default=PhaseNumber.DEPLOY
    )
    village_report_deadline = models.DateField(_("村级上报截止日"))
    county_report_deadline = models.DateField(_("报县截止日"))
    # The plan fixes the village visit at 100% and sets floors for the higher levels'
    # re-checks (二、1 大走访): the ratios may be raised, never lowered below them.
    village_ratio = models.DecimalField(
        _("村级走访比例（%）"), max_digits=5, decimal_places=2, default=Decimal("100"), editable=False
    )
    town_ratio = models.DecimalField(
        _("镇级抽查比例（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[
            MinValueValidator(TOWN_RATIO_FLOOR, _("镇级抽查比例不得低于20%%（实施方案：镇级抽查要不低于20%%）。")),
            MaxValueValidator(100),
        ],
        help_text=_("不低于20%"),
    )
    county_ratio = models.DecimalField(
        _("县级抽查比例（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[
            MinValueValidator(COUNTY_RATIO_FLOOR, _("县级抽查比例不得低于10%%（实施方案：县级抽查将不低于10%%）。")),
            MaxValueValidator(100),
        ],
        help_text=_("不低于10%"),
    )
    urban_standard = models.DecimalField(_("城市低保标准（元/人·月）"), **MONEY, validators=[MinValueValidator(0)])
    rural_standard = models.DecimalField(_("农村低保标准（元/人·月）"), **MONEY, validators=[MinValueValidator(0)])
    standards_note = models.CharField(
        _("标准说明"),
        max_length=200,
        blank=True,
        help_text=_("例如：示例数值，请以县民政局公布的标准为准。"),
    )
    edge_multiplier = models.DecimalField(
        _("边缘户倍数"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(1)],
    )
    asset_multiplier = models.DecimalField(
        _("人均金融资产上限（月标准的倍数）"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("24"),
        validators=[MinValueValidator(0)],
    )
    asset_multiplier_severe = models.DecimalField(
        _("重病重残户人均金融资产上限（月标准的倍数）"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("48"),
        validators=[MinValueValidator(0)],
    )
    purchase_lookback_years = models.PositiveSmallIntegerField(
        _("购房建房回溯年数"), default=2, validators=[MaxValueValidator(10)]
    )
    minimum_amount = models.DecimalField(
        _("最低补差金额（元/月）"), **MONEY, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    # 公示: the plan's public notice of the results lasts seven days; a longer one is allowed.
    notice_days = models.PositiveSmallIntegerField(
        _("公示天数"),
        default=7,
        validators=[MinValueValidator(7, _("公示期不得少于7天。")), MaxValueValidator(30)],
    )
    # 渐退: a 建档立卡 household whose income rose may keep its dibao for a while after the exit
    # is approved; the length is not fixed by the plan (6–12 months are seen elsewhere). 0: none.
    gradual_exit_months = models.PositiveSmallIntegerField(
        _("渐退期（月）"), default=0, validators=[MaxValueValidator(24)], help_text=_("0表示不设渐退期")
    )
    # 四、3: the complaints hotline is published; every page shows it (base.html's footer).
    hotline = models.CharField(
        _("投诉举报电话"),
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(r"^[0-9][0-9-]{2,19}$", _("投诉举报电话只能包含数字和“-”，如 0553-1234567 或 12345。"))
        ],
        help_text=_("公开在每个页面底部"),
    )
    complaint_days = models.PositiveSmallIntegerField(
        _("投诉举报办理时限（天）"), default=15, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    # 先审批后评议: the democratic review a green-channel approval still owes is due this many days after it.
    green_review_days = models.PositiveSmallIntegerField(
        _("先审批后评议期限（天）"), default=30, validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    # 临时救助: what each level may approve on its own; above its limit the next level approves.
    # The figures for 无为县 2019 are unconfirmed: entered by the town office.
    aid_village_limit = models.DecimalField(
        _("村级先行救助限额（元）"),
        **MONEY,
        default=Decimal("500"),
        validators=[MinValueValidator(0)],
        help_text=_("村干部可先行救助的最高金额；0表示村级不先行救助"),
    )
    aid_town_limit = models.DecimalField(
        _("镇级临时救助审批限额（元）"),
        **MONEY,
        default=Decimal("3000"),
        validators=[MinValueValidator(0)],
        help_text=_("超过此金额须报县民政局审批"),
    )
    aid_county_limit = models.DecimalField(
        _("县级临时救助审批限额（元）"),
        **MONEY,
        default=Decimal("20000"),
        validators=[MinValueValidator(0)],
        help_text=_("单次救助的最高金额"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped by every saved edit: a form that carries an older number is refused (no lost updates).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("复核行动")
        verbose_name_plural = _("复核行动")
        constraints = [
            models.CheckConstraint(
                condition=Q(village_report_deadline__lte=models.F("county_report_deadline")),
                name="campaign_village_deadline_before_county",
            ),
            models.CheckConstraint(condition=Q(village_ratio=100), name="campaign_village_visits_everyone"),
            models.CheckConstraint(
                condition=Q(town_ratio__gte=TOWN_RATIO_FLOOR, town_ratio__lte=100), name="campaign_town_ratio_floor"
            ),
            models.CheckConstraint(
                condition=Q(county_ratio__gte=COUNTY_RATIO_FLOOR, county_ratio__lte=100),
                name="campaign_county_ratio_floor",
            ),
            models.CheckConstraint(
                condition=Q(aid_village_limit__lte=models.F("aid_town_limit"))
                & Q(aid_town_limit__lte=models.F("aid_county_limit")),
                name="campaign_aid_limits_rise_by_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def standard_for(self, hukou_type: str) -> Decimal:
        return self.urban_standard if hukou_type == Household.HukouType.URBAN else self.rural_standard


class Phase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveSmallIntegerField(_("阶段"), choices=Campaign.PhaseNumber.choices)
    name = models.CharField(_("名称"), max_length=30)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(_("主要任务"), blank=True)

    class Meta:
        verbose_name = _("阶段")
        verbose_name_plural = _("阶段")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="phase_number_unique"),
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="phase_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_number_display()}（{self.starts_on:%m/%d}–{self.ends_on:%m/%d}）"


class LeadershipMember(models.Model):
    class Role(models.TextChoices):
        HEAD = "head", _("组长")
        DEPUTY = "deputy", _("副组长")
        MEMBER = "member", _("成员")

    class OfficeRole(models.TextChoices):
        NONE = "", _("—")
        DIRECTOR = "director", _("办公室主任")
        STAFF = "staff", _("办公室成员")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leaders")
    name = models.CharField(_("姓名"), max_length=30)
    role = models.CharField(_("职务"), max_length=10, choices=Role.choices)
    office_role = models.CharField(_("办公室职务"), max_length=10, choices=OfficeRole.choices, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("领导组成员")
        verbose_name_plural = _("领导组成员")
        ordering = ["campaign", "order"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


class WorkGroup(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="work_groups")
    number = models.PositiveSmallIntegerField(_("组号"))
    name = models.CharField(_("名称"), max_length=50)
    villages = models.ManyToManyField(Village, related_name="work_groups", verbose_name=_("负责村（社区）"))

    class Meta:
        verbose_name = _("工作组")
        verbose_name_plural = _("工作组")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="work_group_number_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkGroupMember(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("组长")
        MEMBER = "member", _("成员")

    work_group = models.ForeignKey(WorkGroup, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=30)
    role = models.CharField(_("职务"), max_length=10, choices=Role.choices)
    position = models.CharField(_("身份"), max_length=50, blank=True, help_text=_("如：分工干部、村书记、村两委"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("工作组成员")
        verbose_name_plural = _("工作组成员")
        ordering = ["work_group", "role", "id"]

    def __str__(self) -> str:
        return f"{self.work_group.name} {self.get_role_display()} {self.name}"


class Profile(models.Model):
    """A user's role and area: what they may see and change."""

    Role = Role  # defined once, in cases/roles.py

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices)
    display_name = models.CharField(_("姓名"), max_length=30, blank=True)
    # The town of a town-bound role (roles.TOWN_BOUND): everything they see is of this town.
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("所属乡镇")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="cadres", verbose_name=_("村（社区）")
    )
    work_group = models.ForeignKey(
        WorkGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("工作组")
    )
    # Set when the office creates the account or resets its password: the person chooses their own.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="village") | Q(village__isnull=False), name="village_cadre_has_village"
            ),
            models.CheckConstraint(
                condition=~Q(role="work_group") | Q(work_group__isnull=False), name="work_group_user_has_group"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["county", "admin"]) | Q(town__isnull=False), name="town_bound_user_has_town"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.user.get_username()}（{self.get_role_display()}）"


# --- registry -----------------------------------------------------------------


# A full ID number, or its last digits (the check character may be X).
ID_DIGITS = re.compile(r"^[0-9]{1,17}[0-9X]?$")


def id_search_kind(text: str) -> str:
    """How a search text uses an ID number: "full", "last4", "fragment" (other digits), or "" (a name)."""
    text = text.strip().upper()
    if not text or not ID_DIGITS.match(text):
        return ""
    return {18: "full", 4: "last4"}.get(len(text), "fragment")


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user) -> HouseholdQuerySet:
        return self.in_area(*area_of(user))

    def in_area(self, villages: list[int] | None, town: int | None) -> HouseholdQuerySet:
        """`visible_to` for an area given as values (`roles.area_of`)."""
        return self.filter(area_filter(villages, town))

    def search(self, text: str) -> HouseholdQuerySet:
        """Households with a live member matching `text`: a full ID number, the last
        digits of one (an indexed prefix search on the reversed number), or any part
        of a name, so that 凤英 finds 梁凤英 (a trigram index on PostgreSQL)."""
        text = text.strip().upper()
        if not text:
            return self
        live = Member.objects.filter(status=Member.Status.PRESENT)
        kind = id_search_kind(text)
        if kind == "full":
            matching = live.filter(id_number=text)
        elif kind:
            matching = live.filter(id_reversed__startswith=text[::-1])
        elif len(text) >= 3:
            matching = live.filter(name__contains=text)  # trigram index on PostgreSQL
        else:
            # one or two characters: a surname or a given name (trigrams need three)
            matching = live.filter(Q(name__startswith=text) | Q(name_reversed__startswith=text[::-1]))
        return self.filter(id__in=matching.values("household_id"))

    def filtered(self, *, village=None, category: str = "", status: str = "", q: str = "") -> HouseholdQuerySet:
        """The household list's filters, shared by the page and its exports."""
        qs = self
        if village:
            qs = qs.filter(village=village)
        if category:
            qs = qs.filter(Household.category_q(category))
        if status:
            qs = qs.filter(dibao_status=status)
        return qs.search(q)


class Household(models.Model):
    class HukouType(models.TextChoices):
        URBAN = "urban", _("城市")
        RURAL = "rural", _("农村")

    class DibaoStatus(models.TextChoices):
        ACTIVE = "active", _("在保")
        NONE = "none", _("未在保")
        EXITED = "exited", _("已退保")

    class PovertyStatus(models.TextChoices):
        NONE = "", _("否")
        LIFTED = "lifted", _("建档立卡（已脱贫）")
        NOT_LIFTED = "not_lifted", _("建档立卡（未脱贫）")

    class Category(models.TextChoices):
        """Filterable categories; a household may carry several."""

        URBAN_DIBAO = "urban_dibao", _("城市低保")
        RURAL_DIBAO = "rural_dibao", _("农村低保")
        TEKUN = "tekun", _("特困供养")
        POVERTY = "poverty", _("建档立卡户")
        POVERTY_NOT_LIFTED = "poverty_not_lifted", _("建档立卡（未脱贫）")
        EDGE = "edge", _("低保边缘户")
        OTHER = "other", _("其他困难户")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("村（社区）")
    )
    group = models.ForeignKey(
        VillagerGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("村民小组"),
    )
    address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    hukou_type = models.CharField(_("户籍类型"), max_length=8, choices=HukouType.choices)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=50, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=30, blank=True)

    dibao_status = models.CharField(_("低保状态"), max_length=8, choices=DibaoStatus.choices, default=DibaoStatus.NONE)
    dibao_class = models.CharField(_("保障类别/档次"), max_length=20, blank=True)
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), default=0)
    monthly_amount = models.DecimalField(
        _("月保障金额（元）"), **MONEY, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    dibao_since = models.DateField(_("纳入低保日期"), null=True, blank=True)
    # Set when an approved decision takes effect: the month the current amount applies from,
    # and the date dibao ended for a household that exited.
    amount_since = models.DateField(_("现行金额起始月"), null=True, blank=True)
    dibao_ended_on = models.DateField(_("退保日期"), null=True, blank=True)
    is_tekun = models.BooleanField(_("特困供养"), default=False)
    poverty_status = models.CharField(_("建档立卡"), max_length=12, choices=PovertyStatus.choices, blank=True)
    is_edge = models.BooleanField(_("低保边缘户"), default=False)
    is_other_hardship = models.BooleanField(_("其他困难户"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped by every saved edit: a form that carries an older number is refused (no lost updates).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")
        indexes = [
            # the household list of one village, newest first
            models.Index(fields=["village", "-id"], name="household_village_list_idx"),
            # the same list filtered by dibao status
            models.Index(fields=["village", "dibao_status", "-id"], name="household_list_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(dibao_status="active") | Q(covered_persons__gte=1),
                name="active_dibao_covers_someone",
            ),
            models.CheckConstraint(condition=Q(monthly_amount__gte=0), name="household_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.village.name} {self.public_id.hex[:8]}"

    @property
    def is_dibao(self) -> bool:
        return self.dibao_status == self.DibaoStatus.ACTIVE

    def delete(self, *args, **kwargs):
        raise ValueError("家庭户有操作记录，不能删除；如已不存在，请修改其状态并写明原因。")

    # The fields the category labels are read from (lists fetch only these).
    LABEL_FIELDS = ("dibao_status", "hukou_type", "is_tekun", "poverty_status", "is_edge", "is_other_hardship")

    def category_labels(self) -> list[str]:
        return self.labels_for({name: getattr(self, name) for name in self.LABEL_FIELDS})

    @classmethod
    def labels_for(cls, row) -> list[str]:
        """The categories a household carries, from its LABEL_FIELDS (an instance's or a values() row)."""
        labels = []
        if row["dibao_status"] == cls.DibaoStatus.ACTIVE:
            urban = row["hukou_type"] == cls.HukouType.URBAN
            labels.append((cls.Category.URBAN_DIBAO if urban else cls.Category.RURAL_DIBAO).label)
        if row["is_tekun"]:
            labels.append(cls.Category.TEKUN.label)
        if row["poverty_status"]:
            labels.append(cls.PovertyStatus(row["poverty_status"]).label)
        if row["is_edge"]:
            labels.append(cls.Category.EDGE.label)
        if row["is_other_hardship"]:
            labels.append(cls.Category.OTHER.label)
        return labels or [cls.DibaoStatus(row["dibao_status"]).label]

    @classmethod
    def category_q(cls, category: str) -> Q:
        C = cls.Category
        return {
            C.URBAN_DIBAO: Q(dibao_status=cls.DibaoStatus.ACTIVE, hukou_type=cls.HukouType.URBAN),
            C.RURAL_DIBAO: Q(dibao_status=cls.DibaoStatus.ACTIVE, hukou_type=cls.HukouType.RURAL),
            C.TEKUN: Q(is_tekun=True),
            C.POVERTY: ~Q(poverty_status=""),
            C.POVERTY_NOT_LIFTED: Q(poverty_status=cls.PovertyStatus.NOT_LIFTED),
            C.EDGE: Q(is_edge=True),
            C.OTHER: Q(is_other_hardship=True),
        }[category]

    def live_members(self) -> list[Member]:
        """Members still in the household; uses prefetched members when present."""
        return [m for m in self.members.all() if m.is_live]

    def head(self) -> Member | None:
        for m in self.live_members():
            if m.relationship == Member.Relationship.HEAD:
                return m
        return None


class Member(models.Model):
    class Relationship(models.TextChoices):
        # GB/T 4761 family relationship codes (two-digit groups)
        HEAD = "02", _("户主")
        SPOUSE = "10", _("配偶")
        SON = "20", _("子")
        DAUGHTER = "30", _("女")
        GRANDCHILD = "40", _("孙子/孙女")
        PARENT = "50", _("父母")
        GRANDPARENT = "60", _("祖父母")
        SIBLING = "70", _("兄弟姐妹")
        OTHER = "99", _("其他")

    class Status(models.TextChoices):
        PRESENT = "present", _("在户")
        MOVED_OUT = "moved_out", _("迁出")
        DIED = "died", _("死亡")
        MARRIED_OUT = "married_out", _("嫁出")

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Marital(models.TextChoices):
        UNMARRIED = "unmarried", _("未婚")
        MARRIED = "married", _("已婚")
        DIVORCED = "divorced", _("离异")
        WIDOWED = "widowed", _("丧偶")

    class Education(models.TextChoices):
        NONE = "none", _("文盲或半文盲")
        PRIMARY = "primary", _("小学")
        JUNIOR = "junior", _("初中")
        SENIOR = "senior", _("高中/中专")
        COLLEGE = "college", _("大专及以上")
        PRESCHOOL = "preschool", _("学龄前")

    class Health(models.TextChoices):
        HEALTHY = "healthy", _("健康")
        CHRONIC = "chronic", _("长期慢性病")
        SERIOUS = "serious", _("患有大病")
        DISABLED = "disabled", _("残疾")

    class Disability(models.TextChoices):
        NONE = "", _("—")
        VISION = "vision", _("视力")
        HEARING = "hearing", _("听力")
        SPEECH = "speech", _("言语")
        LIMB = "limb", _("肢体")
        INTELLECT = "intellect", _("智力")
        MENTAL = "mental", _("精神")
        MULTIPLE = "multiple", _("多重")

    class DisabilityGrade(models.IntegerChoices):
        ONE = 1, _("一级")
        TWO = 2, _("二级")
        THREE = 3, _("三级")
        FOUR = 4, _("四级")

    class WorkAbility(models.TextChoices):
        NORMAL = "normal", _("普通劳动力")
        SKILLED = "skilled", _("技能劳动力")
        WEAK = "weak", _("弱或半劳动力")
        LOST = "lost", _("丧失劳动力")
        NONE = "none", _("无劳动力")

    class Employment(models.TextChoices):
        PRESCHOOL = "preschool", _("学龄前")
        STUDENT = "student", _("在校")
        EMPLOYED = "employed", _("在职")
        FLEXIBLE = "flexible", _("灵活就业")
        UNEMPLOYED_REG = "unemployed_reg", _("登记失业")
        UNEMPLOYED = "unemployed", _("未登记失业")
        RETIRED = "retired", _("退休")
        FARMING = "farming", _("务农")

    class WorkPlace(models.TextChoices):
        NONE = "", _("—")
        TOWN = "town", _("乡内")
        COUNTY = "county", _("县内")
        PROVINCE = "province", _("省内")
        OUTSIDE = "outside", _("省外")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    # db_index also gives PostgreSQL a pattern index, so a name prefix search stays fast.
    name = models.CharField(_("姓名"), max_length=30, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18)
    # The ID number reversed: "last digits" searches become indexed prefix searches.
    id_reversed = models.CharField(max_length=18, db_index=True, editable=False)
    # The name reversed: a given name typed alone (凤英 for 梁凤英) is an indexed prefix
    # search too; set on every save (search-only, never recorded).
    name_reversed = models.CharField(max_length=30, db_index=True, editable=False, default="")
    relationship = models.CharField(_("与户主关系"), max_length=2, choices=Relationship.choices)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PRESENT)
    status_changed_on = models.DateField(_("变动日期"), null=True, blank=True)
    status_reason = models.CharField(_("变动原因"), max_length=200, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    ethnicity = models.CharField(_("民族"), max_length=10, default="汉族")
    # No default on facts about a person: empty until someone records them.
    marital_status = models.CharField(_("婚姻状况"), max_length=10, choices=Marital.choices, blank=True)
    education = models.CharField(_("文化程度"), max_length=10, choices=Education.choices, blank=True)
    is_student = models.BooleanField(_("在校生"), default=False)
    health = models.CharField(_("健康状况"), max_length=10, choices=Health.choices, default=Health.HEALTHY)
    disability_type = models.CharField(_("残疾类别"), max_length=10, choices=Disability.choices, blank=True)
    disability_grade = models.PositiveSmallIntegerField(
        _("残疾等级"), choices=DisabilityGrade.choices, null=True, blank=True
    )
    disability_certificate = models.CharField(_("残疾证号"), max_length=30, blank=True)
    work_ability = models.CharField(
        _("劳动能力"), max_length=10, choices=WorkAbility.choices, default=WorkAbility.NORMAL
    )
    employment = models.CharField(_("从业状况"), max_length=16, choices=Employment.choices, blank=True)
    work_place = models.CharField(_("务工地点"), max_length=10, choices=WorkPlace.choices, blank=True)
    is_public_payroll = models.BooleanField(_("财政供养人员"), default=False)
    is_cadre_relative = models.BooleanField(_("村干部或经办人员近亲属"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped by every saved edit: a form that carries an older number is refused (no lost updates).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["relationship", "birth_date", "id"]
        indexes = [
            # the live members of the households on one page of the list
            models.Index(fields=["household", "status"], name="member_household_status_idx"),
            # the households checked in full because a live member is a cadre's or staff's relative
            # (a few in a town of 200,000 people: read at every draw and bulk decision)
            models.Index(
                fields=["household"],
                condition=Q(is_cadre_relative=True, status="present"),
                name="member_cadre_relative_idx",
            ),
        ]
        constraints = [
            # A live ID number belongs to one household at a time.
            models.UniqueConstraint(fields=["id_number"], condition=Q(status="present"), name="live_id_number_unique"),
            # One live head per household.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status="present", relationship="02"),
                name="one_live_head_per_household",
            ),
            models.CheckConstraint(
                condition=Q(status="present") | Q(status_changed_on__isnull=False),
                name="member_change_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_reversed = self.name[::-1]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_reversed"}
        super().save(*args, **kwargs)

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.PRESENT

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    def derive_from_id(self) -> None:
        """Sex and birth date come from the ID number, never from a form."""
        info = parse_id(self.id_number)
        self.id_number = info.number
        self.id_reversed = info.number[::-1]
        self.sex = info.sex
        self.birth_date = info.birth_date


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        return self.filter(area_q(user))

    def in_scope(self) -> CaseQuerySet:
        return self.filter(in_scope=True)


class Case(models.Model):
    """One household in one campaign: where it stands.

    The services that move a household on (listing it, starting, submitting and
    reporting its survey; later sampling, re-visits and decisions) keep this row in
    step, so coverage, the village lists and the dashboards count one table.
    """

    class Source(models.TextChoices):
        DIBAO = "dibao", _("在保户")
        POVERTY = "poverty", _("未脱贫建档立卡户")
        EDGE = "edge", _("低保边缘户")
        OTHER = "other", _("其他困难户")

    class Stage(models.TextChoices):
        PENDING = "pending", _("未走访")
        DRAFT = "draft", _("调查中")
        SUBMITTED = "submitted", _("已提交")
        REPORTED = "reported", _("已上报")

    class Review(models.TextChoices):
        """The town's part, after the village reported: decided, on public notice, sent to the county."""

        UNDECIDED = "", _("待决定")
        DECIDED = "decided", _("已决定")
        ON_NOTICE = "on_notice", _("公示中")
        SENT = "sent", _("已报县")
        RETURNED = "returned", _("县级退回")
        APPROVED = "approved", _("县级已批准")

    # Stages at which the household's survey is submitted.
    SURVEYED = (Stage.SUBMITTED, Stage.REPORTED)

    # No index of their own on campaign, village and decision: the indexes below lead with the
    # campaign and the village, and every index is written again on each of the many updates a
    # case row sees (a town's draw marks some 16,000 of them at once).
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cases", db_index=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cases")
    # The household's village, kept with the row so per-village counts read one table.
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", db_index=False)
    source = models.CharField(_("列入原因"), max_length=10, choices=Source.choices)
    in_scope = models.BooleanField(_("列入本次复核"), default=True)
    stage = models.CharField(_("进度"), max_length=10, choices=Stage.choices, default=Stage.PENDING)
    # The household's live members, kept in step by the registry's services, so that the
    # members still to be accounted for in a village are a sum over this table.
    live_members = models.PositiveSmallIntegerField(_("在户人数"), default=0)
    # Phase 3 and 4: in the town's or the county's re-verification sample.
    town_sampled = models.BooleanField(_("镇级抽中"), default=False)
    county_sampled = models.BooleanField(_("县级抽中"), default=False)
    # Its town re-visit is signed and submitted (a sampled household is decided only after it).
    town_revisited = models.BooleanField(_("镇级已核查"), default=False)
    county_revisited = models.BooleanField(_("县级已核查"), default=False)
    # Checked in full whatever the draw: named in an objection or a complaint. (Relatives of
    # cadres and staff are read from the members' flag.)
    full_check = models.BooleanField(_("全面核查"), default=False)
    review = models.CharField(_("镇级审核"), max_length=10, choices=Review.choices, blank=True, default="")
    # The town's current decision; earlier ones stay as they were (never edited in place).
    decision = models.ForeignKey(
        "Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("当前决定"),
        db_index=False,
    )
    outcome = models.CharField(_("决定"), max_length=10, blank=True, default="")
    # The monthly amount paid when the household was listed (0 outside dibao), and after the
    # review (the current decision's amount; until then the same): the dashboard sums them.
    amount_before = models.DecimalField(_("复核前月保障金"), max_digits=12, decimal_places=2, default=0)
    amount_after = models.DecimalField(_("复核后月保障金"), max_digits=12, decimal_places=2, default=0)
    # 送政策, as the household's latest submitted survey recorded it.
    flyer_delivered = models.BooleanField(_("政策宣传单已送达"), default=False)
    knows_policy = models.BooleanField(_("知晓低保政策"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("复核对象")
        verbose_name_plural = _("复核对象")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household"], name="one_case_per_household"),
        ]
        indexes = [
            # coverage: counts per village and stage; the village list: one village's rows newest first
            models.Index(fields=["campaign", "village", "in_scope", "stage", "-household"], name="case_village_idx"),
            # the decision list and the report's counts: one village's rows by review stage
            models.Index(fields=["campaign", "village", "review", "-household"], name="case_review_idx"),
            # the village's list of households to visit, unfiltered, newest first: any page reads
            # only its own rows (case_village_idx orders by stage first)
            models.Index(
                fields=["campaign", "village", "-household"], condition=Q(in_scope=True), name="case_village_list_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.get_stage_display()}"

    @staticmethod
    def paid_before(household: Household) -> Decimal:
        """What the household is paid a month as it is listed: its amount while in dibao, else 0."""
        return household.monthly_amount if household.dibao_status == Household.DibaoStatus.ACTIVE else Decimal("0")

    @property
    def form(self) -> str:
        """Form A for households in dibao, form B for the screening list."""
        return "A" if self.source == self.Source.DIBAO else "B"


class Decision(models.Model):
    """The town's decision on one household of the campaign, signed by the officer who made it.

    Never edited: deciding again writes a new row and moves the case's pointer, so every
    earlier decision stays as it was signed. The basis (the village survey or the town's
    re-visit) and the figures proposed to the officer are kept with it.
    """

    class Outcome(models.TextChoices):
        # the same codes as the survey's conclusion and the eligibility engine
        KEEP = "keep", _("维持")
        ADJUST = "adjust", _("调整")
        EXIT = "exit", _("清退")
        ENROL = "enrol", _("新纳入")
        TEMPORARY = "temporary", _("临时救助")
        REJECT = "reject", _("不予纳入")

    class Basis(models.TextChoices):
        SURVEY = "survey", _("村级入户调查")
        REVISIT = "revisit", _("镇级入户核查")

    # Outcomes under which the household is paid dibao afterwards.
    PAYING = (Outcome.KEEP, Outcome.ADJUST, Outcome.ENROL)
    # Outcomes that change the household's dibao (the 公示 list's changes).
    CHANGES = (Outcome.ENROL, Outcome.ADJUST, Outcome.EXIT)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("决定"), max_length=10, choices=Outcome.choices)
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), default=0)
    monthly_amount = models.DecimalField(_("月保障金（元）"), **MONEY, default=Decimal("0"))
    dibao_class = models.CharField(_("保障类别/档次"), max_length=20, blank=True)
    basis = models.CharField(_("依据"), max_length=10, choices=Basis.choices)
    # What the officer was shown: the engine's outcome and amount, the village's (and the
    # re-visit's) conclusion, the household's figures before. Keys in Chinese, for the record.
    proposal = models.JSONField(_("建议"), default=dict)
    reason = models.TextField(_("理由"), blank=True)
    as_proposed = models.BooleanField(_("按建议批量决定"), default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("决定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("镇级决定")
        verbose_name_plural = _("镇级决定")
        ordering = ["case", "-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome="exit") | ~Q(reason=""), name="decision_exit_has_reason"),
            models.CheckConstraint(
                condition=Q(outcome__in=["keep", "adjust", "enrol"], covered_persons__gte=1, monthly_amount__gt=0)
                | Q(outcome__in=["exit", "temporary", "reject"], covered_persons=0, monthly_amount=0),
                name="decision_paying_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.monthly_amount}元"


class CountyReview(models.Model):
    """The county's answer to one town decision (phase 4): approved, with the month it takes
    effect from, or returned to the town with a reason. Never edited: a returned decision is
    answered by a new town decision, which gets a review of its own."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", _("批准")
        RETURN = "return", _("退回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="county_reviews")
    verdict = models.CharField(_("审批"), max_length=8, choices=Verdict.choices)
    note = models.TextField(_("意见"), blank=True)
    effective_from = models.DateField(_("执行起始月"), null=True, blank=True)
    # An approved exit of a 建档立卡 household whose income rose: dibao continues this many months.
    gradual_months = models.PositiveSmallIntegerField(_("渐退期（月）"), default=0)
    as_bulk = models.BooleanField(_("批量批准"), default=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审批时间"), default=timezone.now)

    class Meta:
        verbose_name = _("县级审批")
        verbose_name_plural = _("县级审批")
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(verdict="return") | ~Q(note=""), name="county_return_has_reason"),
            models.CheckConstraint(
                condition=~Q(verdict="approve") | Q(effective_from__isnull=False), name="county_approval_has_month"
            ),
            # one answer per decision
            models.UniqueConstraint(fields=["decision"], name="one_county_review_per_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} {self.reviewed_at:%Y-%m-%d}"


class ExitNotice(models.Model):
    """清退 by procedure, after the county approved it: the household was told in writing (how,
    when, to whom), and where the money was obtained by false information, what is recovered."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("当面送达")
        POST = "post", _("邮寄送达")
        POSTED = "posted", _("公告送达")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="exit_notice")
    notified_on = models.DateField(_("告知日期"))
    method = models.CharField(_("告知方式"), max_length=10, choices=Method.choices)
    recipient = models.CharField(_("签收人"), max_length=50)
    recovery_required = models.BooleanField(_("追回违规领取资金"), default=False)
    recovery_amount = models.DecimalField(_("追回金额（元）"), **MONEY, default=Decimal("0"))
    recovery_note = models.TextField(_("追回说明"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("清退告知")
        verbose_name_plural = _("清退告知")
        constraints = [
            models.CheckConstraint(
                condition=Q(recovery_required=False, recovery_amount=0)
                | Q(recovery_required=True, recovery_amount__gt=0),
                name="exit_recovery_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"清退告知 {self.notified_on}"


class Notice(models.Model):
    """公示: a village's results on public notice for the campaign's notice period."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="notices")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="notices")
    starts_on = models.DateField(_("公示开始"))
    ends_on = models.DateField(_("公示结束"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "village"], name="one_notice_per_village"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="notice_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.village} 公示 {self.starts_on:%m-%d}至{self.ends_on:%m-%d}"

    def is_open(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.starts_on <= today <= self.ends_on

    def has_ended(self, today: dt.date | None = None) -> bool:
        return (today or timezone.localdate()) > self.ends_on


class Objection(models.Model):
    """An objection to a household on notice: it puts the household on the full-check list
    and holds its decision until resolved with a written result."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        VISIT = "visit", _("来访")
        LETTER = "letter", _("信函")
        ONLINE = "online", _("网络")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="objections")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    # Blank when anonymous.
    objector = models.CharField(_("异议人"), max_length=50, blank=True)
    contact = models.CharField(_("联系方式"), max_length=50, blank=True)
    content = models.TextField(_("异议内容"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    result = models.TextField(_("处理结果"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}异议（{'已处理' if self.resolved_at else '待处理'}）"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class VillageTally(models.Model):
    """How many case rows (in scope) a village has at each stage, town review state and outcome,
    with how many of them were sampled and re-visited.

    Kept by the services that move case rows (`cases.services.retally`), so that coverage, the
    review lists and the dashboards read a few rows per village, not every household.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=10, choices=Case.Stage.choices)
    review = models.CharField(max_length=10, choices=Case.Review.choices, blank=True, default="")
    outcome = models.CharField(max_length=10, blank=True, default="")
    households = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)  # their live members (Case.live_members)
    town_sampled = models.PositiveIntegerField(default=0)
    town_revisited = models.PositiveIntegerField(default=0)
    county_sampled = models.PositiveIntegerField(default=0)
    county_revisited = models.PositiveIntegerField(default=0)
    flyer_delivered = models.PositiveIntegerField(default=0)
    knows_policy = models.PositiveIntegerField(default=0)
    amount_before = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    amount_after = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    # the case rows' flags counted beside `households`, and their amounts summed
    FLAGS = ("town_sampled", "town_revisited", "county_sampled", "county_revisited", "flyer_delivered", "knows_policy")
    AMOUNTS = ("amount_before", "amount_after")

    class Meta:
        verbose_name = _("村进度统计")
        verbose_name_plural = _("村进度统计")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "village", "stage", "review", "outcome"], name="one_tally_per_village_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.get_stage_display()} {self.households}"


class RegistryTally(models.Model):
    """How many registry households a village has, for the household list's total.

    Kept by the database itself (triggers on cases_household, migration 0024): every way a
    household is added, removed or moved to another village, bulk imports and the admin
    included, changes the count in the same transaction. Read-only for the application.
    """

    village = models.OneToOneField(
        Village, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("村（社区）")
    )
    households = models.IntegerField(_("户数"), default=0)

    class Meta:
        verbose_name = _("花名册户数统计")
        verbose_name_plural = _("花名册户数统计")

    def __str__(self) -> str:
        return f"{self.village_id} {self.households}"


class AuditEvent(models.Model):
    """Who did what, when, with values before and after. Append-only.

    Written by the services (and the admin through the same helper); the
    household timeline and the campaign history read it.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        STATUS = "status", _("成员变动")
        VIEW_ID = "view_id", _("查看身份证号")
        SEARCH_ID = "search_id", _("按身份证号搜索")
        GENERATE = "generate", _("系统生成")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出登录")
        DOWNLOAD = "download", _("下载")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    model = models.CharField(_("对象类型"), max_length=40)
    object_id = models.CharField(_("对象编号"), max_length=40)
    object_repr = models.CharField(_("对象"), max_length=200)
    # DO_NOTHING: the trail is never rewritten, not even to unlink a deleted row
    # (households with a history are kept; the database refuses UPDATE and DELETE here).
    household = models.ForeignKey(
        Household,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="audit_events",
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="audit_events",
        db_constraint=False,
    )
    changes = models.JSONField(_("变更"), default=dict, help_text=_("字段: [修改前, 修改后]"))
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    batch = models.UUIDField(_("批次"), null=True, blank=True, help_text=_("同一次批量操作的记录共享一个批次号"))

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-at", "-id"]
        indexes = [
            # the household timeline: newest first for one household
            models.Index(fields=["household", "-at"], name="audit_household_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("操作记录只能新增，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("操作记录不能删除。")


# --- 抓调整 (二、4): the green channel and temporary assistance; complaints (四、3) -------------


class GreenChannel(models.Model):
    """绿色通道 for a household with a seriously ill or severely disabled member.

    容缺受理: accepted although documents are missing, on the applicant's written commitment
    (承诺书) and the village committee's consent, with the missing items and a due date; the
    application lapses, with its reason, if they never come. 先审批后评议: approved first, the
    democratic review (民主评议) recorded afterwards by a due date. The household is checked
    in full by the town and the county.
    """

    class Ground(models.TextChoices):
        ILLNESS = "illness", _("重病")
        DISABILITY = "disability", _("重残")

    class Status(models.TextChoices):
        DOCUMENTS = "documents", _("容缺受理（待补材料）")
        COMPLETE = "complete", _("材料齐全（待审批）")
        LAPSED = "lapsed", _("已终止")
        APPROVED = "approved", _("已审批（待民主评议）")
        REVIEWED = "reviewed", _("已民主评议")

    class ReviewResult(models.TextChoices):
        PASSED = "passed", _("评议通过")
        FAILED = "failed", _("评议未通过")

    # Statuses still waiting for someone: the overdue list reads them.
    OPEN = (Status.DOCUMENTS, Status.COMPLETE, Status.APPROVED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="green_channels")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="green_channels", verbose_name=_("家庭户")
    )
    # The household's village, kept with the row so each village's list reads one table.
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（社区）"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("重病/重残成员"))
    ground = models.CharField(_("情形"), max_length=10, choices=Ground.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    accepted_on = models.DateField(_("受理日期"))
    missing_documents = models.TextField(_("容缺材料"), blank=True, help_text=_("每行一项；材料齐全时留空"))
    documents_due = models.DateField(_("补交期限"), null=True, blank=True)
    commitment_on = models.DateField(_("承诺书签署日期"))
    consent_on = models.DateField(_("村委会同意日期"))
    consent_note = models.CharField(_("村委会意见"), max_length=200, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    documents_received_on = models.DateField(_("材料补齐日期"), null=True, blank=True)
    lapsed_reason = models.TextField(_("终止原因"), blank=True)
    lapsed_on = models.DateField(_("终止日期"), null=True, blank=True)
    approved_on = models.DateField(_("审批日期"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), default=0)
    monthly_amount = models.DecimalField(_("月保障金（元）"), **MONEY, default=Decimal("0"))
    effective_from = models.DateField(_("执行起始月"), null=True, blank=True)
    review_due = models.DateField(_("民主评议期限"), null=True, blank=True)
    review_on = models.DateField(_("民主评议日期"), null=True, blank=True)
    review_attendance = models.PositiveSmallIntegerField(_("参加人数"), null=True, blank=True)
    review_result = models.CharField(_("评议结果"), max_length=8, choices=ReviewResult.choices, blank=True)
    review_note = models.TextField(_("评议情况"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("绿色通道")
        verbose_name_plural = _("绿色通道")
        ordering = ["-accepted_on", "-id"]
        indexes = [
            # the list: one campaign's applications by status, a village's among them
            models.Index(fields=["campaign", "status", "village"], name="green_status_idx"),
        ]
        constraints = [
            # one application at a time per household (a lapsed one may be followed by a new one)
            models.UniqueConstraint(
                fields=["campaign", "household"], condition=~Q(status="lapsed"), name="one_green_channel_per_household"
            ),
            models.CheckConstraint(
                condition=~Q(status="documents") | (~Q(missing_documents="") & Q(documents_due__isnull=False)),
                name="green_missing_documents_have_due_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="lapsed") | (~Q(lapsed_reason="") & Q(lapsed_on__isnull=False)),
                name="green_lapse_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "reviewed"])
                | Q(
                    approved_on__isnull=False,
                    review_due__isnull=False,
                    covered_persons__gte=1,
                    monthly_amount__gt=0,
                ),
                name="green_approval_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="reviewed")
                | (Q(review_on__isnull=False, review_attendance__gte=1) & ~Q(review_result="")),
                name="green_review_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"绿色通道（{self.get_ground_display()}）{self.get_status_display()}"

    def missing_list(self) -> list[str]:
        return [line.strip() for line in self.missing_documents.splitlines() if line.strip()]

    def documents_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == self.Status.DOCUMENTS and self.documents_due < today

    def review_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == self.Status.APPROVED and self.review_due < today


class TemporaryAid(models.Model):
    """临时救助 for one person or household.

    Emergency (急难型, 先行救助): help was given first, within the giver's level limit, and is
    recorded afterwards (person, reason, amount, handler, date). Spending (支出型): the full
    procedure — application, village review, town approval, county approval above the town's
    limit. Paid in one go or in instalments, never above the approved amount.
    """

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("急难型（先行救助）")
        SPENDING = "spending", _("支出型")

    class Level(models.TextChoices):
        VILLAGE = "village", _("村级")
        TOWN = "town", _("镇级")
        COUNTY = "county", _("县级")

    class Status(models.TextChoices):
        VILLAGE = "village", _("待村级审核")
        TOWN = "town", _("待镇级审批")
        COUNTY = "county", _("待县级审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("不予救助")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="temporary_aid")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（社区）"))
    # Blank for someone outside the registry (a household hit by a sudden event).
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="temporary_aid",
        verbose_name=_("家庭户"),
    )
    # The town's decision 临时救助 this record carries out, when it came from the review.
    decision = models.OneToOneField(
        "Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="temporary_aid",
        verbose_name=_("镇级决定"),
    )
    kind = models.CharField(_("救助类型"), max_length=10, choices=Kind.choices)
    person = models.CharField(_("受助人"), max_length=30)
    reason = models.TextField(_("救助事由"))
    requested_amount = models.DecimalField(_("申请金额（元）"), **MONEY)
    approved_amount = models.DecimalField(_("批准金额（元）"), **MONEY, default=Decimal("0"))
    paid_total = models.DecimalField(_("已发放（元）"), **MONEY, default=Decimal("0"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    helped_on = models.DateField(_("先行救助日期"), null=True, blank=True)
    handler = models.CharField(_("经办人"), max_length=30)
    referral = models.CharField(
        _("转介其他救助"), max_length=200, blank=True, help_text=_("如：医疗救助、教育救助、慈善援助")
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("临时救助")
        verbose_name_plural = _("临时救助")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            # the list: one campaign's records by status, a village's among them
            models.Index(fields=["campaign", "status", "village"], name="aid_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="aid_requested_positive"),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0, paid_total__lte=models.F("approved_amount")),
                name="aid_paid_within_approved",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_amount__gt=0), name="aid_approval_has_amount"
            ),
            models.CheckConstraint(
                condition=~Q(kind="emergency") | Q(helped_on__isnull=False), name="aid_emergency_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"临时救助（{self.get_kind_display()}）{self.requested_amount}元"

    @property
    def left_to_pay(self) -> Decimal:
        return self.approved_amount - self.paid_total


class AidApproval(models.Model):
    """Who approved (or refused, or reviewed at the village) a temporary-aid record at which level."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", _("批准")
        FORWARD = "forward", _("同意，报上级审批")
        REFUSE = "refuse", _("不予救助")

    aid = models.ForeignKey(TemporaryAid, on_delete=models.PROTECT, related_name="approvals")
    level = models.CharField(_("层级"), max_length=8, choices=TemporaryAid.Level.choices)
    verdict = models.CharField(_("意见"), max_length=8, choices=Verdict.choices)
    amount = models.DecimalField(_("金额（元）"), **MONEY, default=Decimal("0"))
    note = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("临时救助审批")
        verbose_name_plural = _("临时救助审批")
        ordering = ["aid", "at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(verdict="refuse") | ~Q(note=""), name="aid_refusal_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}{self.get_verdict_display()} {self.amount}元"


class AidPayment(models.Model):
    """One instalment of a temporary-aid record."""

    aid = models.ForeignKey(TemporaryAid, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("发放日期"))
    amount = models.DecimalField(_("发放金额（元）"), **MONEY)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("临时救助发放")
        verbose_name_plural = _("临时救助发放")
        ordering = ["aid", "paid_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="aid_payment_positive")]

    def __str__(self) -> str:
        return f"{self.paid_on} 发放{self.amount}元"


class Complaint(models.Model):
    """投诉举报: taken in, given to a handler with a due date, investigated, concluded and,
    for a real-name complaint, answered before it is closed. A complaint that names a
    household puts the household on the full-check list."""

    class Subject(models.TextChoices):
        HOUSEHOLD = "household", _("家庭户")
        PERSON = "person", _("个人")
        CADRE = "cadre", _("干部")

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        INVESTIGATING = "investigating", _("核查中")
        CONCLUDED = "concluded", _("已有结果")
        CLOSED = "closed", _("已办结")

    class Finding(models.TextChoices):
        TRUE = "true", _("属实")
        PARTLY = "partly", _("部分属实")
        FALSE = "false", _("不属实")
        UNVERIFIABLE = "unverifiable", _("无法核实")

    Channel = Objection.Channel

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="complaints")
    channel = models.CharField(_("渠道"), max_length=8, choices=Objection.Channel.choices)
    received_on = models.DateField(_("受理日期"))
    anonymous = models.BooleanField(_("匿名"), default=False)
    reporter = models.CharField(_("举报人"), max_length=30, blank=True)
    contact = models.CharField(_("联系方式"), max_length=50, blank=True)
    subject = models.CharField(_("对象类别"), max_length=10, choices=Subject.choices)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints", verbose_name=_("家庭户")
    )
    # Blank for a complaint about a town-level cadre.
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("村（社区）")
    )
    subject_name = models.CharField(_("被举报人"), max_length=30, blank=True)
    content = models.TextField(_("举报内容"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("承办人")
    )
    due_on = models.DateField(_("办理期限"))
    status = models.CharField(_("状态"), max_length=14, choices=Status.choices, default=Status.OPEN)
    finding = models.CharField(_("核查结论"), max_length=12, choices=Finding.choices, blank=True)
    result = models.TextField(_("处理结果"), blank=True)
    replied_on = models.DateField(_("答复日期"), null=True, blank=True)
    reply_channel = models.CharField(_("答复方式"), max_length=8, choices=Objection.Channel.choices, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("投诉举报")
        verbose_name_plural = _("投诉举报")
        ordering = ["-received_on", "-id"]
        indexes = [
            # the list: one campaign's complaints by status, overdue ones by due date
            models.Index(fields=["campaign", "status", "due_on"], name="complaint_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymous=True, reporter="", contact="")
                | (Q(anonymous=False) & ~Q(reporter="") & ~Q(contact="")),
                name="complaint_real_name_has_contact",
            ),
            models.CheckConstraint(
                condition=~Q(subject="household") | Q(household__isnull=False), name="complaint_names_household"
            ),
            models.CheckConstraint(condition=~Q(subject="cadre") | ~Q(subject_name=""), name="complaint_names_cadre"),
            models.CheckConstraint(
                condition=~Q(status__in=["concluded", "closed"]) | (~Q(finding="") & ~Q(result="")),
                name="complaint_conclusion_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed", anonymous=False) | Q(replied_on__isnull=False),
                name="complaint_real_name_answered_before_closing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}举报（{self.get_subject_display()}）{self.get_status_display()}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.status != self.Status.CLOSED and self.due_on < (today or timezone.localdate())


class ComplaintNote(models.Model):
    """One entry of a complaint's investigation, by whom and when."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(_("核查情况"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("核查记录")
        verbose_name_plural = _("核查记录")
        ordering = ["complaint", "written_at", "id"]

    def __str__(self) -> str:
        return f"核查记录 {self.written_at:%Y-%m-%d}"


# --- 四、2 建立联动机制: the departments' lists, flags on households, screening tasks (防止漏保) ----


class DepartmentList(models.Model):
    """One list a department gave the town (扶贫办, 残联, 医保, 人社, …), as uploaded: who gave it,
    of what date, and what comparing it with the registry found."""

    class Department(models.TextChoices):
        POVERTY = "poverty", _("扶贫办：建档立卡")
        DISABILITY = "disability", _("残联：残疾人")
        MEDICAL = "medical", _("医保：大额医疗支出")
        SOCIAL = "social", _("人社：养老金、就业、失业保险")
        VEHICLE = "vehicle", _("车辆登记")
        BUSINESS = "business", _("工商登记")
        PAYROLL = "payroll", _("财政供养人员")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="department_lists")
    department = models.CharField(_("部门名单"), max_length=12, choices=Department.choices)
    source = models.CharField(_("提供单位"), max_length=100)
    as_of = models.DateField(_("数据日期"))
    filename = models.CharField(_("文件名"), max_length=200)
    # 医保: the yearly amount from which spending counts as large; blank: every row of the list is large.
    medical_threshold = models.DecimalField(_("大额医疗支出标准（元）"), **MONEY, null=True, blank=True)
    task_due_on = models.DateField(_("排查任务走访期限"))
    rows = models.PositiveIntegerField(_("人数"), default=0)
    matched = models.PositiveIntegerField(_("花名册中有"), default=0)
    flags_raised = models.PositiveIntegerField(_("新增标记"), default=0)
    tasks_created = models.PositiveIntegerField(_("新增排查任务"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("部门名单")
        verbose_name_plural = _("部门名单")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_department_display()}（{self.source}，{self.as_of:%Y-%m-%d}）"

    @property
    def unmatched(self) -> int:
        return self.rows - self.matched


class DepartmentRecord(models.Model):
    """One person in a department's list and what the department says about them, matched to
    the registry by ID number (a live member) or not."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("花名册中有")
        UNMATCHED = "unmatched", _("不在花名册中")
        TASK = "task", _("疑似漏保，已生成排查任务")
        TASK_EXISTS = "task_exists", _("疑似漏保，已有排查任务")
        NO_VILLAGE = "no_village", _("疑似漏保，但村（社区）无法识别，未生成排查任务")

    department_list = models.ForeignKey(DepartmentList, on_delete=models.CASCADE, related_name="records")
    row = models.PositiveIntegerField(_("行号"))
    name = models.CharField(_("姓名"), max_length=30)
    id_number = models.CharField(_("身份证号"), max_length=18)
    village_text = models.CharField(_("名单中的村（社区）"), max_length=50, blank=True)
    village = models.ForeignKey(Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # What the department says, in the department's own terms (surveys.departments reads it).
    facts = models.JSONField(_("部门数据"), default=dict)
    summary = models.CharField(_("部门记载"), max_length=200, blank=True)
    # The row shows income or property (a salary, a counted pension, a car, a business): a large
    # medical spender not in the registry with such a row in any list does not look eligible.
    shows_means = models.BooleanField(_("显示有收入或财产"), default=False)
    outcome = models.CharField(_("比对结果"), max_length=12, choices=Outcome.choices)

    class Meta:
        verbose_name = _("部门名单人员")
        verbose_name_plural = _("部门名单人员")
        ordering = ["department_list", "row"]
        indexes = [
            # a list's page: its rows in order, those not in the registry first
            models.Index(fields=["department_list", "outcome", "row"], name="department_record_list_idx"),
            # a medical spender's income or property in the campaign's other lists
            models.Index(fields=["id_number", "shows_means"], name="department_record_means_idx"),
        ]

    def __str__(self) -> str:
        return f"第{self.row}行 {self.name}"

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)


class HouseholdFlag(models.Model):
    """A department's list says otherwise than the household's survey (or, before the survey,
    the registry): to be checked, and cleared only with a written reason."""

    class Kind(models.TextChoices):
        POVERTY = "poverty", _("建档立卡状态不一致")
        DISABILITY = "disability", _("残疾情况不一致")
        MEDICAL = "medical", _("有大额医疗支出未记录")
        PENSION = "pension", _("有养老金未申报")
        UNEMPLOYMENT = "unemployment", _("有失业保险金未申报")
        EMPLOYMENT = "employment", _("有就业收入未申报")
        VEHICLE = "vehicle", _("有登记车辆未记录")
        BUSINESS = "business", _("有工商登记未记录")
        PAYROLL = "payroll", _("财政供养人员")

    class Basis(models.TextChoices):
        SURVEY = "survey", _("入户调查")
        REGISTRY = "registry", _("花名册（尚未入户调查）")

    class Status(models.TextChoices):
        OPEN = "open", _("待核实")
        CLEARED = "cleared", _("已核销")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="household_flags")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="department_flags")
    # The household's village, kept with the flag so each village's list reads one table.
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（社区）"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("成员"))
    record = models.ForeignKey(DepartmentRecord, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("标记"), max_length=12, choices=Kind.choices)
    basis = models.CharField(_("比对对象"), max_length=8, choices=Basis.choices)
    # The department's value against the survey's or the registry's: for the roles that see the
    # whole town (a village's users see the kind only, see surveys.departments.flag_text).
    detail = models.CharField(_("不一致之处"), max_length=300)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    cleared_reason = models.TextField(_("核销理由"), blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(_("核销时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("标记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("部门比对标记")
        verbose_name_plural = _("部门比对标记")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the flag list: one campaign's flags by status, a village's among them
            models.Index(fields=["campaign", "status", "village"], name="flag_status_idx"),
            # the survey, re-visit and decision pages: one household's open flags
            models.Index(fields=["household", "status"], name="flag_household_idx"),
        ]
        constraints = [
            # a later list saying the same again does not flag the member twice
            models.UniqueConstraint(
                fields=["campaign", "member", "kind"], condition=Q(status="open"), name="one_open_flag_per_member_kind"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(cleared_reason="") & Q(cleared_at__isnull=False)),
                name="flag_cleared_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_status_display()}）"


class ScreeningTask(models.Model):
    """防止漏保: someone in a department's list who is not in the registry but looks eligible, for
    their village to visit with form B by a due date. Closed by registering the household (it
    then goes on the form-B list) or with a written reason."""

    class Reason(models.TextChoices):
        POVERTY = "poverty", _("未脱贫建档立卡户")
        DISABILITY = "disability", _("重度残疾（一、二级）")
        MEDICAL = "medical", _("大额医疗支出且未见收入")

    class Status(models.TextChoices):
        OPEN = "open", _("待走访")
        REGISTERED = "registered", _("已登记入户")
        CLOSED = "closed", _("已核销")

    class Closure(models.TextChoices):
        MOVED = "moved", _("已迁出本村（社区）")
        DECEASED = "deceased", _("已死亡")
        NOT_ELIGIBLE = "not_eligible", _("经走访不符合条件")
        NOT_FOUND = "not_found", _("查无此人")
        OTHER = "other", _("其他")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="screening_tasks")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（社区）"))
    name = models.CharField(_("姓名"), max_length=30)
    id_number = models.CharField(_("身份证号"), max_length=18)
    reason = models.CharField(_("排查原因"), max_length=12, choices=Reason.choices)
    record = models.ForeignKey(DepartmentRecord, on_delete=models.PROTECT, related_name="tasks")
    due_on = models.DateField(_("走访期限"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("登记的家庭")
    )
    closure = models.CharField(_("核销原因"), max_length=14, choices=Closure.choices, blank=True)
    close_note = models.TextField(_("情况说明"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("排查任务")
        verbose_name_plural = _("排查任务")
        ordering = ["due_on", "id"]
        indexes = [
            # the dashboard and the task list: one campaign's tasks per village by status and due date
            models.Index(fields=["campaign", "status", "village", "due_on"], name="screening_task_idx"),
        ]
        constraints = [
            # one task per person per campaign, whatever list names them again
            models.UniqueConstraint(fields=["campaign", "id_number"], name="one_screening_task_per_person"),
            models.CheckConstraint(
                condition=~Q(status="registered") | Q(household__isnull=False, closed_at__isnull=False),
                name="screening_task_registered_has_household",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (~Q(closure="") & ~Q(close_note="") & Q(closed_at__isnull=False)),
                name="screening_task_closed_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"排查任务（{self.get_reason_display()}）{self.get_status_display()}"

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.status == self.Status.OPEN and self.due_on < (today or timezone.localdate())
