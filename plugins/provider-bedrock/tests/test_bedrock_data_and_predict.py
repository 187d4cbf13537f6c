"""Training-file formats per model family, validation, and Converse inference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import NOVA, TITAN, make_client, nova_records, prompt_records, write_jsonl
from modelops_provider_bedrock.hyperparameters import format_for_model
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import StrictStubber

from modelops_core.finetune.provider_contract import ProviderRejectedError
from modelops_core.testing import packages_imported_by


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("amazon.nova-lite-v1:0:300k", "bedrock-conversation"),
        ("us.amazon.nova-pro-v1:0:300k", "bedrock-conversation"),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
            "bedrock-conversation",
        ),
        ("amazon.titan-text-express-v1:0:8k", "bedrock"),
        ("meta.llama3-1-8b-instruct-v1:0:128k", "bedrock"),
        ("cohere.command-light-text-v14:7:4k", "bedrock"),
    ],
)
def test_nova_reads_conversations_and_the_others_prompt_completion(
    model: str, expected: str
) -> None:
    assert format_for_model(model) == expected


def test_validate_accepts_valid_nova_data(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", nova_records())
    assert BedrockProvider().validate(path, "supervised", NOVA) == []


def test_validate_reports_too_few_examples_and_bad_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", prompt_records(5))
    problems = BedrockProvider(data_format="bedrock").validate(path, "supervised", TITAN)
    assert problems and any("32" in problem for problem in problems), problems


def test_validate_says_which_data_format_the_model_needs(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", nova_records())
    chosen = BedrockProvider(data_format="bedrock-conversation")
    problems = chosen.validate(path, "supervised", TITAN)
    assert any('data_format = "bedrock"' in problem for problem in problems), problems


def test_without_a_data_format_the_export_format_follows_the_model() -> None:
    provider = BedrockProvider()
    assert provider.export_format_for("supervised", model=TITAN) == "bedrock"
    assert provider.export_format_for("supervised", model=NOVA) == "bedrock-conversation"
    assert BedrockProvider(data_format="bedrock").export_format_for("supervised", model=NOVA) == (
        "bedrock"
    )


def test_validate_refuses_preference_tuning(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", nova_records())
    (problem,) = BedrockProvider().validate(path, "preference", NOVA)
    assert "supervised data only" in problem


def test_an_unknown_data_format_is_refused_at_build() -> None:
    with pytest.raises(ValueError, match="data_format"):
        BedrockProvider(data_format="openai")


def test_predict_calls_converse_through_the_provisioned_throughput() -> None:
    custom = f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{NOVA}/p9d3w6r2t5y8"
    served = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7x2k9q4m1z"
    runtime = make_client("bedrock-runtime")
    provider = BedrockProvider(
        region="us-east-1",
        runtime_client=runtime,
        provisioned_models={custom: served},
        system_prompt="Answer with the capital city.",
        max_tokens=16,
    )
    with StrictStubber(runtime) as stub:
        for question, answer in (("France?", "Paris"), ("Italy?", "Rome")):
            stub.add_response(
                "converse",
                _converse_answer(answer),
                {
                    "modelId": served,
                    "messages": [{"role": "user", "content": [{"text": question}]}],
                    "system": [{"text": "Answer with the capital city."}],
                    "inferenceConfig": {"maxTokens": 16},
                },
            )
        assert provider.predict(custom, ["France?", "Italy?"]) == ["Paris", "Rome"]
        stub.assert_no_pending_responses()


def test_predict_refuses_a_custom_model_without_provisioned_throughput() -> None:
    """Converse's model refuses a custom-model ARN as modelId: say what to configure."""
    custom = f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{NOVA}/p9d3w6r2t5y8"
    runtime = make_client("bedrock-runtime")
    provider = BedrockProvider(region="us-east-1", runtime_client=runtime)
    with StrictStubber(runtime), pytest.raises(ProviderRejectedError) as caught:
        provider.predict(custom, ["France?"])
    assert f'provisioned_models = {{ "{custom}" = ' in str(caught.value)


def _converse_answer(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
        "metrics": {"latencyMs": 10},
    }


def test_importing_the_plugin_imports_no_boto3() -> None:
    imported = packages_imported_by(
        "import modelops_provider_bedrock.plugin, modelops_provider_bedrock.provider"
    )
    assert not imported & {"boto3", "botocore"}
