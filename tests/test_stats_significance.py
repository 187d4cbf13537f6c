"""A/B tests and corrections equal scipy.stats and the textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from modelops_core.evaluation.stats.multiple import adjust, benjamini_hochberg, holm
from modelops_core.evaluation.stats.significance import (
    EXACT_WILCOXON_LIMIT,
    SignificanceError,
    mcnemar,
    paired_t,
    power_for_effect,
    two_proportion_z,
    welch_t,
    wilcoxon,
)


@pytest.mark.parametrize("seed", range(4))
def test_mcnemar_exact_is_the_binomial_test_on_discordant_pairs(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random(80) < 0.8, rng.random(80) < 0.7
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    expected = scipy.stats.binomtest(only_a, only_a + only_b, 0.5).pvalue
    result = mcnemar(a, b)
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert result.effect == pytest.approx(a.mean() - b.mean())
    mid = mcnemar(a, b, mid_p=True).p_value
    smaller, n = min(only_a, only_b), only_a + only_b
    twice_cdf = 2 * scipy.stats.binom.cdf(smaller, n, 0.5)
    assert mid == pytest.approx(min(1.0, twice_cdf - scipy.stats.binom.pmf(smaller, n, 0.5)))


def test_mcnemar_without_discordant_pairs_is_not_significant():
    assert mcnemar([1, 0, 1], [1, 0, 1]).p_value == 1.0
    for method in ("mid-p", "chi2", "chi2-corrected"):
        assert mcnemar([1, 0, 1], [1, 0, 1], method=method).p_value == 1.0


def paired_correctness(b: int, c: int, both: int = 7, neither: int = 3):
    """Correctness of A and B with ``b`` pairs only A got right and ``c`` only B got right."""
    a = [True] * b + [False] * c + [True] * both + [False] * neither
    other = [False] * b + [True] * c + [True] * both + [False] * neither
    return np.array(a), np.array(other)


DISCORDANT = [(1, 1), (2, 2), (3, 3), (5, 5), (12, 12), (1, 4), (3, 9), (9, 3), (0, 6), (25, 40)]


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_mid_p_is_twice_the_cdf_minus_the_point_probability(b, c):
    smaller, n = min(b, c), b + c
    expected = min(1.0, 2 * scipy.stats.binom.cdf(smaller, n, 0.5) - scipy.stats.binom.pmf(
        smaller, n, 0.5))  # fmt: skip
    result = mcnemar(*paired_correctness(b, c), mid_p=True)
    assert result.test == "mcnemar-mid-p"
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    if b == c:
        assert result.p_value == 1.0  # was 0.5, 0.75, 0.89 ...: capped before subtracting
    assert mcnemar(*paired_correctness(b, c), method="mid-p").p_value == result.p_value


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_chi_square_with_and_without_continuity_correction(b, c):
    corrected = mcnemar(*paired_correctness(b, c), method="chi2-corrected")
    plain = mcnemar(*paired_correctness(b, c), method="chi2")
    assert corrected.statistic == pytest.approx((abs(b - c) - 1) ** 2 / (b + c), rel=1e-12)
    assert plain.statistic == pytest.approx((b - c) ** 2 / (b + c), rel=1e-12)
    assert corrected.p_value == pytest.approx(scipy.stats.chi2.sf(corrected.statistic, 1),
                                              rel=1e-12)  # fmt: skip
    assert plain.p_value == pytest.approx(scipy.stats.chi2.sf(plain.statistic, 1), rel=1e-12)
    assert (corrected.test, plain.test) == ("mcnemar-chi2-corrected", "mcnemar-chi2")


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_equals_statsmodels(b, c):
    contingency = pytest.importorskip(
        "statsmodels.stats.contingency_tables",
        reason="statsmodels comes with modelops-metrics[test]",
    )
    table = [[7, b], [c, 3]]
    a, other = paired_correctness(b, c)
    exact = contingency.mcnemar(table, exact=True)
    assert mcnemar(a, other).p_value == pytest.approx(exact.pvalue, rel=1e-12)
    for correction, method in ((True, "chi2-corrected"), (False, "chi2")):
        theirs = contingency.mcnemar(table, exact=False, correction=correction)
        ours = mcnemar(a, other, method=method)
        assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-12)


def test_an_unknown_mcnemar_method_is_refused():
    with pytest.raises(SignificanceError, match="method='chi-square' is not one of exact, mid-p"):
        mcnemar([1, 0], [0, 1], method="chi-square")


@pytest.mark.parametrize(("n", "method"), [(8, "exact"), (25, "exact"), (25, "approx"),
                                           (300, "approx")])  # fmt: skip
def test_wilcoxon_equals_scipy(n, method):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(0.3, 1, size=n)
    expected = scipy.stats.wilcoxon(a, b, method=method)
    result = wilcoxon(a, b, method=method)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_wilcoxon_with_ties_and_zeros_equals_scipy():
    rng = np.random.default_rng(9)
    a, b = rng.integers(0, 4, 120).astype(float), rng.integers(0, 4, 120).astype(float)
    expected = scipy.stats.wilcoxon(a, b, method="approx", zero_method="wilcox").pvalue
    assert wilcoxon(a, b).p_value == pytest.approx(expected, rel=1e-9)


def signed_ranks_with_p(n: int, p: float):
    """Differences +-1..n (no ties, no zeros) whose positive ranks sum to where the two-sided
    normal p-value is ``p``."""
    mean, sd = n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    remaining = round(mean + scipy.stats.norm.isf(p / 2) * sd)
    differences = -np.arange(1, n + 1, dtype=np.float64)
    for rank in range(n, 0, -1):
        if rank <= remaining:
            differences[rank - 1] = rank
            remaining -= rank
    return differences


def test_exact_wilcoxon_equals_scipy_past_1025_differences():
    # counting subsets in float64 overflowed past n = 1024: p was 0.0 where scipy gives 0.658
    differences = signed_ranks_with_p(1100, 0.658)
    expected = scipy.stats.wilcoxon(differences, method="exact").pvalue
    result = wilcoxon(differences, np.zeros(1100), method="exact")
    assert round(expected, 3) == 0.658
    assert result.p_value == pytest.approx(expected, abs=1e-9)
    assert result.note is None
    approx = scipy.stats.wilcoxon(differences, method="approx").pvalue
    assert wilcoxon(differences, np.zeros(1100), method="approx").p_value == pytest.approx(
        approx, abs=1e-12
    )


@pytest.mark.parametrize("n", [1024, 1025, 1030])
def test_exact_wilcoxon_at_the_old_overflow_equals_scipy(n):
    differences = signed_ranks_with_p(n, 0.3)
    expected = scipy.stats.wilcoxon(differences, method="exact").pvalue
    assert wilcoxon(differences, np.zeros(n), method="exact").p_value == pytest.approx(
        expected, abs=1e-9
    )


def test_exact_wilcoxon_above_its_limit_says_it_used_the_normal_approximation():
    n = EXACT_WILCOXON_LIMIT + 1
    differences = signed_ranks_with_p(n, 0.2)
    result = wilcoxon(differences, np.zeros(n), method="exact")
    expected = scipy.stats.wilcoxon(differences, method="approx").pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert result.note == (
        f"wilcoxon: the exact distribution is not computed for {n} nonzero differences (more "
        f"than {EXACT_WILCOXON_LIMIT}); the normal approximation was used (its p-value differs "
        "from the exact one by less than 1e-3 at this size)."
    )


@pytest.mark.parametrize("seed", range(3))
def test_paired_t_equals_scipy_ttest_rel(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.7, 0.2, 60)
    b = a - rng.normal(0.05, 0.1, 60)
    expected = scipy.stats.ttest_rel(a, b)
    result = paired_t(a, b)
    assert result.test == "paired-t"
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    interval = expected.confidence_interval(0.9)
    low, high = paired_t(a, b, level=0.9).low, paired_t(a, b, level=0.9).high
    assert (low, high) == pytest.approx((interval.low, interval.high), rel=1e-12)
    assert result.effect == pytest.approx(float(np.mean(a - b)), rel=1e-12)
    assert result.standardized == pytest.approx(np.mean(a - b) / np.std(a - b, ddof=1))


def test_paired_t_edge_cases():
    assert paired_t([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]).p_value == 1.0
    shifted = paired_t([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert (shifted.p_value, shifted.effect) == (0.0, 0.5)
    with pytest.raises(SignificanceError, match="values_a has shape"):
        paired_t([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(SignificanceError, match="at least two"):
        paired_t([1.0], [2.0])
    with pytest.raises(SignificanceError, match="NaN"):
        paired_t([1.0, math.nan], [2.0, 1.0])


def test_welch_t_equals_scipy():
    rng = np.random.default_rng(10)
    a, b = rng.normal(0, 1, 40), rng.normal(0.5, 2, 25)
    expected = scipy.stats.ttest_ind(a, b, equal_var=False)
    result = welch_t(a, b)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    interval = expected.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), rel=1e-9)


def test_two_proportion_z_is_the_pooled_formula():
    # statsmodels.stats.proportion.proportions_ztest([45, 30], [60, 60]) by hand:
    p1, p2, pooled = 45 / 60, 30 / 60, 75 / 120
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (2 / 60))
    result = two_proportion_z(45, 60, 30, 60)
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * scipy.stats.norm.sf(abs(z)), rel=1e-12)
    assert result.effect == pytest.approx(0.25)


def test_holm_and_benjamini_hochberg_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005, 0.01, 0.03, 0.04 -> holm: 4*0.005, 3*0.01, max(.., 2*0.03), max(.., 0.04)
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: 0.005*4/1=.02, 0.01*4/2=.02, 0.03*4/3=.04, 0.04*4/4=.04 (then cumulative minimum)
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg(p) == pytest.approx(scipy.stats.false_discovery_control(p))
    assert adjust(p, "none") == p
    with pytest.raises(SignificanceError, match="adjust="):
        adjust(p, "bonferonni")


def test_power_is_low_for_a_small_effect_on_few_examples():
    small = power_for_effect(0.02, 0.03, 100)
    assert small.power < 0.2 and small.required_n > 1000
    big = power_for_effect(0.2, 0.03, 100)
    assert big.power > 0.99
    # 80% power at alpha 0.05: |effect| / se = 1.96 + 0.84
    assert power_for_effect(2.8016, 1.0, 50).power == pytest.approx(0.8, abs=1e-3)
