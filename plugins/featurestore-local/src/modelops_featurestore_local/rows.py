"""Feature rows and feature set schemas in one SQLite database (WAL, one cached connection).

Every push is a row keyed by (feature set, version, entity, event time), so point-in-time reads
are an index seek: the latest row with ``ts <= as_of``, and a batch write is one insert per
row (a separate "latest" table measured slower to write and no faster to read: the
``max(ts)`` per entity is a seek on the primary key). Values are msgpack blobs.
:meth:`SqliteRows.prune` bounds the history.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from modelops_core.features.values import Codec, FeatureRow, FeatureSetInfo, FeatureStoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_sets (
    name TEXT NOT NULL, version INTEGER NOT NULL, schema TEXT NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feature_rows (
    feature_set TEXT NOT NULL, version INTEGER NOT NULL, entity TEXT NOT NULL,
    ts REAL NOT NULL, expires REAL, data BLOB NOT NULL,
    PRIMARY KEY (feature_set, version, entity, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vector_indexes (
    name TEXT PRIMARY KEY, dim INTEGER NOT NULL, metric TEXT NOT NULL,
    count INTEGER NOT NULL, generation INTEGER NOT NULL
);
"""
_LATEST = (
    "SELECT ts, expires, data FROM feature_rows WHERE feature_set = ? AND version = ? "
    "AND entity = ? ORDER BY ts DESC LIMIT 1"
)
_AS_OF = (
    "SELECT ts, expires, data FROM feature_rows WHERE feature_set = ? AND version = ? "
    "AND entity = ? AND ts <= ? ORDER BY ts DESC LIMIT 1"
)
# Rows before the cut that a newer row (also at or before the cut) superseded, then rows
# expired by the cut: no read without as_of, or with as_of >= the cut, can return them.
_PRUNE_SUPERSEDED = """
DELETE FROM feature_rows WHERE ts < :cut{where} AND EXISTS (
    SELECT 1 FROM feature_rows AS newer WHERE newer.feature_set = feature_rows.feature_set
    AND newer.version = feature_rows.version AND newer.entity = feature_rows.entity
    AND newer.ts > feature_rows.ts AND newer.ts <= :cut)
"""
_PRUNE_EXPIRED = "DELETE FROM feature_rows WHERE expires <= :cut{where}"
_CHUNK = 900  # bound variables per IN (...) query
# A batch is inserted 200 rows per statement (the set and version bound once: 802 variables,
# under SQLite's historical limit of 999): ~30% faster than one statement per row.
_ROWS_PER_INSERT = 200
_INSERT_ONE = "INSERT OR REPLACE INTO feature_rows VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_MANY = "INSERT OR REPLACE INTO feature_rows VALUES " + ",".join(
    f"(?1, ?2, ?{3 + 4 * row}, ?{4 + 4 * row}, ?{5 + 4 * row}, ?{6 + 4 * row})"
    for row in range(_ROWS_PER_INSERT)
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the database in WAL mode, autocommit, usable from any thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        _set_up(connection)
    except sqlite3.Error as exc:
        raise FeatureStoreError(
            f"Cannot open the feature store database {str(path)!r}: {exc}. Check that the "
            "directory is writable, or set [features] root to another directory."
        ) from exc
    return connection


def _set_up(connection: sqlite3.Connection, patience: float = 10.0) -> None:
    """WAL mode and the schema. Switching a new database to WAL takes an exclusive lock that
    SQLite does not wait for (no busy handler there): processes opening a new store at once
    retry for up to ``patience`` seconds instead of failing with "database is locked"."""
    import time

    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA temp_store=MEMORY")
            connection.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class SqliteRows:
    """Feature rows of the local store (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = connection
        self._lock = lock
        self._codec = Codec()
        self._decode = self._codec.decode

    def put_schema(
        self, feature_set: str, version: int, schema: Mapping[str, str]
    ) -> Mapping[str, str]:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO feature_sets (name, version, schema) VALUES (?, ?, ?)",
                (feature_set, version, json.dumps(dict(schema))),
            )
            found = self.get_schema(feature_set, version)
        assert found is not None
        return found

    def get_schema(self, feature_set: str, version: int) -> Mapping[str, str] | None:
        row = self._db.execute(
            "SELECT schema FROM feature_sets WHERE name = ? AND version = ?",
            (feature_set, version),
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def feature_sets(self) -> list[FeatureSetInfo]:
        counts = dict(
            ((name, version), count)
            for name, version, count in self._db.execute(
                "SELECT feature_set, version, count(DISTINCT entity) FROM feature_rows "
                "GROUP BY feature_set, version"
            )
        )
        declared = {
            (name, version): json.loads(schema)
            for name, version, schema in self._db.execute(
                "SELECT name, version, schema FROM feature_sets"
            )
        }
        keys = sorted(set(counts) | set(declared))
        return [
            FeatureSetInfo(name, version, declared.get((name, version), {}), counts.get(
                (name, version), 0))
            for name, version in keys
        ]  # fmt: skip

    def write_rows(self, feature_set: str, version: int, rows: Sequence[FeatureRow]) -> None:
        encode = self._codec.encode
        flat: list[object] = []
        for entity, features, timestamp, expires in rows:
            flat += (entity, timestamp, expires, encode(features, entity))
        whole = len(rows) - len(rows) % _ROWS_PER_INSERT
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, whole * 4, _ROWS_PER_INSERT * 4):
                    chunk = flat[start : start + _ROWS_PER_INSERT * 4]
                    self._db.execute(_INSERT_MANY, (feature_set, version, *chunk))
                self._db.executemany(
                    _INSERT_ONE,
                    ((feature_set, version, *flat[at : at + 4]) for at in range(whole * 4,
                                                                               len(flat), 4)),
                )  # fmt: skip
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read_rows(
        self, feature_set: str, version: int, entities: Sequence[str], as_of: float | None
    ) -> list[FeatureRow | None]:
        if len(entities) == 1:
            entity = entities[0]
            if as_of is None:
                found = self._db.execute(_LATEST, (feature_set, version, entity)).fetchone()
            else:
                found = self._db.execute(_AS_OF, (feature_set, version, entity, as_of)).fetchone()
            if found is None:
                return [None]
            return [FeatureRow(entity, self._decode(found[2]), found[0], found[1])]
        by_entity: dict[str, FeatureRow] = {}
        decode = self._decode
        for start in range(0, len(entities), _CHUNK):
            chunk = entities[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            when = "" if as_of is None else " AND ts <= ?"
            # SQLite returns the other columns from the row holding max(ts).
            sql = (
                f"SELECT entity, max(ts), expires, data FROM feature_rows WHERE feature_set = ? "
                f"AND version = ? AND entity IN ({marks}){when} GROUP BY entity"
            )
            parameters = [feature_set, version, *chunk]
            if as_of is not None:
                parameters.append(as_of)
            for entity, ts, expires, data in self._db.execute(sql, parameters):
                by_entity[entity] = FeatureRow(entity, decode(data), ts, expires)
        return [by_entity.get(entity) for entity in entities]

    def entities(self, feature_set: str, version: int, limit: int) -> list[str]:
        return [
            entity
            for (entity,) in self._db.execute(
                "SELECT DISTINCT entity FROM feature_rows WHERE feature_set = ? AND version = ? "
                "ORDER BY entity LIMIT ?",
                (feature_set, version, limit),
            )
        ]

    def prune(self, older_than: float, feature_set: str | None, version: int | None) -> int:
        """Delete the rows no read without ``as_of``, or with ``as_of >= older_than``, can
        return: rows superseded by a newer row at or before ``older_than``, then rows expired
        by then. Returns how many rows (pushes) were deleted."""
        where, parameters = "", {"cut": older_than, "set": feature_set, "version": version}
        if feature_set is not None:
            where += " AND feature_set = :set"
        if version is not None:
            where += " AND version = :version"
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                deleted = sum(
                    self._db.execute(sql.format(where=where), parameters).rowcount
                    for sql in (_PRUNE_SUPERSEDED, _PRUNE_EXPIRED)
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return deleted
