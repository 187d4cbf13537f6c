"""The ``modelops-featurestore-local`` plugin: declares the feature store ``local``.

Importing this module imports neither sqlite3, numpy nor usearch.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_feature_stores(registry: ComponentRegistrar) -> None:
    registry.add(
        "local",
        "modelops_featurestore_local.store:LocalFeatureStore",
        description="SQLite (WAL) rows + numpy embeddings under <home>/features, HNSW search",
    )
