"""A scripted provider plugin for the fine-tuning tests: a real plugin under test, not a mock.

Its jobs live in a JSON file (so a new Runtime, or a new process, sees them) and move one raw
status along a script on every ``get``; chosen ``get`` calls raise
``ProviderUnavailableError(retry_after=...)`` like a provider answering HTTP 429. Every upload
is recorded, so a test can check that a failed preflight uploaded nothing.

Options (``[providers.scripted]``): ``state_file``, ``script`` (raw statuses), ``unavailable_on``
(1-based numbers of the ``get`` calls that fail transiently), ``retry_after``, ``reject_with``
(``start`` raises ``ProviderRejectedError`` with that message), ``api_key`` (empty: missing
credentials), ``min_examples``, ``get_blocks`` (seconds every ``get`` waits before answering:
a provider that hangs).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops_core import hookimpl
from modelops_core.finetune.provider_contract import (
    JobEvent,
    JobStatus,
    MissingCredentialsError,
    ProviderJob,
    ProviderRejectedError,
    ProviderUnavailableError,
    TuningRequest,
)
from modelops_core.plugins.components import ComponentRegistrar

RAW_STATUSES = {
    "validating_files": JobStatus.VALIDATING,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}
DEFAULT_SCRIPT = ("validating_files", "queued", "running", "running", "succeeded")


def to_status(raw_status: str) -> JobStatus:
    """The scripted provider's raw status -> JobStatus; unknown statuses are still running."""
    return RAW_STATUSES.get(raw_status, JobStatus.RUNNING)


class ScriptedProvider:
    """Jobs that advance one scripted raw status per ``get`` call."""

    name = "scripted"
    export_format = "scripted"  # chat records as they are: its own shape, no provider plugin

    def __init__(
        self,
        state_file: str,
        script: Sequence[str] = DEFAULT_SCRIPT,
        unavailable_on: Sequence[int] = (),
        retry_after: float | None = None,
        reject_with: str | None = None,
        api_key: str = "test-key",
        min_examples: int = 2,
        get_blocks: float = 0.0,
    ) -> None:
        if not script:
            raise ValueError("script must name at least one raw status")
        self.state_file = Path(state_file)
        self.script = list(script)
        self.unavailable_on = set(unavailable_on)
        self.retry_after = retry_after
        self.reject_with = reject_with
        self.api_key = api_key
        self.min_examples = min_examples
        self.get_blocks = get_blocks

    # -- state on disk ----------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self.state_file.exists():
            state: dict[str, Any] = json.loads(self.state_file.read_text())
            return state
        return {"jobs": {}, "uploads": [], "get_calls": 0}

    def _save(self, state: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(state))

    def uploads(self) -> list[str]:
        """The training files uploaded so far."""
        return list(self._load()["uploads"])

    def _snapshot(self, job_id: str, job: dict[str, Any]) -> ProviderJob:
        raw = job["raw"]
        status = to_status(raw)
        last = max(len(job["script"]) - 1, 1)
        succeeded = status is JobStatus.SUCCEEDED
        return ProviderJob(
            id=job_id,
            provider=self.name,
            status=status,
            raw_status=raw,
            model=job["model"],
            progress=min(job["step"] / last, 1.0),
            fine_tuned_model=f"ft:{job['model']}:{job_id}" if succeeded else None,
            error="the scripted job failed" if status is JobStatus.FAILED else None,
            trained_tokens=job["tokens"] if succeeded else None,
            created_at=job["created_at"],
        )

    def _job(self, state: dict[str, Any], job_id: str) -> dict[str, Any]:
        try:
            job: dict[str, Any] = state["jobs"][job_id]
        except KeyError:
            raise ProviderRejectedError(
                f"scripted: no job {job_id!r}; `modelops finetune list` shows the known jobs."
            ) from None
        return job

    # -- the provider contract --------------------------------------------------------------

    def validate(self, path: str, method: str, model: str) -> list[str]:
        problems = []
        lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            record = json.loads(line)
            messages = record.get("messages")
            if not isinstance(messages, list):
                problems.append(f"line {number}: no 'messages' list")
            elif not any(m.get("role") == "assistant" for m in messages):
                problems.append(f"line {number}: no assistant message")
        if len(lines) < self.min_examples:
            problems.append(f"{len(lines)} examples; at least {self.min_examples} are needed")
        return problems

    def start(self, request: TuningRequest) -> ProviderJob:
        if not self.api_key:
            raise MissingCredentialsError(
                "scripted: no API key. Set SCRIPTED_API_KEY or [providers.scripted] api_key."
            )
        if self.reject_with:
            raise ProviderRejectedError(f"scripted rejected the job: {self.reject_with}")
        state = self._load()
        job_id = f"job-{len(state['jobs']) + 1}"
        text = Path(request.training_file).read_text()
        state["uploads"].append(request.training_file)
        state["jobs"][job_id] = {
            "model": request.model,
            "script": self.script,
            "step": 0,
            "raw": self.script[0],
            "tokens": len(text.split()),
            "created_at": time.time(),
            "hyperparameters": dict(request.hyperparameters),
            "events": [[time.time(), f"created job for {request.model}"]],
        }
        self._save(state)
        return self._snapshot(job_id, state["jobs"][job_id])

    def get(self, job_id: str) -> ProviderJob:
        if self.get_blocks:
            time.sleep(self.get_blocks)  # a provider whose API never answers
        state = self._load()
        state["get_calls"] += 1
        self._save(state)
        if state["get_calls"] in self.unavailable_on:
            raise ProviderUnavailableError(
                "scripted: 429 Too Many Requests", retry_after=self.retry_after
            )
        job = self._job(state, job_id)
        if not to_status(job["raw"]).finished and job["step"] < len(job["script"]) - 1:
            job["step"] += 1
            job["raw"] = job["script"][job["step"]]
            job["events"].append([time.time(), f"status {job['raw']}"])
            self._save(state)
        return self._snapshot(job_id, job)

    def cancel(self, job_id: str) -> ProviderJob:
        state = self._load()
        job = self._job(state, job_id)
        if not to_status(job["raw"]).finished:
            job["raw"] = "cancelled"
            job["events"].append([time.time(), "cancelled by the user"])
            self._save(state)
        return self._snapshot(job_id, job)

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        state = self._load()
        jobs = [self._snapshot(i, j) for i, j in state["jobs"].items()]
        return jobs[::-1][:limit]

    def events(self, job_id: str) -> list[JobEvent]:
        job = self._job(self._load(), job_id)
        return [JobEvent(created_at=at, message=message) for at, message in job["events"]]

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        return [f"{model_id} says {text}" for text in inputs]


@hookimpl
def modelops_register_providers(registry: ComponentRegistrar) -> None:
    from modelops_core.plugins.protocols import ExportShape, ProviderProfile

    registry.add(
        "scripted",
        ScriptedProvider,
        description="scripted jobs for the core's tests",
        profile=ProviderProfile(exports=(ExportShape("scripted", base="chat"),)),
    )


def chat_records(count: int = 12) -> list[dict[str, Any]]:
    """Valid chat records in the openai export format."""
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{i + i}"},
            ]
        }
        for i in range(count)
    ]


class FakeClock:
    """A clock whose ``sleep`` only moves time on (and remembers each sleep)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def write_chat_jsonl(path: Path, count: int = 12) -> Path:
    """Valid chat records as a JSONL file (what users hand to ``Dataset.from_jsonl``)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in chat_records(count)), encoding="utf-8")
    return path


def scripted_table(tmp_path: Path, **scripted: Any) -> dict[str, Any]:
    """A configuration table choosing the scripted provider with ``scripted`` options."""
    options = {"state_file": str(tmp_path / "scripted-state.json"), **scripted}
    return {"providers": {"scripted": options}}
