"""``modelops finetune …``: start (with preflight and a cost prompt), watch, status, cancel,
list and events. Jobs live in the tracking store, so every command works from a new process.
"""

from __future__ import annotations

import datetime
import sys
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
@click.option("--learning-rate", type=float, default=1e-5, show_default=True)
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
@click.option("--watch", is_flag=True, help="Follow the job with a live progress display.")
@click.option("--timeout", type=float, help="Seconds --watch waits (default [finetune] timeout).")
def start_command(
    model: str,
    dataset_path: Path,
    provider: str | None,
    epochs: int,
    learning_rate: float,
    method: str,
    batch_size: int | None,
    seed: int | None,
    suffix: str | None,
    validation_path: Path | None,
    register_as: str | None,
    yes: bool,
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
    if not report.ok:
        raise PreflightError(report)
    click.echo(report.to_text())
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
    if watch:
        return _watch(job, timeout)
    return 0


def _watch(job: FineTuningJob, timeout: float | None) -> int:
    """Follow ``job`` with a rich progress bar; exit code 0 only when it succeeded."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from modelops_core.finetune.provider_contract import JobStatus

    def describe(snapshot: ProviderJob | None) -> str:
        if snapshot is None:
            return "pending"
        return f"{snapshot.status.value} ({snapshot.raw_status})"

    columns = (
        TextColumn("job {task.fields[job]}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console()) as progress:
        task = progress.add_task(
            "fine-tuning", total=_STEPS, completed=_steps(job.snapshot), job=job.id,
            status=describe(job.snapshot),
        )  # fmt: skip

        def update(snapshot: ProviderJob) -> None:
            progress.update(task, completed=_steps(snapshot), status=describe(snapshot))

        status = job.wait(timeout=timeout, on_update=update)
        update_final = job.snapshot
        progress.update(task, completed=_steps(update_final), status=describe(update_final))
    _print_summary(job)
    return 0 if status is JobStatus.SUCCEEDED else 1


def _progress_of(snapshot: ProviderJob | None) -> float:
    """The progress a snapshot shows (1.0 once succeeded), without asking the provider."""
    if snapshot is None:
        return 0.0
    if snapshot.status.value == "succeeded":
        return 1.0
    return min(max(snapshot.progress or 0.0, 0.0), 1.0)


#: the progress bar counts thousandths (rich counts whole steps).
_STEPS = 1000


def _steps(snapshot: ProviderJob | None) -> int:
    return round(_progress_of(snapshot) * _STEPS)


def _print_summary(job: FineTuningJob) -> None:
    from modelops_core.cli.render import print_table

    snapshot = job.snapshot
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
    print_table(f"fine-tuning job {job.id}", ["field", "value"], rows)


@finetune_group.command("status")
@click.argument("job_id")
@_provider_option
@click.option("--offline", is_flag=True, help="Show the stored state; do not ask the provider.")
def status_command(job_id: str, provider: str | None, offline: bool) -> None:
    """Show the state of job JOB_ID (asks the provider unless --offline)."""
    from modelops_core.finetune.provider_contract import ProviderUnavailableError

    job = _attach(job_id, provider)
    if not offline and not (job.snapshot and job.snapshot.status.finished):
        try:
            job.refresh()
        except ProviderUnavailableError as exc:
            click.secho(f"showing the stored state: {exc}", fg="yellow", err=True)
    _print_summary(job)


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


@finetune_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def list_command(limit: int) -> None:
    """List the tracked jobs, newest first (from the tracking store; no provider call)."""
    from modelops_core.cli.render import print_table
    from modelops_core.finetune.job_tracking import JobStore

    store = JobStore(state().runtime())
    try:
        runs = store.recent(limit)
    finally:
        store.close()
    rows = []
    for run in runs:
        tags, params = run.tags, run.params
        progress = tags.get("job.progress")
        rows.append(
            [
                tags.get("job.id") or "(not started)",
                tags.get("job.provider", ""),
                params.get("model", ""),
                tags.get("job.status", ""),
                tags.get("job.raw_status", ""),
                f"{progress:.1%}" if isinstance(progress, int | float) else "",
                tags.get("job.fine_tuned_model", ""),
                _when(run.started_at),
            ]
        )
    columns = ["job", "provider", "model", "status", "raw", "progress", "fine-tuned", "started"]
    print_table("fine-tuning jobs", columns, rows)


@finetune_group.command("events")
@click.argument("job_id")
@_provider_option
def events_command(job_id: str, provider: str | None) -> None:
    """Show the provider's event log of job JOB_ID, oldest first."""
    from modelops_core.cli.render import print_table

    job = _attach(job_id, provider)
    rows = [[_when(e.created_at), e.level, e.message] for e in job.events()]
    print_table(f"events of job {job_id}", ["time", "level", "message"], rows)
