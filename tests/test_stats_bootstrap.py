"""Bootstrap intervals agree with scipy.stats.bootstrap and are reproducible from a seed."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from modelops_core.evaluation.stats.bootstrap import (
    BootstrapError,
    bootstrap_generic,
    bootstrap_means,
    bootstrap_table,
)
from modelops_core.evaluation.stats.counts import PRFStatistic, encode_pairs, share_of_ones

RESAMPLES = 4000


def scipy_interval(data, statistic, method):
    result = scipy.stats.bootstrap(
        (data,), statistic, n_resamples=RESAMPLES, method=method, random_state=1
    )
    return result.confidence_interval.low, result.confidence_interval.high


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_accuracy_interval_agrees_with_scipy(method):
    hits = np.random.default_rng(0).random(400) < 0.8
    ours = bootstrap_table(hits.astype(int), 2, share_of_ones, resamples=RESAMPLES, seed=0)
    expected = scipy_interval(hits.astype(float), np.mean, {"bca": "BCa"}.get(method, method))
    # two independent Monte-Carlo runs: endpoints within a few resampling standard errors
    assert ours.interval(0.95, method) == pytest.approx(expected, abs=0.012)


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_mean_error_interval_agrees_with_scipy(method):
    errors = np.random.default_rng(1).exponential(size=300)
    ours = bootstrap_means(errors, resamples=RESAMPLES, seed=0)
    expected = scipy_interval(errors, np.mean, {"bca": "BCa"}.get(method, method))
    assert ours.interval(0.95, method) == pytest.approx(expected, abs=0.02)


def test_generic_bootstrap_of_a_median_agrees_with_scipy():
    values = np.random.default_rng(2).normal(size=200)
    ours = bootstrap_generic(200, lambda idx: float(np.median(values[idx])), resamples=2000,
                             seed=0, jackknife=True)  # fmt: skip
    result = scipy.stats.bootstrap((values,), np.median, n_resamples=2000, method="BCa",
                                   random_state=0)  # fmt: skip
    expected = (result.confidence_interval.low, result.confidence_interval.high)
    assert ours.interval(0.95, "bca") == pytest.approx(expected, abs=0.06)


def test_coverage_of_the_percentile_interval_is_near_nominal():
    rng = np.random.default_rng(3)
    covered = 0
    for seed in range(200):
        hits = rng.random(150) < 0.7
        low, high = bootstrap_table(hits.astype(int), 2, share_of_ones, resamples=500,
                                    seed=seed).interval(0.9)  # fmt: skip
        covered += low <= 0.7 <= high
    assert 0.83 <= covered / 200 <= 0.96  # nominal 0.90; binomial noise at 200 trials


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    hits = (np.random.default_rng(4).random(300) < 0.6).astype(int)
    first = bootstrap_table(hits, 2, share_of_ones, resamples=500, seed=7).interval()
    again = bootstrap_table(hits, 2, share_of_ones, resamples=500, seed=7).interval()
    other = bootstrap_table(hits, 2, share_of_ones, resamples=500, seed=8).interval()
    assert first == again and first != other


@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted"])
@pytest.mark.parametrize("kind", ["precision", "recall", "f1"])
def test_table_statistic_equals_sklearn_on_resampled_data(kind, average):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    classes = 2 if average == "binary" else 4
    references = rng.integers(0, classes, 60)
    predictions = np.where(rng.random(60) < 0.6, references, rng.integers(0, classes, 60))
    codes, labels = encode_pairs(predictions, references)
    k = labels.shape[0]
    statistic = PRFStatistic(kind, average, k, 1, False, 0.0)
    function = {
        "precision": sklearn_metrics.precision_score,
        "recall": sklearn_metrics.recall_score,
        "f1": sklearn_metrics.f1_score,
    }[kind]
    for _ in range(12):  # resamples drop classes and create zero divisions
        index = rng.integers(0, 60, 60)
        table = np.bincount(codes[index], minlength=k * k)[None, :]
        expected = function(references[index], predictions[index], average=average,
                            zero_division=0.0)  # fmt: skip
        assert statistic(table)[0] == pytest.approx(expected, abs=1e-12)


def test_tiny_and_single_class_samples():
    one = bootstrap_table(np.array([1]), 2, share_of_ones, resamples=50, seed=0)
    assert one.interval() == (1.0, 1.0)
    same = bootstrap_table(np.ones(20, dtype=int), 2, share_of_ones, resamples=50, seed=0)
    assert same.interval("bca" and 0.95, "bca") == (1.0, 1.0)


def test_bad_requests_name_the_argument():
    hits = np.array([0, 1, 1])
    estimate = bootstrap_table(hits, 2, share_of_ones, resamples=10, seed=0)
    with pytest.raises(BootstrapError, match="level"):
        estimate.interval(1.5)
    with pytest.raises(BootstrapError, match="method"):
        estimate.interval(0.95, "studentized")
    with pytest.raises(BootstrapError, match="empty"):
        bootstrap_means(np.array([]))
