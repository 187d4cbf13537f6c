"""The drift methods: one statistic between a reference and a current column profile each.

Every method is a ``drift_tests`` component of the core's own plugin (``builtin/drift_tests``),
so a plugin can add more with ``modelops_register_drift_tests``. A method offers ``name``,
``kinds`` (the column kinds it tests), ``threshold``, ``direction`` (``"p_value"``: drift when
the value is below the threshold; ``"distance"``: drift when it is at or above) and
``compute(reference, current) -> Statistic``.

Formulas follow Evidently's stattests (so results are comparable) and use scipy: values are
exactly scipy's while both sketches are exact (at most ``k`` values a side); beyond, they are
computed from the sketches' weighted items (within the rank error, see ``sketches``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import attrs
import numpy as np

from modelops_core.monitoring.profile import CATEGORICAL, NUMERIC, ColumnProfile

if TYPE_CHECKING:
    from modelops_core.monitoring.sketches import FloatArray


@attrs.frozen
class Statistic:
    """What a method computed: the value compared with the threshold, an effect size in [0, 1]
    where the method has one (for the effect-size floor of p-value tests), and notes."""

    value: float
    effect: float | None = None
    notes: tuple[str, ...] = ()


def _categories(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[list[str], FloatArray, FloatArray]:
    keys = sorted(set(reference.frequent.counts) | set(current.frequent.counts))
    ref = np.array([reference.frequent.counts.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([current.frequent.counts.get(k, 0) for k in keys], dtype=np.float64)
    return keys, ref, cur


def _fill_zeroes(percents: FloatArray) -> FloatArray:
    """Evidently's ``feel_zeroes``: empty bins get a small share so logarithms stay finite."""
    nonzero = percents[percents != 0]
    if len(nonzero) == 0:
        return percents
    smallest = float(np.min(nonzero))
    filled = percents.copy()
    filled[filled == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return filled


#: Evidently's ``INTEGER_CARDINALITY_LIMIT``: an integer column (as pandas types it) with at
#: most this many distinct values in the current data is categorical there.
INTEGER_CATEGORIES = 10


def integer_categories(reference: ColumnProfile, current: ColumnProfile) -> bool:
    """Whether Evidently takes this numeric column as categorical: every value of the current
    data typed as an integer (no nulls: pandas would type the column as floats) and at most
    10 distinct ones there; both sides' values counted (at most 32 distinct a side), so
    that their categories can be compared."""
    return (
        reference.kind == NUMERIC
        and current.kind == NUMERIC
        and 0 < current.count == current.integers
        and not (reference.frequent.overflowed or current.frequent.overflowed)
        and len(current.frequent.counts) <= INTEGER_CATEGORIES
    )


def binned(
    reference: ColumnProfile, current: ColumnProfile, *, fill_zeroes: bool
) -> tuple[FloatArray, FloatArray]:
    """The shares of each side per bin, binned as Evidently does: Sturges bins over both sides
    for numeric columns with more than 20 reference values, one bin per value otherwise (and
    for the integer columns Evidently takes as categorical: :func:`integer_categories`)."""
    numeric_values = reference.frequent.counts if not reference.frequent.overflowed else None
    if (
        reference.kind == NUMERIC
        and (numeric_values is None or len(numeric_values) > 20)
        and not integer_categories(reference, current)
    ):
        total = reference.values + current.values
        low = min(reference.minimum, current.minimum)
        high = max(reference.maximum, current.maximum)
        bins = int(math.ceil(math.log2(total)) + 1) if total else 1
        edges = np.linspace(low, high, bins + 1) if high > low else np.array([low - 0.5, low + 0.5])
        shares = []
        for side in (reference, current):
            items, weights = side.quantiles.weighted()
            shares.append(np.histogram(items, edges, weights=weights)[0] / max(side.values, 1))
        ref_share, cur_share = shares
    else:
        _, ref, cur = _categories(reference, current)
        ref_share, cur_share = ref / max(reference.values, 1), cur / max(current.values, 1)
    if fill_zeroes:
        return _fill_zeroes(ref_share), _fill_zeroes(cur_share)
    return ref_share, cur_share


def _sample(side: ColumnProfile, size: int = 2048) -> FloatArray:
    """The values (exact sketch) or ``size`` evenly spaced quantiles standing in for them."""
    if side.quantiles.exact:
        return side.quantiles.weighted()[0]
    return side.quantiles.quantiles((np.arange(size) + 0.5) / size)


def wasserstein_distance(
    u_values: FloatArray, u_weights: FloatArray, v_values: FloatArray, v_weights: FloatArray
) -> float:
    """The 1-Wasserstein distance of two weighted samples sorted by value: scipy's
    ``wasserstein_distance`` (its ``_cdf_distance`` with p = 1) without importing scipy.stats,
    which costs a command-line run about half a second."""
    values = np.sort(np.concatenate([u_values, v_values]), kind="mergesort")
    deltas = np.diff(values)
    cdfs = []
    for items, weights in ((u_values, u_weights), (v_values, v_weights)):
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        cdfs.append(cumulative[np.searchsorted(items, values[:-1], "right")] / cumulative[-1])
    return float(np.sum(np.abs(cdfs[0] - cdfs[1]) * deltas))


def jensen_shannon_distance(p: FloatArray, q: FloatArray) -> float:
    """scipy's ``jensenshannon(p, q)`` (natural log), in numpy alone."""
    p, q = p / np.sum(p), q / np.sum(q)
    middle = (p + q) / 2.0

    def relative_entropy(x: FloatArray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(x > 0, x * np.log(x / middle), 0.0)
        return float(np.sum(terms))

    return float(np.sqrt((relative_entropy(p) + relative_entropy(q)) / 2.0))


class DriftMethod:
    """The base of the built-in methods: a threshold, the kinds tested, how to read the value."""

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = (NUMERIC, CATEGORICAL)
    direction: ClassVar[str] = "distance"
    default_threshold: ClassVar[float] = 0.1

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = self.default_threshold if threshold is None else float(threshold)

    def drifted(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.direction == "p_value":
            return value < self.threshold
        return value >= self.threshold

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        raise NotImplementedError


class KolmogorovSmirnov(DriftMethod):
    """Two-sample Kolmogorov-Smirnov p-value (scipy ``ks_2samp``); effect: the statistic D."""

    name = "ks"
    kinds = (NUMERIC,)
    direction = "p_value"
    default_threshold = 0.05

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        from scipy import stats  # type: ignore[import-untyped,unused-ignore]

        if reference.quantiles.exact and current.quantiles.exact:
            result = stats.ks_2samp(
                reference.quantiles.weighted()[0], current.quantiles.weighted()[0]
            )
            return Statistic(float(result.pvalue), float(result.statistic))
        ref_items, _ = reference.quantiles.weighted()
        cur_items, _ = current.quantiles.weighted()
        points = np.concatenate([ref_items, cur_items])
        statistic = float(
            np.max(np.abs(reference.quantiles.cdf(points) - current.quantiles.cdf(points)))
        )
        n, m = reference.values, current.values
        p_value = float(stats.kstwo.sf(statistic, round(n * m / (n + m))))
        return Statistic(p_value, statistic, ("D from the quantile sketches (asymptotic p-value)",))


class ChiSquare(DriftMethod):
    """Chi-square goodness of fit of the current counts to the reference shares (Evidently's
    ``chisquare``); effect: the total variation distance between the shares. The automatic rule
    also uses it for numeric columns of 3-5 distinct values."""

    name = "chisquare"
    kinds = (CATEGORICAL,)
    direction = "p_value"
    default_threshold = 0.05

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        from scipy import stats  # type: ignore[import-untyped,unused-ignore]

        _, ref, cur = _categories(reference, current)
        expected = ref * (current.values / reference.values)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = float(stats.chisquare(cur, expected).pvalue)
        notes = []
        if np.any(expected < 5):
            notes.append("some expected counts are below 5: the chi-square p-value is rough")
        effect = 0.5 * float(np.sum(np.abs(ref / ref.sum() - cur / cur.sum())))
        return Statistic(p_value, effect, tuple(notes))


class ZTest(DriftMethod):
    """Two-proportion Z-test of a binary column (Evidently's ``z``); effect: |p1 - p2|. The
    automatic rule also uses it for numeric columns of at most 2 distinct values."""

    name = "z"
    kinds = (CATEGORICAL,)
    direction = "p_value"
    default_threshold = 0.05

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        from scipy import stats  # type: ignore[import-untyped,unused-ignore]

        keys, ref, cur = _categories(reference, current)
        n1, n2 = float(ref.sum()), float(cur.sum())
        if len(keys) == 1:
            return Statistic(1.0, 0.0)
        # share of the values that are not the first key, as Evidently counts them
        p1, p2 = 1 - ref[0] / n1, 1 - cur[0] / n2
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        notes = () if len(keys) == 2 else (f"{len(keys)} values: the Z-test compares the first",)
        return Statistic(float(2 * (1 - stats.norm.cdf(abs(z)))), abs(p1 - p2), notes)


class PopulationStabilityIndex(DriftMethod):
    """PSI over Evidently's bins: sum((ref - cur) * ln(ref / cur))."""

    name = "psi"

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        ref, cur = binned(reference, current, fill_zeroes=True)
        return Statistic(float(np.sum((ref - cur) * np.log(ref / cur))))


#: the coarsest grid (bin width over the reference's standard deviation) used for the
#: Wasserstein distance; a coarser one (an outlier far out) leaves it to the magnitude grids,
#: when their error bound is at most twice that width (as an even grid's: every value moves by
#: at most a bin), else to the quantile sketches and the exact tails.
GRID_WIDTH_TO_STD = 1 / 64


class Wasserstein(DriftMethod):
    """Wasserstein distance divided by the reference's standard deviation (at least 0.001).

    Exact (scipy's) while both quantile sketches keep every value; beyond, from both columns'
    grid histograms (each bin's values spread evenly: off by a small fraction of a bin width,
    measured within 0.2 % of scipy's value on 10^5 and 10^6 rows, undrifted columns
    included), or from the sketches when a grid is too coarse or missing (a profile saved
    before grids)."""

    name = "wasserstein"
    kinds = (NUMERIC,)

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        from modelops_core.monitoring.sketches import (
            GridHistogram,
            grid_wasserstein,
            magnitude_wasserstein,
        )

        notes: list[str] = []
        norm = max(reference.std, 0.001)
        if reference.std == 0:
            notes.append("constant reference: normed by 0.001")
        if reference.quantiles.exact and current.quantiles.exact:  # every value kept: scipy's
            distance = wasserstein_distance(
                *reference.quantiles.weighted(), *current.quantiles.weighted()
            )
            return Statistic(float(distance / norm), notes=tuple(notes))
        grids = (reference.grid, current.grid)
        if not any(g.dropped or g.empty for g in grids):
            width = GridHistogram.merge_many(list(grids)).width
            if width <= GRID_WIDTH_TO_STD * norm:
                return Statistic(grid_wasserstein(*grids) / norm, notes=tuple(notes))
        if reference.magnitudes.known and current.magnitudes.known:
            # heavy tails: bins of even width in log2 |x|, fine near zero as at the top
            low = min(reference.minimum, current.minimum)
            high = max(reference.maximum, current.maximum)
            distance, bound = magnitude_wasserstein(
                reference.magnitudes, current.magnitudes, low, high
            )
            if 2 * bound <= GRID_WIDTH_TO_STD * norm:
                return Statistic(distance / norm, notes=tuple(notes))
        if _has_tails(reference) and _has_tails(current):
            distance = wasserstein_distance(*_with_tails(reference), *_with_tails(current))
            notes.append("from the quantile sketches (within their rank error) and the exact tails")
        else:
            distance = wasserstein_distance(
                *reference.quantiles.weighted(), *current.quantiles.weighted()
            )
            notes.append("from the quantile sketches (within their rank error)")
        return Statistic(float(distance / norm), notes=tuple(notes))


def _has_tails(side: ColumnProfile) -> bool:
    """Whether a column's exact tails are known (not a profile saved before them)."""
    return side.tails.known and len(side.tails.low) > 0 and len(side.tails.high) > 0


def _with_tails(side: ColumnProfile) -> tuple[FloatArray, FloatArray]:
    """A column's values as a weighted sample sorted by value: those below the 64th smallest
    and above the 64th largest exactly (weight 1: an outlier the sketch may have dropped counts
    in full), the quantile sketch's items in between, their weights scaled to the values left."""
    low, high = side.tails.low, side.tails.high
    below, above = low[low < low[-1]], high[high > high[0]]
    items, weights = side.quantiles.weighted()
    inside = (items >= low[-1]) & (items <= high[0])
    items, weights = items[inside], weights[inside]
    left = side.values - len(below) - len(above)
    total = float(np.sum(weights))
    weights = weights * (left / total) if total > 0 else weights
    return (
        np.concatenate([below, items, above]),
        np.concatenate([np.ones(len(below)), weights, np.ones(len(above))]),
    )


class JensenShannon(DriftMethod):
    """Jensen-Shannon distance (scipy ``jensenshannon``, natural log) over Evidently's bins."""

    name = "jensenshannon"

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        ref, cur = binned(reference, current, fill_zeroes=False)
        return Statistic(jensen_shannon_distance(ref, cur))


class Hellinger(DriftMethod):
    """Hellinger distance sqrt(1 - sum(sqrt(p * q))) over Evidently's bins."""

    name = "hellinger"

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        ref, cur = binned(reference, current, fill_zeroes=False)
        overlap = float(np.clip(np.sum(np.sqrt(ref * cur)), 0, 1))
        return Statistic(math.sqrt(1 - overlap))


class AndersonDarling(DriftMethod):
    """k-sample Anderson-Darling p-value (scipy ``anderson_ksamp``, capped to [0.001, 0.25])."""

    name = "anderson"
    kinds = (NUMERIC,)
    direction = "p_value"
    default_threshold = 0.05

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        import warnings

        from scipy import stats  # type: ignore[import-untyped,unused-ignore]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns when the p-value is capped
            result = stats.anderson_ksamp([_sample(reference), _sample(current)])
        exact = reference.quantiles.exact and current.quantiles.exact
        notes = () if exact else ("on 2048 quantiles of each sketch",)
        return Statistic(float(result.pvalue), None, notes)


class MaximumMeanDiscrepancy(DriftMethod):
    """MMD with a Gaussian kernel (median bandwidth) on at most 500 values a side, its p-value
    from 200 seeded permutations. Multivariate use: ``Monitor.mmd`` on rows."""

    name = "mmd"
    kinds = (NUMERIC,)
    direction = "p_value"
    default_threshold = 0.05

    def __init__(self, threshold: float | None = None, seed: int = 0) -> None:
        super().__init__(threshold)
        self.seed = seed

    def compute(self, reference: ColumnProfile, current: ColumnProfile) -> Statistic:
        p_value, statistic = mmd_test(
            _sample(reference, 500)[:, None], _sample(current, 500)[:, None], seed=self.seed
        )
        return Statistic(p_value, None, (f"MMD^2 = {statistic:.4g}",))


def _thin(rows: FloatArray, size: int, rng: np.random.Generator) -> FloatArray:
    if len(rows) <= size:
        return rows
    return rows[np.sort(rng.choice(len(rows), size, replace=False))]


def mmd_test(
    reference: FloatArray, current: FloatArray, *, seed: int = 0, permutations: int = 200
) -> tuple[float, float]:
    """(p-value, MMD²) between two samples of rows (at most 500 rows a side are used), each
    column scaled by the pooled standard deviation, the kernel exp(-d² / median d²). The
    p-value is exact (every split of the pooled rows) when there are at most ``permutations``
    splits, else from ``permutations`` seeded permutations."""
    from scipy.spatial.distance import cdist  # type: ignore[import-untyped,unused-ignore]

    rng = np.random.default_rng(seed)
    ref, cur = _thin(reference, 500, rng), _thin(current, 500, rng)
    pooled = np.concatenate([ref, cur])
    scale = pooled.std(axis=0)
    pooled = pooled / np.where(scale > 0, scale, 1.0)
    distances = cdist(pooled, pooled, "sqeuclidean")
    bandwidth = float(np.median(distances[distances > 0])) if np.any(distances > 0) else 1.0
    kernel = np.exp(-distances / bandwidth)
    n, total = len(ref), len(pooled)
    # the biased MMD² of a split is s' K s with s = 1/n on one side and -1/m on the other;
    # all permutations at once are one matrix product
    observed_signs = np.where(np.arange(total) < n, 1 / n, -1 / (total - n))
    if math.comb(total, n) <= permutations:  # every split: the exact permutation test
        import itertools

        splits = list(itertools.combinations(range(total), n))
        signs = np.full((total, len(splits)), -1 / (total - n))
        for column, members in enumerate(splits):
            signs[list(members), column] = 1 / n
        statistics = np.einsum("ip,ip->p", signs, kernel @ signs)
        observed = float(observed_signs @ kernel @ observed_signs)
        return float(np.mean(statistics >= observed - 1e-12)), observed
    signs = np.empty((total, permutations + 1))
    signs[:, 0] = observed_signs
    for column in range(1, permutations + 1):
        signs[:, column] = rng.permutation(signs[:, 0])
    statistics = np.einsum("ip,ip->p", signs, kernel @ signs)
    observed = float(statistics[0])
    exceed = int(np.sum(statistics[1:] >= observed - 1e-12))
    return (exceed + 1) / (permutations + 1), observed


#: the built-in methods by name (the ``drift_tests`` components of the core's plugin).
BUILTIN: dict[str, type[DriftMethod]] = {
    method.name: method
    for method in (
        KolmogorovSmirnov,
        ChiSquare,
        ZTest,
        PopulationStabilityIndex,
        Wasserstein,
        JensenShannon,
        Hellinger,
        AndersonDarling,
        MaximumMeanDiscrepancy,
    )
}
