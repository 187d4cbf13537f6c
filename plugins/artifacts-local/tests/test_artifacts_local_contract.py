"""The local store passes the artifact store contract, plus its own guarantees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from modelops_artifacts_local import plugin
from modelops_artifacts_local.store import LocalArtifactStore

from modelops_core.storage import ArtifactCorruptedError, ArtifactRef
from modelops_core.testing import ArtifactStoreContract


class TestLocalArtifactStore(ArtifactStoreContract):
    plugin = plugin
    component_name = "local"
    distribution = "modelops-artifacts-local"

    def corrupt(self, component: Any, ref: Any) -> None:
        blob = component.root / "blobs" / ref.digest[7:9] / ref.digest[7:]
        os.chmod(blob, 0o644)
        blob.write_bytes(b"evil weights")


def test_blobs_live_under_home_artifacts(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path / ".modelops"))
    ref = store.put_bytes(b"abc")
    digest = ref.digest.removeprefix("sha256:")
    blob = tmp_path / ".modelops" / "artifacts" / "blobs" / digest[:2] / digest
    assert blob.read_bytes() == b"abc"
    assert not list((tmp_path / ".modelops" / "artifacts" / "tmp").iterdir())


def test_a_modified_checkout_is_detected(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path))
    source = tmp_path / "model.bin"
    source.write_bytes(b"original")
    ref = store.put_path(source)
    local = store.local_path(ref)
    os.chmod(local, 0o644)  # a hard link to the blob: changing it changes the stored content
    local.write_bytes(b"tampered")
    with pytest.raises(ArtifactCorruptedError, match="model.bin"):
        store.local_path(ref)


def test_a_corrupted_file_inside_a_folder_is_named(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path / "home"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    ref = store.put_path(folder)
    import hashlib

    digest = hashlib.sha256(b"b").hexdigest()
    blob = store.root / "blobs" / digest[:2] / digest
    os.chmod(blob, 0o644)
    blob.write_bytes(b"x")
    with pytest.raises(ArtifactCorruptedError, match="b.txt"):
        store.local_path(ref)


def test_a_bad_digest_cannot_escape_the_store(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path))
    with pytest.raises(Exception, match="Invalid artifact digest"):
        store.get_bytes(ArtifactRef("sha256:../../etc/passwd", "file", 1))
