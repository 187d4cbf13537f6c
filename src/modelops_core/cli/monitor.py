"""``modelops monitor profile`` (a mergeable profile of data) and ``modelops monitor drift``
(drift between a reference and current data or profiles, as text, JSON or an HTML report)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from modelops_core.cli.context import state

_INPUT = click.Path(path_type=Path, dir_okay=False)
EXIT_DRIFT = 1


@click.group("monitor")
def monitor_group() -> None:
    """Profiles and drift of model inputs and outputs."""


@monitor_group.command("profile")
@click.argument("data", type=_INPUT)
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the profile (JSON), e.g. ref.profile.json.",
)
@click.option("--reference", type=_INPUT, help="Profile windows against this reference.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the sketches.")
def profile_command(data: Path, output: Path, reference: Path | None, seed: int) -> None:
    """Profile DATA (CSV, JSONL or Parquet) by chunks into a mergeable profile."""
    from modelops_core.monitoring.profile import Profile

    reference_profile = None if reference is None else Profile.build(reference, seed=seed)
    profile = Profile.build(data, reference=reference_profile, seed=seed)
    profile.save(output)
    click.echo(f"profiled {profile.rows} rows, {len(profile.columns)} columns -> {output}")


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
) -> None:
    """Drift of CURRENT against REFERENCE; each a CSV, JSONL or Parquet file or a profile."""
    from modelops_core.monitoring.drift import Monitor
    from modelops_core.monitoring.profile import Profile

    runtime = state().runtime()
    thresholds = {} if threshold is None or method == "auto" else {method: threshold}
    reference_profile = Profile.build(reference, seed=seed)
    monitor = Monitor(
        reference_profile,
        method=method,
        thresholds=thresholds,
        drift_share=drift_share,
        correction=None if correction == "none" else correction,
        min_effect=min_effect,
        seed=seed,
        runtime=runtime,
    )
    result = monitor.drift(Profile.build(current, reference=reference_profile, seed=seed))
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
