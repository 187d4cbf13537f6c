"""What every command shares: the options of the ``modelops`` group and runtime creation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pathlib import Path

    from modelops_core.config import Config
    from modelops_core.runtime import Runtime


class CliState:
    """The global options: ``--config`` and ``--lenient`` (a plain class: attrs would cost
    ``modelops --help`` about 10 ms of imports)."""

    __slots__ = ("config_path", "lenient")

    def __init__(self, config_path: Path | None = None, lenient: bool = False) -> None:
        self.config_path = config_path
        self.lenient = lenient

    def config(self) -> Config:
        from modelops_core.config import load_config

        return load_config(self.config_path)

    def runtime(self) -> Runtime:
        """A runtime on the chosen configuration; ``--lenient`` overrides ``[plugins] strict``."""
        import warnings

        from modelops_core.gc_pause import GcPaused

        # the runtime's modules and the plugins load: what they make lives as long as the process
        with GcPaused(promote=True), warnings.catch_warnings():
            from modelops_core.plugins.discovery import PluginWarning
            from modelops_core.runtime import Runtime

            warnings.simplefilter("ignore", PluginWarning)  # reported once, below
            runtime = Runtime(self.config(), strict=False if self.lenient else None)
        for problem in runtime.problems:
            click.secho(f"skipped: {problem}", fg="yellow", err=True)
        return runtime


def state() -> CliState:
    """The :class:`CliState` of the running command."""
    found = click.get_current_context().find_object(CliState)
    return found if found is not None else CliState()
