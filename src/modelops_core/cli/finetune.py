"""``modelops finetune …``: start (with preflight and a cost prompt), watch, status, cancel,
list and events. Jobs live in the tracking store, so every command works from a new process.

``list``, ``status`` and ``events`` print JSON with ``--json``; ``list`` asks the providers for
the jobs that are not finished yet (at most :data:`REFRESH_LIMIT`, in parallel, within
:data:`REFRESH_SECONDS` or ``--refresh-timeout``) unless ``--offline``; a job whose provider
has not answered by then is shown with its stored state, marked not refreshed, and the command
does not wait for the unanswered call to end.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.finetune.job import FineTuningJob
    from modelops_core.finetune.provider_contract import ProviderJob


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _attach(job_id: str, provider: str | None) -> FineTuningJob:
    from modelops_core.finetune.job import FineTuningJob

    return FineTuningJob.attach(job_id, state().runtime(), provider=provider)


_provider_option = click.option(
    "--provider", help="The provider, when two providers used the same job id."
)


@click.group("finetune")
def finetune_group() -> None:
    """Fine-tune models on any provider and follow the jobs."""


@finetune_group.command("start")
@click.option(
    "--model",
    required=True,
    help="Base model as its provider names it, e.g. local:logreg (the provider claiming the "
    "name runs the job unless --provider or [providers] default says otherwise).",
)
@click.option(
    "--dataset",
    "dataset_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Training data (JSONL).",
)
@click.option("--provider", help="Provider (default: [providers] default or from the model).")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Default: the provider's own (local 0.05; OpenAI and Vertex choose one). Hosted "
    "providers take it as a multiplier.",
)
@click.option(
    "--method",
    type=click.Choice(["supervised", "preference"]),
    default="supervised",
    show_default=True,
)
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--seed", type=int)
@click.option("--suffix", help="A short name the provider adds to the tuned model's name.")
@click.option(
    "--validation-dataset",
    "validation_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Held-out data (JSONL).",
)
@click.option("--register-as", help="Register the tuned model under this name on success.")
@click.option("--yes", "-y", is_flag=True, help="Start without asking (needed without a TTY).")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the whole preflight report (every warning and problem) as JSON.",
)
@click.option("--watch", is_flag=True, help="Follow the job with a live progress display.")
@click.option("--timeout", type=float, help="Seconds --watch waits (default [finetune] timeout).")
def start_command(
    model: str,
    dataset_path: Path,
    provider: str | None,
    epochs: int,
    learning_rate: float | None,
    method: str,
    batch_size: int | None,
    seed: int | None,
    suffix: str | None,
    validation_path: Path | None,
    register_as: str | None,
    yes: bool,
    report_path: Path | None,
    watch: bool,
    timeout: float | None,
) -> int:
    """Check the dataset, show the cost estimate, then start a fine-tuning job."""
    from modelops_core.finetune.errors import PreflightError
    from modelops_core.finetune.job import FineTuningJob

    job = FineTuningJob(
        model=model,
        dataset=dataset_path,
        epochs=epochs,
        learning_rate=learning_rate,
        provider=provider,
        method=method,
        batch_size=batch_size,
        seed=seed,
        validation_dataset=validation_path,
        suffix=suffix,
        runtime=state().runtime(),
        register_as=register_as,
    )
    report = job.preflight()
    if report_path is not None:
        report_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not report.ok:
        raise PreflightError(report)
    click.echo(report.to_text(shown=_SHOWN_WARNINGS))
    if len(report.warnings) > _SHOWN_WARNINGS:
        where = report_path or "FILE"
        click.echo(f"every warning: {'in ' if report_path else '--report '}{where}")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(
                "Not starting: confirmation needs a terminal. Pass --yes to start the job "
                "(the estimate above is what it may cost)."
            )
        click.confirm("Start the job?", abort=True)
    job.start(report)
    click.echo(
        f"Started job {job.id} on {job.provider}; follow it with "
        f"`modelops finetune watch {job.id}`."
    )
    if job.learning_warning:
        click.secho(f"warning: {job.learning_warning}", fg="yellow", err=True)
    if watch:
        return _watch(job, timeout)
    return 0


#: duplicate (and other) warnings listed by ``finetune start``; the rest go to ``--report``.
_SHOWN_WARNINGS = 5


def _watch(job: FineTuningJob, timeout: float | None) -> int:
    """Follow ``job`` with a rich progress bar; exit code 0 only when it succeeded, 130 when
    the user stopped watching (Ctrl-C: the job goes on)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from modelops_core.finetune.curves import ProgressEstimate
    from modelops_core.finetune.provider_contract import JobStatus

    estimate = ProgressEstimate()

    def describe(snapshot: ProviderJob | None) -> str:
        if snapshot is None:
            return "pending"
        count = estimate.text()
        return f"{snapshot.status.value} ({snapshot.raw_status})" + (f" {count}" if count else "")

    class _Interpolating(Progress):
        """Moves the bar by time between the provider's reports at every redraw."""

        def get_renderables(self) -> Any:
            for task_id in self.task_ids:
                completed = round(estimate.fraction(time.monotonic()) * _STEPS)
                self.update(task_id, completed=completed, refresh=False)
            yield from super().get_renderables()

    columns = (
        TextColumn("job {task.fields[job]}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    if job.snapshot is not None:
        estimate.report(job.snapshot, time.monotonic())
    try:
        with _Interpolating(*columns, console=Console()) as progress:
            task = progress.add_task(
                "fine-tuning", total=_STEPS, job=job.id, status=describe(job.snapshot)
            )

            def update(snapshot: ProviderJob) -> None:
                estimate.report(snapshot, time.monotonic())
                progress.update(task, status=describe(snapshot))

            status = job.wait(timeout=timeout, on_update=update)
            if job.snapshot is not None:
                update(job.snapshot)
    except KeyboardInterrupt:
        _stopped_watching(job)
        return 130
    _print_summary(job)
    return 0 if status is JobStatus.SUCCEEDED else 1


def _stopped_watching(job: FineTuningJob) -> None:
    """What Ctrl-C in ``watch`` leaves behind: the job, still running, and how to reach it."""
    snapshot = job.snapshot
    state_text = f" (last seen {snapshot.status.value})" if snapshot is not None else ""
    click.secho(
        f"Stopped watching. Job {job.id} keeps running at {job.provider}{state_text} and stays "
        f"tracked.\n  re-attach: modelops finetune watch {job.id}\n"
        f"  state:     modelops finetune status {job.id}\n"
        f"  cancel:    modelops finetune cancel {job.id}",
        fg="yellow",
        err=True,
    )


def _progress_of(snapshot: ProviderJob | None) -> float:
    """The progress a snapshot shows (1.0 once succeeded), without asking the provider."""
    if snapshot is None:
        return 0.0
    if snapshot.status.value == "succeeded":
        return 1.0
    return min(max(snapshot.progress or 0.0, 0.0), 1.0)


#: the progress bar counts thousandths (rich counts whole steps).
_STEPS = 1000


def _print_summary(job: FineTuningJob) -> None:
    from modelops_core.cli.render import print_table

    snapshot = job.snapshot
    if job.learning_warning:
        click.secho(f"warning: {job.learning_warning}", fg="yellow", err=True)
    rows: list[tuple[str, Any]] = [
        ("job", job.id),
        ("provider", job.provider),
        ("model", job.model),
        ("status", snapshot.status.value if snapshot else "pending"),
        ("raw status", snapshot.raw_status if snapshot else ""),
        ("progress", f"{_progress_of(snapshot):.1%}"),
        ("fine-tuned model", (snapshot.fine_tuned_model if snapshot else None) or ""),
        ("error", (snapshot.error if snapshot else None) or ""),
        ("registered", job.registered or ""),
        ("tracking run", job.run_id or ""),
    ]
    position = _position(snapshot)
    if position:
        rows.insert(6, ("reported", position))
    if job.learning_warning:
        rows.append(("warning", job.learning_warning))
    print_table(f"fine-tuning job {job.id}", ["field", "value"], rows, prose=("value",))


def _position(snapshot: ProviderJob | None) -> str:
    from modelops_core.finetune.curves import reported_position

    position = reported_position(snapshot.details) if snapshot is not None else None
    return position.text() if position is not None else ""


def _job_document(job: FineTuningJob) -> dict[str, Any]:
    """``finetune status --json``: the snapshot, the tracking run and the training curves."""
    snapshot = job.snapshot
    document: dict[str, Any] = {
        "job": job.id,
        "provider": job.provider,
        "model": job.model,
        "status": snapshot.status.value if snapshot else "pending",
        "raw_status": snapshot.raw_status if snapshot else None,
        "progress": _progress_of(snapshot),
        "reported": _position(snapshot) or None,
        "fine_tuned_model": snapshot.fine_tuned_model if snapshot else None,
        "error": snapshot.error if snapshot else None,
        "trained_tokens": snapshot.trained_tokens if snapshot else None,
        "registered": job.registered,
        "tracking_run": job.run_id,
        "warning": job.learning_warning,
    }
    if job.run_id is not None:
        series: dict[str, list[list[float]]] = {}
        for point in job.store.tracker.backend.get_metrics(job.run_id):
            series.setdefault(point.key, []).append([point.step, point.value])
        document["metrics"] = {key: sorted(points) for key, points in series.items()}
    return document


@finetune_group.command("status")
@click.argument("job_id")
@_provider_option
@click.option("--offline", is_flag=True, help="Show the stored state; do not ask the provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the training curves).")
def status_command(job_id: str, provider: str | None, offline: bool, as_json: bool) -> None:
    """Show the state of job JOB_ID (asks the provider unless --offline)."""
    from modelops_core.cli.render import print_json
    from modelops_core.finetune.provider_contract import ProviderUnavailableError

    job = _attach(job_id, provider)
    try:
        if not offline and not (job.snapshot and job.snapshot.status.finished):
            try:
                job.refresh()
            except ProviderUnavailableError as exc:
                click.secho(f"showing the stored state: {exc}", fg="yellow", err=True)
        if as_json:
            print_json(_job_document(job))
        else:
            _print_summary(job)
    finally:
        job.close()


@finetune_group.command("watch")
@click.argument("job_id")
@_provider_option
@click.option("--timeout", type=float, help="Seconds to wait (default [finetune] timeout).")
def watch_command(job_id: str, provider: str | None, timeout: float | None) -> int:
    """Follow job JOB_ID until it finishes (re-attaches to a job started anywhere)."""
    return _watch(_attach(job_id, provider), timeout)


@finetune_group.command("cancel")
@click.argument("job_id")
@_provider_option
def cancel_command(job_id: str, provider: str | None) -> None:
    """Ask the provider to cancel job JOB_ID."""
    job = _attach(job_id, provider)
    status = job.cancel()
    click.echo(f"Job {job.id}: {status.value} ({job.snapshot.raw_status if job.snapshot else ''})")


#: ``finetune list`` asks the providers about at most this many unfinished jobs (the newest),
REFRESH_LIMIT = 10
#: with this many at a time,
REFRESH_WORKERS = 4
#: and shows what it has after this many seconds (a slow provider keeps its stored state).
REFRESH_SECONDS = 10.0


def _refresh_unfinished(runs: list[Any], runtime: Any, seconds: float) -> dict[str, str]:
    """Ask the providers for the newest unfinished jobs, in parallel and bounded; the new
    state is recorded in the tracking store (as ``finetune status`` does). Returns, per run
    id, why a job kept its stored state.

    The askers are daemon threads and nobody waits for them after ``seconds``: a provider
    that never answers costs the listing its time limit, not the life of the process (at exit
    an unanswered call is abandoned; a store write it had not committed is rolled back)."""
    import queue
    import threading

    from modelops_core.errors import ModelOpsError
    from modelops_core.finetune.job import FineTuningJob
    from modelops_core.finetune.provider_contract import JobStatus

    finished = {status.value for status in JobStatus if status.finished}
    due = [
        run
        for run in runs
        if run.tags.get("job.id") and str(run.tags.get("job.status", "")) not in finished
    ][:REFRESH_LIMIT]
    if not due:
        return {}
    todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for run in due:
        todo.put(run)
    answers: queue.SimpleQueue[tuple[str, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()  # set at the deadline: ask nobody new

    def ask() -> None:
        while not stop.is_set():
            try:
                run = todo.get_nowait()
            except queue.Empty:
                return
            try:
                job = FineTuningJob.attach(
                    str(run.tags["job.id"]),
                    runtime,
                    provider=str(run.tags.get("job.provider") or ""),
                )
                try:
                    job.refresh()
                finally:
                    job.close()
            except BaseException as exc:  # handed to the listing thread, which decides
                answers.put((run.run_id, exc))
            else:
                answers.put((run.run_id, None))

    for number in range(min(REFRESH_WORKERS, len(due))):
        threading.Thread(target=ask, name=f"finetune-list-{number}", daemon=True).start()
    deadline = time.monotonic() + seconds
    answered: dict[str, BaseException | None] = {}
    while len(answered) < len(due):
        try:
            run_id, error = answers.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            break
        answered[run_id] = error
    stop.set()
    stale: dict[str, str] = {}
    for run in due:
        if run.run_id not in answered:
            stale[run.run_id] = f"no answer within {seconds:g}s"
            continue
        error = answered[run.run_id]
        if isinstance(error, ModelOpsError):
            stale[run.run_id] = str(error).splitlines()[0]
        elif error is not None:
            raise error
    return stale


@finetune_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offline", is_flag=True, help="Show the stored states; do not ask the providers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--refresh-timeout",
    type=click.FloatRange(min=0),
    default=REFRESH_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Show the stored state of a job whose provider has not answered by then.",
)
def list_command(limit: int, offline: bool, as_json: bool, refresh_timeout: float) -> None:
    """List the tracked jobs, newest first; unfinished jobs are refreshed from their provider
    (the newest 10, in parallel) unless --offline."""
    from modelops_core.cli.render import print_json, print_table
    from modelops_core.finetune.job_tracking import JobStore

    runtime = state().runtime()
    store = JobStore(runtime)
    try:
        runs = store.recent(limit)
        stale: dict[str, str] = {}
        if not offline:
            stale = _refresh_unfinished(runs, runtime, refresh_timeout)
            runs = store.recent(limit)  # with what the providers said
    finally:
        store.close()
    for run_id, reason in stale.items():
        job_id = next((r.tags.get("job.id") for r in runs if r.run_id == run_id), run_id)
        click.secho(
            f"{job_id}: not refreshed ({reason}); showing the stored state", fg="yellow", err=True
        )
    documents = []
    for run in runs:
        tags, params = run.tags, run.params
        progress = tags.get("job.progress")
        documents.append(
            {
                "job": tags.get("job.id") or None,
                "provider": tags.get("job.provider", ""),
                "model": params.get("model", ""),
                "status": tags.get("job.status", ""),
                "raw_status": tags.get("job.raw_status", ""),
                "progress": progress if isinstance(progress, int | float) else None,
                "fine_tuned_model": tags.get("job.fine_tuned_model") or None,
                "started": _when(run.started_at),
                "tracking_run": run.run_id,
                "warning": tags.get("job.warning") or None,
                "not_refreshed": stale.get(run.run_id),
            }
        )
    if as_json:
        print_json(documents)
        return
    rows = [
        [
            d["job"] or "(not started)",
            d["provider"],
            d["model"],
            f"{d['status']} (not refreshed)" if d["not_refreshed"] else d["status"],
            d["raw_status"],
            f"{d['progress']:.1%}" if d["progress"] is not None else "",
            d["fine_tuned_model"] or "",
            d["started"],
        ]
        for d in documents
    ]
    columns = ["job", "provider", "model", "status", "raw", "progress", "fine-tuned", "started"]
    print_table("fine-tuning jobs", columns, rows)


@finetune_group.command("events")
@click.argument("job_id")
@_provider_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each event's data).")
def events_command(job_id: str, provider: str | None, as_json: bool) -> None:
    """Show the provider's event log of job JOB_ID, oldest first."""
    from modelops_core.cli.render import print_json, print_table

    job = _attach(job_id, provider)
    try:
        events = job.events()
    finally:
        job.close()
    if as_json:
        print_json(
            [
                {
                    "time": _when(e.created_at),
                    "created_at": e.created_at,
                    "level": e.level,
                    "message": e.message,
                    "data": dict(e.data),
                }
                for e in events
            ]
        )
        return
    rows = [[_when(e.created_at), e.level, e.message] for e in events]
    print_table(f"events of job {job_id}", ["time", "level", "message"], rows, prose=("message",))
