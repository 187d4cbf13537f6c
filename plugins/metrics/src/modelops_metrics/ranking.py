"""Ranking metrics of scores: AUC-ROC, average precision, ROC and precision-recall curves.

For every metric here ``predictions`` are **scores** (probabilities or any real-valued
confidence): 1-D for a binary problem (the score of the positive class), (n, c) for c classes.
``references`` are the true labels. One sort per binary problem; ties are handled by grouping
equal scores, as scikit-learn does. Without weights, AUC-ROC and average precision sort 8-byte
keys that order as the scores and carry the label in their lowest bit (numpy's SIMD sort of
integers, no argsort and no gathers); weights and the curves take an ``argsort``. AUC-ROC is
``roc_auc_score``'s value bit for bit on every path (see :func:`binary_auc`).

The mergeable state (:class:`ScoreState`) is exact: it keeps every chunk's scores, labels and
weights until ``compute`` (memory: 8 bytes per score value, plus the label and, if given, an
8-byte weight per example; 1e8 binary rows take about 1.6 GB), so chunked results equal the
one-shot path exactly.
"""

from __future__ import annotations

import itertools
import math
import sys
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

    def merge(self, other: ScoreState) -> ScoreState:
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
    weights, one unstable sort of 8-byte keys (numpy's SIMD sort) replaces scikit-learn's
    stable argsort; each key orders like its score and carries the label in its lowest bit
    (see :func:`_sorted_keys`).
    """
    if weights is not None:
        return _weighted_auc(positive, scores, weights)
    positive = np.asarray(positive, dtype=np.bool_)
    size = positive.shape[0]
    total_positive = int(np.count_nonzero(positive))
    total_negative = size - total_positive
    if total_positive == 0 or total_negative == 0:
        return math.nan
    labels, changes = _labels_in_order(positive, scores)
    if not changes.all():
        return _auc_with_ties(positive, scores, changes, labels)
    return _auc_without_ties(labels, total_positive)


# The byte of a uint64 that holds its lowest bit, and the masks of :func:`_sorted_keys`.
_LOW_BYTE = 0 if sys.byteorder == "little" else 7
_ONE = np.uint64(1)
_SIGN = np.uint64(1 << 63)
_NOT_SIGN = np.uint64((1 << 63) - 1)
_NOT_ONE = np.uint64((1 << 64) - 2)


def _order_keys(scores: np.ndarray) -> np.ndarray:
    """uint64 keys that order as the finite or infinite ``scores`` do (a new array): the
    float's bits, the sign bit flipped for scores >= 0 and every bit for negative ones.
    -0.0 becomes 0.0 first (they are equal scores, so their keys must be equal)."""
    keys: np.ndarray = np.add(scores, 0.0, dtype=np.float64).view(np.uint64)
    if scores.min() < 0:
        np.bitwise_xor(keys, _NOT_SIGN, out=keys, where=keys >= _SIGN)
        np.bitwise_xor(keys, _SIGN, out=keys)
    return keys


def _sorted_keys(positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The sorted keys of :func:`_order_keys` with the lowest bit replaced by the label.

    Two scores then sort in their order unless their keys differ only in the lowest bit
    (equal scores, or two floats one unit in the last place apart): those sort by label, and
    the caller sees them as equal top 63 bits, and checks which they are.
    """
    keys = _order_keys(scores)
    np.bitwise_and(keys, _NOT_ONE, out=keys)
    np.bitwise_or(keys, positive.view(np.uint8), out=keys)
    keys.sort()
    return keys


def _labels_in_order(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, changes)`` from the sorted keys of :func:`_sorted_keys`: the labels (0 or 1,
    uint8) in ascending key order, and whether the top 63 bits of key ``j + 1`` differ from
    key ``j``'s (all True: no two scores are equal)."""
    keys = _sorted_keys(positive, scores)
    labels = np.bitwise_and(keys.view(np.uint8)[_LOW_BYTE::8], 1)
    np.right_shift(keys, _ONE, out=keys)
    return labels, keys[1:] != keys[:-1]


def _auc_without_ties(labels: np.ndarray, total_positive: int) -> float:
    """:func:`binary_auc` when no two scores are equal, from the labels in ascending score
    order: going down the scores each example is a step (1, 0) or (0, 1), and the points
    ``roc_curve`` keeps are the first one and the last of every run of one label.

    The counts are built in place in the two arrays of points (on large inputs the page faults
    of every new array cost as much as the arithmetic)."""
    size = labels.shape[0]
    down = labels[::-1]
    top = int(down[0])
    # going down, the runs of one label end at ``ends`` (and at the last example)
    ends = np.flatnonzero(down[1:] != down[:-1])
    runs = ends.shape[0] + 1
    # the points after (0, 0): the top example alone unless it ends a run, then each run end
    first = 1 if runs > 1 and ends[0] == 0 else 2
    count = first + runs
    false_positives = np.empty(count, dtype=np.float64)
    true_positives = np.empty(count, dtype=np.float64)
    at_ends = slice(first, count)
    # examples down to each run end, then the run lengths, then positives down to each end
    # (the positive runs are every other one, from the top one's label): exact integers
    np.add(ends, 1, out=false_positives[first:-1])
    false_positives[-1] = size
    true_positives[first] = false_positives[first]
    np.subtract(
        false_positives[first + 1 :], false_positives[first:-1], out=true_positives[first + 1 :]
    )
    true_positives[first + top :: 2] = 0.0
    np.cumsum(true_positives[at_ends], out=true_positives[at_ends])
    false_positives[at_ends] -= true_positives[at_ends]
    false_positives[0] = true_positives[0] = 0.0
    if first == 2:
        true_positives[1] = top
        false_positives[1] = 1 - top
    return _area_in_place(false_positives, true_positives)


def _auc_with_ties(
    positive: np.ndarray, scores: np.ndarray, changes: np.ndarray, labels: np.ndarray
) -> float:
    """:func:`binary_auc` when two sorted keys share their top 63 bits (see
    :func:`_grouped_counts`)."""
    counts = _grouped_counts(scores, changes, labels)
    if counts is None:
        counts = binary_curve_counts(positive, scores, None)[:2]
    return _area_in_place(*_kept_points(*counts))


def _unweighted_counts(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(false positives, true positives)`` at each distinct score, descending, as floats
    (exact integers): :func:`binary_curve_counts` without weights, from one sort of keys."""
    labels, changes = _labels_in_order(np.asarray(positive, dtype=np.bool_), scores)
    counts = _grouped_counts(scores, changes, labels)
    if counts is None:
        return binary_curve_counts(positive, scores, None)[:2]
    return counts


def _grouped_counts(
    scores: np.ndarray, changes: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(false positives, true positives)`` at each distinct score, descending, from the
    sorted keys of :func:`_sorted_keys`: ``labels`` in ascending key order, ``changes[j]``
    whether the top 63 bits of key ``j + 1`` differ from key ``j``'s. Groups of equal top bits
    are groups of equal scores unless two scores one unit in the last place apart share them:
    then None (the caller sorts the scores themselves)."""
    if not changes.all() and _neighbours_share_keys(scores):
        return None
    size = labels.shape[0]
    # ascending, the groups of equal scores end at ``ends`` (and the last example); going
    # down, scikit-learn's counts at each distinct threshold are those above a group's end
    ends = np.flatnonzero(changes)[::-1]
    groups = ends.shape[0] + 1
    false_positives = np.empty(groups, dtype=np.float64)
    true_positives = np.empty(groups, dtype=np.float64)
    positive_up_to = np.cumsum(labels, dtype=np.int32 if size < 2**31 else np.int64)
    np.subtract(
        positive_up_to[-1], np.take(positive_up_to, ends, mode="clip"), out=true_positives[:-1]
    )
    true_positives[-1] = positive_up_to[-1]
    del positive_up_to
    np.subtract(size - 1, ends, out=false_positives[:-1])
    false_positives[-1] = size
    false_positives -= true_positives
    return false_positives, true_positives


def _neighbours_share_keys(scores: np.ndarray) -> bool:
    """Whether two different scores differ only in their lowest bit (one unit in the last
    place apart, same sign), so that :func:`_sorted_keys` gave them the same top 63 bits.
    Only when the lowest bits of the scores are not all alike are the full keys sorted."""
    lowest = np.bitwise_and(
        np.ascontiguousarray(scores, dtype=np.float64).view(np.uint8)[_LOW_BYTE::8], 1
    )
    if lowest.all() or not lowest.any():
        return False
    ordered = _order_keys(scores)
    ordered.sort()
    return bool((np.bitwise_xor(ordered[1:], ordered[:-1]) == _ONE).any())


def _kept_points(
    false_positives: np.ndarray, true_positives: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Of cumulative counts at descending thresholds, the points
    ``roc_curve(drop_intermediate=True)`` keeps (the first, the last, and each whose next step
    differs from the step to it: ``np.diff(counts, 2) != 0``), after (0, 0), in new arrays."""
    count = false_positives.shape[0]
    if count <= 2:
        kept = np.arange(count)
    else:
        steps = np.diff(false_positives)
        turns = steps[1:] != steps[:-1]
        np.subtract(true_positives[1:], true_positives[:-1], out=steps)
        turns |= steps[1:] != steps[:-1]
        del steps
        kept = np.flatnonzero(turns)
        kept += 1
    points = kept.shape[0] + 2 if count > 2 else count
    false_kept = np.empty(points + 1, dtype=np.float64)
    true_kept = np.empty(points + 1, dtype=np.float64)
    false_kept[0] = true_kept[0] = 0.0
    if count > 2:
        false_kept[1], true_kept[1] = false_positives[0], true_positives[0]
        np.take(false_positives, kept, out=false_kept[2:-1], mode="clip")
        np.take(true_positives, kept, out=true_kept[2:-1], mode="clip")
        false_kept[-1], true_kept[-1] = false_positives[-1], true_positives[-1]
    else:
        false_kept[1:] = false_positives
        true_kept[1:] = true_positives
    return false_kept, true_kept


def _area_in_place(false_positives: np.ndarray, true_positives: np.ndarray) -> float:
    """The area under the ROC curve through points that start at (0, 0), with scikit-learn's
    operations (``roc_curve``'s rates, then ``auc``: numpy's trapezoid, a pairwise sum), so
    the same points give the same bits. Overwrites both arrays (fewer large temporaries: on
    large inputs their page faults cost as much as the arithmetic)."""
    false_positives /= false_positives[-1]
    true_positives /= true_positives[-1]
    terms = true_positives[1:] + true_positives[:-1]
    widths = np.subtract(false_positives[1:], false_positives[:-1], out=true_positives[:-1])
    terms *= widths
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
    return _area_in_place(*_kept_points(false_positives, true_positives))


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
    if weights is None:
        false_positives, true_positives = _unweighted_counts(positive, scores)
    else:
        false_positives, true_positives, _ = binary_curve_counts(positive, scores, weights)
    if true_positives.shape[0] == 0 or true_positives[-1] == 0:
        return 0.0
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / true_positives[-1]
    return float(max(0.0, np.einsum("i,i->", np.diff(recall, prepend=0.0), precision)))


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


def _classes(
    actual: np.ndarray, declared: tuple[Any, ...] | None, columns: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
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
            positive = _greater_label(actual)
            if positive is None:
                return math.nan
            return binary_auc(positive, scores, weights)
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


def _distinct_labels(actual: np.ndarray) -> np.ndarray:
    """The sorted distinct labels of 1-D references (``np.unique``), without sorting them
    when they are numbers or booleans of one or two values (a ``min``, a ``max`` and, when
    other numbers could lie between them, one more pass), the common case of binary metrics."""
    if actual.dtype.kind in "biuf":
        low, high = actual.min(), actual.max()
        if low == high:
            return np.array([low], dtype=actual.dtype)
        integers = actual.dtype.kind in "iu" and int(high) - int(low) == 1
        if actual.dtype.kind == "b" or integers or not ((actual > low) & (actual < high)).any():
            return np.array([low, high], dtype=actual.dtype)
    distinct: np.ndarray = np.unique(actual)
    return distinct


def _greater_label(actual: np.ndarray) -> np.ndarray | None:
    """Which references are the greater of their two labels; None if there is one label."""
    if actual.dtype.kind in "biuf":
        classes = _distinct_labels(actual)
        if classes.shape[0] == 2:
            positive: np.ndarray = np.equal(actual, classes[1])
            return positive
    else:
        classes, codes = encode(actual, None, "references")
        if classes.shape[0] == 2:
            positive = np.equal(codes, 1)
            return positive
    if classes.shape[0] < 2:
        return None
    raise MetricInputError(
        f"auc_roc: references hold {classes.shape[0]} classes but predictions are 1-D; pass an "
        "(n, classes) matrix of probabilities."
    )


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
            present = _distinct_labels(actual)
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


def _binary_positive(
    scores: np.ndarray, actual: np.ndarray, pos_label: Any, metric: str
) -> np.ndarray:
    if scores.ndim != 1:
        raise MetricInputError(
            f"{metric}: predictions has shape {scores.shape}; a curve needs 1-D scores of the "
            "positive class."
        )
    present = _distinct_labels(actual)
    if present.shape[0] > 2 and pos_label is None:
        raise MetricOptionError(
            f"{metric}: references hold {present.shape[0]} classes; set pos_label to the class "
            "the scores are for."
        )
    positive: np.ndarray = actual == _resolve_pos_label(pos_label, present, metric)
    return positive
