"""The runtime as an embedding platform sees it: event hooks, vetoes, no global state."""

from __future__ import annotations

import types

import pytest

from modelops_core import Runtime, hookimpl
from modelops_core.config import Config
from modelops_core.errors import VetoError


class AuditPlugin:
    """An embedding platform's audit trail and policy gate."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    @hookimpl
    def modelops_configure(self, config, runtime):
        self.events.append(("configure", runtime))

    @hookimpl
    def modelops_before_register(self, name, metadata):
        if "evaluation" not in metadata:
            return f"{name} has no evaluation results; evaluate it first"
        return None

    @hookimpl
    def modelops_on_alert(self, name, severity):
        self.events.append(("alert", (name, severity)))


def test_configure_is_called_once_with_the_runtime():
    audit = AuditPlugin()
    runtime = Runtime(Config(), plugins=[("audit", audit)], autoload=False, environ={})
    assert audit.events == [("configure", runtime)]


def test_a_veto_names_the_plugin_and_its_reason():
    runtime = Runtime(Config(), plugins=[("audit", AuditPlugin())], autoload=False, environ={})
    with pytest.raises(VetoError) as caught:
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert caught.value.plugin == "audit"
    assert "churn has no evaluation results" in str(caught.value)
    runtime.veto("modelops_before_register", name="churn", version="1.0",
                 metadata={"evaluation": {"f1": 0.9}})  # fmt: skip


def test_event_hooks_fan_out_to_every_plugin():
    first, second = AuditPlugin(), AuditPlugin()
    runtime = Runtime(Config(), plugins=[("a", first), ("b", second)], autoload=False, environ={})
    runtime.hook.modelops_on_alert(name="drift.psi", severity="warning", message="PSI 0.3",
                                   details={}, runtime=runtime)  # fmt: skip
    assert ("alert", ("drift.psi", "warning")) in first.events
    assert ("alert", ("drift.psi", "warning")) in second.events


def test_a_plugin_registered_later_is_configured_too():
    runtime = Runtime(Config(), autoload=False, environ={})
    audit = AuditPlugin()
    runtime.register_plugin(audit, "late")
    assert audit.events == [("configure", runtime)]


def test_registering_the_same_plugin_name_twice_is_refused():
    from modelops_core.errors import PluginRegistrationError

    runtime = Runtime(Config(), plugins=[("audit", AuditPlugin())], autoload=False, environ={})
    with pytest.raises(PluginRegistrationError, match="already registered"):
        runtime.register_plugin(types.SimpleNamespace(), "audit")
