"""Ranking metrics of scores: AUC-ROC, average precision, ROC and precision-recall curves.

For every metric here ``predictions`` are **scores** (probabilities or any real-valued
confidence): 1-D for a binary problem (the score of the positive class), (n, c) for c classes.
``references`` are the true labels. One ``argsort`` per binary problem; ties are handled by
grouping equal scores, as scikit-learn does.

The mergeable state (:class:`ScoreState`) is exact: it keeps every chunk's scores, labels and
weights until ``compute`` (memory: 8 bytes per score value, plus the label and, if given, an
8-byte weight per example; 1e8 binary rows take about 1.6 GB), so chunked results equal the
one-shot path exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_array,
    as_numbers,
    as_weights,
    check_ndim,
    check_no_missing_labels,
    check_same_length,
)
from modelops_core.evaluation.metrics import Metric
from modelops_metrics._labels import encode
from modelops_metrics._validation import MetricOptionError

Finish = Callable[[np.ndarray, np.ndarray, np.ndarray | None], Any]


def _optional_labels(labels: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return None if labels is None else tuple(labels)


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _validated(
    predictions: Any, references: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    scores = as_numbers(predictions, "predictions")
    actual = as_array(references, "references")
    length = check_same_length(scores, actual)
    check_ndim(actual, "references", hint="pass one label per example (1-D).")
    check_no_missing_labels(actual, "references", references)
    check_ndim(
        scores, "predictions", allowed=(1, 2), hint="pass 1-D scores or an (n, classes) matrix."
    )
    return scores, actual, as_weights(sample_weight, length)


@attrs.frozen(eq=False)
class ScoreState:
    """Mergeable, exact state of a ranking metric: the chunks themselves (copied).

    Memory grows with the data (see the module docstring); ``compute`` concatenates them.
    """

    finish: Finish
    chunks: tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None], ...] = ()

    def update(
        self, predictions: Sequence[Any], references: Sequence[Any], sample_weight: Any = None
    ) -> ScoreState:
        """This state plus one chunk (a new state; the chunk is copied)."""
        scores, actual, weights = _validated(predictions, references, sample_weight)
        chunk = (
            np.array(scores, copy=True),
            np.array(actual, copy=True),
            None if weights is None else np.array(weights, copy=True),
        )
        return attrs.evolve(self, chunks=(*self.chunks, chunk))

    def merge(self, other: ScoreState) -> ScoreState:  # type: ignore[override]
        """The state of both chunks together."""
        if not isinstance(other, ScoreState):
            raise MetricInputError(
                f"cannot merge a {type(other).__name__} into a ScoreState; merge states of the "
                "same metric."
            )
        return attrs.evolve(self, chunks=self.chunks + other.chunks)

    def compute(self) -> Any:
        """The metric over every chunk given so far."""
        if not self.chunks:
            raise MetricInputError("the state holds no examples; call update() with data first.")
        widths = {chunk[0].shape[1:] for chunk in self.chunks}
        if len(widths) > 1:
            raise MetricInputError(
                f"the chunks have predictions of different shapes {sorted(widths)}; pass the "
                "same score columns in every chunk."
            )
        scores = np.concatenate([chunk[0] for chunk in self.chunks])
        actual = np.concatenate([chunk[1] for chunk in self.chunks])
        if all(chunk[2] is None for chunk in self.chunks):
            weights = None
        else:
            weights = np.concatenate(
                [
                    np.ones(chunk[1].shape[0]) if chunk[2] is None else chunk[2]
                    for chunk in self.chunks
                ]
            )
        return self.finish(scores, actual, weights)


class _ScoreMetric(Metric):
    """``compute`` validates and calls the same ``_finish`` the state calls."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool | None]
    # predictions are scores: the evaluator passes the scores column, as numpy arrays
    needs_scores: ClassVar[bool] = True
    takes_arrays: ClassVar[bool] = True

    def _finish(self, scores: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> Any:
        raise NotImplementedError

    def state(self) -> ScoreState:
        """An empty, exact mergeable state (keeps the scores; see the module docstring)."""
        return ScoreState(self._finish)

    def compute(
        self, predictions: Sequence[Any], references: Sequence[Any], *, sample_weight: Any = None
    ) -> Any:
        """The metric of ``predictions`` (scores) against reference labels."""
        return self._finish(*_validated(predictions, references, sample_weight))


# --- the binary kernels -------------------------------------------------------------------------


def binary_auc(positive: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float:
    """Area under the ROC curve of 1-D ``scores`` for the boolean ``positive``; NaN if one class.

    The value is scikit-learn's, bit for bit: the same curve points (counts at each distinct
    score, descending; collinear points dropped as ``roc_curve(drop_intermediate=True)`` does),
    the same rates and the same trapezoid sum, so ``roc_auc_score`` and this agree exactly,
    ties (counted half) and weights included. Only the way to the counts differs: without
    weights, each class is sorted on its own and the two sorted runs are merged (a stable
    argsort of two runs is a linear merge), far cheaper than one stable argsort of every score.
    """
    if weights is not None:
        return _weighted_auc(positive, scores, weights)
    positive_scores = np.compress(positive, scores)
    negative_scores = np.compress(~positive, scores)
    total_positive, total_negative = positive_scores.shape[0], negative_scores.shape[0]
    if total_positive == 0 or total_negative == 0:
        return math.nan
    positive_scores.sort()
    negative_scores.sort()
    merged = np.concatenate([negative_scores, positive_scores])
    order = np.argsort(merged, kind="stable")
    # Negatives below each positive: its place in the merged order minus the positives before.
    below = np.flatnonzero(order >= total_negative)
    below -= np.arange(total_positive)
    if not _any_tie(positive_scores, negative_scores, below):
        return _area(*_corners_without_ties(below, total_negative))
    ordered = merged[order]
    # Ascending groups of equal scores start at ``starts``; the positives below a group are
    # the positives before its start.
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    positive_before = np.cumsum(order >= total_negative, dtype=np.int64)
    positive_below = np.concatenate(([0], positive_before[starts - 1]))
    starts = np.concatenate(([0], starts))
    # Counts at or above each threshold, thresholds descending (scikit-learn's order).
    true_positives = (total_positive - positive_below)[::-1].astype(np.float64)
    false_positives = (total_negative - (starts - positive_below))[::-1].astype(np.float64)
    return _area(*_corners(false_positives, true_positives))


def _any_tie(positive_scores: np.ndarray, negative_scores: np.ndarray, below: np.ndarray) -> bool:
    """Whether two scores are equal. Each class is sorted; ``below`` counts the negatives
    merged before each positive, equal ones included (they come first in the merge)."""
    if (positive_scores[1:] == positive_scores[:-1]).any():
        return True
    if (negative_scores[1:] == negative_scores[:-1]).any():
        return True
    after_one = below > 0
    return bool((negative_scores[below[after_one] - 1] == positive_scores[after_one]).any())


def _corners_without_ties(below: np.ndarray, total_negative: int) -> tuple[np.ndarray, np.ndarray]:
    """The points :func:`_corners` keeps, built from the runs of each class when no two scores
    are equal: going down the scores, each example is a step (1, 0) or (0, 1), and the points
    kept are the first one and the end of every run of one class."""
    total_positive = below.shape[0]
    # Runs of positives: positives with the same number of negatives below them (ascending).
    run_start = np.concatenate(([0], np.flatnonzero(below[1:] != below[:-1]) + 1))
    run_below = below[run_start]
    # Going down: the run of positives r ends with (N - below_r, P - start_r); the run of
    # negatives after it (down to the next run of positives) ends with (N - below_{r-1}, same).
    false_ends = np.empty(2 * run_start.shape[0] - 1, dtype=np.int64)
    true_ends = np.empty_like(false_ends)
    false_ends[0::2] = (total_negative - run_below)[::-1]
    true_ends[0::2] = (total_positive - run_start)[::-1]
    false_ends[1::2] = (total_negative - run_below[:-1])[::-1]
    true_ends[1::2] = true_ends[0:-1:2]
    parts_false, parts_true = [false_ends], [true_ends]
    top_negatives = total_negative - int(run_below[-1])
    first_run = top_negatives if top_negatives else total_positive - int(run_start[-1])
    if top_negatives:  # negatives above every positive: their run ends first
        parts_false.insert(0, np.array([top_negatives]))
        parts_true.insert(0, np.array([0]))
    if first_run > 1:  # the first point is kept even inside a run
        parts_false.insert(0, np.array([1 if top_negatives else 0]))
        parts_true.insert(0, np.array([0 if top_negatives else 1]))
    if run_below[0]:  # negatives below every positive: their run ends last
        parts_false.append(np.array([total_negative]))
        parts_true.append(np.array([total_positive]))
    return (
        np.concatenate(parts_false).astype(np.float64),
        np.concatenate(parts_true).astype(np.float64),
    )


def _corners(
    false_positives: np.ndarray, true_positives: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The points ``roc_curve(drop_intermediate=True)`` keeps of cumulative counts at
    descending thresholds: the first, the last, and each whose next step differs."""
    if false_positives.shape[0] <= 2:
        return false_positives, true_positives
    kept = np.flatnonzero(
        np.concatenate(
            (
                [True],
                np.logical_or(np.diff(false_positives, 2), np.diff(true_positives, 2)),
                [True],
            )
        )
    )
    return false_positives[kept], true_positives[kept]


def _area(false_positives: np.ndarray, true_positives: np.ndarray) -> float:
    """The area under the ROC curve through the kept points, with scikit-learn's operations
    (``roc_curve``'s rates from (0, 0), then ``auc``: scipy's trapezoid)."""
    false_positives = np.concatenate(([0.0], false_positives))
    true_positives = np.concatenate(([0.0], true_positives))
    false_rate = false_positives / false_positives[-1]
    true_rate = true_positives / true_positives[-1]
    terms = true_rate[1:] + true_rate[:-1]
    terms *= false_rate[1:] - false_rate[:-1]
    terms /= 2.0
    return float(np.sum(terms))


def _weighted_auc(positive: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """:func:`binary_auc` with sample weights, summed in scikit-learn's order (zero weights
    dropped, scores in a stable descending order) so the floating-point sums are the same."""
    keep = weights != 0
    positive, scores, weights = positive[keep], scores[keep], weights[keep]
    if not positive.any() or positive.all():
        return math.nan
    last = scores.shape[0] - 1
    # a stable descending argsort (equal scores keep their input order), as scikit-learn's
    order = last - np.argsort(scores[::-1], kind="stable")[::-1]
    ordered = scores[order]
    is_positive = positive[order].astype(np.float64)
    ordered_weights = weights[order]
    ends = np.append(np.flatnonzero(np.diff(ordered)), last)
    true_positives = np.cumsum(is_positive * ordered_weights)[ends]
    false_positives = np.cumsum((1 - is_positive) * ordered_weights)[ends]
    if true_positives[-1] <= 0 or false_positives[-1] <= 0:
        return math.nan
    return _area(*_corners(false_positives, true_positives))


def binary_curve_counts(
    positive: np.ndarray, scores: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(false positives, true positives, thresholds)`` at each distinct score, descending.

    Examples with zero weight are dropped first (as scikit-learn does).
    """
    if weights is not None:
        keep = weights != 0
        positive, scores, weights = positive[keep], scores[keep], weights[keep]
    # unstable sort is fine: equal scores form one group and only group ends are read
    order = np.argsort(scores)[::-1]
    ordered = scores[order]
    is_positive = positive[order].astype(np.float64)
    ends = np.append(np.flatnonzero(np.diff(ordered)), ordered.shape[0] - 1)
    if weights is None:
        true_positives = np.cumsum(is_positive)[ends]
        false_positives = 1 + ends - true_positives
    else:
        ordered_weights = weights[order]
        true_positives = np.cumsum(is_positive * ordered_weights)[ends]
        false_positives = np.cumsum((1 - is_positive) * ordered_weights)[ends]
    return false_positives, true_positives, ordered[ends]


def binary_average_precision(
    positive: np.ndarray, scores: np.ndarray, weights: np.ndarray | None
) -> float:
    """Average precision: ``sum_k (R_k - R_{k-1}) P_k`` over thresholds (no interpolation)."""
    false_positives, true_positives, _ = binary_curve_counts(positive, scores, weights)
    if true_positives.shape[0] == 0 or true_positives[-1] == 0:
        return 0.0
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / true_positives[-1]
    return float(max(0.0, np.dot(np.diff(recall, prepend=0.0), precision)))


def _resolve_pos_label(pos_label: Any, labels: np.ndarray, metric: str) -> Any:
    """scikit-learn's rule: None means 1 for labels in {0, 1} or {-1, 1}; otherwise say which."""
    if pos_label is not None:
        return pos_label
    values = set(labels.tolist())
    if labels.dtype.kind in "biuf" and (values <= {0, 1} or values <= {-1, 1}):
        return 1
    raise MetricOptionError(
        f"{metric}: references take values in {sorted(values, key=str)}; set pos_label to the "
        "positive class (labels {0, 1} or {-1, 1} need none)."
    )


def _classes(actual: np.ndarray, declared: tuple[Any, ...] | None, columns: int, metric: str):
    """``(classes, codes)`` of the references, checked against the number of score columns."""
    declared_array = None if declared is None else np.asarray(declared)
    classes, codes = encode(actual, declared_array, "references")
    if classes.shape[0] != columns:
        raise MetricInputError(
            f"{metric}: references hold {classes.shape[0]} classes {classes.tolist()} but "
            f"predictions have {columns} score columns; pass labels=[...] naming the class of "
            "each column."
        )
    return classes, codes


def _average_per_class(
    per_class: np.ndarray,
    support: np.ndarray,
    average: str | None,
    classes: np.ndarray,
) -> Any:
    """scikit-learn's ``_average_binary_score`` over per-class values."""
    if average is None:
        return {
            _python(label): float(value) for label, value in zip(classes, per_class, strict=True)
        }
    if average == "macro":
        return float(np.mean(per_class))
    if math.isclose(float(support.sum()), 0.0):
        return 0.0
    per_class = np.where(support == 0, 0.0, per_class)
    return float(np.average(per_class, weights=support))


def _class_support(codes: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64)


# --- metrics -----------------------------------------------------------------------------------


@attrs.frozen
class AUCROCMetric(_ScoreMetric):
    """Area under the ROC curve of scores (``predictions`` are scores, not labels).

    Binary: 1-D scores of the greater of the two labels. Multiclass: (n, c) probabilities
    (rows summing to 1), columns in the sorted order of the labels (or of ``labels``);
    ``multi_class="ovr"`` averages one-vs-rest AUCs, ``"ovo"`` averages the pairwise
    ``(AUC(a|b) + AUC(b|a)) / 2`` (Hand & Till 2001); ``average`` "macro", "weighted" (by
    support, or pair prevalence for ovo) or None (per class, ovr only). NaN when only one class
    is present. Reference: Fawcett (2006), "An introduction to ROC analysis";
    ``sklearn.metrics.roc_auc_score``.
    """

    name: ClassVar[str] = "auc_roc"
    higher_is_better: ClassVar[bool | None] = True
    multi_class: Literal["ovr", "ovo"] = "ovr"
    average: Literal["macro", "weighted"] | None = "macro"
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def __attrs_post_init__(self) -> None:
        if self.multi_class not in ("ovr", "ovo"):
            raise MetricOptionError(f"multi_class={self.multi_class!r}: use 'ovr' or 'ovo'.")
        if self.average not in ("macro", "weighted", None):
            raise MetricOptionError(f"average={self.average!r}: use 'macro', 'weighted' or None.")
        if self.average is None and self.multi_class == "ovo":
            raise MetricOptionError("average=None (per class) needs multi_class='ovr'.")

    def _finish(self, scores: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> Any:
        if scores.ndim == 1:
            classes, codes = encode(actual, None, "references")
            if classes.shape[0] > 2:
                raise MetricInputError(
                    f"auc_roc: references hold {classes.shape[0]} classes but predictions are "
                    "1-D; pass an (n, classes) matrix of probabilities."
                )
            if classes.shape[0] < 2:
                return math.nan
            return binary_auc(codes == 1, scores, weights)
        if not np.allclose(1, scores.sum(axis=1)):
            raise MetricInputError(
                "auc_roc: multiclass predictions must be probabilities whose rows sum to 1; "
                "apply a softmax first."
            )
        classes, codes = _classes(actual, self.labels, scores.shape[1], self.name)
        size = classes.shape[0]
        if self.multi_class == "ovr":
            per_class = np.array(
                [binary_auc(codes == c, scores[:, c], weights) for c in range(size)]
            )
            support = _class_support(codes, weights, size)
            return _average_per_class(per_class, support, self.average, classes)
        if weights is not None:
            raise MetricOptionError(
                "auc_roc: sample_weight is not supported with multi_class='ovo'; use 'ovr'."
            )
        present = np.unique(codes)
        pair_scores, prevalence = [], []
        for a, b in itertools.combinations(present, 2):
            in_pair = (codes == a) | (codes == b)
            pair_codes = codes[in_pair]
            a_score = binary_auc(pair_codes == a, scores[in_pair, a], None)
            b_score = binary_auc(pair_codes == b, scores[in_pair, b], None)
            pair_scores.append((a_score + b_score) / 2)
            prevalence.append(np.mean(in_pair))
        pair_weights = np.array(prevalence) if self.average == "weighted" else None
        return float(np.average(np.array(pair_scores), weights=pair_weights))


@attrs.frozen
class AveragePrecisionMetric(_ScoreMetric):
    """Average precision of scores (``predictions`` are scores, not labels).

    ``AP = sum_k (R_k - R_{k-1}) P_k`` over decreasing score thresholds, with no interpolation
    (0 when there is no positive). Binary: 1-D scores of ``pos_label``. Multiclass: (n, c)
    scores, columns in the sorted label order (or of ``labels``), one-vs-rest with ``average``
    "macro", "weighted", "micro" or None (per class).
    Reference: ``sklearn.metrics.average_precision_score``.
    """

    name: ClassVar[str] = "average_precision"
    higher_is_better: ClassVar[bool | None] = True
    average: Literal["macro", "weighted", "micro"] | None = "macro"
    pos_label: Any = 1
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def __attrs_post_init__(self) -> None:
        if self.average not in ("macro", "weighted", "micro", None):
            raise MetricOptionError(
                f"average={self.average!r}: use 'macro', 'weighted', 'micro' or None."
            )

    def _finish(self, scores: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> Any:
        if scores.ndim == 1:
            present = np.unique(actual)
            if present.shape[0] > 2:
                raise MetricInputError(
                    f"average_precision: references hold {present.shape[0]} classes but "
                    "predictions are 1-D; pass an (n, classes) score matrix."
                )
            if present.shape[0] == 2 and not (present == self.pos_label).any():
                raise MetricOptionError(
                    f"average_precision: pos_label={self.pos_label!r} is not one of "
                    f"{present.tolist()}; set pos_label to the positive class."
                )
            return binary_average_precision(actual == self.pos_label, scores, weights)
        classes, codes = _classes(actual, self.labels, scores.shape[1], self.name)
        size = classes.shape[0]
        if self.average == "micro":
            one_hot = (codes[:, None] == np.arange(size)).reshape(-1)
            repeated = None if weights is None else np.repeat(weights, size)
            return binary_average_precision(one_hot, scores.reshape(-1), repeated)
        per_class = np.array(
            [binary_average_precision(codes == c, scores[:, c], weights) for c in range(size)]
        )
        support = _class_support(codes, weights, size)
        return _average_per_class(per_class, support, self.average, classes)


@attrs.frozen
class ROCCurve(_ScoreMetric):
    """The ROC curve of binary scores (``predictions`` are scores of ``pos_label``).

    Returns ``{"fpr": [...], "tpr": [...], "thresholds": [...]}``: rates at each distinct
    threshold, decreasing, starting at ``(0, 0, inf)``; ``drop_intermediate`` removes collinear
    points. ``pos_label=None`` means 1 for labels {0, 1} or {-1, 1}.
    Reference: ``sklearn.metrics.roc_curve``.
    """

    name: ClassVar[str] = "roc_curve"
    higher_is_better: ClassVar[bool | None] = None
    pos_label: Any = None
    drop_intermediate: bool = True

    def _finish(self, scores: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> Any:
        positive = _binary_positive(scores, actual, self.pos_label, self.name)
        fps, tps, thresholds = binary_curve_counts(positive, scores, weights)
        if self.drop_intermediate and fps.shape[0] > 2:
            keep = np.flatnonzero(
                np.concatenate([[True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), [True]])
            )
            fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
        tps = np.concatenate([[0.0], tps])
        fps = np.concatenate([[0.0], fps])
        thresholds = np.concatenate([[np.inf], thresholds])
        fpr = np.full(fps.shape, np.nan) if fps[-1] <= 0 else fps / fps[-1]
        tpr = np.full(tps.shape, np.nan) if tps[-1] <= 0 else tps / tps[-1]
        return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()}


@attrs.frozen
class PRCurve(_ScoreMetric):
    """The precision-recall curve of binary scores (``predictions`` are scores of ``pos_label``).

    Returns ``{"precision": [...], "recall": [...], "thresholds": [...]}`` with thresholds
    increasing and a final point (precision 1, recall 0) that has no threshold.
    Reference: ``sklearn.metrics.precision_recall_curve``.
    """

    name: ClassVar[str] = "pr_curve"
    higher_is_better: ClassVar[bool | None] = None
    pos_label: Any = None

    def _finish(self, scores: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> Any:
        positive = _binary_positive(scores, actual, self.pos_label, self.name)
        fps, tps, thresholds = binary_curve_counts(positive, scores, weights)
        predicted = tps + fps
        precision = np.where(predicted != 0, tps / np.where(predicted != 0, predicted, 1), 0.0)
        recall = np.ones(tps.shape) if tps[-1] == 0 else tps / tps[-1]
        return {
            "precision": [*precision[::-1].tolist(), 1.0],
            "recall": [*recall[::-1].tolist(), 0.0],
            "thresholds": thresholds[::-1].tolist(),
        }


def _binary_positive(scores: np.ndarray, actual: np.ndarray, pos_label: Any, metric: str):
    if scores.ndim != 1:
        raise MetricInputError(
            f"{metric}: predictions has shape {scores.shape}; a curve needs 1-D scores of the "
            "positive class."
        )
    present = np.unique(actual)
    if present.shape[0] > 2 and pos_label is None:
        raise MetricOptionError(
            f"{metric}: references hold {present.shape[0]} classes; set pos_label to the class "
            "the scores are for."
        )
    return actual == _resolve_pos_label(pos_label, present, metric)
