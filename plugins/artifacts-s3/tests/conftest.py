"""A moto S3 server process on 127.0.0.1, started once for these tests and stopped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from modelops_core.testing import moto_server

CREDENTIALS = {"access_key_id": "testing-key", "secret_access_key": "testing-secret"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a ``python -m moto.server`` process."""
    with moto_server() as url:
        yield url


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
