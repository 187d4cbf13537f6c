"""The ``modelops-featurestore-redis`` plugin: declares the feature store ``redis``.

Importing this module does not import redis-py.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar


@hookimpl
def modelops_register_feature_stores(registry: ComponentRegistrar) -> None:
    registry.add(
        "redis",
        "modelops_featurestore_redis.store:RedisFeatureStore",
        description="Redis hashes per entity, pipelines, TTL via PEXPIREAT, exact kNN",
    )
