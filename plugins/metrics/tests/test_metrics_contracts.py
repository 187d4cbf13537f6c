"""Every registered metric of part 1 passes the metric contract of modelops-core.

Expected values come from scikit-learn on the same inputs, so each example is a real comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as sk
from modelops_metrics import plugin

from modelops_core.testing import MetricContract, MetricExample

RNG = np.random.default_rng(20240601)
N = 60
BINARY_PRED = RNG.integers(0, 2, N).tolist()
BINARY_REF = RNG.integers(0, 2, N).tolist()
MULTI_PRED = RNG.integers(0, 4, N).tolist()
MULTI_REF = RNG.integers(0, 4, N).tolist()
SCORES = np.round(RNG.random(N), 1).tolist()  # rounded: many ties
PROBABILITIES = RNG.dirichlet(np.ones(4), N).tolist()
REAL_REF = RNG.normal(3.0, 2.0, N).tolist()
REAL_PRED = (np.asarray(REAL_REF) + RNG.normal(0.0, 1.0, N)).tolist()
WORDS_PRED = ["cat", "dog", "dog", "bird", "cat", "cat"]
WORDS_REF = ["cat", "dog", "cat", "bird", "bird", "cat"]


class _Part1Contract(MetricContract):
    plugin = plugin
    distribution = "modelops-metrics"


class TestAccuracy(_Part1Contract):
    component_name = "accuracy"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(MULTI_PRED, MULTI_REF, sk.accuracy_score(MULTI_REF, MULTI_PRED)),
            MetricExample(WORDS_PRED, WORDS_REF, 4 / 6),
        ]


class TestBalancedAccuracy(_Part1Contract):
    component_name = "balanced_accuracy"

    def examples(self) -> list[MetricExample]:
        expected = sk.balanced_accuracy_score(MULTI_REF, MULTI_PRED)
        return [MetricExample(MULTI_PRED, MULTI_REF, expected)]


class TestPrecision(_Part1Contract):
    component_name = "precision"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(BINARY_PRED, BINARY_REF, sk.precision_score(BINARY_REF, BINARY_PRED)),
            MetricExample([1, 1, 1, 0], [1, 0, 1, 0], 2 / 3),
            # the chunked-state contract slices sample_weight with the rows
            MetricExample([1, 1, 1, 0], [1, 0, 1, 0], 3 / 4, {"sample_weight": [2, 1, 1, 5]}),
        ]


class TestRecall(_Part1Contract):
    component_name = "recall"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(BINARY_PRED, BINARY_REF, sk.recall_score(BINARY_REF, BINARY_PRED)),
            MetricExample([1, 1, 1, 0], [1, 0, 1, 0], 1.0),
        ]


class TestF1(_Part1Contract):
    component_name = "f1"

    def examples(self) -> list[MetricExample]:
        return [MetricExample(BINARY_PRED, BINARY_REF, sk.f1_score(BINARY_REF, BINARY_PRED))]


class TestConfusionMatrix(_Part1Contract):
    component_name = "confusion_matrix"

    def examples(self) -> list[MetricExample]:
        matrix = sk.confusion_matrix(MULTI_REF, MULTI_PRED).tolist()
        words = sk.confusion_matrix(WORDS_REF, WORDS_PRED).tolist()
        return [
            MetricExample(MULTI_PRED, MULTI_REF, {"labels": [0, 1, 2, 3], "matrix": matrix}),
            MetricExample(
                WORDS_PRED, WORDS_REF, {"labels": ["bird", "cat", "dog"], "matrix": words}
            ),
        ]


class TestMCC(_Part1Contract):
    component_name = "mcc"

    def examples(self) -> list[MetricExample]:
        return [MetricExample(MULTI_PRED, MULTI_REF, sk.matthews_corrcoef(MULTI_REF, MULTI_PRED))]


class TestCohenKappa(_Part1Contract):
    component_name = "cohen_kappa"

    def examples(self) -> list[MetricExample]:
        expected = sk.cohen_kappa_score(MULTI_REF, MULTI_PRED)
        return [MetricExample(MULTI_PRED, MULTI_REF, expected)]


class TestLogLoss(_Part1Contract):
    component_name = "log_loss"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(PROBABILITIES, MULTI_REF, sk.log_loss(MULTI_REF, PROBABILITIES)),
            MetricExample(SCORES, BINARY_REF, sk.log_loss(BINARY_REF, SCORES)),
        ]


class TestBrier(_Part1Contract):
    component_name = "brier"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(SCORES, BINARY_REF, sk.brier_score_loss(BINARY_REF, SCORES)),
            MetricExample(PROBABILITIES, MULTI_REF, sk.brier_score_loss(MULTI_REF, PROBABILITIES)),
        ]


class TestAUCROC(_Part1Contract):
    component_name = "auc_roc"

    def examples(self) -> list[MetricExample]:
        multiclass = sk.roc_auc_score(MULTI_REF, PROBABILITIES, multi_class="ovr")
        return [
            MetricExample(SCORES, BINARY_REF, sk.roc_auc_score(BINARY_REF, SCORES)),
            MetricExample(PROBABILITIES, MULTI_REF, multiclass),
        ]


class TestAveragePrecision(_Part1Contract):
    component_name = "average_precision"

    def examples(self) -> list[MetricExample]:
        expected = sk.average_precision_score(BINARY_REF, SCORES)
        return [MetricExample(SCORES, BINARY_REF, expected)]


class TestROCCurve(_Part1Contract):
    component_name = "roc_curve"

    def examples(self) -> list[MetricExample]:
        fpr, tpr, thresholds = sk.roc_curve(BINARY_REF, SCORES)
        expected = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()}
        return [MetricExample(SCORES, BINARY_REF, expected)]


class TestPRCurve(_Part1Contract):
    component_name = "pr_curve"

    def examples(self) -> list[MetricExample]:
        precision, recall, thresholds = sk.precision_recall_curve(BINARY_REF, SCORES)
        expected = {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "thresholds": thresholds.tolist(),
        }
        return [MetricExample(SCORES, BINARY_REF, expected)]


class TestMSE(_Part1Contract):
    component_name = "mse"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(REAL_PRED, REAL_REF, sk.mean_squared_error(REAL_REF, REAL_PRED)),
            MetricExample([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0], 0.375),
        ]


class TestMAE(_Part1Contract):
    component_name = "mae"

    def examples(self) -> list[MetricExample]:
        return [MetricExample(REAL_PRED, REAL_REF, sk.mean_absolute_error(REAL_REF, REAL_PRED))]


class TestRMSE(_Part1Contract):
    component_name = "rmse"

    def examples(self) -> list[MetricExample]:
        expected = sk.root_mean_squared_error(REAL_REF, REAL_PRED)
        return [MetricExample(REAL_PRED, REAL_REF, expected)]


class TestR2(_Part1Contract):
    component_name = "r2"

    def examples(self) -> list[MetricExample]:
        return [MetricExample(REAL_PRED, REAL_REF, sk.r2_score(REAL_REF, REAL_PRED))]


class TestMAPE(_Part1Contract):
    component_name = "mape"

    def examples(self) -> list[MetricExample]:
        expected = sk.mean_absolute_percentage_error(REAL_REF, REAL_PRED)
        return [MetricExample(REAL_PRED, REAL_REF, expected)]


class TestExplainedVariance(_Part1Contract):
    component_name = "explained_variance"

    def examples(self) -> list[MetricExample]:
        expected = sk.explained_variance_score(REAL_REF, REAL_PRED)
        return [MetricExample(REAL_PRED, REAL_REF, expected)]


@pytest.mark.parametrize(
    ("name", "higher_is_better"),
    [("accuracy", True), ("f1", True), ("log_loss", False), ("mse", False), ("r2", True)],
)
def test_direction_is_declared(name: str, higher_is_better: bool, tmp_path) -> None:
    from modelops_core.testing.fixtures import make_runtime

    runtime = make_runtime(tmp_path / ".modelops", [("modelops-metrics", plugin)])
    metric = runtime.create("metric", name)
    assert metric.name == name
    assert metric.higher_is_better is higher_is_better


def test_importing_the_plugin_imports_no_numpy() -> None:
    from modelops_core.testing import packages_imported_by

    assert "numpy" not in packages_imported_by("import modelops_metrics.plugin")
