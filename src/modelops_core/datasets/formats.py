"""Record shapes: recognise any supported shape, turn it into the canonical one, convert.

Canonical shapes (plain dicts):

- ``prompt_completion``: ``{"prompt": str, "completion": str}``;
- ``chat``: ``{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": str,
  "weight": 0|1 (optional; it belongs on assistant turns)}]}``; a content holding images (OpenAI's
  vision fine-tuning) stays a list of parts, ``{"type": "text", "text": str}`` and
  ``{"type": "image_url", "image_url": {"url": str, "detail": "auto"|"low"|"high"}}``; a
  content of text parts only is their text joined;
- ``preference`` (the OpenAI DPO shape): ``{"input": {"messages": [...]},
  "preferred_output": [{"role": "assistant", "content": ...}], "non_preferred_output": [...]}``.

Accepted on input besides those: Vertex AI / Gemini (``contents`` + ``systemInstruction``),
Gemini preference (``contents`` + scored ``completions``), Bedrock ``bedrock-conversation-2024``
and ``{"prompt", "chosen", "rejected"}`` preference pairs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.jsonl.reader import LineProblem
from modelops_core.plugins.frozen import FrozenValue

FORMATS: tuple[str, ...] = ("prompt_completion", "chat", "preference")
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
#: message keys kept besides role, content and weight (tool and function calling in the
#: OpenAI shape).
PASSTHROUGH_KEYS: tuple[str, ...] = ("name", "tool_call_id", "tool_calls", "function_call")
#: every key a message may have (``parts``: the Vertex shape); other keys are dropped and
#: reported (``message_unrecognized_key``).
MESSAGE_KEYS: tuple[str, ...] = ("role", "content", "weight", *PASSTHROUGH_KEYS)
#: ``detail`` values of an image part.
IMAGE_DETAILS: tuple[str, ...] = ("auto", "low", "high")
#: a base64 data URL of an image (a pattern: re compiles and caches it when an image is read).
_IMAGE_DATA = r"(?i)data:image/(jpeg|jpg|png|webp|gif);base64,"

Record = dict[str, Any]
Message = dict[str, Any]
Content = str | list[dict[str, Any]]


class Note(FrozenValue):
    """Something normalizing dropped from a record: the field (``messages[1].timestamp``),
    a reason, and a code (``message_unrecognized_key``). A frozen value
    (:class:`~modelops_core.plugins.frozen.FrozenValue`: every command reading a dataset
    imports this module)."""

    __slots__ = ("field", "reason", "code")  # noqa: RUF023 (the fields, in order)
    __match_args__ = ("field", "reason", "code")

    field: str
    reason: str
    code: str

    def __init__(self, field: str, reason: str, code: str) -> None:
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "code", code)


def content_text(content: Any) -> str:
    """The text of a canonical content: the string, or its text parts joined (images have none)."""
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content if part.get("type") == "text")


def content_images(content: Any) -> int:
    """How many image parts a canonical content holds."""
    return 0 if isinstance(content, str) else sum(p.get("type") == "image_url" for p in content)


def _content_of(value: Any, where: str) -> Content:
    """The canonical content of a content value: a string; a list of text parts joined; a list
    of text and image parts kept as OpenAI's parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [_part(part, f"{where}[{index}]") for index, part in enumerate(value)]
        if not any(part["type"] == "image_url" for part in parts):
            return "".join(part["text"] for part in parts)
        return parts
    if value is None:
        raise DatasetFormatError(f"{where}: content is missing (null); give a string.")
    raise DatasetFormatError(f"{where}: content must be a string, not {_describe(value)}.")


def _part(part: Any, where: str) -> dict[str, Any]:
    """One content part as ``{"type": "text", "text": ...}`` or ``{"type": "image_url", ...}``."""
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if isinstance(part, Mapping):
        kind = part.get("type")
        if kind in (None, "text") and isinstance(part.get("text"), str):
            return {"type": "text", "text": part["text"]}
        if kind == "image_url":
            return {"type": "image_url", "image_url": _image(part.get("image_url"), where)}
    raise DatasetFormatError(
        f'{where}: a content part must be text ({{"type": "text", "text": "..."}}) or '
        f'an image ({{"type": "image_url", "image_url": {{"url": "https://..."}}}}), not '
        f"{_describe_part(part)}."
    )


def _image(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):  # the short form some writers use
        value = {"url": value}
    url = value.get("url") if isinstance(value, Mapping) else None
    if not isinstance(url, str):
        raise DatasetFormatError(
            f'{where}.image_url: needs {{"url": "https://..." or "data:image/png;base64,..."}}.'
        )
    if not (url.startswith(("https://", "http://")) or re.match(_IMAGE_DATA, url)):
        raise DatasetFormatError(
            f"{where}.image_url.url: {url[:40]!r} is neither an http(s) URL nor a base64 data "
            "URL of a JPEG, PNG, WEBP or GIF image (data:image/png;base64,...)."
        )
    image: dict[str, Any] = {"url": url}
    detail = value.get("detail")
    if detail is not None:
        if detail not in IMAGE_DETAILS:
            raise DatasetFormatError(
                f"{where}.image_url.detail: {detail!r}; use one of {', '.join(IMAGE_DETAILS)}."
            )
        image["detail"] = detail
    return image


def _describe_part(part: Any) -> str:
    if isinstance(part, Mapping) and "type" in part:
        return f"a part of type {part['type']!r}"
    return _describe(part)


def _describe(value: Any) -> str:
    return "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def canonical_message(
    message: Any, where: str, *, model_role: bool = False, notes: list[Note] | None = None
) -> Message:
    """A canonical message from an OpenAI/Bedrock message (or a Vertex content when
    ``model_role``: role ``model`` and ``parts``). Keys no message takes are dropped and
    noted in ``notes``."""
    if not isinstance(message, Mapping):
        raise DatasetFormatError(f"{where}: a message must be an object, not {_describe(message)}.")
    role = message.get("role")
    if role is None:
        raise DatasetFormatError(f"{where}: missing role (one of {', '.join(ROLES)}).")
    if model_role and role == "model":
        role = "assistant"
    if role not in ROLES:
        raise DatasetFormatError(
            f"{where}: unknown role {role!r}; known roles: {', '.join(ROLES)}"
            + (" (and 'model' in the Vertex shape)." if model_role else ".")
        )
    vertex = "parts" in message and "content" not in message
    if vertex:
        content: Content = _content_of(message["parts"], where)
    elif "content" in message:
        raw = message["content"]
        calls = "tool_calls" in message or "function_call" in message
        content = "" if raw is None and calls else _content_of(raw, where)
    else:
        raise DatasetFormatError(f"{where}: missing content (a string).")
    result: Message = {"role": role, "content": content}
    weight = message.get("weight")
    if weight is not None:
        if weight not in (0, 1) or isinstance(weight, bool):
            raise DatasetFormatError(f"{where}: weight must be 0 or 1, not {weight!r}.")
        result["weight"] = int(weight)  # on another turn than the assistant's: see validate
    for key in PASSTHROUGH_KEYS:
        if key in message:
            result[key] = message[key]
    if notes is not None:
        known = (*MESSAGE_KEYS, "parts") if vertex else MESSAGE_KEYS
        for key in message:
            if key not in known:
                notes.append(
                    Note(
                        f"{where}.{key}",
                        f"unknown message key {str(key)!r} (dropped): a message takes "
                        f"{', '.join(MESSAGE_KEYS)}; remove it or move it out of the message",
                        "message_unrecognized_key",
                    )
                )
    return result


def _messages(
    value: Any, where: str, *, model_role: bool = False, notes: list[Note] | None = None
) -> list[Message]:
    if not isinstance(value, list):
        raise DatasetFormatError(f"{where}: expected a list of messages, not {_describe(value)}.")
    return [
        canonical_message(item, f"{where}[{index}]", model_role=model_role, notes=notes)
        for index, item in enumerate(value)
    ]


def _system_texts(value: Any, where: str) -> list[Message]:
    """Vertex ``systemInstruction`` / Bedrock ``system`` as zero or one system message."""
    if value is None:
        return []
    parts = value.get("parts") if isinstance(value, Mapping) else value
    if parts == []:
        return []
    return [{"role": "system", "content": _text(parts, where)}]


def _text(value: Any, where: str) -> str:
    """A content that must be text (system instructions, Vertex answers of preference pairs)."""
    content = _content_of(value, where)
    if not isinstance(content, str):
        raise DatasetFormatError(f"{where}: images are only taken in chat messages; give text.")
    return content


def _string(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise DatasetFormatError(
            f"{where}: {key!r} must be a string, not {_describe(value)}."
            if key in record
            else f"{where}: missing {key!r}."
        )
    return value


def normalize(
    record: Any, where: str = "record", notes: list[Note] | None = None
) -> tuple[str, Record]:
    """``(format, canonical record)`` of a record in any supported shape; what it drops (keys
    no message takes) is added to ``notes`` when given.

    :raises DatasetFormatError: naming ``where`` and the offending key.
    """
    if notes is None:
        return _normalize(record, where, None)
    found: list[Note] = []
    result = _normalize(record, where, found)
    notes += [Note(n.field.removeprefix(where).lstrip("."), n.reason, n.code) for n in found]
    return result


def _normalize(record: Any, where: str, notes: list[Note] | None) -> tuple[str, Record]:
    if not isinstance(record, Mapping):
        raise DatasetFormatError(f"{where}: expected a JSON object, got {_describe(record)}.")
    if "input" in record and "preferred_output" in record:
        return "preference", _openai_preference(record, where, notes)
    if "contents" in record and "completions" in record:
        return "preference", _vertex_preference(record, where)
    if "prompt" in record and "chosen" in record and "rejected" in record:
        return "preference", {
            "input": {"messages": [{"role": "user", "content": _string(record, "prompt", where)}]},
            "preferred_output": [
                {"role": "assistant", "content": _string(record, "chosen", where)}
            ],
            "non_preferred_output": [
                {"role": "assistant", "content": _string(record, "rejected", where)}
            ],
        }
    if "contents" in record:
        system = record.get("systemInstruction", record.get("system_instruction"))
        messages = _system_texts(system, f"{where}.systemInstruction")
        messages += _messages(record["contents"], f"{where}.contents", model_role=True, notes=notes)
        return "chat", {"messages": messages}
    if "messages" in record:
        # the conversation shape with a "schemaVersion" keeps its system text apart
        messages = _system_texts(record.get("system"), f"{where}.system")
        messages += _messages(record["messages"], f"{where}.messages", notes=notes)
        return "chat", {"messages": messages}
    if "prompt" in record or "completion" in record:
        return "prompt_completion", {
            "prompt": _string(record, "prompt", where),
            "completion": _string(record, "completion", where),
        }
    keys = ", ".join(sorted(map(str, record))) or "none"
    raise DatasetFormatError(
        f"{where}: no known shape (keys: {keys}). Expected prompt/completion, messages (chat), "
        "input/preferred_output/non_preferred_output (preference), contents (Vertex) or "
        "schemaVersion/messages (Bedrock)."
    )


def normalize_line(
    value: Any, number: int, notes: list[Note] | None = None
) -> tuple[str, Record] | LineProblem:
    """``(format, canonical record)`` of the JSON object on line ``number``, or the problem
    (its reason without the line, its field such as ``messages[1]``); see :func:`normalize`
    for ``notes``."""
    where = f"line {number}"
    try:
        return normalize(value, where, notes)
    except DatasetFormatError as exc:
        reason = str(exc).removeprefix(where).lstrip(":. ")
        head = reason.split(":", 1)[0]
        field = head.lstrip(".") if ":" in reason and " " not in head else ""
        return LineProblem(number, reason, field=field)


def _openai_preference(
    record: Mapping[str, Any], where: str, notes: list[Note] | None = None
) -> Record:
    source = record["input"]
    if not isinstance(source, Mapping) or "messages" not in source:
        raise DatasetFormatError(f"{where}.input: expected an object with 'messages'.")
    messages = _messages(source["messages"], f"{where}.input", notes=notes)
    result: Record = {"input": {"messages": messages}}
    for key in ("preferred_output", "non_preferred_output"):
        if key not in record:
            raise DatasetFormatError(f"{where}: missing {key!r} (a list of assistant messages).")
        result[key] = _messages(record[key], f"{where}.{key}", notes=notes)
    return result


def _vertex_preference(record: Mapping[str, Any], where: str) -> Record:
    system = record.get("system_instruction", record.get("systemInstruction"))
    messages = _system_texts(system, f"{where}.system_instruction")
    messages += _messages(record["contents"], f"{where}.contents", model_role=True)
    completions = record["completions"]
    scored: dict[int, list[Message]] = {}
    if isinstance(completions, list):
        for index, item in enumerate(completions):
            at = f"{where}.completions[{index}]"
            if not isinstance(item, Mapping) or item.get("score") not in (0, 1):
                raise DatasetFormatError(f"{at}: expected {{'score': 0|1, 'completion': {{...}}}}.")
            turn = canonical_message(item.get("completion"), f"{at}.completion", model_role=True)
            scored[int(item["score"])] = [turn]
    if set(scored) != {0, 1}:
        raise DatasetFormatError(
            f"{where}.completions: need one completion with score 1 (preferred) and one with "
            "score 0 (dispreferred)."
        )
    return {
        "input": {"messages": messages},
        "preferred_output": scored[1],
        "non_preferred_output": scored[0],
    }


# --- conversions -------------------------------------------------------------------------------


def render_turns(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of a conversation prefix: a lone user turn is its text; otherwise one
    ``role: content`` line per turn."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return content_text(messages[0]["content"])
    return "\n".join(
        f"{message['role']}: {content_text(message['content'])}" for message in messages
    )


def chat_pair(messages: Sequence[Mapping[str, Any]], where: str = "record") -> tuple[str, str]:
    """``(input, target)`` of a conversation: the turns before the last assistant turn, rendered,
    and that turn's content."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "assistant":
            return render_turns(messages[:index]), content_text(messages[index]["content"])
    raise DatasetFormatError(
        f"{where}: no assistant turn, so there is no target; add the expected assistant reply."
    )


def pair(record: Mapping[str, Any], format: str, where: str = "record") -> tuple[str, str]:
    """``(input text, target text)`` of a canonical record of ``format``."""
    if format == "prompt_completion":
        return str(record["prompt"]), str(record["completion"])
    if format == "chat":
        return chat_pair(record["messages"], where)
    return chat_pair(
        [*record["input"]["messages"], *record["preferred_output"]],
        where,
    )


def convert_record(record: Mapping[str, Any], source: str, target: str, where: str) -> Record:
    """A canonical record of ``source`` format as ``target`` format.

    :raises DatasetFormatError: where the conversion is not well defined (chat or
        prompt/completion to preference: there is no non-preferred answer).
    """
    if target not in FORMATS:
        raise DatasetFormatError(
            f"Unknown dataset format {target!r}; choose one of {', '.join(FORMATS)}."
        )
    if source == target:
        return dict(record)
    if target == "preference":
        raise DatasetFormatError(
            f"Cannot convert {source} to preference: a preference pair needs a non-preferred "
            "answer that the data does not have. Build records with input, preferred_output "
            "and non_preferred_output instead."
        )
    if target == "chat":
        if source == "prompt_completion":
            return {
                "messages": [
                    {"role": "user", "content": record["prompt"]},
                    {"role": "assistant", "content": record["completion"]},
                ]
            }
        return {"messages": [*record["input"]["messages"], *record["preferred_output"]]}
    if record_images(record, source):
        raise DatasetFormatError(
            f"{where}: holds images, and prompt/completion takes text only; keep the chat "
            "format (or export to a shape that takes images, such as openai)."
        )
    prompt, completion = pair(record, source, where)
    return {"prompt": prompt, "completion": completion}


def record_messages(record: Mapping[str, Any], format: str) -> list[Mapping[str, Any]]:
    """Every message of a canonical chat or preference record (none for prompt/completion)."""
    if format == "chat":
        return list(record["messages"])
    if format == "preference":
        return [
            *record["input"]["messages"],
            *record["preferred_output"],
            *record["non_preferred_output"],
        ]
    return []


def record_images(record: Mapping[str, Any], format: str) -> int:
    """How many image parts a canonical record holds."""
    return sum(content_images(m["content"]) for m in record_messages(record, format))
