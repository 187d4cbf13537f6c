"""``modelops monitor profile`` (a mergeable profile of data) and ``modelops monitor drift``
(drift between a reference and current data or profiles, as text, JSON or an HTML report)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from modelops_core.cli.context import state
from modelops_core.cli.monitor_performance import performance_command

_INPUT = click.Path(path_type=Path, dir_okay=False)
EXIT_DRIFT = 1
_LENGTH_HELP = (
    "A text column (an LLM's answers ...) whose length in characters is profiled too, as "
    "COLUMN.length; repeatable."
)


@click.group("monitor")
def monitor_group() -> None:
    """Profiles and drift of model inputs and outputs."""


@monitor_group.command("profile")
@click.argument("data", type=_INPUT)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the profile (JSON), e.g. ref.profile.json.",
)
@click.option("--reference", type=_INPUT, help="Profile windows against this reference.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the sketches.")
@click.option(
    "--register",
    "register_name",
    metavar="NAME",
    help="Register --model as a new version of NAME with this profile as its reference.",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path, exists=True),
    help="The model file or folder to register (with --register).",
)
@click.option("--version", "version", help="The version to register (default: the next one).")
@click.option(
    "--role",
    type=click.Choice(["training", "evaluation"]),
    default="training",
    show_default=True,
    help="Which data DATA is, recorded in the version's lineage.",
)
@click.option("--alias", "alias_name", help="Point this alias at the registered version.")
@click.option("--length", "lengths", multiple=True, metavar="COLUMN", help=_LENGTH_HELP)
@click.option(
    "--sample-rows",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Keep a seeded sample of this many rows of the numeric columns "
    "(for `monitor drift --multivariate mmd`).",
)
def profile_command(
    data: Path,
    output: Path | None,
    reference: Path | None,
    seed: int,
    register_name: str | None,
    model_path: Path | None,
    version: str | None,
    role: str,
    alias_name: str | None,
    lengths: tuple[str, ...],
    sample_rows: int,
) -> None:
    """Profile DATA (CSV, JSONL or Parquet) by chunks into a mergeable profile; write it
    (--output) and/or register a model version with it as its reference (--register)."""
    if output is None and register_name is None:
        raise click.UsageError("give --output FILE, --register NAME --model PATH, or both")
    if (register_name is None) != (model_path is None):
        raise click.UsageError("--register NAME and --model PATH go together")
    with one_blas_thread():
        from modelops_core.monitoring.profile import Profile

        reference_profile = None if reference is None else Profile.build(reference, seed=seed)
        profile = Profile.build(
            data, reference=reference_profile, seed=seed, lengths=lengths, sample_rows=sample_rows
        )
    if output is not None:
        profile.save(output)
        click.echo(f"profiled {profile.rows} rows, {len(profile.columns)} columns -> {output}")
    if register_name is not None and model_path is not None:
        from modelops_core.registry.model_registry import ModelRegistry

        with ModelRegistry(state().runtime()) as registry:
            stored = registry.register_with_profile(
                register_name, version, model_path=model_path, data=data, profile=profile, role=role
            )  # fmt: skip
            if alias_name:
                registry.set_alias(register_name, alias_name, stored.version)
        moved = f", {register_name}@{alias_name} -> {stored.version}" if alias_name else ""
        click.echo(
            f"registered {register_name} {stored.version} with the profile of its {role} data "
            f"({profile.rows} rows, {len(profile.columns)} columns){moved}"
        )


@monitor_group.command("drift")
@click.argument("reference", type=_INPUT)
@click.argument("current", type=_INPUT)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the self-contained HTML report here.",
)
@click.option(
    "--method",
    default="auto",
    show_default=True,
    help="auto (Evidently's rule) or a method: ks, chisquare, z, psi, wasserstein, "
    "jensenshannon, hellinger, anderson, mmd, or a plugin's drift test.",
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the data set drifted.")
@click.option(
    "--threshold", type=float, default=None, help="The threshold of --method (default: its own)."
)
@click.option(
    "--drift-share",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.5,
    show_default=True,
    help="Share of drifted columns that makes the data set drifted.",
)
@click.option(
    "--correction",
    type=click.Choice(["none", "bh"]),
    default="none",
    show_default=True,
    help="bh: Benjamini-Hochberg across the p-values of all columns.",
)
@click.option(
    "--min-effect",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Effect size p-value tests need on samples over 1,000 values (0: off).",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--length", "lengths", multiple=True, metavar="COLUMN", help=_LENGTH_HELP)
@click.option(
    "--multivariate",
    type=click.Choice(["mmd"]),
    help="Also test the rows of all numeric columns together (MMD on seeded row samples).",
)
def drift_command(
    reference: Path,
    current: Path,
    as_json: bool,
    report: Path | None,
    method: str,
    fail_on_drift: bool,
    threshold: float | None,
    drift_share: float,
    correction: str,
    min_effect: float,
    seed: int,
    lengths: tuple[str, ...],
    multivariate: str | None,
) -> None:
    """Drift of CURRENT against REFERENCE; each a CSV, JSONL or Parquet file or a profile.
    REFERENCE may also be NAME@ALIAS or NAME@VERSION of a registered model: the reference
    profile stored with that version."""
    from modelops_core.gc_pause import GcPaused

    with one_blas_thread(), contextlib.ExitStack() as reading:
        # the collector paused while numpy, pyarrow, the profile's modules and the plugins
        # load: what they make lives as long as the process (about 5 ms of young collections)
        with GcPaused(promote=True):
            # Both files are parsed on threads (Arrow runs without the GIL) from here on,
            # while the modules and the runtime load, and the current file while the
            # reference is profiled; each thread holds at most two chunks.
            from modelops_core.monitoring.reader import FileAhead, reads_ahead

            sides = [
                reading.enter_context(FileAhead(path)) if reads_ahead(path) else path
                for path in (reference, current)
            ]
            from modelops_core.monitoring.drift import Monitor
            from modelops_core.monitoring.profile import Profile

            # the runtime: plugins that hear of drifted columns, plugin drift methods
            runtime = state().runtime()
        reference_profile = _reference(sides[0], seed, lengths, 500 if multivariate else 0, runtime)
        thresholds = {} if threshold is None or method == "auto" else {method: threshold}
        monitor = Monitor(
            reference_profile,
            method=method,
            thresholds=thresholds,
            drift_share=drift_share,
            correction=None if correction == "none" else correction,
            min_effect=min_effect,
            seed=seed,
            runtime=runtime,
            lengths=lengths,
            multivariate=multivariate,
        )
        current_profile = Profile.build(sides[1], reference=reference_profile, seed=seed, workers=1)
        result = monitor.drift(current_profile)
    if report is not None:
        result.write_html(report, title=f"Drift of {current.name} against {reference.name}")
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_table(result.to_dict())
        if report is not None:
            click.echo(f"report: {report}")
    if fail_on_drift and result.drifted:
        raise click.exceptions.Exit(EXIT_DRIFT)


#: the variables OpenBLAS takes its number of threads from, in its order of precedence.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy (and scipy) loaded with one OpenBLAS thread while the block runs, unless the
    user chose a number or numpy is loaded already: OpenBLAS starts a thread per core when it
    loads, which spin for a while, about 70 ms of CPU time (15-25 ms of wall clock on two
    cores) of a command that multiplies no large matrices (MMD's are 500 x 500 at most). The
    variable is removed again after the block (a process started meanwhile inherits it)."""
    chosen = any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES)
    if chosen or "numpy" in sys.modules:
        yield
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OPENBLAS_NUM_THREADS", None)


def _reference(
    reference: Path | FileAhead, seed: int, lengths: tuple[str, ...], rows: int, runtime: Runtime
) -> Profile:
    """The reference: a file (read ahead) or saved profile, or ``NAME@ALIAS`` /
    ``NAME@VERSION`` of a registered model (the reference profile stored with that version)."""
    from modelops_core.monitoring.profile import Profile

    model = None
    if isinstance(reference, Path) and not reference.exists():
        # the registry's side loads only for a reference that is not a file
        from modelops_core.monitoring.reference import parse_model_reference

        model = parse_model_reference(str(reference))
    if model is None:
        return Profile.build(reference, seed=seed, lengths=lengths, sample_rows=rows, workers=1)
    from modelops_core.monitoring.reference import profile_of_model
    from modelops_core.registry.model_registry import ModelRegistry

    with ModelRegistry(runtime) as registry:
        return profile_of_model(registry, *model)


def _print_table(result: dict[str, object]) -> None:
    columns = result["columns"]
    assert isinstance(columns, list)
    header = ("column", "kind", "method", "value", "threshold", "drifted")
    rows = []
    for column in columns:
        value = column["value"]
        text = "n/a" if value is None or not math.isfinite(value) else f"{value:.4g}"
        threshold = "n/a" if column["threshold"] is None else f"{column['threshold']:g}"
        rows.append(
            (column["column"], column["kind"], column["method"], text, threshold,
             "yes" if column["drifted"] else "no")
        )  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        )
    for column in columns:
        for note in column["notes"]:
            click.echo(f"note: {column['column']}: {note}")
    share = result["share_drifted"]
    assert isinstance(share, float)
    verdict = "drifted" if result["drifted"] else "not drifted"
    click.echo(f"{share:.0%} of columns drifted: the data set is {verdict}")
    multivariate = result.get("multivariate")
    if isinstance(multivariate, dict):
        value = multivariate["value"]
        text = "n/a" if value is None else f"{value:.4g}"
        verdict = "drifted" if multivariate["drifted"] else "not drifted"
        click.echo(
            f"multivariate {multivariate['method']} on the {multivariate['column']}: "
            f"{text} ({verdict})"
        )


# --- modelops monitor health (service health: latency, errors, burn-rate alerts) ----------------

if TYPE_CHECKING:
    from modelops_core.monitoring.alerts import Delivery
    from modelops_core.monitoring.health import HealthReport
    from modelops_core.monitoring.profile import Profile
    from modelops_core.monitoring.reader import FileAhead
    from modelops_core.runtime import Runtime


@monitor_group.command("health")
@click.argument("log", type=_INPUT)
@click.option(
    "--slo",
    "slos",
    multiple=True,
    help="An objective, repeatable: availability=99.9 or latency<=300ms=99 (percent).",
)
@click.option("--window", default="5m", show_default=True, help="The span of each window.")
@click.option(
    "--at",
    "at",
    default=None,
    help="Evaluate at this time (ISO 8601 or Unix seconds; default: the last request).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-alerts", is_flag=True, help="Do not fire modelops_on_alert or publish values.")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when a burn-rate rule fires.")
def health_command(
    log: Path,
    slos: tuple[str, ...],
    window: str,
    at: str | None,
    as_json: bool,
    no_alerts: bool,
    fail_on_alert: bool,
) -> None:
    """Latency p50/p95/p99 and error rate per window of the request LOG (JSONL or Parquet),
    and multi-window burn-rate alerts on each --slo (the SRE workbook's 1h/5m 14.4x, 6h/30m
    6x, 3d/6h 1x rules)."""
    import warnings

    from modelops_core.monitoring.health import HealthLogError, health, parse_timestamp

    when = None
    if at is not None:
        try:
            when = parse_timestamp(float(at))
        except ValueError:
            when = parse_timestamp(at)
        if when is None:
            raise HealthLogError(
                f"--at {at!r}: use ISO 8601 (2026-01-05T10:00:00Z) or Unix seconds"
            )
    report = health(log, window=window, slos=slos, at=when)
    deliveries: tuple[Delivery, ...] = ()
    if not no_alerts:
        from modelops_core.monitoring.alerts import AlertManager

        runtime = state().runtime()
        manager = AlertManager(runtime, state=runtime.config.home / "monitoring" / "alerts.json")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            deliveries = manager.fire(report.alerts())
            manager.publish(report.values())
        for entry in caught:
            click.echo(f"warning: {entry.message}", err=True)
    if as_json:
        document = report.to_dict()
        document["deliveries"] = [
            {"name": d.alert.name, "subject": d.alert.subject, "fired": d.fired,
             "reason": d.reason, "failed": list(d.failed)}
            for d in deliveries
        ]  # fmt: skip
        click.echo(json.dumps(document, indent=2))
    else:
        _print_health(report, deliveries)
    if fail_on_alert and report.alerts():
        raise click.exceptions.Exit(EXIT_DRIFT)


def _print_health(report: HealthReport, deliveries: tuple[Delivery, ...]) -> None:
    from modelops_core.monitoring.health import format_duration

    def number(value: float | None, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)

    overall = report.overall
    click.echo(
        f"{report.path}: {overall.requests} requests, error rate "
        f"{number(overall.error_rate, '.4%')}, p50 {number(overall.p50, '.4g')} ms, "
        f"p95 {number(overall.p95, '.4g')} ms, p99 {number(overall.p99, '.4g')} ms"
    )
    header = ("window", "requests", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms")
    rows = [
        (w.to_dict()["start"], str(w.requests), str(w.errors), number(w.error_rate, ".4%"),
         number(w.p50, ".4g"), number(w.p95, ".4g"), number(w.p99, ".4g"))
        for w in report.windows[-12:]
    ]  # fmt: skip
    click.echo(
        f"last {len(rows)} of {len(report.windows)} windows of {format_duration(report.window)}:"
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for name, stats in report.groups.items():
        if name != "all":
            click.echo(
                f"{name}: {stats.requests} requests, error rate {number(stats.error_rate, '.4%')}, "
                f"p95 {number(stats.p95, '.4g')} ms"
            )
    for rate in report.burn_rates:
        long_rate, short_rate = number(rate.long_rate, ".2f"), number(rate.short_rate, ".2f")
        verdict = "FIRING" if rate.firing else "ok"
        click.echo(
            f"burn {rate.slo.label} {rate.subject} {rate.rule.label}: {long_rate}x / "
            f"{short_rate}x {verdict}" + "".join(f" ({note})" for note in rate.notes)
        )
    for delivery in deliveries:
        outcome = "fired" if delivery.fired else delivery.reason
        click.echo(f"alert {delivery.alert.name} [{delivery.alert.subject}]: {outcome}")
    for finding in report.findings:
        click.echo(f"finding: {finding.message}")


monitor_group.add_command(performance_command)
