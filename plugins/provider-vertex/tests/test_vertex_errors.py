"""API failures become typed modelops errors: transient, rejected, or missing credentials."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
from modelops_provider_vertex.errors import translated
from modelops_provider_vertex.provider import VertexProvider
from modelops_provider_vertex.testing import FakeVertex, GcsEmulator

from modelops_core.finetune.provider_contract import (
    MissingCredentialsError,
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningRequest,
)

MODEL = "gemini-2.5-flash"
JOB = "projects/123456789012/locations/us-central1/tuningJobs/42"


def test_429_is_unavailable_with_the_retry_after_google_sent(
    provider: VertexProvider, fake: FakeVertex
) -> None:
    message = "Quota exceeded for aiplatform.googleapis.com/tuning_jobs_per_minute."
    fake.fail_next(429, message, headers={"Retry-After": "7"})
    with pytest.raises(ProviderUnavailableError, match="Quota exceeded") as caught:
        provider.get(JOB)
    assert caught.value.retry_after == 7.0
    assert JOB in str(caught.value) and "RESOURCE_EXHAUSTED" in str(caught.value)


def test_503_is_unavailable_without_retry_after(provider: VertexProvider, fake: FakeVertex) -> None:
    fake.fail_next(503, "The service is currently unavailable.")
    with pytest.raises(ProviderUnavailableError, match="currently unavailable") as caught:
        provider.list_jobs()
    assert caught.value.retry_after is None


def test_400_keeps_googles_message_verbatim_with_the_job_name(
    provider: VertexProvider, fake: FakeVertex
) -> None:
    message = "Request contains an invalid argument: job `tuningJobs/42` cannot be paused."
    fake.fail_next(400, message, path=":cancel")
    with pytest.raises(ProviderRejectedError) as caught:
        provider.cancel(JOB)
    text = str(caught.value)
    assert message in text and f"for job {JOB}" in text and "HTTP 400 INVALID_ARGUMENT" in text


def test_an_unknown_job_is_rejected_naming_it(provider: VertexProvider) -> None:
    with pytest.raises(ProviderRejectedError, match="HTTP 404 NOT_FOUND") as caught:
        provider.get("777")
    assert "tuningJobs/777" in str(caught.value)


def test_403_says_which_roles_are_needed(provider: VertexProvider, fake: FakeVertex) -> None:
    denied = "Permission 'aiplatform.tuningJobs.get' denied on resource (or it may not exist)."
    fake.fail_next(403, denied)
    with pytest.raises(ProviderRejectedError, match="roles/aiplatform.user") as caught:
        provider.get(JOB)
    assert denied in str(caught.value)


def test_an_unsupported_base_model_is_refused_and_its_staged_file_removed(
    provider: VertexProvider,
    fake: FakeVertex,
    gcs_emulator: GcsEmulator,
    bucket: str,
    training_file: str,
) -> None:
    with (
        fake.expect_violations() as refused,
        pytest.raises(ProviderRejectedError, match="Base model gemini-0.1 is not supported"),
    ):
        provider.start(TuningRequest(model="gemini-0.1", training_file=training_file))
    assert [e.status for e in refused] == [400]
    assert gcs_emulator.objects(bucket) == []
    assert fake.jobs == {}


def test_a_refused_token_names_the_env_var_and_config_key(
    fake: FakeVertex, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    from google.oauth2.credentials import Credentials

    provider = fake.provider(credentials=Credentials(token="expired"))
    with pytest.raises(MissingCredentialsError, match="invalid authentication") as caught:
        provider.list_jobs()
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(caught.value)
    assert "[providers.vertex]" in str(caught.value)


def test_no_application_default_credentials_names_what_to_set(fake: FakeVertex) -> None:
    provider = fake.provider(credentials=None)
    with pytest.raises(MissingCredentialsError) as caught:
        provider.get(JOB)
    message = str(caught.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message and "credentials" in message
    assert "gcloud auth application-default login" in message


def test_a_missing_credentials_file_is_named(fake: FakeVertex, tmp_path: Path) -> None:
    provider = fake.provider(credentials=str(tmp_path / "key.json"))
    with pytest.raises(MissingCredentialsError, match="key.json, which is not a file"):
        provider.get(JOB)


def test_a_broken_credentials_file_is_named(fake: FakeVertex, tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "project_id": "p"}))
    provider = fake.provider(credentials=str(key))
    with pytest.raises(MissingCredentialsError, match="is not usable"):
        provider.get(JOB)


def test_the_project_comes_from_the_environment_or_is_asked_for(
    fake: FakeVertex, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = fake.provider(project=None)
    with pytest.raises(ProviderError, match=r"\[providers.vertex\] project") as caught:
        provider.get("42")
    assert "GOOGLE_CLOUD_PROJECT" in str(caught.value)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "fake-project")
    assert fake.provider(project=None).job_name("42") == (
        "projects/fake-project/locations/us-central1/tuningJobs/42"
    )


def test_start_without_a_bucket_says_what_to_set(fake: FakeVertex, training_file: str) -> None:
    provider = fake.provider()
    with pytest.raises(ProviderError, match=r"\[providers.vertex\] bucket"):
        provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert fake.requests == []


def test_a_missing_bucket_is_rejected_with_how_to_create_it(
    fake: FakeVertex, gcs_emulator: GcsEmulator, training_file: str
) -> None:
    provider = fake.provider(bucket="no-such-bucket", storage_endpoint=gcs_emulator.endpoint)
    with pytest.raises(ProviderRejectedError, match="gcloud storage buckets create") as caught:
        provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert "gs://no-such-bucket" in str(caught.value)
    assert fake.requests_to("POST", "/tuningJobs") == []


def test_a_dropped_connection_is_unavailable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("Connection refused", request=request)

    fake = FakeVertex()
    provider = fake.provider(http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)))
    with pytest.raises(ProviderUnavailableError, match="Could not reach Google Cloud"):
        provider.get(JOB)


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        ("ServiceUnavailable", ProviderUnavailableError, "backend error"),
        ("Forbidden", ProviderRejectedError, "HTTP 403"),
        ("Unauthorized", MissingCredentialsError, "GOOGLE_APPLICATION_CREDENTIALS"),
    ],
)
def test_storage_errors_are_translated_too(
    raised: str, expected: type[Exception], message: str
) -> None:
    from google.api_core import exceptions

    error = getattr(exceptions, raised)("backend error")
    with pytest.raises(expected, match=message), translated("storage upload"):
        raise error


def test_a_missing_training_file_is_named(provider: VertexProvider, tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="does not exist; export the dataset first"):
        provider.start(TuningRequest(model=MODEL, training_file=str(tmp_path / "none.jsonl")))
