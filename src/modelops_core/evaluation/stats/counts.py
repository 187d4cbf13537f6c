"""Label metrics computed from many confusion matrices at once (one row per bootstrap replicate).

A table row holds the ``k * k`` counts of (reference, prediction) pairs, reference-major:
``table[r * k + p]``. The formulas are scikit-learn's (``precision_recall_fscore_support``),
vectorized over the rows; ``zero_division`` fills undefined ratios.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
AVERAGES = ("binary", "micro", "macro", "weighted")
KINDS = ("precision", "recall", "f1")


def encode_pairs(
    predictions: NDArray[Any], references: NDArray[Any], labels: NDArray[Any] | None = None
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """Cell codes ``reference * k + prediction`` and the sorted labels (declared or seen)."""
    if labels is None:
        labels = np.unique(np.concatenate([references, predictions]))
    index_reference = np.searchsorted(labels, references)
    index_prediction = np.searchsorted(labels, predictions)
    k = labels.shape[0]
    return (index_reference * k + index_prediction).astype(np.intp), labels


def accuracy_of_tables(tables: NDArray[Any], k: int) -> FloatArray:
    """Share of the diagonal in each row of ``tables`` (shape ``(m, k * k)``)."""
    matrices = tables.reshape(-1, k, k)
    correct = np.trace(matrices, axis1=1, axis2=2)
    total = matrices.sum(axis=(1, 2))
    result: FloatArray = correct / np.where(total == 0, 1, total)
    return result


def share_of_ones(tables: NDArray[Any]) -> FloatArray:
    """For two-cell tables (0 = miss, 1 = hit): hits over total."""
    total = tables.sum(axis=1)
    result: FloatArray = tables[:, 1] / np.where(total == 0, 1, total)
    return result


@attrs.frozen
class PRFStatistic:
    """Precision, recall or F1 of each confusion-matrix row, with scikit-learn's averaging.

    :param kind: ``precision``, ``recall`` or ``f1``.
    :param average: ``binary``, ``micro``, ``macro`` or ``weighted``.
    :param k: number of labels; ``positive``: index of the positive label (binary).
    :param declared: whether labels were declared (then every label counts in averages,
        as in scikit-learn with ``labels=``; otherwise only labels present in the row).
    """

    kind: str
    average: str
    k: int
    positive: int = 1
    declared: bool = False
    zero_division: float = 0.0

    def __call__(self, tables: NDArray[Any]) -> FloatArray:
        matrices = tables.reshape(-1, self.k, self.k).astype(np.float64)
        true_positive = np.diagonal(matrices, axis1=1, axis2=2)
        predicted = matrices.sum(axis=1)  # column sums
        actual = matrices.sum(axis=2)  # row sums
        if self.average == "micro":
            true_positive = true_positive.sum(axis=1, keepdims=True)
            predicted = predicted.sum(axis=1, keepdims=True)
            actual = actual.sum(axis=1, keepdims=True)
        values = self._ratio(true_positive, predicted, actual)
        if self.average == "micro":
            result: FloatArray = values[:, 0]
            return result
        if self.average == "binary":
            result = values[:, self.positive]
            return result
        present = np.ones_like(values, dtype=bool) if self.declared else (predicted + actual) > 0
        if self.average == "macro":
            weights = present.astype(np.float64)
        else:
            weights = np.where(present, actual, 0.0)
        return _nan_weighted_mean(values, weights, present)

    def _ratio(self, tp: FloatArray, predicted: FloatArray, actual: FloatArray) -> FloatArray:
        if self.kind == "precision":
            numerator, denominator = tp, predicted
        elif self.kind == "recall":
            numerator, denominator = tp, actual
        else:
            numerator, denominator = 2 * tp, predicted + actual
        empty = denominator == 0
        result: FloatArray = np.where(
            empty, self.zero_division, numerator / np.where(empty, 1, denominator)
        )
        return result


def _nan_weighted_mean(
    values: FloatArray, weights: FloatArray, present: NDArray[Any]
) -> FloatArray:
    """Row-wise weighted mean ignoring NaN values; unweighted when the weights sum to zero."""
    usable = present & ~np.isnan(values)
    filled = np.where(usable, values, 0.0)
    weight = np.where(usable, weights, 0.0)
    total = weight.sum(axis=1)
    plain = usable.sum(axis=1)
    weighted = (filled * weight).sum(axis=1) / np.where(total == 0, 1, total)
    unweighted = filled.sum(axis=1) / np.where(plain == 0, 1, plain)
    result: FloatArray = np.where(total > 0, weighted, np.where(plain > 0, unweighted, np.nan))
    return result
