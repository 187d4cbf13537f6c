"""Small inline-SVG charts for the HTML report: lines, a heatmap, bars. No dependency.

Every chart is a self-contained ``<svg>`` string with a ``<title>``, axes with ticks, and
``data-*`` attributes naming what it plots (so tests and tools can find the series).

Nothing is laid out on hope: every label is measured with :func:`text_width` (a conservative
estimate, wider than any common sans-serif font renders it), the chart grows to hold it, and a
label longer than its room is shortened with an ellipsis and keeps its full text as a tooltip
(``<title>``). Legends sit below the plotting area, never on the curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 360, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 44
FONT = 11
LINE = 15  # the height of one legend or caption line
#: categorical colours (Tableau 10); series beyond ten repeat them with a dash pattern.
COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
#: the widest a label of the confusion matrix or the group bars is drawn (px).
LABEL_ROOM = 190.0

_NARROW = frozenset("iljtfrI.,:;'|!()[] ")
_WIDE = frozenset("mwMW@%")


def text_width(text: str, size: float = FONT) -> float:
    """A width in px that ``text`` at font ``size`` does not exceed in common sans-serif
    fonts (DejaVu Sans, Liberation Sans, Helvetica, Arial, Segoe UI): per-character em
    widths rounded up, non-ASCII characters counted as a full em."""
    total = 0.0
    for char in text:
        if char in _NARROW:
            total += 0.42
        elif char in _WIDE or ord(char) > 0x7F:
            total += 1.0
        elif char.isupper():
            total += 0.8
        else:
            total += 0.66
    return total * size


def fit(text: str, room: float, size: float = FONT) -> str:
    """``text``, or, when wider than ``room`` px, its start and end around an ellipsis (the
    end is kept because names that share a prefix differ there: ``billing_dis…_16``)."""
    if text_width(text, size) <= room:
        return text
    for kept in range(len(text) - 1, 0, -1):
        tail = kept * 2 // 5
        shown = text[: kept - tail] + "…" + (text[-tail:] if tail else "")
        if text_width(shown, size) <= room:
            return shown
    return "…"


def label(
    x: float, y: float, text: str, room: float, *, attrs: str = "", size: float = FONT
) -> str:
    """A ``<text>`` shortened to ``room`` px; a shortened one keeps the full text as its
    tooltip and in ``data-full``."""
    shown = fit(text, room, size)
    if shown == text:
        return f'<text x="{x:.1f}" y="{y:.1f}" {attrs}>{escape(text)}</text>'
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" {attrs} data-full="{escape(text)}">'
        f"<title>{escape(text)}</title>{escape(shown)}</text>"
    )


def _svg(kind: str, title: str, width: float, height: float, body: str) -> str:
    width, height = math.ceil(width), math.ceil(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'font-family="sans-serif" font-size="{FONT}"><title>{escape(title)}</title>'
        + _heading(title, width)
        + body
        + "</svg>"
    )


def _heading(title: str, width: float) -> str:
    return label(
        width / 2,
        17,
        title,
        width - 8,
        attrs='text-anchor="middle" font-size="13" font-weight="bold" class="heading"',
        size=13,
    )


def _x(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return LEFT + (value - low) / ((high - low) or 1) * (WIDTH - LEFT - RIGHT)


def _y(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return HEIGHT - BOTTOM - (value - low) / ((high - low) or 1) * (HEIGHT - TOP - BOTTOM)


def _axes(x_label: str, y_label: str) -> str:
    ticks = []
    for step in range(6):
        value = step / 5
        ticks.append(
            f'<line x1="{_x(value):.1f}" y1="{HEIGHT - BOTTOM}" x2="{_x(value):.1f}" '
            f'y2="{HEIGHT - BOTTOM + 4}" stroke="#333"/>'
            f'<text x="{_x(value):.1f}" y="{HEIGHT - BOTTOM + 17}" text-anchor="middle">'
            f"{value:.1f}</text>"
            f'<line x1="{LEFT - 4}" y1="{_y(value):.1f}" x2="{LEFT}" y2="{_y(value):.1f}" '
            f'stroke="#333"/><text x="{LEFT - 7}" y="{_y(value) + (0 if step == 0 else 4):.1f}" '
            f'text-anchor="end">{value:.1f}</text>'
        )
    return (
        f'<rect class="plot-area" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333"/>'
        + "".join(ticks)
        + label(
            (LEFT + WIDTH - RIGHT) / 2,
            HEIGHT - 10,
            x_label,
            WIDTH - LEFT - RIGHT,
            attrs='text-anchor="middle"',
        )
        + f'<g transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)">'
        + label(0, 0, y_label, HEIGHT - TOP - BOTTOM, attrs='text-anchor="middle"')
        + "</g>"
    )


def _dash(index: int) -> str:
    return "" if index < len(COLOURS) else ' stroke-dasharray="6 3"'


def line_chart(
    kind: str,
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    diagonal: bool = False,
    markers: bool = False,
    baselines: Sequence[tuple[str, float]] = (),
    notes: Sequence[str] = (),
) -> str:
    """Lines on the unit square; ``series`` are ``(name, xs, ys)``, ``baselines`` are
    ``(name, y)`` dashed horizontal lines. The legend (and any ``notes``) is drawn below the
    axes, one entry a line, so it never covers a curve."""
    body = [_axes(x_label, y_label)]
    legend: list[tuple[str, str]] = []  # (swatch attributes, name)
    if diagonal:
        body.append(
            f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#999" '
            'stroke-dasharray="4 3"/>'
        )
    for name, level in baselines:
        body.append(
            f'<line class="baseline" data-series="{escape(name)}" x1="{_x(0):.1f}" '
            f'y1="{_y(level):.1f}" x2="{_x(1):.1f}" y2="{_y(level):.1f}" stroke="#777" '
            'stroke-dasharray="4 3"/>'
        )
        legend.append(('stroke="#777" stroke-dasharray="4 3"', name))
    for index, (name, xs, ys) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(
            f"{_x(x):.1f},{_y(y):.1f}" for x, y in zip(xs, ys, strict=True) if x == x and y == y
        )
        body.append(
            f'<polyline data-series="{escape(name)}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{_dash(index)}/>'
        )
        if markers:
            body.extend(
                f'<circle cx="{_x(x):.1f}" cy="{_y(y):.1f}" r="3" fill="{colour}"/>'
                for x, y in zip(xs, ys, strict=True)
                if x == x and y == y
            )
        legend.insert(index, (f'stroke="{colour}" stroke-width="2"{_dash(index)}', name))
    top = HEIGHT + 4
    for row, (swatch, name) in enumerate(legend):
        y = top + row * LINE
        body.append(
            f'<g class="legend"><line x1="{LEFT}" y1="{y + 7}" x2="{LEFT + 18}" y2="{y + 7}" '
            f"{swatch}/>" + label(LEFT + 24, y + 11, name, WIDTH - LEFT - 24 - 6) + "</g>"
        )
    for row, note in enumerate(notes, start=len(legend)):
        body.append(
            label(
                LEFT,
                top + row * LINE + 11,
                note,
                WIDTH - LEFT - 6,
                attrs='class="note" fill="#555"',
            )
        )
    height = top + (len(legend) + len(notes)) * LINE + 6
    return _svg(kind, title, WIDTH, height, "".join(body))


def heatmap(title: str, labels: Sequence[object], matrix: Sequence[Sequence[float]]) -> str:
    """A confusion-matrix heatmap: rows are references, columns predictions.

    Cells are shaded by their share of the reference row (the recall of the diagonal), so a
    rare class reads as clearly as a frequent one; counts are printed in a cell when they
    fit, and every cell has a tooltip. Cells shrink from 40 to 14 px as classes grow (the
    chart widens beyond that); column headers turn vertical when any is wider than its cell;
    labels longer than :data:`LABEL_ROOM` are shortened with an ellipsis (the full name in
    the tooltip and in the report's per-class table).
    """
    names = [str(name) for name in labels]
    k = len(names)
    size = float(max(14, min(40, 420 // max(k, 1))))
    shown = [fit(name, LABEL_ROOM) for name in names]
    widths = [text_width(name) for name in shown]
    label_width = max([*widths, text_width("reference")])
    vertical = max(widths, default=0) > size - 4
    header = (max(widths, default=0) if vertical else FONT) + 10
    x0 = 8 + label_width + 8
    y0 = 28 + header
    matrix_width = k * size
    captions = [
        "rows: reference · columns: predicted",
        "shade: share of the reference row (0% to 100%)",
    ]
    width = max(
        x0 + matrix_width + 10, *(text_width(c) + 16 for c in captions), text_width(title, 13) + 16
    )
    body = []
    for index, name in enumerate(names):
        centre = x0 + index * size + size / 2
        if vertical:
            body.append(
                f'<g transform="translate({centre + FONT * 0.35:.1f} {y0 - 6:.1f}) rotate(-90)">'
                + label(0, 0, name, LABEL_ROOM, attrs='class="column-label"')
                + "</g>"
            )
        else:
            body.append(
                label(
                    centre,
                    y0 - 6,
                    name,
                    LABEL_ROOM,
                    attrs='class="column-label" text-anchor="middle"',
                )
            )
        body.append(
            label(
                x0 - 8,
                y0 + index * size + size / 2 + FONT * 0.35,
                name,
                LABEL_ROOM,
                attrs='class="row-label" text-anchor="end"',
            )
        )
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, count in enumerate(row):
            share = count / total
            fill = f"rgb({int(255 - 200 * share)},{int(255 - 150 * share)},255)"
            x, y = x0 + j * size, y0 + i * size
            body.append(
                f'<rect class="cell" x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" '
                f'height="{size:.1f}" fill="{fill}" stroke="#fff"><title>reference '
                f"{escape(names[i])}, predicted {escape(names[j])}: {count:g} "
                f"({share:.0%} of the row)</title></rect>"
            )
            text = f"{count:g}"
            if size >= 18 and text_width(text) <= size - 4:
                colour = "#fff" if share > 0.6 else "#000"
                body.append(
                    f'<text class="count" x="{x + size / 2:.1f}" y="{y + size / 2 + 4:.1f}" '
                    f'text-anchor="middle" fill="{colour}" pointer-events="none">{text}</text>'
                )
    y = y0 + k * size + 8
    body.append(
        '<defs><linearGradient id="confusion-shade">'
        '<stop offset="0" stop-color="rgb(255,255,255)"/>'
        '<stop offset="1" stop-color="rgb(55,105,255)"/></linearGradient></defs>'
        f'<rect class="scale" x="8" y="{y:.1f}" width="120" height="8" '
        'fill="url(#confusion-shade)" stroke="#999"/>'
        f'<text x="8" y="{y + 20:.1f}">0%</text>'
        f'<text x="128" y="{y + 20:.1f}" text-anchor="end">100%</text>'
    )
    for line, caption in enumerate(captions):
        body.append(
            f'<text class="note" x="8" y="{y + 36 + line * LINE:.1f}" fill="#555">'
            f"{escape(caption)}</text>"
        )
    height = y + 36 + len(captions) * LINE
    return _svg("confusion", title, width, height, "".join(body))


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float, float | None, float | None]],
    *,
    note: str | None = None,
) -> str:
    """Horizontal bars of ``(label, value, low, high)`` (``low`` / ``high`` the interval, or
    None), from a zero line. The scale holds every value and interval end: [0, 1] when they
    all lie in it (rates), else their range with zero included, negative values drawn left of
    zero. ``note`` (e.g. "lower is better") is printed under the title."""
    ends = [
        v
        for _, value, low, high in bars
        for v in (value, low, high)
        if v is not None and math.isfinite(v)
    ]
    low_end, high_end = min([0.0, *ends]), max([0.0, *ends])
    if low_end >= 0 and high_end <= 1:
        low_end, high_end = 0.0, 1.0
    span = (high_end - low_end) or 1.0
    label_width = min(max([text_width(name) for name, *_ in bars] or [0.0]), LABEL_ROOM)
    left = 8 + label_width + 8
    values = [("n/a" if not math.isfinite(value) else f"{value:.3f}") for _, value, *_ in bars]
    value_width = max([text_width(v) for v in values] or [0.0])
    plot = 200.0
    width = max(
        left + plot + 8 + value_width + 8, text_width(title, 13) + 16, text_width(note or "") + 16
    )

    def x_of(value: float) -> float:
        return left + (value - low_end) / span * plot

    row = 22
    top = 28 + (LINE if note else 0)
    body = []
    if note:
        body.append(
            f'<text class="note" x="{width / 2:.1f}" y="{top - 4}" text-anchor="middle" '
            f'fill="#555">{escape(note)}</text>'
        )
    zero = x_of(0.0)
    for index, ((name, value, low, high), shown) in enumerate(zip(bars, values, strict=True)):
        y = top + index * row
        finite = math.isfinite(value)
        start, end = (zero, x_of(value)) if finite else (zero, zero)
        interval = None
        if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
            interval = (low, high)
        band = "" if interval is None else f" [{interval[0]:.3f}, {interval[1]:.3f}]"
        body.append(
            label(left - 8, y + 15, name, LABEL_ROOM, attrs='class="row-label" text-anchor="end"')
            + f'<rect class="bar" data-group="{escape(name)}" data-value="{value!r}" '
            f'x="{min(start, end):.1f}" y="{y + 4}" width="{abs(end - start):.1f}" '
            f'height="{row - 8}" fill="{COLOURS[0]}" fill-opacity="0.8"><title>'
            f"{escape(name)}: {value:.4g}{band}</title></rect>"
            f'<text class="value" x="{left + plot + 8:.1f}" y="{y + 15}">{shown}</text>'
        )
        if interval is not None:
            x1, x2, middle = x_of(interval[0]), x_of(interval[1]), y + row / 2
            body.append(
                f'<g class="interval" data-group="{escape(name)}" data-low="{interval[0]!r}" '
                f'data-high="{interval[1]!r}" stroke="#000">'
                f'<line x1="{x1:.1f}" y1="{middle}" x2="{x2:.1f}" y2="{middle}"/>'
                f'<line x1="{x1:.1f}" y1="{middle - 4}" x2="{x1:.1f}" y2="{middle + 4}"/>'
                f'<line x1="{x2:.1f}" y1="{middle - 4}" x2="{x2:.1f}" y2="{middle + 4}"/></g>'
            )
    bottom = top + len(bars) * row
    body.append(
        f'<line class="zero" x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{bottom}" '
        'stroke="#333"/>'
        f'<text x="{left:.1f}" y="{bottom + 14}" text-anchor="start">{low_end:.3g}</text>'
        f'<text x="{left + plot:.1f}" y="{bottom + 14}" text-anchor="end">{high_end:.3g}</text>'
    )
    return _svg("groups", title, width, bottom + 22, "".join(body))
