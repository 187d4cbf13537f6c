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
    """Show a run: parameters, last metric values, tags, models, artifacts, environment, and
    a one-line chart of each metric series with more than one point (a loss curve)."""
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
    from modelops_core.cli.render import print_curves

    print_curves(
        "curves",
        {
            key: [(p.step, p.value) for p in sorted(points, key=lambda p: (p.step, p.timestamp))]
            for key, points in metrics.items()
        },
    )


#: words of a metric's name that make lower values better (losses, errors, costs, time).
_LOWER = {"loss", "error", "errors", "perplexity", "latency", "mae", "mse", "rmse", "mape",
          "brier", "ece", "calibration", "seconds", "duration", "cost", "ms", "wer",
          "cer"}  # fmt: skip
#: words that make higher values better (scores of quality).
_HIGHER = {"accuracy", "f1", "auc", "roc", "precision", "recall", "bleu", "rouge", "exact",
           "r2", "mcc", "kappa", "ap", "ndcg", "map", "mrr", "hit", "score", "throughput",
           "speedup", "rouge_l"}  # fmt: skip
#: bookkeeping series with no better direction.
_NEUTRAL = {"progress", "epoch", "step", "tokens_seen", "learning_rate", "trained_tokens"}


def metric_direction(name: str) -> str | None:
    """``"higher"`` or ``"lower"`` (is better) from the words of the metric's name
    (``validation_loss``: lower; ``eval.f1``: higher); None when it has no direction
    (``progress``, ``epoch``, ``learning_rate`` …) or its name does not say."""
    import re

    lowered = name.lower()
    if lowered.rsplit(".", 1)[-1] in _NEUTRAL:
        return None
    words = set(re.split(r"[^a-z0-9]+", lowered))
    if words & _LOWER:
        return "lower"
    if words & _HIGHER:
        return "higher"
    return None


def _best(values: list[Any], direction: str | None) -> set[int]:
    """The positions of the best value (all of them on a tie); none without a direction or
    when every run has the same value."""
    numbers = [
        (index, float(value))
        for index, value in enumerate(values)
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if direction is None or len(numbers) < 2 or len({value for _, value in numbers}) < 2:
        return set()
    chosen = max if direction == "higher" else min
    best = chosen(value for _, value in numbers)
    return {index for index, value in numbers if value == best}


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def compare(run_ids: tuple[str, ...], as_json: bool) -> None:
    """Compare runs side by side: parameters (those that differ first, marked) and the last
    value of each metric, with its direction and the best run marked."""
    import json

    with _tracker() as tracker:
        table = tracker.compare(list(run_ids))
    params = sorted({key for entry in table.values() for key in entry["params"]})
    metrics = sorted({key for entry in table.values() for key in entry["metrics"]})
    param_values = {key: [table[r]["params"].get(key) for r in run_ids] for key in params}
    differing = [key for key in params if len({json.dumps(v) for v in param_values[key]}) > 1]
    metric_values = {key: [table[r]["metrics"].get(key) for r in run_ids] for key in metrics}
    directions = {key: metric_direction(key) for key in metrics}
    best = {key: _best(metric_values[key], directions[key]) for key in metrics}
    if as_json:
        from modelops_core.cli.render import print_json

        print_json(
            {
                "runs": list(run_ids),
                "params": {key: param_values[key] for key in params},
                "differing_params": differing,
                "metrics": {
                    key: {
                        "values": metric_values[key],
                        "direction": directions[key],
                        "best": [run_ids[i] for i in sorted(best[key])],
                    }
                    for key in metrics
                },
            }
        )
        return
    ordered = differing + [key for key in params if key not in differing]
    rows = [
        [f"param {key}", "differs" if key in differing else "same",
         *("" if v is None else _cell(v) for v in param_values[key])]
        for key in ordered
    ]  # fmt: skip
    for key in metrics:
        direction = directions[key]
        cells = [
            ("" if value is None else _cell(value)) + (" (best)" if index in best[key] else "")
            for index, value in enumerate(metric_values[key])
        ]
        label = {"higher": "higher is better", "lower": "lower is better"}.get(direction or "", "")
        rows.append([f"metric {key}", label, *cells])
    title = f"comparison: {len(differing)} of {len(params)} params differ"
    _table(title, ["", "", *(r[:12] for r in run_ids)], rows)
