"""The fast path for reading chat JSONL: msgspec decodes plain chat lines into typed structs in C
(validation has its own, :mod:`modelops_core.datasets.jsonl.fast_checks`).

A chunk whose lines are all plain OpenAI chat records (roles and weights known, string
contents, no other shape's keys, no blank line) decodes in one ``decode_lines`` call. Any other
chunk is decoded line by line: plain chat lines still become structs, the others go to the
line-by-line path, which knows every shape and names every problem. The structs equal what
:func:`modelops_core.datasets.formats.normalize` would build, so both paths give the same
records, problems and fingerprints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from modelops_core.datasets.jsonl.lines import decoded_runs


@attrs.frozen
class FastRun:
    """Consecutive chat records decoded as structs, with their line numbers."""

    lines: Sequence[int]
    structs: list[Any]


def split_chunk(chunk: bytes, first_line: int, lines: int) -> Iterator[FastRun | tuple[int, bytes]]:
    """The chunk in line order: runs of chat structs, and ``(line number, line)`` for each
    non-blank line the fast path does not take."""
    from modelops_core.datasets.jsonl.blocks import line_bounds, one_object_per_line
    from modelops_core.datasets.jsonl.structs import CHAT_DECODER

    try:
        structs: list[Any] = CHAT_DECODER.decode_lines(chunk)
    except ValueError:  # msgspec.DecodeError, UnicodeDecodeError
        structs = []
    if structs and len(structs) == lines and one_object_per_line(chunk, *line_bounds(chunk)):
        # one record per line: the line numbers follow
        yield FastRun(range(first_line, first_line + lines), structs)
        return
    yield from decoded_runs(
        chunk, first_line, CHAT_DECODER.decode, lambda lines, structs, _: FastRun(lines, structs)
    )


def to_canonical(structs: list[Any]) -> list[dict[str, Any]]:
    """Chat structs as canonical chat dicts."""
    import msgspec

    builtins: list[dict[str, Any]] = msgspec.to_builtins(structs)
    return builtins
