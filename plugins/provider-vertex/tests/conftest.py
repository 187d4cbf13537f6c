"""Fixtures: a Cloud Storage emulator (one per session), a stateful fake Vertex AI tuning API,
and a provider wired to both through the real SDKs.

Every fake records its exchanges in the session's :class:`ExchangeLog`; the session ends with
a check that no request or answer broke the Vertex AI rules except where a test asked for it
(``fake.expect_violations()``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_vertex.provider import VertexProvider
from modelops_provider_vertex.testing import (
    ExchangeLog,
    FakeVertex,
    GcsEmulator,
    preference_records,
    supervised_records,
    write_jsonl,
)

_BUCKETS = itertools.count()


@pytest.fixture(autouse=True)
def no_google_settings_from_the_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Credentials, projects and endpoints of the calling shell must not leak into tests;
    Application Default Credentials find nothing, fast (no metadata-server probe)."""
    for name in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "STORAGE_EMULATOR_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("no-gcloud-config")))


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    with GcsEmulator() as emulator:
        yield emulator


@pytest.fixture
def bucket(gcs_emulator: GcsEmulator) -> str:
    """A fresh, empty bucket in the emulator."""
    return gcs_emulator.create_bucket(f"tuning-data-{next(_BUCKETS)}")


@pytest.fixture(scope="session")
def exchange_log() -> Iterator[ExchangeLog]:
    """Every exchange of the session's fakes; none may break the rules unexpectedly."""
    log = ExchangeLog()
    yield log
    assert log.exchanges, "no exchange was recorded: the fakes are not wired to the log"
    assert not log.unexpected(), "exchanges outside the Vertex AI rules:\n" + log.report()


@pytest.fixture
def make_fake(
    gcs_emulator: GcsEmulator, exchange_log: ExchangeLog
) -> Iterator[Callable[..., FakeVertex]]:
    """``make_fake(**options)``: a strict fake reading the emulator, logged for the session;
    each one is checked for unexpected violations when the test ends."""
    made: list[FakeVertex] = []

    def build(**options: Any) -> FakeVertex:
        options.setdefault("gcs_reader", gcs_emulator.read)
        fake = FakeVertex(log=exchange_log, **options)
        made.append(fake)
        return fake

    yield build
    for fake in made:
        assert not fake.violations, [e.violations for e in fake.violations]


@pytest.fixture
def fake(make_fake: Callable[..., FakeVertex]) -> FakeVertex:
    return make_fake()


@pytest.fixture
def provider(fake: FakeVertex, bucket: str, gcs_emulator: GcsEmulator) -> Iterator[VertexProvider]:
    built = fake.provider(bucket=bucket, storage_endpoint=gcs_emulator.endpoint)
    yield built
    built.close()


@pytest.fixture
def training_file(tmp_path: Path) -> str:
    return write_jsonl(tmp_path / "train.jsonl", supervised_records())


@pytest.fixture
def preference_file(tmp_path: Path) -> str:
    return write_jsonl(tmp_path / "preference.jsonl", preference_records())
