"""The main job end to end: ``modelops demo`` and ``modelops run`` with the built-in steps.

These need the first-party plugins (metrics, sanitizers, store-sql, artifacts-local,
provider-local); they are skipped when the core is tested alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from project_env import enter_project

from modelops_core.cli.main import main
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime

for plugin in ("metrics", "sanitizers", "store_sql", "artifacts_local", "provider_local"):
    pytest.importorskip(f"modelops_{plugin}", reason=f"modelops-{plugin} is not installed")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    enter_project(tmp_path, monkeypatch)
    # train inside the step rather than in a background worker: same model, less waiting
    (tmp_path / "modelops.toml").write_text("[providers.local]\ninline = true\n")
    return tmp_path


def test_the_demo_runs_the_whole_lifecycle_and_reuses_it(project: Path, capsys):
    assert main(["demo", "--examples", "600", "--epochs", "4"]) == 0
    out = capsys.readouterr().out
    assert "demo: succeeded" in out and "ticket-router 1 (alias production)" in out
    (report,) = (project / ".modelops" / "pipelines" / "demo" / "steps" / "evaluate").glob(
        "*/report.html"
    )
    assert "<svg" in report.read_text()
    evaluation = json.loads(report.with_name("evaluation.json").read_text())
    assert evaluation["values"]["accuracy"] > 0.8
    with ModelRegistry(Runtime()) as registry:
        production = registry.get_by_alias("ticket-router", "production")
        lineage = registry.lineage("ticket-router", production.version)
    assert lineage.dataset_fingerprint and lineage.dataset_fingerprint.startswith("sha256:")
    assert lineage.provider == "local" and lineage.training_job
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(Runtime())
    (run,) = tracker.find_runs(experiment="pipeline:demo")
    assert {"report", "evaluation", "sanitize_report"} <= set(run.artifacts)
    assert run.tags["dataset_fingerprint"] == lineage.dataset_fingerprint
    assert ("ticket-router", production.version) in run.models
    tracker.close()

    assert main(["demo", "--examples", "600", "--epochs", "4"]) == 0
    again = capsys.readouterr().out
    assert again.count("reused") >= 5  # dataset, sanitize, finetune, evaluate, register
    assert "ticket-router 1 (alias production)" in again


def test_the_sanitize_step_redacts_the_personal_data_of_the_demo(project: Path, capsys):
    assert main(["demo", "--examples", "300", "--epochs", "2"]) == 0
    capsys.readouterr()
    (train,) = (project / ".modelops" / "pipelines" / "demo" / "steps" / "sanitize").glob(
        "*/train.jsonl"
    )
    text = train.read_text()
    assert "@example.com" not in text and "[EMAIL]" in text
    report = json.loads(train.with_name("sanitize-report.json").read_text())
    assert "example.com" not in json.dumps(report)


def test_a_failing_gate_stops_before_register(project: Path, capsys):
    main(["demo", "--examples", "300", "--epochs", "2"])
    capsys.readouterr()
    pipeline = project / ".modelops" / "demo" / "pipeline.toml"
    strict = pipeline.read_text().replace("accuracy = 0.80", "accuracy = 0.999")
    strict = strict.replace('name = "demo"', 'name = "strict"')
    strict = strict.replace(
        '"tickets.jsonl"', f'"{project / ".modelops" / "demo" / "tickets.jsonl"}"'
    )
    strict_file = project / "strict.toml"
    strict_file.write_text(strict)
    assert main(["run", str(strict_file)]) == 1  # a check failed: the documented exit code
    captured = capsys.readouterr()
    assert "below the minimum 0.999" in captured.err and "nothing was registered" in captured.err
    assert "not run" in captured.out  # register and promote
    with ModelRegistry(Runtime()) as registry:
        assert registry.list_versions("ticket-router") == ["1"]


def test_dry_run_shows_what_would_be_reused(project: Path, capsys):
    main(["demo", "--examples", "300", "--epochs", "2"])
    capsys.readouterr()
    pipeline = project / ".modelops" / "demo" / "pipeline.toml"
    assert main(["run", str(pipeline), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would reuse") == 5 and out.count("would run") == 2  # gate, promote


def test_finetune_step_passes_provider_hyperparameters_through(project: Path, capsys):
    from modelops_core.cli.demo_data import write_tickets

    write_tickets(project / "tickets.jsonl", count=200)
    pipeline = project / "tune.toml"
    pipeline.write_text(
        '[pipeline]\nname = "tune"\n'
        '[[pipeline.steps]]\nuses = "dataset"\npath = "tickets.jsonl"\n'
        '[[pipeline.steps]]\nuses = "finetune"\nmodel = "local:logreg"\nepochs = 2\n'
        'hyperparameters = { optimizer = "sgd" }\n'
    )
    assert main(["run", str(pipeline)]) == 2
    assert "'optimizer' must be 'adam' or 'lbfgs'" in capsys.readouterr().err
    pipeline.write_text(pipeline.read_text().replace('"sgd"', '"lbfgs"'))
    assert main(["run", str(pipeline)]) == 0
