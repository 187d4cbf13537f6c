"""``modelops monitor performance``: label-free performance estimates (CBPE) of a classifier's
predictions in CURRENT, calibrated and banded on REFERENCE, beside the realized performance
when CURRENT has labels; alerts through the alert manager."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.monitoring.alerts import Alert, Delivery
    from modelops_core.monitoring.performance import (
        MulticlassEstimate,
        PerformanceComparison,
        PerformanceEstimate,
    )

_INPUT = click.Path(path_type=Path, dir_okay=False)
EXIT_ALERT = 1
#: The metrics shown without --metric.
BINARY_DEFAULT = ("accuracy", "precision", "recall", "f1", "roc_auc")
MULTICLASS_DEFAULT = ("accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_macro")


@click.command("performance")
@click.argument("reference", type=_INPUT)
@click.argument("current", type=_INPUT)
@click.option(
    "--label",
    required=True,
    metavar="COLUMN",
    help="The label column: in REFERENCE, and in CURRENT once labels arrived (the realized "
    "performance is then shown beside the estimate).",
)
@click.option(
    "--score",
    metavar="COLUMN",
    help="Binary classifier: the column of the positive class's probability (labels 0/1).",
)
@click.option(
    "--proba",
    "probas",
    multiple=True,
    metavar="[CLASS=]COLUMN",
    help="Multiclass: the probability column of one class (CLASS defaults to the column's "
    "name); repeat for every class.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.5,
    show_default=True,
    help="Binary: the decision threshold (predicted positive at or above).",
)
@click.option(
    "--calibration",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="auto: calibrate (isotonic, per class) where it lowers the reference's ECE.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=2),
    default=None,
    help="Rows per chunk: bands (mean +/- 3 std) from the reference's chunks, and an estimate "
    "per chunk of CURRENT.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="A metric to estimate; repeatable (default: accuracy, precision, recall, f1 and "
    "roc_auc, macro-averaged for multiclass; also *_weighted and *_micro).",
)
@click.option(
    "--subject", default=None, help="What the alerts are about (default: CURRENT's file name)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-alerts", is_flag=True, help="Do not fire alerts.")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when a metric is outside its band.")
def performance_command(
    reference: Path,
    current: Path,
    label: str,
    score: str | None,
    probas: tuple[str, ...],
    threshold: float,
    calibration: str,
    chunk_size: int | None,
    metrics: tuple[str, ...],
    subject: str | None,
    as_json: bool,
    no_alerts: bool,
    fail_on_alert: bool,
) -> None:
    """Estimated performance of the predictions in CURRENT (CBPE), fitted on REFERENCE; each a
    CSV, JSONL or Parquet file with the probability columns and, in REFERENCE, the labels."""
    if (score is None) == (not probas):
        raise click.UsageError("give --score COLUMN (binary) or one --proba per class, not both")
    classes: tuple[str, ...] = ()
    if score is not None:
        kind, columns = "binary", [score]
    else:
        kind = "multiclass"
        classes, columns = _classes(probas)
    chosen = metrics or (BINARY_DEFAULT if kind == "binary" else MULTICLASS_DEFAULT)
    comparisons, estimates, fitted = _estimate(
        kind, reference, current, label, columns, classes, threshold, calibration, chunk_size,
        chosen,
    )  # fmt: skip
    found: list[Alert] = []
    about = subject or current.name
    for estimate in estimates:
        found.extend(estimate.alerts(subject=about))
    for comparison in comparisons:
        found.extend(comparison.realized.alerts(subject=about))
    deliveries: tuple[Delivery, ...] = ()
    if found and not no_alerts:
        deliveries = _fire(found)
    document = {
        "kind": kind,
        "reference": str(reference),
        "current": str(current),
        "classes": list(getattr(fitted, "classes", ())),
        "calibration": _checks(fitted),
        "chunks": [c.to_dict() for c in comparisons] or [e.to_dict() for e in estimates],
        "deliveries": [
            {"name": d.alert.name, "subject": d.alert.subject, "fired": d.fired,
             "reason": d.reason, "failed": list(d.failed)}
            for d in deliveries
        ],
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(document, indent=2, default=_plain))
    else:
        _print(document)
    if fail_on_alert and found:
        raise click.exceptions.Exit(EXIT_ALERT)


def _classes(probas: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    classes, columns = [], []
    for given in probas:
        name, _, column = given.rpartition("=")
        classes.append(name or column)
        columns.append(column)
    return tuple(classes), columns


def _estimate(
    kind: str,
    reference: Path,
    current: Path,
    label: str,
    columns: list[str],
    classes: tuple[str, ...],
    threshold: float,
    calibration: str,
    chunk_size: int | None,
    metrics: tuple[str, ...],
) -> tuple[list[PerformanceComparison], list[PerformanceEstimate | MulticlassEstimate], Any]:
    import numpy as np

    from modelops_core.monitoring.performance import CBPE, MulticlassCBPE, columns_of

    ref = columns_of(reference, [*columns, label], str(reference))
    cur = columns_of(current, columns, str(current), optional=[label])
    labelled = label in cur
    fitted: Any
    if kind == "binary":
        scores, labels = ref[columns[0]], ref[label]
        fitted = CBPE.fit(
            scores,
            labels,
            threshold=threshold,
            calibration=calibration,
            chunk_size=chunk_size,
            metrics=metrics,
        )
        data: Any = cur[columns[0]]
    else:
        matrix = np.column_stack([ref[column] for column in columns])
        fitted = MulticlassCBPE.fit(
            matrix,
            _texts(ref[label]),
            classes=classes,
            calibration=calibration,
            chunk_size=chunk_size,
            metrics=metrics,
        )
        data = np.column_stack([cur[column] for column in columns])
    rows = len(cur[columns[0]])
    size = chunk_size or max(rows, 2)
    truth = (cur[label] if kind == "binary" else _texts(cur[label])) if labelled else None
    if truth is not None:
        if rows < 2:
            return [fitted.compare(data, truth)], [], fitted
        return list(fitted.compare_chunks(data, truth, size)), [], fitted
    if rows < 2:
        return [], [fitted.estimate(data)], fitted
    return [], list(fitted.estimate_chunks(data, size)), fitted


def _texts(labels: Any) -> list[Any]:
    """Labels as the class names given on the command line: ``1.0`` read from a file is
    class ``1``; a missing label stays missing (and is named as not a class)."""
    found: list[Any] = []
    for value in labels.tolist():
        if isinstance(value, float):
            if math.isnan(value):
                found.append(None)
                continue
            found.append(str(int(value)) if value.is_integer() else str(value))
        else:
            found.append(value if value is None else str(value))
    return found


def _fire(alerts: list[Alert]) -> tuple[Delivery, ...]:
    import warnings

    from modelops_core.monitoring.alerts import AlertManager, home_state

    runtime = state().runtime()
    manager = AlertManager(runtime, state=home_state(runtime))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deliveries = manager.fire(alerts)
    for entry in caught:
        click.echo(f"warning: {entry.message}", err=True)
    return deliveries


def _checks(fitted: Any) -> list[dict[str, Any]]:
    checks = getattr(fitted, "checks", None)
    if checks is None:
        return [{"class": None, **fitted.check.to_dict()}]
    return [
        {"class": name, **check.to_dict()}
        for name, check in zip(fitted.classes, checks, strict=True)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _print(document: dict[str, Any]) -> None:
    classes = document["classes"]
    what = f"multiclass: {', '.join(classes)}" if classes else "binary"
    click.echo(f"CBPE ({what}) of {document['current']} fitted on {document['reference']}")
    for check in document["calibration"]:
        about = "" if check["class"] is None else f"{check['class']}: "
        click.echo(f"calibration {about}{check['reason']}")
    for chunk in document["chunks"]:
        estimated = chunk.get("estimated", chunk)
        realized = chunk.get("realized")
        start, rows = estimated["start"], estimated["rows"]
        click.echo(f"rows {start}-{start + rows - 1} ({rows})")
        header = ["metric", "estimated", "realized", "band", ""]
        table = [header]
        for name, value in estimated["metrics"].items():
            lower, upper = estimated["band"].get(name, (None, None))
            band = (
                "" if lower is None and upper is None else f"[{_number(lower)}, {_number(upper)}]"
            )
            outside = name in estimated["outside"] or (
                realized is not None and name in realized["outside"]
            )
            table.append(
                [
                    name,
                    _number(value),
                    "" if realized is None else _number(realized["metrics"][name]),
                    band,
                    "OUTSIDE" if outside else "",
                ]
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            click.echo(("  " + "  ".join(cells)).rstrip())
    for delivery in document["deliveries"]:
        outcome = "fired" if delivery["fired"] else delivery["reason"]
        click.echo(f"alert {delivery['name']} [{delivery['subject']}]: {outcome}")


def _number(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"
