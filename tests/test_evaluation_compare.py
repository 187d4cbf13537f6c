"""A/B comparison of two results: paired and unpaired tests, corrections, power, decision."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from modelops_core import Evaluator, Runtime, compare
from modelops_core.config import parse_config
from modelops_core.evaluation.result import EvaluationError

pytest.importorskip("modelops_metrics", reason="the metric names come from modelops-metrics")


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(parse_config({}, source="test"), environ={})


def two_models(n=400, accuracy_a=0.85, accuracy_b=0.75, seed=0):
    rng = np.random.default_rng(seed)
    references = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < accuracy_a, references, 1 - references)
    b = np.where(rng.random(n) < accuracy_b, references, 1 - references)
    return references, a, b


def evaluate(runtime, predictions, references, model_id, **kwargs):
    metrics = kwargs.pop("metrics", ["accuracy", "f1"])
    return Evaluator(metrics, runtime=runtime).evaluate_result(
        predictions, references, model_id=model_id, **kwargs
    )


def test_paired_comparison_uses_mcnemar_and_declares_the_winner(runtime):
    references, a, b = two_models()
    comparison = compare(evaluate(runtime, a, references, "a"), evaluate(runtime, b, references,
                         "b"), runtime=runtime)  # fmt: skip
    accuracy = comparison["accuracy"]
    assert comparison.paired and accuracy.test == "mcnemar-exact"
    only_a, only_b = (
        int(((a == references) & (b != references)).sum()),
        int(((a != references) & (b == references)).sum()),
    )
    assert accuracy.p_value == pytest.approx(scipy.stats.binomtest(only_a, only_a + only_b).pvalue)
    assert accuracy.low < accuracy.difference < accuracy.high
    assert comparison["f1"].test == "paired-bootstrap"
    assert comparison.decision == "A wins" and comparison.winner == "a"


def test_paired_effect_interval_follows_the_requested_level(runtime):
    references, a, b = two_models()
    result_a = evaluate(runtime, a, references, "a")
    result_b = evaluate(runtime, b, references, "b")
    wide = compare(result_a, result_b, level=0.99, runtime=runtime)
    narrow = compare(result_a, result_b, level=0.80, runtime=runtime)
    for name in ("accuracy", "f1"):
        assert wide[name].difference == narrow[name].difference
        assert wide[name].low < narrow[name].low < narrow[name].difference
        assert narrow[name].difference < narrow[name].high < wide[name].high


def test_b_wins_when_b_is_better(runtime):
    references, a, b = two_models(accuracy_a=0.7, accuracy_b=0.9, seed=1)
    comparison = compare(evaluate(runtime, a, references, "a"), evaluate(runtime, b, references,
                         "b"), runtime=runtime)  # fmt: skip
    assert comparison.decision == "B wins"


def test_lower_is_better_metrics_decide_in_the_right_direction(runtime):
    rng = np.random.default_rng(2)
    references = rng.normal(size=300)
    close = references + rng.normal(0, 0.3, 300)
    far = references + rng.normal(0, 1.0, 300)
    result_a = evaluate(runtime, close, references, "close", metrics=["mse", "mae"])
    result_b = evaluate(runtime, far, references, "far", metrics=["mse", "mae"])
    comparison = compare(result_a, result_b, runtime=runtime)
    assert comparison["mse"].test == "wilcoxon"
    expected = scipy.stats.wilcoxon((close - references) ** 2, (far - references) ** 2).pvalue
    assert comparison["mse"].p_value == pytest.approx(expected, rel=1e-9)
    assert comparison.decision == "A wins"


def test_unpaired_comparison_uses_two_proportion_z(runtime):
    references, a, _ = two_models(seed=3)
    other_references, _, b = two_models(n=300, seed=4)
    result_a = evaluate(runtime, a, references, "a")
    result_b = evaluate(runtime, b, other_references, "b")
    comparison = compare(result_a, result_b, metrics=["accuracy"])
    assert not comparison.paired and comparison["accuracy"].test == "two-proportion-z"


def test_p_values_are_adjusted_across_metrics(runtime):
    references, a, b = two_models(seed=5)
    result_a, result_b = (evaluate(runtime, a, references, "a"),
                          evaluate(runtime, b, references, "b"))  # fmt: skip
    holm = compare(result_a, result_b, runtime=runtime, adjust="holm")
    raw = compare(result_a, result_b, runtime=runtime, adjust="none")
    smallest = min(raw.rows, key=lambda row: row.p_value)
    assert holm[smallest.metric].adjusted_p == pytest.approx(min(1.0, 2 * smallest.p_value))


def test_a_small_sample_warns_that_it_cannot_detect_the_effect(runtime):
    references, a, b = two_models(n=40, accuracy_a=0.8, accuracy_b=0.75, seed=6)
    comparison = compare(evaluate(runtime, a, references, "a"), evaluate(runtime, b, references,
                         "b"), runtime=runtime, metrics=["accuracy"])  # fmt: skip
    assert comparison.decision == "no significant difference"
    assert comparison.warnings and "too few" in comparison.warnings[0]


def test_identical_models_show_no_difference(runtime):
    references, a, _ = two_models(seed=7)
    same = evaluate(runtime, a, references, "a")
    comparison = compare(same, same, runtime=runtime)
    assert comparison.decision == "no significant difference"
    assert comparison["accuracy"].p_value == 1.0


def test_comparing_a_metric_one_result_lacks_is_an_error(runtime):
    references, a, b = two_models(n=50, seed=8)
    with pytest.raises(EvaluationError, match="cannot compare auc_roc"):
        compare(evaluate(runtime, a, references, "a"), evaluate(runtime, b, references, "b"),
                metrics=["auc_roc"])  # fmt: skip


def test_chosen_paired_tests_replace_the_defaults(runtime):
    references, a, b = two_models(seed=8)
    result_a = evaluate(runtime, a, references, "a", metrics=["accuracy"])
    result_b = evaluate(runtime, b, references, "b", metrics=["accuracy"])
    only_a = int(((a == references) & (b != references)).sum())
    only_b = int(((a != references) & (b == references)).sum())
    for test, statistic in (
        ("mcnemar-chi2", (only_a - only_b) ** 2 / (only_a + only_b)),
        ("mcnemar-chi2-corrected", (abs(only_a - only_b) - 1) ** 2 / (only_a + only_b)),
    ):
        row = compare(result_a, result_b, runtime=runtime, tests=[test])["accuracy"]
        assert row.test == test
        assert row.p_value == pytest.approx(scipy.stats.chi2.sf(statistic, 1), rel=1e-12)
    mid = compare(result_a, result_b, runtime=runtime, tests=["mcnemar-mid-p"])["accuracy"]
    smaller, n = min(only_a, only_b), only_a + only_b
    expected = 2 * scipy.stats.binom.cdf(smaller, n, 0.5) - scipy.stats.binom.pmf(smaller, n, 0.5)
    assert mid.test == "mcnemar-mid-p" and mid.p_value == pytest.approx(min(1.0, expected))


def test_the_paired_t_test_on_losses(runtime):
    rng = np.random.default_rng(2)
    references = rng.normal(size=300)
    close = references + rng.normal(0, 0.3, 300)
    far = references + rng.normal(0, 1.0, 300)
    result_a = evaluate(runtime, close, references, "close", metrics=["mse"])
    result_b = evaluate(runtime, far, references, "far", metrics=["mse"])
    row = compare(result_a, result_b, runtime=runtime, tests=["paired-t"])["mse"]
    expected = scipy.stats.ttest_rel((close - references) ** 2, (far - references) ** 2)
    assert row.test == "paired-t"
    assert row.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_unknown_or_clashing_tests_are_refused(runtime):
    references, a, b = two_models(n=50, seed=9)
    result_a = evaluate(runtime, a, references, "a", metrics=["accuracy"])
    result_b = evaluate(runtime, b, references, "b", metrics=["accuracy"])
    with pytest.raises(EvaluationError, match="test 'mcnemar' is not one of mcnemar-exact"):
        compare(result_a, result_b, runtime=runtime, tests=["mcnemar"])
    with pytest.raises(EvaluationError, match="mcnemar-chi2 and mcnemar-exact apply to the same"):
        compare(result_a, result_b, runtime=runtime, tests=["mcnemar-exact", "mcnemar-chi2"])
    with pytest.raises(EvaluationError, match=r"mid_p=True \(--mid-p\) contradicts"):
        compare(result_a, result_b, runtime=runtime, tests=["mcnemar-chi2"], mid_p=True)


def test_the_cli_offers_every_paired_test():
    from modelops_core.cli.eval import PAIRED_TEST_CHOICES
    from modelops_core.evaluation.compare import PAIRED_TESTS

    assert PAIRED_TEST_CHOICES == PAIRED_TESTS
