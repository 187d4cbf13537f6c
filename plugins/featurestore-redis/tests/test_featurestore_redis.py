"""What the redis store adds to the contract: real expiry, masked URLs, shared state."""

from __future__ import annotations

import time

import numpy as np
import pytest
from modelops_featurestore_redis.store import RedisFeatureStore

from modelops_core.features.store import FeatureStore
from modelops_core.features.values import FeatureStoreConnectionError

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_an_unreachable_server_names_the_url_without_the_password() -> None:
    url = "redis://alice:s3cret@127.0.0.1:1/0"
    with pytest.raises(FeatureStoreConnectionError, match=r"\[features\] url") as error:
        RedisFeatureStore(url=url, socket_timeout=0.5)
    assert "redis://alice:***@127.0.0.1:1/0" in str(error.value)
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "shown", "secrets"),
    [
        # A raw '@' in the password: everything up to the last '@' before the host is masked.
        ("redis://alice:p@ss@127.0.0.1:1/0", "redis://alice:***@127.0.0.1:1/0", ["p@ss", "ss@"]),
        ("redis://127.0.0.1:1/0?password=s3cret", "redis://127.0.0.1:1/0?password=***",
         ["s3cret"]),
        ("rediss://:pw@127.0.0.1:1?password=s3cret", "rediss://:***@127.0.0.1:1?password=***",
         ["pw@", "s3cret"]),
    ],
)  # fmt: skip
def test_connection_errors_mask_every_form_of_password(
    url: str, shown: str, secrets: list[str]
) -> None:
    with pytest.raises(FeatureStoreConnectionError) as error:
        RedisFeatureStore(url=url, socket_timeout=0.5)
    assert shown in str(error.value)
    assert not [secret for secret in secrets if secret in str(error.value)]


def test_a_refused_password_is_not_shown(redis_prefix: str) -> None:
    # The real server has no user 'alice': its refusal is wrapped with the URL masked.
    url = "redis://alice:p@ss:w0rd@127.0.0.1:6379/0?password=also-secret"
    with pytest.raises(FeatureStoreConnectionError, match=r"\[features\] url") as error:
        RedisFeatureStore(url=url, prefix=redis_prefix)
    assert "redis://alice:***@127.0.0.1:6379/0?password=***" in str(error.value)
    assert "p@ss" not in str(error.value) and "also-secret" not in str(error.value)


def test_redis_expires_the_row_itself(redis_prefix: str) -> None:
    backend = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    with FeatureStore(backend=backend) as store:
        store.push_features("u", {"x": 1}, ttl=0.05)
        key = f"{redis_prefix}:rows:default:1:latest:u"
        assert backend._redis.pttl(key) > 0
        time.sleep(0.08)
        assert backend._redis.exists(key) == 0
        assert store.get_features("u") == {}
    backend.close()


def test_two_clients_share_rows_and_vectors(redis_prefix: str) -> None:
    first = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    second = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    writer, reader = FeatureStore(backend=first), FeatureStore(backend=second)
    writer.push_many({"a": {"x": 1}, "b": {"x": 2}}, feature_set="s")
    assert reader.get_many(["a", "b"], feature_set="s") == {"a": {"x": 1}, "b": {"x": 2}}
    writer.push_embeddings(["v"], np.ones((1, 4)))
    assert reader.nearest(np.ones(4), k=1)[0].id == "v"
    writer.push_embeddings(["w"], -np.ones((1, 4)))  # the reader's cache is refreshed
    assert reader.nearest(-np.ones(4), k=1)[0].id == "w"
    assert [(s.name, s.entities) for s in reader.feature_sets()] == [("s", 2)]
    first.close()
    second.close()


def test_prune_bounds_the_history_and_keeps_recent_reads(redis_prefix: str) -> None:
    backend = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    now = time.time()
    store = FeatureStore(backend=backend, clock=lambda: now)
    store.push_features("u", {"plan": "free"}, timestamp=now - 900)
    store.push_features("u", {"plan": "pro"}, timestamp=now - 800)
    store.push_features("u", {"plan": "team"}, timestamp=now - 850)  # a late event
    store.push_features("v", {"x": 1}, timestamp=now - 900, ttl=3000)  # expires later
    store.push_features("w", {"x": 1}, timestamp=now - 900, ttl=50)  # expired already
    assert store.prune(now - 820) == 2  # "free" (superseded by "team"), "w" (expired)
    assert store.get_features("u") == {"plan": "pro"}
    assert store.get_features("u", as_of=now - 820) == {"plan": "team"}
    assert store.get_features("u", as_of=now - 880) == {}  # before the cut: pruned
    assert store.get_features("v") == {"x": 1}
    assert store.entities() == ["u", "v"]
    assert store.prune(now - 820) == 0
    backend.close()


def test_a_reader_fetches_only_the_pushed_vectors(redis_prefix: str) -> None:
    first = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    second = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    writer, reader = FeatureStore(backend=first), FeatureStore(backend=second)
    vectors = np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32)
    writer.push_embeddings([f"d{i}" for i in range(40)], vectors[:40], metric="l2")
    assert reader.nearest(vectors[3], k=1)[0].id == "d3"
    cache = second._vectors["default"]
    writer.push_embeddings(["d3", *[f"d{i}" for i in range(40, 50)]], vectors[[7, *range(40, 50)]],
                           [{"moved": True}] * 11, metric="l2")  # fmt: skip
    assert {n.id for n in reader.nearest(vectors[7], k=2, exact=True)} == {"d3", "d7"}
    assert second._vectors["default"] is cache  # updated in place, not reloaded
    assert cache.applied == 2 and len(cache.ids) == 50
    assert reader.nearest(vectors[45], k=1, method="int8")[0].id == "d45"
    assert reader.nearest(vectors[45], k=1, filter={"moved": True})[0].metadata == {"moved": True}
    first.close()
    second.close()


def test_the_server_checks_the_width_and_metric_of_every_write(redis_prefix: str) -> None:
    # What a racing first push meets: the facade saw no index, the server holds one already.
    from modelops_core.features.values import EmbeddingDimensionError, FeatureValueError

    backend = RedisFeatureStore(url=REDIS_URL, prefix=redis_prefix)
    FeatureStore(backend=backend).push_embeddings(["a"], np.ones((1, 8)), index="docs")
    wide = np.ones((1, 9), dtype=np.float32)
    with pytest.raises(EmbeddingDimensionError, match=r"'docs' holds 8-dimensional.*'b' has 9"):
        backend.write_vectors("docs", ["b"], wide, [{}], "cosine")
    with pytest.raises(FeatureValueError, match=r"'docs' uses the metric 'cosine', not 'l2'"):
        backend.write_vectors("docs", ["c"], wide[:, :8], [{}], "l2")
    assert backend.vector_ids("docs", 10) == ["a"]
    assert backend._redis.llen(f"{redis_prefix}:log:docs") == 1  # no log entry either
    assert FeatureStore(backend=backend).nearest(np.ones(8), k=2, index="docs")[0].id == "a"
    backend.close()
