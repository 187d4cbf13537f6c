"""CBPE: the expected confusion matrix and metrics on small cases computed by hand, the
realized metrics on the same formulas, the calibration check (underconfident scores are
calibrated and the estimate then matches the realization), bands from reference chunks and the
alerts outside them, and named errors for scores and labels CBPE cannot use."""

from __future__ import annotations

import numpy as np
import pytest

from modelops_core.monitoring.performance import (
    CBPE,
    Isotonic,
    PerformanceError,
    check_calibration,
    expected_calibration_error,
)

SCORES = [0.9, 0.8, 0.3, 0.1]
FIT = {"calibration": "never", "folds": 2}


def fitted(**options: object) -> CBPE:
    return CBPE.fit([0.9, 0.8, 0.3, 0.1, 0.6, 0.4], [1, 1, 0, 0, 1, 0], **{**FIT, **options})


def test_expected_confusion_matrix_and_metrics_by_hand() -> None:
    estimate = fitted().estimate(SCORES)
    # predicted positive: 0.9, 0.8 -> TP = 1.7, FP = 0.3; negative: 0.3, 0.1 -> FN = 0.4, TN = 1.6
    assert dict(estimate.confusion) == pytest.approx({"tp": 1.7, "fp": 0.3, "fn": 0.4, "tn": 1.6})
    assert dict(estimate.metrics) == pytest.approx(
        {
            "accuracy": 3.3 / 4,
            "precision": 1.7 / 2.0,
            "recall": 1.7 / 2.1,
            "f1": 3.4 / 4.1,
            # area under the expected ROC curve: 3.445 / (P * N) with P = 2.1, N = 1.9
            "roc_auc": 3.445 / (2.1 * 1.9),
        },
        rel=1e-12,
    )
    assert estimate.rows == 4 and estimate.kind == "estimated"


def test_realized_metrics_use_the_same_formulas_with_labels_and_ties() -> None:
    realized = fitted().realized([0.9, 0.6, 0.6, 0.2], [1, 0, 1, 0])
    assert dict(realized.confusion) == {"tp": 2.0, "fp": 1.0, "fn": 0.0, "tn": 1.0}
    assert realized.metrics["accuracy"] == 0.75
    assert realized.metrics["precision"] == pytest.approx(2 / 3, rel=1e-12)
    assert realized.metrics["recall"] == 1.0
    assert realized.metrics["roc_auc"] == 0.875  # (1 + 1 + 0.5 + 1) / 4 pairs


def test_compare_gives_estimated_minus_realized() -> None:
    comparison = fitted().compare(SCORES, [1, 1, 0, 0])
    assert comparison.realized.metrics["accuracy"] == 1.0
    assert comparison.error["accuracy"] == pytest.approx(3.3 / 4 - 1.0, rel=1e-12)
    assert comparison.error["roc_auc"] == pytest.approx(3.445 / 3.99 - 1.0, rel=1e-12)


def test_undefined_metrics_are_none_not_nan() -> None:
    estimate = fitted().estimate([0.1, 0.2])  # nothing predicted positive
    assert estimate.metrics["precision"] is None
    realized = fitted().realized([0.1, 0.2], [0, 0])  # no positive label
    assert realized.metrics["recall"] is None and realized.metrics["roc_auc"] is None


def test_isotonic_pools_adjacent_violators() -> None:
    calibrator = Isotonic.fit(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert calibrator.y == (0.0, 0.5, 0.5, 1.0)
    mapped = calibrator(np.array([0.05, 0.25, 0.35, 0.9]))
    assert list(mapped) == pytest.approx([0.0, 0.5, 0.75, 1.0], abs=1e-15)


def test_expected_calibration_error_by_hand() -> None:
    # bin [0.1, 0.2): mean 0.1, positives 0 -> gap 0.1; bin [0.9, 1]: mean 0.9, positives 1/2
    ece = expected_calibration_error(np.array([0.1, 0.9, 0.9]), np.array([0.0, 1.0, 0.0]))
    assert ece == pytest.approx((1 * 0.1 + 2 * 0.4) / 3, rel=1e-12)


def _underconfident(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(size=rows)
    labels = (rng.uniform(size=rows) < truth).astype(int)
    return 0.5 + (truth - 0.5) * 0.5, labels  # scores squeezed towards 0.5


def test_underconfident_scores_are_calibrated_and_the_estimate_then_holds() -> None:
    scores, labels = _underconfident(20_000, seed=3)
    check = check_calibration(scores[:10_000], labels[:10_000])
    assert check.calibrated and check.ece > 0.1 > check.ece_calibrated
    assert check.reason.startswith("calibrated: isotonic calibration lowers the ECE")
    estimator = CBPE.fit(scores[:10_000], labels[:10_000])
    comparison = estimator.compare(scores[10_000:], labels[10_000:])
    assert all(abs(e) < 0.01 for e in comparison.error.values() if e is not None)
    uncalibrated = CBPE.fit(scores[:10_000], labels[:10_000], calibration="never")
    assert abs(uncalibrated.compare(scores[10_000:], labels[10_000:]).error["accuracy"]) > 0.05


def test_bands_from_reference_chunks_and_alerts_outside_them() -> None:
    scores, labels = _underconfident(10_000, seed=5)
    estimator = CBPE.fit(scores, labels, chunk_size=1_000)
    lower, upper = estimator.band["accuracy"]
    assert 0 < lower < upper < 1
    assert estimator.estimate(scores[:1_000]).alerts() == ()
    hesitant = np.full(1_000, 0.51)  # a model that became unsure: expected accuracy drops
    estimate = estimator.estimate(hesitant)
    (alert, *_) = estimate.alerts(subject="churn/3")
    assert alert.name == "performance.estimated.accuracy"
    assert alert.subject == "churn/3"
    assert alert.details["value"] < lower


def test_explicit_thresholds_replace_the_band() -> None:
    estimate = fitted(thresholds={"accuracy": (0.83, None)}).estimate(SCORES)
    (alert,) = estimate.alerts()
    assert alert.message == "estimated accuracy 0.8250 is outside [0.8300, -inf] over 4 rows"
    assert fitted(thresholds={"accuracy": (0.8, None)}).estimate(SCORES).alerts() == ()


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([0.2, 1.2, 0.5, 0.5], [0, 1, 0, 1], "not probabilities in \\[0, 1\\] \\(first at row 1"),
        ([0.2, float("nan"), 0.5, 0.5], [0, 1, 0, 1], "first at row 1: nan"),
        ([0.2, 0.7, 0.5, 0.5], [0, 2, 0, 1], "labels are not 0 or 1 \\(first at row 1: 2\\)"),
        ([0.2, 0.7, 0.5, 0.5], [0, 1, 0], "3 labels for 4 scores"),
        ([[0.2, 0.3, 0.5]] * 4, [0, 1, 0, 1], "CBPE here estimates binary classifiers"),
        ([], [], "no rows"),
    ],
)
def test_scores_and_labels_cbpe_cannot_use_are_named(
    scores: object, labels: object, message: str
) -> None:
    with pytest.raises(PerformanceError, match=message):
        CBPE.fit(scores, labels, calibration="never", folds=2)


def test_bad_settings_are_named() -> None:
    with pytest.raises(PerformanceError, match="unknown metrics \\['auc'\\]"):
        fitted(metrics=("auc",))
    with pytest.raises(PerformanceError, match="fewer than two whole chunks"):
        fitted(chunk_size=4)
    with pytest.raises(PerformanceError, match="calibration='sometimes'"):
        fitted(calibration="sometimes")


def test_binary_chunks_are_estimated_and_compared_one_by_one() -> None:
    scores = [0.9, 0.8, 0.3, 0.1, 0.6, 0.4, 0.7]
    labels = [1, 1, 0, 0, 1, 0, 1]
    estimator = fitted()
    chunks = estimator.estimate_chunks(scores, chunk_size=3)
    assert [(c.start, c.rows) for c in chunks] == [(0, 3), (3, 4)]  # the last row joins
    assert chunks[1].confusion == estimator.estimate(scores[3:]).confusion
    (first, second) = estimator.compare_chunks(scores, labels, chunk_size=3)
    assert first.realized.metrics["accuracy"] == 1.0
    assert second.realized.confusion == estimator.realized(scores[3:], labels[3:]).confusion
    with pytest.raises(PerformanceError, match="chunk_size=1: a chunk needs at least 2 rows"):
        estimator.estimate_chunks(scores, chunk_size=1)


def test_isotonic_map_equals_scikit_learns_with_scipy_and_in_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.isotonic import IsotonicRegression

    from modelops_core.monitoring import performance

    rng = np.random.default_rng(11)
    scores = rng.uniform(size=3_000).round(3)  # ties: several labels per distinct score
    labels = (rng.uniform(size=3_000) < scores**2).astype(np.float64)
    points = np.concatenate([rng.uniform(-0.1, 1.1, size=2_000), scores])
    reference = IsotonicRegression(out_of_bounds="clip").fit(scores, labels).predict(points)
    compiled = Isotonic.fit(scores, labels)
    assert np.allclose(compiled(points), reference, rtol=0, atol=1e-12)
    assert len(compiled.x) < 200  # block ends only, not the ~1,000 distinct scores
    monkeypatch.setattr(
        performance, "_pool_adjacent_violators", performance._pool_adjacent_violators_python
    )
    python = Isotonic.fit(scores, labels)
    assert np.allclose(python(points), reference, rtol=0, atol=1e-12)
