"""ExperimentTracker as users call it, on the first-party ``sql`` backend.

Skipped (with that reason) when modelops-store-sql / modelops-artifacts-local are not installed.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from open_files import OPEN_STORE, closed_message, closed_underneath, open_files_under

from modelops_core.config import Config
from modelops_core.finetune.job_tracking import JobStore
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.store.contract import MetricPoint, RunNotFoundError
from modelops_core.store.facade import FacadeClosedError
from modelops_core.testing import (
    DEFAULT_POSTGRES_URL,
    fresh_postgres_schema,
    make_runtime,
    postgres_url_or_skip,
)
from modelops_core.tracking.tracker import ExperimentTracker, git_commit

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)


def new_runtime(home: Path) -> Runtime:
    return make_runtime(
        home,
        [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)],
        config=Config(home=home),
    )


@pytest.fixture
def tracker(tmp_path: Path) -> ExperimentTracker:
    opened = ExperimentTracker(new_runtime(tmp_path / ".modelops"), capture_environment=False)
    yield opened
    opened.close()


def test_a_run_records_params_and_metrics(tracker: ExperimentTracker) -> None:
    with tracker.start("baseline") as run:
        run.log_params({"learning_rate": 0.01, "epochs": 3})
        for step in range(3):
            run.log_metrics({"loss": 1.0 / (step + 1), "accuracy": 0.5 + step / 10}, step=step)
    assert run.get_metrics() == {"loss": 1.0 / 3, "accuracy": 0.7}
    assert [p.value for p in run.get_metric_history("loss")] == [1.0, 0.5, 1.0 / 3]
    assert [p.step for p in run.get_metric_history("accuracy")] == [0, 1, 2]
    assert run.get_params() == {"learning_rate": "0.01", "epochs": "3"}
    assert run.record().status == "finished"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExperimentTracker]:
    """A tracker on the SQLite store, or on a fresh schema of the PostgreSQL server."""
    runtime = new_runtime(tmp_path / ".modelops")
    if request.param == "sqlite":
        opened = ExperimentTracker(runtime, capture_environment=False)
        yield opened
        opened.close()
        return
    from modelops_store_sql.store import SqlStore

    postgres_url_or_skip()
    with fresh_postgres_schema(DEFAULT_POSTGRES_URL, prefix="modelops_tracking") as schema:
        backend = SqlStore(url=DEFAULT_POSTGRES_URL, schema=schema)
        opened = ExperimentTracker(runtime, backend=backend, capture_environment=False)
        yield opened
        opened.close()
        backend.close()


def test_get_metrics_is_the_latest_value_of_each_key(any_tracker: ExperimentTracker) -> None:
    with any_tracker.start("test") as exp:
        exp.log_metrics({"acc": 0.9})
        assert exp.get_metrics()["acc"] == 0.9
        exp.log_metrics({"acc": 0.7, "loss": 0.5}, step=2)
        exp.log_metric("acc", 0.8, step=1)  # logged last, but an earlier step
        exp.log_metric("loss", 0.4, step=2, timestamp=1.0)  # same step, older timestamp
        exp.log_metric("loss", 0.3, step=2, timestamp=time.time() + 60)  # same step, newest
    assert exp.get_metrics() == {"acc": 0.7, "loss": 0.3}
    assert [(p.value, p.step) for p in exp.get_metric_history("acc")] == [
        (0.9, 0),
        (0.8, 1),
        (0.7, 2),
    ]
    assert [p.value for p in exp.get_metric_history("loss")] == [0.4, 0.5, 0.3]
    assert exp.get_metric_history("never-logged") == []
    assert any_tracker.compare([exp.id])[exp.id]["metrics"] == {"acc": 0.7, "loss": 0.3}
    again = ExperimentTracker(any_tracker.runtime, backend=any_tracker.backend)
    assert again.list_runs("test")[0].run_id == exp.id
    with again.start("empty") as empty:
        pass
    assert empty.get_metrics() == {}


def test_a_failing_block_marks_the_run_failed(tracker: ExperimentTracker) -> None:
    with pytest.raises(RuntimeError), tracker.start("crash") as run:
        raise RuntimeError("boom")
    assert tracker.get_run(run.id).status == "failed"


def test_ten_thousand_points_in_one_batch_take_well_under_a_second(
    tracker: ExperimentTracker,
) -> None:
    points = [MetricPoint("loss", 1.0 / (i + 1), i, 0.0) for i in range(10_000)]
    with tracker.start("batch") as run:
        started = time.perf_counter()
        run.log_batch(points)
        elapsed = time.perf_counter() - started
    assert len(run.get_metric_history("loss")) == 10_000
    assert run.get_metrics() == {"loss": 1.0 / 10_000}
    assert elapsed < 0.5, f"10,000 points took {elapsed:.3f} s"


def test_a_metric_must_be_a_number(tracker: ExperimentTracker) -> None:
    with tracker.start("bad") as run, pytest.raises(ValueError, match="'loss' must be a number"):
        run.log_metric("loss", "high")  # type: ignore[arg-type]


def test_tags_artifacts_and_models_are_linked(tracker: ExperimentTracker, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("ok")
    with tracker.start("train", tags={"owner": "ana"}) as run:
        run.set_tags({"stage": "dev"})
        ref = run.log_artifact(report)
        run.link_model("churn", "1")
    record = tracker.get_run(run.id)
    assert dict(record.tags) == {"owner": "ana", "stage": "dev"}
    assert record.artifacts["report.txt"] == ref
    assert record.models == (("churn", "1"),)


def test_a_registered_version_names_the_run_that_produced_it(
    tracker: ExperimentTracker,
) -> None:
    with tracker.start("train") as run:
        run.log_metric("loss", 0.1)
    registry = ModelRegistry(tracker.runtime)
    registry.register("churn", "1", {"w": 1}, lineage={"run_id": run.id})
    assert tracker.get_run(run.id).models == (("churn", "1"),)
    assert registry.lineage("churn", "1").run_id == run.id
    registry.close()


def test_runs_are_listed_and_compared(tracker: ExperimentTracker) -> None:
    ids = []
    for lr in (0.1, 0.01):
        with tracker.start("sweep") as run:
            run.log_param("lr", lr)
            run.log_metric("loss", lr * 2)
        ids.append(run.id)
    assert [r.run_id for r in tracker.list_runs("sweep")] == ids[::-1]
    table = tracker.compare(ids)
    assert table[ids[1]] == {"params": {"lr": "0.01"}, "metrics": {"loss": 0.02}}
    with pytest.raises(RunNotFoundError):
        tracker.get_run("missing")


def test_the_environment_is_captured(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    runtime = make_runtime(home, [("modelops-store-sql", store_plugin)], config=Config(home=home))
    tracker = ExperimentTracker(runtime)
    with tracker.start("env") as run:
        pass
    environment = tracker.get_run(run.id).environment
    assert environment["python"].count(".") == 2
    assert "modelops-core" in environment["packages"]
    tracker.close()


def test_git_commit_is_read_from_the_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("abc123\n")
    (tmp_path / "src").mkdir()
    assert git_commit(tmp_path / "src") == "abc123"


def test_start_works_on_the_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelops_core.plugins.discovery import discover

    if "modelops-store-sql" not in {entry_point.name for entry_point in discover()}:
        pytest.skip("modelops-store-sql is importable but not installed as an entry point")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    with ExperimentTracker.start("test") as exp:
        exp.log_metrics({"acc": 0.9})
        assert exp.get_metrics()["acc"] == 0.9  # the seed example, as written
    assert exp.get_metrics() == {"acc": 0.9}
    assert [(p.key, p.value, p.step) for p in exp.get_metric_history("acc")] == [("acc", 0.9, 0)]
    exp.tracker.close()


def test_runs_are_found_by_tags_from_a_new_tracker(tracker: ExperimentTracker) -> None:
    for job, status in (("ft-1", "succeeded"), ("ft-2", "running"), ("ft-3", "running")):
        run = tracker.start("fine-tuning", tags={"job.id": job, "job.provider": "local"})
        run.set_tags({"job.status": status})
    tracker.start("other", tags={"job.id": "ft-2"})
    again = ExperimentTracker(tracker.runtime, capture_environment=False)
    found = again.find_runs("fine-tuning", {"job.id": "ft-2"})
    assert [dict(r.tags) for r in found] == [
        {"job.id": "ft-2", "job.provider": "local", "job.status": "running"}
    ]
    running = again.find_runs("fine-tuning", {"job.status": "running", "job.provider": "local"})
    assert sorted(r.tags["job.id"] for r in running) == ["ft-2", "ft-3"]
    assert len(again.find_runs(tags={"job.id": "ft-2"})) == 2  # any experiment
    assert again.find_runs("fine-tuning", {"job.status": "failed"}) == []
    assert len(again.find_runs("fine-tuning", status="running", limit=2)) == 2
    again.close()


def test_a_changed_tag_is_found_by_its_new_value_only(tracker: ExperimentTracker) -> None:
    with tracker.start("fine-tuning", tags={"job.status": "running", "attempt": 1}) as run:
        run.set_tags({"job.status": "succeeded"})
    assert tracker.find_runs(tags={"job.status": "running"}) == []
    assert [r.run_id for r in tracker.find_runs(tags={"job.status": "succeeded"})] == [run.id]
    assert tracker.find_runs(tags={"attempt": "1"}) == []  # JSON values: 1 is not "1"
    assert len(tracker.find_runs(tags={"attempt": 1})) == 1


# --- lifecycle: close, with, use after close ---------------------------------------------------


def test_the_with_block_closes_the_tracking_store(tmp_path: Path) -> None:
    home, report = tmp_path / ".modelops", tmp_path / "report.txt"
    report.write_text("ok")
    with ExperimentTracker(new_runtime(home), capture_environment=False) as tracker:
        with tracker.start("train") as run:
            run.log_artifact(report)
        assert open_files_under(home) == OPEN_STORE
    assert open_files_under(home) == []
    assert tracker.closed
    tracker.close()  # twice is fine


def test_a_closed_tracker_refuses_to_be_used_and_records_nothing(tmp_path: Path) -> None:
    home, report = tmp_path / ".modelops", tmp_path / "report.txt"
    report.write_text("ok")
    tracker = ExperimentTracker(new_runtime(home), capture_environment=False)
    run = tracker.start("train")
    tracker.close()
    with pytest.raises(FacadeClosedError) as caught:
        tracker.start("late")
    assert str(caught.value) == closed_message("ExperimentTracker", "open its backend")
    with pytest.raises(FacadeClosedError, match="cannot open its backend"):
        tracker.find_runs("train")
    with pytest.raises(FacadeClosedError, match="cannot open its artifacts"):
        run.log_artifact(report)  # a run of a closed tracker cannot open its store either
    assert open_files_under(home) == []
    with ExperimentTracker(new_runtime(home), capture_environment=False) as again:
        assert [(r.experiment, dict(r.artifacts)) for r in again.list_runs()] == [("train", {})]


def test_a_backend_whose_close_raises_still_lets_the_artifact_store_close(tmp_path: Path) -> None:
    home, report = tmp_path / ".modelops", tmp_path / "report.txt"
    report.write_text("ok")
    tracker = ExperimentTracker(new_runtime(home), capture_environment=False)
    tracker.artifacts.put_bytes(b"notes")  # the artifact store is opened first, closed last
    with tracker.start("train") as run:
        run.log_artifact(report)
    with closed_underneath(home / "modelops.db.writer-lock"), pytest.raises(OSError) as caught:
        tracker.close()
    assert caught.value.errno == errno.EBADF
    assert open_files_under(home) == []
    tracker.close()  # the failure is reported once
    with ExperimentTracker(new_runtime(home), capture_environment=False) as again:
        assert list(again.get_run(run.id).artifacts) == ["report.txt"]


def test_a_job_store_closes_the_tracker_it_opened_not_a_given_one(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    runtime = new_runtime(home)
    with JobStore(runtime) as jobs:
        run_id = jobs.create({"model": "m"}, {"job.id": "ft-1"})
        opened = jobs.tracker
    assert opened.closed and open_files_under(home) == []
    with pytest.raises(FacadeClosedError) as caught:
        jobs.find("ft-1")
    assert str(caught.value) == closed_message("JobStore", "open its tracker")
    with ExperimentTracker(runtime, capture_environment=False) as given:
        borrowed = JobStore(runtime, tracker=given)
        assert borrowed.find("ft-1").run_id == run_id
        borrowed.close()
        borrowed.close()
        assert not given.closed and given.get_run(run_id).params == {"model": "m"}
