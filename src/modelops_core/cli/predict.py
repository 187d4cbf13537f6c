"""``modelops predict MODEL --input FILE --output FILE``: predictions of a registered or tuned
model, one JSON object per input row, ready for ``modelops eval run``.

MODEL is ``NAME@ALIAS`` or ``NAME/VERSION`` (a registered version) or a model id a provider
serves (``local:logreg:ft-…``, ``ft:gpt-4o-mini:…``). A registered version predicts through
what :meth:`ModelRegistry.load` returns when it has ``predict`` (a model stored with a flavor);
a version that records a tuned provider model (what ``finetune start --register-as`` stores)
predicts through that provider's ``predict(model_id, inputs)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

#: input columns that are the expected answer, copied to the output as ``reference``.
_REFERENCE_KEYS = ("reference", "completion", "label", "target")


@click.command("predict")
@click.argument("model")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSONL or CSV (.csv): one input per row.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSONL written: {"prediction": ...} per row, plus "reference" when the input has one.',
)
@click.option(
    "--input-key",
    default=None,
    help="The column holding the model's input (default: input, else prompt, else the chat "
    "messages; a tabular model gets each row's values).",
)
@click.option(
    "--provider", default=None, help="The provider serving a model id (default: inferred)."
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
    help="Inputs per predict call.",
)  # fmt: skip
def predict_command(
    model: str,
    input_path: Path,
    output_path: Path,
    input_key: str | None,
    provider: str | None,
    batch_size: int,
) -> None:
    """Predict with MODEL (NAME@ALIAS, NAME/VERSION or a provider's model id) over --input
    and write the predictions to --output (JSONL), e.g.

    \b
    modelops predict ticket-router@production --input test.jsonl --output predictions.jsonl
    modelops eval run --predictions predictions.jsonl --metrics accuracy
    """
    from modelops_core.cli.eval import read_table

    if output_path.resolve() == input_path.resolve():
        raise click.UsageError(f"--output {output_path} is the --input file; write elsewhere.")
    records = read_table(input_path)
    if not records:
        raise click.UsageError(f"{input_path} has no rows to predict.")
    inputs, references = _inputs(records, input_key, input_path)
    runtime = state().runtime()
    predict = _predictor(model, provider, runtime)
    predictions: list[Any] = []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        answered = list(_plain(predict(batch)))
        if len(answered) != len(batch):
            from modelops_core.finetune.provider_contract import ProviderError

            raise ProviderError(
                f"{model} returned {len(answered)} predictions for {len(batch)} inputs "
                f"(rows {start + 1}-{start + len(batch)} of {input_path})."
            )
        predictions += answered
    _write(output_path, predictions, references)
    click.echo(f"wrote {len(predictions)} predictions of {model} to {output_path}")


def _inputs(
    records: Sequence[dict[str, Any]], key: str | None, source: Path
) -> tuple[list[Any], list[Any] | None]:
    """The model inputs of every row and, when the rows carry them, the references."""
    from modelops_core.cli.eval import column

    first = records[0]
    reference_key = next((k for k in _REFERENCE_KEYS if k in first), None)
    if key is None and "input" in first:
        key = "input"
    if key is None and ("prompt" in first or "messages" in first):
        from modelops_core.datasets.dataset import Dataset

        # the inputs the evaluate step sends: the prompt, or the chat before its last answer
        pairs = Dataset.from_records([dict(r) for r in records]).pairs()
        return [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    references = column(records, reference_key, str(source)) if reference_key else None
    if key is not None:
        return column(records, key, str(source)), references
    features = [k for k in first if k != reference_key]
    rows = []
    for index, record in enumerate(records, start=1):
        if list(record) != list(first):
            from modelops_core.evaluation.inputs import EvaluationInputError

            raise EvaluationInputError(
                f"{source}: row {index} has the columns {', '.join(record)}, row 1 has "
                f"{', '.join(first)}; a tabular input needs the same columns on every row "
                "(or pass --input-key).",
                argument="--input",
            )
        rows.append([record[k] for k in features])
    return rows, references


def _predictor(model: str, provider: str | None, runtime: Runtime) -> Any:
    """A function of a batch of inputs for MODEL (see the module docstring)."""
    name, version, alias = _registered(model)
    if name is None:
        return _provider_predict(model, provider, runtime)
    from modelops_core.registry.model_registry import ModelRegistry

    with ModelRegistry(runtime) as registry:
        record = registry.get_version(name, version, alias=alias)
        if version is not None and version != record.version:
            click.secho(
                f"note: version {version!r} of {name} is read as {record.version!r}.",
                fg="yellow",
                err=True,
            )
        loaded = registry.load(name, record.version)
    if callable(getattr(loaded, "predict", None)):
        return loaded.predict
    tuned = _tuned_model(loaded, record.metadata, record.lineage, record.tags)
    if tuned is not None:
        model_id, served_by = tuned
        return _provider_predict(model_id, provider or served_by, runtime)
    kind = "a file" if isinstance(loaded, Path) else type(loaded).__name__
    raise click.UsageError(
        f"{name} {record.version} cannot predict: it is stored as {kind} without a model "
        "flavor and records no tuned provider model. Register a model that predicts (an "
        "estimator or an ONNX model, stored with its flavor), or predict with the provider's "
        "model id: `modelops predict MODEL_ID --provider NAME --input FILE --output FILE`."
    )


def _registered(model: str) -> tuple[str | None, str | None, str | None]:
    """``(name, version, alias)`` of ``NAME@ALIAS`` / ``NAME/VERSION``; names only otherwise."""
    if "@" in model:
        name, _, alias = model.partition("@")
        return name, None, alias
    if "/" in model and ":" not in model:
        name, _, version = model.partition("/")
        return name, version, None
    return None, None, None


def _tuned_model(loaded: Any, *sources: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """``(model id, provider)`` a version records (a finetune job's registration)."""
    if isinstance(loaded, Mapping) and isinstance(loaded.get("model_id"), str):
        return loaded["model_id"], loaded.get("provider")
    for source in sources:
        tuned = source.get("fine_tuned_model")
        if isinstance(tuned, str) and tuned:
            served = next((s.get("provider") for s in sources if s.get("provider")), None)
            return tuned, served
    return None


def _provider_predict(model_id: str, provider: str | None, runtime: Runtime) -> Any:
    from modelops_core.plugins.kinds import Kind

    if provider is None:
        from modelops_core.finetune.job import infer_provider

        provider = infer_provider(model_id, runtime.config, runtime)
    component = runtime.create(Kind.PROVIDER, runtime.config.provider(provider))

    def predict(batch: list[Any]) -> list[Any]:
        return list(component.predict(model_id, batch))

    return predict


def _plain(values: Any) -> list[Any]:
    """Predictions as JSON values (numpy arrays and scalars become lists and numbers)."""
    listed = values.tolist() if hasattr(values, "tolist") else list(values)
    return [v.item() if hasattr(v, "item") else v for v in listed]


def _write(path: Path, predictions: list[Any], references: list[Any] | None) -> None:
    from modelops_core.datasets.write import atomic_writer

    lines = []
    for index, prediction in enumerate(predictions):
        row: dict[str, Any] = {"prediction": prediction}
        if references is not None:
            row["reference"] = references[index]
        lines.append(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    with atomic_writer(path) as handle:
        handle.write("".join(lines).encode("utf-8"))
