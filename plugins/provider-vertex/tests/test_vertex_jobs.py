"""Tuning jobs through the vertex provider: requests sent, status and progress, lists, events."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops_provider_vertex.mapping import job_status, raw_status
from modelops_provider_vertex.provider import VertexProvider
from modelops_provider_vertex.testing import (
    FakeVertex,
    GcsEmulator,
    SpecViolation,
    supervised_records,
    write_jsonl,
)

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderRejectedError,
    TuningMethod,
    TuningRequest,
)

MODEL = "gemini-2.5-flash"


def run(provider: VertexProvider, job_id: str) -> list[tuple[str, str, float | None]]:
    """Poll until finished; the (status, raw status, progress) seen after each get."""
    seen = []
    job = provider.get(job_id)
    seen.append((job.status.value, job.raw_status, job.progress))
    while not job.status.finished:
        job = provider.get(job_id)
        seen.append((job.status.value, job.raw_status, job.progress))
    return seen


def test_supervised_hyperparameters_map_to_the_tuning_spec(
    provider: VertexProvider, fake: FakeVertex, training_file: str, tmp_path: Path, bucket: str
) -> None:
    validation = write_jsonl(tmp_path / "validation.jsonl", supervised_records(4))
    request = TuningRequest(
        model=MODEL,
        training_file=training_file,
        validation_file=validation,
        hyperparameters={"epochs": 4, "learning_rate": 0.5, "adapter_size": 8},
        suffix="capitals",
        metadata={"dataset_fingerprint": "sha256:" + "ab" * 32, "created_by": "modelops"},
    )
    job = provider.start(request)
    (create,) = fake.requests_to("POST", "/tuningJobs")
    body = create.json
    spec = body["supervisedTuningSpec"]
    assert body["baseModel"] == MODEL
    assert spec["hyperParameters"] == {
        "epochCount": 4,
        "learningRateMultiplier": 0.5,
        "adapterSize": "ADAPTER_SIZE_EIGHT",
    }
    assert spec["trainingDatasetUri"].startswith(f"gs://{bucket}/modelops/tuning/")
    assert spec["trainingDatasetUri"].endswith("-train.jsonl")
    assert spec["validationDatasetUri"].endswith("-validation.jsonl")
    assert body["tunedModelDisplayName"] == "gemini-2.5-flash-capitals"
    request_label = body["labels"].pop("modelops-request")
    assert re.fullmatch(r"[0-9a-f]{32}", request_label)  # finds the job after a lost answer
    assert body["labels"] == {
        "dataset_fingerprint": "sha256_" + "ab" * 28,
        "created_by": "modelops",
    }
    assert "sha256:" + "ab" * 32 in body["description"]  # the full fingerprint, verbatim
    assert "preferenceOptimizationSpec" not in body
    assert job.status is JobStatus.PENDING and job.raw_status == "JOB_STATE_PENDING"
    assert job.id == fake.job_name(job.id.rsplit("/", 1)[1])
    assert job.details["hyperparameters"]["epoch_count"] == 4


def test_an_absolute_learning_rate_is_left_to_vertex(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    hyper = {"epochs": 2, "learning_rate": 1e-5}  # FineTuningJob's default: not a multiplier
    provider.start(TuningRequest(model=MODEL, training_file=training_file, hyperparameters=hyper))
    (create,) = fake.requests_to("POST", "/tuningJobs")
    assert create.json["supervisedTuningSpec"]["hyperParameters"] == {"epochCount": 2}


def test_vertex_names_given_explicitly_win(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    hyper = {"epochs": 2, "epoch_count": 5, "learning_rate_multiplier": 0.2}
    provider.start(TuningRequest(model=MODEL, training_file=training_file, hyperparameters=hyper))
    (create,) = fake.requests_to("POST", "/tuningJobs")
    sent = create.json["supervisedTuningSpec"]["hyperParameters"]
    assert sent == {"epochCount": 5, "learningRateMultiplier": 0.2}


def test_preference_tuning_sends_beta_in_the_preference_spec(
    provider: VertexProvider, fake: FakeVertex, preference_file: str
) -> None:
    assert provider.export_format_for("preference") == "vertex-preference"
    assert provider.validate(preference_file, "preference", MODEL) == []
    request = TuningRequest(
        model=MODEL,
        training_file=preference_file,
        method=TuningMethod.PREFERENCE,
        hyperparameters={"epochs": 1, "beta": 0.2},
    )
    job = provider.start(request)
    (create,) = fake.requests_to("POST", "/tuningJobs")
    spec = create.json["preferenceOptimizationSpec"]
    assert spec["hyperParameters"] == {"epochCount": 1, "beta": 0.2}
    assert "supervisedTuningSpec" not in create.json
    final = provider.get(job.id)
    while not final.status.finished:
        final = provider.get(job.id)
    assert final.status is JobStatus.SUCCEEDED and final.details["method"] == "preference"
    assert provider.predict(str(final.fine_tuned_model), ["capital of country 5?"]) == ["city 5"]


@pytest.mark.parametrize(
    ("hyperparameters", "method", "message"),
    [
        ({"beta": 0.1}, TuningMethod.SUPERVISED, "beta is a preference-tuning"),
        ({"seed": 7}, TuningMethod.SUPERVISED, "take no seed"),
        ({"adapter_size": 3}, TuningMethod.SUPERVISED, "adapter_size must be one of"),
        ({"epochs": 0}, TuningMethod.SUPERVISED, "epochs must be a whole number"),
        (
            {"no_such_knob": 1},
            TuningMethod.SUPERVISED,
            "hyperparameter\\(s\\) no_such_knob for supervised tuning of Gemini models; valid: "
            "epochs, learning_rate, adapter_size, epoch_count, learning_rate_multiplier, "
            "export_last_checkpoint_only.",
        ),
        ({"warmup_steps": 10}, TuningMethod.PREFERENCE, "warmup_steps .*valid: .*beta"),
        ({"batch_size": 8}, TuningMethod.SUPERVISED, "batch_size for supervised"),
        ({"labels": {"a": "b"}}, TuningMethod.SUPERVISED, "hyperparameter\\(s\\) labels"),
    ],
)
def test_bad_hyperparameters_are_refused_before_any_upload(
    provider: VertexProvider,
    fake: FakeVertex,
    gcs_emulator: GcsEmulator,
    bucket: str,
    training_file: str,
    hyperparameters: dict[str, object],
    method: TuningMethod,
    message: str,
) -> None:
    request = TuningRequest(
        model=MODEL, training_file=training_file, method=method, hyperparameters=hyperparameters
    )
    with pytest.raises(ProviderRejectedError, match=message):
        provider.start(request)
    assert fake.requests_to("POST", "/tuningJobs") == []
    assert gcs_emulator.objects(bucket) == []


def test_a_job_goes_through_validating_and_running_to_succeeded_with_progress(
    provider: VertexProvider, training_file: str
) -> None:
    hyper = {"epochs": 2}
    job = provider.start(
        TuningRequest(model=MODEL, training_file=training_file, hyperparameters=hyper)
    )
    seen = run(provider, job.id)
    assert seen == [
        ("validating", "JOB_STATE_RUNNING/TUNING_JOB_STATE_PROCESSING_DATASET", 0.0),
        ("running", "JOB_STATE_RUNNING/TUNING_JOB_STATE_TUNING", 0.25),
        ("running", "JOB_STATE_RUNNING/TUNING_JOB_STATE_TUNING", 0.625),
        ("succeeded", "JOB_STATE_SUCCEEDED", 1.0),
    ]
    done = provider.get(job.id)
    endpoint = done.details["endpoint"]
    assert done.fine_tuned_model == endpoint and "/endpoints/" in endpoint
    assert done.details["tuned_model"].endswith("@1")
    assert done.details["examples"] == 16 and done.details["tuning_steps"] == 8
    assert done.trained_tokens == done.details["billable_tokens_per_epoch"] * 2
    assert [c["epoch"] for c in provider.checkpoints(job.id)] == [1, 2]
    assert provider.checkpoints(job.id)[-1]["endpoint"] == endpoint


def test_waiting_for_capacity_is_queued(
    make_fake: Callable[..., FakeVertex],
    gcs_emulator: GcsEmulator,
    bucket: str,
    training_file: str,
) -> None:
    fake = make_fake(waiting_polls=1, running_polls=1)
    provider = fake.provider(bucket=bucket, storage_endpoint=gcs_emulator.endpoint)
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert [status for status, _, _ in run(provider, job.id)] == [
        "validating",
        "queued",
        "running",
        "succeeded",
    ]


def test_a_dataset_vertex_refuses_fails_the_job_with_its_message(
    provider: VertexProvider, tmp_path: Path
) -> None:
    few = write_jsonl(tmp_path / "few.jsonl", supervised_records(3))
    job = provider.start(TuningRequest(model=MODEL, training_file=few))
    final = provider.get(job.id)
    assert final.status is JobStatus.FAILED and final.raw_status == "JOB_STATE_FAILED"
    assert final.error is not None and "has 3 examples; at least 16 are required" in final.error
    assert final.details["error_code"] == 3
    events = provider.events(job.id)
    assert events[-1].level == "error" and final.error in events[-1].message


def test_validate_reports_what_vertex_would_refuse(
    provider: VertexProvider, tmp_path: Path
) -> None:
    few = write_jsonl(tmp_path / "few.jsonl", supervised_records(3))
    assert provider.validate(few, "supervised", MODEL) == [
        "dataset: 3 examples; vertex needs at least 16"
    ]
    missing = provider.validate(str(tmp_path / "nope.jsonl"), "supervised", MODEL)
    assert len(missing) == 1 and "nope.jsonl" in missing[0]


def test_cancel_goes_through_cancelling_to_cancelled(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    provider.get(job.id)  # now running (processing the dataset)
    cancelling = provider.cancel(job.id)
    assert (cancelling.status, cancelling.raw_status) == (JobStatus.RUNNING, "JOB_STATE_CANCELLING")
    cancelled = provider.get(job.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.raw_status == "JOB_STATE_CANCELLED"
    assert cancelled.error == "CANCELED" and cancelled.details["error_code"] == 1
    assert len(fake.requests_to("POST", ":cancel")) == 1
    assert provider.events(job.id)[-1].message == "Tuning job cancelled"


def test_cancelling_is_running_until_vertex_says_cancelled() -> None:
    assert job_status(raw_status("JOB_STATE_CANCELLING")) is JobStatus.RUNNING
    assert not job_status("JOB_STATE_CANCELLING/TUNING_JOB_STATE_TUNING").finished


def test_cancel_of_a_finished_job_returns_it_as_it_is(
    provider: VertexProvider, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    run(provider, job.id)
    again = provider.cancel(job.id)
    assert again.status is JobStatus.SUCCEEDED


def test_partially_succeeded_counts_as_succeeded_only_with_a_model() -> None:
    assert job_status("JOB_STATE_PARTIALLY_SUCCEEDED", has_model=True) is JobStatus.SUCCEEDED
    assert job_status("JOB_STATE_PARTIALLY_SUCCEEDED", has_model=False) is JobStatus.FAILED


def test_unknown_states_and_sub_states_are_not_finished() -> None:
    assert job_status("JOB_STATE_FROM_2031") is JobStatus.RUNNING
    assert job_status("JOB_STATE_RUNNING/TUNING_JOB_STATE_FROM_2031") is JobStatus.RUNNING
    assert job_status("JOB_STATE_SUCCEEDED/TUNING_JOB_STATE_PROCESSING_DATASET").finished


def test_get_takes_a_bare_job_id(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    bare = job.id.rsplit("/", 1)[1]
    assert provider.get(bare).id == job.id
    assert (
        fake.requests[-1].path == f"projects/fake-project/locations/us-central1/tuningJobs/{bare}"
    )


def test_list_follows_pages_newest_first(
    make_fake: Callable[..., FakeVertex],
    gcs_emulator: GcsEmulator,
    bucket: str,
    training_file: str,
) -> None:
    fake = make_fake(page_size_cap=2)
    provider = fake.provider(bucket=bucket, storage_endpoint=gcs_emulator.endpoint)
    ids = [
        provider.start(TuningRequest(model=MODEL, training_file=training_file)).id for _ in range(5)
    ]
    listed = provider.list_jobs(limit=4)
    assert [job.id for job in listed] == list(reversed(ids))[:4]
    assert [r.url.split("?", 1)[-1] for r in fake.requests_to("GET", "/tuningJobs")] == [
        "pageSize=4",
        "pageSize=4&pageToken=page-1-2",  # the opaque token the fake issued
    ]
    assert provider.list_jobs(limit=0) == []


def test_the_training_file_is_staged_once_and_reused(
    provider: VertexProvider, gcs_emulator: GcsEmulator, bucket: str, training_file: str
) -> None:
    first = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    second = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert first.details["training_dataset_uri"] == second.details["training_dataset_uri"]
    (name,) = gcs_emulator.objects(bucket)
    assert gcs_emulator.read(f"gs://{bucket}/{name}") == Path(training_file).read_bytes()


def test_predict_calls_generate_content_at_temperature_zero(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    run(provider, job.id)
    endpoint = str(provider.get(job.id).fine_tuned_model)
    provider.system_prompt = "Answer with the city only."
    assert provider.predict(endpoint, ["capital of country 7?", "unseen"]) == ["city 7", "unseen"]
    calls = fake.requests_to("POST", ":generateContent")
    assert [c.path.split("/")[-1] for c in calls] == [
        endpoint.split("/")[-1] + ":generateContent"
    ] * 2
    body = calls[0].json
    assert body["generationConfig"] == {"temperature": 0.0, "maxOutputTokens": 256}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "capital of country 7?"}]}]
    assert body["systemInstruction"]["parts"] == [{"text": "Answer with the city only."}]


def test_predict_on_a_base_model_uses_the_publisher_path(
    provider: VertexProvider, fake: FakeVertex
) -> None:
    assert provider.predict(MODEL, ["hello"]) == ["hello"]
    (call,) = fake.requests_to("POST", ":generateContent")
    assert call.path.endswith("publishers/google/models/gemini-2.5-flash:generateContent")


def test_the_fake_cannot_drift_from_the_sdk_schema(
    provider: VertexProvider, fake: FakeVertex, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    fake.jobs[job.id.rsplit("/", 1)[1]]["tunedModelz"] = {"model": "typo"}
    with pytest.raises(SpecViolation, match="google-genai SDK does not accept"):
        provider.get(job.id)


def test_metrics_are_the_epochs_and_tokens_vertex_reports_at_each_checkpoint(
    provider: VertexProvider, training_file: str
) -> None:
    """The tuning job resource has no loss: ``metrics()`` gives what it has, the epochs
    finished and the billable tokens seen, at step 0 and at each checkpoint's step (and the
    epochs tuningJobMetadata counts while tuning)."""
    job = provider.start(
        TuningRequest(model=MODEL, training_file=training_file, hyperparameters={"epochs": 2})
    )
    during = []  # each read is one poll of the fake, which moves the job on
    while not provider.get(job.id).status.finished:
        during.append([(p.key, p.step, p.value) for p in provider.metrics(job.id)])
    done = provider.get(job.id)
    tokens = done.details["billable_tokens_per_epoch"]
    assert tokens > 0 and done.details["tuning_steps"] == 8
    final = [
        ("epoch", 0, 0.0), ("epoch", 4, 1.0), ("epoch", 8, 2.0),
        ("tokens_seen", 0, 0.0), ("tokens_seen", 4, float(tokens)),
        ("tokens_seen", 8, float(2 * tokens)),
    ]  # fmt: skip
    assert [(p.key, p.step, p.value) for p in provider.metrics(job.id)] == final
    # while tuning: step 2 of 8, no epoch finished yet, no checkpoint (no tokens claimed)
    assert during == [[("epoch", 2, 0.0)], final]
