"""What a driver's error means for the store: a damaged SQLite file, a lock worth retrying.

The registry and the tracking backend translate driver errors through these, so both name the
file and the fix the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from modelops_core.store.contract import StorageError, StoreConnectionError

# SQLite result codes (the low byte of sqlite_errorcode) of a damaged file
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class DatabaseDamagedError(StorageError):
    """The SQLite database file is damaged (empty, not a database, or malformed pages)."""


class DuplicateRow(Exception):
    """Raised inside a write when a unique or foreign-key constraint refused a row; the
    backend that wrote it says what that means (a duplicate version, an unknown run)."""


def damage(path: Path | str, exc: BaseException, section: str) -> DatabaseDamagedError | None:
    """A :class:`DatabaseDamagedError` naming ``path`` if ``exc`` says the file is damaged.

    :param section: the config table that points at the file (``"registry"``, ``"tracking"``).
    """
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code not in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return None
    return DatabaseDamagedError(damaged_message(path, f"SQLite says: {exc}", section))


def damaged_message(path: Path | str, why: str, section: str) -> str:
    """What a damaged file means and what to do, naming ``[section] path``."""
    holds = "a registry" if section == "registry" else "tracked runs"
    return (
        f"The SQLite database {str(path)!r} is damaged ({why}); modelops did not change it. "
        "Restore it from a backup, or copy out what SQLite can still read with "
        f'`sqlite3 {str(path)!r} ".recover" | sqlite3 recovered.db` and point [{section}] path '
        f"at the result. If the file should not hold {holds}, move it away: a new one is "
        "created in its place."
    )


def cannot_open(path: Path, exc: BaseException, section: str) -> StoreConnectionError:
    """The error of a SQLite file that cannot be opened (a folder not writable, ...)."""
    return StoreConnectionError(
        f"Cannot open the SQLite database {str(path)!r}: {exc}. Check that its folder is "
        f"writable, or set [{section}] path / url in modelops.toml."
    )


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` (one of the dialect's retryable errors) is worth another attempt."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text
    return True  # the PostgreSQL errors we catch are all retryable
