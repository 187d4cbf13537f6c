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
        "through the Files API (the provider does not use multi-part uploads)",
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
