"""Contract test suites, one class per component kind.

A plugin's tests subclass the suite of its kind and fill in the class attributes (and, for
kinds with behaviour checks, the example methods); pytest then runs every inherited test.
The suites grow append-only as the kinds' protocols grow.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from modelops_core.errors import ComponentOptionError
from modelops_core.kinds import Kind
from modelops_core.plugins import discover
from modelops_core.protocols import MergeableMetric, MetricComponent, SanitizerComponent
from modelops_core.runtime import Runtime
from modelops_core.testing.fixtures import make_runtime


class ComponentContract:
    """Checks every component kind shares: registration, options, installation.

    :cvar plugin: the plugin object (usually the module with the ``@hookimpl`` functions).
    :cvar component_name: the name the plugin registers.
    :cvar distribution: the distribution name; when set, the entry point must be installed.
    """

    kind: ClassVar[Kind]
    plugin: ClassVar[object]
    component_name: ClassVar[str]
    distribution: ClassVar[str | None] = None

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """Options to build the component with (override for components that need some)."""
        return {}

    @pytest.fixture
    def runtime(self, tmp_path: Path) -> Runtime:
        """A runtime with only this plugin registered."""
        name = self.distribution or getattr(self.plugin, "__name__", "plugin-under-test")
        return make_runtime(tmp_path / ".modelops", [(name, self.plugin)])

    @pytest.fixture
    def component(self, runtime: Runtime, tmp_path: Path) -> Any:
        """The component built with :meth:`component_options`."""
        built = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        yield built
        close = getattr(built, "close", None)
        if callable(close):
            close()

    def test_plugin_registers_the_component(self, runtime: Runtime) -> None:
        assert self.component_name in runtime.components[self.kind].names()

    def test_an_unknown_option_is_refused(self, runtime: Runtime, tmp_path: Path) -> None:
        options = {**self.component_options(tmp_path), "no_such_option_xyz": 1}
        spec = runtime.components[self.kind].get(self.component_name)
        import inspect

        parameters = inspect.signature(spec.load()).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            pytest.skip("the factory accepts any keyword option")
        with pytest.raises(ComponentOptionError, match="no_such_option_xyz"):
            runtime.create(self.kind, self.component_name, **options)

    def test_plugin_is_installed(self) -> None:
        if self.distribution is None:
            pytest.skip("no distribution declared; set `distribution` to check the entry point")
        names = [entry_point.name for entry_point in discover()]
        assert self.distribution in names, (
            f"the entry point {self.distribution!r} is not installed; "
            f"pip install the plugin (found: {names})"
        )


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
            if example.columns or len(example.predictions) < 2:
                continue
            half = len(example.predictions) // 2
            left = component.state().update(example.predictions[:half], example.references[:half])
            right = component.state().update(example.predictions[half:], example.references[half:])
            assert_close(left.merge(right).compute(), example.expected)


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


class ProviderContract(ComponentContract):
    """The provider suite (fine-tuning and inference checks arrive with the providers issue)."""

    kind = Kind.PROVIDER


class RegistryBackendContract(ComponentContract):
    """The registry backend suite (storage checks arrive with the registry issue)."""

    kind = Kind.REGISTRY_BACKEND


class ArtifactStoreContract(ComponentContract):
    """The artifact store suite (round-trip checks arrive with the registry issue)."""

    kind = Kind.ARTIFACT_STORE


class FeatureStoreContract(ComponentContract):
    """The feature store suite (push/get checks arrive with the feature store issue)."""

    kind = Kind.FEATURE_STORE


class OptimizerContract(ComponentContract):
    """The optimizer suite (before/after checks arrive with the optimizer issue)."""

    kind = Kind.OPTIMIZER


class DriftTestContract(ComponentContract):
    """The drift test suite (statistic checks arrive with the monitoring issue)."""

    kind = Kind.DRIFT_TEST


class EngineContract(ComponentContract):
    """The engine suite (map/merge checks arrive with the engines issue)."""

    kind = Kind.ENGINE
