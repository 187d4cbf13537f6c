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
    """The provider suite: validate, start/get/list/events/cancel, status mapping, predict.

    A provider plugin's tests subclass it, fill in the class attributes and override the hooks
    its backend needs; pytest then runs every inherited test against the component built by
    ``runtime.create(Kind.PROVIDER, component_name, **component_options(tmp_path))``::

        from modelops_core.jobs import JobStatus
        from modelops_core.testing import ProviderContract
        import modelops_provider_acme.plugin

        class TestAcmeProvider(ProviderContract):
            plugin = modelops_provider_acme.plugin
            component_name = "acme"
            distribution = "modelops-provider-acme"
            model = "acme-small-1"
            training_records = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(12)]
            status_examples = {"Running": JobStatus.RUNNING, "Done": JobStatus.SUCCEEDED}

            def component_options(self, tmp_path):
                return {"client": FakeAcmeServer().client(), "api_key": "test"}

            def to_status(self, raw_status):
                return modelops_provider_acme.status.to_job_status(raw_status)

            def advance(self, component, job_id):
                component.client.server.step(job_id)  # the fake moves the job on one stage

    ``FineTuningJob`` exports the training data with ``Dataset.export(path,
    provider=component.export_format)``; a provider whose file format depends on the method
    (``openai`` / ``openai-dpo``) may also define ``export_format_for(method) -> str``, which
    is used when present. The export format must be a shape some provider declares in its
    :class:`~modelops_core.protocols.ProviderProfile` (``registry.add(name, factory,
    profile=...)``); when the provider declares a profile, the suite checks that it claims
    :attr:`model` (if it claims any names) and that each of its shapes converts a sample record
    to a JSON object. ``ProviderJob.details["artifact_path"]`` (a local file or folder) is
    what gets registered for a provider whose tuned model is an artifact, not a hosted id.

    Class attributes a plugin fills in:

    :cvar model: a base model the provider accepts (``"local:logreg"``, ``"gpt-4o-mini"`` …).
    :cvar training_records: valid training records **already in the provider's export format**
        (what ``Dataset.export(path, provider=component.export_format)`` writes); the suite
        writes them to ``train.jsonl`` and gives that path to ``validate`` and ``start``.
    :cvar invalid_records: records ``validate`` must report problems for (default: one record
        with no recognisable fields; override when your rules need something else).
    :cvar method: the tuning method used by the suite (``"supervised"`` by default).
    :cvar hyperparameters: provider-neutral hyperparameters for the suite's jobs (kept small
        so a real local run is fast).
    :cvar predict_inputs: inputs given to ``predict`` with the tuned model.
    :cvar status_examples: raw status -> the :class:`~modelops_core.jobs.JobStatus` it must map
        to, checked through :meth:`to_status` (a provider that maps sub-statuses encodes them in
        ``raw_status`` the same way its jobs report it).
    :cvar unknown_raw_status: a raw status the provider has never heard of; it must map to a
        status that is not finished.
    :cvar credential_names: env vars or config keys the missing-credentials error must name
        (one of them is enough), e.g. ``("OPENAI_API_KEY", "api_key")``.
    :cvar cancel_while_running: False for a provider whose jobs finish inside ``start()``
        (then the cancel test is skipped).
    :cvar finish_timeout: seconds :meth:`run_to_completion` polls before giving up.
    :cvar poll_interval: seconds between polls in :meth:`run_to_completion` (0 for fakes).

    Hooks a plugin may override:

    - :meth:`component_options` (inherited): options to build the component with, e.g. a fake
      HTTP transport or stubbed client, a temporary bucket, a ``home``.
    - :meth:`to_status`: the provider's raw-status mapping function (skip when not overridden).
    - :meth:`advance`: called before every ``get`` while a job is not finished; a fake moves
      its scripted job one stage on. A real backend (the local provider) leaves it alone.
    - :meth:`advance_cancellation`: the same for a job being cancelled.
    - :meth:`options_without_credentials`: options with the credentials left out; building the
      component or starting a job with them must raise ``MissingCredentialsError`` naming the
      env var or config key (skipped when it returns None, e.g. for the local provider).
    """

    kind = Kind.PROVIDER
    model: ClassVar[str]
    training_records: ClassVar[Sequence[Mapping[str, Any]]]
    invalid_records: ClassVar[Sequence[Mapping[str, Any]]] = ({"no_known_field": 1},)
    method: ClassVar[str] = "supervised"
    hyperparameters: ClassVar[Mapping[str, Any]] = {"epochs": 1}
    predict_inputs: ClassVar[Sequence[str]] = ("hello",)
    status_examples: ClassVar[Mapping[str, Any]] = {}
    unknown_raw_status: ClassVar[str] = "SOME_STATUS_FROM_THE_FUTURE_2031"
    credential_names: ClassVar[Sequence[str]] = ()
    cancel_while_running: ClassVar[bool] = True
    finish_timeout: ClassVar[float] = 60.0
    poll_interval: ClassVar[float] = 0.0

    # -- hooks -------------------------------------------------------------------------------

    def to_status(self, raw_status: str) -> Any:
        """The provider's mapping of ``raw_status`` to a ``JobStatus`` (override to test it)."""
        raise NotImplementedError

    def advance(self, component: Any, job_id: str) -> None:
        """Move a not-finished job one step towards success (fakes); default: nothing."""

    def advance_cancellation(self, component: Any, job_id: str) -> None:
        """Move a job being cancelled one step towards ``cancelled``; default: :meth:`advance`."""
        self.advance(component, job_id)

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        """Options lacking credentials (None: the provider needs none, the test is skipped)."""
        return None

    # -- helpers the tests (and subclasses) use --------------------------------------------

    @staticmethod
    def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> Path:
        """Write ``records`` as JSON lines to ``path`` and return it."""
        import json

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    def training_file(self, tmp_path: Path) -> Path:
        """:attr:`training_records` written to ``tmp_path/train.jsonl``."""
        return self.write_jsonl(tmp_path / "train.jsonl", self.training_records)

    def request(self, tmp_path: Path, **changes: Any) -> Any:
        """The suite's :class:`~modelops_core.jobs.TuningRequest` (``changes`` override fields)."""
        from modelops_core.jobs import TuningMethod, TuningRequest

        fields: dict[str, Any] = {
            "model": self.model,
            "training_file": str(self.training_file(tmp_path)),
            "method": TuningMethod(self.method),
            "hyperparameters": dict(self.hyperparameters),
            "suffix": "contract",
            "metadata": {"suite": "ProviderContract"},
        }
        fields.update(changes)
        return TuningRequest(**fields)

    def run_to_completion(self, component: Any, job_id: str, *, cancelling: bool = False) -> Any:
        """Poll ``get`` (calling :meth:`advance` before each poll) until the job is finished."""
        import time

        deadline = time.monotonic() + self.finish_timeout
        job = component.get(job_id)
        while not job.status.finished:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"job {job_id} did not finish within {self.finish_timeout}s "
                    f"(last status {job.status.value!r}, raw {job.raw_status!r}); "
                    "override advance() to move a fake job on, or raise finish_timeout"
                )
            if cancelling:
                self.advance_cancellation(component, job_id)
            else:
                self.advance(component, job_id)
            if self.poll_interval:
                time.sleep(self.poll_interval)
            job = component.get(job_id)
        return job

    def assert_snapshot(self, job: Any) -> None:
        """``job`` is a well-formed ProviderJob of this provider."""
        from modelops_core.jobs import JobStatus, ProviderJob

        assert isinstance(job, ProviderJob), f"expected a ProviderJob, got {type(job).__name__}"
        assert isinstance(job.id, str) and job.id, "a job needs a non-empty id"
        assert job.provider == self.component_name, (job.provider, self.component_name)
        assert isinstance(job.status, JobStatus), f"status must be a JobStatus: {job.status!r}"
        assert isinstance(job.raw_status, str) and job.raw_status, "keep the raw status beside it"
        assert isinstance(job.model, str) and job.model
        if job.progress is not None:
            assert 0.0 <= job.progress <= 1.0, f"progress must be within 0..1: {job.progress}"

    # -- the suite -----------------------------------------------------------------------------

    def test_component_is_a_provider(self, component: Any) -> None:
        from modelops_core.protocols import ProviderComponent

        assert isinstance(component, ProviderComponent)
        assert isinstance(component.name, str) and component.name
        assert isinstance(component.export_format, str) and component.export_format

    def test_export_format_names_a_declared_shape(self, component: Any, runtime: Runtime) -> None:
        from modelops_core.jobs import ProviderCatalogue

        known = ProviderCatalogue.of(runtime).find(component.export_format)
        assert known is not None, (
            f"export_format {component.export_format!r} is no export shape of this runtime's or "
            "the installed providers; declare it in the ProviderProfile (exports=...)"
        )

    def test_the_profile_claims_the_model_and_its_shapes_convert(self, runtime: Runtime) -> None:
        import json

        from modelops_core.dataset_providers import export_record
        from modelops_core.jobs import ProviderCatalogue

        profile = runtime.components[self.kind].get(self.component_name).profile
        if profile is None:
            pytest.skip("the provider declares no ProviderProfile (registry.add(profile=...))")
        catalogue = ProviderCatalogue.of(runtime)
        if profile.models:
            assert profile.claim(self.model) is not None, (
                f"the suite's model {self.model!r} matches none of the patterns the provider "
                f"claims: {list(profile.models)}"
            )
            assert catalogue.provider_for(self.model) == self.component_name
        samples: dict[str, dict[str, Any]] = {
            "prompt_completion": {"prompt": "What is 2+2?", "completion": "4"},
            "chat": {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "What is 2+2?"},
                    {"role": "assistant", "content": "4"},
                ]
            },
            "preference": {
                "input": {"messages": [{"role": "user", "content": "What is 2+2?"}]},
                "preferred_output": [{"role": "assistant", "content": "4"}],
                "non_preferred_output": [{"role": "assistant", "content": "5"}],
            },
        }
        for shape in profile.exports:
            target = catalogue.target(shape.name)
            assert target.provider == self.component_name, (shape.name, target.plugin)
            record = export_record(samples[shape.base], shape.base, target, f"{shape.name} sample")
            assert isinstance(record, dict) and json.loads(json.dumps(record)) == record, record

    def test_validate_accepts_the_training_file(self, component: Any, tmp_path: Path) -> None:
        problems = component.validate(str(self.training_file(tmp_path)), self.method, self.model)
        assert problems == [], f"valid training records were refused: {problems}"

    def test_validate_reports_problems_for_a_bad_file(self, component: Any, tmp_path: Path) -> None:
        bad = self.write_jsonl(tmp_path / "bad.jsonl", self.invalid_records)
        problems = component.validate(str(bad), self.method, self.model)
        assert isinstance(problems, list) and problems, "a bad file must give problems"
        assert all(isinstance(p, str) and p for p in problems)

    def test_start_returns_a_job_that_get_and_list_find(
        self, component: Any, tmp_path: Path
    ) -> None:
        job = component.start(self.request(tmp_path))
        self.assert_snapshot(job)
        again = component.get(job.id)
        self.assert_snapshot(again)
        assert again.id == job.id
        assert job.id in [j.id for j in component.list_jobs(limit=50)]
        for listed in component.list_jobs(limit=50):
            self.assert_snapshot(listed)

    def test_a_job_runs_to_success_and_its_model_predicts(
        self, component: Any, tmp_path: Path
    ) -> None:
        from modelops_core.jobs import JobStatus

        job = component.start(self.request(tmp_path))
        done = self.run_to_completion(component, job.id)
        self.assert_snapshot(done)
        assert done.status is JobStatus.SUCCEEDED, (done.status, done.raw_status, done.error)
        assert isinstance(done.fine_tuned_model, str) and done.fine_tuned_model
        outputs = component.predict(done.fine_tuned_model, list(self.predict_inputs))
        assert isinstance(outputs, list) and len(outputs) == len(self.predict_inputs)

    def test_events_are_job_events_oldest_first(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.jobs import JobEvent

        job = component.start(self.request(tmp_path))
        self.run_to_completion(component, job.id)
        events = component.events(job.id)
        assert isinstance(events, list)
        assert all(isinstance(e, JobEvent) for e in events)
        times = [e.created_at for e in events]
        assert times == sorted(times), "events come oldest first"

    def test_cancel_ends_in_cancelled(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.jobs import JobStatus

        if not self.cancel_while_running:
            pytest.skip("jobs of this provider finish inside start()")
        job = component.start(self.request(tmp_path))
        cancelled = component.cancel(job.id)
        self.assert_snapshot(cancelled)
        assert cancelled.id == job.id
        assert cancelled.status is JobStatus.CANCELLED or not cancelled.status.finished
        final = self.run_to_completion(component, job.id, cancelling=True)
        assert final.status is JobStatus.CANCELLED, (final.status, final.raw_status)

    def test_an_unknown_job_is_a_provider_error(self, component: Any) -> None:
        from modelops_core.jobs import ProviderError

        with pytest.raises(ProviderError, match="no-such-job-4242"):
            component.get("no-such-job-4242")

    def test_raw_statuses_map_to_job_statuses(self) -> None:
        from modelops_core.jobs import JobStatus

        if not self.status_examples:
            pytest.skip("set status_examples (raw status -> JobStatus) to check the mapping")
        try:
            mapped = {raw: self.to_status(raw) for raw in self.status_examples}
        except NotImplementedError:
            pytest.skip("override to_status() to check the mapping")
        assert all(isinstance(status, JobStatus) for status in mapped.values()), mapped
        assert mapped == dict(self.status_examples)

    def test_an_unknown_raw_status_is_not_finished(self) -> None:
        try:
            status = self.to_status(self.unknown_raw_status)
        except NotImplementedError:
            pytest.skip("override to_status() to check the mapping")
        assert not status.finished, f"{self.unknown_raw_status!r} mapped to {status.value!r}"

    def test_missing_credentials_name_what_to_set(self, runtime: Runtime, tmp_path: Path) -> None:
        from modelops_core.jobs import MissingCredentialsError

        options = self.options_without_credentials(tmp_path)
        if options is None:
            pytest.skip("the provider needs no credentials")
        with pytest.raises(MissingCredentialsError) as caught:
            built = runtime.create(self.kind, self.component_name, **options)
            built.start(self.request(tmp_path))
        message = str(caught.value)
        if self.credential_names:
            assert any(name in message for name in self.credential_names), (
                f"the error must name one of {list(self.credential_names)}: {message}"
            )


class RegistryBackendContract(ComponentContract):
    """The registry backend suite: versions, duplicates, aliases with rollback, audit, tracking.

    The factory is called with ``home`` (the modelops home) plus :meth:`component_options`.
    Tracking checks run when the component also implements ``TrackingBackend``.
    """

    kind = Kind.REGISTRY_BACKEND

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a URL or other options."""
        return {"home": str(tmp_path / ".modelops")}

    @staticmethod
    def _version(name: str, version: str, **fields: Any) -> Any:
        from modelops_core.storage import ArtifactRef, ModelVersion

        artifact = ArtifactRef("sha256:" + "ab" * 32, "file", 3, "model.bin")
        return ModelVersion(name, version, artifact, **fields)

    @staticmethod
    def _key(version: str) -> str:
        from modelops_core.semver import parse_version

        return parse_version(version).key

    def _add(self, backend: Any, name: str, version: str, **fields: Any) -> Any:
        return backend.add_version(
            self._version(name, version, **fields), self._key(version), actor="contract"
        )

    @staticmethod
    def _delete(backend: Any, name: str, version: str) -> None:
        backend.delete_version(name, version, actor="contract")

    def test_component_is_a_registry_backend(self, component: Any) -> None:
        from modelops_core.storage import RegistryBackend

        assert isinstance(component, RegistryBackend)

    def test_a_version_round_trips(self, component: Any) -> None:
        stored = self._add(
            component, "churn", "1.0", serializer="json", metadata={"auc": 0.9, "n": [1, 2]},
            tags={"team": "risk"}, lineage={"base_model": "base-x"},
        )  # fmt: skip
        read = component.get_version("churn", "1.0")
        assert read == stored
        assert read.artifact.digest == "sha256:" + "ab" * 32 and read.artifact.name == "model.bin"
        assert dict(read.metadata) == {"auc": 0.9, "n": [1, 2]}
        assert dict(read.tags) == {"team": "risk"} and read.lineage["base_model"] == "base-x"
        assert read.created_by == "contract" and read.created_at > 0
        assert component.list_models() == ["churn"]

    def test_a_duplicate_version_is_refused(self, component: Any) -> None:
        from modelops_core.storage import DuplicateVersionError

        self._add(component, "churn", "1.0")
        with pytest.raises(DuplicateVersionError, match="1.0"):
            self._add(component, "churn", "1.0")
        with pytest.raises(DuplicateVersionError, match="equal"):
            self._add(component, "churn", "1.0.0")
        assert [v.version for v in component.list_versions("churn")] == ["1.0"]

    def test_unknown_model_and_version_are_lookup_errors(self, component: Any) -> None:
        from modelops_core.storage import ModelNotFoundError, VersionNotFoundError

        with pytest.raises(ModelNotFoundError, match="nope"):
            component.list_versions("nope")
        self._add(component, "churn", "1")
        with pytest.raises(VersionNotFoundError, match="Known versions: 1"):
            component.get_version("churn", "2")

    def test_alias_moves_are_recorded_and_rolled_back(self, component: Any) -> None:
        for version in ("1", "2", "3"):
            self._add(component, "churn", version)
        assert component.set_alias("churn", "production", "1", actor="a") is None
        assert component.set_alias("churn", "production", "2", actor="a") == "1"
        assert component.set_alias("churn", "production", "3", actor="a") == "2"
        assert component.rollback_alias("churn", "production", actor="b") == "2"
        assert component.rollback_alias("churn", "production", actor="b") == "1"
        assert component.get_alias("churn", "production") == "1"
        moves = [(e.action, e.version, e.previous) for e in component.alias_history(
            "churn", "production")]  # fmt: skip
        assert moves == [
            ("set", "1", None), ("set", "2", "1"), ("set", "3", "2"),
            ("rollback", "2", "3"), ("rollback", "1", "2"),
        ]  # fmt: skip

    def test_rollback_without_an_earlier_version_is_an_error(self, component: Any) -> None:
        from modelops_core.storage import AliasNotFoundError

        self._add(component, "churn", "1")
        with pytest.raises(AliasNotFoundError):
            component.rollback_alias("churn", "production", actor="a")
        component.set_alias("churn", "production", "1", actor="a")
        with pytest.raises(AliasNotFoundError, match="before"):
            component.rollback_alias("churn", "production", actor="a")

    def test_unknown_alias_lists_the_known_ones(self, component: Any) -> None:
        from modelops_core.storage import AliasNotFoundError

        self._add(component, "churn", "1")
        component.set_alias("churn", "staging", "1", actor="a")
        with pytest.raises(AliasNotFoundError, match="staging"):
            component.get_alias("churn", "production")
        component.delete_alias("churn", "staging", actor="a")
        assert component.aliases("churn") == {}

    def test_deleting_a_version_removes_its_aliases(self, component: Any) -> None:
        from modelops_core.storage import VersionNotFoundError

        self._add(component, "churn", "1")
        self._add(component, "churn", "2")
        component.set_alias("churn", "production", "2", actor="a")
        component.delete_version("churn", "2", actor="a")
        assert component.aliases("churn") == {}
        with pytest.raises(VersionNotFoundError):
            component.get_version("churn", "2")

    def test_archiving_changes_the_status(self, component: Any) -> None:
        self._add(component, "churn", "1")
        component.set_status("churn", "1", "archived", actor="a")
        assert component.get_version("churn", "1").status == "archived"

    def test_writes_to_a_missing_version_change_nothing(self, component: Any) -> None:
        from modelops_core.storage import VersionNotFoundError

        self._add(component, "churn", "1")
        self._add(component, "churn", "2")
        self._delete(component, "churn", "2")
        before = component.audit("churn")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.set_alias("churn", "production", "2", actor="a")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.set_status("churn", "2", "archived", actor="a")
        with pytest.raises(VersionNotFoundError, match="'2'"):
            component.delete_version("churn", "2", actor="a")
        assert component.aliases("churn") == {}
        assert component.audit("churn") == before

    def test_a_missing_version_is_named_with_the_count_and_a_few_neighbours(
        self, component: Any
    ) -> None:
        import re

        from modelops_core.storage import VersionNotFoundError

        for number in range(1, 41):
            if number != 20:
                self._add(component, "churn", str(number))
        with pytest.raises(VersionNotFoundError) as caught:
            component.get_version("churn", "20")
        message = str(caught.value)
        mentioned = {int(number) for number in re.findall(r"\b\d+\b", message)}
        assert {19, 21, 39} <= mentioned  # the neighbours and the count
        assert not mentioned & {*range(1, 11), *range(30, 39)}  # not every version
        assert len(message) < 500

    def test_the_highest_release_is_found_in_version_order(self, component: Any) -> None:
        from modelops_core.storage import ReleaseIndex

        if not isinstance(component, ReleaseIndex):
            pytest.skip("the backend has no highest_release (an optional capability)")
        assert component.highest_release("churn") is None  # no such model yet
        self._add(component, "churn", "2.0.0-rc.1")
        assert component.highest_release("churn") is None  # pre-releases do not count
        for version in ("1.9", "1.10", "1.2.3", "v1.10.1", "0.99"):
            self._add(component, "churn", version)
        self._add(component, "other", "7")
        assert component.highest_release("churn") == "v1.10.1"  # the text as registered
        self._delete(component, "churn", "v1.10.1")
        assert component.highest_release("churn") == "1.10"

    def test_every_change_is_audited(self, component: Any) -> None:
        self._add(component, "churn", "1")
        component.set_alias("churn", "production", "1", actor="alice")
        component.delete_version("churn", "1", actor="bob")
        entries = component.audit("churn")
        assert [(e.action, e.actor, e.version) for e in entries] == [
            ("delete", "bob", "1"), ("alias.set", "alice", "1"), ("register", "contract", "1"),
        ]  # fmt: skip
        assert entries[0].at >= entries[-1].at > 0

    def test_search_filters_by_name_prefix(self, component: Any) -> None:
        self._add(component, "churn", "1")
        self._add(component, "churn-v2", "1")
        self._add(component, "fraud", "1")
        assert sorted(v.name for v in component.search("churn")) == ["churn", "churn-v2"]

    def test_data_survives_reopening(
        self, component: Any, runtime: Runtime, tmp_path: Path
    ) -> None:
        self._add(component, "churn", "1")
        again = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        try:
            assert [v.version for v in again.list_versions("churn")] == ["1"]
        finally:
            close = getattr(again, "close", None)
            if callable(close):
                close()

    def test_runs_record_params_metrics_and_tags(self, component: Any) -> None:
        from modelops_core.storage import MetricPoint, RunNotFoundError, TrackingBackend

        if not isinstance(component, TrackingBackend):
            pytest.skip("the backend does not implement tracking")
        run = component.create_run("exp", tags={"a": 1}, environment={"python": "3"})
        component.log_params(run.run_id, {"lr": "0.1"})
        component.log_params(run.run_id, {"lr": "0.2"})
        component.log_metrics(run.run_id, [MetricPoint("loss", 1.0 / (s + 1), s, 1.0)
                                           for s in range(5)])  # fmt: skip
        component.set_tags(run.run_id, {"b": 2})
        component.end_run(run.run_id, "finished")
        read = component.get_run(run.run_id)
        assert dict(read.params) == {"lr": "0.2"} and dict(read.tags) == {"a": 1, "b": 2}
        assert read.status == "finished" and read.ended_at is not None
        assert [p.step for p in component.get_metrics(run.run_id, "loss")] == [0, 1, 2, 3, 4]
        assert [r.run_id for r in component.list_runs("exp")] == [run.run_id]
        with pytest.raises(RunNotFoundError):
            component.get_run("no-such-run")

    def test_version_names_are_listed_cheaply(self, component: Any) -> None:
        assert component.list_version_names("churn") == []
        self._add(component, "churn", "1.0")
        self._add(component, "churn", "1.10")
        assert sorted(component.list_version_names("churn")) == ["1.0", "1.10"]

    def test_runs_are_found_by_tags(self, component: Any) -> None:
        from modelops_core.storage import TrackingBackend

        if not isinstance(component, TrackingBackend):
            pytest.skip("the backend does not implement tracking")
        first = component.create_run("ft", tags={"job.id": "a", "n": 1}, environment={})
        second = component.create_run("ft", tags={"job.id": "b", "n": 1}, environment={})
        component.create_run("other", tags={"job.id": "a"}, environment={})
        component.set_tags(second.run_id, {"job.status": "running"})
        assert [r.run_id for r in component.find_runs("ft", {"job.id": "a"})] == [first.run_id]
        found = component.find_runs("ft", {"job.status": "running", "n": 1})
        assert [r.run_id for r in found] == [second.run_id]
        assert component.find_runs("ft", {"n": "1"}) == []
        assert len(component.find_runs(None, {"job.id": "a"})) == 2
        assert len(component.find_runs("ft", {}, limit=1)) == 1


class ArtifactStoreContract(ComponentContract):
    """The artifact store suite: round trips, deduplication, verification on load.

    Override :meth:`corrupt` so the suite can check that damaged content is refused.
    """

    kind = Kind.ARTIFACT_STORE

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a bucket or other options."""
        return {"home": str(tmp_path / ".modelops")}

    def corrupt(self, component: Any, ref: Any) -> None:
        """Change the stored bytes of ``ref`` behind the store's back (override per store)."""
        raise NotImplementedError

    def test_component_is_an_artifact_store(self, component: Any) -> None:
        from modelops_core.storage import ArtifactStore

        assert isinstance(component, ArtifactStore)

    def test_bytes_round_trip_under_their_sha256(self, component: Any) -> None:
        import hashlib

        ref = component.put_bytes(b"weights", name="w.bin")
        assert ref.digest == "sha256:" + hashlib.sha256(b"weights").hexdigest()
        assert (ref.kind, ref.size, ref.name) == ("file", 7, "w.bin")
        assert component.get_bytes(ref) == b"weights"
        assert component.exists(ref)

    def test_identical_content_is_stored_once(self, component: Any, tmp_path: Path) -> None:
        first, second = tmp_path / "a.bin", tmp_path / "b.bin"
        first.write_bytes(b"same")
        second.write_bytes(b"same")
        assert component.put_path(first).digest == component.put_path(second).digest

    def test_a_file_round_trips_with_its_name(self, component: Any, tmp_path: Path) -> None:
        source = tmp_path / "model.safetensors"
        source.write_bytes(b"\x00\x01" * 1000)
        ref = component.put_path(source)
        local = component.local_path(ref)
        assert local.name == "model.safetensors"
        assert local.read_bytes() == source.read_bytes()

    def test_a_path_given_as_a_string_is_stored(self, component: Any, tmp_path: Path) -> None:
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "weights.bin").write_bytes(b"abc")
        (tmp_path / "config.json").write_text("{}")
        file_ref = component.put_path(str(tmp_path / "config.json"))
        assert (file_ref.kind, file_ref.name) == ("file", "config.json")
        assert component.get_bytes(file_ref) == b"{}"
        folder_ref = component.put_path(str(tmp_path / "model"))
        assert (folder_ref.kind, folder_ref.name, folder_ref.size) == ("tree", "model", 3)

    def test_a_folder_round_trips(self, component: Any, tmp_path: Path) -> None:
        folder = tmp_path / "model"
        (folder / "sub").mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "sub" / "weights.bin").write_bytes(b"123")
        ref = component.put_path(folder)
        assert ref.kind == "tree" and ref.size == 5
        local = component.local_path(ref)
        files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
        assert files == ["config.json", "sub/weights.bin"]
        assert (local / "sub" / "weights.bin").read_bytes() == b"123"

    def test_a_missing_path_is_refused(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.storage import ArtifactNotFoundError

        with pytest.raises(ArtifactNotFoundError, match="no-such-file"):
            component.put_path(tmp_path / "no-such-file")

    def test_corrupted_content_is_never_returned(self, component: Any) -> None:
        from modelops_core.storage import ArtifactCorruptedError

        ref = component.put_bytes(b"good weights", name="w.bin")
        try:
            self.corrupt(component, ref)
        except NotImplementedError:
            pytest.skip("the suite cannot corrupt this store; override corrupt()")
        with pytest.raises(ArtifactCorruptedError, match="corrupted"):
            component.get_bytes(ref)
        with pytest.raises(ArtifactCorruptedError, match="corrupted"):
            component.local_path(ref)

    def test_deleted_content_is_gone(self, component: Any) -> None:
        from modelops_core.storage import ArtifactNotFoundError

        ref = component.put_bytes(b"temporary")
        component.delete(ref)
        assert not component.exists(ref)
        with pytest.raises(ArtifactNotFoundError):
            component.get_bytes(ref)

    @pytest.mark.parametrize("name", ["../../outside", "{tmp}/absolute", "a/../../b", "..", "a\\b"])
    def test_an_unsafe_name_is_never_checked_out(
        self, component: Any, tmp_path: Path, name: str
    ) -> None:
        import os

        from modelops_core.storage import ArtifactRef, UnsafeArtifactNameError

        stored = component.put_bytes(b"weights", name="w.bin")
        victim = tmp_path / "outside"
        victim.mkdir()
        (victim / "keep.txt").write_text("precious")
        before = sorted(os.walk(tmp_path))
        hostile = ArtifactRef(stored.digest, "file", stored.size, name.format(tmp=tmp_path))
        with pytest.raises(UnsafeArtifactNameError, match="is unsafe"):
            component.local_path(hostile)
        with pytest.raises(UnsafeArtifactNameError, match="is unsafe"):
            component.local_path(ArtifactRef(stored.digest, "tree", stored.size, hostile.name))
        assert sorted(os.walk(tmp_path)) == before  # nothing written or removed anywhere
        assert (victim / "keep.txt").read_text() == "precious"

    def test_links_are_refused_not_followed(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.storage import ArtifactLinkError

        secret = tmp_path / "secret.txt"
        secret.write_text("password")
        link = tmp_path / "model.bin"
        link.symlink_to(secret)
        with pytest.raises(ArtifactLinkError, match="model.bin': it is a symbolic link"):
            component.put_path(link)
        folder = tmp_path / "model"
        folder.mkdir()
        (folder / "weights.bin").write_bytes(b"w")
        (folder / "secret.txt").symlink_to(secret)
        with pytest.raises(ArtifactLinkError, match="secret.txt' is a symbolic link"):
            component.put_path(folder)
        (folder / "secret.txt").unlink()
        (folder / "data").symlink_to(tmp_path, target_is_directory=True)
        with pytest.raises(ArtifactLinkError, match="data' is a symbolic link"):
            component.put_path(folder)

    def test_a_name_with_a_backslash_is_refused_when_stored(
        self, component: Any, tmp_path: Path
    ) -> None:
        from modelops_core.storage import UnsafeArtifactNameError

        single = tmp_path / "weights\\v1.bin"
        single.write_bytes(b"w")
        with pytest.raises(UnsafeArtifactNameError, match="Rename it"):
            component.put_path(single)
        folder = tmp_path / "model"
        folder.mkdir()
        (folder / "a\\b.bin").write_bytes(b"w")
        with pytest.raises(UnsafeArtifactNameError, match="could never be loaded again"):
            component.put_path(folder)

    def test_writing_into_a_checkout_leaves_the_stored_content_intact(
        self, component: Any, tmp_path: Path
    ) -> None:
        import os

        source = tmp_path / "model.bin"
        source.write_bytes(b"original")
        ref = component.put_path(source)
        local = component.local_path(ref)
        os.chmod(local, 0o644)
        local.write_bytes(b"tampered")
        assert component.get_bytes(ref) == b"original"
        assert component.local_path(ref).read_bytes() == b"original"


class FeatureStoreContract(ComponentContract):
    """The feature store suite, run through :class:`modelops_core.features.FeatureStore`:
    rows, batches, feature set versions, point-in-time reads, TTL, reuse, embeddings.

    The factory is called with ``home`` plus :meth:`component_options`; the ``store`` fixture
    wraps the component with a clock the tests move (``self.now``).
    """

    kind = Kind.FEATURE_STORE
    start_time: ClassVar[float] = 1_900_000_000.0

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """``home`` under ``tmp_path``; override to add a URL or other options."""
        return {"home": str(tmp_path / ".modelops")}

    @pytest.fixture
    def store(self, component: Any) -> Any:
        from modelops_core.features import FeatureStore

        self.now = self.start_time
        return FeatureStore(backend=component, clock=lambda: self.now)

    def test_component_is_a_feature_store(self, component: Any) -> None:
        from modelops_core.protocols import FeatureStoreComponent

        assert isinstance(component, FeatureStoreComponent)

    def test_features_round_trip(self, store: Any) -> None:
        features = {"age": 31, "score": 0.5, "country": "FR", "vip": True, "raw": b"\x00\x01",
                    "tags": ["a", "b"], "nested": {"x": 1}, "missing": None}  # fmt: skip
        store.push_features("user-1", features)
        assert store.get_features("user-1") == features

    def test_an_unknown_entity_is_an_empty_dict(self, store: Any) -> None:
        assert store.get_features("nobody") == {}
        assert store.get_many(["nobody"]) == {"nobody": {}}

    def test_a_push_replaces_the_previous_row(self, store: Any) -> None:
        store.push_features("user-1", {"age": 31, "country": "FR"})
        self.now += 1
        store.push_features("user-1", {"age": 32})
        assert store.get_features("user-1") == {"age": 32}

    def test_batches_round_trip(self, store: Any) -> None:
        rows = {f"user-{i}": {"age": i, "score": i / 2} for i in range(50)}
        assert store.push_many(rows, feature_set="profile") == 50
        found = store.get_many([*rows, "nobody"], feature_set="profile")
        assert found == {**rows, "nobody": {}}
        assert store.entities("profile")[:2] == ["user-0", "user-1"]

    def test_feature_sets_are_separate_by_name_and_version(self, store: Any) -> None:
        store.push_features("u", {"age": 1}, feature_set="profile", version=1)
        store.push_features("u", {"age": 1, "city": "Lyon"}, feature_set="profile", version=2)
        assert store.get_features("u", feature_set="profile") == {"age": 1}
        assert store.get_features("u", feature_set="profile", version=2)["city"] == "Lyon"
        assert store.get_features("u") == {}
        assert store.schema("profile", 2) == {"age": "int", "city": "str"}

    def test_a_different_schema_under_an_existing_version_is_refused(self, store: Any) -> None:
        from modelops_core.feature_types import FeatureSetVersionError

        store.push_features("u1", {"age": 1, "country": "FR"}, feature_set="profile", version=2)
        with pytest.raises(FeatureSetVersionError, match=r"age: int, country: str.*city") as err:
            store.push_features("u2", {"age": 2, "city": "Lyon"}, feature_set="profile",
                                version=2)  # fmt: skip
        assert "version 3" in str(err.value)
        with pytest.raises(FeatureSetVersionError, match="age is str, not int"):
            store.push_features("u3", {"age": "old", "country": "FR"}, feature_set="profile",
                                version=2)  # fmt: skip
        assert store.get_features("u2", feature_set="profile", version=2) == {}

    def test_a_refused_batch_stores_nothing(self, store: Any) -> None:
        from modelops_core.feature_types import FeatureSetVersionError

        rows = [("a", {"x": 1}), ("b", {"x": 2}), ("c", {"y": 3})]
        with pytest.raises(FeatureSetVersionError, match="'c'"):
            store.push_many(rows, feature_set="s")
        assert store.get_many(["a", "b"], feature_set="s") == {"a": {}, "b": {}}

    def test_point_in_time_reads(self, store: Any) -> None:
        store.push_features("u", {"plan": "free"}, timestamp=100.0)
        store.push_features("u", {"plan": "pro"}, timestamp=200.0)
        store.push_features("u", {"plan": "team"}, timestamp=150.0)  # a late event
        assert store.get_features("u") == {"plan": "pro"}
        assert store.get_features("u", as_of=99.0) == {}
        assert store.get_features("u", as_of=120.0) == {"plan": "free"}
        assert store.get_features("u", as_of=170.0) == {"plan": "team"}
        assert store.get_many(["u"], as_of=200.0) == {"u": {"plan": "pro"}}

    def test_expired_rows_are_not_returned(self, store: Any) -> None:
        store.push_features("u", {"x": 1}, ttl=60)
        store.push_features("v", {"x": 2})
        assert store.get_features("u") == {"x": 1}
        self.now += 61
        assert store.get_features("u") == {}
        assert store.get_many(["u", "v"]) == {"u": {}, "v": {"x": 2}}
        assert store.get_features("u", as_of=self.start_time + 30) == {"x": 1}

    def test_get_or_compute_computes_once(self, store: Any) -> None:
        calls: list[str] = []

        def compute(entity: str) -> dict[str, Any]:
            calls.append(entity)
            return {"length": len(entity)}

        assert store.get_or_compute("abc", compute) == {"length": 3}
        assert store.get_or_compute("abc", compute) == {"length": 3}
        assert calls == ["abc"]
        store.get_or_compute("short-lived", compute, ttl=10)
        self.now += 11
        store.get_or_compute("short-lived", compute, ttl=10)
        assert calls == ["abc", "short-lived", "short-lived"]

    def test_an_unstorable_value_names_the_entity(self, store: Any) -> None:
        from modelops_core.feature_types import FeatureValueError

        with pytest.raises(FeatureValueError, match="user-9"):
            store.push_features("user-9", {"when": object()})

    def _vectors(self, count: int = 200, dim: int = 16) -> Any:
        import numpy as np

        return np.random.default_rng(7).standard_normal((count, dim)).astype(np.float32)

    def test_nearest_finds_the_exact_neighbours(self, store: Any) -> None:
        import numpy as np

        vectors = self._vectors()
        ids = [f"doc-{i}" for i in range(len(vectors))]
        store.push_embeddings(ids, vectors, [{"lang": "en" if i % 2 else "fr"} for i in
                                             range(len(ids))])  # fmt: skip
        normalized = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        truth = np.argsort(1 - normalized @ normalized[3])[:5]
        found = store.nearest(vectors[3], k=5, exact=True)
        assert [n.id for n in found] == [ids[i] for i in truth]
        assert found[0].id == "doc-3" and abs(found[0].distance) < 1e-5
        assert store.nearest(vectors[3], k=5)[0].id == "doc-3"

    def test_nearest_filters_on_metadata(self, store: Any) -> None:
        vectors = self._vectors()
        ids = [f"doc-{i}" for i in range(len(vectors))]
        store.push_embeddings(ids, vectors, [{"lang": "en" if i % 2 else "fr"} for i in
                                             range(len(ids))])  # fmt: skip
        found = store.nearest(vectors[3], k=10, filter={"lang": "fr"})
        assert len(found) == 10 and all(n.metadata["lang"] == "fr" for n in found)
        assert all(int(n.id.split("-")[1]) % 2 == 0 for n in found)
        assert store.nearest(vectors[3], k=3, filter=lambda m: m["lang"] == "en")[0].id == "doc-3"

    def test_pushing_an_existing_id_replaces_its_vector(self, store: Any) -> None:
        vectors = self._vectors(20)
        store.push_embeddings([f"d{i}" for i in range(20)], vectors)
        store.push_embeddings(["d0", "new"], vectors[[5, 6]], [{"v": 2}, {"v": 2}])
        assert store.nearest(vectors[5], k=2, exact=True)[0].id in {"d0", "d5"}
        assert {i.name: i.count for i in store.indexes()} == {"default": 21}
        assert set(store.get_embeddings(["d0", "new", "nope"])) == {"d0", "new"}

    def test_a_wrong_dimension_names_the_index(self, store: Any) -> None:
        from modelops_core.feature_types import EmbeddingDimensionError

        store.push_embeddings(["a"], self._vectors(1, 8), index="docs")
        with pytest.raises(EmbeddingDimensionError, match=r"'docs'.*8-dimensional.*'b'"):
            store.push_embeddings(["b"], self._vectors(1, 9), index="docs")
        with pytest.raises(EmbeddingDimensionError, match="'docs'"):
            store.nearest(self._vectors(1, 9)[0], index="docs")

    def test_nan_is_refused_and_nothing_is_stored(self, store: Any) -> None:
        from modelops_core.feature_types import EmbeddingValueError

        vectors = self._vectors(3, 4)
        vectors[1, 2] = float("nan")
        with pytest.raises(EmbeddingValueError, match=r"'docs'.*'b'"):
            store.push_embeddings(["a", "b", "c"], vectors, index="docs")
        assert store.get_embeddings(["a"], index="docs") == {}

    def test_an_unknown_index_is_a_lookup_error(self, store: Any) -> None:
        from modelops_core.feature_types import IndexNotFoundError

        with pytest.raises(IndexNotFoundError, match="'nope'"):
            store.nearest([1.0, 2.0], index="nope")

    def test_embeddings_are_computed_once(self, store: Any) -> None:
        vectors = self._vectors(3, 4)
        calls: list[list[str]] = []

        def embed(ids: list[str]) -> Any:
            calls.append(ids)
            return vectors[: len(ids)]

        first = store.get_or_compute_embeddings(["a", "b"], embed)
        second = store.get_or_compute_embeddings(["a", "b", "c"], embed)
        assert calls == [["a", "b"], ["c"]]
        assert first.shape == (2, 4) and second.shape == (3, 4)
        assert (second[:2] == first).all()

    def test_racing_first_pushes_of_two_widths_leave_one_width_per_index(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        """Two processes push 16- and 32-wide vectors into the same new indexes at once: each
        index keeps the width of the push that came first, the other push is refused with
        :class:`EmbeddingDimensionError` and stores nothing, and ``nearest`` works."""
        import json
        import subprocess
        import sys
        import time

        import numpy as np

        from modelops_core.feature_types import EmbeddingDimensionError
        from modelops_core.features import FeatureStore

        module = getattr(self.plugin, "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not an importable module; no child process can load it")
        indexes = [f"race-{i}" for i in range(20)]
        gate = tmp_path / "go"
        spec = {"plugin": module, "distribution": self.distribution or module,
                "component": self.component_name, "home": str(tmp_path / ".modelops"),
                "options": self.component_options(tmp_path), "gate": str(gate),
                "indexes": indexes}  # fmt: skip
        children = {
            width: subprocess.Popen(
                [sys.executable, "-c", _RACE_FIRST_PUSHES, json.dumps(spec), str(width)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for width in (16, 32)
        }
        ready = [tmp_path / f"ready-{width}" for width in children]
        deadline = time.monotonic() + 60
        while not all(path.exists() for path in ready) and time.monotonic() < deadline:
            time.sleep(0.01)  # both children import and connect, then wait at the gate
        gate.touch()
        outcomes = {}
        for width, child in children.items():
            out, _ = child.communicate(timeout=60)
            assert child.returncode == 0, out
            outcomes[width] = json.loads(out.strip().splitlines()[-1])
        backend = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        try:
            store = FeatureStore(backend=backend)
            stored = {info.name: info for info in store.indexes()}
            for index in indexes:
                results = {width: outcomes[width][index] for width in (16, 32)}
                winners = [width for width, result in results.items() if result == "ok"]
                assert len(winners) == 1, (index, results)
                loser = 32 if winners[0] == 16 else 16
                assert results[loser] == EmbeddingDimensionError.__name__, (index, results)
                assert (stored[index].dim, stored[index].count) == (winners[0], 1), stored[index]
                found = store.nearest(np.ones(winners[0]), k=1, index=index)
                assert [n.id for n in found] == [f"w{winners[0]}"]
        finally:
            close = getattr(backend, "close", None)
            if callable(close):
                close()


# A child process of the race test: builds the component, says it is ready, waits at the gate
# (so both children push at the same moment, however slow their start), then pushes one
# vector of its width into each index; prints {index: "ok" or the error class name}.
_RACE_FIRST_PUSHES = """
import importlib, json, os, sys, time
from pathlib import Path
import numpy as np
from modelops_core.feature_types import EmbeddingError
from modelops_core.features import FeatureStore
from modelops_core.kinds import Kind
from modelops_core.testing.fixtures import make_runtime

spec, width = json.loads(sys.argv[1]), int(sys.argv[2])
plugin = importlib.import_module(spec["plugin"])
runtime = make_runtime(Path(spec["home"]), [(spec["distribution"], plugin)])
backend = runtime.create(Kind.FEATURE_STORE, spec["component"], **spec["options"])
store = FeatureStore(backend=backend)
Path(spec["gate"]).with_name(f"ready-{width}").touch()
while not os.path.exists(spec["gate"]):
    time.sleep(0.001)
results = {}
for index in spec["indexes"]:
    try:
        store.push_embeddings([f"w{width}"], np.ones((1, width)), index=index)
        results[index] = "ok"
    except EmbeddingError as error:
        results[index] = type(error).__name__
close = getattr(backend, "close", None)
if callable(close):
    close()
print(json.dumps(results))
"""


class OptimizerContract(ComponentContract):
    """The optimizer suite: an optimization must not change what the model answers.

    The component is built at :meth:`build_request` time (``build``), then ``wrap`` serves
    :meth:`reference_predict` (the model below). Checks: the protocol, JSON settings that
    rebuild an equal component, a JSON build report, outputs equal to the model's (in order,
    with repeated inputs), an empty batch, concurrent callers each getting their own outputs,
    and errors of the model reaching the caller.

    :cvar inputs: the texts the suite sends (include repeats: caches must handle them).
    :cvar min_agreement: the share of outputs that must equal the model's; 1.0 for wrappers,
        lower for a model-layer technique that approximates the weights (int8).
    """

    kind = Kind.OPTIMIZER
    inputs: ClassVar[Sequence[str]] = (
        "refund my order", "the app crashes", "refund my order", "reset my password",
        "where is my parcel", "the app crashes", "cancel my plan",
    )  # fmt: skip
    min_agreement: ClassVar[float] = 1.0

    def reference_predict(self, inputs: Sequence[str]) -> list[Any]:
        """The model below the technique (override for a model-layer technique)."""
        return [f"label:{len(text) % 3}:{text[:4]}" for text in inputs]

    def build_request(self, tmp_path: Path) -> Any:
        """What ``build`` gets (override to give a model-layer technique a real model)."""
        from modelops_core.optimize_types import BuildRequest

        return BuildRequest("contract-model", None, tmp_path / "artifact")

    def _serve(self, component: Any, tmp_path: Path, predict: Any = None) -> Any:
        import json
        import uuid

        from modelops_core.optimize_types import ServingContext

        request = self.build_request(tmp_path)
        request.directory.mkdir(parents=True, exist_ok=True)
        report = component.build(request)
        json.dumps(dict(report))
        context = ServingContext(
            model_id="optimized:contract:1",
            parent_model_id=request.parent_model_id,
            cache_namespace=f"contract-{uuid.uuid4().hex}",
            artifact=request.directory if component.layer == 0 else None,
            report=report,
        )
        return component.wrap(predict or self.reference_predict, context)

    def test_component_is_an_optimizer(self, component: Any) -> None:
        from modelops_core.protocols import OptimizerComponent

        assert isinstance(component, OptimizerComponent)
        assert isinstance(component.layer, int) and component.layer >= 0

    def test_settings_are_json_and_rebuild_the_component(
        self, component: Any, runtime: Runtime, tmp_path: Path
    ) -> None:
        import json

        settings = dict(component.settings())
        assert json.loads(json.dumps(settings)) == settings
        unmasked = {k: v for k, v in settings.items() if not (isinstance(v, str) and "***" in v)}
        options = {**self.component_options(tmp_path), **unmasked}
        rebuilt = runtime.create(self.kind, self.component_name, **options)
        try:
            assert dict(rebuilt.settings()) == settings
        finally:
            close = getattr(rebuilt, "close", None)
            if callable(close):
                close()

    def test_outputs_match_the_model_below(self, component: Any, tmp_path: Path) -> None:
        served = self._serve(component, tmp_path)
        expected = self.reference_predict(list(self.inputs))
        for _ in range(2):  # the second pass may be served from what the first one stored
            got = list(served(list(self.inputs)))
            assert len(got) == len(expected)
            agreement = sum(a == b for a, b in zip(got, expected, strict=True)) / len(expected)
            assert agreement >= self.min_agreement, (got, expected)

    def test_an_empty_batch_gives_no_outputs(self, component: Any, tmp_path: Path) -> None:
        assert list(self._serve(component, tmp_path)([])) == []

    def test_concurrent_callers_get_their_own_outputs(self, component: Any, tmp_path: Path) -> None:
        import threading

        served = self._serve(component, tmp_path)
        texts = list(self.inputs)
        results: dict[int, list[Any]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def call(index: int) -> None:
            try:
                start.wait()
                results[index] = list(served([texts[index % len(texts)]]))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert not errors, errors
        expected = {i: self.reference_predict([texts[i % len(texts)]]) for i in range(8)}
        agreement = sum(results[i] == expected[i] for i in range(8)) / 8
        assert agreement >= self.min_agreement, (results, expected)

    def test_errors_of_the_model_reach_the_caller(self, component: Any, tmp_path: Path) -> None:
        if component.layer == 0:
            pytest.skip("a model-layer technique serves its own artifact, not the model below")

        def failing(inputs: Sequence[str]) -> list[Any]:
            raise RuntimeError("the model below failed")

        served = self._serve(component, tmp_path, failing)
        with pytest.raises(RuntimeError, match="the model below failed"):
            served(["never seen before " + str(id(self))])


class DriftTestContract(ComponentContract):
    """The drift test suite (statistic checks arrive with the monitoring issue)."""

    kind = Kind.DRIFT_TEST


class EngineContract(ComponentContract):
    """The engine suite (map/merge checks arrive with the engines issue)."""

    kind = Kind.ENGINE
