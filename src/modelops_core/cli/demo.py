"""``modelops demo``: the richest end-to-end path that works today, on the embedded default.

It writes a small question-answering predictions file under ``.modelops/demo/``, lists the
installed plugins, and evaluates the file with every installed text metric. The lifecycle
demo (sanitize -> fine-tune -> evaluate -> register) replaces it as those parts land.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import click

from modelops_core.cli.context import state

QUESTIONS = [
    ("What is the capital of France?", "Paris"),
    ("How many legs does a spider have?", "eight"),
    ("Which planet is known as the red planet?", "Mars"),
    ("What gas do plants absorb?", "carbon dioxide"),
    ("Who wrote Hamlet?", "William Shakespeare"),
    ("What is the boiling point of water at sea level in Celsius?", "100"),
    ("What is the largest ocean?", "the Pacific Ocean"),
    ("How many continents are there?", "seven"),
]
WRONG = ["London", "six", "Venus", "oxygen", "Christopher Marlowe", "90", "the Atlantic", "five"]


def write_demo_predictions(path: Path, examples: int = 200, seed: int = 7) -> Path:
    """Write ``examples`` JSONL records ``{question, prediction, reference}`` (seeded)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        for _ in range(examples):
            index = rng.randrange(len(QUESTIONS))
            question, answer = QUESTIONS[index]
            roll = rng.random()
            if roll < 0.6:
                prediction = answer
            elif roll < 0.8:
                prediction = f"I think it is {answer}."
            else:
                prediction = WRONG[index]
            record = {"question": question, "prediction": prediction, "reference": answer}
            handle.write(json.dumps(record) + "\n")
    temporary.replace(path)
    return path


@click.command("demo")
@click.option("--examples", default=200, show_default=True, help="How many examples to generate.")
def demo_command(examples: int) -> None:
    """Run the end-to-end demo on the embedded default (no server, no network)."""
    from modelops_core.cli.eval_commands import available_text_metrics, print_metric_table
    from modelops_core.cli.render import print_table
    from modelops_core.evaluation import evaluate_components
    from modelops_core.jsonl import read_jsonl
    from modelops_core.kinds import Kind

    runtime = state().runtime()

    def metric_names(plugin: str) -> list[str]:
        return runtime.components.by_plugin(plugin).get(Kind.METRIC, [])

    print_table(
        "Installed plugins",
        ["plugin", "version", "metrics"],
        [
            [info.name, info.version or "-", ", ".join(metric_names(info.name)) or "-"]
            for info in runtime.plugins
        ],
    )
    path = write_demo_predictions(runtime.config.home / "demo" / "qa_predictions.jsonl", examples)
    metrics = available_text_metrics(runtime)
    result = evaluate_components(runtime, metrics, read_jsonl(path), source=str(path))
    print_metric_table(f"Demo evaluation of {examples} answers", result)
    click.echo(f"Predictions: {path}")
    click.echo(
        f"Evaluate it again: modelops eval run --predictions {path} --metrics {','.join(metrics)}"
    )
