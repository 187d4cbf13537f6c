"""Every optimizer passes the optimizer contract suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelops_optimizers import plugin

from modelops_core.optimize.values import BuildRequest
from modelops_core.testing import OptimizerContract

REDIS_URL = "redis://127.0.0.1:6379/15"


class Settings(OptimizerContract):
    plugin = plugin
    distribution = "modelops-optimizers"


class TestSqliteResponseCache(Settings):
    component_name = "response_cache"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path / ".modelops")}


class TestRedisResponseCache(Settings):
    component_name = "response_cache"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip(f"no Redis at {REDIS_URL}")
        return {"backend": "redis", "url": REDIS_URL, "prefix": f"contract:{tmp_path.name}:"}


class TestMicroBatch(Settings):
    component_name = "micro_batch"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"max_batch": 4, "max_wait_ms": 2.0}


class TestConcurrencyLimit(Settings):
    component_name = "concurrency_limit"

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"max_concurrent": 2}


class TestInt8(Settings):
    component_name = "int8"
    min_agreement = 0.85  # eight single inputs: one disagreement is allowed

    @pytest.fixture(autouse=True)
    def _model(self, trained: Any) -> None:
        from modelops_provider_local.provider import LocalProvider

        self.trained = trained
        self.provider = LocalProvider(root=str(trained.root))

    def reference_predict(self, inputs: Any) -> list[Any]:
        return self.provider.predict(self.trained.model_id, list(inputs))

    def build_request(self, tmp_path: Path) -> BuildRequest:
        return BuildRequest(self.trained.model_id, self.provider, tmp_path / "artifact")
