"""A/B tests and corrections equal scipy.stats and the textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from modelops_core.evaluation.stats.multiple import adjust, benjamini_hochberg, holm
from modelops_core.evaluation.stats.significance import (
    SignificanceError,
    mcnemar,
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
    smaller = min(only_a, only_b)
    assert mid == pytest.approx(expected - scipy.stats.binom.pmf(smaller, only_a + only_b, 0.5))


def test_mcnemar_without_discordant_pairs_is_not_significant():
    assert mcnemar([1, 0, 1], [1, 0, 1]).p_value == 1.0


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
