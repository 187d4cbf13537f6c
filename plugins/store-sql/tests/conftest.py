"""The ``store`` fixture: a :class:`SqlStore` on SQLite and on the PostgreSQL server; the
``plain_sql`` fixture: a second connection to its database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops_store_sql.store import SqlStore
from store_sql_plain import PlainSql

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


@pytest.fixture
def plain_sql(store: SqlStore) -> Iterator[PlainSql]:
    """Plain SQL on the database of ``store`` through a second connection."""
    opened = PlainSql(store)
    yield opened
    opened.connection.close()
