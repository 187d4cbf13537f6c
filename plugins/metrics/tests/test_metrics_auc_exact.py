"""AUC-ROC equals scikit-learn's ``roc_auc_score`` exactly (``==``, not approximately): continuous
scores, ties within and across classes, weights (zeros included), tiny and large inputs, and
one-vs-rest multiclass. The fast path (no two scores equal) and the general one are both
exercised; equal scores count half."""

from __future__ import annotations

import math

import numpy as np
import pytest
from modelops_metrics.ranking import (
    AUCROCMetric,
    AveragePrecisionMetric,
    _unweighted_counts,
    binary_auc,
    binary_curve_counts,
)

from modelops_core.errors import MetricInputError

sk = pytest.importorskip("sklearn.metrics")


def scores_of(kind: str, rng: np.random.Generator, size: int) -> np.ndarray:
    if kind == "continuous":
        return rng.random(size)
    if kind == "normal":
        return rng.normal(size=size)
    if kind == "rounded":  # many ties, within and across classes
        return np.round(rng.random(size), 2)
    return rng.integers(0, 4, size).astype(float)  # "few values": ties everywhere


@pytest.mark.parametrize("kind", ["continuous", "normal", "rounded", "few values"])
@pytest.mark.parametrize("size", [2, 3, 7, 64, 1000, 50_000])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_equals_scikit_learn_exactly(kind: str, size: int, weighted: bool) -> None:
    rng = np.random.default_rng(size * 7 + len(kind) + weighted)
    for _ in range(6):
        labels = rng.integers(0, 2, size)
        both = rng.choice(size, 2, replace=False)
        labels[both] = [0, 1]  # both classes present (with weight)
        scores = scores_of(kind, rng, size)
        weights = None
        if weighted:
            weights = rng.choice([0.0, 0.5, 1.0, 2.5, 3.3], size)
            weights[both] = 1.0
        expected = sk.roc_auc_score(labels, scores, sample_weight=weights)
        assert AUCROCMetric().compute(scores, labels, sample_weight=weights) == expected


def test_a_tie_across_the_classes_counts_half() -> None:
    # the positive at 0.5 ties one negative: 0.5 of a pair out of 2 x 2
    assert AUCROCMetric().compute([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1]) == 0.875
    assert sk.roc_auc_score([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == 0.875


def test_runs_at_both_ends_and_single_steps_equal_scikit_learn() -> None:
    # negatives above every positive, positives below every negative, runs of one
    cases = [
        ([0.9, 0.8, 0.1, 0.2, 0.3], [0, 0, 1, 1, 1]),
        ([0.1, 0.2, 0.9, 0.8, 0.7], [0, 0, 1, 1, 1]),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 1, 0, 1, 0, 1]),
        ([0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [0, 1, 0, 1, 0, 1]),
        ([0.3, 0.7], [1, 0]),
        ([0.3, 0.7], [0, 1]),
    ]
    for scores, labels in cases:
        assert AUCROCMetric().compute(scores, labels) == sk.roc_auc_score(labels, scores)


def test_one_vs_rest_multiclass_equals_scikit_learn_exactly() -> None:
    rng = np.random.default_rng(3)
    raw = rng.random((5000, 4))
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, 5000)
    for average in ("macro", "weighted"):
        expected = sk.roc_auc_score(labels, probabilities, multi_class="ovr", average=average)
        assert AUCROCMetric(average=average).compute(probabilities, labels) == expected


# --- the sorted-keys kernel: every path, against scikit-learn with == ----------------------------


def ulp_neighbours(rng: np.random.Generator, size: int) -> np.ndarray:
    """Scores equal or one to three units in the last place apart: two such floats may share
    the kernel's key (all bits but the lowest), the case it hands to scikit-learn's way."""
    base = rng.choice([0.5, -0.25, 1.0, 0.0, 3.0], size)
    steps = rng.integers(-3, 4, size)
    return np.array(
        [
            np.nextafter(value, math.copysign(math.inf, step)) if step else value
            for value, step in zip(base, steps, strict=True)
        ]
    )


def scores_of_kernel(kind: str, rng: np.random.Generator, size: int) -> np.ndarray:
    if kind == "negative and tiny":  # signs flipped in the keys, subnormals, huge values
        return rng.normal(size=size) * 10.0 ** rng.integers(-310, 300)
    if kind == "signed zeros":  # -0.0 == 0.0: one group
        return rng.choice([0.0, -0.0, 5e-324, -5e-324, 1.0], size)
    if kind == "ulp neighbours":
        scores = ulp_neighbours(rng, size)
        for _ in range(int(rng.integers(1, 3))):  # a few units further: more neighbours
            scores = np.where(rng.random(size) < 0.3, np.nextafter(scores, np.inf), scores)
        return scores
    if kind == "float32":  # near-continuous: a few equal scores among many distinct ones
        return rng.random(size).astype(np.float32).astype(np.float64)
    return scores_of(kind, rng, size)


KERNEL_KINDS = [
    "continuous",
    "normal",
    "rounded",
    "few values",
    "negative and tiny",
    "signed zeros",
    "ulp neighbours",
    "float32",
]


@pytest.mark.parametrize("kind", KERNEL_KINDS)
def test_many_small_inputs_equal_scikit_learn_exactly(kind: str) -> None:
    # sizes 2..40: every arrangement of runs at both ends, single steps, first point kept
    rng = np.random.default_rng(len(kind))
    for _ in range(150):
        size = int(rng.integers(2, 41))
        labels = rng.integers(0, 2, size)
        labels[rng.choice(size, 2, replace=False)] = [0, 1]
        scores = scores_of_kernel(kind, rng, size)
        assert AUCROCMetric().compute(scores, labels) == sk.roc_auc_score(labels, scores), (
            scores.tolist(),
            labels.tolist(),
        )


@pytest.mark.parametrize("kind", ["continuous", "rounded", "float32", "ulp neighbours"])
def test_a_large_input_equals_scikit_learn_exactly(kind: str) -> None:
    # 300 000 scores: the trapezoid terms are summed pairwise in blocks, so a point kept or
    # dropped anywhere changes the last bits; imbalanced classes (runs of one label)
    rng = np.random.default_rng(7)
    size = 300_000
    labels = (rng.random(size) < 0.2).astype(np.int64)
    scores = scores_of_kernel(kind, rng, size) + labels * 0.1
    assert AUCROCMetric().compute(scores, labels) == sk.roc_auc_score(labels, scores)


def test_signed_zeros_are_one_score_and_ties_count_half() -> None:
    # -0.0 and 0.0 are equal: the positive at 0.0 ties the negative at -0.0
    scores, labels = [-0.0, 0.0, 1.0, -1.0], [0, 1, 1, 0]
    assert AUCROCMetric().compute(scores, labels) == 0.875
    assert sk.roc_auc_score(labels, scores) == 0.875


def test_scores_one_unit_in_the_last_place_apart_are_not_equal() -> None:
    # they share every bit of the kernel's key but the lowest: still ordered, no tie
    low = 0.5
    high = float(np.nextafter(low, 1.0))
    assert AUCROCMetric().compute([low, high], [0, 1]) == 1.0
    assert AUCROCMetric().compute([low, high], [1, 0]) == 0.0
    assert AUCROCMetric().compute([low, high, high, 0.1], [1, 0, 1, 0]) == 0.625
    assert sk.roc_auc_score([1, 0, 1, 0], [low, high, high, 0.1]) == 0.625


def test_all_tied_single_positive_and_single_negative() -> None:
    assert AUCROCMetric().compute(np.full(1000, 0.3), np.arange(1000) % 2) == 0.5
    rng = np.random.default_rng(11)
    scores = rng.random(1001)
    one = np.zeros(1001, dtype=np.int64)
    one[500] = 1
    for labels in (one, 1 - one):
        expected = sk.roc_auc_score(labels, scores)
        assert AUCROCMetric().compute(scores, labels) == expected
    # the only positive above every negative, below every negative
    assert AUCROCMetric().compute([0.9, 0.1, 0.2, 0.3], [1, 0, 0, 0]) == 1.0
    assert AUCROCMetric().compute([0.0, 0.1, 0.2, 0.3], [1, 0, 0, 0]) == 0.0


@pytest.mark.parametrize(
    "labels",
    [
        [0, 1, 1, 0, 1, 0],
        [False, True, True, False, True, False],
        [0.0, 1.0, 1.0, 0.0, 1.0, 0.0],
        [-1, 1, 1, -1, 1, -1],
        [3, 7, 7, 3, 7, 3],
        ["no", "yes", "yes", "no", "yes", "no"],
        np.array([0, 1, 1, 0, 1, 0], dtype=np.uint8),
    ],
)
def test_the_greater_of_two_labels_is_positive_whatever_their_type(labels) -> None:
    scores = [0.1, 0.8, 0.35, 0.4, 0.9, 0.2]
    # 8 of 9 pairs ordered; scikit-learn's trapezoid sum ends one unit in the last place above
    # 8 / 9, and so does this
    assert AUCROCMetric().compute(scores, labels) == sk.roc_auc_score(labels, scores)
    assert AUCROCMetric().compute(scores, labels) == float(np.nextafter(8 / 9, 1))


@pytest.mark.parametrize(
    "labels", [[0, 1, 2, 0, 1, 2], [0.0, 0.5, 1.0, 0.0, 1.0, 1.0], [-1, 0, 1, 1, 1, -1]]
)
def test_three_labels_with_one_dimensional_scores_are_refused(labels) -> None:
    with pytest.raises(MetricInputError, match="references hold 3 classes but predictions are 1-D"):
        AUCROCMetric().compute([0.1, 0.8, 0.35, 0.4, 0.9, 0.2], labels)


@pytest.mark.parametrize("labels", [[1, 1, 1], [0.0, 0.0, -0.0], [True, True, True], ["a"] * 3])
def test_one_label_gives_nan(labels) -> None:
    assert math.isnan(AUCROCMetric().compute([0.1, 0.8, 0.35], labels))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_infinite_scores_are_refused(bad: float) -> None:
    with pytest.raises(MetricInputError, match=r"predictions\[1\] is .*NaN or infinity"):
        AUCROCMetric().compute([0.1, bad, 0.3], [0, 1, 1])


def test_one_vs_one_multiclass_equals_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    raw = np.round(rng.random((3000, 3)), 2) + 0.01  # ties within each column
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 3, 3000)
    for average in ("macro", "weighted"):
        expected = sk.roc_auc_score(labels, probabilities, multi_class="ovo", average=average)
        ours = AUCROCMetric(multi_class="ovo", average=average).compute(probabilities, labels)
        assert ours == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("kind", KERNEL_KINDS)
def test_counts_from_the_sorted_keys_equal_those_of_an_argsort(kind: str) -> None:
    # average precision (unweighted) takes its counts at each distinct score from the keys
    rng = np.random.default_rng(len(kind) + 100)
    for size in [1, 2, 3, 17, 40, 5000]:
        labels = rng.integers(0, 2, size)
        scores = scores_of_kernel(kind, rng, size)
        positive = labels == 1
        expected = binary_curve_counts(positive, scores, None)[:2]
        found = _unweighted_counts(positive, scores)
        for ours, theirs in zip(found, expected, strict=True):
            assert ours.dtype == np.float64
            np.testing.assert_array_equal(ours, theirs)
        average = sk.average_precision_score(labels, scores) if labels.any() else 0.0
        assert AveragePrecisionMetric().compute(scores, labels) == pytest.approx(
            average, rel=1e-12, abs=0
        )


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_the_kernel_takes_scores_of_any_number_type(dtype) -> None:
    # binary_auc is importable on its own: scores of other types are read as float64
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 500)
    scores = (rng.normal(size=500) * 50).astype(dtype)
    expected = sk.roc_auc_score(labels, scores.astype(np.float64))
    assert binary_auc(labels == 1, scores, None) == expected
    assert binary_auc((labels == 1).astype(np.int8), scores, None) == expected
