"""Seeded, vectorized bootstrap: replicates of a statistic and their confidence intervals.

Three engines, fastest first:

- :func:`bootstrap_table`: statistics of a contingency table (accuracy, precision, recall, F1
  from a confusion matrix, McNemar cells). Drawing ``n`` rows with replacement and tabulating
  them gives a table distributed ``Multinomial(n, counts / n)``, so all ``B`` replicate tables
  are drawn at once in ``O(B * cells)``, independent of ``n``.
- :func:`bootstrap_means`: means of per-example values (squared or absolute errors …); the
  ``(B, n)`` index matrix is drawn in blocks of bounded memory and averaged row-wise.
- :func:`bootstrap_generic`: any statistic of resampled indices, one call per replicate.

Intervals: ``percentile``, ``basic`` and ``bca`` (bias-corrected and accelerated, with the
jackknife acceleration), defined as in :func:`scipy.stats.bootstrap`.
Reference: Efron and Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 13-14.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import ModelOpsError

Method = Literal["percentile", "basic", "bca"]
METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
FloatArray = NDArray[np.float64]
TableStatistic = Callable[[NDArray[Any]], FloatArray]
#: index-matrix blocks hold at most this many entries (int64: 64 MiB)
BLOCK_ENTRIES = 1 << 23
#: leave-one-group-out jackknife above this many examples (generic statistics only)
JACKKNIFE_GROUPS = 1000


class BootstrapError(ModelOpsError, ValueError):
    """A bootstrap request that cannot be honoured; the message names the argument."""


@attrs.frozen(eq=False)
class BootstrapEstimate:
    """A statistic, its bootstrap replicates and its jackknife values (for BCa).

    :param statistic: the value on the original sample.
    :param replicates: one value per resample (NaN where the statistic is undefined).
    :param jackknife: leave-one-out (or leave-one-group-out) values.
    :param jackknife_weights: how many examples each jackknife value stands for.
    """

    statistic: float
    replicates: FloatArray
    jackknife: FloatArray | None = None
    jackknife_weights: FloatArray | None = None

    def interval(self, level: float = 0.95, method: str = "percentile") -> tuple[float, float]:
        """The two-sided ``level`` confidence interval by ``method``."""
        return confidence_interval(self, level, method)


def check_request(resamples: int, level: float, method: str) -> None:
    """Refuse a bootstrap that cannot give an interval, naming the argument."""
    if resamples < 2:
        raise BootstrapError(f"resamples={resamples} must be at least 2 (1000 is typical).")
    if not 0 < level < 1:
        raise BootstrapError(f"level={level} must be between 0 and 1, e.g. 0.95.")
    if method not in METHODS:
        raise BootstrapError(f"method={method!r} is not one of {', '.join(METHODS)}.")


def index_blocks(n: int, resamples: int, rng: np.random.Generator) -> Iterator[NDArray[np.intp]]:
    """The ``(resamples, n)`` matrix of resampled indices, in row blocks of bounded memory."""
    rows = max(1, BLOCK_ENTRIES // max(n, 1))
    done = 0
    while done < resamples:
        size = min(rows, resamples - done)
        yield rng.integers(0, n, size=(size, n), dtype=np.intp)
        done += size


def bootstrap_table(
    codes: NDArray[Any],
    cells: int,
    statistic: TableStatistic,
    *,
    resamples: int = 1000,
    seed: int | None = 0,
) -> BootstrapEstimate:
    """Replicates of ``statistic(tables)`` where each example falls in one of ``cells`` cells.

    :param codes: the cell of each example, integers in ``[0, cells)``.
    :param statistic: maps a ``(m, cells)`` array of counts to ``m`` values.
    """
    counts = np.bincount(np.asarray(codes, dtype=np.intp), minlength=cells).astype(np.int64)
    n = int(counts.sum())
    if n == 0:
        raise BootstrapError("the sample is empty; bootstrap needs at least one example.")
    rng = np.random.default_rng(seed)
    tables = rng.multinomial(n, counts / n, size=resamples)
    replicates = np.asarray(statistic(tables), dtype=np.float64)
    point = float(statistic(counts[None, :])[0])
    occupied = np.flatnonzero(counts)
    if n > 1:
        leave_one_out = counts[None, :] - np.eye(cells, dtype=np.int64)[occupied]
        jackknife = np.asarray(statistic(leave_one_out), dtype=np.float64)
        weights = counts[occupied].astype(np.float64)
    else:
        jackknife, weights = None, None
    return BootstrapEstimate(point, replicates, jackknife, weights)


def bootstrap_means(
    values: NDArray[Any],
    *,
    transform: Callable[[FloatArray], FloatArray] | None = None,
    resamples: int = 1000,
    seed: int | None = 0,
) -> BootstrapEstimate:
    """Replicates of ``transform(column means of values)`` over resampled examples.

    :param values: one number per example (a squared error …), or an ``(n, m)`` array of m
        per-example columns resampled together (paired comparisons).
    :param transform: maps an ``(r, m)`` array of column means to ``r`` statistics (e.g.
        ``sqrt`` for RMSE, a difference for a paired comparison); default: the first column.
    """
    data = np.asarray(values, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    n = data.shape[0]
    if n == 0:
        raise BootstrapError("the sample is empty; bootstrap needs at least one example.")
    finish = transform if transform is not None else _first_column
    rng = np.random.default_rng(seed)
    means = np.concatenate(
        [data[rows].mean(axis=1) for rows in index_blocks(n, resamples, rng)], axis=0
    )
    total = data.sum(axis=0)
    point = float(finish((total / n)[None, :])[0])
    jackknife = finish((total[None, :] - data) / (n - 1)) if n > 1 else None
    weights = np.ones(n) if n > 1 else None
    return BootstrapEstimate(point, np.asarray(finish(means), dtype=np.float64), jackknife, weights)


def _first_column(means: FloatArray) -> FloatArray:
    result: FloatArray = means[:, 0]
    return result


def bootstrap_generic(
    n: int,
    statistic: Callable[[NDArray[np.intp]], float],
    *,
    resamples: int = 1000,
    seed: int | None = 0,
    jackknife: bool = False,
) -> BootstrapEstimate:
    """Replicates of ``statistic(indices)`` for any statistic of the examples at ``indices``.

    :param jackknife: also compute jackknife values (needed by BCa); above
        ``JACKKNIFE_GROUPS`` examples a leave-one-group-out jackknife keeps this affordable.
    """
    if n == 0:
        raise BootstrapError("the sample is empty; bootstrap needs at least one example.")
    rng = np.random.default_rng(seed)
    replicates = np.fromiter(
        (_safe(statistic, row) for rows in index_blocks(n, resamples, rng) for row in rows),
        dtype=np.float64,
        count=resamples,
    )
    point = float(statistic(np.arange(n, dtype=np.intp)))
    values: FloatArray | None = None
    weights: FloatArray | None = None
    if jackknife and n > 1:
        groups = np.array_split(np.arange(n, dtype=np.intp), min(n, JACKKNIFE_GROUPS))
        keep = np.ones(n, dtype=bool)
        jack = []
        for group in groups:
            keep[group] = False
            jack.append(_safe(statistic, np.flatnonzero(keep)))
            keep[group] = True
        values = np.asarray(jack, dtype=np.float64)
        weights = np.asarray([len(group) for group in groups], dtype=np.float64)
    return BootstrapEstimate(point, replicates, values, weights)


def _safe(statistic: Callable[[NDArray[np.intp]], float], indices: NDArray[np.intp]) -> float:
    """The statistic, or NaN when a resample makes it undefined (e.g. a single class)."""
    try:
        return float(statistic(indices))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return float("nan")


def confidence_interval(
    estimate: BootstrapEstimate, level: float = 0.95, method: str = "percentile"
) -> tuple[float, float]:
    """The ``level`` interval of ``estimate`` by ``percentile``, ``basic`` or ``bca``.

    NaN replicates (statistic undefined on a resample) are left out; if all are NaN the
    interval is ``(nan, nan)``.
    """
    check_request(max(estimate.replicates.shape[0], 2), level, method)
    replicates = estimate.replicates[~np.isnan(estimate.replicates)]
    if replicates.shape[0] == 0:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    quantiles = np.asarray([alpha, 1 - alpha])
    if method == "bca":
        quantiles = _bca_quantiles(estimate, replicates, quantiles)
        if np.isnan(quantiles).any():
            return (float("nan"), float("nan"))
    low, high = np.quantile(replicates, quantiles)
    if method == "basic":
        low, high = 2 * estimate.statistic - high, 2 * estimate.statistic - low
    return (float(low), float(high))


def _bca_quantiles(
    estimate: BootstrapEstimate, replicates: FloatArray, quantiles: FloatArray
) -> FloatArray:
    from scipy.special import ndtr, ndtri  # type: ignore[import-untyped,unused-ignore]

    theta = estimate.statistic
    # scipy's percentile-of-score: ties count half
    share = ((replicates < theta).sum() + (replicates <= theta).sum()) / (2 * replicates.shape[0])
    bias = ndtri(share)
    acceleration = _acceleration(estimate)
    z = ndtri(quantiles)
    shifted = bias + z
    result: FloatArray = ndtr(bias + shifted / (1 - acceleration * shifted))
    return result


def _acceleration(estimate: BootstrapEstimate) -> float:
    if estimate.jackknife is None or estimate.jackknife_weights is None:
        return 0.0
    keep = ~np.isnan(estimate.jackknife)
    values, weights = estimate.jackknife[keep], estimate.jackknife_weights[keep]
    if values.shape[0] == 0:
        return 0.0
    deviation = np.average(values, weights=weights) - values
    spread = float((weights * deviation**2).sum())
    if spread == 0:
        return 0.0
    return float((weights * deviation**3).sum() / (6 * spread**1.5))
