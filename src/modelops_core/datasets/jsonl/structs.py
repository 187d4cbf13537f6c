"""msgspec structs of a plain OpenAI chat line (imported only by the fast path: it imports
msgspec). No ``from __future__ import annotations`` here: msgspec reads the annotations.

Messages are frozen (hashable: duplicate detection hashes them in C) and no struct is tracked
by the garbage collector (``gc=False``): decoded JSON cannot form a cycle, and untracked objects
are cheaper to create and to free. The reading structs keep lists, so ``msgspec.to_builtins``
gives the canonical dicts as they are; the validation structs (``...ToCheck``) hold tuples, so a
whole record is hashable.
"""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType


class ChatMessageToCheck(
    msgspec.Struct, frozen=True, gc=False, omit_defaults=True, forbid_unknown_fields=True
):
    """A message as validation decodes it: an empty or blank content decodes too (no Python
    call per message); the checks find it afterwards, over a whole block at once. A message
    with a key not declared here (``timestamp``), or whose content is a list of parts, fails
    to decode: its line takes the line-by-line path, which reports the key or reads the parts."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    weight: Literal[0, 1] | UnsetType = UNSET
    name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET
    tool_calls: list[Any] | UnsetType = UNSET


class ChatMessage(
    ChatMessageToCheck, frozen=True, gc=False, omit_defaults=True, forbid_unknown_fields=True
):
    """A message whose role, weight and content msgspec checks while decoding: an empty or
    blank content (without tool calls) fails, so its line takes the line-by-line path, which
    reports it."""

    def __post_init__(self) -> None:
        content = self.content
        if (not content or content.isspace()) and self.tool_calls is UNSET:
            raise ValueError("empty content")


class ChatLine(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A plain chat record. The ``UnsetType`` fields are keys of other shapes: a line that has
    one fails to decode here and takes the line-by-line path, which knows those shapes."""

    messages: list[ChatMessage]
    input: UnsetType = UNSET
    contents: UnsetType = UNSET
    system: UnsetType = UNSET
    prompt: UnsetType = UNSET


#: decodes one line (``decode``) or a chunk of lines (``decode_lines``) into ChatLine.
CHAT_DECODER = msgspec.json.Decoder(ChatLine)


class ChatLineToCheck(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A plain chat record as validation decodes it. The messages are a non-empty tuple, so the
    whole record is hashable (its hash is the duplicate-detection key, computed in C); a record
    without messages takes the line-by-line path, which reports it."""

    messages: Annotated[tuple[ChatMessageToCheck, ...], msgspec.Meta(min_length=1)]
    input: UnsetType = UNSET
    contents: UnsetType = UNSET
    system: UnsetType = UNSET
    prompt: UnsetType = UNSET


#: decodes a block of lines (``decode_lines``) or one line (``decode``) into ChatLineToCheck.
CHECK_DECODER = msgspec.json.Decoder(ChatLineToCheck)


class PlainMessage(
    msgspec.Struct, frozen=True, gc=False, omit_defaults=True, forbid_unknown_fields=True
):
    """A message of a plain chat record given in code (``Dataset.from_records``, a sanitizer's
    output): one that :func:`~modelops_core.datasets.formats.canonical_message` keeps as it
    is. Tool calls are not declared (normalizing keeps them as given, objects included), so a
    message with them, or with any other key, fails to convert and is read one by one."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    weight: Literal[0, 1] | UnsetType = UNSET
    name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET


class PlainChat(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A plain chat record given in code; the ``UnsetType`` fields are keys of other shapes."""

    messages: list[PlainMessage]
    input: UnsetType = UNSET
    contents: UnsetType = UNSET
    system: UnsetType = UNSET
    prompt: UnsetType = UNSET
