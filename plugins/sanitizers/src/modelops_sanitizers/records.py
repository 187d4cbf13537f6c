"""Walking JSON-like records: rebuild them with every in-scope string transformed.

Records are never modified in place; containers are copied on the way down. A string's
*field path* names where it sits, e.g. ``messages[].content`` for the content of any chat
turn; reports count by this path so they never need the values themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modelops_sanitizers.errors import SanitizerInputError, SanitizerOptionError

StringTransform = Callable[[str, str], str]
"""``transform(text, field_path) -> new_text``."""


def check_fields(fields: Iterable[str] | str | None, *, sanitizer: str) -> frozenset[str] | None:
    """The ``fields=`` option as a set of key names (``None``: every key)."""
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = [fields]
    chosen = frozenset(fields)
    if not chosen or not all(isinstance(name, str) and name for name in chosen):
        raise SanitizerOptionError(
            f"{sanitizer} fields={sorted(map(str, chosen))!r} is not valid: give a non-empty "
            "list of key names (e.g. ['content', 'completion']) or leave it out to scan every key."
        )
    return chosen


def check_record(record: object, index: int, *, sanitizer: str) -> Mapping[str, Any]:
    """``record`` if it is a mapping; otherwise an error naming its index and type."""
    if not isinstance(record, Mapping):
        raise SanitizerInputError(
            f"{sanitizer}: record {index} is a {type(record).__name__}, not a JSON object. "
            "Give records as mappings (dicts), e.g. one per JSONL line."
        )
    return record


def transform_record(
    record: Mapping[str, Any], transform: StringTransform, fields: frozenset[str] | None
) -> dict[str, Any]:
    """A copy of ``record`` whose in-scope strings went through ``transform``.

    With ``fields``, a key in ``fields`` puts its whole value (at any depth) in scope;
    other strings are copied unchanged. Keys themselves are never transformed.
    """
    return {
        key: _transform_value(value, transform, fields, str(key), fields is None or key in fields)
        for key, value in record.items()
    }


def _transform_value(
    value: Any,
    transform: StringTransform,
    fields: frozenset[str] | None,
    path: str,
    in_scope: bool,
) -> Any:
    if isinstance(value, str):
        return transform(value, path) if in_scope else value
    if isinstance(value, Mapping):
        return {
            key: _transform_value(
                item, transform, fields, f"{path}.{key}", in_scope or key in (fields or ())
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        item_path = f"{path}[]"
        return [_transform_value(item, transform, fields, item_path, in_scope) for item in value]
    return value


def collect_strings(
    record: Mapping[str, Any], fields: frozenset[str] | None, found: list[str]
) -> None:
    """Append the in-scope strings of ``record`` to ``found``, in :func:`transform_record` order.

    Reads only (nothing is copied), so a sanitizer can look at every string of a batch first
    and rebuild only the records it changes.
    """
    for key, value in record.items():
        if isinstance(value, str):
            if fields is None or key in fields:
                found.append(value)
        elif isinstance(value, Mapping | list | tuple):
            _collect_value(value, fields, fields is None or key in fields, found)


def _collect_value(
    value: Any, fields: frozenset[str] | None, in_scope: bool, found: list[str]
) -> None:
    if isinstance(value, str):
        if in_scope:
            found.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect_value(item, fields, in_scope or key in (fields or ()), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_value(item, fields, in_scope, found)


def copy_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` whose containers are new (strings and numbers are shared)."""
    for value in record.values():
        if type(value) not in _SCALAR_TYPES and isinstance(value, Mapping | list | tuple):
            break
    else:
        return dict(record)
    return transform_record(record, _unchanged, None)


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _unchanged(text: str, path: str) -> str:
    return text
