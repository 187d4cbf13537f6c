"""``modelops optimize MODEL_ID …`` (optimize, gate, register) and ``modelops optimize
benchmark MODEL_ID`` (original vs optimized)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup


class _RunByDefault(HintingGroup):
    """``modelops optimize MODEL_ID`` means ``modelops optimize run MODEL_ID``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("optimize", cls=_RunByDefault)
def optimize_group() -> None:
    """Optimize a model for latency, cost or memory (refused if it gets worse); benchmark.

    \b
    modelops optimize MODEL_ID --target latency --holdout test.jsonl
    modelops optimize benchmark MODEL_ID
    """


@optimize_group.command("run")
@click.argument("model_id")
@click.option("--target", type=click.Choice(["latency", "cost", "memory"]), default="latency",
              show_default=True,
              help="latency: cache + micro_batch; cost: cache; memory: int8.")  # fmt: skip
@click.option("--holdout", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              required=True, help="Held-out JSONL both models are evaluated on.")  # fmt: skip
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="Largest allowed drop of the metric.")  # fmt: skip
@click.option("--metric", default="accuracy", show_default=True, help="The gate's metric.")
@click.option("--technique", "techniques", multiple=True,
              help="A technique instead of the target's (repeat): response_cache, micro_batch, "
              "concurrency_limit, int8.")  # fmt: skip
@click.option("--provider", default=None, help="The model's provider (default: inferred).")
@click.option("--name", default=None, help="Registered name (default: <model id>-optimized).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def run_command(
    model_id: str,
    target: str,
    holdout: Path,
    tolerance: float,
    metric: str,
    techniques: tuple[str, ...],
    provider: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Optimize MODEL_ID, evaluate it against the original on --holdout, register it."""
    from modelops_core.cli.render import print_json, print_table
    from modelops_core.optimize.optimizer import InferenceOptimizer

    result = InferenceOptimizer(state().runtime()).optimize_result(
        model_id, target, holdout=holdout, metric=metric, tolerance=tolerance,
        techniques=list(techniques) or None, provider=provider, name=name,
    )  # fmt: skip
    if as_json:
        print_json(result.to_json())
        return
    rows: list[list[Any]] = [
        ["optimized model id", result.model_id],
        ["registered as", f"{result.name} {result.version}"],
        ["techniques", ", ".join(result.techniques)],
        [f"{metric} (original)", f"{result.original:.4f}"],
        [f"{metric} (optimized)", f"{result.optimized:.4f}"],
        ["drop / tolerance", f"{result.drop:.4f} / {result.tolerance}"],
    ]
    for technique, report in result.reports.items():
        for key, value in report.items():
            rows.append([f"{technique}.{key}", _number(value)])
    print_table(f"Optimized {model_id}", ["", "value"], rows)


_FIGURES = (
    ("p50 latency (ms)", "p50_ms"),
    ("p95 latency (ms)", "p95_ms"),
    ("p99 latency (ms)", "p99_ms"),
    ("throughput (calls/s)", "throughput_per_s"),
    ("peak memory (KiB)", "peak_memory_bytes"),
    ("inputs reaching the model", "parent_share"),
    ("cost per 1k requests ($)", "cost_per_1k_requests"),
)


@optimize_group.command("benchmark")
@click.argument("model_id")
@click.option("--inputs", "inputs_path", type=click.Path(path_type=Path, dir_okay=False,
              exists=True), help="JSONL whose inputs are sent (default: the model's holdout "
              "file).")  # fmt: skip
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--provider", default=None, help="Provider of a model that is not optimized.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def benchmark_command(
    model_id: str,
    inputs_path: Path | None,
    repeats: int,
    concurrency: int,
    provider: str | None,
    as_json: bool,
) -> None:
    """Latency, throughput, memory and cost of MODEL_ID, beside its original's."""
    from modelops_core.cli.render import print_json, print_table
    from modelops_core.optimize.optimizer import InferenceOptimizer

    inputs = None
    if inputs_path is not None:
        from modelops_core.datasets.dataset import Dataset

        inputs = [pair[0] for pair in Dataset.from_jsonl(inputs_path).pairs()]
    figures = InferenceOptimizer(state().runtime()).benchmark(
        model_id, inputs, repeats=repeats, concurrency=concurrency, provider=provider
    )
    if as_json:
        print_json(figures)
        return
    original = figures.get("original")
    columns = ["", "optimized" if original else "model"]
    if original:
        columns += ["original", "ratio"]
    rows = []
    for label, key in _FIGURES:
        mine = _shown(key, figures["model"][key])
        row = [label, mine]
        if original:
            row += [_shown(key, original[key]), _ratio(key, figures["model"][key], original[key])]
        rows.append(row)
    title = f"Benchmark of {model_id} ({figures['inputs']} inputs x {repeats}"
    title += f", {concurrency} threads)" if concurrency > 1 else ")"
    print_table(title, columns, rows)


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "peak_memory_bytes":
        return f"{value / 1024:,.0f}"
    if key == "parent_share":
        return f"{value:.0%}"
    return _number(value)


def _ratio(key: str, mine: Any, original: Any) -> str:
    if not isinstance(mine, int | float) or not isinstance(original, int | float):
        return "-"
    higher_is_better = key == "throughput_per_s"
    numerator, denominator = (mine, original) if higher_is_better else (original, mine)
    return f"{numerator / denominator:.2f}x" if denominator else "-"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
