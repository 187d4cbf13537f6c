"""``modelops experiment start/status/stop/report/feedback``: A/B experiments on served models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup

if TYPE_CHECKING:
    from modelops_core.serving.experiments.analysis import ExperimentAnalysis
    from modelops_core.serving.experiments.store import ExperimentStore


@click.group("experiment", cls=HintingGroup)
def experiment_group() -> None:
    """A/B experiments: split a model's traffic between two aliases, collect outcomes,
    decide with always-valid statistics."""


def _fail(error: BaseException) -> NoReturn:
    from modelops_core.cli.main import fail

    fail(error)


def _store() -> ExperimentStore:
    from modelops_core.serving.experiments.store import ExperimentStore

    return ExperimentStore(state().runtime())


def _percent(text: str | None) -> float | None:
    """``"2%"`` -> 0.02; ``"0.02"`` -> 0.02."""
    if text is None:
        return None
    from modelops_core.serving.experiments.errors import ExperimentDefinitionError

    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ExperimentDefinitionError(
            f"--mde {text!r} is not a relative change; write e.g. 2% or 0.02."
        ) from None


@experiment_group.command("start")
@click.argument("name")
@click.option("--model", required=True, help="The registered model whose traffic is split.")
@click.option("--control", required=True, metavar="ALIAS", help="The alias that serves now.")
@click.option("--treatment", required=True, metavar="ALIAS", help="The alias under test.")
@click.option(
    "--split",
    required=True,
    type=float,
    metavar="PERCENT",
    help="The treatment's percent of the traffic (0 < PERCENT < 100).",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    required=True,
    metavar="NAME[:KIND][:lower]",
    help="An outcome the feedback reports; KIND is mean (default), sum or proportion. The "
    "first decides; repeatable.",
)
@click.option(
    "--guardrail",
    "guardrails",
    multiple=True,
    metavar="METRIC<+LIMIT",
    help="A request-log limit, e.g. latency_p99<+10% or error_rate<+0.01; repeatable.",
)
@click.option("--min-sample", type=int, default=0, help="Units each arm needs (default 0).")
@click.option("--mde", default=None, help="Smallest relative change worth detecting (2%).")
@click.option(
    "--correction",
    type=click.Choice(["holm", "bh"]),
    default="holm",
    help="Multiple-testing correction across metrics.",
)
@click.option("--alpha", type=float, default=0.05, help="Significance level (default 0.05).")
@click.option("--json", "as_json", is_flag=True, help="Print the experiment as JSON.")
def start_command(
    name: str,
    model: str,
    control: str,
    treatment: str,
    split: float,
    metrics: tuple[str, ...],
    guardrails: tuple[str, ...],
    min_sample: int,
    mde: str | None,
    correction: str,
    alpha: float,
    as_json: bool,
) -> None:
    """Start experiment NAME: send --split percent of MODEL's traffic to --treatment, the
    rest to --control (a running server applies it within a second), e.g.

    \b
    modelops experiment start router-v2 --model ticket-router --control production \\
        --treatment candidate --split 50 --metric resolved:proportion \\
        --guardrail latency_p99<+10% --min-sample 10000
    """
    from modelops_core.errors import ModelOpsError
    from modelops_core.registry.model_registry import _default_actor

    try:
        with _store() as store:
            experiment = store.start(
                name,
                model=model,
                control=control,
                treatment=treatment,
                split=split,
                metrics=metrics,
                guardrails=guardrails,
                min_sample=min_sample,
                mde=_percent(mde),
                correction=correction,
                alpha=alpha,
                actor=_default_actor(store.runtime.environ),
            )
    except ModelOpsError as exc:
        _fail(exc)
    if as_json:
        from modelops_core.cli.render import print_json

        print_json(experiment.to_dict())
        return
    click.echo(
        f"{name}: {model} {control}={100 - experiment.split:g} "
        f"{treatment}={experiment.split:g}; metrics {', '.join(m.spec for m in experiment.metrics)}"
        + (f"; guardrails {', '.join(g.spec for g in experiment.guardrails)}" if guardrails else "")
    )


def _analysis(store: ExperimentStore, name: str) -> ExperimentAnalysis:
    return store.analyze(name)


def _summary(analysis: ExperimentAnalysis) -> list[Any]:
    from modelops_core.cli.render import significant

    experiment = analysis.experiment
    primary = analysis.primary
    effect = "n/a"
    if primary is not None and primary.control_units >= 2 and primary.treatment_units >= 2:
        effect = (
            f"{significant(primary.sequential.effect)} [{significant(primary.sequential.low)}, "
            f"{significant(primary.sequential.high)}]"
        )
    return [
        experiment.name,
        experiment.model,
        f"{experiment.control} {100 - experiment.split:g}% / {experiment.treatment} "
        f"{experiment.split:g}%",
        experiment.status,
        f"{analysis.sample_ratio.control} / {analysis.sample_ratio.treatment}",
        effect,
        analysis.decision,
    ]


@experiment_group.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(name: str | None, as_json: bool) -> None:
    """Show NAME's units per arm, effect, guardrails and decision (every experiment when
    NAME is left out)."""
    from modelops_core.errors import ModelOpsError

    try:
        with _store() as store:
            names = [name] if name else [e.name for e in store.all()]
            analyses = [_analysis(store, n) for n in names]
    except ModelOpsError as exc:
        _fail(exc)
    if as_json:
        from modelops_core.cli.render import print_json

        found = [a.to_dict() for a in analyses]
        print_json(found[0] if name else found)
        return
    from modelops_core.cli.render import print_table

    columns = [
        "experiment",
        "model",
        "split",
        "status",
        "units c / t",
        "effect [always-valid]",
        "decision",
    ]
    print_table("experiments", columns, [_summary(a) for a in analyses])
    if name and analyses:
        analysis = analyses[0]
        click.echo(f"{analysis.decision}: {analysis.reason}")
        for guardrail in analysis.guardrails:
            click.echo(f"guardrail {guardrail.spec}: {guardrail.state}")
        for warning in analysis.warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)


@experiment_group.command("stop")
@click.argument("name")
@click.option(
    "--keep-traffic",
    is_flag=True,
    help="Leave the experiment's split in place (default: restore the split from before).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final analysis as JSON.")
def stop_command(name: str, keep_traffic: bool, as_json: bool) -> None:
    """Stop NAME (its analysis keeps the window it ran in) and restore the model's split."""
    from modelops_core.errors import ModelOpsError

    try:
        with _store() as store:
            experiment = store.stop(name, restore_traffic=not keep_traffic)
            analysis = _analysis(store, name)
    except ModelOpsError as exc:
        _fail(exc)
    if as_json:
        from modelops_core.cli.render import print_json

        print_json(analysis.to_dict())
        return
    traffic = "kept" if keep_traffic else "restored"
    click.echo(f"{name}: stopped; traffic of {experiment.model} {traffic}.")
    click.echo(f"{analysis.decision}: {analysis.reason}")


@experiment_group.command("report")
@click.argument("name")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the HTML report here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
def report_command(name: str, output: Path | None, as_json: bool) -> None:
    """Analyse NAME: the decision, the effect over time, SRM, guardrails (HTML with
    --output, JSON with --json)."""
    from modelops_core.errors import ModelOpsError

    try:
        with _store() as store:
            analysis = _analysis(store, name)
    except ModelOpsError as exc:
        _fail(exc)
    if output is not None:
        from modelops_core.serving.experiments.report import write_experiment_report

        write_experiment_report(analysis, output)
    if as_json:
        from modelops_core.cli.render import print_json

        print_json(analysis.to_dict())
        return
    click.echo(f"{analysis.decision}: {analysis.reason}")
    for warning in analysis.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if output is not None:
        click.echo(f"report: {output}")


@experiment_group.command("feedback")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def feedback_command(file: Path, as_json: bool) -> None:
    """Store the outcomes in FILE (.jsonl, .json or .csv with unit or request_id, metric,
    value[, pre, experiment, id, timestamp]); the whole file or nothing. A file sent twice
    counts once."""
    from modelops_core.errors import ModelOpsError
    from modelops_core.serving.experiments.feedback import ingest_file

    try:
        with _store() as store:
            result = ingest_file(store, file)
    except ModelOpsError as exc:
        _fail(exc)
    if as_json:
        from modelops_core.cli.render import print_json

        print_json(result)
        return
    for name, counts in sorted(result.items()):
        click.echo(f"{name}: {counts['added']} added, {counts['duplicates']} already stored")
