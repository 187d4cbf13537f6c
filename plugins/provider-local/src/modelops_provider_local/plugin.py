"""The ``modelops-provider-local`` plugin: declares the provider ``local``."""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.components import ComponentRegistrar


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    registry.add(
        "local",
        "modelops_provider_local.provider:LocalProvider",
        description=(
            "offline CPU fine-tune: hashed n-gram logistic regression (labels) or "
            "TF-IDF retrieval (free text), jobs under <home>/providers/local"
        ),
    )
