"""Terminal output: tables (rich, imported only when a table is printed) and JSON.

A table never breaks an identifier:

* piped or redirected (not a terminal), it is plain text: a ``# title`` line, a header line,
  then one line per row with the cells separated by tabs (``| grep ID`` finds the row,
  ``| cut -f1`` takes a column);
* on a terminal, identifier columns are never wrapped or cut (``no_wrap``); only the columns
  named in ``prose`` (free text such as tags, metadata, messages) wrap; when even that does
  not fit the terminal width, each row is printed as ``column  value`` lines instead.

A metric series is drawn as a one-line chart (:func:`print_curves`): a sparkline of eight
block heights between the series' min and max, with those and the steps they were reached at.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Collection, Mapping, Sequence
from typing import Any

#: columns between two cells of a rich table (padding and rule) and around the table.
_CELL_PADDING = 3


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    prose: Collection[str] = (),
) -> None:
    """Print a table to stdout; ``prose`` names the columns whose text may wrap."""
    cells = [[_text(cell) for cell in row] for row in rows]
    if _plainly_piped():  # rich (about 20 ms of imports) only where it draws
        _print_plain(title, columns, cells)
        return
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal:
        _print_plain(title, columns, cells)
        return
    if _narrowest_width(columns, cells, prose) > console.width:
        _print_records(console, title, columns, cells)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        if column in prose:
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, no_wrap=True, overflow="ignore")
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))  # cells are text, never markup
    console.print(table)


def _plainly_piped() -> bool:
    """True when stdout is no terminal and nothing asks rich to act as one (``FORCE_COLOR``,
    ``TTY_COMPATIBLE``, ``TTY_INTERACTIVE``): rich would find the same, later."""
    if any(os.environ.get(name) for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")):
        return False
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout: let rich decide
        return False


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell)


def _width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _narrowest_width(
    columns: Sequence[str], cells: Sequence[Sequence[str]], prose: Collection[str]
) -> int:
    """The narrowest rich table that keeps every identifier and every word whole."""
    total = 1
    for index, column in enumerate(columns):
        texts = [row[index] for row in cells if index < len(row)]
        if column in prose:
            words = [word for text in texts for word in text.split()]
            widest = max((_width(word) for word in [*words, *column.split()]), default=0)
        else:
            widest = max((_width(text) for text in [*texts, column]), default=0)
        total += widest + _CELL_PADDING
    return total


def _print_plain(title: str, columns: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    """One line per row, cells separated by tabs (tabs and line breaks inside become spaces)."""
    lines = [f"# {_flat(title)}", "\t".join(_flat(c) or "field" for c in columns)]
    lines += ["\t".join(_flat(cell) for cell in row) for row in cells]
    print("\n".join(lines))


def _flat(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def _print_records(
    console: Any, title: str, columns: Sequence[str], cells: Sequence[Sequence[str]]
) -> None:
    """Each row as ``column  value`` lines: for a terminal too narrow for the table."""
    from rich.text import Text

    console.print(Text(title, style="bold"))
    names = [c or "field" for c in columns]
    pad = max((len(name) for name in names), default=0) + 2
    for number, row in enumerate(cells, start=1):
        console.print(Text(f"-- {number} --", style="dim"))
        for name, cell in zip(names, row, strict=False):
            console.print(Text(f"{name:<{pad}}{_flat(cell)}"), soft_wrap=True)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON (NaN and infinity as null, which JSON lacks)."""
    print(json.dumps(_finite(value), indent=2, sort_keys=False, default=str))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def significant(value: Any, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (``0.8123``, ``1235``, ``1.2e-05``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


#: the eight heights of a sparkline, lowest first.
SPARKS = "▁▂▃▄▅▆▇█"
#: the most columns a sparkline takes; a longer series is averaged into this many.
CURVE_WIDTH = 48


def sparkline(values: Sequence[float], width: int = CURVE_WIDTH) -> str:
    """``values`` as block heights between their min (``▁``) and max (``█``), one column per
    value, or per run of values averaged when there are more than ``width``; a value that is
    not finite is a space, a flat series sits at mid height.

    >>> sparkline([1.0, 0.5, 0.25, 0.0])
    '█▅▃▁'
    >>> sparkline([3.0, 3.0])
    '▄▄'
    """
    columns = _columns(list(values), max(width, 1))
    finite = [v for v in columns if math.isfinite(v)]
    if not finite:
        return " " * len(columns)
    low, high = min(finite), max(finite)
    spread = high - low
    marks = []
    for value in columns:
        if not math.isfinite(value):
            marks.append(" ")
        elif spread <= 0:
            marks.append(SPARKS[3])
        else:
            level = int((value - low) / spread * len(SPARKS))
            marks.append(SPARKS[min(level, len(SPARKS) - 1)])
    return "".join(marks)


def _columns(values: list[float], width: int) -> list[float]:
    """At most ``width`` values: the means of consecutive, nearly equal runs of ``values``."""
    if len(values) <= width:
        return values
    out = []
    for column in range(width):
        chunk = values[column * len(values) // width : (column + 1) * len(values) // width]
        finite = [v for v in chunk if math.isfinite(v)]
        out.append(math.fsum(finite) / len(finite) if finite else math.nan)
    return out


def curve_line(points: Sequence[tuple[int, float]], width: int = CURVE_WIDTH) -> str:
    """One series, ``(step, value)`` in step order, as ``sparkline  first -> last  min … max
    …  N points, steps a-b``.

    >>> curve_line([(0, 1.7918), (10, 0.9), (20, 0.61), (30, 0.52)])
    '█▃▁▁  1.792 -> 0.52  min 0.52 (step 30)  max 1.792 (step 0)  4 points, steps 0-30'
    """
    finite = [(step, value) for step, value in points if math.isfinite(value)]
    line = sparkline([value for _, value in points], width)
    if not finite:
        return f"{line}  no finite value  {len(points)} points"
    low = min(finite, key=lambda point: point[1])
    high = max(finite, key=lambda point: point[1])
    return (
        f"{line}  {significant(finite[0][1])} -> {significant(finite[-1][1])}  "
        f"min {significant(low[1])} (step {low[0]})  max {significant(high[1])} "
        f"(step {high[0]})  {len(points)} points, steps {points[0][0]}-{points[-1][0]}"
    )


def print_curves(
    title: str, series: Mapping[str, Sequence[tuple[int, float]]], width: int = CURVE_WIDTH
) -> None:
    """Print each series of more than one point as a :func:`curve_line` after its name (in
    name order), under a ``# title`` line; nothing when no series has two points."""
    drawn = {key: points for key, points in sorted(series.items()) if len(points) > 1}
    if not drawn:
        return
    pad = max(len(key) for key in drawn) + 2
    lines = [f"# {_flat(title)}"]
    lines += [f"{key:<{pad}}{curve_line(points, width)}" for key, points in drawn.items()]
    print("\n".join(lines))


def error_console() -> Any:
    """A rich console on stderr."""
    from rich.console import Console

    return Console(stderr=True)
