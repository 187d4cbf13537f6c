"""msgspec structs of a plain OpenAI chat line (imported only by the fast path: it imports
msgspec). No ``from __future__ import annotations`` here: msgspec reads the annotations."""

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType


class ChatMessage(msgspec.Struct, omit_defaults=True):
    """A message whose role and weight msgspec checks while decoding."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    weight: Literal[0, 1] | UnsetType = UNSET
    name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET
    tool_calls: list[Any] | UnsetType = UNSET


class ChatLine(msgspec.Struct, omit_defaults=True):
    """A chat record; the other fields mark lines of another shape (they take the slow path)."""

    messages: list[ChatMessage]
    input: Any = UNSET
    contents: Any = UNSET
    system: Any = UNSET
    prompt: Any = UNSET


#: decodes a chunk of lines with ``decode_lines`` into a list of ChatLine.
CHUNK_DECODER = msgspec.json.Decoder(ChatLine)
