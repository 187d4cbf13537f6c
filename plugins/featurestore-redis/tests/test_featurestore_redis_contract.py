"""The ``redis`` feature store passes the feature store contract against the real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelops_featurestore_redis import plugin

from modelops_core.testing import FeatureStoreContract

REDIS_URL = "redis://127.0.0.1:6379/0"


class TestRedisFeatureStore(FeatureStoreContract):
    plugin = plugin
    component_name = "redis"
    distribution = "modelops-featurestore-redis"

    @pytest.fixture(autouse=True)
    def _prefix(self, redis_prefix: str) -> None:
        self.prefix = redis_prefix

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path), "url": REDIS_URL, "prefix": self.prefix}
