"""Fixtures for the bedrock provider: fake AWS credentials, strict mode, the fakes.

- **Strict mode** (``strict``, on for every test): an ``ExchangeRecorder`` on the shared boto3
  session checks every request and answer of every client built from it (bedrock and S3)
  against botocore's models; a test that makes or gets one outside the model fails, and the
  session asserts at the end that the whole run recorded none.
- ``fake``: a ``FakeBedrock`` (the customization API at the transport, following the model,
  scripted by scenarios); ``fake_bedrock`` is a client it answers.
- ``stub``: a ``StrictStubber`` (patterns, enums, status codes and headers enforced) for the
  tests that script single answers.
- a moto server (``ThreadedMotoServer`` on 127.0.0.1, a free port) for S3 only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bedrock_helpers import REGION, make_client, shared_session
from modelops_provider_bedrock.provider import BedrockProvider
from modelops_provider_bedrock.testing import ExchangeRecorder, FakeBedrock, StrictStubber

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


@pytest.fixture(scope="session", autouse=True)
def strict() -> Iterator[ExchangeRecorder]:
    """Strict mode for the whole run: every exchange of the shared session's clients checked
    against botocore's models; none may break them."""
    recorder = ExchangeRecorder()
    recorder.attach(shared_session())
    yield recorder
    assert not recorder.violations, "\n".join(str(v) for v in recorder.violations)


@pytest.fixture(autouse=True)
def no_spec_violations(strict: ExchangeRecorder) -> Iterator[None]:
    """Fail the test that made or received an exchange outside the model."""
    before = len(strict.violations)
    yield
    new = strict.violations[before:]
    assert not new, "exchanges outside the model:\n" + "\n".join(str(v) for v in new)


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    """A fresh fake Bedrock; its own answers must all follow the model."""
    built = FakeBedrock()
    yield built
    assert not built.violations, built.violations


@pytest.fixture
def fake_bedrock(fake: FakeBedrock) -> Any:
    """A ``bedrock`` client of the shared session answered by ``fake`` (no retries)."""
    return fake.client(shared_session())


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto server, started once and stopped at the end."""
    with moto_server(in_process=True) as url:
        yield url


@pytest.fixture
def bedrock() -> Any:
    """A ``bedrock`` client for the StrictStubber (nothing behind it)."""
    return make_client("bedrock")


@pytest.fixture
def stub(bedrock: Any) -> Iterator[Any]:
    """A StrictStubber on ``bedrock``; every response a test scripts must have been asked for."""
    with StrictStubber(bedrock) as stubber:
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
