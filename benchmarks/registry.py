"""Registry and tracking timings of modelops (SQLite, PostgreSQL) against MLflow's SQLite store.

    python benchmarks/registry.py [--quick] [--no-postgres] [--no-mlflow]
        [--mlflow-python /tmp/venv-mlflow/bin/python]
    python benchmarks/registry.py --profile 500   # cProfile of 500 registrations, the floor

User path (printed first): a script that registers a model, sets an alias and reads it back on
a new store, as a whole process (``ModelRegistry()``: imports, plugin loading, schema), against
the same with MLflow's client on SQLite (``/tmp/peers/mlflow`` when it exists), wall-clock
medians of 5 processes each.

Both sides run in the same run on the same machine; each figure is printed with the ratio
MLflow time / modelops time (higher is better for modelops). Registration includes storing
and hashing a 64 KiB file for modelops (MLflow only records the source path).

Every figure is taken twice: wall time, and CPU time of the benchmarking process
(``time.process_time``), which a busy machine inflates far less. SQLite and MLflow's SQLite
store run inside that process, so their CPU figures compare like for like; PostgreSQL's
server work is not in its client's CPU time, so PostgreSQL is shown in wall time only.

"New embedded store ready" is the time from the first import to the first answered query on a
new SQLite store, in a fresh process: with the two first-party plugins handed to the runtime,
and as a user writes it (``ModelRegistry()``, every installed plugin loaded). The part after
the imports is printed beside it; MLflow's first call is timed after its imports too.

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

sys.path.insert(0, str(Path(__file__).parent))
import userpath

POSTGRES_URL = os.environ.get(
    "MODELOPS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def timed(results: dict[str, float], key: str, operation: Callable[[int], Any], count: int) -> None:
    """Record in ``results`` the wall seconds (``key``) and CPU seconds (``key + "_cpu"``)
    per call of ``operation(i)`` over ``count`` calls."""
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        operation(index)
    results[key] = (time.perf_counter() - started) / count
    results[f"{key}_cpu"] = (time.process_time() - cpu) / count


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
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.store.contract import MetricPoint
    from modelops_core.testing import make_runtime
    from modelops_core.tracking.tracker import ExperimentTracker

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
    files, auto_files = files[: len(files) // 2], files[len(files) // 2 :]
    registry = ModelRegistry(runtime, actor="bench")
    registry.register("warmup", "1", b"warm")  # every timed registration stores new content
    timed(
        results,
        "register",
        lambda i: registry.register_model("bench", str(files[i]), str(i + 1)),
        len(files),
    )
    timed(
        results,
        "register_auto",
        lambda i: registry.register_model("auto", str(auto_files[i])),
        len(files),
    )
    timed(
        results,
        "get",
        lambda i: registry.get_version("bench", str(i % len(files) + 1)),
        sizes["gets"],
    )
    timed(
        results,
        "set_alias",
        lambda i: registry.set_alias("bench", "production", str(i % len(files) + 1)),
        sizes["aliases"],
    )
    timed(
        results,
        "get_by_alias",
        lambda i: registry.get_by_alias("bench", "production"),
        sizes["gets"],
    )
    timed(results, "search", lambda i: registry.search("bench"), sizes["searches"])
    tracker = ExperimentTracker(runtime, capture_environment=False)
    with tracker.start("bench") as run:
        timed(
            results,
            "log_metric",
            lambda i: run.log_metric("loss", 1.0 / (i + 1), step=i),
            sizes["metrics"],
        )
        points = [MetricPoint("acc", i / sizes["batch"], i, 0.0) for i in range(sizes["batch"])]
        timed(results, "log_batch", lambda i: run.log_batch(points), 1)
        results["log_batch_point"] = results.pop("log_batch") / sizes["batch"]
        results["log_batch_point_cpu"] = results.pop("log_batch_cpu") / sizes["batch"]
    tracker.close()
    registry.close()
    return results


def copy_floor(folder: Path, files: list[Path]) -> dict[str, float]:
    """Seconds per file (wall, CPU) of the least a registration that stores its artifact must
    do, with bare ``os`` calls and no database: read the file, sha256 it, write the copy to
    an unnamed file and link it under its digest. What a registration costs above it is the
    registry's own work; the floor itself moves with the file system's state (this machine's
    ext4 has no journal, so creating a file slows down after many recent deletions)."""
    import hashlib

    blobs = folder / "blobs"
    blobs.mkdir(parents=True)
    directory = os.open(blobs, os.O_RDONLY)
    unnamed = hasattr(os, "O_TMPFILE")
    results: dict[str, float] = {}

    def store(index: int) -> None:
        source = os.open(files[index], os.O_RDONLY)
        data = os.read(source, 1 << 20)
        os.close(source)
        digest = hashlib.sha256(data).hexdigest()
        if unnamed:
            fd = os.open(blobs, os.O_WRONLY | os.O_TMPFILE, 0o444)
            os.write(fd, data)
            os.link(f"/proc/self/fd/{fd}", digest, dst_dir_fd=directory, follow_symlinks=True)
        else:  # pragma: no cover - not Linux
            fd = os.open(blobs / f"{digest}.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            os.write(fd, data)
            os.replace(blobs / f"{digest}.tmp", blobs / digest)
        os.close(fd)

    timed(results, "floor", store, len(files))
    os.close(directory)
    return results


def bench_mlflow(root: Path, files: list[Path], sizes: dict[str, int]) -> dict[str, float]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    started = time.perf_counter()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("warmup")
    results: dict[str, float] = {"first_call": time.perf_counter() - started}
    files, auto_files = files[: len(files) // 2], files[len(files) // 2 :]
    client.create_registered_model("bench")
    timed(
        results,
        "register",
        lambda i: client.create_model_version("bench", source=str(files[i])),
        len(files),
    )
    client.create_registered_model("auto")  # MLflow versions always auto-increment
    timed(
        results,
        "register_auto",
        lambda i: client.create_model_version("auto", source=str(auto_files[i])),
        len(files),
    )
    timed(
        results,
        "get",
        lambda i: client.get_model_version("bench", str(i % len(files) + 1)),
        sizes["gets"],
    )
    timed(
        results,
        "set_alias",
        lambda i: client.set_registered_model_alias("bench", "production", str(i % len(files) + 1)),
        sizes["aliases"],
    )
    timed(
        results,
        "get_by_alias",
        lambda i: client.get_model_version_by_alias("bench", "production"),
        sizes["gets"],
    )
    timed(
        results,
        "search",
        lambda i: client.search_model_versions("name LIKE 'bench%'"),
        sizes["searches"],
    )
    experiment = client.create_experiment("bench", artifact_location=str(root / "mlruns"))
    run = client.create_run(experiment)
    run_id = run.info.run_id
    timed(
        results,
        "log_metric",
        lambda i: client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i),
        sizes["metrics"],
    )
    now = int(time.time() * 1000)
    total = sizes["batch"]

    def log_batches(_: int) -> None:
        for offset in range(0, total, 1000):  # MLflow accepts at most 1,000 metrics per batch
            client.log_batch(
                run_id,
                metrics=[
                    Metric("acc", i / total, now, i)
                    for i in range(offset, min(total, offset + 1000))
                ],
            )

    timed(results, "log_batch", log_batches, 1)
    results["log_batch_point"] = results.pop("log_batch") / total
    results["log_batch_point_cpu"] = results.pop("log_batch_cpu") / total
    client.set_terminated(run_id)
    return results


READY_SCRIPTS = {
    # the two first-party plugins handed over, no discovery of installed ones
    "given plugins": """
import sys, time
started, cpu = time.perf_counter(), time.process_time()
from modelops_core.config import Config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_store_sql import plugin as s
from modelops_artifacts_local import plugin as a
from pathlib import Path
imported, imported_cpu = time.perf_counter(), time.process_time()
home = Path(sys.argv[1])
plugins = [("modelops-store-sql", s), ("modelops-artifacts-local", a)]
registry = ModelRegistry(Runtime(Config(home=home), plugins=plugins, autoload=False, environ={}))
registry.list_models()
end, end_cpu = time.perf_counter(), time.process_time()
print(end - started, end_cpu - cpu, end - imported, end_cpu - imported_cpu)
""",
    # what a user writes: ModelRegistry() in an empty folder, every installed plugin loaded
    "ModelRegistry()": """
import os, sys, time
started, cpu = time.perf_counter(), time.process_time()
os.makedirs(sys.argv[1])
os.chdir(sys.argv[1])
from modelops_core.registry.model_registry import ModelRegistry
imported, imported_cpu = time.perf_counter(), time.process_time()
registry = ModelRegistry()
registry.list_models()
end, end_cpu = time.perf_counter(), time.process_time()
print(end - started, end_cpu - cpu, end - imported, end_cpu - imported_cpu)
""",
}


def ready_times(root: Path, runs: int) -> dict[str, list[float]]:
    """For each of :data:`READY_SCRIPTS`, the best (wall, CPU, wall after imports, CPU after
    imports) seconds from the first import to a usable registry on a new SQLite store, each
    run in a fresh process (the scripts alternate).

    Measured with compiled bytecode, as an installed package has it: a first, unmeasured run
    writes it to a private ``PYTHONPYCACHEPREFIX``, so ``PYTHONDONTWRITEBYTECODE=1`` in the
    environment cannot turn the figure into a timing of Python's compiler. The CPU time shows
    how much of the wall time a busy machine adds.
    """
    skipped = ("PYTHONDONTWRITEBYTECODE", "MODELOPS_CONFIG")
    environment = {k: v for k, v in os.environ.items() if k not in skipped}
    environment["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    root.mkdir(parents=True, exist_ok=True)
    best_times: dict[str, list[float]] = {}
    for index in range(runs + 1):
        for label, script in READY_SCRIPTS.items():
            folder = root / f"{label.replace(' ', '-').strip('()')}-{index}"
            output = subprocess.run(
                [sys.executable, "-c", script, str(folder)],
                capture_output=True, text=True, check=True, env=environment, cwd=root,
            )  # fmt: skip
            measured = [float(value) for value in output.stdout.split()]
            if index:  # the first run compiles the bytecode
                kept = best_times.get(label, measured)
                best_times[label] = [min(a, b) for a, b in zip(kept, measured, strict=True)]
    return best_times


ROWS = [
    ("register", "register a version (ms)", 1e3),
    ("register_auto", "register, auto-incremented (ms)", 1e3),
    ("get", "get a version (ms)", 1e3),
    ("get_by_alias", "get by alias (ms)", 1e3),
    ("set_alias", "move an alias (ms)", 1e3),
    ("search", "search one model's versions (ms)", 1e3),
    ("log_metric", "log_metric, one call (µs)", 1e6),
    ("log_batch_point", "log_batch, per point (µs)", 1e6),
]


def print_wall_table(
    sqlite: dict[str, float], postgres: dict[str, float] | None, mlflow: dict[str, float] | None
) -> None:
    header = f"{'wall time':36} " + " ".join(f"{c:>10}" for c in ("sqlite", "postgres", "mlflow"))
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


def print_cpu_table(sqlite: dict[str, float], mlflow: dict[str, float] | None) -> None:
    header = f"{'CPU time of the process':36} {'sqlite':>10} {'mlflow':>10} {'x sqlite':>9}"
    print(header)
    print("-" * len(header))
    for key, label, scale in ROWS:
        ours = sqlite[f"{key}_cpu"] * scale
        theirs = f"{mlflow[f'{key}_cpu'] * scale:10.3f}" if mlflow else f"{'-':>10}"
        ratio = f"{mlflow[f'{key}_cpu'] / sqlite[f'{key}_cpu']:8.1f}x" if mlflow else f"{'-':>9}"
        print(f"{label:36} {ours:10.3f} {theirs} {ratio}")


def print_ready(ready: dict[str, list[float]], mlflow: dict[str, float] | None) -> None:
    """The new-store-ready figures; MLflow's first call is timed after its imports."""
    print("new embedded store ready, fresh process, bytecode cached (best of the runs):")
    for label, (wall, cpu, wall_after, cpu_after) in ready.items():
        print(
            f"  {label:16} {wall * 1e3:6.1f} ms wall, {cpu * 1e3:6.1f} ms CPU with imports; "
            f"{wall_after * 1e3:5.1f} ms wall, {cpu_after * 1e3:5.1f} ms CPU after them"
        )
    if mlflow:
        first = mlflow["first_call"] * 1e3
        after = ready["given plugins"][2] * 1e3
        print(
            f"  MLflow first call on a new database (after its imports): {first:.0f} ms "
            f"({first / after:.0f}x the same span here)"
        )


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


OURS_REGISTER = """
import os, sys
folder = os.path.join(sys.argv[1], f"ours-{os.getpid()}")  # a new, empty folder per run
os.mkdir(folder)
os.chdir(folder)
from modelops_core import ModelRegistry
registry = ModelRegistry()
registry.register_model("churn", sys.argv[2], "1")
registry.set_alias("churn", "production", "1")
print(registry.get_by_alias("churn", "production"))
"""
MLFLOW_REGISTER = """
import os, sys
folder = os.path.join(sys.argv[1], f"mlflow-{os.getpid()}")  # a new, empty folder per run
os.mkdir(folder)
os.chdir(folder)
from mlflow.tracking import MlflowClient
uri = "sqlite:///" + os.path.join(os.getcwd(), "mlflow.db")
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
client.create_registered_model("churn")
client.create_model_version("churn", source=sys.argv[2])
client.set_registered_model_alias("churn", "production", "1")
print(client.get_model_version_by_alias("churn", "production"))
"""


def alternated_process_medians(
    commands: dict[str, list[str]], runs: int
) -> dict[str, tuple[float, float]]:
    """The median (wall, CPU) seconds of ``runs`` fresh processes of each command, the
    commands taking turns run by run, after one unmeasured run each (bytecode, caches), in
    the user's environment (:func:`userpath.user_environment`)."""
    import resource
    import statistics

    environment = userpath.user_environment()

    def once(command: list[str]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        finished = subprocess.run(command, env=environment, capture_output=True)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if finished.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {finished.stderr.decode()[-2000:]}")
        return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    for command in commands.values():
        once(command)
    measured: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(max(runs, userpath.MINIMUM_RUNS)):
        for label, command in commands.items():
            measured[label].append(once(command))
    return {
        label: (statistics.median(w for w, _ in times), statistics.median(c for _, c in times))
        for label, times in measured.items()
    }


def user_path(root: Path, model_file: Path, mlflow_python: str | None, runs: int) -> None:
    """A script that registers a model, sets an alias and reads it back on a new store, as a
    whole process (imports, plugin loading, schema creation), each run in a new folder; the
    two sides alternate run by run, so a change of the machine's load weighs on both."""
    commands = {"ours": [sys.executable, "-c", OURS_REGISTER, str(root), str(model_file)]}
    if mlflow_python:
        commands["mlflow"] = [mlflow_python, "-c", MLFLOW_REGISTER, str(root), str(model_file)]
    medians = alternated_process_medians(commands, runs)
    ours, theirs = medians["ours"], medians.get("mlflow")
    userpath.print_rows(
        "register a model, set an alias, read it back (new store, whole process)",
        [userpath.Row("python -c: ModelRegistry().register_model + set_alias + get_by_alias",
                      ours[0], "MLflow client (SQLite)", theirs[0] if theirs else None, runs,
                      "ours stores and hashes the file; MLflow records its path")],
    )  # fmt: skip
    cpu = f"      CPU time (user + system) medians: ours {ours[1] * 1e3:.0f} ms"
    if theirs:
        cpu += f", MLflow {theirs[1] * 1e3:.0f} ms ({theirs[1] / ours[1]:.1f}x)"
    print(cpu)


def profile_registrations(count: int) -> None:
    """Register ``count`` 64 KiB files on a new SQLite store under cProfile; print the wall and
    CPU time per registration (unprofiled, then profiled), the copy floor on the same files,
    and the profile's top entries (what a registration spends beyond the floor)."""
    import cProfile
    import pstats

    from modelops_artifacts_local import plugin as artifacts_plugin
    from modelops_store_sql import plugin as store_plugin

    from modelops_core.config import Config
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
    with tempfile.TemporaryDirectory(prefix="modelops-profile-") as temp:
        root = Path(temp)
        files = model_files(root / "files", 2 * count)
        results: dict[str, float] = {}
        for label, chosen, profiler in (
            ("plain", files[:count], None),
            ("profiled", files[count:], cProfile.Profile()),
        ):
            home = root / label / ".modelops"
            runtime = make_runtime(home, plugins, config=Config(home=home))
            with ModelRegistry(runtime, actor="bench") as registry:
                registry.register("warmup", "1", b"warm")

                def register(
                    index: int, r: ModelRegistry = registry, f: list[Path] = chosen
                ) -> None:
                    r.register_model("m", str(f[index]), str(index + 1))

                if profiler is not None:
                    profiler.enable()
                timed(results, label, register, count)
                if profiler is not None:
                    profiler.disable()
        floor = copy_floor(root / "floor", files[:count])
        for key in ("plain", "profiled"):
            print(f"{key:9} {results[key] * 1e6:6.0f} µs wall {results[key + '_cpu'] * 1e6:6.0f} "
                  "µs CPU per registration")  # fmt: skip
        print(
            f"copy floor {floor['floor'] * 1e6:5.0f} µs wall {floor['floor_cpu'] * 1e6:6.0f} µs CPU"
        )
        print(f"load average {userpath.load_average()}")
        assert profiler is not None
        stats = pstats.Stats(profiler)
        print(f"{stats.total_calls / count:.0f} function calls per registration")  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(15)


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
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="only profile N registrations of 64 KiB files (cProfile) beside the copy floor",
    )
    parser.add_argument("--mlflow-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mlflow_worker:
        mlflow_worker(args.mlflow_worker)
        return
    if args.profile:
        profile_registrations(args.profile)
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
    mlflow_python = args.mlflow_python or userpath.peer_python("mlflow", "mlflow")
    if mlflow_python and not args.mlflow_python and not args.no_mlflow:
        args.mlflow_python = mlflow_python
    with tempfile.TemporaryDirectory(prefix="modelops-user-path-") as temp:
        model_file = Path(temp) / "model.bin"
        model_file.write_bytes(os.urandom(64 * 1024))
        user_path(Path(temp), model_file, None if args.no_mlflow else mlflow_python, 5)
    print("\ninner loop (calls on an open store, best round):")
    from modelops_core.testing import fresh_postgres_schema, postgres_unavailable_reason

    with tempfile.TemporaryDirectory(prefix="modelops-bench-") as temp:
        root = Path(temp)
        # the second half is registered auto-incremented: new content, so each blob is written
        files = model_files(root / "files", 2 * sizes["versions"])
        load_before = os.getloadavg()[0]
        ready = ready_times(root / "ready", 7)
        why_no_postgres = (
            "skipped (--no-postgres)"
            if args.no_postgres
            else postgres_unavailable_reason(POSTGRES_URL)
        )
        why_no_mlflow = "skipped (--no-mlflow)" if args.no_mlflow else None
        sqlite: dict[str, float] = {}
        floor: dict[str, float] = {}
        postgres: dict[str, float] | None = None
        mlflow: dict[str, float] | None = None
        # On a shared machine one pass of each side can land in a busy moment of the other:
        # the sides alternate, on fresh stores each round, and each keeps its best round.
        for index in range(rounds):
            here = root / f"round-{index}"
            sqlite = best(sqlite, bench_modelops(here / "sqlite" / ".modelops", files, sizes, {}))
            floor = best(floor, copy_floor(here / "floor", files[: sizes["versions"]]))
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
    print_wall_table(sqlite, postgres, mlflow)
    print_cpu_table(sqlite, mlflow)
    print(f"{'log_metric calls per second':36} {1 / sqlite['log_metric']:10.0f}")
    print(f"{'batched points per second':36} {1 / sqlite['log_batch_point']:10.0f}")
    print(
        f"{'the copy floor (µs)':36} {floor['floor'] * 1e6:10.0f} wall, "
        f"{floor['floor_cpu'] * 1e6:.0f} CPU: read, sha256, write and link the same 64 KiB "
        "file with bare os calls"
    )
    print_ready(ready, mlflow)
    print(f"load average: {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    if why_no_postgres:
        print(f"PostgreSQL: {why_no_postgres}")
    if why_no_mlflow:
        print(f"MLflow: {why_no_mlflow}")


if __name__ == "__main__":
    main()
