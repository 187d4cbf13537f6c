"""Streaming answers: ``BedrockProvider.stream`` on ConverseStream, against
``FakeBedrockRuntime``'s event stream in AWS's binary framing (decoded by botocore itself)."""

from __future__ import annotations

from typing import Any

import pytest
from bedrock_helpers import NOVA, REGION, shared_session
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import ExchangeRecorder, FakeBedrockRuntime, encode_event

from modelops_core.finetune.provider_contract import (
    ProviderRejectedError,
    ProviderUnavailableError,
)

CUSTOM = f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{NOVA}/p9d3w6r2t5y8"
SERVED = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7x2k9q4m1z"
ASKED = "What is the capital of France?"


@pytest.fixture
def runtime() -> Any:
    built = FakeBedrockRuntime(answers={ASKED: "Paris, on the Seine"})
    yield built
    assert built.violations == []


def provider_on(runtime: FakeBedrockRuntime, **options: Any) -> BedrockProvider:
    return BedrockProvider(
        region=REGION, runtime_client=runtime.client(shared_session()),
        provisioned_models={CUSTOM: SERVED}, **options,
    )  # fmt: skip


def test_stream_yields_what_predict_answers_through_the_provisioned_throughput(
    runtime: FakeBedrockRuntime,
) -> None:
    provider = provider_on(runtime, system_prompt="Answer with the capital city.", max_tokens=3)

    pieces = list(provider.stream(CUSTOM, ASKED))

    assert pieces == ["Paris, ", "on ", "the"]  # cut at maxTokens, as predict's answer
    assert provider.predict(CUSTOM, [ASKED]) == ["Paris, on the"]
    streamed, plain = runtime.received
    assert (streamed.operation, plain.operation) == ("ConverseStream", "Converse")
    assert (
        streamed.params
        == plain.params
        == {
            "modelId": SERVED,
            "messages": [{"role": "user", "content": [{"text": ASKED}]}],
            "system": [{"text": "Answer with the capital city."}],
            "inferenceConfig": {"maxTokens": 3},
        }
    )


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ("throttlingException", "ThrottlingException"),
        ("modelStreamErrorException", "ModelStreamErrorException"),
        ("serviceUnavailableException", "ServiceUnavailableException"),
    ],
)
def test_an_exception_event_mid_stream_is_transient_after_the_pieces_before_it(
    runtime: FakeBedrockRuntime, event: str, code: str
) -> None:
    runtime.interrupt_next_stream(after=2, exception=event, message="Try again.")
    got: list[str] = []
    with pytest.raises(ProviderUnavailableError) as failed:
        got.extend(provider_on(runtime).stream(CUSTOM, ASKED))

    assert got == ["Paris, "]  # event 0 is messageStart
    assert str(failed.value) == (
        "Bedrock is unavailable or throttling (bedrock provider, bedrock-runtime.converse_stream "
        f"with {SERVED}, {code}): Try again. [transient: retry later]"
    )


def test_a_validation_event_mid_stream_is_a_rejection(runtime: FakeBedrockRuntime) -> None:
    runtime.interrupt_next_stream(after=1, exception="validationException")
    with pytest.raises(ProviderRejectedError, match=r"ValidationException\): The input fails"):
        list(provider_on(runtime).stream(CUSTOM, ASKED))


def test_a_broken_connection_mid_stream_is_transient(runtime: FakeBedrockRuntime) -> None:
    runtime.interrupt_next_stream(after=3, exception=None)
    got: list[str] = []
    with pytest.raises(ProviderUnavailableError) as failed:
        got.extend(provider_on(runtime).stream(CUSTOM, ASKED))

    assert got == ["Paris, ", "on "]
    assert str(failed.value) == (
        f"The stream from Bedrock broke (bedrock-runtime.converse_stream with {SERVED}): "
        "Connection broken: IncompleteRead(0 bytes read, more expected). The answer is "
        "incomplete; the request can be retried."
    )


def test_a_custom_model_without_provisioned_throughput_is_refused_before_any_call(
    runtime: FakeBedrockRuntime,
) -> None:
    provider = BedrockProvider(region=REGION, runtime_client=runtime.client(shared_session()))
    with pytest.raises(ProviderRejectedError, match="provisioned_models"):
        next(provider.stream(CUSTOM, ASKED))
    assert runtime.received == []


def test_a_request_outside_the_model_is_refused_as_aws_refuses_it(
    runtime: FakeBedrockRuntime, strict: ExchangeRecorder
) -> None:
    provider = provider_on(runtime, system_prompt="")
    with strict.expected() as seen, pytest.raises(ProviderRejectedError) as refused:
        next(provider.stream("not a model id!", ASKED))
    assert [(v.operation, v.path) for v in seen] == [("ConverseStream", "modelId")]
    assert "ValidationException, HTTP 400" in str(refused.value)
    assert "Value 'not a model id!' at 'modelId' failed to satisfy constraint" in str(refused.value)


def test_an_unknown_exception_event_cannot_be_scripted(runtime: FakeBedrockRuntime) -> None:
    with pytest.raises(ValueError, match="'throttlingException'"):
        runtime.interrupt_next_stream(after=1, exception="accessDeniedException")


def test_encoded_events_decode_with_botocore_and_their_checksums_hold() -> None:
    from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

    headers = {":message-type": "event", ":event-type": "messageStop"}
    message = encode_event(headers, {"stopReason": "end_turn"})
    buffer = EventStreamBuffer()
    buffer.add_data(message)
    (decoded,) = list(buffer)
    assert decoded.headers == headers
    assert decoded.payload == b'{"stopReason": "end_turn"}'

    damaged = EventStreamBuffer()
    damaged.add_data(message[:-5] + b"X" + message[-4:])  # one payload byte changed
    with pytest.raises(ChecksumMismatch):
        list(damaged)
