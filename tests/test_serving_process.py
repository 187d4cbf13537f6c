"""`modelops serve` as a real process: the issue's acceptance as written, and a server killed
with SIGKILL losing at most the last second of its request log (SQLite and PostgreSQL)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from modelops_core.config import load_config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.serving.traffic import unit_hash

pytest.importorskip("granian")
MODELOPS = str(Path(sys.executable).with_name("modelops"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def modelops(*args: str, cwd: Path) -> str:
    done = subprocess.run([MODELOPS, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Client:
    """One keep-alive HTTP connection to 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        version = response.getheader("x-modelops-version")
        if response.getheader("content-type", "").startswith("application/json"):
            return response.status, (version, json.loads(raw))
        return response.status, (version, raw.decode())

    def chat(self, unit: str) -> str:
        body = {"model": "ticket-router",
                "messages": [{"role": "user", "content": "my parcel has not arrived"}]}  # fmt: skip
        status, (version, answer) = self.call("POST", "/v1/chat/completions", body,
                                              **{"X-Modelops-Unit": unit})  # fmt: skip
        assert status == 200, answer
        assert answer["model"] == f"ticket-router/{version}"
        return str(version)


@pytest.fixture
def server_process() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)


def start_server(cwd: Path, started: list[subprocess.Popen[bytes]]) -> int:
    port = free_port()
    process = subprocess.Popen(
        [MODELOPS, "serve", "--port", str(port)], cwd=cwd, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    started.append(process)
    deadline = time.monotonic() + 30
    while True:
        try:
            status, _ = Client(port).call("GET", "/v2/health/ready")
            if status == 200:
                return port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            error = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"modelops serve did not become ready: {error[-2000:]}")
        time.sleep(0.1)


def chat_all(port: int, units: list[str]) -> list[str]:
    """Each unit's answering version, from 8 keep-alive connections."""
    local = threading.local()

    def one(unit: str) -> str:
        if not hasattr(local, "client"):
            local.client = Client(port)
        return local.client.chat(unit)  # type: ignore[no-any-return]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, units))


def logged_rows(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM modelops_requests").fetchone()[0])


def test_acceptance_as_written(tmp_path: Path, server_process: list[Any]) -> None:
    pytest.importorskip("modelops_provider_local")
    modelops("demo", "--examples", "300", "--epochs", "2", cwd=tmp_path)
    with ModelRegistry(Runtime(load_config(start=tmp_path))) as registry:
        artifact = registry.get_model("ticket-router", "1")
    assert "registered ticket-router 2" in modelops(
        "registry", "register", "ticket-router", artifact, cwd=tmp_path
    )
    modelops("registry", "alias", "set", "ticket-router", "candidate", "2", cwd=tmp_path)
    modelops("traffic", "set", "ticket-router", "production=80", "candidate=20", cwd=tmp_path)
    port = start_server(tmp_path, server_process)

    units = [f"customer-{i}" for i in range(2000)]
    first = chat_all(port, units)
    share = first.count("2") / len(units)
    assert 0.17 <= share <= 0.23, share
    deadline = time.monotonic() + 2
    while logged_rows(tmp_path / ".modelops" / "serving.db") < 2000:
        assert time.monotonic() < deadline, "the log did not get 2000 rows within 2 s"
        time.sleep(0.05)
    assert logged_rows(tmp_path / ".modelops" / "serving.db") == 2000

    assert chat_all(port, units) == first  # each unit sticks to its version
    metrics = Client(port).call("GET", "/metrics")[1][1]
    counts = {
        version: int(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        for version in ("1", "2")
        if line.startswith(f'modelops_requests_total{{model="ticket-router",version="{version}"')
    }
    assert counts == {"1": 2 * first.count("1"), "2": 2 * first.count("2")}


# --- a killed server -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def served_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    """A folder with modelops.toml and ``ticket-router`` 1 (production); the log's row count."""
    pytest.importorskip("modelops_flavor_sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["refund my card", "charged twice", "parcel is late", "where is my order"]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        texts, ["billing", "billing", "shipping", "shipping"]
    )
    if request.param == "sqlite":
        (tmp_path / "modelops.toml").write_text(f'home = "{tmp_path / "home"}"\n')
        schema = None
    else:
        from modelops_core.testing.servers import fresh_postgres_schema, postgres_url_or_skip

        url = postgres_url_or_skip()
        context = fresh_postgres_schema(url, prefix="modelops_serve_kill")
        schema = context.__enter__()
        request.addfinalizer(lambda: context.__exit__(None, None, None))
        (tmp_path / "modelops.toml").write_text(
            f'home = "{tmp_path / "home"}"\n[registry]\nbackend = "sql"\nurl = "{url}"\n'
            f'schema = "{schema}"\n'
        )
    with ModelRegistry(Runtime(load_config(tmp_path / "modelops.toml"))) as registry:
        registry.register("ticket-router", "1", model=model)
        registry.set_alias("ticket-router", "production", "1")

    def rows() -> set[str]:
        if schema is None:
            with sqlite3.connect(tmp_path / "home" / "serving.db") as connection:
                found = connection.execute("SELECT unit FROM modelops_requests").fetchall()
        else:
            import psycopg

            with psycopg.connect(url) as connection:
                found = connection.execute(
                    f'SELECT unit FROM "{schema}".modelops_requests'
                ).fetchall()
        return {row[0] for row in found}

    yield tmp_path, rows


def test_a_killed_server_loses_at_most_the_last_second_of_its_log(
    served_home: tuple[Path, Any], server_process: list[Any]
) -> None:
    folder, logged_units = served_home
    port = start_server(folder, server_process)
    answered: list[tuple[float, str]] = []
    stop = threading.Event()

    def send() -> None:
        client = Client(port)
        count = 0
        while not stop.is_set():
            count += 1
            try:
                client.chat(f"unit-{count}")
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            answered.append((time.monotonic(), f"unit-{count}"))

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(2.0)
    killed_at = time.monotonic()
    os.killpg(server_process[0].pid, signal.SIGKILL)
    server_process[0].wait(10)
    stop.set()
    sender.join(10)

    logged = logged_units()
    salt = "ticket-router"
    older = {unit_hash(salt, unit) for when, unit in answered if when < killed_at - 1.0}
    everything = {unit_hash(salt, unit) for _, unit in answered}
    assert len(older) > 50, "too few requests were answered to judge"
    assert older <= logged, f"{len(older - logged)} rows older than 1 s were lost"
    assert logged <= everything
