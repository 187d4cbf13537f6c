"""The statistics of an A/B experiment, each checked against scipy or statsmodels in tests.

- :func:`sample_ratio_check`: chi-square goodness of fit of the units per arm against the
  split (``scipy.stats.chisquare``); a mismatch is p < 0.001, checked once each arm has 8 units.
- :func:`fixed_effect`: the difference treatment - control with its fixed-horizon interval:
  Welch's t for means (``statsmodels`` ``CompareMeans.tconfint_diff(usevar="unequal")``), the
  two-proportion z-test with the Wald interval for proportions.
- :func:`always_valid`: the always-valid interval and p-value of the mixture sequential
  probability ratio test (mSPRT) with a normal mixture, Johari, Pekelis & Walsh (2017), "Always
  valid inference", eq. (11), in GrowthBook's parameterisation: the mixing variance is
  ``tau^2 = rho^2 * V * N`` with ``rho^2 = (-2 ln a + ln(1 - 2 ln a)) / N*`` (``N*`` = 5,000
  units, GrowthBook's default tuning). With ``V`` the variance of the estimate, the interval is
  ``d +- sqrt(V (V + tau^2) / tau^2 * (ln((V + tau^2) / V) - 2 ln a))`` and the p-value
  ``min(1, 1 / Lambda)``, ``Lambda = sqrt(V / (V + tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2)))``.
  Both hold at every look, so users may peek.
- :func:`cuped`: CUPED (Deng et al. 2013): ``y - theta (x - mean x)`` with
  ``theta = cov(y, x) / var(x)`` pooled over both arms; it removes ``corr(y, x)^2`` of the
  variance.
- :func:`bootstrap_change`: the treatment's change of a request-log statistic (p99 latency,
  error rate) with a one-sided percentile-bootstrap bound (as ``scipy.stats.bootstrap``).
- :func:`units_needed`: units per arm for a given power (``NormalIndPower.solve_power``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SRM_MINIMUM_UNITS",
    "SRM_THRESHOLD",
    "Change",
    "Cuped",
    "Interval",
    "SampleRatio",
    "always_valid",
    "bootstrap_change",
    "cuped",
    "fixed_effect",
    "sample_ratio_check",
    "units_needed",
]

#: a sample ratio this unlikely under the configured split is a mismatch
SRM_THRESHOLD = 0.001
#: the check waits until each arm has this many units
SRM_MINIMUM_UNITS = 8
#: GrowthBook's default tuning of the mixture: the sample size (units) it is sharpest at
SEQUENTIAL_TUNING = 5000.0

FloatArray = NDArray[np.float64]


@attrs.frozen
class SampleRatio:
    """Units per arm against the split: ``p_value`` None until each arm has 8 units."""

    control: int
    treatment: int
    expected_treatment_share: float
    statistic: float | None
    p_value: float | None
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def sample_ratio_check(
    control: int, treatment: int, treatment_percent: float, *, threshold: float = SRM_THRESHOLD
) -> SampleRatio:
    """Chi-square goodness of fit of ``(control, treatment)`` units against the split."""
    share = treatment_percent / 100.0
    if min(control, treatment) < SRM_MINIMUM_UNITS:
        return SampleRatio(control, treatment, share, None, None, False)
    from scipy.stats import chisquare  # type: ignore[import-untyped,unused-ignore]

    total = control + treatment
    result = chisquare([control, treatment], [total * (1 - share), total * share])
    p = float(result.pvalue)
    return SampleRatio(control, treatment, share, float(result.statistic), p, p < threshold)


@attrs.frozen
class Interval:
    """An effect (treatment - control) with its interval, p-value and standard error."""

    effect: float
    low: float
    high: float
    p_value: float
    standard_error: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def fixed_effect(
    treatment: FloatArray, control: FloatArray, kind: str, *, level: float = 0.95
) -> Interval:
    """The fixed-horizon difference of means (Welch) or proportions (z-test, Wald interval)."""
    from modelops_core.evaluation.stats.significance import two_proportion_z, welch_t

    if kind == "proportion":
        result = two_proportion_z(
            int(treatment.sum()),
            treatment.shape[0],
            int(control.sum()),
            control.shape[0],
            level=level,
        )
    else:
        result = welch_t(treatment, control, level=level)
    return Interval(result.effect, result.low, result.high, result.p_value, result.standard_error)


def always_valid(
    effect: float,
    variance: float,
    units: int,
    *,
    alpha: float = 0.05,
    tuning: float = SEQUENTIAL_TUNING,
) -> Interval:
    """The mSPRT's always-valid interval and p-value of ``effect`` whose estimate has
    ``variance``, after ``units`` units in both arms (module docstring for the formulas)."""
    if variance <= 0 or not math.isfinite(variance) or units <= 0:
        p = 1.0 if effect == 0 else 0.0
        return Interval(effect, effect, effect, p, 0.0)
    log_alpha = math.log(alpha)
    rho2 = (-2 * log_alpha + math.log(1 - 2 * log_alpha)) / tuning
    tau2 = rho2 * variance * units
    half = math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (math.log((variance + tau2) / variance) - 2 * log_alpha)
    )
    exponent = tau2 * effect**2 / (2 * variance * (variance + tau2))
    log_ratio = 0.5 * math.log(variance / (variance + tau2)) + exponent
    p = 1.0 if log_ratio <= 0 else math.exp(-log_ratio)
    return Interval(effect, effect - half, effect + half, p, math.sqrt(variance))


@attrs.frozen
class Cuped:
    """CUPED-adjusted values, ``theta`` and the share of variance removed."""

    treatment: FloatArray = attrs.field(eq=False)
    control: FloatArray = attrs.field(eq=False)
    theta: float
    variance_reduction: float


def cuped(
    treatment: FloatArray, control: FloatArray, pre_treatment: FloatArray, pre_control: FloatArray
) -> Cuped | None:
    """``y - theta (x - mean x)`` in both arms (pre-period values ``x``; NaN where a unit has
    none, which then takes the pooled mean: no adjustment). None when ``x`` does not vary."""
    x = np.concatenate([pre_treatment, pre_control])
    known = np.isfinite(x)
    if known.sum() < 2:
        return None
    mean_x = float(x[known].mean())
    x = np.where(known, x, mean_x)
    y = np.concatenate([treatment, control])
    variance_x = float(x.var(ddof=1))
    if variance_x <= 0:
        return None
    theta = float(np.cov(y, x, ddof=1)[0, 1]) / variance_x
    adjusted = y - theta * (x - mean_x)
    variance_y = float(y.var(ddof=1))
    reduction = 1 - float(adjusted.var(ddof=1)) / variance_y if variance_y > 0 else 0.0
    split = treatment.shape[0]
    return Cuped(adjusted[:split], adjusted[split:], theta, reduction)


@attrs.frozen
class Change:
    """The treatment's change of a statistic: ``relative`` (ratio - 1) or a difference, with
    one-sided bootstrap bounds at ``level`` (``upper`` is what a guardrail checks)."""

    control: float
    treatment: float
    change: float
    lower: float
    upper: float
    level: float
    resamples: int

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def bootstrap_change(
    treatment: FloatArray,
    control: FloatArray,
    statistic: Callable[[FloatArray], FloatArray],
    *,
    relative: bool,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Change:
    """The change of ``statistic`` (vectorised along the last axis) from control to
    treatment, with one-sided percentile-bootstrap bounds at ``level`` (each arm resampled on
    its own, as ``scipy.stats.bootstrap(..., paired=False, method="percentile")``)."""
    rng = np.random.default_rng(seed)

    def change(t: FloatArray, c: FloatArray) -> FloatArray:
        if relative:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(t / c - 1.0, dtype=np.float64)
        return np.asarray(t - c, dtype=np.float64)

    observed_t = float(statistic(treatment[np.newaxis, :])[0])
    observed_c = float(statistic(control[np.newaxis, :])[0])
    observed = float(change(np.array([observed_t]), np.array([observed_c]))[0])
    values = []
    batch = max(1, min(resamples, 4_000_000 // max(1, treatment.shape[0] + control.shape[0])))
    done = 0
    while done < resamples:
        size = min(batch, resamples - done)
        t = treatment[rng.integers(0, treatment.shape[0], (size, treatment.shape[0]))]
        c = control[rng.integers(0, control.shape[0], (size, control.shape[0]))]
        values.append(change(statistic(t), statistic(c)))
        done += size
    draws = np.concatenate(values)
    draws = draws[np.isfinite(draws)]
    if draws.shape[0] == 0:
        return Change(observed_c, observed_t, observed, math.nan, math.nan, level, resamples)
    lower, upper = np.quantile(draws, [1 - level, level])
    return Change(observed_c, observed_t, observed, float(lower), float(upper), level, resamples)


def quantile_of(q: float) -> Callable[[FloatArray], FloatArray]:
    """The ``q`` quantile along the last axis (numpy's default linear interpolation)."""

    def statistic(values: FloatArray) -> FloatArray:
        return np.asarray(np.quantile(values, q, axis=-1), dtype=np.float64)

    return statistic


def mean_of(values: FloatArray) -> FloatArray:
    return np.asarray(values.mean(axis=-1), dtype=np.float64)


def units_needed(
    effect_size: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> float:
    """Treatment units a two-sided two-sample z-test needs to detect the standardized
    ``effect_size`` (Cohen's d) with ``power``, when the control has ``ratio`` times as many:
    what ``statsmodels.stats.power.NormalIndPower().solve_power(effect_size, alpha=alpha,
    power=power, ratio=ratio)`` returns (both tails counted)."""
    from scipy.optimize import brentq  # type: ignore[import-untyped,unused-ignore]
    from scipy.special import ndtr, ndtri  # type: ignore[import-untyped,unused-ignore]

    if effect_size == 0 or not math.isfinite(effect_size):
        return math.inf
    critical = float(ndtri(1 - alpha / 2))
    size = abs(effect_size)

    def shortfall(n: float) -> float:
        shift = size * math.sqrt(n / (1 + 1 / ratio))
        return float(ndtr(shift - critical) + ndtr(-shift - critical)) - power

    guess = (1 + 1 / ratio) * ((critical + float(ndtri(power))) / size) ** 2
    high = max(4.0, guess * 2)
    return float(brentq(shortfall, 1e-6, high, xtol=1e-10, rtol=1e-12))


def minimum_detectable(standard_error: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest absolute effect a two-sided z-test at ``alpha`` detects with ``power`` at
    this ``standard_error``: ``(z_{1-alpha/2} + z_power) * se``."""
    from scipy.special import ndtri  # type: ignore[import-untyped,unused-ignore]

    return float(ndtri(1 - alpha / 2) + ndtri(power)) * standard_error
