"""Provider training-file formats: one canonical record in, one provider JSONL record out.

- ``openai``: ``{"messages": [...]}`` from chat, prompt/completion, preference (preferred);
- ``openai-dpo``: ``{"input", "preferred_output", "non_preferred_output"}`` from preference;
- ``vertex``: ``{"systemInstruction", "contents"}`` (roles user/model) from any format
  (preference: the preferred answer);
- ``vertex-preference``: ``{"system_instruction", "contents", "completions"}`` from preference;
- ``bedrock`` and ``local``: ``{"prompt", "completion"}`` from any format;
- ``bedrock-conversation``: ``bedrock-conversation-2024`` ``{"schemaVersion", "system",
  "messages"}`` from any format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_core.dataset_errors import DatasetFormatError, UnknownProviderError
from modelops_core.dataset_formats import BEDROCK_SCHEMA, Record, convert_record
from modelops_core.errors import did_you_mean

#: export name -> the canonical format its records are built from.
EXPORT_FORMATS: dict[str, str] = {
    "openai": "chat",
    "openai-dpo": "preference",
    "vertex": "chat",
    "vertex-preference": "preference",
    "bedrock": "prompt_completion",
    "bedrock-conversation": "chat",
    "local": "prompt_completion",
}


def check_export_name(provider: str) -> str:
    """``provider`` if it is a known export name, else :class:`UnknownProviderError`."""
    if provider not in EXPORT_FORMATS:
        raise UnknownProviderError(
            f"Unknown provider format {provider!r}.{did_you_mean(provider, EXPORT_FORMATS)} "
            f"Known: {', '.join(EXPORT_FORMATS)}."
        )
    return provider


def export_record(record: Mapping[str, Any], format: str, provider: str, where: str) -> Record:
    """The provider's JSONL record for a canonical ``record`` of ``format``."""
    base = EXPORT_FORMATS[check_export_name(provider)]
    canonical = convert_record(record, format, base, where)
    if provider in ("openai", "openai-dpo", "local", "bedrock"):
        return canonical
    if provider == "vertex":
        return _vertex(canonical["messages"], where)
    if provider == "vertex-preference":
        return _vertex_preference(canonical, where)
    return _bedrock_conversation(canonical["messages"], where)


def _parts(text: str) -> list[dict[str, str]]:
    return [{"text": text}]


def _split_system(
    messages: list[dict[str, Any]], provider: str, where: str
) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    rest: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] == "system":
            if rest:
                raise DatasetFormatError(
                    f"{where}: {provider} takes system text only before the first turn; "
                    "move the system message to the start."
                )
            system.append(message["content"])
        elif message["role"] == "tool":
            raise DatasetFormatError(
                f"{where}: {provider} export does not support tool turns; drop them or "
                "export to openai."
            )
        else:
            rest.append(message)
    return "\n\n".join(system), rest


def _vertex_contents(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"role": "model" if m["role"] == "assistant" else "user", "parts": _parts(m["content"])}
        for m in messages
    ]


def _vertex(messages: list[dict[str, Any]], where: str) -> Record:
    system, rest = _split_system(messages, "vertex", where)
    result: Record = {}
    if system:
        result["systemInstruction"] = {"role": "system", "parts": _parts(system)}
    result["contents"] = _vertex_contents(rest)
    return result


def _vertex_preference(record: Mapping[str, Any], where: str) -> Record:
    system, rest = _split_system(record["input"]["messages"], "vertex-preference", where)
    completions = []
    for score, key in ((1, "preferred_output"), (0, "non_preferred_output")):
        turns = record[key]
        if len(turns) != 1:
            raise DatasetFormatError(
                f"{where}: vertex-preference takes one completion turn per answer; {key} has "
                f"{len(turns)}."
            )
        completions.append({"score": score, "completion": _vertex_contents(turns)[0]})
    result: Record = {}
    if system:
        result["system_instruction"] = {"parts": _parts(system)}
    result["contents"] = _vertex_contents(rest)
    result["completions"] = completions
    return result


def _bedrock_conversation(messages: list[dict[str, Any]], where: str) -> Record:
    system, rest = _split_system(messages, "bedrock-conversation", where)
    return {
        "schemaVersion": BEDROCK_SCHEMA,
        "system": _parts(system) if system else [],
        "messages": [{"role": m["role"], "content": _parts(m["content"])} for m in rest],
    }
