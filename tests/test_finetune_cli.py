"""``modelops finetune …`` against the scripted provider installed as a real plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from finetune_support import write_chat_jsonl

from modelops_core.cli.main import main

pytest.importorskip("modelops_store_sql.plugin", reason="needs modelops-store-sql")
pytest.importorskip("modelops_artifacts_local.plugin", reason="needs modelops-artifacts-local")
pytest.importorskip("modelops_core.datasets.dataset", reason="needs the Dataset module")


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_site: object, unique: Callable[[str], str]
) -> Path:
    """A working directory with a modelops.toml choosing the installed scripted provider."""
    fake_site.add(  # type: ignore[attr-defined]
        "modelops-provider-scripted",
        unique("scripted_entry"),
        "from finetune_support import modelops_register_providers\n",
    )
    state = tmp_path / "scripted-state.json"
    (tmp_path / "modelops.toml").write_text(
        f"[providers.scripted]\nstate_file = {json.dumps(str(state))}\n"
        "[finetune]\npoll_interval = 0.001\nmax_poll_interval = 0.002\n",
        encoding="utf-8",
    )
    write_chat_jsonl(tmp_path / "train.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables wide enough to read cells whole
    return tmp_path


START = ["finetune", "start", "--provider", "scripted", "--model", "gpt-4o-mini",
         "--dataset", "train.jsonl"]  # fmt: skip


def uploads(project: Path) -> list[str]:
    state = project / "scripted-state.json"
    return json.loads(state.read_text())["uploads"] if state.exists() else []


def test_start_and_watch_to_success(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*START, "--yes", "--watch", "--register-as", "bot"]) == 0
    out = capsys.readouterr().out
    assert "cost: " in out and "Started job job-1 on scripted" in out
    assert "ft:gpt-4o-mini:job-1" in out and "succeeded" in out and "bot:1" in out


def test_without_a_terminal_start_asks_for_yes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(START) == 2
    assert "Pass --yes" in capsys.readouterr().err
    assert uploads(project) == []


def test_a_failed_preflight_exits_2_and_uploads_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_chat_jsonl(project / "small.jsonl", count=1)
    assert main([*START[:-1], "small.jsonl", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "Preflight failed; nothing was uploaded" in err and "at least 2 are needed" in err
    assert uploads(project) == []


def test_status_list_events_cancel_from_new_processes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*START, "--yes"]) == 0
    capsys.readouterr()
    assert main(["finetune", "status", "job-1", "--offline"]) == 0
    assert "validating_files" in capsys.readouterr().out
    assert main(["finetune", "status", "job-1"]) == 0
    assert "queued" in capsys.readouterr().out
    assert main(["finetune", "list", "--offline"]) == 0
    listed = capsys.readouterr().out
    assert "job-1\tscripted\tgpt-4o-mini\tqueued\tqueued\t25.0%" in listed
    assert main(["finetune", "list"]) == 0  # asks the provider about the unfinished job
    listed = capsys.readouterr().out
    assert "job-1\tscripted\tgpt-4o-mini\trunning\trunning\t50.0%" in listed
    assert main(["finetune", "events", "job-1"]) == 0
    assert "created job for gpt-4o-mini" in capsys.readouterr().out
    assert main(["finetune", "cancel", "job-1"]) == 0
    assert "Job job-1: cancelled (cancelled)" in capsys.readouterr().out
    assert main(["finetune", "watch", "job-1"]) == 1  # finished, not succeeded


def test_watch_reattaches_and_follows_to_the_end(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*START, "--yes"]) == 0
    assert main(["finetune", "watch", "job-1"]) == 0
    assert "ft:gpt-4o-mini:job-1" in capsys.readouterr().out


def test_an_unknown_job_is_a_clear_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["finetune", "status", "job-404"]) == 2
    assert "No fine-tuning job 'job-404'" in capsys.readouterr().err


def test_list_shows_a_hanging_provider_as_not_refreshed_within_its_time_limit(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A provider whose ``get`` never answers costs ``finetune list`` its refresh time limit,
    not the life of the process: a real ``modelops`` process lists and exits."""
    assert main([*START, "--yes"]) == 0
    capsys.readouterr()
    config = project / "modelops.toml"  # from now on every get() blocks for an hour
    config.write_text(config.read_text().replace("[finetune]", "get_blocks = 3600\n[finetune]"))
    path = [str(project / "site"), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    command = [sys.executable, "-m", "modelops_core", "finetune", "list", "--json",
               "--refresh-timeout", "0.5"]  # fmt: skip
    began = time.monotonic()
    with subprocess.Popen(
        command,
        cwd=project,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            out, err = child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            pytest.fail(f"finetune list was still waiting for the provider after 20 s: {err}")
    took = time.monotonic() - began
    assert child.returncode == 0, err
    assert took < 10, f"finetune list took {took:.1f} s with a 0.5 s refresh limit"
    (listed,) = json.loads(out)
    assert (listed["job"], listed["status"], listed["raw_status"]) == (
        "job-1", "validating", "validating_files"
    )  # fmt: skip
    assert listed["not_refreshed"] == "no answer within 0.5s"
    assert "job-1: not refreshed (no answer within 0.5s); showing the stored state" in err

    assert main(["finetune", "list", "--offline"]) == 0  # by choice: stored, nothing marked
    assert "job-1\tscripted\tgpt-4o-mini\tvalidating\tvalidating_files\t0.0%" in (
        capsys.readouterr().out
    )
