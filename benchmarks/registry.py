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
import uuid
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
started = time.perf_counter()
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
print(time.perf_counter() - started)
"""


def ready_time(home: Path) -> float:
    """Seconds from the first import to a usable registry on a new SQLite store (fresh process)."""
    output = subprocess.run(
        [sys.executable, "-c", READY_SCRIPT, str(home)], capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip())


def postgres_available() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        return f"{POSTGRES_URL} unreachable: {str(exc).strip()[:120]}"
    return None


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
    with tempfile.TemporaryDirectory(prefix="modelops-bench-") as temp:
        root = Path(temp)
        files = model_files(root / "files", sizes["versions"])
        ready = [ready_time(root / f"ready-{i}") for i in range(3)]
        sqlite = bench_modelops(root / "sqlite" / ".modelops", files, sizes, {})
        postgres: dict[str, float] | None = None
        why_no_postgres = "skipped (--no-postgres)" if args.no_postgres else postgres_available()
        if why_no_postgres is None:
            import psycopg

            schema = f"modelops_bench_{uuid.uuid4().hex[:10]}"
            try:
                postgres = bench_modelops(
                    root / "pg" / ".modelops", files, sizes, {"url": POSTGRES_URL, "schema": schema}
                )
            finally:
                with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        mlflow: dict[str, float] | None = None
        why_no_mlflow = "skipped (--no-mlflow)" if args.no_mlflow else None
        if not args.no_mlflow and args.mlflow_python:
            mlflow = mlflow_elsewhere(args.mlflow_python, root / "mlflow", files, sizes)
        elif not args.no_mlflow:
            try:
                import logging

                logging.getLogger("alembic").setLevel(logging.WARNING)
                logging.getLogger("mlflow").setLevel(logging.ERROR)
                mlflow = bench_mlflow(root / "mlflow", files, sizes)
            except ImportError as exc:
                why_no_mlflow = (
                    f"not installed ({exc.name}); pip install mlflow-skinny sqlalchemy alembic"
                )

    print(
        f"modelops registry benchmark ({'quick' if args.quick else 'full'}): "
        f"{sizes['versions']} versions of a 64 KiB file, {sizes['metrics']} single metrics, "
        f"{sizes['batch']} batched points"
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
    best_ready = min(ready) * 1e3
    line = "new embedded store ready (fresh process, imports included): "
    line += f"{best_ready:.1f} ms (best of 3)"
    if mlflow:
        line += f"; MLflow first call on a new database: {mlflow['first_call'] * 1e3:.0f} ms"
        line += f" ({mlflow['first_call'] * 1e3 / best_ready:.0f}x)"
    print(line)
    if why_no_postgres:
        print(f"PostgreSQL: {why_no_postgres}")
    if why_no_mlflow:
        print(f"MLflow: {why_no_mlflow}")


if __name__ == "__main__":
    main()
