"""The contract suite of sanitizer components (``modelops_register_sanitizers``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from modelops_core.plugins.kinds import Kind
from modelops_core.plugins.protocols import SanitizerComponent
from modelops_core.testing.contracts.base import ComponentContract


@attrs.frozen
class SanitizerExample:
    """Records given to a sanitizer and the records it must produce."""

    records: Sequence[Mapping[str, Any]]
    expected: Sequence[Mapping[str, Any]]


class SanitizerContract(ComponentContract):
    """The sanitizer suite: expected output, streaming, input left untouched, a report."""

    kind = Kind.SANITIZER

    def examples(self) -> list[SanitizerExample]:
        """At least one example; override in the subclass."""
        raise NotImplementedError("a SanitizerContract subclass must define examples()")

    def test_component_is_a_sanitizer(self, component: Any) -> None:
        assert isinstance(component, SanitizerComponent)

    def test_examples_give_the_expected_records(self, component: Any) -> None:
        for example in self.examples():
            assert list(component.apply(example.records)) == list(example.expected)

    def test_it_streams(self, component: Any) -> None:
        example = self.examples()[0]
        output = component.apply(iter(example.records))
        assert iter(output) is output, "apply() must return an iterator, not a list"

    def test_input_records_are_not_modified(self, component: Any) -> None:
        example = self.examples()[0]
        records = copy.deepcopy(list(example.records))
        list(component.apply(records))
        assert records == list(example.records)

    def test_report_is_a_mapping(self, component: Any) -> None:
        list(component.apply(self.examples()[0].records))
        assert isinstance(component.report(), Mapping)
