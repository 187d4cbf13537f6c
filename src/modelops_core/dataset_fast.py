"""The fast path for chat JSONL: msgspec decodes plain chat lines into typed structs in C, and
the checks run as C-level maps over a whole run of them.

A chunk whose lines are all plain OpenAI chat records (roles and weights known, string
contents, no other shape's keys, no blank line) decodes in one ``decode_lines`` call. Any other
chunk is decoded line by line: plain chat lines still become structs, the others go to the
line-by-line path, which knows every shape and names every problem. The structs equal what
:func:`modelops_core.dataset_formats.normalize` would build, so both paths give the same
records, problems and fingerprints.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from modelops_core.dataset_lines import iter_lines


@attrs.frozen
class FastRun:
    """Consecutive chat records decoded as structs, with their line numbers."""

    lines: Sequence[int]
    structs: list[Any]


def split_chunk(chunk: bytes, first_line: int, lines: int) -> Iterator[FastRun | tuple[int, bytes]]:
    """The chunk in line order: runs of chat structs, and ``(line number, line)`` for each
    non-blank line the fast path does not take."""
    from modelops_core.dataset_structs import CHAT_DECODER

    try:
        structs: list[Any] = CHAT_DECODER.decode_lines(chunk)
    except ValueError:  # msgspec.DecodeError, UnicodeDecodeError
        structs = []
    if structs and len(structs) == lines:  # no blank line: the line numbers follow
        yield FastRun(range(first_line, first_line + lines), structs)
        return
    decode = CHAT_DECODER.decode
    run_lines: list[int] = []
    run_structs: list[Any] = []
    for number, line in iter_lines(chunk, first_line):
        try:
            struct = decode(line)
        except ValueError:  # msgspec.DecodeError, UnicodeDecodeError
            if run_structs:
                yield FastRun(run_lines, run_structs)
                run_lines, run_structs = [], []
            yield number, line
            continue
        run_lines.append(number)
        run_structs.append(struct)
    if run_structs:
        yield FastRun(run_lines, run_structs)


def to_canonical(structs: list[Any]) -> list[dict[str, Any]]:
    """Chat structs as canonical chat dicts."""
    import msgspec

    builtins: list[dict[str, Any]] = msgspec.to_builtins(structs)
    return builtins


def struct_keys(structs: list[Any], encode: Callable[[Any], bytes]) -> list[int]:
    """Duplicate-detection keys of chat structs: the hash of their messages (frozen structs),
    computed in C over the field values, so equal records get equal keys; a record holding an
    unhashable value (tool calls are objects) is keyed by the hash of its canonical encoding."""
    try:
        return list(map(hash, map(tuple, map(_MESSAGES, structs))))
    except TypeError:
        return [_struct_key(struct, encode) for struct in structs]


def _struct_key(struct: Any, encode: Callable[[Any], bytes]) -> int:
    try:
        return hash(tuple(struct.messages))
    except TypeError:
        return hash(encode(struct))


def record_key(record: dict[str, Any], format: str, encode: Callable[[Any], bytes]) -> int:
    """The key :func:`struct_keys` gives the same record, for a canonical dict: chat records
    that fit the struct are keyed like their struct, every other record by its encoding."""
    if format == "chat":
        import msgspec

        from modelops_core.dataset_structs import ChatLine

        try:
            struct = msgspec.convert(record, ChatLine)
        except msgspec.ValidationError:
            pass
        else:
            return _struct_key(struct, encode)
    return hash(encode(record))


_MESSAGES = operator.attrgetter("messages")
_CONTENT = operator.attrgetter("content")
_ROLE = operator.attrgetter("role")
_LAST = operator.itemgetter(-1)


def suspects(structs: list[Any], max_chars: int) -> list[int]:
    """Indexes of the structs that may have a problem: no messages, no assistant as the last
    turn, or (with ``max_chars``) more content characters plus ``TOKENS_PER_MESSAGE`` per
    message than ``max_chars`` (the token estimator never counts more tokens than characters,
    so only those can be over a token limit). Empty contents never decode into a struct. The
    common case, no suspect, runs as C-level maps."""
    messages = list(map(_MESSAGES, structs))
    counts = list(map(len, messages))
    suspicious = 0 in counts
    if not suspicious:
        roles = list(map(_ROLE, map(_LAST, messages)))
        suspicious = roles.count("assistant") != len(roles)
    bounds: list[int] = []
    if max_chars:
        contents = itertools.chain.from_iterable(messages)
        bounds = _char_bounds(counts, list(map(len, map(_CONTENT, contents))))
        suspicious = suspicious or max(bounds) > max_chars
    if not suspicious:
        return []
    return [
        index
        for index, turns in enumerate(messages)
        if not turns or turns[-1].role != "assistant" or (max_chars and bounds[index] > max_chars)
    ]


def _char_bounds(counts: list[int], lengths: list[int]) -> list[int]:
    """Per record: its content characters plus ``TOKENS_PER_MESSAGE`` per message (C-level)."""
    from modelops_core.dataset_validate import TOKENS_PER_MESSAGE

    cumulative = [0, *itertools.accumulate(lengths)]
    ends = list(itertools.accumulate(counts))
    starts = [0, *ends[:-1]]
    totals = map(
        operator.sub, map(cumulative.__getitem__, ends), map(cumulative.__getitem__, starts)
    )
    return list(map(operator.add, totals, map(TOKENS_PER_MESSAGE.__mul__, counts)))
