"""The ``modelops-provider-vertex`` plugin: declares the ``vertex`` provider lazily.

Importing this module imports no Google library; the SDKs are imported when the provider is
built and used.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.protocols import DatasetLimits, ExportShape, ProviderProfile

#: what the core knows of the provider without building it (read by ``FineTuningJob``,
#: ``modelops dataset validate --provider vertex`` and ``convert --to vertex``).
PROFILE = ProviderProfile(
    models=("gemini-*",),
    limits=DatasetLimits(
        min_examples=16,
        max_tokens=131_072,
        models={"gemini-2.5": 131_072, "gemini-2.0": 131_072, "gemini-1.5": 32_000},
        source="Vertex AI Gemini tuning docs: 131,072 input+output tokens per example "
        "(Gemini 2.x, also preference tuning), 32,000 for Gemini 1.5; minimum 16 examples "
        "(Gemini supervised tuning data guide)",
    ),
    exports=(
        ExportShape("vertex", base="chat", converter="modelops_provider_vertex.export:to_vertex"),
        ExportShape(
            "vertex-preference",
            base="preference",
            converter="modelops_provider_vertex.export:to_vertex_preference",
        ),
    ),
)


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "vertex",
        "modelops_provider_vertex.provider:VertexProvider",
        description="Vertex AI Gemini tuning (supervised, preference) via google-genai, "
        "training data staged in GCS; generateContent inference",
        profile=PROFILE,
    )
