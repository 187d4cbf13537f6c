"""Multiclass CBPE: the expected confusion matrix by hand and against scikit-learn's metrics of
the labels weighted by their probabilities; the realized metrics against scikit-learn's exactly;
on labels drawn from the probabilities the estimate lands on the realization; per-class
calibration of overconfident scores; chunks, bands and alerts; named errors for bad input."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from modelops_core.monitoring.performance import (
    MULTICLASS_METRICS,
    Isotonic,
    MulticlassCBPE,
    PerformanceError,
)

EXACT = {"rel": 1e-12, "abs": 1e-15}
NEVER = {"calibration": "never", "folds": 2}
# predicted a, b, c, a (the highest probability of each row)
SMALL = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.6, 0.3, 0.1]]


def drawn(rows: int, seed: int, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of 3 classes and labels drawn from them (seeded); ``temperature`` > 1
    returns overconfident scores (the true probabilities sharpened) with the same labels."""
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.full(3, 0.7), size=rows)
    labels = np.minimum((rng.uniform(size=rows)[:, None] > truth.cumsum(axis=1)).sum(axis=1), 2)
    logits = np.log(np.clip(truth, 1e-300, None)) * temperature
    scores = np.exp(logits - logits.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True), labels


def small() -> MulticlassCBPE:
    return MulticlassCBPE.fit(SMALL, ["a", "b", "c", "a"], **NEVER)


def test_expected_confusion_matrix_and_metrics_by_hand() -> None:
    estimate = small().estimate(SMALL)
    # column a sums rows 0 and 3, column b row 1, column c row 2 (rows: the true class)
    expected = [[1.3, 0.2, 0.1], [0.5, 0.5, 0.3], [0.2, 0.3, 0.6]]
    assert np.allclose(estimate.confusion, expected, rtol=1e-12, atol=1e-15)
    assert estimate.classes == ("a", "b", "c") and estimate.rows == 4
    precision = [1.3 / 2, 0.5 / 1, 0.6 / 1]
    recall = [1.3 / 1.6, 0.5 / 1.3, 0.6 / 1.1]
    f1 = [2 * 1.3 / 3.6, 2 * 0.5 / 2.3, 2 * 0.6 / 2.1]
    support = [1.6, 1.3, 1.1]
    assert estimate.metrics["accuracy"] == pytest.approx(2.4 / 4, **EXACT)
    assert estimate.metrics["precision_macro"] == pytest.approx(sum(precision) / 3, **EXACT)
    assert estimate.metrics["recall_macro"] == pytest.approx(sum(recall) / 3, **EXACT)
    weighted_f1 = sum(v * s for v, s in zip(f1, support, strict=True)) / 4
    assert estimate.metrics["f1_weighted"] == pytest.approx(weighted_f1, **EXACT)
    assert estimate.metrics["f1_micro"] == pytest.approx(0.6, **EXACT)
    assert dict(estimate.per_class["b"]) == pytest.approx(
        {"precision": 0.5, "recall": 0.5 / 1.3, "f1": 1.0 / 2.3, "support": 1.3}, **EXACT
    )


def _weighted_expansion(probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """Each row as one row per class, weighted by its probability: scikit-learn's metrics of
    these are the metrics of the expected confusion matrix, computed independently."""
    rows, size = probabilities.shape
    return {
        "y_true": np.tile(np.arange(size), rows),
        "y_pred": np.repeat(probabilities.argmax(axis=1), size),
        "sample_weight": probabilities.reshape(-1),
    }


def test_the_estimate_is_the_expectation_of_the_metrics_counts_under_the_probabilities() -> None:
    probabilities, labels = drawn(5_000, seed=1)
    estimate = MulticlassCBPE.fit(probabilities, labels, **NEVER).estimate(probabilities)
    # each row is right with the probability of the class it predicts
    assert estimate.metrics["accuracy"] == pytest.approx(probabilities.max(axis=1).mean(), **EXACT)
    expanded = _weighted_expansion(probabilities)
    assert estimate.metrics["accuracy"] == pytest.approx(accuracy_score(**expanded), **EXACT)
    for average in ("macro", "weighted", "micro"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            **expanded, labels=[0, 1, 2], average=average, zero_division=np.nan
        )
        assert estimate.metrics[f"precision_{average}"] == pytest.approx(precision, **EXACT)
        assert estimate.metrics[f"recall_{average}"] == pytest.approx(recall, **EXACT)
        assert estimate.metrics[f"f1_{average}"] == pytest.approx(f1, **EXACT)


def test_realized_metrics_equal_scikit_learns() -> None:
    probabilities, labels = drawn(3_000, seed=2)
    realized = MulticlassCBPE.fit(probabilities, labels, **NEVER).realized(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    assert realized.metrics["accuracy"] == accuracy_score(labels, predicted)
    for average in ("macro", "weighted", "micro"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            labels, predicted, labels=[0, 1, 2], average=average, zero_division=np.nan
        )
        assert realized.metrics[f"precision_{average}"] == pytest.approx(precision, **EXACT)
        assert realized.metrics[f"recall_{average}"] == pytest.approx(recall, **EXACT)
        assert realized.metrics[f"f1_{average}"] == pytest.approx(f1, **EXACT)
        assert realized.metrics[f"f1_{average}"] == pytest.approx(
            f1_score(labels, predicted, average=average), **EXACT
        )
    assert realized.metrics["roc_auc_macro"] == pytest.approx(
        roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"), **EXACT
    )
    counts = np.zeros((3, 3))
    np.add.at(counts, (labels, predicted), 1)
    assert realized.confusion == tuple(tuple(row) for row in counts)


def test_a_class_never_predicted_has_no_precision_and_the_averages_skip_it() -> None:
    probabilities = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.1, 0.3], [0.1, 0.6, 0.3]]
    labels = [0, 2, 2, 1]
    realized = MulticlassCBPE.fit(probabilities, labels, **NEVER).realized(probabilities, labels)
    assert realized.per_class["2"]["precision"] is None
    assert realized.per_class["2"]["f1"] == 0.0
    predicted = np.argmax(probabilities, axis=1)
    precision, _, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=[0, 1, 2], average="macro", zero_division=np.nan
    )
    assert realized.metrics["precision_macro"] == pytest.approx(precision, **EXACT)
    assert realized.metrics["f1_macro"] == pytest.approx(f1, **EXACT)
    weighted, *_ = precision_recall_fscore_support(
        labels, predicted, labels=[0, 1, 2], average="weighted", zero_division=np.nan
    )
    assert realized.metrics["precision_weighted"] == pytest.approx(weighted, **EXACT)
    assert realized.metrics["precision_weighted"] == pytest.approx(1 / 2, **EXACT)  # 0 and 1 only


def test_on_labels_drawn_from_the_probabilities_the_estimate_lands_on_the_realization() -> None:
    # 100,000 rows: the realized accuracy's standard deviation is sqrt(0.66 * 0.34 / 1e5) =
    # 0.0015, so 0.01 is more than 6 of them; every other metric moves with it.
    reference, reference_labels = drawn(2_000, seed=3)
    probabilities, labels = drawn(100_000, seed=4)
    comparison = MulticlassCBPE.fit(reference, reference_labels, **NEVER).compare(
        probabilities, labels
    )
    assert set(comparison.error) == set(MULTICLASS_METRICS)
    assert all(abs(e) < 0.01 for e in comparison.error.values() if e is not None)


def test_calibrated_scores_are_left_alone() -> None:
    reference, reference_labels = drawn(20_000, seed=9)
    estimator = MulticlassCBPE.fit(reference, reference_labels)
    assert [check.calibrated for check in estimator.checks] == [False, False, False]
    assert all(check.improved < check.folds for check in estimator.checks)
    assert estimator.checks[0].reason.startswith(
        f"not calibrated: isotonic calibration lowers the ECE in {estimator.checks[0].improved} "
        "of 5 folds only"
    )


def test_overconfident_scores_are_calibrated_per_class_and_the_estimate_then_holds() -> None:
    reference, reference_labels = drawn(20_000, seed=5, temperature=2.5)
    probabilities, labels = drawn(50_000, seed=6, temperature=2.5)
    estimator = MulticlassCBPE.fit(reference, reference_labels)
    assert [check.calibrated for check in estimator.checks] == [True, True, True]
    assert all(check.ece > 0.1 > 0.01 > check.ece_calibrated for check in estimator.checks)
    assert all(check.improved == check.folds == 5 for check in estimator.checks)
    calibrated = estimator.probabilities(probabilities)
    assert np.allclose(calibrated.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    comparison = estimator.compare(probabilities, labels)
    assert comparison.estimated.calibrated == (0, 1, 2)
    assert all(abs(e) < 0.02 for e in comparison.error.values() if e is not None)
    raw = MulticlassCBPE.fit(reference, reference_labels, calibration="never")
    assert raw.compare(probabilities, labels).error["accuracy"] > 0.1


def test_a_row_the_calibration_maps_to_all_zeros_keeps_the_models_probabilities() -> None:
    flat_below_half = Isotonic(x=(0.5, 1.0), y=(0.0, 1.0))  # 0 up to 0.5
    estimator = attrs.evolve(small(), calibrators=(flat_below_half,) * 3)
    calibrated = estimator.probabilities([[0.4, 0.3, 0.3], [0.75, 0.2, 0.05]])
    assert calibrated.tolist() == [[0.4, 0.3, 0.3], [1.0, 0.0, 0.0]]


def test_chunks_are_runs_of_rows_and_a_last_single_row_joins_the_chunk_before() -> None:
    probabilities, labels = drawn(9, seed=7)
    estimator = MulticlassCBPE.fit(probabilities, labels, classes=[0, 1, 2], **NEVER)
    chunks = estimator.estimate_chunks(probabilities, chunk_size=4)
    assert [(c.start, c.rows) for c in chunks] == [(0, 4), (4, 5)]
    assert chunks[1].metrics == estimator.estimate(probabilities[4:]).metrics
    compared = estimator.compare_chunks(probabilities[:8], labels[:8], chunk_size=3)
    assert [(c.realized.start, c.realized.rows) for c in compared] == [(0, 3), (3, 3), (6, 2)]
    third = compared[2].realized.metrics["accuracy"]
    assert third == accuracy_score(labels[6:8], probabilities[6:8].argmax(axis=1))


def test_bands_from_reference_chunks_and_alerts_outside_them() -> None:
    reference, reference_labels = drawn(10_000, seed=8)
    estimator = MulticlassCBPE.fit(reference, reference_labels, chunk_size=1_000, **NEVER)
    lower, upper = estimator.band["accuracy"]
    assert 0 < lower < upper < 1
    assert estimator.estimate(reference[:1_000]).alerts() == ()
    hesitant = np.full((1_000, 3), 1 / 3)  # a model that became unsure of everything
    (alert, *_) = estimator.estimate(hesitant).alerts(subject="churn/3")
    assert alert.name == "performance.estimated.accuracy" and alert.subject == "churn/3"
    assert (
        alert.details["value"] == pytest.approx(1 / 3, **EXACT) and alert.details["value"] < lower
    )


def test_data_frame_columns_are_matched_to_the_classes_by_name() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(SMALL, columns=["a", "b", "c"])
    estimator = MulticlassCBPE.fit(frame, ["a", "b", "c", "a"], **NEVER)
    assert estimator.classes == ("a", "b", "c")
    shuffled = frame[["c", "a", "b"]]
    assert estimator.estimate(shuffled).metrics == estimator.estimate(SMALL).metrics
    with pytest.raises(PerformanceError, match=r"missing \['c'\], not classes \['d'\]"):
        estimator.estimate(frame.rename(columns={"c": "d"}))


def test_a_mapping_names_the_column_of_each_class_in_a_data_frame() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(SMALL, columns=["p_a", "p_b", "p_c"])
    frame["label"] = ["a", "b", "c", "a"]
    columns = {"a": "p_a", "b": "p_b", "c": "p_c"}
    estimator = MulticlassCBPE.fit(frame, frame["label"], classes=columns, **NEVER)
    assert estimator.classes == ("a", "b", "c") and estimator.columns == ("p_a", "p_b", "p_c")
    later = frame[["label", "p_c", "p_b", "p_a"]]  # other columns, another order
    assert estimator.estimate(later).metrics == small().estimate(SMALL).metrics
    with pytest.raises(PerformanceError, match=r"probabilities: no column 'p_b' \(class 'b'\)"):
        estimator.estimate(frame.drop(columns="p_b"))


@pytest.mark.parametrize(
    ("probabilities", "labels", "options", "message"),
    [
        (
            [[0.7, 0.2, 0.1], [0.5, 0.2, 0.2]] * 2,
            ["a", "b", "c", "a"],
            {},
            r"reference probabilities: 2 rows do not add up to 1 \(first at row 1: 0\.9",
        ),
        (
            [[0.7, 0.2, 0.1], [0.2, float("nan"), 0.3]] * 2,
            ["a", "b", "c", "a"],
            {},
            r"first at row 1, column 'b': nan",
        ),
        (
            [[0.7, 0.3], [0.2, 0.8]] * 2,
            ["a", "b", "c", "a"],
            {},
            r"reference labels: 3 classes \('a', 'b', 'c'\) for 2 probability columns",
        ),
        (
            [[0.7, 0.3], [0.2, 0.8]] * 2,
            ["a", "b", "a", "b"],
            {"classes": ["a", "b", "c"]},
            r"reference probabilities: shape \(4, 2\), expected one column per class \(3",
        ),
        (
            SMALL,
            ["a", "b", "z", "a"],
            {"classes": ["a", "b", "c"]},
            r"reference labels: label 'z' at row 2 is not one of the classes \('a', 'b', 'c'\)",
        ),
        (SMALL, ["a", "b", "c"], {}, r"reference labels: 3 labels for 4 rows"),
        (SMALL, ["a", "b", "c", "a"], {"classes": ["a", "a", "b"]}, r"each once"),
        (SMALL, ["a", "b", "c", "a"], {"metrics": ["auc"]}, r"unknown metrics \['auc'\]"),
        (SMALL, ["a", "b", "c", "a"], {"chunk_size": 1}, r"chunk_size=1: a chunk needs at least 2"),
    ],
)
def test_input_multiclass_cbpe_cannot_use_is_named(
    probabilities: object, labels: object, options: dict[str, object], message: str
) -> None:
    with pytest.raises(PerformanceError, match=message):
        MulticlassCBPE.fit(probabilities, labels, **{**NEVER, **options})


def test_estimates_name_what_they_cannot_use() -> None:
    estimator = small()
    with pytest.raises(PerformanceError, match=r"probabilities: shape \(1, 4\), expected one col"):
        estimator.estimate([[0.25, 0.25, 0.25, 0.25]])
    with pytest.raises(PerformanceError, match=r"labels: label nan at row 1 is not one of"):
        estimator.realized(SMALL, ["a", math.nan, "c", "a"])
    with pytest.raises(PerformanceError, match=r"chunk_size=1: a chunk needs at least 2 rows"):
        estimator.estimate_chunks(SMALL, chunk_size=1)
    with pytest.raises(PerformanceError, match=r"probabilities: 1 row cannot make a chunk"):
        estimator.estimate_chunks(SMALL[:1], chunk_size=4)


def test_the_estimate_is_json_ready() -> None:
    document = small().estimate(SMALL).to_dict()
    assert document["classes"] == ["a", "b", "c"]
    assert document["per_class"]["a"]["support"] == pytest.approx(1.6, **EXACT)
    assert document["calibrated"] == [] and document["start"] == 0


def _fixed_case(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overconfident scores (rounded to 6 digits, as a CSV holds them) and labels drawn from
    the softer true probabilities; only ``uniform`` draws, whose stream numpy keeps stable."""
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-2.0, 2.0, size=(rows, 3)) * 2.0
    scores = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = (scores / scores.sum(axis=1, keepdims=True)).round(6)
    scores[:, 2] = 1.0 - scores[:, 0] - scores[:, 1]
    truth = np.exp(logits / 2.0 - (logits / 2.0).max(axis=1, keepdims=True))
    truth /= truth.sum(axis=1, keepdims=True)
    labels = (rng.uniform(size=rows)[:, None] > truth.cumsum(axis=1)).sum(axis=1).clip(0, 2)
    return scores, labels


#: NannyML 0.13.1's ``CBPE(problem_type="classification_multiclass", chunk_size=1000)`` fitted
#: on ``_fixed_case(4000, 1)`` (every class calibrated), estimating ``_fixed_case(3000, 2)``.
NANNYML = {
    "accuracy": [0.6559973863328383, 0.6511058327764229, 0.6491993669974147],
    "precision_macro": [0.6562816211928699, 0.6511861932905725, 0.6490854983277171],
    "recall_macro": [0.6562815564727973, 0.6517513854322433, 0.6490482517683226],
    "f1_macro": [0.655984641183455, 0.651103918861514, 0.6489646897472975],
}


def test_estimates_equal_nannymls_on_a_fixed_case() -> None:
    reference, labels = _fixed_case(4_000, seed=1)
    current, _ = _fixed_case(3_000, seed=2)
    estimator = MulticlassCBPE.fit(reference, labels, classes=[0, 1, 2])
    assert [check.calibrated for check in estimator.checks] == [True, True, True]
    chunks = estimator.estimate_chunks(current, chunk_size=1_000)
    for name, expected in NANNYML.items():
        assert [chunk.metrics[name] for chunk in chunks] == pytest.approx(expected, **EXACT)
