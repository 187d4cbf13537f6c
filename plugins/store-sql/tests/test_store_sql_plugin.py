"""The plugin module stays cheap to import."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_plugin_imports_no_database_driver() -> None:
    code = (
        "import sys, modelops_store_sql.plugin; "
        "print(sorted(m for m in ('sqlite3', 'psycopg') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
