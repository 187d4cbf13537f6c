"""FeatureStore, the facade: validation and configuration (behaviour per backend is in the
contract suite every feature store plugin runs)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("modelops_featurestore_local")

import numpy as np
from modelops_featurestore_local import plugin
from open_files import open_files_under

from modelops_core import FeatureSetVersionError, FeatureStore
from modelops_core.config import ComponentChoice, Config, load_config
from modelops_core.features.store import FeatureStoreClosedError
from modelops_core.features.values import FeatureStoreError, FeatureValueError
from modelops_core.store.facade import FacadeClosedError
from modelops_core.testing.fixtures import make_runtime


@pytest.fixture
def store(tmp_path: Path) -> Any:
    runtime = make_runtime(tmp_path / ".modelops", [("modelops-featurestore-local", plugin)])
    with FeatureStore(runtime) as opened:
        yield opened


def test_the_names_users_know(store: FeatureStore) -> None:
    store.push_features("user-1", {"age": 31})
    assert store.get_features("user-1") == {"age": 31}
    assert store.get_features("user-2") == {}


def test_the_configuration_chooses_the_store_and_its_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "modelops.toml").write_text(
        '[features]\nstore = "local"\nroot = "feature-data"\nmethod = "exact"\n'
    )
    monkeypatch.chdir(tmp_path)
    runtime = make_runtime(tmp_path / "unused", [("modelops-featurestore-local", plugin)],
                           config=load_config(tmp_path / "modelops.toml"))  # fmt: skip
    with FeatureStore(runtime) as store:
        store.push_embeddings(["a"], np.ones((1, 3)))
        assert store.indexes()[0].method == "exact"
    assert (tmp_path / "feature-data" / "features.db").is_file()


def test_aware_datetimes_are_timestamps(store: FeatureStore) -> None:
    noon = datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.UTC)
    store.push_features("u", {"x": 1}, timestamp=noon)
    assert store.get_features("u", as_of=noon + datetime.timedelta(seconds=1)) == {"x": 1}
    assert store.get_features("u", as_of=noon - datetime.timedelta(seconds=1)) == {}
    with pytest.raises(FeatureValueError, match="no time zone"):
        store.get_features("u", as_of=datetime.datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.push_features("", {"x": 1}), "non-empty string"),
        (lambda s: s.push_features(7, {"x": 1}), "str\\(user_id\\)"),
        (lambda s: s.push_features("u", [1, 2]), "mapping"),
        (lambda s: s.push_features("u", {"x": 1}, feature_set="bad name"), "feature set name"),
        (lambda s: s.push_features("u", {"x": 1}, version=0), "version is an int >= 1"),
        (lambda s: s.push_features("u", {"x": 1}, ttl=0), "ttl must be positive"),
        (lambda s: s.push_embeddings(["a", "a"], np.ones((2, 2))), "duplicated ids"),
        (lambda s: s.push_embeddings(["a"], np.ones((1, 2)), metric="hamming"), "metric"),
        (lambda s: s.push_embeddings(["a"], np.ones((1, 2)), [{}, {}]), "metadata"),
    ],
)
def test_bad_input_is_a_clear_error(store: FeatureStore, call: Any, message: str) -> None:
    with pytest.raises(FeatureValueError, match=message):
        call(store)


def test_an_index_keeps_its_metric(store: FeatureStore) -> None:
    store.push_embeddings(["a"], np.ones((1, 2)), metric="l2")
    with pytest.raises(FeatureValueError, match="uses the metric 'l2'"):
        store.push_embeddings(["b"], np.ones((1, 2)))
    with pytest.raises(FeatureValueError, match="k must be at least 1"):
        store.nearest(np.ones(2), k=0)


def test_l2_distances_are_squared_euclidean(store: FeatureStore) -> None:
    store.push_embeddings(["origin", "far"], np.array([[0.0, 0.0], [3.0, 4.0]]), metric="l2")
    found = store.nearest([0.0, 0.0], k=2)
    assert [(n.id, round(n.distance, 4)) for n in found] == [("origin", 0.0), ("far", 25.0)]


def test_a_declared_schema_fixes_the_version(store: FeatureStore) -> None:
    store.define_feature_set("profile", 1, {"age": "int", "score": "float"})
    store.push_features("u", {"age": 3, "score": 1})  # default set: no schema
    store.push_features("u", {"age": 3, "score": 1}, feature_set="profile")  # int fits float
    with pytest.raises(FeatureSetVersionError, match="declared one is"):
        store.define_feature_set("profile", 1, {"age": "str"})
    store.define_feature_set("profile", 1, {"score": "float", "age": "int"})  # same: fine
    with pytest.raises(FeatureValueError, match="unknown kind"):
        store.define_feature_set("other", 1, {"age": "integer"})


def test_numpy_values_are_stored_as_python_values(store: FeatureStore) -> None:
    store.push_features("u", {"n": np.int64(3), "x": np.float32(0.5), "v": np.arange(3)},
                        feature_set="np")  # fmt: skip
    assert store.get_features("u", feature_set="np") == {"n": 3, "x": 0.5, "v": [0, 1, 2]}
    assert store.schema("np") == {"n": "int", "v": "list", "x": "float"}


def test_prune_bounds_the_history_and_keeps_recent_reads(tmp_path: Path) -> None:
    from modelops_featurestore_local.store import LocalFeatureStore

    backend = LocalFeatureStore(home=str(tmp_path))
    store = FeatureStore(backend=backend, clock=lambda: 1000.0)
    store.push_features("u", {"plan": "free"}, timestamp=100.0)
    store.push_features("u", {"plan": "pro"}, timestamp=200.0)
    store.push_features("u", {"plan": "team"}, timestamp=150.0)  # a late event
    store.push_features("v", {"x": 1}, timestamp=100.0, ttl=50)
    assert store.prune(180.0) == 2  # "free" (superseded by "team"), "v" (expired at 150)
    assert store.get_features("u") == {"plan": "pro"}
    assert store.get_features("u", as_of=180.0) == {"plan": "team"}
    assert store.get_features("u", as_of=120.0) == {}  # before the cut: pruned
    assert store.get_features("v", as_of=120.0) == {} and store.entities() == ["u"]
    assert store.prune(180.0) == 0
    assert store.prune(180.0, feature_set="other", version=2) == 0
    backend.close()


def test_prune_needs_a_backend_that_keeps_history(store: FeatureStore) -> None:
    from modelops_core.features.values import FeatureStoreError

    class NoHistory:
        def __repr__(self) -> str:
            return "NoHistory()"

    with pytest.raises(FeatureStoreError, match="NoHistory.*cannot prune"):
        FeatureStore(backend=NoHistory()).prune(0.0)  # type: ignore[arg-type]


def test_a_numpy_value_does_not_hide_a_wrong_kind_after_it(store: FeatureStore) -> None:
    store.define_feature_set("typed", 1, {"a": "int", "b": "str"})
    with pytest.raises(FeatureSetVersionError, match="b is int, not str"):
        store.push_features("u", {"a": np.int64(1), "b": 2}, feature_set="typed")
    store.push_features("u", {"a": np.int64(1), "b": "x"}, feature_set="typed")
    assert store.get_features("u", feature_set="typed") == {"a": 1, "b": "x"}


# --- lifecycle: close, with, use after close ---------------------------------------------------

CLOSED = (
    "This FeatureStore was closed (by close() or the end of its `with` block), so it cannot "
    "open its backend. Create a new FeatureStore for more work, or do the work inside "
    "`with FeatureStore(...) as ...:`."
)


def test_the_with_block_closes_the_local_backend(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    with FeatureStore(make_runtime(home, [("modelops-featurestore-local", plugin)])) as store:
        store.push_features("u", {"age": 31})
        assert open_files_under(home) == [
            "features/features.db",
            "features/features.db-shm",
            "features/features.db-wal",
        ]
    assert open_files_under(home) == []
    assert store.closed
    store.close()  # twice is fine


def test_a_closed_feature_store_refuses_to_be_used_and_writes_nothing(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path / ".modelops", [("modelops-featurestore-local", plugin)])
    store = FeatureStore(runtime)
    store.push_features("u", {"age": 31})
    store.close()
    with pytest.raises(FeatureStoreClosedError) as caught:
        store.push_features("u", {"age": 32})
    assert str(caught.value) == CLOSED
    assert isinstance(caught.value, FeatureStoreError)
    assert isinstance(caught.value, FacadeClosedError)
    with pytest.raises(FeatureStoreClosedError, match="cannot open its backend"):
        store.get_features("u")
    assert open_files_under(tmp_path / ".modelops") == []
    with FeatureStore(runtime) as again:
        assert again.get_features("u") == {"age": 31}


def test_a_given_backend_is_left_open(tmp_path: Path) -> None:
    from modelops_featurestore_local.store import LocalFeatureStore

    backend = LocalFeatureStore(home=str(tmp_path))
    with FeatureStore(backend=backend) as store:
        store.push_features("u", {"age": 31})
    with pytest.raises(FeatureStoreClosedError, match="cannot open its backend"):
        store.get_features("u")
    with FeatureStore(backend=backend) as again:
        assert again.get_features("u") == {"age": 31}
    backend.close()


@pytest.fixture
def redis_home(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """A home, a unique key prefix and client name on the real Redis server (keys removed)."""
    redis = pytest.importorskip("redis")
    pytest.importorskip("modelops_featurestore_redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (start redis-server)")
    tag = f"modelops-facade-{uuid.uuid4().hex[:12]}"
    yield tmp_path / ".modelops", tag, tag
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(match=f"{tag}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_the_with_block_closes_the_redis_connection(redis_home: tuple[Path, str, str]) -> None:
    import redis
    from modelops_featurestore_redis import plugin as redis_plugin

    home, prefix, client_name = redis_home
    url = f"redis://127.0.0.1:6379/0?client_name={client_name}"
    chosen = ComponentChoice("redis", {"url": url, "prefix": prefix}, reserved=("store",))
    runtime = make_runtime(home, [("modelops-featurestore-redis", redis_plugin)],
                           config=Config(home=home, features=chosen))  # fmt: skip
    observer = redis.Redis.from_url("redis://127.0.0.1:6379/0")

    def connected() -> int:
        return sum(client["name"] == client_name for client in observer.client_list())

    with FeatureStore(runtime) as store:
        store.push_features("u", {"age": 31})
        assert connected() == 1
    assert connected() == 0
    with pytest.raises(FeatureStoreClosedError, match="cannot open its backend"):
        store.get_features("u")
    assert connected() == 0  # nothing connected again behind the caller's back
    with FeatureStore(runtime) as again:
        assert again.get_features("u") == {"age": 31}
    observer.close()
