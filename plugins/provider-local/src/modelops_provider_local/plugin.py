"""The ``modelops-provider-local`` plugin: declares the provider ``local`` and the model
flavor ``local`` (its trained models in the registry)."""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.protocols import DatasetLimits, ExportShape, ProviderProfile

#: what the core knows of the provider without building it: it claims ``local:<kind>`` model
#: names, takes one example or more of any length, as ``{"prompt", "completion"}`` records.
PROFILE = ProviderProfile(
    models=("local:*",),
    limits=DatasetLimits(min_examples=1, max_tokens=0, source="no limit (0 = unchecked)"),
    exports=(ExportShape("local", base="prompt_completion"),),
)


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "local",
        "modelops_provider_local.provider:LocalProvider",
        description=(
            "offline CPU fine-tune: hashed n-gram logistic regression (labels) or "
            "TF-IDF retrieval (free text), jobs under <home>/providers/local"
        ),
        profile=PROFILE,
    )


@hookimpl
def modelops_register_model_flavors(registry: ComponentRegistrar) -> None:
    registry.add(
        "local",
        "modelops_provider_local.flavor:LocalModelFlavor",
        description="the local provider's models (hashed n-gram classifier, TF-IDF retrieval)",
    )
