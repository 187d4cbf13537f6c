"""The Vertex AI training-file shapes, declared in the plugin's profile and imported only when
a dataset is exported to them (no Google library is imported here).

- ``vertex``: ``{"systemInstruction", "contents"}`` (roles user/model) from a canonical chat;
- ``vertex-preference``: ``{"system_instruction", "contents", "completions"}`` from a
  canonical preference record (one scored completion turn per answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.exports import split_system, text_parts


def _contents(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"role": "model" if m["role"] == "assistant" else "user", "parts": text_parts(m["content"])}
        for m in messages
    ]


def to_vertex(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A canonical chat record as a Vertex AI supervised tuning example."""
    system, rest = split_system(record["messages"], "vertex", where)
    result: dict[str, Any] = {}
    if system:
        result["systemInstruction"] = {"role": "system", "parts": text_parts(system)}
    result["contents"] = _contents(rest)
    return result


def to_vertex_preference(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A canonical preference record as a Vertex AI preference tuning example."""
    system, rest = split_system(record["input"]["messages"], "vertex-preference", where)
    completions = []
    for score, key in ((1, "preferred_output"), (0, "non_preferred_output")):
        turns = record[key]
        if len(turns) != 1:
            raise DatasetFormatError(
                f"{where}: vertex-preference takes one completion turn per answer; {key} has "
                f"{len(turns)}."
            )
        completions.append({"score": score, "completion": _contents(turns)[0]})
    result: dict[str, Any] = {}
    if system:
        result["system_instruction"] = {"parts": text_parts(system)}
    result["contents"] = _contents(rest)
    result["completions"] = completions
    return result
