"""The serving database: the traffic table and the SQL request log, on SQLite or PostgreSQL.

Two tables (``[serving] database``; default: the registry's PostgreSQL URL, else
``<home>/serving.db``)::

    modelops_traffic (model TEXT PRIMARY KEY, weights TEXT, shadows TEXT, salt TEXT,
                      updated_at REAL, updated_by TEXT)
    modelops_requests (id TEXT PRIMARY KEY, timestamp REAL, model TEXT, version TEXT,
                       variant TEXT, shadow INTEGER, unit TEXT, latency_ms REAL,
                       status INTEGER, endpoint TEXT, input TEXT, output TEXT, error TEXT)

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
        salt TEXT NOT NULL, updated_at REAL NOT NULL, updated_by TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {requests} (
        id TEXT PRIMARY KEY, timestamp REAL NOT NULL, model TEXT NOT NULL, version TEXT,
        variant TEXT, shadow INTEGER NOT NULL, unit TEXT, latency_ms REAL NOT NULL,
        status INTEGER NOT NULL, endpoint TEXT NOT NULL, input TEXT, output TEXT,
        error TEXT)""",
    "CREATE INDEX IF NOT EXISTS {index} ON {requests} (model, timestamp)",
)


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
                if self.schema:
                    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            else:
                Path(self.location).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.location, timeout=10.0, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            for statement in _TABLES:
                connection.execute(
                    statement.format(
                        traffic=self.traffic_table,
                        requests=self.requests_table,
                        index="modelops_requests_model_time",  # in the table's schema
                    )
                )
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

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (written with ``?``) and return its rows."""
        connection = self._connect()
        cursor = connection.execute(self._sql(statement), tuple(parameters))
        return list(cursor.fetchall()) if cursor.description else []

    def insert_requests(self, rows: Iterable[Sequence[Any]]) -> int:
        """Append request rows (values in :data:`REQUEST_COLUMNS` order) in one transaction."""
        batch = [tuple(row) for row in rows]
        if not batch:
            return 0
        connection = self._connect()
        marks = ", ".join("?" for _ in REQUEST_COLUMNS)
        statement = self._sql(
            f"INSERT INTO {self.requests_table} ({', '.join(REQUEST_COLUMNS)}) VALUES ({marks})"
            " ON CONFLICT (id) DO NOTHING"
        )
        if self.postgres:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(statement, batch)
        else:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(statement, batch)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
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
