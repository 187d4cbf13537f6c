"""The ``onnx`` optimization: predict latency of the original scikit-learn model and its
optimized ONNX version (run by hand).

    python benchmarks/onnx.py [--quick] [--runs 5]

For a logistic regression, a random forest and an MLP (scikit-learn's bundled breast cancer
data, 70/30 split): each is registered, ``InferenceOptimizer().optimize("NAME/1",
target="latency", holdout=(X_test, y_test))`` converts it and runs the quality gate, and then
the original (``predict`` on a DataFrame, as it was fitted) and the registered ONNX version
(``registry.load(...).predict`` on a float32 array, conversion timed with it) answer

- batch 1: every held-out row, one call each, alternating the two models;
- batch 1,000: 1,000 rows (the held-out rows repeated) in one call.

Each figure is the median of ``--runs`` (>= 5) wall-clock repetitions; the speed-up is
original / optimized. The gate's result is printed for each model (the candidate chosen, or
why every candidate was refused).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# this file is named onnx.py: its folder must not shadow the onnx package skl2onnx imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from modelops_core import InferenceOptimizer, ModelRegistry, QualityGateError, Runtime  # noqa: E402
from modelops_core.config import parse_config  # noqa: E402


def models() -> dict[str, Any]:
    return {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "random forest": RandomForestClassifier(100, random_state=0),
        "mlp": make_pipeline(
            StandardScaler(), MLPClassifier((64, 32), max_iter=500, random_state=0)
        ),
    }


def median_seconds(call: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batch_one(original: Any, optimized: Any, X: Any, runs: int) -> tuple[float, float]:
    """Median per-call seconds over ``runs`` passes, each pass alternating row by row."""
    per_pass: dict[str, list[float]] = {"original": [], "optimized": []}
    for _ in range(runs):
        spent = {"original": 0.0, "optimized": 0.0}
        for index in range(len(X)):
            row = X.iloc[index : index + 1]
            start = time.perf_counter()
            original.predict(row)
            middle = time.perf_counter()
            optimized.predict(np.asarray(row, dtype=np.float32))
            spent["original"] += middle - start
            spent["optimized"] += time.perf_counter() - middle
        for side in spent:
            per_pass[side].append(spent[side] / len(X))
    return statistics.median(per_pass["original"]), statistics.median(per_pass["optimized"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 rows for batch 1")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(5, args.runs)
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    single = X_test.iloc[:50] if args.quick else X_test
    thousand = X_test.iloc[np.arange(1000) % len(X_test)]
    thousand32 = thousand.to_numpy(dtype=np.float32)
    home = Path(tempfile.mkdtemp(prefix="modelops-onnx-bench-"))
    runtime = Runtime(parse_config({"home": str(home / ".modelops")}), environ={})
    optimizer = InferenceOptimizer(runtime)
    print(f"breast cancer: {len(X_train)} training rows, {len(X_test)} held out; "
          f"medians of {runs} runs, wall clock")  # fmt: skip
    header = ("model", "gate", "batch 1 original", "batch 1 onnx", "speed-up",
              "batch 1000 original", "batch 1000 onnx", "speed-up")  # fmt: skip
    print(" | ".join(header))
    for label, model in models().items():
        name = label.replace(" ", "-")
        model.fit(X_train, y_train)
        with ModelRegistry(runtime) as registry:
            registry.register(name, "1", model=model)
        try:
            result = optimizer.optimize_result(f"{name}/1", target="latency",
                                               holdout=(X_test, y_test))  # fmt: skip
        except QualityGateError as refused:
            print(f"{label} | refused: {refused}")
            continue
        report = result.reports["onnx"]
        gate = (f"passed ({report['candidate']}; agreement {report['label_agreement']:.2%}, "
                f"max proba diff {report['max_proba_diff']:.1e})")  # fmt: skip
        with ModelRegistry(runtime) as registry:
            optimized = registry.load(result.name, result.version)
        one_before, one_after = batch_one(model, optimized, single, runs)
        many_before = median_seconds(lambda m=model: m.predict(thousand), runs)
        many_after = median_seconds(lambda o=optimized: o.predict(thousand32), runs)
        print(" | ".join([
            label, gate,
            f"{one_before * 1e3:.3f} ms", f"{one_after * 1e3:.3f} ms",
            f"{one_before / one_after:.1f}x",
            f"{many_before * 1e3:.2f} ms", f"{many_after * 1e3:.2f} ms",
            f"{many_before / many_after:.1f}x",
        ]))  # fmt: skip


if __name__ == "__main__":
    main()
