"""Training files are staged in Cloud Storage (the emulator): resumable chunks, checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_vertex.provider import VertexProvider
from modelops_provider_vertex.staging import CHUNK_QUANTUM, check_chunk_size, object_name
from modelops_provider_vertex.testing import (
    FakeVertex,
    GcsEmulator,
    supervised_records,
    write_jsonl,
)

from modelops_core.finetune.provider_contract import ProviderRejectedError, TuningRequest

MODEL = "gemini-2.5-flash"


def record_storage_requests(provider: VertexProvider, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs the storage client requests from now on (its HTTP session, observed)."""
    urls: list[str] = []
    session = provider.storage_client._http
    original = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        urls.append(f"{method} {url}")
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", request)
    return urls


def test_a_file_over_8_mib_goes_up_resumably_in_chunks(
    fake: FakeVertex,
    gcs_emulator: GcsEmulator,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block = Path(write_jsonl(tmp_path / "block.jsonl", supervised_records(16))).read_text()
    big = tmp_path / "big.jsonl"
    big.write_text(block * 3300)  # about 9 MiB: three 4 MiB chunks
    assert 8 * 2**20 < Path(big).stat().st_size <= 12 * 2**20
    provider = fake.provider(
        bucket=bucket, storage_endpoint=gcs_emulator.endpoint, upload_chunk_size=16 * CHUNK_QUANTUM
    )
    urls = record_storage_requests(provider, monkeypatch)
    job = provider.start(TuningRequest(model=MODEL, training_file=str(big)))
    uri = job.details["training_dataset_uri"]
    assert gcs_emulator.read(uri) == Path(big).read_bytes()
    starts = [u for u in urls if "uploadType=resumable" in u and u.startswith("POST")]
    chunks = [u for u in urls if u.startswith("PUT")]
    assert len(starts) == 1 and len(chunks) == 3, urls


def test_a_file_up_to_8_mib_goes_up_in_one_request(
    provider: VertexProvider, training_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = record_storage_requests(provider, monkeypatch)
    provider.start(TuningRequest(model=MODEL, training_file=training_file))
    assert len([u for u in urls if "uploadType=multipart" in u]) == 1
    assert not [u for u in urls if u.startswith("PUT")]


def test_object_names_are_content_addressed(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a" / "train.jsonl", supervised_records(16))
    b = write_jsonl(tmp_path / "b" / "train.jsonl", supervised_records(17))
    assert object_name("runs/", a).startswith("runs/") and object_name("", a).endswith(
        "-train.jsonl"
    )
    assert object_name("runs", a) != object_name("runs", b)
    assert object_name("runs", a) == object_name(
        "runs", write_jsonl(tmp_path / "train.jsonl", supervised_records(16))
    )


def test_chunk_sizes_must_be_multiples_of_256_kib() -> None:
    assert check_chunk_size(4 * CHUNK_QUANTUM) == 4 * CHUNK_QUANTUM
    with pytest.raises(ValueError, match="multiple of 262144"):
        check_chunk_size(1_000_000)
    with pytest.raises(ValueError, match="upload_chunk_size"):
        VertexProvider(upload_chunk_size=100)


def test_a_file_over_1_gb_is_refused_before_upload(
    provider: VertexProvider, gcs_emulator: GcsEmulator, bucket: str, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as handle:  # sparse: no gigabyte is written
        handle.truncate(1_000_000_001)
    with pytest.raises(ProviderRejectedError, match="at most 1 GB"):
        provider.start(TuningRequest(model=MODEL, training_file=str(huge)))
    assert gcs_emulator.objects(bucket) == []
    os.remove(huge)


def test_a_bucket_is_a_bare_name() -> None:
    with pytest.raises(ValueError, match="bare bucket name"):
        VertexProvider(bucket="gs://my-bucket/folder")
