"""Streaming chat answers: ``OpenAIProvider.stream`` and the fake's server-sent events, read by
the openai SDK as it reads the real API's (``chat.completion.chunk`` objects, ``data: [DONE]``)."""

from __future__ import annotations

import openai
import pytest
from modelops_provider_openai.provider import OpenAIProvider
from modelops_provider_openai.testing import FakeOpenAI, chunk_problems

from modelops_core.finetune.provider_contract import (
    ProviderRejectedError,
    ProviderUnavailableError,
)

MODEL = "gpt-4o-mini-2024-07-18"
AZURE = "https://contoso.openai.azure.com"
SAID = [{"role": "user", "content": "one two three"}]


def test_stream_yields_the_pieces_predict_answers_with_the_same_request(
    fake: FakeOpenAI,
) -> None:
    provider = fake.provider(system_prompt="Be brief.", max_tokens=3)

    pieces = list(provider.stream(MODEL, "one two three four"))

    assert pieces == ["echo: ", "one ", "two"]  # cut at max_tokens, as predict's answer
    assert provider.predict(MODEL, ["one two three four"]) == ["echo: one two"]
    streamed, plain = fake.requests_to("POST", "/chat/completions")
    assert streamed.json == {**plain.json, "stream": True}
    assert plain.json["messages"][0] == {"role": "system", "content": "Be brief."}


def test_azure_streams_from_the_deployment_of_the_tuned_model(fake: FakeOpenAI) -> None:
    provider = fake.provider(
        base_url=None, azure_endpoint=AZURE, api_version="2025-04-01-preview",
        deployments={"ft:my-model": "capitals-prod"},
    )  # fmt: skip

    assert "".join(provider.stream("ft:my-model", "capital of country 1?")) == (
        "echo: capital of country 1?"
    )
    assert fake.requests[-1].url == (
        f"{AZURE}/openai/deployments/capitals-prod/chat/completions?api-version=2025-04-01-preview"
    )


def test_the_fake_streams_chunks_the_sdk_validates_strictly_with_usage_last(
    fake: FakeOpenAI,
) -> None:
    client = fake.client(_strict_response_validation=True)
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=SAID, stream=True, stream_options={"include_usage": True}
        )
    )

    assert [c.choices[0].delta.content for c in chunks[:-1]] == ["", "echo: ", "one ", "two ",
                                                                  "three", None]  # fmt: skip
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * 5 + ["stop"]
    assert len({(c.id, c.created) for c in chunks}) == 1
    assert [c.usage for c in chunks[:-1]] == [None] * 6
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (3, 4)
    assert all(c.obfuscation for c in chunks)
    (exchange,) = fake.exchanges
    assert exchange.body == [c.model_dump(mode="json", exclude_unset=True) for c in chunks]
    assert fake.violations == []


def test_obfuscation_is_left_out_when_the_request_says_so(fake: FakeOpenAI) -> None:
    options = {"include_obfuscation": False}
    chunks = list(
        fake.client().chat.completions.create(
            model=MODEL, messages=SAID, stream=True, stream_options=options
        )
    )
    assert [c.obfuscation for c in chunks] == [None] * 6


def test_stream_options_without_stream_is_refused_as_the_api_refuses_it(
    fake: FakeOpenAI,
) -> None:
    client = fake.client()
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=MODEL, messages=SAID, stream_options={"include_usage": True}
        )
    assert refused.value.body["param"] == "stream_options"
    assert refused.value.body["message"] == (
        "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    )
    with pytest.raises(openai.BadRequestError, match="stream_options.include_costs"):
        client.chat.completions.create(
            model=MODEL, messages=SAID, stream=True, stream_options={"include_costs": True}
        )


def test_an_unknown_model_is_refused_before_any_piece(provider: OpenAIProvider) -> None:
    pieces = provider.stream("ft:gpt-4o-mini:org:gone:x", "hi")
    with pytest.raises(ProviderRejectedError, match="does not exist or you do not have access"):
        next(pieces)


def test_an_error_event_mid_stream_is_a_provider_error_after_the_pieces_before_it(
    fake: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake.interrupt_next_stream(after=3, message="The server had an error while processing.")
    got: list[str] = []
    with pytest.raises(ProviderUnavailableError) as failed:
        got.extend(provider.stream(MODEL, "one two three"))

    assert got == ["echo: ", "one "]  # chunk 0 is the role's, with empty content
    assert str(failed.value) == (
        f"OpenAI failed while streaming (openai provider, chat.completions.create({MODEL}, "
        "stream=True)): The server had an error while processing.. The answer is incomplete; "
        "the request can be retried."
    )


def test_a_dropped_stream_is_transient(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.interrupt_next_stream(after=2)
    got: list[str] = []
    with pytest.raises(ProviderUnavailableError, match="Could not reach OpenAI"):
        got.extend(provider.stream(MODEL, "one two three"))
    assert got == ["echo: "]


def test_chunk_problems_name_unknown_fields_and_wrong_types() -> None:
    chunk = {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": "1767225600",
        "model": MODEL, "tokens": 3,
        "choices": [{"index": 0, "delta": {"text": "hi"}, "finish_reason": "done"}],
    }  # fmt: skip

    assert chunk_problems(chunk) == [
        "unknown field tokens",
        "unknown field choices[0].delta.text",
        "choices.0.finish_reason: Input should be 'stop', 'length', 'tool_calls', "
        "'content_filter' or 'function_call'",
        "created: Input should be a valid integer",
    ]
