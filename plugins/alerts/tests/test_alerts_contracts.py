"""Every sink of modelops-alerts passes the alert-sink contract suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import modelops_alerts.plugin
import pytest

from modelops_core.testing import AlertSinkContract, free_port


class _Suite(AlertSinkContract):
    plugin = modelops_alerts.plugin
    distribution = "modelops-alerts"


class TestLogSink(_Suite):
    component_name = "log"

    def delivered(self, component: Any, tmp_path: Path) -> list[dict[str, Any]]:
        path = tmp_path / ".modelops" / "alerts.jsonl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def broken_options(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        return {"path": str(blocker / "alerts.jsonl")}


class _HttpSuite(_Suite):
    @pytest.fixture(autouse=True)
    def _server(self, receiver: Any) -> None:
        self.receiver = receiver

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"{self.receiver.url}/hooks/T000/B000/secret-token", "backoff": 0.01}

    def broken_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"http://127.0.0.1:{free_port()}/hooks/secret-token", "retries": 0}


class TestWebhookSink(_HttpSuite):
    component_name = "webhook"

    def delivered(self, component: Any, tmp_path: Path) -> list[dict[str, Any]]:
        return [post["body"] for post in self.receiver.posts]


class TestSlackSink(_HttpSuite):
    component_name = "slack"

    def delivered(self, component: Any, tmp_path: Path) -> list[dict[str, Any]]:
        found = []
        for post in self.receiver.posts:
            attachment = post["body"]["attachments"][0]
            fields = {field["title"]: field["value"] for field in attachment["fields"]}
            found.append(
                {
                    "name": attachment["title"],
                    "severity": fields["severity"],
                    "message": attachment["text"],
                    "subject": fields["subject"],
                }
            )
        return found


class TestPrometheusSink(_Suite):
    component_name = "prometheus"

    def delivered(self, component: Any, tmp_path: Path) -> list[dict[str, Any]]:
        from prometheus_client.parser import text_string_to_metric_families

        text = (tmp_path / ".modelops" / "metrics" / "modelops.prom").read_text()
        families = {family.name: family for family in text_string_to_metric_families(text)}
        return [
            dict(sample.labels)
            for sample in families["modelops_alert_last_timestamp_seconds"].samples
        ]

    def broken_options(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        return {"path": str(blocker / "modelops.prom")}
