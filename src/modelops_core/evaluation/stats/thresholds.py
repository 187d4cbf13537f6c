"""Threshold analysis of binary scores: one sort gives every operating point, then a choice.

:func:`sweep` sorts the scores once (``O(n log n)``) and returns, for each distinct score
used as threshold (predict positive when ``score >= threshold``), the counts TP, FP, FN, TN
and precision, recall (TPR), F1, FPR and Youden's J. :func:`choose_threshold` picks one by
criterion. Agrees with ``sklearn.metrics.precision_recall_curve`` and ``roc_curve``
(``drop_intermediate=False``).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import ModelOpsError

FloatArray = NDArray[np.float64]
CRITERIA = ("f1", "youden", "cost", "precision", "recall")


class ThresholdError(ModelOpsError, ValueError):
    """Scores, references or a criterion that cannot give a threshold; names the argument."""


@attrs.frozen(eq=False)
class ThresholdSweep:
    """Every operating point, thresholds decreasing (the first predicts nothing positive).

    The first point has threshold ``+inf`` (no positive prediction), as in ``roc_curve``.
    """

    thresholds: FloatArray
    true_positives: FloatArray
    false_positives: FloatArray
    positives: float
    negatives: float

    @property
    def false_negatives(self) -> FloatArray:
        return self.positives - self.true_positives

    @property
    def true_negatives(self) -> FloatArray:
        return self.negatives - self.false_positives

    @property
    def precision(self) -> FloatArray:
        """TP / (TP + FP); 1 where nothing is predicted positive (scikit-learn's convention)."""
        predicted = self.true_positives + self.false_positives
        result: FloatArray = np.where(
            predicted > 0, self.true_positives / np.where(predicted > 0, predicted, 1), 1.0
        )
        return result

    @property
    def recall(self) -> FloatArray:
        """TP / P (the true positive rate); NaN if there is no positive."""
        return self._rate(self.true_positives, self.positives)

    tpr = recall

    @property
    def fpr(self) -> FloatArray:
        """FP / N; NaN if there is no negative."""
        return self._rate(self.false_positives, self.negatives)

    @property
    def f1(self) -> FloatArray:
        """2 TP / (2 TP + FP + FN); 0 where that is 0 / 0."""
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        result: FloatArray = np.where(
            denominator > 0, 2 * self.true_positives / np.where(denominator > 0, denominator, 1), 0
        )
        return result

    @property
    def youden_j(self) -> FloatArray:
        """TPR - FPR."""
        result: FloatArray = self.tpr - self.fpr
        return result

    def cost(self, fp_cost: float, fn_cost: float) -> FloatArray:
        """Total cost ``fp_cost * FP + fn_cost * FN`` at each threshold."""
        result: FloatArray = fp_cost * self.false_positives + fn_cost * self.false_negatives
        return result

    def as_dict(self) -> dict[str, list[float]]:
        """The sweep as lists (for JSON and plots)."""
        return {
            "thresholds": self.thresholds.tolist(),
            "precision": self.precision.tolist(),
            "recall": self.recall.tolist(),
            "f1": self.f1.tolist(),
            "fpr": self.fpr.tolist(),
            "tpr": self.tpr.tolist(),
        }

    @staticmethod
    def _rate(count: FloatArray, total: float) -> FloatArray:
        if total <= 0:
            return np.full(count.shape, np.nan)
        result: FloatArray = count / total
        return result


@attrs.frozen
class ThresholdChoice:
    """The chosen operating point and its rates."""

    criterion: str
    threshold: float
    precision: float
    recall: float
    f1: float
    fpr: float
    youden_j: float
    true_positives: float
    false_positives: float
    cost: float | None = None


def sweep(
    scores: Any,
    references: Any,
    *,
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> ThresholdSweep:
    """All operating points of ``scores`` (higher = more positive) against ``references``."""
    values = np.asarray(scores, dtype=np.float64)
    actual = np.asarray(references)
    if values.ndim != 1 or values.shape[0] == 0:
        raise ThresholdError("scores must be a non-empty 1-D sequence of numbers.")
    if actual.shape[0] != values.shape[0]:
        raise ThresholdError(
            f"scores has {values.shape[0]} items but references has {actual.shape[0]}; "
            "the lengths mismatch."
        )
    if not np.isfinite(values).all():
        raise ThresholdError("scores contains NaN or infinity; remove or impute them first.")
    weights = (
        np.ones(values.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    )
    positive = (actual == pos_label).astype(np.float64) * weights
    order = np.argsort(values, kind="mergesort")[::-1]
    ordered = values[order]
    true_positive = np.cumsum(positive[order])
    false_positive = np.cumsum(weights[order]) - true_positive
    # last index of each run of equal scores: the point reached when the threshold is that score
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    return ThresholdSweep(
        thresholds=np.r_[np.inf, ordered[ends]],
        true_positives=np.r_[0.0, true_positive[ends]],
        false_positives=np.r_[0.0, false_positive[ends]],
        positives=float(true_positive[-1]),
        negatives=float(false_positive[-1]),
    )


def choose_threshold(
    result: ThresholdSweep,
    criterion: str = "f1",
    *,
    fp_cost: float = 1.0,
    fn_cost: float = 1.0,
    target: float | None = None,
) -> ThresholdChoice:
    """The threshold best by ``criterion``:

    - ``f1``: maximum F1; ``youden``: maximum TPR - FPR;
    - ``cost``: minimum ``fp_cost * FP + fn_cost * FN``;
    - ``precision``: the highest recall among points with precision >= ``target``;
    - ``recall``: the highest precision among points with recall >= ``target``.

    Ties go to the highest threshold (the most conservative point).
    """
    if criterion not in CRITERIA:
        raise ThresholdError(f"criterion={criterion!r} is not one of {', '.join(CRITERIA)}.")
    cost = None
    if criterion == "f1":
        objective = result.f1
    elif criterion == "youden":
        objective = result.youden_j
    elif criterion == "cost":
        if fp_cost < 0 or fn_cost < 0:
            raise ThresholdError("fp_cost and fn_cost must be >= 0.")
        cost = result.cost(fp_cost, fn_cost)
        objective = -cost
    else:
        if target is None or not 0 <= target <= 1:
            raise ThresholdError(f"criterion={criterion!r} needs target= between 0 and 1.")
        primary = result.precision if criterion == "precision" else result.recall
        secondary = result.recall if criterion == "precision" else result.precision
        feasible = primary >= target
        if criterion == "precision":
            feasible[0] = False  # predicting nothing positive has precision 1 by convention only
        if not feasible.any():
            reachable = primary[1:] if criterion == "precision" else primary
            best_reached = float(np.nanmax(reachable)) if reachable.size else float("nan")
            raise ThresholdError(
                f"no threshold reaches {criterion} >= {target}; the best is {best_reached:.4f}. "
                "Lower target= or improve the model."
            )
        objective = np.where(feasible, secondary, -np.inf)
    if np.isnan(objective).all():
        raise ThresholdError(
            f"criterion={criterion!r} is undefined: references hold a single class."
        )
    best = int(np.nanargmax(objective))  # first = highest threshold among ties
    return ThresholdChoice(
        criterion=criterion,
        threshold=float(result.thresholds[best]),
        precision=float(result.precision[best]),
        recall=float(result.recall[best]),
        f1=float(result.f1[best]),
        fpr=float(result.fpr[best]),
        youden_j=float(result.youden_j[best]),
        true_positives=float(result.true_positives[best]),
        false_positives=float(result.false_positives[best]),
        cost=None if cost is None else float(cost[best]),
    )


def downsample(points: int, limit: int = 200) -> NDArray[np.intp]:
    """At most ``limit`` evenly spaced indices of ``points``, first and last included."""
    if points <= limit:
        return np.arange(points, dtype=np.intp)
    return np.unique(np.linspace(0, points - 1, limit).round().astype(np.intp))
