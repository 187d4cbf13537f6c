"""API failures become typed modelops errors: transient, rejected, or missing credentials."""

from __future__ import annotations

import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import FakeOpenAI

from modelops_core.finetune.provider_contract import (
    MissingCredentialsError,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningRequest,
)

MODEL = "gpt-4o-mini-2024-07-18"


def test_429_is_unavailable_with_the_retry_after_the_api_sent(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    fake.fail_next(
        429,
        "Rate limit reached for requests",
        type="requests",
        code="rate_limit_exceeded",
        headers={"retry-after": "7"},
    )
    with pytest.raises(ProviderUnavailableError, match="Rate limit reached") as caught:
        provider.get("ftjob-abc")
    assert caught.value.retry_after == 7.0
    assert "ftjob-abc" in str(caught.value)


def test_5xx_is_unavailable_without_retry_after(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    fake.fail_next(503, "The server is overloaded or not ready yet.", type="server_error")
    with pytest.raises(ProviderUnavailableError, match="overloaded") as caught:
        provider.list_jobs()
    assert caught.value.retry_after is None


def test_an_exhausted_quota_is_a_rejection_not_a_wait(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    message = "You exceeded your current quota, please check your plan and billing details."
    fake.fail_next(429, message, type="insufficient_quota", code="insufficient_quota")
    with pytest.raises(ProviderRejectedError) as caught:
        provider.get("ftjob-abc")
    assert message in str(caught.value)


def test_400_keeps_openais_message_verbatim_with_the_job_id(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    message = "Fine-tuning job ftjob-xyz cannot be cancelled: it is being deleted (see `docs`)."
    fake.fail_next(400, message, path="/fine_tuning/jobs/ftjob-xyz/cancel")
    with pytest.raises(ProviderRejectedError) as caught:
        provider.cancel("ftjob-xyz")
    text = str(caught.value)
    assert message in text and "for job ftjob-xyz" in text and "HTTP 400" in text


def test_an_unknown_job_is_rejected_naming_it(provider: OpenAIProvider) -> None:
    with pytest.raises(ProviderRejectedError, match="ftjob-missing not found") as caught:
        provider.get("ftjob-missing")
    assert "HTTP 404" in str(caught.value)


def test_a_wrong_key_names_the_env_var(fake: FakeOpenAI) -> None:
    provider = fake.provider(api_key="sk-wrong-key-1234")
    with pytest.raises(MissingCredentialsError, match="Incorrect API key") as caught:
        provider.list_jobs()
    assert "OPENAI_API_KEY" in str(caught.value)


def test_no_key_anywhere_names_the_env_var_and_the_config_key(
    fake: FakeOpenAI, training_file: str
) -> None:
    provider = fake.provider(api_key=None)
    with pytest.raises(MissingCredentialsError) as caught:
        provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert "OPENAI_API_KEY" in str(caught.value) and "api_key" in str(caught.value)
    assert fake.requests == []


def test_the_key_comes_from_openai_api_key_when_not_configured(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert fake.provider(api_key=None).list_jobs() == []
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-test"


def test_a_dropped_connection_is_unavailable() -> None:
    import httpx2

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    provider = OpenAIProvider(
        api_key="sk-test",
        base_url="http://fake.openai.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)),
    )
    with pytest.raises(ProviderUnavailableError, match="Could not reach OpenAI"):
        provider.get("ftjob-abc")


def test_strict_mode_catches_a_fake_that_drifts_from_the_spec(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    """The point of strict mode: a response the real API could not send fails the test."""
    from modelops_provider_openai.testing import SpecViolationError

    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    fake.jobs[job.id]["status"] = "validating_files_v2"
    fake.jobs[job.id]["usage_metrics"] = None  # a field the spec's FineTuningJob lacks
    provider.get(job.id)  # the SDK's lenient parsing takes it, as in production
    with pytest.raises(SpecViolationError, match="validating_files_v2") as caught:
        fake.check()
    assert "Unknown parameter: 'usage_metrics'" in str(caught.value)
    assert [(v.side, v.param, v.code) for v in fake.take_violations()] == [
        ("response", "usage_metrics", "unknown_parameter"),
        ("response", "status", "invalid_value"),
    ]
    fake.check()  # nothing left once taken
