"""The ``modelops-store-sql`` plugin: declares the registry and tracking backend ``sql``.

One ``registry_backend`` component named ``sql`` serves both the model registry
(``[registry] backend = "sql"``) and experiment tracking (``[tracking] backend = "sql"``).
Importing this module imports neither sqlite3 nor psycopg.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_registry_backends(registry: ComponentRegistrar) -> None:
    registry.add(
        "sql",
        "modelops_store_sql.store:SqlStore",
        description="registry + tracking on SQLite (<home>/modelops.db) or PostgreSQL (url = ...)",
    )
