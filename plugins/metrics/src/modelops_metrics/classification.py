"""Classification metrics: label metrics computed from one confusion matrix, and probability losses.

Calling convention (every metric):
``metric.compute(predictions, references, *, sample_weight=None)``
with the predictions first; options go to the constructor, e.g.
``F1Metric(average="macro").compute(predictions=p, references=r)``.

Every metric has a mergeable state: ``metric.state().update(p1, r1).update(p2, r2).compute()``
equals ``metric.compute(p1 + p2, r1 + r2)``. Label metrics keep the (weighted) confusion matrix
(k x k numbers, whatever the number of rows); labels found in different chunks are merged.
Results equal scikit-learn's (``sklearn.metrics``) to 1e-12 on the same inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_array,
    as_numbers,
    as_weights,
    check_comparable,
    check_probabilities,
    check_same_length,
    check_weighted_total,
)
from modelops_core.evaluation.metrics import Metric
from modelops_metrics._labels import count_pairs, encode, union_labels
from modelops_metrics._validation import MetricOptionError, as_label_arrays

Average = Literal["binary", "micro", "macro", "weighted"] | None
_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _optional_labels(labels: Sequence[Any] | None) -> tuple[Any, ...] | None:
    """``labels`` as a tuple (hashable, immutable), or None."""
    return None if labels is None else tuple(labels)


def _declared_array(labels: tuple[Any, ...] | None) -> np.ndarray | None:
    if labels is None:
        return None
    declared = np.asarray(labels)
    if declared.ndim != 1 or declared.shape[0] == 0:
        raise MetricOptionError(f"labels={list(labels)!r} must be a non-empty list of labels.")
    if np.unique(declared).shape[0] != declared.shape[0]:
        raise MetricOptionError(f"labels={list(labels)!r} contains a label twice; list each once.")
    return declared


def _python(value: Any) -> Any:
    """A numpy scalar as the equal Python scalar (for result keys and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# --- the confusion-matrix state ----------------------------------------------------------------


@attrs.frozen(eq=False)
class ConfusionState:
    """Mergeable state of a label metric: the (weighted) confusion matrix over the labels seen.

    ``counts[i, j]`` is the weight of examples with reference ``labels[i]`` predicted as
    ``labels[j]``; ``seen`` marks labels occurring in the data (declared labels may not occur).
    Memory: k x k numbers for k labels, independent of the number of examples.
    """

    finish: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]
    declared: np.ndarray | None = None
    labels: np.ndarray | None = None
    counts: np.ndarray | None = None
    seen: np.ndarray | None = None
    examples: int = 0

    def update(
        self, predictions: Sequence[Any], references: Sequence[Any], sample_weight: Any = None
    ) -> ConfusionState:
        """This state plus one chunk of predictions and references (a new state)."""
        predicted, actual = as_label_arrays(predictions, references)
        weights = as_weights(sample_weight, actual.shape[0])
        labels, counts, seen = count_pairs(predicted, actual, weights, self.declared)
        chunk = attrs.evolve(
            self, labels=labels, counts=counts, seen=seen, examples=actual.shape[0]
        )
        return self.merge(chunk)

    def merge(self, other: ConfusionState) -> ConfusionState:
        """The state of both chunks together; labels discovered in either are united."""
        if not isinstance(other, ConfusionState):
            raise MetricInputError(
                f"cannot merge a {type(other).__name__} into a ConfusionState; merge states of "
                "the same metric."
            )
        if other.labels is None or other.counts is None or other.seen is None:
            return self
        if self.labels is None or self.counts is None or self.seen is None:
            return attrs.evolve(
                self,
                labels=other.labels,
                counts=other.counts,
                seen=other.seen,
                examples=other.examples,
            )
        if self.declared is not None:
            if other.labels.shape != self.labels.shape or not np.array_equal(
                other.labels, self.labels
            ):
                raise MetricInputError(
                    "cannot merge states built with different `labels`; use one metric "
                    "configuration for every chunk."
                )
            return attrs.evolve(
                self,
                counts=self.counts + other.counts,
                seen=self.seen | other.seen,
                examples=self.examples + other.examples,
            )
        labels = union_labels(self.labels, other.labels)
        size = labels.shape[0]
        dtype = np.result_type(self.counts.dtype, other.counts.dtype)
        counts = np.zeros((size, size), dtype=dtype)
        seen = np.zeros(size, dtype=bool)
        for part in (self, other):
            assert part.labels is not None and part.counts is not None and part.seen is not None
            index = np.searchsorted(labels, part.labels)
            counts[np.ix_(index, index)] += part.counts
            seen[index] |= part.seen
        return attrs.evolve(
            self, labels=labels, counts=counts, seen=seen, examples=self.examples + other.examples
        )

    def compute(self) -> Any:
        """The metric over every chunk given so far."""
        if self.labels is None or self.counts is None or self.seen is None:
            raise MetricInputError("the state holds no examples; call update() with data first.")
        return self.finish(self.labels, self.counts, self.seen)


class _LabelMetric(Metric):
    """Shared plumbing: ``compute`` is ``state().update(...).compute()``, so both agree."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool | None]
    takes_arrays: ClassVar[bool] = True  # the evaluator passes numpy arrays
    labels: tuple[Any, ...] | None

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> Any:
        raise NotImplementedError

    def state(self) -> ConfusionState | MatchState:
        """An empty mergeable state (the confusion matrix; accuracy may count matches only)."""
        return ConfusionState(self._finish, _declared_array(self.labels))

    def compute(
        self, predictions: Sequence[Any], references: Sequence[Any], *, sample_weight: Any = None
    ) -> Any:
        """The metric of predicted labels against reference labels."""
        return self.state().update(predictions, references, sample_weight).compute()


def _total(counts: np.ndarray, metric: str) -> float:
    total = float(counts.sum())
    check_weighted_total(total, metric)
    return total


def _check_zero_division(value: float) -> None:
    if not (value in (0.0, 1.0) or math.isnan(value)):
        raise MetricOptionError(f"zero_division={value!r} must be 0.0, 1.0 or float('nan').")


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    """``numerator / denominator`` with ``zero_division`` where the denominator is 0."""
    empty = denominator == 0
    result = np.asarray(numerator, dtype=np.float64) / np.where(empty, 1, denominator)
    result[empty] = zero_division
    return result


def _nan_average(values: np.ndarray, weights: np.ndarray | None) -> float:
    """Average ignoring NaN (scikit-learn's ``_nanaverage``), unweighted if weights sum to 0."""
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    if weights is not None and float(weights[keep].sum()) != 0:
        return float(np.average(values[keep], weights=weights[keep]))
    return float(values[keep].mean())


# --- metrics from the confusion matrix ---------------------------------------------------------


@attrs.frozen
class AccuracyMetric(_LabelMetric):
    """Share of examples whose predicted label equals the reference label.

    ``accuracy = sum_i w_i [prediction_i == reference_i] / sum_i w_i``.
    Reference: ``sklearn.metrics.accuracy_score``.

    >>> AccuracyMetric().compute(predictions=[1, 0, 1, 1], references=[1, 0, 0, 1])
    0.75
    """

    name: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool | None] = True
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def state(self) -> ConfusionState | MatchState:
        """An empty mergeable state: matched and total weight (no confusion matrix needed),
        or the confusion matrix when ``labels`` are declared (to refuse unknown labels)."""
        return MatchState() if self.labels is None else super().state()

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> float:
        return float(np.trace(counts)) / _total(counts, self.name)


@attrs.frozen(eq=False)
class MatchState:
    """Mergeable state of accuracy: the weight of matching examples and the total weight."""

    matched: float = 0.0
    total: float = 0.0
    examples: int = 0

    def update(
        self, predictions: Sequence[Any], references: Sequence[Any], sample_weight: Any = None
    ) -> MatchState:
        """This state plus one chunk (a new state)."""
        predicted, actual = as_label_arrays(predictions, references)
        check_comparable(predicted, actual)
        weights = as_weights(sample_weight, actual.shape[0])
        same = predicted == actual
        if weights is None:
            matched, total = float(np.count_nonzero(same)), float(actual.shape[0])
        else:
            matched, total = float(weights[same].sum()), float(weights.sum())
        return MatchState(self.matched + matched, self.total + total, self.examples + len(actual))

    def merge(self, other: MatchState) -> MatchState:
        """The state of both chunks together."""
        if not isinstance(other, MatchState):
            raise MetricInputError(
                f"cannot merge a {type(other).__name__} into a MatchState; merge states of the "
                "same metric."
            )
        return MatchState(
            self.matched + other.matched, self.total + other.total, self.examples + other.examples
        )

    def compute(self) -> float:
        """Accuracy over every chunk given so far."""
        if self.examples == 0:
            raise MetricInputError("the state holds no examples; call update() with data first.")
        check_weighted_total(self.total, AccuracyMetric.name)
        return self.matched / self.total


@attrs.frozen
class BalancedAccuracyMetric(_LabelMetric):
    """Mean recall over the classes present in the references.

    ``balanced = mean_c TP_c / (TP_c + FN_c)`` over classes with references; with
    ``adjusted=True`` rescaled so chance is 0: ``(balanced - 1/C) / (1 - 1/C)``.
    Reference: Brodersen et al. (2010), "The balanced accuracy and its posterior distribution";
    ``sklearn.metrics.balanced_accuracy_score``.
    """

    name: ClassVar[str] = "balanced_accuracy"
    higher_is_better: ClassVar[bool | None] = True
    adjusted: bool = False
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> float:
        _total(counts, self.name)
        true_sum = counts.sum(axis=1)
        present = true_sum != 0
        per_class = np.diag(counts)[present] / true_sum[present]
        score = float(per_class.mean())
        if self.adjusted:
            chance = 1 / per_class.shape[0]
            score = (score - chance) / (1 - chance)
        return score


@attrs.frozen
class _PRFMetric(_LabelMetric):
    """Precision, recall and F1 share their options and their averaging."""

    average: Average = "binary"
    pos_label: Any = 1
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)
    zero_division: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.average not in _AVERAGES:
            raise MetricOptionError(
                f"average={self.average!r} is not supported; use one of 'binary', 'micro', "
                "'macro', 'weighted' or None (per class)."
            )
        _check_zero_division(self.zero_division)

    higher_is_better: ClassVar[bool | None] = True

    def _scores(self, tp: np.ndarray, pred_sum: np.ndarray, true_sum: np.ndarray) -> np.ndarray:
        """Per class: precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)`` or F1
        ``2 TP / (2 TP + FP + FN)``, chosen by the metric's name; the rest is shared."""
        tp = np.asarray(tp, dtype=np.float64)
        if self.name == "precision":
            return _divide(tp, pred_sum, self.zero_division)
        if self.name == "recall":
            return _divide(tp, true_sum, self.zero_division)
        denominator = np.asarray(true_sum, dtype=np.float64) + pred_sum
        return _divide(2.0 * tp, denominator, self.zero_division)

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> Any:
        _total(counts, self.name)
        tp = np.diag(counts)
        pred_sum = counts.sum(axis=0)
        true_sum = counts.sum(axis=1)
        if self.average == "binary":
            present = labels[seen]
            if present.shape[0] > 2:
                raise MetricOptionError(
                    f"{self.name}: the data hold {present.shape[0]} labels but average='binary' "
                    "needs at most two; choose average='macro', 'micro', 'weighted' or None."
                )
            is_positive = labels == self.pos_label
            if not is_positive[seen].any() and present.shape[0] == 2:
                raise MetricOptionError(
                    f"{self.name}: pos_label={self.pos_label!r} is not one of the labels "
                    f"{present.tolist()}; set pos_label to the positive class."
                )
            if not is_positive.any():
                return float(self._scores(np.zeros(1), np.zeros(1), np.zeros(1))[0])
            index = np.flatnonzero(is_positive)[:1]
            return float(self._scores(tp[index], pred_sum[index], true_sum[index])[0])
        if self.average == "micro":
            return float(
                self._scores(
                    np.array([tp.sum()]), np.array([pred_sum.sum()]), np.array([true_sum.sum()])
                )[0]
            )
        per_class = self._scores(tp, pred_sum, true_sum)
        if self.average is None:
            return {
                _python(label): float(value) for label, value in zip(labels, per_class, strict=True)
            }
        weights = true_sum if self.average == "weighted" else None
        return _nan_average(per_class, weights)


class PrecisionMetric(_PRFMetric):
    """Share of predicted positives that are positive: ``TP / (TP + FP)``, per class, averaged.

    ``average``: "binary" (the ``pos_label`` class), "micro" (global counts), "macro" (mean over
    labels), "weighted" (mean weighted by support) or None (a dict label -> value).
    ``zero_division`` is the value when a class has no predictions. ``labels`` declares the
    classes (and their order); a label outside them is an error.
    Reference: ``sklearn.metrics.precision_score``.

    >>> PrecisionMetric().compute(predictions=[1, 1, 1, 0], references=[1, 0, 1, 0])
    0.6666666666666666
    """

    name: ClassVar[str] = "precision"


class RecallMetric(_PRFMetric):
    """Share of positives predicted positive: ``TP / (TP + FN)``, per class, averaged.

    Options as :class:`PrecisionMetric`; ``zero_division`` is the value for a class without
    references. Reference: ``sklearn.metrics.recall_score``.

    >>> RecallMetric().compute(predictions=[1, 1, 1, 0], references=[1, 0, 1, 0])
    1.0
    """

    name: ClassVar[str] = "recall"


class F1Metric(_PRFMetric):
    """Harmonic mean of precision and recall: ``2 TP / (2 TP + FP + FN)``, per class, averaged.

    Options as :class:`PrecisionMetric`; ``zero_division`` is the value for a class with
    neither references nor predictions. Reference: ``sklearn.metrics.f1_score``.

    >>> F1Metric(average="macro").compute(predictions=[0, 1, 2, 2], references=[0, 1, 1, 2])
    0.7777777777777777
    """

    name: ClassVar[str] = "f1"


@attrs.frozen
class ConfusionMatrix(_LabelMetric):
    """Counts of (reference, prediction) label pairs: ``matrix[i][j]`` = references ``labels[i]``
    predicted as ``labels[j]``.

    Returns ``{"labels": [...], "matrix": [[...], ...]}``; ``normalize`` divides by the row
    ("true"), column ("pred") or overall ("all") sums (0 where a sum is 0).
    Reference: ``sklearn.metrics.confusion_matrix``.
    """

    name: ClassVar[str] = "confusion_matrix"
    higher_is_better: ClassVar[bool | None] = None
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)
    normalize: Literal["true", "pred", "all"] | None = None

    def __attrs_post_init__(self) -> None:
        if self.normalize not in ("true", "pred", "all", None):
            raise MetricOptionError(
                f"normalize={self.normalize!r} is not supported; use 'true', 'pred', 'all' or None."
            )

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> Any:
        matrix: np.ndarray = counts
        if self.normalize is not None:
            if self.normalize == "true":
                sums = counts.sum(axis=1, keepdims=True)
            elif self.normalize == "pred":
                sums = counts.sum(axis=0, keepdims=True)
            else:
                sums = counts.sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                matrix = np.nan_to_num(counts / sums)
        return {"labels": labels.tolist(), "matrix": matrix.tolist()}


@attrs.frozen
class MCCMetric(_LabelMetric):
    """Matthews correlation coefficient (multiclass form), in [-1, 1].

    With ``t_k``/``p_k`` the reference/prediction totals of class k, ``c`` the correct count
    and ``s`` the total: ``(c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t))``; 0 when undefined.
    Reference: Gorodkin (2004), "Comparing two K-category assignments by a K-category
    correlation coefficient"; ``sklearn.metrics.matthews_corrcoef``.
    """

    name: ClassVar[str] = "mcc"
    higher_is_better: ClassVar[bool | None] = True
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> float:
        _total(counts, self.name)
        t_sum = counts.sum(axis=1, dtype=np.float64)
        p_sum = counts.sum(axis=0, dtype=np.float64)
        n_correct = np.trace(counts, dtype=np.float64)
        n_samples = p_sum.sum()
        cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
        cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
        cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
        product = cov_ypyp * cov_ytyt
        if product == 0:
            return 0.0
        return float(cov_ytyp / np.sqrt(product))


@attrs.frozen
class CohenKappaMetric(_LabelMetric):
    """Cohen's kappa: agreement between predictions and references beyond chance.

    ``kappa = 1 - sum(W * C) / sum(W * E)`` with C the confusion matrix, E the outer product
    of its marginals over its total, and W 1 off the diagonal (``weights=None``), ``|i - j|``
    ("linear") or ``(i - j)^2`` ("quadratic") over label positions. ``replace_undefined_by`` is
    returned when the denominator is 0.
    Reference: Cohen (1960); ``sklearn.metrics.cohen_kappa_score``.
    """

    name: ClassVar[str] = "cohen_kappa"
    higher_is_better: ClassVar[bool | None] = True
    weights: Literal["linear", "quadratic"] | None = None
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)
    replace_undefined_by: float = math.nan

    def __attrs_post_init__(self) -> None:
        if self.weights not in ("linear", "quadratic", None):
            raise MetricOptionError(
                f"weights={self.weights!r} is not supported; use 'linear', 'quadratic' or None."
            )

    def _finish(self, labels: np.ndarray, counts: np.ndarray, seen: np.ndarray) -> float:
        confusion = counts.astype(np.float64)
        size = confusion.shape[0]
        sum0 = confusion.sum(axis=0)
        sum1 = confusion.sum(axis=1)
        total = sum0.sum()
        if total == 0:
            return self.replace_undefined_by
        expected = np.outer(sum0, sum1) / total
        if self.weights is None:
            weight_matrix = np.ones((size, size))
            np.fill_diagonal(weight_matrix, 0)
        else:
            positions = np.zeros((size, size)) + np.arange(size)
            difference = positions - positions.T
            weight_matrix = np.abs(difference) if self.weights == "linear" else difference**2
        denominator = np.sum(weight_matrix * expected)
        if denominator == 0:
            return self.replace_undefined_by
        return float(1 - np.sum(weight_matrix * confusion) / denominator)


# --- probability losses ------------------------------------------------------------------------


def _as_probability_matrix(predictions: Any) -> tuple[np.ndarray, bool]:
    """Predictions as an (n, c) probability matrix; a 1-D input p becomes ``[1 - p, p]``."""
    probabilities = as_numbers(predictions, "predictions")
    check_probabilities(probabilities, "predictions")
    if probabilities.ndim == 1:
        return np.stack([1 - probabilities, probabilities], axis=1), True
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise MetricInputError(
            f"predictions has shape {probabilities.shape}; pass the positive-class probability "
            "(1-D) or one column per class (n, c) with c >= 2.",
            argument="predictions",
        )
    return probabilities, False


@attrs.frozen(eq=False)
class ProbabilityState:
    """Mergeable state of a probability loss: per reference label, sums of per-column terms.

    ``sums[r, j] = sum over examples with reference labels[r] of w * term(p[:, j])``; the
    class-to-column assignment is made only in ``compute`` (after every label was seen).
    Memory: (labels x terms) numbers, independent of the number of examples.
    """

    terms: Callable[[np.ndarray], np.ndarray]
    finish: Callable[[np.ndarray, np.ndarray, float, int, bool], float]
    declared: np.ndarray | None = None
    labels: np.ndarray | None = None
    sums: np.ndarray | None = None
    total_weight: float = 0.0
    columns: int = 0
    one_dimensional: bool = False

    def update(
        self, predictions: Sequence[Any], references: Sequence[Any], sample_weight: Any = None
    ) -> ProbabilityState:
        """This state plus one chunk (predictions are probabilities)."""
        probabilities, one_dimensional = _as_probability_matrix(predictions)
        actual = as_array(references, "references")
        check_same_length(probabilities, actual)
        weights = as_weights(sample_weight, actual.shape[0])
        labels, codes = encode(actual, self.declared, "references")
        values = self.terms(probabilities)
        if weights is not None:
            values = values * weights[:, None]
        size, width = labels.shape[0], values.shape[1]
        flat = (codes[:, None] * width + np.arange(width)).reshape(-1)
        sums = np.bincount(flat, weights=values.reshape(-1), minlength=size * width)
        total = float(actual.shape[0] if weights is None else weights.sum())
        chunk = attrs.evolve(
            self,
            labels=labels,
            sums=sums.reshape(size, width),
            total_weight=total,
            columns=probabilities.shape[1],
            one_dimensional=one_dimensional,
        )
        return self.merge(chunk)

    def merge(self, other: ProbabilityState) -> ProbabilityState:
        """The state of both chunks together."""
        if not isinstance(other, ProbabilityState):
            raise MetricInputError(
                f"cannot merge a {type(other).__name__} into a ProbabilityState; merge states "
                "of the same metric."
            )
        if other.labels is None or other.sums is None:
            return self
        if self.labels is None or self.sums is None:
            return attrs.evolve(
                self,
                labels=other.labels,
                sums=other.sums,
                total_weight=other.total_weight,
                columns=other.columns,
                one_dimensional=other.one_dimensional,
            )
        if (self.columns, self.one_dimensional) != (other.columns, other.one_dimensional):
            raise MetricInputError(
                f"the chunks have {self.columns} and {other.columns} probability columns; pass "
                "the same columns (classes) in every chunk."
            )
        if self.declared is not None:
            labels, sums = self.labels, self.sums + other.sums
        else:
            labels = union_labels(self.labels, other.labels)
            sums = np.zeros((labels.shape[0], self.sums.shape[1]))
            sums[np.searchsorted(labels, self.labels)] += self.sums
            sums[np.searchsorted(labels, other.labels)] += other.sums
        return attrs.evolve(
            self, labels=labels, sums=sums, total_weight=self.total_weight + other.total_weight
        )

    def compute(self) -> float:
        """The loss over every chunk given so far."""
        if self.labels is None or self.sums is None:
            raise MetricInputError("the state holds no examples; call update() with data first.")
        check_weighted_total(self.total_weight, "probability loss")
        return self.finish(
            self.labels, self.sums, self.total_weight, self.columns, self.one_dimensional
        )


def _class_columns(labels: np.ndarray, columns: int, declared: bool, metric: str) -> np.ndarray:
    """Check that the classes match the probability columns; column of each label = its rank."""
    if labels.shape[0] == 1 and not declared:
        raise MetricInputError(
            f"{metric}: references contain only one label ({labels[0]!r}); pass "
            "labels=[...] with every class so the probability columns can be matched."
        )
    if labels.shape[0] != columns:
        raise MetricInputError(
            f"{metric}: references hold {labels.shape[0]} classes {labels.tolist()} but "
            f"predictions have {columns} probability columns; pass labels=[...] listing the "
            "class of each column."
        )
    return np.arange(columns)


@attrs.frozen
class LogLossMetric(Metric):
    """Cross-entropy of predicted probabilities (lower is better).

    ``predictions`` are probabilities: the positive-class probability (1-D, the positive class
    being the greater of two labels) or one column per class (n, c), columns in the sorted
    order of the labels (or the order of ``labels``). Probabilities are clipped to
    ``[eps, 1 - eps]`` (float64 eps). ``log_loss = -sum_i w_i log p_i[reference_i] / sum_i w_i``.
    Reference: ``sklearn.metrics.log_loss``.
    """

    name: ClassVar[str] = "log_loss"
    higher_is_better: ClassVar[bool | None] = False
    # predictions are probabilities: the evaluator passes scores and checks they are in [0, 1]
    needs_scores: ClassVar[bool] = True
    needs_probabilities: ClassVar[bool] = True
    takes_arrays: ClassVar[bool] = True
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)

    def state(self) -> ProbabilityState:
        """An empty mergeable state (per-label sums of log-probabilities)."""
        return ProbabilityState(self._terms, self._finish, _declared_array(self.labels))

    def compute(
        self, predictions: Sequence[Any], references: Sequence[Any], *, sample_weight: Any = None
    ) -> float:
        """The log loss of probabilities ``predictions`` against reference labels."""
        return self.state().update(predictions, references, sample_weight).compute()

    @staticmethod
    def _terms(probabilities: NDArray[np.float64]) -> NDArray[np.float64]:
        eps = np.finfo(np.float64).eps
        return np.log(np.clip(probabilities, eps, 1 - eps))

    def _finish(
        self, labels: np.ndarray, sums: np.ndarray, total: float, columns: int, one_d: bool
    ) -> float:
        rank = _class_columns(labels, columns, self.labels is not None, self.name)
        return float(-sums[rank, rank].sum() / total)


@attrs.frozen
class BrierScoreMetric(Metric):
    """Mean squared error of predicted probabilities (lower is better).

    ``predictions`` are probabilities. Binary (1-D, the probability of ``pos_label``):
    ``mean_i w_i (p_i - [reference_i == pos_label])^2``; ``pos_label=None`` means 1 for labels
    in {0, 1} or {-1, 1}, else the greater label. Multiclass ((n, c), columns in label order):
    ``mean_i w_i sum_j (p_ij - [reference_i == class_j])^2``, halved when c == 2
    (``scale_by_half="auto"``). Reference: Brier (1950); ``sklearn.metrics.brier_score_loss``.
    """

    name: ClassVar[str] = "brier"
    higher_is_better: ClassVar[bool | None] = False
    # predictions are probabilities: the evaluator passes scores and checks they are in [0, 1]
    needs_scores: ClassVar[bool] = True
    needs_probabilities: ClassVar[bool] = True
    takes_arrays: ClassVar[bool] = True
    pos_label: Any = None
    labels: tuple[Any, ...] | None = attrs.field(default=None, converter=_optional_labels)
    scale_by_half: bool | Literal["auto"] = "auto"

    def state(self) -> ProbabilityState:
        """An empty mergeable state (per-label sums of squared probabilities)."""
        return ProbabilityState(self._terms, self._finish, _declared_array(self.labels))

    def compute(
        self, predictions: Sequence[Any], references: Sequence[Any], *, sample_weight: Any = None
    ) -> float:
        """The Brier score of probabilities ``predictions`` against reference labels."""
        return self.state().update(predictions, references, sample_weight).compute()

    @staticmethod
    def _terms(probabilities: NDArray[np.float64]) -> NDArray[np.float64]:
        # p^2 where the class is absent, (1 - p)^2 where present; chosen per label in _finish.
        return np.concatenate([probabilities**2, (1 - probabilities) ** 2], axis=1)

    def _positive_label(self, labels: np.ndarray) -> Any:
        if self.pos_label is not None:
            return self.pos_label
        values = set(labels.tolist())
        if labels.dtype.kind not in "biuf":
            raise MetricOptionError(
                f"brier: references take values in {sorted(values)}; set pos_label to the class "
                "whose probability the predictions are."
            )
        if values <= {0, 1} or values <= {-1, 1}:
            return 1
        return labels.max()

    def _finish(
        self, labels: np.ndarray, sums: np.ndarray, total: float, columns: int, one_d: bool
    ) -> float:
        squares, complements = sums[:, :columns], sums[:, columns:]
        if one_d:
            if labels.shape[0] > 2:
                raise MetricInputError(
                    f"brier: references hold {labels.shape[0]} classes but predictions are 1-D; "
                    "pass one probability column per class."
                )
            positive = labels == self._positive_label(labels)
            # column 1 is p (the positive class), column 0 is 1 - p.
            loss = complements[positive, 1].sum() + squares[~positive, 1].sum()
            loss *= 2
        else:
            rank = _class_columns(labels, columns, self.labels is not None, self.name)
            loss = squares.sum() - squares[rank, rank].sum() + complements[rank, rank].sum()
        score = float(loss / total)
        scale = self.scale_by_half
        if scale == "auto":
            scale = columns < 3
        return score * 0.5 if scale else score
