"""The core's router of alerts: every ``modelops_on_alert`` call goes to the sinks chosen by
``[alerts] sinks`` (components of the ``alert_sink`` kind). It runs after the other plugins'
implementations (``trylast``), and a sink that fails becomes a warning naming it, so a broken
webhook never stops a monitor or the other sinks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelops_core.plugins.markers import hookimpl

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime


@hookimpl(trylast=True)
def modelops_on_alert(
    name: str, severity: str, message: str, details: Mapping[str, Any], runtime: Runtime
) -> None:
    if not runtime.config.alert_sinks:
        return
    from modelops_core.monitoring.alerts import route

    route(runtime, name, severity, message, details)
