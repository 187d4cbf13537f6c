"""The checks of the validation fast path for chat JSONL: C-level maps over a run of msgspec
structs (:class:`~modelops_core.datasets.jsonl.reader.Run`, decoded by the reader with
:data:`~modelops_core.datasets.jsonl.structs.CHECK_DECODER`).

The maps only pick the few records that may have a problem; those are checked one by one, as
the line-by-line path checks every record.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from modelops_core.datasets.jsonl.reader import Sizes


def run_keys(structs: list[Any], encode: Callable[[Any], bytes]) -> NDArray[np.int64]:
    """Duplicate-detection keys of chat structs: their hash, computed in C over the field values
    (equal records get equal keys, key order and whitespace do not count)."""
    import numpy as np

    try:
        return np.fromiter(map(hash, structs), np.int64, len(structs))
    except TypeError:  # a tool call is an object: see struct_key
        keys = (struct_key(struct, encode) for struct in structs)
        return np.fromiter(keys, np.int64, len(structs))


def struct_key(struct: Any, encode: Callable[[Any], bytes]) -> int:
    """The key of one chat struct: its hash, or for a record holding an unhashable value (tool
    calls are objects) the hash of its canonical encoding."""
    try:
        return hash(struct)
    except TypeError:
        return hash(encode(struct))


def record_key(record: dict[str, Any], format: str, encode: Callable[[Any], bytes]) -> int:
    """The key :func:`run_keys` gives the same record, for a canonical dict: chat records that
    fit the struct are keyed like their struct, every other record by its encoding."""
    if format == "chat":
        import msgspec

        from modelops_core.datasets.jsonl.structs import ChatLineToCheck

        try:
            struct = msgspec.convert(record, ChatLineToCheck)
        except msgspec.ValidationError:
            pass
        else:
            return struct_key(struct, encode)
    return hash(encode(record))


_MESSAGES = operator.attrgetter("messages")
_CONTENT = operator.attrgetter("content")
_ROLE = operator.attrgetter("role")
_WEIGHT = operator.attrgetter("weight")
_LAST = operator.itemgetter(-1)


def suspects(structs: list[Any], sizes: Sizes, max_chars: int) -> list[int]:
    """Indexes of the structs that may have a problem: a blank content, no assistant as the last
    turn, a weight on a turn that is not the assistant's, or (with ``max_chars``) a line longer
    than ``max_chars`` bytes.

    A line is never shorter in bytes than the tokens :func:`~modelops_core.datasets.validate.
    record_tokens` counts with the estimate or tiktoken (neither counts more tokens than UTF-8
    bytes, and each message spends more bytes on its keys than the per-message tokens): only
    longer lines can be over a token limit. The common case, no suspect, runs as C-level maps.
    """
    import numpy as np
    from msgspec import UNSET

    messages = list(map(_MESSAGES, structs))
    roles = list(map(_ROLE, map(_LAST, messages)))
    suspicious = roles.count("assistant") != len(roles)
    every = list(itertools.chain.from_iterable(messages))
    suspicious = suspicious or "" in map(str.strip, map(_CONTENT, every))
    weights = list(map(_WEIGHT, every))
    if weights.count(UNSET) != len(weights):  # a weight somewhere: is it on a non-assistant?
        suspicious = suspicious or any(
            turn.role != "assistant" for turn in every if turn.weight is not UNSET
        )
    if max_chars and not suspicious:
        long: list[int] = np.flatnonzero(np.asarray(sizes) > max_chars).tolist()
        return long
    if not suspicious:
        return []
    return [
        index
        for index, turns in enumerate(messages)
        if turns[-1].role != "assistant"
        or any(not turn.content.strip() for turn in turns)
        or any(turn.weight is not UNSET and turn.role != "assistant" for turn in turns)
        or (max_chars and sizes[index] > max_chars)
    ]
