"""The ``local`` provider: fine-tunes on this machine's CPU, offline, and serves the result.

Jobs run in a detached worker process (or in-process with ``inline = true``) and keep their
state in files under ``<root>/jobs/<job_id>/``, so any process can follow them; models are
directories under ``<root>/models/`` that ``predict`` loads and the registry can store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelops_core.finetune.provider_contract import (
    JobEvent,
    MetricPoint,
    ProviderJob,
    ProviderRejectedError,
    TuningMethod,
    TuningRequest,
)
from modelops_provider_local.examples import read_examples, summarize_problems
from modelops_provider_local.jobstore import (
    DamagedJobFileError,
    JobFiles,
    process_alive,
    to_status,
    write_json_atomic,
)
from modelops_provider_local.training import (
    JobRejected,
    base_model,
    data_problems,
    parse_settings,
    run_job,
)

_MODEL_CACHE_SIZE = 8


class UnknownJobError(ProviderRejectedError, LookupError):
    """No local job with that id."""


class UnknownModelError(ProviderRejectedError, LookupError):
    """No local model with that id."""


class LocalProvider:
    """Fine-tune and predict on the CPU; options come from ``[providers.local]``.

    :param home: the modelops home (given by the core); jobs and models live under
        ``<home>/providers/local`` unless ``root`` says otherwise.
    :param root: where to keep ``jobs/`` and ``models/``.
    :param inline: train synchronously inside ``start()`` instead of in a background process.
    :param python: the interpreter that runs the background worker (default: this one).
    """

    name = "local"
    export_format = "local"

    def __init__(
        self,
        home: str = ".modelops",
        root: str | None = None,
        inline: bool = False,
        python: str | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else Path(home) / "providers" / "local"
        self.inline = inline
        self.python = python or sys.executable
        self._jobs = self.root / "jobs"
        self._models = self.root / "models"
        self._workers: dict[str, subprocess.Popen[bytes]] = {}
        self._loaded: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def __repr__(self) -> str:
        return f"LocalProvider(root={str(self.root)!r}, inline={self.inline})"

    def close(self) -> None:
        """Forget loaded models; running background jobs carry on."""
        self._loaded.clear()

    # --- validation ----------------------------------------------------------------------------

    def validate(self, path: str, method: str, model: str) -> list[str]:
        """Problems that would stop training on ``path`` (with line numbers); empty if fine."""
        problems: list[str] = []
        if method != TuningMethod.SUPERVISED:
            problems.append(_preference_message(method))
        try:
            base = base_model(model)
        except JobRejected as exc:
            problems.append(str(exc))
            base = "auto"
        examples = read_examples(path)
        problems += examples.problems
        if not examples.problems:
            problems += data_problems(base, examples.targets)
        return summarize_problems(problems)

    # --- jobs ----------------------------------------------------------------------------------

    def start(self, request: TuningRequest) -> ProviderJob:
        """Create the job and start training it (in the background unless ``inline``)."""
        if request.method != TuningMethod.SUPERVISED:
            raise ProviderRejectedError(_preference_message(str(request.method)))
        try:
            base_model(request.model)
            parse_settings(request.hyperparameters)
        except JobRejected as exc:
            raise ProviderRejectedError(str(exc)) from exc
        for label, path in (
            ("training file", request.training_file),
            ("validation file", request.validation_file),
        ):
            if path is not None and not Path(path).is_file():
                raise ProviderRejectedError(
                    f"The {label} {path!r} does not exist; export the dataset first "
                    "(Dataset.export(path, provider='local'))."
                )
        job_id = f"local-{uuid.uuid4().hex[:12]}"
        files = JobFiles(self._jobs / job_id)
        files.directory.mkdir(parents=True)
        shutil.copyfile(request.training_file, files.training_file)
        if request.validation_file is not None:
            shutil.copyfile(request.validation_file, files.validation_file)
        created_at = time.time()
        write_json_atomic(
            files.request,
            {
                "job_id": job_id,
                "model": request.model,
                "method": str(request.method),
                "hyperparameters": dict(request.hyperparameters),
                "suffix": request.suffix,
                "metadata": dict(request.metadata),
                "training_file": request.training_file,
                "validation_file": request.validation_file,
                "created_at": created_at,
                "models_dir": str(self._models.resolve()),
            },
        )
        files.update_status(status="pending", progress=0.0, created_at=created_at)
        files.add_event(f"job created for {request.model}")
        if self.inline:
            files.pid.write_text(str(os.getpid()))
            run_job(files.directory)
        else:
            self._spawn(files)
        return self.get(job_id)

    def _spawn(self, files: JobFiles) -> None:
        with files.log.open("ab") as log:
            process = subprocess.Popen(
                [self.python, "-m", "modelops_provider_local.worker", str(files.directory)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the caller's terminal and process group
                close_fds=True,
            )
        files.pid.write_text(str(process.pid))
        self._workers[files.job_id] = process

    def get(self, job_id: str) -> ProviderJob:
        """The job's current snapshot, read from its ``status.json``."""
        files = self._files(job_id)
        try:
            status = files.read_status()
        except DamagedJobFileError:
            if self._worker_alive(files):
                raise  # the worker rewrites it at its next step; the message says to ask again
            status = self._settle_dead_worker(files)
        if not to_status(status.get("status", "pending")).finished and not self._worker_alive(
            files
        ):
            status = self._settle_dead_worker(files)
        return self._snapshot(files, status)

    def cancel(self, job_id: str) -> ProviderJob:
        """Ask the job to stop; it ends ``cancelled`` at the worker's next check."""
        files = self._files(job_id)
        status = _readable_status(files)
        if to_status(status.get("status", "pending")).finished:
            return self._snapshot(files, status)
        files.cancel_flag.touch()
        files.add_event("cancellation requested")
        pid = files.worker_pid()
        if pid is not None and self._worker_alive(files):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                status = _readable_status(files)
                if to_status(status.get("status", "pending")).finished:
                    break
                if not self._worker_alive(files):
                    break
                time.sleep(0.02)
        status = _readable_status(files)
        if not to_status(status.get("status", "pending")).finished:
            if self._worker_alive(files):
                status = files.update_status(status="cancelling")
            else:
                status = self._settle_dead_worker(files)
        return self._snapshot(files, status)

    def list_jobs(self, limit: int = 20) -> list[ProviderJob]:
        """The most recent jobs first."""
        if not self._jobs.is_dir():
            return []
        jobs = []
        for directory in self._jobs.iterdir():
            if (directory / "status.json").is_file() and (directory / "request.json").is_file():
                jobs.append(self.get(directory.name))
        jobs.sort(key=lambda job: (job.created_at or 0.0, job.id), reverse=True)
        return jobs[:limit]

    def events(self, job_id: str) -> list[JobEvent]:
        """The job's events, oldest first."""
        return self._files(job_id).read_events()

    def metrics(self, job_id: str) -> list[MetricPoint]:
        """The job's training curves so far, per epoch at the optimizer's step count:
        ``train_loss`` (step 0 is the loss before training), ``train_accuracy``,
        ``validation_loss`` and ``validation_accuracy`` (with a validation file),
        ``tokens_seen`` (word tokens of the inputs), ``learning_rate`` (adam) and ``epoch``."""
        points = []
        for row in self._files(job_id).read_metrics():
            step = int(row.get("step", 0))
            for key, value in row.items():
                if key != "step" and isinstance(value, int | float):
                    points.append(MetricPoint(key, float(value), step))
        return points

    # --- inference -----------------------------------------------------------------------------

    def predict(self, model_id: str, inputs: Sequence[str]) -> list[Any]:
        """One label (classifier) or completion (retrieval) per input."""
        if isinstance(inputs, str):
            raise TypeError("predict() takes a list of inputs; wrap a single text in [text].")
        model = self._load(model_id)
        return list(model.predict(list(inputs)))

    def model_path(self, model_id: str) -> Path:
        """The directory of a fine-tuned model (what the registry stores)."""
        parts = model_id.split(":")
        if len(parts) != 3 or parts[0] != "local" or not parts[2].startswith("ft-"):
            raise UnknownModelError(
                f"{model_id!r} is not a local fine-tuned model id; they look like "
                "'local:logreg:ft-0123456789ab' (ProviderJob.fine_tuned_model)."
            )
        directory = self._models / f"{parts[1]}-{parts[2]}"
        if not (directory / "config.json").is_file():
            known = sorted(path.name for path in self._models.glob("*-ft-*"))[:10]
            raise UnknownModelError(
                f"No local model {model_id!r} under {self._models}. "
                f"Known: {', '.join(known) or 'none'}. Check the provider's home/root option."
            )
        return directory

    def _load(self, model_id: str) -> Any:
        from modelops_provider_local.artifact import load_model

        directory = self.model_path(model_id)
        stamp = (directory / "config.json").stat().st_mtime
        cached = self._loaded.get(model_id)
        if cached is not None and cached[0] == stamp:
            self._loaded.move_to_end(model_id)
            return cached[1]
        model = load_model(directory)
        self._loaded[model_id] = (stamp, model)
        while len(self._loaded) > _MODEL_CACHE_SIZE:
            self._loaded.popitem(last=False)
        return model

    # --- helpers -------------------------------------------------------------------------------

    def _files(self, job_id: str) -> JobFiles:
        files = JobFiles(self._jobs / job_id)
        if "/" in job_id or not files.status.is_file():
            raise UnknownJobError(
                f"No local fine-tuning job {job_id!r} under {self._jobs}. "
                "List the jobs with `modelops finetune list --provider local`."
            )
        return files

    def _worker_alive(self, files: JobFiles) -> bool:
        process = self._workers.get(files.job_id)
        if process is not None:
            return process.poll() is None
        pid = files.worker_pid()
        if pid is None:  # inline, or spawned by a process that has not recorded it yet
            return not files.pid.exists() and _recent(files)
        return process_alive(pid)

    def _settle_dead_worker(self, files: JobFiles) -> dict[str, Any]:
        try:
            status = files.read_status()  # the worker may have finished just before exiting
        except DamagedJobFileError as exc:
            message = f"the worker process ended and its status could not be read: {exc}"
            files.add_event(message, "error")
            return files.update_status(status="failed", error=message)
        if to_status(status.get("status", "pending")).finished:
            return status
        if files.cancel_flag.exists():
            files.add_event("job cancelled (its worker had stopped)", "warning")
            return files.update_status(status="cancelled")
        tail = files.log_tail()
        message = "the worker process ended without finishing the job" + (
            f"; its last output:\n{tail}" if tail else f"; see {files.log}"
        )
        files.add_event(message, "error")
        return files.update_status(status="failed", error=message)

    def _snapshot(self, files: JobFiles, status: dict[str, Any]) -> ProviderJob:
        from modelops_provider_local.jobstore import read_json

        request = read_json(files.request)
        raw = str(status.get("status", "pending"))
        details: dict[str, Any] = {
            "job_dir": str(files.directory),
            "hyperparameters": request.get("hyperparameters", {}),
        }
        for key in (
            "artifact_path", "kind", "epoch", "epochs", "step", "total_steps", "metrics", "seconds"
        ):  # fmt: skip
            if key in status:
                details[key] = status[key]
        return ProviderJob(
            id=files.job_id,
            provider=self.name,
            status=to_status(raw),
            raw_status=raw,
            model=str(request["model"]),
            progress=status.get("progress"),
            fine_tuned_model=status.get("fine_tuned_model"),
            error=status.get("error"),
            created_at=request.get("created_at"),
            details=details,
            metadata={str(k): str(v) for k, v in (request.get("metadata") or {}).items()},
        )


def _recent(files: JobFiles, seconds: float = 30.0) -> bool:
    try:
        return time.time() - files.request.stat().st_mtime < seconds
    except OSError:
        return False


def _preference_message(method: str) -> str:
    return (
        f"The local provider does not support {method!r} tuning: it trains a classifier or a "
        "retrieval index on prompt/completion pairs only. Use method='supervised', or a hosted "
        "provider (openai, vertex) for preference (DPO) tuning."
    )


def _readable_status(files: JobFiles) -> dict[str, Any]:
    """The job's status, or an empty (unfinished) one while ``status.json`` is damaged."""
    try:
        return files.read_status()
    except DamagedJobFileError:
        return {}
