"""The plugin module stays cheap to import."""

from __future__ import annotations

from modelops_core.testing import packages_imported_by


def test_importing_the_plugin_imports_no_database_driver() -> None:
    assert not packages_imported_by("import modelops_store_sql.plugin") & {"sqlite3", "psycopg"}
