"""Fixtures: a Cloud Storage emulator (one per session), a stateful fake Vertex AI tuning API,
and a provider wired to both through the real SDKs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops_provider_vertex.provider import VertexProvider
from modelops_provider_vertex.testing import (
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


@pytest.fixture
def fake(gcs_emulator: GcsEmulator) -> FakeVertex:
    return FakeVertex(gcs_reader=gcs_emulator.read)


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
