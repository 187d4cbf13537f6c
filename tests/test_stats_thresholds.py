"""The threshold sweep equals scikit-learn's curves; each criterion picks the right point."""

from __future__ import annotations

import numpy as np
import pytest

from modelops_core.evaluation.stats.thresholds import ThresholdError, choose_threshold, sweep

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def data(seed=0, n=300, ties=False):
    rng = np.random.default_rng(seed)
    references = rng.integers(0, 2, n)
    scores = references * 0.4 + rng.random(n)
    return (np.round(scores, 1) if ties else scores), references


@pytest.mark.parametrize("ties", [False, True])
def test_sweep_equals_sklearn_roc_curve(ties):
    scores, references = data(ties=ties)
    fpr, tpr, thresholds = sklearn_metrics.roc_curve(references, scores, drop_intermediate=False)
    points = sweep(scores, references)
    np.testing.assert_allclose(points.fpr, fpr, atol=1e-12)
    np.testing.assert_allclose(points.tpr, tpr, atol=1e-12)
    np.testing.assert_array_equal(points.thresholds[1:], thresholds[1:])


@pytest.mark.parametrize("ties", [False, True])
def test_sweep_equals_sklearn_precision_recall_curve(ties):
    scores, references = data(seed=1, ties=ties)
    precision, recall, thresholds = sklearn_metrics.precision_recall_curve(references, scores)
    points = sweep(scores, references)
    # sklearn: thresholds increasing, stops once recall reaches 1; we: decreasing, all points
    ours = {t: (p, r) for t, p, r in zip(points.thresholds, points.precision, points.recall,
                                          strict=True)}  # fmt: skip
    for t, p, r in zip(thresholds, precision[:-1], recall[:-1], strict=True):
        assert ours[t] == pytest.approx((p, r), abs=1e-12)


def test_max_f1_is_the_best_f1_over_all_thresholds():
    scores, references = data(seed=2, n=25)
    choice = choose_threshold(sweep(scores, references), "f1")
    best = max(sklearn_metrics.f1_score(references, scores >= t) for t in np.unique(scores))
    assert choice.f1 == pytest.approx(best, abs=1e-12)
    assert choice.f1 == pytest.approx(
        sklearn_metrics.f1_score(references, scores >= choice.threshold)
    )


def test_youden_j_is_the_maximum_of_tpr_minus_fpr():
    scores, references = data(seed=3)
    fpr, tpr, _ = sklearn_metrics.roc_curve(references, scores)
    choice = choose_threshold(sweep(scores, references), "youden")
    assert choice.youden_j == pytest.approx(float(np.max(tpr - fpr)))


def test_cost_weights_minimise_the_total_cost():
    scores, references = data(seed=4)
    choice = choose_threshold(sweep(scores, references), "cost", fp_cost=1, fn_cost=5)
    costs = [((scores >= t) & (references == 0)).sum() + 5 * ((scores < t) & (references == 1))
             .sum() for t in [*np.unique(scores), np.inf]]  # fmt: skip
    assert choice.cost == min(costs)
    expensive_misses = choose_threshold(sweep(scores, references), "cost", fn_cost=50)
    assert expensive_misses.threshold <= choice.threshold and expensive_misses.recall >= 0.99


def test_target_precision_and_target_recall():
    scores, references = data(seed=5)
    points = sweep(scores, references)
    for_precision = choose_threshold(points, "precision", target=0.9)
    assert for_precision.precision >= 0.9
    feasible = points.precision >= 0.9
    assert for_precision.recall == points.recall[feasible].max()
    for_recall = choose_threshold(points, "recall", target=0.95)
    assert for_recall.recall >= 0.95
    assert for_recall.precision == points.precision[points.recall >= 0.95].max()


def test_unreachable_target_and_bad_input_are_named():
    scores, references = data(seed=6)
    with pytest.raises(ThresholdError, match=r"precision >= 0.9.*best is 0.6667"):
        choose_threshold(sweep([0.9, 0.8, 0.1], [0, 1, 1]), "precision", target=0.9)
    with pytest.raises(ThresholdError, match="target="):
        choose_threshold(sweep(scores, references), "recall")
    with pytest.raises(ThresholdError, match="NaN"):
        sweep([0.1, float("nan")], [0, 1])
    with pytest.raises(ThresholdError, match="mismatch"):
        sweep([0.1, 0.2], [0])


def test_one_class_has_undefined_rates():
    points = sweep([0.1, 0.5, 0.9], [1, 1, 1])
    assert np.isnan(points.fpr).all()
    with pytest.raises(ThresholdError, match="single class"):
        choose_threshold(points, "youden")
