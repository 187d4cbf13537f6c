"""The local store passes the artifact store contract, plus its own guarantees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from modelops_artifacts_local import plugin
from modelops_artifacts_local.store import LocalArtifactStore

from modelops_core.store.contract import ArtifactCorruptedError, ArtifactRef
from modelops_core.testing import ArtifactStoreContract


class TestLocalArtifactStore(ArtifactStoreContract):
    plugin = plugin
    component_name = "local"
    distribution = "modelops-artifacts-local"

    def corrupt(self, component: Any, ref: Any) -> None:
        blob = component.root / "blobs" / ref.digest[7:]
        os.chmod(blob, 0o644)
        blob.write_bytes(b"evil weights")


def test_blobs_live_under_home_artifacts(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path / ".modelops"))
    ref = store.put_bytes(b"abc")
    digest = ref.digest.removeprefix("sha256:")
    blob = tmp_path / ".modelops" / "artifacts" / "blobs" / digest
    assert blob.read_bytes() == b"abc"
    assert not list((tmp_path / ".modelops" / "artifacts" / "tmp").iterdir())


def test_a_modified_checkout_is_replaced_by_a_verified_copy(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path))
    source = tmp_path / "model.bin"
    source.write_bytes(b"original")
    ref = store.put_path(source)
    local = store.local_path(ref)
    os.chmod(local, 0o644)  # a copy of the blob: changing it leaves the stored content alone
    local.write_bytes(b"tampered")
    assert (store.root / "blobs" / ref.digest[7:]).read_bytes() == b"original"
    assert store.local_path(ref).read_bytes() == b"original"
    assert store.local_path(ref) == local


def test_a_corrupted_file_inside_a_folder_is_named(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path / "home"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    ref = store.put_path(folder)
    import hashlib

    digest = hashlib.sha256(b"b").hexdigest()
    blob = store.root / "blobs" / digest
    os.chmod(blob, 0o644)
    blob.write_bytes(b"x")
    with pytest.raises(ArtifactCorruptedError, match="b.txt"):
        store.local_path(ref)


def test_a_bad_digest_cannot_escape_the_store(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path))
    with pytest.raises(Exception, match="Invalid artifact digest"):
        store.get_bytes(ArtifactRef("sha256:../../etc/passwd", "file", 1))


# --- how a file is read and a blob written --------------------------------------------------


def stored_files(store: LocalArtifactStore) -> list[str]:
    return sorted(p.name for p in store.root.rglob("*") if p.is_file())


@pytest.mark.parametrize("durable", [False, True])
def test_a_file_is_stored_whole_under_its_digest(tmp_path: Path, durable: bool) -> None:
    store = LocalArtifactStore(home=str(tmp_path / "home"), durable=durable)
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(100_000))
    ref = store.put_path(source)
    assert ref.name == "model.bin" and ref.size == 100_000
    assert store.get_bytes(ref) == source.read_bytes()
    assert stored_files(store) == [ref.digest.removeprefix("sha256:")]  # nothing left in tmp/
    store.close()


def test_without_unnamed_files_blobs_are_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelops_artifacts_local import store as local_store

    real_open = os.open
    refused: list[str] = []

    def open_without_tmpfile(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
            refused.append(str(path))
            raise OSError(95, "Operation not supported")  # EOPNOTSUPP, as on such file systems
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(local_store.os, "open", open_without_tmpfile)
    store = LocalArtifactStore(home=str(tmp_path))
    first, second = store.put_bytes(b"one"), store.put_bytes(b"two")
    assert (store.get_bytes(first), store.get_bytes(second)) == (b"one", b"two")
    assert len(refused) == hasattr(os, "O_TMPFILE")  # asked once, then the store remembers
    assert not list((store.root / "tmp").iterdir())


def test_a_link_is_refused_and_its_target_stored_when_named(tmp_path: Path) -> None:
    from modelops_core.store.contract import ArtifactLinkError

    store = LocalArtifactStore(home=str(tmp_path / "home"))
    target = tmp_path / "weights-v3.bin"
    target.write_bytes(b"weights" * 2_000_000)  # large files take another path
    link = tmp_path / "latest.bin"
    link.symlink_to(target)
    for given in (link, str(link), f"{link}/"):
        with pytest.raises(ArtifactLinkError, match="latest.bin': it is a symbolic link"):
            store.put_path(given)
    assert not list(store.root.glob("blobs/*"))  # nothing stored
    ref = store.put_path(os.path.realpath(link))
    assert ref.name == "weights-v3.bin" and store.get_bytes(ref) == target.read_bytes()


def test_a_path_written_with_a_trailing_slash_is_the_file(tmp_path: Path) -> None:
    store = LocalArtifactStore(home=str(tmp_path / "home"))
    (tmp_path / "model.bin").write_bytes(b"abc")
    ref = store.put_path(f"{tmp_path / 'model.bin'}/")
    assert ref.name == "model.bin" and store.get_bytes(ref) == b"abc"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    from modelops_core.store.contract import ArtifactError

    pipe = tmp_path / "model.bin"
    os.mkfifo(pipe)
    store = LocalArtifactStore(home=str(tmp_path / "home"))
    with pytest.raises(ArtifactError, match="model.bin.*special file"):
        store.put_path(pipe)


def test_blobs_of_a_store_with_fan_out_folders_are_still_read(tmp_path: Path) -> None:
    """Stores written before blobs/ was flat kept ``blobs/ab/ab12…``."""
    import hashlib

    old = LocalArtifactStore(home=str(tmp_path))
    ref = old.put_bytes(b"weights", name="w.bin")
    digest = ref.digest.removeprefix("sha256:")
    fanned_out = old.root / "blobs" / digest[:2] / digest
    fanned_out.parent.mkdir()
    os.rename(old.root / "blobs" / digest, fanned_out)
    old.close()

    store = LocalArtifactStore(home=str(tmp_path))
    assert store.exists(ref) and store.get_bytes(ref) == b"weights"
    assert store.local_path(ref).read_bytes() == b"weights"
    big = os.urandom(300_000)  # above the size asked about before writing
    big_digest = hashlib.sha256(big).hexdigest()
    (old.root / "blobs" / big_digest[:2]).mkdir()
    (old.root / "blobs" / big_digest[:2] / big_digest).write_bytes(big)
    assert store.put_bytes(big).digest == f"sha256:{big_digest}"
    assert not (old.root / "blobs" / big_digest).exists()  # found where it was, not copied
    os.chmod(fanned_out, 0o644)
    fanned_out.write_bytes(b"evil")
    with pytest.raises(ArtifactCorruptedError):
        store.get_bytes(ref)
    store.delete(ref)
    assert not store.exists(ref)
