"""`import modelops_core` and `modelops --help` stay light: no heavy library, no plugin import."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["numpy", "scipy", "openai", "boto3", "botocore", "google", "sqlalchemy", "redis", "dask",
         "pandas", "sklearn", "psycopg", "rich"]  # fmt: skip


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={"PATH": "", "MODELOPS_DISABLE_PLUGIN_AUTOLOAD": ""},
    ).stdout.splitlines()[-1]  # fmt: skip
    return {name.split(".")[0] for name in json.loads(output)}


def test_import_modelops_core_imports_no_heavy_library():
    modules = imported_after("import modelops_core")
    assert not modules & set(HEAVY), modules & set(HEAVY)
    assert "click" not in modules


def test_modelops_help_imports_no_heavy_library_and_no_plugin():
    modules = imported_after(
        "from modelops_core.cli.main import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    )
    assert not modules & set(HEAVY), modules & set(HEAVY)
    assert not {m for m in modules if m.startswith("modelops_") and m != "modelops_core"}
