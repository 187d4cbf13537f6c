"""The ``sql`` backend passes the registry backend contract on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_store_sql import plugin

from modelops_core.testing import (
    DEFAULT_POSTGRES_URL,
    RegistryBackendContract,
    fresh_postgres_schema,
    postgres_url_or_skip,
)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema, dropped afterwards."""
    with fresh_postgres_schema(postgres_url_or_skip()) as schema:
        yield schema


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
        return {"home": str(tmp_path), "url": DEFAULT_POSTGRES_URL, "schema": self.schema}
