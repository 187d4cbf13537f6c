"""A test's own project folder, as the CLI tests use it: the working directory is a fresh
folder and no ``MODELOPS_*`` variable of the caller's shell chooses the config or plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

#: the variables that would make a test read another config or load other plugins
SELECTION_VARIABLES = (
    "MODELOPS_CONFIG",
    "MODELOPS_LOAD_PLUGINS",
    "MODELOPS_DISABLE_PLUGIN_AUTOLOAD",
)


def enter_project(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``folder`` the working directory, with the selection variables unset."""
    monkeypatch.chdir(folder)
    for name in SELECTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return folder
