"""Small inline-SVG charts for the HTML report: lines, a heatmap, bars. No dependency.

Every chart is a self-contained ``<svg>`` string with a ``<title>``, axes with ticks, and
``data-*`` attributes naming what it plots (so tests and tools can find the series).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 360, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 44
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _x(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return LEFT + (value - low) / ((high - low) or 1) * (WIDTH - LEFT - RIGHT)


def _y(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return HEIGHT - BOTTOM - (value - low) / ((high - low) or 1) * (HEIGHT - TOP - BOTTOM)


def _frame(kind: str, title: str, x_label: str, y_label: str, body: list[str]) -> str:
    ticks = []
    for step in range(6):
        value = step / 5
        ticks.append(
            f'<line x1="{_x(value):.1f}" y1="{HEIGHT - BOTTOM}" x2="{_x(value):.1f}" '
            f'y2="{HEIGHT - BOTTOM + 4}" stroke="#333"/>'
            f'<text x="{_x(value):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{value:.1f}</text>"
            f'<line x1="{LEFT - 4}" y1="{_y(value):.1f}" x2="{LEFT}" y2="{_y(value):.1f}" '
            f'stroke="#333"/><text x="{LEFT - 7}" y="{_y(value) + 4:.1f}" text-anchor="end">'
            f"{value:.1f}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>'
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333"/>'
        + "".join(ticks)
        + f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(12 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>' + "".join(body) + "</svg>"
    )


def line_chart(
    kind: str,
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    diagonal: bool = False,
    markers: bool = False,
) -> str:
    """Lines on the unit square; ``series`` are ``(name, xs, ys)``."""
    body = []
    if diagonal:
        body.append(
            f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#999" '
            'stroke-dasharray="4 3"/>'
        )
    for index, (name, xs, ys) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{_x(x):.1f},{_y(y):.1f}" for x, y in zip(xs, ys, strict=True)
                          if x == x and y == y)  # fmt: skip
        body.append(
            f'<polyline data-series="{escape(name)}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        if markers:
            body.extend(
                f'<circle cx="{_x(x):.1f}" cy="{_y(y):.1f}" r="3" fill="{colour}"/>'
                for x, y in zip(xs, ys, strict=True)
            )
        body.append(
            f'<text x="{LEFT + 8}" y="{TOP + 14 + 14 * index}" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    return _frame(kind, title, x_label, y_label, body)


def heatmap(title: str, labels: Sequence[object], matrix: Sequence[Sequence[float]]) -> str:
    """A confusion-matrix heatmap: rows are references, columns predictions."""
    k = len(labels)
    size = min(48.0, (WIDTH - LEFT - RIGHT) / max(k, 1))
    peak = max((max(row) for row in matrix), default=1) or 1
    cells = []
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            shade = count / peak
            fill = f"rgb({int(255 - 200 * shade)},{int(255 - 150 * shade)},255)"
            x, y = LEFT + j * size, TOP + 10 + i * size
            text_colour = "#fff" if shade > 0.6 else "#000"
            cells.append(
                f'<rect class="cell" x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" '
                f'height="{size:.1f}" fill="{fill}" stroke="#fff"><title>reference '
                f"{escape(str(labels[i]))}, predicted {escape(str(labels[j]))}: {count:g}"
                f'</title></rect><text x="{x + size / 2:.1f}" y="{y + size / 2 + 4:.1f}" '
                f'text-anchor="middle" fill="{text_colour}">{count:g}</text>'
            )
    axis = []
    for index, label in enumerate(labels):
        axis.append(
            f'<text x="{LEFT + index * size + size / 2:.1f}" y="{TOP + 6}" '
            f'text-anchor="middle">{escape(str(label))}</text>'
            f'<text x="{LEFT - 6}" y="{TOP + 10 + index * size + size / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(str(label))}</text>'
        )
    height = int(TOP + 10 + k * size + 40)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="confusion" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        + "".join(axis)
        + "".join(cells)
        + f'<text x="{LEFT + k * size / 2:.1f}" y="{height - 12}" text-anchor="middle">'
        "predicted (columns) / reference (rows)</text></svg>"
    )


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float, float | None, float | None]],
) -> str:
    """Horizontal bars in [0, 1]-scaled space of ``(label, value, low, high)``; the scale is
    the largest value (at least 1 for rates)."""
    finite = [value for _, value, _, _ in bars if value == value]
    top = max([1.0, *finite]) if finite and min(finite) >= 0 else max(finite or [1.0])
    row = 22
    height = TOP + row * len(bars) + 20
    body = []
    for index, (label, value, low, high) in enumerate(bars):
        y = TOP + index * row
        width = 0.0 if value != value else max(value, 0) / top * (WIDTH - 140)
        body.append(
            f'<text x="96" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" data-group="{escape(label)}" x="100" y="{y + 4}" '
            f'width="{width:.1f}" height="{row - 8}" fill="{COLOURS[0]}"><title>'
            f"{escape(label)}: {value:.4g}</title></rect>"
            f'<text x="{104 + width:.1f}" y="{y + 15}">{value:.3f}</text>'
        )
        if low is not None and high is not None and low == low and high == high:
            x1 = 100 + max(low, 0) / top * (WIDTH - 140)
            x2 = 100 + max(high, 0) / top * (WIDTH - 140)
            body.append(
                f'<line x1="{x1:.1f}" y1="{y + row / 2}" x2="{x2:.1f}" y2="{y + row / 2}" '
                'stroke="#000"/>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="groups" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>' + "".join(body) + "</svg>"
    )
