"""四、2 建立联动机制: the departments' lists compared with the registry and the surveys.

1. `SPECS` says, per department, which columns its list has (header spellings for the roll
   importer's reader, `cases.importer`) and how one row reads;
2. `check_list` reads every row of an uploaded table and reports the bad ones; it writes nothing;
3. `import_list` saves a checked list in one transaction: rows are matched by ID number to live
   members; where the list says otherwise than the household's submitted survey (or, before the
   survey, the registry) the household gets a flag; people not in the registry who look eligible
   (未脱贫建档立卡, 重度残疾, 大额医疗支出 without income) become screening tasks for their village;
4. a flag is cleared only with a reason (`clear_flag`); a task is closed by registering the
   household, which then goes on the form-B list (`register_task_household`, `link_task_household`),
   or with a reason (`close_task`).

This floor reads two things of the floor above, each in one function: the facts of a submitted
survey that the flags compare with (`_survey_facts`) and the form-B list a registered household
goes on (`_put_on_screening_list`, through the surveys app's own service).

Flag and task events carry the campaign, never the household: the household's timeline is read by
its village, which sees a flag's kind but not the department's figures (see `sees_department_detail`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases import audit, roles
from cases.importer import (
    ROLL,
    ColumnMapping,
    Field,
    Issues,
    RowChecker,
    RowIssue,
    Schema,
    Table,
    cell_text,
    choice_lookup,
    disability_grade_lookup,
    disability_type_lookup,
    find_village,
    normalise_header,
    parse_amount,
)
from cases.models import (
    AuditEvent,
    Campaign,
    DepartmentList,
    DepartmentRecord,
    Household,
    HouseholdFlag,
    Member,
    ScreeningTask,
    Village,
)
from cases.services import DomainError, create_household

from . import services as survey_services
from .models import ScreeningEntry, Survey, SurveyDeduction, SurveyIncome, SurveyVehicle

Department = DepartmentList.Department
Kind = HouseholdFlag.Kind
Outcome = DepartmentRecord.Outcome

# 一、二级 are 重度残疾 (as surveys.eligibility.SEVERE_DISABILITY_GRADES).
SEVERE_GRADES = {1, 2}
# The survey's income categories (surveys.eligibility.INCOME_CATEGORIES) the flags look for.
WAGE, PENSION, UNEMPLOYMENT = "wage", "pension", "unemployment"
# The survey's vehicle kinds (surveys.models.SurveyVehicle.Kind) as a register's 车辆类型 names them.
_VEHICLE_WORDS = [  # first match wins: 电动三轮 is a motorbike-class vehicle, 货车 is not a car
    ("motorbike", ("摩托", "电动")),
    ("machinery", ("拖拉机", "收割", "农机", "插秧")),
    ("boat", ("船",)),
    ("farm", ("货车", "农用", "三轮", "低速")),
    ("car", ("轿车", "客车", "汽车", "越野", "面包", "小型", "SUV")),
]
# A pension of 城乡居民基本养老保险 is not counted as income (domain.md §5): no flag for it.
_RESIDENT_PENSION_WORDS = ("城乡居民", "居民养老", "城居", "新农保", "新型农村", "居民基本养老")
# A registration that has ended does not count against a household.
_ENDED_WORDS = ("注销", "吊销", "报废", "撤销", "停业")


# --- the departments' columns ----------------------------------------------------


def _extend(key: str, *spellings: str, required: bool = True) -> Field:
    """One of the roll's columns, with the spellings department lists also use."""
    base = ROLL.by_key[key]
    return dataclasses.replace(base, spellings=(*base.spellings, *spellings), required=required)


NAME = _extend(
    "name",
    "参保人姓名",
    "参保人",
    "患者姓名",
    "残疾人姓名",
    "所有人",
    "机动车所有人",
    "车主",
    "车主姓名",
    "经营者",
    "经营者姓名",
    "法定代表人",
    "负责人",
    "职工姓名",
    "领取人姓名",
    "贫困人口姓名",
)
ID_NUMBER = _extend(
    "id_number",
    "身份证明号码",
    "所有人身份证明号码",
    "证件号",
    "参保人身份证号",
    "参保人身份证号码",
    "经营者身份证号码",
    "法定代表人证件号码",
)
VILLAGE = _extend("village", "现居住村", "户籍所在村", "村（居）委会", "村委会", required=False)
COMMON = (NAME, ID_NUMBER, VILLAGE)
NEEDED = ("name", "id_number")

EMPLOYER = Field("employer", "工作单位", ("就业单位", "单位名称", "用人单位", "参保单位", "所在单位"))
STATUS = Field("status", "登记状态", ("状态", "机动车状态", "车辆状态", "经营状态", "企业状态"))


@dataclass(frozen=True)
class Reading:
    facts: dict[str, Any]
    summary: str
    shows_means: bool = False


@dataclass(frozen=True)
class Spec:
    department: str
    schema: Schema
    read: Callable[[RowChecker], Reading | None]
    one_of: tuple[str, ...] = ()  # at least one of these columns, and each row fills one

    def missing_any(self, mapping: ColumnMapping) -> str:
        """What the mapping page must still ask for, beyond the schema's needed columns."""
        if not self.one_of or any(k in mapping.columns for k in self.one_of):
            return ""
        labels = "、".join(f"“{self.schema.by_key[k].label}”" for k in self.one_of)
        return f"请至少为{labels}中的一项选择对应的列。"


@functools.cache
def _poverty_lookup() -> dict[str, str]:
    lifted, not_lifted = Household.PovertyStatus.LIFTED, Household.PovertyStatus.NOT_LIFTED
    return choice_lookup(
        [(lifted, "已脱贫"), (not_lifted, "未脱贫")],
        {"已脱贫户": lifted, "脱贫户": lifted, "脱贫": lifted, "标注脱贫": lifted, "未脱贫户": not_lifted}
        | {"贫困户": not_lifted},
    )


POVERTY_LABELS = {Household.PovertyStatus.LIFTED: "已脱贫", Household.PovertyStatus.NOT_LIFTED: "未脱贫"}


def _read_poverty(check: RowChecker) -> Reading | None:
    status = check.choice("poverty_status", _poverty_lookup(), shown=["已脱贫", "未脱贫"])
    if status is None:
        if not check.text("poverty_status"):
            check.error("poverty_status", "必填。")
        return None
    return Reading({"poverty_status": status}, f"建档立卡（{POVERTY_LABELS[status]}）")


@functools.cache
def _disability_kinds() -> dict[str, str]:
    """The registry's disability types as a list spells them; not 无: the list is of the disabled."""
    return {text: kind for text, kind in disability_type_lookup().items() if kind}


_disability_grades = functools.cache(disability_grade_lookup)


def _read_disability(check: RowChecker) -> Reading | None:
    kinds = [str(x) for v, x in Member.Disability.choices if v]
    kind = check.choice("disability_type", _disability_kinds(), "", shown=kinds)
    grades = [str(x) for x in Member.DisabilityGrade.labels]
    grade = check.choice("disability_grade", _disability_grades(), shown=grades)
    for key, value in (("disability_type", kind), ("disability_grade", grade)):
        if not value and not check.text(key):
            check.error(key, "必填。")
    if not kind or not grade:
        return None
    summary = f"{Member.Disability(kind).label}残疾{Member.DisabilityGrade(grade).label}"
    return Reading({"disability_type": kind, "disability_grade": grade}, summary)


def _read_medical(check: RowChecker) -> Reading | None:
    self_paid, total = check.cell("self_paid", parse_amount), check.cell("total_cost", parse_amount)
    if self_paid is not None:
        return Reading({"amount": str(self_paid)}, f"个人自付医疗费用{self_paid:,}元")
    if total is not None:
        return Reading({"amount": str(total)}, f"医疗总费用{total:,}元")
    if not check.text("self_paid") and not check.text("total_cost"):
        check.error("self_paid" if "self_paid" in check.raw else "total_cost", "必填。")
    return None


@functools.cache
def _employment_lookup() -> dict[str, str]:
    E = Member.Employment
    aliases = {
        **dict.fromkeys(["就业", "已就业", "单位就业", "企业就业", "在岗"], E.EMPLOYED),
        **dict.fromkeys(["失业", "失业登记", "登记失业人员"], E.UNEMPLOYED_REG),
        **dict.fromkeys(["离退休", "已退休"], E.RETIRED),
        **dict.fromkeys(["未就业", "无"], ""),
    }
    return choice_lookup(E.choices, aliases)


WORKING = (Member.Employment.EMPLOYED, Member.Employment.FLEXIBLE)


def _read_social(check: RowChecker) -> Reading | None:
    pension, wage = check.cell("pension", parse_amount), check.cell("wage", parse_amount)
    unemployment = check.cell("unemployment", parse_amount)
    employment = check.choice("employment", _employment_lookup(), "", shown=[str(x) for x in Member.Employment.labels])
    pension_type, employer = check.text("pension_type")[:30], check.text("employer")[:100]
    resident = any(word in pension_type for word in _RESIDENT_PENSION_WORDS)
    parts = []
    if pension:
        parts.append(f"月养老金{pension:,}元" + (f"（{pension_type}）" if pension_type else ""))
    if employment:
        parts.append(Member.Employment(employment).label + (f"（{employer}）" if employer else ""))
    if wage:
        parts.append(f"月工资{wage:,}元")
    if unemployment:
        parts.append(f"月失业保险金{unemployment:,}元")
    columns = ("pension", "employment", "wage", "unemployment")
    if not any(check.text(k) for k in columns):
        check.error(next(k for k in columns if k in check.raw), "这一行没有养老金、就业或失业保险金的内容。")
        return None
    counted = bool(pension) and not resident
    working = employment in WORKING or bool(wage)
    facts = {
        "pension": str(pension) if counted else None,
        "unemployment": str(unemployment) if unemployment else None,
        "working": working,
    }
    return Reading(facts, "；".join(parts) or "无养老金、就业或失业保险金", shows_means=counted or working)


def vehicle_kind(text: str) -> str:
    """The survey's kind of a vehicle register's 车辆类型 (小型轿车 → car); "" when it cannot tell."""
    text = text.upper()
    return next((kind for kind, words in _VEHICLE_WORDS if any(w in text for w in words)), "")


def _registration(check: RowChecker, *parts: str) -> tuple[str, bool]:
    """A registration's summary, and whether it is still in force (not 注销, 吊销, 报废 …)."""
    status = check.text("status")[:10]
    ended = any(word in status for word in _ENDED_WORDS)
    return " ".join(filter(None, parts)) + (f"（{status}）" if ended else ""), not ended


def _read_vehicle(check: RowChecker) -> Reading:
    shown, plate = check.text("vehicle_kind")[:30], check.text("plate")[:20]
    kind = vehicle_kind(shown)
    summary, active = _registration(check, shown or "车辆", plate)
    # a car, a boat or large machinery refuses dibao; a kind the register does not make clear may be one
    means = active and kind in {"car", "boat", "machinery", ""}
    return Reading({"kind": kind, "active": active}, summary, shows_means=means)


def _read_business(check: RowChecker) -> Reading:
    shown, name = check.text("business_kind")[:30], check.text("business_name")[:100]
    summary, active = _registration(check, shown or "工商登记", name)
    return Reading({"active": active}, summary, shows_means=active)


def _read_payroll(check: RowChecker) -> Reading:
    salary, employer = check.cell("salary", parse_amount), check.text("employer")[:100]
    parts = [employer or "财政供养人员"] + ([f"月工资{salary:,}元"] if salary else [])
    return Reading({}, " ".join(parts), shows_means=True)


def _schema(*fields: Field) -> Schema:
    return Schema((*COMMON, *fields), (*NEEDED, *(f.key for f in fields if f.required)))


SPECS = {
    s.department: s
    for s in [
        Spec(
            Department.POVERTY,
            _schema(
                Field(
                    "poverty_status",
                    "脱贫状态",
                    ("是否脱贫", "贫困户状态", "建档立卡状态", "贫困状态", "脱贫情况", "脱贫标志", "建档立卡"),
                    required=True,
                    note="已脱贫/未脱贫",
                )
            ),
            _read_poverty,
        ),
        Spec(
            Department.DISABILITY,
            _schema(
                _extend("disability_type", "残疾类别名称", "类别"),
                _extend("disability_grade", "残疾等级名称", "等级"),
            ),
            _read_disability,
        ),
        Spec(
            Department.MEDICAL,
            _schema(
                Field(
                    "self_paid",
                    "个人自付（元）",
                    ("个人自付", "个人自付费用", "个人自付金额", "自付金额", "自付费用", "个人负担", "个人负担金额"),
                ),
                Field(
                    "total_cost",
                    "医疗总费用（元）",
                    ("医疗费用", "医疗费用总额", "总费用", "费用总额", "住院费用", "大额医疗费用", "年度医疗费用"),
                ),
            ),
            _read_medical,
            one_of=("self_paid", "total_cost"),
        ),
        Spec(
            Department.SOCIAL,
            _schema(
                Field(
                    "pension",
                    "养老金（元/月）",
                    ("月养老金", "养老金月额", "月养老金额", "基本养老金", "离退休金", "退休金", "月退休金"),
                ),
                Field("pension_type", "养老保险类型", ("险种", "参保险种", "养老保险险种", "保险类型", "参保类型")),
                Field("employment", "就业状态", ("就业情况", "就业登记状态", "就业失业状态", "就业失业登记")),
                EMPLOYER,
                Field("wage", "月工资（元）", ("工资", "月工资收入", "工资收入")),
                Field("unemployment", "失业保险金（元/月）", ("失业保险金", "失业金", "月失业保险金")),
            ),
            _read_social,
            one_of=("pension", "employment", "wage", "unemployment"),
        ),
        Spec(
            Department.VEHICLE,
            _schema(
                Field("vehicle_kind", "车辆类型", ("车辆种类", "车型", "车辆类别", "机动车类型", "车辆品牌型号")),
                Field("plate", "号牌号码", ("车牌号", "车牌号码", "号牌", "车牌")),
                STATUS,
            ),
            _read_vehicle,
        ),
        Spec(
            Department.BUSINESS,
            _schema(
                Field("business_kind", "主体类型", ("市场主体类型", "企业类型", "类型", "经济类型", "组成形式")),
                Field("business_name", "名称", ("企业名称", "字号名称", "个体户名称", "主体名称", "商户名称")),
                STATUS,
            ),
            _read_business,
        ),
        Spec(
            Department.PAYROLL,
            _schema(EMPLOYER, Field("salary", "月工资（元）", ("工资", "月工资", "应发工资", "实发工资"))),
            _read_payroll,
        ),
    ]
}


# --- checking a list -----------------------------------------------------------------


@dataclass
class CheckedRow:
    row: int
    name: str
    id_number: str
    village_text: str
    village: Village | None
    reading: Reading


@dataclass
class ListCheck:
    rows: list[CheckedRow]
    errors: list[RowIssue]
    warnings: list[RowIssue]
    row_count: int

    @property
    def ok(self) -> bool:
        return not self.errors


def check_list(department: str, table: Table, mapping: ColumnMapping, *, town) -> ListCheck:
    """Read every row of a department's list; write nothing.

    1. Rows without a name and an ID number (a 合计 line, signatures) and repeated header rows
       are skipped with a notice; 2. each row is read under the mapping: its name, a valid ID
       number (once in the file), its village if the list names one, and the department's own
       columns; 3. a name that differs from the registry's for the same live ID is a notice.
    """
    spec = SPECS[department]
    issues = Issues()
    labels = {f.key: f.label for f in spec.schema.fields}
    labels.update({key: table.headers[i] or f"第{i + 1}列" for key, i in mapping.columns.items()})
    villages = {v.name: v for v in Village.objects.filter(town=town)}
    name_header = normalise_header(table.headers[mapping.columns["name"]])
    rows: list[CheckedRow] = []
    seen: dict[str, int] = {}
    count = 0
    for number, values in table.rows:
        raw = {key: values[i] if i < len(values) else None for key, i in mapping.columns.items()}
        if not cell_text(raw.get("name")) and not cell_text(raw.get("id_number")):
            issues.warnings.append(RowIssue(number, "", "没有姓名和身份证号，不是人员行，已跳过。"))
            continue
        if normalise_header(raw.get("name")) == name_header:
            issues.warnings.append(RowIssue(number, "", "重复的表头行，已跳过。"))
            continue
        count += 1
        check = RowChecker(number, raw, labels, issues)
        errors_before = len(issues.errors)
        name = re.sub(r"\s+", "", check.text("name"))
        if not name:
            check.error("name", "必填。")
        elif len(name) > 30:
            check.error("name", "姓名过长。")
        id_number = check.id_number("id_number", required=True)
        if id_number in seen:
            check.error("id_number", f"与第{seen[id_number]}行的身份证号重复。")
        elif id_number:
            seen[id_number] = number
        village_text = re.sub(r"\s+", "", check.text("village"))[:50]
        reading = spec.read(check)
        if len(issues.errors) == errors_before and reading is not None:
            village = find_village(village_text, villages, town) if village_text else None
            rows.append(CheckedRow(number, name, id_number, village_text, village, reading))
    registered = _live_names([r.id_number for r in rows], town=town)
    for r in rows:
        name = registered.get(r.id_number)
        if name and name != r.name:
            issues.warnings.append(
                RowIssue(r.row, labels["name"], f"与花名册中该身份证号的姓名“{name}”不一致，已按身份证号比对。")
            )
    issues.errors.sort(key=lambda i: i.row)
    issues.warnings.sort(key=lambda i: i.row)
    return ListCheck(rows=rows, errors=issues.errors, warnings=issues.warnings, row_count=count)


def _chunks(items: list, size: int = 2000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _live_members(town):
    """The live members of the town's registry: a department's list is compared with the town's
    own households only (another town's are neither matched nor named)."""
    return Member.objects.filter(status=Member.Status.PRESENT, household__village__town=town)


def _live_names(ids: list[str], *, town) -> dict[str, str]:
    names = {}
    for chunk in _chunks(ids):
        names.update(_live_members(town).filter(id_number__in=chunk).values_list("id_number", "name"))
    return names


# --- comparing with the household ----------------------------------------------------


@dataclass
class SurveyFacts:
    """What a household's submitted survey records that a department's list may contradict."""

    business: str = ""
    incomes: dict[str, set[str]] = field(default_factory=dict)  # member ID number → categories with an amount
    vehicles: set[str] = field(default_factory=set)
    medical: bool = False  # a medical deduction (刚性支出：医疗)


def _survey_facts(campaign: Campaign, household_ids: list[int]) -> dict[int, SurveyFacts]:
    """The submitted surveys of the campaign for these households (four queries a chunk)."""
    submitted = {"survey__campaign": campaign, "survey__status": Survey.Status.SUBMITTED}
    out: dict[int, SurveyFacts] = {}
    for chunk in _chunks(household_ids):
        for household_id, business in Survey.objects.filter(
            campaign=campaign, status=Survey.Status.SUBMITTED, household_id__in=chunk
        ).values_list("household_id", "business"):
            out[household_id] = SurveyFacts(business=business)
        incomes = SurveyIncome.objects.filter(
            survey_member__survey__campaign=campaign,
            survey_member__survey__status=Survey.Status.SUBMITTED,
            survey_member__survey__household_id__in=chunk,
            amount__gt=0,
        ).values_list("survey_member__survey__household_id", "survey_member__id_number", "category")
        for household_id, id_number, category in incomes:
            out[household_id].incomes.setdefault(id_number, set()).add(category)
        vehicles = SurveyVehicle.objects.filter(**submitted, survey__household_id__in=chunk, disability_vehicle=False)
        for household_id, kind in vehicles.values_list("survey__household_id", "kind"):
            out[household_id].vehicles.add(kind)
        medical = SurveyDeduction.objects.filter(
            **submitted, survey__household_id__in=chunk, kind="medical", amount__gt=0
        )
        for household_id in medical.values_list("survey__household_id", flat=True):
            out[household_id].medical = True
    return out


def _mismatches(
    department: str, reading: Reading, member: Member, survey: SurveyFacts | None, *, large: bool
) -> list[tuple[str, str]]:
    """(kind, detail) for each thing the list says otherwise than the survey or, before it, the registry."""
    facts = reading.facts
    seen = "入户调查" if survey else "花名册"
    incomes = survey.incomes.get(member.id_number, set()) if survey else set()
    out = []
    if department == Department.POVERTY:
        have = member.household.poverty_status
        if facts["poverty_status"] != have:
            now = POVERTY_LABELS.get(have, "非建档立卡户")
            out.append((Kind.POVERTY, f"扶贫办名单：{POVERTY_LABELS[facts['poverty_status']]}；花名册：{now}"))
    elif department == Department.DISABILITY:
        kind, grade = facts["disability_type"], facts["disability_grade"]
        same = (
            member.health == Member.Health.DISABLED
            and member.disability_grade == grade
            and member.disability_type in ("", kind)
        )
        if not same:
            now = member.get_health_display()
            if member.health == Member.Health.DISABLED and member.disability_grade:
                now = f"{member.get_disability_type_display()}残疾{member.get_disability_grade_display()}"
            out.append((Kind.DISABILITY, f"残联名单：{reading.summary}；{seen}记录为{now}"))
    elif department == Department.MEDICAL:
        if large and survey and not survey.medical:
            out.append((Kind.MEDICAL, f"医保名单：{reading.summary}；入户调查未记录医疗刚性支出"))
        elif large and not survey and member.health == Member.Health.HEALTHY:
            out.append((Kind.MEDICAL, f"医保名单：{reading.summary}；花名册健康状况为健康"))
    elif department == Department.SOCIAL:
        employment = member.get_employment_display() if member.employment else "未填"
        checks = [
            (facts["pension"], Kind.PENSION, PENSION, {Member.Employment.RETIRED}, "养老金/离退休金"),
            (facts["unemployment"], Kind.UNEMPLOYMENT, UNEMPLOYMENT, {Member.Employment.UNEMPLOYED_REG}, "失业保险金"),
            (facts["working"], Kind.EMPLOYMENT, WAGE, set(WORKING), "工资性收入"),
        ]
        for says, kind, category, registered, what in checks:
            if not says:
                continue
            if survey and category not in incomes:
                out.append((kind, f"人社名单：{reading.summary}；入户调查未申报{what}"))
            elif not survey and member.employment not in registered:
                out.append((kind, f"人社名单：{reading.summary}；花名册从业状况为{employment}"))
    elif department == Department.VEHICLE:
        kind = facts["kind"]
        recorded = survey is not None and (kind in survey.vehicles if kind else bool(survey.vehicles))
        if facts["active"] and not recorded:
            now = "入户调查未记录该类车辆" if survey else "尚未入户调查，花名册无车辆信息"
            out.append((Kind.VEHICLE, f"车辆登记：{reading.summary}；{now}"))
    elif department == Department.BUSINESS:
        if facts["active"] and not (survey and survey.business):
            now = "入户调查未记录工商登记" if survey else "尚未入户调查，花名册无工商登记信息"
            out.append((Kind.BUSINESS, f"工商登记：{reading.summary}；{now}"))
    elif department == Department.PAYROLL:
        missing = [] if member.is_public_payroll else ["花名册未标注财政供养人员"]
        if survey and WAGE not in incomes:
            missing.append("入户调查未申报工资性收入")
        if missing:
            out.append((Kind.PAYROLL, f"财政供养人员名单：{reading.summary}；{'，'.join(missing)}"))
    return out


def _looks_eligible(department: str, reading: Reading, *, large: bool, means: bool) -> str | None:
    """The screening task's reason for someone not in the registry, or None (防止漏保)."""
    facts = reading.facts
    if department == Department.POVERTY and facts["poverty_status"] == Household.PovertyStatus.NOT_LIFTED:
        return ScreeningTask.Reason.POVERTY
    if department == Department.DISABILITY and facts["disability_grade"] in SEVERE_GRADES:
        return ScreeningTask.Reason.DISABILITY
    if department == Department.MEDICAL and large and not means:
        return ScreeningTask.Reason.MEDICAL
    return None


def default_due_date(campaign: Campaign, today: dt.date | None = None) -> dt.date:
    """When a village should have visited someone a list names: by the villages' report deadline
    (村级上报, the end of the 大排查 the task belongs to), but never in less than a week, the time
    it takes to find and visit someone who is on no roll."""
    today = today or timezone.localdate()
    return max(campaign.village_report_deadline, today + dt.timedelta(days=7))


# --- saving a list ---------------------------------------------------------------------


def _check_open(campaign: Campaign) -> None:
    if campaign.current_phase == Campaign.PhaseNumber.CLOSED:
        raise DomainError("本次行动已结束，不能再办理。")


@transaction.atomic
def import_list(
    campaign: Campaign,
    check: ListCheck,
    *,
    actor,
    department: str,
    source: str,
    as_of: dt.date,
    filename: str,
    due_on: dt.date,
    medical_threshold: Decimal | None = None,
) -> DepartmentList:
    """Save a checked department list, and raise its flags and screening tasks.

    1. Refuse a check with errors, a closed campaign, a due date before today; lock the campaign
       so that two lists are compared one after the other; 2. match every row to a live member
       by ID number; 3. each matched row is compared with its household's submitted survey (or
       the registry) and every mismatch not already flagged, nor cleared with the same content,
       becomes a flag; 4. each row not in the registry that looks eligible becomes a screening
       task for the village its list names, unless the person already has one; 5. the list, its
       flags and its tasks are recorded under one batch id.
    """
    if not check.ok:
        raise DomainError("文件中有错误，未导入任何数据。")
    if due_on < timezone.localdate():
        raise DomainError("走访期限不能早于今天。", field="due_on")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _check_open(campaign)
    members: dict[str, Member] = {}
    for chunk in _chunks([r.id_number for r in check.rows]):
        for m in _live_members(campaign.town_id).filter(id_number__in=chunk).select_related("household"):
            members[m.id_number] = m
    department_list = DepartmentList.objects.create(
        campaign=campaign,
        department=department,
        source=source.strip(),
        as_of=as_of,
        filename=filename[:200],
        medical_threshold=medical_threshold,
        task_due_on=due_on,
        rows=len(check.rows),
        matched=sum(r.id_number in members for r in check.rows),
        uploaded_by=actor,
    )

    def large(row: CheckedRow) -> bool:
        amount = row.reading.facts.get("amount")
        return amount is not None and (medical_threshold is None or Decimal(amount) >= medical_threshold)

    unmatched = [r.id_number for r in check.rows if r.id_number not in members]
    with_means = _ids_with_means(campaign, unmatched) if department == Department.MEDICAL else set()
    tasked = set()
    for chunk in _chunks(unmatched):
        tasked.update(
            ScreeningTask.objects.filter(campaign=campaign, id_number__in=chunk).values_list("id_number", flat=True)
        )
    records, task_rows = [], []
    for row in check.rows:
        member = members.get(row.id_number)
        outcome = Outcome.MATCHED
        if member is None:
            reason = _looks_eligible(department, row.reading, large=large(row), means=row.id_number in with_means)
            if reason is None:
                outcome = Outcome.UNMATCHED
            elif row.id_number in tasked:
                outcome = Outcome.TASK_EXISTS
            elif row.village is None:
                outcome = Outcome.NO_VILLAGE
            else:
                outcome = Outcome.TASK
                tasked.add(row.id_number)
        record = DepartmentRecord(
            department_list=department_list,
            row=row.row,
            name=row.name,
            id_number=row.id_number,
            village_text=row.village_text,
            village=row.village,
            member=member,
            household=member.household if member else None,
            facts=row.reading.facts,
            summary=row.reading.summary[:200],
            shows_means=row.reading.shows_means,
            outcome=outcome,
        )
        records.append(record)
        if outcome == Outcome.TASK:
            task_rows.append((record, reason))
    DepartmentRecord.objects.bulk_create(records, batch_size=2000)

    flags = _new_flags(campaign, department, records, members, large={r.row: large(r) for r in check.rows})
    HouseholdFlag.objects.bulk_create(flags, batch_size=2000)
    tasks = [
        ScreeningTask(
            campaign=campaign,
            village=record.village,
            name=record.name,
            id_number=record.id_number,
            reason=reason,
            record=record,
            due_on=due_on,
        )
        for record, reason in task_rows
    ]
    ScreeningTask.objects.bulk_create(tasks, batch_size=2000)
    department_list.flags_raised, department_list.tasks_created = len(flags), len(tasks)
    department_list.save(update_fields=["flags_raised", "tasks_created"])
    _record_import(department_list, flags, tasks, actor=actor)
    return department_list


def _ids_with_means(campaign: Campaign, ids: list[str]) -> set[str]:
    """Those of `ids` whom another list of the campaign shows with income or property."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(
            DepartmentRecord.objects.filter(
                department_list__campaign=campaign, id_number__in=chunk, shows_means=True
            ).values_list("id_number", flat=True)
        )
    return found


def _new_flags(
    campaign: Campaign,
    department: str,
    records: list[DepartmentRecord],
    members: dict[str, Member],
    *,
    large: dict[int, bool],
) -> list[HouseholdFlag]:
    """The flags the list raises, without those already open (for the member, or for the household
    where the fact is the household's) and those cleared with the same content."""
    matched = [r for r in records if r.member is not None]
    household_ids = sorted({r.household_id for r in matched})
    surveys = _survey_facts(campaign, household_ids)
    open_flags, cleared, household_open, household_cleared = set(), set(), set(), set()
    fields = ("member_id", "household_id", "kind", "status", "detail")
    existing = HouseholdFlag.objects.filter(campaign=campaign)
    # the households' flags, and the members' raised on a household they have since left
    lookups = [{"household_id__in": c} for c in _chunks(household_ids)]
    lookups += [{"member_id__in": c} for c in _chunks([r.member_id for r in matched])]
    for lookup in lookups:
        for member_id, household_id, kind, status, detail in existing.filter(**lookup).values_list(*fields):
            if status == HouseholdFlag.Status.OPEN:
                open_flags.add((member_id, kind))
                household_open.add((household_id, kind))
            else:
                cleared.add((member_id, kind, detail))
                household_cleared.add((household_id, kind, detail))
    flags = []
    for record in matched:
        member = record.member
        reading = Reading(record.facts, record.summary, record.shows_means)
        survey = surveys.get(record.household_id)
        for kind, detail in _mismatches(department, reading, member, survey, large=large[record.row]):
            detail = detail[:300]
            if (member.pk, kind) in open_flags or (member.pk, kind, detail) in cleared:
                continue
            if kind == Kind.POVERTY and (
                (record.household_id, kind) in household_open
                or (record.household_id, kind, detail) in household_cleared
            ):
                continue  # 建档立卡 is the household's: one flag for all its members
            open_flags.add((member.pk, kind))
            household_open.add((record.household_id, kind))
            flags.append(
                HouseholdFlag(
                    campaign=campaign,
                    household_id=record.household_id,
                    village_id=member.household.village_id,
                    member=member,
                    record=record,
                    kind=kind,
                    basis=HouseholdFlag.Basis.SURVEY if survey else HouseholdFlag.Basis.REGISTRY,
                    detail=detail,
                )
            )
    return flags


def _record_import(department_list: DepartmentList, flags: list[HouseholdFlag], tasks: list[ScreeningTask], *, actor):
    campaign, batch = department_list.campaign, uuid.uuid4()
    reason = f"导入部门名单：{department_list.filename}"[:300]
    events = [
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=department_list,
            after={
                "部门名单": department_list.get_department_display(),
                "提供单位": department_list.source,
                "数据日期": str(department_list.as_of),
                "人数": department_list.rows,
                "花名册中有": department_list.matched,
                "新增标记": len(flags),
                "新增排查任务": len(tasks),
            },
            campaign=campaign,
            reason=reason,
            batch=batch,
            save=False,
        )
    ]
    events += [
        audit.record(
            actor=actor,
            action=AuditEvent.Action.GENERATE,
            obj=flag,
            after={"kind": flag.kind, "member": flag.member.name},
            campaign=campaign,
            reason=reason,
            batch=batch,
            save=False,
        )
        for flag in flags
    ]
    events += [
        audit.record(
            actor=actor,
            action=AuditEvent.Action.GENERATE,
            obj=task,
            after={"name": task.name, "village": str(task.village), "reason": task.reason, "due_on": str(task.due_on)},
            campaign=campaign,
            reason=reason,
            batch=batch,
            save=False,
        )
        for task in tasks
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)


# --- flags -----------------------------------------------------------------------------


def sees_department_detail(user) -> bool:
    """Which list flagged a household, and with what figures, is for the roles that see the whole
    town. A village's users (cadres, work groups) see the flag's kind and whom it is about: enough
    to check it on the visit, without the department's figures (a salary, a pension, a plate
    number, medical costs) nor which list of which date named the person."""
    return roles.village_scope(user) is None


def flags_visible_to(user, campaign: Campaign):
    """The campaign's flags in the villages the user covers."""
    return HouseholdFlag.objects.filter(roles.area_q(user), campaign=campaign)


@transaction.atomic
def clear_flag(flag: HouseholdFlag, *, actor, reason: str) -> HouseholdFlag:
    """The town clears a flag it has checked, with the reason; the flag stays, marked cleared."""
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写核销理由。", field="reason")
    flag = HouseholdFlag.objects.select_for_update().select_related("campaign").get(pk=flag.pk)
    if flag.status != HouseholdFlag.Status.OPEN:
        raise DomainError("该标记已核销。")
    _check_open(flag.campaign)
    with audit.tracking(
        flag, actor=actor, fields=["status", "cleared_reason"], campaign=flag.campaign, reason="核销部门比对标记"
    ):
        flag.status, flag.cleared_reason = HouseholdFlag.Status.CLEARED, reason[:2000]
        flag.cleared_by, flag.cleared_at = actor, timezone.now()
        flag.save(update_fields=["status", "cleared_reason", "cleared_by", "cleared_at"])
    return flag


# --- screening tasks -------------------------------------------------------------------


def tasks_visible_to(user, campaign: Campaign):
    return ScreeningTask.objects.filter(roles.area_q(user), campaign=campaign)


def open_screening_tasks_by_village(campaign: Campaign, village_ids) -> dict[int, dict]:
    """Per village: its open screening tasks and how many of them are past their due date (one query)."""
    today = timezone.localdate()
    counts = {village_id: {"open": 0, "overdue": 0} for village_id in village_ids}
    rows = (
        ScreeningTask.objects.filter(campaign=campaign, village_id__in=list(counts), status=ScreeningTask.Status.OPEN)
        .values("village_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
        .order_by()
    )
    for row in rows:
        counts[row["village_id"]] = {"open": row["open"], "overdue": row["overdue"]}
    return counts


def _lock_open_task(task: ScreeningTask) -> ScreeningTask:
    task = ScreeningTask.objects.select_for_update().select_related("campaign", "village").get(pk=task.pk)
    if task.status != ScreeningTask.Status.OPEN:
        raise DomainError("该排查任务已办结。")
    _check_open(task.campaign)
    return task


@transaction.atomic
def close_task(task: ScreeningTask, *, actor, closure: str, note: str) -> ScreeningTask:
    """The village closes a task without registering anyone, saying why (moved away, deceased, …)."""
    note = note.strip()
    if closure not in ScreeningTask.Closure.values:
        raise DomainError("请选择核销原因。", field="closure")
    if not note:
        raise DomainError("请写明走访核实的情况。", field="note")
    task = _lock_open_task(task)
    with audit.tracking(
        task, actor=actor, fields=["status", "closure", "close_note"], campaign=task.campaign, reason="排查任务核销"
    ):
        task.status, task.closure, task.close_note = ScreeningTask.Status.CLOSED, closure, note[:2000]
        task.closed_by, task.closed_at = actor, timezone.now()
        task.save(update_fields=["status", "closure", "close_note", "closed_by", "closed_at"])
    return task


@transaction.atomic
def register_task_household(task: ScreeningTask, *, actor, data: dict[str, Any]) -> Household:
    """Register the person a task names as the head of a new household of the task's village
    (the registry's own `create_household`), put the household on the form-B list and close the
    task with a link to it. `data` holds the household's fields from the form; the village is the
    task's, and a household registered from a screening task is not (yet) in dibao."""
    task = _lock_open_task(task)
    household = create_household(
        actor=actor,
        data={
            **data,
            "village": task.village,
            "dibao_status": Household.DibaoStatus.NONE,
            "covered_persons": 0,
            "monthly_amount": Decimal("0"),
        },
        head={"name": task.name, "id_number": task.id_number},
        reason=f"部门名单排查任务：{task.get_reason_display()}",
    )
    _close_registered(task, household, actor=actor)
    return household


def registered_household(task: ScreeningTask) -> Household | None:
    """The household the person a task names now lives in (added as a member meanwhile), if any."""
    member = (
        _live_members(task.village.town_id)
        .filter(id_number=task.id_number)
        .select_related("household__village")
        .first()
    )
    return member.household if member else None


@transaction.atomic
def link_task_household(task: ScreeningTask, *, actor) -> Household:
    """The person was registered meanwhile as a member of a household (of the same village): the
    task is closed with a link to it, and the household goes on the form-B list."""
    task = _lock_open_task(task)
    household = registered_household(task)
    if household is None:
        raise DomainError("该人员尚未登记在任何家庭中，请先登记入户。")
    if household.village_id != task.village_id:
        # named by neither household nor village: it may be outside the actor's area
        raise DomainError("该人员登记在其他村（社区）的家庭中，不能关联到本任务；如已迁出，请以“已迁出”核销。")
    _close_registered(task, household, actor=actor)
    return household


def _close_registered(task: ScreeningTask, household: Household, *, actor) -> None:
    with audit.tracking(
        task, actor=actor, fields=["status", "household"], campaign=task.campaign, reason="排查任务登记入户"
    ):
        task.status, task.household = ScreeningTask.Status.REGISTERED, household
        task.closed_by, task.closed_at = actor, timezone.now()
        task.save(update_fields=["status", "household", "closed_by", "closed_at"])
    _put_on_screening_list(task, household, actor=actor)


def _put_on_screening_list(task: ScreeningTask, household: Household, *, actor) -> None:
    """The registered household goes on the campaign's form-B list (大排查), through the surveys
    app's own service, unless it is in dibao (form A) or listed already."""
    if household.is_dibao:
        return
    listed = ScreeningEntry.objects.filter(campaign=task.campaign, household=household, removed_at__isnull=True)
    if listed.exists():
        return
    kind = survey_services.screening_kind(household) or (
        ScreeningEntry.Kind.POVERTY if task.reason == ScreeningTask.Reason.POVERTY else ScreeningEntry.Kind.OTHER
    )
    survey_services.add_to_screening(
        task.campaign, household, kind=kind, actor=actor, note=f"部门名单排查：{task.get_reason_display()}"
    )


@transaction.atomic
def reveal_task_id(task: ScreeningTask, *, actor) -> None:
    """Viewing a task's full ID number is itself recorded (never the number)."""
    audit.record(
        actor=actor, action=AuditEvent.Action.VIEW_ID, obj=task, campaign=task.campaign, reason="查看完整身份证号"
    )
