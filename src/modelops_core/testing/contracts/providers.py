"""The contract suite of provider components (``modelops_register_providers``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract


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

    def test_events_are_job_events_oldest_first(self, component: Any, tmp_path: Path) -> None:
        from modelops_core.finetune.provider_contract import JobEvent

        job = component.start(self.request(tmp_path))
        self.run_to_completion(component, job.id)
        events = component.events(job.id)
        assert isinstance(events, list)
        assert all(isinstance(e, JobEvent) for e in events)
        times = [e.created_at for e in events]
        assert times == sorted(times), "events come oldest first"

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
