"""The happy path over real HTTP: the provider builds its own clients from ``endpoint_url``
(the fake Bedrock served on 127.0.0.1) and ``s3_endpoint_url`` (moto's S3), as it does from
``modelops.toml``; strict mode checks every exchange of both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import NOVA, ROLE_ARN, bucket_keys, nova_records, shared_session, write_jsonl
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import FakeBedrock

from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderError,
    ProviderUnavailableError,
    TuningRequest,
)

MIB = 1024 * 1024


@pytest.fixture
def served(fake: FakeBedrock) -> Iterator[str]:
    with fake.serve() as url:
        yield url


@pytest.fixture
def provider(served: str, moto_url: str, bucket: str) -> Iterator[BedrockProvider]:
    built = BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket=bucket,
        prefix="team/a",
        endpoint_url=served,
        s3_endpoint_url=moto_url,
        multipart_threshold=5 * MIB,
        max_attempts=1,
        session=shared_session(),
    )
    yield built
    built.close()


def test_start_uploads_both_files_and_the_job_is_found_by_name(
    provider: BedrockProvider, fake: FakeBedrock, s3: Any, bucket: str, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    validation = write_jsonl(tmp_path / "valid.jsonl", nova_records(4))
    job = provider.start(
        TuningRequest(
            model=NOVA,
            training_file=training,
            validation_file=validation,
            hyperparameters={"epochs": 2, "learning_rate": 2e-5},
            suffix="support bot",
        )
    )
    assert job.id.startswith("modelops-support-bot-")
    assert sorted(bucket_keys(s3, bucket)) == [
        f"team/a/{job.id}/train.jsonl",
        f"team/a/{job.id}/validation.jsonl",
    ]
    assert job.details["hyperparameters"] == {"epochCount": "2", "learningRate": "0.00002"}
    assert job.details["output_s3_uri"] == f"s3://{bucket}/team/a/{job.id}/output/"
    assert (job.status, job.raw_status) == (
        JobStatus.VALIDATING,
        "InProgress/validation:InProgress",
    )
    assert job.id in [listed.id for listed in provider.list_jobs(limit=100)]
    create = fake.received[0]
    assert (create.operation, create.status) == ("CreateModelCustomizationJob", 201)


def test_a_completed_job_has_its_custom_model_and_a_stopped_one_is_cancelled(
    provider: BedrockProvider, fake: FakeBedrock, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    finished = provider.start(TuningRequest(model=NOVA, training_file=training))
    assert fake.finish(finished.id) == "Completed"
    done = provider.get(finished.id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.fine_tuned_model == fake.jobs[finished.id].custom_model_arn
    stopping = provider.cancel(provider.start(TuningRequest(model=NOVA, training_file=training)).id)
    assert (stopping.status, stopping.raw_status) == (
        JobStatus.RUNNING,
        "Stopping/validation:Stopping",
    )
    fake.advance(stopping.id)
    stopped = provider.get(stopping.id)
    assert (stopped.status, stopped.raw_status) == (
        JobStatus.CANCELLED,
        "Stopped/validation:Stopped",
    )


@pytest.mark.slow  # about 1 s: 6.6 MiB through moto
def test_a_big_file_goes_up_in_parts(
    provider: BedrockProvider, s3: Any, bucket: str, tmp_path: Path
) -> None:
    record = nova_records(1)[0]
    record["messages"][1]["content"][0]["text"] = "x" * 4096
    path = write_jsonl(tmp_path / "train.jsonl", [record] * 1600)  # about 6.6 MiB
    assert Path(path).stat().st_size > 6 * MIB
    job = provider.start(TuningRequest(model=NOVA, training_file=path))
    head = s3.head_object(Bucket=bucket, Key=f"team/a/{job.id}/train.jsonl")
    assert head["ETag"].strip('"').endswith("-2"), "a multipart upload of two parts"
    assert head["ContentLength"] == Path(path).stat().st_size


def test_an_unknown_job_is_a_404_naming_it(provider: BedrockProvider) -> None:
    with pytest.raises(ProviderError, match="no-such-job-4242") as caught:
        provider.get("no-such-job-4242")
    assert "ResourceNotFoundException, HTTP 404" in str(caught.value)


def test_a_dropped_connection_is_transient(provider: BedrockProvider, fake: FakeBedrock) -> None:
    fake.fail("ListModelCustomizationJobs", "drop")
    with pytest.raises(ProviderUnavailableError, match="can be retried"):
        provider.list_jobs()
