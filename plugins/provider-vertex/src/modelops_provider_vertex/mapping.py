"""Pure translations between the neutral job values of modelops-core and Vertex AI tuning jobs.

Status: a Vertex job has a ``state`` (``JOB_STATE_*``) and, while it runs, a sub-state
(``tuningJobState``: ``TUNING_JOB_STATE_PROCESSING_DATASET``, ``…_WAITING_FOR_QUOTA`` …). The
raw status keeps both as ``"JOB_STATE_RUNNING/TUNING_JOB_STATE_PROCESSING_DATASET"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    JobStatus,
    MetricPoint,
    ProviderJob,
    ProviderRejectedError,
    TuningMethod,
)

PROVIDER = "vertex"
SUB_STATE_SEPARATOR = "/"

#: ``Dataset.export`` formats per tuning method.
EXPORT_FORMATS: Mapping[TuningMethod, str] = {
    TuningMethod.SUPERVISED: "vertex",
    TuningMethod.PREFERENCE: "vertex-preference",
}

#: The ``method`` of ``CreateTuningJobConfig`` per tuning method.
VERTEX_METHODS: Mapping[TuningMethod, str] = {
    TuningMethod.SUPERVISED: "SUPERVISED_FINE_TUNING",
    TuningMethod.PREFERENCE: "PREFERENCE_TUNING",
}

STATES: Mapping[str, JobStatus] = {
    "JOB_STATE_UNSPECIFIED": JobStatus.PENDING,
    "JOB_STATE_PENDING": JobStatus.PENDING,
    "JOB_STATE_QUEUED": JobStatus.QUEUED,
    "JOB_STATE_RUNNING": JobStatus.RUNNING,
    "JOB_STATE_UPDATING": JobStatus.RUNNING,
    "JOB_STATE_PAUSED": JobStatus.PAUSED,  # not finished: Vertex resumes it
    "JOB_STATE_CANCELLING": JobStatus.RUNNING,  # still running until Vertex says cancelled
    "JOB_STATE_SUCCEEDED": JobStatus.SUCCEEDED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": JobStatus.SUCCEEDED,  # only with a tuned model: see below
    "JOB_STATE_FAILED": JobStatus.FAILED,
    "JOB_STATE_EXPIRED": JobStatus.FAILED,
    "JOB_STATE_CANCELLED": JobStatus.CANCELLED,
}

#: Sub-states that say more than the state while a job is pending, queued or running.
SUB_STATES: Mapping[str, JobStatus] = {
    "TUNING_JOB_STATE_PROCESSING_DATASET": JobStatus.VALIDATING,
    "TUNING_JOB_STATE_WAITING_FOR_QUOTA": JobStatus.QUEUED,
    "TUNING_JOB_STATE_WAITING_FOR_CAPACITY": JobStatus.QUEUED,
    "TUNING_JOB_STATE_TUNING": JobStatus.RUNNING,
    "TUNING_JOB_STATE_POST_PROCESSING": JobStatus.RUNNING,
}

#: Neutral hyperparameter names -> ``CreateTuningJobConfig`` fields.
HYPERPARAMETERS: Mapping[str, str] = {
    "epochs": "epoch_count",
    "learning_rate": "learning_rate_multiplier",
    "batch_size": "batch_size",
    "beta": "beta",
    "adapter_size": "adapter_size",
}

#: Requests a transient failure of ``create`` is looked up by (a label of every job started).
REQUEST_LABEL = "modelops-request"

#: A ``learning_rate`` below this is an absolute rate (``1e-5``), not a multiplier.
SMALLEST_MULTIPLIER = 0.01

ADAPTER_SIZES: Mapping[int, str] = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}

_LABEL_INVALID = re.compile(r"[^a-z0-9_-]")
MAX_DISPLAY_NAME = 128
MAX_LABEL_LENGTH = 63
MAX_LABELS = 64


def tuning_method(method: str | TuningMethod) -> TuningMethod:
    """``"supervised"`` or ``"preference"`` (also Vertex's own method names)."""
    aliases = {value: key for key, value in VERTEX_METHODS.items()}
    if isinstance(method, str) and method in aliases:
        return aliases[method]
    try:
        return TuningMethod(method)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in TuningMethod)
        raise ProviderRejectedError(
            f"The vertex provider has no tuning method {method!r}; use one of {allowed}."
        ) from None


def raw_status(state: str | None, sub_state: str | None = None) -> str:
    """``state`` and, when it says something, the sub-state: ``"STATE/SUB_STATE"``."""
    state = state or "JOB_STATE_UNSPECIFIED"
    if sub_state and sub_state != "TUNING_JOB_STATE_UNSPECIFIED":
        return f"{state}{SUB_STATE_SEPARATOR}{sub_state}"
    return state


def job_status(raw: str, *, has_model: bool = False) -> JobStatus:
    """The neutral status of a raw status (see :func:`raw_status`).

    ``JOB_STATE_PARTIALLY_SUCCEEDED`` counts as succeeded only when a tuned model exists
    (``has_model``), else failed. ``JOB_STATE_PAUSED`` is paused (not finished: Vertex resumes
    it). A sub-state refines a pending or running state (dataset processing -> validating,
    waiting for quota or capacity -> queued). Unknown states and sub-states are running: not
    finished.
    """
    state, _, sub_state = raw.partition(SUB_STATE_SEPARATOR)
    status = STATES.get(state, JobStatus.RUNNING)
    if state == "JOB_STATE_PARTIALLY_SUCCEEDED" and not has_model:
        return JobStatus.FAILED
    if status.finished or state in (
        "JOB_STATE_CANCELLING",
        "JOB_STATE_UPDATING",
        "JOB_STATE_PAUSED",
        "JOB_STATE_QUEUED",
    ):
        return status
    return SUB_STATES.get(sub_state, status)


def _enum_value(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def adapter_size(value: Any) -> str:
    """``4`` or ``"ADAPTER_SIZE_FOUR"`` as the enum name Vertex takes."""
    if _is_number(value) and int(value) in ADAPTER_SIZES and int(value) == value:
        return ADAPTER_SIZES[int(value)]
    if isinstance(value, str) and value.upper() in ADAPTER_SIZES.values():
        return value.upper()
    allowed = ", ".join(str(size) for size in ADAPTER_SIZES)
    raise ProviderRejectedError(f"adapter_size must be one of {allowed}, got {value!r}.")


def label(text: str) -> str:
    """A Vertex label value: lowercase letters, digits, ``_`` and ``-``, 63 at most."""
    return _LABEL_INVALID.sub("_", text.lower())[:MAX_LABEL_LENGTH]


def label_key(text: str) -> str:
    """A Vertex label key: a label (:func:`label`) that starts with a lowercase letter
    (``m-`` is put before one that does not); empty for an empty text."""
    key = label(text)
    if key and not ("a" <= key[0] <= "z"):
        key = ("m-" + key)[:MAX_LABEL_LENGTH]
    return key


def labels_of(metadata: Mapping[str, Any], request_id: str | None = None) -> dict[str, str]:
    """Vertex labels for a job's metadata: keys and values sanitized, at most
    :data:`MAX_LABELS` (the request label first, then metadata in order)."""
    labels: dict[str, str] = {}
    if request_id:
        labels[REQUEST_LABEL] = label(request_id)
    for key, value in metadata.items():
        name = label_key(str(key))
        if name and name not in labels and len(labels) < MAX_LABELS:
            labels[name] = label(str(value))
    return labels


def valid_hyperparameters(method: TuningMethod) -> list[str]:
    """The hyperparameter names the provider sends for ``method`` (the rules data file)."""
    from modelops_provider_vertex.rules import load_rules

    return list(load_rules()["provider.hyperparameters"][method.value])


def tuning_config(
    method: TuningMethod,
    hyperparameters: Mapping[str, Any],
    *,
    model: str,
    suffix: str | None = None,
    metadata: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``CreateTuningJobConfig`` (without the datasets).

    Neutral names are mapped (:data:`HYPERPARAMETERS`); Vertex's own names given explicitly
    (``epoch_count``, ``learning_rate_multiplier``) win. Vertex takes a learning-rate
    *multiplier* for Gemini: a ``learning_rate`` below :data:`SMALLEST_MULTIPLIER` is an
    absolute rate (``FineTuningJob``'s default ``1e-5``) and is left to Vertex's default rather
    than sent as a multiplier that would make the job learn nothing. ``beta`` is refused for
    supervised jobs and ``seed`` always (Vertex tuning takes none), before anything is uploaded.
    ``metadata`` becomes labels (sanitized) and, verbatim, the job's description;
    ``request_id`` the :data:`REQUEST_LABEL` label. A name the method does not take is refused
    with the list of the valid ones.
    """
    given = {name: value for name, value in hyperparameters.items() if value is not None}
    if "seed" in given:
        raise ProviderRejectedError(
            "Vertex AI tuning jobs take no seed; drop seed from the hyperparameters (the job "
            "is not reproducible by seed on Vertex)."
        )
    if method is TuningMethod.SUPERVISED and "beta" in given:
        raise ProviderRejectedError(
            "beta is a preference-tuning hyperparameter: use method 'preference' or drop beta."
        )
    valid = valid_hyperparameters(method)
    unknown = sorted(name for name in given if name not in valid)
    if unknown:
        raise ProviderRejectedError(
            f"The vertex provider does not know the hyperparameter(s) {', '.join(unknown)} "
            f"for {method.value} tuning of Gemini models; valid: {', '.join(valid)}."
        )
    rate = given.pop("learning_rate", None)
    config: dict[str, Any] = {"method": VERTEX_METHODS[method]}
    if _is_number(rate) and rate >= SMALLEST_MULTIPLIER:
        config["learning_rate_multiplier"] = float(rate)
    elif rate is not None and not _is_number(rate):
        raise ProviderRejectedError(f"learning_rate must be a number, got {rate!r}.")
    for name, value in given.items():  # neutral names first, then Vertex's own names win
        if name in HYPERPARAMETERS:
            config[HYPERPARAMETERS[name]] = value
    for name, value in given.items():
        if name not in HYPERPARAMETERS:
            config[name] = value
    if "epoch_count" in config:
        epochs = config["epoch_count"]
        if not _is_number(epochs) or int(epochs) != epochs or epochs < 1:
            raise ProviderRejectedError(f"epochs must be a whole number >= 1, got {epochs!r}.")
        config["epoch_count"] = int(epochs)
    if "adapter_size" in config:
        config["adapter_size"] = adapter_size(config["adapter_size"])
    if suffix:
        config["tuned_model_display_name"] = f"{model}-{suffix}"[:MAX_DISPLAY_NAME]
    if metadata or request_id:
        config["labels"] = labels_of(metadata or {}, request_id)
    if metadata:
        config["description"] = "; ".join(f"{k}={v}" for k, v in metadata.items())
    return config


#: What a finished job that failed says when Vertex sets no ``error`` (only FAILED and
#: CANCELLED jobs carry one).
_NO_ERROR_MESSAGES: Mapping[str, str] = {
    "JOB_STATE_EXPIRED": (
        "Vertex AI expired the job (JOB_STATE_EXPIRED) before it finished, usually after "
        "waiting too long for capacity or quota; start it again later or in another region."
    ),
    "JOB_STATE_PARTIALLY_SUCCEEDED": (
        "Vertex AI reports the job partially succeeded (JOB_STATE_PARTIALLY_SUCCEEDED) but "
        "produced no tuned model; start it again."
    ),
}


def _timestamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return None


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


def _data_stats(job: Any) -> Any:
    stats = getattr(job, "tuning_data_stats", None)
    if stats is None:
        return None
    return stats.supervised_tuning_data_stats or stats.preference_optimization_data_stats


def _spec(job: Any) -> Any:
    return job.supervised_tuning_spec or job.preference_optimization_spec


def requested_epochs(job: Any) -> int | None:
    """The epoch count the job was created with, when it says."""
    spec = _spec(job)
    hyper = getattr(spec, "hyper_parameters", None)
    epochs = getattr(hyper, "epoch_count", None)
    return int(epochs) if epochs else None


def progress_of(job: Any, status: JobStatus) -> float | None:
    """0 before tuning, 1 on success; while tuning, completed steps over the steps the
    dataset statistics announce (else completed epochs over requested epochs); else None."""
    if status is JobStatus.SUCCEEDED:
        return 1.0
    if status in (JobStatus.PENDING, JobStatus.VALIDATING, JobStatus.QUEUED):
        return 0.0
    metadata = getattr(job, "tuning_job_metadata", None)
    stats = _data_stats(job)
    total_steps = getattr(stats, "tuning_step_count", None)
    done_steps = getattr(metadata, "completed_step_count", None)
    if done_steps is None and job.tuned_model is not None and job.tuned_model.checkpoints:
        steps = [c.step for c in job.tuned_model.checkpoints if c.step is not None]
        done_steps = max(steps) if steps else None
    if done_steps is not None and total_steps:
        return min(max(float(done_steps) / float(total_steps), 0.0), 1.0)
    done_epochs = getattr(metadata, "completed_epoch_count", None)
    epochs = requested_epochs(job)
    if done_epochs is not None and epochs:
        return min(max(float(done_epochs) / epochs, 0.0), 1.0)
    return None


def _tuned_model(job: Any) -> tuple[str | None, str | None]:
    tuned = getattr(job, "tuned_model", None)
    if tuned is None:
        return None, None
    return tuned.model, tuned.endpoint


def provider_job(job: Any) -> ProviderJob:
    """A :class:`ProviderJob` from a ``google.genai.types.TuningJob``.

    ``fine_tuned_model`` is the tuned model's endpoint (what ``generate_content`` calls),
    else the model resource name.
    """
    raw = raw_status(_enum_value(job.state), _enum_value(job.tuning_job_state))
    model_name, endpoint = _tuned_model(job)
    callable_model = endpoint or model_name
    status = job_status(raw, has_model=bool(callable_model))
    spec = _spec(job)
    stats = _data_stats(job)
    billable = getattr(stats, "total_billable_token_count", None)
    epochs = requested_epochs(job)
    details: dict[str, Any] = {
        "method": "preference" if job.preference_optimization_spec else "supervised",
        "hyperparameters": _dump(getattr(spec, "hyper_parameters", None)) or {},
        "training_dataset_uri": getattr(spec, "training_dataset_uri", None),
        "validation_dataset_uri": getattr(spec, "validation_dataset_uri", None),
        "state": _enum_value(job.state),
        "tuning_job_state": _enum_value(job.tuning_job_state),
        "tuned_model": model_name,
        "endpoint": endpoint,
        "tuned_model_display_name": job.tuned_model_display_name,
        "checkpoints": checkpoints_of(job),
        "labels": dict(job.labels or {}),
        "start_time": _timestamp(job.start_time),
        "end_time": _timestamp(job.end_time),
        "update_time": _timestamp(job.update_time),
        "billable_tokens_per_epoch": billable,
        "examples": getattr(stats, "tuning_dataset_example_count", None),
        "tuning_steps": getattr(stats, "tuning_step_count", None),
    }
    error = job.error
    message = None
    if error is not None and (error.message or error.code):
        message = error.message or f"error code {error.code}"
        details["error_code"] = error.code
        reasons = [d.get("reason") for d in error.details or [] if isinstance(d, dict)]
        if any(reasons):
            details["error_reason"] = next(r for r in reasons if r)
    if message is None and status is JobStatus.FAILED:
        message = _NO_ERROR_MESSAGES.get(_enum_value(job.state) or "", None)
    return ProviderJob(
        id=str(job.name),
        provider=PROVIDER,
        status=status,
        raw_status=raw,
        model=str(job.base_model or getattr(job.pre_tuned_model, "base_model", None) or "unknown"),
        progress=progress_of(job, status),
        fine_tuned_model=callable_model if status is JobStatus.SUCCEEDED else None,
        error=message if status is not JobStatus.SUCCEEDED else None,
        trained_tokens=billable * epochs if billable is not None and epochs else None,
        created_at=_timestamp(job.create_time),
        details={k: v for k, v in details.items() if v is not None},
    )


def metric_points(job: Any) -> list[MetricPoint]:
    """What Vertex AI reports of a job's training, as training curves.

    The tuning job resource carries no loss (Vertex AI keeps the loss curve in the Vertex
    Experiments run named by ``job.experiment``, outside this API). What it does report: one
    checkpoint per finished epoch, with its step, and the dataset's billable tokens
    (``tuningDataStats``). So: ``epoch`` (epochs finished) and ``tokens_seen`` (billable tokens
    of the dataset times the epochs finished) at step 0 and at each checkpoint's step, and
    ``epoch`` at the steps ``tuningJobMetadata`` reports while tuning.
    """
    when = _timestamp(job.update_time) or _timestamp(job.create_time) or 0.0
    billable = getattr(_data_stats(job), "total_billable_token_count", None)
    points: dict[tuple[str, int], MetricPoint] = {}

    def add(step: int, epoch: int, *, tokens: bool) -> None:
        points[("epoch", step)] = MetricPoint("epoch", float(epoch), step, when)
        if tokens and billable is not None:
            seen = float(int(billable) * epoch)
            points[("tokens_seen", step)] = MetricPoint("tokens_seen", seen, step, when)

    metadata = getattr(job, "tuning_job_metadata", None)
    done_steps = getattr(metadata, "completed_step_count", None)
    done_epochs = getattr(metadata, "completed_epoch_count", None)
    if done_steps is not None and done_epochs is not None:
        add(int(done_steps), int(done_epochs), tokens=False)
    checkpoints = [
        (int(item["step"]), int(item["epoch"]))
        for item in checkpoints_of(job)
        if item.get("step") is not None and item.get("epoch") is not None
    ]
    if checkpoints:
        add(0, 0, tokens=True)  # before the first step nothing was seen
    for step, epoch in checkpoints:
        add(step, epoch, tokens=True)
    return sorted(points.values(), key=lambda point: (point.key, point.step))


def checkpoints_of(job: Any) -> list[dict[str, Any]]:
    """The tuned model's checkpoints, by step: ``checkpoint_id``, ``epoch``, ``step``,
    ``endpoint`` (callable with ``predict``)."""
    tuned = getattr(job, "tuned_model", None)
    items = list(getattr(tuned, "checkpoints", None) or [])
    dumped = [_dump(item) for item in items]
    return sorted(dumped, key=lambda item: (item.get("step") or 0, item.get("epoch") or 0))


def events_of(job: Any) -> list[JobEvent]:
    """A job's event log, synthesized from its resource: Vertex AI has no event list for
    tuning jobs. Created (``createTime``), started (``startTime``), the current state at the
    last update while not finished (``updateTime``), and finished (``endTime``) with the tuned
    model or the error; oldest first."""
    snapshot = provider_job(job)
    events: list[JobEvent] = []
    created = _timestamp(job.create_time)
    method = snapshot.details.get("method", "supervised")
    if created is not None:
        events.append(
            JobEvent(
                created,
                f"Tuning job created: {method} tuning of {snapshot.model}",
                data={"state": "JOB_STATE_PENDING", "source": "createTime"},
            )
        )
    started = _timestamp(job.start_time)
    if started is not None:
        stats = {
            key: snapshot.details[key]
            for key in ("examples", "tuning_steps", "billable_tokens_per_epoch")
            if key in snapshot.details
        }
        events.append(
            JobEvent(started, "Tuning job started", data={"source": "startTime", **stats})
        )
    ended = _timestamp(job.end_time)
    updated = _timestamp(job.update_time)
    if not snapshot.status.finished and updated is not None:
        progress = "" if snapshot.progress is None else f" ({snapshot.progress:.0%})"
        events.append(
            JobEvent(
                updated,
                f"Status {snapshot.raw_status}: {snapshot.status.value}{progress}",
                data={"source": "updateTime", "raw_status": snapshot.raw_status},
            )
        )
    if snapshot.status.finished:
        when = ended if ended is not None else updated
        if when is not None:
            events.append(_final_event(snapshot, when))
    return sorted(events, key=lambda event: event.created_at)


def _final_event(snapshot: ProviderJob, when: float) -> JobEvent:
    data: dict[str, Any] = {"source": "endTime", "raw_status": snapshot.raw_status}
    if snapshot.status is JobStatus.SUCCEEDED:
        data["tuned_model"] = snapshot.details.get("tuned_model")
        data["endpoint"] = snapshot.details.get("endpoint")
        data["checkpoints"] = len(snapshot.details.get("checkpoints", []))
        return JobEvent(when, f"Tuning job succeeded: {snapshot.fine_tuned_model}", data=data)
    if snapshot.status is JobStatus.CANCELLED:
        return JobEvent(when, "Tuning job cancelled", level="warning", data=data)
    return JobEvent(when, f"Tuning job failed: {snapshot.error}", level="error", data=data)
