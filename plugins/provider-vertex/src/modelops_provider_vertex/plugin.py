"""The ``modelops-provider-vertex`` plugin: declares the ``vertex`` provider lazily.

Importing this module imports no Google library; the SDKs are imported when the provider is
built and used.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.components import ComponentRegistrar


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "vertex",
        "modelops_provider_vertex.provider:VertexProvider",
        description="Vertex AI Gemini tuning (supervised, preference) via google-genai, "
        "training data staged in GCS; generateContent inference",
    )
