"""FineTuningJob: one provider-neutral state machine for every fine-tuning provider.

    job = FineTuningJob(model="gpt-4o-mini", dataset=ds, epochs=3)
    job.start()                 # preflight (validation + cost), upload, create; tracked
    while job.status == "running":
        print(f"{job.progress:.1%}")
    job.wait()                  # polls with backoff and jitter, retries 429/5xx, times out
    job.result                  # the fine-tuned model id

Providers (plugins of kind ``provider``) make single calls; everything else lives here and in
the ``finetune_*`` modules: preflight (:mod:`~modelops_core.finetune.preflight`), polling
(:mod:`~modelops_core.finetune.polling`), persistence in the tracking store
(:mod:`~modelops_core.finetune.job_tracking`) and the ``[finetune]`` settings.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import random
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelops_core.errors import ModelOpsError
from modelops_core.finetune.errors import (
    FineTuningError,
    JobNotStartedError,
    JobNotSucceededError,
    PreflightError,
    UnknownProviderForModelError,
)
from modelops_core.finetune.job_tracking import JobStore
from modelops_core.finetune.polling import Clock, SystemClock, poll_until_finished
from modelops_core.finetune.preflight import (
    PreflightReport,
    estimate_cost,
    report_problems,
    report_warnings,
    total_tokens,
    without_repeats,
)
from modelops_core.finetune.provider_contract import (
    ExportTarget,
    JobEvent,
    JobStatus,
    MetricPoint,
    ProviderCatalogue,
    ProviderJob,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningMethod,
    TuningRequest,
)
from modelops_core.finetune.settings import FineTuneSettings
from modelops_core.plugins.kinds import Kind

if TYPE_CHECKING:
    from modelops_core.config import Config
    from modelops_core.plugins.protocols import ProviderComponent
    from modelops_core.runtime import Runtime
    from modelops_core.store.contract import ModelVersion, RunRecord

__all__ = [
    "FineTuningJob",
    "TrainingData",
    "infer_provider",
]


class TrainingData(Protocol):
    """What a job needs of a dataset (:class:`modelops_core.datasets.dataset.Dataset` has it).

    ``provider`` is an :class:`~modelops_core.finetune.provider_contract.ExportTarget` resolved
    against the job's runtime (a name works too, looked up among the installed providers).
    """

    def export(self, path: str | os.PathLike[str], provider: str | ExportTarget) -> Path: ...

    def validate(self, provider: str | ExportTarget, model: str) -> Any: ...

    def fingerprint(self) -> str: ...

    def __len__(self) -> int: ...


def infer_provider(model: str, config: Config, runtime: Runtime | None = None) -> str:
    """The provider for ``model``: ``[providers] default`` when the configuration sets it,
    else the one provider whose :class:`~modelops_core.plugins.protocols.ProviderProfile` claims the
    model name: those of ``runtime`` first, then those of the installed plugins (loaded as
    ``config`` says).

    :raises ConflictingProviderClaimError: two providers claim the name (both named).
    :raises UnknownProviderForModelError: none does; the message names the installed providers
        and the patterns they claim.
    """
    table = config.raw.get("providers", {})
    if isinstance(table, Mapping) and "default" in table:
        return config.default_provider
    if runtime is None:
        from modelops_core.runtime import Runtime

        runtime = Runtime(config)
    catalogue = ProviderCatalogue.of(runtime)
    provider = catalogue.provider_for(model)
    if provider is not None:
        return provider
    names = catalogue.provider_names() or ["none installed"]
    example = "local" if "local" in names else names[0]
    claims = catalogue.claims_text() or "no installed provider claims model names"
    raise UnknownProviderForModelError(
        f"Cannot tell which provider fine-tunes {model!r}: pass provider='{example}' (or the "
        f"name of any installed provider: {', '.join(names)}; in a pipeline file, the step's "
        f"provider: key), or set [providers] default in {config.source}. Installed providers "
        f"claim model names by pattern: {claims}."
    )


def export_format(
    component: ProviderComponent, method: TuningMethod, model: str | None = None
) -> str:
    """The ``Dataset.export`` format of ``component`` for ``method`` (and the base ``model``,
    for providers whose format depends on it: ``export_format_for(method, model=...)``)."""
    chooser = getattr(component, "export_format_for", None)
    if not callable(chooser):
        return component.export_format
    import inspect

    try:
        takes_model = "model" in inspect.signature(chooser).parameters
    except (TypeError, ValueError):
        takes_model = False
    if takes_model and model is not None:
        return str(chooser(method.value, model=model))
    return str(chooser(method.value))


def _as_dataset(dataset: Any) -> TrainingData | None:
    if dataset is None or not isinstance(dataset, str | os.PathLike):
        return dataset
    module = importlib.import_module("modelops_core.datasets.dataset")
    loaded: TrainingData = module.Dataset.from_jsonl(dataset)
    return loaded


def _file_stem(fingerprint: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", fingerprint)[-16:] or "dataset"


class FineTuningJob:
    """A fine-tuning job on any provider: preflight, start, follow, cancel, register.

    :param model: the base model as the provider names it (``gpt-4o-mini``, ``gemini-2.5-flash``,
        ``amazon.nova-micro-v1:0``, ``local:logreg``).
    :param dataset: a :class:`~modelops_core.datasets.dataset.Dataset` or the path of a JSONL file.
    :param epochs: passes over the training data.
    :param learning_rate: the learning rate (hosted providers take it as their multiplier);
        default: the provider's own default (``auto`` at OpenAI and Vertex, 0.05 for
        ``local``), which trains: a rate too small for the provider leaves the loss where it
        started, and the job then warns (:attr:`learning_warning`).
    :param provider: the provider name; default: ``[providers] default`` when set, else the
        provider whose profile claims the model name (:func:`infer_provider`).
    :param method: ``"supervised"`` or ``"preference"``.
    :param hyperparameters: more provider-neutral hyperparameters (``beta`` …) passed through.
    :param register_as: register the tuned model under this name on success (default
        ``[finetune] register``).
    :param metadata: string tags sent with the job to the provider and kept on its tracking
        run as ``job.metadata.<key>`` before the job is created (a pipeline step names its
        attempt there, to find the job again after a crash).
    :param runtime: the runtime (default: a new one on the configuration found from here).
    :param clock: where time is read and waited (tests pass a fake clock).
    :param random_seed: seeds the jitter of the polling backoff.
    """

    def __init__(
        self,
        model: str,
        dataset: Any = None,
        epochs: int = 3,
        learning_rate: float | None = None,
        provider: str | None = None,
        method: str = "supervised",
        batch_size: int | None = None,
        seed: int | None = None,
        validation_dataset: Any = None,
        suffix: str | None = None,
        runtime: Runtime | None = None,
        register_as: str | None = None,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        random_seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        self.runtime = runtime
        config = runtime.config
        self.settings = FineTuneSettings.from_table(config.section("finetune"), config.source)
        if not isinstance(model, str) or not model.strip():
            raise FineTuningError("model must be a non-empty model name, e.g. 'local:logreg'.")
        self.model = model
        self.provider = provider or infer_provider(model, config, runtime)
        try:
            self.method = TuningMethod(method)
        except ValueError:
            choices = ", ".join(m.value for m in TuningMethod)
            raise FineTuningError(f"Unknown method {method!r}; choose one of: {choices}.") from None
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise FineTuningError(f"epochs must be a whole number >= 1, got {epochs!r}.")
        if learning_rate is not None and (
            isinstance(learning_rate, bool)
            or not isinstance(learning_rate, int | float)
            or not learning_rate > 0
        ):
            raise FineTuningError(
                f"learning_rate must be a number above 0 (or None for the provider's default), "
                f"got {learning_rate!r}."
            )
        self.epochs = epochs
        self.learning_rate = None if learning_rate is None else float(learning_rate)
        self.batch_size = batch_size
        self.seed = seed
        self.suffix = suffix
        self.extra_hyperparameters = dict(hyperparameters or {})
        self.metadata = {str(key): str(value) for key, value in (metadata or {}).items()}
        self.dataset = _as_dataset(dataset)
        self.validation_dataset = _as_dataset(validation_dataset)
        self.register_as = register_as or self.settings.register
        self._clock: Clock = clock or SystemClock()
        self._rng = random.Random(random_seed)
        self._component: ProviderComponent | None = None
        self._store: JobStore | None = None
        self._snapshot: ProviderJob | None = None
        self._known_status: str | None = None
        self._run_id: str | None = None
        self._run_ended = False
        self._registered: str | None = None
        self._artifact_path: str | None = None
        self._last_refresh = -math.inf
        self._step = 0
        self._logged_metrics: set[tuple[str, int]] | None = None
        self._metrics_error: str | None = None
        self._warning: str | None = None

    def __repr__(self) -> str:
        status = self._snapshot.status.value if self._snapshot else "not started"
        return (
            f"FineTuningJob(model={self.model!r}, provider={self.provider!r}, id={self.id!r}, "
            f"status={status!r})"
        )

    # --- the pieces --------------------------------------------------------------------------

    @property
    def provider_component(self) -> ProviderComponent:
        """The provider component, built on first use from ``[providers.<name>]``."""
        if self._component is None:
            choice = self.runtime.config.provider(self.provider)
            self._component = self.runtime.create(Kind.PROVIDER, choice)
        return self._component

    @property
    def store(self) -> JobStore:
        """Where the job is persisted (the tracking store)."""
        if self._store is None:
            self._store = JobStore(self.runtime)
        return self._store

    def hyperparameters(self) -> dict[str, Any]:
        """The provider-neutral hyperparameters sent with the request."""
        values: dict[str, Any] = {"epochs": self.epochs}
        if self.learning_rate is not None:
            values["learning_rate"] = self.learning_rate
        if self.batch_size is not None:
            values["batch_size"] = self.batch_size
        if self.seed is not None:
            values["seed"] = self.seed
        values.update(self.extra_hyperparameters)
        return values

    # --- what users read ---------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The provider's job id (None before :meth:`start`)."""
        return self._snapshot.id if self._snapshot else None

    @property
    def run_id(self) -> str | None:
        """The tracking run that records this job."""
        return self._run_id

    @property
    def snapshot(self) -> ProviderJob | None:
        """The last snapshot received from the provider (no refresh)."""
        return self._snapshot

    @property
    def status(self) -> JobStatus:
        """The job's :class:`JobStatus`; refreshed from the provider while not finished, at most
        once per ``min(poll_interval, 1s)``. A transient provider error keeps the last status."""
        if self._snapshot is None:
            return JobStatus.PENDING
        interval = min(self.settings.poll_interval, 1.0)
        fresh = self._clock.monotonic() - self._last_refresh < interval
        if not self._snapshot.status.finished and not fresh:
            # On a transient error the last known status stands; wait() retries with backoff.
            with contextlib.suppress(ProviderUnavailableError):
                self.refresh()
        return self._snapshot.status

    @property
    def raw_status(self) -> str | None:
        """The provider's own status beside :attr:`status` (None before :meth:`start`)."""
        self.status  # noqa: B018 - refreshes when due
        return self._snapshot.raw_status if self._snapshot else None

    @property
    def progress(self) -> float:
        """0.0 to 1.0 (``f"{job.progress:.1%}"``); 1.0 once succeeded."""
        status = self.status
        if status is JobStatus.SUCCEEDED:
            return 1.0
        reported = self._snapshot.progress if self._snapshot else None
        return min(max(reported or 0.0, 0.0), 1.0)

    @property
    def error(self) -> str | None:
        """The provider's failure message, verbatim (None unless the job failed)."""
        return self._snapshot.error if self._snapshot else None

    @property
    def result(self) -> str:
        """The fine-tuned model id; :class:`JobNotSucceededError` unless the job succeeded."""
        status = self.status
        snapshot = self._snapshot
        if status is JobStatus.SUCCEEDED and snapshot and snapshot.fine_tuned_model:
            return snapshot.fine_tuned_model
        if snapshot is None:
            raise JobNotSucceededError(
                f"The {self.provider} job for {self.model!r} has not been started; call start() "
                "and wait() before reading result."
            )
        detail = f": {snapshot.error}" if snapshot.error else ""
        hint = (
            "call job.wait() first."
            if not status.finished
            else "start a new job after fixing the cause."
        )
        raise JobNotSucceededError(
            f"Job {snapshot.id} ({self.provider}) has no fine-tuned model: status "
            f"{status.value!r} (raw {snapshot.raw_status!r}){detail}. result exists once the "
            f"job succeeded; {hint}"
        )

    # --- preflight and start -----------------------------------------------------------------

    def preflight(self) -> PreflightReport:
        """Validate the dataset against the provider's rules and estimate the cost; uploads
        nothing. The exported training file is kept under ``<home>/finetune/data``."""
        if self.dataset is None:
            raise FineTuningError(
                f"Job {self.id or ''} has no dataset here (it was attached); preflight needs "
                "the dataset: create a new FineTuningJob(model=..., dataset=...)."
            )
        component = self.provider_component
        file_format = ProviderCatalogue.of(self.runtime).target(
            export_format(component, self.method, self.model)
        )
        folder = Path(self.runtime.config.home) / "finetune" / "data"
        folder.mkdir(parents=True, exist_ok=True)
        training, dataset_problems, provider_problems, warnings = self._check(
            self.dataset, folder, file_format, "train"
        )
        validation: str | None = None
        if self.validation_dataset is not None:
            validation, more_dataset, more_provider, more_warnings = self._check(
                self.validation_dataset, folder, file_format, "validation"
            )
            dataset_problems += tuple(f"validation set: {p}" for p in more_dataset)
            provider_problems += tuple(f"validation set: {p}" for p in more_provider)
            warnings += tuple(f"validation set: {w}" for w in more_warnings)
        tokens = total_tokens(self.dataset, Path(training)) if Path(training).exists() else 0
        cost = estimate_cost(self.model, tokens, self.epochs, self.runtime.config.prices)
        return PreflightReport(
            provider=self.provider,
            model=self.model,
            method=self.method.value,
            examples=len(self.dataset),
            training_file=training,
            cost=cost,
            dataset_problems=dataset_problems,
            provider_problems=provider_problems,
            validation_file=validation,
            warnings=warnings,
        )

    def _check(
        self, dataset: TrainingData, folder: Path, file_format: ExportTarget, role: str
    ) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """Export ``dataset`` for the provider and check it: the exported path, the dataset's
        blocking problems, the provider's (without repeats) and the warnings."""
        path = folder / f"{_file_stem(dataset.fingerprint())}-{role}-{file_format.name}.jsonl"
        report = dataset.validate(provider=file_format, model=self.model)
        warnings = report_warnings(report)
        dataset_problems = report_problems(report)
        try:
            exported = dataset.export(path, provider=file_format)
        except ModelOpsError as exc:
            return str(path), (*dataset_problems, str(exc)), (), warnings
        provider_problems = list(
            self.provider_component.validate(str(exported), self.method.value, self.model)
        )
        size, most = Path(exported).stat().st_size, file_format.limits.max_file_bytes
        if most and size > most:
            provider_problems.append(
                f"the exported {role} file is {size:,} bytes, over the {most:,} of "
                f"{file_format.name} ({file_format.limits.source or file_format.plugin}); "
                "split the data or sample fewer examples"
            )
        return (
            str(exported),
            dataset_problems,
            without_repeats(tuple(provider_problems), dataset_problems),
            warnings,
        )

    def start(self, report: PreflightReport | None = None) -> FineTuningJob:
        """Run the preflight (or use ``report``), then upload and create the job; returns self.

        :raises PreflightError: the dataset fails the provider's rules; nothing was uploaded.
        :raises MissingCredentialsError: the provider's message names what to set.
        :raises ProviderRejectedError: the provider refused the job (its message verbatim).
        """
        if self._snapshot is not None:
            raise FineTuningError(
                f"This FineTuningJob already started as job {self._snapshot.id}; create a new "
                "FineTuningJob to train again."
            )
        report = report if report is not None else self.preflight()
        if not report.ok:
            raise PreflightError(report)
        assert self.dataset is not None  # preflight() refused a job without one
        fingerprint = self.dataset.fingerprint()
        request = TuningRequest(
            model=self.model,
            training_file=report.training_file,
            method=self.method,
            validation_file=report.validation_file,
            hyperparameters=self.hyperparameters(),
            suffix=self.suffix,
            metadata={
                "dataset_fingerprint": fingerprint,
                "created_by": "modelops",
                **self.metadata,
            },
        )
        params = {
            "model": self.model,
            "provider": self.provider,
            "method": self.method.value,
            "hyperparameters": json.dumps(self.hyperparameters(), sort_keys=True),
            **{f"hp.{k}": v for k, v in self.hyperparameters().items()},
            "suffix": self.suffix or "",
            "dataset.fingerprint": fingerprint,
            "dataset.examples": len(self.dataset),
            "validation.fingerprint": (
                self.validation_dataset.fingerprint() if self.validation_dataset else ""
            ),
            "estimate.tokens": report.cost.trained_tokens,
            "estimate.cost": "" if report.cost.total is None else f"{report.cost.total:.4f}",
        }
        tags = {
            "job.provider": self.provider,
            "job.status": JobStatus.PENDING.value,
            "job.register_as": self.register_as or "",
            **{f"job.metadata.{key}": value for key, value in self.metadata.items()},
        }
        self._run_id = self.store.create(params, tags)
        try:
            snapshot = self.provider_component.start(request)
        except ModelOpsError as exc:
            self.store.update(self._run_id, {"job.status": "failed", "job.error": str(exc)})
            self.store.end(self._run_id, "failed")
            self._run_ended = True
            raise
        # Test hook (MODELOPS_TEST_CRASH_AT=job:provider-created): stop where the provider has
        # the job and the tracking store does not know its id yet.
        if os.environ.get("MODELOPS_TEST_CRASH_AT") == "job:provider-created":
            os._exit(137)
        self._apply(snapshot)
        return self

    # --- following the job -------------------------------------------------------------------

    def refresh(self) -> ProviderJob:
        """Ask the provider once for the job's state, record it and return it."""
        job_id = self._require_started()
        try:
            snapshot = self.provider_component.get(job_id)
        except ProviderRejectedError as exc:
            if job_id in str(exc):
                raise
            raise ProviderRejectedError(f"{exc} (job {job_id}, provider {self.provider})") from exc
        self._apply(snapshot)
        return snapshot

    def wait(
        self,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_update: Callable[[ProviderJob], None] | None = None,
    ) -> JobStatus:
        """Poll until the job is finished and return its final status.

        :param timeout: seconds to wait in all (default ``[finetune] timeout``).
        :param poll_interval: the first delay between polls (default ``[finetune]
            poll_interval``); it grows with jitter while nothing changes.
        :param on_update: called with every snapshot received (progress displays).
        :raises JobTimeoutError: not finished in time; the job keeps running and stays tracked.
        :raises ProviderUnavailableError: the provider kept failing; re-attach later.
        """
        job_id = self._require_started()
        assert self._snapshot is not None
        if not self._snapshot.status.finished:

            def fetch() -> ProviderJob:
                snapshot = self.refresh()
                if on_update is not None:
                    on_update(snapshot)
                return snapshot

            poll_until_finished(
                fetch,
                job_id=job_id,
                settings=self.settings,
                clock=self._clock,
                rng=self._rng,
                timeout=timeout,
                poll_interval=poll_interval,
            )
        else:
            self._after_finish()
        return self._snapshot.status

    def cancel(self) -> JobStatus:
        """Ask the provider to cancel the job; returns the status it reports (cancelled, or a
        not-finished status while the cancellation is under way)."""
        job_id = self._require_started()
        self._apply(self.provider_component.cancel(job_id))
        assert self._snapshot is not None
        return self._snapshot.status

    def events(self) -> list[JobEvent]:
        """The provider's event log of the job, oldest first."""
        return self.provider_component.events(self._require_started())

    def training_metrics(self) -> list[MetricPoint]:
        """The training curves the provider reports (``train_loss``, ``validation_loss``,
        ``tokens_seen``, ``learning_rate`` … at their steps); empty for a provider without
        ``metrics(job_id)``. The job records them in its tracking run as it follows the job."""
        reader = getattr(self.provider_component, "metrics", None)
        if not callable(reader):
            return []
        return list(reader(self._require_started()))

    @property
    def learning_warning(self) -> str | None:
        """Set once the job finished when its ``train_loss`` barely fell (``loss fell 0.5%
        …: raise the learning rate``); kept as the run's tag ``job.warning``."""
        return self._warning

    def register(self, name: str) -> ModelVersion:
        """Register the tuned model as a new version of ``name`` with its lineage (dataset
        fingerprint, provider, base model, hyperparameters, job id, run id).

        A hosted model (an id at the provider) is stored as a small JSON document; a local
        provider's artifact (``details["artifact_path"]``) is stored as files.
        """
        from modelops_core.registry.model_registry import ModelRegistry

        fine_tuned = self.result
        job_id = self._require_started()
        assert self._run_id is not None
        params = self.store.get(self._run_id).params
        lineage = {
            "dataset_fingerprint": params.get("dataset.fingerprint") or None,
            "training_job": job_id,
            "base_model": self.model,
            "provider": self.provider,
            "run_id": self._run_id,
            "hyperparameters": json.loads(params.get("hyperparameters", "{}")),
            "fine_tuned_model": fine_tuned,
        }
        metadata = {"fine_tuned_model": fine_tuned, "method": self.method.value}
        tags = {"provider": self.provider, "base_model": self.model}
        with ModelRegistry(self.runtime) as registry:
            if self._artifact_path:
                version = registry.register(
                    name, model_path=self._artifact_path, metadata=metadata, tags=tags,
                    lineage=lineage,
                )  # fmt: skip
            else:
                document = {
                    "provider": self.provider,
                    "model_id": fine_tuned,
                    "base_model": self.model,
                    "job_id": job_id,
                }
                version = registry.register(
                    name, model=document, metadata=metadata, tags=tags, lineage=lineage
                )
        self._registered = f"{name}:{version.version}"
        self.store.update(self._run_id, {"job.registered": self._registered})
        self.store.tracker.backend.link_model(self._run_id, name, version.version)
        return version

    @property
    def registered(self) -> str | None:
        """``"name:version"`` once the tuned model was registered."""
        return self._registered

    def close(self) -> None:
        """Release the tracking store and the provider component this job opened."""
        if self._store is not None:
            self._store.close()
            self._store = None
        close = getattr(self._component, "close", None)
        if callable(close):
            close()
        self._component = None

    # --- re-attaching ------------------------------------------------------------------------

    @classmethod
    def attach(
        cls,
        job_id: str,
        runtime: Runtime | None = None,
        *,
        provider: str | None = None,
        clock: Clock | None = None,
        random_seed: int | None = None,
    ) -> FineTuningJob:
        """The tracked job ``job_id`` (from any process on the same home), ready to follow.

        :param provider: needed only when two providers used the same job id.
        :raises JobNotFoundError: no such job in the tracking store.
        """
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        store = JobStore(runtime)
        record = store.find(job_id, provider)
        params = record.params
        hyper = dict(json.loads(params.get("hyperparameters", "{}")))
        job = cls(
            model=params["model"],
            epochs=int(hyper.pop("epochs", 3)),
            learning_rate=_optional_float(hyper.pop("learning_rate", None)),
            provider=str(record.tags.get("job.provider") or params["provider"]),
            method=params.get("method", "supervised"),
            batch_size=hyper.pop("batch_size", None),
            seed=hyper.pop("seed", None),
            suffix=params.get("suffix") or None,
            runtime=runtime,
            register_as=str(record.tags.get("job.register_as") or "") or None,
            hyperparameters=hyper,
            clock=clock,
            random_seed=random_seed,
        )
        job._store = store
        job._restore(record)
        return job

    def _restore(self, record: RunRecord) -> None:
        tags = record.tags
        self._run_id = record.run_id
        self._run_ended = record.status != "running"
        self._registered = str(tags.get("job.registered") or "") or None
        self._warning = str(tags.get("job.warning") or "") or None
        self._artifact_path = str(tags.get("job.artifact_path") or "") or None
        self._known_status = str(tags.get("job.status") or JobStatus.PENDING.value)
        progress = tags.get("job.progress")
        self._snapshot = ProviderJob(
            id=str(tags["job.id"]),
            provider=self.provider,
            status=JobStatus(self._known_status),
            raw_status=str(tags.get("job.raw_status") or self._known_status),
            model=self.model,
            progress=float(progress) if isinstance(progress, int | float) else None,
            fine_tuned_model=str(tags.get("job.fine_tuned_model") or "") or None,
            error=str(tags.get("job.error") or "") or None,
            details={key: tags[f"job.{key}"] for key in _COUNT_DETAILS if f"job.{key}" in tags},
        )

    # --- recording -----------------------------------------------------------------------------

    def _require_started(self) -> str:
        if self._snapshot is None:
            raise JobNotStartedError(
                f"The {self.provider} job for {self.model!r} has not been started; call start()."
            )
        return self._snapshot.id

    def _apply(self, snapshot: ProviderJob) -> None:
        """Record a snapshot: tags on change, progress metric, the status hook, the end."""
        previous = self._snapshot
        self._snapshot = snapshot
        self._last_refresh = self._clock.monotonic()
        artifact = snapshot.details.get("artifact_path")
        if artifact:
            self._artifact_path = str(artifact)
        assert self._run_id is not None
        if previous is None or _visible(previous) != _visible(snapshot):
            self.store.update(self._run_id, self._tags(snapshot))
            if snapshot.progress is not None and (
                previous is None or previous.progress != snapshot.progress
            ):
                self._step += 1
                self.store.log_progress(self._run_id, snapshot.progress, self._step)
            self._record_metrics(snapshot)
        if snapshot.status.value != self._known_status:
            before, self._known_status = self._known_status, snapshot.status.value
            self.runtime.hook.modelops_on_job_status(
                job_id=snapshot.id,
                status=snapshot.status.value,
                previous_status=before,
                provider=self.provider,
                runtime=self.runtime,
            )
        if snapshot.status.finished:
            self._after_finish()

    def _tags(self, snapshot: ProviderJob) -> dict[str, Any]:
        tags: dict[str, Any] = {
            "job.id": snapshot.id,
            "job.provider": self.provider,
            "job.status": snapshot.status.value,
            "job.raw_status": snapshot.raw_status,
            "job.fine_tuned_model": snapshot.fine_tuned_model or "",
            "job.error": snapshot.error or "",
        }
        if snapshot.progress is not None:
            tags["job.progress"] = snapshot.progress
        if snapshot.trained_tokens is not None:
            tags["job.trained_tokens"] = snapshot.trained_tokens
        for key in _COUNT_DETAILS:  # the provider's own count (step 30/30), kept for `status`
            value = snapshot.details.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                tags[f"job.{key}"] = value
        if self._artifact_path:
            tags["job.artifact_path"] = self._artifact_path
        return tags

    def _record_metrics(self, snapshot: ProviderJob) -> None:
        """Log the provider's training curves not yet in the run (each key and step once);
        a provider that cannot answer now is asked again at the next change. A refusal (a
        metrics file that is not the provider's, say) is kept as the run's tag
        ``job.metrics_error``, since the job itself goes on."""
        assert self._run_id is not None
        try:
            points = self.training_metrics()
        except ProviderUnavailableError:
            return
        except ProviderRejectedError as exc:
            from modelops_core.config import mask_urls_in

            reason = mask_urls_in(str(exc))
            if reason != self._metrics_error:
                self._metrics_error = reason
                self.store.update(self._run_id, {"job.metrics_error": reason})
            return
        if not points:
            return
        if self._logged_metrics is None:
            self._logged_metrics = self.store.logged_steps(self._run_id)
        fresh = [p for p in points if (p.key, p.step) not in self._logged_metrics]
        if fresh:
            self.store.log_metrics(self._run_id, fresh)
            self._logged_metrics.update((p.key, p.step) for p in fresh)
        if snapshot.status is JobStatus.SUCCEEDED and self._warning is None:
            from modelops_core.finetune.curves import learning_warning

            self._warning = learning_warning(points, self.learning_rate)
            if self._warning is not None:
                self.store.update(self._run_id, {"job.warning": self._warning})

    def _after_finish(self) -> None:
        snapshot = self._snapshot
        assert snapshot is not None and self._run_id is not None
        succeeded = snapshot.status is JobStatus.SUCCEEDED
        if not self._run_ended:
            self.store.end(self._run_id, _RUN_STATUS.get(snapshot.status, "failed"))
            self._run_ended = True
        if succeeded and self.register_as and self._registered is None:
            self.register(self.register_as)


#: ``details`` a provider reports its count in (kept as ``job.<key>`` tags).
_COUNT_DETAILS = ("step", "total_steps", "epoch", "epochs")

#: the tracking run's status for a finished job (runs list shows it).
_RUN_STATUS = {
    JobStatus.SUCCEEDED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _visible(snapshot: ProviderJob) -> tuple[Any, ...]:
    return (
        snapshot.status,
        snapshot.raw_status,
        snapshot.progress,
        snapshot.fine_tuned_model,
        snapshot.error,
        snapshot.trained_tokens,
    )
