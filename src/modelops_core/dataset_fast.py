"""The fast path for chat JSONL: msgspec typed structs decode and check whole chunks in C.

A chunk decodes into :class:`ChatLine` structs only when every line is a plain OpenAI chat
record (roles and weights known, string contents, no other shape's keys); then the structs
equal what :func:`modelops_core.dataset_formats.normalize` would build. Any other chunk
returns None and goes through the line-by-line path, which names every problem.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any


def decode_chat_chunk(chunk: bytes, lines: int) -> list[Any] | None:
    """The chunk's ``lines`` lines as ChatLine structs (blank lines refused), or None."""
    import msgspec

    from modelops_core.dataset_structs import CHUNK_DECODER

    try:
        records: list[Any] = CHUNK_DECODER.decode_lines(chunk)
    except msgspec.DecodeError:
        return None
    if len(records) != lines:  # blank lines: the line numbers would not match
        return None
    unset = msgspec.UNSET
    for key in _OTHER_SHAPE_KEYS:  # C-level scans: a key of another shape is set somewhere
        if list(map(key, records)).count(unset) != lines:
            return None
    return records


_OTHER_SHAPE_KEYS = tuple(attrgetter(name) for name in ("input", "contents", "system", "prompt"))


def to_canonical(records: list[Any]) -> list[dict[str, Any]]:
    """ChatLine structs as canonical chat dicts."""
    import msgspec

    builtins: list[dict[str, Any]] = msgspec.to_builtins(records)
    return builtins
