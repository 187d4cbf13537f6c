"""Benchmark modelops-metrics (classification, ranking, regression) against scikit-learn.

Run: ``python benchmarks/metrics.py [--quick]`` (needs modelops-metrics and scikit-learn installed).
Prints the best-of-N CPU time of each metric for both libraries at n = 1e5 and 1e6 (``--quick``: 1e5
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
    """The fastest of ``repeats`` runs, in milliseconds of this thread's CPU time.

    CPU time, not wall time: on a shared machine other processes then do not skew the ratio
    (every function here runs on one thread).
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        function()
        best = min(best, time.thread_time() - start)
    return best * 1e3


# (group, name, our metric, scikit-learn function, its keyword options, data): every metric is
# called as ``ours.compute(predictions, references)`` and ``sklearn(references, predictions)``.
TABLE: list[tuple[str, str, Any, Callable[..., Any], dict[str, Any], str]] = [
    ("classification", "accuracy", c.AccuracyMetric(), sk.accuracy_score, {}, "labels"),
    ("classification", "precision macro", c.PrecisionMetric(average="macro"), sk.precision_score,
     {"average": "macro"}, "labels"),
    ("classification", "recall macro", c.RecallMetric(average="macro"), sk.recall_score,
     {"average": "macro"}, "labels"),
    ("classification", "f1 macro", c.F1Metric(average="macro"), sk.f1_score,
     {"average": "macro"}, "labels"),
    ("classification", "confusion_matrix", c.ConfusionMatrix(), sk.confusion_matrix, {}, "labels"),
    ("classification", "balanced_accuracy", c.BalancedAccuracyMetric(),
     sk.balanced_accuracy_score, {}, "labels"),
    ("classification", "mcc", c.MCCMetric(), sk.matthews_corrcoef, {}, "labels"),
    ("classification", "cohen_kappa", c.CohenKappaMetric(), sk.cohen_kappa_score, {}, "labels"),
    ("probability", "log_loss (10 classes)", c.LogLossMetric(), sk.log_loss, {}, "probabilities"),
    ("probability", "brier (binary)", c.BrierScoreMetric(), sk.brier_score_loss, {}, "scores"),
    ("ranking", "auc_roc (binary)", r.AUCROCMetric(), sk.roc_auc_score, {}, "scores"),
    ("ranking", "auc_roc (ovr, 10 classes)", r.AUCROCMetric(), sk.roc_auc_score,
     {"multi_class": "ovr"}, "probabilities"),
    ("ranking", "average_precision", r.AveragePrecisionMetric(), sk.average_precision_score, {},
     "scores"),
    ("ranking", "roc_curve", r.ROCCurve(), sk.roc_curve, {}, "scores"),
    ("regression", "mse", g.MSEMetric(), sk.mean_squared_error, {}, "real"),
    ("regression", "mae", g.MAEMetric(), sk.mean_absolute_error, {}, "real"),
    ("regression", "rmse", g.RMSEMetric(), sk.root_mean_squared_error, {}, "real"),
    ("regression", "r2", g.R2Metric(), sk.r2_score, {}, "real"),
    ("regression", "mape", g.MAPEMetric(), sk.mean_absolute_percentage_error, {}, "real"),
    ("regression", "explained_variance", g.ExplainedVarianceMetric(),
     sk.explained_variance_score, {}, "real"),
]  # fmt: skip


def datasets(size: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(predictions, references) of each kind of data at ``size`` rows, seeded."""
    rng = np.random.default_rng(0)
    labels_true = rng.integers(0, 10, size)
    labels_pred = np.where(rng.random(size) < 0.6, labels_true, rng.integers(0, 10, size))
    real_true = rng.normal(0.0, 1.0, size)
    return {
        "labels": (labels_pred, labels_true),
        "scores": (rng.random(size), rng.integers(0, 2, size)),
        "probabilities": (rng.dirichlet(np.ones(10), size), labels_true),
        "real": (real_true + rng.normal(0.0, 0.5, size), real_true),
    }


def cases(size: int) -> list[tuple[str, str, Callable[[], Any], Callable[[], Any]]]:
    """(group, name, ours, scikit-learn) for every benchmarked metric at ``size`` rows."""
    data = datasets(size)
    found = []
    for group, name, metric, theirs, options, kind in TABLE:
        predictions, references = data[kind]
        found.append(
            (
                group,
                name,
                lambda m=metric, p=predictions, t=references: m.compute(p, t),
                lambda f=theirs, p=predictions, t=references, o=options: f(t, p, **o),
            )
        )
    return found


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
