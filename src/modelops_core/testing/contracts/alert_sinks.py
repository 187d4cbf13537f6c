"""The contract suite of alert sinks (``modelops_register_alert_sinks``).

An alert sink offers ``name`` and ``send(alert)`` (an
:class:`~modelops_core.monitoring.alerts.Alert`), raising
:class:`~modelops_core.monitoring.alerts.AlertSinkError` when it cannot deliver, and may offer
``publish(values)`` (:class:`~modelops_core.monitoring.alerts.MonitorValue` items). A plugin's
suite says how to read back what the sink delivered (:meth:`AlertSinkContract.delivered`) and
how to build one that cannot deliver (:meth:`AlertSinkContract.broken_options`).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest

from modelops_core.config import ComponentChoice, Config
from modelops_core.monitoring.alerts import (
    Alert,
    AlertDeliveryWarning,
    AlertManager,
    AlertSinkError,
    MonitorValue,
)
from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.contracts.base import ComponentContract
from modelops_core.testing.fixtures import make_runtime

EXAMPLE = Alert(
    "health.burn_rate.availability",
    "critical",
    "m/1: availability SLO of 99.9% burns 20.0x over 1h and 18.0x over 5m — ünïcode ✓",
    subject="m/1",
    at=1_767_225_600.0,
    details={"long_burn_rate": 20.0, "short_burn_rate": 18.0, "windows": ["1h", "5m"]},
)


class AlertSinkContract(ComponentContract):
    """Delivers an alert whole (name, severity, message, subject, details); a sink that cannot
    deliver raises AlertSinkError naming itself; ``publish`` takes NaN values; alerts fired
    through ``modelops_on_alert`` reach it when ``[alerts] sinks`` names it, and a failing one
    becomes a warning, not a crash."""

    kind = Kind.ALERT_SINK

    def delivered(self, component: Any, tmp_path: Path) -> list[dict[str, Any]]:
        """What the sink delivered so far, one dict per alert with at least ``name``,
        ``severity`` and ``subject``, and ``message`` where the sink keeps it (override: read
        the file, the server ...)."""
        raise NotImplementedError("the suite of an alert sink says how to read what it sent")

    def broken_options(self, tmp_path: Path) -> dict[str, Any]:
        """Options that make delivery fail (an unreachable URL, an unwritable path)."""
        raise NotImplementedError("the suite of an alert sink says how to make it fail")

    def test_it_declares_a_name_and_send(self, component: Any) -> None:
        assert isinstance(component.name, str) and component.name
        assert callable(component.send)

    def test_it_delivers_an_alert_whole(self, component: Any, tmp_path: Path) -> None:
        component.send(EXAMPLE)
        component.send(Alert("drift.ks", "warning", "drift in column 'age'", subject="age"))
        delivered = {d["name"]: d for d in self.delivered(component, tmp_path)}
        assert sorted(delivered) == ["drift.ks", "health.burn_rate.availability"]
        burn, drift = delivered["health.burn_rate.availability"], delivered["drift.ks"]
        assert (burn["severity"], burn["subject"]) == ("critical", "m/1")
        assert (drift["severity"], drift["subject"]) == ("warning", "age")
        if "message" in burn:  # a sink of values (Prometheus) keeps no message
            assert burn["message"] == EXAMPLE.message

    def test_a_sink_that_cannot_deliver_raises_alert_sink_error(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        broken = runtime.create(self.kind, self.component_name, **self.broken_options(tmp_path))
        with pytest.raises(AlertSinkError, match=self.component_name):
            broken.send(EXAMPLE)

    def test_publish_takes_values_when_offered(self, component: Any) -> None:
        publish = getattr(component, "publish", None)
        if publish is None:
            pytest.skip("this sink does not export values")
        publish(
            [
                MonitorValue("latency_p95_ms", 120.5, {"subject": "m/1", "window": "5m"}),
                MonitorValue("error_rate", math.nan, {"subject": "m/1", "window": "5m"}),
            ]
        )

    def _runtime_with(self, tmp_path: Path, options: dict[str, Any]) -> Runtime:
        from modelops_core import builtin

        name = self.distribution or getattr(self.plugin, "__name__", "plugin-under-test")
        choice = ComponentChoice(self.component_name, options, where="test [alerts] sinks")
        config = Config(home=tmp_path / ".modelops", alert_sinks=(choice,))
        return make_runtime(
            tmp_path / ".modelops", [("modelops-core", builtin), (name, self.plugin)], config=config
        )

    def test_alerts_fired_through_the_hook_reach_the_sink(self, tmp_path: Path) -> None:
        options = self.component_options(tmp_path)
        runtime = self._runtime_with(tmp_path, options)
        manager = AlertManager(runtime, window=3600)
        first = manager.fire([EXAMPLE, EXAMPLE])
        assert [d.fired for d in first] == [True, False]
        component = runtime.create(self.kind, self.component_name, **options)
        assert [d["name"] for d in self.delivered(component, tmp_path)] == [EXAMPLE.name]

    def test_a_failing_sink_is_a_warning_and_the_alert_is_tried_again(self, tmp_path: Path) -> None:
        runtime = self._runtime_with(tmp_path, self.broken_options(tmp_path))
        manager = AlertManager(runtime, window=3600)
        with pytest.warns(AlertDeliveryWarning, match=self.component_name):
            (delivery,) = manager.fire([EXAMPLE])
        assert delivery.fired and delivery.failed == (self.component_name,)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            (again,) = manager.fire([EXAMPLE])
        assert again.fired, "an alert no sink delivered is not a duplicate"
