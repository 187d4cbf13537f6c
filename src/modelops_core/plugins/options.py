"""Checking configuration options against a factory's signature before the call."""

from __future__ import annotations

import inspect
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelops_core.errors import ComponentOptionError, did_you_mean


def check_options(
    factory: Callable[..., Any],
    options: Mapping[str, Any],
    *,
    label: str,
    where: str = "",
    reserved: Sequence[str] = (),
) -> None:
    """Raise :class:`ComponentOptionError` unless ``factory(**options)`` binds and types match.

    An unknown option names the closest valid one; a value of the wrong type names the
    expected type. Types that cannot be checked cheaply are accepted.

    :param reserved: keys of the same config table that the core reads itself; only used to
        suggest a fix when an unknown option is a misspelling of one of them.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    parameters = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    settable = [
        name
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    place = f" in {where}" if where else ""
    if not takes_any:
        for key in options:
            if key not in settable:
                valid = ", ".join(settable) or "none"
                hint = did_you_mean(key, [*settable, *reserved])
                raise ComponentOptionError(
                    f"Unknown option {key!r} for {label}{place}.{hint} Valid options: {valid}."
                )
    for name in settable:
        parameter = parameters[name]
        if parameter.default is inspect.Parameter.empty and name not in options:
            raise ComponentOptionError(
                f"Missing required option {name!r} for {label}{place}: add `{name} = ...`."
            )
    hints = _type_hints(factory)
    for key, value in options.items():
        expected = hints.get(key)
        if expected is not None and not _matches(value, expected):
            raise ComponentOptionError(
                f"Option {key!r} for {label}{place} must be {_describe(expected)}, "
                f"got {type(value).__name__} {value!r}."
            )


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target: Any = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: accept rather than guess
        return {}


def _matches(value: Any, expected: Any) -> bool:
    if expected is Any or expected is object:
        return True
    origin = typing.get_origin(expected)
    args = typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is typing.Literal:
        return value in args
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is os.PathLike or expected in (str, bytes, bool):
        return isinstance(value, expected)
    container = origin or expected
    if container in (list, Sequence, tuple, set, frozenset):
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
            return False
        item = args[0] if args and container is not tuple else None
        return item is None or all(_matches(v, item) for v in value)
    if container in (dict, Mapping):
        if not isinstance(value, Mapping):
            return False
        if len(args) == 2:
            return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
        return True
    if isinstance(container, type) and container.__module__ == "pathlib":
        return isinstance(value, str | os.PathLike)
    if isinstance(container, type):
        try:
            return isinstance(value, container)
        except TypeError:
            return True
    return True


def _describe(expected: Any) -> str:
    if isinstance(expected, type):
        return expected.__name__
    return str(expected).replace("typing.", "")
