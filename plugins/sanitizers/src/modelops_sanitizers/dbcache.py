"""Compiled hyperscan databases kept in the user's cache directory, across processes.

Compiling the loose patterns takes about 100-150 ms; loading a serialized database takes
microseconds. :func:`load_or_compile` looks for ``<cache>/<key>.hsdb`` first, where the key
is a SHA-256 of everything the compiled bytes depend on (the patterns, ids, flags, mode, the
hyperscan wheel's version and the machine), so a changed pattern or another wheel never loads
a stale database. A file is ``MAGIC + sha256(payload) + payload``: a truncated or corrupted
file (or one hyperscan refuses, e.g. compiled for another CPU) is compiled again and
replaced. Files are written atomically (a temporary file in the same directory, then
``os.replace``), so a process killed while writing leaves either no file or a whole one. A
cache directory that cannot be written only costs the compilation; it is never an error.

The directory is ``$MODELOPS_CACHE_DIR/sanitizers`` when that variable is set, else the
platform's user cache directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows) under ``modelops/sanitizers``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

MAGIC = b"MODELOPS-HSDB-1\n"
DIGEST_SIZE = 32
CACHE_ENV = "MODELOPS_CACHE_DIR"
# Test hook: a process stops with os._exit(CRASH_EXIT) at the point this environment variable
# names: "half-written" (half the temporary file written) or "written" (the temporary file
# complete, not yet renamed). The cache tests kill real processes there.
CRASH_HOOK = "MODELOPS_SANITIZERS_TEST_CRASH"
CRASH_EXIT = 86


@attrs.frozen
class LoadedDatabase:
    """A hyperscan database and how it was obtained.

    :param database: the ``hyperscan.Database``, scratch allocated, ready to scan.
    :param source: ``"cache"`` (loaded from ``path``) or ``"compiled"`` (in this process).
    :param path: the cache file (``None`` when no cache directory could be used).
    :param seconds: time spent obtaining it (loading, or compiling and writing).
    :param recompiled_because: why a cache file present was not used (``None`` otherwise).
    """

    database: Any
    source: str
    path: Path | None
    seconds: float
    recompiled_because: str | None = None


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object, from the interpreter's built-in implementation when it has one:
    importing :mod:`hashlib` loads OpenSSL, several ms of every run that only loads a cached
    database. Same digests (``hashlib.sha256`` where the built-in module is missing)."""
    import importlib

    for name in ("_sha2", "_sha256"):  # Python 3.12+, 3.11
        try:
            return importlib.import_module(name).sha256(data)
        except ImportError:
            continue
    import hashlib

    return hashlib.sha256(data)


def _machine() -> str:
    """``platform.machine()`` (what ``os.uname()`` says on POSIX, without importing
    :mod:`platform`)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().machine)
    import platform

    return platform.machine()


def cache_directory() -> Path:
    """Where compiled databases are kept (see the module docstring)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override) / "sanitizers"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "modelops" / "sanitizers"


def database_key(expressions: Sequence[bytes], ids: Sequence[int], flags: int, mode: int) -> str:
    """The cache key of a database: what its compiled bytes depend on."""
    import hyperscan

    digest = sha256()
    for part in (
        f"hyperscan={getattr(hyperscan, '__version__', '?')}",
        f"machine={_machine()}",
        f"platform={sys.platform}",
        f"mode={mode}",
        f"flags={flags}",
        f"ids={list(ids)}",
    ):
        digest.update(part.encode() + b"\0")
    for expression in expressions:
        digest.update(len(expression).to_bytes(4, "big") + expression)
    return str(digest.hexdigest())


def load_or_compile(
    expressions: Sequence[bytes],
    ids: Sequence[int],
    *,
    flags: int = 0,
    directory: Path | None = None,
) -> LoadedDatabase:
    """A block-mode database of ``expressions``: loaded from the cache, else compiled (and
    cached)."""
    import time

    import hyperscan

    started = time.perf_counter()
    mode = hyperscan.HS_MODE_BLOCK
    folder = cache_directory() if directory is None else directory
    path = folder / f"{database_key(expressions, ids, flags, mode)}.hsdb"
    reason: str | None = None
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        blob = None
    except OSError as exc:  # unreadable: compile, and try to replace it below
        blob, reason = None, f"unreadable ({exc.strerror})"
    if blob is not None:
        database, reason = _deserialize(blob, mode)
        if database is not None:
            return LoadedDatabase(database, "cache", path, time.perf_counter() - started)
    database = hyperscan.Database(mode=mode)
    database.compile(expressions=list(expressions), ids=list(ids), elements=len(ids), flags=flags)
    written = _write_atomically(path, hyperscan.dumpb(database))
    return LoadedDatabase(
        database,
        "compiled",
        path if written else None,
        time.perf_counter() - started,
        reason,
    )


def _deserialize(blob: bytes, mode: int) -> tuple[Any, str | None]:
    """The database in ``blob`` with its scratch, or ``None`` and why it cannot be used."""
    import hyperscan

    header = len(MAGIC) + DIGEST_SIZE
    if len(blob) <= header or not blob.startswith(MAGIC):
        return None, "not a modelops hyperscan cache file (truncated or overwritten)"
    payload = blob[header:]
    if sha256(payload).digest() != blob[len(MAGIC) : header]:
        return None, "checksum mismatch (corrupted)"
    try:
        database = hyperscan.loadb(payload, mode)
        database.scratch = hyperscan.Scratch(database)
    except hyperscan.error as exc:  # another CPU or hyperscan build
        return None, f"hyperscan refused it ({type(exc).__name__}: {exc})"
    return database, None


def _write_atomically(path: Path, payload: bytes) -> bool:
    """Write ``MAGIC + sha256 + payload`` to ``path`` via a temporary file; ``False`` if the
    directory cannot be written (the database is then only kept in memory)."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # here: only a process that compiles writes

        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        blob = MAGIC + sha256(payload).digest() + payload
        with os.fdopen(handle, "wb") as file:
            file.write(blob[: len(blob) // 2])
            _crash_point("half-written", file)
            file.write(blob[len(blob) // 2 :])
            file.flush()
            os.fsync(file.fileno())
        _crash_point("written")
        os.replace(temporary, path)
        temporary = None
        return True
    except OSError:
        return False
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _crash_point(name: str, file: Any = None) -> None:
    if os.environ.get(CRASH_HOOK) == name:
        if file is not None:
            file.flush()
        os._exit(CRASH_EXIT)
