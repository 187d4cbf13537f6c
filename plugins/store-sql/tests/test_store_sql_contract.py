"""The ``sql`` backend passes the registry backend contract on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_store_sql import plugin

from modelops_core.testing import RegistryBackendContract

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when the server answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'modelops-store-sql[test]')"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} cannot be reached: {str(exc).strip()[:200]}"
    return None


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema, dropped afterwards."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"modelops_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class TestSqliteBackend(RegistryBackendContract):
    plugin = plugin
    component_name = "sql"
    distribution = "modelops-store-sql"


class TestPostgresBackend(RegistryBackendContract):
    plugin = plugin
    component_name = "sql"
    distribution = "modelops-store-sql"

    @pytest.fixture(autouse=True)
    def _schema(self, postgres_schema: str) -> None:
        self.schema = postgres_schema

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path), "url": POSTGRES_URL, "schema": self.schema}
