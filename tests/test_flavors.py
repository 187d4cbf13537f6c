"""Models in and out (issue 16): model flavors through the registry, evaluation of a model on a
DataFrame, the acceptance code as written, and the core's own flavors under the contract."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelops_core.builtin import flavors as core_flavors
from modelops_core.config import Config
from modelops_core.flavors.contract import FlavorError, FlavorVersionWarning
from modelops_core.flavors.model import FlavorModel
from modelops_core.flavors.schema import Schema, SchemaMismatchError
from modelops_core.registry.model_registry import ModelRegistry, PickleSerializer
from modelops_core.tabular.frames import MissingColumnError
from modelops_core.testing import make_runtime
from modelops_core.testing.contracts.flavors import ModelFlavorContract

pd = pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402

store_plugin = pytest.importorskip("modelops_store_sql.plugin")
artifacts_plugin = pytest.importorskip("modelops_artifacts_local.plugin")
sklearn_plugin = pytest.importorskip("modelops_flavor_sklearn.plugin")
PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]


def registry_at(home: Path, *extra: Any, **options: Any) -> ModelRegistry:
    runtime = make_runtime(home, [*PLUGINS, *extra], config=Config(home=home))
    return ModelRegistry(runtime, actor="tester", **options)


@pytest.fixture(scope="module")
def cancer() -> tuple[Any, Any, Any]:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = sklearn_datasets.load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


# --- the acceptance code of the issue, as written ----------------------------------------------


def test_the_acceptance_code_runs_as_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # ModelRegistry() keeps its files in ./.modelops
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    from modelops_core import Dataset, Evaluator, ModelRegistry

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    reg = ModelRegistry()
    reg.register("bc", "1.0", model=model)
    loaded = reg.load("bc", "1.0")
    assert (loaded.predict(X) == model.predict(X)).all()
    result = Evaluator().evaluate(model=loaded, data=X.assign(label=y), references="label")
    assert "auc_roc" in result
    Dataset.from_pandas(pd.DataFrame({"prompt": ["a"] * 12, "completion": ["b"] * 12}))
    # and what it stands for: the flavor, its record, the model's own probabilities
    assert reg.get_version("bc", "1.0").serializer == "sklearn"
    assert result["auc_roc"] == pytest.approx(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    reg.close()


# --- the registry through flavors --------------------------------------------------------------


def test_register_records_flavor_schema_and_library_versions(tmp_path: Path, cancer) -> None:
    import sklearn
    import skops

    X, _, model = cancer
    with registry_at(tmp_path / ".modelops", sklearn_plugin) as registry:
        record = registry.register("bc", "1", model=model, sample=X)
        flavor = record.metadata["model_flavor"]
        assert record.serializer == "sklearn"
        assert flavor["details"] == {"format": "skops", "file": "model.skops"}
        assert flavor["libraries"]["scikit-learn"] == sklearn.__version__
        assert flavor["libraries"]["skops"] == skops.__version__
        assert flavor["input"]["columns"][0] == {"name": "mean radius", "dtype": "float64"}
        assert len(flavor["input"]["columns"]) == 30
        assert flavor["output"] == {"kind": "tensor", "dtype": "int64", "shape": [-1]}
        loaded = registry.load("bc", "1")
        assert isinstance(loaded, FlavorModel) and loaded.model_id == "bc:1"
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))


def test_a_regressor_has_no_predict_proba_after_loading(tmp_path: Path) -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LinearRegression().fit(X, [0.5, 1.5, 2.5, 3.5])
    with registry_at(tmp_path / ".modelops", sklearn_plugin) as registry:
        registry.register("reg", "1", model=model)
        loaded = registry.load("reg", "1")
        assert not hasattr(loaded, "predict_proba")
        np.testing.assert_allclose(loaded.predict(X), [0.5, 1.5, 2.5, 3.5])


def test_a_frame_without_a_registered_column_is_refused_naming_its_columns(
    tmp_path: Path,
) -> None:
    X = pd.DataFrame({"age": [30.0, 40.0, 50.0, 60.0], "income": [1.0, 2.0, 1.0, 3.0]})
    model = LogisticRegression().fit(X, [0, 1, 0, 1])
    with registry_at(tmp_path / ".modelops", sklearn_plugin) as registry:
        registry.register("m", "1", model=model, sample=X)
        loaded = registry.load("m", "1")
        with pytest.raises(SchemaMismatchError) as caught:
            loaded.predict(X.rename(columns={"age": "years"}))
    assert str(caught.value) == (
        "model m:1: the data has no column 'age' (1 of 2 expected missing); it has: 'years', "
        "'income'. Pass the columns the model was registered with."
    )


def test_a_model_no_flavor_stores_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    class Opaque:
        def predict(self, inputs: Any) -> Any:
            return inputs

    home = tmp_path / ".modelops"
    with registry_at(home) as registry:
        with pytest.raises(FlavorError, match=r"No model flavor accepts a .*Opaque \(tried: json"):
            registry.register("m", "1", model=Opaque())
        assert registry.list_models() == []
    assert not list((home / "artifacts").rglob("*.tmp"))


def test_a_named_flavor_that_is_not_installed_says_how_to_get_it(tmp_path: Path, cancer) -> None:
    _, _, model = cancer
    with registry_at(tmp_path / ".modelops") as registry:  # no sklearn plugin in this runtime
        with pytest.raises(FlavorError, match="pip install modelops-flavor-sklearn"):
            registry.register("bc", "1", model=model)
        with pytest.raises(
            FlavorError, match=r"No model flavor named 'onnx'.*modelops-flavor-onnx"
        ):
            registry.register("bc", "1", model=model, flavor="onnx")


def test_a_version_stored_by_a_missing_flavor_fails_to_load_by_name(tmp_path: Path, cancer) -> None:
    _, _, model = cancer
    home = tmp_path / ".modelops"
    with registry_at(home, sklearn_plugin) as registry:
        registry.register("bc", "1", model=model)
    with registry_at(home) as without, pytest.raises(FlavorError) as caught:
        without.load("bc", "1")
    assert "No model flavor named 'sklearn' in this registry: bc 1 was stored with it" in str(
        caught.value
    )


def test_other_library_versions_warn_at_load(tmp_path: Path, cancer) -> None:
    import sklearn

    _, _, model = cancer
    home = tmp_path / ".modelops"
    with registry_at(home, sklearn_plugin) as registry:
        registry.register("bc", "1", model=model)
    # a version recorded by an older scikit-learn: rewrite the row with plain SQL
    database = next(home.rglob("*.db"))
    with sqlite3.connect(database) as connection:
        (text,) = connection.execute("SELECT metadata FROM versions").fetchone()
        metadata = json.loads(text)
        metadata["model_flavor"]["libraries"]["scikit-learn"] = "0.1"
        connection.execute("UPDATE versions SET metadata = ?", (json.dumps(metadata),))
    installed = re.escape(sklearn.__version__)
    with (
        registry_at(home, sklearn_plugin) as registry,
        pytest.warns(FlavorVersionWarning, match=rf"scikit-learn 0.1 \(installed: {installed}\)"),
    ):
        loaded = registry.load("bc", "1")
    assert loaded.libraries["scikit-learn"] == "0.1"


def test_pickle_needs_the_flavor_given_in_code_for_saving_and_loading(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    with registry_at(home, flavors=[PickleSerializer()]) as trusting:
        trusting.register("obj", "1", model={1, 2}, flavor="pickle")
        assert trusting.load("obj", "1") == {1, 2}
    with registry_at(home) as plain, pytest.raises(FlavorError, match="Unpickling runs code"):
        plain.load("obj", "1")


def test_schema_of_tables_and_arrays() -> None:
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    frame = {"age": [31, 40], "city": ["a", "b"]}
    expected = [{"name": "age", "dtype": "int64"}, {"name": "city", "dtype": "str"}]
    assert Schema.of(pd.DataFrame(frame)).to_dict()["columns"] == expected
    assert Schema.of(frame).to_dict()["columns"] == expected
    assert Schema.of(pl.DataFrame(frame)).to_dict()["columns"] == [
        {"name": "age", "dtype": "int64"}, {"name": "city", "dtype": "string"},
    ]  # fmt: skip
    arrow = Schema.of(pa.table(frame)).to_dict()["columns"]
    assert arrow == [*expected[:1], {"name": "city", "dtype": "string"}]
    assert Schema.of(np.zeros((3, 4), dtype=np.float32)).to_dict() == {
        "kind": "tensor", "dtype": "float32", "shape": [-1, 4],
    }  # fmt: skip
    schema = Schema.of(np.zeros((3, 4)))
    with pytest.raises(SchemaMismatchError, match="has 3 columns per row but the model was"):
        schema.check(np.zeros((2, 3)), "model m:1")
    assert Schema.from_dict(schema.to_dict()) == schema


# --- evaluating a model on a table -------------------------------------------------------------


def test_evaluating_an_estimator_uses_its_probabilities(cancer) -> None:
    from modelops_core import Evaluator

    X, y, model = cancer
    result = Evaluator().evaluate(model=model, data=X.assign(label=y), references="label")
    probabilities = model.predict_proba(X)[:, 1]
    assert list(result) == ["accuracy", "precision", "recall", "f1", "auc_roc",
                            "average_precision", "log_loss", "brier"]  # fmt: skip
    assert result["auc_roc"] == pytest.approx(roc_auc_score(y, probabilities), rel=1e-12)
    assert result["log_loss"] == pytest.approx(log_loss(y, probabilities), rel=1e-9)
    assert result["accuracy"] == pytest.approx(float((model.predict(X) == y).mean()))
    assert {"roc", "pr", "calibration", "confusion"} <= set(result.curves)


def test_a_decision_function_gives_the_scores_when_there_are_no_probabilities(cancer) -> None:
    from sklearn.svm import LinearSVC

    from modelops_core import Evaluator

    X, y, _ = cancer
    model = LinearSVC(max_iter=20000).fit(X.iloc[:, :5], y)
    data = X.iloc[:, :5].assign(label=y)
    result = Evaluator().evaluate(model=model, data=data, references="label")
    scores = model.decision_function(X.iloc[:, :5])
    assert result["auc_roc"] == pytest.approx(roc_auc_score(y, scores), rel=1e-12)
    assert "log_loss" not in result  # decision scores are not probabilities


def test_polars_and_arrow_tables_and_named_columns(cancer) -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    from modelops_core import Evaluator

    X, y, model = cancer
    expected = Evaluator().evaluate(model=model, data=X.assign(label=y), references="label")
    for table in (pl.from_pandas(X.assign(label=y)), pa.Table.from_pandas(X.assign(label=y))):
        result = Evaluator().evaluate(model=model, data=table, references="label",
                                      metrics=["accuracy", "auc_roc"])  # fmt: skip
        assert result["auc_roc"] == pytest.approx(expected["auc_roc"], rel=1e-12)
    frame = pd.DataFrame({"pred": [1, 0, 1, 1], "label": [1, 0, 0, 1]})
    assert Evaluator(["accuracy"]).evaluate("pred", "label", data=frame) == {"accuracy": 0.75}
    assert Evaluator(["accuracy"]).evaluate(pl.Series([1, 0, 1, 1]), pa.array([1, 0, 0, 1])) == {
        "accuracy": 0.75
    }


def test_a_missing_reference_column_names_the_columns_the_table_has() -> None:
    from modelops_core import Evaluator

    frame = pd.DataFrame({"x": [0.0, 1.0], "y": [1, 0]})
    model = LogisticRegression().fit(frame[["x"]], frame["y"])
    with pytest.raises(MissingColumnError) as caught:
        Evaluator().evaluate(model=model, data=frame, references="label")
    assert str(caught.value) == (
        "data has no column 'label'; it has: 'x', 'y'. Name one of those, or add the column."
    )


def test_a_model_without_predict_is_refused_naming_what_it_offers() -> None:
    from sklearn.preprocessing import StandardScaler

    from modelops_core import Evaluator
    from modelops_core.errors import EvaluationError

    frame = pd.DataFrame({"x": [0.0, 1.0], "label": [1, 0]})
    scaler = StandardScaler().fit(frame[["x"]])
    with pytest.raises(EvaluationError) as caught:
        Evaluator().evaluate(model=scaler, data=frame, references="label")
    assert str(caught.value) == (
        "model=sklearn.preprocessing._data.StandardScaler has no predict() (it offers: "
        "transform). Pass a fitted estimator, a model loaded from the registry, or an object "
        "with predict(inputs)."
    )


# --- the core's flavors under the contract -----------------------------------------------------


class TestJsonFlavor(ModelFlavorContract):
    plugin = core_flavors
    component_name = "json"

    def example(self) -> tuple[Any, Any]:
        return {"weights": [0.1, 0.2], "bias": 1}, None


class TestNumpyFlavor(ModelFlavorContract):
    plugin = core_flavors
    component_name = "numpy"

    def example(self) -> tuple[Any, Any]:
        return np.arange(12, dtype=np.float32).reshape(3, 4), None


class TestBytesFlavor(ModelFlavorContract):
    plugin = core_flavors
    component_name = "bytes"
    garbage = None

    def example(self) -> tuple[Any, Any]:
        return b"\x00weights\xff", None


# --- results in pandas and Jupyter -------------------------------------------------------------


def test_results_and_comparisons_as_dataframes_and_html() -> None:
    from modelops_core import Evaluator
    from modelops_core.evaluation.compare import compare

    references = [1, 0, 1, 1, 0, 1, 0, 0]
    evaluator = Evaluator(["accuracy"], bootstrap=200, seed=0)
    a = evaluator.evaluate_result([1, 0, 1, 1, 0, 1, 0, 1], references, model_id="a<b>")
    b = evaluator.evaluate_result([0, 0, 1, 0, 0, 1, 1, 1], references, model_id="b")
    table = a.to_pandas()
    assert list(table.columns) == ["metric", "value", "low", "high", "level", "higher_is_better"]
    assert table.to_dict("records") == [{
        "metric": "accuracy", "value": 0.875, "low": a.interval("accuracy").low,
        "high": a.interval("accuracy").high, "level": 0.95, "higher_is_better": True,
    }]  # fmt: skip
    html = a._repr_html_()
    assert html.startswith('<table class="modelops"><caption>Evaluation of a&lt;b&gt; on 8')
    assert "<td>accuracy</td><td>0.875</td>" in html and "<script" not in html
    comparison = compare(a, b)
    rows = comparison.to_pandas()
    assert rows["metric"].tolist() == ["accuracy"]
    assert rows["difference"].tolist() == [pytest.approx(0.875 - 0.5)]
    assert "a&lt;b&gt; vs b: " in comparison._repr_html_()


def test_metric_classes_take_series_arrays_and_one_column_tables() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    from modelops_core import AccuracyMetric, AUCROCMetric
    from modelops_core.errors import MetricInputError

    accuracy = AccuracyMetric()
    assert accuracy.compute(pl.Series([1, 0, 1]), pa.chunked_array([[1, 0, 0]])) == 2 / 3
    assert accuracy.compute(pd.DataFrame({"p": [1, 0, 1]}), pl.DataFrame({"l": [1, 0, 0]})) == (
        2 / 3
    )
    assert AUCROCMetric().compute(pa.array([0.1, 0.9, 0.4]), pd.Series([0, 1, 1])) == 1.0
    with pytest.raises(MetricInputError) as caught:
        accuracy.compute(pd.DataFrame({"p": [1, 0, 1], "q": [1, 1, 1]}), [1, 0, 0])
    assert str(caught.value) == (
        "predictions is a table with 2 columns ('p', 'q'); pass one column, e.g. "
        "predictions=frame['p'], or evaluate(..., data=frame) with column names."
    )
