"""``modelops run PIPELINE``: run a pipeline with a live display and a summary table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import Pipeline, PipelineResult, StepResult
    from modelops_core.pipeline.spec import StepSpec

EXIT_INTERRUPTED = 130
_MARKS = {"ran": "✓", "reused": "↺", "failed": "✗", "interrupted": "■", "not run": "·"}
#: Step details that explain why a step that was cached ran again.
_CHANGED = ("changed since", "is gone", "cannot be read")


@click.command("run")
@click.argument("pipeline_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--resume", is_flag=True, help="Continue a failed or interrupted run.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan: what would run or be reused and why, alias moves, missing inputs.",
)
def run_command(pipeline_file: Path | None, resume: bool, dry_run: bool) -> int:
    """Run the steps of PIPELINE_FILE (default: the [pipeline] table of modelops.toml)."""
    from modelops_core.pipeline.runner import (
        PipelineInterruptedError,
        StepFailedError,
    )

    pipeline = _pipeline(pipeline_file)
    if dry_run:
        plan = pipeline.plan(resume=resume)
        print_summary(plan, title=f"Plan of {pipeline.spec.name}")
        problems = [step for step in plan.steps if step.error]
        for step in problems:
            click.secho(f"{step.id}: {step.error}", fg="red", err=True)
        return 2 if problems else 0
    display = LiveSteps()
    try:
        result = pipeline.run(resume=resume, observer=display)
    except StepFailedError as exc:
        display.close()
        print_summary(exc.result)
        raise
    except PipelineInterruptedError as exc:
        display.close()
        print_summary(exc.result)
        click.secho(str(exc), fg="yellow", err=True)
        return EXIT_INTERRUPTED
    display.close()
    print_summary(result)
    outputs = result.outputs()
    for key in ("model_name", "model_version", "report", "evaluation"):
        if key in outputs:
            click.echo(f"{key}: {outputs[key]}")
    if result.run_id:
        click.echo(f"tracking run: {result.run_id} (modelops runs show {result.run_id})")
    return 0


def _pipeline(pipeline_file: Path | None) -> Pipeline:
    from modelops_core.pipeline.runner import Pipeline
    from modelops_core.pipeline.spec import PipelineFileError, parse_pipeline

    cli_state = state()
    runtime = cli_state.runtime()
    if pipeline_file is not None:
        return Pipeline.from_file(pipeline_file, runtime)
    table = runtime.config.section("pipeline")
    if not table:
        raise PipelineFileError(
            f"No pipeline given and {runtime.config.source} has no [pipeline] table. "
            "Run `modelops run PIPELINE.toml` (see docs/pipelines.md)."
        )
    base = Path(runtime.config.source).parent if runtime.config.source else Path.cwd()
    return Pipeline(parse_pipeline(table, source=runtime.config.source, base_dir=base), runtime)


class LiveSteps:
    """Draws each step as it runs: a spinner with the step's latest message, then a line."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self._status: Any = None

    def step_started(self, step: StepSpec, reused: bool) -> None:
        if reused:
            return
        self._status = self.console.status(f"[bold]{step.id}[/] ({step.uses}) …")
        self._status.start()

    def step_message(self, step: StepSpec, message: str) -> None:
        if self._status is not None:
            self._status.update(f"[bold]{step.id}[/] ({step.uses}) {_escape(message)}")

    def step_finished(self, result: StepResult) -> None:
        self.close()
        mark = _MARKS.get(result.status.value, " ")
        detail = f"{result.seconds:6.2f} s" if result.status.value == "ran" else ""
        if result.status.value == "ran" and any(part in result.detail for part in _CHANGED):
            detail += f"  ({_escape(result.detail)})"  # say why a cached step ran again
        self.console.print(f"{mark} {result.id:<12} {result.status.value:<11} {detail}")

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def print_summary(result: PipelineResult, title: str | None = None) -> None:
    from modelops_core.cli.render import print_table

    planned = result.status in ("planned", "blocked")
    rows = [
        (
            step.id,
            step.uses,
            step.status.value,
            f"{step.seconds:.2f}" if step.seconds else "",
            (step.error or step.detail)
            if planned
            else (_brief(step.outputs) if step.outputs else (step.error or "")),
        )
        for step in result.steps
    ]
    heading = title or f"{result.pipeline}: {result.status} in {result.seconds:.1f} s"
    last = "why" if planned else "outputs"
    print_table(heading, ["step", "uses", "status", "seconds", last], rows)


def _brief(outputs: Any, limit: int = 4) -> str:
    """The first few outputs, short: file names rather than paths, long values cut, metric
    values in full, bookkeeping (mappings other than ``metrics``) left out."""
    parts: list[str] = []
    for key, value in outputs.items():
        if len(parts) == limit:
            break
        if isinstance(value, dict):
            if key != "metrics":
                continue
            parts.append(", ".join(f"{k}={v:.4g}" for k, v in value.items()))
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, str) and "/" in value:
            value = Path(value).name
        text = str(value)
        parts.append(f"{key}: {text if len(text) <= 28 else text[:25] + '…'}")
    return "; ".join(parts)
