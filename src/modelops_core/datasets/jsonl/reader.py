"""The JSON Lines reader: every JSONL file modelops reads goes through this module.

``Dataset.from_jsonl``, ``validate_file`` and ``convert_file`` (``modelops dataset validate`` /
``convert``), ``DatasetSanitizer.sanitize_file`` (``modelops dataset sanitize``) and
``modelops eval run`` (its ``--predictions`` and ``--references`` files) read a file the same way
and name its problems the same way.

What a JSONL file is:

- UTF-8. A byte-order mark at the start is skipped (it is not part of line 1); a UTF-16 file
  (known by its mark) is refused with the ``iconv`` command that converts it.
- A line ends at ``\\n``; a ``\\r`` just before it belongs to the line ending (CRLF files). A
  lone ``\\r`` ends nothing: it is whitespace inside the line, as JSON says.
- A blank line (only ASCII whitespace: space, tab, ``\\r``, ``\\v``, ``\\f``) is skipped, and
  counted. Any other character is not blank: a line holding a no-break space is invalid JSON.
- Every other line holds one JSON object. A file without one is empty: an error.

How a place is named:

- **line**: 1-based, counting every line of the file, blank ones included;
- **column**: 1-based, in characters (code points) of the line without its line ending, as an
  editor shows it; for bytes that are not UTF-8, the column of the first bad byte; 0 when the
  whole line is at fault (e.g. an array where an object belongs);
- **message**: ``<file>:<line>: <reason>``, the reason of invalid JSON saying ``at column <n>``:
  ``train.jsonl:2: invalid JSON at column 16: Expecting ',' delimiter``. The error,
  :class:`~modelops_core.datasets.errors.DatasetReadError` (or its
  :class:`~modelops_core.datasets.errors.DatasetEncodingError` for bytes that are not UTF-8),
  carries ``path``, ``line`` and ``column``. A problem kept rather than raised
  (:class:`LineProblem`, in validation reports and ``*.rejected.jsonl`` files) has the same
  line, reason and column.

What it gives:

- :func:`iter_jsonl` / :func:`read_jsonl`: the JSON objects of the file, raising at the first
  problem (what ``modelops eval run`` reads);
- :func:`iter_lines`: every non-blank line as a :class:`Line` (its number, its text, and its
  JSON object or its :class:`LineProblem`), for readers that go on past a problem or keep the
  text of a bad line (conversion, sanitizing, ``skip_invalid``);
- :func:`iter_runs`: the same, except that consecutive lines a msgspec typed decoder accepts
  come as one :class:`Run` of decoded values (the fast path of reading and validating chat
  files): a block of lines that holds one object per line is decoded in one call.

The file is read in blocks of whole lines (:data:`BLOCK_BYTES`) into one reused buffer. msgspec
is imported by the functions that need it, not by this module; reading never imports numpy
(only :func:`line_bounds`, which the readers do not use, does).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import attrs

from modelops_core.datasets.errors import DatasetEncodingError, DatasetReadError, JsonlError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "BLOCK_BYTES",
    "SKIP_HINT",
    "Block",
    "DatasetEncodingError",
    "DatasetReadError",
    "JsonlError",
    "Line",
    "LineProblem",
    "ProgressCallback",
    "Run",
    "Sizes",
    "encoding_problem",
    "iter_blocks",
    "iter_jsonl",
    "iter_lines",
    "iter_runs",
    "line_bounds",
    "one_object_per_line",
    "parse_line",
    "read_error",
    "read_jsonl",
]

#: bytes per block: small enough for a block and its decoded records to stay in the CPU cache.
BLOCK_BYTES = 256 * 1024

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes read since the previous call."""

#: what a reader that can set bad lines aside tells the user (see :func:`read_error`).
SKIP_HINT = "use skip_invalid=True / --skip-invalid to set bad lines aside"

#: the start of the reason of a line that is not UTF-8.
NOT_UTF8 = "not UTF-8"

#: line lengths in bytes: an array for a whole block, a list for lines decoded one by one.
Sizes: TypeAlias = "NDArray[np.int64] | Sequence[int]"

_OPEN, _CLOSE, _CR = ord("{"), ord("}"), ord("\r")

_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


@attrs.frozen
class LineProblem:
    """Why a line is not a record: its number, a short reason, the field at fault (or ""),
    the 1-based character column (0: the whole line)."""

    line: int
    reason: str
    field: str = ""
    column: int = 0


class Line(NamedTuple):
    """A non-blank line: its number, its text (bytes, without the line ending) and its JSON
    object, or the :class:`LineProblem` saying why it has none."""

    number: int
    text: bytes
    value: dict[str, Any] | LineProblem


@attrs.frozen
class Run:
    """Consecutive lines a typed decoder accepted: their numbers, decoded values and lengths
    in bytes (without the ``\\n``)."""

    lines: Sequence[int]
    values: list[Any]
    sizes: Sizes


@attrs.frozen
class Block:
    """Whole lines of a file: the number of the first, the bytes, the number of lines (blank
    ones included) and, when asked for, where each line starts and ends (see
    :func:`line_bounds`). ``data`` is a view of the reader's buffer: valid until the next
    block."""

    first_line: int
    data: memoryview
    count: int
    bounds: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
    pieces: list[bytes] | None = None
    """The lines, split (when asked for): ``count`` of them, without their ``\\n``."""

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(line number, line)`` of the non-blank lines (a line keeps a CRLF's ``\\r``)."""
        pieces = self.pieces if self.pieces is not None else bytes(self.data).split(b"\n")
        for offset, line in enumerate(pieces):
            if line.strip():
                yield self.first_line + offset, line


# --- one line ----------------------------------------------------------------------------------


def parse_line(number: int, line: bytes) -> dict[str, Any] | LineProblem:
    """The JSON object on line ``number``, or the problem: bytes that are not UTF-8 (with the
    column of the first), invalid JSON (with the column), or a value that is not an object."""
    import msgspec

    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
        value = _parse_slowly(number, line)
        if isinstance(value, LineProblem):
            return value
    if type(value) is dict:
        return value
    kind = _KINDS.get(type(value), type(value).__name__)
    return LineProblem(number, f"expected a JSON object, got {kind}")


def _parse_slowly(number: int, line: bytes) -> Any:
    """What msgspec refuses: the standard library knows NaN, numbers out of range and lone
    surrogates, and says where invalid JSON goes wrong."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return encoding_problem(number, line, exc.start)
    try:
        return json.loads(text.removesuffix("\r"))  # the \r of CRLF is no column of the line
    except json.JSONDecodeError as exc:
        return LineProblem(
            number, f"invalid JSON at column {exc.colno}: {exc.msg}", column=exc.colno
        )


def encoding_problem(number: int, line: bytes, start: int) -> LineProblem:
    """The problem of line ``number`` whose byte ``start`` (0-based) is the first that is not
    UTF-8: its column is the characters before it plus one."""
    column = len(line[:start].decode("utf-8")) + 1
    return LineProblem(
        number,
        f"{NOT_UTF8} (byte 0x{line[start]:02x} at column {column}); re-encode the file as "
        "UTF-8, e.g. iconv -f latin1 -t utf-8",
        column=column,
    )


def read_error(path: str, problem: LineProblem, *, hint: str = SKIP_HINT) -> DatasetReadError:
    """The error raised for ``problem`` by a reader that does not go on: ``<file>:<line>:
    <reason>``, and ``hint`` (how to set bad lines aside, where the reader can)."""
    kind = DatasetEncodingError if problem.reason.startswith(NOT_UTF8) else DatasetReadError
    advice = f" ({hint})" if hint else ""
    return kind(
        f"{path}:{problem.line}: {problem.reason.rstrip('.')}. Each line must hold one JSON "
        f"object{advice}.",
        path=path,
        line=problem.line,
        column=problem.column,
    )


# --- the file ----------------------------------------------------------------------------------


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, JSON object)`` for each non-blank line of ``path``, streaming.

    :raises DatasetReadError: at the first line that is not a JSON object (naming the file,
        the line and the column), or when the file cannot be opened, is empty or is UTF-16.
    """
    name = str(path)
    for number, _, value in iter_lines(path):
        if isinstance(value, LineProblem):
            raise read_error(name, value, hint="")
        yield number, value


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All the JSON objects of ``path`` (see :func:`iter_jsonl`)."""
    return [record for _, record in iter_jsonl(path)]


def iter_lines(
    path: str | os.PathLike[str], *, progress: ProgressCallback | None = None
) -> Iterator[Line]:
    """Every non-blank line of ``path`` with its JSON object or its problem, in order.

    :param progress: called with the bytes read, for progress bars.
    :raises DatasetReadError: the file cannot be opened, is empty or is UTF-16.
    """
    for block in iter_blocks(path, progress=progress):
        for number, line in block.lines():
            yield _line(number, line)


def iter_runs(
    path: str | os.PathLike[str],
    decoder: Any,
    *,
    progress: ProgressCallback | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Run | Line]:
    """The file in line order: each run of consecutive lines ``decoder`` (a
    ``msgspec.json.Decoder`` of a struct type) accepts as a :class:`Run`, every other non-blank
    line as a :class:`Line`. A block that holds one object per line and decodes as a whole is
    one run, decoded in one call.

    :param start: with ``stop``, read only these bytes of the file (see :func:`iter_blocks`).
    :raises DatasetReadError: the file cannot be opened, is empty or is UTF-16.
    """
    for block in iter_blocks(path, split=True, progress=progress, start=start, stop=stop):
        yield from _runs(block, decoder)


def _line(number: int, line: bytes) -> Line:
    text = line[:-1] if line.endswith(b"\r") else line
    return Line(number, text, parse_line(number, text))


def _runs(block: Block, decoder: Any) -> Iterator[Run | Line]:
    split = block.pieces if block.pieces is not None else _split_lines(bytes(block.data))
    if _objects_only(split):
        try:
            values: list[Any] = decoder.decode_lines(block.data)
        except ValueError:  # msgspec.DecodeError, UnicodeDecodeError
            values = []
        if len(values) == block.count:  # one record per line: the line numbers follow
            first = block.first_line
            yield Run(range(first, first + block.count), values, list(map(len, split)))
            return
    lines: list[int] = []
    values = []
    sizes: list[int] = []
    for number, line in block.lines():
        try:
            value = decoder.decode(line)
        except ValueError:  # msgspec.DecodeError (ValidationError), UnicodeDecodeError
            if values:
                yield Run(lines, values, sizes)
                lines, values, sizes = [], [], []
            yield _line(number, line)
            continue
        lines.append(number)
        values.append(value)
        sizes.append(len(line))
    if values:
        yield Run(lines, values, sizes)


def line_bounds(data: bytes | memoryview) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where each line of ``data`` starts and ends (the offset of its ``\\n``, or the end of
    the data for a last line without one)."""
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    if len(data) and data[-1] != ord("\n"):
        ends = np.append(ends, len(data))
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    return starts, ends


def one_object_per_line(data: bytes) -> bool:
    """Whether every line of ``data`` starts with ``{`` and ends with ``}`` (before an optional
    ``\\r``).

    Then no line is blank, and no JSON value spans two lines: a newline inside a value would sit
    between a ``}`` and a ``{``, which JSON never allows outside a string, and a string cannot
    hold a raw newline. So if the lines decode to as many values as there are lines, each line
    holds exactly one.
    """
    return _objects_only(_split_lines(data))


def _split_lines(data: bytes) -> list[bytes]:
    """The lines of ``data`` without their ``\\n`` (a last line may lack one)."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()  # the empty piece after the last line ending
    return lines


def _objects_only(lines: list[bytes]) -> bool:
    """:func:`one_object_per_line` of split lines: C-level maps, no numpy, no per-line loop."""
    return (
        bool(lines)
        and all(map(bytes.startswith, lines, itertools.repeat(b"{")))
        and all(map(bytes.endswith, lines, itertools.repeat((b"}", b"}\r"))))
    )


def iter_blocks(
    path: str | os.PathLike[str],
    *,
    block_bytes: int | None = None,
    bounds: bool = False,
    split: bool = False,
    progress: ProgressCallback | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Block]:
    """The file's blocks of whole lines, streaming; a UTF-8 byte-order mark is skipped.

    :param block_bytes: the buffer size (default :data:`BLOCK_BYTES`); a longer line grows it.
    :param bounds: also find where each line starts and ends (numpy; one pass over the block
        that also counts the lines).
    :param split: also split the block into its lines (``Block.pieces``), which counts them.
    :param start: read from this byte offset, the start of a line (0 or just after a
        ``\\n``); line numbers still count from the start of the file (the lines before are
        counted, not parsed).
    :param stop: read up to this byte offset (the end of a line or of the file); None: the end.
        A range that is not the whole file may be blank: it is not refused as empty.
    :raises DatasetReadError: the file cannot be opened, is empty or is UTF-16.
    """
    name = str(path)
    buffer = bytearray(max(block_bytes or BLOCK_BYTES, 4))
    line = 1
    whole = start == 0 and stop is None
    seen_data = not whole
    with _open(path) as handle:
        if start:
            line += _newlines_before(handle, start)
            handle.seek(start)
        if stop is not None:
            handle = _Limited(handle, stop - start)
        read = _read_into(handle, buffer, 0)
        filled = _without_byte_order_mark(name, buffer, read) if not start else read
        while True:
            if progress is not None and read:
                progress(read)
            if not filled:
                break
            cut = buffer.rfind(b"\n", 0, filled) + 1 if read else filled
            if not cut:  # a line longer than the buffer
                buffer = _grown(buffer, filled)
            else:
                data = memoryview(buffer)[:cut]
                if bounds:
                    starts, ends = line_bounds(data)
                    block = Block(line, data, len(ends), (starts, ends))
                elif split:
                    pieces = _split_lines(bytes(data))
                    block = Block(line, data, len(pieces), pieces=pieces)
                else:
                    count = buffer.count(b"\n", 0, cut) + (buffer[cut - 1] != ord("\n"))
                    block = Block(line, data, count)
                seen_data = seen_data or not buffer[:cut].isspace()
                yield block
                line += block.count
                rest = filled - cut
                buffer[:rest] = buffer[cut:filled]  # same length: allowed while views are alive
                filled = rest
            read = _read_into(handle, buffer, filled)
            filled += read
    if not seen_data:
        raise DatasetReadError(
            f"{name} is empty: a JSONL file needs one JSON object per line.", path=name
        )


def _open(path: str | os.PathLike[str]) -> Any:
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


def _newlines_before(handle: Any, offset: int) -> int:
    """The number of ``\\n`` in the first ``offset`` bytes of the file."""
    count = 0
    left = offset
    while left > 0:
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            break
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


class _Limited:
    """A binary file whose ``readinto`` stops after ``limit`` bytes (a range of a file)."""

    def __init__(self, handle: Any, limit: int) -> None:
        self.handle = handle
        self.left = max(limit, 0)

    def readinto(self, view: memoryview) -> int:
        if self.left <= 0:
            return 0
        with view[: min(len(view), self.left)] as part:
            read: int = self.handle.readinto(part)
        self.left -= read
        return read


def _read_into(handle: Any, buffer: bytearray, filled: int) -> int:
    with memoryview(buffer) as view:
        read: int = handle.readinto(view[filled:])
    return read


def _without_byte_order_mark(name: str, buffer: bytearray, filled: int) -> int:
    """The length of the file's first read once a UTF-8 byte-order mark is dropped; a UTF-16
    file is refused with the command that converts it."""
    head = bytes(buffer[: min(filled, 3)])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetEncodingError(
            f"{name}: the file is UTF-16 (it starts with a byte-order mark); JSONL must be "
            f"UTF-8. Convert it: iconv -f UTF-16 -t UTF-8 {name} > fixed.jsonl",
            path=name,
            line=1,
        )
    if head == b"\xef\xbb\xbf":
        buffer[: filled - 3] = buffer[3:filled]
        return filled - 3
    return filled


def _grown(buffer: bytearray, filled: int) -> bytearray:
    """A buffer twice the size holding the same data (a new object: views of the old stay valid)."""
    grown = bytearray(2 * len(buffer))
    grown[:filled] = buffer[:filled]
    return grown
