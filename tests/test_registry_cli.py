"""``modelops registry …`` and ``modelops runs …`` as a user types them (tables in the terminal).

Needs modelops-store-sql and modelops-artifacts-local installed as entry points (the CLI builds
its runtime from the configuration like a user's shell does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelops_core.cli.main import main
from modelops_core.plugins.discovery import discover

pytest.importorskip("modelops_store_sql.plugin", reason="modelops-store-sql is not installed")
pytest.importorskip("modelops_artifacts_local.plugin", reason="modelops-artifacts-local missing")


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    installed = {entry_point.name for entry_point in discover()}
    if not {"modelops-store-sql", "modelops-artifacts-local"} <= installed:
        pytest.skip("the plugins are importable but not installed as entry points")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "model.bin").write_bytes(b"weights")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    assert main(list(args)) == code
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_register_with_lineage_then_show_it(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(
        capsys, "registry", "register", "churn", "model.bin", "--version", "1.0",
        "--evaluation", '{"accuracy": 0.91}', "--tag", "team=risk",
        "--lineage", "dataset_fingerprint=sha256:abc", "--lineage", "training_job=ft-7",
        "--lineage", "base_model=gpt-x", "--lineage", "provider=local",
        "--lineage", "parent_version=0.9", "--alias", "production",
    )  # fmt: skip
    assert "registered churn 1.0 (sha256:" in out and "churn@production -> 1.0" in out
    lineage = run(capsys, "registry", "lineage", "churn", "1.0")
    for expected in ("sha256:abc", "ft-7", "gpt-x", "local", "0.9", "evaluation: accuracy", "0.91"):
        assert expected in lineage
    shown = run(capsys, "registry", "show", "churn", "--alias", "production")
    assert "aliases\t[production]" in shown and "tags.team\trisk" in shown  # piped: tab-separated
    document = json.loads(run(capsys, "registry", "show", "churn", "1.0", "--json"))
    assert document["lineage"]["training_job"] == "ft-7"


def test_versions_auto_increment_and_roll_back(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        run(capsys, "registry", "register", "m", "model.bin", "--alias", "production")
    assert "m@production -> 2" in run(capsys, "registry", "rollback", "m")
    listed = run(capsys, "registry", "list")
    assert "production=2" in listed and "3" in listed
    history = run(capsys, "registry", "alias", "history", "m", "production")
    assert history.count("set") == 3 and "rollback" in history
    audit = run(capsys, "registry", "audit", "m")
    assert audit.count("register") == 3 and "alias.rollback" in audit


def test_required_evaluation_is_explained(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "modelops.toml").write_text("[registry]\nrequire_evaluation = true\n")
    out = run(capsys, "registry", "register", "m", "model.bin", code=2)
    assert "require_evaluation = true" in out and "Pass --evaluation '{\"accuracy\": 0.91}'" in out
    assert "register()" not in out  # the CLI names its option, not the Python call
    run(capsys, "registry", "register", "m", "model.bin", "--evaluation", '{"f1": 0.8}')


def test_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in run(capsys, "registry", "register", "m", "missing.bin", code=2)
    run(capsys, "registry", "register", "m", "model.bin", "--version", "1")
    assert "already has version" in run(
        capsys, "registry", "register", "m", "model.bin", "--version", "1.0", code=2
    )
    assert "dotted numbers" in run(
        capsys, "registry", "register", "m", "model.bin", "--version", "one", code=2
    )
    assert "No model named 'ghost'" in run(capsys, "registry", "lineage", "ghost", "1", code=2)


def test_runs_are_listed_shown_and_compared(capsys: pytest.CaptureFixture[str]) -> None:
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(capture_environment=False)
    ids = []
    for lr in (0.1, 0.01):
        with tracker.start("sweep", tags={"job.id": f"lr-{lr}"}) as a_run:
            a_run.log_param("lr", lr)
            a_run.log_metrics({"loss": lr * 2}, step=1)
        ids.append(a_run.id)
    tracker.close()
    listed = run(capsys, "runs", "list", "--experiment", "sweep")
    assert ids[0] in listed and ids[1] in listed and "finished" in listed
    only = run(capsys, "runs", "list", "--tag", "job.id=lr-0.1")
    assert ids[0] in only and ids[1] not in only
    shown = run(capsys, "runs", "show", ids[1])
    assert "param lr" in shown and "0.01" in shown and "loss" in shown
    compared = run(capsys, "runs", "compare", *ids)
    assert "param lr" in compared and "metric loss" in compared and "0.02" in compared
    assert "No run with id 'nope'" in run(capsys, "runs", "show", "nope", code=2)


GATE_PLUGIN = """
from modelops_core import hookimpl

@hookimpl
def modelops_before_register(name, metadata):
    accuracy = metadata.get("evaluation", {}).get("accuracy", 0)
    if accuracy < 0.8:
        return f"accuracy {accuracy} of {name} is below the 0.8 release bar"
    return None
"""


def test_a_hook_veto_reaches_the_user_of_the_cli(
    project: Path, fake_site: Any, unique: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installed plugin's ``modelops_before_register`` refusal: the real ``modelops``
    process exits non-zero with the plugin and its reason on stderr, and stores nothing."""
    fake_site.add("acme-gate", unique("acme_gate"), GATE_PLUGIN)
    executable = shutil.which("modelops", path=str(Path(sys.executable).parent))
    command = [executable] if executable else [sys.executable, "-m", "modelops_core.cli.main"]
    environment = {**os.environ, "PYTHONPATH": str(fake_site.root), "COLUMNS": "200"}
    refused = subprocess.run(
        [*command, "registry", "register", "churn", "model.bin", "--evaluation",
         '{"accuracy": 0.5}'],
        capture_output=True, text=True, cwd=project, env=environment, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0, refused.stdout
    assert "Refused by plugin 'acme-gate' (modelops_before_register)" in refused.stderr
    assert "accuracy 0.5 of churn is below the 0.8 release bar" in refused.stderr
    assert "churn" not in run(capsys, "registry", "list")
    accepted = run(
        capsys, "registry", "register", "churn", "model.bin", "--evaluation", '{"accuracy": 0.9}'
    )
    assert "registered churn 1" in accepted


@pytest.mark.parametrize("content", [b"", b"\x00" * 8192], ids=["empty", "zeros"])
def test_a_damaged_database_makes_the_cli_fail_naming_the_file(
    project: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    run(capsys, "registry", "register", "churn", "model.bin", "--version", "1")
    database = project / ".modelops" / "modelops.db"
    for leftover in (".modelops/modelops.db-wal", ".modelops/modelops.db-shm"):
        (project / leftover).unlink(missing_ok=True)
    database.write_bytes(content)  # lost its content (a full disk, a bad copy)
    out = run(capsys, "registry", "list", code=3)  # a backend failed
    assert f"The SQLite database {str(database)!r} is damaged" in out
    assert '".recover"' in out and "backup" in out
    assert database.read_bytes() == content  # left as found for recovery


# --- what a person sees: piped rows, narrow terminals, JSON, summaries, versions as typed -------


def test_runs_list_piped_is_one_line_per_run_and_json_has_every_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(capture_environment=False)
    ids = []
    for index in range(15):
        tags = {"job.id": f"ft-{index:04d}-" + "x" * 40, "team": "search-relevance"}
        with tracker.start("ticket-router-long-experiment-name", tags=tags) as a_run:
            a_run.log_param("lr", 0.01)
        ids.append(a_run.id)
    tracker.close()
    listed = run(capsys, "runs", "list").splitlines()
    assert len(listed) == 17  # the title, the header, 15 rows
    for run_id in ids:
        (row,) = [line for line in listed if line.startswith(run_id + "\t")]
        assert row.split("\t")[1:3] == ["ticket-router-long-experiment-name", "finished"]
    document = json.loads(run(capsys, "runs", "list", "--json"))
    assert sorted(r["run_id"] for r in document) == sorted(ids)
    assert {r["tags"]["team"] for r in document} == {"search-relevance"}


def test_runs_list_in_a_narrow_terminal_keeps_run_ids_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(capture_environment=False)
    with tracker.start("sweep", tags={"owner": "ana"}) as a_run:
        pass
    tracker.close()
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("FORCE_COLOR", "1")  # a terminal, as rich sees it
    text = re.sub(r"\x1b\[[0-9;]*m", "", run(capsys, "runs", "list"))
    assert a_run.id in text and "\t" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert any(line.split()[-1] == a_run.id for line in lines)  # whole, on one line


def test_registry_show_summarizes_curves_and_rounds_floats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    curve = [i / 199 for i in range(200)]
    evaluation = {"accuracy": 0.912345678, "roc": {"fpr": curve, "auc": 0.87654321}}
    run(capsys, "registry", "register", "churn", "model.bin", "--evaluation",
        json.dumps(evaluation))  # fmt: skip
    shown = run(capsys, "registry", "show", "churn").splitlines()
    assert "metadata.evaluation.accuracy\t0.9123" in shown
    assert "metadata.evaluation.roc.auc\t0.8765" in shown
    assert "metadata.evaluation.roc.fpr\t[200 values, 0 .. 1] (--full shows them)" in shown
    full = run(capsys, "registry", "show", "churn", "--full")
    assert json.dumps(curve[:3])[1:-1] in full and "0.912345678" in full
    document = json.loads(run(capsys, "registry", "show", "churn", "--json"))
    assert document["metadata"]["evaluation"] == evaluation


def test_registry_list_versions_lineage_audit_and_history_print_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, "registry", "register", "churn", "model.bin", "--lineage", "training_job=ft-7",
        "--alias", "production")  # fmt: skip
    run(capsys, "registry", "register", "churn", "model.bin")
    assert json.loads(run(capsys, "registry", "list", "--json")) == [
        {"name": "churn", "versions": 2, "latest": "2", "aliases": {"production": "1"}}
    ]
    versions = json.loads(run(capsys, "registry", "versions", "churn", "--json"))
    assert [(v["version"], v["aliases"]) for v in versions] == [("1", ["production"]), ("2", [])]
    assert versions[0]["artifact"].startswith("sha256:") and len(versions[0]["artifact"]) == 71
    lineage = json.loads(run(capsys, "registry", "lineage", "churn", "1", "--json"))
    assert lineage["training_job"] == "ft-7" and lineage["version"] == "1"
    audit = json.loads(run(capsys, "registry", "audit", "churn", "--json"))
    assert sorted(e["action"] for e in audit) == ["alias.set", "register", "register"]
    history = json.loads(run(capsys, "registry", "alias", "history", "churn", "production",
                             "--json"))  # fmt: skip
    assert [(e["action"], e["version"]) for e in history] == [("set", "1")]
    got = json.loads(run(capsys, "registry", "alias", "get", "churn", "production", "--json"))
    assert got == {"name": "churn", "alias": "production", "version": "1"}


def test_a_version_typed_as_v1_is_said_to_be_read_as_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, "registry", "register", "ticket-router", "model.bin")
    assert main(["registry", "lineage", "ticket-router", "v1"]) == 0
    out, err = capsys.readouterr()
    assert "lineage of ticket-router 1" in out
    assert "note: version 'v1' of ticket-router is read as '1'" in err
    assert main(["registry", "lineage", "ticket-router", "1"]) == 0
    assert "note:" not in capsys.readouterr().err
