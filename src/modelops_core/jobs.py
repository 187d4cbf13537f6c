"""The provider contract for fine-tuning and inference: the values a provider returns.

A provider plugin registers a factory under ``modelops_register_providers``; the object it
builds satisfies :class:`modelops_core.protocols.ProviderComponent`. These frozen values are
what crosses that boundary, so :mod:`modelops_core.finetune` can drive every provider with one
state machine and persist every job the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.errors import ModelOpsError


class JobStatus(enum.StrEnum):
    """The provider-neutral status of a fine-tuning job.

    It is a ``str``, so ``job.status == "running"`` works as users write it. The provider's own
    status is kept beside it (:attr:`ProviderJob.raw_status`); a raw status a provider plugin
    does not know maps to a status that is not finished (usually :attr:`RUNNING`).
    """

    PENDING = "pending"
    VALIDATING = "validating"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True for succeeded, failed and cancelled: nothing will change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class TuningMethod(enum.StrEnum):
    """What the job trains on: prompt/answer pairs or chats (supervised), or preference pairs."""

    SUPERVISED = "supervised"
    PREFERENCE = "preference"


@attrs.frozen
class TuningRequest:
    """Everything a provider needs to start a job; built by ``FineTuningJob.start()``.

    :param model: the base model, as the provider names it (``gpt-4o-mini-2024-07-18``,
        ``gemini-2.5-flash``, a Bedrock model id, ``local:logreg``).
    :param training_file: the training data already exported in this provider's format
        (``Dataset.export(path, provider=...)``), a local JSONL file.
    :param validation_file: optional held-out data in the same format.
    :param hyperparameters: provider-neutral names: ``epochs``, ``learning_rate`` (for the
        hosted providers, a multiplier where the provider uses one), ``batch_size``, ``beta``
        (preference tuning), ``seed``; anything else is passed through as the provider names it.
    :param suffix: a short name the provider adds to the tuned model's name.
    :param metadata: string tags stored with the job (job name, dataset fingerprint …).
    """

    model: str
    training_file: str
    method: TuningMethod = TuningMethod.SUPERVISED
    validation_file: str | None = None
    hyperparameters: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    suffix: str | None = None
    metadata: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_mapping)


@attrs.frozen
class ProviderJob:
    """A snapshot of a job as the provider reports it.

    :param progress: 0.0 to 1.0 where the provider says (steps or epochs done), else None.
    :param fine_tuned_model: the id to call ``predict`` with, once the job succeeded.
    :param error: the provider's failure message, verbatim.
    :param trained_tokens: tokens billed, when the provider reports them.
    """

    id: str
    provider: str
    status: JobStatus
    raw_status: str
    model: str
    progress: float | None = None
    fine_tuned_model: str | None = None
    error: str | None = None
    trained_tokens: int | None = None
    created_at: float | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)


@attrs.frozen
class JobEvent:
    """One line of a job's event log (``job.events()``), oldest first."""

    created_at: float
    message: str
    level: str = "info"
    data: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)


class ProviderError(ModelOpsError):
    """A provider call failed; the message says which provider, which call and what to do."""


class ProviderUnavailableError(ProviderError):
    """A transient failure (HTTP 429, 5xx, a dropped connection): worth retrying.

    :param retry_after: seconds the provider asked to wait (``Retry-After``), when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejectedError(ProviderError):
    """The provider refused a request (bad data, quota, unknown model); its message verbatim."""


class MissingCredentialsError(ProviderError):
    """No credentials for a provider; the message names the env var or config key to set."""
