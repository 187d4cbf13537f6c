"""Feature store batches as DataFrames (issue 16): push a pandas/polars/Arrow table, read a
batch of entities back as a DataFrame, on the local store and on a real Redis server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelops_core import FeatureStore
from modelops_core.features.values import FeatureValueError

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


@pytest.fixture(params=["local", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "local":
        pytest.importorskip("modelops_featurestore_local", reason="the local store plugin")
        from modelops_featurestore_local.store import LocalFeatureStore

        backend: Any = LocalFeatureStore(home=str(tmp_path))
    else:
        redis = pytest.importorskip("redis")
        module = pytest.importorskip("modelops_featurestore_redis.store")
        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379 (start redis-server)")
        prefix = f"modelops-frames-{uuid.uuid4().hex[:12]}"
        backend = module.RedisFeatureStore(url="redis://127.0.0.1:6379/0", prefix=prefix)
    with FeatureStore(backend=backend, clock=lambda: 1000.0) as opened:
        yield opened
    if request.param == "redis":
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_a_dataframe_goes_in_and_comes_back(store: Any) -> None:
    frame = pd.DataFrame(
        {"user": ["u1", "u2", "u3"], "age": [31, 40, 22], "city": ["Oslo", None, "Rome"],
         "score": [0.5, float("nan"), 1.5]}
    )  # fmt: skip
    assert store.push_frame(frame, entity="user", feature_set="users") == 3
    assert store.get_features("u2", feature_set="users") == {"age": 40, "city": None, "score": None}
    back = store.get_frame(["u3", "nobody", "u1"], feature_set="users", entity="user")
    assert list(back.columns) == ["user", "age", "city", "score"]
    assert back["user"].tolist() == ["u3", "nobody", "u1"]
    assert back["city"].iloc[[0, 2]].tolist() == ["Rome", "Oslo"]
    assert back["city"].isna().tolist() == [False, True, False]  # an unknown entity: missing
    assert back["score"].iloc[0] == 1.5 and back["score"].isna().tolist() == [False, True, False]
    polars_back = store.get_frame(pd.Series(["u1"]), feature_set="users", library="polars")
    assert polars_back.to_dicts() == [{"entity": "u1", "age": 31, "city": "Oslo", "score": 0.5}]


def test_polars_and_arrow_tables_push_the_same_rows(store: Any) -> None:
    rows = {"entity": ["a", "b"], "x": [1, 2]}
    store.push_frame(pl.DataFrame(rows), feature_set="p")
    store.push_frame(pa.table(rows), feature_set="q")
    assert store.get_many(["a", "b"], feature_set="p") == {"a": {"x": 1}, "b": {"x": 2}}
    assert store.get_many(["a", "b"], feature_set="q") == {"a": {"x": 1}, "b": {"x": 2}}


def test_a_table_without_the_entity_column_is_refused_and_nothing_is_stored(store: Any) -> None:
    frame = pd.DataFrame({"user": ["u1"], "age": [31]})
    with pytest.raises(FeatureValueError) as caught:
        store.push_frame(frame, feature_set="users")
    assert str(caught.value) == (
        "The table has no entity column 'entity'; it has: 'user', 'age'. Pass "
        "entity='<the column naming each row>'."
    )
    bad = pd.DataFrame({"entity": ["u1", ""], "age": [31, 32]})
    with pytest.raises(FeatureValueError):
        store.push_frame(bad, feature_set="users")
    assert store.get_many(["u1"], feature_set="users") == {"u1": {}}  # all or nothing
