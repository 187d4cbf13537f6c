"""Multiclass CBPE against NannyML's ``CBPE``, same run, same files.

Run: python benchmarks/cbpe.py [--rows 100000] [--chunk-size 10000] [--repeat 5]
                                [--nannyml-python PATH]

NannyML runs in its own virtual environment (never in the project's dependencies)::

    python3 -m venv /tmp/peers/nannyml
    /tmp/peers/nannyml/bin/pip install nannyml==0.13.1 statsmodels

The data: 3 classes, ``--rows`` reference and ``--rows`` current rows of overconfident
probabilities (true ones sharpened, so both estimators calibrate every class) and labels drawn
from the true ones, written as CSV (probabilities rounded to 6 digits, the predicted class, the
label). Measured, each the wall-clock median of ``--repeat`` runs (and the CPU time):

- ours, CLI: ``python -m modelops_core monitor performance ref.csv cur.csv --label label
  --proba ... --chunk-size N --json --no-alerts`` as a whole process;
- NannyML, script: a process that reads both CSVs with pandas, fits ``CBPE`` on the reference
  and estimates the current chunks (NannyML's user path has no command for this);
- in process, data already in memory: ``MulticlassCBPE.fit(...).compare_chunks(...)`` against
  ``CBPE(...).fit(reference).estimate(current)``.

It prints the ratios and, per chunk, the largest difference between our estimates and NannyML's
(accuracy and macro precision, recall, F1), and each side's mean error against the realization.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import userpath

CLASSES = ("cat", "dog", "fox")
METRICS = {  # NannyML's name -> ours
    "accuracy": "accuracy",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "f1": "f1_macro",
}

NANNYML_SCRIPT = r"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
import nannyml as nml

reference_path, current_path, chunk_size, repeat, mode = sys.argv[1:6]
classes = ["cat", "dog", "fox"]
reference = pd.read_csv(reference_path)
current = pd.read_csv(current_path)

def run():
    estimator = nml.CBPE(
        y_pred_proba={c: f"p_{c}" for c in classes}, y_pred="y_pred", y_true="label",
        problem_type="classification_multiclass",
        metrics=["accuracy", "precision", "recall", "f1"], chunk_size=int(chunk_size),
    )
    estimator.fit(reference)
    return estimator.estimate(current).filter(period="analysis").to_df()

if mode == "once":
    run()
    raise SystemExit(0)
times = []
for _ in range(int(repeat)):
    started = time.perf_counter()
    frame = run()
    times.append(time.perf_counter() - started)
names = ("accuracy", "precision", "recall", "f1")
found = {name: frame[(name, "value")].tolist() for name in names}
realized = {name: frame[(name, "realized")].tolist() for name in found}
print(json.dumps({"median": statistics.median(times), "estimated": found, "realized": realized}))
"""


def make_data(rows: int, seed: int, folder: Path, name: str) -> Path:
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.full(3, 0.7), size=rows)
    labels = np.minimum((rng.uniform(size=rows)[:, None] > truth.cumsum(axis=1)).sum(axis=1), 2)
    logits = np.log(np.clip(truth, 1e-300, None)) * 2.5
    scores = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = (scores / scores.sum(axis=1, keepdims=True)).round(6)
    names = np.asarray(CLASSES)
    path = folder / name
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(f"p_{c}" for c in CLASSES) + ",y_pred,label\n")
        for row, label in zip(scores, labels, strict=True):
            cells = [f"{v:.6f}" for v in row]
            handle.write(",".join([*cells, names[row.argmax()], names[label]]) + "\n")
    return path


def ours_in_process(reference: Path, current: Path, chunk_size: int, repeat: int) -> tuple:
    import pandas as pd

    from modelops_core.monitoring.performance import MulticlassCBPE

    columns = {c: f"p_{c}" for c in CLASSES}  # as NannyML's y_pred_proba
    ref, cur = pd.read_csv(reference), pd.read_csv(current)

    def run() -> tuple:
        estimator = MulticlassCBPE.fit(
            ref, ref["label"], classes=columns, chunk_size=chunk_size,
            metrics=tuple(METRICS.values()),
        )  # fmt: skip
        chunks = estimator.compare_chunks(cur, cur["label"], chunk_size)
        return estimator, chunks

    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        estimator, chunks = run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu), estimator, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nannyml-python", default=None)
    options = parser.parse_args()
    repeat = max(options.repeat, userpath.MINIMUM_RUNS)
    nannyml = options.nannyml_python or userpath.peer_python(
        "nannyml", "nannyml==0.13.1 statsmodels"
    )
    folder = Path(tempfile.mkdtemp(prefix="cbpe-bench-"))
    reference = make_data(options.rows, 0, folder, "ref.csv")
    current = make_data(options.rows, 1, folder, "cur.csv")
    print(f"{options.rows} reference and current rows, 3 classes, chunks of {options.chunk_size}")

    command = [
        sys.executable, "-m", "modelops_core", "monitor", "performance", str(reference),
        str(current), "--label", "label", *(f"--proba={c}=p_{c}" for c in CLASSES),
        "--chunk-size", str(options.chunk_size), "--json", "--no-alerts",
        *(f"--metric={m}" for m in METRICS.values()),
    ]  # fmt: skip
    ours_cli, ours_cli_cpu = userpath.process_medians(command, repeat, cwd=folder)
    ours_api, ours_api_cpu, estimator, chunks = ours_in_process(
        reference, current, options.chunk_size, repeat
    )
    rows = [
        userpath.Row("monitor performance (CLI)", ours_cli, "nannyml script", None, repeat),
        userpath.Row("MulticlassCBPE in memory", ours_api, "nannyml in memory", None, repeat),
    ]
    if nannyml is not None:
        script = folder / "nannyml_cbpe.py"
        script.write_text(NANNYML_SCRIPT)
        args = [str(reference), str(current), str(options.chunk_size), str(repeat)]
        theirs_cli, theirs_cli_cpu = userpath.process_medians(
            [nannyml, str(script), *args, "once"], repeat, cwd=folder
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        finished = subprocess.run(
            [nannyml, str(script), *args, "timed"], capture_output=True, text=True, check=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        theirs = json.loads(finished.stdout)
        theirs_api_cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / (
            repeat
        )
        rows = [
            userpath.Row(
                "monitor performance (CLI)", ours_cli, "nannyml script", theirs_cli, repeat,
                f"CPU s: ours {ours_cli_cpu:.3f}, nannyml {theirs_cli_cpu:.3f}",
            ),
            userpath.Row(
                "MulticlassCBPE in memory", ours_api, "nannyml in memory", theirs["median"],
                repeat, f"CPU s: ours {ours_api_cpu:.3f}, nannyml ~{theirs_api_cpu:.3f} "
                "(its process's CPU / runs, reading included)",
            ),
        ]  # fmt: skip
    userpath.print_rows("multiclass CBPE, fit on the reference + estimate per chunk", rows)
    calibrated = [c for c, check in zip(CLASSES, estimator.checks, strict=True) if check.calibrated]
    print(f"\ncalibrated classes (ours): {', '.join(calibrated) or 'none'}")
    if nannyml is not None:
        print("estimates, ours against NannyML's, per chunk:")
        for theirs_name, ours_name in METRICS.items():
            ours_values = [c.estimated.metrics[ours_name] for c in chunks]
            ours_real = [c.realized.metrics[ours_name] for c in chunks]
            their_values = theirs["estimated"][theirs_name]
            their_real = theirs["realized"][theirs_name]
            difference = max(abs(a - b) for a, b in zip(ours_values, their_values, strict=True))
            realized = max(abs(a - b) for a, b in zip(ours_real, their_real, strict=True))
            error_ours = statistics.mean(
                abs(a - b) for a, b in zip(ours_values, ours_real, strict=True)
            )
            error_theirs = statistics.mean(
                abs(a - b) for a, b in zip(their_values, their_real, strict=True)
            )
            print(
                f"  {ours_name:16s} max |ours - nannyml| {difference:.2e} (realized "
                f"{realized:.1e}); mean |estimate - realized| ours {error_ours:.4f}, "
                f"nannyml {error_theirs:.4f}"
            )


if __name__ == "__main__":
    main()
