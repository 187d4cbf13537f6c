"""LocalArtifactStore's write paths and checkouts, value by value (issue 18: each test kills
mutants of store.py the contract and safety tests let live)."""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from modelops_artifacts_local import store as local_store
from modelops_artifacts_local.store import LocalArtifactStore

from modelops_core.store.contract import (
    ArtifactCorruptedError,
    ArtifactError,
    ArtifactNotFoundError,
)

SMALL = 8 << 20  # files up to 8 MiB are read in one go, larger ones streamed through tmp/


def blob_names(store: LocalArtifactStore) -> list[str]:
    return sorted(path.name for path in (store.root / "blobs").iterdir())


def leftovers(store: LocalArtifactStore) -> list[str]:
    return sorted(path.name for path in (store.root / "tmp").iterdir())


@pytest.mark.parametrize("size", [SMALL, SMALL + 1])
def test_a_file_at_and_over_8_mib_reaches_blobs_whole(tmp_path: Path, size: int):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    source = tmp_path / "weights.bin"
    content = os.urandom(1 << 16) * (size >> 16) + b"x" * (size % (1 << 16))
    source.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    ref = store.put_path(source)
    assert (ref.digest, ref.kind, ref.size, ref.name) == (f"sha256:{digest}", "file", size,
                                                          "weights.bin")  # fmt: skip
    assert blob_names(store) == [digest]
    assert (store.root / "blobs" / digest).read_bytes() == content
    assert stat.S_IMODE((store.root / "blobs" / digest).stat().st_mode) == 0o444
    assert leftovers(store) == []
    # the same content again is kept once
    again = tmp_path / "copy.bin"
    again.write_bytes(content)
    assert store.put_path(again).digest == ref.digest
    assert blob_names(store) == [digest] and leftovers(store) == []
    store.close()


def test_when_linking_fails_with_exdev_blobs_are_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_link = os.link
    tried: list[str] = []

    def link_across_devices(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        if str(source).startswith("/proc/self/fd/"):
            tried.append(str(target))
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(local_store.os, "link", link_across_devices)
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    big_source = tmp_path / "big.bin"
    big_source.write_bytes(b"b" * (SMALL + 10))
    big = store.put_path(big_source)  # streamed into an unnamed file first, then renamed
    small = store.put_bytes(b"small model")
    assert store.get_bytes(small) == b"small model"
    assert store.get_bytes(big) == big_source.read_bytes()
    assert blob_names(store) == sorted([small.digest[7:], big.digest[7:]])
    assert leftovers(store) == []
    # asked once (where unnamed files exist), then the store writes named files only
    assert len(tried) == hasattr(os, "O_TMPFILE")
    store.close()


def test_a_tampered_file_in_a_folder_checkout_is_repaired(tmp_path: Path):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "sub" / "weights.bin").write_bytes(b"\x01\x02")
    ref = store.put_path(folder)
    checkout = store.local_path(ref)
    weights = checkout / "sub" / "weights.bin"
    os.chmod(weights, 0o644)
    weights.write_bytes(b"tampered")
    (checkout / "extra.txt").write_text("not part of the model")
    repaired = store.local_path(ref)
    assert repaired == checkout
    assert (repaired / "sub" / "weights.bin").read_bytes() == b"\x01\x02"
    assert sorted(str(p.relative_to(repaired)) for p in repaired.rglob("*") if p.is_file()) == [
        "config.json", "sub/weights.bin",
    ]  # fmt: skip
    # an intact checkout is handed back as it is (same file, not copied again)
    inode = (repaired / "config.json").stat().st_ino
    assert (store.local_path(ref) / "config.json").stat().st_ino == inode
    store.close()


def test_a_damaged_blob_of_a_folder_is_refused_naming_the_file(tmp_path: Path):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha")
    ref = store.put_path(folder)
    store.local_path(ref)
    blob = store.root / "blobs" / hashlib.sha256(b"alpha").hexdigest()
    os.chmod(blob, 0o644)
    blob.write_text("omega")
    with pytest.raises(ArtifactCorruptedError, match=r"\(model/a.txt\) is corrupted"):
        store.local_path(ref)
    blob.unlink()
    with pytest.raises(ArtifactNotFoundError, match=r"\(model/a.txt\) is missing"):
        store.local_path(ref)
    store.close()


def test_a_tampered_file_checkout_is_replaced_and_an_intact_one_kept(tmp_path: Path):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    ref = store.put_bytes(b"weights", "model.bin")
    path = store.local_path(ref)
    assert path.name == "model.bin" and path.read_bytes() == b"weights"
    inode = path.stat().st_ino
    assert store.local_path(ref).stat().st_ino == inode  # intact: not copied again
    os.chmod(path, 0o644)
    path.write_bytes(b"changed")
    assert store.local_path(ref).read_bytes() == b"weights"
    unnamed = store.put_bytes(b"no name")
    assert store.local_path(unnamed).name == "artifact"
    store.close()


def test_get_bytes_refuses_a_folder_and_delete_removes_blob_and_checkout(tmp_path: Path):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha")
    tree = store.put_path(folder)
    with pytest.raises(ArtifactError, match="is a folder; use local_path"):
        store.get_bytes(tree)
    ref = store.put_bytes(b"weights", "model.bin")
    store.local_path(ref)
    assert store.exists(ref)
    store.delete(ref)
    assert not store.exists(ref)
    assert not (store.root / "checkouts" / ref.digest[7:]).exists()
    with pytest.raises(ArtifactNotFoundError, match="is missing from"):
        store.get_bytes(ref)
    store.close()


# A child process whose files may not grow past LIMIT bytes (RLIMIT_FSIZE): its writes fail
# with EFBIG, after a partial write, as on a full disk.
STORE_UNDER_A_LIMIT = """
import os, resource, signal, sys
from modelops_artifacts_local.store import LocalArtifactStore

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
try:
    LocalArtifactStore(root=sys.argv[1]).put_path(sys.argv[2])
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize("size", [3 << 20, SMALL + (1 << 20)], ids=["in-memory", "streamed"])
def test_a_write_cut_short_by_the_file_system_is_refused_and_nothing_is_stored(
    tmp_path: Path, size: int
):
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(size))
    root = tmp_path / "store"
    child = subprocess.run(
        [sys.executable, "-c", STORE_UNDER_A_LIMIT, str(root), str(source), str(1 << 20)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert child.stdout == (
        f"ArtifactError Cannot store {str(source)!r} in {str(root)!r}: File too large. "
        "Check the permissions and free space.\n"
    ), child.stderr
    assert list((root / "blobs").iterdir()) == [] and list((root / "tmp").iterdir()) == []


def held_under(folder: Path) -> list[str]:
    """What this process holds open under ``folder`` (from /proc/self/fd)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder.resolve())):
            found.append(os.path.relpath(target, folder.resolve()))
    return sorted(found)


def test_a_store_dropped_without_close_releases_its_folder(tmp_path: Path):
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    store.put_bytes(b"weights")
    assert held_under(tmp_path) == ["store/blobs"]  # open while the store is used
    del store
    gc.collect()
    assert held_under(tmp_path) == []


@pytest.mark.parametrize("durable", [False, True])
def test_only_a_durable_store_syncs_what_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(local_store.os, "fsync", fsync)
    store = LocalArtifactStore(root=str(tmp_path / "store"), durable=durable)
    store.put_bytes(b"weights")
    blobs = str((tmp_path / "store" / "blobs").resolve())
    if durable:  # the file (not yet named), then blobs/ holding its new name
        assert len(synced) == 2 and synced[1] == blobs
    else:
        assert synced == []
    store.close()


def test_without_unnamed_files_a_large_file_is_streamed_into_a_named_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_open = os.open
    refused: list[str] = []

    def open_without_tmpfile(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            refused.append(str(path))
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(local_store.os, "open", open_without_tmpfile)
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    source = tmp_path / "big.bin"
    source.write_bytes(b"z" * (SMALL + 3))
    ref = store.put_path(source)  # the first write: streamed
    assert store.get_bytes(ref) == source.read_bytes()
    assert len(refused) == 1 and leftovers(store) == []
    store.close()


def test_a_file_larger_than_it_says_is_stored_whole(tmp_path: Path):
    # /proc files report a size of 0 and hold more: read to the end, not to the size
    store = LocalArtifactStore(root=str(tmp_path / "store"))
    expected = Path("/proc/self/cmdline").read_bytes()
    assert os.stat("/proc/self/cmdline").st_size == 0 < len(expected)
    ref = store.put_path("/proc/self/cmdline")
    assert (ref.size, store.get_bytes(ref)) == (len(expected), expected)
    store.close()


def check_out_together(root: str, refs: list, barrier: Any, results: Any) -> None:
    store = LocalArtifactStore(root=root)
    barrier.wait()
    for ref in refs:
        try:
            folder = store.local_path(ref)
            results.put(sorted(p.read_text() for p in folder.rglob("*.txt")))
        except Exception as exc:  # reported to the parent, which fails the test
            results.put(f"{type(exc).__name__}: {exc}")
    store.close()


def test_processes_checking_out_the_same_folders_at_once_all_get_them(tmp_path: Path):
    import multiprocessing

    root = str(tmp_path / "store")
    store = LocalArtifactStore(root=root)
    refs = []
    for number in range(8):
        folder = tmp_path / f"model-{number}"
        folder.mkdir()
        for part in range(20):
            (folder / f"part-{part}.txt").write_text(f"{number}:{part}")
        refs.append(store.put_path(folder))
    store.close()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(6), context.Queue()
    workers = [
        context.Process(target=check_out_together, args=(root, refs, barrier, results))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=60) for _ in range(6 * len(refs))]
    for worker in workers:
        worker.join(timeout=60)
    expected = [sorted(f"{n}:{p}" for p in range(20)) for n in range(8)]
    assert [g for g in got if isinstance(g, str)] == []
    assert sorted(got) == sorted(expected * 6)


# A child process that may open only `extra` more files (RLIMIT_NOFILE) when it stores a file
# over 8 MiB: opening the file itself, or the unnamed file to stream it into, fails (EMFILE).
STORE_WITH_FEW_FILES = """
import os, resource, sys
from modelops_artifacts_local.store import LocalArtifactStore

store = LocalArtifactStore(root=sys.argv[1])
store.put_bytes(b"opens the store's folders first")
top = max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1
while (fd := os.open("/dev/null", os.O_RDONLY)) < top:  # fill the holes below the top
    pass
os.close(fd)
resource.setrlimit(resource.RLIMIT_NOFILE, (top + int(sys.argv[3]), top + 64))
try:
    store.put_path(sys.argv[2])
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (0, "Cannot read {source!r}: Too many open files. Check its permissions."),
        (2, "Cannot store {source!r} in {root!r}: Too many open files. Check the permissions "
            "and free space."),
    ],
    ids=["the-file", "the-unnamed-file"],
)  # fmt: skip
def test_running_out_of_file_descriptors_is_an_artifact_error(
    tmp_path: Path, extra: int, message: str
):
    source = tmp_path / "big.bin"
    source.write_bytes(b"q" * (SMALL + 5))
    root = tmp_path / "store"
    child = subprocess.run(
        [sys.executable, "-c", STORE_WITH_FEW_FILES, str(root), str(source), str(extra)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (
        child.stdout == "ArtifactError " + message.format(source=str(source), root=str(root)) + "\n"
    ), child.stderr
    stored = [path.name for path in (root / "blobs").iterdir()]
    assert stored == [hashlib.sha256(b"opens the store's folders first").hexdigest()]
