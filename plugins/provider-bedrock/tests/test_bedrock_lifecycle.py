"""The job lifecycle through Bedrock's sub-statuses, and the requests we send, via the
StrictStubber.

The StrictStubber checks every request we make against the real Bedrock service model with
its patterns, enums and lengths (a missing roleArn, an int hyperparameter or a job name with
an underscore raises), and every response we script (ARNs must match the model's patterns).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import (
    NOVA,
    ROLE_ARN,
    TITAN,
    make_client,
    nova_records,
    prompt_records,
    write_jsonl,
)
from botocore.exceptions import ParamValidationError
from botocore.stub import ANY
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.status import to_job_status
from modelops_provider_bedrock.testing import SpecViolationError, StrictStubber

from modelops_core.finetune.provider_contract import JobStatus, ProviderRejectedError, TuningRequest

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
JOB = "modelops-demo-20261122090000-abc123"
JOB_ARN = f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{NOVA}/k2m4x8q1z7c3"
MODEL_ARN = f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{NOVA}/p9d3w6r2t5y8"


def stage(status: str, start: int = 0, changed: int | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"status": status}
    if status != "NotStarted":
        details["creationTime"] = T0 + timedelta(minutes=start)
        details["lastModifiedTime"] = T0 + timedelta(minutes=changed if changed else start)
    return details


def job_response(
    status: str = "InProgress",
    validation: str = "InProgress",
    processing: str = "NotStarted",
    training: str = "NotStarted",
    **extra: Any,
) -> dict[str, Any]:
    """A GetModelCustomizationJob response as Bedrock sends it."""
    response = {
        "jobArn": JOB_ARN,
        "jobName": JOB,
        "outputModelName": "demo-model",
        "roleArn": ROLE_ARN,
        "status": status,
        "statusDetails": {
            "validationDetails": stage(validation, 1, 5),
            "dataProcessingDetails": stage(processing, 5, 9),
            "trainingDetails": stage(training, 10, 70),
        },
        "creationTime": T0,
        "baseModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}",
        "hyperParameters": {"epochCount": "2", "learningRate": "0.00001"},
        "trainingDataConfig": {"s3Uri": "s3://bucket/modelops/bedrock/x/train.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": "s3://bucket/modelops/bedrock/x/output/"},
        "customizationType": "FINE_TUNING",
    }
    response.update(extra)
    return response


def completed_job_response() -> dict[str, Any]:
    """A job that completed after 71 minutes, with its custom model and training loss."""
    return job_response(
        "Completed",
        "Completed",
        "Completed",
        "Completed",
        outputModelArn=MODEL_ARN,
        endTime=T0 + timedelta(minutes=71),
        trainingMetrics={"trainingLoss": 0.25},
    )


def test_a_job_walks_through_validation_data_processing_training_to_success(
    provider: BedrockProvider, stub: Any
) -> None:
    stages = [
        (job_response(), JobStatus.VALIDATING, "InProgress/validation:InProgress"),
        (
            job_response(validation="Completed", processing="InProgress"),
            JobStatus.VALIDATING,
            "InProgress/dataProcessing:InProgress",
        ),
        (
            job_response(validation="Completed", processing="Completed"),
            JobStatus.QUEUED,
            "InProgress/dataProcessing:Completed",
        ),
        (
            job_response(validation="Completed", processing="Completed", training="InProgress"),
            JobStatus.RUNNING,
            "InProgress/training:InProgress",
        ),
        (
            completed_job_response(),
            JobStatus.SUCCEEDED,
            "Completed/training:Completed",
        ),
    ]
    for response, _, _ in stages:
        stub.add_response("get_model_customization_job", response, {"jobIdentifier": JOB})
    seen = [provider.get(JOB) for _ in stages]
    assert [(job.status, job.raw_status) for job in seen] == [(s, r) for _, s, r in stages]
    assert all(job.fine_tuned_model is None for job in seen[:-1])
    done = seen[-1]
    assert done.fine_tuned_model == MODEL_ARN
    assert done.progress == 1.0
    assert done.model == NOVA
    assert done.details["training_loss"] == 0.25
    assert done.details["job_arn"] == JOB_ARN


def test_stopping_is_not_finished_and_stopped_is_cancelled(
    provider: BedrockProvider, stub: Any
) -> None:
    stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB})
    stub.add_response(
        "get_model_customization_job",
        job_response("Stopping", "Completed", "Completed", "Stopping"),
        {"jobIdentifier": JOB},
    )
    stub.add_response(
        "get_model_customization_job",
        job_response("Stopped", "Completed", "Completed", "Stopped"),
        {"jobIdentifier": JOB},
    )
    stopping = provider.cancel(JOB)
    assert (stopping.status, stopping.raw_status) == (
        JobStatus.RUNNING,
        "Stopping/training:Stopping",
    )
    assert provider.get(JOB).status is JobStatus.CANCELLED


def test_a_failed_job_keeps_aws_failure_message_verbatim(
    provider: BedrockProvider, stub: Any
) -> None:
    message = "Training data has 12 records; the minimum is 32."
    stub.add_response(
        "get_model_customization_job",
        job_response("Failed", "Failed", failureMessage=message, endTime=T0),
        {"jobIdentifier": JOB},
    )
    job = provider.get(JOB)
    assert (job.status, job.raw_status, job.error) == (
        JobStatus.FAILED,
        "Failed/validation:Failed",
        message,
    )


def test_an_unknown_status_is_not_finished() -> None:
    assert not to_job_status("Paused/training:Paused").finished
    assert not to_job_status("InProgress/somethingNew:Started").finished


def test_events_are_synthesized_from_stage_timestamps_oldest_first(
    provider: BedrockProvider, stub: Any
) -> None:
    stub.add_response(
        "get_model_customization_job",
        completed_job_response(),
        {"jobIdentifier": JOB},
    )
    events = provider.events(JOB)
    assert [event.message for event in events] == [
        f"job {JOB} created",
        "data validation started",
        "data validation completed",
        "data processing started",
        "data processing completed",
        "training started",
        "training completed",
        f"job {JOB} completed",
    ]
    assert [event.created_at for event in events] == sorted(e.created_at for e in events)
    assert events[-1].data["trainingLoss"] == 0.25


def test_list_jobs_follows_pages_and_stops_at_the_limit(
    provider: BedrockProvider, stub: Any
) -> None:
    def summary(name: str) -> dict[str, Any]:
        return {
            "jobArn": JOB_ARN.replace("k2m4x8q1z7c3", f"{name}00000000000"),
            "baseModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}",
            "jobName": name,
            "status": "InProgress",
            "creationTime": T0,
        }

    first = {"sortBy": "CreationTime", "sortOrder": "Descending", "maxResults": 3}
    stub.add_response(
        "list_model_customization_jobs",
        {"modelCustomizationJobSummaries": [summary("a"), summary("b")], "nextToken": "page-2"},
        first,
    )
    stub.add_response(
        "list_model_customization_jobs",
        {"modelCustomizationJobSummaries": [summary("c"), summary("d")], "nextToken": "page-3"},
        {**first, "nextToken": "page-2"},
    )
    jobs = provider.list_jobs(limit=3)
    assert [job.id for job in jobs] == ["a", "b", "c"]
    assert all(job.model == NOVA and job.status is JobStatus.RUNNING for job in jobs)


# --- what we send ----------------------------------------------------------------------------


@pytest.fixture
def starter(bedrock: Any, stub: Any, moto_url: str, bucket: str) -> BedrockProvider:
    """A provider whose S3 is the moto server and whose Bedrock is the Stubber."""
    return BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket=bucket,
        prefix="runs",
        bedrock_client=bedrock,
        s3_client=make_client("s3", moto_url),
    )


def test_start_sends_hyperparameters_as_strings_with_the_role_and_s3_uris(
    starter: BedrockProvider, stub: Any, bucket: str, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    validation = write_jsonl(tmp_path / "valid.jsonl", nova_records(8))
    expected = {
        "jobName": ANY,
        "customModelName": ANY,
        "roleArn": ROLE_ARN,
        "baseModelIdentifier": NOVA,
        "customizationType": "FINE_TUNING",
        "trainingDataConfig": ANY,
        "validationDataConfig": ANY,
        "outputDataConfig": ANY,
        "hyperParameters": {
            "epochCount": "2",
            "learningRate": "0.00001",
            "learningRateWarmupSteps": "10",
        },
        "jobTags": [{"key": "dataset", "value": "sha256:abc"}],
    }
    stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, expected)
    stub.add_response("get_model_customization_job", job_response(), {"jobIdentifier": ANY})
    job = starter.start(
        TuningRequest(
            model=f"us.{NOVA}",
            training_file=training,
            validation_file=validation,
            hyperparameters={"epochs": 2, "learning_rate": 1e-5, "warmup_steps": 10},
            suffix="demo",
            metadata={"dataset": "sha256:abc"},
        )
    )
    assert job.status is JobStatus.VALIDATING  # the stub fixture checks both calls were made


def test_the_stubber_refuses_what_the_service_refuses(bedrock: Any, strict: Any) -> None:
    """Why the tests above prove something: the real service model refuses our mistakes,
    patterns and enums included (botocore's own Stubber lets the last three through)."""
    arguments = {
        "jobName": "j",
        "customModelName": "m",
        "roleArn": ROLE_ARN,
        "baseModelIdentifier": NOVA,
        "trainingDataConfig": {"s3Uri": "s3://bucket-a/t.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://bucket-a/out/"},
    }
    missing_role = {k: v for k, v in arguments.items() if k != "roleArn"}
    with strict.expected(), StrictStubber(bedrock) as stubber:
        stubber.add_response("create_model_customization_job", {"jobArn": JOB_ARN})
        refused = (ParamValidationError, SpecViolationError)
        with pytest.raises(refused, match="epochCount"):
            bedrock.create_model_customization_job(**arguments, hyperParameters={"epochCount": 2})
        with pytest.raises(refused, match="roleArn"):
            bedrock.create_model_customization_job(**missing_role)
        for change, named in (
            ({"jobName": "my_job"}, "'my_job' at 'jobName'"),
            ({"roleArn": "arn:aws:iam::123:role/x"}, "at 'roleArn'"),
            ({"customizationType": "FINETUNING"}, "enum value set: [FINE_TUNING,"),
        ):
            with pytest.raises(SpecViolationError, match=re.escape(named)):
                bedrock.create_model_customization_job(**{**arguments, **change})


def test_start_names_the_uploaded_files_under_the_job_folder(
    starter: BedrockProvider, stub: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN})
    stub.add_response("get_model_customization_job", job_response(), {"jobIdentifier": ANY})
    starter.start(TuningRequest(model=NOVA, training_file=training, suffix="demo"))
    (key,) = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key.startswith("runs/modelops-demo-") and key.endswith("/train.jsonl")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == Path(training).read_bytes()


@pytest.mark.parametrize(
    ("hyperparameters", "named"),
    [
        ({"epochs": 6}, "epochCount=6 (allowed 1 to 5)"),
        ({"learning_rate": 1e-3}, "learningRate=0.001 (allowed 1e-06 to 0.0001)"),
        ({"warmup_steps": 101}, "learningRateWarmupSteps=101 (allowed 0 to 100)"),
        ({"seed": 7}, "'seed' is not supported"),
        # Nova takes no batch size, and no Cohere/Claude early stopping
        (
            {"batch_size": 8},
            "takes no hyperparameter 'batch_size'; valid: epochs (epochCount), learning_rate "
            "(learningRate), warmup_steps (learningRateWarmupSteps)",
        ),
        ({"earlyStoppingPatience": 3}, "takes no hyperparameter 'earlyStoppingPatience'"),
        ({"epochs": 1.5}, "whole number"),
    ],
)
def test_bad_hyperparameters_are_refused_before_any_upload(
    starter: BedrockProvider,
    s3: Any,
    bucket: str,
    tmp_path: Path,
    hyperparameters: dict[str, Any],
    named: str,
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    with pytest.raises(ProviderRejectedError) as caught:
        starter.start(
            TuningRequest(model=NOVA, training_file=training, hyperparameters=hyperparameters)
        )
    assert named in str(caught.value)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket), "nothing may be uploaded"


def test_a_missing_role_arn_names_the_config_key_before_any_call(
    bedrock: Any, stub: Any, tmp_path: Path
) -> None:
    provider = BedrockProvider(region="us-east-1", bucket="b", bedrock_client=bedrock)
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    with pytest.raises(Exception, match=r"\[providers.bedrock\] role_arn") as caught:
        provider.start(TuningRequest(model=NOVA, training_file=training))
    assert "bedrock.amazonaws.com" in str(caught.value)  # the IAM hint comes with it


def test_a_file_in_the_wrong_format_for_the_model_is_refused_before_upload(
    starter: BedrockProvider, s3: Any, bucket: str, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    with pytest.raises(ProviderRejectedError, match='data_format = "bedrock"'):
        starter.start(TuningRequest(model=TITAN, training_file=training))
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_titan_gets_prompt_completion_and_no_nova_range_check(
    bedrock: Any, stub: Any, moto_url: str, bucket: str, tmp_path: Path
) -> None:
    provider = BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket=bucket,
        data_format="bedrock",
        bedrock_client=bedrock,
        s3_client=make_client("s3", moto_url),
    )
    assert provider.export_format_for("supervised") == "bedrock"
    training = write_jsonl(tmp_path / "train.jsonl", prompt_records())
    assert provider.validate(training, "supervised", TITAN) == []
    stub.add_response(
        "create_model_customization_job",
        {"jobArn": JOB_ARN},
        {
            "jobName": ANY,
            "customModelName": ANY,
            "roleArn": ROLE_ARN,
            "baseModelIdentifier": TITAN,
            "customizationType": "FINE_TUNING",
            "trainingDataConfig": ANY,
            "outputDataConfig": ANY,
            "hyperParameters": {"epochCount": "8"},
        },
    )
    stub.add_response("get_model_customization_job", job_response(), {"jobIdentifier": ANY})
    provider.start(
        TuningRequest(model=TITAN, training_file=training, hyperparameters={"epochs": 8})
    )
