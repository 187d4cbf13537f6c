"""Reading a training file: prompt/completion records or chats, with every problem by line.

A line is either ``{"prompt": ..., "completion": ...}`` (the ``local`` export format) or a chat
``{"messages": [{"role": ..., "content": ...}, ...]}`` (any provider's export), in which case
the last user message is the input and the last assistant message the target. ``content`` may
be a string or a list of ``{"type": "text", "text": ...}`` parts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

MAX_PROBLEMS = 20


@attrs.frozen
class Examples:
    """The usable (input, target) pairs of a file and the problems found on the way."""

    inputs: list[str]
    targets: list[str]
    problems: list[str]


def read_examples(path: str | Path) -> Examples:
    """Every valid pair of ``path``; each bad line becomes a problem naming the file and line."""
    file = Path(path)
    inputs: list[str] = []
    targets: list[str] = []
    problems: list[str] = []
    try:
        handle = file.open(encoding="utf-8")
    except OSError as exc:
        return Examples([], [], [f"Cannot open the training file {str(file)!r}: {exc.strerror}."])
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(
                    f"{where}: invalid JSON at column {exc.colno}: {exc.msg}. "
                    "Each line must hold one JSON object."
                )
                continue
            pair = _pair(record, where, problems)
            if pair is not None:
                inputs.append(pair[0])
                targets.append(pair[1])
    if not inputs and not problems:
        problems.append(
            f"{file}: no examples. Write one JSON object per line: "
            '{"prompt": "...", "completion": "..."}.'
        )
    return Examples(inputs, targets, problems)


def summarize_problems(problems: Sequence[str]) -> list[str]:
    """The first :data:`MAX_PROBLEMS` problems, and a last line counting the rest."""
    shown = list(problems[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problems of the same kinds.")
    return shown


def _pair(record: Any, where: str, problems: list[str]) -> tuple[str, str] | None:
    if not isinstance(record, dict):
        problems.append(f"{where}: expected a JSON object, got {type(record).__name__}.")
        return None
    if "messages" in record and "prompt" not in record:
        return _chat_pair(record["messages"], where, problems)
    missing = [key for key in ("prompt", "completion") if key not in record]
    if missing:
        problems.append(
            f"{where}: missing {' and '.join(repr(key) for key in missing)} "
            f"(found keys: {', '.join(sorted(record)) or 'none'}). The local provider trains on "
            '{"prompt": ..., "completion": ...} or {"messages": [...]} records.'
        )
        return None
    prompt, completion = record["prompt"], record["completion"]
    for key, value in (("prompt", prompt), ("completion", completion)):
        if not isinstance(value, str):
            problems.append(f"{where}: {key!r} must be a string, got {type(value).__name__}.")
            return None
        if not value.strip():
            problems.append(f"{where}: {key!r} is empty.")
            return None
    return prompt, completion


def _chat_pair(messages: Any, where: str, problems: list[str]) -> tuple[str, str] | None:
    if not isinstance(messages, list) or not messages:
        problems.append(f"{where}: 'messages' must be a non-empty list of role/content objects.")
        return None
    last: dict[str, str] = {}
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            problems.append(f"{where}: message {position} has no 'role'.")
            return None
        text = _content_text(message.get("content"))
        if text is None:
            problems.append(
                f"{where}: message {position} ({message['role']}) has no text content "
                "(a string or a list of {'type': 'text', 'text': ...} parts)."
            )
            return None
        last[str(message["role"])] = text
    missing = [role for role in ("user", "assistant") if not last.get(role, "").strip()]
    if missing:
        problems.append(
            f"{where}: the chat has no non-empty {' or '.join(missing)} message; the local "
            "provider learns the last assistant message from the last user message."
        )
        return None
    return last["user"], last["assistant"]


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return "\n".join(texts) if texts else None
    return None
