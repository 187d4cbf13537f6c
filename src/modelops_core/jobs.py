"""The provider contract for fine-tuning and inference: the values a provider returns.

A provider plugin registers a factory under ``modelops_register_providers``; the object it
builds satisfies :class:`modelops_core.protocols.ProviderComponent`. These frozen values are
what crosses that boundary, so :mod:`modelops_core.finetune` can drive every provider with one
state machine and persist every job the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
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


def retry_after_seconds(
    headers: Mapping[str, str] | None, now: float | None = None
) -> float | None:
    """Seconds a provider asked to wait before retrying; None when it did not say.

    Reads ``retry-after-ms`` (milliseconds, as OpenAI sends it) first, then ``Retry-After`` in
    seconds or as an HTTP date (relative to ``now``, default the current time). Header names
    are matched case-insensitively; a negative wait is 0, an unreadable one is None.
    """
    if not headers:
        return None
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    import email.utils
    import time

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def error_for_status(
    status: int,
    message: str,
    *,
    service: str,
    where: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    transient: bool | None = None,
    request_id: str | None = None,
    credentials_refused: str | None = None,
    credentials_fix: str = "",
    hint: str = "",
) -> ProviderError:
    """The provider error for an HTTP error answer of a provider's API (to ``raise ... from``).

    - 401: :class:`MissingCredentialsError`, ``credentials_fix`` saying what to set.
    - transient (by default 408, 429 and 5xx): :class:`ProviderUnavailableError` whose
      ``retry_after`` comes from the ``Retry-After`` of ``headers``.
    - any other status: :class:`ProviderRejectedError` with the provider's ``message``
      verbatim and ``hint``, when given.

    :param status: the HTTP status code.
    :param message: the provider's own error message.
    :param service: the provider as users know it, for the message (``"OpenAI"``).
    :param where: the plugin and call that failed (``"openai provider, files.create"``).
    :param detail: the status as shown (default ``"HTTP <status>"``), e.g. with an error code.
    :param headers: the response headers, for ``Retry-After``.
    :param transient: whether waiting may help; None uses the default rule above.
    :param request_id: the provider's request id, named in the message when known.
    :param credentials_refused: the start of the 401 message (default
        ``"<service> refused the credentials"``).
    :param credentials_fix: the sentence that says which credentials to set.
    :param hint: what to check, appended to a rejection.
    """
    shown = detail if detail is not None else f"HTTP {status}"
    request = f" (request id {request_id})" if request_id else ""
    if status == 401:
        refused = credentials_refused or f"{service} refused the credentials"
        return MissingCredentialsError(
            f"{refused} ({where}, {shown}): {message} {credentials_fix}".rstrip()
        )
    if transient if transient is not None else (status in (408, 429) or status >= 500):
        retry_after = retry_after_seconds(headers)
        wait = f"retry after {retry_after:g} s" if retry_after is not None else "retry later"
        return ProviderUnavailableError(
            f"{service} is unavailable or rate-limiting ({where}, {shown}){request}: {message} "
            f"[transient: {wait}]",
            retry_after=retry_after,
        )
    extra = f" {hint}" if hint else ""
    return ProviderRejectedError(
        f"{service} rejected the request ({where}, {shown}){request}: {message}{extra}"
    )


def training_file_problems(
    path: str, *, export_format: str, model: str, describe: Callable[[Any], str] | None = None
) -> list[str]:
    """The problems of an exported training file under a provider's rules, one text each.

    For a provider's ``validate``: reads ``path`` with ``Dataset.from_jsonl`` (unreadable lines
    become problems rather than raising) and checks it with ``Dataset.validate`` for
    ``export_format`` and ``model``. A file that cannot be read at all (missing, a directory,
    not text) is one problem. ``describe`` turns a ``Problem`` into text (default
    ``problem.to_text()``: ``"line N [field]: reason"``).
    """
    from modelops_core.dataset import Dataset

    try:
        dataset = Dataset.from_jsonl(path, skip_invalid=True)
    except ModelOpsError as exc:
        return [str(exc)]
    report = dataset.validate(provider=export_format, model=model)
    text = describe or (lambda problem: str(problem.to_text()))
    return [text(problem) for problem in report.problems]


def cancel_unless_finished(
    cancel: Callable[[], ProviderJob], current: Callable[[], ProviderJob]
) -> ProviderJob:
    """For a provider's ``cancel``: ``cancel()``, except that a job already finished is not an
    error.

    When ``cancel`` raises :class:`ProviderRejectedError` (providers refuse to cancel a job that
    succeeded, failed or was cancelled), the job is read back with ``current()``: a finished job
    is returned as it is; otherwise, or when it cannot be read, the rejection is raised.
    """
    try:
        return cancel()
    except ProviderRejectedError as refused:
        try:
            job = current()
        except ProviderError:
            raise refused from None
        if job.status.finished:
            return job
        raise
