"""Background jobs: status advances, a job outlives its caller, cancel stops it, crashes show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_provider_files import write_jsonl
from modelops_provider_local.provider import LocalProvider
from modelops_provider_local.synthetic import support_tickets

from modelops_core.finetune.provider_contract import JobStatus, ProviderJob, TuningRequest

pytestmark = pytest.mark.slow  # every test starts a worker process (numpy + scipy import)


def wait_for(
    provider: LocalProvider, job_id: str, done: object, timeout: float = 120
) -> ProviderJob:
    deadline = time.monotonic() + timeout
    job = provider.get(job_id)
    while not done(job):  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out; last snapshot {job}"
        time.sleep(0.02)
        job = provider.get(job_id)
    return job


def long_request(tmp_path: Path) -> TuningRequest:
    train = write_jsonl(tmp_path / "train.jsonl", support_tickets(3000, seed=2))
    return TuningRequest(
        model="local:logreg",
        training_file=str(train),
        hyperparameters={"epochs": 200, "batch_size": 8, "learning_rate": 0.01},
    )


def test_status_advances_to_succeeded_in_the_background(tmp_path: Path) -> None:
    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    train = write_jsonl(tmp_path / "train.jsonl", support_tickets(800, seed=2))
    job = provider.start(
        TuningRequest(model="local:auto", training_file=str(train), hyperparameters={"epochs": 3})
    )
    assert job.status is JobStatus.PENDING
    seen = [job.status]
    while not job.status.finished:
        time.sleep(0.01)
        job = provider.get(job.id)
        if job.status != seen[-1]:
            seen.append(job.status)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert seen[0] == JobStatus.PENDING and seen[-1] == JobStatus.SUCCEEDED
    order = list(JobStatus)
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    assert job.progress == 1.0
    assert os.path.isdir(job.details["artifact_path"])


def test_a_job_outlives_the_process_that_started_it(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    train = write_jsonl(tmp_path / "train.jsonl", support_tickets(500, seed=2))
    script = (
        "import sys;"
        "from modelops_provider_local.provider import LocalProvider;"
        "from modelops_core.finetune.provider_contract import TuningRequest;"
        f"job = LocalProvider(home={str(home)!r}).start("
        f"TuningRequest(model='local:logreg', training_file={str(train)!r}));"
        "print(job.id)"
    )
    started = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    job_id = started.stdout.strip()
    provider = LocalProvider(home=str(home))  # another process's view: files only
    job = wait_for(provider, job_id, lambda j: j.status.finished)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert len(provider.predict(job.fine_tuned_model, ["refund my double charge"])) == 1


def test_cancel_stops_a_running_job(tmp_path: Path) -> None:
    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    job = provider.start(long_request(tmp_path))
    wait_for(provider, job.id, lambda j: j.status is JobStatus.RUNNING)
    cancelled = provider.cancel(job.id)
    final = wait_for(provider, job.id, lambda j: j.status.finished)
    assert final.status is JobStatus.CANCELLED
    assert cancelled.status in (JobStatus.CANCELLED, JobStatus.RUNNING)
    assert final.fine_tuned_model is None
    messages = [event.message for event in provider.events(job.id)]
    assert "cancellation requested" in messages and "job cancelled" in messages


def test_a_worker_that_dies_fails_the_job_with_a_reason(tmp_path: Path) -> None:
    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    job = provider.start(long_request(tmp_path))
    wait_for(provider, job.id, lambda j: j.status is JobStatus.RUNNING)
    pid = int(Path(job.details["job_dir"], "worker.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    final = wait_for(provider, job.id, lambda j: j.status.finished)
    assert final.status is JobStatus.FAILED
    assert "worker process ended" in (final.error or "")


def test_bad_data_fails_the_job_with_line_numbers(tmp_path: Path) -> None:
    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    train = tmp_path / "train.jsonl"
    train.write_text('{"prompt": "a", "completion": "x"}\nnot json\n{"prompt": "b"}\n')
    job = provider.start(TuningRequest(model="local:logreg", training_file=str(train)))
    final = wait_for(provider, job.id, lambda j: j.status.finished)
    assert final.status is JobStatus.FAILED
    assert "train.jsonl:2: invalid JSON" in (final.error or "")
    assert "train.jsonl:3: missing 'completion'" in (final.error or "")


def test_a_damaged_status_file_is_a_typed_error_and_the_worker_carries_on(tmp_path: Path) -> None:
    from modelops_provider_local.jobstore import DamagedJobFileError

    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    train = write_jsonl(tmp_path / "train.jsonl", support_tickets(3000, seed=2))
    job = provider.start(
        TuningRequest(
            model="local:logreg",
            training_file=str(train),
            hyperparameters={"epochs": 30, "batch_size": 8, "learning_rate": 0.01},
        )
    )
    wait_for(provider, job.id, lambda j: j.status is JobStatus.RUNNING)
    status_file = provider.root / "jobs" / job.id / "status.json"
    status_file.write_text('{"status": "runn')  # a torn or hand-edited file
    with pytest.raises(DamagedJobFileError) as caught:
        provider.get(job.id)
    assert str(status_file) in str(caught.value) and "line 1, column" in str(caught.value)
    assert "modelops finetune cancel" in str(caught.value)
    # the worker rewrites the file at its next step and finishes the job
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the worker never rewrote status.json"
        try:
            finished = provider.get(job.id)
        except DamagedJobFileError:
            time.sleep(0.02)
            continue
        if finished.status.finished:
            break
    assert finished.status is JobStatus.SUCCEEDED, finished.error
    assert any("status.json was damaged" in e.message for e in provider.events(job.id))


def test_a_damaged_status_file_of_a_dead_worker_fails_the_job_with_the_reason(
    tmp_path: Path,
) -> None:
    provider = LocalProvider(home=str(tmp_path / ".modelops"))
    job = provider.start(long_request(tmp_path))
    wait_for(provider, job.id, lambda j: j.status is JobStatus.RUNNING)
    pid = int((provider.root / "jobs" / job.id / "worker.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    provider._workers[job.id].wait()
    (provider.root / "jobs" / job.id / "status.json").write_bytes(b"\xff\xfe garbage")
    failed = provider.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert "status could not be read" in (failed.error or "")
    assert "not UTF-8 text at byte 0" in (failed.error or "")
    assert provider.get(job.id).status is JobStatus.FAILED  # rewritten: readable from now on
