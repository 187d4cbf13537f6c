"""`import modelops_core` and `modelops --help` stay light: no heavy library, no plugin import;
building a runtime finds its plugins without importlib.metadata."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["numpy", "scipy", "openai", "boto3", "botocore", "google", "sqlalchemy", "redis", "dask",
         "pandas", "sklearn", "psycopg", "rich"]  # fmt: skip


def modules_after(code: str, cwd: Path | None = None) -> set[str]:
    """Every module imported by ``code`` in a fresh interpreter, plugin autoload on."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={"PATH": "", "MODELOPS_DISABLE_PLUGIN_AUTOLOAD": ""}, cwd=cwd,
    ).stdout.splitlines()[-1]  # fmt: skip
    return set(json.loads(output))


def imported_after(code: str) -> set[str]:
    return {name.split(".")[0] for name in modules_after(code)}


def test_import_modelops_core_imports_no_heavy_library():
    modules = imported_after("import modelops_core")
    assert not modules & set(HEAVY), modules & set(HEAVY)
    assert "click" not in modules
    assert "importlib.metadata" not in modules_after("import modelops_core")


def test_modelops_help_imports_no_heavy_library_and_no_plugin():
    modules = imported_after(
        "from modelops_core.cli.main import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    )
    assert not modules & set(HEAVY), modules & set(HEAVY)
    assert not {m for m in modules if m.startswith("modelops_") and m != "modelops_core"}
    full = modules_after(
        "from modelops_core.cli.main import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    )
    # the plugin machinery and pathlib (with urllib and ipaddress: ~15M instructions) wait for
    # a command that runs
    waiting = {"pathlib", "pluggy", "attrs", "modelops_core.plugins", "modelops_core.config"}
    assert not waiting & full, waiting & full


def test_building_a_runtime_reads_plugins_without_importlib_metadata(tmp_path):
    entries = subprocess.run(
        [sys.executable, "-c", "import os, sys; print(all(os.path.isdir(p or '.') "
         "or not os.path.exists(p) for p in sys.path))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert entries == "True", "the check needs a sys.path of directories only"
    modules = modules_after(
        "from modelops_core.runtime import Runtime\n"
        "assert 'modelops-core' in [p.name for p in Runtime().plugins]",
        cwd=tmp_path,
    )
    assert "importlib.metadata" not in modules
    assert not {name for name in modules if name.split(".")[0] == "email"}
