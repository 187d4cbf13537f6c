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
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.meta { color: #555; }
"""


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return escape(text if len(text) <= 80 else text[:77] + "...")
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def render_report(result: EvaluationResult, *, title: str | None = None) -> str:
    """The report as an HTML string."""
    heading = title or f"Evaluation of {result.model_id or 'predictions'}"
    rows = []
    for name, value in result.items():
        interval = result.intervals.get(name)
        band = "" if interval is None else f"[{_number(interval.low)}, {_number(interval.high)}]"
        rows.append(
            f'<tr data-metric="{escape(name)}"><td>{escape(name)}</td><td>{_number(value)}</td>'
            f"<td>{band}</td></tr>"
        )
    level = next(iter(result.intervals.values())).level if result.intervals else 0.95
    meta = (
        f"n = {result.n} · model {escape(result.model_id or '-')} · dataset "
        f"{escape(result.dataset_fingerprint or '-')} · seed {result.seed} · "
        f"{escape(result.created_at)}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(heading)}</h1><p class="meta">{meta}</p>'
        f"<table><thead><tr><th>metric</th><th>value</th><th>{level:.0%} interval</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        f'<div class="plots">{"".join(_plots(result))}</div>'
        f"{_group_table(result)}</body></html>\n"
    )


def _plots(result: EvaluationResult) -> list[str]:
    curves = result.curves
    plots = []
    if "roc" in curves:
        roc = curves["roc"]
        auc = result.get("auc_roc")
        label = "ROC" if not isinstance(auc, float) else f"ROC (AUC {auc:.3f})"
        plots.append(line_chart("roc", "ROC curve", "false positive rate", "true positive rate",
                                [(label, roc["fpr"], roc["tpr"])], diagonal=True))  # fmt: skip
    if "pr" in curves:
        pr = curves["pr"]
        plots.append(line_chart("pr", "Precision-recall curve", "recall", "precision",
                                [("PR", pr["recall"], pr["precision"])]))  # fmt: skip
    if "calibration" in curves:
        calibration = curves["calibration"]
        plots.append(line_chart(
            "calibration", "Reliability (calibration)", "mean predicted probability",
            "observed frequency",
            [("model", calibration["mean_predicted"], calibration["fraction_positive"])],
            diagonal=True, markers=True,
        ))  # fmt: skip
    if "confusion" in curves:
        confusion = curves["confusion"]
        plots.append(heatmap("Confusion matrix", confusion["labels"], confusion["matrix"]))
    for metric, groups in result.per_group.items():
        bars = [(group, float(value), None, None) for group, value in groups.items()
                if isinstance(value, int | float)]  # fmt: skip
        if bars:
            plots.append(bar_chart(f"{metric} by group", bars))
    return plots


def _group_table(result: EvaluationResult) -> str:
    if not result.per_group:
        return ""
    groups = list(result.group_sizes)
    header = "".join(f"<th>{escape(g)} (n={result.group_sizes[g]})</th>" for g in groups)
    rows = []
    for metric, values in result.per_group.items():
        cells = "".join(f"<td>{_number(values.get(g, float('nan')))}</td>" for g in groups)
        rows.append(f"<tr><td>{escape(metric)}</td>{cells}</tr>")
    return (
        f"<h2>Per group</h2><table><thead><tr><th>metric</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def write_report(result: EvaluationResult, path: str | Path, *, title: str | None = None) -> Path:
    """Write the report of ``result`` to ``path`` and return the path."""
    target = Path(path)
    target.write_text(render_report(result, title=title), encoding="utf-8")
    return target
