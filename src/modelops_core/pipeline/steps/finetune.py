"""The ``finetune`` step: fine-tune on the latest ``train`` file and wait for the result."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.finetune.job import FineTuningJob
    from modelops_core.finetune.provider_contract import ProviderJob
    from modelops_core.pipeline.runner import StepContext

#: The job metadata (at the provider and on its tracking run) naming the step's attempt.
ATTEMPT_KEY = "modelops_attempt"


class FinetuneStep:
    """Start a :class:`~modelops_core.finetune.job.FineTuningJob` and wait until it finishes.

    The attempt is journaled before the job is created and the job id right after, so a run
    killed while the job trains re-attaches to it (``--resume`` or a plain re-run with the
    same options) instead of paying for a second one; a job that ended without success is
    replaced by a new one.

    :param model: the base model (``local:logreg``, ``gpt-4o-mini-2024-07-18`` …).
    :param provider: default: inferred from the model name or ``[providers] default``.
    :param epochs: passes over the training data.
    :param learning_rate: the learning rate (a multiplier for hosted providers); default: the
        provider's own.
    :param method: ``supervised`` or ``preference``.
    :param seed: the provider's seed, where it takes one.
    :param timeout: seconds to wait for the job (default: ``[finetune] timeout``).
    :param poll_interval: seconds before the first re-poll (default: ``[finetune]
        poll_interval``); a local job finishes in seconds, a hosted one in minutes or hours.
    :param hyperparameters: provider-specific settings passed through as the provider names
        them (``adapter_size`` on Vertex AI, ``learningRateWarmupSteps`` on Bedrock …).
    """

    def __init__(
        self,
        model: str,
        provider: str | None = None,
        epochs: int = 3,
        learning_rate: float | None = None,
        method: str = "supervised",
        batch_size: int | None = None,
        seed: int | None = None,
        timeout: float | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.model = model
        self.provider = provider
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.method = method
        self.batch_size = batch_size
        self.seed = seed
        self.timeout = timeout
        self.hyperparameters = dict(hyperparameters or {})
        self.poll_interval = poll_interval

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.finetune.provider_contract import JobStatus

        job = self._reattach(context)
        if job is None:
            job = self._start(context)
        try:

            def show(snapshot: ProviderJob) -> None:
                progress = f" {snapshot.progress:.0%}" if snapshot.progress is not None else ""
                context.say(f"job {snapshot.id}: {snapshot.status.value}{progress}")

            status = job.wait(
                timeout=self.timeout, poll_interval=self.poll_interval, on_update=show
            )
            if status != JobStatus.SUCCEEDED:
                reason = job.error or "no reason given"
                raise RuntimeError(f"fine-tuning job {job.id} ended {status.value}: {reason}")
            snapshot = job.snapshot
            outputs: dict[str, Any] = {
                "model_id": job.result,
                "job_id": job.id,
                "provider": job.provider,
                "base_model": self.model,
            }
            artifact = snapshot.details.get("artifact_path") if snapshot is not None else None
            if artifact:
                outputs["artifact_path"] = str(artifact)
            if context.run is not None:
                context.run.log_params(
                    {"finetune.job_id": str(job.id), "finetune.model_id": job.result}
                )
            return outputs
        finally:
            job.close()

    def _start(self, context: StepContext) -> FineTuningJob:
        """A new job; its attempt is journaled before it exists and its id right after."""
        from modelops_core.datasets.dataset import Dataset
        from modelops_core.finetune.job import FineTuningJob

        dataset = Dataset.from_jsonl(context.latest("train"))
        attempt = uuid.uuid4().hex
        job = FineTuningJob(
            model=self.model,
            dataset=dataset,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            provider=self.provider,
            method=self.method,
            batch_size=self.batch_size,
            seed=self.seed,
            runtime=context.runtime,
            hyperparameters=self.hyperparameters,
            metadata={ATTEMPT_KEY: attempt},
        )
        try:
            context.record(attempt=attempt, provider=job.provider)  # before the job exists
            job.start()
            context.checkpoint("job-started")
            context.record(job_id=job.id, provider=job.provider)
        except BaseException:
            job.close()
            raise
        context.say(f"job {job.id} started on {job.provider}")
        return job

    def _reattach(self, context: StepContext) -> FineTuningJob | None:
        """The job an interrupted attempt of this step started, when it can still succeed."""
        from modelops_core.finetune.job import FineTuningJob

        journal = context.journal
        job_id, provider = journal.get("job_id"), journal.get("provider")
        if job_id is None and journal.get("attempt"):
            job_id, tracked_provider = _tracked_job(context, str(journal["attempt"]))
            provider = tracked_provider or provider
        if job_id is None and journal.get("attempt") and provider:
            job_id = _provider_job(context, str(provider), str(journal["attempt"]))
            if job_id is not None:
                _track_job_id(context, str(journal["attempt"]), job_id)
        if job_id is None:
            return None
        job = FineTuningJob.attach(str(job_id), context.runtime, provider=provider)
        try:
            job.refresh()  # the provider's current state, with its details
            snapshot = job.snapshot
            if snapshot is not None and snapshot.status.finished and not snapshot.fine_tuned_model:
                context.say(f"job {job_id} of the interrupted run ended {snapshot.status.value}")
                job.close()
                return None
        except BaseException:
            job.close()
            raise
        context.record(job_id=job.id, provider=job.provider)
        context.say(f"job {job_id} (started by the interrupted run) re-attached")
        return job


def _provider_job(context: StepContext, provider: str, attempt: str) -> str | None:
    """The job the provider keeps with ``attempt`` in its metadata (the run may have stopped
    after the provider created the job and before the tracking store learned its id).
    Providers that keep no metadata with their jobs (empty ``ProviderJob.metadata``) find none."""
    from modelops_core.plugins.kinds import Kind

    component = context.runtime.create(Kind.PROVIDER, provider)
    try:
        for job in component.list_jobs(limit=100):
            if job.metadata.get(ATTEMPT_KEY) == attempt:
                return str(job.id)
    finally:
        close = getattr(component, "close", None)
        if callable(close):
            close()
    return None


def _track_job_id(context: StepContext, attempt: str, job_id: str) -> None:
    """Write ``job_id`` on the tracking run the interrupted attempt created before its job."""
    from modelops_core.finetune.job_tracking import EXPERIMENT
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(context.runtime)
    try:
        for run in tracker.find_runs(EXPERIMENT, {f"job.metadata.{ATTEMPT_KEY}": attempt}):
            tracker.backend.set_tags(run.run_id, {"job.id": job_id})
    finally:
        tracker.close()


def _tracked_job(context: StepContext, attempt: str) -> tuple[str | None, str | None]:
    """The job id and provider tracked for ``attempt`` (the run may have stopped before the
    step recorded the id; the tracking store had it by then)."""
    from modelops_core.finetune.job_tracking import EXPERIMENT
    from modelops_core.tracking.tracker import ExperimentTracker

    tracker = ExperimentTracker(context.runtime)
    try:
        runs = tracker.find_runs(EXPERIMENT, {f"job.metadata.{ATTEMPT_KEY}": attempt})
    finally:
        tracker.close()
    for run in runs:
        job_id = run.tags.get("job.id")
        if job_id:
            return str(job_id), str(run.tags.get("job.provider") or "") or None
    return None, None
