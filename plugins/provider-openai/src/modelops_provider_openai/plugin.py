"""The ``modelops-provider-openai`` plugin: declares the ``openai`` provider lazily.

Importing this module imports no ``openai``; the SDK is imported when the provider is built.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.protocols import DatasetLimits, ExportShape, ProviderProfile

#: what the core knows of the provider without building it (read by ``FineTuningJob``,
#: ``modelops dataset validate --provider openai`` and ``convert --to openai``).
PROFILE = ProviderProfile(
    models=("gpt-*", "ft:gpt-*"),
    limits=DatasetLimits(
        min_examples=10,
        max_tokens=65_536,
        models={
            "gpt-4o-mini": 65_536,
            "gpt-4o": 65_536,
            "gpt-4.1": 65_536,
            "gpt-3.5-turbo": 16_385,
        },
        max_file_bytes=512 * 1024 * 1024,
        source="OpenAI fine-tuning guide: at least 10 examples; 65,536 tokens per example "
        "for gpt-4o-mini / gpt-4o / gpt-4.1, 16,385 for gpt-3.5-turbo; files up to 512 MB "
        "through the Files API (the provider does not use multi-part uploads); tokens as "
        "tiktoken counts them (o200k_base for the gpt-4o and gpt-4.1 families, cl100k_base "
        "for gpt-4 and gpt-3.5-turbo), per message as OpenAI's cookbook counts them; message "
        "keys as its data-prep checks take them (role, content, name, weight, function_call, "
        "and tool_calls / tool_call_id for tool use)",
        # counted with tiktoken when it is installed (the ``tiktoken`` extra of this plugin)
        tokenizer="tiktoken:o200k_base",
        tokenizers={
            "gpt-4o": "tiktoken:o200k_base",
            "gpt-4.1": "tiktoken:o200k_base",
            "gpt-4": "tiktoken:cl100k_base",
            "gpt-3.5-turbo": "tiktoken:cl100k_base",
            "babbage-002": "tiktoken:cl100k_base",
            "davinci-002": "tiktoken:cl100k_base",
        },
        strict_message_keys=True,
    ),
    exports=(
        # {"messages": [...]} from chat, prompt/completion and preference (the preferred answer)
        ExportShape("openai", base="chat"),
        # {"input", "preferred_output", "non_preferred_output"} from preference records
        ExportShape("openai-dpo", base="preference"),
    ),
)


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "openai",
        "modelops_provider_openai.provider:OpenAIProvider",
        description="OpenAI / Azure OpenAI fine-tuning (supervised, DPO) and chat inference",
        profile=PROFILE,
    )
