"""The package reads as the architecture: a handful of top-level modules, one subpackage per
part of the lifecycle, and no module whose name repeats its folder (issue 22, ADR 0003)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import modelops_core

SRC = Path(modelops_core.__file__).resolve().parent
MAX_TOP_LEVEL_MODULES = 8
#: Prefixes that stood in for folders before the layout move.
DOMAIN_PREFIXES = (
    "dataset_",
    "evaluation_",
    "finetune_",
    "optimize_",
    "feature_",
    "pipeline_",
    "registry_",
)


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file())


def test_the_top_level_keeps_at_most_eight_modules():
    modules = sorted(path.name for path in SRC.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_no_module_name_carries_a_domain_prefix():
    prefixes = DOMAIN_PREFIXES + tuple(f"{package}_" for package in _packages())
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if path.parent != SRC
        and path.stem not in ("__init__", "__main__")
        and (path.stem.startswith(prefixes) or path.stem == path.parent.name)
    ]
    assert offenders == []


def test_every_part_of_the_lifecycle_has_its_package():
    expected = {"builtin", "cli", "datasets", "evaluation", "features", "finetune", "optimize"}
    expected |= {"pipeline", "plugins", "registry", "store", "testing", "tracking"}
    assert expected <= set(_packages())


def test_python_dash_m_modelops_core_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "modelops_core", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: modelops" in result.stdout


def test_the_default_plugins_are_one_tuple_and_the_entry_point_registers_them_all():
    import importlib

    from modelops_core import builtin

    hooks = set()
    for name in builtin.DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        hooks |= {attr for attr in vars(module) if attr.startswith("modelops_")}
    assert hooks
    assert hooks == {attr for attr in vars(builtin) if attr.startswith("modelops_")}


def test_every_public_name_is_still_importable_from_the_root_and_the_testing_kit():
    import modelops_core.testing
    from modelops_core.errors import ModelOpsError

    missing = []
    for name in modelops_core.__all__:
        try:
            getattr(modelops_core, name)
        except ModelOpsError:  # provided by a plugin that is not installed (the core-only run)
            continue
        except (AttributeError, ImportError):
            missing.append(name)
    missing += [
        f"testing.{name}"
        for name in modelops_core.testing.__all__
        if not hasattr(modelops_core.testing, name)
    ]
    assert missing == []
