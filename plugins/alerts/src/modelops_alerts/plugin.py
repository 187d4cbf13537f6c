"""The ``modelops-alerts`` plugin: declares its sinks with lazy ``"module:attr"`` factories.

Choose them with ``[alerts] sinks = ["log", { name = "webhook", url = "..." }]``.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_alert_sinks(registry: ComponentRegistrar) -> None:
    registry.add(
        "log",
        "modelops_alerts.log:LogFileSink",
        description="one JSON line per alert, appended to a file (default <home>/alerts.jsonl)",
    )
    registry.add(
        "webhook",
        "modelops_alerts.webhook:WebhookSink",
        description="POST each alert as JSON to a URL (retries 5xx and connection errors)",
    )
    registry.add(
        "slack",
        "modelops_alerts.webhook:SlackSink",
        description="Slack-compatible incoming-webhook messages (text + colored attachment)",
    )
    registry.add(
        "prometheus",
        "modelops_alerts.prometheus:PrometheusSink",
        description="Prometheus text exposition of monitor values and alert counts (a .prom file)",
    )
