"""Every metric checks its input with the core's shared checks: one error class, one message shape.

A classification, a probability, a ranking, a regression, a calibration, a fairness and a text
metric of this plugin, the core's own text metric and the evaluation engine are given the same
bad input and must answer with the same error (``modelops_core.errors.MetricInputError``), the
same message and the same ``argument``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
from modelops_metrics import _validation as plugin_validation
from modelops_metrics import calibration, classification, fairness, ranking, regression, text

from modelops_core import Evaluator, Runtime
from modelops_core.builtin.text_metrics import exact_match_metric
from modelops_core.config import parse_config
from modelops_core.errors import MetricInputError, ModelOpsError
from modelops_core.evaluation.inputs import EvaluationInputError
from modelops_core.evaluation.result import EvaluationError

Compute = Callable[[Any, Any], Any]
GROUPS = ["a", "b", "a", "b"]


def _grouped(metric: Any) -> Compute:
    return lambda p, r: metric.compute(p, r, groups=GROUPS[: len(p)])


@pytest.fixture(scope="module")
def evaluator_runtime() -> Runtime:
    """A runtime with the installed plugins, on the embedded default configuration."""
    return Runtime(parse_config({}, source="test"), environ={})


# (name, compute, predictions that are valid for it, references that are valid for it)
LABELS = [1, 0, 1]
SCORES = [0.2, 0.7, 0.9]
REAL = [0.5, 1.5, 2.5]
TEXT = ["a cat", "a dog", "a cow"]
METRICS: list[tuple[str, Compute, list[Any], list[Any]]] = [
    ("classification f1", classification.F1Metric().compute, LABELS, LABELS),
    ("probability log_loss", classification.LogLossMetric().compute, SCORES, LABELS),
    ("ranking auc_roc", ranking.AUCROCMetric().compute, SCORES, LABELS),
    ("regression mse", regression.MSEMetric().compute, REAL, REAL),
    ("calibration ece", calibration.ExpectedCalibrationErrorMetric().compute, SCORES, LABELS),
    ("fairness equalized odds", _grouped(fairness.EqualizedOddsDifference()), LABELS, LABELS),
    ("fairness group metric", _grouped(fairness.GroupMetric("accuracy")), LABELS, LABELS),
    ("text token_f1", text.TokenF1Metric().compute, TEXT, TEXT),
    ("text bleu", text.BleuMetric().compute, TEXT, TEXT),
    ("core exact_match", exact_match_metric, TEXT, TEXT),
]
IDS = [name for name, *_ in METRICS]


def refusal(compute: Compute, predictions: Any, references: Any) -> MetricInputError:
    with pytest.raises(MetricInputError) as caught:
        compute(predictions, references)
    assert type(caught.value) is MetricInputError, "one class is raised for bad input"
    return caught.value


def test_there_is_one_error_class_for_bad_metric_input_under_every_old_name() -> None:
    assert EvaluationInputError is MetricInputError
    assert plugin_validation.MetricInputError is MetricInputError
    assert issubclass(MetricInputError, EvaluationError)
    assert issubclass(MetricInputError, ModelOpsError)
    assert issubclass(MetricInputError, ValueError)
    assert issubclass(plugin_validation.MetricOptionError, MetricInputError)
    copy = pickle.loads(pickle.dumps(MetricInputError("scores is empty", argument="scores")))
    assert (str(copy), copy.argument) == ("scores is empty", "scores")


@pytest.mark.parametrize(("name", "compute", "predictions", "references"), METRICS, ids=IDS)
def test_a_length_mismatch_is_the_same_error_from_every_metric(
    name: str, compute: Compute, predictions: list[Any], references: list[Any]
) -> None:
    error = refusal(compute, predictions, references[:2])
    assert str(error) == (
        "predictions has 3 items but references has 2; the lengths mismatch. Pass one value "
        "per example, in the same order."
    )
    assert error.argument == "references"


def test_the_evaluation_engine_reports_a_length_mismatch_the_same_way(
    evaluator_runtime: Runtime,
) -> None:
    evaluator = Evaluator(["exact_match"], runtime=evaluator_runtime)
    error = refusal(evaluator.evaluate_result, TEXT, TEXT[:2])
    assert str(error) == (
        "predictions has 3 items but references has 2; the lengths mismatch. Pass one value "
        "per example, in the same order."
    )
    assert error.argument == "references"


@pytest.mark.parametrize(("name", "compute", "predictions", "references"), METRICS, ids=IDS)
def test_empty_input_is_the_same_error_from_every_metric(
    name: str, compute: Compute, predictions: list[Any], references: list[Any]
) -> None:
    error = refusal(compute, [], [])
    assert str(error) == "predictions is empty; pass at least one example."
    assert error.argument == "predictions"


@pytest.mark.parametrize(
    ("compute", "predictions", "references"),
    [
        (classification.LogLossMetric().compute, [0.2, float("nan"), 0.9], LABELS),
        (ranking.AUCROCMetric().compute, [0.2, float("nan"), 0.9], LABELS),
        (regression.R2Metric().compute, [0.5, float("nan"), 2.5], REAL),
        (calibration.ExpectedCalibrationErrorMetric().compute, [0.2, float("nan"), 0.9], LABELS),
        (_grouped(fairness.GroupCalibrationError()), [0.2, float("nan"), 0.9], LABELS),
    ],
    ids=["log_loss", "auc_roc", "r2", "ece", "group_calibration_error"],
)
def test_nan_is_the_same_error_from_every_metric_of_numbers(
    compute: Compute, predictions: list[Any], references: list[Any]
) -> None:
    error = refusal(compute, predictions, references)
    assert str(error) == (
        "predictions[1] is nan: predictions contains NaN or infinity (1 of 3 values); remove "
        "or impute those examples first."
    )
    assert error.argument == "predictions"


def test_nan_scores_given_to_the_engine_get_the_same_message(evaluator_runtime: Runtime) -> None:
    evaluator = Evaluator(["auc_roc"], runtime=evaluator_runtime)
    with pytest.raises(MetricInputError) as caught:
        evaluator.evaluate_result([1, 0, 1], LABELS, scores=[0.2, float("inf"), 0.9])
    assert str(caught.value) == (
        "scores[1] is inf: scores contains NaN or infinity (1 of 3 values); remove or impute "
        "those examples first."
    )
    assert caught.value.argument == "scores"


@pytest.mark.parametrize(
    "compute",
    [
        classification.LogLossMetric().compute,
        classification.BrierScoreMetric().compute,
        calibration.ExpectedCalibrationErrorMetric().compute,
        calibration.ReliabilityCurve().compute,
        _grouped(fairness.GroupCalibrationError()),
    ],
    ids=["log_loss", "brier", "ece", "reliability_curve", "group_calibration_error"],
)
def test_a_probability_outside_the_unit_interval_is_the_same_error_from_every_metric(
    compute: Compute,
) -> None:
    error = refusal(compute, [0.2, 1.5, -0.5], LABELS)
    assert str(error) == (
        "predictions[1] is 1.5, outside [0, 1] (2 of 3 values); pass probabilities (for raw "
        "scores or logits apply a sigmoid or softmax first)."
    )
    assert error.argument == "predictions"


def test_the_engine_checks_probabilities_for_a_metric_that_declares_it_needs_them(
    evaluator_runtime: Runtime,
) -> None:
    scores = [0.2, 1.5, -0.5]
    brier = Evaluator(["brier"], runtime=evaluator_runtime)
    with pytest.raises(MetricInputError) as caught:
        brier.evaluate_result([1, 0, 1], LABELS, scores=scores)
    assert str(caught.value).startswith("scores[1] is 1.5, outside [0, 1] (2 of 3 values); ")
    assert caught.value.argument == "scores"
    # auc_roc takes any real scores: the same scores are accepted (both positives rank low)
    auc = Evaluator(["auc_roc"], runtime=evaluator_runtime)
    assert auc.evaluate_result([1, 0, 1], LABELS, scores=scores)["auc_roc"] == 0.0


def _weighted(metric: Any, **keywords: Any) -> Callable[[Any, Any, Any], Any]:
    return lambda p, r, w: metric.compute(p, r, sample_weight=w, **keywords)


@pytest.mark.parametrize(
    ("compute", "predictions", "references"),
    [
        (_weighted(classification.AccuracyMetric()), LABELS, LABELS),
        (_weighted(classification.LogLossMetric()), SCORES, LABELS),
        (_weighted(ranking.AveragePrecisionMetric()), SCORES, LABELS),
        (_weighted(regression.MAEMetric()), REAL, REAL),
        (_weighted(calibration.ExpectedCalibrationErrorMetric()), SCORES, LABELS),
        (_weighted(fairness.DemographicParityDifference(), groups=GROUPS[:3]), LABELS, LABELS),
        (_weighted(text.RougeLMetric()), TEXT, TEXT),
    ],
    ids=["accuracy", "log_loss", "average_precision", "mae", "ece", "demographic_parity", "rouge"],
)
def test_a_negative_weight_is_the_same_error_from_every_metric(
    compute: Callable[[Any, Any, Any], Any], predictions: list[Any], references: list[Any]
) -> None:
    with pytest.raises(MetricInputError) as caught:
        compute(predictions, references, [1.0, -2.0, 1.0])
    assert str(caught.value) == (
        "sample_weight[1] is -2.0, a negative weight (1 of 3 values); weights must be >= 0."
    )
    assert caught.value.argument == "sample_weight"


def test_a_label_outside_the_declared_labels_is_the_same_error_from_metric_and_engine(
    evaluator_runtime: Runtime,
) -> None:
    expected = (
        "references[2] is 5: references contains the label 5, which is not a declared label (1 "
        "of 3 values); labels=[0, 1]. Add it to labels or drop those examples."
    )
    plugin = refusal(classification.PrecisionMetric(labels=[0, 1]).compute, [0, 1, 1], [0, 1, 5])
    with pytest.raises(MetricInputError) as engine:
        Evaluator(["accuracy"], runtime=evaluator_runtime).evaluate_result(
            [0, 1, 1], [0, 1, 5], labels=[0, 1]
        )
    assert str(plugin) == str(engine.value) == expected
    assert plugin.argument == engine.value.argument == "references"


def test_labels_of_different_kinds_are_refused_by_every_label_metric() -> None:
    for metric in (classification.AccuracyMetric(), classification.CohenKappaMetric()):
        error = refusal(metric.compute, [1, 0], ["yes", "no"])
        assert str(error).startswith(
            "predictions hold int64 values (e.g. 1) but references hold <U3 values (e.g. 'yes'); "
            "labels of both must be of the same kind"
        )


def test_a_value_that_is_not_text_is_the_same_error_from_the_core_and_the_plugin() -> None:
    expected = (
        "predictions[1] is int, not str; text metrics compare strings. Convert predictions to "
        "text, or choose a metric for int values."
    )
    for compute in (exact_match_metric, text.TokenF1Metric().compute, text.BleuMetric().compute):
        error = refusal(compute, ["a", 7], ["a", "7"])
        assert str(error) == expected
        assert error.argument == "predictions"


def test_a_string_in_place_of_a_sequence_is_refused_not_split_into_characters() -> None:
    for compute in (exact_match_metric, text.TokenF1Metric().compute):
        error = refusal(compute, "abc", ["a", "b", "c"])
        assert str(error).startswith("predictions is one str ('abc'); pass a sequence")
