"""Drift of 20 columns (10 numeric, 10 categorical) against Evidently's DataDriftPreset, same run.

Run: python benchmarks/drift.py [--quick] [--rows 100000] [--repeat 5] [--python PATH]
[--evidently-python PATH]

Evidently 0.7.23 needs ``pandas<3``, so it runs in its own virtual environment (never in the
project's dependencies)::

    python3 -m venv /tmp/peers/evidently
    /tmp/peers/evidently/bin/pip install evidently==0.7.23 'pandas<3'

Measured, each the wall-clock median of ``--repeat`` runs:

- ours, Python API: ``Monitor(reference_frame).drift(current_frame)`` on in-memory pandas
  DataFrames (profiling both included; the columns of a chunk are profiled on threads, so its
  CPU time is printed beside the wall clock);
- ours, Python API with the monitor built once: ``monitor.drift(current_frame)`` (the current
  side profiled; a service checking windows against one reference), beside, not instead;
- ours, CLI: ``python -m modelops_core monitor drift ref.csv cur.csv --json`` as a whole process
  (interpreter start, imports, reading the files);
- Evidently: ``Report([DataDriftPreset()]).run(current, reference)`` in its interpreter on the
  same DataFrames, already in memory (read from the same CSV files before timing), wall clock
  and CPU time;
- ours, CLI with the reference saved once (``modelops monitor profile ref.csv --output
  ref.profile.json``), then ``modelops monitor drift ref.profile.json cur.csv --json``: a
  monitoring job's daily run;
- Evidently as a script a user runs (a whole process: import, ``pd.read_csv`` of both files,
  the preset), beside our CLI on the same files;
- merging 1,000 window profiles (100 rows each) into one.
- beside the command (not a peer): its floor, a process that only imports numpy and
  pyarrow's CSV reader and parses both files with Arrow on two threads (``FLOOR_SCRIPT``), to
  show how much of the command is what any pyarrow-based reader of these files pays.

The CLI rows run with ``--python`` (default: this interpreter); give the interpreter of a
plain ``pip install modelops-core`` to time what users install (the API rows always run in this
process). The output names the interpreter, the ``modelops_core`` it imports and its pyarrow.

It prints the ratios, whether the drifted columns agree, and for the methods both use the
largest relative difference of the values.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import userpath

EVIDENTLY_SCRIPT = r"""
import json, statistics, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

reference = pd.read_csv(sys.argv[1])
current = pd.read_csv(sys.argv[2])
repeat = int(sys.argv[3])
times, cpu = [], []
for _ in range(repeat):
    start, started = time.perf_counter(), time.process_time()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - started)
columns = {}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        columns[config["column"]] = {
            "method": config["method"], "value": metric["value"], "threshold": config["threshold"]
        }
print(json.dumps({"seconds": statistics.median(times), "cpu": statistics.median(cpu),
                  "columns": columns}))
"""

#: Evidently as a user runs it: a script that imports it, reads the two CSV files and runs the
#: preset (a whole process, like our CLI row).
EVIDENTLY_PROCESS = r"""
import sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

reference = pd.read_csv(sys.argv[1])
current = pd.read_csv(sys.argv[2])
Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
"""

#: the least a command reading the files with pyarrow does (beside the command, not a peer):
#: numpy (one OpenBLAS thread, as the command loads it) and pyarrow's CSV reader imported, and
#: both files parsed by Arrow on two threads at once, categories dictionary-encoded (as the
#: command reads them); no profile, no test, no output.
FLOOR_SCRIPT = r"""
import os, sys, threading
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy
import pyarrow.csv as pcsv
options = pcsv.ConvertOptions(auto_dict_encode=True)
read = pcsv.ReadOptions(use_threads=False)
threads = [
    threading.Thread(target=pcsv.read_csv, args=(path, read, None, options))
    for path in sys.argv[1:3]
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""

#: Evidently's display names of the methods we share.
SHARED = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
}


def make_data(rows: int, seed: int = 0) -> tuple[Any, Any]:
    """Reference and current frames: columns 0-4 of each kind drift, 5-9 do not."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    categories = [f"cat{i}" for i in range(12)]
    base = np.linspace(1, 2, len(categories))
    base /= base.sum()
    skewed = base[::-1].copy()

    def frame(drift: bool) -> Any:
        columns: dict[str, Any] = {}
        for i in range(10):
            shift = 0.3 * (i + 1) / 5 if drift and i < 5 else 0.0
            columns[f"num{i}"] = rng.normal(10 * i + shift, 1 + i / 10, rows).round(5)
        for i in range(10):
            p = (0.5 * base + 0.5 * skewed) if drift and i < 5 else base
            if drift and i < 2:
                p = skewed
            columns[f"cat{i}"] = rng.choice(categories, rows, p=p)
        return pd.DataFrame(columns)

    return frame(False), frame(True)


def median_seconds(action: Any, repeat: int) -> float:
    return median_times(action, repeat)[0]


def median_times(action: Any, repeat: int) -> tuple[float, float]:
    """The median wall-clock and CPU seconds (this process, all its threads) of ``action``."""
    times, cpu = [], []
    for _ in range(repeat):
        start, started = time.perf_counter(), time.process_time()
        action()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - started)
    return statistics.median(times), statistics.median(cpu)


def describe_install(python: str) -> str:
    """The interpreter, the ``modelops_core`` it imports (an editable checkout or an installed
    wheel) and its pyarrow (the CSV reader), as the CLI rows ran them."""
    probe = (
        "import importlib.util, modelops_core; "
        "spec = importlib.util.find_spec('pyarrow'); "
        "version = __import__('pyarrow').__version__ if spec else 'absent'; "
        "print(modelops_core.__file__, version)"
    )
    found = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, env=userpath.user_environment()
    )
    if found.returncode != 0:
        return f"{python} (cannot import modelops_core: {found.stderr.strip()[-200:]})"
    package, pyarrow = found.stdout.split()
    return f"{python} (modelops_core from {Path(package).parent}, pyarrow {pyarrow})"


def merge_benchmark(repeat: int) -> float:
    from modelops_core.monitoring.profile import Profile, merge_all

    windows = [Profile.build(make_data(100, seed=s)[1]) for s in range(1000)]
    return median_seconds(lambda: merge_all(windows), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", help="interpreter of the CLI rows (default: this one)")
    parser.add_argument("--evidently-python", default="/tmp/peers/evidently/bin/python")
    parser.add_argument("--quick", action="store_true", help="10,000 rows (under a minute)")
    args = parser.parse_args()
    if args.quick:
        args.rows = min(args.rows, 10_000)
    args.repeat = max(args.repeat, userpath.MINIMUM_RUNS)

    from modelops_core import Monitor

    python = args.python or sys.executable
    start_load = userpath.load_average()
    reference, current = make_data(args.rows)
    ours = Monitor(reference).drift(current)
    api, api_cpu = median_times(lambda: Monitor(reference).drift(current), args.repeat)
    monitor = Monitor(reference)
    window, window_cpu = median_times(lambda: monitor.drift(current), args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        ref_csv, cur_csv = Path(folder, "ref.csv"), Path(folder, "cur.csv")
        reference.to_csv(ref_csv, index=False)
        current.to_csv(cur_csv, index=False)
        command = [python, "-m", "modelops_core", "monitor", "drift"]
        command += [str(ref_csv), str(cur_csv), "--json"]
        # as an installed package runs: bytecode cached (one unmeasured run first, and no
        # PYTHONDONTWRITEBYTECODE, which would compile every module at every run)
        user = userpath.user_environment()
        cli, cli_cpu = userpath.process_medians(command, args.repeat)
        # the reference profiled once (modelops monitor profile), then each run reads the
        # saved profile and profiles the current file: how a monitoring job runs every day
        ref_profile = Path(folder, "ref.profile.json")
        subprocess.run(
            [python, "-m", "modelops_core", "monitor", "profile", str(ref_csv),
             "--output", str(ref_profile)],
            check=True, capture_output=True, env=user,
        )  # fmt: skip
        saved = [*command[:5], str(ref_profile), str(cur_csv), "--json"]
        cli_saved, cli_saved_cpu = userpath.process_medians(saved, args.repeat, warm_up=False)
        floor = userpath.process_medians(
            [python, "-c", FLOOR_SCRIPT, str(ref_csv), str(cur_csv)], args.repeat
        )
        evidently: dict[str, Any] | None = None
        evidently_process: tuple[float, float] | None = None
        if Path(args.evidently_python).exists():
            evidently_process = userpath.process_medians(
                [args.evidently_python, "-c", EVIDENTLY_PROCESS, str(ref_csv), str(cur_csv)],
                args.repeat,
                env={"PYTHONWARNINGS": "ignore"},
                warm_up=False,
            )
            result = subprocess.run(
                [args.evidently_python, "-c", EVIDENTLY_SCRIPT, str(ref_csv), str(cur_csv),
                 str(args.repeat)],
                check=True, capture_output=True, text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )  # fmt: skip
            evidently = json.loads(result.stdout.strip().splitlines()[-1])
    merge = merge_benchmark(args.repeat)

    print(f"rows: {args.rows:,} x 20 columns, median of {args.repeat}, wall clock (CPU time)")
    print(f"API rows: this interpreter; CLI rows: {describe_install(python)}")
    print(f"load average at the start {start_load}, at the end {userpath.load_average()}")
    print(f"ours, Python API (in-memory DataFrames): {api * 1000:9.1f} ms ({api_cpu * 1000:.1f})")
    print(
        f"ours, monitor built once, drift(current): {window * 1000:8.1f} ms "
        f"({window_cpu * 1000:.1f})"
    )
    print(f"ours, CLI (whole process, CSV files):    {cli * 1000:9.1f} ms ({cli_cpu * 1000:.1f})")
    print(
        f"ours, CLI (saved reference profile):       {cli_saved * 1000:7.1f} ms "
        f"({cli_saved_cpu * 1000:.1f})"
    )
    print(
        f"floor: import numpy + pyarrow.csv, Arrow parse of both files: {floor[0] * 1000:.1f} ms "
        f"({floor[1] * 1000:.1f}); the command spends {(cli - floor[0]) * 1000:.1f} ms beyond it"
    )
    print(f"merge 1,000 window profiles:              {merge * 1000:9.1f} ms")
    if evidently is None:
        print(f"Evidently not found at {args.evidently_python}: no ratios")
        return
    seconds = evidently["seconds"]
    print(
        f"Evidently DataDriftPreset (in memory):   {seconds * 1000:9.1f} ms "
        f"({evidently['cpu'] * 1000:.1f})"
    )
    print(
        f"ratio Evidently / ours: API {seconds / api:.1f}x, CLI {seconds / cli:.1f}x, "
        f"CLI with the saved reference profile {seconds / cli_saved:.1f}x"
    )
    print(
        f"the floor alone would be {seconds / floor[0]:.1f}x; 20x allows "
        f"{seconds / 20 * 1000:.1f} ms"
    )
    assert evidently_process is not None
    whole, whole_cpu = evidently_process
    print(
        f"Evidently as a script (import, read, run): {whole * 1000:7.1f} ms "
        f"({whole_cpu * 1000:.1f})"
    )
    userpath.print_rows(
        f"drift of 20 columns, {args.rows:,} rows",
        [
            userpath.Row("Monitor(reference).drift(current)", api, "Evidently (in memory)",
                         seconds, args.repeat),
            userpath.Row("modelops monitor drift REF.csv CUR.csv --json", cli,
                         "Evidently (in memory)", seconds, args.repeat,
                         "ours: a whole process reading the CSV files; Evidently: its run() "
                         "alone on DataFrames in memory (imports and reading not counted)"),
            userpath.Row("modelops monitor drift REF.profile.json CUR.csv --json", cli_saved,
                         "Evidently (in memory)", seconds, args.repeat,
                         "the reference profiled once before (modelops monitor profile)"),
            userpath.Row("modelops monitor drift REF.csv CUR.csv --json", cli,
                         "Evidently script (import, read, run)", whole, args.repeat,
                         "both whole processes reading the same CSV files"),
        ],
    )  # fmt: skip
    agree, worst, shared = 0, 0.0, 0
    for finding in ours.columns:
        theirs = evidently["columns"][finding.column]
        their_drift = (
            theirs["value"] < theirs["threshold"]
            if "p_value" in theirs["method"]
            else theirs["value"] >= theirs["threshold"]
        )
        agree += their_drift == finding.drifted
        if SHARED.get(theirs["method"]) == finding.method and finding.value is not None:
            shared += 1
            relative = abs(finding.value - theirs["value"]) / max(abs(theirs["value"]), 1e-12)
            worst = max(worst, relative)
            print(
                f"  {finding.column:6s} {finding.method:13s} ours {finding.value:.6g}  "
                f"evidently {theirs['value']:.6g}  rel.diff {relative:.2e}  "
                f"drift {finding.drifted}/{their_drift}"
            )
        else:
            print(f"  {finding.column:6s} ours {finding.method}, evidently {theirs['method']}")
    print(f"same drift verdict on {agree} of {len(ours.columns)} columns")
    print(f"shared methods on {shared} columns: largest relative difference {worst:.2%}")


if __name__ == "__main__":
    main()
