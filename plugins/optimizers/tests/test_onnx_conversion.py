"""The ``onnx`` technique (issue 16): a registered scikit-learn model converted to ONNX, run on
onnxruntime, int8-quantized where the graph has MatMul/Gemm, and registered only when the
quality gate passes on held-out data (labels, probabilities, the metric's bootstrap interval,
p50/p95 latency); a model skl2onnx cannot convert is a named error and the original stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from modelops_optimizers import plugin
from modelops_optimizers.conversion import OnnxConversion

from modelops_core import InferenceOptimizer, ModelRegistry, QualityGateError
from modelops_core.config import parse_config
from modelops_core.optimize.estimator import ConversionError
from modelops_core.optimize.values import BuildRequest, OptimizeError
from modelops_core.runtime import Runtime
from modelops_core.testing import OptimizerContract

pytest.importorskip("skl2onnx")
pytest.importorskip("modelops_flavor_sklearn")
pytest.importorskip("modelops_flavor_onnx")
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="module")
def cancer() -> tuple[Any, Any, Any, Any]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def runtime_at(home: Path) -> Runtime:
    return Runtime(parse_config({"home": str(home)}, source="test.toml"), environ={})


def register(runtime: Runtime, name: str, model: Any) -> None:
    with ModelRegistry(runtime) as registry:
        registry.register(name, "1.0", model=model)


def test_a_registered_mlp_becomes_an_onnx_version_that_passed_every_check(
    cancer: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    X_train, X_test, y_train, y_test = cancer
    mlp = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=400, random_state=0))
    mlp.fit(X_train, y_train)
    runtime = runtime_at(tmp_path / ".modelops")
    register(runtime, "bc", mlp)

    result = InferenceOptimizer(runtime).optimize_result(
        "bc/1.0", target="latency", holdout=X_test.assign(label=y_test.to_numpy())
    )

    assert (result.model_id, result.parent_model_id, result.techniques) == (
        "bc-1.0-optimized/1", "bc/1.0", ("onnx",),
    )  # fmt: skip
    report = result.reports["onnx"]
    assert report["label_agreement"] == 1.0 and report["max_proba_diff"] <= 1e-4
    assert report["optimized_p50_ms"] <= report["original_p50_ms"]
    assert report["optimized_p95_ms"] <= report["original_p95_ms"]
    with ModelRegistry(runtime) as registry:
        stored = registry.get_version("bc-1.0-optimized", "1")
        assert stored.serializer == "onnx"
        tried = stored.metadata["quality_gate"]["candidates"]
        # the MLP has MatMul/Gemm: int8 was tried first and refused with its numbers
        assert [t["candidate"] for t in tried] == ["int8", "float32"]
        assert tried[0]["quantized"] == "int8 dynamic" and tried[0]["failed"]
        assert tried[0]["max_proba_diff"] > 1e-4
        assert stored.metadata["optimization"]["chosen"] == "float32"
        lineage = registry.lineage("bc-1.0-optimized", "1")
        assert lineage.base_model == "bc/1.0" and lineage.parent_version == "1.0"
        fast = registry.load("bc-1.0-optimized", "1")
        inputs = X_test.to_numpy(dtype=np.float32)
        assert (fast.predict(inputs) == mlp.predict(X_test)).all()
        assert np.abs(fast.predict_proba(inputs) - mlp.predict_proba(X_test)).max() <= 1e-4
        assert registry.list_versions("bc") == ["1.0"]  # the original stays


def test_quantization_is_offered_only_where_the_graph_has_matmul_or_gemm(
    cancer: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    X_train, _, y_train, _ = cancer
    technique = OnnxConversion()
    models = {
        "mlp": MLPClassifier((8,), max_iter=50, random_state=0),
        "forest": RandomForestClassifier(5, random_state=0),
        "logistic": LogisticRegression(max_iter=50),
    }
    offered = {}
    for name, model in models.items():
        model.fit(X_train.to_numpy(), y_train)
        found = technique.candidates(model, 30, tmp_path / name)
        offered[name] = [c.label for c in found]
    assert offered == {
        "mlp": ["int8", "float32", "float64"],
        "forest": ["float32", "float64"],
        "logistic": ["float32", "float64"],
    }
    never = OnnxConversion(quantize="never", double=False)
    assert [c.label for c in never.candidates(models["mlp"], 30, tmp_path / "n")] == ["float32"]


def test_the_gate_fails_closed_with_the_numbers_and_registers_nothing(
    cancer: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    X_train, X_test, y_train, y_test = cancer
    forest = RandomForestClassifier(20, random_state=0).fit(X_train, y_train)
    runtime = runtime_at(tmp_path / ".modelops")
    register(runtime, "forest", forest)
    with pytest.raises(QualityGateError) as refused:
        InferenceOptimizer(runtime).optimize(
            "forest/1.0",
            techniques=[("onnx", {"double": False})],
            holdout=(X_test, y_test),
            gate={"max_proba_diff": 1e-12},
        )
    message = str(refused.value)
    assert "refused by the quality gate on 171 held-out examples: float32: max probability " \
           "difference" in message  # fmt: skip
    assert "> 1e-12. Nothing was registered; forest/1.0 stays as it is." in message
    assert refused.value.metric == "accuracy"
    assert refused.value.original == refused.value.optimized == forest.score(X_test, y_test)
    with ModelRegistry(runtime) as registry:
        assert registry.list_models() == ["forest"]


def test_a_model_skl2onnx_cannot_convert_is_a_named_error_and_the_original_stays(
    cancer: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    from sklearn.semi_supervised import LabelSpreading

    X_train, X_test, y_train, y_test = cancer
    spreading = LabelSpreading().fit(X_train.to_numpy()[:100], y_train.to_numpy()[:100])
    runtime = runtime_at(tmp_path / ".modelops")
    register(runtime, "spread", spreading)
    with pytest.raises(ConversionError, match=r"skl2onnx cannot convert LabelSpreading to ONNX "
                                              r"\(MissingShapeCalculator: .*The original stays "
                                              r"registered and served"):  # fmt: skip
        InferenceOptimizer(runtime).optimize("spread/1.0", holdout=(X_test.to_numpy(), y_test))
    with ModelRegistry(runtime) as registry:
        assert registry.list_models() == ["spread"]
        loaded = registry.load("spread", "1.0")
        assert (loaded.predict(X_test.to_numpy()) == spreading.predict(X_test.to_numpy())).all()
    assert list((tmp_path / ".modelops" / "optimize" / "build").iterdir()) == []


def test_a_holdout_without_the_answers_column_names_the_columns_it_has(
    cancer: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    X_train, X_test, y_train, _ = cancer
    runtime = runtime_at(tmp_path / ".modelops")
    register(runtime, "lr", LogisticRegression(max_iter=50).fit(X_train.to_numpy(), y_train))
    named = r"the holdout has no column 'label' with the expected answers \(it has: mean radius, "
    with pytest.raises(OptimizeError, match=named):
        InferenceOptimizer(runtime).optimize("lr/1.0", holdout=X_test)


class TestOnnxContract(OptimizerContract):
    plugin = plugin
    distribution = "modelops-optimizers"
    component_name = "onnx"
    inputs: ClassVar[Any] = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2],
                             [5.9, 3.0, 4.2, 1.5], [6.3, 2.5, 5.0, 1.9]]  # fmt: skip

    @pytest.fixture(autouse=True)
    def _model(self) -> None:
        from sklearn.datasets import load_iris

        X, y = load_iris(return_X_y=True)
        self.model = LogisticRegression(max_iter=500).fit(X, y)

    def reference_predict(self, inputs: Any) -> list[Any]:
        if not len(inputs):
            return []
        return list(self.model.predict(np.asarray(inputs)).tolist())

    def build_request(self, tmp_path: Path) -> BuildRequest:
        return BuildRequest("iris/1", self.model, tmp_path / "artifact")
