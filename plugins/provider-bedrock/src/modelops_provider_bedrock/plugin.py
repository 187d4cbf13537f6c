"""The ``modelops-provider-bedrock`` plugin: declares the ``bedrock`` provider lazily.

Importing this module imports no ``boto3``; the SDK is imported when the provider is built.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.components import ComponentRegistrar


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "bedrock",
        "modelops_provider_bedrock.provider:BedrockProvider",
        description="AWS Bedrock model customization (Nova, Titan, Llama, Cohere) and Converse",
    )
