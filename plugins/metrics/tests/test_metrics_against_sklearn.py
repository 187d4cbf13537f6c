"""Property-style comparisons with scikit-learn on seeded random inputs (to 1e-12)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as sk
from modelops_metrics.classification import (
    AccuracyMetric,
    BalancedAccuracyMetric,
    BrierScoreMetric,
    CohenKappaMetric,
    ConfusionMatrix,
    F1Metric,
    LogLossMetric,
    MCCMetric,
    PrecisionMetric,
    RecallMetric,
)
from modelops_metrics.ranking import AUCROCMetric, AveragePrecisionMetric, PRCurve, ROCCurve
from modelops_metrics.regression import (
    ExplainedVarianceMetric,
    MAEMetric,
    MAPEMetric,
    MSEMetric,
    R2Metric,
    RMSEMetric,
)

from modelops_core.testing.contracts import assert_close

SEEDS = range(6)


@pytest.fixture(autouse=True)
def _quiet_sklearn_warnings():
    # scikit-learn warns on undefined values (zero division, one class); we compare the values.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def labels_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Random predictions, references and weights with 2 to 6 classes (some maybe absent)."""
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(2, 7))
    size = int(rng.integers(5, 300))
    references = rng.integers(0, classes, size)
    predictions = np.where(rng.random(size) < 0.5, references, rng.integers(0, classes, size))
    weights = rng.random(size) * (rng.random(size) > 0.1)
    return predictions, references, weights, classes


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_label_metrics_equal_sklearn(seed: int, weighted: bool) -> None:
    predictions, references, weights, _ = labels_case(seed)
    w = weights if weighted else None
    call = {"sample_weight": w}
    assert_close(
        AccuracyMetric().compute(predictions, references, **call),
        sk.accuracy_score(references, predictions, sample_weight=w),
    )
    assert_close(
        BalancedAccuracyMetric().compute(predictions, references, **call),
        sk.balanced_accuracy_score(references, predictions, sample_weight=w),
    )
    assert_close(
        BalancedAccuracyMetric(adjusted=True).compute(predictions, references, **call),
        sk.balanced_accuracy_score(references, predictions, sample_weight=w, adjusted=True),
    )
    assert_close(
        MCCMetric().compute(predictions, references, **call),
        sk.matthews_corrcoef(references, predictions, sample_weight=w),
    )
    for kappa_weights in (None, "linear", "quadratic"):
        assert_close(
            CohenKappaMetric(weights=kappa_weights).compute(predictions, references, **call),
            sk.cohen_kappa_score(references, predictions, weights=kappa_weights, sample_weight=w),
        )
    matrix = ConfusionMatrix().compute(predictions, references, **call)["matrix"]
    assert_close(matrix, sk.confusion_matrix(references, predictions, sample_weight=w).tolist())
    for normalize in ("true", "pred", "all"):
        normalized = ConfusionMatrix(normalize=normalize).compute(predictions, references, **call)
        expected = sk.confusion_matrix(
            references, predictions, sample_weight=w, normalize=normalize
        )
        assert_close(normalized["matrix"], expected.tolist())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, math.nan])
def test_precision_recall_f1_equal_sklearn(seed: int, average, zero_division: float) -> None:
    predictions, references, weights, classes = labels_case(seed)
    # make a class never predicted and another never referenced, so zero_division matters
    predictions = np.where(predictions == 0, 1, predictions)
    references = np.where(references == classes - 1, 0, references)
    pairs = [
        (PrecisionMetric, sk.precision_score),
        (RecallMetric, sk.recall_score),
        (F1Metric, sk.f1_score),
    ]
    for ours, theirs in pairs:
        for w in (None, weights):
            got = ours(average=average, zero_division=zero_division).compute(
                predictions, references, sample_weight=w
            )
            want = theirs(
                references,
                predictions,
                average=average,
                zero_division=zero_division,
                sample_weight=w,
            )
            if average is None:
                labels = np.union1d(references, predictions).tolist()
                want = dict(zip(labels, np.asarray(want).tolist(), strict=True))
            assert_close(got, want)


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_precision_recall_f1_with_pos_label_and_declared_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    references = rng.choice(["spam", "ham"], 80)
    predictions = rng.choice(["spam", "ham"], 80)
    for ours, theirs in ((PrecisionMetric, sk.precision_score), (RecallMetric, sk.recall_score)):
        got = ours(pos_label="spam").compute(predictions, references)
        assert_close(got, theirs(references, predictions, pos_label="spam"))
    declared = ["ham", "spam", "eggs"]
    got = F1Metric(average="macro", labels=declared).compute(predictions, references)
    assert_close(got, sk.f1_score(references, predictions, average="macro", labels=declared))


def test_single_class_present() -> None:
    predictions, references = [1, 1, 1], [1, 1, 1]
    assert PrecisionMetric().compute(predictions, references) == sk.precision_score(
        references, predictions
    )
    assert MCCMetric().compute(predictions, references) == 0.0
    assert BalancedAccuracyMetric().compute(predictions, references) == 1.0
    assert F1Metric().compute([0, 0], [0, 0]) == sk.f1_score([0, 0], [0, 0]) == 0.0
    assert F1Metric(zero_division=1.0).compute([0, 0], [0, 0]) == 1.0
    assert math.isnan(AUCROCMetric().compute([0.2, 0.8], [1, 1]))
    assert math.isnan(CohenKappaMetric().compute([1, 1], [1, 1]))


def test_swapping_predictions_and_references_is_caught() -> None:
    predictions = [1, 1, 1, 1, 0, 0]
    references = [1, 1, 0, 0, 0, 0]
    precision = PrecisionMetric().compute(predictions, references)
    recall = RecallMetric().compute(predictions, references)
    assert precision == sk.precision_score(references, predictions) == 0.5
    assert recall == sk.recall_score(references, predictions) == 1.0
    # the classic bug: scikit-learn order (y_true, y_pred) passed to our (predictions, references)
    assert PrecisionMetric().compute(references, predictions) == 1.0 != precision
    assert PrecisionMetric().compute(predictions=predictions, references=references) == precision


@pytest.mark.parametrize("seed", SEEDS)
def test_probability_losses_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(20, 300))
    classes = int(rng.integers(3, 6))
    references = rng.integers(0, classes, size)
    references[:classes] = np.arange(classes)  # every class present
    probabilities = rng.dirichlet(np.ones(classes), size)
    probabilities[0] = np.eye(classes)[1]  # exact 0 and 1: clipping matters
    weights = rng.random(size)
    binary = rng.integers(0, 2, size)
    binary[:2] = [0, 1]
    positive = rng.random(size)
    for w in (None, weights):
        assert_close(
            LogLossMetric().compute(probabilities, references, sample_weight=w),
            sk.log_loss(references, probabilities, sample_weight=w),
        )
        assert_close(
            LogLossMetric().compute(positive, binary, sample_weight=w),
            sk.log_loss(binary, positive, sample_weight=w),
        )
        assert_close(
            BrierScoreMetric().compute(positive, binary, sample_weight=w),
            sk.brier_score_loss(binary, positive, sample_weight=w),
        )
        assert_close(
            BrierScoreMetric().compute(probabilities, references, sample_weight=w),
            sk.brier_score_loss(references, probabilities, sample_weight=w),
        )
    assert_close(
        BrierScoreMetric(pos_label=0).compute(positive, binary),
        sk.brier_score_loss(binary, positive, pos_label=0),
    )
    declared = list(range(classes))
    partial = references[references != 0]
    assert_close(
        LogLossMetric(labels=declared).compute(probabilities[references != 0], partial),
        sk.log_loss(partial, probabilities[references != 0], labels=declared),
    )


def scores_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(10, 400))
    references = rng.integers(0, 2, size)
    references[:2] = [0, 1]
    scores = np.round(rng.random(size) + 0.3 * references, int(rng.integers(1, 4)))  # ties
    weights = rng.random(size) * (rng.random(size) > 0.1)
    return scores, references, weights


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_ranking_equals_sklearn(seed: int) -> None:
    scores, references, weights = scores_case(seed)
    for w in (None, weights):
        assert_close(
            AUCROCMetric().compute(scores, references, sample_weight=w),
            sk.roc_auc_score(references, scores, sample_weight=w),
        )
        assert_close(
            AveragePrecisionMetric().compute(scores, references, sample_weight=w),
            sk.average_precision_score(references, scores, sample_weight=w),
        )
        fpr, tpr, thresholds = sk.roc_curve(references, scores, sample_weight=w)
        assert_close(
            ROCCurve().compute(scores, references, sample_weight=w),
            {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()},
        )
        fpr, tpr, thresholds = sk.roc_curve(references, scores, drop_intermediate=False)
        assert_close(
            ROCCurve(drop_intermediate=False).compute(scores, references),
            {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()},
        )
        precision, recall, thresholds = sk.precision_recall_curve(
            references, scores, sample_weight=w
        )
        assert_close(
            PRCurve().compute(scores, references, sample_weight=w),
            {
                "precision": precision.tolist(),
                "recall": recall.tolist(),
                "thresholds": thresholds.tolist(),
            },
        )
    # string labels: AUC's positive class is the greater label
    named = np.where(references == 1, "yes", "no")
    assert_close(AUCROCMetric().compute(scores, named), sk.roc_auc_score(named, scores))
    assert_close(
        AveragePrecisionMetric(pos_label="no").compute(scores, named),
        sk.average_precision_score(named, scores, pos_label="no"),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_ranking_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size, classes = int(rng.integers(30, 300)), int(rng.integers(3, 6))
    references = rng.integers(0, classes, size)
    references[:classes] = np.arange(classes)
    probabilities = rng.dirichlet(np.ones(classes), size)
    weights = rng.random(size)
    for average in ("macro", "weighted"):
        for w in (None, weights):
            assert_close(
                AUCROCMetric(average=average).compute(probabilities, references, sample_weight=w),
                sk.roc_auc_score(
                    references, probabilities, multi_class="ovr", average=average, sample_weight=w
                ),
            )
        assert_close(
            AUCROCMetric(multi_class="ovo", average=average).compute(probabilities, references),
            sk.roc_auc_score(references, probabilities, multi_class="ovo", average=average),
        )
    for average in ("macro", "weighted", "micro"):
        for w in (None, weights):
            assert_close(
                AveragePrecisionMetric(average=average).compute(
                    probabilities, references, sample_weight=w
                ),
                sk.average_precision_score(
                    references, probabilities, average=average, sample_weight=w
                ),
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 500))
    references = rng.normal(1e3, 5.0, size)  # a large mean: naive variance formulas lose digits
    predictions = references + rng.normal(0.5, 2.0, size)
    weights = rng.random(size)
    pairs = [
        (MSEMetric, sk.mean_squared_error),
        (RMSEMetric, sk.root_mean_squared_error),
        (MAEMetric, sk.mean_absolute_error),
        (MAPEMetric, sk.mean_absolute_percentage_error),
        (R2Metric, sk.r2_score),
        (ExplainedVarianceMetric, sk.explained_variance_score),
    ]
    for ours, theirs in pairs:
        for w in (None, weights):
            assert_close(
                ours().compute(predictions, references, sample_weight=w),
                theirs(references, predictions, sample_weight=w),
            )


def test_regression_edge_cases_equal_sklearn() -> None:
    constant = [2.0, 2.0, 2.0]
    assert R2Metric().compute(constant, constant) == sk.r2_score(constant, constant) == 1.0
    assert R2Metric().compute([1.0, 2.0, 3.0], constant) == sk.r2_score(constant, [1.0, 2, 3])
    assert ExplainedVarianceMetric().compute([1.0, 2.0, 3.0], constant) == 0.0
    zero_reference = [0.0, 1.0]
    assert_close(
        MAPEMetric().compute([0.5, 1.0], zero_reference),
        sk.mean_absolute_percentage_error(zero_reference, [0.5, 1.0]),
    )
