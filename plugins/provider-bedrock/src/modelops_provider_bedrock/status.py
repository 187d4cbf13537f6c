"""Bedrock job status (with its sub-statuses) -> the neutral ``JobStatus``, and job events.

Bedrock reports one top-level status (InProgress, Completed, Failed, Stopping, Stopped) and,
in ``statusDetails``, one status per stage: ``validationDetails``, ``dataProcessingDetails``
and ``trainingDetails`` (InProgress, Completed, Stopping, Stopped, Failed, NotStarted). The raw
status kept beside the neutral one names the furthest stage that has started, e.g.
``"InProgress/training:InProgress"``, so the mapping can be re-applied to a stored value.

Bedrock has no event log for customization jobs; :func:`job_events` synthesizes one from the
stage timestamps in ``statusDetails`` (and the job's own creation and end times).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelops_core.finetune.provider_contract import JobEvent, JobStatus

#: the stages of a job in order: (statusDetails key, short name used in raw statuses).
STAGES: tuple[tuple[str, str], ...] = (
    ("validationDetails", "validation"),
    ("dataProcessingDetails", "dataProcessing"),
    ("trainingDetails", "training"),
)
_FINAL = {
    "Completed": JobStatus.SUCCEEDED,
    "Failed": JobStatus.FAILED,
    "Stopped": JobStatus.CANCELLED,
    "Stopping": JobStatus.RUNNING,
}
#: coarse progress by stage, since Bedrock reports no step counts while a job runs.
_STAGE_PROGRESS = {"validation": 0.0, "dataProcessing": 0.05, "training": 0.1}


def current_stage(status_details: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(stage, stage status)`` of the furthest stage that has started, or None."""
    found = None
    for key, stage in STAGES:
        details = (status_details or {}).get(key) or {}
        status = details.get("status")
        if status and status != "NotStarted":
            found = (stage, str(status))
    return found


def raw_status(status: str, status_details: Mapping[str, Any] | None) -> str:
    """``"InProgress/training:InProgress"``: the status and the furthest started stage."""
    stage = current_stage(status_details)
    return f"{status}/{stage[0]}:{stage[1]}" if stage else status


def to_job_status(raw: str) -> JobStatus:
    """The neutral status of a raw status written by :func:`raw_status`.

    InProgress while validating or processing data is ``validating``; once data processing is
    done and training has not started, ``queued``; training is ``running``; Stopping is
    ``running`` (not finished yet); Completed, Failed and Stopped are ``succeeded``, ``failed``
    and ``cancelled``. Anything unknown is ``running``, i.e. not finished.
    """
    status, _, stage_part = raw.partition("/")
    if status in _FINAL:
        return _FINAL[status]
    if status != "InProgress":
        return JobStatus.RUNNING
    stage, _, stage_status = stage_part.partition(":")
    if stage == "training":
        return JobStatus.RUNNING
    if stage == "dataProcessing" and stage_status == "Completed":
        return JobStatus.QUEUED
    if stage in ("validation", "dataProcessing"):
        return JobStatus.VALIDATING
    return JobStatus.RUNNING


def progress(raw: str) -> float | None:
    """Coarse progress by stage (1.0 once Completed), None when nothing is known."""
    status, _, stage_part = raw.partition("/")
    if status == "Completed":
        return 1.0
    stage = stage_part.partition(":")[0]
    return _STAGE_PROGRESS.get(stage)


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from botocore's datetimes (or None)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


_STAGE_TITLES = {
    "validation": "data validation",
    "dataProcessing": "data processing",
    "training": "training",
}


def job_events(job: Mapping[str, Any]) -> list[JobEvent]:
    """Events synthesized from a GetModelCustomizationJob response, oldest first."""
    events: list[JobEvent] = []
    name = str(job.get("jobName", ""))
    created = timestamp(job.get("creationTime"))
    if created is not None:
        events.append(JobEvent(created, f"job {name} created", data={"status": "InProgress"}))
    details = job.get("statusDetails") or {}
    for key, stage in STAGES:
        stage_details = details.get(key) or {}
        status = stage_details.get("status")
        if not status or status == "NotStarted":
            continue
        title = _STAGE_TITLES[stage]
        started = timestamp(stage_details.get("creationTime"))
        changed = timestamp(stage_details.get("lastModifiedTime"))
        data = {"stage": stage, "status": status}
        if started is not None:
            events.append(JobEvent(started, f"{title} started", data={**data, "status": "Started"}))
        if status != "InProgress" and changed is not None:
            level = "error" if status == "Failed" else "info"
            events.append(JobEvent(changed, f"{title} {status.lower()}", level, data))
    ended = timestamp(job.get("endTime"))
    final = str(job.get("status", ""))
    if ended is not None and final in ("Completed", "Failed", "Stopped"):
        message = f"job {name} {final.lower()}"
        data = {"status": final}
        if final == "Failed" and job.get("failureMessage"):
            message += f": {job['failureMessage']}"
        loss = (job.get("trainingMetrics") or {}).get("trainingLoss")
        if final == "Completed" and loss is not None:
            data["trainingLoss"] = loss
        level = "error" if final == "Failed" else "info"
        events.append(JobEvent(ended, message, level, data))
    # a stable sort keeps same-time events in stage order
    return sorted(events, key=lambda event: event.created_at)
