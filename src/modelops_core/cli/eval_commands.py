"""``modelops eval run``: compute metrics over a predictions file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.runtime import Runtime


@click.group("eval")
def eval_group() -> None:
    """Evaluate predictions with metric plugins."""


@eval_group.command("run")
@click.option(
    "--predictions",
    "predictions_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSONL with a prediction per line (and the reference, unless --references is given).",
)
@click.option(
    "--references",
    "references_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSONL with the reference of each line of --predictions, in the same order.",
)
@click.option(
    "--metrics",
    default="",
    help="Comma-separated metric names (default: [evaluation] metrics of the config).",
)
@click.option("--prediction-key", default="prediction", show_default=True)
@click.option("--reference-key", default="reference", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def run_command(
    predictions_path: Path,
    references_path: Path | None,
    metrics: str,
    prediction_key: str,
    reference_key: str,
    as_json: bool,
) -> None:
    """Compute metrics over predictions and references; extra columns (scores, groups,
    latency_ms …) reach the metrics that take them."""
    from modelops_core.cli.render import print_json
    from modelops_core.evaluation import evaluate_components

    runtime = state().runtime()
    chosen = choose_metrics(runtime.config.metrics, metrics)
    if not chosen:
        raise click.UsageError(
            "No metrics chosen: pass --metrics a,b or set [evaluation] metrics in modelops.toml."
        )
    records = load_records(predictions_path, references_path)
    result = evaluate_components(
        runtime,
        chosen,
        records,
        prediction_key=prediction_key,
        reference_key=reference_key,
        source=str(predictions_path),
    )
    if as_json:
        print_json(result)
    else:
        print_metric_table(f"Metrics over {len(records)} examples", result)


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


def load_records(predictions_path: Path, references_path: Path | None) -> list[dict[str, Any]]:
    """Records of the predictions file, merged line by line with the references file."""
    from modelops_core.jsonl import read_jsonl

    records = read_jsonl(predictions_path)
    if references_path is None:
        return records
    references = read_jsonl(references_path)
    if len(references) != len(records):
        raise click.UsageError(
            f"{predictions_path} has {len(records)} records but {references_path} has "
            f"{len(references)}; they must be aligned line by line."
        )
    return [{**reference, **record} for record, reference in zip(records, references, strict=True)]


def print_metric_table(title: str, result: dict[str, Any]) -> None:
    """Metric values as a table; scalars formatted, structures shown compactly."""
    from modelops_core.cli.render import print_table

    print_table(
        title, ["metric", "value"], [[name, _format(value)] for name, value in result.items()]
    )


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
