"""Training that trains and says so: a local fine-tune with default options after the demo
halves its loss and shows the curve in ``runs show``; a run that does not learn warns; the
``finetune`` commands tell the truth about jobs that run in other processes (list refreshes,
cancelled runs, Ctrl-C in watch, --json, preflight causes, duplicate summaries).

Real processes throughout: the local provider's background worker (or a stand-in
interpreter that sleeps, for a job that stays running), the CLI in a subprocess for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_env import enter_project

from modelops_core.cli.main import main

for plugin in ("store_sql", "artifacts_local", "provider_local"):
    pytest.importorskip(f"modelops_{plugin}", reason=f"modelops-{plugin} is not installed")

from modelops_core.cli.demo_data import write_tickets  # noqa: E402

FAST_POLLS = "[finetune]\npoll_interval = 0.05\nmax_poll_interval = 0.2\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory (only faster polling configured)."""
    enter_project(tmp_path, monkeypatch)
    (tmp_path / "modelops.toml").write_text(FAST_POLLS)
    return tmp_path


@pytest.fixture
def stuck_project(project: Path) -> Iterator[Path]:
    """Jobs whose worker is a real process that never trains (it sleeps): they stay running
    until cancelled. The sleepers are killed at the end."""
    sleeper = project / "sleeping-python"
    sleeper.write_text("#!/bin/sh\nexec sleep 120\n")
    sleeper.chmod(0o755)
    (project / "modelops.toml").write_text(
        FAST_POLLS + f"[providers.local]\npython = {json.dumps(str(sleeper))}\n"
    )
    write_tickets(project / "tickets.jsonl", count=60)
    yield project
    for pid_file in (project / ".modelops" / "providers" / "local" / "jobs").glob("*/worker.pid"):
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def started_job(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("Started job "))
    return line.split()[2]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_after_the_demo_a_default_local_finetune_halves_the_loss_and_runs_show_has_the_curve(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--examples", "300", "--epochs", "2"]) == 0
    capsys.readouterr()
    data = project / ".modelops" / "demo" / "tickets.jsonl"
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", str(data),
                 "--yes", "--watch"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    job_id = started_job(captured.out)
    status = run_json(capsys, "finetune", "status", job_id, "--json")
    assert isinstance(status, dict) and status["status"] == "succeeded"
    assert status["warning"] is None and status["reported"] == "step 30/30"
    run_id = status["tracking_run"]

    shown = run_json(capsys, "runs", "show", run_id, "--json")
    assert isinstance(shown, dict)
    curve = shown["metrics"]["train_loss"]
    assert [step for step, _ in curve] == [0, 10, 20, 30]  # before training, then 3 epochs
    first, last = curve[0][1], curve[-1][1]
    assert first == pytest.approx(1.791759, abs=1e-6)  # ln 6: six queues, nothing learned
    assert last <= first / 2
    assert [value for _, value in shown["metrics"]["learning_rate"]] == [0.05, 0.05, 0.05]
    tokens = [value for _, value in shown["metrics"]["tokens_seen"]]
    assert tokens[0] == 0 and tokens[3] == 3 * tokens[1] > 0
    assert shown["params"]["hp.epochs"] == "3" and "hp.learning_rate" not in shown["params"]

    assert main(["runs", "show", run_id]) == 0
    table = capsys.readouterr().out
    (row,) = [line for line in table.splitlines() if line.startswith("train_loss\t")]
    assert row.split("\t")[1:3] == ["4", "30"]  # four points, up to step 30
    (chart,) = [line for line in table.splitlines() if line.startswith("train_loss  ")]
    assert chart.split()[1][0] == "█" and chart.split()[1][-1] == "▁"  # drawn, falling
    assert chart.endswith("4 points, steps 0-30")


def test_a_run_that_does_not_learn_is_a_warning_in_watch_and_in_the_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tickets(project / "tickets.jsonl", count=120)
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--learning-rate", "1e-5", "--yes", "--watch"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    warning = next(line for line in captured.err.splitlines() if line.startswith("warning: "))
    assert warning.startswith("warning: loss fell 0.")
    assert "(1.792 -> 1.79" in warning
    assert "raise the learning rate, e.g. --learning-rate 0.0001 (10x the 1e-05 used)" in warning
    job_id = started_job(captured.out)
    status = run_json(capsys, "finetune", "status", job_id, "--json")
    assert isinstance(status, dict) and status["warning"] == warning.removeprefix("warning: ")
    shown = run_json(capsys, "runs", "show", status["tracking_run"], "--json")
    assert isinstance(shown, dict) and shown["tags"]["job.warning"] == status["warning"]


def test_finetune_list_refreshes_a_job_that_finished_in_its_worker(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelops_provider_local.provider import LocalProvider

    write_tickets(project / "tickets.jsonl", count=80)
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--yes"]) == 0  # fmt: skip
    job_id = started_job(capsys.readouterr().out)
    provider = LocalProvider(home=str(project / ".modelops"))
    deadline = time.monotonic() + 60
    while not provider.get(job_id).status.finished:  # the worker process trains meanwhile
        assert time.monotonic() < deadline, "the worker did not finish within 60 s"
        time.sleep(0.05)
    offline = run_json(capsys, "finetune", "list", "--offline", "--json")
    assert isinstance(offline, list) and offline[0]["status"] in ("pending", "running")
    (listed,) = run_json(capsys, "finetune", "list", "--json")  # type: ignore[misc]
    assert listed["job"] == job_id and listed["status"] == "succeeded"
    assert listed["progress"] == 1.0 and listed["fine_tuned_model"].startswith("local:logreg:")


def test_a_cancelled_job_shows_cancelled_in_runs_list(
    stuck_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--yes"]) == 0  # fmt: skip
    job_id = started_job(capsys.readouterr().out)
    assert main(["finetune", "cancel", job_id]) == 0
    assert f"Job {job_id}: cancelled" in capsys.readouterr().out
    assert main(["runs", "list", "--experiment", "fine-tuning", "--status", "cancelled"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if "fine-tuning" in line]
    assert row.split("\t")[1:3] == ["fine-tuning", "cancelled"]


def test_ctrl_c_in_watch_says_the_job_keeps_running_and_how_to_reattach_or_cancel(
    stuck_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--yes"]) == 0  # fmt: skip
    job_id = started_job(capsys.readouterr().out)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "modelops_core", "finetune", "watch", job_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tracking = stuck_project / ".modelops"
    deadline = time.monotonic() + 30
    while not _has_open_file_under(watcher.pid, tracking, ".db"):  # attached: polling next
        assert watcher.poll() is None, watcher.communicate()
        assert time.monotonic() < deadline, "watch did not open the tracking store in 30 s"
        time.sleep(0.05)
    time.sleep(0.5)
    watcher.send_signal(signal.SIGINT)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 130, (out, err)
    assert f"Stopped watching. Job {job_id} keeps running at local" in err
    assert f"re-attach: modelops finetune watch {job_id}" in err
    assert f"cancel:    modelops finetune cancel {job_id}" in err
    assert "Traceback" not in err and "Aborted" not in err
    status = run_json(capsys, "finetune", "status", job_id, "--json")
    assert isinstance(status, dict) and status["status"] in ("pending", "running")


def _has_open_file_under(pid: int, folder: Path, suffix: str) -> bool:
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return False
    return any(link.startswith(str(folder)) and link.endswith(suffix) for link in links)


def test_list_status_and_events_print_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "modelops.toml").write_text(FAST_POLLS + "[providers.local]\ninline = true\n")
    write_tickets(project / "tickets.jsonl", count=80)
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--epochs", "2", "--yes"]) == 0  # fmt: skip
    job_id = started_job(capsys.readouterr().out)
    listed = run_json(capsys, "finetune", "list", "--json")
    assert isinstance(listed, list) and [j["job"] for j in listed] == [job_id]
    status = run_json(capsys, "finetune", "status", job_id, "--json")
    assert isinstance(status, dict)
    assert (status["status"], status["progress"], status["reported"]) == (
        "succeeded",
        1.0,
        "step 6/6",
    )  # 80 examples in batches of 32: 3 steps per epoch
    assert [step for step, _ in status["metrics"]["train_loss"]] == [0, 3, 6]
    events = run_json(capsys, "finetune", "events", job_id, "--json")
    assert isinstance(events, list) and events[0]["message"].startswith("job created for")
    epochs = [e["data"]["epoch"] for e in events if "epoch" in e["data"]]
    assert epochs == [1, 2]


def test_an_unknown_base_model_fails_preflight_with_the_cause_first(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tickets(project / "tickets.jsonl", count=40)
    assert main(["finetune", "start", "--model", "local:logregg", "--dataset", "tickets.jsonl",
                 "--yes"]) == 2  # fmt: skip
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (
        "Error: local: The local provider has no base model 'local:logregg'. Use local:auto "
        "(chosen from the data), local:logreg (labels) or local:retrieval (free text)."
    )


def test_duplicate_warnings_are_summarized_and_all_written_by_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "modelops.toml").write_text(FAST_POLLS + "[providers.local]\ninline = true\n")
    write_tickets(project / "tickets.jsonl", count=40)
    lines = (project / "tickets.jsonl").read_text().splitlines()
    (project / "tickets.jsonl").write_text("\n".join(lines + lines[:12]) + "\n")
    assert main(["finetune", "start", "--model", "local:logreg", "--dataset", "tickets.jsonl",
                 "--epochs", "1", "--yes", "--report", "preflight.json"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "warnings (12):" in out
    assert "12 duplicate example(s) at line(s) 41, 42, 43, 44, 45 and 7 more" in out
    assert "duplicate of line" not in out  # no line per duplicate
    assert "every warning: in preflight.json" in out
    report = json.loads((project / "preflight.json").read_text())
    assert report["warnings"][0] == "line 41: duplicate of line 1"
    assert len(report["warnings"]) == 12 and report["ok"] is True
