"""Results and comparisons in Jupyter (``_repr_html_``) and as pandas DataFrames.

The HTML is one small table with escaped text (no scripts, no styles from outside), so a
notebook shows it as it is; the full report with plots is ``result.to_html()``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.evaluation.compare import Comparison
    from modelops_core.evaluation.result import EvaluationResult

__all__ = ["comparison_frame", "comparison_html", "result_frame", "result_html"]

RESULT_COLUMNS = ("metric", "value", "low", "high", "level", "higher_is_better")
COMPARISON_COLUMNS = ("metric", "a", "b", "difference", "low", "high", "test", "p_value",
                      "adjusted_p", "decision")  # fmt: skip


def _result_rows(result: EvaluationResult) -> list[tuple[Any, ...]]:
    rows = []
    for name, value in result.metrics.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue  # curves and matrices: see to_html()
        interval = result.intervals.get(name)
        rows.append((
            name, float(value),
            None if interval is None else interval.low,
            None if interval is None else interval.high,
            None if interval is None else interval.level,
            result.higher_is_better.get(name),
        ))  # fmt: skip
    return rows


def result_frame(result: EvaluationResult) -> Any:
    """One row per scalar metric: value, interval (when bootstrapped), direction."""
    from modelops_core.tabular.frames import to_pandas

    rows = _result_rows(result)
    return to_pandas({c: [row[i] for row in rows] for i, c in enumerate(RESULT_COLUMNS)})


def comparison_frame(comparison: Comparison) -> Any:
    """One row per compared metric: values, difference and interval, test, decision."""
    from modelops_core.tabular.frames import to_pandas

    return to_pandas({c: [getattr(row, c) for row in comparison.rows] for c in COMPARISON_COLUMNS})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def _table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<table class="modelops"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def result_html(result: EvaluationResult) -> str:
    """The scalar metrics of ``result`` as an HTML table (Jupyter's ``_repr_html_``)."""
    rows = _result_rows(result)
    bootstrapped = any(row[2] is not None for row in rows)
    columns = RESULT_COLUMNS if bootstrapped else ("metric", "value", "higher_is_better")
    shown = [row if bootstrapped else (row[0], row[1], row[5]) for row in rows]
    caption = f"Evaluation of {result.model_id or 'a model'} on {result.n} examples"
    return _table(caption, columns, shown)


def comparison_html(comparison: Comparison) -> str:
    """The rows of ``comparison`` as an HTML table, with its decision as caption."""
    a, b = comparison.model_a or "A", comparison.model_b or "B"
    caption = f"{a} vs {b}: {comparison.decision} (primary: {comparison.primary})"
    rows = [[getattr(row, c) for c in COMPARISON_COLUMNS] for row in comparison.rows]
    return _table(caption, COMPARISON_COLUMNS, rows)
