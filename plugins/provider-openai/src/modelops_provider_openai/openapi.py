"""OpenAI's published OpenAPI rules for files and fine-tuning, as the fake checks them.

The rules are the operations and schemas of ``spec/openapi-finetuning.json``, extracted from
``openapi.yaml`` of https://github.com/openai/openai-openapi (the commit is written in the
file's ``source``; ``tools/extract_spec.py`` regenerates it). :class:`OpenAPIRules` checks a
request (path, query, JSON or multipart body) and a response (status and JSON body) against
them and answers :class:`SpecViolation` values shaped like the API's own error objects
(``param``, ``code``, a message naming the field).

Objects are closed both ways: a request field the spec does not declare is refused (as the
API refuses ``warmup_steps``), and a response field it does not declare is a violation (a fake
must not invent fields). ``jsonschema`` is imported when the rules are first used (install
the plugin's ``testing`` extra).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from importlib import resources
from typing import Any

import attrs

SPEC_FILE = "openapi-finetuning.json"


@attrs.frozen
class SpecViolation:
    """One way a request or response breaks the spec.

    :ivar side: ``"request"`` or ``"response"``.
    :ivar operation: ``"POST /fine_tuning/jobs"`` (the spec's route template).
    :ivar param: the field, dotted from the body's root (``method.dpo.hyperparameters.beta``),
        or the query parameter; None for the whole body.
    :ivar code: OpenAI's error code for it (``string_above_max_length``, ``unknown_parameter``).
    :ivar message: what is wrong, naming the field, in the API's wording.
    """

    side: str
    operation: str
    param: str | None
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.side} of {self.operation}: {self.message} (param {self.param}, {self.code})"


@attrs.frozen
class Operation:
    """One operation of the spec: its route template, method and parts."""

    method: str
    route: str
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.route}"


class OpenAPIRules:
    """The extracted OpenAPI document and the checks made with it (load with :meth:`load`)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.source: Mapping[str, Any] = document.get("source", {})
        self.schemas: Mapping[str, Any] = document["components"]["schemas"]

    @classmethod
    def load(cls) -> OpenAPIRules:
        """The rules shipped with the plugin (``spec/openapi-finetuning.json``)."""
        text = resources.files("modelops_provider_openai").joinpath("spec", SPEC_FILE)
        return cls(json.loads(text.read_text(encoding="utf-8")))

    # --- operations ----------------------------------------------------------------------------

    @cached_property
    def _routes(self) -> list[tuple[re.Pattern[str], str]]:
        routes = []
        for route in self.document["paths"]:
            parts = [
                "[^/]+" if part.startswith("{") else re.escape(part) for part in route.split("/")
            ]
            routes.append((re.compile("/".join(parts)), route))
        return routes

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation ``method path`` (path after the API root) is, or None."""
        for pattern, route in self._routes:
            if pattern.fullmatch(path):
                spec = self.document["paths"][route].get(method.lower())
                if spec is not None:
                    return Operation(method.lower(), route, spec)
        return None

    # --- requests ------------------------------------------------------------------------------

    def request_violations(
        self,
        operation: Operation,
        query: Mapping[str, str],
        body: Any = None,
        form: Mapping[str, Any] | None = None,
        *,
        ignored_query: Iterable[str] = ("api-version",),
    ) -> list[SpecViolation]:
        """What is wrong with a request to ``operation`` (query strings as sent)."""
        found = self._query_violations(operation, query, frozenset(ignored_query))
        content = (operation.spec.get("requestBody") or {}).get("content") or {}
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            if body is None:
                found.append(self._missing_body(operation))
            else:
                found += self._violations("request", operation, schema, body)
        elif "multipart/form-data" in content:
            schema = content["multipart/form-data"]["schema"]
            fields = {
                name: (value if not isinstance(value, tuple) else "<file>")
                for name, value in (form or {}).items()
            }
            found += self._violations("request", operation, schema, fields)
        return found

    def _missing_body(self, operation: Operation) -> SpecViolation:
        return SpecViolation(
            "request",
            operation.name,
            None,
            "invalid_request_body",
            "We could not parse the JSON body of your request. The OpenAI API expects a "
            "JSON payload.",
        )

    def _query_violations(
        self, operation: Operation, query: Mapping[str, str], ignored: frozenset[str]
    ) -> list[SpecViolation]:
        declared = {
            p["name"]: p for p in operation.spec.get("parameters", []) if p.get("in") == "query"
        }
        found = []
        for name, raw in query.items():
            if name in ignored:
                continue
            base = name.split("[", 1)[0]
            parameter = declared.get(base)
            if parameter is None:
                found.append(
                    SpecViolation(
                        "request",
                        operation.name,
                        name,
                        "unknown_parameter",
                        f"Unknown parameter: '{name}'.",
                    )
                )
                continue
            schema = parameter.get("schema", {})
            if parameter.get("style") == "deepObject":
                value: Any = {name[len(base) + 1 : -1]: raw}
            else:
                value = _query_value(raw, schema)
            found += self._violations("request", operation, schema, value, param=name)
        return found

    # --- responses -----------------------------------------------------------------------------

    def response_violations(
        self, operation: Operation | None, status: int, body: Any, label: str = ""
    ) -> list[SpecViolation]:
        """What is wrong with a JSON response (an error status must carry an ErrorResponse)."""
        name = operation.name if operation is not None else label
        if status >= 400 or operation is None:
            schema: Any = {"$ref": "#/components/schemas/ErrorResponse"}
        else:
            response = operation.spec["responses"].get(str(status))
            if response is None:
                return [
                    SpecViolation(
                        "response", name, None, "undeclared_status", f"HTTP {status} undeclared"
                    )
                ]
            schema = response["content"]["application/json"]["schema"]
        return self._violations("response", operation, schema, body, label=name)

    # --- validation ----------------------------------------------------------------------------

    @cached_property
    def _closed_schemas(self) -> dict[str, Any]:
        """The schemas with every object closed: undeclared properties are violations."""
        closed = copy.deepcopy(dict(self.schemas))
        _close(closed)
        return closed

    def _validator(self, schema: Any) -> Any:
        import jsonschema  # type: ignore[import-untyped,unused-ignore]

        root = {**_close_copy(schema), "components": {"schemas": self._closed_schemas}}
        return jsonschema.Draft202012Validator(root)

    def _violations(
        self,
        side: str,
        operation: Operation | None,
        schema: Any,
        value: Any,
        *,
        param: str | None = None,
        label: str = "",
    ) -> list[SpecViolation]:
        name = operation.name if operation is not None else label
        errors = sorted(self._validator(schema).iter_errors(value), key=lambda e: list(e.path))
        found = []
        for error in errors:
            where, code, message = describe(error, prefix=param)
            found.append(SpecViolation(side, name, where, code, message))
        return found


# --- helpers ---------------------------------------------------------------------------------


def _close(node: Any) -> None:
    """Add ``additionalProperties: false`` to every object schema that lists its properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for item in node:
            _close(item)


def _close_copy(schema: Any) -> Any:
    copied = copy.deepcopy(schema)
    _close(copied)
    return copied


def _query_value(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query string as the JSON value its schema types it (kept a string if it is none)."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if "number" in kinds:
        try:
            return float(raw)
        except ValueError:
            return raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _expected(schema: Mapping[str, Any]) -> str:
    """``'auto'`` or ``an integer`` for a branch of a oneOf."""
    if "enum" in schema:
        return " or ".join(repr(v) for v in schema["enum"])
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return " or ".join(_TYPE_NAMES.get(str(k), str(k)) for k in kinds if k)


def _accepts_type(schema: Mapping[str, Any], value: Any) -> bool:
    kinds = schema.get("type")
    if kinds is None:
        return True
    kinds = kinds if isinstance(kinds, list) else [kinds]
    actual = _type_of(value)
    return actual in kinds or (actual == "integer" and "number" in kinds)


def _param(path: Iterable[Any], prefix: str | None) -> str | None:
    text = prefix or ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or None


def describe(error: Any, prefix: str | None = None) -> tuple[str | None, str, str]:
    """``(param, code, message)`` for a ``jsonschema`` error, in OpenAI's wording."""
    keyword = error.validator
    if keyword in ("oneOf", "anyOf") and error.context:
        value = error.instance
        branches = error.validator_value
        fitting = [
            e
            for e in error.context
            if _accepts_type(branches[e.relative_schema_path[0]], value)
            and not (e.validator == "enum" and len(branches) > 1)
        ]
        if fitting:
            deepest = max(fitting, key=lambda e: len(list(e.absolute_path)))
            return describe(deepest, prefix)
        param = _param(error.absolute_path, prefix)
        wanted = " or ".join(_expected(branch) for branch in branches)
        return (
            param,
            "invalid_type",
            f"Invalid type for '{param}': expected {wanted}, but got "
            f"{_TYPE_NAMES[_type_of(value)]} ({json.dumps(value)}) instead.",
        )
    param = _param(error.absolute_path, prefix)
    value = error.instance
    limit = error.validator_value
    if keyword == "additionalProperties" and limit is False:
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(value) - known)
        field = _param([*error.absolute_path, extra[0]], prefix) if extra else param
        allowed = ", ".join(sorted(known))
        return field, "unknown_parameter", f"Unknown parameter: '{field}'. Known: {allowed}."
    if keyword == "required":
        missing = next((name for name in limit if name not in value), limit[0])
        field = _param([*error.absolute_path, missing], prefix)
        return field, "missing_required_parameter", f"Missing required parameter: '{field}'."
    if keyword == "type":
        wanted = _expected(error.schema)
        got = _TYPE_NAMES[_type_of(value)]
        return (
            param,
            "invalid_type",
            f"Invalid type for '{param}': expected {wanted}, but got {got} instead.",
        )
    if keyword == "enum":
        supported = ", ".join(repr(v) for v in limit)
        return (
            param,
            "invalid_value",
            f"Invalid value: {json.dumps(value)}. Supported values are: {supported} ('{param}').",
        )
    if keyword == "maxLength" and "propertyNames" in error.schema_path:
        return (
            param,
            "string_above_max_length",
            f"Invalid '{param}': key {json.dumps(value)} is too long. Expected keys with "
            f"maximum length {limit}, but got a key with length {len(value)} instead.",
        )
    if keyword == "maxLength":
        return (
            param,
            "string_above_max_length",
            f"Invalid '{param}': string too long. Expected a string with maximum length "
            f"{limit}, but got a string with length {len(value)} instead.",
        )
    if keyword == "minLength":
        if value == "":
            return (
                param,
                "empty_string",
                f"Invalid '{param}': empty string. Expected a string with minimum length "
                f"{limit}, but got an empty string instead.",
            )
        return (
            param,
            "string_below_min_length",
            f"Invalid '{param}': string too short. Expected a string with minimum length "
            f"{limit}, but got a string with length {len(value)} instead.",
        )
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        kind = "integer" if _type_of(value) == "integer" else "decimal"
        below = keyword in ("minimum", "exclusiveMinimum")
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        return (
            param,
            f"{kind}_{'below_min' if below else 'above_max'}_value",
            f"Invalid '{param}': {'integer' if kind == 'integer' else 'number'} "
            f"{'below minimum' if below else 'above maximum'} value. Expected a value "
            f"{sign[keyword]} {limit}, but got {json.dumps(value)} instead.",
        )
    if keyword == "maxProperties":
        return (
            param,
            "object_above_max_properties",
            f"Invalid '{param}': too many properties. Expected an object with at most {limit} "
            f"properties, but got an object with {len(value)} properties instead.",
        )
    if keyword == "maxItems":
        return (
            param,
            "array_above_max_length",
            f"Invalid '{param}': array too long. Expected an array with maximum length {limit}, "
            f"but got an array with length {len(value)} instead.",
        )
    if keyword == "propertyNames":
        return (
            param,
            "invalid_property_name",
            f"Invalid '{param}': key {json.dumps(value)} is not allowed ({error.message}).",
        )
    return param, f"invalid_{keyword}", f"Invalid '{param}': {error.message}."
