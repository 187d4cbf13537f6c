"""What a component of each kind must offer. The contract suites in
:mod:`modelops_core.testing` check these, and the plugin issues extend them append-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class MetricComponent(Protocol):
    """A metric: ``compute(predictions, references, **columns)`` returns a number or a mapping.

    Extra keyword parameters of ``compute`` (``scores``, ``groups``, ``sample_weight``, or any
    column name) are filled from columns of the evaluated data with the same name.
    """

    name: str

    def compute(self, predictions: Sequence[Any], references: Sequence[Any]) -> Any: ...


@runtime_checkable
class Closeable(Protocol):
    """A component holding resources (connections, files) released by ``close()``."""

    def close(self) -> None: ...


@runtime_checkable
class MetricState(Protocol):
    """The mergeable state of a metric: update over chunks, merge partial states, compute.

    ``update`` and ``merge`` return the resulting state (they may return ``self``), so an
    engine can fold chunks on one machine or merge states computed on many.
    """

    def update(self, predictions: Sequence[Any], references: Sequence[Any]) -> MetricState: ...

    def merge(self, other: MetricState) -> MetricState: ...

    def compute(self) -> Any: ...


@runtime_checkable
class MergeableMetric(MetricComponent, Protocol):
    """A metric that can be evaluated in chunks: ``metric.state()`` is an empty state."""

    def state(self) -> MetricState: ...


@runtime_checkable
class SanitizerComponent(Protocol):
    """A sanitizer: ``apply(records)`` streams sanitized records (a record may be dropped).

    It must not modify the records it is given, and it keeps counts (never the found values)
    in ``report()``.
    """

    name: str

    def apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]: ...

    def report(self) -> Mapping[str, Any]: ...
