"""The contract suite of metric components (``modelops_register_metrics``)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.plugins.protocols import MergeableMetric, MetricComponent
from modelops_core.testing.contracts.base import ComponentContract


@attrs.frozen
class MetricExample:
    """Inputs of a metric and the value it must return (compared with ``rel/abs 1e-12``)."""

    predictions: Sequence[Any]
    references: Sequence[Any]
    expected: Any
    columns: Mapping[str, Any] = attrs.field(factory=dict)


def assert_close(actual: Any, expected: Any, tolerance: float = 1e-12) -> None:
    """Recursive equality with a tolerance for floats (NaN equals NaN)."""
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping) and set(actual) == set(expected), (actual, expected)
        for key in expected:
            assert_close(actual[key], expected[key], tolerance)
    elif isinstance(expected, int | float) and not isinstance(expected, bool):
        actual_float, expected_float = float(actual), float(expected)
        if math.isnan(expected_float):
            assert math.isnan(actual_float), (actual, expected)
        else:
            assert math.isclose(actual_float, expected_float, rel_tol=tolerance,
                                abs_tol=tolerance), (actual, expected)  # fmt: skip
    elif isinstance(expected, Sequence) and not isinstance(expected, str):
        assert len(actual) == len(expected), (actual, expected)
        for got, want in zip(actual, expected, strict=True):
            assert_close(got, want, tolerance)
    else:
        assert actual == expected


class MetricContract(ComponentContract):
    """The metric suite: values, the calling convention, bad lengths, chunked evaluation."""

    kind = Kind.METRIC

    def examples(self) -> list[MetricExample]:
        """At least one example with its expected value; override in the subclass."""
        raise NotImplementedError("a MetricContract subclass must define examples()")

    def test_component_is_a_metric(self, component: Any) -> None:
        assert isinstance(component, MetricComponent)
        assert isinstance(component.name, str) and component.name

    def test_examples_give_the_expected_values(self, component: Any) -> None:
        for example in self.examples():
            result = component.compute(example.predictions, example.references, **example.columns)
            assert_close(result, example.expected)

    def test_positional_and_keyword_calls_agree(self, component: Any) -> None:
        example = self.examples()[0]
        positional = component.compute(example.predictions, example.references, **example.columns)
        keyword = component.compute(
            predictions=example.predictions, references=example.references, **example.columns
        )
        assert_close(keyword, positional)

    def test_mismatched_lengths_are_a_value_error(self, component: Any) -> None:
        example = self.examples()[0]
        if len(example.predictions) < 2:
            pytest.skip("the first example needs two or more items")
        with pytest.raises(ValueError, match="(?i)length|items|mismatch"):
            component.compute(example.predictions[:-1], example.references, **example.columns)

    def test_inputs_are_not_modified(self, component: Any) -> None:
        example = self.examples()[0]
        predictions, references = (
            copy.deepcopy(example.predictions),
            copy.deepcopy(example.references),
        )
        component.compute(predictions, references, **example.columns)
        assert_close(predictions, example.predictions)
        assert_close(references, example.references)

    def test_chunked_state_equals_one_shot(self, component: Any) -> None:
        if not isinstance(component, MergeableMetric):
            pytest.skip("the metric has no mergeable state")
        for example in self.examples():
            length = len(example.predictions)
            if length < 2:
                continue
            half = length // 2
            states = [
                component.state().update(
                    example.predictions[start:stop],
                    example.references[start:stop],
                    **{
                        name: _column_rows(value, start, stop, length)
                        for name, value in example.columns.items()
                    },
                )
                for start, stop in ((0, half), (half, length))
            ]
            assert_close(states[0].merge(states[1]).compute(), example.expected)


def _column_rows(value: Any, start: int, stop: int, length: int) -> Any:
    """Rows ``start:stop`` of an example column (``groups``, ``sample_weight`` …).

    A column is one value per item, several such sequences (intersectional ``groups``) or a
    mapping of name to sequence; anything else is passed unchanged.
    """
    if isinstance(value, Mapping):
        return {name: _column_rows(item, start, stop, length) for name, item in value.items()}
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        return value
    if len(value) == length:
        return value[start:stop]
    if all(hasattr(item, "__len__") and len(item) == length for item in value):
        return [item[start:stop] for item in value]
    return value
