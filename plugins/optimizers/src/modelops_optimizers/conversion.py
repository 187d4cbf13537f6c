"""``onnx``: a registered scikit-learn model converted to ONNX (skl2onnx), run on onnxruntime.

The conversion writes up to three candidates into the build directory, fastest first:

    model.int8.onnx    dynamic int8 quantization (``quantize_dynamic``) of the float32 graph,
                       only when it has MatMul/Gemm nodes (linear models, MLPs): where it helps
    model.onnx         float32 inputs and weights (skl2onnx's default)
    model.double.onnx  float64 throughout, for models whose float32 graph drifts (trees whose
                       thresholds round differently in float32)

:class:`~modelops_core.optimize.estimator` runs the quality gate on each in that order and
registers the first that passes (labels, probabilities, the metric's interval, latency); the
report of each refused candidate is kept with the numbers. A model skl2onnx cannot convert is
a :class:`~modelops_core.optimize.estimator.ConversionError` naming it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops_core.optimize.estimator import Candidate, ConversionError
from modelops_core.optimize.values import LAYER_MODEL, BuildRequest, Predict, ServingContext

QUANTIZE = ("auto", "never", "always")
_QUANTIZABLE = {"MatMul", "Gemm"}


class OnnxConversion:
    """Convert a scikit-learn model to ONNX and serve it on onnxruntime.

    :param quantize: ``auto`` (int8 dynamic quantization tried first when the graph has
        MatMul/Gemm nodes), ``never``, or ``always`` (tried first whatever the graph).
    :param double: also offer a float64 graph when the float32 one fails the gate.
    :param target_opset: the ONNX opset skl2onnx targets (default: its newest).
    """

    name = "onnx"
    layer = LAYER_MODEL

    def __init__(
        self, quantize: str = "auto", double: bool = True, target_opset: int | None = None
    ) -> None:
        if quantize not in QUANTIZE:
            raise ValueError(f"quantize must be one of {', '.join(QUANTIZE)}, got {quantize!r}")
        self.quantize = quantize
        self.double = bool(double)
        self.target_opset = target_opset

    def settings(self) -> dict[str, Any]:
        return {"quantize": self.quantize, "double": self.double,
                "target_opset": self.target_opset}  # fmt: skip

    # --- building ------------------------------------------------------------------------------

    def candidates(self, model: Any, width: int, directory: Path) -> list[Candidate]:
        """The ONNX files of ``model`` (``width`` input features), fastest first."""
        import numpy as np

        directory.mkdir(parents=True, exist_ok=True)
        single = self._convert(model, np.float32, width)
        (directory / "model.onnx").write_bytes(single)
        found: list[Candidate] = []
        operators = _operators(single)
        if self.quantize == "always" or (self.quantize == "auto" and operators & _QUANTIZABLE):
            found.append(self._quantized(directory, operators))
        found.append(Candidate("float32", directory / "model.onnx", {"dtype": "float32"}))
        if self.double:
            try:
                (directory / "model.double.onnx").write_bytes(
                    self._convert(model, np.float64, width)
                )
            except ConversionError:
                pass  # not every converter has a float64 form; float32 stays a candidate
            else:
                found.append(
                    Candidate("float64", directory / "model.double.onnx", {"dtype": "float64"})
                )
        return found

    def _convert(self, model: Any, dtype: Any, width: int) -> bytes:
        try:
            from skl2onnx import to_onnx
        except ImportError as exc:
            raise ConversionError(
                "the onnx technique converts with skl2onnx and runs on onnxruntime: "
                "pip install 'modelops-optimizers[onnx]'."
            ) from exc
        import numpy as np

        final = model.steps[-1][1] if hasattr(model, "steps") else model
        options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
        try:
            converted = to_onnx(model, np.zeros((1, width), dtype=dtype), options=options,
                                target_opset=self.target_opset)  # fmt: skip
        except Exception as exc:  # MissingShapeCalculator, RuntimeError, NotImplementedError …
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise ConversionError(
                f"skl2onnx cannot convert {type(model).__name__} to ONNX "
                f"({type(exc).__name__}: {first}). The original stays registered and served; "
                "optimize it with another technique, or register a model skl2onnx converts."
            ) from exc
        return bytes(converted.SerializeToString())

    def _quantized(self, directory: Path, operators: set[str]) -> Candidate:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        source, target = directory / "model.onnx", directory / "model.int8.onnx"
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         op_types_to_quantize=sorted(operators & _QUANTIZABLE) or None)  # fmt: skip
        report = {
            "dtype": "float32",
            "quantized": "int8 dynamic",
            "bytes_before": source.stat().st_size,
            "bytes_after": target.stat().st_size,
        }
        return Candidate("int8", target, report)

    def load(self, path: Path) -> Any:
        """The ONNX file at ``path`` on onnxruntime (``predict``, ``predict_proba``)."""
        from modelops_flavor_onnx import OnnxModel

        return OnnxModel(path.read_bytes())

    # --- the optimizer protocol ----------------------------------------------------------------

    def build(self, request: BuildRequest) -> dict[str, Any]:
        model = request.provider  # the fitted estimator, for the contract suite
        width = getattr(model, "n_features_in_", None)
        if width is None:
            raise ConversionError(
                f"onnx converts fitted scikit-learn models; {request.parent_model_id} is a "
                f"{type(model).__name__}. Optimize a registered estimator: "
                "InferenceOptimizer().optimize('NAME/VERSION', holdout=(X, y))."
            )
        chosen = self.candidates(model, int(width), request.directory)[-1]
        return {"file": chosen.path.name, **chosen.report}

    def wrap(self, predict: Predict, context: ServingContext) -> Predict:
        if context.artifact is None:
            raise ConversionError(f"{context.model_id} uses onnx but has no ONNX artifact.")
        path = context.artifact / str(context.report.get("file", "model.onnx"))
        lock = threading.Lock()
        loaded: list[Any] = []

        def onnx_predict(inputs: Sequence[Any]) -> list[Any]:
            if not loaded:
                with lock:
                    if not loaded:
                        loaded.append(self.load(path))
            if not inputs:
                return []
            return list(loaded[0].predict(list(inputs)).tolist())

        return onnx_predict


def _operators(data: bytes) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load_from_string(data).graph.node}
