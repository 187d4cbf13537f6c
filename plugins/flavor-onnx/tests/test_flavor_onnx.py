"""The onnx flavor under the flavor contract; inputs onnxruntime refuses are named."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from modelops_flavor_onnx import OnnxModel
from modelops_flavor_onnx import plugin as onnx_plugin
from modelops_flavor_onnx.flavor import OnnxModelError
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from modelops_core.testing.contracts.flavors import ModelFlavorContract

X, Y = load_iris(return_X_y=True)
X = X.astype(np.float32)


def converted() -> tuple[Any, Any]:
    model = LogisticRegression(max_iter=1000).fit(X, Y)
    proto = to_onnx(model, X[:1], options={id(model): {"zipmap": False}})
    return proto, model


class TestOnnxFlavor(ModelFlavorContract):
    plugin = onnx_plugin
    component_name = "onnx"
    distribution = "modelops-flavor-onnx"

    def example(self) -> tuple[Any, Any]:
        return OnnxModel(converted()[0].SerializeToString()), X

    def test_it_accepts_its_models_and_refuses_others(self, component: Any) -> None:
        super().test_it_accepts_its_models_and_refuses_others(component)
        assert component.accepts(converted()[0]) is True  # an onnx.ModelProto
        assert component.accepts(b"bytes") is False


def test_the_session_agrees_with_the_estimator_and_names_refused_inputs() -> None:
    proto, model = converted()
    loaded = OnnxModel(proto.SerializeToString())
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-5)
    assert loaded.input_schema().to_dict() == {"kind": "tensor", "dtype": "float32",
                                               "shape": [-1, 4]}  # fmt: skip
    with pytest.raises(
        OnnxModelError,
        match=r"(?s)onnxruntime refused the inputs .*the model takes: X tensor\(float\)",
    ):
        loaded.predict(X[:, :3])
    with pytest.raises(OnnxModelError, match="onnxruntime cannot load this model"):
        OnnxModel(b"not onnx")
