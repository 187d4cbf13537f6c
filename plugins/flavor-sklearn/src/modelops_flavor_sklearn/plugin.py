"""Declares the ``sklearn`` model flavor (scikit-learn and skops load on use only)."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl


@hookimpl
def modelops_register_model_flavors(registry: ComponentRegistrar) -> None:
    registry.add(
        "sklearn",
        "modelops_flavor_sklearn.flavor:SklearnFlavor",
        description="scikit-learn estimators, stored with skops (pickle only on opt-in) or ONNX",
    )
