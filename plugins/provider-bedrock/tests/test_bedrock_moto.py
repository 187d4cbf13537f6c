"""The happy path over real HTTP against a moto server: S3 uploads, create/get/list/stop.

The provider builds its own clients here (``endpoint_url`` / ``s3_endpoint_url`` and the fake
credentials in the environment), as it does from ``modelops.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import (
    NOVA,
    ROLE_ARN,
    bucket_keys,
    nova_records,
    set_moto_job_status,
    shared_session,
    write_jsonl,
)
from modelops_provider_bedrock.provider import BedrockProvider

from modelops_core.finetune.provider_contract import JobStatus, ProviderError, TuningRequest

MIB = 1024 * 1024


@pytest.fixture
def provider(moto_url: str, bucket: str) -> BedrockProvider:
    built = BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket=bucket,
        prefix="team/a",
        endpoint_url=moto_url,
        s3_endpoint_url=moto_url,
        multipart_threshold=5 * MIB,
        max_attempts=1,
        session=shared_session(),
    )
    yield built
    built.close()


def test_start_uploads_both_files_and_the_job_is_found_by_name(
    provider: BedrockProvider, s3: Any, bucket: str, tmp_path: Path
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
    assert job.model == NOVA and not job.status.finished
    assert job.id in [listed.id for listed in provider.list_jobs(limit=100)]


def test_a_completed_job_has_its_custom_model_and_a_stopped_one_is_cancelled(
    provider: BedrockProvider, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    finished = provider.start(TuningRequest(model=NOVA, training_file=training))
    set_moto_job_status(finished.id, "Completed")
    done = provider.get(finished.id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.fine_tuned_model and ":custom-model/" in done.fine_tuned_model
    stopped = provider.cancel(provider.start(TuningRequest(model=NOVA, training_file=training)).id)
    assert stopped.status is JobStatus.CANCELLED and stopped.raw_status == "Stopped"


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


def test_an_unknown_job_is_a_provider_error_naming_it(provider: BedrockProvider) -> None:
    with pytest.raises(ProviderError, match="no-such-job-4242"):
        provider.get("no-such-job-4242")
