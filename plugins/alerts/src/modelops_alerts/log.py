"""The ``log`` sink: one JSON object per alert, appended to a JSONL file.

Each alert is one ``write`` of one whole line to a file opened with ``O_APPEND``, so processes
that alert at the same time never interleave or overwrite each other's lines.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from modelops_core.monitoring.alerts import Alert, AlertSinkError


class LogFileSink:
    """Appends alerts to ``path`` (relative paths are taken under the runtime's home).

    :param path: the JSONL file, ``alerts.jsonl`` by default.
    """

    name = "log"

    def __init__(self, path: str = "alerts.jsonl", home: str = ".modelops") -> None:
        target = Path(path)
        self.path = target if target.is_absolute() else Path(home) / target

    def send(self, alert: Alert) -> None:
        record = {"logged_at": time.time(), **alert.to_dict()}
        line = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(descriptor, line)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise AlertSinkError(
                f"alert sink 'log' cannot append to {self.path} ({exc.strerror or exc}); "
                'choose a writable path with [alerts] sinks = [{ name = "log", path = ... }]'
            ) from exc
        if written != len(line):
            raise AlertSinkError(
                f"alert sink 'log' wrote {written} of {len(line)} bytes to {self.path} (disk "
                "full?); free space and check the last line of the file"
            )
