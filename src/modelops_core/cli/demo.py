"""``modelops demo``: the whole lifecycle on the embedded default, offline, in under a minute.

It writes a labelled data set of support tickets (with personal data sprinkled in) and a
pipeline file under ``<home>/demo/``, then runs that pipeline: read and split, sanitize,
fine-tune with the ``local`` provider, evaluate with confidence intervals, gate, register,
promote to ``production``. Running it again reuses every unchanged step.
"""

from __future__ import annotations

from pathlib import Path

import click

from modelops_core.cli.context import state

MODEL_NAME = "ticket-router"

PIPELINE_TEMPLATE = """\
# The demo pipeline: `modelops run {path}` runs it again (unchanged steps are reused).
[pipeline]
name = "demo"

[[pipeline.steps]]
uses = "dataset"
path = "tickets.jsonl"
test_size = 0.25
seed = 7

[[pipeline.steps]]
uses = "sanitize"
pipeline = ["pii", "dedupe"]  # redact personal data, then drop repeated tickets

[[pipeline.steps]]
uses = "finetune"
model = "local:logreg"
epochs = {epochs}
learning_rate = 0.05
seed = 7
poll_interval = 0.5           # a local job takes seconds

[[pipeline.steps]]
uses = "evaluate"
metrics = ["accuracy", "balanced_accuracy", {{ name = "f1", average = "macro" }}]
bootstrap = 1000
seed = 7

[[pipeline.steps]]
uses = "gate"
min = {{ accuracy = 0.80 }}
compare_alias = "production"  # and no worse than the version in production
model = "{model}"
max_drop = 0.02

[[pipeline.steps]]
uses = "register"
name = "{model}"

[[pipeline.steps]]
uses = "promote"
alias = "production"
"""


@click.command("demo")
@click.option("--examples", default=2000, show_default=True, help="Tickets to generate.")
@click.option("--epochs", default=8, show_default=True, help="Fine-tuning epochs.")
def demo_command(examples: int, epochs: int) -> int:
    """Run the end-to-end demo on the embedded default (no server, no network)."""
    from modelops_core.cli.demo_data import write_tickets
    from modelops_core.cli.run import LiveSteps, print_summary
    from modelops_core.pipeline.runner import Pipeline

    runtime = state().runtime()
    folder = runtime.config.home / "demo"
    data = write_tickets(folder / "tickets.jsonl", count=examples)
    pipeline_file = folder / "pipeline.toml"
    text = PIPELINE_TEMPLATE.format(path=pipeline_file, epochs=epochs, model=MODEL_NAME)
    _write_if_changed(pipeline_file, text)
    click.echo(f"Data: {examples} support tickets to route, with PII: {data}")
    click.echo(f"Pipeline: {pipeline_file}\n")
    display = LiveSteps()
    try:
        result = Pipeline.from_file(pipeline_file, runtime).run(observer=display)
    finally:
        display.close()
    print_summary(result)
    outputs = result.outputs()
    click.echo("")
    for label, key in (
        ("HTML report", "report"),
        ("Evaluation (JSON)", "evaluation"),
        ("Sanitizer report", "sanitize_report"),
        ("Training data (sanitized)", "train"),
    ):
        if key in outputs:
            click.echo(f"{label + ':':<27}{outputs[key]}")
    if "model_version" in outputs:
        click.echo(
            f"{'Registered:':<27}{outputs['model_name']} {outputs['model_version']} "
            f"(alias production)"
        )
    click.echo(f"{'Tracking run:':<27}{result.run_id}")
    click.echo(
        f"\nNext: modelops registry lineage {MODEL_NAME} {outputs.get('model_version', '')}"
        f" | modelops run {pipeline_file} --dry-run"
    )
    return 0


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
