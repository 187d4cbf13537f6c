"""A content-addressed artifact store on the local file system.

Layout under ``root`` (default ``<home>/artifacts``)::

    blobs/ab12…      file contents, named by their sha256, read-only
    checkouts/ab12…/ verified copies handed to users (never the blobs themselves)
    tmp/             files being written; linked or renamed into blobs/ only when complete

blobs/ is one flat folder: no fan-out folders to create for the first blobs of a new store
(each was a directory to make, dearer than the file), and ext4, XFS and APFS look names up by
hash however many there are. Stores written before kept ``blobs/ab/ab12…``; those blobs are
still found, verified and checked out.

A new blob, of any size, is written to an unnamed file (``O_TMPFILE``) in tmp/ and linked at
its name once complete, so a killed process leaves nothing behind; where the file system has no
unnamed files it is a named file in tmp/, renamed into place. Either way a blob appears whole or
not at all. A named file in tmp/ (and a checkout being built there) is locked (``flock``) by
the process writing it; opening the store removes every entry of tmp/ whose writer is gone.

A checkout is a copy of the blobs (a copy-on-write clone where the file system can), hashed as
it is made: writing to a path :meth:`LocalArtifactStore.local_path` returned never changes what
is stored, and the next call notices and hands out a fresh verified copy. Its name is checked
(:func:`~modelops_core.store.contract.artifact_name`) so a damaged row cannot place it elsewhere.
Symbolic links are refused when storing, never followed.

A folder is stored as its files' blobs plus a manifest blob (a sorted JSON list of relative
path, digest and size); the folder's digest is the manifest's. Every read hashes the content
again and raises :class:`ArtifactCorruptedError` on a mismatch, so a damaged file is never
returned silently.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path, PurePath

from modelops_core.store.contract import (
    ArtifactCorruptedError,
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactRef,
    artifact_hex,
    artifact_name,
    decode_tree_manifest,
    link_refused,
    put_tree,
    safe_artifact_name,
    stored_file_name,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: abandoned temp files are found by age
    fcntl = None  # type: ignore[assignment]

_CHUNK = 1 << 20
_SMALL = 8 << 20  # files up to this size are hashed in memory before anything is written
# Above this size, whether the blob is already stored is asked before writing it; below it,
# writing costs less than the question, and a blob stored before is noticed when linking (one
# in the fan-out folders of an older store is not: it is then kept twice, both verified).
_ASK_FIRST = 256 << 10
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# a symbolic link is refused by this open (then stored under its target's name); a named
# pipe opens without waiting for a writer (then refused as not a file)
_READ_FILE_FLAGS = _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
# an unnamed file in tmp/ (Linux): nothing to clean up if the process dies while writing it
_UNNAMED_FILES = hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd
_UNNAMED_FLAGS = os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | getattr(os, "O_CLOEXEC", 0)
# the ioctl cloning a whole file (Linux FICLONE: btrfs, XFS with reflink, bcachefs …)
_FICLONE = 0x40049409
# without flock (Windows), an entry of tmp/ older than this is taken as abandoned
_ABANDONED_AFTER = 24 * 3600.0
# what opening or linking an unnamed file fails with where the system cannot do it
_NO_UNNAMED_FILES = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL})
_NO_LINKING = frozenset({errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL})
# the flags tempfile.mkstemp uses
_TEMP_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class LocalArtifactStore:
    """Store files and folders under ``root`` by sha256; identical content is stored once.

    :param home: the modelops home directory (given by the facades).
    :param root: where to keep artifacts (default ``<home>/artifacts``).
    :param durable: fsync each new blob and its directory before it becomes visible
        (survives power loss, not only a killed process; slower).
    """

    def __init__(self, home: str = ".modelops", root: str | None = None, durable: bool = False):
        self.root = Path(root) if root is not None else Path(home) / "artifacts"
        self.durable = durable
        self._blobs = self.root / "blobs"
        self._tmp = self.root / "tmp"
        self._checkouts = self.root / "checkouts"
        self._blobs_dir = str(self._blobs)
        self._tmp_dir = str(self._tmp)
        self._ready = False
        self._blobs_fd: int | None = None  # blobs/, opened once: links are made relative to it
        self._unnamed_files = _UNNAMED_FILES
        self._clones = sys.platform == "linux"  # until the file system says it cannot

    def __repr__(self) -> str:
        return f"LocalArtifactStore(root={str(self.root)!r})"

    def close(self) -> None:
        """Release the open descriptor of blobs/ (the store opens it again when used)."""
        if self._blobs_fd is not None:
            os.close(self._blobs_fd)
            self._blobs_fd = None
        self._ready = False

    def __del__(self) -> None:
        if getattr(self, "_blobs_fd", None) is not None:
            self.close()

    # --- writing -------------------------------------------------------------------------------

    def put_bytes(self, data: bytes, name: str = "") -> ArtifactRef:
        """Store ``data`` as a file artifact named ``name``."""
        digest = self._put_data(data)
        return ArtifactRef(f"sha256:{digest}", "file", len(data), safe_artifact_name(name))

    def _put_data(self, data: bytes, source: str | None = None) -> str:
        """Store ``data`` (once) and return its sha256 hex digest.

        The hot path of a registration: plain ``str`` paths and ``os`` calls rather than
        :class:`Path` objects, and as few system calls as the store's guarantees allow.
        """
        self._ensure_dirs()
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > _ASK_FIRST and self._stored(digest):
            return digest  # stored before: identical content is kept once
        try:
            if not (self._unnamed_files and self._write_unnamed(data, digest)):
                self._write_named(data, digest)
        except OSError as exc:  # a full disk, a file size limit, a read-only store
            what = repr(source) if source is not None else f"{len(data)} bytes"
            raise ArtifactError(
                f"Cannot store {what} in {str(self.root)!r}: {exc.strerror or exc}. Check the "
                "permissions and free space."
            ) from exc
        return digest

    def _write_unnamed(self, data: bytes, digest: str) -> bool:
        """Write ``data`` to an unnamed file in tmp/ and link it at ``blobs/<digest>`` once
        complete: a process killed before the link leaves nothing behind.

        False, leaving nothing behind either, when this system cannot (no unnamed files on
        this file system, no linking through ``/proc``); the store then writes named files.
        """
        try:
            fd = os.open(self._tmp_dir, _UNNAMED_FLAGS, 0o444)
        except OSError as exc:
            if exc.errno not in _NO_UNNAMED_FILES:
                raise
            self._unnamed_files = False
            return False
        try:
            _write_all(fd, data)
            if self.durable:
                os.fsync(fd)
            linked = self._link_unnamed(fd, digest)
        finally:
            os.close(fd)
        if linked and self.durable:
            self._sync_blobs()
        return linked

    def _link_unnamed(self, fd: int, digest: str) -> bool:
        """Name the unnamed file ``fd`` ``blobs/<digest>`` (see :meth:`_write_unnamed`)."""
        assert self._blobs_fd is not None
        try:
            os.link(f"/proc/self/fd/{fd}", digest, dst_dir_fd=self._blobs_fd, follow_symlinks=True)
        except FileExistsError:  # stored before: identical content is kept once
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINKING:
                raise
            self._unnamed_files = False
            return False
        return True

    def _write_named(self, data: bytes, digest: str) -> None:
        """Write the blob as a named file in tmp/, then rename it into place (atomic).

        The descriptor, which holds the file's lock, stays open until the rename: another
        process opening the store meanwhile sees the file in use and leaves it.
        """
        fd, temp = self._temp_file()
        try:
            _write_all(fd, data)
            if self.durable:
                os.fsync(fd)
            self._rename_into_place(temp, digest)
        except BaseException:
            _unlink(temp)
            raise
        finally:
            os.close(fd)

    def put_path(self, path: Path | str) -> ArtifactRef:
        """Store the file or folder at ``path``.

        A symbolic link is refused (:class:`ArtifactLinkError`), never followed, and so is a
        name with a ``\\`` in it (:class:`UnsafeArtifactNameError`).
        """
        source = os.fspath(path)
        try:  # a plain file: opened once, measured and read through the same descriptor
            fd = os.open(source, _READ_FILE_FLAGS)
        except (OSError, ValueError):  # a link, a folder on some systems, "a/", no such path
            return self._put_other(path)
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode) or status.st_size > _SMALL:
                return self._put_other(path)
            name = stored_file_name(source)
            try:
                data = _read_to_end(fd, status.st_size)
            except OSError as exc:
                raise ArtifactError(
                    f"Cannot read {source!r}: {exc.strerror or exc}. Check its permissions."
                ) from exc
        finally:
            os.close(fd)
        digest = self._put_data(data, source)
        return ArtifactRef(f"sha256:{digest}", "file", len(data), name)

    def _put_other(self, path: Path | str) -> ArtifactRef:
        """Store what :meth:`put_path` does not read in one go: a folder, a large file, or a
        path written with a trailing ``/``; refuse a link."""
        # normalized as Path does ("model.bin/" is the file); a Path already is
        source = os.fspath(path if isinstance(path, PurePath) else Path(path))
        status: os.stat_result | None
        try:
            status = os.lstat(source)
        except (OSError, ValueError):
            status = None
        if status is not None and stat.S_ISLNK(status.st_mode):
            raise link_refused(source)
        if status is not None and stat.S_ISREG(status.st_mode):
            name = stored_file_name(source)
            digest, size = self._put_file(source, status.st_size)
            return ArtifactRef(f"sha256:{digest}", "file", size, name)
        if status is not None and stat.S_ISDIR(status.st_mode):
            return self._put_tree(Path(source))
        if status is not None:
            raise ArtifactError(
                f"Cannot store the artifact {str(path)!r}: it is a special file (a pipe, socket "
                "or device), not a file or folder. Copy what it holds into a file first."
            )
        raise ArtifactNotFoundError(
            f"Cannot store the artifact {str(path)!r}: no such file or folder. "
            "Check the path (it is taken relative to the working directory)."
        )

    def _put_file(self, source: Path | str, known_size: int | None = None) -> tuple[str, int]:
        """Store the regular file ``source`` (never through a link): in one read up to 8 MiB,
        else streamed through an unnamed file (a locked named one where there are none)."""
        self._ensure_dirs()
        try:
            src = os.open(source, _READ_FILE_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # replaced by a link since it was looked at
                raise link_refused(source) from None
            raise ArtifactError(
                f"Cannot read {str(source)!r}: {exc.strerror or exc}. Check its permissions."
            ) from exc
        try:
            if known_size is None:
                known_size = os.fstat(src).st_size
            if known_size <= _SMALL:
                # one read; nothing is left behind when the content is already stored
                data = _read_to_end(src, known_size)
                return self._put_data(data, str(source)), len(data)
            if self._unnamed_files:
                streamed = self._stream_unnamed(src)
                if streamed is not None:
                    return streamed
                os.lseek(src, 0, os.SEEK_SET)  # this system cannot: write a named file
            return self._stream_named(src)
        except OSError as exc:
            raise ArtifactError(
                f"Cannot store {str(source)!r} in {str(self.root)!r}: {exc.strerror or exc}. "
                "Check the permissions and free space."
            ) from exc
        finally:
            os.close(src)

    def _stream_unnamed(self, src: int) -> tuple[str, int] | None:
        """Copy ``src`` into an unnamed file in tmp/, hashing it, and link it at its digest:
        a process killed meanwhile leaves nothing behind. None when this system cannot."""
        try:
            out = os.open(self._tmp_dir, _UNNAMED_FLAGS, 0o444)
        except OSError as exc:
            if exc.errno not in _NO_UNNAMED_FILES:
                raise
            self._unnamed_files = False
            return None
        try:
            digest, size = _copy_hashing(src, out)
            if self._stored(digest):
                return digest, size  # stored before: closing the unnamed file discards it
            if self.durable:
                os.fsync(out)
            if not self._link_unnamed(out, digest):
                return None
        finally:
            os.close(out)
        if self.durable:
            self._sync_blobs()
        return digest, size

    def _stream_named(self, src: int) -> tuple[str, int]:
        """Copy ``src`` into a locked named file in tmp/, hashing it, and rename it into
        place; a process killed meanwhile leaves the file, removed when the store is next
        opened (its lock is gone with the process)."""
        out, temp = self._temp_file()
        try:
            digest, size = _copy_hashing(src, out)
            if self._stored(digest):
                _unlink(temp)
            else:
                if self.durable:
                    os.fsync(out)
                self._rename_into_place(temp, digest)
        except BaseException:
            _unlink(temp)
            raise
        finally:
            os.close(out)
        return digest, size

    def _put_tree(self, folder: Path) -> ArtifactRef:
        return put_tree(folder, self._put_file, self.put_bytes)

    def _temp_file(self) -> tuple[int, str]:
        """A new, empty, read-only file in tmp/, locked, and a descriptor writing to it.

        Like ``tempfile.mkstemp``, with a random name from ``os.urandom`` instead of Python's
        random module, and created with mode 0o444: the descriptor may still write (the mode
        only governs later opens), and the blob it becomes needs no ``chmod``. The lock lasts
        as long as the descriptor: keep it open until the file is renamed or removed.
        """
        while True:
            temp = os.path.join(self._tmp_dir, os.urandom(8).hex())
            try:
                fd = os.open(temp, _TEMP_FLAGS, 0o444)
            except FileExistsError:  # pragma: no cover - 64 random bits
                continue
            if _hold(fd):
                return fd, temp
            os.close(fd)  # pragma: no cover - swept between its creation and its lock

    def _staging_folder(self) -> tuple[int, Path]:
        """A new folder in tmp/ to build a checkout in, locked like :meth:`_temp_file`'s
        files, and the descriptor holding the lock."""
        import tempfile  # not imported for registrations (random, shutil, bz2 …)

        while True:
            staging = tempfile.mkdtemp(dir=self._tmp_dir)
            fd = os.open(staging, _READ_FLAGS | getattr(os, "O_DIRECTORY", 0))
            if _hold(fd):
                return fd, Path(staging)
            os.close(fd)  # pragma: no cover - swept between its creation and its lock

    def _sweep_tmp(self) -> None:
        """Remove every entry of tmp/ whose writer is gone (a killed process): a named file
        or a checkout being built that nobody holds the lock of."""
        try:
            names = os.listdir(self._tmp_dir)
        except FileNotFoundError:
            return
        for name in names:
            _remove_if_abandoned(os.path.join(self._tmp_dir, name))

    def _rename_into_place(self, temp: str, digest: str) -> None:
        """Make the complete file ``temp`` the blob ``blobs/<digest>`` (atomic rename)."""
        os.replace(temp, self._blob_name(digest))
        if self.durable:
            self._sync_blobs()

    def _sync_blobs(self) -> None:
        """fsync blobs/, so the name of a new blob survives power loss."""
        directory = os.open(self._blobs_dir, _READ_FLAGS)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    # --- reading -------------------------------------------------------------------------------

    def exists(self, ref: ArtifactRef) -> bool:
        """Whether the artifact's blob is stored (its content is not verified)."""
        return self._stored(artifact_hex(ref))

    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """The verified content of a file artifact."""
        if ref.kind != "file":
            raise ArtifactError(
                f"The artifact {ref.digest} is a folder; use local_path() to get its files."
            )
        return self._read_verified(artifact_hex(ref), ref)

    def local_path(self, ref: ArtifactRef) -> Path:
        """A verified copy of the file (``checkouts/<digest>/<name>``) or folder.

        The stored content is verified on every call; an existing checkout is handed out again
        only when it still hashes right and holds nothing else, otherwise it is made again.
        """
        digest = artifact_hex(ref)
        default = "artifact" if ref.kind == "file" else "tree"
        target = self._checkouts / digest / (artifact_name(ref) or default)
        if ref.kind == "file":
            entries = {"": digest}
            if _is_regular_file(target):  # checked out before: the blob must still verify
                self._read_verified(digest, ref, check_only=True)
                if _sha256_file(target) == digest:
                    return target
            self._check_out(entries, target, ref)
            return target
        manifest = decode_tree_manifest(self._read_verified(digest, ref), ref.digest)
        entries = {relative: d.removeprefix("sha256:") for relative, d, _ in manifest}
        with self._checkout_lock(target.parent):
            if _is_folder(target):
                for relative, file_digest in entries.items():
                    self._read_verified(file_digest, ref, check_only=True, member=relative)
                if _holds_exactly(target, entries):
                    return target
            self._check_out(entries, target, ref)
        return target

    @contextlib.contextmanager
    def _checkout_lock(self, folder: Path) -> Iterator[None]:
        """Hold ``checkouts/<digest>/`` locked: processes checking out one folder artifact at
        once take turns, so each finds the checkout the previous one completed instead of
        removing it while that one hands it out (a folder, unlike a file, cannot be replaced
        in one step)."""
        if fcntl is None:  # Windows: no flock
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, _READ_FLAGS)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def delete(self, ref: ArtifactRef) -> None:
        """Remove the artifact's blob and checkout (blobs of a folder's files are kept)."""
        digest = artifact_hex(ref)
        _unlink(self._blob_name(digest))
        _unlink(self._fanned_out_name(digest))
        _remove_tree(self._checkouts / digest)

    def _label(self, ref: ArtifactRef, member: str) -> str:
        return f"{ref.digest} ({ref.name or ref.kind}{'/' + member if member else ''})"

    def _missing(self, ref: ArtifactRef, member: str) -> ArtifactNotFoundError:
        return ArtifactNotFoundError(
            f"The artifact {self._label(ref, member)} is missing from {str(self.root)!r}. It "
            "was deleted or the store moved; register the model again or point [artifacts] "
            "root at the right folder."
        )

    def _corrupted(
        self, ref: ArtifactRef, member: str, blob: Path, actual: str
    ) -> ArtifactCorruptedError:
        return ArtifactCorruptedError(
            f"The artifact {self._label(ref, member)} is corrupted: {str(blob)!r} hashes to "
            f"sha256:{actual}. It is not returned. Restore the file from a backup or register "
            "the model again."
        )

    def _read_verified(
        self, digest: str, ref: ArtifactRef, *, check_only: bool = False, member: str = ""
    ) -> bytes:
        blob = self._blob_path(digest)
        try:
            if check_only:
                actual = _sha256_file(blob)
                data = b""
            else:
                data = blob.read_bytes()
                actual = hashlib.sha256(data).hexdigest()
        except FileNotFoundError:
            raise self._missing(ref, member) from None
        if actual != digest:
            raise self._corrupted(ref, member, blob, actual)
        return data

    def _check_out(self, entries: dict[str, str], target: Path, ref: ArtifactRef) -> None:
        """Build ``target`` in tmp/ from copies of the blobs, each hashed as it is made, then
        rename it into place (atomic): what lands in checkouts/ is verified and is no blob."""
        self._ensure_dirs()
        target.parent.mkdir(parents=True, exist_ok=True)
        lock, staging = self._staging_folder()
        try:
            for relative, file_digest in entries.items():
                destination = staging / relative if relative else staging / "file"
                destination.parent.mkdir(parents=True, exist_ok=True)
                self._copy_verified(file_digest, destination, ref, relative)
            built = staging / "file" if ref.kind == "file" else staging
            if ref.kind != "file" or _is_folder(target) or os.path.islink(target):
                _remove(target)  # a stale or modified checkout (never followed if a link)
            try:
                os.replace(built, target)
            except OSError:  # another process put it there first; theirs is as good
                if not (_is_folder(target) if ref.kind != "file" else _is_regular_file(target)):
                    raise
        finally:
            os.close(lock)
            _remove_tree(staging)

    def _copy_verified(self, digest: str, destination: Path, ref: ArtifactRef, member: str) -> None:
        """Copy the blob of ``digest`` to the new file ``destination`` (read-only): a clone
        where the file system can, read back to hash it, else a copy hashed as it is written.
        """
        blob = self._blob_path(digest)
        try:
            src = os.open(blob, _READ_FLAGS)
        except FileNotFoundError:
            raise self._missing(ref, member) from None
        try:
            out = os.open(destination, _TEMP_FLAGS, 0o444)
            try:
                if self._clone(src, out):
                    actual = _sha256_file(destination)
                else:
                    actual, _ = _copy_hashing(src, out)
            finally:
                os.close(out)
        finally:
            os.close(src)
        if actual != digest:
            raise self._corrupted(ref, member, blob, actual)

    def _clone(self, src: int, out: int) -> bool:
        """Make ``out`` a copy-on-write clone of ``src`` (False where the file system cannot:
        the store then stops asking)."""
        if not self._clones or fcntl is None:
            return False
        try:
            fcntl.ioctl(out, _FICLONE, src)
        except OSError:
            self._clones = False
            return False
        return True

    # --- helpers -------------------------------------------------------------------------------

    def _ensure_dirs(self) -> None:
        """Create the folders on first use, and remove what killed writers left in tmp/."""
        if self._ready:
            return
        for directory in (self._blobs, self._tmp, self._checkouts):
            directory.mkdir(parents=True, exist_ok=True)
        self._sweep_tmp()
        if self._unnamed_files and os.path.isdir("/proc/self/fd"):
            if self._blobs_fd is None:
                self._blobs_fd = os.open(self._blobs_dir, _READ_FLAGS)
        else:  # unnamed files are linked through /proc/self/fd
            self._unnamed_files = False
        self._ready = True

    def _blob_path(self, digest: str) -> Path:
        """Where the blob of ``digest`` is: ``blobs/<digest>``, or ``blobs/ab/<digest>`` in a
        store written before blobs/ was flat (the flat name when it is in neither)."""
        flat = self._blob_name(digest)
        if not os.path.exists(flat):
            fanned_out = self._fanned_out_name(digest)
            if os.path.exists(fanned_out):
                return Path(fanned_out)
        return Path(flat)

    def _blob_name(self, digest: str) -> str:
        """The flat blob path as a ``str`` (the write path avoids building Path objects)."""
        return f"{self._blobs_dir}{os.sep}{digest}"

    def _fanned_out_name(self, digest: str) -> str:
        """Where a store written before blobs/ was flat kept the blob: ``blobs/ab/ab12…``."""
        return os.path.join(self._blobs_dir, digest[:2], digest)

    def _stored(self, digest: str) -> bool:
        return os.path.exists(self._blob_name(digest)) or os.path.exists(
            self._fanned_out_name(digest)
        )


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write fewer)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])


def _read_all(source: str | Path, expected_size: int) -> bytes:
    """The whole content of the file ``source`` (which had ``expected_size`` bytes)."""
    fd = os.open(source, _READ_FLAGS)
    try:
        return _read_to_end(fd, expected_size)
    finally:
        os.close(fd)


def _read_to_end(fd: int, expected_size: int) -> bytes:
    """Everything left to read from ``fd``, a file of ``expected_size`` bytes: one read when
    it did not grow since it was measured (a file gives fewer bytes than asked only at its
    end), more if it did."""
    first = os.read(fd, expected_size + 1)
    if len(first) <= expected_size:
        return first
    chunks = [first]
    while chunks[-1]:
        chunks.append(os.read(fd, _CHUNK))
    return b"".join(chunks)


def _copy_hashing(src: int, out: int) -> tuple[str, int]:
    """Copy the rest of ``src`` to ``out``; the sha256 hex digest and size of what was copied."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := os.read(src, _CHUNK):
        hasher.update(chunk)
        _write_all(out, chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _hold(fd: int) -> bool:
    """Lock the new temp file or folder ``fd`` for as long as it is open; False when another
    process removed it as abandoned between its creation and the lock (make another)."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    fcntl.flock(fd, fcntl.LOCK_EX)
    return os.fstat(fd).st_nlink > 0


def _remove_if_abandoned(path: str) -> None:
    """Remove the tmp/ entry ``path`` if no process holds its lock (its writer died)."""
    if fcntl is None:  # pragma: no cover - Windows: by age
        with contextlib.suppress(OSError):
            if time.time() - os.lstat(path).st_mtime > _ABANDONED_AFTER:
                _remove(Path(path))
        return
    try:
        fd = os.open(path, _READ_FILE_FLAGS)
    except OSError:  # gone meanwhile, or not ours to open: left alone
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: being written
            return
        _remove(Path(path))
    finally:
        os.close(fd)


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _holds_exactly(folder: Path, entries: dict[str, str]) -> bool:
    """Whether the checkout ``folder`` holds the files of ``entries`` (relative path ->
    sha256) with that content, and nothing else (no extra file, no link)."""
    found: set[str] = set()
    for current, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            if os.path.islink(os.path.join(current, name)):
                return False
        for name in names:
            found.add(Path(current, name).relative_to(folder).as_posix())
    if found != entries.keys():
        return False
    return all(_sha256_file(folder / relative) == digest for relative, digest in entries.items())


def _remove_tree(path: Path | str) -> None:
    """``shutil.rmtree(path, ignore_errors=True)``, shutil imported only when a folder goes
    (a registration does not need it)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove the file, link or folder ``path`` (a link itself, never what it points to)."""
    if _is_folder(path):
        _remove_tree(path)
    else:
        _unlink(path)


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _unlink(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
