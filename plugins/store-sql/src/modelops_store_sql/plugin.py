"""The ``modelops-store-sql`` plugin: declares the registry and tracking backend ``sql``.

The core chooses the backend of ``[registry]`` and of ``[tracking]`` among the components of
one kind, ``registry_backend``, so the one component ``sql`` serves both:
``modelops_store_sql.store:SqlStore``, the registry backend (``SqlRegistry``) and the tracking
backend (``SqlTracking``) on one connection. Importing this module imports neither sqlite3 nor
psycopg.
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
