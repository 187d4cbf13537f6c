"""The ``vertex`` provider: Gemini tuning jobs and inference on Vertex AI.

Every method makes a few calls through the Gen AI SDK (``google-genai``, ``client.tunings``
and ``client.models``) or the Cloud Storage client, and returns neutral values from
:mod:`modelops_core.finetune.provider_contract`; polling, backoff and persistence belong to
    ``FineTuningJob``.
The deprecated ``vertexai.tuning`` module of google-cloud-aiplatform is not used.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    MetricPoint,
    ProviderError,
    ProviderJob,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningMethod,
    TuningRequest,
    cancel_unless_finished,
    training_file_problems,
)
from modelops_provider_vertex.client import (
    ResolvedCredentials,
    VertexSettings,
    build_genai_client,
    build_storage_client,
    resolve_credentials,
    resolve_project,
)
from modelops_provider_vertex.errors import translated
from modelops_provider_vertex.mapping import (
    EXPORT_FORMATS,
    REQUEST_LABEL,
    checkpoints_of,
    events_of,
    metric_points,
    provider_job,
    tuning_config,
    tuning_method,
)
from modelops_provider_vertex.staging import (
    DEFAULT_CHUNK_SIZE,
    MAX_FILE_BYTES,
    StagedFile,
    check_chunk_size,
    check_training_file,
    remove,
    upload,
)


class VertexProvider:
    """Tune and call Gemini models on Vertex AI.

    :param project: the Google Cloud project id; default: ``GOOGLE_CLOUD_PROJECT``, else the
        project of the credentials.
    :param location: the Vertex AI region of the jobs (``us-central1``).
    :param bucket: the Cloud Storage bucket where training files are staged (needed by
        ``start``); best in the same region.
    :param prefix: the folder inside the bucket for staged files.
    :param credentials: a credentials file (service-account key …); default: Application
        Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud, metadata server).
        Tests may pass a ``google.auth`` credentials object.
    :param base_url: another Vertex AI endpoint (private service connect, a test fake).
    :param api_version: the API version (default: the SDK's).
    :param storage_endpoint: another Cloud Storage endpoint (an emulator); the storage client
        also honours ``STORAGE_EMULATOR_HOST``.
    :param upload_chunk_size: bytes per resumable-upload chunk (a multiple of 256 KiB); larger
        files are uploaded in chunks of this size.
    :param timeout: seconds per HTTP request of the Gen AI SDK.
    :param max_retries: the Gen AI SDK's own retries of 408/429/5xx per call (0: none).
    :param max_tokens: the most tokens :meth:`predict` generates per input.
    :param system_prompt: a system instruction :meth:`predict` sends with each input.
    :param http_client: an ``httpx`` / ``httpx2`` client the Gen AI SDK uses (tests inject
        one with a mock transport).
    :param http_options: more ``google.genai.types.HttpOptions`` fields (a mapping or one).
    """

    name = "vertex"
    export_format = "vertex"

    def __init__(
        self,
        project: str | None = None,
        location: str = "us-central1",
        bucket: str | None = None,
        prefix: str = "modelops/tuning",
        credentials: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        storage_endpoint: str | None = None,
        upload_chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 600.0,
        max_retries: int = 2,
        max_tokens: int = 256,
        system_prompt: str | None = None,
        http_client: Any = None,
        http_options: Any = None,
    ) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
        if bucket is not None and (not bucket or bucket.startswith("gs://") or "/" in bucket):
            raise ValueError(
                f"bucket must be a bare bucket name such as 'my-tuning-data', got {bucket!r}; "
                "put a folder in prefix."
            )
        self.settings = VertexSettings(
            project=project,
            location=location,
            credentials=credentials,
            base_url=base_url,
            api_version=api_version,
            storage_endpoint=storage_endpoint,
            timeout=float(timeout),
            max_retries=max_retries,
            http_client=http_client,
            http_options=http_options,
        )
        self.bucket = bucket
        self.prefix = prefix
        self.upload_chunk_size = check_chunk_size(int(upload_chunk_size))
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self._resolved: ResolvedCredentials | None = None
        self._project: str | None = None
        self._client: Any = None
        self._storage: Any = None

    def __repr__(self) -> str:
        where = self.settings.base_url or f"{self.settings.location}-aiplatform.googleapis.com"
        return f"VertexProvider(project={self.settings.project!r}, {where!r})"

    # --- clients (built on first use, so validate needs no credentials) ------------------------

    def _credentials(self) -> ResolvedCredentials:
        if self._resolved is None:
            self._resolved = resolve_credentials(self.settings)
        return self._resolved

    @property
    def project(self) -> str:
        """The Google Cloud project (config, ``GOOGLE_CLOUD_PROJECT``, or the credentials')."""
        if self._project is None:
            self._project = resolve_project(self.settings, self._credentials(), os.environ)
        return self._project

    @property
    def client(self) -> Any:
        """The ``google.genai.Client`` in Vertex AI mode."""
        if self._client is None:
            self._client = build_genai_client(self.settings, self._credentials(), self.project)
        return self._client

    @property
    def storage_client(self) -> Any:
        """The ``google.cloud.storage.Client`` used to stage training files."""
        if self._storage is None:
            self._storage = build_storage_client(self.settings, self._credentials(), self.project)
        return self._storage

    def close(self) -> None:
        """Close the SDK clients' connections."""
        for client in (self._client, self._storage):
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._client = None
        self._storage = None

    def job_name(self, job_id: str) -> str:
        """The resource name of a job: a full ``projects/…/tuningJobs/…`` name as it is, a
        bare id completed with this provider's project and location."""
        if job_id.startswith("projects/"):
            return job_id
        return f"projects/{self.project}/locations/{self.settings.location}/tuningJobs/{job_id}"

    # --- data ----------------------------------------------------------------------------------

    def export_format_for(self, method: str | TuningMethod) -> str:
        """``"vertex"`` for supervised jobs, ``"vertex-preference"`` for preference tuning."""
        return EXPORT_FORMATS[tuning_method(method)]

    def validate(self, path: str, method: str, model: str) -> list[str]:
        """Vertex AI's rules on an exported file, via ``Dataset.validate`` (at least 16
        examples, tokens per example for the model, roles user/model), plus the 1 GB file
        limit; ``"line N: reason"``. No credentials, no network."""
        problems: list[str] = []
        file = Path(path)
        if file.is_file() and file.stat().st_size > MAX_FILE_BYTES:
            problems.append(f"{path}: larger than 1 GB, the most Vertex AI reads per file")
        problems += training_file_problems(
            path, export_format=self.export_format_for(method), model=model, describe=_problem_text
        )
        return problems

    # --- jobs ----------------------------------------------------------------------------------

    def start(self, request: TuningRequest) -> ProviderJob:
        """Stage the training (and validation) file in Cloud Storage, then create the job with
        ``client.tunings.tune``. If Vertex refuses the job, files uploaded for it are removed.

        Creating a job is not idempotent: the SDK does not retry it. Every job carries a
        ``modelops-request`` label; when the create call fails transiently (429, 5xx, a timeout
        whose answer may be lost), the job is looked up by that label before the call is
        tried again (up to ``max_retries`` times), so a job is never created twice.
        """
        from google.genai import types

        method = tuning_method(request.method)
        request_id = uuid.uuid4().hex
        config = tuning_config(  # refuses bad hyperparameters before any upload
            method,
            request.hyperparameters,
            model=request.model,
            suffix=request.suffix,
            metadata=request.metadata,
            request_id=request_id,
        )
        try:
            tuning_job_config = types.CreateTuningJobConfig(**config)
        except ValueError as exc:  # pydantic: a mistyped hyperparameter
            raise ProviderRejectedError(
                f"The vertex provider cannot send these hyperparameters: {exc}"
            ) from exc
        # one attempt per call: a retried create could make a second job
        tuning_job_config.http_options = types.HttpOptions(
            retry_options=types.HttpRetryOptions(attempts=1)
        )
        for path in (request.training_file, request.validation_file):
            if path is not None:
                check_training_file(path)
        if not self.bucket:
            raise ProviderError(
                "The vertex provider stages training files in Cloud Storage: set "
                '[providers.vertex] bucket = "my-bucket" (and optionally prefix) to a bucket '
                f"in {self.settings.location} the credentials can write to."
            )
        staged: list[StagedFile] = []
        try:
            training = self._stage(request.training_file)
            staged.append(training)
            if request.validation_file is not None:
                validation = self._stage(request.validation_file)
                staged.append(validation)
                tuning_job_config.validation_dataset = types.TuningValidationDataset(
                    gcs_uri=validation.uri
                )
            job = self._create(
                request.model,
                types.TuningDataset(gcs_uri=training.uri),
                tuning_job_config,
                request_id,
            )
        except ProviderRejectedError:
            for file in staged:  # nothing refers to them: do not leave them stored
                remove(self.storage_client, file)
            raise
        return provider_job(job)

    def _create(self, model: str, training: Any, config: Any, request_id: str) -> Any:
        """``tunings.tune`` at most ``max_retries + 1`` times; after a transient failure the
        job is first looked up by its request label (the lost answer of a stored job)."""
        for _retry in range(self.settings.max_retries):
            try:
                return self._tune(model, training, config)
            except ProviderUnavailableError:
                found = self._find_by_request(request_id)
                if found is not None:
                    return found
        try:
            return self._tune(model, training, config)
        except ProviderUnavailableError:
            found = self._find_by_request(request_id)
            if found is None:
                raise
            return found

    def _tune(self, model: str, training: Any, config: Any) -> Any:
        with self._call("tunings.tune"), warnings.catch_warnings():
            # the SDK flags its tuning module as experimental on every call
            warnings.filterwarnings("ignore", message=".*tuning implementation is experim")
            return self.client.tunings.tune(
                base_model=model, training_dataset=training, config=config
            )

    def _find_by_request(self, request_id: str) -> Any:
        """The job created by the request ``request_id``, if Vertex stored it; None when it did
        not, or when the look-up fails too."""
        query = f'labels.{REQUEST_LABEL}="{request_id}"'
        try:
            with self._call("tunings.list"):
                for job in self.client.tunings.list(config={"filter": query, "page_size": 1}):
                    return job
        except ProviderUnavailableError:
            return None
        return None

    def _stage(self, path: str) -> StagedFile:
        assert self.bucket is not None
        return upload(
            self.storage_client,
            self.bucket,
            self.prefix,
            path,
            self.upload_chunk_size,
            location=self.settings.location,
        )

    def _call(self, call: str, job_id: str | None = None) -> Any:
        return translated(call, job_id=job_id)

    def _get_job(self, job_id: str) -> Any:
        name = self.job_name(job_id)
        with self._call("tunings.get", job_id):
            return self.client.tunings.get(name=name)

    def get(self, job_id: str) -> ProviderJob:
        """The job as Vertex AI reports it (state, sub-state, progress, tuned model)."""
        return provider_job(self._get_job(job_id))

    def cancel(self, job_id: str) -> ProviderJob:
        """Ask Vertex AI to cancel, then read the job back; a job that already finished is
        returned as it is."""
        name = self.job_name(job_id)

        def ask() -> ProviderJob:
            with self._call("tunings.cancel", job_id):
                self.client.tunings.cancel(name=name)
            return self.get(job_id)

        return cancel_unless_finished(ask, lambda: self.get(job_id))

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        """The newest ``limit`` jobs of the project and location, following pages as needed."""
        found: list[ProviderJob] = []
        if limit <= 0:
            return found
        with self._call("tunings.list"):
            for job in self.client.tunings.list(config={"page_size": min(limit, 100)}):
                found.append(provider_job(job))
                if len(found) >= limit:
                    break
        return found

    def events(self, job_id: str) -> list[JobEvent]:
        """The job's events, oldest first, synthesized from its timestamps and state (Vertex AI
        keeps no event list for tuning jobs)."""
        return events_of(self._get_job(job_id))

    def metrics(self, job_id: str) -> list[MetricPoint]:
        """What Vertex AI reports of the job's training: ``epoch`` and ``tokens_seen`` at each
        checkpoint's step (the API has no loss; Vertex AI shows the loss curve in the console
        and in the Vertex Experiments run of the job)."""
        return metric_points(self._get_job(job_id))

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """The tuned model's checkpoints, by step (each with an endpoint ``predict`` takes)."""
        return checkpoints_of(self._get_job(job_id))

    # --- inference -----------------------------------------------------------------------------

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        """One ``generate_content`` call per input (temperature 0, at most ``max_tokens``);
        the texts. ``model_id`` is a tuned model's endpoint or a base model name."""
        from google.genai import types

        config = types.GenerateContentConfig(
            temperature=0,
            max_output_tokens=self.max_tokens,
            system_instruction=self.system_prompt,
        )
        outputs: list[Any] = []
        for text in inputs:
            with self._call(f"models.generate_content({model_id})"):
                response = self.client.models.generate_content(
                    model=model_id, contents=str(text), config=config
                )
            outputs.append(_response_text(response))
        return outputs


def _response_text(response: Any) -> str:
    """The text of the first candidate; a blocked prompt's reason instead of nothing."""
    candidates = getattr(response, "candidates", None) or []
    if candidates and candidates[0].content is not None:
        parts = candidates[0].content.parts or []
        return "".join(part.text for part in parts if getattr(part, "text", None))
    feedback = getattr(response, "prompt_feedback", None)
    reason = getattr(feedback, "block_reason", None)
    return f"[blocked: {getattr(reason, 'value', reason)}]" if reason else ""


def _problem_text(problem: Any) -> str:
    to_text = getattr(problem, "to_text", None)
    if callable(to_text):
        return str(to_text())
    return str(problem)
