"""Two-sample tests for A/B comparison of models, and the power of the comparison.

Paired (the same examples scored by both models): McNemar (exact and mid-p) on per-example
correctness, Wilcoxon signed-rank on per-example scores. Unpaired: the two-proportion z-test
and Welch's t-test. Each returns a :class:`TestResult` with the effect (A minus B), its
interval and a two-sided p-value; formulas follow scipy.stats and statsmodels.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import ModelOpsError


class SignificanceError(ModelOpsError, ValueError):
    """Samples a test cannot use; the message names the argument."""


@attrs.frozen
class TestResult:
    """A two-sided test of "A and B are equal".

    :param test: the test's name, e.g. ``"mcnemar-exact"``.
    :param effect: the difference A - B (of proportions, means or a metric).
    :param low: lower end of the effect's confidence interval; ``high`` the upper.
    :param standard_error: the effect's standard error (used for power).
    :param standardized: a scale-free effect size (Cohen's h for proportions, d for means).
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    p_value: float
    effect: float
    low: float
    high: float
    standard_error: float
    standardized: float | None = None


def _z(level: float) -> float:
    from scipy.special import ndtri  # type: ignore[import-untyped,unused-ignore]

    return float(ndtri(1 - (1 - level) / 2))


def _as_bool(values: Any, argument: str) -> NDArray[np.bool_]:
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] == 0:
        raise SignificanceError(f"{argument} must be a non-empty 1-D sequence.")
    return array.astype(bool)


def mcnemar(
    correct_a: Any, correct_b: Any, *, mid_p: bool = False, level: float = 0.95
) -> TestResult:
    """McNemar's exact test on paired correctness (binomial test on the discordant pairs).

    ``b`` = A right and B wrong, ``c`` = A wrong and B right;
    ``p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))``; the mid-p variant subtracts
    ``BinomPMF(min(b, c))``. The effect is the accuracy difference ``(b - c) / n`` with a
    Wald interval for paired proportions.
    """
    from scipy.stats import binom  # type: ignore[import-untyped,unused-ignore]

    a = _as_bool(correct_a, "correct_a")
    b_ = _as_bool(correct_b, "correct_b")
    if a.shape != b_.shape:
        raise SignificanceError(
            f"correct_a has {a.shape[0]} items but correct_b has {b_.shape[0]}; paired tests "
            "need the same examples in the same order."
        )
    n = a.shape[0]
    only_a = int((a & ~b_).sum())
    only_b = int((~a & b_).sum())
    discordant = only_a + only_b
    smaller = min(only_a, only_b)
    if discordant == 0:
        p = 1.0
    else:
        p = min(1.0, 2 * float(binom.cdf(smaller, discordant, 0.5)))
        if mid_p:
            p = max(0.0, p - float(binom.pmf(smaller, discordant, 0.5)))
    effect = (only_a - only_b) / n
    variance = max(discordant - (only_a - only_b) ** 2 / n, 0.0) / n**2
    se = math.sqrt(variance)
    z = _z(level)
    p_a, p_b = float(a.mean()), float(b_.mean())
    return TestResult(
        test="mcnemar-mid-p" if mid_p else "mcnemar-exact",
        statistic=float(smaller),
        p_value=p,
        effect=effect,
        low=effect - z * se,
        high=effect + z * se,
        standard_error=se,
        standardized=_cohen_h(p_a, p_b),
    )


def _cohen_h(p_a: float, p_b: float) -> float:
    return 2 * math.asin(math.sqrt(p_a)) - 2 * math.asin(math.sqrt(p_b))


def wilcoxon(scores_a: Any, scores_b: Any, *, method: str = "auto") -> TestResult:
    """Wilcoxon signed-rank test on paired per-example scores (zero differences dropped).

    ``method``: ``exact`` (the null distribution of T+ by counting), ``approx`` (normal, with
    the tie correction, no continuity correction), ``auto`` (exact when at most 50 nonzero
    differences and no ties, as scipy does). The effect is the median difference A - B; low
    and high are the 2.5% and 97.5% quantiles of its Walsh averages (Hodges-Lehmann), for
    n <= 2000 (NaN above).
    """
    from scipy.stats import norm, rankdata  # type: ignore[import-untyped,unused-ignore]

    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.shape[0] == 0:
        raise SignificanceError(
            "scores_a and scores_b must be non-empty 1-D sequences of the same length."
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise SignificanceError("scores_a or scores_b contains NaN or infinity.")
    difference = a - b
    nonzero = difference[difference != 0]
    n = nonzero.shape[0]
    effect, low, high = _hodges_lehmann(difference)
    if n == 0:
        return TestResult("wilcoxon", 0.0, 1.0, effect, low, high, 0.0)
    ranks = rankdata(np.abs(nonzero))
    t_plus = float(ranks[nonzero > 0].sum())
    _, tie_counts = np.unique(ranks, return_counts=True)
    has_ties = bool((tie_counts > 1).any())
    use_exact = method == "exact" or (method == "auto" and n <= 50 and not has_ties)
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - float((tie_counts**3 - tie_counts).sum()) / 48
    z = (t_plus - mean) / math.sqrt(variance) if variance > 0 else 0.0
    p = _signed_rank_exact_p(t_plus, n) if use_exact else float(2 * norm.sf(abs(z)))
    se = (high - low) / (2 * _z(0.95)) if math.isfinite(high - low) else float("nan")
    return TestResult("wilcoxon", t_plus, min(1.0, p), effect, low, high, se, z / math.sqrt(n))


def _signed_rank_exact_p(t_plus: float, n: int) -> float:
    """Two-sided exact p of T+ = ``t_plus``: counts of subsets of {1..n} by rank sum."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    probabilities = counts / counts.sum()
    t = round(t_plus)
    lower = float(probabilities[: t + 1].sum())
    upper = float(probabilities[t:].sum())
    return min(1.0, 2 * min(lower, upper))


def _hodges_lehmann(difference: NDArray[np.float64]) -> tuple[float, float, float]:
    """The median difference and, for n <= 2000, the 95% interval of the Walsh averages."""
    median = float(np.median(difference))
    n = difference.shape[0]
    if n > 2000 or n < 2:
        return median, float("nan"), float("nan")
    upper = np.triu_indices(n)
    walsh = (difference[upper[0]] + difference[upper[1]]) / 2
    low, high = np.quantile(walsh, [0.025, 0.975])
    return median, float(low), float(high)


def two_proportion_z(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, level: float = 0.95
) -> TestResult:
    """Two-proportion z-test (pooled variance), as statsmodels' ``proportions_ztest``.

    ``z = (p_a - p_b) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` with the pooled ``p``; the interval
    of ``p_a - p_b`` uses the unpooled (Wald) standard error.
    """
    from scipy.stats import norm  # type: ignore[import-untyped,unused-ignore]

    if n_a <= 0 or n_b <= 0:
        raise SignificanceError("n_a and n_b must be positive sample sizes.")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (p_a - p_b) / se_null if se_null > 0 else 0.0
    p = float(2 * norm.sf(abs(z))) if se_null > 0 else 1.0
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    margin = _z(level) * se
    effect = p_a - p_b
    return TestResult(
        "two-proportion-z", z, p, effect, effect - margin, effect + margin, se, _cohen_h(p_a, p_b)
    )


def welch_t(values_a: Any, values_b: Any, *, level: float = 0.95) -> TestResult:
    """Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

    The effect is the mean difference with the Welch-Satterthwaite interval; the standardized
    effect is Cohen's d with the pooled standard deviation.
    """
    from scipy.stats import t as student  # type: ignore[import-untyped,unused-ignore]

    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise SignificanceError("values_a and values_b need at least two values each.")
    n_a, n_b = a.shape[0], b.shape[0]
    var_a, var_b = float(a.var(ddof=1)), float(b.var(ddof=1))
    se = math.sqrt(var_a / n_a + var_b / n_b)
    effect = float(a.mean() - b.mean())
    if se == 0:
        return TestResult("welch-t", 0.0, 1.0 if effect == 0 else 0.0, effect, effect, effect, 0.0)
    dof = se**4 / ((var_a / n_a) ** 2 / (n_a - 1) + (var_b / n_b) ** 2 / (n_b - 1))
    statistic = effect / se
    p = float(2 * student.sf(abs(statistic), dof))
    margin = float(student.ppf(1 - (1 - level) / 2, dof)) * se
    pooled = math.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / (n_a + n_b - 2))
    d = effect / pooled if pooled > 0 else 0.0
    return TestResult("welch-t", statistic, p, effect, effect - margin, effect + margin, se, d)


@attrs.frozen
class Power:
    """The power of a two-sided test to detect the observed effect, and the n it would need."""

    power: float
    required_n: float
    n: int


def power_for_effect(
    effect: float, standard_error: float, n: int, *, alpha: float = 0.05, target: float = 0.8
) -> Power:
    """Power of a two-sided z-test at ``alpha`` for ``effect`` with ``standard_error`` at
    ``n`` examples, and the examples needed for ``target`` power (standard error ~ 1/sqrt(n)).
    """
    from scipy.special import ndtr, ndtri  # type: ignore[import-untyped,unused-ignore]

    if standard_error <= 0 or not math.isfinite(standard_error):
        return Power(1.0 if effect != 0 else 0.0, float(n) if effect != 0 else math.inf, n)
    critical = float(ndtri(1 - alpha / 2))
    shift = abs(effect) / standard_error
    power = float(ndtr(shift - critical) + ndtr(-shift - critical))
    if effect == 0:
        return Power(power, math.inf, n)
    needed = n * ((critical + float(ndtri(target))) / shift) ** 2
    return Power(power, float(math.ceil(needed)), n)
