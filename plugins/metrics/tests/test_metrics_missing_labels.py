"""A missing label (NaN, None) is refused by every label metric, never counted as a class.

scikit-learn refuses the same inputs (``ValueError: Input y_pred contains NaN`` for floats, a
``TypeError`` when None is sorted among strings); our error is the shared
:class:`~modelops_core.errors.MetricInputError`, naming the argument, the first position and
how many labels are missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from modelops_metrics import classification, fairness, ranking
from sklearn import metrics as sk

from modelops_core import Evaluator, Runtime
from modelops_core.config import parse_config
from modelops_core.errors import MetricInputError

nan = math.nan
# scikit-learn casts the NaN before refusing it
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

# (name, ours, scikit-learn's): both called as f(predictions, references)
LABEL_METRICS: list[tuple[str, Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = [
    ("accuracy", classification.AccuracyMetric().compute, lambda p, r: sk.accuracy_score(r, p)),
    (
        "balanced_accuracy",
        classification.BalancedAccuracyMetric().compute,
        lambda p, r: sk.balanced_accuracy_score(r, p),
    ),
    (
        "macro recall",
        classification.RecallMetric(average="macro").compute,
        lambda p, r: sk.recall_score(r, p, average="macro"),
    ),
    (
        "macro f1",
        classification.F1Metric(average="macro").compute,
        lambda p, r: sk.f1_score(r, p, average="macro"),
    ),
    ("mcc", classification.MCCMetric().compute, lambda p, r: sk.matthews_corrcoef(r, p)),
    (
        "cohen_kappa",
        classification.CohenKappaMetric().compute,
        lambda p, r: sk.cohen_kappa_score(r, p),
    ),
    (
        "confusion_matrix",
        classification.ConfusionMatrix().compute,
        lambda p, r: sk.confusion_matrix(r, p),
    ),
    (
        "binary precision",
        classification.PrecisionMetric().compute,
        lambda p, r: sk.precision_score(r, p),
    ),
    (
        "accuracy with labels",
        classification.AccuracyMetric(labels=[0.0, 1.0]).compute,
        lambda p, r: sk.accuracy_score(r, p),
    ),
]


def missing(argument: str, where: int, value: str, count: int, size: int) -> str:
    labels = "label" if count == 1 else "labels"
    return (
        f"{argument}[{where}] is {value}: {argument} contains {count} missing {labels} (NaN or "
        f"None) among {size} values; a missing label is not a class. Drop those examples, or "
        "fill them with a label, first."
    )


@pytest.mark.parametrize(
    ("name", "ours", "theirs"), LABEL_METRICS, ids=[m[0] for m in LABEL_METRICS]
)
def test_nan_in_float_predictions_is_refused(name, ours, theirs) -> None:
    predictions, references = [1.0, 0.0, nan, 1.0, nan], [1.0, 0.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="contains NaN"):
        theirs(predictions, references)
    with pytest.raises(MetricInputError) as error:
        ours(predictions, references)
    assert str(error.value) == missing("predictions", 2, "nan", 2, 5)
    assert error.value.argument == "predictions"


@pytest.mark.parametrize(
    ("name", "ours", "theirs"), LABEL_METRICS, ids=[m[0] for m in LABEL_METRICS]
)
def test_nan_in_float_references_is_refused(name, ours, theirs) -> None:
    predictions, references = [1.0, 0.0, 1.0, 1.0], np.array([1.0, 0.0, 1.0, nan])
    with pytest.raises(ValueError, match="contains NaN"):
        theirs(predictions, references)
    with pytest.raises(MetricInputError) as error:
        ours(predictions, references)
    assert str(error.value) == missing("references", 3, "nan", 1, 4)
    assert error.value.argument == "references"


STRING_METRICS = [
    m for m in LABEL_METRICS if m[0] not in ("binary precision", "accuracy with labels")
]


@pytest.mark.parametrize(
    ("name", "ours", "theirs"), STRING_METRICS, ids=[m[0] for m in STRING_METRICS]
)
def test_none_among_string_labels_is_refused(name, ours, theirs) -> None:
    predictions, references = ["spam", "ham", "spam", "ham"], ["spam", None, "spam", None]
    with pytest.raises(TypeError):
        theirs(predictions, references)
    with pytest.raises(MetricInputError) as error:
        ours(predictions, references)
    assert str(error.value) == missing("references", 1, "None", 2, 4)


@pytest.mark.parametrize(
    ("name", "ours", "theirs"), STRING_METRICS, ids=[m[0] for m in STRING_METRICS]
)
def test_nan_among_string_labels_is_refused_not_read_as_the_text_nan(name, ours, theirs) -> None:
    # numpy turns ["spam", nan] into ["spam", "nan"] (scikit-learn then counts a class "nan")
    predictions, references = ["spam", nan, "spam", "ham"], ["spam", "ham", "spam", "ham"]
    with pytest.raises(MetricInputError) as error:
        ours(predictions, references)
    assert str(error.value) == missing("predictions", 1, "nan", 1, 4)


def test_the_text_nan_is_a_label_like_any_other() -> None:
    accuracy = classification.AccuracyMetric()
    assert accuracy.compute(["nan", "a", "nan"], ["nan", "a", "a"]) == pytest.approx(2 / 3)
    assert accuracy.compute(np.array(["nan", "a"]), np.array(["nan", "b"])) == 0.5


def test_binary_precision_names_the_nan_not_three_labels() -> None:
    with pytest.raises(MetricInputError) as error:
        classification.PrecisionMetric(pos_label=1).compute([1, 0, nan, 1], [1, 0, 1, 1])
    assert "3 labels" not in str(error.value)
    assert str(error.value) == missing("predictions", 2, "nan", 1, 4)


def test_a_mergeable_state_refuses_a_chunk_with_nan_and_keeps_its_counts() -> None:
    state = classification.MCCMetric().state().update([1, 0, 1, 1], [1, 0, 0, 1])
    with pytest.raises(MetricInputError, match=r"references\[1\] is nan"):
        state.update([1, 0], [0.0, nan])
    assert state.compute() == pytest.approx(sk.matthews_corrcoef([1, 0, 0, 1], [1, 0, 1, 1]))


def test_ranking_and_fairness_refuse_missing_labels() -> None:
    with pytest.raises(MetricInputError) as error:
        ranking.AUCROCMetric().compute([0.1, 0.4, 0.35, 0.8], [0.0, 0.0, 1.0, nan])
    assert str(error.value) == missing("references", 3, "nan", 1, 4)
    with pytest.raises(ValueError, match="contains NaN"):
        sk.roc_auc_score([0.0, 0.0, 1.0, nan], [0.1, 0.4, 0.35, 0.8])
    groups = ["a", "a", "b", "b"]
    with pytest.raises(MetricInputError) as error:
        fairness.DemographicParityDifference().compute([1, None, 0, 1], groups=groups)
    assert str(error.value) == missing("predictions", 1, "None", 1, 4)
    with pytest.raises(MetricInputError) as error:
        fairness.EqualizedOddsDifference().compute(
            [1, 0, 0, 1], [1.0, nan, 0.0, nan], groups=groups
        )
    assert str(error.value) == missing("references", 1, "nan", 2, 4)


def test_the_evaluator_refuses_missing_labels() -> None:
    runtime = Runtime(parse_config({}, source="test"), environ={})
    evaluator = Evaluator(["accuracy", "f1", "mcc", "confusion_matrix"], runtime=runtime)
    with pytest.raises(MetricInputError) as error:
        evaluator.evaluate([1, 0, nan, 1], [1, 0, 1, 1])
    assert str(error.value) == missing("predictions", 2, "nan", 1, 4)
    with pytest.raises(MetricInputError) as error:
        evaluator.evaluate_result(["a", "b", "a"], ["a", None, "b"], groups=["x", "y", "x"])
    assert str(error.value) == missing("references", 1, "None", 1, 3)
