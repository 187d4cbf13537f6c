"""FakeBedrock answers as the service does: what it refuses, with which status and message,
what its answers carry on the wire, and the failures a test scripts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import (
    NOVA,
    ROLE_ARN,
    TITAN,
    make_client,
    nova_records,
    shared_session,
    write_jsonl,
)
from botocore.exceptions import ClientError
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import FakeBedrock
from modelops_provider_bedrock.testing.fake import training_curve
from modelops_provider_bedrock.testing.spec import ISO_8601

from modelops_core.finetune.provider_contract import (
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningRequest,
)

CREATE = {
    "jobName": "job-1",
    "customModelName": "model-1",
    "roleArn": ROLE_ARN,
    "baseModelIdentifier": NOVA,
    "customizationType": "FINE_TUNING",
    "trainingDataConfig": {"s3Uri": "s3://bucket-a/runs/train.jsonl"},
    "outputDataConfig": {"s3Uri": "s3://bucket-a/runs/output/"},
    "hyperParameters": {"epochCount": "2"},
}


def error_of(call: Any, **arguments: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**arguments)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"jobName": "my_job"},
            "Value 'my_job' at 'jobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern",
        ),
        (
            {"roleArn": "arn:aws:iam::123:role/x"},
            "at 'roleArn' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern",
        ),
        (
            {"customizationType": "FINETUNING"},
            "at 'customizationType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [FINE_TUNING,",
        ),
        (
            {"jobName": "j" * 64},
            "at 'jobName' failed to satisfy constraint: "
            "Member must have length less than or equal to 63",
        ),
    ],
)
def test_invalid_requests_are_refused_as_aws_refuses_them(
    fake_bedrock: Any, strict: Any, change: dict[str, Any], message: str
) -> None:
    with strict.expected() as seen:
        code, status, text = error_of(
            fake_bedrock.create_model_customization_job, **{**CREATE, **change}
        )
    assert (code, status) == ("ValidationException", 400)
    assert text.startswith("1 validation error detected: ") and message in text
    assert len(seen) == 1, "strict mode saw the bad request too"


def test_max_results_beyond_1000_is_refused(fake_bedrock: Any, strict: Any) -> None:
    with strict.expected():
        code, status, text = error_of(fake_bedrock.list_model_customization_jobs, maxResults=1001)
    assert (code, status) == ("ValidationException", 400)
    assert (
        "Value '1001' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000" in text
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"baseModelIdentifier": "amazon.nova-nano-v9:0"},
            "The provided model identifier is invalid",
        ),
        (
            {"customizationType": "CONTINUED_PRE_TRAINING"},
            "does not support customization type CONTINUED_PRE_TRAINING",
        ),
        (
            {"hyperParameters": {"batchSize": "8"}},
            "batchSize is not a hyperparameter of amazon.nova-micro-v1:0:128k",
        ),
        ({"hyperParameters": {"epochCount": "9"}}, "epochCount=9 is outside [1, 5]"),
    ],
)
def test_what_the_model_allows_but_the_service_refuses(
    fake_bedrock: Any, change: dict[str, Any], message: str
) -> None:
    code, status, text = error_of(
        fake_bedrock.create_model_customization_job, **{**CREATE, **change}
    )
    assert (code, status) == ("ValidationException", 400)
    assert message in text


def test_create_is_201_and_the_answers_carry_the_models_formats(
    fake: FakeBedrock, fake_bedrock: Any
) -> None:
    created = fake_bedrock.create_model_customization_job(**CREATE)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(
        rf"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{re.escape(NOVA)}/[a-z0-9]{{12}}",
        created["jobArn"],
    )
    status, _headers, body = fake.handle("GET", "/model-customization-jobs/job-1", {}, b"")
    job = json.loads(body)
    assert status == 200 and job["status"] == "InProgress" and "endTime" not in job
    assert (
        ISO_8601.fullmatch(job["creationTime"])
        and job["creationTime"] == "2026-11-22T09:01:00.000Z"
    )
    assert job["statusDetails"] == {
        "validationDetails": {
            "status": "InProgress",
            "creationTime": "2026-11-22T09:01:00.000Z",
            "lastModifiedTime": "2026-11-22T09:01:00.000Z",
        },
        "dataProcessingDetails": {"status": "NotStarted"},
        "trainingDetails": {"status": "NotStarted"},
    }
    assert fake.finish("job-1") == "Completed"
    done = json.loads(fake.handle("GET", "/model-customization-jobs/job-1", {}, b"")[2])
    # no S3 behind this fake: 32 examples assumed, batches of 8, 2 epochs; the curve's last loss
    assert done["endTime"] == "2026-11-22T09:06:00.000Z" and done["trainingMetrics"] == {
        "trainingLoss": training_curve(4, 2)[-1][2]
    }


def test_an_unknown_job_is_a_404(fake_bedrock: Any) -> None:
    code, status, text = error_of(
        fake_bedrock.get_model_customization_job, jobIdentifier="no-such-job-4242"
    )
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "no-such-job-4242" in text


def test_a_job_is_found_by_its_arn_and_pages_follow_next_token(fake_bedrock: Any) -> None:
    arns = [
        fake_bedrock.create_model_customization_job(
            **{**CREATE, "jobName": f"job-{i}", "customModelName": f"model-{i}"}
        )["jobArn"]
        for i in range(3)
    ]
    assert fake_bedrock.get_model_customization_job(jobIdentifier=arns[1])["jobName"] == "job-1"
    first = fake_bedrock.list_model_customization_jobs(maxResults=2, sortOrder="Descending")
    second = fake_bedrock.list_model_customization_jobs(
        maxResults=2, sortOrder="Descending", nextToken=first["nextToken"]
    )
    names = [
        j["jobName"]
        for j in first["modelCustomizationJobSummaries"] + second["modelCustomizationJobSummaries"]
    ]
    assert names == ["job-2", "job-1", "job-0"] and "nextToken" not in second
    code, status, _ = error_of(fake_bedrock.list_model_customization_jobs, nextToken="bm9wZQ")
    assert (code, status) == ("ValidationException", 400)


def test_a_duplicate_name_is_a_conflict_unless_it_is_the_same_request(fake_bedrock: Any) -> None:
    first = fake_bedrock.create_model_customization_job(**CREATE, clientRequestToken="token-1")
    again = fake_bedrock.create_model_customization_job(**CREATE, clientRequestToken="token-1")
    assert again["jobArn"] == first["jobArn"], "an idempotent retry gets the same job"
    code, status, _ = error_of(
        fake_bedrock.create_model_customization_job, **CREATE, clientRequestToken="token-2"
    )
    assert (code, status) == ("ConflictException", 400)


def test_more_than_50_tags_is_too_many_tags(fake_bedrock: Any) -> None:
    tags = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as caught:
        fake_bedrock.create_model_customization_job(**CREATE, jobTags=tags)
    response = caught.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "TooManyTagsException",
        400,
    )
    assert response["resourceName"].startswith(
        f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{NOVA}/"
    )


def test_stopping_then_stopped_and_what_cannot_be_stopped(
    fake: FakeBedrock, fake_bedrock: Any
) -> None:
    fake_bedrock.create_model_customization_job(**CREATE)
    fake.advance("job-1", 4)  # training InProgress
    fake_bedrock.stop_model_customization_job(jobIdentifier="job-1")
    job = fake_bedrock.get_model_customization_job(jobIdentifier="job-1")
    assert (job["status"], job["statusDetails"]["trainingDetails"]["status"]) == (
        "Stopping",
        "Stopping",
    )
    assert "endTime" not in job
    code, status, _ = error_of(fake_bedrock.stop_model_customization_job, jobIdentifier="job-1")
    assert (code, status) == ("ConflictException", 400)
    assert fake.advance("job-1") == "Stopped"
    code, status, text = error_of(fake_bedrock.stop_model_customization_job, jobIdentifier="job-1")
    assert (code, status) == ("ValidationException", 400) and "Stopped state" in text


def test_botocore_waits_as_x_amz_retry_after_asks(fake: FakeBedrock) -> None:
    client = fake.client(shared_session(), max_attempts=2)
    fake.fail("ListModelCustomizationJobs", "ThrottlingException", retry_after_ms=300)
    started = time.monotonic()
    client.list_model_customization_jobs()
    assert time.monotonic() - started >= 0.3
    assert [(r.status, r.error_code) for r in fake.received] == [
        (429, "ThrottlingException"),
        (200, None),
    ]


@pytest.fixture
def starter(fake_bedrock: Any, moto_url: str, bucket: str) -> BedrockProvider:
    return BedrockProvider(
        region="us-east-1", role_arn=ROLE_ARN, bucket=bucket,
        bedrock_client=fake_bedrock, s3_client=make_client("s3", moto_url),
    )  # fmt: skip


def test_a_quota_refusal_says_what_to_do(
    fake: FakeBedrock, starter: BedrockProvider, tmp_path: Path
) -> None:
    fake.max_in_progress = 1
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    starter.start(TuningRequest(model=NOVA, training_file=training))
    with pytest.raises(ProviderRejectedError) as caught:
        starter.start(TuningRequest(model=NOVA, training_file=training))
    text = str(caught.value)
    assert "ServiceQuotaExceededException, HTTP 400" in text and "request a higher quota" in text


def test_an_unknown_hyperparameter_is_refused_with_the_valid_ones_before_any_upload(
    starter: BedrockProvider, fake: FakeBedrock, s3: Any, bucket: str, tmp_path: Path
) -> None:
    training = write_jsonl(tmp_path / "train.jsonl", [{"prompt": "q", "completion": "a"}] * 32)
    with pytest.raises(ProviderRejectedError) as caught:
        starter.start(
            TuningRequest(
                model=TITAN, training_file=training, hyperparameters={"evalPercentage": 20}
            )
        )
    assert str(caught.value) == (
        "bedrock provider: amazon.titan-text-express-v1:0:8k takes no hyperparameter "
        "'evalPercentage'; valid: epochs (epochCount), batch_size (batchSize), learning_rate "
        "(learningRate), warmup_steps (learningRateWarmupSteps). Nothing was uploaded; remove "
        "or rename it."
    )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket) and fake.received == []


def test_a_timeout_is_transient(fake: FakeBedrock, starter: BedrockProvider) -> None:
    fake.fail("GetModelCustomizationJob", "timeout")
    with pytest.raises(ProviderUnavailableError, match="Read timeout"):
        starter.get("job-1")
