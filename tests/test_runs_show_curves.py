"""``modelops runs show`` draws each metric series of more than one point (a loss curve) under
the metrics table; ``--json`` stays as it was."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from modelops_core.cli.main import main
from modelops_core.cli.render import curve_line, sparkline

pytest.importorskip("modelops_store_sql.plugin", reason="modelops-store-sql is not installed")
pytest.importorskip("modelops_artifacts_local.plugin", reason="modelops-artifacts-local missing")


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def logged_run() -> str:
    """A run with a falling loss (4 points), a one-point metric and a 96-step series (drawn
    in 48 columns of two steps each)."""
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(capture_environment=False)
    with tracker.start("curves") as run:
        for step, loss in [(0, 1.0), (10, 0.5), (20, 0.25), (30, 0.0)]:
            run.log_metric("train_loss", loss, step=step)
        run.log_metric("accuracy", 0.9, step=30)
        for step in range(96):
            run.log_metric("learning_rate", 0.1 if step < 48 else 0.0, step=step)
    tracker.close()
    return run.id


def test_runs_show_draws_each_series_of_more_than_one_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_id = logged_run()
    capsys.readouterr()
    assert main(["runs", "show", run_id]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "train_loss\t4\t30\t0\t0\t1" in lines  # the table is as it was
    curves = lines[lines.index("# curves") + 1 :]
    assert curves == [
        "learning_rate  " + "█" * 24 + "▁" * 24 + "  0.1 -> 0  min 0 (step 48)  "
        "max 0.1 (step 0)  96 points, steps 0-95",
        "train_loss     █▅▃▁  1 -> 0  min 0 (step 30)  max 1 (step 0)  4 points, steps 0-30",
    ]  # accuracy has one point: no curve


def test_runs_show_json_has_no_chart(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = logged_run()
    capsys.readouterr()
    assert main(["runs", "show", run_id, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document) == [
        "artifacts", "ended_at", "environment", "experiment", "metrics", "models", "params",
        "run_id", "started_at", "status", "tags",
    ]  # fmt: skip
    assert document["metrics"]["train_loss"] == [[0, 1.0], [10, 0.5], [20, 0.25], [30, 0.0]]
    assert document["metrics"]["accuracy"] == [[30, 0.9]]


def test_a_long_series_is_averaged_into_the_width_and_gaps_stay_blank() -> None:
    assert sparkline([float(v) for v in range(200)], width=8) == "▁▂▃▄▅▆▇█"
    assert sparkline([1.0, math.nan, 0.0]) == "█ ▁"
    assert curve_line([(0, math.nan), (1, math.inf)]) == "    no finite value  2 points"
