"""A real ``modelops serve`` app on 127.0.0.1 for the serving tests: uvicorn in a thread on a
free port, and a client over ``http.client``."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any

import uvicorn

from modelops_core.serving.app import ServingApp


class Server:
    """A uvicorn server running ``app`` on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: ServingApp) -> None:
        self.app = app
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        kind = response.getheader("content-type", "")
        payload = json.loads(raw) if kind.startswith("application/json") else raw.decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def chat(self, model: str, text: str, **headers: str) -> tuple[int, dict[str, str], Any]:
        body = {"model": model, "messages": [{"role": "user", "content": text}]}
        return self.call("POST", "/v1/chat/completions", body, _headers(headers))

    def wait_ready(self, timeout: float = 20) -> dict[str, Any]:
        """Readiness once nothing is loading any more (ready, or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, payload = self.call("GET", "/v2/health/ready")
            settled = (
                "registry" not in payload["problems"]  # the first read of the registry is done
                and "loading" not in payload["models"].values()
            )
            if status == 200 or settled or time.monotonic() > deadline:
                return {"status": status, **payload}
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _headers(given: dict[str, str]) -> dict[str, str]:
    return {key.replace("_", "-"): value for key, value in given.items()}
