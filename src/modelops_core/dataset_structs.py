"""msgspec structs of a plain OpenAI chat line (imported only by the fast path: it imports
msgspec). No ``from __future__ import annotations`` here: msgspec reads the annotations.

Messages are frozen (hashable: duplicate detection hashes them in C) and no struct is tracked
by the garbage collector (``gc=False``): decoded JSON cannot form a cycle, and untracked objects
are cheaper to create and to free. Containers stay lists, so ``msgspec.to_builtins`` gives the
canonical dicts as they are.
"""

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType


class ChatMessage(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A message whose role, weight and content msgspec checks while decoding: an empty or
    blank content (without tool calls) fails, so its line takes the line-by-line path, which
    reports it."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    weight: Literal[0, 1] | UnsetType = UNSET
    name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET
    tool_calls: list[Any] | UnsetType = UNSET

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
