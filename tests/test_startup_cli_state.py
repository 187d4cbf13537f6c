"""``--config`` reaches the commands as a Path, though pathlib is imported only once a command
runs (``modelops --help`` does without it)."""

from __future__ import annotations

from pathlib import Path

import click

from modelops_core.cli.context import CliState
from modelops_core.cli.main import cli


def test_the_config_option_reaches_the_commands_as_a_path():
    with click.Context(cli) as context:
        context.invoke(cli.callback, config_path="conf/modelops.toml", lenient=True)
    assert isinstance(context.obj, CliState)
    assert context.obj.config_path == Path("conf/modelops.toml")
    assert isinstance(context.obj.config_path, Path)
    assert context.obj.lenient is True


def test_without_the_config_option_there_is_no_path():
    with click.Context(cli) as context:
        context.invoke(cli.callback, config_path=None, lenient=False)
    assert context.obj.config_path is None
