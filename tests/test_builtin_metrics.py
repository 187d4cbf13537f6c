"""The core's own plugin passes the metric contract like any third-party plugin."""

from __future__ import annotations

import pytest

from modelops_core import builtin
from modelops_core.builtin.text_metrics import (
    MetricInputError,
    exact_match_metric,
    length_ratio_metric,
)
from modelops_core.testing import MetricContract, MetricExample


class TestExactMatch(MetricContract):
    plugin = builtin
    component_name = "exact_match"
    distribution = "modelops-core"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(["Paris ", "4", " yes"], ["Paris", "5", "yes"], expected=2 / 3),
            MetricExample(["a"], ["b"], expected=0.0),
        ]


class TestLengthRatio(MetricContract):
    plugin = builtin
    component_name = "length_ratio"
    distribution = "modelops-core"

    def examples(self) -> list[MetricExample]:
        return [
            MetricExample(["abcd", "ab", "a"], ["ab", "ab", "abcd"], expected=(2 + 1 + 0.25) / 3)
        ]


def test_empty_input_is_refused() -> None:
    with pytest.raises(MetricInputError, match="empty"):
        exact_match_metric([], [])


def test_an_empty_reference_makes_the_length_ratio_undefined() -> None:
    with pytest.raises(MetricInputError, match=r"references\[1\] is empty"):
        length_ratio_metric(["a", "b"], ["a", ""])


def test_non_strings_are_named() -> None:
    with pytest.raises(MetricInputError, match=r"predictions\[0\] is int"):
        exact_match_metric([1], ["1"])  # type: ignore[list-item]


def test_the_text_metrics_use_the_shared_input_checks() -> None:
    from modelops_core.evaluation.inputs import EvaluationInputError
    from modelops_core.evaluation.result import EvaluationError

    assert MetricInputError is EvaluationInputError and issubclass(
        MetricInputError, EvaluationError
    )
    with pytest.raises(MetricInputError) as caught:
        length_ratio_metric(["a", "b", "c"], ["a", "b"])
    assert str(caught.value) == (
        "predictions has 3 items but references has 2; the lengths mismatch. Pass one value per "
        "example, in the same order."
    )
    assert caught.value.argument == "references"
    with pytest.raises(MetricInputError, match=r"^predictions has 1 item but references has 2; "):
        exact_match_metric(["a"], ["a", "b"])
    with pytest.raises(MetricInputError, match=r"^references\[1\] is NoneType, not str") as caught:
        exact_match_metric(["a", "b"], ["a", None])  # type: ignore[list-item]
    assert caught.value.argument == "references"


def test_one_string_is_not_taken_for_a_sequence_of_characters() -> None:
    with pytest.raises(MetricInputError, match=r"^predictions is one str \('yes'\)") as caught:
        exact_match_metric("yes", ["y", "e", "s"])  # type: ignore[arg-type]
    assert caught.value.argument == "predictions"
