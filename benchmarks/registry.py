"""Registry and tracking timings of modelops (SQLite, PostgreSQL) against MLflow's SQLite store.

    python benchmarks/registry.py [--quick] [--no-postgres] [--no-mlflow]
        [--mlflow-python /tmp/venv-mlflow/bin/python]

Both sides run in the same run on the same machine; each figure is printed with the ratio
MLflow time / modelops time (higher is better for modelops). Registration includes storing
and hashing a 64 KiB file for modelops (MLflow only records the source path).
Needs modelops-store-sql and modelops-artifacts-local; psycopg is optional. MLflow
(mlflow-skinny + sqlalchemy + alembic) runs in this interpreter, or in the one given by
``--mlflow-python`` (a separate virtualenv), on the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POSTGRES_URL = os.environ.get(
    "MODELOPS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def timed(operation: Callable[[int], Any], count: int) -> float:
    """Seconds per call of ``operation(i)`` over ``count`` calls."""
    started = time.perf_counter()
    for index in range(count):
        operation(index)
    return (time.perf_counter() - started) / count


def model_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        path = folder / f"model-{index}.bin"
        path.write_bytes(os.urandom(64 * 1024))
        files.append(path)
    return files


def bench_modelops(
    home: Path, files: list[Path], sizes: dict[str, int], options: dict[str, Any]
) -> dict[str, float]:
    from modelops_artifacts_local import plugin as artifacts_plugin
    from modelops_store_sql import plugin as store_plugin

    from modelops_core.config import ComponentChoice, Config
    from modelops_core.registry import ModelRegistry
    from modelops_core.storage import MetricPoint
    from modelops_core.testing import make_runtime
    from modelops_core.tracking import ExperimentTracker

    config = Config(
        home=home,
        registry=ComponentChoice("sql", options),
        tracking=ComponentChoice("sql", options),
    )
    runtime = make_runtime(
        home,
        [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)],
        config=config,
    )
    results: dict[str, float] = {}
    registry = ModelRegistry(runtime, actor="bench")
    registry.register_model("warmup", str(files[0]), "1")
    results["register"] = timed(
        lambda i: registry.register_model("bench", str(files[i]), str(i + 1)), len(files)
    )
    results["get"] = timed(
        lambda i: registry.get_version("bench", str(i % len(files) + 1)), sizes["gets"]
    )
    results["set_alias"] = timed(
        lambda i: registry.set_alias("bench", "production", str(i % len(files) + 1)),
        sizes["aliases"],
    )
    results["get_by_alias"] = timed(
        lambda i: registry.get_by_alias("bench", "production"), sizes["gets"]
    )
    results["search"] = timed(lambda i: registry.search("bench"), sizes["searches"])
    tracker = ExperimentTracker(runtime, capture_environment=False)
    with tracker.start("bench") as run:
        results["log_metric"] = timed(
            lambda i: run.log_metric("loss", 1.0 / (i + 1), step=i), sizes["metrics"]
        )
        points = [MetricPoint("acc", i / sizes["batch"], i, 0.0) for i in range(sizes["batch"])]
        started = time.perf_counter()
        run.log_batch(points)
        results["log_batch_point"] = (time.perf_counter() - started) / sizes["batch"]
    tracker.close()
    registry.close()
    return results


def bench_mlflow(root: Path, files: list[Path], sizes: dict[str, int]) -> dict[str, float]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    started = time.perf_counter()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("warmup")
    results: dict[str, float] = {"first_call": time.perf_counter() - started}
    client.create_registered_model("bench")
    results["register"] = timed(
        lambda i: client.create_model_version("bench", source=str(files[i])), len(files)
    )
    results["get"] = timed(
        lambda i: client.get_model_version("bench", str(i % len(files) + 1)), sizes["gets"]
    )
    results["set_alias"] = timed(
        lambda i: client.set_registered_model_alias("bench", "production", str(i % len(files) + 1)),
        sizes["aliases"],
    )
    results["get_by_alias"] = timed(
        lambda i: client.get_model_version_by_alias("bench", "production"), sizes["gets"]
    )
    results["search"] = timed(
        lambda i: client.search_model_versions("name LIKE 'bench%'"), sizes["searches"]
    )
    experiment = client.create_experiment("bench", artifact_location=str(root / "mlruns"))
    run = client.create_run(experiment)
    run_id = run.info.run_id
    results["log_metric"] = timed(
        lambda i: client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i), sizes["metrics"]
    )
    now = int(time.time() * 1000)
    total = sizes["batch"]
    started = time.perf_counter()
    for offset in range(0, total, 1000):  # MLflow accepts at most 1,000 metrics per batch
        client.log_batch(
            run_id,
            metrics=[
                Metric("acc", i / total, now, i) for i in range(offset, min(total, offset + 1000))
            ],
        )
    results["log_batch_point"] = (time.perf_counter() - started) / total
    client.set_terminated(run_id)
    return results


READY_SCRIPT = """
import sys, time
started, cpu = time.perf_counter(), time.process_time()
from modelops_core.config import Config
from modelops_core.registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_store_sql import plugin as s
from modelops_artifacts_local import plugin as a
from pathlib import Path
home = Path(sys.argv[1])
plugins = [("modelops-store-sql", s), ("modelops-artifacts-local", a)]
registry = ModelRegistry(Runtime(Config(home=home), plugins=plugins, autoload=False, environ={}))
registry.list_models()
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def ready_times(root: Path, runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds from the first import to a usable registry on a new SQLite store,
    each in a fresh process.

    Measured with compiled bytecode, as an installed package has it: a first, unmeasured run
    writes it to a private ``PYTHONPYCACHEPREFIX``, so ``PYTHONDONTWRITEBYTECODE=1`` in the
    environment cannot turn the figure into a timing of Python's compiler. The CPU time shows
    how much of the wall time a busy machine adds.
    """
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    times = []
    for index in range(runs + 1):
        output = subprocess.run(
            [sys.executable, "-c", READY_SCRIPT, str(root / f"ready-{index}")],
            capture_output=True, text=True, check=True, env=environment,
        )  # fmt: skip
        wall, cpu = output.stdout.split()
        times.append((float(wall), float(cpu)))
    return times[1:]


ROWS = [
    ("register", "register a version (ms)", 1e3),
    ("get", "get a version (ms)", 1e3),
    ("get_by_alias", "get by alias (ms)", 1e3),
    ("set_alias", "move an alias (ms)", 1e3),
    ("search", "search one model's versions (ms)", 1e3),
    ("log_metric", "log_metric, one call (µs)", 1e6),
    ("log_batch_point", "log_batch, per point (µs)", 1e6),
]


def mlflow_elsewhere(python: str, root: Path, files: list[Path], sizes: dict[str, int]) -> Any:
    """Run :func:`bench_mlflow` in another interpreter (MLflow's own virtualenv)."""
    request = json.dumps({"root": str(root), "files": [str(f) for f in files], "sizes": sizes})
    output = subprocess.run(
        [python, __file__, "--mlflow-worker", request], capture_output=True, text=True
    )
    if output.returncode != 0:
        raise RuntimeError(f"MLflow run in {python} failed: {output.stderr.strip()[-800:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def best(kept: dict[str, float], measured: dict[str, float]) -> dict[str, float]:
    """The lower of each figure of two rounds (``kept`` may be empty)."""
    return {key: min(value, kept.get(key, value)) for key, value in measured.items()}


def mlflow_worker(request: str) -> None:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    job = json.loads(request)
    root = Path(job["root"])
    root.mkdir(parents=True, exist_ok=True)
    print(json.dumps(bench_mlflow(root, [Path(f) for f in job["files"]], job["sizes"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (under 60 s)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--mlflow-python", help="interpreter with MLflow installed")
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds of every measurement, alternating modelops and MLflow; each figure is the "
        "best round (default: 3, or 1 with --quick)",
    )
    parser.add_argument("--mlflow-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mlflow_worker:
        mlflow_worker(args.mlflow_worker)
        return
    sizes = (
        {"versions": 50, "gets": 200, "aliases": 50, "searches": 10, "metrics": 300, "batch": 1000}
        if args.quick
        else {
            "versions": 200,
            "gets": 1000,
            "aliases": 200,
            "searches": 50,
            "metrics": 1000,
            "batch": 10000,
        }
    )
    rounds = args.rounds or (1 if args.quick else 3)
    from modelops_core.testing import fresh_postgres_schema, postgres_unavailable_reason

    with tempfile.TemporaryDirectory(prefix="modelops-bench-") as temp:
        root = Path(temp)
        files = model_files(root / "files", sizes["versions"])
        load_before = os.getloadavg()[0]
        ready = ready_times(root / "ready", 5)
        why_no_postgres = (
            "skipped (--no-postgres)"
            if args.no_postgres
            else postgres_unavailable_reason(POSTGRES_URL)
        )
        why_no_mlflow = "skipped (--no-mlflow)" if args.no_mlflow else None
        sqlite: dict[str, float] = {}
        postgres: dict[str, float] | None = None
        mlflow: dict[str, float] | None = None
        # On a shared machine one pass of each side can land in a busy moment of the other:
        # the sides alternate, on fresh stores each round, and each keeps its best round.
        for index in range(rounds):
            here = root / f"round-{index}"
            sqlite = best(sqlite, bench_modelops(here / "sqlite" / ".modelops", files, sizes, {}))
            if why_no_postgres is None:
                with fresh_postgres_schema(POSTGRES_URL, prefix="modelops_bench") as schema:
                    options = {"url": POSTGRES_URL, "schema": schema}
                    measured = bench_modelops(here / "pg" / ".modelops", files, sizes, options)
                postgres = best(postgres or {}, measured)
            if not args.no_mlflow and args.mlflow_python:
                measured = mlflow_elsewhere(args.mlflow_python, here / "mlflow", files, sizes)
                mlflow = best(mlflow or {}, measured)
            elif not args.no_mlflow and why_no_mlflow is None:
                try:
                    import logging

                    logging.getLogger("alembic").setLevel(logging.WARNING)
                    logging.getLogger("mlflow").setLevel(logging.ERROR)
                    mlflow = best(mlflow or {}, bench_mlflow(here / "mlflow", files, sizes))
                except ImportError as exc:
                    why_no_mlflow = (
                        f"not installed ({exc.name}); pip install mlflow-skinny sqlalchemy alembic"
                    )

    print(
        f"modelops registry benchmark ({'quick' if args.quick else 'full'}): "
        f"{sizes['versions']} versions of a 64 KiB file, {sizes['metrics']} single metrics, "
        f"{sizes['batch']} batched points; best of {rounds} round(s)"
    )
    columns = ("sqlite", "postgres", "mlflow")
    header = f"{'operation':36} " + " ".join(f"{c:>10}" for c in columns)
    header += f" {'x sqlite':>9} {'x pg':>7}"
    print(header)
    print("-" * len(header))
    for key, label, scale in ROWS:
        ours = sqlite[key] * scale
        pg = f"{postgres[key] * scale:10.3f}" if postgres else f"{'-':>10}"
        theirs = f"{mlflow[key] * scale:10.3f}" if mlflow else f"{'-':>10}"
        ratio = f"{mlflow[key] / sqlite[key]:8.1f}x" if mlflow else f"{'-':>9}"
        ratio_pg = f"{mlflow[key] / postgres[key]:6.1f}x" if mlflow and postgres else f"{'-':>7}"
        print(f"{label:36} {ours:10.3f} {pg} {theirs} {ratio} {ratio_pg}")
    single_per_second = 1 / sqlite["log_metric"]
    print(f"{'log_metric calls per second':36} {single_per_second:10.0f}")
    print(f"{'batched points per second':36} {1 / sqlite['log_batch_point']:10.0f}")
    best_ready = min(wall for wall, _ in ready) * 1e3
    best_cpu = min(cpu for _, cpu in ready) * 1e3
    line = "new embedded store ready (fresh process, imports included, bytecode cached): "
    line += f"{best_ready:.1f} ms wall, {best_cpu:.1f} ms CPU (best of {len(ready)})"
    if mlflow:
        line += f"; MLflow first call on a new database: {mlflow['first_call'] * 1e3:.0f} ms"
        line += f" ({mlflow['first_call'] * 1e3 / best_ready:.0f}x)"
    print(line)
    print(f"load average: {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    if why_no_postgres:
        print(f"PostgreSQL: {why_no_postgres}")
    if why_no_mlflow:
        print(f"MLflow: {why_no_mlflow}")


if __name__ == "__main__":
    main()
