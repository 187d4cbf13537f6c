"""Fixtures for the bedrock provider: fake AWS credentials, a moto server, a bucket.

The moto server (``ThreadedMotoServer`` on 127.0.0.1, a free port) serves S3 and the Bedrock
customization API over real HTTP; it runs in this process so a test can move a job on
(``bedrock_helpers.set_moto_job_status``), which moto never does by itself. botocore's
``Stubber`` serves the status lifecycle and errors: it checks our requests against the real
service model.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import REGION, make_client
from botocore.stub import Stubber
from modelops_provider_bedrock.provider import BedrockProvider

from modelops_core.testing import moto_server


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Fake credentials and a region; no real ~/.aws files, no instance-metadata lookups."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto server, started once and stopped at the end."""
    with moto_server(in_process=True) as url:
        yield url


@pytest.fixture
def bedrock() -> Any:
    """A ``bedrock`` client for botocore's Stubber (no moto behind it)."""
    return make_client("bedrock")


@pytest.fixture
def stub(bedrock: Any) -> Iterator[Any]:
    """A Stubber on ``bedrock``; every response a test scripts must have been asked for."""
    with Stubber(bedrock) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def provider(bedrock: Any, stub: Any) -> BedrockProvider:
    """A provider whose Bedrock is the stubbed client (test modules may override it)."""
    return BedrockProvider(region="us-east-1", bedrock_client=bedrock)


@pytest.fixture
def s3(moto_url: str) -> Any:
    """An S3 client on the moto server, to look behind the provider's back."""
    return make_client("s3", moto_url)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket on the moto server."""
    name = f"modelops-bedrock-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
