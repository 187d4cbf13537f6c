"""``modelops runs …``: list, show and compare experiment tracking runs (tables via rich)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup
from modelops_core.cli.registry import _JSON, _cell, _fail, _json, _pairs, _table

if TYPE_CHECKING:
    from modelops_core.store.contract import RunRecord
    from modelops_core.tracking.tracker import ExperimentTracker


@contextmanager
def _tracker() -> Iterator[ExperimentTracker]:
    from modelops_core.errors import ModelOpsError
    from modelops_core.tracking.tracker import ExperimentTracker

    try:
        tracker = ExperimentTracker(state().runtime(), capture_environment=False)
        try:
            yield tracker
        finally:
            tracker.close()
    except ModelOpsError as exc:
        _fail(exc)


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _duration(run: RunRecord) -> str:
    return f"{run.ended_at - run.started_at:.1f} s" if run.ended_at else ""


@click.group("runs", cls=HintingGroup)
def runs() -> None:
    """Experiment tracking runs: list, show, compare."""


@runs.command("list")
@click.option("--experiment", "-e", help="only runs of this experiment")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="repeatable")
@click.option("--status", type=click.Choice(["running", "finished", "failed", "cancelled"]))
@click.option("--limit", default=50, show_default=True)
@_JSON
def list_runs(
    experiment: str | None, tags: tuple[str, ...], status: str | None, limit: int, as_json: bool
) -> None:
    """List the newest runs, optionally by experiment, tag and status."""
    with _tracker() as tracker:
        found = tracker.find_runs(experiment, _pairs(tags, "--tag"), status=status, limit=limit)
    if as_json:
        _json(
            [
                {
                    "run_id": run.run_id,
                    "experiment": run.experiment,
                    "status": run.status,
                    "started_at": _when(run.started_at),
                    "ended_at": _when(run.ended_at),
                    "seconds": run.ended_at - run.started_at if run.ended_at else None,
                    "tags": dict(run.tags),
                    "models": [list(pair) for pair in run.models],
                }
                for run in found
            ]
        )
        return
    rows = [
        [
            run.run_id,
            run.experiment,
            run.status,
            _when(run.started_at),
            _duration(run),
            ", ".join(f"{k}={_cell(v)}" for k, v in sorted(run.tags.items())),
            ", ".join(f"{m}@{v}" for m, v in run.models),
        ]
        for run in found
    ]
    columns = ["run", "experiment", "status", "started", "took", "tags", "models"]
    _table("runs", columns, rows, prose=["tags", "models"])


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of tables")
def show(run_id: str, as_json: bool) -> None:
    """Show a run: parameters, last metric values, tags, models, artifacts, environment."""
    with _tracker() as tracker:
        run = tracker.get_run(run_id)
        metrics: dict[str, list[Any]] = {}
        for point in tracker.backend.get_metrics(run_id):
            metrics.setdefault(point.key, []).append(point)
    if as_json:
        document = {
            "run_id": run.run_id,
            "experiment": run.experiment,
            "status": run.status,
            "started_at": _when(run.started_at),
            "ended_at": _when(run.ended_at),
            "params": dict(run.params),
            "metrics": {k: [[p.step, p.value] for p in v] for k, v in metrics.items()},
            "tags": dict(run.tags),
            "models": [list(pair) for pair in run.models],
            "artifacts": {label: ref.digest for label, ref in run.artifacts.items()},
            "environment": dict(run.environment),
        }
        _json(document)
        return
    summary: list[list[Any]] = [
        ["experiment", run.experiment],
        ["status", run.status],
        ["started", _when(run.started_at)],
        ["took", _duration(run)],
        ["models", ", ".join(f"{m}@{v}" for m, v in run.models)],
    ]
    summary += [[f"tag {k}", _cell(v)] for k, v in sorted(run.tags.items())]
    summary += [[f"param {k}", v] for k, v in sorted(run.params.items())]
    summary += [[f"artifact {label}", ref.digest] for label, ref in sorted(run.artifacts.items())]
    environment = dict(run.environment)
    for key in ("python", "platform", "git_commit"):
        if key in environment:
            summary.append([f"env {key}", environment[key]])
    if "packages" in environment:
        summary.append(["env packages", f"{len(environment['packages'])} installed"])
    _table(f"run {run.run_id}", ["", "value"], summary, prose=["value"])
    rows = [
        [key, len(points), points[-1].step, _cell(points[-1].value),
         _cell(min(p.value for p in points)), _cell(max(p.value for p in points))]
        for key, points in sorted(metrics.items())
    ]  # fmt: skip
    _table("metrics", ["metric", "points", "last step", "last", "min", "max"], rows)


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
def compare(run_ids: tuple[str, ...]) -> None:
    """Compare runs side by side: parameters and the last value of each metric."""
    with _tracker() as tracker:
        table = tracker.compare(list(run_ids))
    params = sorted({key for entry in table.values() for key in entry["params"]})
    metrics = sorted({key for entry in table.values() for key in entry["metrics"]})
    rows = [[f"param {key}", *(table[r]["params"].get(key, "") for r in run_ids)] for key in params]
    rows += [
        [f"metric {key}", *(table[r]["metrics"].get(key, "") for r in run_ids)] for key in metrics
    ]
    _table("comparison", ["", *(r[:12] for r in run_ids)], rows)
