"""A content-addressed artifact store on the local file system.

Layout under ``root`` (default ``<home>/artifacts``)::

    blobs/ab12…      file contents, named by their sha256, read-only
    checkouts/ab12…/ verified views handed to users (hard links to blobs)
    tmp/             files being written; linked or renamed into blobs/ only when complete

blobs/ is one flat folder: no fan-out folders to create for the first blobs of a new store
(each was a directory to make, dearer than the file), and ext4, XFS and APFS look names up by
hash however many there are. Stores written before kept ``blobs/ab/ab12…``; those blobs are
still found, verified and checked out.

A new blob is written to an unnamed file (``O_TMPFILE``) in tmp/ and linked at its name once
complete, so a killed process leaves nothing behind; where the file system has no unnamed
files it is a named file in tmp/, renamed into place. Either way a blob appears whole or not at
all.

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
import shutil
import stat
import tempfile
from pathlib import Path, PurePath

from modelops_core.storage import (
    ArtifactCorruptedError,
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactRef,
    artifact_hex,
    decode_tree_manifest,
    put_tree,
    safe_artifact_name,
)

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

    def _put_data(self, data: bytes) -> str:
        """Store ``data`` (once) and return its sha256 hex digest.

        The hot path of a registration: plain ``str`` paths and ``os`` calls rather than
        :class:`Path` objects, and as few system calls as the store's guarantees allow.
        """
        self._ensure_dirs()
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > _ASK_FIRST and self._stored(digest):
            return digest  # stored before: identical content is kept once
        if not (self._unnamed_files and self._write_unnamed(data, digest)):
            self._write_named(data, digest)
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
        """Write the blob as a named file in tmp/, then rename it into place (atomic)."""
        fd, temp = self._temp_file()
        try:
            try:
                _write_all(fd, data)
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            self._rename_into_place(temp, digest)
        except BaseException:
            _unlink(temp)
            raise

    def put_path(self, path: Path | str) -> ArtifactRef:
        """Store the file or folder at ``path``."""
        source = os.fspath(path)
        try:  # a plain file: opened once, measured and read through the same descriptor
            fd = os.open(source, _READ_FILE_FLAGS)
        except (OSError, ValueError):  # a link, a folder on some systems, "a/", no such path
            return self._put_other(path)
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode) or status.st_size > _SMALL:
                return self._put_other(path)
            try:
                data = _read_to_end(fd, status.st_size)
            except OSError as exc:
                raise ArtifactError(
                    f"Cannot read {source!r}: {exc.strerror or exc}. Check its permissions."
                ) from exc
        finally:
            os.close(fd)
        digest = self._put_data(data)
        name = safe_artifact_name(os.path.basename(source))
        return ArtifactRef(f"sha256:{digest}", "file", len(data), name)

    def _put_other(self, path: Path | str) -> ArtifactRef:
        """Store what :meth:`put_path` does not read in one go: a link (under its target's
        name), a folder, a large file, or a path written with a trailing ``/``."""
        # normalized as Path does ("model.bin/" is the file); a Path already is
        source = os.fspath(path if isinstance(path, PurePath) else Path(path))
        status: os.stat_result | None
        try:
            status = os.lstat(source)
            if stat.S_ISLNK(status.st_mode):  # stored under the name of what it points to
                source = os.path.realpath(source)
                status = os.stat(source)
        except (OSError, ValueError):
            status = None
        if status is not None and stat.S_ISREG(status.st_mode):
            digest, size = self._put_file(source, status.st_size)
            name = safe_artifact_name(os.path.basename(source))
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
        self._ensure_dirs()
        if known_size is None:
            try:
                known_size = os.stat(source).st_size
            except OSError:
                known_size = None
        if known_size is not None and known_size <= _SMALL:
            # one read; nothing is left behind when the content is already stored
            try:
                data = _read_all(source, known_size)
            except OSError as exc:
                raise ArtifactError(
                    f"Cannot read {str(source)!r}: {exc.strerror or exc}. Check its permissions."
                ) from exc
            return self._put_data(data), len(data)
        hasher = hashlib.sha256()
        size = 0
        fd, temp = self._temp_file()
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                if self.durable:
                    out.flush()
                    os.fsync(out.fileno())
            digest = hasher.hexdigest()
            if self._stored(digest):
                _unlink(temp)
            else:
                self._rename_into_place(temp, digest)
        except OSError as exc:
            _unlink(temp)
            raise ArtifactError(
                f"Cannot store {str(source)!r} in {str(self.root)!r}: {exc.strerror or exc}. "
                "Check the permissions and free space."
            ) from exc
        except BaseException:
            _unlink(temp)
            raise
        return digest, size

    def _put_tree(self, folder: Path) -> ArtifactRef:
        return put_tree(folder, self._put_file, self.put_bytes)

    def _temp_file(self) -> tuple[int, str]:
        """A new, empty, read-only file in tmp/ and a descriptor writing to it.

        Like ``tempfile.mkstemp``, with a random name from ``os.urandom`` instead of Python's
        random module, and created with mode 0o444: the descriptor may still write (the mode
        only governs later opens), and the blob it becomes needs no ``chmod``.
        """
        while True:
            temp = os.path.join(self._tmp_dir, os.urandom(8).hex())
            try:
                return os.open(temp, _TEMP_FLAGS, 0o444), temp
            except FileExistsError:  # pragma: no cover - 64 random bits
                continue

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
        """A verified file (``checkouts/<digest>/<name>``) or folder with the content."""
        digest = artifact_hex(ref)
        target = (
            self._checkouts / digest / (ref.name or ("artifact" if ref.kind == "file" else "tree"))
        )
        if ref.kind == "file":
            self._read_verified(digest, ref, check_only=True)
            if target.exists() and _sha256_file(target) == digest:
                return target
            self._materialize(digest, {"": (digest, ref.size)}, target, ref)
            return target
        manifest = decode_tree_manifest(self._read_verified(digest, ref), ref.digest)
        entries = {rel: (d.removeprefix("sha256:"), size) for rel, d, size in manifest}
        for relative, (file_digest, _) in entries.items():
            self._read_verified(file_digest, ref, check_only=True, member=relative)
        if (
            target.is_dir()
            and all(
                _sha256_file(target / relative) == file_digest
                for relative, (file_digest, _) in entries.items()
                if (target / relative).is_file()
            )
            and all((target / relative).is_file() for relative in entries)
        ):
            return target
        self._materialize(digest, entries, target, ref)
        return target

    def delete(self, ref: ArtifactRef) -> None:
        """Remove the artifact's blob and checkout (blobs of a folder's files are kept)."""
        digest = artifact_hex(ref)
        _unlink(self._blob_name(digest))
        _unlink(self._fanned_out_name(digest))
        shutil.rmtree(self._checkouts / digest, ignore_errors=True)

    def _read_verified(
        self, digest: str, ref: ArtifactRef, *, check_only: bool = False, member: str = ""
    ) -> bytes:
        blob = self._blob_path(digest)
        label = f"{ref.digest} ({ref.name or ref.kind}{'/' + member if member else ''})"
        try:
            if check_only:
                actual = _sha256_file(blob)
                data = b""
            else:
                data = blob.read_bytes()
                actual = hashlib.sha256(data).hexdigest()
        except FileNotFoundError:
            raise ArtifactNotFoundError(
                f"The artifact {label} is missing from {str(self.root)!r}. It was deleted or "
                "the store moved; register the model again or point [artifacts] root at the "
                "right folder."
            ) from None
        if actual != digest:
            raise ArtifactCorruptedError(
                f"The artifact {label} is corrupted: {str(blob)!r} hashes to sha256:{actual}. "
                "It is not returned. Restore the file from a backup or register the model again."
            )
        return data

    def _materialize(
        self,
        digest: str,
        entries: dict[str, tuple[str, int]],
        target: Path,
        ref: ArtifactRef,
    ) -> None:
        """Build ``target`` from blobs in tmp/, then rename it into place (atomic)."""
        self._ensure_dirs()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self._tmp))
        try:
            for relative, (file_digest, _) in entries.items():
                destination = staging / relative if relative else staging / "file"
                destination.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(self._blob_path(file_digest), destination)
            built = staging / "file" if ref.kind == "file" else staging
            if ref.kind != "file" and target.exists():
                shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(built, target)
            except OSError:  # another process put it there first; theirs is as good
                if not target.exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------------

    def _ensure_dirs(self) -> None:
        if self._ready:
            return
        for directory in (self._blobs, self._tmp, self._checkouts):
            directory.mkdir(parents=True, exist_ok=True)
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


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _unlink(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
