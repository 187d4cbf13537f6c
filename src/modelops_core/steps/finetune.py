"""The ``finetune`` step: fine-tune on the latest ``train`` file and wait for the result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.jobs import ProviderJob
    from modelops_core.pipeline import StepContext


class FinetuneStep:
    """Start a :class:`~modelops_core.finetune.FineTuningJob` and wait until it finishes.

    :param model: the base model (``local:logreg``, ``gpt-4o-mini-2024-07-18`` …).
    :param provider: default: inferred from the model name or ``[providers] default``.
    :param epochs: passes over the training data.
    :param learning_rate: the learning rate (a multiplier for hosted providers).
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
        learning_rate: float = 1e-5,
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
        from modelops_core.dataset import Dataset
        from modelops_core.finetune import FineTuningJob
        from modelops_core.jobs import JobStatus

        dataset = Dataset.from_jsonl(context.latest("train"))
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
        )
        try:
            job.start()
            context.say(f"job {job.id} started on {job.provider}")

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
