"""Pytest fixtures for testing plugins without installing them (registered as ``pytest11``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from modelops_core.config import Config
from modelops_core.runtime import Runtime


def make_runtime(
    home: Path,
    plugins: Iterable[object | tuple[str, object]] = (),
    *,
    autoload: bool = False,
    config: Config | None = None,
    **runtime_options: Any,
) -> Runtime:
    """A runtime on the embedded default under ``home``, with only ``plugins`` registered.

    Installed plugins are not loaded unless ``autoload=True``; the environment is empty so
    ``MODELOPS_*`` variables of the calling shell cannot leak in.
    """
    return Runtime(
        config if config is not None else Config(home=home),
        plugins=plugins,
        autoload=autoload,
        environ=runtime_options.pop("environ", {}),
        **runtime_options,
    )


@pytest.fixture
def modelops_runtime(tmp_path: Path) -> Runtime:
    """A fresh runtime with no plugin loaded, its home in a temporary directory."""
    return make_runtime(tmp_path / ".modelops")


@pytest.fixture
def modelops_runtime_factory(tmp_path: Path) -> Callable[..., Runtime]:
    """``factory(plugins=[...], **options)`` builds runtimes under a temporary home."""

    def factory(plugins: Iterable[object | tuple[str, object]] = (), **options: Any) -> Runtime:
        return make_runtime(tmp_path / ".modelops", plugins, **options)

    return factory
