"""Bootstrap intervals agree with scipy.stats.bootstrap and are reproducible from a seed."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest
import scipy.stats

from modelops_core.evaluation.stats.bootstrap import (
    BLOCK_ENTRIES,
    JACKKNIFE_GROUPS,
    BootstrapError,
    BootstrapEstimate,
    bootstrap_generic,
    bootstrap_means,
    bootstrap_table,
    check_request,
    index_blocks,
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


# Exact agreement on the same resamples: scipy.stats.bootstrap draws its index matrix with
# rng.integers(0, n, (n_resamples, n)) like index_blocks, so with the same seed (and batch=None)
# both see the very same resamples and every interval must agree to rounding.


METHOD_NAMES = [("percentile", "percentile"), ("basic", "basic"), ("bca", "BCa")]


def scipy_result(data, statistic, method, level, seed):
    return scipy.stats.bootstrap(
        (data,),
        statistic,
        n_resamples=500,
        method=method,
        confidence_level=level,
        random_state=np.random.default_rng(seed),
    )


@pytest.mark.parametrize("level", [0.95, 0.8])
@pytest.mark.parametrize(("method", "scipy_method"), METHOD_NAMES)
def test_mean_intervals_equal_scipy_on_the_same_resamples(method, scipy_method, level):
    errors = np.random.default_rng(11).exponential(size=40)  # skewed: BCa != percentile
    ours = bootstrap_means(errors, resamples=500, seed=3)
    theirs = scipy_result(errors, np.mean, scipy_method, level, 3)
    np.testing.assert_allclose(ours.replicates, theirs.bootstrap_distribution, rtol=1e-13)
    assert ours.statistic == pytest.approx(errors.mean(), rel=1e-13)
    interval = theirs.confidence_interval
    assert ours.interval(level, method) == pytest.approx((interval.low, interval.high), rel=1e-12)


def test_bca_and_percentile_differ_on_skewed_data():
    errors = np.random.default_rng(11).exponential(size=40)
    ours = bootstrap_means(errors, resamples=500, seed=3)
    bca, percentile = ours.interval(0.95, "bca"), ours.interval(0.95, "percentile")
    assert abs(bca[0] - percentile[0]) > 0.01 and abs(bca[1] - percentile[1]) > 0.01


@pytest.mark.parametrize(("method", "scipy_method"), METHOD_NAMES)
def test_table_jackknife_gives_scipys_intervals_on_scipys_resamples(method, scipy_method):
    hits = (np.random.default_rng(12).random(60) < 0.85).astype(int)
    table = bootstrap_table(hits, 2, share_of_ones, resamples=500, seed=0)
    theirs = scipy_result(hits.astype(float), np.mean, scipy_method, 0.9, 4)
    # the table's cell-weighted jackknife is scipy's leave-one-out jackknife of the 0/1 values
    same = attrs.evolve(table, replicates=theirs.bootstrap_distribution)
    interval = theirs.confidence_interval
    assert same.interval(0.9, method) == pytest.approx((interval.low, interval.high), rel=1e-12)
    assert table.statistic == hits.mean()
    assert table.replicates.shape == (500,)


def test_generic_statistic_equals_scipy_bca_and_jackknife_false_is_observed():
    values = np.random.default_rng(13).lognormal(size=31)

    def mean(indices):
        return float(np.mean(values[indices]))

    with_jackknife = bootstrap_generic(31, mean, resamples=500, seed=5, jackknife=True)
    theirs = scipy_result(values, np.mean, "BCa", 0.95, 5)
    np.testing.assert_allclose(with_jackknife.replicates, theirs.bootstrap_distribution, rtol=1e-13)
    expected = (theirs.confidence_interval.low, theirs.confidence_interval.high)
    assert with_jackknife.interval(0.95, "bca") == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(with_jackknife.jackknife_weights, np.ones(31))
    without = bootstrap_generic(31, mean, resamples=500, seed=5)
    assert (without.jackknife, without.jackknife_weights) == (None, None)
    # no jackknife: no acceleration, only the bias correction
    assert without.interval(0.95, "bca") != pytest.approx(expected, rel=1e-6)


def test_generic_jackknife_in_groups_above_the_limit():
    n = JACKKNIFE_GROUPS + 500
    values = np.arange(n, dtype=np.float64)
    estimate = bootstrap_generic(n, lambda idx: float(values[idx].mean()), resamples=2, seed=0,
                                 jackknife=True)  # fmt: skip
    assert estimate.jackknife.shape == (JACKKNIFE_GROUPS,)
    # np.array_split: 500 groups of 2 examples, then 500 of 1
    assert estimate.jackknife_weights.tolist() == [2.0] * 500 + [1.0] * 500
    assert estimate.jackknife[0] == pytest.approx((values.sum() - 1) / (n - 2))
    assert estimate.statistic == pytest.approx((n - 1) / 2)


def test_two_resamples_are_enough_and_fewer_or_a_closed_level_are_refused():
    check_request(2, 0.5, "basic")
    with pytest.raises(BootstrapError, match="resamples=1 must be at least 2"):
        check_request(1, 0.95, "percentile")
    for level in (0.0, 1.0):
        with pytest.raises(BootstrapError, match=f"level={level} must be between 0 and 1"):
            check_request(1000, level, "percentile")
    two = BootstrapEstimate(0.5, np.array([0.2, 0.6]))
    # numpy's linear quantiles of [0.2, 0.6] at 0.025 and 0.975
    assert two.interval(0.95) == pytest.approx((0.21, 0.59), rel=1e-12)
    assert two.interval(0.95, "basic") == pytest.approx((2 * 0.5 - 0.59, 2 * 0.5 - 0.21))


def test_undefined_replicates_are_left_out():
    some = BootstrapEstimate(0.5, np.array([np.nan, 0.2, 0.6, np.nan]))
    assert some.interval(0.95) == pytest.approx((0.21, 0.59), rel=1e-12)
    none = BootstrapEstimate(0.5, np.array([np.nan, np.nan]))
    assert all(math.isnan(end) for end in none.interval(0.95, "bca"))


def test_a_statistic_undefined_on_a_resample_gives_nan_there():
    def strict_mean(indices):
        if len(set(indices.tolist())) < 2:
            raise ZeroDivisionError("one example drawn only")
        return float(indices.mean())

    estimate = bootstrap_generic(2, strict_mean, resamples=40, seed=0, jackknife=True)
    rows = np.random.default_rng(0).integers(0, 2, size=(40, 2))
    expected = [r.mean() if r[0] != r[1] else np.nan for r in rows]
    np.testing.assert_array_equal(estimate.replicates, expected)
    np.testing.assert_array_equal(estimate.jackknife, [np.nan, np.nan])


def test_single_examples_have_no_jackknife():
    table = bootstrap_table(np.array([1]), 2, share_of_ones, resamples=10, seed=0)
    means = bootstrap_means(np.array([2.5]), resamples=10, seed=0)
    assert (table.jackknife, means.jackknife, means.jackknife_weights) == (None, None, None)
    np.testing.assert_array_equal(means.replicates, np.full(10, 2.5))
    with pytest.raises(BootstrapError, match="empty"):
        bootstrap_table(np.array([], dtype=int), 2, share_of_ones)
    with pytest.raises(BootstrapError, match="empty"):
        bootstrap_generic(0, float)


def test_paired_columns_are_resampled_together():
    data = np.column_stack([np.arange(10.0), np.arange(10.0) * 2])
    estimate = bootstrap_means(data, transform=lambda m: m[:, 1] - m[:, 0], resamples=50, seed=1)
    single = bootstrap_means(np.arange(10.0), resamples=50, seed=1)
    # column 2 - column 1 = column 1 on every resample
    np.testing.assert_allclose(estimate.replicates, single.replicates, rtol=1e-13)
    assert estimate.statistic == pytest.approx(4.5)
    np.testing.assert_allclose(estimate.jackknife, (45 - np.arange(10.0)) / 9, rtol=1e-13)


def test_index_blocks_hold_at_most_64_mib_of_indices():
    n = 2_796_202  # 2**23 // 3: three rows of int64 indices per 64 MiB block
    blocks = list(index_blocks(n, 7, np.random.default_rng(0)))
    assert [block.shape for block in blocks] == [(3, n), (3, n), (1, n)]
    assert all(block.min() >= 0 and block.max() < n for block in blocks)
    assert BLOCK_ENTRIES == 2**23
    wide = 2**23 + 1  # more examples than a block holds: one row per block
    assert [b.shape for b in index_blocks(wide, 2, np.random.default_rng(0))] == [(1, wide)] * 2


def test_two_examples_have_a_jackknife():
    table = bootstrap_table(np.array([0, 1]), 2, share_of_ones, resamples=10, seed=0)
    assert table.jackknife.tolist() == [1.0, 0.0]  # leave out the 0, then the 1
    assert table.jackknife_weights.tolist() == [1.0, 1.0]
    means = bootstrap_means(np.array([1.0, 3.0]), resamples=10, seed=0)
    assert means.jackknife.tolist() == [3.0, 1.0]
    assert means.jackknife_weights.tolist() == [1.0, 1.0]


def test_a_flat_or_undefined_jackknife_means_no_acceleration():
    replicates = np.array([0.2, 0.35, 0.4, 0.6, 0.8, 0.55, 0.45])
    plain = BootstrapEstimate(0.5, replicates).interval(0.9, "bca")
    flat = BootstrapEstimate(0.5, replicates, np.full(3, 0.5), np.ones(3))
    undefined = BootstrapEstimate(0.5, replicates, np.full(3, np.nan), np.ones(3))
    assert flat.interval(0.9, "bca") == plain == undefined.interval(0.9, "bca")
    # only the bias correction: 4 of 7 replicates below 0.5
    from scipy.special import ndtr, ndtri

    bias = ndtri(4 / 7)
    expected = np.quantile(replicates, ndtr(2 * bias + ndtri([0.05, 0.95])))
    assert plain == pytest.approx(tuple(expected), rel=1e-12)
