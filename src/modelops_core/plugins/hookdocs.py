"""Render docs/hooks.md from the hook specifications, so the two cannot drift.

Regenerate with ``python -m modelops_core.plugins.hookdocs > docs/hooks.md``; a test compares them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from modelops_core.plugins import hookspecs

HEADER = """\
# Hooks

Every hook a `modelops` plugin may implement. This page is generated from
`src/modelops_core/plugins/hookspecs.py`
(`python -m modelops_core.plugins.hookdocs > docs/hooks.md`) and a test fails when the two differ.

Implement a hook with `from modelops_core import hookimpl` and a function of the same name
that takes any subset of the documented arguments (arguments are append-only).

Each hook says how the results of its implementations combine: registration and event hooks
call every implementation (fan-out); `modelops_before_*` hooks are declared
`firstresult=True` and stop at the first non-None result, the reason to refuse.
"""


def hook_specs() -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every hook specification, in the order of the spec module."""
    for name, function in vars(hookspecs).items():
        if name.startswith("modelops_") and callable(function):
            yield name, function


def render_hooks_markdown() -> str:
    """The Markdown text of docs/hooks.md."""
    sections = [HEADER]
    for name, function in hook_specs():
        signature = inspect.signature(function)
        parameters = ", ".join(
            f"{parameter.name}: {parameter.annotation}"
            for parameter in signature.parameters.values()
        )
        doc = inspect.cleandoc(function.__doc__ or "")
        sections.append(
            f"## `{name}`\n\n```py\n{name}({parameters}) -> {signature.return_annotation}\n"
            f"```\n\n{doc}\n"
        )
    return "\n".join(sections)


if __name__ == "__main__":
    print(render_hooks_markdown(), end="")
