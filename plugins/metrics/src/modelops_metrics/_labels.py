"""Label encoding and confusion-matrix counting: the vectorised core of the label metrics.

Small-range integer labels (the common case) are counted with one ``np.bincount`` over
``reference * k + prediction`` codes, with no sort; other labels go through ``np.unique``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import check_comparable, undeclared_label_error

__all__ = [
    "MAX_DENSE_SPAN",
    "check_comparable",
    "count_pairs",
    "declared_codes",
    "dense_range",
    "encode",
    "offset_codes",
    "union_labels",
    "unique_labels",
]

# Integer labels spanning at most this many values are counted densely (k * k bins).
MAX_DENSE_SPAN = 2048


def dense_range(*arrays: np.ndarray) -> tuple[int, int] | None:
    """``(low, high)`` over integer arrays whose values span at most :data:`MAX_DENSE_SPAN`."""
    if not all(array.dtype.kind in "biu" for array in arrays):
        return None
    low = min(int(array.min()) for array in arrays)
    high = max(int(array.max()) for array in arrays)
    if high - low + 1 > MAX_DENSE_SPAN:
        return None
    return low, high


def offset_codes(values: np.ndarray, low: int) -> np.ndarray:
    """``values - low`` as intp codes (no copy when already intp and ``low == 0``)."""
    codes = values.astype(np.intp, copy=False)
    return codes - low if low else codes


def unique_labels(values: np.ndarray, argument: str) -> tuple[np.ndarray, np.ndarray]:
    """``(sorted distinct labels, code of every value)`` via ``np.unique``."""
    try:
        labels, codes = np.unique(values, return_inverse=True)
    except TypeError as exc:
        raise MetricInputError(
            f"{argument} mixes label types that cannot be sorted ({exc}); use one type.",
            argument=argument,
        ) from exc
    return labels, codes.reshape(-1)


def declared_codes(values: np.ndarray, declared: np.ndarray, argument: str) -> NDArray[np.intp]:
    """The position of every value in ``declared``; a value not declared is an error."""
    size = declared.shape[0]
    span = dense_range(values, declared)
    codes: NDArray[np.intp]
    missing: NDArray[np.bool_]
    if span is not None:
        low, high = span
        lookup = np.full(high - low + 1, -1, dtype=np.intp)
        lookup[offset_codes(declared, low)] = np.arange(size)
        codes = lookup[offset_codes(values, low)]
        missing = codes < 0
    else:
        try:
            order = np.argsort(declared, kind="stable")
            ordered = declared[order]
            positions = np.minimum(np.searchsorted(ordered, values), size - 1)
        except TypeError as exc:
            raise MetricInputError(
                f"{argument} holds labels that cannot be compared with `labels` ({exc}); use "
                "labels of one type.",
                argument=argument,
            ) from exc
        missing = ordered[positions] != values
        codes = order[positions]
    if missing.any():
        raise undeclared_label_error(values, missing, declared, argument)
    return codes


def encode(
    values: np.ndarray, declared: np.ndarray | None, argument: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, codes)`` of one label array: the declared labels, or the distinct values."""
    if declared is not None:
        return declared, declared_codes(values, declared, argument)
    span = dense_range(values)
    if span is None:
        return unique_labels(values, argument)
    low, high = span
    codes = offset_codes(values, low)
    present = np.bincount(codes, minlength=high - low + 1) > 0
    labels = np.arange(low, high + 1).astype(values.dtype)[present]
    if present.all():
        return labels, codes
    compress = np.cumsum(present) - 1
    return labels, compress[codes]


def count_pairs(
    predictions: np.ndarray,
    references: np.ndarray,
    weights: np.ndarray | None,
    declared: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(labels, counts, seen)``: the (weighted) confusion matrix, rows = references.

    ``seen`` marks the labels that occur in either argument (whatever their weight).
    """
    check_comparable(predictions, references)
    if declared is not None:
        size = declared.shape[0]
        reference_codes = declared_codes(references, declared, "references")
        prediction_codes = declared_codes(predictions, declared, "predictions")
        labels = declared
    else:
        span = dense_range(predictions, references)
        if span is not None:
            low, high = span
            size = high - low + 1
            reference_codes = offset_codes(references, low)
            prediction_codes = offset_codes(predictions, low)
            dtype = np.result_type(predictions.dtype, references.dtype)
            labels = np.arange(low, high + 1).astype(dtype)
        else:
            both = np.concatenate([references, predictions])
            labels, codes = unique_labels(both, "predictions and references")
            size = labels.shape[0]
            reference_codes, prediction_codes = (
                codes[: references.shape[0]],
                codes[references.shape[0] :],
            )
    flat = reference_codes * size
    flat += prediction_codes
    counts = np.bincount(flat, weights=weights, minlength=size * size).reshape(size, size)
    if weights is None:
        seen = (counts.sum(axis=0) > 0) | (counts.sum(axis=1) > 0)
    else:
        seen = (np.bincount(reference_codes, minlength=size) > 0) | (
            np.bincount(prediction_codes, minlength=size) > 0
        )
    if declared is None and not seen.all():
        keep = np.flatnonzero(seen)
        return labels[keep], counts[np.ix_(keep, keep)], seen[keep]
    return labels, counts, seen


def union_labels(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The sorted union of two label arrays (for merging states that discovered labels)."""
    try:
        return np.union1d(left, right)
    except TypeError as exc:
        raise MetricInputError(
            f"cannot merge states whose labels have different types ({exc}); use one label type."
        ) from exc
