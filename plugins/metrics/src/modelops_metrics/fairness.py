"""Fairness metrics by group and intersectional group, from one grouped ``np.bincount``.

Every metric here takes ``groups=``: the group label of each item, as

- one sequence of labels (``["a", "b", "a", ...]``), or
- several sequences, one per sensitive feature (a list of sequences, or a mapping of feature name
  to sequence), or a 2-D array with one row per item and one column per feature. Items are then
  grouped by the combination of their labels (intersectional groups, e.g. ``("f", "18-25")``).

Only combinations that occur in the data are groups. Rates follow fairlearn: the selection rate
of a group is ``P(prediction = pos_label | group)``; its true/false positive rate is
``P(prediction = pos_label | reference = pos_label / != pos_label, group)``, 0 when the group has
no such references (as ``sklearn.metrics.confusion_matrix(normalize="true")``). Any value other
than ``pos_label`` counts as negative. Sample weights weigh every count.

``method="between_groups"`` compares the largest and smallest group value; ``"to_overall"``
compares each group with the value over all items (fairlearn's ``MetricFrame.difference`` and
``MetricFrame.ratio``). Groups whose value is undefined (zero total weight) are skipped.
Reference: Hardt, Price and Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_weights,
    check_length,
    check_lengths,
    check_ndim,
    check_no_missing_labels,
    check_not_empty,
)
from modelops_core.evaluation.metrics import Metric
from modelops_metrics.calibration import ExpectedCalibrationErrorMetric, Strategy

Method = Literal["between_groups", "to_overall"]
_METHODS = ("between_groups", "to_overall")
# An integer group column whose values span at most this many codes per item is encoded by
# offset (O(n)) instead of by sorting (np.unique, O(n log n)).
_DIRECT_CODE_SPAN_PER_ITEM = 4
# String group labels are first looked for in this many leading items.
_SAMPLE_FOR_LABELS = 1_000
# Items per block when checking string codes against their labels (fits in a core's cache).
_STRING_CHECK_BLOCK = 16_384


# --- groups --------------------------------------------------------------------------------------


@attrs.frozen
class GroupCodes:
    """Items encoded as dense group codes ``0..len(labels)-1`` with the label of each code."""

    codes: np.ndarray
    labels: tuple[Hashable, ...]


def _group_columns(groups: Any) -> list[Any]:
    """Split ``groups`` into one column per sensitive feature."""
    if groups is None:
        raise MetricInputError(
            "groups is missing; fairness metrics need the group label of each item, e.g. "
            "compute(predictions, references, groups=sex) or groups=[sex, age_band]."
        )
    if isinstance(groups, Mapping):
        return list(groups.values())
    if isinstance(groups, str | bytes):
        raise MetricInputError("groups is a string; pass one group label per item.")
    if isinstance(groups, Sequence) and len(groups) > 0:
        first = groups[0]
        if isinstance(first, Sequence | np.ndarray) and not isinstance(first, str | bytes):
            return list(groups)
        return [groups]
    array = np.asarray(groups)
    if array.ndim == 2:
        return [array[:, column] for column in range(array.shape[1])]
    return [array]


def _densify(values: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of non-negative integers below ``span``, and the sorted values present."""
    present = np.bincount(values, minlength=span) > 0
    if present.all():
        return values, np.arange(span)
    dense = np.cumsum(present) - 1
    return np.take(dense, values), np.flatnonzero(present)


def _offset_small_integers(column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes ``column - min`` and the label of every code in that span (some may be absent).

    None when the span is large compared with the number of items (then sorting is cheaper).
    """
    low, high = int(column.min()), int(column.max())
    if high - low > _DIRECT_CODE_SPAN_PER_ITEM * len(column) + 1024:
        return None
    offsets = column.astype(np.intp, copy=False)
    if low:
        offsets = offsets - low
    return offsets, np.arange(low, high + 1).astype(column.dtype)


def _sample_labels(column: np.ndarray) -> np.ndarray:
    """The distinct labels of a sample of ``column`` (its head and an even spread)."""
    step = max(1, len(column) // _SAMPLE_FOR_LABELS)
    return np.unique(np.concatenate([column[:_SAMPLE_FOR_LABELS], column[::step]]))


def _encode_fixed_width_strings(column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Dense codes of a numpy string array whose labels all occur in a sample, else None.

    Sorting strings (``np.unique``) or binary-searching them costs tens of nanoseconds per
    item. Instead the labels of a sample are told apart by the character at one position: a
    table lookup on that character gives each item's code, and one comparison of the whole
    array with the labels at those codes proves every item is that label (else None).
    """
    width = column.dtype.itemsize // (4 if column.dtype.kind == "U" else 1)
    if width == 0:
        return None
    unit = np.uint32 if column.dtype.kind == "U" else np.uint8
    labels = _sample_labels(column)
    characters = np.ascontiguousarray(column).view(unit).reshape(len(column), width)
    label_characters = labels.view(unit).reshape(len(labels), width)
    position = next(
        (
            index
            for index in range(width)
            if len(np.unique(label_characters[:, index])) == len(labels)
        ),
        None,
    )
    if position is None:
        return None
    keys = label_characters[:, position].astype(np.intp)
    low, high = int(keys.min()), int(keys.max())
    lookup = np.zeros(high - low + 1, dtype=np.intp)
    lookup[keys - low] = np.arange(len(labels))
    codes = np.empty(len(column), dtype=np.intp)
    # In blocks, so the labels gathered for the check stay in cache.
    for start in range(0, len(column), _STRING_CHECK_BLOCK):
        block = characters[start : start + _STRING_CHECK_BLOCK]
        offsets = block[:, position].astype(np.intp)
        offsets -= low
        np.clip(offsets, 0, high - low, out=offsets)  # a wrong code fails the check below
        block_codes = np.take(lookup, offsets)
        if not np.array_equal(block, np.take(label_characters, block_codes, axis=0)):
            return None
        codes[start : start + _STRING_CHECK_BLOCK] = block_codes
    return codes, labels


def _encode_python_objects(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of an object array (Python strings …) through a dict, without sorting it."""
    items = column.tolist()
    distinct = list(dict.fromkeys(items))
    try:
        distinct.sort()
    except TypeError as exc:
        raise MetricInputError(
            f"groups mix label types that cannot be ordered ({exc}); use labels of one type, "
            "e.g. all strings."
        ) from exc
    code_of = {label: code for code, label in enumerate(distinct)}
    codes = np.fromiter(map(code_of.__getitem__, items), dtype=np.intp, count=len(items))
    return codes, _object_array(distinct)


def _column_codes(values: Any, length: int, feature: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of one group column and the label of every code, sorted; a label may be absent.

    Only small-span integers can have absent labels (codes are offsets from the minimum);
    the other encodings list exactly the labels present.
    """
    argument = f"groups column {feature}"
    check_length(values, argument, length)
    column = np.asarray(values)
    check_ndim(
        column,
        argument,
        hint="pass one group label per item (several features as a list of equally long "
        "sequences).",
    )
    encoded: tuple[np.ndarray, np.ndarray] | None = None
    if column.dtype.kind in "biu":
        encoded = _offset_small_integers(column)
    elif column.dtype.kind in "US" and length > _SAMPLE_FOR_LABELS:
        encoded = _encode_fixed_width_strings(column)
    elif column.dtype.kind == "O":
        return _encode_python_objects(column)
    if encoded is not None:
        return encoded
    try:
        labels, codes = np.unique(column, return_inverse=True)
    except TypeError as exc:
        raise MetricInputError(
            f"groups column {feature} mixes label types that cannot be ordered ({exc}); use "
            "labels of one type, e.g. all strings."
        ) from exc
    return codes.reshape(-1).astype(np.intp, copy=False), labels


@attrs.frozen
class SparseGroupCodes:
    """Items encoded as codes ``0..span-1`` of label combinations, some of which may be absent.

    ``columns`` holds the labels of every group column; code ``c`` stands for the combination
    whose mixed-radix digits (first column most significant) index those labels.
    """

    codes: np.ndarray
    columns: tuple[np.ndarray, ...]

    @property
    def span(self) -> int:
        """The number of possible codes."""
        return int(np.prod([len(labels) for labels in self.columns], dtype=np.int64))

    def labels_of(self, codes: Sequence[int]) -> tuple[Hashable, ...]:
        """The group label of each code: a value for one column, a tuple for several."""
        if len(self.columns) == 1:
            (labels,) = self.columns
            return tuple(_python(labels[code]) for code in codes)
        sizes = [len(labels) for labels in self.columns]
        found = []
        for code in codes:
            parts = []
            for size in reversed(sizes):
                code, part = divmod(code, size)
                parts.append(part)
            found.append(
                tuple(
                    _python(labels[part])
                    for labels, part in zip(self.columns, reversed(parts), strict=True)
                )
            )
        return tuple(found)

    def densified(self) -> GroupCodes:
        """Dense codes of the combinations present, with their labels."""
        span = self.span
        if span <= _DIRECT_CODE_SPAN_PER_ITEM * len(self.codes) + 1024:
            dense, present = _densify(self.codes, span)
        else:
            present, dense = np.unique(self.codes, return_inverse=True)
        return GroupCodes(
            dense.reshape(-1).astype(np.intp, copy=False), self.labels_of(present.tolist())
        )


def sparse_group_codes(groups: Any, length: int) -> SparseGroupCodes:
    """Encode one or several group columns as codes of label combinations (see the class)."""
    columns = _group_columns(groups)
    if not columns:
        raise MetricInputError("groups has no columns; pass at least one sequence of labels.")
    encoded = [_column_codes(column, length, index) for index, column in enumerate(columns)]
    combined = encoded[0][0]
    for codes, labels in encoded[1:]:
        combined = combined * len(labels)  # a new array: the codes may be the caller's own
        combined += codes
    return SparseGroupCodes(combined, tuple(labels for _, labels in encoded))


def encode_groups(groups: Any, length: int) -> GroupCodes:
    """Encode one or several group columns as dense codes of their observed combinations."""
    return sparse_group_codes(groups, length).densified()


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """``values`` as a 1-D object array (tuples stay whole)."""
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _python(value: Hashable) -> Hashable:
    """A numpy scalar as the equal Python value (group labels are plain Python values)."""
    if isinstance(value, np.generic):
        item: Hashable = value.item()
        return item
    return value


def _labels_array(values: Any, argument: str) -> np.ndarray:
    array = np.asarray(values)
    check_ndim(array, argument, hint="pass one label per item (a 1-D sequence).")
    check_no_missing_labels(array, argument, values)
    return array


def _check_method(method: str) -> None:
    if method not in _METHODS:
        raise MetricInputError(
            f"method is {method!r}; choose one of {', '.join(map(repr, _METHODS))}."
        )


# --- grouped counts ------------------------------------------------------------------------------


@attrs.define
class GroupedCounts:
    """Mergeable per-group table: the (weighted) count of items in each cell, per group label.

    ``update`` adds a chunk, ``merge`` adds another table cell by cell, ``compute`` applies the
    metric to the table; group labels need not be the same in every chunk.
    """

    metric: _GroupedCountMetric
    rows: dict[Hashable, np.ndarray] = attrs.field(factory=dict)

    def update(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any] | None = None,
        *,
        groups: Any = None,
        sample_weight: Sequence[float] | None = None,
    ) -> GroupedCounts:
        """Add a chunk; returns this state."""
        labels, table = self.metric.grouped_table(predictions, references, groups, sample_weight)
        for label, row in zip(labels, table, strict=True):
            previous = self.rows.get(label)
            self.rows[label] = row.copy() if previous is None else previous + row
        return self

    def merge(self, other: GroupedCounts) -> GroupedCounts:
        """Add another state of the same metric; returns this state."""
        for label, row in other.rows.items():
            previous = self.rows.get(label)
            self.rows[label] = row.copy() if previous is None else previous + row
        return self

    def compute(self) -> Any:
        """The metric over every chunk seen so far."""
        if not self.rows:
            raise MetricInputError("the state is empty; update it with at least one chunk.")
        labels = _sorted_labels(self.rows)
        return self.metric.from_table(labels, np.stack([self.rows[label] for label in labels]))


def _sorted_labels(rows: Mapping[Hashable, Any]) -> list[Hashable]:
    labels: list[Any] = list(rows)  # any labels; those that cannot be ordered keep their order
    try:
        return sorted(labels)
    except TypeError:
        return list(rows)


def _ratio(numerator: np.ndarray, denominator: np.ndarray, *, empty: float) -> np.ndarray:
    """``numerator / denominator`` with ``empty`` where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / denominator, empty)


def disparity(by_group: np.ndarray, overall: float, method: str) -> tuple[float, float]:
    """(difference, ratio) of per-group values as fairlearn's ``MetricFrame`` computes them.

    ``between_groups``: ``max - min`` and ``min / max``. ``to_overall``: the largest
    ``|value - overall|`` and the smallest of ``value / overall`` turned below 1. NaN values
    (undefined groups) are skipped; NaN when no group is defined.
    """
    defined = by_group[~np.isnan(by_group)]
    if defined.size == 0:
        return float("nan"), float("nan")
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "between_groups":
            low, high = float(defined.min()), float(defined.max())
            return high - low, float(np.float64(low) / np.float64(high))
        difference = float(np.abs(defined - overall).max())
        ratios = by_group / np.float64(overall)
        ratios = np.where(ratios > 1, 1 / ratios, ratios)
        return difference, float(np.nanmin(ratios)) if not np.isnan(ratios).all() else np.nan


class _GroupedCountMetric(Metric):
    """A fairness metric computed from a per-group table of (weighted) cell counts."""

    cells: ClassVar[int]
    needs_references: bool = True
    takes_arrays = True  # the evaluator passes numpy arrays

    def __init__(self, *, pos_label: Any = 1, method: Method = "between_groups") -> None:
        _check_method(method)
        self.pos_label = pos_label
        self.method = method

    def cell_of_each_item(
        self, predictions: np.ndarray, references: np.ndarray | None
    ) -> NDArray[np.intp]:
        """The cell ``0..cells-1`` of every item."""
        raise NotImplementedError

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> Any:
        """The metric from the per-group table (rows in the order of ``labels``)."""
        raise NotImplementedError

    def grouped_table(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any] | None,
        groups: Any,
        sample_weight: Sequence[float] | None,
    ) -> tuple[tuple[Hashable, ...], np.ndarray]:
        """Group labels and the table of shape (groups, cells) for one chunk."""
        length = check_lengths({"predictions": predictions, "references": references})
        check_not_empty(predictions, "predictions")
        prediction_array = _labels_array(predictions, "predictions")
        reference_array = None
        if references is not None:
            reference_array = _labels_array(references, "references")
        elif self.needs_references:
            raise MetricInputError(
                f"{self.name} needs references (the true labels); pass them.",
                argument="references",
            )
        weights = as_weights(sample_weight, length)
        sparse = sparse_group_codes(groups, length)
        span = sparse.span
        if span > _DIRECT_CODE_SPAN_PER_ITEM * length + 1024:
            dense = sparse.densified()
            sparse = SparseGroupCodes(dense.codes, (_object_array(dense.labels),))
            span = len(dense.labels)
        # One bincount over (group code, cell) pairs gives the whole table; absent groups
        # (possible label combinations nobody has) are dropped afterwards.
        keys = sparse.codes * self.cells
        keys += self.cell_of_each_item(prediction_array, reference_array)
        counts = np.bincount(keys, weights=weights, minlength=span * self.cells)
        table = counts.astype(np.float64, copy=False).reshape(span, self.cells)
        if weights is None:
            present = table.sum(axis=1) > 0
        else:
            present = np.bincount(sparse.codes, minlength=span) > 0
        if present.all():
            return sparse.labels_of(range(span)), table
        rows = np.flatnonzero(present)
        return sparse.labels_of(rows.tolist()), table[rows]

    def compute(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any] | None = None,
        *,
        groups: Any = None,
        sample_weight: Sequence[float] | None = None,
    ) -> Any:
        """The metric of ``predictions`` against ``references`` across ``groups``."""
        labels, table = self.grouped_table(predictions, references, groups, sample_weight)
        return self.from_table(labels, table)

    def state(self) -> GroupedCounts:
        """An empty mergeable state; pass ``groups=`` (and ``sample_weight=``) to ``update``."""
        return GroupedCounts(self)


class _SelectionRateDisparity(_GroupedCountMetric):
    """Cells: 0 = not selected, 1 = selected (prediction equals ``pos_label``)."""

    cells = 2
    needs_references = False

    def cell_of_each_item(
        self, predictions: np.ndarray, references: np.ndarray | None
    ) -> NDArray[np.intp]:
        selected: NDArray[np.bool_] = predictions == self.pos_label
        return selected.astype(np.intp)

    def rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        """Selection rate per group and overall (NaN for a group of zero total weight)."""
        totals = table.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            by_group = table[:, 1] / totals
            overall = float(np.float64(table[:, 1].sum()) / np.float64(totals.sum()))
        return by_group, overall


class DemographicParityDifference(_SelectionRateDisparity):
    """Demographic parity difference: largest minus smallest group selection rate; 0 is parity.

    ``max_a P(h(X) = pos_label | A = a) - min_a P(h(X) = pos_label | A = a)``, equal to
    ``fairlearn.metrics.demographic_parity_difference``. References are not used (may be None).
    Reference: Dwork et al., "Fairness Through Awareness", ITCS 2012.

    :param pos_label: the prediction that counts as selected (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).

    >>> DemographicParityDifference().compute([1, 0, 1, 1], None, groups=["a", "a", "b", "b"])
    0.5
    """

    name = "demographic_parity_difference"
    higher_is_better = False

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        by_group, overall = self.rates(table)
        return disparity(by_group, overall, self.method)[0]


class DemographicParityRatio(_SelectionRateDisparity):
    """Demographic parity ratio: smallest over largest group selection rate; 1 is parity.

    ``min_a P(h(X) = pos_label | A = a) / max_a P(h(X) = pos_label | A = a)``, equal to
    ``fairlearn.metrics.demographic_parity_ratio`` (NaN when no group is ever selected). The
    "four-fifths rule" flags a ratio below 0.8. References are not used (may be None).

    :param pos_label: the prediction that counts as selected (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).

    >>> DemographicParityRatio().compute([1, 0, 1, 1], None, groups=["a", "a", "b", "b"])
    0.5
    """

    name = "demographic_parity_ratio"
    higher_is_better = True

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        by_group, overall = self.rates(table)
        return disparity(by_group, overall, self.method)[1]


class _ErrorRateDisparity(_GroupedCountMetric):
    """Cells: 2 * (reference is positive) + (prediction is positive): TN, FP, FN, TP."""

    cells = 4

    def cell_of_each_item(
        self, predictions: np.ndarray, references: np.ndarray | None
    ) -> NDArray[np.intp]:
        assert references is not None
        positive_reference: NDArray[np.bool_] = references == self.pos_label
        positive_prediction: NDArray[np.bool_] = predictions == self.pos_label
        return 2 * positive_reference.astype(np.intp) + positive_prediction

    def true_positive_rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        """TPR per group and overall; 0 where a group has no positive reference."""
        positives = table[:, 2] + table[:, 3]
        by_group = _ratio(table[:, 3], positives, empty=0.0)
        overall = _ratio(table[:, 3].sum(), positives.sum(), empty=0.0)
        return by_group, float(overall)

    def false_positive_rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        """FPR per group and overall; 0 where a group has no negative reference."""
        negatives = table[:, 0] + table[:, 1]
        by_group = _ratio(table[:, 1], negatives, empty=0.0)
        overall = _ratio(table[:, 1].sum(), negatives.sum(), empty=0.0)
        return by_group, float(overall)


class EqualizedOddsDifference(_ErrorRateDisparity):
    """Equalized odds difference: the larger of the TPR and FPR differences between groups.

    ``max(max_a TPR_a - min_a TPR_a, max_a FPR_a - min_a FPR_a)`` (``agg="worst_case"``) or
    their mean (``agg="mean"``), equal to ``fairlearn.metrics.equalized_odds_difference``.
    Reference: Hardt, Price and Srebro, NeurIPS 2016.

    :param pos_label: the label that counts as positive (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).
    :param agg: ``"worst_case"`` (default) or ``"mean"`` of the two differences.

    >>> EqualizedOddsDifference().compute([1, 0, 1, 1], [1, 1, 1, 0], groups=[0, 0, 1, 1])
    1.0
    """

    name = "equalized_odds_difference"
    higher_is_better = False

    def __init__(
        self,
        *,
        pos_label: Any = 1,
        method: Method = "between_groups",
        agg: Literal["worst_case", "mean"] = "worst_case",
    ) -> None:
        super().__init__(pos_label=pos_label, method=method)
        if agg not in ("worst_case", "mean"):
            raise MetricInputError(f"agg is {agg!r}; choose 'worst_case' or 'mean'.")
        self.agg = agg

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        tpr_difference = disparity(*self.true_positive_rates(table), self.method)[0]
        fpr_difference = disparity(*self.false_positive_rates(table), self.method)[0]
        if self.agg == "mean":
            return (tpr_difference + fpr_difference) / 2
        return max(tpr_difference, fpr_difference)


class EqualOpportunityDifference(_ErrorRateDisparity):
    """Equal opportunity difference: largest minus smallest group true positive rate.

    ``max_a TPR_a - min_a TPR_a`` with ``TPR_a = P(h(X) = pos_label | Y = pos_label, A = a)``,
    equal to ``fairlearn.metrics.equal_opportunity_difference``. Reference: Hardt, Price and
    Srebro, NeurIPS 2016.

    :param pos_label: the label that counts as positive (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).

    >>> EqualOpportunityDifference().compute([1, 0, 1, 1], [1, 1, 1, 0], groups=[0, 0, 1, 1])
    0.5
    """

    name = "equal_opportunity_difference"
    higher_is_better = False

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        return disparity(*self.true_positive_rates(table), self.method)[0]


class EqualizedOddsRatio(EqualizedOddsDifference):
    """Equalized odds ratio: the smaller of the TPR and FPR ratios (smallest over largest group).

    ``min(min_a TPR_a / max_a TPR_a, min_a FPR_a / max_a FPR_a)`` (``agg="worst_case"``) or
    their mean (``agg="mean"``), equal to ``fairlearn.metrics.equalized_odds_ratio``; 1 is
    parity, 0 means some group never gets a true (or false) positive while another does. A
    rate that is 0 in every group makes its ratio 0/0: as fairlearn, worst_case is then NaN
    when the TPR ratio is the undefined one and the TPR ratio when the FPR ratio is, and
    ``mean`` averages the defined ratios. Reference: Hardt, Price and Srebro, NeurIPS 2016.

    :param pos_label: the label that counts as positive (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).
    :param agg: ``"worst_case"`` (default) or ``"mean"`` of the two ratios.

    >>> predictions, references = [1, 0, 1, 1, 1, 0], [1, 1, 0, 1, 0, 0]
    >>> EqualizedOddsRatio().compute(predictions, references, groups=[0, 0, 0, 1, 1, 1])
    0.5
    """

    name = "equalized_odds_ratio"
    higher_is_better = True

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        tpr_ratio = disparity(*self.true_positive_rates(table), self.method)[1]
        fpr_ratio = disparity(*self.false_positive_rates(table), self.method)[1]
        if self.agg == "mean":
            defined = [ratio for ratio in (tpr_ratio, fpr_ratio) if not math.isnan(ratio)]
            return sum(defined) / len(defined) if defined else math.nan
        return min(tpr_ratio, fpr_ratio)  # Python's min keeps a NaN first value, as fairlearn


class EqualOpportunityRatio(_ErrorRateDisparity):
    """Equal opportunity ratio: smallest over largest group true positive rate; 1 is parity.

    ``min_a TPR_a / max_a TPR_a`` with ``TPR_a = P(h(X) = pos_label | Y = pos_label, A = a)``,
    equal to ``fairlearn.metrics.equal_opportunity_ratio``: 0 when some group has no true
    positive while another has, NaN when no group has any. Reference: Hardt, Price and Srebro,
    NeurIPS 2016.

    :param pos_label: the label that counts as positive (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"`` (see the module docstring).

    >>> EqualOpportunityRatio().compute([1, 0, 1, 1], [1, 1, 1, 0], groups=[0, 0, 1, 1])
    0.5
    """

    name = "equal_opportunity_ratio"
    higher_is_better = True

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> float:
        return disparity(*self.true_positive_rates(table), self.method)[1]


# --- per-group values of any metric --------------------------------------------------------------


def _group_result(
    labels: Sequence[Hashable], values: Sequence[Any], overall: Any, method: str
) -> dict[str, Any]:
    by_group = dict(zip(labels, values, strict=True))
    try:
        numbers = np.array([float(value) for value in values])
        difference, ratio = disparity(numbers, float(overall), method)
    except (TypeError, ValueError):  # a metric with non-scalar values (a curve, a matrix)
        difference, ratio = float("nan"), float("nan")
    return {"overall": overall, "by_group": by_group, "difference": difference, "ratio": ratio}


def _take(values: Any, indices: np.ndarray) -> Any:
    """The items of ``values`` at ``indices``, keeping arrays as arrays and lists as lists."""
    if isinstance(values, np.ndarray):
        return values[indices]
    return [values[index] for index in indices.tolist()]


def _split_by_group(codes: np.ndarray, n_groups: int) -> Iterator[np.ndarray]:
    order = np.argsort(codes, kind="stable")
    boundaries = np.cumsum(np.bincount(codes, minlength=n_groups))[:-1]
    return iter(np.split(order, boundaries))


class _GroupedAccuracy(_GroupedCountMetric):
    """Cells: 0 = wrong, 1 = right; the by-group accuracy of ``GroupMetric(metric="accuracy")``."""

    name = "accuracy"
    higher_is_better = True
    cells = 2

    def cell_of_each_item(
        self, predictions: np.ndarray, references: np.ndarray | None
    ) -> NDArray[np.intp]:
        right: NDArray[np.bool_] = predictions == references
        return right.astype(np.intp)

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            by_group = table[:, 1] / table.sum(axis=1)
            overall = np.float64(table[:, 1].sum()) / np.float64(table.sum())
        return _group_result(labels, by_group.tolist(), float(overall), self.method)


class _GroupedRate(_ErrorRateDisparity):
    """Selection rate, TPR or FPR per group for ``GroupMetric(metric="...")``."""

    higher_is_better = None

    def cell_of_each_item(
        self, predictions: np.ndarray, references: np.ndarray | None
    ) -> NDArray[np.intp]:
        if references is None:
            selected: NDArray[np.bool_] = predictions == self.pos_label
            return selected.astype(np.intp)
        return super().cell_of_each_item(predictions, references)

    def rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        """The rate per group and overall."""
        raise NotImplementedError

    def from_table(self, labels: Sequence[Hashable], table: np.ndarray) -> Any:
        by_group, overall = self.rates(table)
        return _group_result(labels, by_group.tolist(), overall, self.method)


class _GroupedSelectionRate(_GroupedRate):
    """Cells as the error rates (or 0/1 without references); selected: cells 1 and 3."""

    name = "selection_rate"
    needs_references = False

    def rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        selected = table[:, 1] + table[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            by_group = selected / table.sum(axis=1)
            overall = float(np.float64(selected.sum()) / np.float64(table.sum()))
        return by_group, overall


class _GroupedTruePositiveRate(_GroupedRate):
    name = "true_positive_rate"

    def rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        return self.true_positive_rates(table)


class _GroupedFalsePositiveRate(_GroupedRate):
    name = "false_positive_rate"

    def rates(self, table: np.ndarray) -> tuple[np.ndarray, float]:
        return self.false_positive_rates(table)


_BUILTIN_GROUP_RATES: dict[str, type[_GroupedCountMetric]] = {
    "accuracy": _GroupedAccuracy,
    "selection_rate": _GroupedSelectionRate,
    "true_positive_rate": _GroupedTruePositiveRate,
    "false_positive_rate": _GroupedFalsePositiveRate,
}


@attrs.define
class PerGroupStates:
    """Mergeable state of :class:`GroupMetric` over a metric with its own mergeable state."""

    group_metric: GroupMetric
    overall: Any
    by_group: dict[Hashable, Any] = attrs.field(factory=dict)

    def update(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        *,
        groups: Any = None,
        sample_weight: Sequence[float] | None = None,
    ) -> PerGroupStates:
        """Add a chunk; returns this state."""
        metric = self.group_metric.metric
        for label, indices in self.group_metric.group_indices(predictions, references, groups):
            state = self.by_group.get(label)
            if state is None:
                state = self.by_group[label] = metric.state()
            state.update(
                _take(predictions, indices),
                _take(references, indices),
                **self.group_metric.weight_keywords(sample_weight, indices),
            )
        self.overall.update(
            predictions, references, **self.group_metric.weight_keywords(sample_weight, None)
        )
        return self

    def merge(self, other: PerGroupStates) -> PerGroupStates:
        """Merge another state of the same group metric; returns this state."""
        for label, state in other.by_group.items():
            mine = self.by_group.get(label)
            self.by_group[label] = state if mine is None else mine.merge(state)
        self.overall = self.overall.merge(other.overall)
        return self

    def compute(self) -> dict[str, Any]:
        """Overall and per-group values, difference and ratio over every chunk seen."""
        if not self.by_group:
            raise MetricInputError("the state is empty; update it with at least one chunk.")
        labels = _sorted_labels(self.by_group)
        values = [self.by_group[label].compute() for label in labels]
        return _group_result(labels, values, self.overall.compute(), self.group_metric.method)


def _name_instance(metric: Metric, name: str, higher_is_better: bool | None) -> None:
    """Give one metric object its own ``name`` and ``higher_is_better``.

    ``Metric`` declares both class variables (its attrs subclasses need that: an annotated
    instance attribute would become an attrs field), which mypy forbids setting through an
    instance. A :class:`GroupMetric` is named after the metric it wraps, so its instance
    shadows the class defaults, exactly as ``self.name = ...`` would at run time.
    """
    vars(metric).update(name=name, higher_is_better=higher_is_better)


class GroupMetric(Metric):
    """Per-group values of any metric, with their difference and ratio (fairlearn's MetricFrame).

    Returns ``{"overall": v, "by_group": {label: v_a}, "difference": d, "ratio": r}`` where
    ``v_a`` is ``metric.compute`` on the items of group ``a`` (intersectional groups have tuple
    labels), and ``d``, ``r`` follow ``method`` (see the module docstring; NaN when the values
    are not numbers). ``metric`` is any object with ``compute(predictions, references)``;
    ``sample_weight`` is passed on when given (the metric must accept it). The names
    ``"accuracy"``, ``"selection_rate"``, ``"true_positive_rate"`` and ``"false_positive_rate"``
    select built-in rates computed from one grouped bincount.

    :param metric: a metric object, or one of the built-in rate names above.
    :param pos_label: positive label of the built-in rates (default 1).
    :param method: ``"between_groups"`` or ``"to_overall"``.

    >>> GroupMetric(metric="accuracy").compute([1, 0, 1], [1, 1, 1], groups=["a", "a", "b"])[
    ...     "by_group"
    ... ]
    {'a': 0.5, 'b': 1.0}
    """

    name = "group_metric"  # an instance is named after its metric (see _name_instance)
    higher_is_better = None
    takes_arrays = True  # the evaluator passes numpy arrays

    def __init__(
        self, metric: Any, *, pos_label: Any = 1, method: Method = "between_groups"
    ) -> None:
        _check_method(method)
        self.method = method
        self.builtin: _GroupedCountMetric | None = None
        if isinstance(metric, str):
            if metric not in _BUILTIN_GROUP_RATES:
                raise MetricInputError(
                    f"metric is {metric!r}; pass a metric object with compute(predictions, "
                    f"references) or one of {', '.join(map(repr, _BUILTIN_GROUP_RATES))}."
                )
            self.builtin = _BUILTIN_GROUP_RATES[metric](pos_label=pos_label, method=method)
        elif not callable(getattr(metric, "compute", None)):
            raise MetricInputError(
                f"metric is a {type(metric).__name__} without a compute() method; pass a metric "
                "object such as runtime.create('metric', 'accuracy')."
            )
        self.metric = metric
        if self.builtin is None:
            _name_instance(
                self,
                f"group_{getattr(metric, 'name', type(metric).__name__)}",
                getattr(metric, "higher_is_better", None),
            )
        else:
            _name_instance(self, f"group_{metric}", self.builtin.higher_is_better)

    def group_indices(
        self, predictions: Sequence[Any], references: Sequence[Any], groups: Any
    ) -> Iterator[tuple[Hashable, np.ndarray]]:
        """(label, item indices) of every group present in this chunk."""
        length = check_not_empty(predictions, "predictions")
        check_length(references, "references", length)
        encoded = encode_groups(groups, length)
        return zip(encoded.labels, _split_by_group(encoded.codes, len(encoded.labels)), strict=True)

    def weight_keywords(
        self, sample_weight: Sequence[float] | None, indices: np.ndarray | None
    ) -> dict[str, Any]:
        """``{"sample_weight": ...}`` for the items at ``indices`` (all if None), or ``{}``."""
        if sample_weight is None:
            return {}
        if "sample_weight" not in inspect.signature(self.metric.compute).parameters:
            raise MetricInputError(
                f"sample_weight was given but the metric {getattr(self.metric, 'name', '?')!r} "
                "does not accept sample_weight; leave it out or use a metric that takes it."
            )
        weights = np.asarray(sample_weight, dtype=np.float64)
        return {"sample_weight": weights if indices is None else weights[indices]}

    def compute(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        *,
        groups: Any = None,
        sample_weight: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        """Overall and per-group values of the metric, their difference and ratio."""
        if self.builtin is not None:
            result: dict[str, Any] = self.builtin.compute(
                predictions, references, groups=groups, sample_weight=sample_weight
            )
            return result
        if sample_weight is not None:
            as_weights(sample_weight, check_not_empty(predictions, "predictions"))
        groups_found = self.group_indices(predictions, references, groups)
        # overall first: an input error then names positions in the whole input, not in a group
        overall = self.metric.compute(
            predictions, references, **self.weight_keywords(sample_weight, None)
        )
        labels, values = [], []
        for label, indices in groups_found:
            labels.append(label)
            values.append(
                self.metric.compute(
                    _take(predictions, indices),
                    _take(references, indices),
                    **self.weight_keywords(sample_weight, indices),
                )
            )
        return _group_result(labels, values, overall, self.method)

    def state(self) -> Any:
        """An empty mergeable state; needs a built-in rate or a metric with ``state()``."""
        if self.builtin is not None:
            return self.builtin.state()
        if not callable(getattr(self.metric, "state", None)):
            raise MetricInputError(
                f"the metric {getattr(self.metric, 'name', '?')!r} has no mergeable state(), so "
                "its per-group values cannot be computed in chunks; compute them in one call."
            )
        return PerGroupStates(self, self.metric.state())


class GroupCalibrationError(GroupMetric):
    """Expected calibration error per group (see ``ExpectedCalibrationErrorMetric``).

    Predictions are probabilities of the positive class, references 0/1 labels. Returns the
    overall ECE, the ECE of every group, and their difference and ratio.

    :param n_bins: number of bins (default 10).
    :param strategy: ``"uniform"`` or ``"quantile"`` (quantile edges are set per group).
    :param method: ``"between_groups"`` or ``"to_overall"``.
    """

    # predictions are probabilities: the evaluator passes scores and checks they are in [0, 1]
    needs_scores = True
    needs_probabilities = True

    def __init__(
        self, n_bins: int = 10, strategy: Strategy = "uniform", *, method: Method = "between_groups"
    ) -> None:
        super().__init__(ExpectedCalibrationErrorMetric(n_bins, strategy), method=method)
        _name_instance(self, "group_calibration_error", self.higher_is_better)
