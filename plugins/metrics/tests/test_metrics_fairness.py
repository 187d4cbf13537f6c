"""Fairness metrics: the contract, and agreement with fairlearn on random data to 1e-12."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from modelops_metrics import plugin
from modelops_metrics.fairness import (
    DemographicParityDifference,
    DemographicParityRatio,
    EqualizedOddsDifference,
    EqualizedOddsRatio,
    EqualOpportunityDifference,
    EqualOpportunityRatio,
    GroupCalibrationError,
    GroupMetric,
)
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score

from modelops_core.errors import ModelOpsError
from modelops_core.testing import MetricContract, MetricExample
from modelops_core.testing.contracts import assert_close


def random_data(seed: int, n: int = 400) -> dict[str, Any]:
    """Labels, predictions, two group features and weights; group "c" has positives only."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.4, 0.3, 0.2, 0.1])
    age = rng.integers(0, 3, n)
    references = rng.integers(0, 2, n)
    references[sex == "c"] = 1  # one class only: its FPR is 0 by fairlearn's convention
    predictions = (rng.random(n) < np.where(sex == "a", 0.7, 0.4)).astype(int)
    weights = rng.random(n) * 3
    return {"p": predictions, "r": references, "sex": sex, "age": age, "w": weights}


DATA = random_data(0, 120)


class _FairnessContract(MetricContract):
    plugin = plugin
    distribution = "modelops-metrics"


class TestDemographicParityDifference(_FairnessContract):
    component_name = "demographic_parity_difference"

    def examples(self) -> list[MetricExample]:
        expected = demographic_parity_difference(
            DATA["r"], DATA["p"], sensitive_features=DATA["sex"]
        )
        return [
            MetricExample(
                DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["sex"]}
            ),
            MetricExample([1, 0, 1, 1], [0, 0, 0, 0], 0.5, {"groups": ["x", "x", "y", "y"]}),
        ]


class TestDemographicParityRatio(_FairnessContract):
    component_name = "demographic_parity_ratio"

    def examples(self) -> list[MetricExample]:
        expected = demographic_parity_ratio(DATA["r"], DATA["p"], sensitive_features=DATA["sex"])
        return [
            MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["sex"]})
        ]


class TestEqualizedOddsDifference(_FairnessContract):
    component_name = "equalized_odds_difference"

    def examples(self) -> list[MetricExample]:
        groups = {"sex": DATA["sex"], "age": DATA["age"]}
        expected = equalized_odds_difference(DATA["r"], DATA["p"], sensitive_features=groups)
        return [MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": groups})]


class TestEqualOpportunityDifference(_FairnessContract):
    component_name = "equal_opportunity_difference"

    def examples(self) -> list[MetricExample]:
        expected = equal_opportunity_difference(
            DATA["r"], DATA["p"], sensitive_features=DATA["age"]
        )
        return [
            MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["age"]})
        ]


class TestEqualizedOddsRatio(_FairnessContract):
    component_name = "equalized_odds_ratio"

    def examples(self) -> list[MetricExample]:
        expected = equalized_odds_ratio(DATA["r"], DATA["p"], sensitive_features=DATA["sex"])
        return [
            MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["sex"]})
        ]


class TestEqualOpportunityRatio(_FairnessContract):
    component_name = "equal_opportunity_ratio"

    def examples(self) -> list[MetricExample]:
        expected = equal_opportunity_ratio(DATA["r"], DATA["p"], sensitive_features=DATA["age"])
        return [
            MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["age"]})
        ]


class TestGroupMetric(_FairnessContract):
    component_name = "group_metric"

    def component_options(self, tmp_path: Any) -> dict[str, Any]:
        return {"metric": "accuracy"}

    def examples(self) -> list[MetricExample]:
        frame = MetricFrame(
            metrics=accuracy_score,
            y_true=DATA["r"],
            y_pred=DATA["p"],
            sensitive_features=DATA["sex"],
        )
        expected = {
            "overall": frame.overall,
            "by_group": frame.by_group.to_dict(),
            "difference": frame.difference(),
            "ratio": frame.ratio(),
        }
        return [
            MetricExample(DATA["p"].tolist(), DATA["r"].tolist(), expected, {"groups": DATA["sex"]})
        ]


class TestGroupCalibrationError(_FairnessContract):
    component_name = "group_calibration_error"

    def examples(self) -> list[MetricExample]:
        probabilities = np.linspace(0.05, 0.95, 6).tolist()
        labels = [0, 1, 0, 1, 1, 1]
        # ten bins, one item per bin: the ECE of a group is its mean |p - y|
        errors = np.abs(np.array(probabilities) - labels)
        expected = {
            "overall": errors.mean(),
            "by_group": {"x": errors[:3].mean(), "y": errors[3:].mean()},
            "difference": abs(errors[:3].mean() - errors[3:].mean()),
            "ratio": min(errors[:3].mean(), errors[3:].mean())
            / max(errors[:3].mean(), errors[3:].mean()),
        }
        return [MetricExample(probabilities, labels, expected, {"groups": list("xxxyyy")})]


# --- agreement with fairlearn --------------------------------------------------------------------

GROUPINGS = {
    "one feature": lambda data: data["sex"],
    "integer feature": lambda data: data["age"],
    "list of features": lambda data: [data["sex"], data["age"]],
    "mapping of features": lambda data: {"sex": data["sex"], "age": data["age"]},
}


def fairlearn_features(data: dict[str, Any], grouping: str) -> Any:
    if grouping in ("list of features", "mapping of features"):
        return {"sex": data["sex"], "age": data["age"]}
    return GROUPINGS[grouping](data)


@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_disparities_equal_fairlearn(grouping: str, weighted: bool, method: str) -> None:
    data = random_data(seed=len(grouping) + weighted)
    groups = GROUPINGS[grouping](data)
    features = fairlearn_features(data, grouping)
    weights = data["w"] if weighted else None
    peer = {"sensitive_features": features, "method": method, "sample_weight": weights}
    ours = {"groups": groups, "sample_weight": weights}
    pairs = [
        (DemographicParityDifference, demographic_parity_difference),
        (DemographicParityRatio, demographic_parity_ratio),
        (EqualizedOddsDifference, equalized_odds_difference),
        (EqualOpportunityDifference, equal_opportunity_difference),
        (EqualizedOddsRatio, equalized_odds_ratio),
        (EqualOpportunityRatio, equal_opportunity_ratio),
    ]
    for metric_class, fairlearn_function in pairs:
        expected = fairlearn_function(data["r"], data["p"], **peer)
        actual = metric_class(method=method).compute(data["p"], data["r"], **ours)
        assert_close(actual, expected)


def test_equalized_odds_mean_aggregation_equals_fairlearn() -> None:
    data = random_data(5)
    expected = equalized_odds_difference(
        data["r"], data["p"], sensitive_features=data["sex"], agg="mean", sample_weight=data["w"]
    )
    metric = EqualizedOddsDifference(agg="mean")
    actual = metric.compute(data["p"], data["r"], groups=data["sex"], sample_weight=data["w"])
    assert_close(actual, expected)


def test_equalized_odds_ratio_mean_aggregation_equals_fairlearn() -> None:
    data = random_data(7)
    expected = equalized_odds_ratio(
        data["r"], data["p"], sensitive_features=data["sex"], agg="mean", sample_weight=data["w"]
    )
    metric = EqualizedOddsRatio(agg="mean")
    actual = metric.compute(data["p"], data["r"], groups=data["sex"], sample_weight=data["w"])
    assert_close(actual, expected)


# groups a (first three) and b; (predictions, references, TPR ratio, FPR ratio); None: 0/0
ZERO_RATES = {
    # a: TPR 0, FPR 1; b: TPR 1, FPR 1/2
    "a group with no true positive": ([0, 0, 1, 1, 1, 0], [1, 1, 0, 1, 0, 0], 0.0, 0.5),
    # a: TPR 1/2, FPR 0; b: TPR 1, FPR 1/2
    "a group with no false positive": ([1, 0, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0], 0.5, 0.0),
    # a: TPR 0, FPR 1/2; b: TPR 0, FPR 1
    "no true positive in any group": ([0, 1, 0, 0, 1, 1], [1, 0, 0, 1, 0, 0], None, 0.5),
    # a: TPR 1/2, FPR 0; b: TPR 1, FPR 0
    "no false positive in any group": ([1, 0, 0, 1, 1, 0], [1, 1, 0, 1, 1, 0], 0.5, None),
    # a: no positive reference (TPR 0 by convention), FPR 1/3; b: TPR 1/2, FPR 1
    "no positive reference in group a": ([1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 0, 1], 0.0, 1 / 3),
}


@pytest.mark.parametrize("case", list(ZERO_RATES))
@pytest.mark.parametrize("agg", ["worst_case", "mean"])
def test_ratios_with_a_zero_rate_equal_fairlearn(case: str, agg: str) -> None:
    predictions, references, tpr_ratio, fpr_ratio = ZERO_RATES[case]
    groups = ["a", "a", "a", "b", "b", "b"]
    expected = equalized_odds_ratio(references, predictions, sensitive_features=groups, agg=agg)
    actual = EqualizedOddsRatio(agg=agg).compute(predictions, references, groups=groups)
    assert_close(actual, expected)
    opportunity = EqualOpportunityRatio().compute(predictions, references, groups=groups)
    assert_close(opportunity, equal_opportunity_ratio(references, predictions,
                                                      sensitive_features=groups))  # fmt: skip
    nan = float("nan")
    tpr, fpr = (nan if r is None else r for r in (tpr_ratio, fpr_ratio))
    assert_close(opportunity, tpr)
    if agg == "mean":
        defined = [r for r in (tpr_ratio, fpr_ratio) if r is not None]
        assert_close(actual, sum(defined) / len(defined))
    else:
        worst = tpr if fpr_ratio is None else min(tpr, fpr)  # NaN when the TPR ratio is
        assert_close(actual, nan if tpr_ratio is None else worst)


def test_the_ratios_are_registered_with_their_direction() -> None:
    from modelops_core import Runtime
    from modelops_core.config import parse_config
    from modelops_core.plugins.kinds import Kind

    runtime = Runtime(parse_config({}, source="test"), environ={})
    for name, cls in (("equalized_odds_ratio", EqualizedOddsRatio),
                      ("equal_opportunity_ratio", EqualOpportunityRatio)):  # fmt: skip
        (spec,) = [s for s in runtime.components[Kind.METRIC] if s.name == name]
        assert spec.load() is cls and cls.higher_is_better is True


def test_a_two_dimensional_array_is_one_column_per_feature() -> None:
    data = random_data(6)
    table = np.column_stack([data["age"], data["age"] * 10 + 1])
    expected = equalized_odds_difference(data["r"], data["p"], sensitive_features=table)
    actual = EqualizedOddsDifference().compute(data["p"], data["r"], groups=table)
    assert_close(actual, expected)


def test_string_labels_with_a_positive_label_equal_fairlearn_on_zero_one() -> None:
    data = random_data(8)
    words = np.array(["no", "yes"])
    predictions, references = words[data["p"]].tolist(), words[data["r"]].tolist()
    expected = equalized_odds_difference(data["r"], data["p"], sensitive_features=data["sex"])
    actual = EqualizedOddsDifference(pos_label="yes").compute(
        predictions, references, groups=data["sex"].tolist()
    )
    assert_close(actual, expected)


def test_many_string_groups_not_all_in_the_first_items_are_all_found() -> None:
    rng = np.random.default_rng(9)
    n = 30_000
    groups = rng.choice(np.array(["north", "south", "east"]), n)
    groups[-5:] = "west"  # a group the leading sample misses
    predictions = rng.integers(0, 2, n)
    predictions[-5:] = 1
    expected = demographic_parity_difference(predictions, predictions, sensitive_features=groups)
    result = DemographicParityDifference().compute(predictions, None, groups=groups)
    assert_close(result, expected)
    assert result == pytest.approx(1 - predictions[:-5].mean(), abs=0.05)


def test_every_item_in_one_group_has_no_disparity() -> None:
    data = random_data(10)
    groups = ["all"] * len(data["p"])
    assert DemographicParityDifference().compute(data["p"], data["r"], groups=groups) == 0.0
    assert DemographicParityRatio().compute(data["p"], data["r"], groups=groups) == 1.0


# --- per-group values of any metric --------------------------------------------------------------


class WeightedAccuracy:
    """A third-party metric: any object with compute(predictions, references) will do."""

    name = "weighted_accuracy"
    higher_is_better = True

    def compute(self, predictions: Any, references: Any, sample_weight: Any = None) -> float:
        return float(accuracy_score(references, predictions, sample_weight=sample_weight))


@pytest.mark.parametrize("metric", ["accuracy", WeightedAccuracy()], ids=["builtin", "object"])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_metric_equals_metric_frame(metric: Any, weighted: bool) -> None:
    data = random_data(12)
    weights = data["w"] if weighted else None
    frame = MetricFrame(
        metrics=accuracy_score,
        y_true=data["r"],
        y_pred=data["p"],
        sensitive_features={"sex": data["sex"], "age": data["age"]},
        sample_params={"sample_weight": weights} if weighted else None,
    )
    result = GroupMetric(metric).compute(
        data["p"].tolist(), data["r"].tolist(), groups=[data["sex"], data["age"]],
        sample_weight=weights,
    )  # fmt: skip
    assert_close(result["by_group"], frame.by_group.to_dict())
    assert_close(result["overall"], frame.overall)
    assert_close(result["difference"], frame.difference())
    assert_close(result["ratio"], frame.ratio())


@pytest.mark.parametrize(
    ("rate", "function"),
    [
        ("selection_rate", "selection_rate"),
        ("true_positive_rate", "true_positive_rate"),
        ("false_positive_rate", "false_positive_rate"),
    ],
)
def test_builtin_group_rates_equal_fairlearn(rate: str, function: str) -> None:
    import fairlearn.metrics as fairlearn_metrics

    data = random_data(13)
    frame = MetricFrame(
        metrics=getattr(fairlearn_metrics, function),
        y_true=data["r"],
        y_pred=data["p"],
        sensitive_features=data["sex"],
        sample_params={"sample_weight": data["w"]},
    )
    result = GroupMetric(rate, method="to_overall").compute(
        data["p"], data["r"], groups=data["sex"], sample_weight=data["w"]
    )
    assert_close(result["by_group"], frame.by_group.to_dict())
    assert_close(result["overall"], frame.overall)
    assert_close(result["difference"], frame.difference(method="to_overall"))
    assert_close(result["ratio"], frame.ratio(method="to_overall"))


def sklearn_ece(labels: Any, probabilities: Any) -> float:
    fraction_positive, mean_predicted = calibration_curve(labels, probabilities, n_bins=10)
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], probabilities))
    counts = counts[counts > 0]
    return float(np.sum(counts / counts.sum() * np.abs(mean_predicted - fraction_positive)))


def test_per_group_calibration_equals_metric_frame_over_sklearn_curves() -> None:
    rng = np.random.default_rng(14)
    probabilities = rng.random(600)
    groups = rng.choice(np.array(["a", "b", "c"]), 600)
    labels = (rng.random(600) < np.where(groups == "a", probabilities, probabilities**2)).astype(
        int
    )
    frame = MetricFrame(
        metrics=sklearn_ece, y_true=labels, y_pred=probabilities, sensitive_features=groups
    )
    result = GroupCalibrationError().compute(probabilities, labels, groups=groups)
    assert_close(result["by_group"], frame.by_group.to_dict())
    assert_close(result["overall"], frame.overall)
    assert_close(result["difference"], frame.difference())


# --- chunks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        DemographicParityDifference(),
        DemographicParityRatio(method="to_overall"),
        EqualizedOddsDifference(),
        EqualOpportunityDifference(),
        GroupMetric("accuracy"),
        GroupCalibrationError(n_bins=5),
    ],
    ids=lambda metric: metric.name,
)
def test_chunked_states_with_groups_and_weights_equal_one_shot(metric: Any) -> None:
    data = random_data(15, n=900)
    if isinstance(metric, GroupCalibrationError):
        data["p"] = np.random.default_rng(15).random(900)
    order = np.argsort(data["sex"], kind="stable")  # chunks see different sets of groups
    columns = {key: value[order] for key, value in data.items()}
    groups = [columns["sex"], columns["age"]]
    expected = metric.compute(columns["p"], columns["r"], groups=groups, sample_weight=columns["w"])
    states = []
    for chunk in np.array_split(np.arange(900), 4):
        states.append(
            metric.state().update(
                columns["p"][chunk],
                columns["r"][chunk],
                groups=[columns["sex"][chunk], columns["age"][chunk]],
                sample_weight=columns["w"][chunk],
            )
        )
    merged = states[3].merge(states[1]).merge(states[0].merge(states[2]))
    assert_close(merged.compute(), expected)


# --- bad input -----------------------------------------------------------------------------------


def test_missing_groups_say_how_to_pass_them() -> None:
    with pytest.raises(ModelOpsError, match="groups is missing") as error:
        DemographicParityDifference().compute([1, 0], [1, 1])
    assert isinstance(error.value, ValueError)


def test_groups_of_the_wrong_length_are_named() -> None:
    with pytest.raises(ValueError, match="groups column 1 has 2"):
        EqualizedOddsDifference().compute([1, 0, 1], [1, 1, 0], groups=[["a", "b", "a"], [1, 2]])


def test_a_metric_without_sample_weight_is_refused_when_weights_are_given() -> None:
    class PlainAccuracy:
        name = "plain"

        def compute(self, predictions: Any, references: Any) -> float:
            return float(accuracy_score(references, predictions))

    with pytest.raises(ValueError, match="does not accept sample_weight"):
        GroupMetric(PlainAccuracy()).compute(
            [1, 0], [1, 1], groups=["a", "b"], sample_weight=[1, 2]
        )


def test_an_unknown_builtin_rate_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="'selection_rate'"):
        GroupMetric("precision")


# --- names, directions and the built-in rates ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "higher_is_better"),
    [
        (lambda: GroupMetric("accuracy"), "group_accuracy", True),
        (lambda: GroupMetric("selection_rate"), "group_selection_rate", None),
        (lambda: GroupMetric("true_positive_rate"), "group_true_positive_rate", None),
        (lambda: GroupMetric("false_positive_rate"), "group_false_positive_rate", None),
        (lambda: GroupMetric(WeightedAccuracy()), "group_weighted_accuracy", True),
        (lambda: GroupCalibrationError(), "group_calibration_error", False),
    ],
)
def test_a_group_metric_is_named_and_directed_after_its_metric(
    make: Any, name: str, higher_is_better: bool | None
) -> None:
    metric = make()
    assert (metric.name, metric.higher_is_better) == (name, higher_is_better)
    # the instance shadows the class defaults; the classes keep theirs
    assert (GroupMetric.name, GroupMetric.higher_is_better) == ("group_metric", None)
    assert GroupMetric(WeightedAccuracy()).name == "group_weighted_accuracy"


def test_builtin_rates_by_group_exactly() -> None:
    predictions = [1, 0, 1, 1, 0, 0, 1]
    references = [1, 1, 0, 1, 0, 1, 1]
    groups = ["a", "a", "a", "b", "b", "b", "b"]
    # a: selected 2/3, TPR 1/2 (refs 1 at 0, 1), FPR 1/1; b: selected 2/4, TPR 2/3, FPR 0/1
    expected = {
        "selection_rate": ({"a": 2 / 3, "b": 0.5}, 4 / 7),
        "true_positive_rate": ({"a": 0.5, "b": 2 / 3}, 3 / 5),
        "false_positive_rate": ({"a": 1.0, "b": 0.0}, 1 / 2),
    }
    for rate, (by_group, overall) in expected.items():
        result = GroupMetric(rate).compute(predictions, references, groups=groups)
        assert result["by_group"] == pytest.approx(by_group, abs=1e-15), rate
        assert result["overall"] == pytest.approx(overall, abs=1e-15), rate
        state = GroupMetric(rate).state()
        state.update(predictions[:4], references[:4], groups=groups[:4])
        state.update(predictions[4:], references[4:], groups=groups[4:])
        assert state.compute()["by_group"] == pytest.approx(by_group, abs=1e-15), rate
    # the selection rate needs no references; the error rates say they do
    alone = GroupMetric("selection_rate").compute(predictions, None, groups=groups)
    assert alone["by_group"] == pytest.approx(expected["selection_rate"][0], abs=1e-15)
    for rate in ("true_positive_rate", "false_positive_rate"):
        with pytest.raises(ValueError, match=f"{rate} needs references"):
            GroupMetric(rate).compute(predictions, None, groups=groups)
