"""A moto S3 server process on 127.0.0.1, started once for these tests and stopped after."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

CREDENTIALS = {"access_key_id": "testing-key", "secret_access_key": "testing-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a ``python -m moto.server`` process."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except urllib.error.HTTPError:
            break  # the server answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"the moto server did not start on {url}: {error[-500:]}")
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def raw_s3(s3_endpoint: str) -> Iterator[Any]:
    """A plain boto3 client on the moto server, to look behind the store's back."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
    )
    yield client
    client.close()


@pytest.fixture
def bucket(raw_s3: Any) -> str:
    """A new, empty bucket on the moto server."""
    name = f"modelops-{uuid.uuid4().hex[:12]}"
    raw_s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def credentials() -> dict[str, str]:
    """The (fake) credentials the moto server accepts."""
    return dict(CREDENTIALS)
