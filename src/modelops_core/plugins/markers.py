"""The marker pair of the ``modelops`` plugin project.

Plugins import :data:`hookimpl` from the package root (``from modelops_core import hookimpl``);
the core marks its specifications with :data:`hookspec`.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "modelops"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
