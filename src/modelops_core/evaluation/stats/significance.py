"""Two-sample tests for A/B comparison of models, and the power of the comparison.

Paired (the same examples scored by both models): McNemar (exact, mid-p, chi-square with or
without continuity correction) on per-example correctness, Wilcoxon signed-rank and the paired
t-test on per-example scores. Unpaired: the two-proportion z-test and Welch's t-test. Each
returns a :class:`TestResult` with the effect (A minus B), its interval and a two-sided p-value;
formulas follow scipy.stats and statsmodels.
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
    :param note: how the p-value was obtained when it differs from what was asked (e.g. the
        normal approximation instead of an exact distribution too large to count).
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
    note: str | None = None


def _z(level: float) -> float:
    from scipy.special import ndtri  # type: ignore[import-untyped,unused-ignore]

    return float(ndtri(1 - (1 - level) / 2))


def _as_bool(values: Any, argument: str) -> NDArray[np.bool_]:
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] == 0:
        raise SignificanceError(f"{argument} must be a non-empty 1-D sequence.")
    return array.astype(bool)


#: McNemar's variants: ``exact`` (binomial), ``mid-p``, ``chi2`` and ``chi2-corrected``
MCNEMAR_METHODS = ("exact", "mid-p", "chi2", "chi2-corrected")


def mcnemar(
    correct_a: Any,
    correct_b: Any,
    *,
    mid_p: bool = False,
    level: float = 0.95,
    method: str | None = None,
) -> TestResult:
    """McNemar's test on paired correctness (the discordant pairs).

    ``b`` = A right and B wrong, ``c`` = A wrong and B right. ``method``:

    - ``exact`` (default): ``p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))``, statsmodels'
      ``mcnemar(table, exact=True)``;
    - ``mid-p`` (or ``mid_p=True``): ``p = min(1, 2 * BinomCDF(min(b, c)) - BinomPMF(min(b, c)))``
      (Fagerland, Lydersen & Laake 2013), so ``b == c`` gives 1;
    - ``chi2``: ``(b - c)**2 / (b + c)`` against chi-square with 1 degree of freedom;
    - ``chi2-corrected``: with Edwards' continuity correction ``(|b - c| - 1)**2 / (b + c)``,
      statsmodels' ``mcnemar(table, exact=False, correction=True)``.

    No discordant pair gives p = 1. The effect is the accuracy difference ``(b - c) / n`` with
    a Wald interval for paired proportions.
    """
    from scipy.stats import binom, chi2  # type: ignore[import-untyped,unused-ignore]

    chosen = method or ("mid-p" if mid_p else "exact")
    if chosen not in MCNEMAR_METHODS:
        raise SignificanceError(
            f"McNemar method={chosen!r} is not one of {', '.join(MCNEMAR_METHODS)}."
        )
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
    statistic = float(smaller)
    if chosen.startswith("chi2"):
        gap = abs(only_a - only_b) - (1 if chosen == "chi2-corrected" else 0)
        statistic = gap**2 / discordant if discordant else 0.0
        p = float(chi2.sf(statistic, 1)) if discordant else 1.0
    elif discordant == 0 or (chosen == "mid-p" and only_a == only_b):
        p = 1.0  # b == c: 2 * CDF(b) - PMF(b) is 1 exactly (symmetry); float sums give 1 - 2e-16
    else:
        p = 2 * float(binom.cdf(smaller, discordant, 0.5))
        if chosen == "mid-p":
            p -= float(binom.pmf(smaller, discordant, 0.5))
        p = min(1.0, p)
    effect = (only_a - only_b) / n
    variance = max(discordant - (only_a - only_b) ** 2 / n, 0.0) / n**2
    se = math.sqrt(variance)
    z = _z(level)
    p_a, p_b = float(a.mean()), float(b_.mean())
    return TestResult(
        test=f"mcnemar-{chosen}",
        statistic=statistic,
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

    ``method``: ``exact`` (the null distribution of T+, scipy's ``method="exact"``; above
    :data:`EXACT_WILCOXON_LIMIT` nonzero differences the normal approximation is used instead
    and ``note`` says so), ``approx`` (normal, with the tie correction, no continuity
    correction), ``auto`` (exact when at most 50 nonzero differences and no ties, as scipy
    does). The effect is the median difference A - B; low and high are the 2.5% and 97.5%
    quantiles of its Walsh averages (Hodges-Lehmann), for n <= 2000 (NaN above).
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
    note = None
    if use_exact and n > EXACT_WILCOXON_LIMIT:
        use_exact = False
        note = (
            f"wilcoxon: the exact distribution is not computed for {n} nonzero differences "
            f"(more than {EXACT_WILCOXON_LIMIT}); the normal approximation was used (its "
            "p-value differs from the exact one by less than 1e-3 at this size)."
        )
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - float((tie_counts**3 - tie_counts).sum()) / 48
    z = (t_plus - mean) / math.sqrt(variance) if variance > 0 else 0.0
    p = _signed_rank_exact_p(t_plus, n) if use_exact else float(2 * norm.sf(abs(z)))
    se = (high - low) / (2 * _z(0.95)) if math.isfinite(high - low) else float("nan")
    standardized = z / math.sqrt(n)
    return TestResult("wilcoxon", t_plus, min(1.0, p), effect, low, high, se, standardized, note)


#: the most nonzero differences for which the exact signed-rank distribution is computed
#: (about a second at 2000; its cost grows as n**3)
EXACT_WILCOXON_LIMIT = 2000


def _signed_rank_exact_p(t_plus: float, n: int) -> float:
    """Two-sided exact p of T+ = ``t_plus`` under H0, as scipy's ``method="exact"``.

    The distribution of T+ (the sum of a random subset of the ranks 1..n) is built rank by
    rank, ``P_k(s) = (P_{k-1}(s) + P_{k-1}(s - k)) / 2``, as counts rescaled by an exact power
    of two every 512 ranks, so nothing overflows at any n (counting subsets in float64
    overflows past n = 1024). Only ``s <= min(t, top - t)`` is needed: T+ is symmetric.
    """
    top = n * (n + 1) // 2
    t = round(t_plus)
    if 2 * t == top:
        return 1.0
    tail = min(t, top - t)  # P(T+ <= tail) is the smaller one-sided p
    counts = np.zeros(tail + 1)
    counts[0] = 1.0
    pending = 0  # halvings owed: counts * 2**-pending are the probabilities
    for rank in range(1, n + 1):
        if rank <= tail:
            counts[rank:] += counts[:-rank]
        pending += 1
        if pending == 512:
            counts *= 2.0**-512
            pending = 0
    lower = math.ldexp(float(counts.sum()), -pending)
    return min(1.0, 2 * lower)


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


def paired_t(values_a: Any, values_b: Any, *, level: float = 0.95) -> TestResult:
    """Paired t-test on per-example values (``scipy.stats.ttest_rel``).

    ``t = mean(d) / (sd(d) / sqrt(n))`` with ``d = a - b`` and n - 1 degrees of freedom. The
    effect is the mean difference with its t interval; the standardized effect is Cohen's
    ``d_z = mean(d) / sd(d)``. Identical differences (sd 0) give p = 1 when they are all 0 and
    p = 0 otherwise.
    """
    from scipy.stats import t as student  # type: ignore[import-untyped,unused-ignore]

    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise SignificanceError(
            f"values_a has shape {a.shape} but values_b has {b.shape}; the paired t-test needs "
            "one value per example from each model, the same examples in the same order."
        )
    if a.shape[0] < 2:
        raise SignificanceError("values_a and values_b need at least two paired values.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise SignificanceError("values_a or values_b contains NaN or infinity.")
    difference = a - b
    n = difference.shape[0]
    effect = float(difference.mean())
    sd = float(difference.std(ddof=1))
    se = sd / math.sqrt(n)
    if se == 0:
        return TestResult("paired-t", 0.0, 1.0 if effect == 0 else 0.0, effect, effect, effect,
                          0.0)  # fmt: skip
    statistic = effect / se
    p = float(2 * student.sf(abs(statistic), n - 1))
    margin = float(student.ppf(1 - (1 - level) / 2, n - 1)) * se
    return TestResult("paired-t", statistic, p, effect, effect - margin, effect + margin, se,
                      effect / sd)  # fmt: skip


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
