"""What a component of each kind must offer. The contract suites in
:mod:`modelops_core.testing` check these, and the plugin issues extend them append-only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from modelops_core.finetune.provider_contract import JobEvent, ProviderJob, TuningRequest


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
    engine can fold chunks on one machine or merge states computed on many. ``update`` takes
    the chunk's ``sample_weight`` (None: every example weighs 1) and, like ``compute``, any
    extra column the metric needs (``groups=`` …) as a keyword.
    """

    def update(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        *,
        sample_weight: Sequence[float] | None = None,
    ) -> MetricState: ...

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


def _frozen_ints(value: Mapping[str, int]) -> Mapping[str, int]:
    from types import MappingProxyType

    return MappingProxyType(dict(value))


def _frozen_strs(value: Mapping[str, str]) -> Mapping[str, str]:
    from types import MappingProxyType

    return MappingProxyType(dict(value))


def _by_prefix(table: Mapping[str, Any], model: str | None) -> Any:
    """The value of the longest key of ``table`` that ``model`` (without ``ft:``) starts with."""
    if not model:
        return None
    name = model.removeprefix("ft:")
    matches = [prefix for prefix in table if name.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


@attrs.frozen
class DatasetLimits:
    """The dataset rules of a provider, checked by ``Dataset.validate``, ``modelops dataset
    validate --provider`` and the preflight of ``FineTuningJob``.

    :param min_examples: the fewest training examples a job accepts.
    :param max_tokens: tokens per example (input and output) for models not in ``models``;
        0 leaves the count unchecked.
    :param models: model-name prefix -> tokens per example (the longest matching prefix wins).
    :param max_file_bytes: the largest training file the provider takes; 0 leaves it unchecked.
    :param source: where the numbers come from (shown in the docs and errors).
    :param tokenizer: what the token limit is counted with for models not in ``tokenizers``:
        ``"tiktoken:<encoding>"`` (used when ``tiktoken`` is installed) or
        ``"module:callable"``; empty: the core's estimate (see
        :mod:`modelops_core.datasets.tokens`).
    :param tokenizers: model-name prefix -> tokenizer (the longest matching prefix wins).
    :param strict_message_keys: a message key the core does not know (``timestamp``), or a
        ``weight`` on a message that is not the assistant's, is an error (the provider refuses
        the file) rather than a warning.
    :param refuses_duplicates: a training file with an example repeated is refused by the
        provider: duplicates are errors. Otherwise (every first-party provider) they are
        warnings: worth a look, but the job runs.
    """

    min_examples: int = 1
    max_tokens: int = 0
    models: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_ints)
    max_file_bytes: int = 0
    source: str = ""
    tokenizer: str = ""
    tokenizers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_strs)
    strict_message_keys: bool = False
    refuses_duplicates: bool = False

    def tokens_for(self, model: str | None) -> int:
        """The token limit for ``model`` (the longest matching prefix; a fine-tuned
        ``ft:<base>:...`` name counts as its base), else the default."""
        found = _by_prefix(self.models, model)
        return self.max_tokens if found is None else found

    def tokenizer_for(self, model: str | None) -> str:
        """The tokenizer the limit of ``model`` is counted with (see ``tokenizers``)."""
        found = _by_prefix(self.tokenizers, model)
        return self.tokenizer if found is None else found


@attrs.frozen
class ExportShape:
    """One training-file format a provider reads: ``Dataset.export(path, provider=name)``,
    ``modelops dataset convert --to name``.

    :param name: the export name (``"acme"``, ``"acme-preference"``); unique among the
        installed providers.
    :param base: the canonical format its records are built from (``chat``,
        ``prompt_completion`` or ``preference``); any record is first converted to it.
    :param converter: ``"module:attr"`` of ``convert(record, where) -> dict``, which turns one
        canonical ``base`` record into the provider's JSON object (``where`` names the file and
        line for its errors, a :class:`~modelops_core.datasets.errors.DatasetFormatError`).
        Imported only when the shape is used, so the plugin module stays cheap to import.
        Empty: the canonical ``base`` record is written as it is.
    """

    name: str
    base: str
    converter: str = ""


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _exports(values: Iterable[ExportShape]) -> tuple[ExportShape, ...]:
    return tuple(values)


@attrs.frozen
class ProviderProfile:
    """What the core knows of a provider without building it, declared with
    ``registry.add(name, factory, profile=ProviderProfile(...))``.

    :param models: the model names the provider claims, as ``fnmatch`` patterns
        (``"acme-*"``); ``FineTuningJob(model=...)`` without a provider picks the one provider
        whose pattern matches (two providers claiming a name is an error naming both).
    :param limits: its :class:`DatasetLimits`, which apply to every shape in ``exports`` and to
        ``validate --provider <provider name>``.
    :param exports: the :class:`ExportShape` values of its training files.
    """

    models: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    limits: DatasetLimits = DatasetLimits()
    exports: tuple[ExportShape, ...] = attrs.field(default=(), converter=_exports)

    def claim(self, model: str) -> str | None:
        """The first pattern of :attr:`models` that ``model`` matches, else None."""
        for pattern in self.models:
            if fnmatch.fnmatchcase(model, pattern):
                return pattern
        return None


@runtime_checkable
class ProviderComponent(Protocol):
    """A fine-tuning and inference provider (local, openai, vertex, bedrock …).

    Options come from ``[providers.<name>]`` in the configuration. Every method is synchronous
    and makes at most a few API calls; polling, backoff, persistence and events belong to
    :class:`modelops_core.finetune.job.FineTuningJob`, not to the provider.

    - ``export_format``: the ``Dataset.export`` format the training file must be in: the
      name of an :class:`ExportShape` some installed provider declares in its
      :class:`ProviderProfile` (``"openai"``, ``"vertex"``, ``"bedrock-conversation"`` …).
    - ``validate(path, method, model)``: provider rules on an exported file (minimum examples,
      token limits, roles); a list of human-readable problems, empty when the file is fine.
    - ``start(request)``: uploads the training file and creates the job; returns its snapshot.
    - ``get(job_id)``, ``cancel(job_id)``, ``list_jobs(limit)``, ``events(job_id)``.
    - ``predict(model_id, inputs)``: one output per input (a label or generated text).

    Optional (looked up with ``getattr``; the contract suite checks them when present):

    - ``metrics(job_id) -> list[MetricPoint]``: the job's training curves so far, one
      :class:`~modelops_core.store.contract.MetricPoint` per name and step, named as in
      :data:`modelops_core.finetune.provider_contract.TRAINING_METRICS` (``train_loss``,
      ``validation_loss``, ``tokens_seen``, ``learning_rate`` …). ``FineTuningJob`` logs the
      new points to the job's tracking run whenever the job's state changes, and warns when
      ``train_loss`` barely fell.
    - ``export_format_for(method, model=...)``, ``pause(job_id)``, ``resume(job_id)``.
    - ``stream(model_id, text) -> Iterator[str]``: the answer to one input as the model
      generates it, in text pieces that joined are what ``predict(model_id, [text])[0]``
      answers (same settings). ``modelops serve`` sends them as server-sent events for a chat
      request with ``stream: true`` (one piece from ``predict`` when a provider has no
      ``stream``). It fails with a :class:`~modelops_core.finetune.provider_contract.ProviderError`
      like ``predict``, before the first piece or during the stream (a dropped stream is a
      ``ProviderUnavailableError``), and closes its connection when the reader stops early.
    - ``details`` of a snapshot may carry ``step``/``total_steps`` and ``epoch``/``epochs``:
      progress is shown in the provider's own count.
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


if TYPE_CHECKING:
    from modelops_core.features.values import FeatureRow, FeatureSetInfo, IndexInfo, Neighbor
    from modelops_core.features.vectors import Matrix, MetadataFilter


@runtime_checkable
class FeatureStoreComponent(Protocol):
    """A feature store backend (local, redis …), used through
    :class:`modelops_core.features.store.FeatureStore`, which validates names, schemas and vectors
    before calling it.

    - ``put_schema`` stores the schema of a feature set version unless one is stored already,
      and returns the stored one (so the facade can report a conflict).
    - ``write_rows`` stores rows atomically; a row older than the entity's latest stays in the
      history (for ``as_of``) but does not replace the latest.
    - ``read_rows`` returns, per entity, the latest row with ``timestamp <= as_of`` (any when
      ``as_of`` is None) or None; expiry is checked by the caller.
    - ``write_vectors`` upserts float32 rows (already checked and normalized); ``search`` with
      ``method`` None uses the backend's configured method, ``"exact"`` exact search.
    """

    def put_schema(
        self, feature_set: str, version: int, schema: Mapping[str, str]
    ) -> Mapping[str, str]: ...

    def get_schema(self, feature_set: str, version: int) -> Mapping[str, str] | None: ...

    def feature_sets(self) -> list[FeatureSetInfo]: ...

    def write_rows(self, feature_set: str, version: int, rows: Sequence[FeatureRow]) -> None: ...

    def read_rows(
        self, feature_set: str, version: int, entities: Sequence[str], as_of: float | None
    ) -> list[FeatureRow | None]: ...

    def entities(self, feature_set: str, version: int, limit: int) -> list[str]: ...

    def write_vectors(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> IndexInfo: ...

    def index_info(self, index: str) -> IndexInfo | None: ...

    def indexes(self) -> list[IndexInfo]: ...

    def read_vectors(self, index: str, ids: Sequence[str]) -> dict[str, Any]: ...

    def vector_ids(self, index: str, limit: int) -> list[str]: ...

    def search(
        self,
        index: str,
        query: Any,
        k: int,
        where: MetadataFilter | None,
        method: str | None,
    ) -> list[Neighbor]: ...

    def close(self) -> None: ...


if TYPE_CHECKING:
    from modelops_core.optimize.values import BuildRequest, Predict, ServingContext


@runtime_checkable
class OptimizerComponent(Protocol):
    """An inference optimization technique (response_cache, micro_batch, int8 …), used
    through :class:`modelops_core.optimize.optimizer.InferenceOptimizer` and the ``optimized``
    provider.

    - ``layer``: where it sits. ``0`` (model layer) replaces the parent's model with an
      artifact its ``build`` writes (int8); higher layers wrap the call below them, lowest
      first (``10`` concurrency limit, ``20`` micro-batching, ``30`` response cache).
    - ``settings()``: its options as JSON values, recorded in the optimized model's lineage
      (secrets masked as ``***``; serving takes them from the configuration again).
    - ``build(request)``: runs once at optimize time; a model-layer technique writes its
      artifact into ``request.directory`` and reports figures (size reduction …); wrappers
      return ``{}``.
    - ``wrap(predict, context)``: the serving function around ``predict`` (the layer below);
      a model-layer technique ignores ``predict`` and serves ``context.artifact``.
    """

    name: str
    layer: int

    def settings(self) -> Mapping[str, Any]: ...

    def build(self, request: BuildRequest) -> Mapping[str, Any]: ...

    def wrap(self, predict: Predict, context: ServingContext) -> Predict: ...
