"""The self-contained HTML drift report: the summary table first, then per column the reference
and current distributions overlaid (inline SVG, the evaluation report's chart helpers), with the
method, value, threshold and notes. No script, stylesheet or font from elsewhere."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np

from modelops_core.evaluation.report.html import STYLE, _number
from modelops_core.evaluation.report.svg import line_chart
from modelops_core.monitoring.profile import NUMERIC, ColumnProfile

if TYPE_CHECKING:
    from modelops_core.monitoring.drift import ColumnDrift, DriftReport

#: categories shown per categorical column (the most frequent of both sides).
TOP_CATEGORIES = 20
BINS = 30


def _numeric_series(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[list[tuple[str, list[float], list[float]]], str]:
    low = min(reference.minimum, current.minimum)
    high = max(reference.maximum, current.maximum)
    if not high > low:
        high = low + 1.0
    edges = np.linspace(low, high, BINS + 1)
    centres = ((edges[:-1] + edges[1:]) / 2 - low) / (high - low)
    shares = []
    for side in (reference, current):
        items, weights = side.quantiles.weighted()
        counts = np.histogram(items, edges, weights=weights)[0]
        shares.append(counts / max(float(counts.sum()), 1.0))
    peak = max(float(np.max(s)) for s in shares) or 1.0
    series = [
        (name, [float(x) for x in centres], [float(y) / peak for y in share])
        for name, share in zip(("reference", "current"), shares, strict=True)
    ]
    return series, f"value, {low:.4g} to {high:.4g}"


def _categorical_series(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[list[tuple[str, list[float], list[float]]], str, list[str]]:
    totals = {
        key: reference.frequent.counts.get(key, 0) / max(reference.values, 1)
        + current.frequent.counts.get(key, 0) / max(current.values, 1)
        for key in {*reference.frequent.counts, *current.frequent.counts}
    }
    keys = sorted(totals, key=lambda key: (-totals[key], key))[:TOP_CATEGORIES]
    keys.sort()
    xs = [index / max(len(keys) - 1, 1) for index in range(len(keys))]
    shares = [
        [side.frequent.counts.get(key, 0) / max(side.values, 1) for key in keys]
        for side in (reference, current)
    ]
    peak = max([max(share, default=0.0) for share in shares]) or 1.0
    series = [
        (name, xs, [y / peak for y in share])
        for name, share in zip(("reference", "current"), shares, strict=True)
    ]
    return series, "category (listed below)", keys


def _column_section(finding: ColumnDrift, report: DriftReport) -> str:
    reference = report.reference.columns.get(finding.column)
    current = report.current.columns.get(finding.column)
    chart, legend = "", ""
    if (
        reference is not None
        and current is not None
        and reference.values
        and current.values
        and reference.kind == current.kind
    ):
        if reference.kind == NUMERIC:
            series, x_label = _numeric_series(reference, current)
        else:
            series, x_label, keys = _categorical_series(reference, current)
            legend = f'<p class="meta">categories: {escape(", ".join(keys))}</p>'
        chart = line_chart(
            "distribution",
            finding.column,
            x_label,
            "share (scaled to the highest)",
            series,
            markers=reference.kind != NUMERIC,
        )
    notes = "".join(f"<li>{escape(note)}</li>" for note in finding.notes)
    verdict = "drift" if finding.drifted else "no drift"
    return (
        f'<section data-column="{escape(finding.column)}"><h2>{escape(finding.column)}: '
        f"{verdict}</h2><p>{escape(finding.kind)} · method {escape(finding.method)} · value "
        f"{_number(finding.value) if finding.value is not None else 'n/a'} · threshold "
        f"{_number(finding.threshold) if finding.threshold is not None else 'n/a'}</p>"
        f"{chart}{legend}{f'<ul>{notes}</ul>' if notes else ''}</section>"
    )


def render_drift_report(report: DriftReport, *, title: str = "Drift report") -> str:
    """The report as an HTML string."""
    rows = []
    for finding in report.columns:
        rows.append(
            f'<tr data-column="{escape(finding.column)}" '
            f'data-drifted="{str(finding.drifted).lower()}">'
            f"<td>{escape(finding.column)}</td><td>{escape(finding.kind)}</td>"
            f"<td>{escape(finding.method)}</td>"
            f"<td>{_number(finding.value) if finding.value is not None else 'n/a'}</td>"
            f"<td>{_number(finding.threshold) if finding.threshold is not None else 'n/a'}</td>"
            f"<td>{'yes' if finding.drifted else 'no'}</td></tr>"
        )
    drifted = sum(finding.drifted for finding in report.columns)
    meta = (
        f"reference {escape(report.reference.source or '-')} ({report.reference.rows} rows) · "
        f"current {escape(report.current.source or '-')} ({report.current.rows} rows) · "
        f"{drifted} of {len(report.columns)} columns drifted ({report.share_drifted:.0%}); "
        f"data set {'drifted' if report.drifted else 'not drifted'} "
        f"(share threshold {report.drift_share:.0%})"
    )
    sections = "".join(_column_section(finding, report) for finding in report.columns)
    multivariate = ""
    if report.rows is not None:
        found = report.rows
        value = _number(found.value) if found.value is not None else "n/a"
        threshold = _number(found.threshold) if found.threshold is not None else "n/a"
        notes = "; ".join(found.notes)
        multivariate = (
            f'<p class="meta" data-multivariate="{str(found.drifted).lower()}">multivariate: '
            f"{escape(found.method)} on the {escape(found.column)} · value {value} · threshold "
            f"{threshold} · {'drift' if found.drifted else 'no drift'}"
            f"{' · ' + escape(notes) if notes else ''}</p>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="meta">{meta}</p>'
        '<table class="summary"><thead><tr><th>column</th><th>kind</th><th>method</th>'
        "<th>value</th><th>threshold</th><th>drifted</th></tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table>{multivariate}<div class="plots">{sections}</div>'
        "</body></html>\n"
    )
