"""The core's own plugin, registered through its entry point like any other plugin.

It declares the two text metrics of the reference module, ``exact_match`` and
``length_ratio``, the drift methods of the monitoring package (``ks``, ``wasserstein`` ...) and
the model flavors ``json``, ``bytes`` and ``numpy``, the pipeline steps (``dataset``,
``sanitize``, ``finetune``,
``evaluate``, ``gate``, ``register``, ``promote``); it routes every ``modelops_on_alert`` call
to the sinks of ``[alerts] sinks``. It can be disabled with
``[plugins] disable = ["modelops-core"]``.

The default plugins are the modules of :data:`DEFAULT_PLUGINS` (as pytest's
``default_plugins``); this package is their entry point (``modelops-core``) and
re-exports their hook implementations, so pluggy registers them as one plugin.
"""

from __future__ import annotations

from modelops_core.builtin.alerts import modelops_on_alert
from modelops_core.builtin.drift_tests import modelops_register_drift_tests
from modelops_core.builtin.flavors import modelops_register_model_flavors
from modelops_core.builtin.metrics import modelops_register_metrics
from modelops_core.builtin.steps import modelops_register_steps

#: The core's own plugins, registered through the ``modelops-core`` entry point.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "modelops_core.builtin.metrics",
    "modelops_core.builtin.steps",
    "modelops_core.builtin.drift_tests",
    "modelops_core.builtin.flavors",
    "modelops_core.builtin.alerts",
)

__all__ = [
    "DEFAULT_PLUGINS",
    "modelops_on_alert",
    "modelops_register_drift_tests",
    "modelops_register_metrics",
    "modelops_register_model_flavors",
    "modelops_register_steps",
]
