"""modelops-core: a small, fast, plugin-first core for the LLM/ML model lifecycle.

Importing the package does no I/O and imports no heavy library; names other than the hook
markers are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelops_core._version import __version__
from modelops_core.markers import hookimpl, hookspec

if TYPE_CHECKING:
    from modelops_core.components import ComponentRegistrar, ComponentSpec
    from modelops_core.config import ComponentChoice, Config, load_config
    from modelops_core.errors import (
        ComponentError,
        ConfigError,
        ModelOpsError,
        PluginError,
        VetoError,
    )
    from modelops_core.evaluation import Evaluator
    from modelops_core.kinds import Kind
    from modelops_core.plugins import PluginInfo
    from modelops_core.runtime import Runtime
    from modelops_core.text_metrics import exact_match_metric, length_ratio_metric

_LAZY = {
    "ComponentRegistrar": "modelops_core.components",
    "ComponentSpec": "modelops_core.components",
    "ComponentChoice": "modelops_core.config",
    "Config": "modelops_core.config",
    "load_config": "modelops_core.config",
    "ComponentError": "modelops_core.errors",
    "ConfigError": "modelops_core.errors",
    "ModelOpsError": "modelops_core.errors",
    "PluginError": "modelops_core.errors",
    "VetoError": "modelops_core.errors",
    "Evaluator": "modelops_core.evaluation",
    "Kind": "modelops_core.kinds",
    "PluginInfo": "modelops_core.plugins",
    "Runtime": "modelops_core.runtime",
    "exact_match_metric": "modelops_core.text_metrics",
    "length_ratio_metric": "modelops_core.text_metrics",
}

__all__ = [
    "ComponentChoice",
    "ComponentError",
    "ComponentRegistrar",
    "ComponentSpec",
    "Config",
    "ConfigError",
    "Evaluator",
    "Kind",
    "ModelOpsError",
    "PluginError",
    "PluginInfo",
    "Runtime",
    "VetoError",
    "__version__",
    "exact_match_metric",
    "hookimpl",
    "hookspec",
    "length_ratio_metric",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelops_core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
