"""Benchmark modelops-metrics (classification, ranking, regression) against scikit-learn.

Run: ``python benchmarks/metrics.py [--quick] [--runs N]`` (needs modelops-metrics and
scikit-learn installed).

User path (printed first): at n = 1e6 (``--quick``: 1e5), the public call as a user writes it,
``Metric(...).compute(predictions, references)`` against ``sklearn.metrics.<function>(references,
predictions)``, wall-clock median of ``--runs`` (>= 5) calls run alternately in this process
(input checks and label handling included; both libraries already imported). Then whole
processes for AUC-ROC on 1e6 continuous scores read from a ``.npy`` file: ``python -c`` that
imports the library and computes the value (interpreter start and imports included), median of
``--runs`` processes each. Ratios are scikit-learn / ours (> 1: we are faster).

Then AUC-ROC alone (issue 15): ``AUCROCMetric().compute(scores, labels)`` against
``roc_auc_score`` at n = 1e5, 1e6 and 1e7 (``--quick``: 1e5), continuous, rounded and float32
scores, wall-clock and CPU medians of ``--runs`` calls run alternately, and whether the values
are equal (they must be, bit for bit).

Inner loop (beside it): the best-of-N CPU time of each metric for both libraries at n = 1e5
and 1e6 (``--quick``: 1e5 only).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn.metrics as sk
from modelops_metrics import classification as c
from modelops_metrics import ranking as r
from modelops_metrics import regression as g

sys.path.insert(0, str(Path(__file__).parent))
import userpath


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


OURS_AUC = """
import sys, numpy as np
data = np.load(sys.argv[1])
from modelops_core import AUCROCMetric
print(AUCROCMetric().compute(data["scores"], data["labels"]))
"""
THEIRS_AUC = """
import sys, numpy as np
data = np.load(sys.argv[1])
from sklearn.metrics import roc_auc_score
print(roc_auc_score(data["labels"], data["scores"]))
"""


def user_path(size: int, runs: int) -> None:
    rows = []
    for _, name, ours, theirs in cases(size):
        ours(), theirs()  # imports, caches
        ours_s, theirs_s = userpath.median_pair(ours, theirs, runs)
        rows.append(userpath.Row(f"{name}, n={size:.0e}", ours_s, "scikit-learn", theirs_s, runs))
    with tempfile.TemporaryDirectory(prefix="modelops-metrics-") as folder:
        data = Path(folder) / "auc.npz"
        rng = np.random.default_rng(0)
        np.savez(data, scores=rng.random(size), labels=rng.integers(0, 2, size))
        answers = [
            subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True,
                           text=True, check=True).stdout.strip()
            for script in (OURS_AUC, THEIRS_AUC)
        ]  # fmt: skip
        ours_s = userpath.median_process([sys.executable, "-c", OURS_AUC, str(data)], runs)
        theirs_s = userpath.median_process([sys.executable, "-c", THEIRS_AUC, str(data)], runs)
        rows.append(userpath.Row(
            f"python -c: import + AUCROCMetric().compute, n={size:.0e}", ours_s,
            "scikit-learn", theirs_s, runs,
            f"the values printed: ours {answers[0]}, scikit-learn {answers[1]} "
            f"({'equal' if answers[0] == answers[1] else 'DIFFERENT'})",
        ))  # fmt: skip
    userpath.print_rows("public metric calls", rows)


def timed_pair(
    ours: Callable[[], Any], theirs: Callable[[], Any], runs: int
) -> tuple[float, float, float, float]:
    """Wall-clock and CPU (this thread) medians of both calls, in seconds, run alternately:
    ``(ours wall, theirs wall, ours CPU, theirs CPU)``. On a machine shared with other work the
    CPU time grows far less than the wall time."""
    times: list[list[float]] = [[], [], [], []]
    for _ in range(max(runs, userpath.MINIMUM_RUNS)):
        for index, run in enumerate((ours, theirs)):
            wall, cpu = time.perf_counter(), time.thread_time()
            run()
            times[index].append(time.perf_counter() - wall)
            times[index + 2].append(time.thread_time() - cpu)
    return (
        statistics.median(times[0]),
        statistics.median(times[1]),
        statistics.median(times[2]),
        statistics.median(times[3]),
    )


AUC_SCORES: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "continuous": lambda rng, size: rng.random(size),
    "rounded to 2 decimals (ties)": lambda rng, size: np.round(rng.random(size), 2),
    "float32 (a few ties)": lambda rng, size: rng.random(size).astype(np.float32).astype(float),
}


def auc_user_path(sizes: list[int], runs: int) -> None:
    """``AUCROCMetric().compute(scores, labels)`` against ``roc_auc_score(labels, scores)``:
    float64 scores and 0/1 integer labels (numpy arrays, as docs/evaluation.md shows), input
    checks and label handling included, at each size and kind of scores."""
    from modelops_core import AUCROCMetric

    metric = AUCROCMetric()
    rows = []
    for size in sizes:
        for kind, make in AUC_SCORES.items():
            if size > 1_000_000 and kind != "continuous":
                continue
            rng = np.random.default_rng(0)
            labels = rng.integers(0, 2, size)
            scores = make(rng, size)
            ours_value, theirs_value = (
                metric.compute(scores, labels),
                sk.roc_auc_score(labels, scores),
            )
            ours_s, theirs_s, ours_cpu, theirs_cpu = timed_pair(
                lambda s=scores, y=labels: metric.compute(s, y),
                lambda s=scores, y=labels: sk.roc_auc_score(y, s),
                runs,
            )
            rows.append(userpath.Row(
                f"AUCROCMetric().compute, {kind}, n={size:.0e}", ours_s, "scikit-learn",
                theirs_s, runs,
                f"CPU medians: ours {ours_cpu * 1e3:.1f} ms, scikit-learn "
                f"{theirs_cpu * 1e3:.1f} ms ({theirs_cpu / ours_cpu:.1f}x); values "
                f"{'equal' if ours_value == theirs_value else 'DIFFERENT'} ({ours_value!r})",
            ))  # fmt: skip
    userpath.print_rows("AUC-ROC (issue 15: goal >= 5x scikit-learn at n = 1e6)", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e5 only (under 30 s)")
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    arguments = parser.parse_args()
    sizes = [100_000] if arguments.quick else [100_000, 1_000_000]
    warnings.simplefilter("ignore")
    user_path(sizes[-1], arguments.runs)
    auc_user_path([100_000] if arguments.quick else [100_000, 1_000_000, 10_000_000],
                  arguments.runs)  # fmt: skip
    print("\ninner loop (best-of-N CPU time of this thread, both libraries imported):")
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
