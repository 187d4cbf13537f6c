"""Ranking metrics with declared labels, weights, ties and undefined cases, equal to
scikit-learn value by value (issue 18: each test kills mutants of ranking.py the comparisons in
test_metrics_against_sklearn.py let live)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from modelops_metrics._validation import MetricOptionError
from modelops_metrics.ranking import AUCROCMetric, AveragePrecisionMetric, PRCurve, ROCCurve
from sklearn import metrics as sk
from sklearn.exceptions import UndefinedMetricWarning

from modelops_core.errors import MetricInputError

SCORES = np.array(
    [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]]
)
WEIGHTS = [1.0, 2.0, 0.5, 1.5, 1.0]


def sklearn_quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return function(*args, **kwargs)


def test_one_vs_rest_auc_with_a_declared_label_absent_from_the_references():
    references = [0, 1, 0, 1, 0]  # class 2 is declared, never a reference
    for average in ("macro", "weighted", None):
        ours = AUCROCMetric(labels=[0, 1, 2], average=average).compute(SCORES, references)
        theirs = sklearn_quietly(sk.roc_auc_score, references, SCORES, multi_class="ovr",
                                 labels=[0, 1, 2], average=average)  # fmt: skip
        if average is None:
            assert list(ours) == [0, 1, 2]
            np.testing.assert_array_equal(list(ours.values()), theirs)
        elif average == "macro":
            assert math.isnan(ours) and math.isnan(theirs)
        else:
            assert ours == pytest.approx(theirs, rel=1e-14) and ours == pytest.approx(0.7)


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_one_vs_rest_and_one_vs_one_auc_equal_sklearn(average):
    references = [0, 1, 2, 0, 2]
    ours = AUCROCMetric(average=average).compute(SCORES, references, sample_weight=WEIGHTS)
    theirs = sk.roc_auc_score(references, SCORES, multi_class="ovr", average=average,
                              sample_weight=WEIGHTS)  # fmt: skip
    assert ours == pytest.approx(theirs, rel=1e-14)
    ovo = AUCROCMetric(multi_class="ovo", average=average).compute(SCORES, references)
    assert ovo == pytest.approx(
        sk.roc_auc_score(references, SCORES, multi_class="ovo", average=average), rel=1e-14
    )


def test_auc_options_and_inputs_that_are_refused():
    with pytest.raises(MetricOptionError, match="multi_class='ova'"):
        AUCROCMetric(multi_class="ova")
    with pytest.raises(MetricOptionError, match="average='micro'"):
        AUCROCMetric(average="micro")
    with pytest.raises(MetricOptionError, match="needs multi_class='ovr'"):
        AUCROCMetric(multi_class="ovo", average=None)
    with pytest.raises(MetricOptionError, match="sample_weight is not supported"):
        AUCROCMetric(multi_class="ovo").compute(SCORES, [0, 1, 2, 0, 2], sample_weight=WEIGHTS)
    with pytest.raises(MetricInputError, match="rows sum to 1"):
        AUCROCMetric().compute(SCORES * 2, [0, 1, 2, 0, 2])
    with pytest.raises(MetricInputError, match="references hold 3 classes but predictions are"):
        AUCROCMetric().compute([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(MetricInputError, match="references hold 2 classes"):
        AUCROCMetric().compute(SCORES, [0, 1, 0, 1, 0])
    assert math.isnan(AUCROCMetric().compute([0.1, 0.2], [1, 1]))


def test_binary_auc_with_ties_and_weights_equals_sklearn():
    scores = [0.1, 0.4, 0.4, 0.8, 0.8, 0.3, 0.9]
    references = [0, 0, 1, 1, 0, 1, 1]
    weights = [1.0, 2.0, 1.0, 0.5, 3.0, 1.0, 2.0]
    assert AUCROCMetric().compute(scores, references) == pytest.approx(
        sk.roc_auc_score(references, scores), rel=1e-14
    )
    assert AUCROCMetric().compute(scores, references, sample_weight=weights) == pytest.approx(
        sk.roc_auc_score(references, scores, sample_weight=weights), rel=1e-14
    )


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_average_precision_with_declared_labels_and_weights(average):
    references = [0, 1, 0, 1, 0]
    ours = AveragePrecisionMetric(labels=[0, 1, 2], average=average).compute(
        SCORES, references, sample_weight=WEIGHTS
    )
    one_hot = np.eye(3)[references]
    theirs = sklearn_quietly(sk.average_precision_score, one_hot, SCORES, average=average,
                             sample_weight=WEIGHTS)  # fmt: skip
    if average is None:
        np.testing.assert_allclose(list(ours.values()), theirs, rtol=1e-14)
    else:
        assert ours == pytest.approx(theirs, rel=1e-14)


def test_binary_average_precision_and_its_pos_label():
    scores = [0.1, 0.4, 0.35, 0.8]
    assert AveragePrecisionMetric().compute(scores, [0, 0, 1, 1]) == pytest.approx(
        sk.average_precision_score([0, 0, 1, 1], scores), rel=1e-14
    )
    assert AveragePrecisionMetric(pos_label="y").compute(scores, ["n", "n", "y", "y"]) == (
        pytest.approx(0.8333333333333333)
    )
    assert AveragePrecisionMetric().compute(scores, [0, 0, 0, 0]) == 0.0
    with pytest.raises(MetricOptionError, match="pos_label=1 is not one of"):
        AveragePrecisionMetric().compute(scores, ["n", "n", "y", "y"])
    with pytest.raises(MetricInputError, match="references hold 3 classes"):
        AveragePrecisionMetric().compute(scores, [0, 1, 2, 2])
    with pytest.raises(MetricOptionError, match="average='samples'"):
        AveragePrecisionMetric(average="samples")


@pytest.mark.parametrize("drop", [True, False])
def test_roc_curve_equals_sklearn(drop):
    scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.7]
    references = [-1, -1, 1, 1, -1, 1, 1]
    ours = ROCCurve(drop_intermediate=drop).compute(scores, references)
    fpr, tpr, thresholds = sk.roc_curve(references, scores, drop_intermediate=drop)
    np.testing.assert_allclose(ours["fpr"], fpr, rtol=1e-15)
    np.testing.assert_allclose(ours["tpr"], tpr, rtol=1e-15)
    assert ours["thresholds"] == thresholds.tolist()
    only_negatives = ROCCurve().compute([0.2, 0.4], [0, 0])
    assert only_negatives["fpr"] == [0.0, 0.5, 1.0]
    assert all(math.isnan(value) for value in only_negatives["tpr"])


def test_pr_curve_equals_sklearn_and_curves_refuse_what_they_cannot_draw():
    scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2]
    references = ["a", "a", "b", "b", "a", "b"]
    ours = PRCurve(pos_label="b").compute(scores, references)
    precision, recall, thresholds = sk.precision_recall_curve(references, scores, pos_label="b")
    np.testing.assert_allclose(ours["precision"], precision, rtol=1e-15)
    np.testing.assert_allclose(ours["recall"], recall, rtol=1e-15)
    assert ours["thresholds"] == thresholds.tolist()
    with pytest.raises(MetricOptionError, match="set pos_label to the positive class"):
        PRCurve().compute(scores, references)
    with pytest.raises(MetricOptionError, match="references hold 3 classes; set pos_label"):
        PRCurve().compute([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(MetricInputError, match="a curve needs 1-D scores"):
        ROCCurve().compute(SCORES, [0, 1, 2, 0, 2])
    no_positive = PRCurve().compute([0.2, 0.4], [0, 0])
    assert no_positive["recall"] == [1.0, 1.0, 0.0]


def test_chunks_with_and_without_weights_count_unweighted_examples_once():
    scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2]
    references = [0, 0, 1, 1, 0, 1]
    state = AUCROCMetric().state().update(scores[:3], references[:3])
    state = state.update(scores[3:], references[3:], sample_weight=[2.0, 0.5, 3.0])
    expected = sk.roc_auc_score(references, scores, sample_weight=[1, 1, 1, 2.0, 0.5, 3.0])
    assert state.compute() == pytest.approx(expected, rel=1e-14)
    with pytest.raises(MetricInputError, match="predictions of different shapes"):
        AUCROCMetric().state().update(scores[:3], references[:3]).update(
            SCORES[:3], [0, 1, 2]
        ).compute()


def test_roc_curve_when_the_only_positive_has_the_lowest_score():
    ours = ROCCurve(drop_intermediate=False).compute([0.9, 0.8, 0.1], [0, 0, 1])
    fpr, tpr, thresholds = sk.roc_curve([0, 0, 1], [0.9, 0.8, 0.1], drop_intermediate=False)
    assert ours == {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()}
    assert ours["tpr"] == [0.0, 0.0, 0.0, 1.0]
