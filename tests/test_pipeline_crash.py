"""``modelops run`` killed at real points, then ``--resume``: nothing is done twice.

Issue 14, section 2. A real ``modelops run`` process is stopped with ``os._exit(137)`` (what a
SIGKILL leaves behind: no cleanup, no saved state) at a named point through the documented
test hook ``MODELOPS_TEST_CRASH_AT=<step>:<point>``; the resumed run must re-attach to the
fine-tuning job and find the registered version instead of starting or registering again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_env import enter_project

from modelops_core.cli.demo_data import write_tickets
from modelops_core.cli.main import main
from modelops_core.pipeline.runner import CRASH_AT_ENV
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip
from modelops_core.tracking.tracker import ExperimentTracker

for plugin in ("store_sql", "artifacts_local", "provider_local"):
    pytest.importorskip(f"modelops_{plugin}", reason=f"modelops-{plugin} is not installed")

MODEL = "ticket-router"
PIPELINE = f"""
[pipeline]
name = "crash"

[[pipeline.steps]]
uses = "dataset"
path = "tickets.jsonl"
test_size = 0.25

[[pipeline.steps]]
uses = "finetune"
model = "local:logreg"
epochs = 2
learning_rate = 0.05
poll_interval = 0.05

[[pipeline.steps]]
uses = "register"
name = "{MODEL}"

[[pipeline.steps]]
uses = "promote"
alias = "production"
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A project whose registry and tracking store are SQLite (the default) or PostgreSQL."""
    enter_project(tmp_path, monkeypatch)
    write_tickets(tmp_path / "tickets.jsonl", count=120)
    (tmp_path / "pipeline.toml").write_text(PIPELINE)
    # the local provider trains in a detached worker, like a hosted job it outlives a kill
    config = "[providers.local]\ninline = false\n"
    if request.param == "sqlite":
        (tmp_path / "modelops.toml").write_text(config)
        yield tmp_path
        return
    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_crash") as schema:
        for section in ("registry", "tracking"):
            config += f'[{section}]\nbackend = "sql"\nurl = "{url}"\nschema = "{schema}"\n'
        (tmp_path / "modelops.toml").write_text(config)
        yield tmp_path
        assert not (tmp_path / ".modelops" / "modelops.db").exists()  # all of it in PostgreSQL


def run_killed_at(project: Path, point: str) -> subprocess.CompletedProcess[str]:
    """``modelops run pipeline.toml`` in a child process that stops dead at ``point``."""
    environment = {**os.environ, CRASH_AT_ENV: point}
    return subprocess.run(
        [sys.executable, "-m", "modelops_core.cli.main", "run", "pipeline.toml"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def fine_tuning_jobs(project: Path) -> list[str]:
    """Every job the local provider was asked to create (its own record, not ours)."""
    jobs = project / ".modelops" / "providers" / "local" / "jobs"
    return sorted(path.name for path in jobs.iterdir()) if jobs.is_dir() else []


def test_a_run_killed_after_the_job_was_created_resumes_the_same_job(project: Path, capsys):
    killed = run_killed_at(project, "finetune:job-started")
    assert killed.returncode == 137, killed.stderr
    (job,) = fine_tuning_jobs(project)

    assert main(["run", "pipeline.toml", "--resume"]) == 0
    out = capsys.readouterr().out
    assert fine_tuning_jobs(project) == [job]  # no second job, no second bill
    assert f"job_id: {job}" in out  # the resumed step followed the first job
    runtime = Runtime()
    tracker = ExperimentTracker(runtime)
    tracked = tracker.find_runs("fine-tuning")
    tracker.close()
    assert [run.tags["job.id"] for run in tracked] == [job]
    with ModelRegistry(runtime) as registry:
        assert registry.list_versions(MODEL) == ["1"]
        assert registry.lineage(MODEL, "1").training_job == job


def test_a_run_killed_before_the_tracking_store_learned_the_job_id_resumes_the_same_job(
    project: Path, capsys
):
    # The provider created the job; the process died before FineTuningJob recorded its id.
    killed = run_killed_at(project, "job:provider-created")
    assert killed.returncode == 137, killed.stderr
    (job,) = fine_tuning_jobs(project)
    tracker = ExperimentTracker(Runtime())
    assert [run.tags.get("job.id") for run in tracker.find_runs("fine-tuning")] == [None]
    tracker.close()

    assert main(["run", "pipeline.toml", "--resume"]) == 0
    out = capsys.readouterr().out
    assert fine_tuning_jobs(project) == [job]  # found at the provider by its attempt metadata
    assert f"job_id: {job}" in out
    with ModelRegistry(Runtime()) as registry:
        assert registry.list_versions(MODEL) == ["1"]
        assert registry.lineage(MODEL, "1").training_job == job


@pytest.mark.parametrize("point", ["register:registered", "register:finished"])
def test_a_run_killed_after_the_registry_commit_registers_once(project: Path, capsys, point: str):
    killed = run_killed_at(project, point)
    assert killed.returncode == 137, killed.stderr
    with ModelRegistry(Runtime()) as registry:
        assert registry.list_versions(MODEL) == ["1"]  # committed before the kill

    assert main(["run", "pipeline.toml", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "reused" in out  # dataset and finetune
    with ModelRegistry(Runtime()) as registry:
        assert registry.list_versions(MODEL) == ["1"]
        assert registry.get_by_alias(MODEL, "production").version == "1"
    assert len(fine_tuning_jobs(project)) == 1
