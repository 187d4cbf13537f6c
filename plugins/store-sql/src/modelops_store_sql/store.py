"""``SqlStore``: the ``sql`` component, the registry and the tracking backend on one connection.

The core asks for the backend of ``[registry]`` and of ``[tracking]`` alike, as a component of
the one kind ``registry_backend``, and its factory is not told which table asked. So the ``sql``
component offers both protocols: :class:`SqlStore` is :class:`SqlRegistry` and
:class:`SqlTracking` over one :class:`~modelops_store_sql.database.SqlDatabase`, with no code
of its own. Code that needs one of the two builds that class:
``ModelRegistry(backend=SqlRegistry(...))``, ``ExperimentTracker(backend=SqlTracking(...))``.
"""

from __future__ import annotations

from modelops_store_sql.errors import DatabaseDamagedError
from modelops_store_sql.registry import SqlRegistry
from modelops_store_sql.tracking import SqlTracking

__all__ = ["DatabaseDamagedError", "SqlRegistry", "SqlStore", "SqlTracking"]


class SqlStore(SqlRegistry, SqlTracking):
    """Registry and tracking backend ``sql``: one connection, one schema migrated on open.

    Takes the options of :class:`~modelops_store_sql.database.SqlDatabase` (``home``, ``url``,
    ``path``, ``schema``, ``busy_timeout``, ``retries``, ``connect_timeout``); its errors name
    ``[registry]``.
    """
