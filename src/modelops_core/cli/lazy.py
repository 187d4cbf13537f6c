"""Click groups of the CLI: :class:`HintingGroup` (an unknown subcommand gets a hint) and
:class:`LazyGroup` (subcommands imported only when they run)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from modelops_core.gc_pause import import_module


class HintingGroup(click.Group):
    """A group whose unknown subcommand gets a hint: the close names (``lsit`` -> ``list``), or,
    when the word is no subcommand at all, the subcommands that take that many arguments
    (``registry alias churn production 1.0`` -> ``registry alias set churn production 1.0``).
    Its subgroups are HintingGroups too."""

    group_class = type

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise (self.no_such_command(self, ctx, args) or exc) from None

    @staticmethod
    def no_such_command(
        group: click.Group, ctx: click.Context | None, words: list[str]
    ) -> click.UsageError | None:
        """The usage error for ``words`` (the unknown subcommand first), with the hint; None
        when there is nothing to add."""
        if not words or ctx is None:
            return None
        from modelops_core.errors import closest

        typed = words[0]
        names = group.list_commands(ctx)
        path = ctx.command_path
        close = closest(typed, names)
        if close is not None:
            hint = f"Did you mean `{path} {close}`?"
        else:
            fitting = [
                name
                for name in names
                if (command := group.get_command(ctx, name)) is not None
                and _takes(command, len(words))
            ]
            if not fitting:
                return None
            shown = " or ".join(f"`{path} {name} {' '.join(words)}`" for name in fitting)
            hint = f"{path} takes a subcommand first; did you mean {shown}?"
        message = f"No such command {typed!r}. {hint} Commands: {', '.join(names)}."
        return click.UsageError(message, ctx)


def _takes(command: click.Command, count: int) -> bool:
    """Whether ``command`` takes ``count`` positional arguments (a group takes none)."""
    if isinstance(command, click.Group):
        return False
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if any(a.nargs == -1 for a in arguments):
        return count >= sum(1 for a in arguments if a.required)
    required = sum(a.nargs for a in arguments if a.required)
    return required <= count <= sum(a.nargs for a in arguments)


class LazyGroup(HintingGroup):
    """Subcommands given as ``name -> ("module:attr", short help)``.

    ``--help`` lists them from the short help alone; a command's module is imported when the
    command is invoked (or its own ``--help`` is asked for).
    """

    def __init__(self, *args: Any, commands: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._lazy:
            return super().get_command(ctx, cmd_name)
        module_name, _, attr = self._lazy[cmd_name][0].partition(":")
        command = getattr(import_module(module_name), attr)  # the collector paused
        if not isinstance(command, click.Command):
            raise TypeError(f"{self._lazy[cmd_name][0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._lazy[name][1]) for name in sorted(self._lazy)]
        rows += [
            (name, command.get_short_help_str())
            for name in super().list_commands(ctx)
            if (command := super().get_command(ctx, name)) is not None and name not in self._lazy
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))
