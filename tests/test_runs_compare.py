"""``modelops runs compare``: what differs between runs, and which run is better on each
metric in that metric's direction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelops_core.cli.main import main
from modelops_core.cli.runs import metric_direction

pytest.importorskip("modelops_store_sql.plugin", reason="modelops-store-sql is not installed")


@pytest.fixture
def sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three finished runs: the learning rate differs, the seed does not."""
    from modelops_core.tracking.tracker import ExperimentTracker

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    tracker = ExperimentTracker(capture_environment=False)
    ids = []
    for lr, loss, accuracy in ((0.1, 0.52, 0.81), (0.01, 0.31, 0.88), (0.001, 0.90, 0.88)):
        with tracker.start("sweep") as run:
            run.log_params({"lr": lr, "seed": 7})
            run.log_metrics({"validation_loss": loss, "accuracy": accuracy, "epoch": 3}, step=3)
        ids.append(run.id)
    tracker.close()
    return ids


def test_compare_marks_differing_params_and_the_better_run_per_metric(
    sweep: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "compare", *sweep]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# comparison: 1 of 2 params differ"
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[2:]}
    assert rows["param lr"] == ["differs", "0.1", "0.01", "0.001"]
    assert rows["param seed"] == ["same", "7", "7", "7"]
    assert rows["metric validation_loss"] == ["lower is better", "0.52", "0.31 (best)", "0.9"]
    assert rows["metric accuracy"] == ["higher is better", "0.81", "0.88 (best)", "0.88 (best)"]
    assert rows["metric epoch"] == ["", "3", "3", "3"]  # a count, not a score


def test_compare_json_names_the_differences_directions_and_best_runs(
    sweep: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "compare", *sweep, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["differing_params"] == ["lr"]
    assert document["metrics"]["validation_loss"] == {
        "values": [0.52, 0.31, 0.9], "direction": "lower", "best": [sweep[1]]
    }  # fmt: skip
    assert document["metrics"]["accuracy"]["best"] == [sweep[1], sweep[2]]
    assert document["metrics"]["epoch"]["direction"] is None


@pytest.mark.parametrize(
    ("name", "direction"),
    [("train_loss", "lower"), ("latency_ms", "lower"), ("rmse", "lower"), ("f1", "higher"),
     ("eval.balanced_accuracy", "higher"), ("bleu", "higher"), ("f1_score", "higher"),
     ("precision_at_5", "higher"), ("progress", None),
     ("tokens_seen", None), ("learning_rate", None), ("widgets", None)],
)  # fmt: skip
def test_metric_directions_come_from_their_names(name: str, direction: str | None) -> None:
    assert metric_direction(name) == direction
