"""The serving database: the traffic table and the SQL request log, on SQLite or PostgreSQL.

Two tables (``[serving] database``; default: the registry's PostgreSQL URL, else
``<home>/serving.db``)::

    modelops_traffic (model TEXT PRIMARY KEY, weights TEXT, shadows TEXT, salt TEXT,
                      updated_at FLOAT, updated_by TEXT)
    modelops_requests (id TEXT PRIMARY KEY, timestamp FLOAT, model TEXT, version TEXT,
                       variant TEXT, shadow INTEGER, unit TEXT, latency_ms FLOAT,
                       status INTEGER, endpoint TEXT, input TEXT, output TEXT, error TEXT)

``FLOAT`` is SQLite's ``REAL`` and PostgreSQL's ``DOUBLE PRECISION`` (8 bytes: PostgreSQL's
``REAL`` has 4, which rounds a Unix time to 128 s). Tables are created under an advisory lock
on PostgreSQL, so processes opening a new database at once do not race.

``weights`` is a JSON object alias -> percent, ``shadows`` a JSON list of aliases; ``input``
and ``output`` are JSON texts (NULL when not sampled). Each thread opens its own
:class:`ServingDatabase`; SQLite runs in WAL mode with a busy timeout, so the server's
writer, its traffic reader and ``modelops traffic set`` never block each other for long.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from modelops_core.config import mask_url, mask_urls_in
from modelops_core.store.contract import StoreConnectionError

__all__ = ["REQUEST_COLUMNS", "ServingDatabase"]

#: the columns of ``modelops_requests``, in the order rows are written
REQUEST_COLUMNS = (
    "id", "timestamp", "model", "version", "variant", "shadow", "unit", "latency_ms",
    "status", "endpoint", "input", "output", "error",
)  # fmt: skip
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TABLES = (
    """CREATE TABLE IF NOT EXISTS {traffic} (
        model TEXT PRIMARY KEY, weights TEXT NOT NULL, shadows TEXT NOT NULL,
        salt TEXT NOT NULL, updated_at {float} NOT NULL, updated_by TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {requests} (
        id TEXT PRIMARY KEY, timestamp {float} NOT NULL, model TEXT NOT NULL, version TEXT,
        variant TEXT, shadow INTEGER NOT NULL, unit TEXT, latency_ms {float} NOT NULL,
        status INTEGER NOT NULL, endpoint TEXT NOT NULL, input TEXT, output TEXT,
        error TEXT)""",
    "CREATE INDEX IF NOT EXISTS {index} ON {requests} (model, timestamp)",
)
#: PostgreSQL tables of an earlier release declared these columns REAL (4 bytes): widened
_WIDENED = (("{traffic}", "updated_at"), ("{requests}", "timestamp"), ("{requests}", "latency_ms"))
#: the key of the advisory lock that serializes creating the tables on PostgreSQL
_CREATE_LOCK = 0x6D6F_6465_6C6F_7073 & 0x7FFF_FFFF_FFFF_FFFF


class ServingDatabase:
    """One connection to the serving database (open on first use; :meth:`close` it).

    :param location: a ``postgresql://`` URL or the path of a SQLite file.
    :param schema: the PostgreSQL schema of the tables (created when missing).
    """

    def __init__(self, location: str, schema: str | None = None) -> None:
        self.location = location
        self.postgres = location.startswith(("postgresql://", "postgres://"))
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise StoreConnectionError(
                f"Invalid PostgreSQL schema name {schema!r} for the serving database: use "
                "letters, digits and '_' (at most 63), starting with a letter or '_'."
            )
        self.schema = schema if self.postgres else None
        prefix = f'"{self.schema}".' if self.schema else ""
        self.traffic_table = f"{prefix}modelops_traffic"
        self.requests_table = f"{prefix}modelops_requests"
        self._connection: Any = None

    @property
    def shown(self) -> str:
        """The location with any password masked (for messages)."""
        return mask_url(self.location) if self.postgres else self.location

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        connection: Any
        try:
            if self.postgres:
                import psycopg

                connection = psycopg.connect(self.location, autocommit=True, connect_timeout=10)
            else:
                Path(self.location).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.location, timeout=10.0, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            self._create_tables(connection)
        except ImportError as exc:
            raise StoreConnectionError(
                f"The serving database {self.shown} is PostgreSQL and psycopg is not installed: "
                "pip install 'psycopg[binary]'."
            ) from exc
        except Exception as exc:
            raise StoreConnectionError(
                f"Cannot open the serving database {self.shown}: {mask_urls_in(str(exc))}. "
                "Check [serving] database (or [registry] url) and that the server is up."
            ) from exc
        self._connection = connection
        return connection

    def _create_tables(self, connection: Any) -> None:
        names = {
            "traffic": self.traffic_table,
            "requests": self.requests_table,
            "index": "modelops_requests_model_time",  # in the table's schema
            "float": "DOUBLE PRECISION" if self.postgres else "REAL",
        }
        if not self.postgres:
            for statement in _TABLES:
                connection.execute(statement.format(**names))
            return
        # CREATE ... IF NOT EXISTS is not atomic on PostgreSQL: two processes creating a new
        # schema or table at once can both try and one fails on the catalog's unique index.
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
            if self.schema:
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            for statement in _TABLES:
                connection.execute(statement.format(**names))
            for table, column in _WIDENED:
                qualified = table.format(**names)
                kind = connection.execute(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                    "COALESCE(%s, current_schema()) AND table_name = %s AND column_name = %s",
                    (self.schema, qualified.rsplit(".", 1)[-1], column),
                ).fetchone()
                if kind is not None and kind[0] == "real":
                    connection.execute(
                        f"ALTER TABLE {qualified} ALTER COLUMN {column} TYPE DOUBLE PRECISION"
                    )

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (written with ``?``) and return its rows."""
        connection = self._connect()
        cursor = connection.execute(self._sql(statement), tuple(parameters))
        return list(cursor.fetchall()) if cursor.description else []

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement (written with ``?``) for every row, in one transaction: all
        rows or none (``execute`` commits each statement on its own)."""
        connection = self._connect()
        if self.postgres:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(self._sql(statement), rows)
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(statement, rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def insert_requests(self, rows: Iterable[Sequence[Any]]) -> int:
        """Append request rows (values in :data:`REQUEST_COLUMNS` order) in one transaction."""
        batch = [tuple(row) for row in rows]
        if not batch:
            return 0
        marks = ", ".join("?" for _ in REQUEST_COLUMNS)
        self.execute_many(
            f"INSERT INTO {self.requests_table} ({', '.join(REQUEST_COLUMNS)}) VALUES ({marks})"
            " ON CONFLICT (id) DO NOTHING",
            batch,
        )
        return len(batch)

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def __enter__(self) -> ServingDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
