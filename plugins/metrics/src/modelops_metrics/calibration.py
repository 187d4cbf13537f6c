"""Calibration of binary probabilities: expected calibration error and the reliability curve.

Predictions are probabilities of the positive class in [0, 1]; references are labels, 1 (or
True) for the positive class and 0 (or False) otherwise. Both metrics sort the probabilities
into ``n_bins`` bins exactly as :func:`sklearn.calibration.calibration_curve` does:

- ``strategy="uniform"``: edges ``0, 1/n_bins, ..., 1``;
- ``strategy="quantile"``: edges at the ``0, 1/n_bins, ..., 1`` quantiles of the predictions
  (unweighted, like scikit-learn), so each bin holds about as many items;

and a probability equal to an inner edge falls in the lower bin (``np.searchsorted``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_numbers,
    as_weights,
    check_length,
    check_ndim,
    check_probabilities,
)
from modelops_core.evaluation.metrics import Metric

Strategy = Literal["uniform", "quantile"]
_STRATEGIES = ("uniform", "quantile")


# --- input checks --------------------------------------------------------------------------------


def _probabilities(values: Any) -> np.ndarray:
    """``predictions`` as a 1-D float array of finite probabilities in [0, 1]."""
    array = as_numbers(values, "predictions")
    check_ndim(
        array,
        "predictions",
        hint="pass one probability of the positive class per item (a 1-D sequence), e.g. "
        "probabilities[:, 1] of a binary classifier.",
    )
    check_probabilities(array, "predictions")
    return array


def _binary_labels(values: Any, length: int) -> np.ndarray:
    """``references`` as a float array of 0.0/1.0, the same length as the predictions."""
    check_length(values, "references", length)
    array = np.asarray(values)
    check_ndim(array, "references", hint="pass one label 0/1 per prediction (a 1-D sequence).")
    if array.dtype == np.bool_:
        return array.astype(np.float64)
    try:
        labels = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricInputError(
            f"references must be binary labels 0/1 (or booleans): {exc}", argument="references"
        ) from exc
    bad = (labels != 0.0) & (labels != 1.0)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise MetricInputError(
            f"references[{index}] is {array[index].item()!r}; calibration metrics take binary "
            "labels 0/1 (or booleans). Map your positive class to 1 and every other class to 0.",
            argument="references",
        )
    return labels


def _check_binning(n_bins: int, strategy: str) -> int:
    """``n_bins`` as an int (numpy integers included, as scikit-learn takes them)."""
    if isinstance(n_bins, (bool, np.bool_)) or not isinstance(n_bins, numbers.Integral):
        raise MetricInputError(f"n_bins is {n_bins!r}; pass a whole number of bins >= 1.")
    if n_bins < 1:
        raise MetricInputError(f"n_bins is {n_bins!r}; pass a whole number of bins >= 1.")
    if strategy not in _STRATEGIES:
        raise MetricInputError(
            f"strategy is {strategy!r}; choose one of {', '.join(map(repr, _STRATEGIES))}."
        )
    return int(n_bins)


# --- binning -------------------------------------------------------------------------------------


def bin_edges(
    probabilities: NDArray[np.float64], n_bins: int, strategy: str
) -> NDArray[np.float64]:
    """The ``n_bins + 1`` bin edges, as :func:`sklearn.calibration.calibration_curve` sets them."""
    if strategy == "quantile":
        return np.percentile(probabilities, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    return np.linspace(0.0, 1.0, n_bins + 1)


def binned_sums(
    probabilities: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None,
    edges: np.ndarray,
) -> np.ndarray:
    """Per bin: total weight, weighted sum of probabilities, weighted sum of labels, shape (3, B).

    Without weights every item weighs 1, so the first row is the count of items per bin.
    """
    n_bins = len(edges) - 1
    bins = np.searchsorted(edges[1:-1], probabilities)
    if weights is None:
        totals = np.bincount(bins, minlength=n_bins).astype(np.float64)
        predicted = np.bincount(bins, weights=probabilities, minlength=n_bins)
        observed = np.bincount(bins, weights=labels, minlength=n_bins)
    else:
        # float64 already (numpy's stubs type every bincount as intp): no copy
        totals = np.bincount(bins, weights=weights, minlength=n_bins).astype(np.float64, copy=False)
        predicted = np.bincount(bins, weights=probabilities * weights, minlength=n_bins)
        observed = np.bincount(bins, weights=labels * weights, minlength=n_bins)
    return np.stack([totals, predicted, observed])


def calibration_error_from_sums(sums: np.ndarray) -> float:
    """ECE from :func:`binned_sums`: ``sum_b |sum p - sum y|_b / total weight``."""
    total = sums[0].sum()
    if total == 0:
        return float("nan")
    return float(np.abs(sums[1] - sums[2]).sum() / total)


def reliability_from_sums(sums: np.ndarray) -> dict[str, list[float]]:
    """The reliability curve from :func:`binned_sums`, leaving out empty bins."""
    occupied = sums[0] != 0
    totals = sums[0][occupied]
    return {
        "mean_predicted": (sums[1][occupied] / totals).tolist(),
        "fraction_positive": (sums[2][occupied] / totals).tolist(),
        "counts": totals.tolist(),
    }


# --- mergeable state -----------------------------------------------------------------------------


@attrs.define
class BinnedCalibrationState:
    """Mergeable state of a binned calibration metric; ``compute()`` equals the one-shot value.

    With ``strategy="uniform"`` the bins are fixed, so the state is three sums per bin and
    merging adds them. With ``strategy="quantile"`` the edges depend on every prediction, so
    the state keeps the chunks it was given (memory grows with the data) to stay exact.
    """

    n_bins: int
    strategy: str
    summarize: Callable[[np.ndarray], Any]
    sums: np.ndarray = attrs.field(
        default=attrs.Factory(lambda state: np.zeros((3, state.n_bins)), takes_self=True)
    )
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = attrs.field(factory=list)
    items: int = 0

    def update(
        self,
        predictions: Sequence[float],
        references: Sequence[int],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> BinnedCalibrationState:
        """Add a chunk of probabilities and labels; returns this state."""
        probabilities = _probabilities(predictions)
        labels = _binary_labels(references, len(probabilities))
        weights = as_weights(sample_weight, len(probabilities))
        self.items += len(probabilities)
        if self.strategy == "quantile":
            if weights is None:
                weights = np.ones_like(probabilities)
            self.chunks.append((probabilities, labels, weights))
        else:
            self.sums = self.sums + binned_sums(
                probabilities, labels, weights, bin_edges(probabilities, self.n_bins, "uniform")
            )
        return self

    def merge(self, other: BinnedCalibrationState) -> BinnedCalibrationState:
        """Combine with a state of the same metric; returns this state."""
        if (other.n_bins, other.strategy) != (self.n_bins, self.strategy):
            raise MetricInputError(
                f"cannot merge a state with n_bins={other.n_bins}, strategy={other.strategy!r} "
                f"into one with n_bins={self.n_bins}, strategy={self.strategy!r}; merge states "
                "of the same metric."
            )
        self.sums = self.sums + other.sums
        self.chunks.extend(other.chunks)
        self.items += other.items
        return self

    def compute(self) -> Any:
        """The metric over every chunk seen so far."""
        if self.items == 0:
            raise MetricInputError("the state is empty; update it with at least one pair.")
        if self.strategy == "quantile":
            probabilities, labels, weights = (
                np.concatenate([chunk[part] for chunk in self.chunks]) for part in range(3)
            )
            edges = bin_edges(probabilities, self.n_bins, "quantile")
            return self.summarize(binned_sums(probabilities, labels, weights, edges))
        return self.summarize(self.sums)


# --- metrics -------------------------------------------------------------------------------------


class _BinnedCalibrationMetric(Metric):
    """Shared binning and state of the calibration metrics."""

    # predictions are probabilities: the evaluator passes scores and checks they are in [0, 1]
    needs_scores = True
    needs_probabilities = True
    takes_arrays = True

    def __init__(self, n_bins: int = 10, strategy: Strategy = "uniform") -> None:
        self.n_bins = _check_binning(n_bins, strategy)
        self.strategy = strategy

    def _summarize(self, sums: np.ndarray) -> Any:
        raise NotImplementedError

    def compute(
        self,
        predictions: Sequence[float],
        references: Sequence[int],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> Any:
        probabilities = _probabilities(predictions)
        labels = _binary_labels(references, len(probabilities))
        weights = as_weights(sample_weight, len(probabilities))
        edges = bin_edges(probabilities, self.n_bins, self.strategy)
        return self._summarize(binned_sums(probabilities, labels, weights, edges))

    def state(self) -> BinnedCalibrationState:
        """An empty mergeable state (see :class:`BinnedCalibrationState`)."""
        return BinnedCalibrationState(self.n_bins, self.strategy, self._summarize)


class ExpectedCalibrationErrorMetric(_BinnedCalibrationMetric):
    """Expected calibration error (ECE) of binary probabilities; lower is better.

    ``ECE = sum_b (W_b / W) * |mean_b(p) - mean_b(y)|`` over the bins ``b``, where ``W_b`` is
    the (sample-weighted) number of items in bin ``b``, ``W`` the total, ``mean_b(p)`` the mean
    predicted probability and ``mean_b(y)`` the observed frequency of the positive class in the
    bin. Equivalently ``sum_b |sum_b(p) - sum_b(y)| / W``. Bins follow
    :func:`sklearn.calibration.calibration_curve` (see the module docstring). Reference:
    Naeini, Cooper and Hauskrecht, "Obtaining Well Calibrated Probabilities Using Bayesian
    Binning", AAAI 2015; Guo et al., "On Calibration of Modern Neural Networks", ICML 2017.

    :param n_bins: number of bins (default 10).
    :param strategy: ``"uniform"`` (equal-width bins) or ``"quantile"`` (equal-count bins).

    >>> ece = ExpectedCalibrationErrorMetric(n_bins=2)
    >>> round(ece.compute([0.2, 0.4, 0.8, 0.9], [0, 1, 1, 1]), 12)
    0.175
    """

    name = "ece"
    higher_is_better = False

    def _summarize(self, sums: np.ndarray) -> float:
        return calibration_error_from_sums(sums)

    def compute(
        self,
        predictions: Sequence[float],
        references: Sequence[int],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> float:
        """The ECE of ``predictions`` (positive-class probabilities) against 0/1 ``references``."""
        result: float = super().compute(predictions, references, sample_weight=sample_weight)
        return result


class ReliabilityCurve(_BinnedCalibrationMetric):
    """The reliability curve: mean predicted probability and observed frequency per bin.

    Returns ``{"mean_predicted": [...], "fraction_positive": [...], "counts": [...]}``, one
    entry per non-empty bin in increasing order; ``counts`` is the number of items in the bin
    (their total ``sample_weight`` when weights are given). ``mean_predicted`` and
    ``fraction_positive`` equal ``prob_pred`` and ``prob_true`` of
    :func:`sklearn.calibration.calibration_curve`. Reference: DeGroot and Fienberg, "The
    Comparison and Evaluation of Forecasters", The Statistician, 1983.

    :param n_bins: number of bins (default 10).
    :param strategy: ``"uniform"`` (equal-width bins) or ``"quantile"`` (equal-count bins).

    >>> ReliabilityCurve(n_bins=2).compute([0.2, 0.4, 0.8], [0, 1, 1])["fraction_positive"]
    [0.5, 1.0]
    """

    name = "reliability_curve"
    higher_is_better = False

    def _summarize(self, sums: np.ndarray) -> dict[str, list[float]]:
        return reliability_from_sums(sums)

    def compute(
        self,
        predictions: Sequence[float],
        references: Sequence[int],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> dict[str, list[float]]:
        """The curve of ``predictions`` (positive-class probabilities) against 0/1 labels."""
        result: dict[str, list[float]] = super().compute(
            predictions, references, sample_weight=sample_weight
        )
        return result
