"""Where a local job lives on disk, and the atomic reads and writes of its files.

``<root>/jobs/<job_id>/``:

- ``request.json``: what to train (written once by ``start``);
- ``train.jsonl`` (and ``validation.jsonl``): copies of the files, so the job does not depend on
  the caller keeping them;
- ``status.json``: the current state, replaced atomically (write a temporary file, rename);
- ``events.jsonl``: one JSON object per line, appended with one ``write`` each;
- ``worker.pid``, ``worker.log``: the background worker's process id and output;
- ``cancel``: present once cancellation was asked for; the worker checks it between epochs.

Models go to ``<root>/models/<kind>-ft-<short id>/`` (see :mod:`artifact`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from modelops_core.finetune.provider_contract import JobEvent, JobStatus, ProviderError

RAW_TO_STATUS = {
    "pending": JobStatus.PENDING,
    "validating": JobStatus.VALIDATING,
    "running": JobStatus.RUNNING,
    "cancelling": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}


def to_status(raw: str) -> JobStatus:
    """The common status of a raw local status; an unknown one counts as running."""
    return RAW_TO_STATUS.get(raw, JobStatus.RUNNING)


def write_json_atomic(path: Path, value: Any) -> None:
    """Replace ``path`` with ``value`` as JSON so readers see the old or the new file, whole."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DamagedJobFileError(ProviderError):
    """A file of a local job (``status.json``, ``request.json``) holds no readable JSON object."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"The local job file {path} is damaged ({reason}), so the job's state cannot be read. "
            "If the job's worker is still running it rewrites status.json at its next step: ask "
            "again in a moment. Otherwise cancel the job (modelops finetune cancel "
            f"{path.parent.name}) and start it again, or delete {path.parent} to forget it."
        )


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; :class:`DamagedJobFileError` when it holds anything else."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DamagedJobFileError(
            path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise DamagedJobFileError(path, f"not UTF-8 text at byte {exc.start}") from None
    if not isinstance(value, dict):
        raise DamagedJobFileError(path, f"a JSON {type(value).__name__}, not an object")
    return value


class JobFiles:
    """The files of one job directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.request = directory / "request.json"
        self.status = directory / "status.json"
        self.events = directory / "events.jsonl"
        self.metrics = directory / "metrics.jsonl"
        self.cancel_flag = directory / "cancel"
        self.pid = directory / "worker.pid"
        self.log = directory / "worker.log"
        self.training_file = directory / "train.jsonl"
        self.validation_file = directory / "validation.jsonl"

    @property
    def job_id(self) -> str:
        return self.directory.name

    def read_status(self) -> dict[str, Any]:
        return read_json(self.status)

    def update_status(self, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into ``status.json`` (atomically) and return the new status.

        A damaged ``status.json`` is replaced by ``changes`` (what was in it cannot be read) and
        the repair is written to the job's events: the writer knows the state it is setting.
        """
        try:
            status = self.read_status() if self.status.exists() else {}
        except DamagedJobFileError as exc:
            self.add_event(f"{exc.path.name} was damaged and is rewritten", "warning")
            status = {}
        status.update(changes)
        status["updated_at"] = time.time()
        write_json_atomic(self.status, status)
        return status

    def add_event(
        self, message: str, level: str = "info", data: dict[str, Any] | None = None
    ) -> None:
        line = json.dumps(
            {"created_at": time.time(), "level": level, "message": message, "data": data or {}},
            ensure_ascii=False,
        )
        with self.events.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def read_events(self) -> list[JobEvent]:
        if not self.events.exists():
            return []
        events = []
        for line in self.events.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line being written right now
                continue
            events.append(
                JobEvent(
                    created_at=float(record["created_at"]),
                    message=str(record["message"]),
                    level=str(record.get("level", "info")),
                    data=record.get("data") or {},
                )
            )
        return events

    def add_metrics(self, row: dict[str, Any]) -> None:
        """Append one row of training metrics (``step``, ``epoch`` and the values)."""
        with self.metrics.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """The rows written so far, oldest first (a line being written is skipped)."""
        if not self.metrics.exists():
            return []
        rows = []
        for line in self.metrics.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def worker_pid(self) -> int | None:
        try:
            return int(self.pid.read_text().strip())
        except (OSError, ValueError):
            return None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def process_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"
