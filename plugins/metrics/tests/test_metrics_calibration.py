"""Calibration metrics: the contract, and agreement with scikit-learn's calibration_curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from modelops_metrics import plugin
from modelops_metrics.calibration import ExpectedCalibrationErrorMetric, ReliabilityCurve
from sklearn.calibration import calibration_curve

from modelops_core.errors import ModelOpsError
from modelops_core.testing import MetricContract, MetricExample
from modelops_core.testing.contracts import assert_close

RNG = np.random.default_rng(7)
N = 80
PROBABILITIES = RNG.random(N).round(2)  # rounded: some probabilities sit on bin edges
LABELS = (RNG.random(N) < PROBABILITIES**1.5).astype(int)


def sklearn_ece(labels: Any, probabilities: Any, n_bins: int, strategy: str) -> float:
    """ECE from scikit-learn's reliability curve and the number of items per bin."""
    fraction_positive, mean_predicted = calibration_curve(
        labels, probabilities, n_bins=n_bins, strategy=strategy
    )
    if strategy == "quantile":
        edges = np.percentile(probabilities, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        edges = np.linspace(0, 1, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], probabilities), minlength=n_bins)
    counts = counts[counts > 0]
    return float(np.sum(counts / counts.sum() * np.abs(mean_predicted - fraction_positive)))


class TestExpectedCalibrationError(MetricContract):
    plugin = plugin
    component_name = "ece"
    distribution = "modelops-metrics"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(
                PROBABILITIES.tolist(),
                LABELS.tolist(),
                sklearn_ece(LABELS, PROBABILITIES, 10, "uniform"),
            ),
            # ten bins: every item alone in its bin, so ECE = mean |p - y|
            MetricExample([0.2, 0.4, 0.8, 0.9], [0, 1, 1, 1], (0.2 + 0.6 + 0.2 + 0.1) / 4),
        ]


class TestReliabilityCurve(MetricContract):
    plugin = plugin
    component_name = "reliability_curve"
    distribution = "modelops-metrics"

    def examples(self) -> list[MetricExample]:
        fraction_positive, mean_predicted = calibration_curve(LABELS, PROBABILITIES, n_bins=10)
        counts = np.bincount(
            np.searchsorted(np.linspace(0, 1, 11)[1:-1], PROBABILITIES), minlength=10
        )
        return [
            MetricExample(
                PROBABILITIES.tolist(),
                LABELS.tolist(),
                {
                    "mean_predicted": mean_predicted.tolist(),
                    "fraction_positive": fraction_positive.tolist(),
                    "counts": counts[counts > 0].tolist(),
                },
            )
        ]


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 5, 15])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_reliability_curve_equals_sklearn(strategy: str, n_bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    probabilities = rng.random(500).round(3)
    labels = (rng.random(500) < probabilities).astype(int)
    fraction_positive, mean_predicted = calibration_curve(
        labels, probabilities, n_bins=n_bins, strategy=strategy
    )
    curve = ReliabilityCurve(n_bins=n_bins, strategy=strategy).compute(probabilities, labels)
    assert_close(curve["fraction_positive"], fraction_positive.tolist())
    assert_close(curve["mean_predicted"], mean_predicted.tolist())
    assert sum(curve["counts"]) == 500
    ece = ExpectedCalibrationErrorMetric(n_bins=n_bins, strategy=strategy)
    assert_close(
        ece.compute(probabilities, labels), sklearn_ece(labels, probabilities, n_bins, strategy)
    )


def test_probabilities_on_the_edges_zero_and_one_are_binned_like_sklearn() -> None:
    probabilities = np.array([0.0, 0.0, 0.1, 0.5, 0.5, 1.0, 1.0, 0.9])
    labels = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    fraction_positive, mean_predicted = calibration_curve(labels, probabilities, n_bins=2)
    curve = ReliabilityCurve(n_bins=2).compute(probabilities, labels)
    assert_close(curve["fraction_positive"], fraction_positive.tolist())
    assert_close(curve["mean_predicted"], mean_predicted.tolist())


def test_integer_sample_weights_equal_repeating_the_items() -> None:
    rng = np.random.default_rng(3)
    probabilities = rng.random(300)
    labels = (rng.random(300) < probabilities).astype(int)
    weights = rng.integers(0, 4, 300)
    repeated = (np.repeat(probabilities, weights), np.repeat(labels, weights))
    metric = ExpectedCalibrationErrorMetric(n_bins=8)
    weighted = metric.compute(probabilities, labels, sample_weight=weights)
    assert_close(weighted, metric.compute(*repeated))
    assert_close(weighted, sklearn_ece(repeated[1], repeated[0], 8, "uniform"))
    curve = ReliabilityCurve(n_bins=8).compute(probabilities, labels, sample_weight=weights)
    assert_close(curve, ReliabilityCurve(n_bins=8).compute(*repeated))


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_chunked_states_with_weights_equal_one_shot(strategy: str) -> None:
    rng = np.random.default_rng(11)
    probabilities = rng.random(1000)
    labels = (rng.random(1000) < probabilities**2).astype(int)
    weights = rng.random(1000)
    metric = ExpectedCalibrationErrorMetric(n_bins=12, strategy=strategy)
    states = [
        metric.state().update(
            probabilities[start : start + 250],
            labels[start : start + 250],
            sample_weight=weights[start : start + 250],
        )
        for start in range(0, 1000, 250)
    ]
    merged = states[0].merge(states[1]).merge(states[2].merge(states[3]))
    assert_close(merged.compute(), metric.compute(probabilities, labels, sample_weight=weights))


def test_a_perfectly_calibrated_constant_has_zero_error() -> None:
    labels = [1, 0, 0, 0] * 25
    assert ExpectedCalibrationErrorMetric().compute([0.25] * 100, labels) == 0.0


def test_single_class_references_are_accepted() -> None:
    assert_close(ExpectedCalibrationErrorMetric(n_bins=2).compute([0.1, 0.7], [1, 1]), 0.6)


@pytest.mark.parametrize(
    ("predictions", "references", "message"),
    [
        ([0.2, 1.5], [0, 1], r"predictions\[1\] is 1.5, outside \[0, 1\]"),
        ([0.2, float("nan")], [0, 1], r"predictions\[1\] is nan"),
        ([0.2, 0.3], [0, 2], r"references\[1\] is 2"),
        ([0.2, 0.3], [0], "2 items but references has 1"),
        ([], [], "empty"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_argument(
    predictions: list[float], references: list[int], message: str
) -> None:
    with pytest.raises(ModelOpsError, match=message) as error:
        ExpectedCalibrationErrorMetric().compute(predictions, references)
    assert isinstance(error.value, ValueError)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="strategy is 'equal'"):
        ExpectedCalibrationErrorMetric(strategy="equal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_bins is 0"):
        ReliabilityCurve(n_bins=0)
    with pytest.raises(ValueError, match="n_bins is 2.5"):
        ReliabilityCurve(n_bins=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_bins is True"):
        ReliabilityCurve(n_bins=True)


def test_numpy_integer_bins_are_taken_as_scikit_learn_takes_them() -> None:
    predictions, references = [0.1, 0.4, 0.35, 0.8, 0.9, 0.65], [0, 0, 1, 1, 1, 0]
    metric = ExpectedCalibrationErrorMetric(n_bins=np.int64(3))
    assert metric.n_bins == 3 and type(metric.n_bins) is int
    curve = ReliabilityCurve(n_bins=np.int32(3)).compute(predictions, references)
    true_rate, mean_predicted = calibration_curve(references, predictions, n_bins=np.int64(3))
    assert_close(curve["fraction_positive"], list(true_rate))
    assert_close(curve["mean_predicted"], list(mean_predicted))
