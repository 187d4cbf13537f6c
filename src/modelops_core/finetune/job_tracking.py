"""Fine-tuning jobs persisted as tracking runs, so any process can find and follow them.

Each job is a run of the experiment ``"fine-tuning"``: its parameters are the request (model,
provider, method, hyperparameters, dataset fingerprint); its tags are the live state, written
on every change: ``job.id``, ``job.provider``, ``job.status``, ``job.raw_status``,
``job.progress``, ``job.fine_tuned_model``, ``job.error``, ``job.register_as``,
``job.registered``, ``job.warning`` (the loss barely fell). Its metrics are ``progress`` and
the training curves the provider reports (``train_loss``, ``validation_loss``, ``tokens_seen``,
``learning_rate`` … at the provider's steps). The run ends ``finished`` when the job succeeded,
``cancelled`` when it was cancelled, ``failed`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from modelops_core.finetune.errors import JobNotFoundError
from modelops_core.store.facade import Facade

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.store.contract import MetricPoint, RunRecord
    from modelops_core.tracking.tracker import ExperimentTracker

EXPERIMENT = "fine-tuning"
_SCAN_LIMIT = 100_000


class JobStore(Facade):
    """Read and write fine-tuning jobs in the tracking store of ``runtime``.

    :param tracker: a tracker to use (not closed here); default: one on ``runtime``, opened on
        first use and closed by :meth:`close`.
    """

    _component_attributes: ClassVar[tuple[str, ...]] = ("_tracker",)

    def __init__(self, runtime: Runtime, tracker: ExperimentTracker | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self._tracker = tracker

    @property
    def tracker(self) -> ExperimentTracker:
        """The tracker the jobs are runs of."""
        tracker = self._tracker
        if tracker is None:
            tracker = self._open("_tracker", self._build_tracker)
        return tracker

    def _build_tracker(self) -> ExperimentTracker:
        from modelops_core.tracking.tracker import ExperimentTracker

        return ExperimentTracker(self.runtime)

    def create(self, params: Mapping[str, Any], tags: Mapping[str, Any]) -> str:
        """A new run for a job about to start; returns the run id."""
        run = self.tracker.start(EXPERIMENT, tags=tags)
        run.log_params(params)
        return run.id

    def update(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Merge ``tags`` into the job's run."""
        self.tracker.backend.set_tags(run_id, tags)

    def log_progress(self, run_id: str, progress: float, step: int) -> None:
        """Record the job's progress as the metric ``progress``."""
        import time

        from modelops_core.store.contract import MetricPoint

        point = MetricPoint("progress", float(progress), step, time.time())
        self.tracker.backend.log_metrics(run_id, (point,))

    def log_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Record training-curve points (the provider's, with their steps) in one call."""
        import time

        now = time.time()
        stamped = tuple(
            point if point.timestamp else attrs.evolve(point, timestamp=now) for point in points
        )
        self.tracker.backend.log_metrics(run_id, stamped)

    def logged_steps(self, run_id: str) -> set[tuple[str, int]]:
        """The ``(key, step)`` pairs already recorded (so a re-attached job adds only new
        points)."""
        return {(point.key, point.step) for point in self.tracker.backend.get_metrics(run_id)}

    def end(self, run_id: str, status: str) -> None:
        """Close the run as ``finished`` (succeeded), ``cancelled`` or ``failed``."""
        self.tracker.backend.end_run(run_id, status)

    def get(self, run_id: str) -> RunRecord:
        """The run with this id."""
        return self.tracker.get_run(run_id)

    def find(self, job_id: str, provider: str | None = None) -> RunRecord:
        """The newest run of the job ``job_id`` (of ``provider`` when given)."""
        wanted: dict[str, Any] = {"job.id": job_id}
        if provider is not None:
            wanted["job.provider"] = provider
        runs = self._find(wanted)
        providers = sorted({str(run.tags.get("job.provider")) for run in runs})
        if not runs:
            raise JobNotFoundError(
                f"No fine-tuning job {job_id!r}"
                + (f" of provider {provider!r}" if provider else "")
                + " in the tracking store of this home; `modelops finetune list` shows the "
                "tracked jobs. Check --config / the working directory if it was started "
                "elsewhere."
            )
        if provider is None and len(providers) > 1:
            raise JobNotFoundError(
                f"Job id {job_id!r} is tracked for several providers ({', '.join(providers)}); "
                "pass provider=... (--provider) to choose one."
            )
        return runs[0]

    def recent(self, limit: int = 20) -> list[RunRecord]:
        """The newest jobs, newest first."""
        return self.tracker.list_runs(EXPERIMENT, limit)

    def _find(self, tags: Mapping[str, Any]) -> list[RunRecord]:
        find_runs = getattr(self.tracker, "find_runs", None)
        if callable(find_runs):
            found: list[RunRecord] = find_runs(experiment=EXPERIMENT, tags=dict(tags))
            return sorted(found, key=lambda run: run.started_at, reverse=True)
        return [
            run
            for run in self.tracker.list_runs(EXPERIMENT, _SCAN_LIMIT)
            if all(run.tags.get(key) == value for key, value in tags.items())
        ]
