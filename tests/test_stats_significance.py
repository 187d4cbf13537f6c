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


def test_mcnemar_interval_is_the_wald_interval_of_paired_proportions():
    # 12 pairs only A got right, 5 only B, 40 examples (Agresti, Categorical Data Analysis,
    # 10.1.1: var = ((b + c) - (b - c)**2 / n) / n**2)
    a, b = paired_correctness(12, 5, both=15, neither=8)
    se = math.sqrt((12 + 5) - (12 - 5) ** 2 / 40) / 40
    for level in (0.95, 0.9):
        z = scipy.stats.norm.ppf(1 - (1 - level) / 2)
        result = mcnemar(a, b, level=level)
        assert result.effect == pytest.approx(7 / 40, rel=1e-12)
        assert result.standard_error == pytest.approx(se, rel=1e-12)
        assert (result.low, result.high) == pytest.approx((7 / 40 - z * se, 7 / 40 + z * se),
                                                          rel=1e-12)  # fmt: skip
        assert result.statistic == 5.0  # exact: the smaller discordant count


def test_mcnemar_exact_p_when_only_one_model_is_ever_right_alone():
    # b = 0, c = 6: p = 2 * 0.5**6 (statsmodels' mcnemar(exact=True) gives 0.03125)
    assert mcnemar(*paired_correctness(0, 6)).p_value == pytest.approx(0.03125, rel=1e-12)
    # b = c = 3, exact: 2 * CDF(3; 6, 1/2) = 1.3125, capped at 1
    assert mcnemar(*paired_correctness(3, 3)).p_value == 1.0


def test_mcnemar_refuses_samples_of_different_lengths_or_empty():
    with pytest.raises(SignificanceError, match="correct_a has 3 items but correct_b has 2"):
        mcnemar([1, 0, 1], [1, 0])
    with pytest.raises(SignificanceError, match="correct_a must be a non-empty 1-D sequence"):
        mcnemar([], [])
    with pytest.raises(SignificanceError, match="correct_b must be a non-empty 1-D sequence"):
        mcnemar([1, 0], [[1, 0]])


def test_cohens_h_equals_statsmodels_proportion_effectsize():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    a, b = paired_correctness(12, 5, both=15, neither=8)  # A: 27/40 right, B: 20/40
    assert mcnemar(a, b).standardized == pytest.approx(
        proportion.proportion_effectsize(27 / 40, 20 / 40), rel=1e-12
    )
    assert two_proportion_z(45, 60, 30, 60).standardized == pytest.approx(
        proportion.proportion_effectsize(45 / 60, 30 / 60), rel=1e-12
    )


def test_two_proportion_z_equals_statsmodels_test_and_wald_interval():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    z, p = proportion.proportions_ztest([45, 30], [60, 60])
    low, high = proportion.confint_proportions_2indep(45, 60, 30, 60, method="wald",
                                                      compare="diff")  # fmt: skip
    result = two_proportion_z(45, 60, 30, 60)
    assert (result.statistic, result.p_value) == pytest.approx((z, p), rel=1e-12)
    assert (result.low, result.high) == pytest.approx((low, high), rel=1e-12)
    assert result.standard_error == pytest.approx(math.sqrt(0.75 * 0.25 / 60 + 0.25 / 60))
    # nothing but successes on both sides: no variance, p = 1
    same = two_proportion_z(10, 10, 20, 20)
    assert (same.statistic, same.p_value, same.effect) == (0.0, 1.0, 0.0)
    with pytest.raises(SignificanceError, match="n_a and n_b must be positive"):
        two_proportion_z(0, 0, 1, 2)
    with pytest.raises(SignificanceError, match="n_a and n_b must be positive"):
        two_proportion_z(1, 2, 0, 0)


def test_power_at_effect_zero_is_alpha_and_needs_infinitely_many_examples():
    for alpha in (0.05, 0.01):
        null = power_for_effect(0.0, 0.1, 100, alpha=alpha)
        assert null.power == pytest.approx(alpha, rel=1e-12)
        assert (null.required_n, null.n) == (math.inf, 100)


def test_power_and_required_n_equal_statsmodels_normal_power():
    power = pytest.importorskip("statsmodels.stats.power")
    # effect 0.1 with standard error 0.04 at 100 examples: |effect| / se = 2.5
    result = power_for_effect(-0.1, 0.04, 100)
    assert result.power == pytest.approx(power.normal_power(2.5, 1, 0.05), rel=1e-12)
    # n (z_0.975 + z_0.8)**2 / 2.5**2 = 125.58 -> 126 examples
    assert result.required_n == 126.0
    assert power.normal_power(2.5 * math.sqrt(126 / 100), 1, 0.05) >= 0.8
    assert power.normal_power(2.5 * math.sqrt(125 / 100), 1, 0.05) < 0.8
    stricter = power_for_effect(0.1, 0.04, 100, alpha=0.01, target=0.9)
    assert stricter.power == pytest.approx(power.normal_power(2.5, 1, 0.01), rel=1e-12)
    z = scipy.stats.norm.ppf(0.995) + scipy.stats.norm.ppf(0.9)
    assert stricter.required_n == math.ceil(100 * (z / 2.5) ** 2) == 239


def test_power_without_a_standard_error():
    assert power_for_effect(0.1, 0.0, 40) == power_for_effect(0.1, math.inf, 40)
    certain = power_for_effect(0.1, 0.0, 40)
    assert (certain.power, certain.required_n, certain.n) == (1.0, 40.0, 40)
    nothing = power_for_effect(0.0, 0.0, 40)
    assert (nothing.power, nothing.required_n) == (0.0, math.inf)


@pytest.mark.parametrize(("n", "scipy_method"), [(50, "exact"), (51, "approx")])
def test_wilcoxon_auto_is_exact_up_to_50_differences_as_scipy(n, scipy_method):
    # ranks 1..n, every third one negative: no ties, no zeros
    differences = np.arange(1, n + 1, dtype=np.float64) * np.where(np.arange(n) % 3 == 0, -1, 1)
    expected = scipy.stats.wilcoxon(differences, method=scipy_method).pvalue
    other = scipy.stats.wilcoxon(differences, method={"exact": "approx"}.get(scipy_method, "exact"))
    assert abs(expected - other.pvalue) > 1e-5  # the two methods tell apart at this size
    result = wilcoxon(differences, np.zeros(n))
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert result.statistic == float(differences[differences > 0].sum())


def test_wilcoxon_auto_with_ties_uses_the_normal_approximation():
    differences = np.array([1.0, 1.0, -2.0, 3.0, 4.0, 5.0, -6.0, 7.0])
    expected = scipy.stats.wilcoxon(differences, method="approx").pvalue
    assert wilcoxon(differences, np.zeros(8)).p_value == pytest.approx(expected, rel=1e-12)


def test_hodges_lehmann_interval_at_two_examples():
    # differences 1 and 3: Walsh averages 1, 2, 3; numpy's linear quantiles 1.05 and 2.95
    result = wilcoxon([3.0, 5.0], [2.0, 2.0])
    assert (result.effect, result.low, result.high) == pytest.approx((2.0, 1.05, 2.95))
    assert result.standard_error == pytest.approx(1.9 / (2 * scipy.stats.norm.ppf(0.975)))
    one = wilcoxon([3.0], [2.0])
    assert one.effect == 1.0 and math.isnan(one.low) and math.isnan(one.high)


def test_wilcoxon_without_nonzero_differences_and_bad_input():
    equal = wilcoxon([1.0, 2.0], [1.0, 2.0])
    assert (equal.test, equal.statistic, equal.p_value, equal.effect) == ("wilcoxon", 0.0, 1.0,
                                                                          0.0)  # fmt: skip
    with pytest.raises(SignificanceError, match="same length"):
        wilcoxon([1.0, 2.0], [1.0])
    with pytest.raises(SignificanceError, match="NaN or infinity"):
        wilcoxon([1.0, math.inf], [1.0, 2.0])


def test_welch_on_constant_samples():
    same = welch_t([1.0, 1.0, 1.0], [1.0, 1.0])
    assert (same.statistic, same.p_value, same.effect) == (0.0, 1.0, 0.0)
    assert (same.low, same.high, same.standard_error) == (0.0, 0.0, 0.0)
    apart = welch_t([2.0, 2.0], [1.0, 1.0, 1.0])
    assert (apart.p_value, apart.effect, apart.low, apart.high) == (0.0, 1.0, 1.0, 1.0)
    assert (apart.statistic, apart.standard_error, apart.standardized) == (0.0, 0.0, None)
    with pytest.raises(SignificanceError, match="at least two values each"):
        welch_t([1.0], [1.0, 2.0])
    with pytest.raises(SignificanceError, match="at least two values each"):
        welch_t([1.0, 2.0], [1.0])


def test_welch_cohens_d_uses_the_pooled_standard_deviation():
    # variances 5/3 and 20/3, pooled (3 * 5/3 + 3 * 20/3) / 6 = 25/6: d = -2.5 / sqrt(25/6)
    result = welch_t([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0], level=0.9)
    assert result.standardized == pytest.approx(-math.sqrt(6) / 2, rel=1e-12)
    expected = scipy.stats.ttest_ind([1, 2, 3, 4], [2, 4, 6, 8], equal_var=False)
    interval = expected.confidence_interval(0.9)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_exact_wilcoxon_when_every_difference_is_positive():
    # T+ is the largest sum: p = 2 / 2**6 (scipy.stats.wilcoxon(..., method="exact") too)
    result = wilcoxon([2.0, 3.0, 4.0, 5.0, 6.0, 7.0], np.ones(6), method="exact")
    assert result.p_value == 2 / 2**6 == scipy.stats.wilcoxon(np.arange(1.0, 7.0)).pvalue
    assert result.statistic == 21.0


def test_two_proportion_z_on_one_example_per_side():
    # p_a = 1, p_b = 0, pooled 1/2: z = 1 / sqrt(1/4 * 2) = sqrt(2)
    result = two_proportion_z(1, 1, 0, 1)
    assert result.statistic == pytest.approx(math.sqrt(2), rel=1e-12)
    assert result.p_value == pytest.approx(2 * scipy.stats.norm.sf(math.sqrt(2)), rel=1e-12)
    assert (result.effect, result.standard_error) == (1.0, 0.0)
