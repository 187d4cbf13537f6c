"""Classification metrics with declared labels, chunks, weights and edge cases, equal to
scikit-learn value by value (issue 18: each test kills mutants of classification.py the
comparisons in test_metrics_against_sklearn.py let live)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from modelops_metrics._validation import MetricOptionError
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
from sklearn import metrics as sk

from modelops_core.errors import MetricInputError

PREDICTIONS = [0, 1, 2, 2, 1, 0, 2, 1]
REFERENCES = [0, 1, 1, 2, 0, 0, 2, 2]
WEIGHTS = [1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.25, 2.0]


def test_accuracy_with_declared_labels_equals_sklearn():
    declared = AccuracyMetric(labels=[0, 1, 2, 3])
    assert (
        declared.compute(PREDICTIONS, REFERENCES)
        == 5 / 8
        == sk.accuracy_score(REFERENCES, PREDICTIONS)
    )
    weighted = declared.compute(PREDICTIONS, REFERENCES, sample_weight=WEIGHTS)
    assert weighted == pytest.approx(
        sk.accuracy_score(REFERENCES, PREDICTIONS, sample_weight=WEIGHTS), rel=1e-15
    )
    assert weighted == pytest.approx(5.25 / 10.75, rel=1e-15)
    with pytest.raises(MetricInputError):
        AccuracyMetric(labels=[0, 1]).compute(PREDICTIONS, REFERENCES)


def test_accuracy_in_chunks_equals_accuracy_at_once():
    for metric in (AccuracyMetric(), AccuracyMetric(labels=[0, 1, 2])):
        state = metric.state().update(PREDICTIONS[:3], REFERENCES[:3], WEIGHTS[:3])
        state = state.update(PREDICTIONS[3:], REFERENCES[3:], WEIGHTS[3:])
        assert state.compute() == pytest.approx(5.25 / 10.75, rel=1e-15)
        assert state.examples == 8
    with pytest.raises(MetricInputError, match="holds no examples"):
        AccuracyMetric().state().compute()
    with pytest.raises(MetricInputError, match="holds no examples"):
        AccuracyMetric(labels=[0, 1]).state().compute()


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("metric", [PrecisionMetric, RecallMetric, F1Metric])
def test_chunked_updates_with_declared_labels_equal_sklearn(metric, average):
    labels = [0, 1, 2, 3]  # 3 never occurs
    ours = metric(average=average, labels=labels)
    function = {
        PrecisionMetric: sk.precision_score,
        RecallMetric: sk.recall_score,
        F1Metric: sk.f1_score,
    }[metric]
    expected = function(REFERENCES, PREDICTIONS, labels=labels, average=average,
                        sample_weight=WEIGHTS, zero_division=0.0)  # fmt: skip
    # the second chunk holds only classes 0 and 2
    state = ours.state().update(PREDICTIONS[:5], REFERENCES[:5], WEIGHTS[:5])
    state = state.update(PREDICTIONS[5:], REFERENCES[5:], WEIGHTS[5:])
    value = state.compute()
    if average is None:
        assert list(value) == labels
        np.testing.assert_allclose(list(value.values()), expected, rtol=1e-14)
    else:
        assert value == pytest.approx(expected, rel=1e-14)
    assert ours.compute(PREDICTIONS, REFERENCES, sample_weight=WEIGHTS) == pytest.approx(value)


def test_chunks_merged_without_declared_labels_unite_their_labels():
    state = F1Metric(average=None).state().update(["b", "b"], ["b", "a"])
    state = state.update(["c", "a"], ["c", "c"])
    expected = sk.f1_score(["b", "a", "c", "c"], ["b", "b", "c", "a"], average=None)
    assert state.compute() == pytest.approx(dict(zip("abc", expected, strict=True)))
    other = ConfusionMatrix().state().update(["z"], ["z"])
    merged = state.merge(other)
    assert merged.labels.tolist() == ["a", "b", "c", "z"]
    assert merged.examples == 5


def test_binary_scores_pick_the_positive_label():
    p, r = ["spam", "ham", "spam", "spam"], ["spam", "spam", "ham", "spam"]
    assert PrecisionMetric(pos_label="spam").compute(p, r) == 2 / 3
    assert RecallMetric(pos_label="ham").compute(p, r) == 0.0
    assert F1Metric(pos_label="spam").compute(p, r) == sk.f1_score(r, p, pos_label="spam")
    with pytest.raises(MetricOptionError, match="pos_label=1 is not one of the labels"):
        F1Metric().compute(p, r)
    with pytest.raises(MetricOptionError, match="needs at most two"):
        F1Metric().compute(PREDICTIONS, REFERENCES)
    # only negatives anywhere: no positive class, the zero_division value
    assert RecallMetric(zero_division=1.0).compute([0, 0], [0, 0]) == 1.0
    assert RecallMetric().compute([0, 0], [0, 0]) == 0.0
    assert math.isnan(RecallMetric(zero_division=math.nan).compute([0, 0], [0, 0]))
    with pytest.raises(MetricOptionError, match="zero_division=0.5 must be"):
        RecallMetric(zero_division=0.5)
    with pytest.raises(MetricOptionError, match="average='samples' is not supported"):
        RecallMetric(average="samples")


def test_macro_averages_skip_nan_classes_and_weighted_falls_back_when_support_is_zero():
    p, r = [0, 0, 1], [0, 0, 0]
    nan_recall = RecallMetric(average="macro", zero_division=math.nan)
    assert nan_recall.compute(p, r) == sk.recall_score(r, p, average="macro",
                                                       zero_division=np.nan)  # fmt: skip
    assert nan_recall.compute(p, r) == 2 / 3
    # class 0 has no predictions (NaN, left out); classes 1 and 2 have no references: the
    # support of what is left is 0, so the mean is unweighted
    weighted = PrecisionMetric(average="weighted", labels=[0, 1, 2], zero_division=math.nan)
    expected = sk.precision_score([0, 0], [1, 2], average="weighted", labels=[0, 1, 2],
                                  zero_division=np.nan)  # fmt: skip
    assert weighted.compute([1, 2], [0, 0]) == expected == 0.0


def test_balanced_accuracy_adjusted_and_with_declared_labels():
    expected = sk.balanced_accuracy_score(REFERENCES, PREDICTIONS, sample_weight=WEIGHTS,
                                          adjusted=True)  # fmt: skip
    ours = BalancedAccuracyMetric(adjusted=True, labels=[0, 1, 2, 3])
    assert ours.compute(PREDICTIONS, REFERENCES, sample_weight=WEIGHTS) == pytest.approx(
        expected, rel=1e-14
    )
    plain = BalancedAccuracyMetric().compute(PREDICTIONS, REFERENCES)
    assert plain == pytest.approx(sk.balanced_accuracy_score(REFERENCES, PREDICTIONS), rel=1e-15)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_normalized_with_an_empty_class(normalize):
    labels = [0, 1, 2, 3]
    ours = ConfusionMatrix(labels=labels, normalize=normalize).compute(PREDICTIONS, REFERENCES)
    expected = sk.confusion_matrix(REFERENCES, PREDICTIONS, labels=labels, normalize=normalize)
    assert ours["labels"] == labels
    np.testing.assert_allclose(ours["matrix"], expected, rtol=1e-15)
    with pytest.raises(MetricOptionError, match="normalize='rows' is not supported"):
        ConfusionMatrix(normalize="rows")


def test_mcc_and_kappa_equal_sklearn_and_their_undefined_values():
    assert MCCMetric(labels=[0, 1, 2, 3]).compute(
        PREDICTIONS, REFERENCES, sample_weight=WEIGHTS
    ) == pytest.approx(sk.matthews_corrcoef(REFERENCES, PREDICTIONS, sample_weight=WEIGHTS),
                       rel=1e-14)  # fmt: skip
    assert MCCMetric().compute([1, 1, 1], [1, 0, 1]) == 0.0  # one predicted class: undefined
    for weights in (None, "linear", "quadratic"):
        ours = CohenKappaMetric(weights=weights).compute(PREDICTIONS, REFERENCES)
        assert ours == pytest.approx(
            sk.cohen_kappa_score(REFERENCES, PREDICTIONS, weights=weights), rel=1e-14
        )
    assert math.isnan(CohenKappaMetric().compute([1, 1], [1, 1]))
    assert CohenKappaMetric(replace_undefined_by=0.0).compute([1, 1], [1, 1]) == 0.0
    with pytest.raises(MetricOptionError, match="weights='cubic' is not supported"):
        CohenKappaMetric(weights="cubic")


def test_declared_labels_must_be_unique_and_non_empty():
    with pytest.raises(MetricOptionError, match="contains a label twice"):
        F1Metric(labels=[1, 1]).compute([1], [1])
    with pytest.raises(MetricOptionError, match="must be a non-empty list"):
        F1Metric(labels=[]).compute([1], [1])


def test_brier_with_all_zero_references_and_no_pos_label():
    # pos_label=None: 1 is the positive class of {0, 1} labels even when no 1 occurs
    probabilities = [0.1, 0.2, 0.3]
    assert BrierScoreMetric().compute(probabilities, [0, 0, 0]) == pytest.approx(
        (0.01 + 0.04 + 0.09) / 3, rel=1e-14
    )
    assert BrierScoreMetric().compute(probabilities, [-1, -1, -1]) == pytest.approx(0.14 / 3)
    assert BrierScoreMetric().compute(probabilities, [1, 1, 1]) == pytest.approx(
        (0.81 + 0.64 + 0.49) / 3, rel=1e-14
    )
    # other numbers: the greater label is positive
    assert BrierScoreMetric().compute([0.1, 0.8], [2, 3]) == pytest.approx(
        sk.brier_score_loss([2, 3], [0.1, 0.8], pos_label=3), rel=1e-14
    )
    with pytest.raises(MetricOptionError, match="set pos_label"):
        BrierScoreMetric().compute([0.1, 0.8], ["no", "yes"])
    assert BrierScoreMetric(pos_label="yes").compute([0.1, 0.8], ["no", "yes"]) == pytest.approx(
        (0.01 + 0.04) / 2
    )


def test_multiclass_brier_and_log_loss_equal_sklearn():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    references = [0, 1, 2, 0]
    weights = [1.0, 2.0, 1.0, 0.5]
    assert BrierScoreMetric().compute(probabilities, references, sample_weight=weights) == (
        pytest.approx(
            sk.brier_score_loss(references, probabilities, sample_weight=weights), rel=1e-14
        )
    )
    assert BrierScoreMetric(scale_by_half=True).compute(probabilities, references) == (
        pytest.approx(sk.brier_score_loss(references, probabilities, scale_by_half=True))
    )
    assert LogLossMetric().compute(probabilities, references, sample_weight=weights) == (
        pytest.approx(sk.log_loss(references, probabilities, sample_weight=weights), rel=1e-14)
    )
    two = np.array([[0.8, 0.2], [0.3, 0.7]])
    assert BrierScoreMetric().compute(two, [0, 1]) == pytest.approx(
        sk.brier_score_loss([0, 1], two[:, 1]), rel=1e-14
    )
    with pytest.raises(MetricInputError, match="references hold 2 classes"):
        LogLossMetric().compute(probabilities[:2], [0, 1])
    with pytest.raises(MetricInputError, match="references contain only one label"):
        LogLossMetric().compute(two, [1, 1])
    declared = LogLossMetric(labels=[0, 1, 2])
    assert declared.compute(probabilities[:2], [0, 0]) == pytest.approx(
        sk.log_loss([0, 0], probabilities[:2], labels=[0, 1, 2]), rel=1e-14
    )


def test_probability_losses_in_chunks():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    references = [0, 1, 2, 0]
    for metric in (BrierScoreMetric(), LogLossMetric()):
        state = metric.state().update(probabilities[:1], references[:1])
        state = state.update(probabilities[1:], references[1:])
        assert state.compute() == pytest.approx(metric.compute(probabilities, references))
    with pytest.raises(MetricInputError, match="the chunks have 3 and 2 probability columns"):
        LogLossMetric().state().update(probabilities, references).update(
            np.array([[0.5, 0.5]]), [0]
        )
    with pytest.raises(MetricInputError, match="predictions are 1-D"):
        BrierScoreMetric().compute([0.1, 0.2, 0.3], [0, 1, 2])
