"""Input checks shared by the metrics: each is one vectorised pass and names the argument.

The checks are deliberately cheap (length, emptiness, one ``isfinite``/``min``/``max`` pass), so
that on large arrays the metric itself, not the validation, sets the run time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops_core.errors import MetricInputError as _CoreMetricInputError


class MetricInputError(_CoreMetricInputError):
    """Predictions, references or weights a metric cannot use; the message names the argument.

    A subclass of :class:`modelops_core.errors.ModelOpsError` and of :class:`ValueError`.
    """


class MetricOptionError(MetricInputError):
    """A metric option (``average``, ``pos_label`` …) that does not fit the data or is unknown."""


def as_array(values: Any, argument: str) -> np.ndarray:
    """``values`` as a numpy array (no copy for arrays); empty or scalar input is refused."""
    array = np.asarray(values)
    if array.ndim == 0:
        raise MetricInputError(
            f"{argument} is a single value ({array!r}); pass a sequence with one item per example."
        )
    if array.shape[0] == 0:
        raise MetricInputError(f"{argument} is empty; pass at least one item.")
    return array


def check_same_length(predictions: np.ndarray, references: np.ndarray) -> None:
    """Refuse predictions and references of different lengths."""
    if predictions.shape[0] != references.shape[0]:
        raise MetricInputError(
            f"predictions has {predictions.shape[0]} items but references has "
            f"{references.shape[0]}; the lengths mismatch. Pass one prediction per reference, "
            "in the same order."
        )


def as_weights(sample_weight: Any, length: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 array of ``length`` finite, non-negative values, or None."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1 or weights.shape[0] != length:
        raise MetricInputError(
            f"sample_weight has shape {weights.shape} but there are {length} predictions; the "
            "lengths mismatch. Pass one weight per example."
        )
    if not np.isfinite(weights).all():
        raise MetricInputError("sample_weight contains NaN or infinity; pass finite weights.")
    if weights.min() < 0:
        raise MetricInputError(
            f"sample_weight contains a negative value ({weights.min()}); weights must be >= 0."
        )
    return weights


def as_label_arrays(predictions: Any, references: Any) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and references as 1-D label arrays of the same, non-zero length."""
    predicted = as_array(predictions, "predictions")
    actual = as_array(references, "references")
    check_same_length(predicted, actual)
    for argument, array in (("predictions", predicted), ("references", actual)):
        if array.ndim != 1:
            raise MetricInputError(
                f"{argument} has shape {array.shape}; this metric expects one label per example "
                "(a 1-D sequence). For scores or probabilities use a score-based metric."
            )
    return predicted, actual


def as_scores(values: Any, argument: str, *, finite: bool = True) -> np.ndarray:
    """``values`` as a float64 array without NaN or infinity.

    :param finite: False skips the NaN/infinity scan; the caller must then call
        :func:`check_finite` itself (e.g. only when a result it computed is not finite).
    """
    array = as_array(values, argument)
    if array.dtype.kind not in "biuf":
        raise MetricInputError(
            f"{argument} has dtype {array.dtype}; pass numbers (scores or probabilities)."
        )
    array = array.astype(np.float64, copy=False)
    if finite:
        check_finite(array, argument)
    return array


def check_finite(array: np.ndarray, argument: str) -> None:
    """Refuse NaN or infinity in ``array``, naming the argument."""
    if not np.isfinite(array).all():
        raise MetricInputError(
            f"{argument} contains NaN or infinity; remove or impute those values first."
        )


def check_probabilities(values: np.ndarray, argument: str) -> None:
    """Refuse probabilities outside [0, 1]."""
    low, high = values.min(), values.max()
    if low < 0 or high > 1:
        bad = float(low if low < 0 else high)
        raise MetricInputError(
            f"{argument} contains {bad!r}, outside [0, 1]; pass probabilities (for raw scores "
            "apply a sigmoid or softmax first)."
        )


def check_weighted_total(total: float, metric: str) -> None:
    """Refuse a computation over examples whose weights sum to zero."""
    if total <= 0:
        raise MetricInputError(
            f"{metric}: the sample weights sum to 0 (or no example was given); pass at least one "
            "example with a positive weight."
        )
