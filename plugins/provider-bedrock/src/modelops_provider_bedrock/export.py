"""The Bedrock ``bedrock-conversation`` training-file shape, declared in the plugin's profile
and imported only when a dataset is exported to it (no ``boto3`` is imported here).

``bedrock-conversation-2024``: ``{"schemaVersion", "system", "messages"}`` from a canonical
chat, contents as lists of text parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_core.datasets.exports import split_system, text_parts

#: the ``schemaVersion`` of Bedrock conversation training files.
SCHEMA_VERSION = "bedrock-conversation-2024"


def to_conversation(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A canonical chat record as a Bedrock conversation training example."""
    system, rest = split_system(record["messages"], "bedrock-conversation", where)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "system": text_parts(system) if system else [],
        "messages": [{"role": m["role"], "content": text_parts(m["content"])} for m in rest],
    }
