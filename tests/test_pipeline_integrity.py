"""A reused step hands back exactly the files its own options produced, verified.

Issue 14, section 1: every step used to write into one fixed folder, so flipping an option
back reused another configuration's files; edited cached files and an edited state file were
reused silently. These tests drive the built-in steps through ``modelops demo`` and
``modelops run`` the way a user does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from project_env import enter_project

from modelops_core.cli.demo_data import write_tickets
from modelops_core.cli.main import main
from modelops_core.datasets.dataset import Dataset
from modelops_core.pipeline.runner import Pipeline, PipelineStateError, StepFailedError, StepStatus
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime

for plugin in ("metrics", "sanitizers", "store_sql", "artifacts_local", "provider_local"):
    pytest.importorskip(f"modelops_{plugin}", reason=f"modelops-{plugin} is not installed")

MODEL = "ticket-router"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

LIFECYCLE = """
[pipeline]
name = "life"

[[pipeline.steps]]
uses = "dataset"
path = "tickets.jsonl"
test_size = {test_size}
seed = {seed}

[[pipeline.steps]]
uses = "finetune"
model = "local:logreg"
epochs = 2
learning_rate = 0.05
poll_interval = 0.05

[[pipeline.steps]]
uses = "evaluate"
metrics = ["accuracy"]
bootstrap = 50

[[pipeline.steps]]
uses = "gate"
min = {{ accuracy = 0.5 }}
compare_alias = "production"
model = "{model}"
max_drop = 0.5
{gate_options}

[[pipeline.steps]]
uses = "register"
name = "{model}"

[[pipeline.steps]]
uses = "promote"
alias = "production"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    enter_project(tmp_path, monkeypatch)
    (tmp_path / "modelops.toml").write_text("[providers.local]\ninline = true\n")
    return tmp_path


def lifecycle(
    project: Path, *, seed: int = 7, test_size: float = 0.25, gate_options: str = ""
) -> Path:
    if not (project / "tickets.jsonl").exists():
        write_tickets(project / "tickets.jsonl", count=160)
    path = project / "life.toml"
    path.write_text(
        LIFECYCLE.format(seed=seed, test_size=test_size, model=MODEL, gate_options=gate_options)
    )
    return path


def printed_path(out: str, label: str) -> Path:
    """The path the demo printed after ``label`` (``HTML report:`` …)."""
    match = re.search(rf"^{re.escape(label)}\s+(\S+)$", out, re.MULTILINE)
    assert match, f"{label!r} not in the output:\n{out}"
    return Path(match.group(1))


# --- the demo sequence of the issue ---------------------------------------------------------


def test_the_demo_after_a_smaller_run_evaluates_its_own_test_set_again(project: Path, capsys):
    assert main(["demo", "--examples", "300", "--epochs", "2"]) == 0
    first = capsys.readouterr().out
    report = printed_path(first, "HTML report:")
    n_first = json.loads(report.with_name("evaluation.json").read_text())["n"]
    test_file = printed_path(first, "Training data (sanitized):").with_name("test.jsonl")
    assert len(test_file.read_text().splitlines()) == n_first

    assert (
        main(["demo", "--examples", "80", "--epochs", "1"]) == 1
    )  # the gate refuses it (a check failed)
    small = capsys.readouterr()
    assert "nothing was registered" in small.err

    assert main(["demo", "--examples", "300", "--epochs", "2"]) == 0
    again = capsys.readouterr().out
    assert again.count("reused") >= 5
    assert printed_path(again, "HTML report:") == report
    assert json.loads(report.with_name("evaluation.json").read_text())["n"] == n_first
    assert len(test_file.read_text().splitlines()) == n_first
    assert "ticket-router 1 (alias production)" in again

    # only bootstrap changes: evaluate runs again, on the demo's own test set
    pipeline = project / ".modelops" / "demo" / "pipeline.toml"
    pipeline.write_text(pipeline.read_text().replace("bootstrap = 1000", "bootstrap = 200"))
    assert main(["run", str(pipeline)]) == 0
    rerun = capsys.readouterr().out
    new_report = printed_path(rerun, "report:")
    assert new_report != report
    assert json.loads(new_report.with_name("evaluation.json").read_text())["n"] == n_first
    with ModelRegistry(Runtime()) as registry:
        production = registry.get_by_alias(MODEL, "production")
        first_version = registry.get_version(MODEL, "1")
    assert production.version == "2"
    assert (
        production.metadata["evaluation"]["test_fingerprint"]
        == first_version.metadata["evaluation"]["test_fingerprint"]
    )


# --- options flipped back -----------------------------------------------------------------


@pytest.mark.parametrize(("option", "first", "other"), [("seed", 7, 8), ("test_size", 0.25, 0.5)])
def test_flipping_a_split_option_back_hands_back_the_first_split(
    project: Path, option: str, first: float, other: float
):
    runtime = Runtime()
    values = {"seed": 7, "test_size": 0.25}
    split_only = project / "split.toml"

    def run(value: float) -> tuple[str, Path, StepStatus]:
        values[option] = value
        split_only.write_text(
            '[pipeline]\nname = "split"\n[[pipeline.steps]]\nuses = "dataset"\n'
            f'path = "tickets.jsonl"\ntest_size = {values["test_size"]}\n'
            f"seed = {values['seed']}\n"
        )
        result = Pipeline.from_file(split_only, runtime).run(track=False)
        test = Path(result.outputs()["test"])
        return test.read_text(), test, result.steps[0].status

    write_tickets(project / "tickets.jsonl", count=120)
    text_first, path_first, _ = run(first)
    text_other, path_other, _ = run(other)
    text_back, path_back, status = run(first)

    assert text_other != text_first and path_other != path_first
    assert status == StepStatus.REUSED
    assert path_back == path_first
    expected = project / "expected.jsonl"
    _, held_out = Dataset.from_jsonl(project / "tickets.jsonl").split(
        test_size=values["test_size"] if option == "seed" else first,
        seed=int(first) if option == "seed" else values["seed"],
        stratify=True,
    )
    held_out.save(expected)
    assert text_back == expected.read_text()


def test_a_changed_bootstrap_reevaluates_on_the_same_test_set(project: Path):
    runtime = Runtime()
    path = lifecycle(project)
    first = Pipeline.from_file(path, runtime).run(track=False).outputs()
    path.write_text(path.read_text().replace("bootstrap = 50", "bootstrap = 60"))
    second = Pipeline.from_file(path, runtime).run(track=False)
    statuses = {step.id: step.status for step in second.steps}
    assert statuses["dataset"] == statuses["finetune"] == StepStatus.REUSED
    assert statuses["evaluate"] == StepStatus.RAN
    outputs = second.outputs()
    assert outputs["test_fingerprint"] == first["test_fingerprint"]
    assert json.loads(Path(outputs["evaluation"]).read_text())["n"] == first["test_examples"]


# --- edited files and an edited state -------------------------------------------------------


def test_personal_data_pasted_back_into_the_sanitized_file_is_sanitized_again(project: Path):
    runtime = Runtime()
    write_tickets(project / "tickets.jsonl", count=120)
    path = project / "clean.toml"
    path.write_text(
        '[pipeline]\nname = "clean"\n'
        '[[pipeline.steps]]\nuses = "dataset"\npath = "tickets.jsonl"\n'
        '[[pipeline.steps]]\nuses = "sanitize"\npipeline = ["pii"]\n'
    )
    first = Pipeline.from_file(path, runtime).run(track=False)
    train = Path(first.outputs()["train"])
    assert not EMAIL.search(train.read_text())
    with train.open("a") as handle:
        handle.write(json.dumps({"prompt": "reach me at anna.1@example.com", "completion": "x"}))
        handle.write("\n")

    plan = Pipeline.from_file(path, runtime).plan()
    assert [s.status for s in plan.steps] == [StepStatus.WOULD_REUSE, StepStatus.WOULD_RUN]
    assert "train.jsonl changed since it was written" in plan.steps[1].detail

    again = Pipeline.from_file(path, runtime).run(track=False)
    assert [s.status for s in again.steps] == [StepStatus.REUSED, StepStatus.RAN]
    assert Path(again.outputs()["train"]) == train
    assert not EMAIL.search(train.read_text())
    assert train.read_text() == Path(first.outputs()["train"]).read_text()


def test_an_edited_model_version_in_the_state_file_is_refused(project: Path):
    runtime = Runtime()
    with ModelRegistry(runtime) as registry:
        registry.register(MODEL, model={"model_id": "an older model"})
    path = lifecycle(project)
    result = Pipeline.from_file(path, runtime).run(track=False)
    assert result.outputs()["model_version"] == "2"
    state_file = project / ".modelops" / "pipelines" / "life" / "state.json"
    text = state_file.read_text()
    assert text.count('"model_version": "2"') == 1
    state_file.write_text(text.replace('"model_version": "2"', '"model_version": "1"'))

    for attempt in (Pipeline.from_file(path, runtime).run, Pipeline.from_file(path, runtime).plan):
        with pytest.raises(PipelineStateError) as refused:
            attempt()
        message = str(refused.value)
        assert str(state_file) in message and "changed outside modelops" in message
        assert f"rm {state_file}" in message
    with ModelRegistry(runtime) as registry:
        assert registry.get_by_alias(MODEL, "production").version == "2"
        assert registry.list_versions(MODEL) == ["1", "2"]


def test_a_garbage_state_file_is_an_error_that_says_how_to_reset(project: Path, capsys):
    path = lifecycle(project)
    state_file = project / ".modelops" / "pipelines" / "life" / "state.json"
    state_file.parent.mkdir(parents=True)
    state_file.write_text('{"version": 2, "cache": {')
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is not valid JSON" in err and f"rm {state_file}" in err
    assert state_file.read_text() == '{"version": 2, "cache": {'  # left for the user to look at
    with ModelRegistry(Runtime()) as registry:
        assert MODEL not in registry.list_models()  # nothing ran


# --- the dry run ------------------------------------------------------------------------------


def test_dry_run_names_the_alias_move_and_why_each_step_runs(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COLUMNS", "240")  # one table row per step
    path = lifecycle(project)
    assert main(["run", str(path)]) == 0
    with ModelRegistry(Runtime()) as registry:
        newer = registry.register(MODEL, model={"model_id": "hand-made"})
        registry.set_alias(MODEL, "production", newer.version)
    capsys.readouterr()

    assert main(["run", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would move ticket-router@production 2 -> 1" in out
    assert out.count("would reuse") == 4  # dataset, finetune, evaluate, register
    assert "not cacheable" in out  # why gate and promote run

    (project / "tickets.jsonl").unlink()
    assert main(["run", str(path), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "would fail" in captured.out
    assert f"the data file '{project / 'tickets.jsonl'}' does not exist" in captured.err


# --- the gate and the test set ----------------------------------------------------------------


def test_the_gate_refuses_to_compare_evaluations_of_different_test_sets(project: Path):
    runtime = Runtime()
    Pipeline.from_file(lifecycle(project, seed=7), runtime).run(track=False)
    with pytest.raises(StepFailedError) as refused:
        Pipeline.from_file(lifecycle(project, seed=8), runtime).run(track=False)
    message = str(refused.value)
    assert "different test sets are not comparable" in message
    assert "allow_different_test_sets = true" in message
    with ModelRegistry(runtime) as registry:
        assert registry.list_versions(MODEL) == ["1"]

    opted_in = lifecycle(project, seed=8, gate_options="allow_different_test_sets = true")
    result = Pipeline.from_file(opted_in, runtime).run(track=False)
    assert result.outputs()["model_version"] == "2"
