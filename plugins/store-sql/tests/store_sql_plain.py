"""A second connection to a store's database for plain SQL (a module of its own: every plugin's
tests run in one pytest session, where importing a ``conftest`` by name picks another's)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from modelops_store_sql.store import SqlStore

from modelops_core.testing import DEFAULT_POSTGRES_URL


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
