"""Staging training files in Cloud Storage, where Vertex AI tuning reads them.

Objects are content-addressed (``<prefix>/<sha256 prefix>-<file name>``): a file already
staged is reused instead of uploaded again (a resumed or repeated job costs no upload), and an
upload never replaces an object (``if_generation_match=0``). Files up to 8 MiB go up in one
request; larger ones (the storage client's rule) with the resumable upload protocol in chunks
of ``chunk_size``, so a dropped connection costs one chunk, not the file. The storage client
checks every upload with CRC32C.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import attrs

from modelops_core.finetune.provider_contract import ProviderError, ProviderRejectedError
from modelops_provider_vertex.errors import translated

#: Vertex AI reads at most 1 GB per tuning dataset file.
MAX_FILE_BYTES = 1_000_000_000
#: Resumable chunks must be a multiple of 256 KiB (Cloud Storage's rule).
CHUNK_QUANTUM = 256 * 1024
DEFAULT_CHUNK_SIZE = 32 * CHUNK_QUANTUM  # 8 MiB


@attrs.frozen
class StagedFile:
    """A file in Cloud Storage: its ``gs://`` URI, and whether this call uploaded it."""

    uri: str
    bucket: str
    name: str
    size: int
    uploaded: bool


def check_chunk_size(chunk_size: int) -> int:
    """``chunk_size`` if it is a positive multiple of 256 KiB, else a ValueError saying so."""
    if chunk_size < CHUNK_QUANTUM or chunk_size % CHUNK_QUANTUM:
        raise ValueError(
            f"upload_chunk_size must be a positive multiple of 262144 bytes (256 KiB), got "
            f"{chunk_size}; e.g. 8388608 (8 MiB)."
        )
    return chunk_size


def check_training_file(path: str) -> int:
    """The size of ``path``; refuses a missing, empty or too large file before any upload."""
    file = Path(path)
    if not file.is_file():
        raise ProviderError(
            f"The training file {path} does not exist; export the dataset first "
            "(Dataset.export(path, provider='vertex'))."
        )
    size = file.stat().st_size
    if size == 0:
        raise ProviderRejectedError(f"{path} is empty; Vertex AI tuning needs examples.")
    if size > MAX_FILE_BYTES:
        raise ProviderRejectedError(
            f"{path} is {size / 1e9:.2f} GB; Vertex AI reads at most 1 GB per tuning dataset "
            "file. Use fewer or shorter examples."
        )
    return size


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def object_name(prefix: str, path: str) -> str:
    """``<prefix>/<first 16 hex digits of sha256>-<file name>`` for ``path``."""
    stem = f"{_sha256(path)[:16]}-{Path(path).name}"
    prefix = prefix.strip("/")
    return f"{prefix}/{stem}" if prefix else stem


def upload(
    storage_client: Any,
    bucket_name: str,
    prefix: str,
    path: str,
    chunk_size: int,
    location: str = "us-central1",
) -> StagedFile:
    """Stage ``path`` in ``gs://bucket_name/prefix/`` and return where it is."""
    from google.api_core import exceptions as api_exceptions

    size = check_training_file(path)
    name = object_name(prefix, path)
    uri = f"gs://{bucket_name}/{name}"
    bucket = storage_client.bucket(bucket_name)
    call = f"storage upload of {Path(path).name} to {uri}"
    try:
        with translated(call):
            existing = bucket.get_blob(name)
            if existing is not None and existing.size == size:
                return StagedFile(uri, bucket_name, name, size, uploaded=False)
            blob = bucket.blob(name, chunk_size=chunk_size)
            try:
                blob.upload_from_filename(
                    path, content_type="application/jsonl", if_generation_match=0
                )
            except api_exceptions.PreconditionFailed:
                # staged by someone else meanwhile: same name, same content
                return StagedFile(uri, bucket_name, name, size, uploaded=False)
    except ProviderRejectedError as exc:
        if "HTTP 404" in str(exc):
            raise ProviderRejectedError(
                f"{exc}\nThe staging bucket gs://{bucket_name} was not found: create it in the "
                f"job's region (gcloud storage buckets create gs://{bucket_name} "
                f"--location={location}) or set [providers.vertex] bucket."
            ) from exc
        raise
    return StagedFile(uri, bucket_name, name, size, uploaded=True)


def remove(storage_client: Any, staged: StagedFile) -> None:
    """Delete a file this provider uploaded (best effort; failures are ignored)."""
    if not staged.uploaded:
        return
    try:
        with translated(f"storage delete of {staged.uri}"):
            storage_client.bucket(staged.bucket).blob(staged.name).delete()
    except ProviderError:
        pass  # the original failure is what the user must see
