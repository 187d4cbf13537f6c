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


class Gate:
    """A policy gate that answers with a fixed reason (None allows) and notes who was asked."""

    def __init__(self, name: str, reason: str | None, asked: list[str]) -> None:
        self.name, self.reason, self.asked = name, reason, asked

    @hookimpl
    def modelops_before_register(self, name):
        self.asked.append(self.name)
        return self.reason


def gated_runtime(*gates: Gate, environ: dict[str, str] | None = None) -> Runtime:
    """A runtime with ``gates`` registered in order (pluggy asks the last registered first)."""
    plugins = [(gate.name, gate) for gate in gates]
    return Runtime(Config(), plugins=plugins, autoload=False, environ=environ or {})


def test_the_before_hook_stops_at_the_first_reason():
    asked: list[str] = []
    runtime = gated_runtime(Gate("c", "c says no", asked), Gate("b", "b says no", asked),
                            Gate("a", None, asked))  # fmt: skip
    answer = runtime.hook.modelops_before_register(name="churn", version="1.0", metadata={},
                                                   runtime=runtime)  # fmt: skip
    assert answer == "b says no"
    assert asked == ["a", "b"]


def test_a_veto_names_the_plugin_that_refused_among_several():
    asked: list[str] = []
    runtime = gated_runtime(Gate("c", "c says no", asked), Gate("b", "b says no", asked),
                            Gate("a", None, asked))  # fmt: skip
    with pytest.raises(VetoError) as caught:
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert (caught.value.plugin, caught.value.reason) == ("b", "b says no")
    assert str(caught.value) == "Refused by plugin 'b' (modelops_before_register): b says no"
    assert "c" not in asked  # stops at the first reason


def test_a_veto_with_every_gate_allowing_passes():
    asked: list[str] = []
    runtime = gated_runtime(Gate("b", None, asked), Gate("a", None, asked))
    runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert asked == ["a", "b"]


def test_a_wrapper_sees_the_answer_of_the_gates():
    class Audit:
        def __init__(self) -> None:
            self.answers: list[tuple[str, object]] = []

        @hookimpl(wrapper=True)
        def modelops_before_register(self, name):
            answer = yield
            self.answers.append((name, answer))
            return answer

    audit = Audit()
    runtime = Runtime(Config(), plugins=[("audit", audit), ("gate", Gate("gate", "no", []))],
                      autoload=False, environ={})  # fmt: skip
    with pytest.raises(VetoError, match="Refused by plugin 'gate'"):
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert audit.answers == [("churn", "no")]


def test_a_wrapper_alone_can_refuse_and_is_named():
    class Freeze:
        @hookimpl(wrapper=True)
        def modelops_before_register(self):
            yield
            return "registrations are frozen until Monday"

    runtime = Runtime(Config(), plugins=[("freeze", Freeze())], autoload=False, environ={})
    with pytest.raises(VetoError) as caught:
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert (caught.value.plugin, caught.value.reason) == (
        "freeze", "registrations are frozen until Monday")  # fmt: skip


def test_a_gate_that_changes_its_mind_is_named_among_the_candidates():
    class Once:
        """Refuses the first time only: the runtime cannot tell which gate refused."""

        def __init__(self) -> None:
            self.refused = False

        @hookimpl
        def modelops_before_register(self):
            if self.refused:
                return None
            self.refused = True
            return "quota exceeded"

    runtime = gated_runtime(Gate("b", None, []), environ={})
    runtime.register_plugin(Once(), "once")
    with pytest.raises(VetoError) as caught:
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert caught.value.plugin == "once, b"
    assert str(caught.value) == (
        "Refused by one of the plugins 'once', 'b' (modelops_before_register): quota exceeded"
    )


def test_a_veto_is_traced_like_every_hook_call(capsys):
    runtime = gated_runtime(Gate("gate", None, []), environ={"MODELOPS_TRACE_PLUGINS": "1"})
    capsys.readouterr()
    runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert "modelops_before_register" in capsys.readouterr().err


def test_only_before_hooks_can_veto():
    runtime = Runtime(Config(), autoload=False, environ={})
    with pytest.raises(ValueError, match="'modelops_after_register' is not a modelops_before_"):
        runtime.veto("modelops_after_register", name="churn", version="1.0", metadata={})


def test_every_before_hook_stops_at_the_first_result():
    runtime = Runtime(Config(), autoload=False, environ={})
    before = [name for name in dir(runtime.hook) if name.startswith("modelops_before_")]
    assert "modelops_before_register" in before
    for name in before:
        assert getattr(runtime.hook, name).spec.opts["firstresult"] is True, name


def test_plain_namespace_plugins_are_told_apart_too():
    """Plugins pluggy cannot hash (a SimpleNamespace) are asked alone on a private manager."""
    configured: list[str] = []

    def plugin(name: str, reason: str | None) -> types.SimpleNamespace:
        @hookimpl
        def modelops_configure():
            configured.append(name)

        @hookimpl
        def modelops_before_register():
            return reason

        return types.SimpleNamespace(modelops_configure=modelops_configure,
                                     modelops_before_register=modelops_before_register)  # fmt: skip

    runtime = Runtime(Config(), plugins=[("strict", plugin("strict", "no")),
                                         ("lenient", plugin("lenient", None))],
                      autoload=False, environ={})  # fmt: skip
    runtime.register_plugin(plugin("late", None), "late")
    assert configured == ["lenient", "strict", "late"]
    with pytest.raises(VetoError) as caught:
        runtime.veto("modelops_before_register", name="churn", version="1.0", metadata={})
    assert (caught.value.plugin, caught.value.reason) == ("strict", "no")
