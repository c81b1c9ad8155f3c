"""The re-verification draw and the estimates, with the figures worked by hand in each test."""

import hashlib
import math
import random
from decimal import Decimal as D
from fractions import Fraction

import pytest

from surveys.sampling import (
    Stratum,
    draw,
    estimate_mean,
    estimate_total,
    method_text,
    new_seed,
    sample_key,
    sample_size,
    verify,
)

SEED = "00112233445566778899aabbccddeeff"


def close(value, expected, places=10):
    return abs(value - D(expected)) < D(1).scaleb(-places)


def town(*sizes):
    """(village, code) pairs: village 村1 has codes 1-0000, 1-0001, …, 村2 has 2-0000, …"""
    return [(f"村{v}", f"{v}-{i:04d}") for v, size in enumerate(sizes, start=1) for i in range(size)]


# Drawing


@pytest.mark.parametrize(
    ("n", "ratio", "k"),
    [
        (0, "20", 0),  # nobody reported, nobody drawn
        (1, "20", 1),  # 0.2 -> 1: every village with a household is re-visited
        (4, "20", 1),  # 0.8 -> 1
        (5, "20", 1),  # 1.0 exactly
        (6, "20", 2),  # 1.2 -> 2
        (7, "20", 2),  # 1.4 -> 2
        (10, "20", 2),  # 2.0 exactly, not 3 from a binary 0.2
        (11, "20", 3),  # 2.2 -> 3
        (100, "20", 20),
        (101, "20", 21),  # 20.2 -> 21
        (10, "20.00", 2),  # trailing zeros change nothing
        (10, "10", 1),
        (11, "10", 2),  # 1.1 -> 2
        (3, "12.5", 1),  # 0.375 -> 1
        (8, "12.5", 1),  # 1.0 exactly
        (9, "12.5", 2),  # 1.125 -> 2
        (3, "33.3", 1),  # 0.999 -> 1
        (1000, "0.1", 1),  # 1.0 exactly
        (1001, "0.1", 2),  # 1.001 -> 2
        (5, "0", 0),
        (5, "100", 5),
        (5, "150", 5),  # never more than n
        (1_000_000, "20", 200_000),
    ],
)
def test_it_sizes_the_sample_as_the_exact_ceiling(n, ratio, k):
    assert sample_size(n, D(ratio)) == k


def test_it_sizes_the_sample_as_the_ceiling_for_every_n_up_to_500():
    # An independent reference: the ratio as a Fraction parsed from its text.
    for ratio in ["10", "12.5", "20", "33.3", "0.1", "99.99", "66.666"]:
        for n in range(501):
            expected = min(math.ceil(Fraction(ratio) * n / 100), n)
            assert sample_size(n, D(ratio)) == expected, (n, ratio)


def test_it_takes_an_integer_ratio_and_refuses_a_float_or_a_negative():
    assert sample_size(7, 20) == 2
    with pytest.raises(TypeError):
        sample_size(10, 20.0)
    with pytest.raises(ValueError):
        sample_size(10, D("-1"))
    with pytest.raises(ValueError):
        sample_size(-1, D("20"))


def test_it_makes_a_fresh_seed_of_32_hex_characters():
    seed = new_seed()
    assert len(seed) == 32 and int(seed, 16) >= 0
    assert new_seed() != seed


def test_it_keys_a_household_by_sha256_of_seed_colon_code():
    assert sample_key(SEED, "1-0001") == hashlib.sha256(f"{SEED}:1-0001".encode()).hexdigest()
    # Codes and seeds are hashed as UTF-8
    assert sample_key("种子", "泥汊-01") == hashlib.sha256("种子:泥汊-01".encode()).hexdigest()


def test_it_draws_exactly_the_sample_size_in_each_village():
    # 7 -> 2, 10 -> 2, 23 -> 5 (4.6), 1 -> 1 at 20%
    drawn = draw(town(7, 10, 23, 1), ratio_percent=D("20"), seed=SEED)
    assert {village: len(codes) for village, codes in drawn.items()} == {"村1": 2, "村2": 2, "村3": 5, "村4": 1}
    for village, codes in drawn.items():
        assert all(code.startswith(village.removeprefix("村") + "-") for code in codes)


def test_it_draws_the_smallest_keys_in_ascending_order():
    units = town(23)
    drawn = draw(units, ratio_percent=D("20"), seed=SEED)["村1"]
    by_key = sorted((hashlib.sha256(f"{SEED}:{code}".encode()).hexdigest(), code) for _, code in units)
    assert drawn == [code for _, code in by_key[:5]]


def test_it_gives_the_same_list_whatever_the_input_order():
    units = town(7, 10, 23, 40)
    first = draw(units, ratio_percent=D("20"), seed=SEED)
    shuffled = units[:]
    random.Random(1).shuffle(shuffled)
    again = draw(shuffled, ratio_percent=D("20"), seed=SEED)
    assert again == first
    assert list(again) == list(first)  # villages in the same order too


def test_it_gives_another_list_with_another_seed():
    units = town(40, 40)
    assert draw(units, ratio_percent=D("20"), seed=SEED) != draw(units, ratio_percent=D("20"), seed="another seed")


def test_it_refuses_a_household_listed_twice():
    with pytest.raises(ValueError, match="1-0001"):
        draw([("村1", "1-0001"), ("村2", "1-0001")], ratio_percent=D("20"), seed=SEED)


def test_it_includes_each_household_at_the_ratio_over_many_seeds():
    # 50 households at 20%: k = 10, so each is drawn with probability exactly 10/50 = 0.2.
    # Over 1,000 seeds the count is Binomial(1000, 0.2): sd of the rate = sqrt(0.2·0.8/1000) ≈ 0.0126;
    # we allow 4 sd (≈ 0.0506) for each of the 50 households.
    units = town(50)
    counts = dict.fromkeys((code for _, code in units), 0)
    rounds = 1000
    for i in range(rounds):
        for code in draw(units, ratio_percent=D("20"), seed=f"{i:032x}")["村1"]:
            counts[code] += 1
    assert sum(counts.values()) == 10 * rounds
    bound = 4 * math.sqrt(0.2 * 0.8 / rounds)
    assert all(abs(count / rounds - 0.2) <= bound for count in counts.values()), counts


def test_it_verifies_a_list_that_matches():
    units = town(7, 10, 23)
    recorded = draw(units, ratio_percent=D("20"), seed=SEED)
    assert verify(units, ratio_percent=D("20"), seed=SEED, recorded=recorded) == []


def test_it_reports_a_replaced_household():
    units = town(7, 10, 23)
    recorded = draw(units, ratio_percent=D("20"), seed=SEED)
    drawn_code = recorded["村3"][1]
    other = next(code for _, code in units if code.startswith("3-") and code not in recorded["村3"])
    recorded["村3"] = [other if code == drawn_code else code for code in recorded["村3"]]
    assert verify(units, ratio_percent=D("20"), seed=SEED, recorded=recorded) == [
        f"村3：名单中的{other}不在按种子复算的抽样结果中。",
        f"村3：按种子应抽中{drawn_code}，名单中没有。",
    ]


def test_it_reports_a_removed_household():
    units = town(7, 10, 23)
    recorded = draw(units, ratio_percent=D("20"), seed=SEED)
    removed = recorded["村2"].pop()
    assert verify(units, ratio_percent=D("20"), seed=SEED, recorded=recorded) == [
        "村2：按种子应抽2户，名单记录1户。",
        f"村2：按种子应抽中{removed}，名单中没有。",
    ]


def test_it_reports_a_list_drawn_with_another_seed():
    units = town(23)
    recorded = draw(units, ratio_percent=D("20"), seed="another seed")
    assert verify(units, ratio_percent=D("20"), seed=SEED, recorded=recorded)


def test_it_describes_the_method_with_the_campaign_ratio():
    text = method_text(D("20"))
    assert "k = ⌈20% × n⌉" in text and "n = 23 时 k = 5" in text  # 4.6 -> 5
    assert "SHA-256" in text and "全面核查户" in text and "不计入 k" in text
    # 12.5% of 23 = 2.875 -> 3
    assert "k = ⌈12.5% × n⌉" in method_text(D("12.5")) and "k = 3" in method_text(D("12.5"))


# Estimating

# Three villages for the share of households with a material difference:
#   A: N=10, sample 1,0,0,1   n=4  ȳ=0.5  s²=(4×0.25)/3 = 1/3          FPC = 1 − 4/10 = 0.6
#   B: N=20, sample 0,0,0,1,0 n=5  ȳ=0.2  s²=(4×0.04 + 0.64)/4 = 0.2   FPC = 1 − 5/20 = 0.75
#   C: N=5,  sample 1,1,0,1,0 n=5  ȳ=0.6  every household: FPC = 0
# N = 35, W = 10/35, 20/35, 5/35 = 2/7, 4/7, 1/7
# mean = (2×0.5 + 4×0.2 + 1×0.6)/7 = 2.4/7 = 0.342857142857…
# var  = (2/7)²×0.6×(1/3)/4 + (4/7)²×0.75×0.2/5 + 0 = 0.2/49 + 0.48/49 = 0.68/49
# SE   = √0.68/7 = 0.8246211251…/7 = 0.1178030178…
# 95%  = 0.3428571429 ± 1.959964×0.1178030178 = 0.3428571429 ± 0.2308896741 = [0.1119674687, 0.5737468170]
THREE_VILLAGES = [
    Stratum("A", 10, [1, 0, 0, 1]),
    Stratum("B", 20, [0, 0, 0, 1, 0]),
    Stratum("C", 5, [1, 1, 0, 1, 0]),
]


def test_it_estimates_the_share_and_its_interval_by_hand():
    estimate = estimate_mean(THREE_VILLAGES, share=True)
    assert close(estimate.value, "0.3428571429")
    assert close(estimate.standard_error, "0.1178030179")
    assert close(estimate.lower, "0.1119674687")
    assert close(estimate.upper, "0.5737468170")
    assert (estimate.n, estimate.population, estimate.strata_used) == (14, 35, ["A", "B", "C"])
    assert estimate.warnings == []
    assert "有限总体校正" in estimate.method and "1.959964" in estimate.method
    assert estimate.as_dict()["value"] == "0.3429"
    assert (estimate.as_dict()["lower"], estimate.as_dict()["upper"]) == ("0.1120", "0.5737")


def test_it_estimates_the_number_of_households_as_n_times_the_share():
    # 35 × 2.4/7 = 12 households; SE = 35 × √0.68/7 = 5√0.68 = 4.1231056256
    # 95% = 12 ± 1.959964×4.1231056256 = 12 ± 8.0811386 = [3.9188614, 20.0811386]
    estimate = estimate_total(THREE_VILLAGES, share=True)
    assert close(estimate.value, "12")
    assert close(estimate.standard_error, "4.1231056256")
    assert close(estimate.lower, "3.9188614", places=6) and close(estimate.upper, "20.0811386", places=6)
    assert estimate.as_dict()["lower"] == "3.92" and estimate.as_dict()["upper"] == "20.08"


# Money paid in error (yuan per month):
#   X: N=8, sample 0, 0, 120, 60  n=4  ȳ=45  deviations −45,−45,75,15 -> squares 2025+2025+5625+225 = 9900
#      s² = 9900/3 = 3300, FPC = 1 − 4/8 = 0.5
#   Y: N=2, sample 30  n=1: no variance term (warning)
# N = 10, W = 0.8, 0.2
# mean = 0.8×45 + 0.2×30 = 42;  var = 0.8²×0.5×3300/4 = 0.64×412.5 = 264;  SE = √264 = 16.2480768093
# 95% = 42 ± 1.959964×16.2480768093 = 42 ± 31.8456456 = [10.1543544, 73.8456456]
# total = 10 × 42 = 420 a month; SE 10 × 16.2480768093 = 162.480768093; 95% = [101.54, 738.46]
MONEY = [Stratum("X", 8, [D("0"), D("0"), D("120.00"), D("60.00")]), Stratum("Y", 2, [D("30.00")])]


def test_it_estimates_money_per_household_by_hand():
    estimate = estimate_mean(MONEY)
    assert close(estimate.value, "42")
    assert close(estimate.standard_error, "16.2480768093")
    assert close(estimate.lower, "10.1543544", places=6) and close(estimate.upper, "73.8456456", places=6)
    assert estimate.warnings == ["Y：仅复核1户，无法计算方差，标准误和区间偏窄。"]
    assert estimate.as_dict()["value"] == "42.00"
    assert "金额区间下限不低于 0" in estimate.method


def test_it_estimates_the_money_total_by_hand():
    estimate = estimate_total(MONEY)
    assert close(estimate.value, "420")
    assert close(estimate.standard_error, "162.4807680927")
    assert estimate.as_dict()["lower"] == "101.54" and estimate.as_dict()["upper"] == "738.46"


def test_it_accepts_floats_as_their_decimal_text():
    # 0.1 + 0.2 as floats would be 0.30000000000000004; as their text the mean of 0.1, 0.2 is 0.15 exactly
    estimate = estimate_mean([Stratum("X", 2, [0.1, 0.2])])
    assert estimate.value == D("0.15") and estimate.standard_error == 0


def test_it_gives_no_variance_to_a_village_visited_in_full():
    # C alone: every household visited, FPC = 1 − 5/5 = 0: the share is known, 3/5 = 0.6
    alone = estimate_mean([THREE_VILLAGES[2]], share=True)
    assert alone.value == D("0.6") and alone.standard_error == 0
    assert alone.lower == alone.upper == D("0.6")
    # A with C: W = 10/15, 5/15; var = (2/3)²×0.6×(1/3)/4 + 0 = (4/9)×0.05 = 0.0222222…; C adds nothing
    both = estimate_mean([THREE_VILLAGES[0], THREE_VILLAGES[2]], share=True)
    assert close(both.standard_error**2, "0.0222222222")


def test_it_leaves_out_a_village_without_results_and_says_so():
    # Z has no re-visits yet: the estimate is the one of A, B, C alone (weights over N = 35, not 135)
    estimate = estimate_mean([*THREE_VILLAGES, Stratum("Z", 100, [])], share=True)
    assert close(estimate.value, "0.3428571429")
    assert estimate.population == 35 and estimate.strata_used == ["A", "B", "C"]
    assert estimate.warnings == ["Z：上报100户，尚无复核结果，未纳入估计。"]


def test_it_gives_no_estimate_without_any_result():
    estimate = estimate_mean([Stratum("Z", 100, [])], share=True)
    assert estimate.value is None and estimate.lower is None and estimate.upper is None
    assert estimate.warnings[-1] == "没有可用的复核结果，无法估计。"
    assert estimate.as_dict()["value"] == ""


def test_it_clamps_a_share_interval_to_0_and_1():
    # 1 of 10 out of 100: ȳ = 0.1, s² = (0.81 + 9×0.01)/9 = 0.1, var = 0.9×0.1/10 = 0.009,
    # SE = √0.009 = 0.0948683, 0.1 ∓ 1.959964×0.0948683 = 0.1 ∓ 0.1859385: −0.0859 -> 0, upper 0.2859385
    low = estimate_mean([Stratum("A", 100, [1] + [0] * 9)], share=True)
    assert low.lower == 0 and close(low.upper, "0.2859385", places=6)
    # the mirror image: 0.9 + 0.1859385 = 1.0859 -> 1, lower 0.9 − 0.1859385 = 0.7140615
    high = estimate_mean([Stratum("A", 100, [0] + [1] * 9)], share=True)
    assert high.upper == 1 and close(high.lower, "0.7140615", places=6)
    # as a count of households: at most N = 100
    assert estimate_total([Stratum("A", 100, [0] + [1] * 9)], share=True).upper == 100


def test_it_refuses_impossible_observations():
    with pytest.raises(ValueError, match="多于上报户数"):
        estimate_mean([Stratum("A", 2, [0, 0, 1])])
    with pytest.raises(ValueError, match="不能为负数"):
        estimate_mean([Stratum("A", 10, [D("-5")])])
    with pytest.raises(ValueError, match="只能是 0 或 1"):
        estimate_mean([Stratum("A", 10, [D("0.5")])], share=True)


# Coverage: over many simulated towns the 95% interval holds the true figure about 95% of the time.


def simulated_town(rng):
    """15 villages of 40–400 households; each village has its own error rate (4–20%, 12% on average),
    and an overpaid household gets 10.00–600.00 yuan a month too much. The town draws 20% at random:
    rng.sample stands in for draw(), whose inclusion probabilities are tested above, because hashing
    every household of 2,000 towns would take far longer than the estimator itself."""
    shares, money = [], []
    true_errors, true_money, households = 0, D(0), 0
    for v in range(15):
        size = rng.randint(40, 400)
        errors = round(rng.uniform(0.04, 0.20) * size)  # households 0..errors-1 have a difference
        amounts = [D(rng.randint(1000, 60000)) / 100 for _ in range(errors)]
        picked = rng.sample(range(size), sample_size(size, D("20")))
        shares.append(Stratum(f"村{v}", size, [1 if i < errors else 0 for i in picked]))
        money.append(Stratum(f"村{v}", size, [amounts[i] if i < errors else D(0) for i in picked]))
        true_errors += errors
        true_money += sum(amounts, D(0))
        households += size
    return shares, money, D(true_errors) / households, true_money


def test_it_covers_the_true_share_and_money_total_about_95_percent_of_the_time():
    rng = random.Random(20191105)
    runs = 2000
    share_hits = money_hits = 0
    for _ in range(runs):
        shares, money, true_share, true_money = simulated_town(rng)
        share = estimate_mean(shares, share=True)
        total = estimate_total(money)
        share_hits += share.lower <= true_share <= share.upper
        money_hits += total.lower <= true_money <= total.upper
    assert 0.92 <= share_hits / runs <= 0.975, share_hits / runs
    assert 0.92 <= money_hits / runs <= 0.975, money_hits / runs
