"""Start-up cost: `import modelops_core` and `modelops plugins list` against `import mlflow`.

Every figure here is a user-path figure (whole processes, wall-clock medians); the table at
the end puts each beside its MLflow peer, run from /tmp/peers/mlflow when it exists.

Run: python benchmarks/startup.py [--quick] [--mlflow-python PATH]

Each figure is the median wall time of fresh interpreter processes (so it includes Python's
own start-up, measured separately as the baseline). MLflow is measured with the interpreter
given by --mlflow-python (default: this one) when it can import mlflow.

Every command runs once unmeasured first, with its bytecode written to a private
``PYTHONPYCACHEPREFIX``: an installed package has compiled bytecode, and without this an editable
install under ``PYTHONDONTWRITEBYTECODE=1`` would time Python's compiler instead of the import.
The load average is printed with the figures: on a busy machine every figure grows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import userpath


def cached_bytecode_environment(pycache: str) -> dict[str, str]:
    """The environment with bytecode read from and written to ``pycache``."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = pycache
    return environment


def median_seconds(command: list[str], runs: int, environment: dict[str, str]) -> float:
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": environment}
    subprocess.run(command, check=True, **quiet)  # type: ignore[call-overload]  # warm-up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, **quiet)  # type: ignore[call-overload]
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 15")
    parser.add_argument(
        "--mlflow-python",
        default=userpath.peer_python("mlflow", "mlflow") or sys.executable,
        help="MLflow's interpreter (default: /tmp/peers/mlflow, else this one)",
    )
    args = parser.parse_args()
    runs = 5 if args.quick else 15
    with tempfile.TemporaryDirectory(prefix="modelops-pycache-") as pycache:
        measure(args.mlflow_python, runs, cached_bytecode_environment(pycache))


def measure(mlflow_python: str, runs: int, environment: dict[str, str]) -> None:
    python = sys.executable
    modelops = shutil.which("modelops", path=str(Path(python).parent)) or "modelops"
    load_before = os.getloadavg()[0]
    rows = [
        ("python -c pass (baseline)", median_seconds([python, "-c", "pass"], runs, environment)),
        (
            "import modelops_core",
            median_seconds([python, "-c", "import modelops_core"], runs, environment),
        ),
        ("modelops --help", median_seconds([modelops, "--help"], runs, environment)),
        ("modelops plugins list", median_seconds([modelops, "plugins", "list"], runs, environment)),
    ]
    has_mlflow = (
        subprocess.run([mlflow_python, "-c", "import mlflow"], capture_output=True).returncode == 0
    )
    mlflow_time = (
        median_seconds([mlflow_python, "-c", "import mlflow"], runs, environment)
        if has_mlflow
        else None
    )
    plugins = subprocess.run([modelops, "plugins", "list", "--json"], capture_output=True,
                             text=True, check=True).stdout.count('"plugin"')  # fmt: skip

    print(f"{'what':34} {'median ms':>10} {'vs import mlflow':>17}")
    for name, seconds in rows:
        ratio = f"{mlflow_time / seconds:.1f}x faster" if mlflow_time else "n/a"
        print(f"{name:34} {seconds * 1000:10.1f} {ratio:>17}")
    if mlflow_time:
        print(f"{'import mlflow':34} {mlflow_time * 1000:10.1f}")
    else:
        print("import mlflow: not installed for --mlflow-python; no ratio measured")
    print(f"({plugins} plugins loaded; {runs} runs each, bytecode cached; 150 ms target for "
          f"`plugins list`; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after)")  # fmt: skip
    mlflow_cli = Path(mlflow_python).parent / "mlflow"
    mlflow_help = (
        median_seconds([str(mlflow_cli), "--help"], runs, environment)
        if has_mlflow and mlflow_cli.exists()
        else None
    )
    by_name = dict(rows)
    userpath.print_rows(
        "start-up",
        [
            userpath.Row("python -c 'import modelops_core'", by_name["import modelops_core"],
                         "import mlflow", mlflow_time, runs),
            userpath.Row("modelops --help", by_name["modelops --help"], "mlflow --help",
                         mlflow_help, runs),
            userpath.Row("modelops plugins list", by_name["modelops plugins list"],
                         "import mlflow", mlflow_time, runs),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
