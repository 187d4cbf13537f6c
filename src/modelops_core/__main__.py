"""``python -m modelops_core``: the ``modelops`` command, for when its script is not on PATH."""

from __future__ import annotations

import sys

from modelops_core.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
