"""JSON Lines at speed: byte chunks, line numbers, msgspec decoding, precise errors.

A file is read in chunks of whole lines; each chunk is decoded with msgspec (imported here,
lazily, by the functions that need it). A line that fails gets a problem naming its line and
column (or, for bytes that are not UTF-8, the byte offset and an encoding hint).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs

from modelops_core.datasets.errors import DatasetEncodingError, DatasetReadError

CHUNK_BYTES = 4 * 1024 * 1024
ProgressCallback = Callable[[int], None]
"""Called with the number of bytes read since the previous call."""


@attrs.frozen
class LineProblem:
    """A problem of one line: its number, a short reason, the field at fault (or "")."""

    line: int
    reason: str
    field: str = ""
    column: int = 0


def open_binary(path: str | os.PathLike[str]) -> Any:
    """``path`` opened for binary reading, or a :class:`DatasetReadError` saying why not."""
    file = Path(path)
    if file.is_dir():
        raise DatasetReadError(f"{file} is a directory; give a JSONL file.", path=str(file))
    try:
        return file.open("rb")
    except OSError as exc:
        raise DatasetReadError(
            f"Cannot open {str(file)!r}: {exc.strerror or exc}.", path=str(file)
        ) from exc


def check_start(path: str, head: bytes) -> bytes:
    """``head`` without a UTF-8 byte-order mark; UTF-16/32 files are refused with a fix."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetEncodingError(
            f"{path}: the file is UTF-16 (it starts with a byte-order mark); JSONL must be "
            f"UTF-8. Convert it: iconv -f UTF-16 -t UTF-8 {path} > fixed.jsonl",
            path=path,
            line=1,
        )
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def iter_chunks(
    path: str | os.PathLike[str],
    *,
    chunk_bytes: int | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[tuple[int, bytes, int]]:
    """``(first line number, chunk of whole lines, number of lines)`` for the file, streaming.

    :raises DatasetReadError: the file cannot be opened or is empty.
    """
    name = str(path)
    with open_binary(path) as handle:
        line = 1
        first = True
        seen_data = False
        while True:
            chunk = handle.read(chunk_bytes or CHUNK_BYTES)
            if chunk and not chunk.endswith(b"\n"):
                chunk += handle.readline()  # whole lines: one copy, no carried rest
            if progress is not None and chunk:
                progress(len(chunk))
            if first:
                chunk = check_start(name, chunk)
                first = False
            if not chunk:
                break
            seen_data = seen_data or not chunk.isspace()
            count = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
            yield line, chunk, count
            line += count
    if not seen_data:
        raise DatasetReadError(
            f"{name} is empty: a JSONL dataset needs one JSON object per line.", path=name
        )


def iter_lines(chunk: bytes, first_line: int) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of the non-blank lines of a chunk."""
    for offset, line in enumerate(chunk.split(b"\n")):
        if line.strip():
            yield first_line + offset, line


Run = TypeVar("Run")


def decoded_runs(
    chunk: bytes,
    first_line: int,
    decode: Callable[[bytes], Any],
    make_run: Callable[[list[int], list[Any], list[int]], Run],
) -> Iterator[Run | tuple[int, bytes]]:
    """The non-blank lines of ``chunk`` in order: each run of consecutive lines ``decode``
    accepts as ``make_run(line numbers, values, line lengths)``, and ``(line number, line)``
    for each line it refuses (``ValueError``: msgspec.DecodeError, UnicodeDecodeError)."""
    lines: list[int] = []
    values: list[Any] = []
    sizes: list[int] = []
    for number, line in iter_lines(chunk, first_line):
        try:
            value = decode(line)
        except ValueError:
            if values:
                yield make_run(lines, values, sizes)
                lines, values, sizes = [], [], []
            yield number, line
            continue
        lines.append(number)
        values.append(value)
        sizes.append(len(line))
    if values:
        yield make_run(lines, values, sizes)


def line_problem(path: str, number: int, line: bytes) -> LineProblem:
    """Why ``line`` is not a JSON object: invalid UTF-8 (with byte offset) or invalid JSON
    (with column)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineProblem(
            number,
            f"not UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line); "
            "re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8",
            column=exc.start + 1,
        )
    try:
        value = json.loads(text.removesuffix("\r"))  # a CRLF line's \r is no column of it
    except json.JSONDecodeError as exc:
        return LineProblem(
            number, f"invalid JSON at column {exc.colno}: {exc.msg}", column=exc.colno
        )
    if not isinstance(value, dict):
        return LineProblem(number, f"expected a JSON object, got {type(value).__name__}")
    return LineProblem(number, "invalid JSON")  # pragma: no cover - msgspec stricter than json


def decode_line(line: bytes) -> Any:
    """One JSON value, or raise (msgspec first; the standard library for what it refuses)."""
    import msgspec

    try:
        return msgspec.json.decode(line)
    except msgspec.DecodeError:
        return json.loads(line.decode("utf-8"))  # NaN, huge numbers: json knows them


def read_error(path: str, problem: LineProblem) -> DatasetReadError:
    """The error raised for a problem when invalid lines are not skipped."""
    kind = DatasetEncodingError if problem.reason.startswith("not UTF-8") else DatasetReadError
    return kind(
        f"{path}:{problem.line}: {problem.reason.rstrip('.')}. Each line must hold one JSON object "
        "(use skip_invalid=True / --skip-invalid to set bad lines aside).",
        path=path,
        line=problem.line,
        column=problem.column,
    )
