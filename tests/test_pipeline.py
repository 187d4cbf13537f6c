"""The pipeline engine: ordered steps, reuse of unchanged steps, failure, resume, dry run.

The steps here come from a small plugin declared in this file, the way a third party adds
steps; the built-in steps are tested end to end in test_pipeline_steps.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from modelops_core import hookimpl
from modelops_core.errors import ComponentOptionError, UnknownComponentError
from modelops_core.pipeline.runner import (
    Pipeline,
    PipelineInterruptedError,
    PipelineStateError,
    StepContext,
    StepFailedError,
    StepStatus,
)
from modelops_core.pipeline.spec import PipelineFileError, load_pipeline, parse_pipeline
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.runtime import Runtime
from modelops_core.testing import make_runtime


class Calls:
    """What the test steps did, so the tests can see which steps really ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.fail_on: set[str] = set()
        self.interrupt_on: set[str] = set()


class CountStep:
    """Writes ``count`` lines to a file and outputs its path and the number."""

    def __init__(self, calls: Calls, count: int = 3, label: str = "") -> None:
        self.calls = calls
        self.count = count
        self.label = label

    def run(self, context: StepContext) -> Mapping[str, Any]:
        self.calls.ran.append(context.step.id)
        if context.step.id in self.calls.fail_on:
            raise RuntimeError("the disk is full")
        if context.step.id in self.calls.interrupt_on:
            raise KeyboardInterrupt
        path = context.workdir / "lines.txt"
        path.write_text("x\n" * self.count)
        return {"lines": str(path), "count": self.count}


class OnceStep:
    """Records an attempt in its journal before acting, and fails the first time."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def run(self, context: StepContext) -> Mapping[str, Any]:
        self.calls.ran.append(f"journal={dict(context.journal)}")
        attempt = context.journal.get("attempt", 0) + 1
        context.record(attempt=attempt)
        if attempt == 1:
            raise RuntimeError("the provider hung up")
        return {"attempts": attempt}


class SumStep:
    """Reads the latest ``count`` and doubles it; moving aliases-like: not cacheable."""

    cacheable = False

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def run(self, context: StepContext) -> Mapping[str, Any]:
        self.calls.ran.append(context.step.id)
        if context.step.id in self.calls.fail_on:
            raise RuntimeError("the service is down")
        return {"double": 2 * context.latest("count")}


def plugin_for(calls: Calls) -> object:
    def count(count: int = 3, label: str = "") -> CountStep:
        return CountStep(calls, count, label)

    class Steps:
        @hookimpl
        def modelops_register_steps(self, registry: ComponentRegistrar) -> None:
            registry.add("count", count)
            registry.add("double", lambda: SumStep(calls))
            registry.add("once", lambda: OnceStep(calls))

    return Steps()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def runtime(tmp_path: Path, calls: Calls) -> Runtime:
    return make_runtime(tmp_path / ".modelops", [("test-steps", plugin_for(calls))])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.toml"
    path.write_text(text)
    return path


PIPELINE = """
[pipeline]
name = "demo"

[[pipeline.steps]]
uses = "count"
count = {count}

[[pipeline.steps]]
id = "twice"
uses = "double"
"""


def pipeline(tmp_path: Path, runtime: Runtime, count: int = 3) -> Pipeline:
    return Pipeline.from_file(write(tmp_path, PIPELINE.format(count=count)), runtime)


def test_steps_run_in_order_and_pass_outputs(tmp_path: Path, runtime: Runtime, calls: Calls):
    result = pipeline(tmp_path, runtime).run(track=False)
    assert result.status == "succeeded"
    assert calls.ran == ["count", "twice"]
    assert result.outputs()["double"] == 6
    assert [s.status for s in result.steps] == [StepStatus.RAN, StepStatus.RAN]


def test_an_unchanged_step_is_reused_and_a_side_effect_step_runs_again(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    pipeline(tmp_path, runtime).run(track=False)
    calls.ran.clear()
    again = pipeline(tmp_path, runtime).run(track=False)
    assert calls.ran == ["twice"]  # count reused; double is not cacheable
    assert again.steps[0].status == StepStatus.REUSED
    assert again.outputs()["double"] == 6


def test_changing_an_option_reruns_that_step_and_everything_after(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    pipeline(tmp_path, runtime, count=3).run(track=False)
    calls.ran.clear()
    result = pipeline(tmp_path, runtime, count=5).run(track=False)
    assert calls.ran == ["count", "twice"]
    assert result.outputs()["double"] == 10


def test_a_step_whose_output_file_vanished_runs_again(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    first = pipeline(tmp_path, runtime).run(track=False)
    Path(first.outputs()["lines"]).unlink()
    calls.ran.clear()
    pipeline(tmp_path, runtime).run(track=False)
    assert calls.ran == ["count", "twice"]


def test_dry_run_shows_the_plan_without_running(tmp_path: Path, runtime: Runtime, calls: Calls):
    assert [s.status for s in pipeline(tmp_path, runtime).plan().steps] == [
        StepStatus.WOULD_RUN,
        StepStatus.WOULD_RUN,
    ]
    pipeline(tmp_path, runtime).run(track=False)
    calls.ran.clear()
    plan = pipeline(tmp_path, runtime).plan()
    assert [s.status for s in plan.steps] == [StepStatus.WOULD_REUSE, StepStatus.WOULD_RUN]
    assert calls.ran == []


def test_a_failing_step_stops_the_run_and_resume_continues_from_it(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    calls.fail_on = {"twice"}
    with pytest.raises(StepFailedError, match="the service is down") as failure:
        pipeline(tmp_path, runtime).run(track=False)
    assert failure.value.step == "twice"
    assert "--resume" in str(failure.value)
    assert [s.status for s in failure.value.result.steps] == [StepStatus.RAN, StepStatus.FAILED]
    calls.fail_on.clear()
    calls.ran.clear()
    resumed = pipeline(tmp_path, runtime).run(resume=True, track=False)
    assert calls.ran == ["twice"]
    assert resumed.status == "succeeded"


def test_steps_after_a_failure_are_marked_not_run(tmp_path: Path, runtime: Runtime, calls: Calls):
    calls.fail_on = {"count"}
    with pytest.raises(StepFailedError) as failure:
        pipeline(tmp_path, runtime).run(track=False)
    assert [s.status for s in failure.value.result.steps] == [
        StepStatus.FAILED,
        StepStatus.NOT_RUN,
    ]
    assert calls.ran == ["count"]


def test_ctrl_c_records_the_run_as_interrupted_and_it_can_be_resumed(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    calls.interrupt_on = {"count"}
    with pytest.raises(PipelineInterruptedError, match="--resume") as stop:
        pipeline(tmp_path, runtime).run(track=False)
    assert stop.value.result.status == "interrupted"
    calls.interrupt_on.clear()
    assert pipeline(tmp_path, runtime).run(resume=True, track=False).status == "succeeded"


def test_an_unknown_step_lists_the_available_ones(tmp_path: Path, runtime: Runtime):
    path = write(tmp_path, '[pipeline]\nname = "x"\n[[pipeline.steps]]\nuses = "cuont"\n')
    with pytest.raises(UnknownComponentError, match="count"):
        Pipeline.from_file(path, runtime).plan()


def test_a_step_option_of_the_wrong_type_names_file_step_and_key(tmp_path: Path, runtime: Runtime):
    path = write(
        tmp_path, '[pipeline]\nname = "x"\n[[pipeline.steps]]\nuses = "count"\ncount = "many"\n'
    )
    with pytest.raises(ComponentOptionError) as error:
        Pipeline.from_file(path, runtime).plan()
    message = str(error.value)
    assert "pipeline.toml" in message and "#1" in message and "count" in message


def test_pipeline_file_errors_say_what_to_write(tmp_path: Path):
    with pytest.raises(PipelineFileError, match="no steps"):
        parse_pipeline({"name": "x"}, source="p.toml", base_dir=tmp_path)
    with pytest.raises(PipelineFileError, match="uses"):
        parse_pipeline({"steps": [{"count": 1}]}, source="p.toml", base_dir=tmp_path)
    with pytest.raises(PipelineFileError, match="earlier step"):
        parse_pipeline(
            {"steps": [{"uses": "a"}, {"uses": "a"}]}, source="p.toml", base_dir=tmp_path
        )
    with pytest.raises(PipelineFileError, match="does not exist"):
        load_pipeline(tmp_path / "missing.toml")
    with pytest.raises(PipelineFileError, match="steps"):
        parse_pipeline({"stpes": []}, source="p.toml", base_dir=tmp_path)


def test_a_step_needing_an_output_nobody_produced_says_which(tmp_path: Path, runtime: Runtime):
    path = write(tmp_path, '[pipeline]\nname = "x"\n[[pipeline.steps]]\nuses = "double"\n')
    with pytest.raises(StepFailedError, match="needs 'count' from an earlier step"):
        Pipeline.from_file(path, runtime).run(track=False)


def test_a_run_is_recorded_in_the_tracking_store(tmp_path: Path, calls: Calls):
    pytest.importorskip("modelops_store_sql", reason="modelops-store-sql is not installed")
    from modelops_core.tracking.tracker import ExperimentTracker

    runtime = make_runtime(
        tmp_path / ".modelops", [("test-steps", plugin_for(calls))], autoload=True
    )
    result = pipeline(tmp_path, runtime).run()
    assert result.run_id
    tracker = ExperimentTracker(runtime)
    record = tracker.get_run(result.run_id)
    tracker.close()
    assert record.experiment == "pipeline:demo"
    assert record.tags["pipeline.status"] == "succeeded"
    assert record.params["count.count"] == "3"


def test_the_reuse_cache_forgets_the_oldest_results_first(
    tmp_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    import modelops_core.pipeline.runner as engine

    monkeypatch.setattr(engine, "CACHE_ENTRIES", 3)
    for count in (1, 2, 3, 4):
        pipeline(tmp_path, runtime, count=count).run(track=False)
    state = json.loads((runtime.config.home / "pipelines" / "demo" / "state.json").read_text())
    assert len(state["cache"]) == 3
    kept = [entry["outputs"] for entry in state["cache"].values()]
    assert [o.get("count", o.get("double")) for o in kept] == [6, 4, 8]  # runs 3 and 4
    # the folders of forgotten results are deleted with them
    folders = runtime.config.home / "pipelines" / "demo" / "steps" / "count"
    assert sorted(path.name for path in folders.iterdir()) == sorted(
        Path(entry["workdir"]).name for entry in state["cache"].values() if entry["step"] == "count"
    )


def test_each_key_has_its_own_folder_and_flipping_back_hands_back_its_file(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    three = Path(pipeline(tmp_path, runtime, count=3).run(track=False).outputs()["lines"])
    five = Path(pipeline(tmp_path, runtime, count=5).run(track=False).outputs()["lines"])
    calls.ran.clear()
    back = pipeline(tmp_path, runtime, count=3).run(track=False)
    assert calls.ran == ["twice"]
    assert three.parent != five.parent and three.parent.parent == five.parent.parent
    assert Path(back.outputs()["lines"]) == three
    assert three.read_text() == "x\n" * 3 and five.read_text() == "x\n" * 5


def test_a_reused_file_is_verified_and_its_step_runs_again_when_it_changed(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    lines = Path(pipeline(tmp_path, runtime).run(track=False).outputs()["lines"])
    lines.write_text("x\ny\nz\n")  # same size, other bytes
    calls.ran.clear()
    again = pipeline(tmp_path, runtime).run(track=False)
    assert calls.ran == ["count", "twice"]
    assert again.steps[0].detail == "lines.txt changed since it was written (its sha256 differs)"
    assert lines.read_text() == "x\n" * 3


def test_a_garbage_state_file_is_an_error_and_nothing_runs(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    state = runtime.config.home / "pipelines" / "demo" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text("[1, 2")
    with pytest.raises(PipelineStateError, match="is not valid JSON") as error:
        pipeline(tmp_path, runtime).run(track=False)
    assert f"rm {state}" in str(error.value)
    with pytest.raises(PipelineStateError):
        pipeline(tmp_path, runtime).plan()
    assert calls.ran == []
    assert state.read_text() == "[1, 2"


def test_a_step_journal_survives_a_failure_and_is_dropped_after_success(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    path = write(tmp_path, '[pipeline]\nname = "j"\n[[pipeline.steps]]\nuses = "once"\n')
    with pytest.raises(StepFailedError, match="hung up"):
        Pipeline.from_file(path, runtime).run(track=False)
    plan = Pipeline.from_file(path, runtime).plan()
    assert "continues the unfinished attempt (attempt 1)" in plan.steps[0].detail
    assert Pipeline.from_file(path, runtime).run(resume=True, track=False).outputs() == {
        "attempts": 2
    }
    assert calls.ran == ["journal={}", "journal={'attempt': 1}"]
    state = json.loads((runtime.config.home / "pipelines" / "j" / "state.json").read_text())
    assert state["journals"] == {}
