"""Reading JSON Lines with errors that name the file, line and column."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelops_core.errors import ModelOpsError


class JsonlError(ModelOpsError, ValueError):
    """A JSON Lines file that cannot be read; the message names the file and line."""


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line of ``path``, streaming.

    Each record must be a JSON object; anything else raises :class:`JsonlError` naming the
    file, the line and (for invalid JSON) the column.
    """
    file = Path(path)
    try:
        handle = file.open(encoding="utf-8-sig")  # a byte-order mark is not part of line 1
    except OSError as exc:
        raise JsonlError(f"Cannot open {str(file)!r}: {exc.strerror or exc}.") from exc
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, _record(file, number, line.rstrip("\r\n"))
        except UnicodeDecodeError as exc:
            raise JsonlError(
                f"{file}: not UTF-8 after line {number} ({exc.reason}); save the file as UTF-8."
            ) from exc


def _record(file: Path, number: int, line: str) -> dict[str, Any]:
    """The JSON object on ``line`` (its line ending removed, so columns count within it)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise JsonlError(
            f"{file}:{number}: invalid JSON at column {exc.colno}: {exc.msg}. "
            "Each line must hold one JSON object."
        ) from exc
    if not isinstance(record, dict):
        raise JsonlError(f"{file}:{number}: expected a JSON object, got {type(record).__name__}.")
    return record


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of ``path`` (see :func:`iter_jsonl`)."""
    return [record for _, record in iter_jsonl(path)]
