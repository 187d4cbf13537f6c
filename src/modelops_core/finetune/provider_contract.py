"""The provider contract for fine-tuning and inference: the values a provider returns.

A provider plugin registers a factory under ``modelops_register_providers``; the object it
builds satisfies :class:`modelops_core.plugins.protocols.ProviderComponent`. These frozen values are
what crosses that boundary, so :mod:`modelops_core.finetune.job` can drive every provider with one
state machine and persist every job the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.errors import ComponentImportError, DuplicateComponentError, ModelOpsError
from modelops_core.plugins.protocols import DatasetLimits, ExportShape
from modelops_core.store.contract import MetricPoint as MetricPoint  # what metrics() returns

#: The names of the training curves a provider's optional ``metrics(job_id)`` returns (as
#: :class:`~modelops_core.store.contract.MetricPoint` values, ``step`` the provider's training
#: step, or the epoch where it reports per epoch); they become metric series of the job's
#: tracking run. A provider returns those it has and may add its own (``perplexity`` …).
TRAINING_METRICS = (
    "train_loss",
    "validation_loss",
    "train_accuracy",
    "validation_accuracy",
    "tokens_seen",
    "learning_rate",
    "epoch",
)

if TYPE_CHECKING:
    from modelops_core.plugins.components import ComponentSpec
    from modelops_core.runtime import Runtime


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
    #: Stopped on request and kept (OpenAI ``paused``, Vertex ``JOB_STATE_PAUSED``): not
    #: finished, it goes on after a resume. Added after the others (values are append-only).
    PAUSED = "paused"

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
    :param metadata: the request's metadata as the provider keeps it with the job, where it
        does (empty otherwise); a resumed pipeline finds the job an interrupted run created by it.
    :param details: provider-specific values; the core reads ``step`` and ``total_steps``,
        ``epoch`` and ``epochs`` there (where the provider reports them) to show progress as
        the provider counts it (``epoch 2/5``, ``step 40/120``).
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
    metadata: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_mapping)


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
    path: str,
    *,
    export_format: str | ExportTarget,
    model: str,
    describe: Callable[[Any], str] | None = None,
    runtime: Runtime | None = None,
) -> list[str]:
    """The problems of an exported training file under a provider's rules, one text each.

    For a provider's ``validate``: reads ``path`` with ``Dataset.from_jsonl`` (unreadable lines
    become problems rather than raising) and checks it with ``Dataset.validate`` for
    ``export_format`` and ``model``. A file that cannot be read at all (missing, a directory,
    not text) is one problem. ``describe`` turns a ``Problem`` into text (default
    ``problem.to_text()``: ``"line N [field]: reason"``).

    :param runtime: whose registered providers declare ``export_format`` (default: the
        installed ones; a provider factory with a ``runtime`` parameter is given its runtime).
    """
    from modelops_core.datasets.dataset import Dataset

    try:
        dataset = Dataset.from_jsonl(path, skip_invalid=True)
    except ModelOpsError as exc:
        return [str(exc)]
    target = (
        export_format
        if isinstance(export_format, ExportTarget)
        else ProviderCatalogue.of(runtime).target(export_format)
    )
    report = dataset.validate(provider=target, model=model)
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


# --- what the core knows of the registered providers -----------------------------------------


class ConflictingProviderClaimError(DuplicateComponentError):
    """Two providers claim the same model name or declare the same export shape; the message
    names both plugins and what to do."""


@attrs.frozen
class ExportTarget:
    """An export name resolved against the registered providers: the shape, the limits of
    the provider declaring it and who declared it.

    ``Dataset.export``, ``Dataset.validate``, ``validate_file`` and ``convert_file`` take one in
    place of a name, so a host resolves names against its own runtime once.
    """

    name: str
    provider: str
    plugin: str
    limits: DatasetLimits
    shape: ExportShape
    distribution: str = ""
    _cache: list[Callable[..., Any]] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def base(self) -> str:
        """The canonical format the shape is built from."""
        return self.shape.base

    def converter(self) -> Callable[[dict[str, Any], str], Any] | None:
        """The shape's ``convert(record, where)``, imported on first use (None: as it is)."""
        if not self.shape.converter:
            return None
        if not self._cache:
            self._cache.append(self._load(self.shape.converter))
        return self._cache[0]

    def _load(self, path: str) -> Callable[..., Any]:
        import importlib

        module_name, _, attr_path = path.partition(":")
        where = f"export shape {self.name!r} of provider {self.provider!r} (plugin {self.plugin!r})"
        try:
            target: Any = importlib.import_module(module_name)
            for part in attr_path.split("."):
                target = getattr(target, part)
        except ImportError as exc:
            raise ComponentImportError(
                f"Cannot import the converter {path!r} of the {where}: {exc}. Install what it "
                f"needs (pip install {self.distribution or self.plugin})."
            ) from exc
        except AttributeError as exc:
            raise ComponentImportError(
                f"The converter {path!r} of the {where} does not exist: {exc}. Upgrade or "
                "report the plugin."
            ) from exc
        if not callable(target):
            raise ComponentImportError(f"The converter {path!r} of the {where} is not callable.")
        return target  # type: ignore[no-any-return]


@attrs.frozen
class _Claim:
    spec: ComponentSpec
    pattern: str


class ProviderCatalogue:
    """What the registered providers declare
    (:class:`~modelops_core.plugins.protocols.ProviderProfile`): which provider claims a model name,
    what an export or provider name means.

    :meth:`of` reads a runtime's providers first; a name none of them knows is looked up among
    the installed plugins (the same configuration, all of them loaded), so a runtime built with
    a few plugins still knows what the installed providers declare. Nothing is imported but the
    plugins' modules; converters are imported when a shape is used.
    """

    def __init__(
        self,
        specs: Sequence[ComponentSpec],
        installed: Callable[[], ProviderCatalogue] | None = None,
    ) -> None:
        self.specs = [spec for spec in specs if spec.profile is not None]
        self._installed = installed
        self._installed_catalogue: ProviderCatalogue | None = None

    @classmethod
    def of(cls, runtime: Runtime | None = None) -> ProviderCatalogue:
        """The catalogue of ``runtime`` (default: a runtime on the configuration found from the
        working directory, with the installed plugins)."""
        from modelops_core.plugins.kinds import Kind
        from modelops_core.runtime import Runtime

        if runtime is None:
            return cls(list(Runtime().components[Kind.PROVIDER]))
        config, environ = runtime.config, runtime.environ

        def installed() -> ProviderCatalogue:
            return cls(list(Runtime(config, environ=environ).components[Kind.PROVIDER]))

        return cls(list(runtime.components[Kind.PROVIDER]), installed)

    def _levels(self) -> Iterator[ProviderCatalogue]:
        """This catalogue, then the installed providers' (built when first reached)."""
        yield self
        if self._installed is not None:
            if self._installed_catalogue is None:
                self._installed_catalogue = self._installed()
            yield self._installed_catalogue

    # --- model names ---------------------------------------------------------------------------

    def provider_for(self, model: str) -> str | None:
        """The one provider that claims ``model`` (None: none does).

        :raises ConflictingProviderClaimError: two providers of the same runtime claim it.
        """
        claims = next((found for level in self._levels() if (found := level._claims(model))), [])
        if not claims:
            return None
        if len(claims) > 1:
            first, second = claims[0], claims[1]
            raise ConflictingProviderClaimError(
                f"The model {model!r} is claimed by two providers: {_who(first.spec)} with the "
                f"pattern {first.pattern!r} and {_who(second.spec)} with {second.pattern!r}. "
                f"Pass provider='{first.spec.name}' (or '{second.spec.name}'), set [providers] "
                "default in modelops.toml, or disable one plugin with [plugins] disable = "
                f"[{second.spec.plugin!r}].",
                plugin=second.spec.plugin,
                distribution=second.spec.distribution,
            )
        return claims[0].spec.name

    def _claims(self, model: str) -> list[_Claim]:
        found = []
        for spec in self.specs:
            assert spec.profile is not None
            pattern = spec.profile.claim(model)
            if pattern is not None:
                found.append(_Claim(spec, pattern))
        return found

    def claims_text(self) -> str:
        """``provider: pattern, pattern; …`` of every provider that claims model names."""
        seen: dict[str, tuple[str, ...]] = {}
        for level in self._levels():
            for spec in level.specs:
                assert spec.profile is not None
                if spec.profile.models and spec.name not in seen:
                    seen[spec.name] = spec.profile.models
        return "; ".join(f"{name}: {', '.join(models)}" for name, models in seen.items())

    def provider_names(self) -> list[str]:
        """The names of the providers of this runtime and the installed ones, sorted."""
        names = {spec.name for level in self._levels() for spec in level.specs}
        return sorted(names)

    # --- export and provider names ------------------------------------------------------------

    def export_names(self) -> list[str]:
        """Every export shape name, sorted."""
        names: set[str] = set()
        for level in self._levels():
            for spec in level.specs:
                assert spec.profile is not None
                names.update(shape.name for shape in spec.profile.exports)
        return sorted(names)

    def find(self, name: str) -> ExportTarget | None:
        """The export shape called ``name`` (None: unknown)."""
        for level in self._levels():
            found = level._target(name)
            if found is not None:
                return found
        return None

    def target(self, name: str) -> ExportTarget:
        """:meth:`find`, or :class:`~modelops_core.datasets.errors.UnknownProviderError` listing
        the known names and saying what to install."""
        found = self.find(name)
        if found is not None:
            return found
        from modelops_core.datasets.errors import UnknownProviderError
        from modelops_core.errors import did_you_mean

        known = self.export_names()
        raise UnknownProviderError(
            f"Unknown provider format {name!r}.{did_you_mean(name, known)} Known: "
            f"{', '.join(known) or 'none'} (declared by the installed provider plugins; "
            "install the plugin that declares it)."
        )

    def _target(self, name: str) -> ExportTarget | None:
        shapes = [
            (spec, shape)
            for spec in self.specs
            for shape in (spec.profile.exports if spec.profile else ())
            if shape.name == name
        ]
        if len(shapes) > 1:
            (first, _), (second, _) = shapes[0], shapes[1]
            raise ConflictingProviderClaimError(
                f"The export shape {name!r} is declared by two providers: {_who(first)} and "
                f"{_who(second)}. Uninstall one of them, or disable one with [plugins] disable "
                f"= [{second.plugin!r}] in modelops.toml.",
                plugin=second.plugin,
                distribution=second.distribution,
            )
        if not shapes:
            return None
        spec, shape = shapes[0]
        assert spec.profile is not None
        return ExportTarget(
            name=name,
            provider=spec.name,
            plugin=spec.plugin,
            limits=spec.profile.limits,
            shape=shape,
            distribution=spec.distribution,
        )


def _who(spec: ComponentSpec) -> str:
    return f"{spec.name!r} of plugin {spec.plugin!r} ({spec.distribution or 'not installed'})"
