"""The ``onnx`` flavor and :class:`OnnxModel`, an onnxruntime session with ``predict``.

An ONNX model is stored as its serialized bytes. Loaded, it is one
``onnxruntime.InferenceSession`` (made once) whose first output is ``predict``'s answer and,
when the graph has a second output of class probabilities (scikit-learn models converted with
``zipmap=False``), ``predict_proba``'s.
"""

from __future__ import annotations

from typing import Any

from modelops_core.flavors.contract import FlavorError
from modelops_core.flavors.schema import ColumnSpec, Schema

__all__ = ["OnnxFlavor", "OnnxModel", "OnnxModelError"]

_NUMPY_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": "str",
    "tensor(bool)": "bool",
}


class OnnxModelError(FlavorError):
    """The bytes are not an ONNX model onnxruntime can run, or inputs do not fit its graph."""


class OnnxModel:
    """An ONNX model ready to run: ``predict(inputs)`` (and ``predict_proba`` when the graph
    has a probability output). ``inputs`` is an array (one graph input) or a DataFrame / mapping
    whose columns are the graph's inputs or, for one graph input, its features."""

    def __init__(self, data: bytes) -> None:
        import onnxruntime

        self.data = bytes(data)
        try:
            self.session = onnxruntime.InferenceSession(
                self.data, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OnnxModelError(
                f"onnxruntime cannot load this model ({type(exc).__name__}: {exc}). Check that "
                "the bytes are an ONNX model and that its opset is supported by the installed "
                "onnxruntime."
            ) from exc
        self.inputs = self.session.get_inputs()
        self.outputs = self.session.get_outputs()

    def _feed(self, inputs: Any) -> dict[str, Any]:
        import numpy as np

        from modelops_core.tabular.frames import column, column_names, is_table, to_numpy

        if is_table(inputs) and len(self.inputs) > 1:
            return {
                spec.name: to_numpy(column(inputs, spec.name, "the ONNX model's inputs"))
                .reshape(-1, 1)
                .astype(_NUMPY_TYPES.get(spec.type, "float32"))
                for spec in self.inputs
            }
        spec = self.inputs[0]
        if is_table(inputs):
            array = np.column_stack([to_numpy(column(inputs, n, "inputs"))
                                     for n in column_names(inputs)])  # fmt: skip
        else:
            array = to_numpy(inputs)
        if array.ndim == 1:
            array = array.reshape(-1, 1) if len(spec.shape) > 1 else array
        dtype = _NUMPY_TYPES.get(spec.type, "float32")
        return {spec.name: array.astype(object if dtype == "str" else dtype)}

    def _run(self, index: int, inputs: Any) -> Any:
        import numpy as np

        try:
            answer = self.session.run([self.outputs[index].name], self._feed(inputs))[0]
        except Exception as exc:
            expected = ", ".join(f"{i.name} {i.type} {i.shape}" for i in self.inputs)
            raise OnnxModelError(
                f"onnxruntime refused the inputs ({type(exc).__name__}: {exc}); the model "
                f"takes: {expected}."
            ) from exc
        if isinstance(answer, list):  # a ZipMap output: one {class: probability} per row
            keys = sorted(answer[0]) if answer else []
            return np.asarray([[row[k] for k in keys] for row in answer])
        return np.asarray(answer)

    def predict(self, inputs: Any) -> Any:
        """The graph's first output for ``inputs``."""
        result = self._run(0, inputs)
        return result.ravel() if result.ndim == 2 and result.shape[1] == 1 else result

    @property
    def predict_proba(self) -> Any:
        """The graph's second output (class probabilities), when it has one."""
        if len(self.outputs) < 2:
            raise AttributeError("this ONNX model has no second (probability) output")
        return lambda inputs: self._run(1, inputs)

    def input_schema(self) -> Schema:
        """The graph's inputs: one tensor, or one column per input."""
        if len(self.inputs) == 1:
            spec = self.inputs[0]
            shape = tuple(d if isinstance(d, int) else -1 for d in spec.shape)
            return Schema("tensor", dtype=_NUMPY_TYPES.get(spec.type, spec.type), shape=shape)
        return Schema(
            "columns",
            tuple(ColumnSpec(i.name, _NUMPY_TYPES.get(i.type, i.type)) for i in self.inputs),
        )


class OnnxFlavor:
    """Stores ``onnx.ModelProto`` (and loaded :class:`OnnxModel`) objects as ONNX bytes."""

    name = "onnx"

    def accepts(self, model: Any) -> bool:
        kind = type(model)
        return isinstance(model, OnnxModel) or (
            kind.__name__ == "ModelProto" and kind.__module__.split(".")[0] == "onnx"
        )

    def dumps(self, model: Any) -> bytes:
        data = model.data if isinstance(model, OnnxModel) else model.SerializeToString()
        OnnxModel(data)  # refuse what onnxruntime cannot load before anything is stored
        return bytes(data)

    def loads(self, data: bytes) -> OnnxModel:
        return OnnxModel(data)

    def libraries(self) -> dict[str, str]:
        import onnx
        import onnxruntime

        return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}

    def describe(self, model: Any) -> dict[str, Any]:
        loaded = model if isinstance(model, OnnxModel) else OnnxModel(model.SerializeToString())
        return {"input": loaded.input_schema(), "output": None}
