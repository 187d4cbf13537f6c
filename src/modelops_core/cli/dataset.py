"""``modelops dataset``: validate, convert, sanitize and summarise training files.

Files are streamed (bounded memory) except by ``stats``; files over 8 MB get a progress bar
(by bytes) on stderr. Invalid data exits with code 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from modelops_core.cli.context import state
from modelops_core.gc_pause import GcPaused

EXIT_INVALID = 2
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
EXISTING_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)
OUTPUT_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group("dataset")
def dataset_group() -> None:
    """Validate, convert, sanitize and summarise datasets (JSONL in any supported shape)."""


@contextlib.contextmanager
def progress_bar(path: Path, label: str, *, refresh_thread: bool = True) -> Iterator[Any]:
    """A ``callback(bytes_read)`` driving a rich progress bar for files over 8 MB, else None.

    :param refresh_thread: redraw from rich's own thread (10 times a second); False: from the
        callback, at most 10 times a second, so no thread runs (``sanitize`` forks workers,
        which a process with threads should not do).
    """
    size = path.stat().st_size
    if size < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from modelops_core.cli.render import error_console

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=error_console(),
        transient=True,
        auto_refresh=refresh_thread,
    ) as progress:
        task = progress.add_task(f"{label} {path.name}", total=size)
        if refresh_thread:
            yield lambda read: progress.advance(task, read)
            return
        import time

        shown = [0.0]

        def advance(read: int) -> None:
            now = time.monotonic()
            redraw = now - shown[0] >= 0.1
            if redraw:
                shown[0] = now
            progress.update(task, advance=read, refresh=redraw)

        yield advance


@dataset_group.command("validate")
@click.argument("file", type=EXISTING_FILE)
@click.option(
    "--provider",
    default=None,
    help="Check the rules of this export format too (declared by an installed provider plugin).",
)
@click.option("--model", default=None, help="The model, for its token limit.")
@click.option(
    "--tokenizer",
    default="auto",
    show_default=True,
    metavar="auto|estimate|tiktoken|tiktoken:ENCODING|MODULE:CALLABLE",
    help="What counts tokens against the provider's limit: auto (the tokenizer the provider "
    "declares for the model, e.g. a tiktoken encoding, when it is installed; else the "
    "estimate), estimate (offline, approximate), tiktoken (the declared encoding), "
    "tiktoken:ENCODING, or MODULE:CALLABLE (a function text -> int). The output says which "
    "counted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--limit", default=200, show_default=True, help="Problems shown in the table.")
def validate_command(
    file: Path,
    provider: str | None,
    model: str | None,
    tokenizer: str,
    as_json: bool,
    limit: int,
) -> None:
    """Report every problem of FILE with its line; exit code 2 when there is one. Warnings
    (e.g. a message key no provider takes, without --provider) are shown but do not fail."""
    with GcPaused(promote=True):  # imports: what they make lives as long as the process
        from modelops_core.cli.render import print_json, print_table
        from modelops_core.datasets.stream import validate_file
        from modelops_core.finetune.provider_contract import ProviderCatalogue

    rules = ProviderCatalogue.of(state().runtime()).target(provider) if provider else None
    if _is_table_file(file):  # .csv / .parquet: read as a table, checked the same way
        import attrs

        from modelops_core.datasets.dataset import Dataset

        dataset = Dataset.from_file(file)
        checked = dataset.validate(rules, model, tokenizer)
        report = attrs.evolve(checked, fingerprint=dataset.fingerprint())
    else:
        with progress_bar(file, "validating") as progress:
            report = validate_file(file, rules, model, tokenizer=tokenizer, progress=progress)
    if as_json:
        print_json({**report.to_dict(), "fingerprint": report.fingerprint})
    else:
        for title, found in (("Problems", report.problems), ("Warnings", report.warnings)):
            if not found:
                continue
            rows = [
                (problem.line or "-", problem.field or "-", problem.reason)
                for problem in found[:limit]
            ]
            print_table(f"{title} in {file}", ["line", "field", title.lower()[:-1]], rows)
            if len(found) > limit:
                click.echo(f"… and {len(found) - limit} more (--limit to see them)")
        target = f" for {provider}" + (f" ({model})" if model else "") if provider else ""
        verdict = "valid" if report.ok else f"{len(report.problems)} problem(s)"
        warned = f", {len(report.warnings)} warning(s)" if report.warnings else ""
        click.echo(f"{file}: {report.examples} examples, {verdict}{warned}{target}.")
        if report.tokenizer:
            click.echo(f"tokens counted with {report.tokenizer}")
        if report.fingerprint:
            click.echo(f"fingerprint: {report.fingerprint}")
    if not report.ok:
        raise click.exceptions.Exit(EXIT_INVALID)


@dataset_group.command("convert")
@click.argument("source", type=EXISTING_FILE)
@click.argument("output", type=OUTPUT_FILE)
@click.option(
    "--to",
    "to",
    required=True,
    help="An export format declared by an installed provider plugin (an unknown name lists "
    "them), or a canonical format (chat, prompt_completion, preference).",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Write bad lines with their reasons to OUTPUT.rejected.jsonl instead of stopping.",
)
def convert_command(source: Path, output: Path, to: str, skip_invalid: bool) -> None:
    """Convert SOURCE to a provider's training format, streaming. OUTPUT may be SOURCE: it is
    replaced atomically once the conversion is complete."""
    with GcPaused(promote=True):  # imports: what they make lives as long as the process
        from modelops_core.datasets.formats import FORMATS
        from modelops_core.datasets.stream import convert_file
        from modelops_core.finetune.provider_contract import ExportTarget, ProviderCatalogue

    target: str | ExportTarget = (
        to if to in FORMATS else ProviderCatalogue.of(state().runtime()).target(to)
    )
    if _is_table_file(source):
        from modelops_core.datasets.dataset import Dataset

        dataset = Dataset.from_file(source)
        if isinstance(target, str):
            dataset.convert(target).save(output)
        else:
            dataset.export(output, target)
        click.echo(f"wrote {len(dataset)} examples to {output} ({to}).")
        return
    with progress_bar(source, "converting") as progress:
        result = convert_file(source, output, target, skip_invalid=skip_invalid, progress=progress)
    click.echo(f"wrote {result.examples} examples to {result.output} ({to}).")
    if result.rejected_path is not None:
        click.echo(f"set aside {result.rejected} invalid line(s) in {result.rejected_path}.")
        raise click.exceptions.Exit(EXIT_INVALID)


@dataset_group.command("sanitize")
@click.argument("source", type=EXISTING_FILE)
@click.argument("output", type=OUTPUT_FILE)
@click.option(
    "--report",
    "report_path",
    type=OUTPUT_FILE,
    help="Write the counts (per sanitizer, type, field, record; never values) as JSON.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Set bad lines aside in OUTPUT.rejected.jsonl, their text redacted like the records.",
)
@click.option(
    "--raw-rejected",
    is_flag=True,
    help="With --skip-invalid: keep the set-aside lines as they were, PII INCLUDED.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes sharing the file (1: one). Default: one per CPU for files of 4 MB or more "
    "(Linux). The output is the same whatever the number.",
)
def sanitize_command(
    source: Path,
    output: Path,
    report_path: Path | None,
    skip_invalid: bool,
    raw_rejected: bool,
    workers: int | None,
) -> None:
    """Run the [sanitizers] pipeline (default: pii) over SOURCE into OUTPUT, streaming.
    OUTPUT may be SOURCE: it is replaced atomically at the end."""
    with GcPaused(promote=True):  # imports: what they make lives as long as the process
        from modelops_core.cli.render import print_table
        from modelops_core.datasets.sanitize import DatasetSanitizer
        from modelops_core.datasets.write import rejected_path

    if raw_rejected and not skip_invalid:
        raise click.UsageError("--raw-rejected only applies with --skip-invalid.")
    sanitizer = DatasetSanitizer(state().runtime(), workers=workers)
    with (
        _as_jsonl(source) as readable,
        progress_bar(readable, "sanitizing", refresh_thread=False) as progress,
    ):
        report = sanitizer.sanitize_file(
            readable,
            output,
            report=report_path,
            skip_invalid=skip_invalid,
            raw_rejected=raw_rejected,
            progress=progress,
        )
    rows = []
    for stage in report["sanitizers"]:
        by_type = stage.get("by_type", {})
        detail = ", ".join(f"{kind} {count}" for kind, count in by_type.items()) or "-"
        rows.append(
            (
                stage["sanitizer"],
                stage.get("records_in", "-"),
                stage.get("records_out", "-"),
                detail,
            )
        )
    print_table(f"Sanitized {source} -> {output}", ["sanitizer", "in", "out", "findings"], rows)
    if report_path is not None:
        click.echo(f"report: {report_path}")
    rejected = report.get("lines_rejected")
    if rejected:
        side = rejected_path(output)
        if raw_rejected:
            click.secho(
                f"WARNING: {side} holds {rejected} raw line(s) as they were, PII INCLUDED "
                "(--raw-rejected). Keep it private and delete it once the lines are fixed.",
                err=True,
                fg="red",
                bold=True,
            )
        else:
            click.echo(
                f"set aside {rejected} invalid line(s) in {side}, their text redacted "
                "(--raw-rejected keeps them as they were, PII included)."
            )
        raise click.exceptions.Exit(EXIT_INVALID)


@dataset_group.command("stats")
@click.argument("file", type=EXISTING_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option(
    "--tokenizer",
    default="estimate",
    show_default=True,
    metavar="estimate|tiktoken|tiktoken:ENCODING|MODULE:CALLABLE",
    help="What counts the tokens (tiktoken: o200k_base).",
)
def stats_command(file: Path, as_json: bool, tokenizer: str) -> None:
    """Examples, characters, tokens and turns per example, role counts."""
    with GcPaused(promote=True):  # imports: what they make lives as long as the process
        from modelops_core.cli.render import print_json, print_table
        from modelops_core.datasets.dataset import Dataset
        from modelops_core.datasets.tokens import resolve_counter

    counting = resolve_counter(tokenizer)
    if _is_table_file(file):
        dataset = Dataset.from_file(file)
    else:
        with progress_bar(file, "reading") as progress:
            dataset = Dataset.from_jsonl(file, progress=progress)
    stats = dataset.stats(counting.count)
    if as_json:
        print_json(
            {**stats.to_dict(), "fingerprint": dataset.fingerprint(), "tokenizer": counting.name}
        )
        return
    print_table(f"Statistics of {file}", ["", "value"], stats.rows())
    click.echo(f"tokens counted with {counting.name}")
    click.echo(f"fingerprint: {dataset.fingerprint()}")


def _is_table_file(path: Path) -> bool:
    """A .csv or .parquet file (read as a table), not JSONL."""
    from modelops_core.datasets.tables import TABLE_SUFFIXES

    return path.suffix.lower() in TABLE_SUFFIXES


@contextlib.contextmanager
def _as_jsonl(path: Path) -> Iterator[Path]:
    """``path`` itself, or for a .csv/.parquet file its records as a temporary JSONL file."""
    if not _is_table_file(path):
        yield path
        return
    import tempfile

    from modelops_core.datasets.dataset import Dataset

    dataset = Dataset.from_file(path)
    with tempfile.TemporaryDirectory(prefix="modelops-table-") as folder:
        yield dataset.save(Path(folder) / f"{path.stem}.jsonl")
