"""Evaluator, ModelEvaluator, create_evaluator and EvaluationResult, used as users use them."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from modelops_core import (
    EvaluationResult,
    Evaluator,
    Metric,
    ModelEvaluator,
    Runtime,
    TaskType,
    create_evaluator,
    hookimpl,
)
from modelops_core.config import ComponentChoice, parse_config
from modelops_core.evaluation.inputs import EvaluationInputError
from modelops_core.evaluation.result import ResultSchemaError

pytest.importorskip("modelops_metrics", reason="the metric names come from modelops-metrics")


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return Runtime(parse_config({}, source="test"), environ={})


# --- a third-party-style provider plugin: a real (trivial) keyword model -------------------------


class KeywordProvider:
    """Predicts "refund" when the text mentions money back, else "other"."""

    name = "keywords"
    export_format = "local"

    def __init__(self, keyword: str = "money") -> None:
        self.keyword = keyword
        self.calls: list[tuple[str, int]] = []

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[str]:
        self.calls.append((model_id, len(inputs)))
        return ["refund" if self.keyword in text else "other" for text in inputs]

    def validate(self, path, method, model):  # the rest of ProviderComponent: unused here
        return []

    def start(self, request):
        raise NotImplementedError("keyword models are not trained")

    get = cancel = events = start

    def list_jobs(self, limit=20):
        return []


class KeywordPlugin:
    @hookimpl
    def modelops_register_providers(self, registry):
        registry.add("keywords", KeywordProvider, description="keyword rule")


class TicketDataset:
    """Any object with pairs() and fingerprint() is a dataset for evaluation."""

    def __init__(self, rows):
        self.rows = rows

    def pairs(self):
        return list(self.rows)

    def fingerprint(self):
        return "sha256:tickets-v1"


TICKETS = TicketDataset(
    [("I want my money back", "refund"), ("where is my parcel", "other"),
     ("money back please", "refund"), ("refund me now", "refund")]
)  # fmt: skip


def test_the_reference_form_returns_a_plain_dict():
    assert Evaluator().evaluate(["Paris", "4"], ["Paris", "5"]) == {
        "exact_match": 0.5, "length_ratio": 1.0,
    }  # fmt: skip


def test_custom_metric_classes_and_functions_work_alike():
    class ShareOfYes(Metric):
        name = "share_of_yes"

        def compute(self, predictions, references):
            return sum(p == "yes" for p in predictions) / len(predictions)

    evaluator = Evaluator({"yes": ShareOfYes(), "first": lambda p, r: p[0] == r[0]})
    assert evaluator.evaluate(["yes", "no"], ["yes", "yes"]) == {"yes": 0.5, "first": True}


def test_model_evaluator_calls_the_provider_then_the_metrics(runtime):
    runtime.register_plugin(KeywordPlugin(), "acme-keywords")
    result = ModelEvaluator(runtime).evaluate(
        model_id="kw-1", test_dataset=TICKETS, metrics=["accuracy", "exact_match"],
        provider="keywords",
    )  # fmt: skip
    assert result["accuracy"] == result.accuracy == 0.75
    assert result.model_id == "kw-1" and result.dataset_fingerprint == "sha256:tickets-v1"
    assert result.n == 4 and result.per_example["prediction"][3] == "other"


def test_evaluator_evaluates_a_model_on_a_dataset(runtime):
    runtime.register_plugin(KeywordPlugin(), "acme-keywords")
    evaluator = Evaluator(runtime=runtime)
    f1_of_refund = ComponentChoice("f1", {"pos_label": "refund"})
    by_id = evaluator.evaluate(model="kw-1", dataset=TICKETS, metrics=["accuracy", f1_of_refund],
                               provider="keywords")  # fmt: skip
    assert isinstance(by_id, EvaluationResult) and by_id.accuracy == 0.75
    assert by_id.f1 == pytest.approx(0.8)  # TP 2, FP 0, FN 1

    def rule(inputs):
        return ["refund" if "refund" in text or "money" in text else "other" for text in inputs]

    by_function = evaluator.evaluate(model=rule, dataset=TICKETS, metrics=["accuracy"])
    assert by_function.accuracy == 1.0


def test_a_real_dataset_object_works(runtime):
    dataset_module = pytest.importorskip("modelops_core.datasets.dataset")
    dataset = dataset_module.Dataset.from_records(
        [{"prompt": text, "completion": label} for text, label in TICKETS.rows]
    )
    runtime.register_plugin(KeywordPlugin(), "acme-keywords")
    result = ModelEvaluator(runtime).evaluate("kw-1", dataset, ["accuracy"], "keywords")
    assert result.accuracy == 0.75
    assert result.dataset_fingerprint == dataset.fingerprint()


def test_create_evaluator_chooses_metrics_by_task(runtime):
    binary = create_evaluator(TaskType.BINARY, runtime=runtime)
    assert set(binary.evaluate([1, 0, 1, 1], [1, 0, 0, 1])) == {
        "accuracy", "precision", "recall", "f1",
    }  # fmt: skip
    regression = create_evaluator("regression", runtime=runtime)
    assert regression.evaluate([1.0, 2.0], [1.0, 4.0])["mse"] == 2.0
    with pytest.raises(Exception, match="task='regresion' is unknown.*Did you mean"):
        create_evaluator("regresion")


def test_intervals_are_seeded_and_contain_the_value(runtime):
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2, 400)
    predictions = np.where(rng.random(400) < 0.8, references, 1 - references)
    evaluator = create_evaluator("binary", runtime=runtime, bootstrap=300, seed=3)
    first = evaluator.evaluate_result(predictions, references)
    again = evaluator.evaluate_result(predictions, references)
    for name in ("accuracy", "precision", "recall", "f1"):
        assert first.intervals[name] == again.intervals[name]
        assert first[name] in first.intervals[name]
        assert first.intervals[name].high - first.intervals[name].low < 0.15


def test_per_group_values_equal_the_metric_on_each_group(runtime):
    result = Evaluator(["accuracy"], runtime=runtime).evaluate_result(
        [1, 0, 1, 1, 0, 0], [1, 0, 0, 1, 1, 0], groups=["a", "a", "a", "b", "b", "b"]
    )
    assert result.per_group["accuracy"] == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    assert result.group_sizes == {"a": 3, "b": 3}


def test_json_round_trip_keeps_everything(runtime, tmp_path):
    result = Evaluator(["accuracy", "auc_roc"], runtime=runtime, bootstrap=50).evaluate_result(
        [1, 0, 1, 0, 1, 0], [1, 0, 0, 1, 1, 0], scores=[0.9, 0.2, 0.6, 0.4, 0.8, 0.1],
        groups=["x", "x", "x", "y", "y", "y"], model_id="m1",
    )  # fmt: skip
    path = tmp_path / "result.json"
    result.to_json(path)
    again = EvaluationResult.from_json(path)
    assert again == result
    assert '"schema_version": 1' in path.read_text()


def test_undefined_values_are_null_in_json_and_nan_again_in_python(runtime):
    result = Evaluator(["auc_roc"], runtime=runtime).evaluate_result(
        [1, 0], [1, 1], scores=[0.9, 0.2], groups=["x", "y"]
    )
    text = result.to_json()
    assert "NaN" not in text  # strict JSON
    again = EvaluationResult.from_json(text)
    assert math.isnan(again.auc_roc) and math.isnan(again.per_group["auc_roc"]["x"])


def test_a_newer_or_foreign_document_is_refused():
    with pytest.raises(ResultSchemaError, match="Upgrade modelops-core"):
        EvaluationResult.from_json('{"schema": "modelops.evaluation", "schema_version": 99}')
    with pytest.raises(ResultSchemaError, match="not a modelops evaluation result"):
        EvaluationResult.from_json('{"accuracy": 1}')


def test_after_evaluate_hook_receives_the_result(runtime):
    seen = []

    class Audit:
        @hookimpl
        def modelops_after_evaluate(self, result, runtime):
            seen.append(result)

    runtime.register_plugin(Audit(), "audit")
    result = Evaluator(["accuracy"], runtime=runtime).evaluate_result([1, 0], [1, 1])
    assert seen == [result] and seen[0]["accuracy"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "argument", "message"),
    [
        ({"predictions": [1, 0, 1], "references": [1, 0]}, "references", "mismatch"),
        ({"predictions": [], "references": []}, "predictions", "empty"),
        ({"scores": [0.2, float("nan")], "metrics": ["auc_roc"]}, "scores", "NaN"),
        ({"scores": [0.2, 1.4], "metrics": ["log_loss"]}, "scores", "outside"),
        ({"labels": [0, 1], "references": [1, 2]}, "references", "not a declared label"),
        ({"metrics": ["auc_roc"]}, "scores", "needs scores"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_argument(runtime, kwargs, argument, message):
    call = {"predictions": [1, 0], "references": [1, 0], "metrics": ["accuracy"], **kwargs}
    evaluator = Evaluator(call.pop("metrics"), runtime=runtime)
    with pytest.raises(EvaluationInputError, match=message) as caught:
        evaluator.evaluate_result(call.pop("predictions"), call.pop("references"), **call)
    assert caught.value.argument == argument


def test_an_unknown_metric_lists_the_available_names(runtime):
    from modelops_core.errors import UnknownComponentError

    with pytest.raises(UnknownComponentError, match="accuracy"):
        Evaluator(["acuracy"], runtime=runtime).evaluate_result([1], [1])


def test_metric_classes_are_importable_from_the_core():
    from modelops_core import AccuracyMetric, AUCROCMetric, ConfusionMatrix, F1Metric

    assert AccuracyMetric().compute([1, 0], [1, 1]) == 0.5
    assert F1Metric(average="macro").compute(predictions=[1, 0], references=[1, 0]) == 1.0
    assert AUCROCMetric().compute([0.9, 0.1], [1, 0]) == 1.0
    assert ConfusionMatrix().compute([1, 0], [1, 1])["matrix"] == [[0, 0], [1, 1]]


def test_a_missing_metrics_plugin_says_what_to_install(monkeypatch):
    from modelops_core.evaluation.metrics import MetricsPluginMissingError, metric_class

    monkeypatch.setitem(sys.modules, "modelops_metrics.ranking", None)
    with pytest.raises(MetricsPluginMissingError, match="pip install modelops-metrics"):
        metric_class("AUCROCMetric")


# --- metric classes and needs come from the registered metrics, not from lists in the core ------


class AcmeScoreMetric(Metric):
    """A third-party metric: the share of predictions above a threshold."""

    name = "acme_score"

    def compute(self, predictions, references):
        return sum(p > 0.5 for p in predictions) / len(predictions)


class AcmeMetricsPlugin:
    @hookimpl
    def modelops_register_metrics(self, registry):
        registry.add("acme_score", AcmeScoreMetric, description="share above 0.5")


def test_a_metric_class_is_found_through_the_registered_metrics(tmp_path):
    from modelops_core.evaluation.metrics import metric_class
    from modelops_core.testing import make_runtime

    runtime = make_runtime(tmp_path, [("acme-metrics", AcmeMetricsPlugin())])
    assert metric_class("AcmeScoreMetric", runtime) is AcmeScoreMetric


def test_a_metric_class_no_plugin_registers_says_what_to_install(tmp_path):
    from modelops_core.evaluation.metrics import MetricsPluginMissingError, metric_class
    from modelops_core.testing import make_runtime

    with pytest.raises(MetricsPluginMissingError) as caught:
        metric_class("AccuracyMetric", make_runtime(tmp_path))
    assert str(caught.value).startswith(
        "No installed plugin registers a metric made by a class named 'AccuracyMetric'; "
        "install the plugin that provides it (the standard metrics: `pip install "
        "modelops-metrics`"
    )


def test_two_plugins_with_a_metric_class_of_one_name_are_named(tmp_path):
    from modelops_core.evaluation.metrics import MetricsPluginMissingError, metric_class
    from modelops_core.testing import make_runtime

    class OtherPlugin:
        @hookimpl
        def modelops_register_metrics(self, registry):
            registry.add("other_accuracy", "acme_other.metrics:AccuracyMetric")

    runtime = make_runtime(tmp_path, [("other", OtherPlugin())], autoload=True)
    with pytest.raises(MetricsPluginMissingError, match="Several plugins") as caught:
        metric_class("AccuracyMetric", runtime)
    message = str(caught.value)
    assert "modelops_metrics.classification:AccuracyMetric (metric 'accuracy'" in message
    assert "acme_other.metrics:AccuracyMetric (metric 'other_accuracy' of other)" in message


def test_what_a_metric_needs_is_declared_on_it(runtime):
    seen = {}

    class MeanConfidence(Metric):
        name = "mean_confidence"
        needs_scores = True
        needs_probabilities = True
        takes_arrays = True

        def compute(self, predictions, references):
            seen["predictions"] = predictions
            return float(predictions.mean())

    class FirstLabel(Metric):
        name = "first_label"

        def compute(self, predictions, references):
            seen["labels"] = predictions
            return predictions[0]

    evaluator = Evaluator([MeanConfidence(), FirstLabel()], runtime=runtime)
    result = evaluator.evaluate_result(["a", "b"], ["a", "a"], scores=[0.25, 0.75])
    assert (result["mean_confidence"], result["first_label"]) == (0.5, "a")
    assert isinstance(seen["predictions"], np.ndarray) and seen["labels"] == ["a", "b"]
    with pytest.raises(EvaluationInputError) as caught:
        evaluator.evaluate_result(["a", "b"], ["a", "a"], scores=[0.25, 1.75])
    assert str(caught.value).startswith("scores[1] is 1.75, outside [0, 1] (1 of 2 values); ")
    assert caught.value.argument == "scores"


def test_the_core_names_no_module_of_the_metrics_plugin():
    """Code of the core (docstrings aside) holds no ``modelops_metrics`` module path."""
    import ast

    core = Path(__file__).resolve().parents[1] / "src" / "modelops_core"
    found = []
    for path in sorted(core.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found += [
            f"{path.relative_to(core)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "modelops_metrics" in node.value
            and id(node) not in docstrings
        ]
    assert found == []


def test_every_public_name_of_the_core_still_imports():
    import modelops_core

    missing = [name for name in modelops_core.__all__ if getattr(modelops_core, name) is None]
    assert missing == []
    from modelops_core import AccuracyMetric, EvaluationResult, MetricInputError  # noqa: F401


def test_one_metric_twice_with_other_options_gets_two_names():
    pytest.importorskip("modelops_metrics", reason="modelops-metrics is not installed")
    from modelops_core.testing import make_runtime

    runtime = make_runtime(Path(".modelops-unused"), autoload=True)
    evaluator = Evaluator(
        [ComponentChoice("f1", {"average": "macro"}), ComponentChoice("f1", {"average": "micro"})],
        runtime=runtime,
    )
    result = evaluator.evaluate(["a", "b", "b", "c"], ["a", "b", "c", "c"])
    assert set(result) == {"f1", "f1[average=micro]"}
    with pytest.raises(EvaluationInputError, match="listed twice"):
        Evaluator(["accuracy", "accuracy"], runtime=runtime).evaluate(["a"], ["a"])


def test_evaluate_components_keeps_a_metric_listed_twice_apart(runtime):
    from modelops_core.evaluation.evaluator import evaluate_components

    records = [
        {"prediction": "Paris ", "reference": "Paris"},
        {"prediction": "4", "reference": "5"},
    ]
    result = evaluate_components(runtime, ["exact_match", "length_ratio"], records)
    assert result == {"exact_match": 0.5, "length_ratio": pytest.approx((6 / 5 + 1) / 2)}
    with pytest.raises(EvaluationInputError, match="listed twice with the same options"):
        evaluate_components(runtime, ["exact_match", ComponentChoice("exact_match")], records)


# --- the public Metric base ---------------------------------------------------------------------


def test_every_built_in_metric_class_is_a_metric(runtime: Runtime) -> None:
    import modelops_core
    from modelops_core.plugins.kinds import Kind

    exported = [
        getattr(modelops_core, name)
        for name in modelops_core.__all__
        if (name.endswith("Metric") and name != "Metric") or name == "ConfusionMatrix"
    ]
    assert len(exported) == 17  # AccuracyMetric … AUCROCMetric, ConfusionMatrix
    registered = [
        spec.load()
        for spec in runtime.components[Kind.METRIC]
        if spec.factory_path.startswith("modelops_metrics.")
    ]
    assert len(registered) >= 30
    not_metrics = [cls.__name__ for cls in exported + registered if not issubclass(cls, Metric)]
    assert not_metrics == []
    from modelops_core import AccuracyMetric, AUCROCMetric

    assert issubclass(AccuracyMetric, Metric) and isinstance(AUCROCMetric(), Metric)
    assert AccuracyMetric()([1, 0, 1, 1], [1, 0, 0, 1]) == 0.75  # a Metric is callable
