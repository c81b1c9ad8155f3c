"""The town's and the county's re-verification sample, and what it says about everyone.

Framework-free (domain.md §1 and §4): the town re-visits at least 20% of the
households each village reported, the county at least 10%. `draw` picks them,
reproducibly from a recorded seed, so anyone can recompute the list; `verify`
recomputes it and says where a stored list differs. `estimate_mean` and
`estimate_total` turn the re-visits into the share of households whose village
survey had a material difference, or the money paid in error, for a village or
the town, with a 95% interval.

Arithmetic is exact where it decides who is visited (`sample_size` uses
integers, never floats) and in `Decimal` for the estimates, as money is
elsewhere in the project; figures are rounded only for display (`Estimate.as_dict`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
# Two-sided 95% point of the normal distribution. With few sampled households per
# village a t quantile would be wider; we keep z because the town estimate pools
# every village (hundreds of households), where the two agree, and the coverage
# test in tests/surveys/test_sampling.py checks the interval holds ~95%.
Z_95 = Decimal("1.959964")
SHARE_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")


# Drawing


def new_seed() -> str:
    """A fresh random seed: 16 random bytes as 32 hex characters."""
    return secrets.token_hex(16)


def sample_key(seed: str, code: str) -> str:
    """A household's place in the draw: SHA-256 of "<seed>:<code>", as lowercase hex.

    Exactly ``hashlib.sha256(f"{seed}:{code}".encode("utf-8")).hexdigest()``; on a
    command line, ``printf '%s' '<seed>:<code>' | sha256sum`` gives the same digits.
    """
    return hashlib.sha256(f"{seed}:{code}".encode()).hexdigest()


def sample_size(n: int, ratio_percent: Decimal) -> int:
    """k = ⌈ratio_percent / 100 × n⌉, at most n; 0 when n is 0.

    Computed on the ratio's exact fraction with integers, so 20% of 10 is exactly
    2 and not 3 because of a binary rounding error. A float ratio is refused for
    the same reason.
    """
    if isinstance(ratio_percent, (bool, float)) or not isinstance(ratio_percent, (Decimal, int)):
        raise TypeError("抽样比例须为 Decimal 或整数。")
    if n < 0:
        raise ValueError("户数不能为负数。")
    if ratio_percent < 0:
        raise ValueError("抽样比例不能为负数。")
    numerator, denominator = ratio_percent.as_integer_ratio()
    k = -(-numerator * n // (denominator * 100))  # ceiling division
    return min(k, n)


def _percent_text(ratio_percent: Decimal) -> str:
    # normalize() alone would print 20.00 as 2E+1
    return f"{Decimal(ratio_percent).normalize():f}%"


def method_text(ratio_percent: Decimal) -> str:
    """How the list was drawn, for the sampling page; the ratio is the campaign's setting."""
    return (
        f"按村分层：每个村（社区）以上报的全部户为总体 n，抽取 k = ⌈{_percent_text(ratio_percent)} × n⌉ 户"
        f"（⌈ ⌉ 表示向上取整，例如 n = 23 时 k = {sample_size(23, ratio_percent)}）。"
        "抽样时系统随机生成一个种子（32位十六进制字符）；每户的排序值为“种子:户编码”"
        "（中间为英文冒号，按 UTF-8 编码）的 SHA-256 十六进制结果，同村各户按排序值从小到大排列，取前 k 户"
        "（排序值相同时按户编码排列）。种子、抽样时间和操作人均有记录，任何人可用同一种子复算名单。"
        "全面核查户（村干部及经办人员近亲属、被投诉或公示异议的户）另行全部加入复核，不计入 k；"
        "其中恰被随机抽中的户仍属随机样本。"
    )


def draw(units: Iterable[tuple[str, str]], *, ratio_percent: Decimal, seed: str) -> dict[str, list[str]]:
    """Stratum -> the codes drawn there, in draw order; every stratum of `units` appears.

    `units` are (stratum, code) pairs: the village and the public code of every
    household it reported, full-check households included (they are part of what
    the estimate speaks for; they are added to the visits separately). The result
    does not depend on the order of `units`: strata are returned sorted, codes in
    the order of their key.
    """
    by_stratum: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for stratum, code in units:
        # A household listed twice would get two chances of being drawn.
        if code in seen:
            raise ValueError(f"户编码{code}在抽样总体中重复出现。")
        seen.add(code)
        by_stratum[stratum].append(code)
    drawn = {}
    for stratum in sorted(by_stratum):
        codes = by_stratum[stratum]
        ordered = sorted(codes, key=lambda code: (sample_key(seed, code), code))
        drawn[stratum] = ordered[: sample_size(len(codes), ratio_percent)]
    return drawn


def verify(
    units: Iterable[tuple[str, str]], *, ratio_percent: Decimal, seed: str, recorded: dict[str, list[str]]
) -> list[str]:
    """Recompute the draw and list, in Chinese, where `recorded` differs; empty when it matches.

    Membership and size are checked per stratum, not the order of a recorded list:
    who is visited is what matters.
    """
    expected = draw(units, ratio_percent=ratio_percent, seed=seed)
    problems = []
    for stratum in sorted(expected.keys() | recorded.keys()):
        want = expected.get(stratum, [])
        have = recorded.get(stratum, [])
        if len(want) != len(have):
            problems.append(f"{stratum}：按种子应抽{len(want)}户，名单记录{len(have)}户。")
        for code in have:
            if code not in want:
                problems.append(f"{stratum}：名单中的{code}不在按种子复算的抽样结果中。")
        for code in want:
            if code not in have:
                problems.append(f"{stratum}：按种子应抽中{code}，名单中没有。")
    return problems


# Estimating


@dataclass(frozen=True)
class Stratum:
    """One village: its reported households and the values observed on its re-visits.

    `values` hold one figure per randomly drawn household whose re-visit is done:
    1 or 0 for a material difference, or the monthly amount paid in error (yuan,
    0 when none). Callers must leave out full-check households that the draw did
    not pick: they were chosen for a reason, not at random, and would bias the
    estimate. Until every drawn household is re-visited, the estimate assumes the
    missing ones are like the visited ones.
    """

    name: str
    population: int
    values: Sequence[Decimal | int | float]


@dataclass(frozen=True)
class Estimate:
    """A stratified estimate; value, interval and standard error are None when nothing is estimable."""

    value: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    standard_error: Decimal | None
    n: int  # sampled households used
    population: int  # households of the strata used (N)
    strata_used: list[str]
    warnings: list[str]
    method: str
    share: bool = False  # a share of households (0/1 values) rather than money
    total: bool = False  # N × mean rather than the mean

    def as_dict(self) -> dict[str, object]:
        """For pages and exports: a share's mean to 4 decimals, anything else (money, counts) to 2."""
        places = SHARE_PLACES if self.share and not self.total else MONEY_PLACES

        def shown(value: Decimal | None) -> str:
            return "" if value is None else str(value.quantize(places, rounding=ROUND_HALF_UP))

        return {
            "value": shown(self.value),
            "lower": shown(self.lower),
            "upper": shown(self.upper),
            "standard_error": shown(self.standard_error),
            "n": self.n,
            "population": self.population,
            "strata_used": list(self.strata_used),
            "warnings": list(self.warnings),
            "method": self.method,
        }


ESTIMATE_METHOD = (
    "分层估计（按村），有限总体校正，95%置信区间（正态近似）。"
    "第 h 村：N_h 为上报户数，n_h 为随机抽中且已完成复核的户数，ȳ_h 为这些户的平均值，"
    "s_h² 为其样本方差（除以 n_h − 1）。"
    "均值 ȳ = Σ W_h·ȳ_h，W_h = N_h / N；方差 v(ȳ) = Σ W_h²·(1 − n_h/N_h)·s_h²/n_h，"
    "其中 (1 − n_h/N_h) 为有限总体校正，全部抽查的村方差为零；"
    "95%置信区间 = ȳ ± 1.959964 × √v(ȳ)。总额 = N × ȳ，标准误 = N × √v(ȳ)。"
    "只计随机抽中的户，另行全面核查的户不计入；仅复核1户的村无法计算方差，不计方差项；"
    "尚无复核结果的村不纳入估计，N 和权重只按已纳入的村计算。"
)
SHARE_CLAMP = "比例的区间限定在 0 到 1 之间（户数限定在 0 到 N 之间）。"
MONEY_CLAMP = "金额区间下限不低于 0。"


def _as_decimal(value: Decimal | int | float) -> Decimal:
    # A float goes through its shortest repr, so 0.1 stays 0.1 and not 0.1000000000000000055…
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _stratified(strata: Iterable[Stratum], *, share: bool, total: bool) -> Estimate:
    used: list[tuple[Stratum, list[Decimal]]] = []
    warnings: list[str] = []
    for stratum in strata:
        values = [_as_decimal(v) for v in stratum.values]
        if len(values) > stratum.population:
            raise ValueError(f"{stratum.name}：复核户数（{len(values)}）多于上报户数（{stratum.population}）。")
        if any(v < 0 for v in values):
            raise ValueError(f"{stratum.name}：观测值不能为负数（多发、少发分别以正数计）。")
        if share and any(v not in (ZERO, ONE) for v in values):
            raise ValueError(f"{stratum.name}：比例的观测值只能是 0 或 1。")
        if stratum.population == 0:
            continue  # no households: nothing to estimate and nothing missing
        if not values:
            warnings.append(f"{stratum.name}：上报{stratum.population}户，尚无复核结果，未纳入估计。")
            continue
        if len(values) == 1 < stratum.population:
            warnings.append(f"{stratum.name}：仅复核1户，无法计算方差，标准误和区间偏窄。")
        used.append((stratum, values))

    method = ESTIMATE_METHOD + (SHARE_CLAMP if share else MONEY_CLAMP)
    population = sum(s.population for s, _ in used)
    n = sum(len(values) for _, values in used)
    if not used:
        warnings.append("没有可用的复核结果，无法估计。")
        return Estimate(None, None, None, None, n, population, [], warnings, method, share, total)

    mean = ZERO
    variance = ZERO
    for stratum, values in used:
        size = len(values)
        weight = Decimal(stratum.population) / population
        stratum_mean = sum(values, ZERO) / size
        mean += weight * stratum_mean
        if size > 1:
            sample_variance = sum(((v - stratum_mean) ** 2 for v in values), ZERO) / (size - 1)
            fpc = 1 - Decimal(size) / stratum.population
            variance += weight**2 * fpc * sample_variance / size

    scale = Decimal(population) if total else ONE
    value = scale * mean
    standard_error = scale * variance.sqrt()
    lower = max(value - Z_95 * standard_error, ZERO)
    upper = value + Z_95 * standard_error
    if share:
        upper = min(upper, scale)
    return Estimate(
        value=value,
        lower=lower,
        upper=upper,
        standard_error=standard_error,
        n=n,
        population=population,
        strata_used=[s.name for s, _ in used],
        warnings=warnings,
        method=method,
        share=share,
        total=total,
    )


def estimate_mean(strata: Iterable[Stratum], *, share: bool = False) -> Estimate:
    """The stratified mean per household: a share when `share` (values 0/1), else money per household."""
    return _stratified(strata, share=share, total=False)


def estimate_total(strata: Iterable[Stratum], *, share: bool = False) -> Estimate:
    """N × the stratified mean: households with a difference when `share`, else money per month."""
    return _stratified(strata, share=share, total=True)
