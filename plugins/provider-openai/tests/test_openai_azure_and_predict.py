"""Azure OpenAI through configuration, and predictions with chat completions."""

from __future__ import annotations

import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import FakeOpenAI

from modelops_core.finetune.provider_contract import MissingCredentialsError, TuningRequest

MODEL = "gpt-4o-mini-2024-07-18"
AZURE = "https://contoso.openai.azure.com"


def azure_provider(fake: FakeOpenAI, **options: object) -> OpenAIProvider:
    settings: dict[str, object] = {
        "base_url": None,
        "azure_endpoint": AZURE,
        "api_version": "2025-04-01-preview",
    }
    settings.update(options)
    return fake.provider(**settings)


def test_azure_fine_tuning_goes_to_the_resource_with_the_api_version(
    fake: FakeOpenAI, training_file: str
) -> None:
    provider = azure_provider(fake)
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    provider.get(job.id)
    urls = [request.url for request in fake.requests]
    assert urls[0] == f"{AZURE}/openai/files?api-version=2025-04-01-preview"
    assert urls[1] == f"{AZURE}/openai/fine_tuning/jobs?api-version=2025-04-01-preview"
    assert urls[2] == f"{AZURE}/openai/fine_tuning/jobs/{job.id}?api-version=2025-04-01-preview"
    assert all(r.headers["api-key"] == "sk-test" for r in fake.requests)
    assert all("authorization" not in r.headers for r in fake.requests)


def test_azure_predict_calls_the_deployment_of_the_tuned_model(
    fake: FakeOpenAI, training_file: str
) -> None:
    provider = azure_provider(fake, deployments={"ft:my-model": "capitals-prod"})
    assert provider.predict("ft:my-model", ["capital of country 1?"]) == [
        "echo: capital of country 1?"
    ]
    request = fake.requests[-1]
    assert request.url == (
        f"{AZURE}/openai/deployments/capitals-prod/chat/completions?api-version=2025-04-01-preview"
    )
    assert request.json["model"] == "capitals-prod"


def test_azure_key_comes_from_azure_openai_api_key(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-test")
    assert azure_provider(fake, api_key=None).list_jobs() == []
    with pytest.raises(MissingCredentialsError, match="AZURE_OPENAI_API_KEY or OPENAI_API_KEY"):
        monkeypatch.delenv("AZURE_OPENAI_API_KEY")
        azure_provider(fake, api_key=None).list_jobs()


def test_azure_needs_an_api_version_and_no_base_url() -> None:
    with pytest.raises(ValueError, match="api_version"):
        OpenAIProvider(api_key="k", azure_endpoint=AZURE)
    with pytest.raises(ValueError, match="mutually exclusive"):
        OpenAIProvider(api_key="k", azure_endpoint=AZURE, api_version="v", base_url="http://x")


def test_a_tuned_model_answers_what_it_was_trained_on(
    provider: OpenAIProvider, fake: FakeOpenAI, training_file: str
) -> None:
    job = provider.start(TuningRequest(model=MODEL, training_file=training_file))
    while not (done := provider.get(job.id)).status.finished:
        pass
    assert done.fine_tuned_model is not None
    outputs = provider.predict(done.fine_tuned_model, ["capital of country 4?", "hello there"])
    assert outputs == ["city 4", "echo: hello there"]
    sent = fake.requests_to("POST", "/chat/completions")
    assert sent[0].json == {
        "model": done.fine_tuned_model,
        "messages": [{"role": "user", "content": "capital of country 4?"}],
        "temperature": 0,
        "max_completion_tokens": 256,
    }


def test_predict_sends_the_system_prompt_and_bounds_the_output(fake: FakeOpenAI) -> None:
    provider = fake.provider(system_prompt="Be brief.", max_tokens=2)
    assert provider.predict(MODEL, ["one two three four"]) == ["echo: one"]
    request = fake.requests[-1].json
    assert request["messages"][0] == {"role": "system", "content": "Be brief."}
    assert request["max_completion_tokens"] == 2


def test_predict_with_an_unknown_model_is_rejected_verbatim(provider: OpenAIProvider) -> None:
    from modelops_core.finetune.provider_contract import ProviderRejectedError

    with pytest.raises(
        ProviderRejectedError, match="The model `ft:nope` does not exist or you do not have access"
    ):
        provider.predict("ft:nope", ["hi"])


def test_closing_a_provider_leaves_an_injected_http_client_open(fake: FakeOpenAI) -> None:
    shared = fake.http_client()
    first = fake.provider(http_client=shared)
    first.predict(MODEL, ["hello"])
    first.close()
    second = fake.provider(http_client=shared)  # a host sharing one client between steps
    assert second.predict(MODEL, ["again"]) == ["echo: again"]
    second.close()
