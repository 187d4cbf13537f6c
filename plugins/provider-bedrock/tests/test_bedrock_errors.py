"""AWS errors become modelops errors: transient, rejected (verbatim, with the job), credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import NOVA, ROLE_ARN, make_client, nova_records, write_jsonl
from modelops_provider_bedrock.errors import retry_after
from modelops_provider_bedrock.provider import BedrockProvider

from modelops_core.finetune.provider_contract import (
    MissingCredentialsError,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningRequest,
)

JOB = "modelops-demo-20261122090000-abc123"


def test_throttling_is_transient_and_keeps_the_wait_botocore_reads(
    provider: BedrockProvider, stub: Any
) -> None:
    """ThrottlingException is HTTP 429 in the model; the wait is x-amz-retry-after, in ms."""
    stub.add_client_error(
        "get_model_customization_job", "ThrottlingException", "Rate exceeded", retry_after_ms=7250
    )
    with pytest.raises(ProviderUnavailableError, match="Rate exceeded") as caught:
        provider.get(JOB)
    assert caught.value.retry_after == 7.25
    assert JOB in str(caught.value) and "ThrottlingException, HTTP 429" in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-amz-retry-after": "1500"}, 1.5),
        ({"X-Amz-Retry-After": "0"}, 0.0),
        ({"x-amz-retry-after": "-5"}, None),  # botocore ignores a negative wait
        ({"x-amz-retry-after": "1.5"}, None),  # and anything but whole milliseconds
        ({"Retry-After": "7"}, None),  # which botocore never reads
        ({}, None),
    ],
)
def test_the_retry_wait_is_read_as_botocore_reads_it(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after(headers) == expected


def test_a_5xx_is_transient_without_retry_after(provider: BedrockProvider, stub: Any) -> None:
    stub.add_client_error("list_model_customization_jobs", "InternalServerException", "oops")
    with pytest.raises(ProviderUnavailableError) as caught:
        provider.list_jobs()
    assert caught.value.retry_after is None


def test_an_unknown_job_is_rejected_with_aws_message_and_the_job_name(
    provider: BedrockProvider, stub: Any
) -> None:
    message = "Could not find job with identifier no-such-job-4242"
    stub.add_client_error("get_model_customization_job", "ResourceNotFoundException", message)
    with pytest.raises(ProviderRejectedError) as caught:
        provider.get("no-such-job-4242")
    text = str(caught.value)
    assert message in text and "for job no-such-job-4242" in text
    assert "ResourceNotFoundException, HTTP 404" in text


def test_cancelling_a_finished_job_is_rejected_verbatim(
    provider: BedrockProvider, stub: Any
) -> None:
    message = "The job is in Completed state and cannot be stopped."
    stub.add_client_error("stop_model_customization_job", "ValidationException", message)
    with pytest.raises(ProviderRejectedError, match=message):
        provider.cancel(JOB)


def test_refused_credentials_name_what_to_set(provider: BedrockProvider, stub: Any) -> None:
    stub.add_client_error(
        "get_model_customization_job",
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    with pytest.raises(MissingCredentialsError, match="AWS_ACCESS_KEY_ID"):
        provider.get(JOB)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "User is not authorized to perform: iam:PassRole"),
        ("ValidationException", "Could not assume the role arn:aws:iam::123456789012:role/x"),
    ],
)
def test_iam_role_mistakes_get_a_hint(
    bedrock: Any,
    stub: Any,
    moto_url: str,
    bucket: str,
    tmp_path: Path,
    code: str,
    message: str,
) -> None:
    provider = BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket=bucket,
        bedrock_client=bedrock,
        s3_client=make_client("s3", moto_url),
    )
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    stub.add_client_error("create_model_customization_job", code, message)
    with pytest.raises(ProviderRejectedError) as caught:
        provider.start(TuningRequest(model=NOVA, training_file=training))
    text = str(caught.value)
    assert message in text, "AWS's message verbatim"
    assert "for job modelops-" in text, "the job name"
    assert "trust policy" in text and "iam:PassRole" in text, "the IAM hint"


def test_a_plain_validation_error_gets_no_iam_hint(provider: BedrockProvider, stub: Any) -> None:
    stub.add_client_error(
        "get_model_customization_job", "ValidationException", "1 validation error detected"
    )
    with pytest.raises(ProviderRejectedError) as caught:
        provider.get(JOB)
    assert "trust policy" not in str(caught.value)


def test_a_missing_bucket_is_rejected_with_a_hint(moto_url: str, tmp_path: Path) -> None:
    provider = BedrockProvider(
        region="us-east-1",
        role_arn=ROLE_ARN,
        bucket="no-such-bucket-modelops",
        s3_client=make_client("s3", moto_url),
        bedrock_client=make_client("bedrock", "http://bedrock.fake.invalid"),
    )
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    with pytest.raises(ProviderRejectedError, match="NoSuchBucket") as caught:
        provider.start(TuningRequest(model=NOVA, training_file=training))
    assert "[providers.bedrock] bucket" in str(caught.value)


def test_no_credentials_anywhere_names_the_env_vars_and_keys(
    fake_aws_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_aws_environment.delenv("AWS_ACCESS_KEY_ID")
    fake_aws_environment.delenv("AWS_SECRET_ACCESS_KEY")
    provider = BedrockProvider(region="us-east-1", role_arn=ROLE_ARN, bucket="b")
    training = write_jsonl(tmp_path / "train.jsonl", nova_records())
    with pytest.raises(MissingCredentialsError) as caught:
        provider.start(TuningRequest(model=NOVA, training_file=training))
    text = str(caught.value)
    assert all(name in text for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "profile"))


def test_an_unknown_profile_is_a_credentials_error() -> None:
    provider = BedrockProvider(region="us-east-1", profile="nobody-has-this-profile")
    with pytest.raises(MissingCredentialsError, match="nobody-has-this-profile"):
        provider.get(JOB)
