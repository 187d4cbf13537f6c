"""Input checks of the metrics: the core's shared checks, plus the one error for bad options.

Every check lives in :mod:`modelops_core.evaluation.inputs`, shared with the core's text
metrics and the evaluation engine, so bad input gets the same error class and message shape
from every metric. The names stay importable from here (``MetricInputError`` is the core's
class); :func:`as_scores` is the older name of ``as_numbers`` and :func:`as_label_arrays` the
label pair check of the label metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import (
    as_array,
    as_numbers,
    as_weights,
    check_finite,
    check_ndim,
    check_no_missing_labels,
    check_probabilities,
    check_same_length,
    check_weighted_total,
)

__all__ = [
    "MetricInputError",
    "MetricOptionError",
    "as_array",
    "as_label_arrays",
    "as_scores",
    "as_weights",
    "check_finite",
    "check_probabilities",
    "check_same_length",
    "check_weighted_total",
]

#: the older name of :func:`modelops_core.evaluation.inputs.as_numbers`
as_scores = as_numbers


class MetricOptionError(MetricInputError):
    """A metric option (``average``, ``pos_label`` …) that does not fit the data or is unknown."""


def as_label_arrays(predictions: Any, references: Any) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and references as 1-D label arrays of the same, non-zero length, with no
    missing label (NaN or None)."""
    predicted = as_array(predictions, "predictions")
    actual = as_array(references, "references")
    check_same_length(predicted, actual)
    hint = "pass one label per example; for scores or probabilities use a score-based metric."
    check_ndim(predicted, "predictions", hint=hint)
    check_ndim(actual, "references", hint=hint)
    check_no_missing_labels(predicted, "predictions", predictions)
    check_no_missing_labels(actual, "references", references)
    return predicted, actual
