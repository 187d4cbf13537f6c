"""Benchmark modelops-metrics (classification, ranking, regression) against scikit-learn.

Run: ``python benchmarks/metrics.py [--quick]`` (needs modelops-metrics and scikit-learn installed).
Prints the best-of-N time of each metric for both libraries at n = 1e5 and 1e6 (``--quick``: 1e5
only) and the ratio scikit-learn / ours measured in the same run (> 1 means we are faster).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as sk
from modelops_metrics import classification as c
from modelops_metrics import ranking as r
from modelops_metrics import regression as g


def best_ms(function: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def cases(size: int) -> list[tuple[str, str, Callable[[], Any], Callable[[], Any]]]:
    """(group, name, ours, scikit-learn) for every benchmarked metric at ``size`` rows."""
    rng = np.random.default_rng(0)
    labels_true = rng.integers(0, 10, size)
    labels_pred = np.where(rng.random(size) < 0.6, labels_true, rng.integers(0, 10, size))
    binary_true = rng.integers(0, 2, size)
    scores = rng.random(size)
    probabilities = rng.dirichlet(np.ones(10), size)
    real_true = rng.normal(0.0, 1.0, size)
    real_pred = real_true + rng.normal(0.0, 0.5, size)
    p, t = labels_pred, labels_true
    return [
        ("classification", "accuracy", lambda: c.AccuracyMetric().compute(p, t),
         lambda: sk.accuracy_score(t, p)),
        ("classification", "precision macro", lambda: c.PrecisionMetric(average="macro").compute(p, t),  # noqa: E501
         lambda: sk.precision_score(t, p, average="macro")),
        ("classification", "recall macro", lambda: c.RecallMetric(average="macro").compute(p, t),
         lambda: sk.recall_score(t, p, average="macro")),
        ("classification", "f1 macro", lambda: c.F1Metric(average="macro").compute(p, t),
         lambda: sk.f1_score(t, p, average="macro")),
        ("classification", "confusion_matrix", lambda: c.ConfusionMatrix().compute(p, t),
         lambda: sk.confusion_matrix(t, p)),
        ("classification", "balanced_accuracy", lambda: c.BalancedAccuracyMetric().compute(p, t),
         lambda: sk.balanced_accuracy_score(t, p)),
        ("classification", "mcc", lambda: c.MCCMetric().compute(p, t),
         lambda: sk.matthews_corrcoef(t, p)),
        ("classification", "cohen_kappa", lambda: c.CohenKappaMetric().compute(p, t),
         lambda: sk.cohen_kappa_score(t, p)),
        ("probability", "log_loss (10 classes)", lambda: c.LogLossMetric().compute(probabilities, t),  # noqa: E501
         lambda: sk.log_loss(t, probabilities)),
        ("probability", "brier (binary)", lambda: c.BrierScoreMetric().compute(scores, binary_true),
         lambda: sk.brier_score_loss(binary_true, scores)),
        ("ranking", "auc_roc (binary)", lambda: r.AUCROCMetric().compute(scores, binary_true),
         lambda: sk.roc_auc_score(binary_true, scores)),
        ("ranking", "average_precision", lambda: r.AveragePrecisionMetric().compute(scores, binary_true),  # noqa: E501
         lambda: sk.average_precision_score(binary_true, scores)),
        ("ranking", "roc_curve", lambda: r.ROCCurve().compute(scores, binary_true),
         lambda: sk.roc_curve(binary_true, scores)),
        ("regression", "mse", lambda: g.MSEMetric().compute(real_pred, real_true),
         lambda: sk.mean_squared_error(real_true, real_pred)),
        ("regression", "mae", lambda: g.MAEMetric().compute(real_pred, real_true),
         lambda: sk.mean_absolute_error(real_true, real_pred)),
        ("regression", "rmse", lambda: g.RMSEMetric().compute(real_pred, real_true),
         lambda: sk.root_mean_squared_error(real_true, real_pred)),
        ("regression", "r2", lambda: g.R2Metric().compute(real_pred, real_true),
         lambda: sk.r2_score(real_true, real_pred)),
        ("regression", "mape", lambda: g.MAPEMetric().compute(real_pred, real_true),
         lambda: sk.mean_absolute_percentage_error(real_true, real_pred)),
        ("regression", "explained_variance",
         lambda: g.ExplainedVarianceMetric().compute(real_pred, real_true),
         lambda: sk.explained_variance_score(real_true, real_pred)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e5 only (under 30 s)")
    arguments = parser.parse_args()
    sizes = [100_000] if arguments.quick else [100_000, 1_000_000]
    warnings.simplefilter("ignore")
    print(f"{'n':>9}  {'metric':<24} {'ours ms':>9} {'sklearn ms':>11} {'ratio':>7}")
    for size in sizes:
        repeats = 5 if size <= 100_000 else 3
        group_totals: dict[str, list[float]] = {}
        for group, name, ours, theirs in cases(size):
            ours(), theirs()  # warm up (imports, caches)
            ours_ms, theirs_ms = best_ms(ours, repeats), best_ms(theirs, repeats)
            totals = group_totals.setdefault(group, [0.0, 0.0])
            totals[0] += ours_ms
            totals[1] += theirs_ms
            ratio = theirs_ms / ours_ms
            print(f"{size:>9}  {name:<24} {ours_ms:>9.2f} {theirs_ms:>11.2f} {ratio:>6.1f}x")
        for group, (ours_ms, theirs_ms) in group_totals.items():
            label = f"[{group} suite]"
            ratio = theirs_ms / ours_ms
            print(f"{size:>9}  {label:<24} {ours_ms:>9.2f} {theirs_ms:>11.2f} {ratio:>6.1f}x")


if __name__ == "__main__":
    main()
