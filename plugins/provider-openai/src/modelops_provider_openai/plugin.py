"""The ``modelops-provider-openai`` plugin: declares the ``openai`` provider lazily.

Importing this module imports no ``openai``; the SDK is imported when the provider is built.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.components import ComponentRegistrar


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "openai",
        "modelops_provider_openai.provider:OpenAIProvider",
        description="OpenAI / Azure OpenAI fine-tuning (supervised, DPO) and chat inference",
    )
