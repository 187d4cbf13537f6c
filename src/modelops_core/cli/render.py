"""Terminal output: tables with rich (imported only when a table is printed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table to stdout."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))  # cells are text, never markup
    Console(soft_wrap=False).print(table)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    print(json.dumps(value, indent=2, sort_keys=False, default=str))


def error_console() -> Any:
    """A rich console on stderr."""
    from rich.console import Console

    return Console(stderr=True)
