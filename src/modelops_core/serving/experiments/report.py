"""The experiment report: one self-contained HTML file (no script, no network) with the
decision, the primary metric's effect over time with its fixed-horizon and always-valid
intervals, every metric, the sample-ratio check and the guardrails. Charts are inline SVG
drawn with the evaluation report's helpers (:mod:`modelops_core.evaluation.report.svg`)."""

from __future__ import annotations

import math
import time
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from modelops_core.evaluation.report.html import STYLE
from modelops_core.evaluation.report.svg import COLOURS, FONT, _svg, label, text_width

if TYPE_CHECKING:
    from modelops_core.serving.experiments.analysis import (
        ExperimentAnalysis,
        GuardrailResult,
        MetricResult,
    )

__all__ = ["effect_chart", "render_experiment_report", "write_experiment_report"]

_EXTRA_STYLE = """
.decision { font-size: 1.3em; padding: 0.6em 1em; border-radius: 6px; display: inline-block; }
.decision-ship { background: #d9f2d9; }
.decision-rollback, .decision-invalid { background: #f8d7d7; }
.decision-keep-running, .decision-no-difference { background: #eee; }
.warnings li { color: #8a5a00; } .state-fail { color: #b00; font-weight: bold; }
.state-pass { color: #070; }
"""
_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 520.0, 300.0, 64.0, 16.0, 28.0, 44.0


def _n(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def effect_chart(analysis: ExperimentAnalysis) -> str:
    """The primary metric's effect (treatment - control) over time: the estimate, the
    fixed-horizon interval and the wider always-valid interval, against a zero line."""
    points = analysis.timeline
    name = analysis.experiment.primary.name
    title = f"effect on {name} over time"
    if not points:
        return _svg(
            "effect-over-time",
            title,
            _WIDTH,
            60,
            label(12, 44, "no data yet: each arm needs two units", _WIDTH - 24),
        )
    start = analysis.experiment.started_at
    xs = [(p.timestamp - start) / 60 for p in points]
    ends = [
        v
        for p in points
        for v in (p.sequential_low, p.sequential_high, p.fixed_low, p.fixed_high, p.effect)
        if math.isfinite(v)
    ]
    low, high = min([0.0, *ends]), max([0.0, *ends])
    if high == low:
        high = low + 1
    x_low, x_high = min(xs), max(xs)
    if x_high == x_low:
        x_high = x_low + 1

    def x_of(value: float) -> float:
        return _LEFT + (value - x_low) / (x_high - x_low) * (_WIDTH - _LEFT - _RIGHT)

    def y_of(value: float) -> float:
        return _HEIGHT - _BOTTOM - (value - low) / (high - low) * (_HEIGHT - _TOP - _BOTTOM)

    def band(kind: str, lows: list[float], highs: list[float], colour: str) -> str:
        upper = [f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in zip(xs, highs, strict=True)]
        lower = [f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in zip(xs, lows, strict=True)]
        return (
            f'<polygon class="band" data-series="{kind}" points="{" ".join(upper + lower[::-1])}" '
            f'fill="{colour}" fill-opacity="0.25" stroke="none"/>'
        )

    body = [
        f'<rect class="plot-area" x="{_LEFT}" y="{_TOP}" width="{_WIDTH - _LEFT - _RIGHT}" '
        f'height="{_HEIGHT - _TOP - _BOTTOM}" fill="none" stroke="#333"/>',
        band(
            "always-valid",
            [p.sequential_low for p in points],
            [p.sequential_high for p in points],
            COLOURS[0],
        ),
        band(
            "fixed-horizon",
            [p.fixed_low for p in points],
            [p.fixed_high for p in points],
            COLOURS[1],
        ),
        f'<line class="zero" x1="{_LEFT}" y1="{y_of(0):.1f}" x2="{_WIDTH - _RIGHT}" '
        f'y2="{y_of(0):.1f}" stroke="#333" stroke-dasharray="4 3"/>',
        '<polyline data-series="effect" points="'
        + " ".join(f"{x_of(x):.1f},{y_of(p.effect):.1f}" for x, p in zip(xs, points, strict=True))
        + f'" fill="none" stroke="{COLOURS[2]}" stroke-width="2"/>',
    ]
    for step in range(5):
        x_value = x_low + (x_high - x_low) * step / 4
        y_value = low + (high - low) * step / 4
        body.append(
            f'<text x="{x_of(x_value):.1f}" y="{_HEIGHT - _BOTTOM + 16}" text-anchor="middle">'
            f"{x_value:.3g}</text>"
            f'<text x="{_LEFT - 6}" y="{y_of(y_value) + 4:.1f}" text-anchor="end">'
            f"{y_value:.3g}</text>"
        )
    body.append(
        label(
            _WIDTH / 2,
            _HEIGHT - 12,
            "minutes since the start",
            _WIDTH - _LEFT,
            attrs='text-anchor="middle"',
        )
    )
    body.append(
        f'<g transform="translate(14 {(_TOP + _HEIGHT - _BOTTOM) / 2}) rotate(-90)">'
        + label(0, 0, "treatment - control", _HEIGHT - _TOP, attrs='text-anchor="middle"')
        + "</g>"
    )
    legend = [
        ("effect", COLOURS[2]),
        ("fixed-horizon interval (valid read once)", COLOURS[1]),
        ("always-valid interval (mSPRT: valid at every look)", COLOURS[0]),
    ]
    for row, (text, colour) in enumerate(legend):
        y = _HEIGHT + 4 + row * 15
        body.append(
            f'<g class="legend"><rect x="{_LEFT}" y="{y + 2}" width="18" height="10" '
            f'fill="{colour}" fill-opacity="0.6"/>'
            + label(_LEFT + 24, y + 11, text, _WIDTH - _LEFT - 30)
            + "</g>"
        )
    width = max(_WIDTH, text_width(title, 13) + 16, _LEFT + 24 + text_width(legend[2][0], FONT))
    return _svg("effect-over-time", title, width, _HEIGHT + 4 + len(legend) * 15 + 6, "".join(body))


def _metric_row(result: MetricResult, level: float) -> str:
    cuped = (
        f"θ = {_n(result.theta)}, {result.variance_reduction:.0%} less variance"
        if result.theta is not None and result.variance_reduction is not None
        else "-"
    )
    relative = "n/a" if result.relative is None else f"{result.relative:+.2%}"
    return (
        f'<tr data-metric="{escape(result.metric)}"><td>{escape(result.metric)} '
        f"({result.kind}{', lower is better' if result.lower_is_better else ''})</td>"
        f"<td>{_n(result.control_mean)} (n={result.control_units})</td>"
        f"<td>{_n(result.treatment_mean)} (n={result.treatment_units})</td>"
        f"<td>{_n(result.fixed.effect)} ({relative})</td>"
        f"<td>[{_n(result.fixed.low)}, {_n(result.fixed.high)}]</td>"
        f"<td>[{_n(result.sequential.low)}, {_n(result.sequential.high)}]</td>"
        f"<td>{_n(result.sequential.p_value, 3)}</td><td>{_n(result.adjusted_p, 3)}</td>"
        f"<td>{cuped}</td></tr>"
    )


def _guardrail_row(result: GuardrailResult) -> str:
    change = result.change
    if change is None:
        cells = '<td colspan="4">fewer than 20 requests in an arm</td>'
    else:
        pattern = "{:+.2%}" if result.relative else "{:+.4g}"
        show = pattern.format
        cells = (
            f"<td>{_n(change.control)}</td><td>{_n(change.treatment)}</td>"
            f"<td>{show(change.change)}</td><td>[{show(change.lower)}, {show(change.upper)}]</td>"
        )
    return (
        f'<tr data-guardrail="{escape(result.spec)}"><td>{escape(result.spec)}</td>{cells}'
        f'<td class="state-{result.state}">{result.state}</td></tr>'
    )


def render_experiment_report(analysis: ExperimentAnalysis) -> str:
    """The report of ``analysis`` as an HTML string."""
    experiment = analysis.experiment
    level = 1 - experiment.alpha
    heading = f"Experiment {experiment.name}"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(analysis.at))
    meta = (
        f"{escape(experiment.model)}: control {escape(experiment.control)} "
        f"({100 - experiment.split:g}%), treatment {escape(experiment.treatment)} "
        f"({experiment.split:g}%) · {experiment.status} · started "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(experiment.started_at))} · "
        f"analysed {when} · correction {experiment.correction} · alpha {experiment.alpha:g}"
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in analysis.warnings)
    ratio = analysis.sample_ratio
    if ratio.p_value is None:
        srm = "not checked yet (each arm needs 8 units)"
    else:
        verdict = "MISMATCH" if ratio.mismatch else "ok"
        srm = f"chi-square = {_n(ratio.statistic)}, p = {_n(ratio.p_value, 3)}: {verdict}"
    metrics = "".join(_metric_row(m, level) for m in analysis.metrics)
    guardrails = "".join(_guardrail_row(g) for g in analysis.guardrails) or (
        '<tr><td colspan="6">no guardrails</td></tr>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)}</title><style>{STYLE}{_EXTRA_STYLE}</style></head><body>"
        f'<h1>{escape(heading)}</h1><p class="meta">{meta}</p>'
        f'<p class="decision decision-{analysis.decision}" data-decision="{analysis.decision}">'
        f"<strong>{analysis.decision}</strong>: {escape(analysis.reason)}</p>"
        + (f'<ul class="warnings">{warnings}</ul>' if warnings else "")
        + f'<h2>Effect over time</h2><div class="plots">{effect_chart(analysis)}</div>'
        '<h2>Metrics</h2><div class="scroll"><table><thead><tr><th>metric</th>'
        "<th>control</th><th>treatment</th><th>effect (relative)</th>"
        f"<th>fixed-horizon {level:.0%}</th><th>always-valid {level:.0%}</th>"
        f"<th>p (always-valid)</th><th>p ({experiment.correction})</th><th>CUPED</th></tr>"
        f"</thead><tbody>{metrics}</tbody></table></div>"
        f'<h2>Sample ratio</h2><p class="srm" data-mismatch="{str(ratio.mismatch).lower()}">'
        f"{ratio.control} control, {ratio.treatment} treatment units; expected "
        f"{1 - ratio.expected_treatment_share:.0%} / {ratio.expected_treatment_share:.0%}; "
        f"{srm}</p>"
        '<h2>Guardrails</h2><div class="scroll"><table><thead><tr><th>guardrail</th>'
        "<th>control</th><th>treatment</th><th>change</th>"
        f"<th>one-sided {level:.0%} bounds</th><th>state</th></tr></thead>"
        f"<tbody>{guardrails}</tbody></table></div></body></html>\n"
    )


def write_experiment_report(analysis: ExperimentAnalysis, path: str | Path) -> Path:
    """Write the report to ``path`` (through a temporary file, so a reader never sees half)."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(render_experiment_report(analysis), encoding="utf-8")
    temporary.replace(target)
    return target
