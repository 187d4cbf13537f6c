"""Bootstrap confidence intervals of accuracy and macro F1: modelops vs scipy vs a naive loop.

Run by hand: ``python benchmarks/bootstrap.py [--quick] [--n 100000] [--resamples 1000]
[--runs 5]`` (``--quick``: 200 resamples).

User path (printed first): ``create_evaluator("multiclass", metrics=["accuracy"],
bootstrap=B, seed=0).evaluate_result(predictions, references)`` as a user writes it (runtime,
plugin loading, the point value and the interval) against ``scipy.stats.bootstrap((hits,),
np.mean, method="percentile")`` on the same data, wall-clock median of ``--runs`` (>= 5) calls
run alternately. The inner-loop figures below time ``bootstrap_metric`` alone.

Peers, measured in the same run on the same data:
- ``scipy.stats.bootstrap`` (vectorized, percentile method) for accuracy (a mean);
- a naive loop drawing indices and calling scikit-learn's ``accuracy_score`` / ``f1_score``
  per resample (what most evaluation scripts do). The loop is timed on a fraction of the
  resamples and scaled up, so the benchmark stays short.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import userpath


def timed(function, repeat=1):
    best = float("inf")
    value = None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--loop-fraction", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="200 resamples (under 30 s)")
    parser.add_argument("--runs", type=int, default=5, help="user-path runs (>= 5)")
    args = parser.parse_args()
    if args.quick:
        args.resamples = min(args.resamples, 200)
    from modelops_metrics.classification import AccuracyMetric, F1Metric
    from scipy.stats import bootstrap as scipy_bootstrap
    from sklearn.metrics import accuracy_score, f1_score

    from modelops_core.evaluation.intervals import bootstrap_metric
    from modelops_core.evaluation.metric_spec import Columns, MetricSpec

    rng = np.random.default_rng(0)
    n, b = args.n, args.resamples
    references = rng.integers(0, args.classes, n)
    predictions = np.where(rng.random(n) < 0.8, references, rng.integers(0, args.classes, n))
    columns = Columns(predictions, references)
    accuracy = MetricSpec("accuracy", AccuracyMetric())
    f1 = MetricSpec("f1", F1Metric(average="macro"))
    value_accuracy = accuracy.compute(columns)
    value_f1 = f1.compute(columns)

    from modelops_core import create_evaluator

    def ours_user_path() -> object:
        evaluator = create_evaluator(
            "multiclass", metrics=["accuracy"], bootstrap=args.resamples, seed=0
        )
        return evaluator.evaluate_result(predictions, references)

    def scipy_user_path() -> object:
        hits = (predictions == references).astype(np.float64)
        return scipy_bootstrap(
            (hits,), np.mean, n_resamples=args.resamples, method="percentile", random_state=0
        )

    ours_user_path(), scipy_user_path()  # imports
    ours_s, scipy_s = userpath.median_pair(ours_user_path, scipy_user_path, args.runs)
    userpath.print_rows(
        "a bootstrap interval of accuracy",
        [
            userpath.Row(
                f"create_evaluator(..., bootstrap={args.resamples}).evaluate_result, n={args.n:,}",
                ours_s,
                "scipy.stats.bootstrap",
                scipy_s,
                args.runs,
            )
        ],
    )
    print("\ninner loop (bootstrap_metric alone):")

    rows = []
    ours_acc, est = timed(lambda: bootstrap_metric(accuracy, columns, value_accuracy,
                                                   resamples=b, seed=0), repeat=3)  # fmt: skip
    hits = (predictions == references).astype(np.float64)
    scipy_acc, scipy_result = timed(
        lambda: scipy_bootstrap(
            (hits,), np.mean, n_resamples=b, method="percentile", random_state=0, batch=50
        )
    )
    loop_b = max(2, int(b * args.loop_fraction))

    def loop(metric):
        local = np.random.default_rng(0)
        for _ in range(loop_b):
            index = local.integers(0, n, n)
            metric(references[index], predictions[index])

    loop_acc = timed(lambda: loop(accuracy_score))[0] * b / loop_b
    rows.append(("accuracy", ours_acc, scipy_acc, loop_acc))
    ours_f1, est_f1 = timed(lambda: bootstrap_metric(f1, columns, value_f1, resamples=b,
                                                     seed=0), repeat=3)  # fmt: skip
    loop_f1 = timed(lambda: loop(lambda r, p: f1_score(r, p, average="macro")))[0] * b / loop_b
    rows.append(("f1 (macro)", ours_f1, float("nan"), loop_f1))

    print(f"n = {n:,}, B = {b}, {args.classes} classes; times in seconds (best of 3 for ours)")
    print(
        f"{'metric':<12}{'modelops':>10}{'scipy':>10}{'sk loop':>10}"
        f"{'scipy/ours':>12}{'loop/ours':>11}"
    )
    for name, ours, scipy_time, loop_time in rows:
        print(
            f"{name:<12}{ours:>10.4f}{scipy_time:>10.3f}{loop_time:>10.2f}"
            f"{scipy_time / ours:>12.0f}{loop_time / ours:>11.0f}"
        )
    low, high = est.interval()
    ci = scipy_result.confidence_interval
    print(f"accuracy 95% CI: modelops [{low:.4f}, {high:.4f}]  scipy [{ci.low:.4f}, {ci.high:.4f}]")
    print(f"macro F1 95% CI: modelops {est_f1.interval()}")
    print(f"(sklearn loop timed on {loop_b} resamples and scaled to {b})")


if __name__ == "__main__":
    main()
