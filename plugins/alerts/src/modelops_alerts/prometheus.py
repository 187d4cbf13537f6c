"""The ``prometheus`` sink: monitor values and alert counts in Prometheus' text exposition
format, in a ``.prom`` file that node_exporter's textfile collector (or any web server) serves.

Each value :class:`~modelops_core.monitoring.alerts.MonitorValue` ``latency_p95_ms`` becomes
the gauge ``modelops_monitor_latency_p95_ms`` with the value's labels; each alert adds one to
``modelops_alerts_total{name, severity}`` and sets
``modelops_alert_last_timestamp_seconds{name, subject, severity}``. The series live in a JSON
file next to the ``.prom`` file, so values published by separate processes (one per
``modelops monitor health`` run) accumulate; both files are rewritten under a lock and replaced
atomically, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelops_core.monitoring.alerts import Alert, AlertSinkError, MonitorValue

PREFIX = "modelops_monitor_"
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def metric_name(name: str) -> str:
    """``name`` made a valid Prometheus metric name (other characters become ``_``)."""
    cleaned = _INVALID.sub("_", name)
    return cleaned if re.match(r"[a-zA-Z_:]", cleaned) else f"_{cleaned}"


def _label_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name).replace(":", "_")
    return cleaned if re.match(r"[a-zA-Z_]", cleaned) else f"_{cleaned}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def exposition(series: Mapping[str, Any]) -> str:
    """The text exposition of ``series`` (``{"metrics": {name: {help, type, samples}}}``)."""
    lines = []
    for name in sorted(series["metrics"]):
        metric = series["metrics"][name]
        lines.append(f"# HELP {name} {_escape(metric['help'])}")
        lines.append(f"# TYPE {name} {metric['type']}")
        for key in sorted(metric["samples"]):
            labels = json.loads(key)
            text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
            value = metric["samples"][key]
            lines.append(f"{name}{{{text}}} {_number(value if value is not None else math.nan)}")
    return "\n".join(lines) + "\n"


class PrometheusSink:
    """Writes the exposition to ``path`` (relative paths are taken under the runtime's home).

    :param path: the ``.prom`` file, ``metrics/modelops.prom`` by default.
    """

    name = "prometheus"

    def __init__(self, path: str = "metrics/modelops.prom", home: str = ".modelops") -> None:
        target = Path(path)
        self.path = target if target.is_absolute() else Path(home) / target
        self.state = self.path.with_name(self.path.name + ".json")

    def publish(self, values: Sequence[MonitorValue]) -> None:
        with self._series() as series:
            for value in values:
                name = metric_name(PREFIX + value.name)
                metric = series["metrics"].setdefault(
                    name, {"help": value.help or value.name, "type": "gauge", "samples": {}}
                )
                key = json.dumps(
                    {_label_name(k): str(v) for k, v in value.labels.items()}, sort_keys=True
                )
                metric["samples"][key] = None if math.isnan(value.value) else float(value.value)

    def send(self, alert: Alert) -> None:
        with self._series() as series:
            total = series["metrics"].setdefault(
                "modelops_alerts_total",
                {"help": "alerts sent, by name and severity", "type": "counter", "samples": {}},
            )
            key = json.dumps({"name": alert.name, "severity": alert.severity}, sort_keys=True)
            total["samples"][key] = total["samples"].get(key, 0) + 1
            last = series["metrics"].setdefault(
                "modelops_alert_last_timestamp_seconds",
                {"help": "when an alert last held (Unix seconds)", "type": "gauge", "samples": {}},
            )
            key = json.dumps(
                {"name": alert.name, "subject": alert.subject, "severity": alert.severity},
                sort_keys=True,
            )
            last["samples"][key] = alert.at

    def text(self) -> str:
        """The exposition as it is now (empty when nothing was published)."""
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    @contextmanager
    def _series(self) -> Iterator[dict[str, Any]]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.with_name(self.path.name + ".lock").open("a+b") as lock:
                import fcntl

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                series = self._read()
                yield series
                self._replace(self.state, json.dumps(series, sort_keys=True))
                self._replace(self.path, exposition(series))
        except OSError as exc:
            raise AlertSinkError(
                f"alert sink 'prometheus' cannot write {self.path} ({exc.strerror or exc}); "
                'choose a writable path with [alerts] sinks = [{ name = "prometheus", path = ... }]'
            ) from exc

    def _read(self) -> dict[str, Any]:
        try:
            series = json.loads(self.state.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"metrics": {}}
        except ValueError as exc:
            aside = self.state.with_name(self.state.name + ".corrupt")
            os.replace(self.state, aside)
            raise AlertSinkError(
                f"alert sink 'prometheus': {self.state} is not valid JSON ({exc}); it was moved "
                f"to {aside} and the next write starts the series afresh"
            ) from exc
        if not isinstance(series, dict) or not isinstance(series.get("metrics"), dict):
            return {"metrics": {}}
        return series

    @staticmethod
    def _replace(path: Path, text: str) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
