"""The ``acme.latency_p95`` metric: a percentile of the ``latency_ms`` column."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from modelops_core.evaluation.inputs import check_lengths, check_not_empty


class LatencyP95:
    """The ``percentile``-th percentile of per-example latency, linearly interpolated.

    Interpolates between the two closest ranks like ``numpy.percentile``'s default.
    """

    name = "acme.latency_p95"
    higher_is_better = False

    def __init__(self, percentile: float = 95.0) -> None:
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"percentile must be between 0 and 100, got {percentile!r}.")
        self.percentile = float(percentile)

    def compute(
        self, predictions: Sequence[Any], references: Sequence[Any], *, latency_ms: Sequence[float]
    ) -> float:
        # the checks every metric shares: a MetricInputError naming the argument and the counts
        check_lengths(
            {"predictions": predictions, "references": references, "latency_ms": latency_ms}
        )
        check_not_empty(latency_ms, "latency_ms")
        ordered = sorted(float(value) for value in latency_ms)
        rank = (len(ordered) - 1) * self.percentile / 100.0
        low, high = math.floor(rank), math.ceil(rank)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
