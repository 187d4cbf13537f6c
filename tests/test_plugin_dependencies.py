"""Every first-party plugin declares each distribution its code imports.

An import of a package the plugin does not declare works in the workspace (another plugin
brought it in) and breaks for a user who installs the plugin alone. Optional extras count when
the import sits behind them (``[project.optional-dependencies]``, ``test`` and ``bench`` excepted
for code outside a testing module).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(path.parent for path in ROOT.glob("plugins/*/pyproject.toml"))


def normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@functools.cache
def providers_of_module_paths() -> dict[tuple[str, ...], frozenset[str]]:
    """Module path prefix (``("google", "cloud", "storage")``) -> the distributions shipping it."""
    found: dict[tuple[str, ...], set[str]] = {}
    for distribution in metadata.distributions():
        name = normalized(distribution.metadata["Name"] or "")
        for file in distribution.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            if file.suffix not in (".py", ".so", ".pyd") and not str(file).endswith(".pth"):
                continue
            module = (*parts[:-1], parts[-1].split(".")[0])
            for depth in range(1, min(len(module), 4) + 1):
                found.setdefault(module[:depth], set()).add(name)
    return {key: frozenset(value) for key, value in found.items()}


def distributions_of(module: str) -> frozenset[str]:
    parts = tuple(module.split("."))
    table = providers_of_module_paths()
    for depth in range(min(len(parts), 4), 0, -1):
        if parts[:depth] in table:
            return table[parts[:depth]]
    return frozenset()


def imported_modules(source: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def declared(project: dict[str, object], *, testing_module: bool) -> set[str]:
    from packaging.requirements import Requirement

    requirements = list(project.get("dependencies", []))  # type: ignore[call-overload]
    for extra, listed in dict(project.get("optional-dependencies", {})).items():  # type: ignore[call-overload]
        if testing_module or extra not in ("test", "bench"):
            requirements.extend(listed)
    return {normalized(Requirement(requirement).name) for requirement in requirements}


@pytest.mark.parametrize("plugin", PLUGINS, ids=[plugin.name for plugin in PLUGINS])
def test_plugin_declares_every_distribution_it_imports(plugin: Path) -> None:
    project = tomllib.loads((plugin / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    try:
        metadata.distribution(project["name"])
    except metadata.PackageNotFoundError:
        pytest.skip(f"{project['name']} is not installed (core-only environment)")
    own = {normalized(project["name"])}
    undeclared = []
    for source in sorted((plugin / "src").rglob("*.py")):
        allowed = own | declared(project, testing_module="testing" in source.stem)
        for module in sorted(imported_modules(source)):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            shipping = distributions_of(module)
            if shipping and not shipping & allowed:
                undeclared.append(
                    f"{source.relative_to(plugin)}: {module} ({', '.join(sorted(shipping))})"
                )
    assert not undeclared, f"declare in {plugin.name}/pyproject.toml:\n" + "\n".join(undeclared)
