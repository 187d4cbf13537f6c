"""One open SQL database: the plumbing the registry and the tracking backend share.

:class:`SqlDatabase` opens the connection (:mod:`modelops_store_sql.connect`), brings the one
schema of both backends up to date on open (:mod:`modelops_store_sql.schema`; migrated once
whoever opens the database first), and runs reads and write transactions: one writer at a time,
retried while the database is locked, driver errors translated into the store's errors
(:mod:`modelops_store_sql.errors`). It stores nothing itself:
:class:`~modelops_store_sql.registry.SqlRegistry` and
:class:`~modelops_store_sql.tracking.SqlTracking` are built on it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from modelops_core.config import mask_url, mask_urls_in
from modelops_core.store.contract import SchemaVersionError, StorageError, StoreLockedError
from modelops_store_sql.connect import (
    POSTGRES,
    SQLITE,
    connect_postgres,
    connect_sqlite,
    is_postgres_url,
    open_writer_lock,
    postgres_integrity_error,
    postgres_retryable,
    sqlite_path,
)
from modelops_store_sql.errors import DatabaseDamagedError, DuplicateRow, damage, is_lock_error
from modelops_store_sql.schema import LATEST, MIGRATIONS

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
Execute = Callable[..., Any]


class SqlDatabase:
    """An open SQLite or PostgreSQL database with the modelops schema, for a backend to use.

    :param home: the modelops home directory (given by the facades).
    :param url: ``postgresql://user:pass@host:port/db`` for PostgreSQL, or ``sqlite:///path``;
        default: SQLite at ``path`` or ``<home>/modelops.db``.
    :param path: the SQLite file (when no ``url``).
    :param schema: PostgreSQL schema to use (created if missing; default: ``search_path``).
    :param busy_timeout: seconds SQLite waits for another writer before one retry.
    :param retries: retries of a locked (SQLite) or serialization-failed (PostgreSQL) write
        before :class:`StoreLockedError`.
    :param connect_timeout: seconds to wait for the PostgreSQL server.
    """

    #: the config table that chooses this backend, named in errors
    section = "registry"

    def __init__(
        self,
        home: str = ".modelops",
        url: str | None = None,
        path: str | None = None,
        schema: str | None = None,
        busy_timeout: float = 5.0,
        retries: int = 5,
        connect_timeout: float = 5.0,
    ) -> None:
        self._lock = threading.RLock()
        self._writer_lock: int | None = None
        self.retries = retries
        self.busy_timeout = busy_timeout
        if url is not None and is_postgres_url(url):
            self.location = mask_url(url)
            self._dialect = POSTGRES
            self._connection: Any = connect_postgres(url, schema, connect_timeout)
            self._lock_errors: tuple[type[BaseException], ...] = postgres_retryable()
            self._integrity_error: type[BaseException] = postgres_integrity_error()
        else:
            db_path = sqlite_path(home, url, path)
            self.location = str(db_path)
            self._dialect = SQLITE
            self._connection = connect_sqlite(db_path, busy_timeout, self.section)
            self._writer_lock = open_writer_lock(db_path)
            self._lock_errors = (sqlite3.OperationalError,)
            self._integrity_error = sqlite3.IntegrityError
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._dialect.name}: {self.location!r})"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._dialect.name

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._writer_lock is not None:
                os.close(self._writer_lock)
                self._writer_lock = None

    # --- reads and writes ----------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        if self._dialect is SQLITE:
            return statement
        return statement.replace("?", "%s")

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read (its own snapshot, outside any transaction)."""
        with self._lock:
            try:
                cursor = self._connection.execute(self._sql(statement), params)
                return list(cursor.fetchall())
            except sqlite3.DatabaseError as exc:
                damaged = damage(self.location, exc, self.section)
                if damaged is not None:
                    raise damaged from exc
                raise

    @contextmanager
    def _transaction(self) -> Iterator[Execute]:
        connection = self._open_connection()

        def execute(statement: str, params: Sequence[Any] = ()) -> Any:
            return connection.execute(self._sql(statement), params)

        connection.execute("BEGIN IMMEDIATE" if self._dialect is SQLITE else "BEGIN")
        try:
            yield execute
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _execute_alone(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement in autocommit mode: a transaction of its own, with no ``BEGIN`` /
        ``COMMIT`` round trips (PostgreSQL) or separate lock and commit steps (SQLite)."""
        return self._open_connection().execute(self._sql(statement), params)

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``statement`` once per row, in the current transaction (one driver call)."""
        self._open_connection().cursor().executemany(self._sql(statement), rows)

    def _open_connection(self) -> Any:
        connection = self._connection
        if connection is None:
            raise StorageError(f"The store {self.location!r} is closed; create a new one.")
        return connection

    def _write(
        self,
        work: Callable[[Execute], T],
        what: str,
        *,
        single_statement: bool = False,
    ) -> T:
        """Run ``work(execute)`` in one write transaction, retrying while the database is locked.

        A row refused by a constraint raises :class:`DuplicateRow` for the caller to explain.

        :param what: what the write does ("register m 2"), for errors.
        :param single_statement: ``work`` runs exactly one statement, so PostgreSQL needs no
            ``BEGIN`` / ``COMMIT`` round trips around it.
        """
        delay = 0.01
        for attempt in range(self.retries + 1):
            with self._lock:
                try:
                    self._take_writer_turn()
                    try:
                        if single_statement:
                            return work(self._execute_alone)
                        with self._transaction() as execute:
                            return work(execute)
                    finally:
                        self._end_writer_turn()
                except self._integrity_error as exc:
                    raise DuplicateRow(str(exc)) from exc
                except self._lock_errors as exc:
                    if not is_lock_error(exc) or attempt == self.retries:
                        if is_lock_error(exc):
                            raise StoreLockedError(
                                f"Cannot {what}: the database {self.location!r} stayed locked by "
                                f"another writer ({mask_urls_in(str(exc))}) after "
                                f"{self.retries + 1} attempts. "
                                "Retry when the other process has finished, or raise "
                                f"busy_timeout / retries in [{self.section}]."
                            ) from exc
                        raise StorageError(
                            f"Cannot {what} in {self.location!r}: {mask_urls_in(str(exc))}"
                        ) from exc
                except sqlite3.DatabaseError as exc:  # never raised on PostgreSQL
                    damaged = damage(self.location, exc, self.section)
                    if damaged is not None:
                        raise damaged from exc
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def _take_writer_turn(self) -> None:
        """Queue SQLite writers of this machine on a file lock (released by
        :meth:`_end_writer_turn`).

        SQLite's own busy handler sleeps 1, 2, 5 … 100 ms between tries, so under contention
        writers sleep while the database is free. A file lock wakes the next writer as soon
        as the previous one commits. Writers that do not take it (another program) are still
        handled by the busy timeout and the retries of :meth:`_write`.
        """
        if self._writer_lock is None:
            return
        try:  # free nearly always: one system call
            fcntl.flock(self._writer_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.0001
        while True:
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
            try:
                fcntl.flock(self._writer_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (another modelops writer held it for "
                        f"{self.busy_timeout} s)"
                    ) from None

    def _end_writer_turn(self) -> None:
        if self._writer_lock is not None:
            fcntl.flock(self._writer_lock, fcntl.LOCK_UN)

    # --- the schema ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema (both backends' tables) to :data:`LATEST`, unless it is there:
        of the processes opening a database, the first migrates it and the others wait for
        it (SQLite's write lock, PostgreSQL's advisory lock), then find nothing to do."""
        current = self._schema_version()
        if current == LATEST:
            return

        def migrate(execute: Execute) -> None:
            if self._dialect is POSTGRES:
                execute("SELECT pg_advisory_xact_lock(7305001)")
            execute("CREATE TABLE IF NOT EXISTS modelops_schema (version INTEGER NOT NULL)")
            rows = execute("SELECT MAX(version) FROM modelops_schema").fetchall()
            found = rows[0][0] or 0
            self._refuse_newer(found)
            for version in range(found + 1, LATEST + 1):
                for step in MIGRATIONS[version]:
                    if isinstance(step, str):
                        execute(step.replace("{pk}", self._dialect.pk))
                    else:
                        step(execute)
                execute("INSERT INTO modelops_schema (version) VALUES (?)", (version,))

        self._write(migrate, "create or migrate the schema")

    def _schema_version(self) -> int:
        try:
            rows = self._query("SELECT MAX(version) FROM modelops_schema")
        except DatabaseDamagedError:
            raise
        except Exception:  # no such table yet: a new database
            if self._dialect is POSTGRES:
                self._connection.rollback()
            return 0
        found = int(rows[0][0] or 0)
        self._refuse_newer(found)
        return found

    def _refuse_newer(self, found: int) -> None:
        if found > LATEST:
            raise SchemaVersionError(
                f"The database {self.location!r} has schema version {found}, newer than the "
                f"{LATEST} this modelops-store-sql supports. Upgrade it "
                "(pip install -U modelops-store-sql) instead of writing to it with an old one."
            )


# --- values in TEXT columns --------------------------------------------------------------------


def json_text(value: Mapping[str, Any]) -> str:
    """How a mapping (metadata, tags, lineage, details) is kept: compact, sorted JSON."""
    if not value:  # most metadata, tags and lineage are empty
        return "{}"
    return json.dumps(dict(value), sort_keys=True, separators=(",", ":"))


def marks(count: int) -> str:
    """``count`` parameter marks: ``?, ?, ?``."""
    return ", ".join("?" * count)
