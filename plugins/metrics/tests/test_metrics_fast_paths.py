"""The fast paths (merged-sort AUC, string group codes) agree with scikit-learn and fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as sk
from modelops_metrics.fairness import GroupMetric, encode_groups
from modelops_metrics.ranking import AUCROCMetric

from modelops_core.testing import assert_close


@pytest.mark.parametrize("decimals", [None, 1, 3])
def test_auc_with_and_without_ties_equals_sklearn(decimals: int | None) -> None:
    rng = np.random.default_rng(3)
    references = rng.integers(0, 2, 5000)
    scores = rng.random(5000) + 0.2 * references
    if decimals is not None:
        scores = np.round(scores, decimals)
    assert_close(AUCROCMetric().compute(scores, references), sk.roc_auc_score(references, scores))


def test_auc_when_every_score_is_tied_is_one_half() -> None:
    assert AUCROCMetric().compute([0.5] * 6, [0, 1, 0, 1, 1, 0]) == 0.5


def test_multiclass_ovr_auc_equals_sklearn() -> None:
    rng = np.random.default_rng(4)
    probabilities = rng.dirichlet(np.ones(4), 3000)
    references = rng.integers(0, 4, 3000)
    assert_close(
        AUCROCMetric().compute(probabilities, references),
        sk.roc_auc_score(references, probabilities, multi_class="ovr"),
    )


def _reference_codes(column: np.ndarray) -> tuple[np.ndarray, tuple[object, ...]]:
    labels, codes = np.unique(column, return_inverse=True)
    return codes.reshape(-1), tuple(labels.tolist())


@pytest.mark.parametrize(
    "column",
    [
        np.array(["female", "male", "nonbinary", "unknown"] * 800),
        np.array([b"ab", b"ba", b"aa"] * 1000),
        # a label missing from the sample (only at the end) falls back to sorting
        np.array(["x", "y"] * 1500 + ["z"]),
        # labels that share every character position but the last two
        np.array(["group-10", "group-11", "group-21"] * 1000),
        # a value differing from a sampled label after the distinguishing character
        np.array(["alpha", "beta"] * 1500 + ["alps"]),
    ],
)
def test_string_group_codes_equal_sorting(column: np.ndarray) -> None:
    encoded = encode_groups(column, len(column))
    codes, labels = _reference_codes(column)
    assert encoded.labels == labels
    assert np.array_equal(encoded.codes, codes)


def test_python_string_groups_and_intersections_equal_sorting() -> None:
    rng = np.random.default_rng(5)
    sex = rng.choice(["f", "m", "x"], 4000).tolist()
    age = rng.integers(18, 80, 4000)
    predictions, references = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    result = GroupMetric("accuracy").compute(predictions, references, groups=[sex, age])
    for (group_sex, group_age), value in result["by_group"].items():
        rows = (np.array(sex) == group_sex) & (age == group_age)
        assert value == sk.accuracy_score(references[rows], predictions[rows])
    assert len(result["by_group"]) == len(set(zip(sex, age.tolist(), strict=True)))


def test_grouped_table_drops_combinations_nobody_has_and_keeps_zero_weight_groups() -> None:
    # Integer codes are offsets from the minimum, so ages 3 and 9 span 7 codes and the two
    # columns 14 combinations; only ("f", 3) and ("m", 9) occur, and ("m", 9) weighs nothing.
    sex = np.array(["f", "m"] * 1000)
    age = np.array([3, 9] * 1000)
    predictions = np.arange(2000) % 3 == 0
    references = np.ones(2000, dtype=bool)
    weights = np.where(sex == "m", 0.0, 1.0)
    result = GroupMetric("accuracy").compute(
        predictions, references, groups=[sex, age], sample_weight=weights
    )
    assert list(result["by_group"]) == [("f", 3), ("m", 9)]
    rows = sex == "f"
    assert result["by_group"][("f", 3)] == sk.accuracy_score(references[rows], predictions[rows])
    assert np.isnan(result["by_group"][("m", 9)])


def test_boolean_groups_keep_boolean_labels() -> None:
    groups = np.array([True, False, True, True])
    result = GroupMetric("accuracy").compute([1, 0, 1, 0], [1, 1, 1, 0], groups=groups)
    assert result["by_group"] == {False: 0.0, True: 1.0}
