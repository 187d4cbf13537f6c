"""The pipeline runner's resume, progress and tracking rules, value by value (issue 18: each
test kills mutants of pipeline/runner.py the broader tests in test_pipeline.py let live)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from test_pipeline import Calls, plugin_for, write

from modelops_core import hookimpl
from modelops_core.pipeline.runner import (
    CRASH_AT_ENV,
    Pipeline,
    PipelineInterruptedError,
    PipelineStateError,
    StepContext,
    StepFailedError,
    StepResult,
    StepStatus,
)
from modelops_core.pipeline.spec import StepSpec
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.runtime import Runtime
from modelops_core.testing import make_runtime

# count (cacheable) -> twice (not cacheable: a side effect such as moving an alias) -> last
THREE_STEPS = """
[pipeline]
name = "three"

[[pipeline.steps]]
uses = "count"
count = {count}

[[pipeline.steps]]
id = "twice"
uses = "double"

[[pipeline.steps]]
id = "last"
uses = "count"
count = 1
"""


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def runtime(tmp_path: Path, calls: Calls) -> Runtime:
    return make_runtime(tmp_path / ".modelops", [("test-steps", plugin_for(calls))])


def three(tmp_path: Path, runtime: Runtime, count: int = 3) -> Pipeline:
    return Pipeline.from_file(write(tmp_path, THREE_STEPS.format(count=count)), runtime)


def fail_last(tmp_path: Path, runtime: Runtime, calls: Calls) -> None:
    calls.fail_on = {"last"}
    with pytest.raises(StepFailedError):
        three(tmp_path, runtime).run(track=False)
    assert calls.ran == ["count", "twice", "last"]
    calls.fail_on.clear()
    calls.ran.clear()


def test_resume_skips_a_side_effect_step_that_succeeded_when_its_key_is_unchanged(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    fail_last(tmp_path, runtime, calls)
    resumed = three(tmp_path, runtime).run(resume=True, track=False)
    assert calls.ran == ["last"]  # twice moved its alias already: not again
    assert [s.status for s in resumed.steps] == [StepStatus.REUSED] * 2 + [StepStatus.RAN]
    assert resumed.outputs()["double"] == 6


def test_resume_runs_the_side_effect_step_again_when_its_key_changed(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    fail_last(tmp_path, runtime, calls)
    resumed = three(tmp_path, runtime, count=4).run(resume=True, track=False)
    assert calls.ran == ["count", "twice", "last"]
    assert resumed.outputs()["double"] == 8


def test_without_resume_the_side_effect_step_runs_again(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    fail_last(tmp_path, runtime, calls)
    again = three(tmp_path, runtime).run(track=False)
    assert calls.ran == ["twice", "last"]
    assert again.steps[1].detail == "runs on every run (not cacheable)"


def test_resume_after_a_finished_run_runs_the_side_effect_step(
    tmp_path: Path, runtime: Runtime, calls: Calls
):
    three(tmp_path, runtime).run(track=False)
    calls.ran.clear()
    three(tmp_path, runtime).run(resume=True, track=False)
    assert calls.ran == ["twice"]  # the previous run finished: nothing to resume


class Recorder:
    """A progress observer that writes down what the runner tells it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []

    def step_started(self, step: StepSpec, reused: bool) -> None:
        self.events.append(("started", step.id, reused))

    def step_message(self, step: StepSpec, message: str) -> None:
        self.events.append(("message", step.id, message))

    def step_finished(self, result: StepResult) -> None:
        self.events.append(("finished", result.id, result.status))


def test_the_observer_sees_which_steps_are_reused(tmp_path: Path, runtime: Runtime):
    first = Recorder()
    three(tmp_path, runtime).run(track=False, observer=first)
    assert first.events == [
        ("started", "count", False), ("finished", "count", StepStatus.RAN),
        ("started", "twice", False), ("finished", "twice", StepStatus.RAN),
        ("started", "last", False), ("finished", "last", StepStatus.RAN),
    ]  # fmt: skip
    second = Recorder()
    three(tmp_path, runtime).run(track=False, observer=second)
    assert second.events == [
        ("started", "count", True), ("finished", "count", StepStatus.REUSED),
        ("started", "twice", False), ("finished", "twice", StepStatus.RAN),
        ("started", "last", True), ("finished", "last", StepStatus.REUSED),
    ]  # fmt: skip


def test_seconds_are_logged_only_for_the_steps_that_ran(tmp_path: Path, calls: Calls):
    pytest.importorskip("modelops_store_sql", reason="modelops-store-sql is not installed")
    from modelops_core.tracking.tracker import ExperimentTracker

    runtime = make_runtime(
        tmp_path / ".modelops", [("test-steps", plugin_for(calls))], autoload=True
    )
    first = three(tmp_path, runtime).run()
    second = three(tmp_path, runtime).run()
    tracker = ExperimentTracker(runtime)
    try:
        ran_all = tracker.backend.get_metrics(first.run_id)
        ran_one = tracker.backend.get_metrics(second.run_id)
        tags = tracker.get_run(second.run_id).tags
    finally:
        tracker.close()
    assert sorted(point.key for point in ran_all) == ["seconds.count", "seconds.last",
                                                      "seconds.twice"]  # fmt: skip
    assert [point.key for point in ran_one] == ["seconds.twice"]
    seconds = {s.id: s.seconds for s in second.steps}
    assert ran_one[0].value == seconds["twice"] > 0
    assert seconds["count"] == seconds["last"] == 0.0
    assert (tags["step.count"], tags["step.twice"], tags["step.last"]) == ("reused", "ran",
                                                                            "reused")  # fmt: skip
    assert tags["pipeline.status"] == "succeeded"


class ListStep:
    """Returns a list: not a mapping of outputs."""

    def run(self, context: StepContext) -> Any:
        return ["model.bin"]


class JobStep:
    """Records the job it starts in its journal, then stops once (as a provider timeout)."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def run(self, context: StepContext) -> Mapping[str, Any]:
        if "job" not in context.journal:
            context.record(attempt=1, job="job-7")
            raise RuntimeError("the provider timed out")
        return {"job": context.journal["job"]}


class FolderStep:
    """Writes a model folder of three files (3, 2 and 4 bytes) and outputs its path."""

    def run(self, context: StepContext) -> Mapping[str, Any]:
        folder = context.workdir / "model"
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_text("abc")
        (folder / "c.txt").write_text("xy")
        (folder / "sub" / "b.txt").write_text("defg")
        return {"model": str(folder)}


class NotJsonStep:
    def run(self, context: StepContext) -> Mapping[str, Any]:
        return {"when": object()}


class MoveStep:
    """Not cacheable (it moves something on every run); outputs how often it ran."""

    cacheable = False

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def run(self, context: StepContext) -> Mapping[str, Any]:
        self.calls.ran.append(context.step.id)
        return {"moves": self.calls.ran.count(context.step.id)}


class InterruptedStep:
    def run(self, context: StepContext) -> Mapping[str, Any]:
        raise KeyboardInterrupt


def more_steps(calls: Calls) -> object:
    class Steps:
        @hookimpl
        def modelops_register_steps(self, registry: ComponentRegistrar) -> None:
            registry.add("listing", ListStep)
            registry.add("job", lambda: JobStep(calls))
            registry.add("stop", InterruptedStep)
            registry.add("folder", FolderStep)
            registry.add("not-json", NotJsonStep)
            registry.add("move", lambda: MoveStep(calls))

    return Steps()


def one_step(tmp_path: Path, calls: Calls, uses: str) -> Pipeline:
    runtime = make_runtime(
        tmp_path / ".modelops",
        [("test-steps", plugin_for(calls)), ("more-steps", more_steps(calls))],
    )
    text = f'[pipeline]\nname = "one"\n\n[[pipeline.steps]]\nuses = "{uses}"\n'
    return Pipeline.from_file(write(tmp_path, text), runtime)


def test_a_step_returning_something_else_than_a_mapping_is_named(tmp_path: Path, calls: Calls):
    with pytest.raises(StepFailedError, match=r"step 'listing' returned list; a step's run\(\)"):
        one_step(tmp_path, calls, "listing").run(track=False)


def test_a_step_needing_an_output_when_nothing_was_produced_says_none(tmp_path: Path, calls: Calls):
    with pytest.raises(StepFailedError, match=r"\(earlier outputs: none\)\. Add the step"):
        one_step(tmp_path, calls, "double").run(track=False)


def test_the_plan_names_what_the_unfinished_attempt_recorded(tmp_path: Path, calls: Calls):
    with pytest.raises(StepFailedError, match="the provider timed out"):
        one_step(tmp_path, calls, "job").run(track=False)
    plan = one_step(tmp_path, calls, "job").plan(resume=True)
    assert plan.steps[0].detail.endswith("; continues the unfinished attempt (job job-7)")
    assert one_step(tmp_path, calls, "job").run(resume=True, track=False).outputs() == {
        "job": "job-7"
    }


def test_an_interrupted_step_reports_the_seconds_it_ran(tmp_path: Path, calls: Calls):
    with pytest.raises(PipelineInterruptedError) as stop:
        one_step(tmp_path, calls, "stop").run(track=False)
    (step,) = stop.value.result.steps
    assert step.status == StepStatus.INTERRUPTED
    assert 0.0 <= step.seconds < 10.0


CRASHING = """
import sys
from modelops_core import hookimpl
from modelops_core.pipeline.runner import Pipeline
from modelops_core.testing import make_runtime

class Step:
    def run(self, context):
        context.checkpoint("before-writing")
        (context.workdir / "written").write_text("x")
        return {"ok": True}

class Steps:
    @hookimpl
    def modelops_register_steps(self, registry):
        registry.add("crashing", Step)

runtime = make_runtime(sys.argv[1], [("crash-steps", Steps())])
print(Pipeline.from_file(sys.argv[2], runtime).run(track=False).status)
"""


def test_the_crash_hook_stops_the_process_as_a_kill_would(tmp_path: Path):
    script = tmp_path / "run.py"
    script.write_text(CRASHING)
    spec = write(tmp_path, '[pipeline]\nname = "c"\n\n[[pipeline.steps]]\nuses = "crashing"\n')
    command = [sys.executable, str(script), str(tmp_path / ".modelops"), str(spec)]
    environment = {**os.environ, CRASH_AT_ENV: "crashing:before-writing"}
    killed = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert (killed.returncode, killed.stdout) == (137, "")  # what SIGKILL's exit status reads
    assert not list((tmp_path / ".modelops").rglob("written"))
    finished = subprocess.run(command, capture_output=True, text=True)
    assert (finished.returncode, finished.stdout) == (0, "succeeded\n"), finished.stderr


def test_a_changed_output_folder_is_named_with_its_sizes(tmp_path: Path, calls: Calls):
    model = Path(one_step(tmp_path, calls, "folder").run(track=False).outputs()["model"])
    assert one_step(tmp_path, calls, "folder").plan().steps[0].status == StepStatus.WOULD_REUSE
    (model / "sub" / "b.txt").write_text("defgh")
    (step,) = one_step(tmp_path, calls, "folder").plan().steps
    assert step.status == StepStatus.WOULD_RUN
    assert "model changed since it was written (9 -> 10 bytes)" in step.detail


def test_a_step_returning_outputs_that_are_not_json_is_named(tmp_path: Path, calls: Calls):
    with pytest.raises(StepFailedError, match=r"step 'not-json' returned outputs that are not"):
        one_step(tmp_path, calls, "not-json").run(track=False)


def test_a_reused_step_says_which_key_and_how_many_files_were_verified(
    tmp_path: Path, runtime: Runtime
):
    three(tmp_path, runtime).run(track=False)
    again = three(tmp_path, runtime).run(track=False)
    count = again.steps[0]
    assert count.status == StepStatus.REUSED and len(count.key) == 64
    assert count.detail == f"key {count.key[:12]}, 1 file verified"


MOVE_THEN_LAST = """
[pipeline]
name = "moves"

[[pipeline.steps]]
id = "move"
uses = "move"

[[pipeline.steps]]
id = "last"
uses = "count"
count = {count}
"""


def test_resume_hands_back_what_the_side_effect_step_did_last(tmp_path: Path, calls: Calls):
    runtime = make_runtime(
        tmp_path / ".modelops",
        [("test-steps", plugin_for(calls)), ("more-steps", more_steps(calls))],
    )
    first = Pipeline.from_file(write(tmp_path, MOVE_THEN_LAST.format(count=1)), runtime)
    assert first.run(track=False).outputs()["moves"] == 1
    changed = write(tmp_path, MOVE_THEN_LAST.format(count=2))
    calls.fail_on = {"last"}
    with pytest.raises(StepFailedError):
        Pipeline.from_file(changed, runtime).run(track=False)  # move ran again: moves = 2
    calls.fail_on.clear()
    resumed = Pipeline.from_file(changed, runtime).run(resume=True, track=False)
    assert resumed.steps[0].status == StepStatus.REUSED
    assert resumed.outputs()["moves"] == 2  # not the 1 of the first run


def test_a_state_file_of_the_wrong_shape_is_refused_even_with_its_checksum(
    tmp_path: Path, runtime: Runtime
):
    three(tmp_path, runtime).run(track=False)
    state = runtime.config.home / "pipelines" / "three" / "state.json"
    data = json.loads(state.read_text())
    body = {"cache": data["cache"], "last": [], "journals": data["journals"]}
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    data.update(body, checksum=hashlib.sha256(canonical.encode()).hexdigest())
    state.write_text(json.dumps(data))  # as a buggy tool that knows the checksum would
    with pytest.raises(PipelineStateError, match="its cache entries are malformed"):
        three(tmp_path, runtime).plan()


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs a tmpfs at /dev/shm")
def test_an_output_folder_rewritten_with_the_same_files_is_still_reused(calls: Calls):
    # tmpfs lists a folder newest first: rewriting a file changes the listing order only
    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        home = Path(shm)
        model = Path(one_step(home, calls, "folder").run(track=False).outputs()["model"])
        content = (model / "a.txt").read_bytes()
        (model / "a.txt").unlink()
        (model / "a.txt").write_bytes(content)
        (step,) = one_step(home, calls, "folder").plan().steps
        assert step.status == StepStatus.WOULD_REUSE, step.detail
