"""Regenerate ``modelops_provider_openai/spec/openapi-finetuning.json`` from OpenAI's OpenAPI.

The fake (``modelops_provider_openai.testing``) checks every request and response against the
operations and schemas this script keeps: files, fine-tuning jobs, events, checkpoints (the rest
of the multi-MB document is left out; ``x-oaiMeta`` examples and descriptions are dropped)::

    git clone https://github.com/openai/openai-openapi && cd openai-openapi
    python tools/extract_spec.py openapi.yaml $(git rev-parse HEAD) > openapi-finetuning.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

#: (path, method) of every operation the fake serves and checks.
OPERATIONS = (
    ("/files", "post"),
    ("/files/{file_id}", "get"),
    ("/files/{file_id}", "delete"),
    ("/fine_tuning/jobs", "post"),
    ("/fine_tuning/jobs", "get"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}", "get"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}/cancel", "post"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}/pause", "post"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}/resume", "post"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}/events", "get"),
    ("/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints", "get"),
)
EXTRA_SCHEMAS = ("ErrorResponse",)
DROPPED = ("description", "x-oaiMeta", "example", "examples", "x-oaiTypeLabel", "summary", "title")


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in DROPPED}
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 leftovers in the 3.1 document as JSON Schema 2020-12: ``nullable: true``
    becomes a ``"null"`` type, a boolean ``exclusiveMinimum`` the bound itself."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "type" not in node and "$ref" not in node:
            pass  # no type: anything goes already
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    if node.get("exclusiveMinimum") is True and "minimum" in node:
        node["exclusiveMinimum"] = node.pop("minimum")
    if node.get("exclusiveMaximum") is True and "maximum" in node:
        node["exclusiveMaximum"] = node.pop("maximum")
    return node


#: Rules the document states only in prose (or in an example), made checkable. Each is
#: listed in the output's ``source.patches``.
PATCHES = (
    (
        "Metadata: at most 16 keys, keys up to 64 and values up to 512 characters "
        "(its description)",
        lambda schemas: schemas["Metadata"]["anyOf"][0].update(
            maxProperties=16,
            propertyNames={"type": "string", "maxLength": 64},
            additionalProperties={"type": "string", "maxLength": 512},
        ),
    ),
    (
        "FineTuningJob.status: 'paused' added (the pause operation's example answers it)",
        lambda schemas: schemas["FineTuningJob"]["properties"]["status"]["enum"].append("paused"),
    ),
)


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def main(path: str, commit: str) -> None:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    operations: dict[str, dict[str, Any]] = {}
    for route, method in OPERATIONS:
        operation = document["paths"][route][method]
        parts = ("operationId", "parameters", "requestBody", "responses")
        kept = {k: operation[k] for k in parts if k in operation}
        operations.setdefault(route, {})[method] = _json_schema(_strip(kept))
    pending: set[str] = set(EXTRA_SCHEMAS)
    _refs(operations, pending)
    schemas: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        schemas[name] = _json_schema(_strip(document["components"]["schemas"][name]))
        found: set[str] = set()
        _refs(schemas[name], found)
        pending |= found - set(schemas)
    for _reason, patch in PATCHES:
        patch(schemas)
    out = {
        "source": {
            "repository": "https://github.com/openai/openai-openapi",
            "path": "openapi.yaml",
            "commit": commit,
            "openapi": document["openapi"],
            "info_version": document["info"].get("version"),
            "kept": "the operations listed in plugins/provider-openai/tools/extract_spec.py and "
            "the schemas they reference; descriptions and examples dropped; OpenAPI 3.0 "
            "'nullable' and boolean 'exclusiveMinimum' rewritten as JSON Schema 2020-12",
            "patches": [reason for reason, _patch in PATCHES],
        },
        "paths": operations,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
