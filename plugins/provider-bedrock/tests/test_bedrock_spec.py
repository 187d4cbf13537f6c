"""The strict checks against botocore's models: what they refuse, the StrictStubber, the
recorded spec source, and the proof that moto's Bedrock breaks the model (why the lifecycle
tests run against FakeBedrock instead)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from bedrock_helpers import NOVA, ROLE_ARN, shared_session
from modelops_provider_bedrock.testing import (
    ExchangeRecorder,
    ServiceSpec,
    SpecViolationError,
    StrictStubber,
    recorded_source,
    spec_source,
    validation_message,
)

JOB = "modelops-demo-20261122090000-abc123"
JOB_ARN = f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{NOVA}/k2m4x8q1z7c3"
CREATE = {
    "jobName": JOB,
    "customModelName": "demo-model",
    "roleArn": ROLE_ARN,
    "baseModelIdentifier": NOVA,
    "customizationType": "FINE_TUNING",
    "trainingDataConfig": {"s3Uri": "s3://bucket-a/runs/train.jsonl"},
    "outputDataConfig": {"s3Uri": "s3://bucket-a/runs/output/"},
    "hyperParameters": {"epochCount": "2"},
}


@pytest.fixture(scope="module")
def spec() -> ServiceSpec:
    return ServiceSpec("bedrock")


def constraints(found: list[Any]) -> list[tuple[str, str]]:
    return [(v.path, v.constraint) for v in found]


def test_a_valid_create_request_has_no_violation(spec: ServiceSpec) -> None:
    assert spec.check_request("CreateModelCustomizationJob", CREATE) == []


@pytest.mark.parametrize(
    ("change", "path", "constraint"),
    [
        ({"jobName": "my_job"}, "jobName", "Member must satisfy regular expression pattern: "),
        ({"jobName": "j" * 64}, "jobName", "Member must have length less than or equal to 63"),
        ({"customModelName": "a--b"}, "customModelName", "Member must satisfy regular expression"),
        (
            {"roleArn": "arn:aws:iam::123456789012:user/me"},
            "roleArn",
            "Member must satisfy regular expression pattern: ",
        ),
        (
            {"customizationType": "FINETUNING"},
            "customizationType",
            "Member must satisfy enum value set: [FINE_TUNING, CONTINUED_PRE_TRAINING, "
            "DISTILLATION, REINFORCEMENT_FINE_TUNING, IMPORTED]",
        ),
        (
            {"trainingDataConfig": {"s3Uri": "gs://bucket-a/t.jsonl"}},
            "trainingDataConfig.s3Uri",
            "Member must satisfy regular expression pattern: ",
        ),
        (
            {"jobTags": [{"key": "", "value": "x"}]},
            "jobTags.1.member.key",
            "Member must have length greater than or equal to 1",
        ),
        (
            {"hyperParameters": {"epochCount": 2}},
            "hyperParameters.epochCount",
            "Member must be a string",
        ),
        ({"roleArn": None}, "roleArn", "Member must not be null"),
    ],
)
def test_each_constraint_of_the_model_is_checked(
    spec: ServiceSpec, change: dict[str, Any], path: str, constraint: str
) -> None:
    (violation,) = spec.check_request("CreateModelCustomizationJob", {**CREATE, **change})
    assert violation.path == path
    assert violation.constraint.startswith(constraint)


def test_ranges_and_query_members_of_list(spec: ServiceSpec) -> None:
    found = spec.check_request(
        "ListModelCustomizationJobs", {"maxResults": 1001, "sortOrder": "Newest"}
    )
    assert constraints(found) == [
        ("maxResults", "Member must have value less than or equal to 1000"),
        ("sortOrder", "Member must satisfy enum value set: [Ascending, Descending]"),
    ]


def test_the_message_is_worded_as_aws_words_it(spec: ServiceSpec) -> None:
    found = spec.check_request("CreateModelCustomizationJob", {**CREATE, "jobName": "my_job"})
    assert validation_message(found) == (
        "1 validation error detected: Value 'my_job' at 'jobName' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*"
    )


def test_responses_are_checked_for_arns_unknown_members_and_timestamps(spec: ServiceSpec) -> None:
    moto_like = {
        "jobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{JOB}",
        "jobName": JOB,
        "outputModelName": "demo-model",
        "roleArn": ROLE_ARN,
        "status": "InProgress",
        "creationTime": "2026-11-22 09:00:00",
        "endTime": "2026-11-22T10:00:00Z",
        "baseModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}",
        "trainingDataConfig": {"s3Uri": "s3://bucket-a/t.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": "s3://bucket-a/out/"},
        "jobDescription": "not in the model",
    }
    found = spec.check_response("GetModelCustomizationJob", moto_like, wire=True)
    assert [v.path for v in found] == ["jobArn", "creationTime", "jobDescription", "endTime"]


@pytest.mark.parametrize(
    ("operation", "status", "code", "problem"),
    [
        (
            "CreateModelCustomizationJob",
            200,
            None,
            "the answer is HTTP 201 in the bedrock model, not 200",
        ),
        ("GetModelCustomizationJob", 400, "ResourceNotFoundException", "is HTTP 404"),
        ("GetModelCustomizationJob", 400, "ThrottlingException", "is HTTP 429"),
        ("GetModelCustomizationJob", 400, "AccessDeniedException", "is HTTP 403"),
        ("ListModelCustomizationJobs", 400, "ConflictException", "enum value set: [AccessDenied"),
    ],
)
def test_status_codes_come_from_the_model(
    spec: ServiceSpec, operation: str, status: int, code: str | None, problem: str
) -> None:
    (violation,) = spec.check_status(operation, status, code)
    assert problem in violation.constraint


def test_the_strict_stubber_refuses_what_aws_never_answers(bedrock: Any) -> None:
    with StrictStubber(bedrock) as stub:
        with pytest.raises(SpecViolationError, match="ThrottlingException is HTTP 429"):
            stub.add_client_error("get_model_customization_job", "ThrottlingException", "x", 400)
        with pytest.raises(SpecViolationError, match="AccessDeniedException is HTTP 403"):
            stub.add_client_error("get_model_customization_job", "AccessDeniedException", "x", 400)
        with pytest.raises(SpecViolationError, match="botocore never reads"):
            stub.add_client_error(
                "get_model_customization_job",
                "ThrottlingException",
                "x",
                response_meta={"HTTPHeaders": {"Retry-After": "7"}},
            )
        with pytest.raises(SpecViolationError, match="at 'jobArn'"):
            stub.add_response(
                "create_model_customization_job",
                {"jobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{JOB}"},
            )
        stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN})
        answer = bedrock.create_model_customization_job(**CREATE)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201


def test_the_spec_source_names_botocore_and_the_model_files() -> None:
    import botocore

    source = spec_source()
    assert source.botocore_version == botocore.__version__
    assert source.models["bedrock"]["apiVersion"] == "2023-04-20"
    assert source.models["s3"]["file"].startswith("botocore/data/s3/2006-03-01/service-2.json")
    recorded = recorded_source()
    assert sorted(recorded["models"]) == ["bedrock", "s3"]
    if recorded["models"]["bedrock"]["sha256"] != source.models["bedrock"]["sha256"]:
        warnings.warn(
            f"botocore {source.botocore_version}'s bedrock model differs from the one the suite "
            f"was checked against (botocore {recorded['botocore']}); after a clean run, record "
            "it: python -m modelops_provider_bedrock.testing.spec",
            stacklevel=1,
        )


def test_strict_mode_flags_what_moto_bedrock_answers(moto_url: str, strict: Any) -> None:
    """The examples of the issue, found by the recorder in moto's answers: create answered 200
    (the model says 201), an unknown job 400 (404), a job ARN that fails the model's pattern,
    timestamps that are not ISO-8601, and endTime on a job still InProgress."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    recorder = ExchangeRecorder()
    client = recorder.attach(
        session.client(
            "bedrock", endpoint_url=moto_url, config=Config(retries={"total_max_attempts": 1})
        )
    )
    client.create_model_customization_job(**{**CREATE, "jobName": "moto-probe-job"})
    client.get_model_customization_job(jobIdentifier="moto-probe-job")
    with pytest.raises(Exception, match="ResourceNotFound|ValidationException"):
        client.get_model_customization_job(jobIdentifier="no-such-job-4242")
    found = {(v.operation, v.path, v.constraint) for v in recorder.violations}
    assert (
        "CreateModelCustomizationJob",
        "HTTPStatusCode",
        "the answer is HTTP 201 in the bedrock model, not 200",
    ) in found
    assert (
        "GetModelCustomizationJob",
        "HTTPStatusCode",
        "ResourceNotFoundException is HTTP 404 in the bedrock model, not 400",
    ) in found
    paths = {(v.operation, v.path) for v in recorder.violations}
    assert {
        ("CreateModelCustomizationJob", "jobArn"),
        ("GetModelCustomizationJob", "jobArn"),
        ("GetModelCustomizationJob", "creationTime"),
        ("GetModelCustomizationJob", "endTime"),
    } <= paths, sorted(paths)
    assert not strict.violations, "the probe's own client is not the shared session's"


def test_strict_mode_is_on_for_the_shared_session(strict: ExchangeRecorder, fake: Any) -> None:
    client = fake.client(shared_session())
    before = len(strict.exchanges)
    client.list_model_customization_jobs(maxResults=5)
    assert [(e.operation, e.status) for e in strict.exchanges[before:]] == [
        ("ListModelCustomizationJobs", 200)
    ]
    with strict.expected() as seen, pytest.raises(Exception, match="ValidationException"):
        client.list_model_customization_jobs(maxResults=5000)
    assert [(v.where, v.path) for v in seen] == [("request", "maxResults")]
