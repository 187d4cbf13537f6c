"""Record shapes: recognise any supported shape, turn it into the canonical one, convert.

Canonical shapes (plain dicts):

- ``prompt_completion``: ``{"prompt": str, "completion": str}``;
- ``chat``: ``{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": str,
  "weight": 0|1 (optional)}]}``;
- ``preference`` (the OpenAI DPO shape): ``{"input": {"messages": [...]},
  "preferred_output": [{"role": "assistant", "content": ...}], "non_preferred_output": [...]}``.

Accepted on input besides those: Vertex AI / Gemini (``contents`` + ``systemInstruction``),
Gemini preference (``contents`` + scored ``completions``), Bedrock ``bedrock-conversation-2024``
and ``{"prompt", "chosen", "rejected"}`` preference pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.jsonl.reader import LineProblem

FORMATS: tuple[str, ...] = ("prompt_completion", "chat", "preference")
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
#: message keys kept besides role, content and weight (tool calling in the OpenAI shape).
PASSTHROUGH_KEYS: tuple[str, ...] = ("name", "tool_call_id", "tool_calls")

Record = dict[str, Any]
Message = dict[str, Any]


def _text_of(value: Any, where: str) -> str:
    """The text of a content value: a string, or a list of text parts joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts: list[str] = []
        for part in value:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
            else:
                raise DatasetFormatError(
                    f"{where}: a content part without text ({_describe(part)}); only text "
                    'parts such as {"text": "..."} are supported.'
                )
        return "".join(texts)
    if value is None:
        raise DatasetFormatError(f"{where}: content is missing (null); give a string.")
    raise DatasetFormatError(f"{where}: content must be a string, not {_describe(value)}.")


def _describe(value: Any) -> str:
    return "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def canonical_message(message: Any, where: str, *, model_role: bool = False) -> Message:
    """A canonical message from an OpenAI/Bedrock message (or a Vertex content when
    ``model_role``: role ``model`` and ``parts``)."""
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
    if "parts" in message and "content" not in message:
        content = _text_of(message["parts"], where)
    elif "content" in message:
        raw = message["content"]
        content = "" if raw is None and "tool_calls" in message else _text_of(raw, where)
    else:
        raise DatasetFormatError(f"{where}: missing content (a string).")
    result: Message = {"role": role, "content": content}
    weight = message.get("weight")
    if weight is not None:
        if weight not in (0, 1) or isinstance(weight, bool):
            raise DatasetFormatError(f"{where}: weight must be 0 or 1, not {weight!r}.")
        result["weight"] = int(weight)
    for key in PASSTHROUGH_KEYS:
        if key in message:
            result[key] = message[key]
    return result


def _messages(value: Any, where: str, *, model_role: bool = False) -> list[Message]:
    if not isinstance(value, list):
        raise DatasetFormatError(f"{where}: expected a list of messages, not {_describe(value)}.")
    return [
        canonical_message(item, f"{where}[{index}]", model_role=model_role)
        for index, item in enumerate(value)
    ]


def _system_texts(value: Any, where: str) -> list[Message]:
    """Vertex ``systemInstruction`` / Bedrock ``system`` as zero or one system message."""
    if value is None:
        return []
    parts = value.get("parts") if isinstance(value, Mapping) else value
    if parts == []:
        return []
    return [{"role": "system", "content": _text_of(parts, where)}]


def _string(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise DatasetFormatError(
            f"{where}: {key!r} must be a string, not {_describe(value)}."
            if key in record
            else f"{where}: missing {key!r}."
        )
    return value


def normalize(record: Any, where: str = "record") -> tuple[str, Record]:
    """``(format, canonical record)`` of a record in any supported shape.

    :raises DatasetFormatError: naming ``where`` and the offending key.
    """
    if not isinstance(record, Mapping):
        raise DatasetFormatError(f"{where}: expected a JSON object, got {_describe(record)}.")
    if "input" in record and "preferred_output" in record:
        return "preference", _openai_preference(record, where)
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
        messages += _messages(record["contents"], f"{where}.contents", model_role=True)
        return "chat", {"messages": messages}
    if "messages" in record:
        # the conversation shape with a "schemaVersion" keeps its system text apart
        messages = _system_texts(record.get("system"), f"{where}.system")
        messages += _messages(record["messages"], f"{where}.messages")
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


def normalize_line(value: Any, number: int) -> tuple[str, Record] | LineProblem:
    """``(format, canonical record)`` of the JSON object on line ``number``, or the problem
    (its reason without the line, its field such as ``messages[1]``)."""
    where = f"line {number}"
    try:
        return normalize(value, where)
    except DatasetFormatError as exc:
        reason = str(exc).removeprefix(where).lstrip(":. ")
        head = reason.split(":", 1)[0]
        field = head.lstrip(".") if ":" in reason and " " not in head else ""
        return LineProblem(number, reason, field=field)


def _openai_preference(record: Mapping[str, Any], where: str) -> Record:
    source = record["input"]
    if not isinstance(source, Mapping) or "messages" not in source:
        raise DatasetFormatError(f"{where}.input: expected an object with 'messages'.")
    result: Record = {"input": {"messages": _messages(source["messages"], f"{where}.input")}}
    for key in ("preferred_output", "non_preferred_output"):
        if key not in record:
            raise DatasetFormatError(f"{where}: missing {key!r} (a list of assistant messages).")
        result[key] = _messages(record[key], f"{where}.{key}")
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
        return str(messages[0]["content"])
    return "\n".join(f"{message['role']}: {message['content']}" for message in messages)


def chat_pair(messages: Sequence[Mapping[str, Any]], where: str = "record") -> tuple[str, str]:
    """``(input, target)`` of a conversation: the turns before the last assistant turn, rendered,
    and that turn's content."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "assistant":
            return render_turns(messages[:index]), str(messages[index]["content"])
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
    prompt, completion = pair(record, source, where)
    return {"prompt": prompt, "completion": completion}
