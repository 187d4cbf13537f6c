"""Servers for plugin tests: a free port, a moto (fake AWS) server, a fresh PostgreSQL schema.

moto and psycopg are imported inside the functions that need them, so importing the testing
kit costs nothing when a plugin's tests use neither.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
"""The PostgreSQL the tests expect: local, trust authentication, database ``test``."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server(
    *, in_process: bool = False, host: str = "127.0.0.1", timeout: float = 30.0
) -> Iterator[str]:
    """Run a moto server (fake AWS over real HTTP) on a free port; yield its ``http://`` URL.

    By default ``python -m moto.server`` runs in a child process, stopped on exit. With
    ``in_process=True`` it runs in a thread of this process (``ThreadedMotoServer``), so a
    test can reach into moto's backends, e.g. to move a Bedrock job on, which moto never does
    by itself. Skips the calling test when ``moto[server]`` is not installed, and fails it
    when the server does not answer within ``timeout`` seconds.
    """
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = free_port(host)
    url = f"http://{host}:{port}"
    if in_process:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no log line per request
        threaded = server_module.ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        threaded.start()
        try:
            yield url
        finally:
            threaded.stop()
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_answering(url, process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``url`` until the server answers; fail the test if it exits or times out first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # an HTTP error is an answer: the server is up
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"the moto server did not start on {url}: {error[-500:]}")
            time.sleep(0.05)


def postgres_unavailable_reason(url: str = DEFAULT_POSTGRES_URL) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used here, or None when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'modelops-store-sql[postgres]')"
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {url} cannot be reached: {str(exc).strip()[:200]}"
    return None


def postgres_url_or_skip(url: str = DEFAULT_POSTGRES_URL) -> str:
    """``url`` when PostgreSQL answers there; otherwise skip the calling test, saying why."""
    reason = postgres_unavailable_reason(url)
    if reason:
        pytest.skip(reason)
    return url


@contextmanager
def fresh_postgres_schema(
    url: str = DEFAULT_POSTGRES_URL, *, prefix: str = "modelops_test"
) -> Iterator[str]:
    """Yield a new, unique schema name on ``url``; drop the schema (CASCADE) on exit.

    The schema is not created here: the store under test creates it on first use. Call
    :func:`postgres_url_or_skip` (or :func:`postgres_unavailable_reason`) first.
    """
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
