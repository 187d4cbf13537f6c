"""Chunked (mergeable) evaluation equals the one-shot path; bad input raises typed errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from modelops_metrics import classification, ranking, regression
from modelops_metrics._validation import MetricInputError

from modelops_core.errors import ModelOpsError
from modelops_core.testing.contracts import assert_close


def chunked(metric, predictions, references, weights, pieces: int):
    """Fold chunks into states, merging them pairwise in a tree (as a distributed engine would)."""
    bounds = np.linspace(0, len(references), pieces + 1).astype(int)
    states = [
        metric.state().update(
            predictions[start:stop],
            references[start:stop],
            None if weights is None else weights[start:stop],
        )
        for start, stop in itertools.pairwise(bounds)
        if stop > start
    ]
    while len(states) > 1:
        states = [
            states[i].merge(states[i + 1]) if i + 1 < len(states) else states[i]
            for i in range(0, len(states), 2)
        ]
    return states[0].compute()


LABEL_METRICS = [
    classification.AccuracyMetric(),
    classification.BalancedAccuracyMetric(),
    classification.PrecisionMetric(average="macro"),
    classification.RecallMetric(average=None),
    classification.F1Metric(average="weighted"),
    classification.ConfusionMatrix(),
    classification.MCCMetric(),
    classification.CohenKappaMetric(weights="quadratic"),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", LABEL_METRICS, ids=lambda m: m.name)
def test_label_states_discover_labels_across_chunks(metric, seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = 400
    # sorted references: early chunks never see the late labels, so labels must merge
    references = np.sort(rng.integers(0, 7, size))
    predictions = np.clip(references + rng.integers(-1, 2, size), 0, 8)
    weights = rng.random(size)
    for w in (None, weights):
        one_shot = metric.compute(predictions, references, sample_weight=w)
        assert_close(chunked(metric, predictions, references, w, pieces=7), one_shot)


def test_string_labels_merge_across_chunks() -> None:
    predictions = np.array(["b", "a", "c", "c", "d", "a"])
    references = np.array(["a", "a", "b", "c", "d", "d"])
    metric = classification.ConfusionMatrix()
    assert_close(
        chunked(metric, predictions, references, None, 3), metric.compute(predictions, references)
    )


SCORE_METRICS = [
    classification.LogLossMetric(),
    classification.BrierScoreMetric(),
    ranking.AUCROCMetric(),
    ranking.AveragePrecisionMetric(),
    ranking.ROCCurve(),
    ranking.PRCurve(),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", SCORE_METRICS, ids=lambda m: m.name)
def test_binary_score_states_equal_one_shot(metric, seed: int) -> None:
    rng = np.random.default_rng(seed)
    references = np.sort(rng.integers(0, 2, 300))  # the first chunks hold one class only
    scores = np.round(rng.random(300), 2)
    weights = rng.random(300)
    for w in (None, weights):
        one_shot = metric.compute(scores, references, sample_weight=w)
        assert_close(chunked(metric, scores, references, w, pieces=5), one_shot)


@pytest.mark.parametrize(
    "metric",
    [classification.LogLossMetric(), classification.BrierScoreMetric(), ranking.AUCROCMetric()],
    ids=lambda m: m.name,
)
def test_multiclass_probability_states_equal_one_shot(metric) -> None:
    rng = np.random.default_rng(7)
    references = np.sort(rng.integers(0, 4, 300))
    probabilities = rng.dirichlet(np.ones(4), 300)
    one_shot = metric.compute(probabilities, references)
    assert_close(chunked(metric, probabilities, references, None, pieces=6), one_shot)


REGRESSION_METRICS = [
    regression.MSEMetric(),
    regression.RMSEMetric(),
    regression.MAEMetric(),
    regression.MAPEMetric(),
    regression.R2Metric(),
    regression.ExplainedVarianceMetric(),
]


@pytest.mark.parametrize("metric", REGRESSION_METRICS, ids=lambda m: m.name)
def test_regression_states_equal_one_shot(metric) -> None:
    rng = np.random.default_rng(3)
    references = np.sort(rng.normal(1e4, 3.0, 1000))  # sorted: chunk means differ
    predictions = references + rng.normal(0.0, 1.0, 1000)
    weights = rng.random(1000)
    for w in (None, weights):
        one_shot = metric.compute(predictions, references, sample_weight=w)
        assert_close(chunked(metric, predictions, references, w, pieces=9), one_shot)


# --- bad input ----------------------------------------------------------------------------------


def test_errors_are_typed() -> None:
    assert issubclass(MetricInputError, ModelOpsError)
    assert issubclass(MetricInputError, ValueError)


@pytest.mark.parametrize(
    "metric",
    [classification.AccuracyMetric(), ranking.AUCROCMetric(), regression.MSEMetric()],
    ids=lambda m: m.name,
)
def test_empty_input_is_refused(metric) -> None:
    with pytest.raises(MetricInputError, match="predictions is empty"):
        metric.compute([], [])


def test_length_mismatch_names_both_arguments() -> None:
    with pytest.raises(MetricInputError, match="predictions has 3 items but references has 2"):
        classification.F1Metric().compute([1, 0, 1], [1, 0])
    with pytest.raises(MetricInputError, match="sample_weight"):
        classification.F1Metric().compute([1, 0], [1, 0], sample_weight=[1.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinity_in_scores_is_refused(bad: float) -> None:
    with pytest.raises(MetricInputError, match="predictions contains NaN or infinity"):
        ranking.AUCROCMetric().compute([0.1, bad, 0.3], [0, 1, 1])
    with pytest.raises(MetricInputError, match="references contains NaN or infinity"):
        regression.R2Metric().compute([0.1, 0.2], [bad, 1.0])


def test_probabilities_outside_unit_interval_are_refused() -> None:
    with pytest.raises(MetricInputError, match=r"predictions\[1\] is 1\.5, outside \[0, 1\]"):
        classification.LogLossMetric().compute([0.2, 1.5], [0, 1])
    with pytest.raises(MetricInputError, match=r"outside \[0, 1\]"):
        classification.BrierScoreMetric().compute([-0.1, 0.5], [0, 1])


def test_label_outside_declared_labels_is_refused() -> None:
    metric = classification.PrecisionMetric(average="macro", labels=[0, 1, 2])
    with pytest.raises(
        MetricInputError, match=r"references contains the label 5.*labels=\[0, 1, 2\]"
    ):
        metric.compute([0, 1, 2], [0, 1, 5])
    named = classification.AccuracyMetric(labels=["cat", "dog"])
    with pytest.raises(MetricInputError, match="predictions contains the label 'cow'"):
        named.compute(["cat", "cow"], ["cat", "dog"])


def test_bad_options_say_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="average='mean' is not supported"):
        classification.F1Metric(average="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="zero_division"):
        classification.RecallMetric(zero_division=0.5)
    with pytest.raises(ValueError, match="average='binary' needs at most two"):
        classification.F1Metric().compute([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="pos_label='spam' is not one of"):
        classification.PrecisionMetric(pos_label="spam").compute(["a", "b"], ["b", "a"])


def test_multiclass_scores_must_match_classes() -> None:
    probabilities = np.full((4, 3), 1 / 3)
    with pytest.raises(MetricInputError, match="3 score columns"):
        ranking.AUCROCMetric().compute(probabilities, [0, 1, 0, 1])
    with pytest.raises(MetricInputError, match="only one label"):
        classification.LogLossMetric().compute([0.2, 0.4], [1, 1])


def test_an_empty_state_cannot_be_computed() -> None:
    with pytest.raises(MetricInputError, match="no examples"):
        classification.F1Metric().state().compute()
