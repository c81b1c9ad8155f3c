"""Every rule of the engine, with the figures worked by hand in each test."""

import datetime as dt
import json
from decimal import Decimal as D

import pytest

from surveys.eligibility import Facts, Person, Rules, Vehicle, assess, covered_persons_problem

RURAL = Rules(
    standard=D("505"),
    edge_multiplier=D("1.5"),
    asset_multiplier=D("24"),
    asset_multiplier_severe=D("48"),
    purchase_lookback_years=2,
)


def facts(*people, **kw):
    kw.setdefault("visit_date", dt.date(2019, 10, 25))
    return Facts(people=list(people), **kw)


def test_per_capita_income_is_counted_income_over_12_over_size():
    # 6,000 wage + 1,200 crop = 7,200 a year; 7,200 / 12 / 2 = 300.00 a month
    result = assess(facts(Person("甲", {"wage": D("6000")}), Person("乙", {"crop": D("1200")})), RURAL)
    assert result.household_size == 2
    assert result.counted_income == D("7200.00")
    assert result.per_capita_monthly == D("300.00")
    assert result.income_eligible and result.eligible


@pytest.mark.parametrize(
    "category", ["special_care", "family_planning", "scholarship", "bravery", "assistance", "basic_pension"]
)
def test_each_excluded_income_is_recorded_but_not_counted(category):
    # 3,600 wage counts; 100,000 of an excluded kind does not: 3,600 / 12 / 1 = 300.00
    result = assess(facts(Person("甲", {"wage": D("3600"), category: D("100000")})), RURAL)
    assert result.counted_income == D("3600.00")
    assert result.excluded_income == D("100000.00")
    assert result.per_capita_monthly == D("300.00")


@pytest.mark.parametrize(
    "category",
    [
        "wage",
        "crop",
        "livestock",
        "business",
        "rent",
        "interest",
        "land",
        "support",
        "pension",
        "unemployment",
        "compensation",
        "donation",
        "other",
    ],
)
def test_each_counted_income_category_counts(category):
    # 12,000 / 12 / 2 = 500.00
    result = assess(facts(Person("甲", {category: D("12000")}), Person("乙")), RURAL)
    assert result.per_capita_monthly == D("500.00")


def test_members_not_living_together_are_left_out_with_their_income():
    # only 甲 counts: 2,400 / 12 / 1 = 200.00; 乙's 60,000 is not household income
    result = assess(
        facts(Person("甲", {"wage": D("2400")}), Person("乙", {"wage": D("60000")}, co_resident=False)), RURAL
    )
    assert result.household_size == 1 and result.per_capita_monthly == D("200.00")
    assert result.left_out == ["乙（不共同生活）"]


@pytest.mark.parametrize("reason", ["服刑", "强制隔离戒毒", "宣告失踪", "出家满三年"])
def test_each_left_out_reason_removes_the_member(reason):
    # 甲 alone: 4,800 / 12 / 1 = 400.00
    result = assess(
        facts(Person("甲", {"wage": D("4800")}), Person("乙", {"wage": D("9000")}, left_out_reason=reason)), RURAL
    )
    assert result.household_size == 1 and result.per_capita_monthly == D("400.00")
    assert f"乙（{reason}）" in result.left_out


@pytest.mark.parametrize("kind", ["medical", "education", "disability", "employment"])
def test_each_deduction_reduces_income(kind):
    # (9,600 − 2,400) / 12 / 2 = 300.00
    result = assess(facts(Person("甲", {"wage": D("9600")}), Person("乙"), deductions={kind: D("2400")}), RURAL)
    assert result.deductions == D("2400.00")
    assert result.per_capita_monthly == D("300.00")


def test_deductions_never_make_income_negative():
    result = assess(facts(Person("甲", {"wage": D("1000")}), deductions={"medical": D("5000")}), RURAL)
    assert result.per_capita_monthly == D("0.00")


def test_income_at_the_standard_is_not_eligible():
    # 505 × 12 = 6,060 for one person: exactly the standard is not below it
    result = assess(facts(Person("甲", {"wage": D("6060")})), RURAL)
    assert result.per_capita_monthly == D("505.00")
    assert not result.income_eligible and not result.eligible


@pytest.mark.parametrize("kind, label", [("car", "小汽车"), ("boat", "船舶"), ("machinery", "大型农机具")])
def test_a_refusing_vehicle_fails_the_property_test(kind, label):
    result = assess(facts(Person("甲"), vehicles=[Vehicle(kind)]), RURAL)
    assert result.income_eligible and not result.eligible
    assert any(label in r for r in result.property_reasons)


def test_a_disability_vehicle_or_a_motorbike_does_not_count():
    result = assess(
        facts(Person("甲"), vehicles=[Vehicle("car", disability_vehicle=True), Vehicle("motorbike")]), RURAL
    )
    assert result.eligible and result.property_reasons == []


@pytest.mark.parametrize("field, text", [("registered_business", "登记经营"), ("employs_others", "雇佣他人")])
def test_a_business_fails_the_property_test(field, text):
    result = assess(facts(Person("甲"), **{field: True}), RURAL)
    assert not result.eligible and text in result.property_reasons[0]


def test_shop_fronts_fail_the_property_test():
    result = assess(facts(Person("甲"), shop_fronts=1), RURAL)
    assert not result.eligible


def test_financial_assets_above_the_per_capita_limit_fail():
    # limit 24 × 505 = 12,120 per person; 2 people may hold 24,240
    at_limit = assess(facts(Person("甲"), Person("乙"), financial_assets=D("24240")), RURAL)
    assert at_limit.eligible
    above = assess(facts(Person("甲"), Person("乙"), financial_assets=D("24242")), RURAL)
    assert not above.eligible
    assert "人均金融资产12,121.00元，超过低保标准的24倍（12,120.00元）" in above.property_reasons[0]


def test_severe_illness_or_disability_raises_the_asset_limit():
    # 48 × 505 = 24,240 per person: 20,000 for one person passes only with the severe limit
    assert not assess(facts(Person("甲"), financial_assets=D("20000")), RURAL).eligible
    assert assess(facts(Person("甲"), financial_assets=D("20000"), severe_illness_or_disability=True), RURAL).eligible


def test_a_recent_flat_purchase_or_build_fails_and_an_old_one_does_not():
    # visit 2019-10-25, look back 2 years: from 2017-10-25
    assert not assess(facts(Person("甲"), flat_purchased_on=dt.date(2017, 10, 25)), RURAL).eligible
    assert assess(facts(Person("甲"), flat_purchased_on=dt.date(2017, 10, 24)), RURAL).eligible
    assert not assess(facts(Person("甲"), major_build_on=dt.date(2019, 1, 1)), RURAL).eligible


def test_the_edge_rule():
    # edge line 1.5 × 505 = 757.50; 700 × 12 = 8,400 for one person: above standard, below edge
    edge = assess(facts(Person("甲", {"wage": D("8400")})), RURAL)
    assert not edge.eligible and edge.is_edge and edge.edge_line == D("757.50")
    # 757.50 × 12 = 9,090: at the line is not below it
    assert not assess(facts(Person("甲", {"wage": D("9090")})), RURAL).is_edge
    # eligible households are not edge households
    assert not assess(facts(Person("甲")), RURAL).is_edge


def test_the_amount_is_the_gap_times_covered_persons():
    # per capita (7,200 / 12 / 3) = 200.00; (505 − 200) × 2 covered = 610.00
    result = assess(facts(Person("甲", {"wage": D("7200")}), Person("乙"), Person("丙"), covered_persons=2), RURAL)
    assert result.per_capita_monthly == D("200.00")
    assert result.suggested_amount == D("610.00")


def test_the_amount_has_a_configurable_floor():
    # gap 505 − 500 = 5 for one person, floor 30
    rules = Rules(**{**RURAL.__dict__, "minimum_amount": D("30")})
    result = assess(facts(Person("甲", {"wage": D("6000")})), rules)
    assert result.suggested_amount == D("30.00")


def test_outcomes():
    poor = Person("甲", {"wage": D("3600")})  # 300.00 a month; gap 205.00
    rich = Person("甲", {"wage": D("36000")})
    assert assess(facts(poor, in_dibao=True, current_amount=D("205")), RURAL).suggested_outcome == "keep"
    assert assess(facts(poor, in_dibao=True, current_amount=D("150")), RURAL).suggested_outcome == "adjust"
    assert assess(facts(rich, in_dibao=True, current_amount=D("150")), RURAL).suggested_outcome == "exit"
    assert assess(facts(poor), RURAL).suggested_outcome == "enrol"
    assert assess(facts(rich), RURAL).suggested_outcome == "reject"


def test_reasons_are_in_chinese_and_name_the_figures():
    result = assess(facts(Person("甲", {"wage": D("3600")}), in_dibao=True), RURAL)
    text = "\n".join(result.reasons)
    assert "人均月收入300.00元，低于低保标准505.00元" in text
    assert "补差：（505.00元 − 300.00元）× 保障1人 = 205.00元/月" in text


def test_an_empty_household_is_not_eligible():
    result = assess(facts(Person("甲", co_resident=False)), RURAL)
    assert not result.eligible and result.household_size == 0


def test_it_compares_the_unrounded_per_capita_income_with_the_standard():
    # 6,059.95 / 12 / 1 = 504.99583… a month: below 505, though it shows as 505.00
    result = assess(facts(Person("甲", {"wage": D("6059.95")})), RURAL)
    assert result.per_capita_monthly == D("505.00")
    assert result.per_capita_exact < D("505")
    assert result.income_eligible and result.eligible
    # (505 − 504.99583…) × 1 = 0.00416… rounds to 0.00 (no floor in RURAL)
    assert result.suggested_amount == D("0.00")
    assert "人均月收入505.00元（未取整为504.9958元），低于低保标准505.00元" in "\n".join(result.reasons)


def test_it_multiplies_the_unrounded_gap_and_rounds_only_the_amount():
    # 9,600 / 12 / 3 = 266.666… a month (shown 266.67)
    # (505 − 266.666…) × 3 = 238.333… × 3 = 715.00; rounding first would give 238.33 × 3 = 714.99
    result = assess(facts(Person("甲", {"wage": D("9600")}), Person("乙"), Person("丙")), RURAL)
    assert result.per_capita_monthly == D("266.67")
    assert result.suggested_amount == D("715.00")
    assert (
        "补差：（505.00元 − 266.67元）× 保障3人 = 715.00元/月（按未取整的人均月收入266.6667元计算）。"
    ) in result.reasons


def test_it_rounds_a_gap_of_exactly_half_a_fen_up():
    # 0.06 / 12 / 3 = 0.001666… a month; (505 − 0.001666…) × 3 = 1,515 − 0.005 = 1,514.995 → 1,515.00
    # (multiplying a per-capita figure cut to any number of digits would land under it: 1,514.99)
    result = assess(facts(Person("甲", {"wage": D("0.06")}), Person("乙"), Person("丙")), RURAL)
    assert result.suggested_amount == D("1515.00")


def test_it_counts_only_the_living_after_a_member_died():
    # before: 3,600 / 12 / 2 = 150.00; (505 − 150) × 2 = 710.00
    before = assess(facts(Person("甲", {"wage": D("3600")}), Person("乙"), covered_persons=2), RURAL)
    assert before.suggested_amount == D("710.00")
    # 乙 died: the service no longer passes 乙. 3,600 / 12 / 1 = 300.00;
    # the registry still says 2 covered, capped to 1: (505 − 300) × 1 = 205.00
    after = assess(facts(Person("甲", {"wage": D("3600")}), covered_persons=2, in_dibao=True), RURAL)
    assert after.household_size == 1 and after.per_capita_monthly == D("300.00")
    assert after.covered_persons == 1 and after.covered_capped
    assert after.suggested_amount == D("205.00")


def test_it_leaves_out_a_member_in_prison_and_one_living_elsewhere_and_caps_the_covered_persons():
    # only 甲 counts: 4,800 / 12 / 1 = 400.00; 乙 (服刑) and 丙 (elsewhere, 30,000 wage) do not
    # 3 proposed, 1 counted: (505 − 400) × 1 = 105.00
    result = assess(
        facts(
            Person("甲", {"wage": D("4800")}),
            Person("乙", left_out_reason="服刑"),
            Person("丙", {"wage": D("30000")}, co_resident=False),
            covered_persons=3,
        ),
        RURAL,
    )
    assert result.counted_people == ["甲"]
    assert result.left_out == ["乙（服刑）", "丙（不共同生活）"]
    assert result.per_capita_monthly == D("400.00")
    assert result.covered_persons == 1
    assert result.suggested_amount == D("105.00")


def test_it_raises_the_per_capita_income_when_a_member_moved_out():
    # before: 9,000 / 12 / 3 = 250.00; (505 − 250) × 3 = 765.00
    people = [Person("甲", {"wage": D("9000")}), Person("乙"), Person("丙")]
    before = assess(facts(*people), RURAL)
    assert before.per_capita_monthly == D("250.00") and before.suggested_amount == D("765.00")
    # 丙 moved out and is no longer passed: 9,000 / 12 / 2 = 375.00; (505 − 375) × 2 = 260.00
    after = assess(facts(*people[:2]), RURAL)
    assert after.household_size == 2
    assert after.per_capita_monthly == D("375.00") and after.suggested_amount == D("260.00")


def test_it_caps_covered_persons_at_the_counted_members():
    # 2,400 / 12 / 1 = 200.00; 3 proposed but 1 counted: (505 − 200) × 1 = 305.00, not × 3 = 915.00
    result = assess(facts(Person("甲", {"wage": D("2400")}), covered_persons=3), RURAL)
    assert result.covered_persons == 1 and result.covered_capped
    assert result.suggested_amount == D("305.00")
    assert "拟保障人数（3人）超过计入家庭人口（1人），保障人数核减为1人。" in result.reasons
    assert "补差：（505.00元 − 200.00元）× 保障1人 = 305.00元/月。" in result.reasons


def test_it_keeps_covered_persons_at_or_below_the_counted_members():
    # 2 of 3 proposed stay 2; none proposed means all counted
    two = assess(facts(Person("甲"), Person("乙"), Person("丙"), covered_persons=2), RURAL)
    assert two.covered_persons == 2 and not two.covered_capped
    assert not any("核减" in r for r in two.reasons)
    assert assess(facts(Person("甲"), Person("乙")), RURAL).covered_persons == 2


def test_it_explains_a_covered_persons_problem():
    assert covered_persons_problem(3, 1) == "拟保障人数（3人）超过计入家庭人口（1人）。"
    assert covered_persons_problem(1, 1) is None
    assert covered_persons_problem(0, 2) is None


def test_it_applies_the_severe_asset_limit_for_a_member_with_a_serious_illness():
    # 20,000 for one person: above 24 × 505 = 12,120, within 48 × 505 = 24,240
    result = assess(facts(Person("张三", health="serious"), financial_assets=D("20000")), RURAL)
    assert result.severe and result.eligible
    assert "张三患有大病，适用重病重残户金融资产上限（48倍）。" in result.reasons


@pytest.mark.parametrize("grade, severe", [(1, True), (2, True), (3, False), (4, False)])
def test_it_applies_the_severe_asset_limit_for_disability_grades_1_and_2_only(grade, severe):
    # 20,000 for one person passes only with the 48× limit (see above)
    result = assess(facts(Person("李四", disability_grade=grade), financial_assets=D("20000")), RURAL)
    assert result.severe is severe and result.eligible is severe
    assert any("李四为二级残疾（重度）" in r for r in result.reasons) is (grade == 2)


def test_it_ignores_chronic_illness_and_members_who_are_not_counted_for_the_severe_limit():
    # 乙 is seriously ill but lives elsewhere; 甲's chronic illness is not 大病
    result = assess(
        facts(
            Person("甲", health="chronic"),
            Person("乙", health="serious", co_resident=False),
            financial_assets=D("20000"),
        ),
        RURAL,
    )
    assert not result.severe and not result.eligible


def test_it_names_the_tag_when_no_member_makes_the_household_severe():
    result = assess(facts(Person("甲"), severe_illness_or_disability=True), RURAL)
    assert result.severe
    assert "家庭登记为重病重残户，适用重病重残户金融资产上限（48倍）。" in result.reasons


def test_it_compares_with_the_unrounded_edge_line():
    # edge line 1.5 × 505 = 757.50; 9,089.95 / 12 = 757.49583…: below it, though shown as 757.50
    below = assess(facts(Person("甲", {"wage": D("9089.95")})), RURAL)
    assert below.per_capita_monthly == below.edge_line == D("757.50")
    assert below.is_edge
    # standard 505.05: edge line 1.5 × 505.05 = 757.575, shown as 757.58
    rules = Rules(**{**RURAL.__dict__, "standard": D("505.05")})
    # 9,090.90 / 12 = 757.575: at the unrounded line is not below it (against the shown 757.58 it would be)
    at_line = assess(facts(Person("甲", {"wage": D("9090.90")})), rules)
    assert at_line.edge_line == D("757.58") and not at_line.is_edge
    # 9,090.89 / 12 = 757.574166…: below it
    assert assess(facts(Person("甲", {"wage": D("9090.89")})), rules).is_edge


def test_it_stores_the_new_figures_as_json():
    # 9,600 / 12 / 3 = 266.666…; 2 proposed of 3
    result = assess(
        facts(Person("甲", {"wage": D("9600")}, health="serious"), Person("乙"), Person("丙"), covered_persons=2),
        RURAL,
    )
    data = json.loads(json.dumps(result.as_dict()))
    assert data["per_capita_monthly"] == "266.67"
    assert data["per_capita_exact"].startswith("266.6666")
    assert data["covered_persons"] == 2 and data["covered_capped"] is False
    assert data["severe"] is True
    # (505 − 266.666…) × 2 = 476.666… → 476.67
    assert data["suggested_amount"] == "476.67"
