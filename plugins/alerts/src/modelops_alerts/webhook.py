"""The ``webhook`` and ``slack`` sinks: an alert as a JSON POST.

``webhook`` posts :meth:`Alert.to_dict` (``name``, ``severity``, ``message``, ``subject``,
``at``, ``details``). ``slack`` posts what Slack's incoming webhooks take (and Mattermost and
Rocket.Chat with them): ``text`` for notifications and one ``attachments`` entry colored by
severity, with the subject and details as fields. Both retry connection errors and 5xx answers
(``retries`` more times, waiting ``backoff`` seconds, doubled each time) and raise
:class:`AlertSinkError` naming the sink and the host, never the whole URL: a Slack URL's path is
its secret.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from modelops_core.config import mask_urls_in
from modelops_core.monitoring.alerts import Alert, AlertSinkError

COLORS = {"info": "#439FE0", "warning": "#E8A317", "critical": "#D00000"}
USER_AGENT = "modelops-alerts/0.1"


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"


class WebhookSink:
    """POSTs each alert as JSON to ``url``.

    :param url: an ``http://`` or ``https://`` URL.
    :param headers: extra request headers (e.g. an ``Authorization`` read with
        ``{ env = "NAME" }``).
    :param timeout: seconds per attempt.
    :param retries: further attempts after a connection error or a 5xx answer.
    :param backoff: seconds before the first retry (doubled each time).
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise AlertSinkError(
                f"alert sink {self.name!r}: url {mask_urls_in(url)!r} is not an http(s) URL"
            )
        if retries < 0 or timeout <= 0 or backoff < 0:
            raise AlertSinkError(
                f"alert sink {self.name!r}: use timeout > 0, retries >= 0 and backoff >= 0"
            )
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def payload(self, alert: Alert) -> dict[str, Any]:
        """The JSON body posted for ``alert``."""
        return alert.to_dict()

    def send(self, alert: Alert) -> None:
        body = json.dumps(self.payload(alert), ensure_ascii=False, allow_nan=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **self.headers}
        where = _target(self.url)
        wait = self.backoff
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, body, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read()
                return
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code} {exc.reason}"
                if exc.code < 500:
                    raise AlertSinkError(
                        f"alert sink {self.name!r}: {where} refused the alert ({problem}); "
                        "check the URL and its credentials"
                    ) from exc
            except (urllib.error.URLError, OSError) as exc:
                problem = mask_urls_in(str(getattr(exc, "reason", exc)))
            if attempt < self.retries:
                time.sleep(wait)
                wait *= 2
        raise AlertSinkError(
            f"alert sink {self.name!r}: cannot deliver to {where} after {self.retries + 1} "
            f"attempts ({problem}); check that the service is up and the URL is right"
        )


class SlackSink(WebhookSink):
    """Slack-compatible incoming-webhook messages.

    :param channel: overrides the webhook's channel (where the service allows it).
    :param username: the name shown as the sender.
    """

    name = "slack"

    def __init__(
        self,
        url: str,
        channel: str | None = None,
        username: str | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        super().__init__(url, timeout=timeout, retries=retries, backoff=backoff)
        self.channel = channel
        self.username = username

    def payload(self, alert: Alert) -> dict[str, Any]:
        fields = [{"title": "subject", "value": alert.subject or "-", "short": True},
                  {"title": "severity", "value": alert.severity, "short": True}]  # fmt: skip
        for key, value in alert.to_dict()["details"].items():
            if isinstance(value, str | int | float | bool) or value is None:
                fields.append({"title": key, "value": str(value), "short": True})
        message: dict[str, Any] = {
            "text": f"[{alert.severity.upper()}] {alert.name}: {alert.message}",
            "attachments": [
                {
                    "fallback": f"[{alert.severity.upper()}] {alert.name}: {alert.message}",
                    "color": COLORS[alert.severity],
                    "title": alert.name,
                    "text": alert.message,
                    "fields": fields,
                    **({"ts": int(alert.at)} if alert.at is not None else {}),
                }
            ],
        }
        if self.channel:
            message["channel"] = self.channel
        if self.username:
            message["username"] = self.username
        return message
