"""ExperimentTracker: runs with parameters, metrics, tags, artifacts and their environment.

    with ExperimentTracker.start("churn-baseline") as run:
        run.log_params({"learning_rate": 0.01})
        run.log_metrics({"loss": 0.42}, step=1)
    run.get_metrics()  # {"loss": 0.42}: the latest value of each key (MLflow's run.data.metrics)
    run.get_metric_history("loss")  # [MetricPoint("loss", 0.42, 1, ...)]: every point, step order

The backend is ``[tracking] backend`` (a ``registry_backend`` component that implements
:class:`~modelops_core.store.contract.TrackingBackend`; the first-party ``sql`` does).
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from modelops_core.store.contract import (
    ArtifactRef,
    ArtifactStore,
    MetricPoint,
    RunRecord,
    TrackingBackend,
)
from modelops_core.store.lazy_open import StoreFacade

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime


class _StartDescriptor:
    """``ExperimentTracker.start(name)`` on the class builds a default tracker first."""

    def __get__(
        self, instance: ExperimentTracker | None, owner: type[ExperimentTracker]
    ) -> Callable[..., Run]:
        tracker = instance if instance is not None else owner()
        return tracker._start


class ExperimentTracker(StoreFacade):
    """Start and query tracking runs.

    Close it (or use it in ``with``) to close the backend and store it opened; a closed
    tracker raises :class:`~modelops_core.store.facade.FacadeClosedError` when used.

    :param runtime: the runtime whose configuration chooses the backend (default: a new one).
    :param backend: a tracking backend object to use instead of ``[tracking] backend``.
    :param artifacts: an artifact store to use instead of ``[artifacts] store``.
    :param capture_environment: record Python, platform, installed packages and git commit.
    """

    start = _StartDescriptor()

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        backend: TrackingBackend | None = None,
        artifacts: ArtifactStore | None = None,
        capture_environment: bool = True,
    ) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        super().__init__(runtime, "tracking", TrackingBackend, backend=backend, artifacts=artifacts)
        self.capture_environment = capture_environment
        self._environment: dict[str, Any] | None = None

    @property
    def backend(self) -> TrackingBackend:
        """The tracking backend (created on first use from ``[tracking]``)."""
        backend: TrackingBackend = self._opened_backend()
        return backend

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store for :meth:`Run.log_artifact`."""
        return self._opened_artifacts()

    def _start(self, name: str, *, tags: Mapping[str, Any] | None = None) -> Run:
        """Start a run of experiment ``name``; use it as a context manager."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("An experiment name must be a non-empty string.")
        environment = self._captured_environment() if self.capture_environment else {}
        record = self.backend.create_run(name, tags=dict(tags or {}), environment=environment)
        return Run(self, record)

    def _captured_environment(self) -> dict[str, Any]:
        # Reading every installed distribution takes milliseconds: once per tracker is enough.
        if self._environment is None:
            self._environment = capture_environment()
        return self._environment

    def get_run(self, run_id: str) -> RunRecord:
        """The run with its parameters, tags, environment, models and artifacts."""
        return self.backend.get_run(run_id)

    def list_runs(self, experiment: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The newest runs (of ``experiment``), newest first."""
        return self.backend.list_runs(experiment, limit)

    def find_runs(
        self,
        experiment: str | None = None,
        tags: Mapping[str, Any] | None = None,
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs (of ``experiment``) whose tags equal every ``tags`` item, newest first.

        The backend answers with one indexed query, so a new process finds e.g. the fine-tuning
        job ``{"job.id": "ft-42"}`` among thousands of runs without reading them all.

        :param status: only runs with this status (``running``, ``finished``, ``failed``,
            ``cancelled``).
        :param limit: at most this many runs (default: all).
        """
        return self.backend.find_runs(experiment, dict(tags or {}), status=status, limit=limit)

    def compare(self, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per run: its parameters and the last value of each metric, for side-by-side views."""
        table: dict[str, dict[str, Any]] = {}
        for run_id in run_ids:
            record = self.backend.get_run(run_id)
            last = latest_values(self.backend.get_metrics(run_id))
            table[run_id] = {"params": dict(record.params), "metrics": last}
        return table


class Run:
    """One tracking run; a context manager that marks it finished (or failed on an error)."""

    def __init__(self, tracker: ExperimentTracker, record: RunRecord) -> None:
        self.tracker = tracker
        self.id = record.run_id
        self.experiment = record.experiment
        self._backend = tracker.backend
        self.status = record.status

    def __repr__(self) -> str:
        return f"Run({self.experiment!r}, id={self.id!r}, status={self.status!r})"

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.end("failed" if exc_type is not None else "finished")

    def end(self, status: str = "finished") -> None:
        """Mark the run ``finished`` or ``failed`` (done by the ``with`` block)."""
        if status not in ("finished", "failed"):
            raise ValueError(f"status must be 'finished' or 'failed', got {status!r}.")
        self._backend.end_run(self.id, status)
        self.status = status

    def log_param(self, key: str, value: Any) -> None:
        """Record one parameter (stored as text)."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters (stored as text)."""
        self._backend.log_params(self.id, {str(k): str(v) for k, v in params.items()})

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: float | None = None
    ) -> None:
        """Record one metric value."""
        point = MetricPoint(key, _number(key, value), int(step), timestamp or time.time())
        self._backend.log_metrics(self.id, (point,))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int = 0, timestamp: float | None = None
    ) -> None:
        """Record several metric values at one step, in one write."""
        at = timestamp or time.time()
        points = [MetricPoint(k, _number(k, v), int(step), at) for k, v in metrics.items()]
        self._backend.log_metrics(self.id, points)

    def log_batch(self, points: Sequence[MetricPoint]) -> None:
        """Record many metric points (any keys and steps) in one write."""
        self._backend.log_metrics(self.id, points)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Merge ``tags`` into the run's tags."""
        self._backend.set_tags(self.id, tags)

    def log_artifact(self, path: str | Path, label: str | None = None) -> ArtifactRef:
        """Store a file or folder in the artifact store and record it under ``label``."""
        ref = self.tracker.artifacts.put_path(Path(path))
        self._backend.log_artifact(self.id, label or ref.name or ref.digest, ref)
        return ref

    def link_model(self, name: str, version: str) -> None:
        """Record that this run produced the model version."""
        self._backend.link_model(self.id, name, version)

    def get_metrics(self) -> dict[str, float]:
        """The latest value of every logged metric, by key (as MLflow's ``run.data.metrics``).

        The latest point of a key is the one at its highest step; of several at that step, the
        one with the newest timestamp, then the one logged last. Every point of a key:
        :meth:`get_metric_history`.
        """
        return latest_values(self._backend.get_metrics(self.id))

    def get_metric_history(self, key: str) -> list[MetricPoint]:
        """Every logged point of metric ``key``, by step then time (empty if never logged)."""
        return list(self._backend.get_metrics(self.id, key))

    def get_params(self) -> dict[str, str]:
        """The logged parameters."""
        return dict(self._backend.get_run(self.id).params)

    def record(self) -> RunRecord:
        """The stored run."""
        return self._backend.get_run(self.id)


def latest_values(points: Sequence[MetricPoint]) -> dict[str, float]:
    """The value of each key's latest point: highest step, then newest timestamp, then the
    last in ``points`` (backends return points by key, step, time and insertion)."""
    latest: dict[str, MetricPoint] = {}
    for point in points:
        seen = latest.get(point.key)
        if seen is None or (point.step, point.timestamp) >= (seen.step, seen.timestamp):
            latest[point.key] = point
    return {key: point.value for key, point in latest.items()}


def _number(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Metric {key!r} must be a number, got {type(value).__name__} {value!r}."
        ) from None


def capture_environment(start: Path | None = None) -> dict[str, Any]:
    """Python version, platform, installed distributions and the git commit (when any)."""
    from importlib import metadata

    packages = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            packages[name] = distribution.version
    environment: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": dict(sorted(packages.items())),
    }
    commit = git_commit(start or Path.cwd())
    if commit:
        environment["git_commit"] = commit
    return environment


def git_commit(start: Path) -> str | None:
    """The commit checked out in the git work tree containing ``start``, read without git."""
    for folder in (start, *start.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = git.read_text().strip()
            if text.startswith("gitdir:"):
                git = (folder / text.removeprefix("gitdir:").strip()).resolve()
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text().strip()
        except OSError:
            return None
        if not head.startswith("ref:"):
            return head or None
        ref = head.removeprefix("ref:").strip()
        ref_file = git / ref
        if ref_file.is_file():
            return ref_file.read_text().strip() or None
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.is_file() else git
        for candidate in (base / ref, base / "packed-refs"):
            if candidate.name == "packed-refs" and candidate.is_file():
                for line in candidate.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
            elif candidate.is_file():
                return candidate.read_text().strip() or None
        return None
    return None
