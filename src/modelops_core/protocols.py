"""What a component of each kind must offer. The contract suites in
:mod:`modelops_core.testing` check these, and the plugin issues extend them append-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from modelops_core.jobs import JobEvent, ProviderJob, TuningRequest


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


@runtime_checkable
class ProviderComponent(Protocol):
    """A fine-tuning and inference provider (local, openai, vertex, bedrock …).

    Options come from ``[providers.<name>]`` in the configuration. Every method is synchronous
    and makes at most a few API calls; polling, backoff, persistence and events belong to
    :class:`modelops_core.finetune.FineTuningJob`, not to the provider.

    - ``export_format``: the ``Dataset.export`` format the training file must be in
      (``"openai"``, ``"vertex"``, ``"bedrock"``, ``"bedrock-conversation"``, ``"local"``).
    - ``validate(path, method, model)``: provider rules on an exported file (minimum examples,
      token limits, roles); a list of human-readable problems, empty when the file is fine.
    - ``start(request)``: uploads the training file and creates the job; returns its snapshot.
    - ``get(job_id)``, ``cancel(job_id)``, ``list_jobs(limit)``, ``events(job_id)``.
    - ``predict(model_id, inputs)``: one output per input (a label or generated text).
    """

    name: str
    export_format: str

    def validate(self, path: str, method: str, model: str) -> list[str]: ...

    def start(self, request: TuningRequest) -> ProviderJob: ...

    def get(self, job_id: str) -> ProviderJob: ...

    def cancel(self, job_id: str) -> ProviderJob: ...

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]: ...

    def events(self, job_id: str) -> list[JobEvent]: ...

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]: ...
