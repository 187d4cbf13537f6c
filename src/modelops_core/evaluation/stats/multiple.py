"""Adjusted p-values when several metrics are compared at once: Holm and Benjamini-Hochberg."""

from __future__ import annotations

from collections.abc import Sequence

ADJUSTMENTS = ("holm", "bh", "none")


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (controls the family-wise error rate).

    Sorted ascending, ``adjusted_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjustment (controls the false discovery rate).

    Sorted ascending, ``adjusted_(i) = min_{j >= i} min(1, m p_(j) / j)``.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        index = order[rank]
        running = min(running, m * p_values[index] / (rank + 1))
        adjusted[index] = min(1.0, running)
    return adjusted


def adjust(p_values: Sequence[float], method: str) -> list[float]:
    """``p_values`` adjusted by ``holm``, ``bh`` or ``none``."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return list(p_values)
    from modelops_core.evaluation.stats.significance import SignificanceError

    raise SignificanceError(f"adjust={method!r} is not one of {', '.join(ADJUSTMENTS)}.")
