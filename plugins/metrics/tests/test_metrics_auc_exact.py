"""AUC-ROC equals scikit-learn's ``roc_auc_score`` exactly (``==``, not approximately): continuous
scores, ties within and across classes, weights (zeros included), tiny and large inputs, and
one-vs-rest multiclass. The fast path (no two scores equal) and the general one are both
exercised; equal scores count half."""

from __future__ import annotations

import numpy as np
import pytest
from modelops_metrics.ranking import AUCROCMetric

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
