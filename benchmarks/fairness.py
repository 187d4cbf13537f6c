"""Benchmark modelops-metrics fairness metrics against fairlearn, in the same run.

Run: ``python benchmarks/fairness.py [--quick]`` (needs modelops-metrics, fairlearn, scikit-learn).
For demographic parity difference, equalized odds difference and by-group accuracy (fairlearn's
``MetricFrame(metrics=accuracy_score)``), with integer groups, string groups and intersectional
groups (string x integer), prints the best-of-N time of both libraries at n = 1e5 and 1e6
(``--quick``: 1e5 only, under 30 s), the ratio fairlearn / ours (> 1 means we are faster) and
the largest difference between the two results (must be ~1e-16).

User path (printed first): at the largest n, each public call as a user writes it (the metric
built and computed, ``MetricFrame(...)`` or ``fairlearn.metrics.<function>(...)`` called),
wall-clock median of ``--runs`` (>= 5) calls run alternately, both libraries imported.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fairlearn.metrics import MetricFrame, demographic_parity_difference, equalized_odds_difference
from modelops_metrics.fairness import (
    DemographicParityDifference,
    EqualizedOddsDifference,
    GroupMetric,
)
from sklearn.metrics import accuracy_score

sys.path.insert(0, str(Path(__file__).parent))
import userpath


def best_ms(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs in milliseconds, and the function's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.thread_time()
        result = function()
        best = min(best, time.thread_time() - start)
    return best * 1e3, result


def largest_difference(ours: Any, theirs: Any) -> float:
    """Max |ours - theirs| over a scalar or a by-group mapping vs a pandas Series."""
    if isinstance(ours, dict):
        by_group = ours["by_group"]
        return max(abs(by_group[label] - value) for label, value in theirs.by_group.items())
    return abs(float(ours) - float(theirs))


def cases(size: int) -> list[tuple[str, str, Callable[[], Any], Callable[[], Any]]]:
    """(groups, metric, ours, fairlearn) at ``size`` rows."""
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2, size)
    predictions = np.where(rng.random(size) < 0.7, references, 1 - references)
    integer_groups = rng.integers(0, 8, size)
    string_groups = rng.choice(np.array(["female", "male", "nonbinary", "unknown"]), size)
    groupings: list[tuple[str, Any, Any]] = [
        ("8 integer", integer_groups, integer_groups),
        ("4 string", string_groups, string_groups),
        (
            "4 string x 8 integer",
            [string_groups, integer_groups],
            {"sex": string_groups, "age": integer_groups},
        ),
    ]
    p, r = predictions, references
    found: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = []
    for label, ours_groups, their_groups in groupings:
        found += [
            (label, "demographic parity difference",
             lambda g=ours_groups: DemographicParityDifference().compute(p, r, groups=g),
             lambda g=their_groups: demographic_parity_difference(r, p, sensitive_features=g)),
            (label, "equalized odds difference",
             lambda g=ours_groups: EqualizedOddsDifference().compute(p, r, groups=g),
             lambda g=their_groups: equalized_odds_difference(r, p, sensitive_features=g)),
            (label, "by-group accuracy (MetricFrame)",
             lambda g=ours_groups: GroupMetric("accuracy").compute(p, r, groups=g),
             lambda g=their_groups: MetricFrame(
                 metrics=accuracy_score, y_true=r, y_pred=p, sensitive_features=g)),
        ]  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e5 only (under 30 s)")
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    arguments = parser.parse_args()
    sizes = [100_000] if arguments.quick else [100_000, 1_000_000]
    warnings.simplefilter("ignore")
    rows = []
    for groups, name, ours, theirs in cases(sizes[-1]):
        ours(), theirs()  # imports, caches
        ours_s, theirs_s = userpath.median_pair(ours, theirs, arguments.runs)
        rows.append(userpath.Row(f"{name}, {groups}, n={sizes[-1]:.0e}", ours_s, "fairlearn",
                                 theirs_s, arguments.runs))  # fmt: skip
    userpath.print_rows("public fairness calls", rows)
    print("\ninner loop (best-of-N CPU time of this thread):")
    print(f"{'n':>9}  {'groups':<21} {'metric':<32} {'ours ms':>9} {'fairlearn ms':>13} "
          f"{'ratio':>8}  {'max |diff|':>10}")  # fmt: skip
    ratios = []
    for size in sizes:
        for groups, name, ours, theirs in cases(size):
            ours_ms, ours_result = best_ms(ours, repeats=7)
            their_ms, their_result = best_ms(theirs, repeats=2 if size <= 100_000 else 1)
            ratio = their_ms / ours_ms
            ratios.append(ratio)
            difference = largest_difference(ours_result, their_result)
            print(f"{size:>9,}  {groups:<21} {name:<32} {ours_ms:>9.2f} {their_ms:>13.1f} "
                  f"{ratio:>7.0f}x  {difference:>10.1e}")  # fmt: skip
    print(f"smallest ratio: {min(ratios):.0f}x, geometric mean: "
          f"{float(np.exp(np.mean(np.log(ratios)))):.0f}x (target >= 300x)")  # fmt: skip


if __name__ == "__main__":
    main()
