"""The pipeline runner's resume, progress and tracking rules, value by value (issue 18: each
test kills mutants of pipeline/runner.py the broader tests in test_pipeline.py let live)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pipeline import Calls, plugin_for, write

from modelops_core.pipeline.runner import Pipeline, StepFailedError, StepResult, StepStatus
from modelops_core.pipeline.spec import StepSpec
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
