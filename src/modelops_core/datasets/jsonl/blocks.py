"""A JSONL file as blocks of whole lines, read into one reused buffer, with where each line ends.

The validation fast path reads this way: no copy of a block (msgspec decodes a view of the
buffer), no fresh allocation per block (the buffer is reused; it only grows for a line longer
than itself), and the line ends found in one vectorised pass (numpy) give the line count, the
shape test of :func:`one_object_per_line` (which the reading fast path uses too) and every
line's length in bytes.

A block's ``data`` is a view of the buffer: it is valid until the next block is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.datasets.errors import DatasetReadError
from modelops_core.datasets.jsonl.lines import ProgressCallback, check_start, open_binary

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: bytes per block: small enough for a block and its decoded records to stay in the CPU cache.
BLOCK_BYTES = 256 * 1024

_OPEN, _CLOSE, _CR = ord("{"), ord("}"), ord("\r")


@attrs.frozen
class Block:
    """Whole lines of a file: the number of the first, the bytes, and where each line starts and
    ends (the offset of its ``\\n``, or the end of the data for a last line without one)."""

    first_line: int
    data: memoryview
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]

    @property
    def count(self) -> int:
        """The number of lines, blank ones included."""
        return len(self.ends)

    def sizes(self) -> NDArray[np.int64]:
        """Each line's length in bytes (without its ``\\n``)."""
        sizes: NDArray[np.int64] = self.ends - self.starts
        return sizes

    def one_object_per_line(self) -> bool:
        """See :func:`one_object_per_line`."""
        return one_object_per_line(self.data, self.starts, self.ends)


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


def one_object_per_line(
    data: bytes | memoryview, starts: NDArray[np.int64], ends: NDArray[np.int64]
) -> bool:
    """Whether every line starts with ``{`` and ends with ``}`` (before an optional ``\\r``).

    Then no line is blank, and no JSON value spans two lines: a newline inside a value would sit
    between a ``}`` and a ``{``, which JSON never allows outside a string, and a string cannot
    hold a raw newline. So if the lines decode to as many values as there are lines, each line
    holds exactly one.
    """
    import numpy as np

    array = np.frombuffer(data, np.uint8)
    if not len(ends) or not (array[starts] == _OPEN).all():
        return False
    last = array[ends - 1]  # a fresh array: the data is not written
    carriage = last == _CR
    if carriage.any():
        last[carriage] = array[ends[carriage] - 2]
    return bool((last == _CLOSE).all())


def iter_blocks(
    path: str | os.PathLike[str],
    *,
    block_bytes: int | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[Block]:
    """The file's blocks of whole lines, streaming; a UTF-8 byte-order mark is skipped.

    :param block_bytes: the buffer size (default :data:`BLOCK_BYTES`); a longer line grows it.
    :raises DatasetReadError: the file cannot be opened, is empty or is UTF-16.
    """
    name = str(path)
    buffer = bytearray(max(block_bytes or BLOCK_BYTES, 4))
    filled = 0
    line = 1
    seen_data = False
    with open_binary(path) as handle:
        read = _read_into(handle, buffer, filled)
        filled = _without_byte_order_mark(name, buffer, read)
        while True:
            if progress is not None and read:
                progress(read)
            if not filled:
                break
            cut = buffer.rfind(b"\n", 0, filled) + 1 if read else filled
            if not cut:  # a line longer than the buffer
                buffer = _grown(buffer, filled)
            else:
                block = _block(line, buffer, cut)
                seen_data = seen_data or bool(bytes(block.data).strip())
                yield block
                line += block.count
                rest = filled - cut
                buffer[:rest] = buffer[cut:filled]  # same length: allowed while views are alive
                filled = rest
            read = _read_into(handle, buffer, filled)
            filled += read
    if not seen_data:
        raise DatasetReadError(
            f"{name} is empty: a JSONL dataset needs one JSON object per line.", path=name
        )


def _read_into(handle: Any, buffer: bytearray, filled: int) -> int:
    with memoryview(buffer) as view:
        read: int = handle.readinto(view[filled:])
    return read


def _without_byte_order_mark(name: str, buffer: bytearray, filled: int) -> int:
    """The length of the file's first read once a UTF-8 byte-order mark is dropped; UTF-16 is
    refused with the fix (see :func:`check_start`)."""
    head = bytes(buffer[: min(filled, 4)])
    skip = len(head) - len(check_start(name, head))
    if skip:
        buffer[: filled - skip] = buffer[skip:filled]
    return filled - skip


def _grown(buffer: bytearray, filled: int) -> bytearray:
    """A buffer twice the size holding the same data (a new object: views of the old stay valid)."""
    grown = bytearray(2 * len(buffer))
    grown[:filled] = buffer[:filled]
    return grown


def _block(first_line: int, buffer: bytearray, cut: int) -> Block:
    data = memoryview(buffer)[:cut]
    return Block(first_line, data, *line_bounds(data))
