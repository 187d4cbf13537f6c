"""The kinds of component a plugin can register, and where each one is chosen."""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """A kind of component. Each kind has one registration hook, ``modelops_register_<kind>s``."""

    METRIC = "metric"
    PROVIDER = "provider"
    SANITIZER = "sanitizer"
    REGISTRY_BACKEND = "registry_backend"
    ARTIFACT_STORE = "artifact_store"
    FEATURE_STORE = "feature_store"
    OPTIMIZER = "optimizer"
    DRIFT_TEST = "drift_test"
    ENGINE = "engine"
    STEP = "step"
    ALERT_SINK = "alert_sink"
    MODEL_FLAVOR = "model_flavor"

    @property
    def hook_name(self) -> str:
        """The registration hook of this kind, e.g. ``modelops_register_metrics``."""
        return f"modelops_register_{self.value}s"

    @property
    def plural(self) -> str:
        """The plural used in tables and the CLI, e.g. ``metrics``."""
        return f"{self.value}s"

    @classmethod
    def from_hook_name(cls, hook_name: str) -> Kind | None:
        """The kind registered by ``hook_name``, or None if it is not a registration hook."""
        for kind in cls:
            if kind.hook_name == hook_name:
                return kind
        return None
