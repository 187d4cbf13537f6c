"""Declares the ``onnx`` model flavor (imported lazily: onnx and onnxruntime load on use)."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl


@hookimpl
def modelops_register_model_flavors(registry: ComponentRegistrar) -> None:
    registry.add(
        "onnx",
        "modelops_flavor_onnx.flavor:OnnxFlavor",
        description="ONNX models (onnx.ModelProto), run on onnxruntime",
    )
