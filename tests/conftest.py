"""Fixtures for the core's tests: real installed-looking distributions on a temporary path."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class FakeSite:
    """A directory on ``sys.path`` where tests create real ``.dist-info`` distributions.

    ``importlib.metadata`` discovers them exactly as it discovers pip-installed packages.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(
        self,
        distribution: str,
        module: str,
        source: str,
        *,
        version: str = "1.0.0",
        entry_point_name: str | None = None,
        requires: tuple[str, ...] = (),
    ) -> None:
        """Create ``module.py`` with ``source`` and a distribution whose entry point names it."""
        (self.root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist_info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        metadata = ["Metadata-Version: 2.1", f"Name: {distribution}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {line}" for line in requires]
        (dist_info / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
        name = entry_point_name or distribution
        (dist_info / "entry_points.txt").write_text(
            f"[modelops]\n{name} = {module}\n", encoding="utf-8"
        )
        self.modules.append(module)


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """A :class:`FakeSite` on ``sys.path`` for this test only."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    fake = FakeSite(site)
    yield fake
    for module in fake.modules:
        sys.modules.pop(module, None)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Module names unique to the test, so sys.modules never leaks between tests."""
    counter = iter(range(1_000_000))

    def make(stem: str) -> str:
        return f"{stem}_{id(counter)}_{next(counter)}"

    return make


@pytest.fixture
def provider_plugins() -> None:
    """Skip a test of provider-specific dataset rules (limits, export shapes) when the provider
    plugins that declare them are not installed: the core alone knows no provider."""
    for module in (
        "modelops_provider_openai",
        "modelops_provider_vertex",
        "modelops_provider_bedrock",
        "modelops_provider_local",
    ):
        pytest.importorskip(module, reason="the provider plugins declare these dataset rules")
