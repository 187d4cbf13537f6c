"""The ``openai`` provider: fine-tuning jobs and chat inference on OpenAI or Azure OpenAI.

Every method makes a few SDK calls and returns neutral values from
:mod:`modelops_core.finetune.provider_contract`; polling, backoff and persistence belong to
    ``FineTuningJob``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from modelops_core.finetune.provider_contract import (
    JobEvent,
    MetricPoint,
    ProviderError,
    ProviderJob,
    ProviderRejectedError,
    TuningMethod,
    TuningRequest,
    cancel_unless_finished,
    training_file_problems,
)
from modelops_provider_openai.client import ClientSettings, build_client
from modelops_provider_openai.errors import translated
from modelops_provider_openai.mapping import (
    EXPORT_FORMATS,
    job_event,
    method_body,
    metric_points,
    position_from_events,
    progress_from_events,
    provider_job,
    tuning_method,
)

#: Files above this size need OpenAI's multi-part Uploads API, which this provider does not use.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: Events read by ``get`` to compute progress (newest first; one page).
PROGRESS_EVENTS = 50


class OpenAIProvider:
    """Fine-tune and call models on OpenAI, an OpenAI-compatible server, or Azure OpenAI.

    :param api_key: the API key; default: ``OPENAI_API_KEY`` (Azure: ``AZURE_OPENAI_API_KEY``
        first). Write it ``{ env = "OPENAI_API_KEY" }`` in the configuration, never inline.
    :param base_url: another OpenAI-compatible endpoint (default: the SDK's, or
        ``OPENAI_BASE_URL``).
    :param organization: the OpenAI organization id (``OpenAI-Organization`` header).
    :param project: the OpenAI project id.
    :param azure_endpoint: ``https://<resource>.openai.azure.com``: use Azure OpenAI.
    :param api_version: the Azure API version (required with ``azure_endpoint``).
    :param deployments: Azure only: model id -> deployment name, used by :meth:`predict`
        (Azure serves a fine-tuned model through a deployment you create).
    :param timeout: seconds per HTTP request.
    :param max_retries: the SDK's own retries of 429/5xx/connection errors per call.
    :param max_tokens: the most tokens :meth:`predict` generates per input.
    :param system_prompt: a system message :meth:`predict` sends before each input.
    :param http_client: an ``httpx2.Client`` (or ``httpx.Client``) the SDK uses; tests
        inject one with a mock transport.
    :param strict_response_validation: validate every response against the SDK's models
        (tests turn it on so a fake cannot drift from the real schema).
    """

    name = "openai"
    export_format = "openai"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        deployments: Mapping[str, str] | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        max_tokens: int = 256,
        system_prompt: str | None = None,
        http_client: Any = None,
        strict_response_validation: bool = False,
    ) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
        self.settings = ClientSettings(
            api_key=str(api_key) if api_key else None,
            base_url=base_url,
            organization=organization,
            project=project,
            azure_endpoint=azure_endpoint,
            api_version=api_version,
            timeout=float(timeout),
            max_retries=max_retries,
            http_client=http_client,
            strict_response_validation=strict_response_validation,
        )
        self.deployments = dict(deployments or {})
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self._client: Any = None

    def __repr__(self) -> str:
        where = self.settings.azure_endpoint or self.settings.base_url or "api.openai.com"
        return f"OpenAIProvider({where!r})"

    @property
    def client(self) -> Any:
        """The SDK client, built on first use (so ``validate`` needs no key)."""
        if self._client is None:
            self._client = build_client(self.settings, os.environ)
        return self._client

    def close(self) -> None:
        """Close the SDK client's connections. An injected ``http_client`` belongs to whoever
        passed it and is left open (a host may share one client between providers)."""
        if self._client is not None and self.settings.http_client is None:
            self._client.close()
        self._client = None

    def _call(self, call: str, job_id: str | None = None) -> Any:
        return translated(call, job_id=job_id, key_names=self.settings.key_names)

    # --- data ----------------------------------------------------------------------------------

    def export_format_for(self, method: str | TuningMethod) -> str:
        """``"openai"`` for supervised jobs, ``"openai-dpo"`` for preference (DPO) jobs."""
        return EXPORT_FORMATS[tuning_method(method)]

    def validate(self, path: str, method: str, model: str) -> list[str]:
        """OpenAI's rules on an exported file, via ``Dataset.validate``; ``"line N: reason"``."""
        return training_file_problems(
            path, export_format=self.export_format_for(method), model=model, describe=_problem_text
        )

    # --- jobs ----------------------------------------------------------------------------------

    def start(self, request: TuningRequest) -> ProviderJob:
        """Upload the training (and validation) file, then create the job."""
        method = method_body(request.method, request.hyperparameters)  # refuses before upload
        _check_suffix_and_metadata(request.suffix, request.metadata)
        for path in (request.training_file, request.validation_file):
            if path is not None:
                _check_file(path)
        uploaded: list[str] = []
        try:
            training = self._upload(request.training_file)
            uploaded.append(training)
            validation = None
            if request.validation_file is not None:
                validation = self._upload(request.validation_file)
                uploaded.append(validation)
            arguments: dict[str, Any] = {
                "model": request.model,
                "training_file": training,
                "method": method,
            }
            optional = {
                "validation_file": validation,
                "suffix": request.suffix,
                "seed": request.hyperparameters.get("seed"),
                "metadata": dict(request.metadata) or None,
            }
            arguments.update({k: v for k, v in optional.items() if v is not None})
            with self._call("fine_tuning.jobs.create"):
                job = self.client.fine_tuning.jobs.create(**arguments)
        except ProviderRejectedError:
            self._forget_files(uploaded)  # nothing refers to them: do not leave them billed
            raise
        return provider_job(job)

    def _upload(self, path: str) -> str:
        with self._call(f"files.create({Path(path).name})"), open(path, "rb") as handle:
            uploaded = self.client.files.create(file=handle, purpose="fine-tune")
        return str(uploaded.id)

    def _forget_files(self, file_ids: Sequence[str]) -> None:
        for file_id in file_ids:
            try:
                with self._call("files.delete"):
                    self.client.files.delete(file_id)
            except ProviderError:
                pass  # best effort: the original rejection is what the user must see

    def get(self, job_id: str) -> ProviderJob:
        """The job as OpenAI reports it; progress from the newest step/total_steps event."""
        with self._call("fine_tuning.jobs.retrieve", job_id):
            job = self.client.fine_tuning.jobs.retrieve(job_id)
        progress = None
        position: dict[str, int] = {}
        if job.status not in ("validating_files", "queued", "succeeded"):
            with self._call("fine_tuning.jobs.list_events", job_id):
                page = self.client.fine_tuning.jobs.list_events(job_id, limit=PROGRESS_EVENTS)
            progress = progress_from_events(page.data)
            position = position_from_events(page.data)
        snapshot = provider_job(job, progress=progress)
        if position:  # the step count as OpenAI reports it (`finetune watch`: step 40/120)
            snapshot = attrs.evolve(snapshot, details={**snapshot.details, **position})
        return snapshot

    def cancel(self, job_id: str) -> ProviderJob:
        """Ask OpenAI to cancel; a job that already finished is returned as it is."""

        def ask() -> ProviderJob:
            with self._call("fine_tuning.jobs.cancel", job_id):
                return provider_job(self.client.fine_tuning.jobs.cancel(job_id))

        return cancel_unless_finished(ask, lambda: self.get(job_id))

    def pause(self, job_id: str) -> ProviderJob:
        """Pause a running job (``jobs.pause``): it reports ``paused`` until resumed."""
        with self._call("fine_tuning.jobs.pause", job_id):
            return provider_job(self.client.fine_tuning.jobs.pause(job_id))

    def resume(self, job_id: str) -> ProviderJob:
        """Resume a paused job (``jobs.resume``): it goes back to the queue, then runs on."""
        with self._call("fine_tuning.jobs.resume", job_id):
            return provider_job(self.client.fine_tuning.jobs.resume(job_id))

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        """The newest ``limit`` jobs, following OpenAI's cursor pages as needed."""
        found: list[ProviderJob] = []
        if limit <= 0:
            return found
        with self._call("fine_tuning.jobs.list"):
            for job in self.client.fine_tuning.jobs.list(limit=min(limit, 100)):
                found.append(provider_job(job))
                if len(found) >= limit:
                    break
        return found

    def events(self, job_id: str) -> list[JobEvent]:
        """Every event of the job, oldest first (OpenAI lists them newest first)."""
        with self._call("fine_tuning.jobs.list_events", job_id):
            events = list(self.client.fine_tuning.jobs.list_events(job_id, limit=100))
        return [job_event(event) for event in reversed(events)]

    def metrics(self, job_id: str) -> list[MetricPoint]:
        """The job's training curves: ``train_loss``, ``validation_loss``,
        ``full_validation_loss``, ``train_accuracy``, ``validation_accuracy`` (mean token
        accuracy) per step, from its ``metrics`` events, and from its checkpoints once it has
        them (events are kept for a limited time; checkpoints carry the same metrics)."""
        return metric_points(self.events(job_id), self.checkpoints(job_id))

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """The job's checkpoints, oldest first: ``step``, ``model`` (callable id), ``metrics``."""
        with self._call("fine_tuning.jobs.checkpoints.list", job_id):
            items = list(self.client.fine_tuning.jobs.checkpoints.list(job_id, limit=100))
        return [
            {
                "id": item.id,
                "step": item.step_number,
                "model": item.fine_tuned_model_checkpoint,
                "created_at": float(item.created_at),
                "metrics": item.metrics.model_dump(exclude_none=True),
            }
            for item in sorted(items, key=lambda item: item.step_number)
        ]

    # --- inference -----------------------------------------------------------------------------

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        """One chat completion per input (temperature 0, at most ``max_tokens``); the texts."""
        model = self.deployments.get(model_id, model_id)
        outputs: list[Any] = []
        for text in inputs:
            with self._call(f"chat.completions.create({model})"):
                completion = self.client.chat.completions.create(
                    model=model,
                    messages=self._messages(text),
                    temperature=0,
                    max_completion_tokens=self.max_tokens,
                )
            message = completion.choices[0].message
            # a refusal has no content: its explanation is the output, so nothing is dropped
            outputs.append(message.content or message.refusal or "")
        return outputs

    def stream(self, model_id: str, text: str) -> Iterator[str]:
        """The answer to one input as it is generated: ``chat.completions.create(stream=True)``
        with :meth:`predict`'s settings; the text pieces of its chunks (a refusal's pieces when
        the model refuses), which joined are what :meth:`predict` answers. A failure before or
        during the stream is a provider error (a dropped stream: ``ProviderUnavailableError``)."""
        model = self.deployments.get(model_id, model_id)
        with self._call(f"chat.completions.create({model}, stream=True)"):
            chunks = self.client.chat.completions.create(
                model=model,
                messages=self._messages(text),
                temperature=0,
                max_completion_tokens=self.max_tokens,
                stream=True,
            )
            with chunks:  # closes the connection when the reader stops early
                for chunk in chunks:
                    for choice in chunk.choices:
                        piece = choice.delta.content or choice.delta.refusal
                        if piece:
                            yield piece

    def _messages(self, text: Any) -> list[dict[str, str]]:
        messages = [{"role": "user", "content": str(text)}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages


def _check_file(path: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ProviderError(
            f"The training file {path} does not exist; export the dataset first "
            "(Dataset.export(path, provider='openai'))."
        )
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ProviderRejectedError(
            f"{path} is {size / 2**20:.0f} MiB; OpenAI's Files API takes at most 512 MiB per "
            "file. Use fewer or shorter examples, or upload with the Uploads API and start the "
            "job by hand."
        )
    if size == 0:
        raise ProviderRejectedError(f"{path} is empty; it needs at least 10 training examples.")


#: OpenAI's limits on a job's ``suffix`` and ``metadata`` (the OpenAPI document's rules).
SUFFIX_LENGTH = (1, 64)
METADATA_LIMITS = (16, 64, 512)  # keys, key length, value length


def _check_suffix_and_metadata(suffix: str | None, metadata: Mapping[str, Any]) -> None:
    """Refuse what OpenAI would refuse, before anything is uploaded."""
    if suffix is not None and not SUFFIX_LENGTH[0] <= len(suffix) <= SUFFIX_LENGTH[1]:
        raise ProviderRejectedError(
            f"suffix {suffix!r} has {len(suffix)} characters; OpenAI takes 1 to "
            f"{SUFFIX_LENGTH[1]}. Shorten it (or leave it out). Nothing was uploaded."
        )
    most, key_length, value_length = METADATA_LIMITS
    if len(metadata) > most:
        raise ProviderRejectedError(
            f"metadata has {len(metadata)} keys; OpenAI takes at most {most}. Drop "
            f"{len(metadata) - most} of {sorted(metadata)}. Nothing was uploaded."
        )
    for key, value in metadata.items():
        if len(key) > key_length:
            raise ProviderRejectedError(
                f"metadata key {key[:20]!r}... has {len(key)} characters; OpenAI takes keys of "
                f"at most {key_length}. Nothing was uploaded."
            )
        if not isinstance(value, str) or len(value) > value_length:
            shown = type(value).__name__ if not isinstance(value, str) else f"{len(value)} chars"
            raise ProviderRejectedError(
                f"metadata[{key!r}] must be a string of at most {value_length} characters "
                f"(got {shown}); convert it with str() or shorten it. Nothing was uploaded."
            )


def _problem_text(problem: Any) -> str:
    line = getattr(problem, "line", None)
    reason = getattr(problem, "reason", None)
    if reason is None:
        return str(problem)
    return f"line {line}: {reason}" if line else str(reason)
