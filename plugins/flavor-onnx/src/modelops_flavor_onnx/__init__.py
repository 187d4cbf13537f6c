"""The ``onnx`` model flavor: ONNX models stored as their bytes, run on onnxruntime."""

from modelops_flavor_onnx.flavor import OnnxFlavor, OnnxModel

__all__ = ["OnnxFlavor", "OnnxModel"]
