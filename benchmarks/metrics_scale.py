"""Metrics at scale: n = 1e5, 1e6, 1e7 against scikit-learn, and 1e8 rows in chunks.

Run: ``python benchmarks/metrics_scale.py [--quick] [--rows 1e8]`` (needs modelops-metrics and
scikit-learn). ``--quick``: n = 1e5 and 1e6, and 1e7 chunked rows.

0. User path (printed first): at n = 1e7 (``--quick``: 1e6) each public call,
   ``Metric().compute(predictions, references)`` against the scikit-learn function, wall-clock
   median of ``--runs`` (>= 5) calls run alternately.

1. For each n, the best-of-N CPU time (this thread) of our metric and of scikit-learn's in the
   same run, and their ratio (> 1 means we are faster).
2. In a fresh subprocess (so its peak memory is its own): ``--rows`` rows generated chunk by
   chunk (1e6 rows each, seeded per chunk), folded into the mergeable states of accuracy,
   macro F1, the confusion matrix, MCC, MSE, R², ECE and demographic parity; prints the rows
   per second and the peak resident memory from ``resource.getrusage`` (target: under 1 GiB
   for 1e8 rows). The chunked values at n = 1e7 are checked against the one-shot values.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import userpath

CHUNK = 1_000_000


def best_ms(function: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` runs in milliseconds of this thread's CPU time."""
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        function()
        best = min(best, time.thread_time() - start)
    return best * 1e3


def chunk(seed: int, size: int) -> dict[str, np.ndarray]:
    """One chunk of generated data: labels, binary scores, real values and groups."""
    rng = np.random.default_rng(seed)
    labels_true = rng.integers(0, 10, size)
    labels_pred = np.where(rng.random(size) < 0.6, labels_true, rng.integers(0, 10, size))
    binary_true = rng.integers(0, 2, size)
    real_true = rng.normal(0.0, 1.0, size)
    return {
        "labels_true": labels_true,
        "labels_pred": labels_pred,
        "binary_true": binary_true,
        "binary_pred": (rng.random(size) < 0.5).astype(np.int64),
        "scores": rng.random(size),
        "real_true": real_true,
        "real_pred": real_true + rng.normal(0.0, 0.5, size),
        "groups": rng.integers(0, 8, size),
    }


def metrics() -> list[tuple[str, Any, str, str, Callable[..., Any] | None, dict[str, Any]]]:
    """(name, our metric, predictions column, references column, scikit-learn, extra columns)."""
    import sklearn.metrics as sk
    from modelops_metrics import calibration, classification, fairness, ranking, regression

    return [
        ("accuracy", classification.AccuracyMetric(), "labels_pred", "labels_true",
         sk.accuracy_score, {}),
        ("f1 macro", classification.F1Metric(average="macro"), "labels_pred", "labels_true",
         lambda t, p: sk.f1_score(t, p, average="macro"), {}),
        ("confusion_matrix", classification.ConfusionMatrix(), "labels_pred", "labels_true",
         sk.confusion_matrix, {}),
        ("mcc", classification.MCCMetric(), "labels_pred", "labels_true",
         sk.matthews_corrcoef, {}),
        ("auc_roc (binary)", ranking.AUCROCMetric(), "scores", "binary_true",
         sk.roc_auc_score, {}),
        ("mse", regression.MSEMetric(), "real_pred", "real_true", sk.mean_squared_error, {}),
        ("r2", regression.R2Metric(), "real_pred", "real_true", sk.r2_score, {}),
        ("ece (uniform, 10 bins)", calibration.ExpectedCalibrationErrorMetric(), "scores",
         "binary_true", None, {}),
        ("demographic parity", fairness.DemographicParityDifference(), "binary_pred",
         "binary_true", None, {"groups": "groups"}),
    ]  # fmt: skip


def compare(sizes: list[int]) -> None:
    """Our one-shot time against scikit-learn's at each size."""
    print(f"{'n':>11}  {'metric':<24} {'ours ms':>10} {'sklearn ms':>11} {'ratio':>7}")
    for size in sizes:
        data = chunk(0, size)
        repeats = 3 if size <= 1_000_000 else 1
        for name, metric, predicted, actual, theirs, extra in metrics():
            if theirs is None:
                continue
            columns = {key: data[value] for key, value in extra.items()}
            p, t = data[predicted], data[actual]
            ours_ms = best_ms(lambda m=metric, p=p, t=t, c=columns: m.compute(p, t, **c), repeats)
            theirs_ms = best_ms(lambda f=theirs, p=p, t=t: f(t, p), repeats)
            print(f"{size:>11,}  {name:<24} {ours_ms:>10.1f} {theirs_ms:>11.1f} "
                  f"{theirs_ms / ours_ms:>6.1f}x")  # fmt: skip


def user_path(size: int, runs: int) -> None:
    """The public calls at ``size`` rows, wall-clock medians, run alternately."""
    data = chunk(0, size)
    rows = []
    for name, metric, predicted, actual, theirs, extra in metrics():
        if theirs is None:
            continue
        columns = {key: data[value] for key, value in extra.items()}
        p, t = data[predicted], data[actual]
        ours_s, theirs_s = userpath.median_pair(
            lambda m=metric, p=p, t=t, c=columns: m.compute(p, t, **c),
            lambda f=theirs, p=p, t=t: f(t, p),
            runs,
        )
        rows.append(userpath.Row(f"{name}.compute, n={size:.0e}", ours_s, "scikit-learn",
                                 theirs_s, runs))  # fmt: skip
    userpath.print_rows("public metric calls at scale", rows)


def fold(rows: int) -> Iterator[tuple[str, Any]]:
    """Fold ``rows`` generated rows chunk by chunk into every mergeable state."""
    states = [(name, metric.state(), p, t, extra) for name, metric, p, t, _, extra in metrics()
              if name != "auc_roc (binary)"]  # fmt: skip
    for index, start in enumerate(range(0, rows, CHUNK)):
        data = chunk(index + 1, min(CHUNK, rows - start))
        for position, (name, state, p, t, extra) in enumerate(states):
            columns = {key: data[value] for key, value in extra.items()}
            states[position] = (name, state.update(data[p], data[t], **columns), p, t, extra)
    for name, state, *_ in states:
        yield name, state.compute()


def chunked(rows: int) -> None:
    """The chunked run (in its own process): throughput and peak memory."""
    started = time.perf_counter()
    results = dict(fold(rows))
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"chunked: {rows:,} rows in {elapsed:.1f} s ({rows / elapsed / 1e6:.1f} M rows/s, "
          f"{len(results)} metrics), peak RSS {peak_mib:.0f} MiB "
          f"({'under' if peak_mib < 1024 else 'OVER'} 1 GiB)")  # fmt: skip
    for name, value in results.items():
        size = len(value["labels"]) if isinstance(value, dict) else 0
        shown = f"{size}x{size} matrix" if size else value
        print(f"  {name:<24} {shown}")


def check_chunked_equals_one_shot(size: int) -> None:
    """At ``size`` rows: chunked states give the one-shot values (max |difference|)."""
    from modelops_core.testing import assert_close

    data = {key: np.concatenate([chunk(index + 1, CHUNK)[key] for index in range(size // CHUNK)])
            for key in chunk(0, 1)}  # fmt: skip
    folded = dict(fold(size))
    for name, metric, p, t, _, extra in metrics():
        if name in folded:
            columns = {key: data[value] for key, value in extra.items()}
            assert_close(folded[name], metric.compute(data[p], data[t], **columns), 1e-9)
    print(f"check: chunked == one-shot at n = {size:,} for {len(folded)} metrics (rel 1e-9)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5, 1e6; 1e7 chunked rows")
    parser.add_argument("--rows", type=float, default=None, help="rows for the chunked run")
    parser.add_argument("--chunked", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    arguments = parser.parse_args()
    warnings.simplefilter("ignore")
    if arguments.chunked is not None:
        chunked(int(arguments.chunked))
        return
    rows = int(arguments.rows or (1e7 if arguments.quick else 1e8))
    user_path(1_000_000 if arguments.quick else 10_000_000, arguments.runs)
    print("\ninner loop (best-of-N CPU time of this thread) and the chunked run:")
    subprocess.run([sys.executable, __file__, "--chunked", str(rows)], check=True)
    compare([100_000, 1_000_000] if arguments.quick else [100_000, 1_000_000, 10_000_000])
    check_chunked_equals_one_shot(2 * CHUNK if arguments.quick else 10 * CHUNK)


if __name__ == "__main__":
    main()
