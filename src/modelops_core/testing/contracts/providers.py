"""The contract suite of provider components (``modelops_register_providers``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract


def _statuses(path: Sequence[Any]) -> tuple[Any, ...]:
    from modelops_core.finetune.provider_contract import JobStatus

    return tuple(JobStatus(status) for status in path)


def _actions(actions: Mapping[Any, str]) -> Mapping[Any, str]:
    from modelops_core.config import frozen_mapping
    from modelops_core.finetune.provider_contract import JobStatus

    return frozen_mapping({JobStatus(status): str(name) for status, name in actions.items()})


@attrs.frozen
class ProviderScenario:
    """One lifecycle or failure a provider's fake can produce, and what the provider must make
    of it (an entry of :attr:`ProviderContract.scenarios`).

    The suite arms the fake (:meth:`ProviderContract.arm_scenario`), starts a job with the
    suite's request and polls ``get`` until the job is finished, collecting the statuses it
    reports (``start``'s included; a status repeated by consecutive polls counts once).

    :param path: the :class:`~modelops_core.finetune.provider_contract.JobStatus` values the
        job goes through, in order, e.g. ``("validating", "queued", "running", "failed")``.
        Empty for a scenario that ends in an error before any job exists.
    :param actions: status -> name of a provider method the suite calls with the job id the
        first time the job reports that status, e.g. ``{"running": "pause", "paused":
        "resume"}`` or ``{"queued": "cancel"}``. A method the provider lacks fails the test.
    :param error: a regular expression the finished job's ``ProviderJob.error`` must match
        (a ``failed`` job's reason, e.g. the provider's error code).
    :param details: entries the finished job's ``ProviderJob.details`` must contain, exactly.
    :param raises: the :class:`~modelops_core.finetune.provider_contract.ProviderError`
        subclass some call (``start``, ``get`` or an action) must raise. A
        ``ProviderUnavailableError`` is transient: the suite checks it and repeats the call,
        as ``FineTuningJob`` does, so the job goes on along ``path``. Any other error ends the
        scenario, and ``path`` holds the statuses seen before it.
    :param match: a regular expression the raised error's message must match.
    :param retry_after: the ``retry_after`` (seconds) the raised error must carry, when set.
    """

    path: tuple[Any, ...] = attrs.field(default=(), converter=_statuses)
    actions: Mapping[Any, str] = attrs.field(factory=dict, converter=_actions)
    error: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)
    raises: type[Exception] | None = None
    match: str | None = None
    retry_after: float | None = None


@attrs.frozen
class ScenarioRun:
    """What the suite saw while running a :class:`ProviderScenario` (given to
    :meth:`ProviderContract.check_scenario` for extra, provider-specific checks)."""

    name: str
    path: tuple[Any, ...]
    job: Any
    raised: tuple[Exception, ...]
    calls: tuple[str, ...]


class ProviderContract(ComponentContract):
    """The provider suite: validate, start/get/list/events/cancel, status mapping, predict.

    A provider plugin's tests subclass it, fill in the class attributes and override the hooks
    its backend needs; pytest then runs every inherited test against the component built by
    ``runtime.create(Kind.PROVIDER, component_name, **component_options(tmp_path))``::

        from modelops_core.finetune.provider_contract import JobStatus
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
    :class:`~modelops_core.plugins.protocols.ProviderProfile` (``registry.add(name, factory,
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
    :cvar status_examples: raw status -> the
        :class:`~modelops_core.finetune.provider_contract.JobStatus` it must map to, checked through
        :meth:`to_status` (a provider that maps sub-statuses encodes them in ``raw_status`` the same
        way its jobs report it).
    :cvar unknown_raw_status: a raw status the provider has never heard of; it must map to a
        status that is not finished.
    :cvar credential_names: env vars or config keys the missing-credentials error must name
        (one of them is enough), e.g. ``("OPENAI_API_KEY", "api_key")``.
    :cvar cancel_while_running: False for a provider whose jobs finish inside ``start()``
        (then the cancel test is skipped).
    :cvar finish_timeout: seconds :meth:`run_to_completion` polls before giving up.
    :cvar poll_interval: seconds between polls in :meth:`run_to_completion` (0 for fakes).
    :cvar scenarios: scenario name -> :class:`ProviderScenario`: the lifecycles and failures the
        provider's fake can produce (see below); each one is a test.
    :cvar optional_capabilities: provider methods beyond the protocol that need a scenario when
        the provider has them (``pause`` and ``resume``).
    :cvar reported_metrics: the standard training-curve names
        (:data:`~modelops_core.finetune.provider_contract.TRAINING_METRICS`) ``metrics(job_id)``
        reports for a job the suite runs to success (default ``("train_loss",)``); a provider
        whose API exposes no loss declares what it does report, e.g. ``("tokens_seen",
        "epoch")``.

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
    - :meth:`arm_scenario`: make the component's fake follow a named scenario (below).

    **Scenarios: every lifecycle and failure the fake can produce.** A fake that can walk a
    job through pauses, queueing, a failure after training started, throttling or 5xx declares
    each of them, with what the provider must report, in :attr:`scenarios`; the suite runs
    every declared scenario through the provider (``test_scenario[<name>]``), so a provider
    that forgets to map a state or to honour a retry header fails here::

        from modelops_core.finetune.provider_contract import ProviderUnavailableError
        from modelops_core.testing import ProviderContract, ProviderScenario

        class TestAcmeProvider(ProviderContract):
            ...
            scenarios = {
                "success": ProviderScenario(path=("validating", "queued", "running", "succeeded")),
                "paused_and_resumed": ProviderScenario(
                    path=("validating", "queued", "running", "paused", "running", "succeeded"),
                    actions={"running": "pause", "paused": "resume"},
                ),
                "fails_while_training": ProviderScenario(
                    path=("validating", "queued", "running", "failed"), error="server_error"
                ),
                "throttled": ProviderScenario(
                    path=("validating", "queued", "running", "succeeded"),
                    raises=ProviderUnavailableError, match="Rate limit", retry_after=2.5,
                ),
            }

            def arm_scenario(self, component, name):
                component.client.server.script(name)  # the next job follows this script

    The scenario's ``path`` uses :class:`~modelops_core.finetune.provider_contract.JobStatus`
    values (``"paused"`` is :attr:`JobStatus.PAUSED`). A provider with ``metrics(job_id)``
    returns its training curves, the standard names of :attr:`reported_metrics` among them
    (``test_metrics_are_training_curves_when_offered``). A provider with ``stream(model_id,
    text)`` yields text pieces that, joined, equal ``predict``'s answer for the same input
    (``test_stream_pieces_join_to_the_predicted_answer_when_offered``, with each of
    :attr:`predict_inputs`). Optional capabilities: a provider
    with ``pause(job_id)`` and ``resume(job_id)`` methods must declare a scenario whose actions
    use both (``test_optional_capabilities_have_a_scenario``); both return a ``ProviderJob``.
    Override :meth:`check_scenario` for checks only your provider can make (the requests the
    fake received, say).
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
    scenarios: ClassVar[Mapping[str, ProviderScenario]] = {}
    optional_capabilities: ClassVar[Sequence[str]] = ("pause", "resume")
    reported_metrics: ClassVar[Sequence[str]] = ("train_loss",)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One ``test_scenario`` per declared scenario (pytest calls this on test classes)."""
        if "scenario_name" in metafunc.fixturenames:
            names = sorted(self.scenarios)
            if names:
                metafunc.parametrize("scenario_name", names)
            else:
                skip = pytest.mark.skip(reason="the provider declares no scenarios")
                metafunc.parametrize("scenario_name", [pytest.param(None, marks=skip)])

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

    def arm_scenario(self, component: Any, name: str) -> None:
        """Make the fake behind ``component`` follow scenario ``name`` for the next job (and the
        calls about it). Must be overridden when :attr:`scenarios` is not empty."""
        raise NotImplementedError(
            f"{type(self).__name__} declares scenarios but does not override arm_scenario(); "
            "make it script the fake (the next job follows the named scenario)"
        )

    def check_scenario(self, component: Any, scenario: ProviderScenario, run: ScenarioRun) -> None:
        """Provider-specific checks after a scenario ran; default: nothing."""

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
        """The suite's :class:`~modelops_core.finetune.provider_contract.TuningRequest` (``changes``
        override fields)."""
        from modelops_core.finetune.provider_contract import TuningMethod, TuningRequest

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
        from modelops_core.finetune.provider_contract import JobStatus, ProviderJob

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
        from modelops_core.plugins.protocols import ProviderComponent

        assert isinstance(component, ProviderComponent)
        assert isinstance(component.name, str) and component.name
        assert isinstance(component.export_format, str) and component.export_format

    def test_export_format_names_a_declared_shape(self, component: Any, runtime: Runtime) -> None:
        from modelops_core.finetune.provider_contract import ProviderCatalogue

        known = ProviderCatalogue.of(runtime).find(component.export_format)
        assert known is not None, (
            f"export_format {component.export_format!r} is no export shape of this runtime's or "
            "the installed providers; declare it in the ProviderProfile (exports=...)"
        )

    def test_the_profile_claims_the_model_and_its_shapes_convert(self, runtime: Runtime) -> None:
        import json

        from modelops_core.datasets.exports import export_record
        from modelops_core.finetune.provider_contract import ProviderCatalogue

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
        from modelops_core.finetune.provider_contract import JobStatus

        job = component.start(self.request(tmp_path))
        done = self.run_to_completion(component, job.id)
        self.assert_snapshot(done)
        assert done.status is JobStatus.SUCCEEDED, (done.status, done.raw_status, done.error)
        assert isinstance(done.fine_tuned_model, str) and done.fine_tuned_model
        outputs = component.predict(done.fine_tuned_model, list(self.predict_inputs))
        assert isinstance(outputs, list) and len(outputs) == len(self.predict_inputs)

    def test_stream_pieces_join_to_the_predicted_answer_when_offered(
        self, component: Any, tmp_path: Path
    ) -> None:
        """A provider with ``stream(model_id, text)`` yields text pieces (``str``) that,
        joined, are what ``predict`` answers for the same input with the same model (what
        ``modelops serve`` sends as server-sent events for ``stream: true``)."""
        from modelops_core.finetune.provider_contract import JobStatus

        if not callable(getattr(component, "stream", None)):
            pytest.skip("the provider does not stream (no stream(model_id, text))")
        job = component.start(self.request(tmp_path))
        done = self.run_to_completion(component, job.id)
        assert done.status is JobStatus.SUCCEEDED, (done.status, done.raw_status, done.error)
        model = done.fine_tuned_model
        for text in self.predict_inputs:
            pieces = list(component.stream(model, text))
            assert pieces and all(isinstance(piece, str) for piece in pieces), (
                f"stream({model!r}, {text!r}) must yield text pieces, got {pieces!r}"
            )
            (predicted,) = component.predict(model, [text])
            assert "".join(pieces) == predicted, (
                f"stream({model!r}, {text!r}) joined is {''.join(pieces)!r}, but predict "
                f"answers {predicted!r}: both must give the same answer"
            )

    def test_events_are_job_events_oldest_first(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.finetune.provider_contract import JobEvent

        job = component.start(self.request(tmp_path))
        self.run_to_completion(component, job.id)
        events = component.events(job.id)
        assert isinstance(events, list)
        assert all(isinstance(e, JobEvent) for e in events)
        times = [e.created_at for e in events]
        assert times == sorted(times), "events come oldest first"

    def test_metrics_are_training_curves_when_offered(self, component: Any, tmp_path: Path) -> None:
        """A provider with ``metrics(job_id)`` returns ``MetricPoint`` values: known names
        are numbers at integer steps >= 0, and a succeeded job reports the standard names the
        provider declares in :attr:`reported_metrics` (its training loss by default)."""
        import math

        from modelops_core.finetune.provider_contract import TRAINING_METRICS, MetricPoint

        if not callable(getattr(component, "metrics", None)):
            pytest.skip("the provider reports no training curves (no metrics(job_id))")
        job = component.start(self.request(tmp_path))
        self.run_to_completion(component, job.id)
        points = component.metrics(job.id)
        assert isinstance(points, list) and points, "a finished job has training curves"
        for point in points:
            assert isinstance(point, MetricPoint), point
            assert isinstance(point.step, int) and point.step >= 0, point
            assert isinstance(point.value, float) and math.isfinite(point.value), point
        keys = {point.key for point in points}
        assert keys & set(TRAINING_METRICS), f"none of {TRAINING_METRICS} among {sorted(keys)}"
        declared = list(self.reported_metrics)
        unknown = [name for name in declared if name not in TRAINING_METRICS]
        assert declared and not unknown, (
            f"reported_metrics must name standard curves ({', '.join(TRAINING_METRICS)}), "
            f"got {declared}"
        )
        missing = [name for name in declared if name not in keys]
        assert not missing, (
            f"a succeeded job reports {declared} (reported_metrics), but {missing} are missing "
            f"from {sorted(keys)}"
        )
        assert len({(p.key, p.step) for p in points}) == len(points), "one value per key and step"

    def test_cancel_ends_in_cancelled(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.finetune.provider_contract import JobStatus

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
        from modelops_core.finetune.provider_contract import ProviderError

        with pytest.raises(ProviderError, match="no-such-job-4242"):
            component.get("no-such-job-4242")

    def test_raw_statuses_map_to_job_statuses(self) -> None:
        from modelops_core.finetune.provider_contract import JobStatus

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
        from modelops_core.finetune.provider_contract import MissingCredentialsError

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

    # -- scenarios -------------------------------------------------------------------------

    def run_scenario(self, component: Any, name: str, tmp_path: Path) -> ScenarioRun:
        """Arm scenario ``name``, start a job and poll it to the end; what was seen."""
        import re
        import time

        from modelops_core.finetune.provider_contract import ProviderUnavailableError

        scenario = self.scenarios[name]
        self.arm_scenario(component, name)
        raised: list[Exception] = []
        calls: list[str] = []
        request = self.request(tmp_path)

        def call(what: str, function: Any, *args: Any) -> Any:
            for _attempt in range(20):
                calls.append(what)
                try:
                    return function(*args)
                except Exception as exc:
                    if scenario.raises is None or not isinstance(exc, scenario.raises):
                        raise
                    raised.append(exc)
                    if scenario.match is not None:
                        assert re.search(scenario.match, str(exc)), (
                            f"scenario {name!r}: {what} raised {type(exc).__name__} whose "
                            f"message does not match {scenario.match!r}: {exc}"
                        )
                    if scenario.retry_after is not None:
                        assert getattr(exc, "retry_after", None) == scenario.retry_after, (
                            f"scenario {name!r}: retry_after "
                            f"{getattr(exc, 'retry_after', None)!r} != {scenario.retry_after!r}"
                        )
                    if not isinstance(exc, ProviderUnavailableError):
                        return None
            pytest.fail(f"scenario {name!r}: {what} still failed after 20 attempts")

        path: list[Any] = []
        acted: set[Any] = set()

        def seen(job: Any) -> None:
            self.assert_snapshot(job)
            if not path or path[-1] is not job.status:
                path.append(job.status)

        job = call("start", component.start, request)
        deadline = time.monotonic() + self.finish_timeout
        stopped = job is None
        if job is not None:
            seen(job)
        while not stopped and not job.status.finished:
            action = scenario.actions.get(job.status)
            if action is not None and job.status not in acted:
                acted.add(job.status)
                method = getattr(component, action, None)
                assert callable(method), (
                    f"scenario {name!r} calls {action}() when the job is {job.status.value}, "
                    f"but the provider has no {action}() method"
                )
                answer = call(action, method, job.id)
                if (
                    answer is None
                    and raised
                    and not isinstance(raised[-1], ProviderUnavailableError)
                ):
                    break
                if answer is not None:
                    seen(answer)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"scenario {name!r}: job {job.id} did not finish within "
                    f"{self.finish_timeout}s; statuses so far {[s.value for s in path]}"
                )
            self.advance(component, job.id)
            polled = call("get", component.get, job.id)
            if polled is None:
                break
            job = polled
            seen(job)
        got = tuple(status.value for status in path)
        want = tuple(status.value for status in scenario.path)
        assert got == want, f"scenario {name!r}: the job went through {got}, expected {want}"
        if scenario.raises is not None:
            assert raised, (
                f"scenario {name!r}: expected {scenario.raises.__name__} from some call "
                f"({', '.join(dict.fromkeys(calls))}), none was raised"
            )
        if scenario.error is not None:
            error = None if job is None else job.error
            assert error is not None and re.search(scenario.error, error), (
                f"scenario {name!r}: the job's error {error!r} does not match {scenario.error!r}"
            )
        if scenario.details:
            details = {} if job is None else dict(job.details)
            shown = {key: details.get(key) for key in scenario.details}
            assert shown == dict(scenario.details), f"scenario {name!r}: details {shown}"
        return ScenarioRun(name, tuple(path), job, tuple(raised), tuple(calls))

    def test_scenario(self, component: Any, tmp_path: Path, scenario_name: str) -> None:
        run = self.run_scenario(component, scenario_name, tmp_path)
        self.check_scenario(component, self.scenarios[scenario_name], run)

    def test_optional_capabilities_have_a_scenario(self, component: Any) -> None:
        present = [
            name for name in self.optional_capabilities if callable(getattr(component, name, None))
        ]
        if not present:
            pytest.skip("the provider has none of the optional capabilities")
        used = {
            action for scenario in self.scenarios.values() for action in scenario.actions.values()
        }
        missing = [name for name in present if name not in used]
        assert not missing, (
            f"the provider has {missing} but no declared scenario calls them; add one to "
            "`scenarios` with actions={...} (e.g. {'running': 'pause', 'paused': 'resume'})"
        )
