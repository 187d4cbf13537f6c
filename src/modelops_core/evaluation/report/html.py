"""A self-contained HTML report of an :class:`EvaluationResult`: a table of values with
intervals, and inline SVG plots (ROC, PR, calibration, confusion matrix, per-group bars).
The file needs no network, script or stylesheet from elsewhere.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.evaluation.report.svg import bar_chart, heatmap, line_chart

if TYPE_CHECKING:
    from modelops_core.evaluation.result import EvaluationResult

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.meta { color: #555; overflow-wrap: anywhere; }
.hash { display: inline-block; max-width: 100%; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; vertical-align: bottom; font-family: ui-monospace, monospace; }
svg.chart { max-width: 100%; height: auto; }
.scroll { max-width: 100%; overflow-x: auto; }
table.classes td:first-child { overflow-wrap: anywhere; max-width: 22em; }
table.classes td:last-child { text-align: left; }
"""


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return escape(text if len(text) <= 80 else text[:77] + "...")
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _direction(result: EvaluationResult, name: str) -> str:
    better = result.higher_is_better.get(name)
    return "" if better is None else ("higher is better" if better else "lower is better")


def render_report(result: EvaluationResult, *, title: str | None = None) -> str:
    """The report as an HTML string."""
    heading = title or f"Evaluation of {result.model_id or 'predictions'}"
    rows = []
    for name, value in result.items():
        interval = result.intervals.get(name)
        band = "" if interval is None else f"[{_number(interval.low)}, {_number(interval.high)}]"
        rows.append(
            f'<tr data-metric="{escape(name)}"><td>{escape(name)}</td><td>{_number(value)}</td>'
            f"<td>{band}</td><td>{_direction(result, name)}</td></tr>"
        )
    level = next(iter(result.intervals.values())).level if result.intervals else 0.95
    fingerprint = result.dataset_fingerprint or "-"
    meta = (
        f"n = {result.n} · model {escape(result.model_id or '-')} · dataset "
        f'<span class="hash" title="{escape(fingerprint)}">{escape(fingerprint)}</span> · '
        f"seed {result.seed} · {escape(result.created_at)}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(heading)}</h1><p class="meta">{meta}</p>'
        f'<div class="scroll"><table><thead><tr><th>metric</th><th>value</th>'
        f"<th>{level:.0%} interval</th><th>direction</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<div class="plots">{"".join(_plots(result))}</div>'
        f"{_class_table(result)}{_group_table(result)}</body></html>\n"
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _plots(result: EvaluationResult) -> list[str]:
    curves = result.curves
    plots = []
    if "roc" in curves:
        roc = curves["roc"]
        auc = _float(roc.get("auc", result.get("auc_roc")))
        name = "model" if auc is None else f"model (AUC {auc:.3f})"
        plots.append(
            line_chart(
                "roc",
                "ROC curve",
                "false positive rate",
                "true positive rate",
                [(name, roc["fpr"], roc["tpr"])],
                diagonal=True,
            )
        )
    if "pr" in curves:
        pr = curves["pr"]
        ap, prevalence = _float(pr.get("average_precision")), _float(pr.get("prevalence"))
        name = "model" if ap is None else f"model (AP {ap:.3f})"
        baselines = (
            [] if prevalence is None else [(f"chance: prevalence {prevalence:.3f}", prevalence)]
        )
        plots.append(
            line_chart(
                "pr",
                "Precision-recall curve",
                "recall",
                "precision",
                [(name, pr["recall"], pr["precision"])],
                baselines=baselines,
            )
        )
    if "one_vs_rest" in curves:
        plots.extend(_one_vs_rest(curves["one_vs_rest"]))
    if "calibration" in curves:
        calibration = curves["calibration"]
        plots.append(
            line_chart(
                "calibration",
                "Reliability (calibration)",
                "mean predicted probability",
                "observed frequency",
                [("model", calibration["mean_predicted"], calibration["fraction_positive"])],
                diagonal=True,
                markers=True,
            )
        )
    if "confusion" in curves:
        confusion = curves["confusion"]
        plots.append(heatmap("Confusion matrix", confusion["labels"], confusion["matrix"]))
    for metric, groups in result.per_group.items():
        intervals = result.group_intervals.get(metric, {})
        bars = []
        for group, value in groups.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                interval = intervals.get(group)
                low, high = (None, None) if interval is None else (interval.low, interval.high)
                size = result.group_sizes.get(group)
                name = group if size is None else f"{group} (n={size})"
                bars.append((name, float(value), low, high))
        if bars:
            note = _direction(result, metric)
            if intervals:
                note = f"{note} · bars show the {next(iter(intervals.values())).level:.0%} interval"
            plots.append(bar_chart(f"{metric} by group", bars, note=note.strip(" ·") or None))
    return plots


def _one_vs_rest(ovr: Any) -> list[str]:
    """ROC and PR charts of multiclass scores: micro and macro averages, and the classes of
    lowest AUC (at most :data:`CLASS_CURVES`)."""
    micro, macro = ovr["micro"], ovr["macro"]
    drawn = [entry for entry in ovr["per_class"] if "fpr" in entry]
    drawn.sort(key=lambda entry: entry["auc"])
    total = len(ovr["per_class"])
    notes = (
        []
        if len(drawn) == total
        else [f"{len(drawn)} of {total} classes drawn: those of lowest AUC"]
    )

    def area(value: Any, kind: str) -> str:
        number = _float(value)
        return f" ({kind} n/a)" if number is None else f" ({kind} {number:.3f})"

    roc = [(f"micro average{area(micro['auc'], 'AUC')}", micro["fpr"], micro["tpr"])]
    if macro["fpr"]:
        roc.append((f"macro average{area(macro['auc'], 'AUC')}", macro["fpr"], macro["tpr"]))
    roc += [
        (f"{entry['label']}{area(entry['auc'], 'AUC')}", entry["fpr"], entry["tpr"])
        for entry in drawn
    ]
    pr = [
        (
            f"micro average{area(micro['average_precision'], 'AP')}",
            micro["recall"],
            micro["precision"],
        )
    ]
    pr += [
        (
            f"{entry['label']}{area(entry['average_precision'], 'AP')}",
            entry["recall"],
            entry["precision"],
        )
        for entry in drawn
    ]
    prevalence = _float(micro.get("prevalence"))
    baselines = (
        [] if prevalence is None else [(f"chance (micro): prevalence {prevalence:.3f}", prevalence)]
    )
    macro_ap = _float(macro["average_precision"])
    pr_notes = [f"macro average AP {'n/a' if macro_ap is None else f'{macro_ap:.3f}'}", *notes]
    return [
        line_chart(
            "roc_ovr",
            "ROC curves, one-vs-rest",
            "false positive rate",
            "true positive rate",
            roc,
            diagonal=True,
            notes=notes,
        ),
        line_chart(
            "pr_ovr",
            "Precision-recall curves, one-vs-rest",
            "recall",
            "precision",
            pr,
            baselines=baselines,
            notes=pr_notes,
        ),
    ]


def _class_table(result: EvaluationResult) -> str:
    """Per-class counts of a multiclass confusion matrix, full names: the heatmap's legend."""
    confusion = result.curves.get("confusion")
    if not confusion or len(confusion["labels"]) < 3:
        return ""
    matrix = confusion["matrix"]
    rows = []
    for index, name in enumerate(confusion["labels"]):
        support = sum(matrix[index])
        predicted = sum(row[index] for row in matrix)
        correct = matrix[index][index]
        others = [(count, j) for j, count in enumerate(matrix[index]) if j != index and count]
        confused = "-"
        if others:
            count, j = max(others)
            confused = f"{escape(str(confusion['labels'][j]))} ({count})"
        recall = correct / support if support else float("nan")
        precision = correct / predicted if predicted else float("nan")
        rows.append(
            f'<tr data-class="{escape(str(name))}"><td>{escape(str(name))}</td><td>{support}</td>'
            f"<td>{predicted}</td><td>{correct}</td><td>{_number(recall)}</td>"
            f"<td>{_number(precision)}</td><td>{confused}</td></tr>"
        )
    return (
        '<h2>Per class</h2><div class="scroll"><table class="classes"><thead><tr><th>class</th>'
        "<th>support</th><th>predicted</th><th>correct</th><th>recall</th><th>precision</th>"
        f"<th>most often predicted instead</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table></div>"
    )


def _group_table(result: EvaluationResult) -> str:
    if not result.per_group:
        return ""
    groups = list(result.group_sizes)
    header = "".join(f"<th>{escape(g)} (n={result.group_sizes[g]})</th>" for g in groups)
    rows = []
    for metric, values in result.per_group.items():
        cells = "".join(f"<td>{_number(values.get(g, float('nan')))}</td>" for g in groups)
        rows.append(
            f"<tr><td>{escape(metric)}</td>{cells}<td>{_direction(result, metric)}</td></tr>"
        )
    return (
        f'<h2>Per group</h2><div class="scroll"><table><thead><tr><th>metric</th>{header}'
        f"<th>direction</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def write_report(result: EvaluationResult, path: str | Path, *, title: str | None = None) -> Path:
    """Write the report of ``result`` to ``path`` and return the path."""
    target = Path(path)
    target.write_text(render_report(result, title=title), encoding="utf-8")
    return target
