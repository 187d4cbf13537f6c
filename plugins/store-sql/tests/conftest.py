"""The ``store`` fixture: a :class:`SqlStore` on SQLite and on the PostgreSQL server; the
``plain_sql`` fixture: a second connection to its database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from modelops_store_sql.store import SqlStore

from modelops_core.testing import (
    DEFAULT_POSTGRES_URL,
    fresh_postgres_schema,
    postgres_url_or_skip,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A new store under ``tmp_path``, or in a fresh schema of the PostgreSQL server on
    127.0.0.1:5432 (dropped afterwards; skipped when the server is down)."""
    if request.param == "sqlite":
        opened = SqlStore(home=str(tmp_path))
        yield opened
        opened.close()
        return
    postgres_url_or_skip()
    with fresh_postgres_schema(DEFAULT_POSTGRES_URL, prefix="modelops_store") as schema:
        opened = SqlStore(url=DEFAULT_POSTGRES_URL, schema=schema)
        yield opened
        opened.close()


class PlainSql:
    """A second connection to a store's database, autocommitted, for plain SQL: hostile rows,
    or a transaction held open while the store works (``?`` placeholders on both)."""

    def __init__(self, store: SqlStore) -> None:
        self.dialect = store.dialect
        if store.dialect == "sqlite":
            self.connection: Any = sqlite3.connect(
                store.location, isolation_level=None, check_same_thread=False
            )
            return
        import psycopg

        schema = store._query("SELECT current_schema()")[0][0]
        self.connection = psycopg.connect(DEFAULT_POSTGRES_URL, autocommit=True)
        self.connection.execute(f'SET search_path TO "{schema}"')

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.dialect == "postgresql":
            statement = statement.replace("?", "%s")
        cursor = self.connection.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.dialect == "postgresql":
            statement = statement.replace("?", "%s")
        self.connection.cursor().executemany(statement, rows)

    def begin(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")

    def commit(self) -> None:
        self.connection.execute("COMMIT")


@pytest.fixture
def plain_sql(store: SqlStore) -> Iterator[PlainSql]:
    """Plain SQL on the database of ``store`` through a second connection."""
    opened = PlainSql(store)
    yield opened
    opened.connection.close()
