"""The ``modelops-provider-bedrock`` plugin: declares the ``bedrock`` provider lazily.

Importing this module imports no ``boto3``; the SDK is imported when the provider is built.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.protocols import DatasetLimits, ExportShape, ProviderProfile

#: model families Bedrock customizes.
_FAMILIES = ("amazon.nova-*", "amazon.titan-*", "meta.llama*", "cohere.*")
#: cross-region inference profiles put a region group before the model id.
_REGION_GROUPS = ("", "us.", "eu.", "apac.", "global.")

#: the model names it claims: every family in every region group, and ARNs.
_MODELS: tuple[str, ...] = (
    *(group + family for group in _REGION_GROUPS for family in _FAMILIES),
    "arn:aws:bedrock:*",  # foundation-model and custom-model ARNs
)

#: what the core knows of the provider without building it (read by ``FineTuningJob``,
#: ``modelops dataset validate --provider bedrock`` and ``convert --to bedrock``).
PROFILE = ProviderProfile(
    models=_MODELS,
    limits=DatasetLimits(
        min_examples=32,
        max_tokens=32_000,
        models={
            "amazon.titan-text-lite": 4_096,
            "amazon.titan-text-express": 4_096,
            "anthropic.claude-3-haiku": 32_000,
            "amazon.nova": 32_000,
        },
        source="conservative choice (not verified against the current AWS quota page): "
        "32 examples minimum and 32,000 tokens per example (Claude 3 Haiku), 4,096 for "
        "Titan Text",
    ),
    exports=(
        # {"prompt", "completion"} from any format (Titan, Cohere, Llama)
        ExportShape("bedrock", base="prompt_completion"),
        # bedrock-conversation-2024 {"schemaVersion", "system", "messages"} (Nova)
        ExportShape(
            "bedrock-conversation",
            base="chat",
            converter="modelops_provider_bedrock.export:to_conversation",
        ),
    ),
)


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "bedrock",
        "modelops_provider_bedrock.provider:BedrockProvider",
        description="AWS Bedrock model customization (Nova, Titan, Llama, Cohere) and Converse",
        profile=PROFILE,
    )
