"""What importing a module costs: the packages a fresh interpreter loads for it."""

from __future__ import annotations

import json
import subprocess
import sys


def packages_imported_by(code: str) -> frozenset[str]:
    """The top-level packages loaded after running ``code`` in a fresh Python interpreter.

    For the test that keeps a plugin module cheap to import (habit 6)::

        assert not packages_imported_by("import acme_metrics.plugin") & {"numpy", "torch"}

    The interpreter is this one (``sys.executable``) with this process's environment.
    """
    probe = f"{code}\nimport json as _json, sys as _sys\nprint(_json.dumps(sorted(_sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return frozenset(name.split(".")[0] for name in json.loads(output.splitlines()[-1]))
