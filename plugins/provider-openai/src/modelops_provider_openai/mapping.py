"""Pure translations between the neutral job values of modelops-core and OpenAI's JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    JobStatus,
    MetricPoint,
    ProviderJob,
    TuningMethod,
)

PROVIDER = "openai"

STATUSES: Mapping[str, JobStatus] = {
    "validating_files": JobStatus.VALIDATING,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    "paused": JobStatus.PAUSED,  # jobs.pause; jobs.resume puts it back in the queue
    # anything new falls through to RUNNING: not finished
}

#: Neutral hyperparameter name -> OpenAI's.
HYPERPARAMETERS: Mapping[str, str] = {
    "epochs": "n_epochs",
    "learning_rate": "learning_rate_multiplier",
    "batch_size": "batch_size",
    "beta": "beta",
}

#: OpenAI's hyperparameters per method and their ranges, from the OpenAPI document's
#: ``FineTuneSupervisedHyperparameters`` / ``FineTuneDPOHyperparameters`` (each also takes
#: ``"auto"``): (integer only, lowest, lowest excluded, highest).
OPENAI_HYPERPARAMETERS: Mapping[str, Mapping[str, tuple[bool, float, bool, float | None]]] = {
    "supervised": {
        "n_epochs": (True, 1, False, 50),
        "batch_size": (True, 1, False, 256),
        "learning_rate_multiplier": (False, 0, True, None),
    },
    "dpo": {
        "n_epochs": (True, 1, False, 50),
        "batch_size": (True, 1, False, 256),
        "learning_rate_multiplier": (False, 0, True, None),
        "beta": (False, 0, True, 2),
    },
}
#: The top-level ``seed`` of a job: an integer within 0..2**31-1.
SEED_RANGE = (0, 2**31 - 1)

#: ``Dataset.export`` formats per tuning method.
EXPORT_FORMATS: Mapping[TuningMethod, str] = {
    TuningMethod.SUPERVISED: "openai",
    TuningMethod.PREFERENCE: "openai-dpo",
}

_STEP_MESSAGE = re.compile(r"Step (\d+)\s*/\s*(\d+)")


def tuning_method(method: str | TuningMethod) -> TuningMethod:
    """``"supervised"``, ``"preference"`` (or OpenAI's ``"dpo"``) as a :class:`TuningMethod`."""
    if method == "dpo":
        return TuningMethod.PREFERENCE
    try:
        return TuningMethod(method)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in TuningMethod)
        raise ValueError(
            f"The openai provider has no tuning method {method!r}; use one of {allowed}."
        ) from None


#: A ``learning_rate`` below this is an absolute rate (``1e-5``), not a multiplier (0.02 to 2).
SMALLEST_MULTIPLIER = 0.01


def method_body(method: TuningMethod, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
    """The ``method=`` argument of ``fine_tuning.jobs.create``.

    Neutral names are mapped (:data:`HYPERPARAMETERS`); OpenAI's own names given explicitly
    (``learning_rate_multiplier``) win over mapped ones. OpenAI takes a learning-rate
    *multiplier*: a ``learning_rate`` below :data:`SMALLEST_MULTIPLIER` is an absolute rate
    (``FineTuningJob``'s default is ``1e-5``) that OpenAI cannot take, so it is left to OpenAI
    (``"auto"``) rather than sent as a multiplier that would make the job learn nothing.
    ``seed`` is left out (a top-level argument). ``beta`` is refused for supervised jobs, which
    the API would reject only after the upload.
    """
    from modelops_provider_openai.errors import InvalidHyperparameterError

    kind = "dpo" if method is TuningMethod.PREFERENCE else "supervised"
    given = {name: value for name, value in hyperparameters.items() if value is not None}
    rules = OPENAI_HYPERPARAMETERS[kind]
    valid = sorted({*rules, "seed", *(n for n, o in HYPERPARAMETERS.items() if o in rules)})
    unknown = sorted(name for name in given if name not in valid)
    if "beta" in unknown:
        raise InvalidHyperparameterError(
            "beta is a DPO hyperparameter: use method 'preference' or drop beta."
        )
    if unknown:
        raise InvalidHyperparameterError(
            f"OpenAI has no {kind} hyperparameter {', '.join(map(repr, unknown))}; "
            f"valid ones: {', '.join(valid)}. Nothing was uploaded."
        )
    seed = given.get("seed")
    if seed is not None and not (
        isinstance(seed, int)
        and not isinstance(seed, bool)
        and SEED_RANGE[0] <= seed <= SEED_RANGE[1]
    ):
        raise InvalidHyperparameterError(
            f"seed must be an integer within {SEED_RANGE[0]}..{SEED_RANGE[1]}, got {seed!r}."
        )
    rate = given.pop("learning_rate", None)
    if isinstance(rate, int | float) and not isinstance(rate, bool) and rate < SMALLEST_MULTIPLIER:
        rate = None
    mapped: dict[str, Any] = {} if rate is None else {"learning_rate_multiplier": rate}
    for name, value in given.items():  # neutral names first, then OpenAI's own names win
        if name in HYPERPARAMETERS and name != "seed":
            mapped[HYPERPARAMETERS[name]] = value
    for name, value in given.items():
        if name not in HYPERPARAMETERS and name != "seed":
            mapped[name] = value
    for name, value in mapped.items():
        _check_range(name, value, rules[name])
    return {"type": kind, kind: {"hyperparameters": mapped}}


def _check_range(name: str, value: Any, rule: tuple[bool, float, bool, float | None]) -> None:
    from modelops_provider_openai.errors import InvalidHyperparameterError

    integer, lowest, excluded, highest = rule
    if value == "auto":
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if integer and not isinstance(value, int):
        number = False
    within = number and (value > lowest if excluded else value >= lowest)
    within = within and (highest is None or value <= highest)
    if not within:
        kind = "an integer" if integer else "a number"
        low = f"above {lowest:g}" if excluded else f"at least {lowest:g}"
        high = "" if highest is None else f" and at most {highest:g}"
        raise InvalidHyperparameterError(
            f"{name} must be 'auto' or {kind} {low}{high}, got {value!r}. Nothing was uploaded."
        )


def job_status(raw: str) -> JobStatus:
    """The neutral status of an OpenAI status; an unknown one is RUNNING (not finished)."""
    return STATUSES.get(raw, JobStatus.RUNNING)


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def progress_from_events(events: Iterable[Any]) -> float | None:
    """``step / total_steps`` of the newest metrics event (events given newest first)."""
    for event in events:
        data = _dump(getattr(event, "data", None))
        if isinstance(data, Mapping):
            step, total = data.get("step"), data.get("total_steps")
            if isinstance(step, int | float) and isinstance(total, int | float) and total > 0:
                return min(max(float(step) / float(total), 0.0), 1.0)
        match = _STEP_MESSAGE.search(str(getattr(event, "message", "")))
        if match and int(match.group(2)) > 0:
            return min(int(match.group(1)) / int(match.group(2)), 1.0)
    return None


def position_from_events(events: Iterable[Any]) -> dict[str, int]:
    """``step`` and ``total_steps`` of the newest metrics event (events newest first)."""
    for event in events:
        data = _dump(getattr(event, "data", None))
        if isinstance(data, Mapping):
            step, total = data.get("step"), data.get("total_steps")
            if isinstance(step, int | float) and isinstance(total, int | float) and total > 0:
                return {"step": int(step), "total_steps": int(total)}
    return {}


#: OpenAI's metric names (metrics events and checkpoints) -> the provider-neutral names.
METRIC_NAMES = {
    "train_loss": "train_loss",
    "valid_loss": "validation_loss",
    "full_valid_loss": "full_validation_loss",
    "train_mean_token_accuracy": "train_accuracy",
    "valid_mean_token_accuracy": "validation_accuracy",
    "full_valid_mean_token_accuracy": "full_validation_accuracy",
}


def metric_points(
    events: Iterable[JobEvent], checkpoints: Iterable[Mapping[str, Any]] = ()
) -> list[MetricPoint]:
    """Training curves from the job's ``metrics`` events (one per step) and its checkpoints
    (their ``metrics`` fill steps the events no longer list); one point per name and step."""
    found: dict[tuple[str, int], MetricPoint] = {}

    def add(data: Mapping[str, Any], step: Any, when: float) -> None:
        if not isinstance(step, int | float) or isinstance(step, bool):
            return
        for name, neutral in METRIC_NAMES.items():
            value = data.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.setdefault(
                    (neutral, int(step)), MetricPoint(neutral, float(value), int(step), when)
                )

    for event in events:
        add(event.data, event.data.get("step"), event.created_at)
    for checkpoint in checkpoints:
        add(
            checkpoint.get("metrics") or {},
            checkpoint.get("step"),
            checkpoint.get("created_at", 0.0),
        )
    return sorted(found.values(), key=lambda point: (point.step, point.key))


def provider_job(job: Any, *, progress: float | None = None) -> ProviderJob:
    """A :class:`ProviderJob` from an SDK ``FineTuningJob``."""
    status = job_status(job.status)
    if status is JobStatus.SUCCEEDED:
        progress = 1.0
    elif status in (JobStatus.VALIDATING, JobStatus.QUEUED):
        progress = 0.0
    method = getattr(job, "method", None)
    method_type = getattr(method, "type", None)
    details: dict[str, Any] = {
        "method": method_type or "supervised",
        "hyperparameters": _resolved_hyperparameters(job, method, method_type),
        "training_file": job.training_file,
        "validation_file": job.validation_file,
        "result_files": list(job.result_files or []),
        "organization_id": job.organization_id,
        "seed": job.seed,
        "finished_at": job.finished_at,
        "estimated_finish": job.estimated_finish,
        "metadata": dict(job.metadata or {}),
    }
    error = getattr(job, "error", None)
    if error is not None and (error.message or error.code):
        details["error_code"] = error.code
        details["error_param"] = error.param
    return ProviderJob(
        id=job.id,
        provider=PROVIDER,
        status=status,
        raw_status=str(job.status),
        model=job.model,
        progress=progress,
        fine_tuned_model=job.fine_tuned_model,
        error=(error.message or error.code) if error is not None else None,
        trained_tokens=job.trained_tokens,
        created_at=float(job.created_at) if job.created_at is not None else None,
        details=details,
        metadata={str(k): str(v) for k, v in (getattr(job, "metadata", None) or {}).items()},
    )


def _resolved_hyperparameters(job: Any, method: Any, method_type: str | None) -> dict[str, Any]:
    chosen = getattr(method, method_type, None) if method_type else None
    hyper = getattr(chosen, "hyperparameters", None) or getattr(job, "hyperparameters", None)
    dumped = _dump(hyper) if hyper is not None else {}
    return {k: v for k, v in dict(dumped).items() if v is not None}


def job_event(event: Any) -> JobEvent:
    """A :class:`JobEvent` from an SDK ``FineTuningJobEvent``."""
    data = _dump(getattr(event, "data", None))
    payload: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
    payload.setdefault("id", event.id)
    if getattr(event, "type", None):
        payload.setdefault("type", event.type)
    return JobEvent(
        created_at=float(event.created_at),
        message=event.message,
        level="warning" if event.level == "warn" else str(event.level),
        data=payload,
    )
