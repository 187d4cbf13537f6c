"""The statistics of A/B experiments, checked against scipy and statsmodels with exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelops_core.serving.experiments.stats import (
    always_valid,
    bootstrap_change,
    cuped,
    fixed_effect,
    quantile_of,
    sample_ratio_check,
    units_needed,
)

statsmodels = pytest.importorskip("statsmodels")
scipy_stats = pytest.importorskip("scipy.stats")


def test_sample_ratio_check_is_scipys_chisquare_and_flags_p_below_0_001() -> None:
    balanced = sample_ratio_check(5050, 4950, 50)
    skewed = sample_ratio_check(5200, 4800, 50)
    expected = scipy_stats.chisquare([5200, 4800], [5000, 5000])

    assert balanced.p_value == pytest.approx(scipy_stats.chisquare([5050, 4950]).pvalue, rel=1e-12)
    assert balanced.mismatch is False
    assert skewed.statistic == pytest.approx(16.0, rel=1e-12)
    assert skewed.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert skewed.p_value < 0.001 and skewed.mismatch is True


def test_sample_ratio_check_uses_the_split_and_waits_for_8_units_per_arm() -> None:
    uneven = sample_ratio_check(800, 200, 20)  # exactly 80/20: no mismatch
    assert uneven.statistic == pytest.approx(0.0, abs=1e-12) and uneven.mismatch is False
    early = sample_ratio_check(30, 7, 50)
    assert (early.p_value, early.mismatch) == (None, False)
    assert sample_ratio_check(30, 8, 50).p_value == pytest.approx(
        scipy_stats.chisquare([30, 8]).pvalue, rel=1e-12
    )


def test_difference_in_means_is_welch_as_statsmodels() -> None:
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    rng = np.random.default_rng(1)
    treatment, control = rng.normal(10.4, 3, 400), rng.normal(10.0, 2, 900)
    result = fixed_effect(treatment, control, "mean")
    compare = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    low, high = compare.tconfint_diff(usevar="unequal")
    _, p, _ = compare.ttest_ind(usevar="unequal")

    assert result.effect == pytest.approx(treatment.mean() - control.mean(), rel=1e-12)
    assert (result.low, result.high) == (
        pytest.approx(low, rel=1e-10),
        pytest.approx(high, rel=1e-10),
    )
    assert result.p_value == pytest.approx(p, rel=1e-9)


def test_difference_in_proportions_is_the_z_test_with_a_wald_interval() -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    treatment = np.r_[np.ones(330), np.zeros(670)]
    control = np.r_[np.ones(290), np.zeros(710)]
    result = fixed_effect(treatment, control, "proportion")
    _, p = proportions_ztest([330, 290], [1000, 1000])
    low, high = confint_proportions_2indep(330, 1000, 290, 1000, method="wald", compare="diff")

    assert result.effect == pytest.approx(0.04, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-10)
    assert (result.low, result.high) == (
        pytest.approx(low, rel=1e-10),
        pytest.approx(high, rel=1e-10),
    )


def growthbook_halfwidth(sigma: float, n: int, alpha: float, tuning: float) -> float:
    """GrowthBook's always-valid half-width, written as their docs do (rho from N*)."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
    return sigma * math.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * math.log(math.sqrt(n * rho**2 + 1) / alpha)
    )


def test_always_valid_interval_is_the_msprt_normal_mixture_in_growthbooks_form() -> None:
    sigma, n = 2.5, 3000  # per-unit sd of the difference, units in both arms
    variance = sigma**2 / n
    result = always_valid(0.2, variance, n, alpha=0.05, tuning=5000)
    half = growthbook_halfwidth(sigma, n, 0.05, 5000)

    assert result.low == pytest.approx(0.2 - half, rel=1e-12)
    assert result.high == pytest.approx(0.2 + half, rel=1e-12)
    # wider than the fixed-horizon interval, and p <= alpha exactly when 0 is outside it
    assert half > 1.959964 * math.sqrt(variance)
    for effect in (0.0, 0.1, 0.15, 0.2, 0.3):
        checked = always_valid(effect, variance, n)
        assert (checked.p_value <= 0.05) == (checked.low > 0), effect


def test_peeking_inflates_fixed_horizon_errors_but_not_always_valid_ones() -> None:
    """200 A/A tests, each looked at 20 times: the fixed-horizon interval excludes 0 at some
    look far more often than 5 %; the always-valid one at most 5 % of the time."""
    rng = np.random.default_rng(7)
    runs, looks, step = 200, 20, 100
    false_fixed = false_sequential = 0
    for _ in range(runs):
        a, b = rng.normal(0, 1, looks * step), rng.normal(0, 1, looks * step)
        hit_fixed = hit_sequential = False
        for look in range(1, looks + 1):
            n = look * step
            fixed = fixed_effect(a[:n], b[:n], "mean")
            sequential = always_valid(fixed.effect, fixed.standard_error**2, 2 * n)
            hit_fixed |= fixed.low > 0 or fixed.high < 0
            hit_sequential |= sequential.low > 0 or sequential.high < 0
        false_fixed += hit_fixed
        false_sequential += hit_sequential
    assert false_fixed / runs > 0.12
    assert false_sequential / runs <= 0.05


def test_cuped_theta_is_the_pooled_slope_and_removes_corr_squared_of_the_variance() -> None:
    from statsmodels.regression.linear_model import OLS

    rng = np.random.default_rng(3)
    pre = rng.normal(50, 10, 2000)
    outcome = 0.8 * pre + rng.normal(0, 6, 2000) + np.r_[np.full(1000, 1.0), np.zeros(1000)]
    adjusted = cuped(outcome[:1000], outcome[1000:], pre[:1000], pre[1000:])
    assert adjusted is not None
    slope = OLS(outcome, np.column_stack([np.ones_like(pre), pre])).fit().params[1]
    correlation = np.corrcoef(outcome, pre)[0, 1]

    assert adjusted.theta == pytest.approx(slope, rel=1e-10)
    assert adjusted.variance_reduction == pytest.approx(correlation**2, rel=1e-10)
    plain = fixed_effect(outcome[:1000], outcome[1000:], "mean")
    reduced = fixed_effect(adjusted.treatment, adjusted.control, "mean")
    # the standard error shrinks by sqrt(1 - corr^2), up to the two arms' separate variances
    assert reduced.standard_error == pytest.approx(
        plain.standard_error * math.sqrt(1 - correlation**2), rel=0.01
    )
    assert reduced.low < 1.0 < reduced.high


def test_units_needed_is_statsmodels_normal_ind_power() -> None:
    from statsmodels.stats.power import NormalIndPower

    for effect_size, ratio in ((0.2, 1.0), (0.05, 1.0), (0.1, 4.0)):
        expected = NormalIndPower().solve_power(effect_size, alpha=0.05, power=0.8, ratio=ratio)
        assert units_needed(effect_size, alpha=0.05, power=0.8, ratio=ratio) == pytest.approx(
            expected, rel=1e-6
        )


def test_p99_guardrail_bound_agrees_with_scipys_bootstrap() -> None:
    rng = np.random.default_rng(5)
    control = rng.gamma(4, 5, 1500)
    treatment = rng.gamma(4, 5, 1500) * 1.15
    ours = bootstrap_change(treatment, control, quantile_of(0.99), relative=True, seed=1)

    def change(t: np.ndarray, c: np.ndarray, axis: int) -> np.ndarray:
        return np.quantile(t, 0.99, axis=axis) / np.quantile(c, 0.99, axis=axis) - 1

    theirs = scipy_stats.bootstrap(
        (treatment, control),
        change,
        vectorized=True,
        paired=False,
        n_resamples=2000,
        confidence_level=0.95,
        method="percentile",
        alternative="less",
        random_state=np.random.default_rng(2),
    ).confidence_interval
    expected = np.quantile(treatment, 0.99) / np.quantile(control, 0.99) - 1
    assert ours.change == pytest.approx(expected, rel=1e-12)
    assert ours.upper == pytest.approx(theirs.high, abs=0.02)  # two Monte Carlo draws
    assert ours.lower < ours.change < ours.upper
