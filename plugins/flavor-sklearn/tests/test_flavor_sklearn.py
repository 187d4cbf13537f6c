"""The sklearn flavor under the flavor contract (skops, onnx), and its refusals: pickle only on
opt-in, skops files naming types nobody trusted, damaged files, models ONNX cannot convert."""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from modelops_flavor_sklearn import SklearnFlavor
from modelops_flavor_sklearn import plugin as sklearn_plugin
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from modelops_core.flavors.contract import FlavorError, UntrustedModelError
from modelops_core.testing.contracts.flavors import ModelFlavorContract

X, Y = load_breast_cancer(return_X_y=True, as_frame=True)


@functools.cache
def fitted(kind: str) -> Any:
    """Each model fitted once per session (the tests only store and load them)."""
    if kind == "pipeline":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    if kind == "forest":
        return RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X.to_numpy(), Y)


class TestSkopsPipeline(ModelFlavorContract):
    plugin = sklearn_plugin
    component_name = "sklearn"
    distribution = "modelops-flavor-sklearn"

    def example(self) -> tuple[Any, Any]:
        return fitted("pipeline"), X


class TestSkopsForest(TestSkopsPipeline):
    """A forest: skops lists sklearn.tree._tree.Tree as untrusted; a scikit-learn class is
    trusted by the flavor, so it loads without options."""

    def example(self) -> tuple[Any, Any]:
        return fitted("forest"), X


class TestOnnxPersistence(TestSkopsPipeline):
    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"persistence": "onnx"}

    def example(self) -> tuple[Any, Any]:
        return fitted("numpy"), X.to_numpy()[:50]

    def test_a_loaded_model_predicts_like_the_original(self, component: Any, tmp_path: Path):
        # float32 arithmetic: labels equal, probabilities within 1e-4
        from modelops_core.testing.contracts.flavors import load, store

        model, inputs = self.example()
        stored, details = store(component, model, tmp_path)
        loaded = load(component, stored, details)
        np.testing.assert_array_equal(loaded.predict(inputs), model.predict(inputs))
        np.testing.assert_allclose(loaded.predict_proba(inputs), model.predict_proba(inputs),
                                   atol=1e-4)  # fmt: skip

    def test_a_model_stored_twice_loads_the_same(self, component: Any, tmp_path: Path) -> None:
        pytest.skip("a loaded ONNX model is stored by the onnx flavor, not converted again")


def test_pickle_is_refused_unless_allowed_for_saving_and_for_loading(tmp_path: Path) -> None:
    with pytest.raises(UntrustedModelError, match="persistence='pickle' needs allow_pickle=True"):
        SklearnFlavor(persistence="pickle")
    model = LogisticRegression().fit(X.iloc[:, :3], Y)
    folder = tmp_path / "model"
    folder.mkdir()
    details = SklearnFlavor(persistence="pickle", allow_pickle=True).save(model, folder)
    assert details == {"format": "pickle", "file": "model.pkl"}
    with pytest.raises(UntrustedModelError, match=r"is a pickle; unpickling runs code"):
        SklearnFlavor().load(folder, details)
    loaded = SklearnFlavor(allow_pickle=True).load(folder, details)
    np.testing.assert_array_equal(loaded.predict(X.iloc[:, :3]), model.predict(X.iloc[:, :3]))


def _double(values: Any) -> Any:
    return values * 2


def test_a_skops_file_naming_an_untrusted_function_is_refused(tmp_path: Path) -> None:
    model = make_pipeline(FunctionTransformer(_double), LogisticRegression()).fit(X.iloc[:, :3], Y)
    folder = tmp_path / "model"
    folder.mkdir()
    details = SklearnFlavor().save(model, folder)
    name = f"{__name__}._double"
    with pytest.raises(UntrustedModelError) as caught:
        SklearnFlavor().load(folder, details)
    assert f"would build types nobody trusted: {name}" in str(caught.value)
    assert f"SklearnFlavor(trusted=['{name}'])" in str(caught.value)
    loaded = SklearnFlavor(trusted=[name]).load(folder, details)
    np.testing.assert_array_equal(loaded.predict(X.iloc[:, :3]), model.predict(X.iloc[:, :3]))


def test_a_skops_file_with_a_hostile_schema_is_refused_before_anything_is_built(
    tmp_path: Path,
) -> None:
    """Rewrite the skops archive so that it names os.system: refused, never called."""
    model = LogisticRegression().fit(X.iloc[:, :3], Y)
    folder = tmp_path / "model"
    folder.mkdir()
    details = SklearnFlavor().save(model, folder)
    archive = folder / "model.skops"
    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema = members["schema.json"].decode()
    hostile = schema.replace('"__module__": "sklearn.linear_model._logistic"', '"__module__": "os"')
    hostile = hostile.replace('"__class__": "LogisticRegression"', '"__class__": "system"')
    assert hostile != schema
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in members.items():
            target.writestr(name, hostile.encode() if name == "schema.json" else data)
    with pytest.raises(UntrustedModelError, match="would build types nobody trusted: os.system"):
        SklearnFlavor().load(folder, details)


@pytest.mark.filterwarnings("ignore:y contains no unlabeled samples")
def test_an_unknown_persistence_and_an_unconvertible_model_are_named() -> None:
    with pytest.raises(FlavorError, match="persistence='joblib' is unknown; use one of skops"):
        SklearnFlavor(persistence="joblib")
    from sklearn.cluster import KMeans
    from sklearn.semi_supervised import SelfTrainingClassifier

    unfitted = KMeans(n_clusters=2)
    with pytest.raises(FlavorError, match="cannot convert an unfitted KMeans to ONNX"):
        SklearnFlavor(persistence="onnx").save(unfitted, Path("/nonexistent"))
    model = SelfTrainingClassifier(LogisticRegression()).fit(X.iloc[:, :3], Y)
    with pytest.raises(FlavorError, match=r"skl2onnx cannot convert SelfTrainingClassifier"):
        SklearnFlavor(persistence="onnx").save(model, Path("/nonexistent"))
