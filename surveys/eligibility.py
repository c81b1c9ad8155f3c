"""The eligibility engine (domain.md §5), framework-free.

Fed by the campaign's configuration (`Rules`) and the facts a survey records
(`Facts`); returns the figures and a suggested outcome with reasons in Chinese.
Nothing here touches Django, so the same function runs while the form is being
filled in, when the survey is submitted, and when it is recomputed later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")

# Income for the last 12 months, by category (domain.md §3.3).
COUNTED_INCOME = {
    "wage": "工资性收入",
    "crop": "经营净收入：种植",
    "livestock": "经营净收入：养殖",
    "business": "经营净收入：经营",
    "rent": "财产净收入：租金",
    "interest": "财产净收入：利息",
    "land": "财产净收入：土地流转",
    "support": "转移净收入：赡养/扶养/抚养费",
    "pension": "转移净收入：养老金/离退休金",
    "unemployment": "转移净收入：失业保险金",
    "compensation": "转移净收入：赔偿",
    "donation": "转移净收入：捐赠",
    "other": "其他收入",
}
# Recorded but not counted (domain.md §5).
EXCLUDED_INCOME = {
    "special_care": "优待抚恤金",
    "family_planning": "计划生育奖励扶助金",
    "scholarship": "奖学金",
    "bravery": "见义勇为奖励",
    "assistance": "社会救助金和物资",
    "basic_pension": "城乡居民基础养老金",
}
INCOME_CATEGORIES = {**COUNTED_INCOME, **EXCLUDED_INCOME}
DEDUCTIONS = {
    "medical": "刚性支出：医疗",
    "education": "刚性支出：教育",
    "disability": "刚性支出：残疾",
    "employment": "就业成本",
}
# Vehicles that are grounds for refusal unless they are a disability mobility vehicle.
REFUSING_VEHICLES = {"car": "小汽车", "boat": "船舶", "machinery": "大型农机具"}

# Disability grades 1 and 2 are 重度残疾.
SEVERE_DISABILITY_GRADES = {1: "一级", 2: "二级"}

OUTCOMES = {
    "keep": "保留",
    "adjust": "调整金额或类别",
    "exit": "清退",
    "enrol": "新纳入",
    "temporary": "临时救助",
    "reject": "不符合",
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Decimal) -> str:
    return f"{money(value):,.2f}元"


@dataclass(frozen=True)
class Rules:
    standard: Decimal  # yuan per person per month, urban or rural as the household
    edge_multiplier: Decimal
    asset_multiplier: Decimal  # per-capita financial assets, in months of the standard
    asset_multiplier_severe: Decimal  # the same for households with 重病/重残
    purchase_lookback_years: int
    minimum_amount: Decimal = ZERO


@dataclass(frozen=True)
class Person:
    name: str
    incomes: dict[str, Decimal] = field(default_factory=dict)  # category -> annual yuan
    co_resident: bool = True
    left_out_reason: str = ""  # 服刑、强制隔离戒毒、宣告失踪、出家满三年: not counted
    health: str = ""  # as the registry records it: healthy, chronic, serious (患有大病), disabled
    disability_grade: int | None = None  # 1–4


@dataclass(frozen=True)
class Vehicle:
    kind: str
    disability_vehicle: bool = False


@dataclass(frozen=True)
class Facts:
    people: list[Person]
    deductions: dict[str, Decimal] = field(default_factory=dict)
    covered_persons: int = 0
    in_dibao: bool = False
    current_amount: Decimal = ZERO
    vehicles: list[Vehicle] = field(default_factory=list)
    financial_assets: Decimal = ZERO
    registered_business: bool = False
    employs_others: bool = False
    shop_fronts: int = 0
    flat_purchased_on: dt.date | None = None
    major_build_on: dt.date | None = None
    severe_illness_or_disability: bool = False  # the 重病/重残 tag; members' health also counts
    visit_date: dt.date | None = None


@dataclass
class Result:
    counted_people: list[str]
    left_out: list[str]
    household_size: int
    counted_income: Decimal
    excluded_income: Decimal
    deductions: Decimal
    per_capita_monthly: Decimal  # rounded to the fen, for showing and storing
    per_capita_exact: Decimal  # unrounded, what the rules compare and multiply
    standard: Decimal
    edge_line: Decimal
    income_eligible: bool
    property_reasons: list[str]
    eligible: bool
    is_edge: bool
    severe: bool  # 重病/重残: the higher asset multiple applies
    covered_persons: int  # the number the amount is multiplied by
    covered_capped: bool  # the proposed number exceeded the counted members
    suggested_outcome: str
    suggested_amount: Decimal
    reasons: list[str]

    @property
    def suggested_outcome_label(self) -> str:
        return OUTCOMES[self.suggested_outcome]

    def as_dict(self) -> dict:
        """JSON-friendly, for storing with a submitted survey."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
        return data


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def covered_persons_problem(covered: int, counted: int) -> str | None:
    """Covered persons never exceed the counted members; the message says so, or None."""
    if covered > counted:
        return f"拟保障人数（{covered}人）超过计入家庭人口（{counted}人）。"
    return None


def severe_grounds(counted: list[Person]) -> list[str]:
    """Who makes the household 重病/重残: serious illness or disability grade 1 or 2."""
    grounds = []
    for person in counted:
        if person.health == "serious":
            grounds.append(f"{person.name}患有大病")
        if person.disability_grade in SEVERE_DISABILITY_GRADES:
            grounds.append(f"{person.name}为{SEVERE_DISABILITY_GRADES[person.disability_grade]}残疾（重度）")
    return grounds


def property_reasons(facts: Facts, rules: Rules, household_size: int, *, severe: bool = False) -> list[str]:
    reasons = []
    for vehicle in facts.vehicles:
        if vehicle.kind in REFUSING_VEHICLES and not vehicle.disability_vehicle:
            reasons.append(f"家庭拥有{REFUSING_VEHICLES[vehicle.kind]}（非残疾人功能性补偿代步车）。")
    if facts.registered_business:
        reasons.append("家庭成员登记经营企业或个体工商户。")
    if facts.employs_others:
        reasons.append("家庭成员雇佣他人从事经营活动。")
    if facts.shop_fronts > 0:
        reasons.append(f"家庭拥有经营性门面{facts.shop_fronts}处。")
    multiplier = rules.asset_multiplier_severe if severe else rules.asset_multiplier
    if household_size:
        per_capita_assets = facts.financial_assets / household_size
        limit = rules.standard * multiplier
        if per_capita_assets > limit:
            reasons.append(
                f"人均金融资产{yuan(per_capita_assets)}，超过低保标准的{multiplier.normalize()}倍（{yuan(limit)}）。"
            )
    if facts.visit_date:
        since = _years_before(facts.visit_date, rules.purchase_lookback_years)
        if facts.flat_purchased_on and facts.flat_purchased_on >= since:
            reasons.append(f"{rules.purchase_lookback_years}年内购买商品房（{facts.flat_purchased_on:%Y-%m-%d}）。")
        if facts.major_build_on and facts.major_build_on >= since:
            reasons.append(f"{rules.purchase_lookback_years}年内新建、翻建住房（{facts.major_build_on:%Y-%m-%d}）。")
    return reasons


def _per_capita_text(exact: Decimal, line: Decimal) -> str:
    """The figure to the fen, with more digits when rounding would make it look equal to the line."""
    text = yuan(exact)
    if money(exact) == money(line) and exact != line:
        text += f"（未取整为{exact:.4f}元）"
    return text


def assess(facts: Facts, rules: Rules) -> Result:
    """Apply the rules in order: who counts, income, deductions, property, edge, amount.

    Figures are compared and multiplied unrounded; only money that is shown or
    stored is rounded to the fen, half up.
    """
    counted = [p for p in facts.people if p.co_resident and not p.left_out_reason]
    left_out = [f"{p.name}（{p.left_out_reason or '不共同生活'}）" for p in facts.people if p not in counted]
    size = len(counted)
    counted_income = sum((amount for p in counted for cat, amount in p.incomes.items() if cat in COUNTED_INCOME), ZERO)
    excluded_income = sum(
        (amount for p in counted for cat, amount in p.incomes.items() if cat in EXCLUDED_INCOME), ZERO
    )
    deductions = sum((amount for kind, amount in facts.deductions.items() if kind in DEDUCTIONS), ZERO)
    net = max(counted_income - deductions, ZERO)
    per_capita = net / (12 * size) if size else ZERO
    standard = rules.standard
    edge_line = standard * rules.edge_multiplier
    grounds = severe_grounds(counted)
    severe = facts.severe_illness_or_disability or bool(grounds)
    covered = min(facts.covered_persons or size, size)
    covered_problem = covered_persons_problem(facts.covered_persons, size)

    reasons = []
    if size:
        reasons.append(f"计入家庭人口{size}人：{'、'.join(p.name for p in counted)}。")
    else:
        reasons.append("没有计入家庭人口的成员，无法认定。")
    if left_out:
        reasons.append(f"不计入家庭人口：{'、'.join(left_out)}。")
    reasons.append(
        f"家庭年收入{yuan(counted_income)}（另有不计入收入{yuan(excluded_income)}），"
        f"扣减刚性支出和就业成本{yuan(deductions)}。"
    )
    income_eligible = bool(size) and per_capita < standard
    comparison = "低于" if per_capita < standard else "不低于"
    reasons.append(f"人均月收入{_per_capita_text(per_capita, standard)}，{comparison}低保标准{yuan(standard)}。")

    if severe and size:
        who = "、".join(grounds) if grounds else "家庭登记为重病重残户"
        reasons.append(f"{who}，适用重病重残户金融资产上限（{rules.asset_multiplier_severe.normalize()}倍）。")
    refusals = property_reasons(facts, rules, size, severe=severe)
    reasons.extend(refusals)
    eligible = income_eligible and not refusals
    is_edge = not eligible and bool(size) and per_capita < edge_line

    if covered_problem:
        reasons.append(f"{covered_problem.removesuffix('。')}，保障人数核减为{covered}人。")
    amount = ZERO
    if eligible:
        # One division at the end: a gap that comes to exactly half a fen is
        # not pushed under it by an already rounded per-capita figure.
        gap = (standard * 12 * size - net) * covered / (12 * size)
        amount = max(money(gap), money(rules.minimum_amount))
        line = f"补差：（{yuan(standard)} − {yuan(per_capita)}）× 保障{covered}人 = {yuan(amount)}/月"
        if per_capita != money(per_capita):
            line += f"（按未取整的人均月收入{per_capita:.4f}元计算）"
        reasons.append(line + "。")
    if is_edge:
        reasons.append(
            f"人均月收入低于边缘线{yuan(edge_line)}（标准的{rules.edge_multiplier.normalize()}倍），属低保边缘户。"
        )

    if facts.in_dibao:
        if not eligible:
            outcome = "exit"
        elif amount == money(facts.current_amount):
            outcome = "keep"
        else:
            outcome = "adjust"
    else:
        outcome = "enrol" if eligible else "reject"
    return Result(
        counted_people=[p.name for p in counted],
        left_out=left_out,
        household_size=size,
        counted_income=money(counted_income),
        excluded_income=money(excluded_income),
        deductions=money(deductions),
        per_capita_monthly=money(per_capita),
        per_capita_exact=per_capita,
        standard=money(standard),
        edge_line=money(edge_line),
        income_eligible=income_eligible,
        property_reasons=refusals,
        eligible=eligible,
        is_edge=is_edge,
        severe=severe,
        covered_persons=covered,
        covered_capped=covered_problem is not None,
        suggested_outcome=outcome,
        suggested_amount=amount,
        reasons=reasons,
    )
