"""``modelops eval run`` (metrics, intervals, report) and ``modelops eval compare`` (A/B)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.evaluation.compare import Comparison
    from modelops_core.runtime import Runtime

_DATA_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)
#: a probability strictly between 0 and 1 (a confidence level, a significance level).
_OPEN_UNIT_INTERVAL = click.FloatRange(0, 1, min_open=True, max_open=True)
# modelops_core.evaluation.compare.PAIRED_TESTS, spelled out: importing it would import numpy
PAIRED_TEST_CHOICES = (
    "mcnemar-exact",
    "mcnemar-mid-p",
    "mcnemar-chi2",
    "mcnemar-chi2-corrected",
    "wilcoxon",
    "paired-t",
)


def _input_files(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--predictions`` (``what`` per row) and ``--references`` (optional, same order)."""
    predictions = click.option(
        "--predictions",
        "predictions_path",
        required=True,
        type=_DATA_FILE,
        help=f"JSONL or CSV with {what} per row (and the reference, unless --references is given).",
    )
    references = click.option(
        "--references",
        "references_path",
        type=_DATA_FILE,
        help="JSONL or CSV with the reference of each row of --predictions, same order.",
    )
    return lambda command: predictions(references(command))


@click.group("eval", cls=HintingGroup)
def eval_group() -> None:
    """Evaluate predictions with metric plugins; compare two results."""


@eval_group.command("run")
@_input_files("a prediction")
@click.option(
    "--metrics",
    default="",
    help="Comma-separated metric names (default: [evaluation] metrics of the config).",
)
@click.option("--prediction-key", default="prediction", show_default=True)
@click.option("--reference-key", default="reference", show_default=True)
@click.option(
    "--scores",
    "scores_key",
    default=None,
    help="Column of scores/probabilities for auc_roc, log_loss, brier, ece ...",
)
@click.option(
    "--groups",
    "groups_key",
    default=None,
    help="Column of group labels: every scalar metric is also computed per group.",
)
@click.option(
    "--labels", default=None, help="Comma-separated declared labels; any other label is an error."
)
@click.option(
    "--bootstrap",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bootstrap resamples for confidence intervals (0: none; 1000 is typical).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bootstrap.")
@click.option(
    "--level",
    default=0.95,
    show_default=True,
    type=_OPEN_UNIT_INTERVAL,
    help="Confidence level of the intervals.",
)
@click.option(
    "--method",
    default="percentile",
    show_default=True,
    type=click.Choice(["percentile", "basic", "bca"]),
    help="Interval method.",
)
@click.option("--model-id", default=None, help="The model id recorded in the result.")
@click.option(
    "--output",
    "output_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the full result (values, intervals, groups, per-example data) as JSON.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a self-contained HTML report with plots.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (values, intervals, per-group values and intervals, group sizes) instead "
    "of tables; --output also has the per-example data and curves.",
)
def run_command(
    predictions_path: Path,
    references_path: Path | None,
    metrics: str,
    prediction_key: str,
    reference_key: str,
    scores_key: str | None,
    groups_key: str | None,
    labels: str | None,
    bootstrap: int,
    seed: int,
    level: float,
    method: str,
    model_id: str | None,
    output_path: Path | None,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Compute metrics over predictions and references; extra columns (latency_ms …) reach
    the metrics that take them."""
    from modelops_core.cli.render import print_json
    from modelops_core.evaluation.run import evaluate_predictions

    runtime = state().runtime()
    chosen = choose_metrics(runtime.config.metrics, metrics)
    if not chosen:
        raise click.UsageError(
            "No metrics chosen: pass --metrics a,b or set [evaluation] metrics in modelops.toml."
        )
    records = load_records(predictions_path, references_path)
    source = str(predictions_path)
    used = {prediction_key, reference_key, scores_key, groups_key}
    others = sorted({key for record in records[:1] for key in record} - used)
    result = evaluate_predictions(
        column(records, prediction_key, source),
        column(records, reference_key, source),
        metrics=chosen,
        runtime=runtime,
        scores=None if scores_key is None else column(records, scores_key, source),
        groups=None if groups_key is None else column(records, groups_key, source),
        labels=None if labels is None else _parse_labels(labels, records, reference_key),
        bootstrap=bootstrap,
        seed=seed,
        level=level,
        method=method,
        model_id=model_id,
        columns={key: column(records, key, source) for key in others},
    )
    if output_path is not None:
        result.to_json(output_path)
    if report_path is not None:
        result.to_html(report_path)
    if as_json:
        document = result.to_dict()
        print_json({k: v for k, v in document.items() if k not in _LARGE_PARTS})
    else:
        notes = zero_notes(runtime, chosen, result, records, prediction_key, reference_key)
        print_metric_table(f"Metrics over {len(records)} examples", result, notes)


#: parts of a result that ``eval run --json`` leaves to ``--output`` (one value per example).
_LARGE_PARTS = ("per_example", "curves")


@eval_group.command("compare")
@click.argument("result_a", type=_DATA_FILE)
@click.argument("result_b", type=_DATA_FILE)
@click.option("--metrics", default="", help="Comma-separated metrics (default: all shared).")
@click.option(
    "--alpha", default=0.05, show_default=True, type=_OPEN_UNIT_INTERVAL, help="Significance level."
)
@click.option(
    "--adjust",
    default="holm",
    show_default=True,
    type=click.Choice(["holm", "bh", "none"]),
    help="Multiple-comparison correction across metrics.",
)
@click.option(
    "--level",
    default=0.95,
    show_default=True,
    type=_OPEN_UNIT_INTERVAL,
    help="Confidence level of the intervals of the differences.",
)
@click.option("--mid-p", is_flag=True, help="McNemar mid-p instead of the exact test.")
@click.option(
    "--test",
    "tests",
    multiple=True,
    type=click.Choice(PAIRED_TEST_CHOICES),
    help="Paired test instead of the default (repeatable): a McNemar variant for accuracy-type "
    "metrics (default mcnemar-exact), wilcoxon (default) or paired-t for per-example losses.",
)
@click.option(
    "--bootstrap",
    default=1000,
    show_default=True,
    type=click.IntRange(min=2),
    help="Resamples of the paired bootstrap.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def compare_command(
    result_a: Path,
    result_b: Path,
    metrics: str,
    alpha: float,
    adjust: str,
    level: float,
    mid_p: bool,
    tests: tuple[str, ...],
    bootstrap: int,
    seed: int,
    as_json: bool,
) -> None:
    """Compare two results written by `modelops eval run --output` (A minus B)."""
    from modelops_core.cli.render import print_json
    from modelops_core.evaluation.compare import compare
    from modelops_core.evaluation.result import EvaluationResult

    first = EvaluationResult.from_json(result_a)
    second = EvaluationResult.from_json(result_b)
    names = [name.strip() for name in metrics.split(",") if name.strip()] or None
    comparison = compare(
        first, second, metrics=names, alpha=alpha, adjust=adjust, mid_p=mid_p,
        resamples=bootstrap, seed=seed, level=level, runtime=state().runtime(), tests=tests,
    )  # fmt: skip
    if as_json:
        print_json(comparison.to_dict())
    else:
        print_comparison(comparison, result_a.name, result_b.name, level)


@eval_group.command("threshold")
@_input_files("a score")
@click.option("--scores", "scores_key", default="score", show_default=True,
              help="Column of scores (higher = more positive).")  # fmt: skip
@click.option("--reference-key", default="reference", show_default=True)
@click.option("--pos-label", default="1", show_default=True, help="The positive reference.")
@click.option(
    "--criterion",
    "criteria",
    multiple=True,
    type=click.Choice(["f1", "youden", "cost", "precision", "recall"]),
    help="Repeatable (default: f1 and youden, plus cost / precision / recall when their "
    "options are given).",
)
@click.option("--fp-cost", type=click.FloatRange(min=0), default=None,
              help="Cost of a false positive (criterion cost).")  # fmt: skip
@click.option("--fn-cost", type=click.FloatRange(min=0), default=None,
              help="Cost of a false negative (criterion cost).")  # fmt: skip
@click.option("--min-precision", type=click.FloatRange(0, 1), default=None,
              help="Best recall among thresholds with at least this precision.")  # fmt: skip
@click.option("--min-recall", type=click.FloatRange(0, 1), default=None,
              help="Best precision among thresholds with at least this recall.")  # fmt: skip
@click.option(
    "--output",
    "output_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every operating point (threshold, precision, recall, F1, FPR) as CSV.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def threshold_command(
    predictions_path: Path,
    references_path: Path | None,
    scores_key: str,
    reference_key: str,
    pos_label: str,
    criteria: tuple[str, ...],
    fp_cost: float | None,
    fn_cost: float | None,
    min_precision: float | None,
    min_recall: float | None,
    output_path: Path | None,
    as_json: bool,
) -> None:
    """Choose a decision threshold for binary scores: max F1, Youden's J, least cost, or the
    best recall (precision) at a required precision (recall)."""
    from modelops_core.cli.render import print_json
    from modelops_core.evaluation.stats.thresholds import choose_threshold, sweep

    records = load_records(predictions_path, references_path)
    source = str(predictions_path)
    references = column(records, reference_key, source)
    points = sweep(
        column(records, scores_key, source),
        references,
        pos_label=_typed_like(pos_label, references),
    )
    requests = _threshold_requests(criteria, fp_cost, fn_cost, min_precision, min_recall)
    choices = [choose_threshold(points, criterion, **options) for criterion, options in requests]
    if output_path is not None:
        _write_sweep_csv(points.as_dict(), output_path)
    if as_json:
        import attrs

        print_json({"examples": len(records), "choices": [attrs.asdict(c) for c in choices]})
        return
    print_threshold_table(requests, choices, len(records))


def _typed_like(text: str, values: Sequence[Any]) -> Any:
    """``text`` as a number when the values are numbers (``--pos-label 1`` matches 1)."""
    sample = values[0] if values else None
    if isinstance(sample, bool):
        return text.lower() in ("1", "true", "yes")
    return _cell(text) if isinstance(sample, int | float) else text


def _threshold_requests(
    criteria: tuple[str, ...],
    fp_cost: float | None,
    fn_cost: float | None,
    min_precision: float | None,
    min_recall: float | None,
) -> list[tuple[str, dict[str, Any]]]:
    """``(criterion, options)`` of every threshold asked for; missing options are usage errors."""
    wanted = list(criteria) or ["f1", "youden"] + [
        name
        for name, given in (
            ("cost", fp_cost is not None or fn_cost is not None),
            ("precision", min_precision is not None),
            ("recall", min_recall is not None),
        )
        if given
    ]
    requests: list[tuple[str, dict[str, Any]]] = []
    for criterion in dict.fromkeys(wanted):
        if criterion == "cost":
            requests.append((criterion, {"fp_cost": fp_cost or 1.0, "fn_cost": fn_cost or 1.0}))
        elif criterion in ("precision", "recall"):
            target = min_precision if criterion == "precision" else min_recall
            if target is None:
                raise click.UsageError(
                    f"--criterion {criterion} needs --min-{criterion} (e.g. --min-{criterion} 0.9)."
                )
            requests.append((criterion, {"target": target}))
        else:
            requests.append((criterion, {}))
    return requests


def _write_sweep_csv(points: dict[str, list[float]], path: Path) -> None:
    import csv
    import io

    from modelops_core.datasets.write import atomic_writer

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(list(points))
    writer.writerows(zip(*points.values(), strict=True))
    with atomic_writer(path) as handle:
        handle.write(text.getvalue().encode("utf-8"))


def print_threshold_table(
    requests: Sequence[tuple[str, dict[str, Any]]], choices: Sequence[Any], examples: int
) -> None:
    """One row per chosen threshold with its operating point."""
    from modelops_core.cli.render import print_table

    rows = [
        [
            _criterion_label(criterion, options),
            f"{choice.threshold:.6g}",
            f"{choice.precision:.4f}",
            f"{choice.recall:.4f}",
            f"{choice.f1:.4f}",
            f"{choice.fpr:.4f}",
            "" if choice.cost is None else f"{choice.cost:g}",
        ]
        for (criterion, options), choice in zip(requests, choices, strict=True)
    ]
    print_table(
        f"Thresholds over {examples} examples (positive when score >= threshold)",
        ["criterion", "threshold", "precision", "recall", "F1", "FPR", "cost"],
        rows,
    )


def _criterion_label(criterion: str, options: dict[str, Any]) -> str:
    if criterion == "cost":
        return f"least cost (FP {options['fp_cost']:g}, FN {options['fn_cost']:g})"
    if criterion == "precision":
        return f"max recall at precision >= {options['target']:g}"
    if criterion == "recall":
        return f"max precision at recall >= {options['target']:g}"
    return "max F1" if criterion == "f1" else "max Youden's J"


def print_comparison(comparison: Comparison, name_a: str, name_b: str, level: float = 0.95) -> None:
    """The comparison as a table, then its decision and warnings."""
    from modelops_core.cli.render import print_table

    p_header = "p (raw)" if comparison.adjust == "none" else f"p ({comparison.adjust})"
    rows = [
        [
            row.metric,
            _format(row.a),
            _format(row.b),
            f"{row.difference:+.4f} [{row.low:+.4f}, {row.high:+.4f}]",
            row.test,
            f"{row.adjusted_p:.4g}",
            row.decision,
        ]
        for row in comparison.rows
    ]
    kind = "paired" if comparison.paired else "unpaired"
    print_table(
        f"A = {name_a}, B = {name_b} ({kind}, alpha {comparison.alpha})",
        ["metric", "A", "B", f"A - B [{level * 100:g}% CI]", "test", p_header, "decision"],
        rows,
    )
    click.echo(f"Decision ({comparison.primary}): {comparison.decision}")
    for warning in comparison.warnings:
        click.echo(f"Warning: {warning}")


def choose_metrics(
    configured: Sequence[ComponentChoice], names: str
) -> list[str | ComponentChoice]:
    """The metrics named on the command line (with their options from the config when the
    config names them too), or every ``[evaluation] metrics`` entry when none is named."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    if not wanted:
        return list(configured)
    by_name = {choice.name: choice for choice in configured}
    return [by_name.get(name, name) for name in wanted]


def read_table(path: Path) -> list[dict[str, Any]]:
    """Records of a JSONL file, or of a CSV file (``.csv``; numbers parsed, header required).

    :raises DatasetFormatError: a file not named ``.csv`` holds CSV (or Parquet): says so and
        how to pass it, instead of "invalid JSON" on every line.
    """
    if path.suffix.lower() != ".csv":
        from modelops_core.datasets.jsonl.reader import read_jsonl

        _refuse_other_formats(path)
        return read_jsonl(path)
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return [{key: _cell(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def _refuse_other_formats(path: Path) -> None:
    """Refuse a Parquet file or a CSV file whose name does not say so (JSONL is expected)."""
    from modelops_core.datasets.errors import DatasetFormatError

    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return  # the JSONL reader names the problem
    if head.startswith(b"PAR1"):
        raise DatasetFormatError(
            f"{path} is a Parquet file; eval run reads JSONL or CSV. Write it as CSV (e.g. "
            f"pandas.read_parquet({str(path)!r}).to_csv({path.stem + '.csv'!r}, index=False)) "
            "and pass that."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16: the JSONL reader names it and says how to convert it
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip().split("\n")[0]
    first = first.rstrip("\r")
    if not first or first[0] in "{[":
        return
    import csv

    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return
    columns = first.split(dialect.delimiter)
    if len(columns) < 2:
        return
    renamed = path.with_suffix(".csv")
    separated = "tab" if dialect.delimiter == "\t" else repr(dialect.delimiter)
    raise DatasetFormatError(
        f"{path}:1: this file holds CSV ({separated}-separated columns "
        f"{', '.join(columns[:5])}{' ...' if len(columns) > 5 else ''}), not JSONL. eval run "
        f"reads CSV from a file named .csv: rename it ({renamed}) and pass that"
        + (", with commas between columns." if dialect.delimiter != "," else ".")
    )


def _cell(text: str | None) -> Any:
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def load_records(predictions_path: Path, references_path: Path | None) -> list[dict[str, Any]]:
    """Records of the predictions file, merged row by row with the references file."""
    records = read_table(predictions_path)
    if references_path is None:
        return records
    references = read_table(references_path)
    if len(references) != len(records):
        raise click.UsageError(
            f"{predictions_path} has {len(records)} records but {references_path} has "
            f"{len(references)}; the lengths mismatch. They must be aligned row by row."
        )
    return [{**reference, **record} for record, reference in zip(records, references, strict=True)]


def column(records: Sequence[dict[str, Any]], key: str, source: str) -> list[Any]:
    """The ``key`` field of every record; a record without it is named with its row."""
    from modelops_core.evaluation.inputs import EvaluationInputError

    values = []
    for index, record in enumerate(records, start=1):
        if key not in record:
            raise EvaluationInputError(
                f"{source}: record {index} has no {key!r} field "
                f"(it has: {', '.join(sorted(record)) or 'nothing'}).",
                argument=key,
            )
        values.append(record[key])
    return values


def _parse_labels(text: str, records: Sequence[dict[str, Any]], reference_key: str) -> list[Any]:
    """Declared labels typed like the references (``--labels 0,1`` matches integer labels)."""
    labels = [part.strip() for part in text.split(",") if part.strip()]
    sample = records[0].get(reference_key) if records else None
    if isinstance(sample, int | float) and not isinstance(sample, bool):
        return [_cell(label) for label in labels]
    return labels


def zero_notes(
    runtime: Runtime,
    chosen: Sequence[Any],
    result: Any,
    records: Sequence[Mapping[str, Any]],
    prediction_key: str,
    reference_key: str,
) -> dict[str, str]:
    """Why a metric is exactly 0.0, for the metrics that can say (``explain(predictions,
    references)``, as BLEU does: ``no prediction has 4 tokens …``)."""
    notes: dict[str, str] = {}
    for choice in chosen:
        name = choice if isinstance(choice, str) else choice.name
        if result.get(name) != 0.0 or name not in runtime.components["metric"]:
            continue
        explain = getattr(runtime.create("metric", choice), "explain", None)
        if callable(explain):
            note = explain(
                [str(r.get(prediction_key, "")) for r in records],
                [r.get(reference_key, "") for r in records],
            )
            if note:
                notes[name] = str(note)
    return notes


def print_metric_table(title: str, result: Any, notes: Mapping[str, str] | None = None) -> None:
    """Metric values as a table (with intervals when bootstrapped); structures compactly;
    ``notes`` say why a value is what it is, next to it."""
    from modelops_core.cli.render import print_table

    intervals = getattr(result, "intervals", {})
    columns = ["metric", "value"] + (["interval"] if intervals else [])
    rows = []
    for name, value in result.items():
        note = (notes or {}).get(name)
        row = [name, _format(value) + (f" ({note})" if note else "")]
        if intervals:
            interval = intervals.get(name)
            row.append("" if interval is None else f"[{interval.low:.4f}, {interval.high:.4f}]")
        rows.append(row)
    print_table(title, columns, rows)
    group_intervals = getattr(result, "group_intervals", {})
    for metric, groups in getattr(result, "per_group", {}).items():
        bounds = group_intervals.get(metric, {})
        print_table(
            f"{metric} by group",
            ["group", "value"] + (["interval"] if bounds else []),
            [
                [g, _format(v)]
                + ([f"[{bounds[g].low:.4f}, {bounds[g].high:.4f}]" if g in bounds else ""]
                   if bounds else [])
                for g, v in groups.items()
            ],
        )  # fmt: skip


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 8:
        return f"[{len(value)} values]"
    return str(value)


def available_text_metrics(runtime: Runtime) -> list[str]:
    """The text metrics installed, in a stable order (for the demo)."""
    wanted = ["exact_match", "token_f1", "rouge_l", "bleu", "length_ratio"]
    return [name for name in wanted if name in runtime.components["metric"]]
