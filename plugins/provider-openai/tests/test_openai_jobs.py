"""Fine-tuning jobs through the SDK against the stateful fake: requests sent, states mapped."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import FakeOpenAI, chat_records, write_jsonl

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderRejectedError,
    TuningMethod,
    TuningRequest,
)

MODEL = "gpt-4o-mini-2024-07-18"


def test_a_job_goes_from_validating_to_succeeded_with_progress(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    started = provider.start(
        TuningRequest(
            model=MODEL,
            training_file=training_file,
            hyperparameters={"epochs": 2},
            suffix="capitals",
        )
    )
    assert (started.status, started.raw_status, started.progress) == (
        JobStatus.VALIDATING,
        "validating_files",
        0.0,
    )
    seen = [
        (job.status, job.raw_status, job.progress)
        for job in (provider.get(started.id) for _ in range(4))
    ]
    assert seen == [
        (JobStatus.QUEUED, "queued", 0.0),
        (JobStatus.RUNNING, "running", None),  # started, no step reported yet
        (JobStatus.RUNNING, "running", 0.5),  # "Step 12/24" from the metrics event
        (JobStatus.SUCCEEDED, "succeeded", 1.0),
    ]
    done = provider.get(started.id)
    assert done.fine_tuned_model == f"ft:{MODEL}:org-fake:capitals:{started.id[-8:]}"
    assert done.trained_tokens == 42 * 24
    assert done.details["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 1,
        "learning_rate_multiplier": 1.8,
    }
    assert done.details["training_file"] in fake.files
    assert done.error is None and done.created_at is not None


def test_the_training_file_is_uploaded_for_fine_tuning(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    (upload,) = fake.requests_to("POST", "/files")
    assert upload.form["purpose"] == "fine-tune"
    assert upload.form["file"] == ("train.jsonl", Path(training_file).read_bytes())
    assert job.details["training_file"] == fake.jobs[job.id]["training_file"]


def test_neutral_hyperparameters_become_openai_names_under_method(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str, tmp_path: Path
) -> None:
    validation = write_jsonl(tmp_path / "valid.jsonl", chat_records(3))
    provider.start(
        TuningRequest(
            model=MODEL,
            training_file=training_file,
            validation_file=validation,
            hyperparameters={"epochs": 3, "learning_rate": 0.5, "batch_size": 4, "seed": 7},
            suffix="cap",
            metadata={"dataset": "sha256:ab"},
        )
    )
    (create,) = fake.requests_to("POST", "/fine_tuning/jobs")
    training_id, validation_id = sorted(fake.files)
    assert create.json == {
        "model": MODEL,
        "training_file": training_id,
        "validation_file": validation_id,
        "method": {
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": 3, "learning_rate_multiplier": 0.5, "batch_size": 4}
            },
        },
        "suffix": "cap",
        "seed": 7,
        "metadata": {"dataset": "sha256:ab"},
    }
    assert "hyperparameters" not in create.json  # the deprecated top-level form is not used


def test_a_preference_job_is_sent_as_dpo_with_beta(
    provider: OpenAIProvider, fake: FakeOpenAI, dpo_file: str
) -> None:
    job = provider.start(
        TuningRequest(
            model=MODEL,
            training_file=dpo_file,
            method=TuningMethod.PREFERENCE,
            hyperparameters={"epochs": 1, "beta": 0.1},
        )
    )
    (create,) = fake.requests_to("POST", "/fine_tuning/jobs")
    assert create.json["method"] == {
        "type": "dpo",
        "dpo": {"hyperparameters": {"n_epochs": 1, "beta": 0.1}},
    }
    assert job.details["method"] == "dpo"
    assert provider.export_format_for("preference") == "openai-dpo"
    assert provider.export_format_for(TuningMethod.SUPERVISED) == "openai"


def test_beta_on_a_supervised_job_is_refused_before_any_upload(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    with pytest.raises(ValueError, match="beta is a DPO hyperparameter"):
        provider.start(
            TuningRequest(model=MODEL, training_file=training_file, hyperparameters={"beta": 0.1})
        )
    assert fake.requests == []


def test_a_file_the_api_finds_invalid_fails_the_job_with_its_message(
    provider: OpenAIProvider, tmp_path: Path
) -> None:
    short = write_jsonl(tmp_path / "short.jsonl", chat_records(3))
    job = provider.start(TuningRequest(model=MODEL, training_file=short))
    failed = provider.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.raw_status == "failed"
    assert failed.error == (
        "The job failed due to an invalid training file. Expected file to have at least 10 "
        "lines, but got 3 lines."
    )
    assert failed.details["error_code"] == "invalid_training_file"


def test_events_come_oldest_first_across_pages(fake: FakeOpenAI, training_file: str) -> None:
    fake.page_size_cap = 2
    provider = fake.provider()
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    while not provider.get(job.id).status.finished:
        pass
    events = provider.events(job.id)
    assert [e.message for e in events] == [
        f"Validating training file: {fake.jobs[job.id]['training_file']}",
        "Files validated, moving job to queued state",
        f"Fine-tuning job started: {job.id}",
        "Step 18/36: training loss=0.1053",
        "Step 36/36: training loss=0.0541",
        f"New fine-tuned model created: {fake.jobs[job.id]['fine_tuned_model']}",
        "The job has successfully completed",
    ]
    assert events[3].data["step"] == 18 and events[3].data["type"] == "metrics"
    assert len(fake.requests_to("GET", f"/fine_tuning/jobs/{job.id}/events")) >= 4


def test_list_jobs_follows_cursor_pages_up_to_the_limit(
    fake: FakeOpenAI, training_file: str
) -> None:
    fake.page_size_cap = 2
    provider = fake.provider()
    ids = [
        provider.start(TuningRequest(model=MODEL, training_file=training_file)).id for _ in range(5)
    ]
    assert [job.id for job in provider.list_jobs(limit=4)] == ids[::-1][:4]
    assert [job.id for job in provider.list_jobs(limit=50)] == ids[::-1]
    pages = fake.requests_to("GET", "/fine_tuning/jobs")
    assert [p.query.get("after") for p in pages[-3:]] == [None, ids[3], ids[1]]
    assert provider.list_jobs(limit=0) == []


def test_cancel_a_running_job_and_a_finished_one(
    provider: OpenAIProvider, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    provider.get(job.id)
    cancelled = provider.cancel(job.id)
    assert (cancelled.status, cancelled.raw_status) == (JobStatus.CANCELLED, "cancelled")
    again = provider.cancel(job.id)  # the API refuses; the finished job is returned as it is
    assert again.status is JobStatus.CANCELLED
    assert provider.events(job.id)[-1].message == "Fine-tuning job cancelled"


def test_checkpoints_list_the_callable_models_oldest_first(
    provider: OpenAIProvider, training_file: str
) -> None:
    job = provider.start(
        TuningRequest(model=MODEL, training_file=training_file, hyperparameters={"epochs": 1})
    )
    while not (done := provider.get(job.id)).status.finished:
        pass
    checkpoints = provider.checkpoints(job.id)
    assert [c["step"] for c in checkpoints] == [6, 12]
    assert checkpoints[-1]["model"] == f"{done.fine_tuned_model}:ckpt-step-12"
    assert checkpoints[-1]["metrics"]["train_loss"] == pytest.approx(2 / 13, abs=1e-4)


def test_a_refused_job_deletes_the_files_it_uploaded(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    with pytest.raises(ProviderRejectedError, match="gpt-2 is not available for fine-tuning"):
        provider.start(TuningRequest(model="gpt-2", training_file=training_file))
    assert len(fake.requests_to("POST", "/files")) == 1
    assert fake.files == {}


def test_a_missing_training_file_is_named_before_any_request(
    provider: OpenAIProvider, fake: FakeOpenAI, tmp_path: Path
) -> None:
    from modelops_core.finetune.provider_contract import ProviderError

    with pytest.raises(ProviderError, match="nope.jsonl does not exist; export the dataset"):
        provider.start(TuningRequest(model=MODEL, training_file=str(tmp_path / "nope.jsonl")))
    assert fake.requests == []


def test_an_absolute_learning_rate_is_left_to_openai_and_explicit_names_win() -> None:
    from modelops_provider_openai.mapping import method_body

    supervised = TuningMethod.SUPERVISED
    # FineTuningJob's default learning_rate=1e-5 is an absolute rate, not a multiplier
    assert method_body(supervised, {"epochs": 3, "learning_rate": 1e-5}) == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 3}},
    }
    explicit = {"learning_rate": 1e-5, "learning_rate_multiplier": 0.3, "epochs": 2, "n_epochs": 4}
    assert method_body(supervised, explicit)["supervised"]["hyperparameters"] == {
        "learning_rate_multiplier": 0.3,
        "n_epochs": 4,
    }
    assert method_body(supervised, {"learning_rate": "auto", "batch_size": "auto"}) == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {"learning_rate_multiplier": "auto", "batch_size": "auto"}
        },
    }
