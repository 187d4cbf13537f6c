"""modelops-sanitizers: dataset sanitizers for modelops-core.

The components (``pii``, ``strip_keys``, ``filter_by_length``, ``dedupe``) are registered by
:mod:`modelops_sanitizers.plugin`. The plain functions mirror the reference API for use without
a runtime and are imported on first use, so importing the package imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from modelops_sanitizers.basic import dedupe, filter_by_length, strip_keys
    from modelops_sanitizers.pii import redact_pii

_LAZY = {
    "dedupe": "modelops_sanitizers.basic",
    "filter_by_length": "modelops_sanitizers.basic",
    "strip_keys": "modelops_sanitizers.basic",
    "redact_pii": "modelops_sanitizers.pii",
}

__all__ = ["__version__", "dedupe", "filter_by_length", "redact_pii", "strip_keys"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelops_sanitizers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
