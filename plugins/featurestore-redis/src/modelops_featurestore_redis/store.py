"""RedisFeatureStore: the ``redis`` feature store component (key layout in the README)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from modelops_core.feature_types import (
    Codec,
    FeatureRow,
    FeatureSetInfo,
    FeatureStoreConnectionError,
    FeatureValueError,
    IndexInfo,
    Neighbor,
)
from modelops_core.vectors import (
    Matrix,
    MetadataFilter,
    exact_search,
    int8_search,
    matching_rows,
    quantize_int8,
)

# Write one row: keep every push in the history; replace the latest row only with a newer one.
_WRITE_ROW = """
local ts = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
local current = redis.call('HGET', KEYS[1], '_ts')
if (not current) or tonumber(current) <= ts then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], '_ts', ARGV[1], '_x', ARGV[2], 'd', ARGV[5])
    if ARGV[2] ~= '' then
        redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(ARGV[2]) * 1000))
    end
end
return 1
"""
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
METHODS = ("exact", "int8", "hnsw")


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", url)


@attrs.define
class _Vectors:
    version: bytes | None
    ids: list[str]
    data: Matrix
    metadata: list[dict[str, Any]]
    codes: Any = None
    scales: Any = None


class RedisFeatureStore:
    """Feature rows and embeddings in Redis.

    :param home: the modelops home (unused; given by the facade).
    :param url: the server, ``redis://[user:password@]host:port/db`` (or ``rediss://``).
    :param prefix: the first part of every key (several stores can share one database).
    :param method: default search method: ``exact`` or ``int8``; ``hnsw`` is accepted and
        searched exactly (Redis holds no graph).
    :param socket_timeout: seconds to wait for the server.
    """

    def __init__(
        self,
        home: str = ".modelops",
        url: str = "redis://127.0.0.1:6379/0",
        prefix: str = "modelops",
        method: str = "exact",
        socket_timeout: float = 5.0,
    ) -> None:
        import redis

        if method not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {method!r} in [features] method; use one of "
                f"{', '.join(METHODS)}."
            )
        self.url = url
        self.prefix = prefix
        self.method = "int8" if method == "int8" else "exact"
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
            self._redis.ping()
        except (*self._errors, ValueError) as exc:
            raise self._connection_error(exc) from exc
        self._write_row = self._redis.register_script(_WRITE_ROW)
        self._codec = Codec()
        self._vectors: dict[str, _Vectors] = {}

    def __repr__(self) -> str:
        return f"RedisFeatureStore(url={mask_url(self.url)!r}, prefix={self.prefix!r})"

    def _connection_error(self, exc: Exception) -> FeatureStoreConnectionError:
        return FeatureStoreConnectionError(
            f"Cannot reach the Redis feature store at {mask_url(self.url)} ({exc}). Start the "
            "server, or fix [features] url in the configuration (e.g. "
            'url = "redis://127.0.0.1:6379/0").'
        )

    def _call(self, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except self._errors as exc:
            raise self._connection_error(exc) from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    # --- keys ----------------------------------------------------------------------------------

    def _key(self, *parts: object) -> str:
        return ":".join((self.prefix, *map(str, parts)))

    # --- feature sets --------------------------------------------------------------------------

    def put_schema(
        self, feature_set: str, version: int, schema: Mapping[str, str]
    ) -> Mapping[str, str]:
        field = f"{feature_set}\x1f{version}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(self._key("schema"), field, json.dumps(dict(schema)))
        pipe.sadd(self._key("sets"), field)
        pipe.hget(self._key("schema"), field)
        stored = self._call(pipe.execute)[-1]
        return dict(json.loads(stored))

    def get_schema(self, feature_set: str, version: int) -> Mapping[str, str] | None:
        stored = self._call(self._redis.hget, self._key("schema"), f"{feature_set}\x1f{version}")
        return dict(json.loads(stored)) if stored is not None else None

    def feature_sets(self) -> list[FeatureSetInfo]:
        fields = sorted(m.decode() for m in self._call(self._redis.smembers, self._key("sets")))
        schemas = self._call(self._redis.hgetall, self._key("schema"))
        pipe = self._redis.pipeline(transaction=False)
        keys = [field.split("\x1f") for field in fields]
        for name, version in keys:
            pipe.scard(self._key("ents", name, version))
        counts = self._call(pipe.execute)
        return [
            FeatureSetInfo(name, int(version), json.loads(schemas.get(
                f"{name}\x1f{version}".encode(), b"{}")), count)
            for (name, version), count in zip(keys, counts, strict=True)
        ]  # fmt: skip

    # --- rows ----------------------------------------------------------------------------------

    def write_rows(self, feature_set: str, version: int, rows: Sequence[FeatureRow]) -> None:
        encode, encode_value = self._codec.encode, self._codec.encode_value
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(self._key("sets"), f"{feature_set}\x1f{version}")
        ents = self._key("ents", feature_set, version)
        for row in rows:
            blob = encode(row.features, row.entity)
            member = encode_value([row.timestamp, row.expires, blob])
            self._write_row(
                keys=[
                    self._key("row", feature_set, version, row.entity),
                    self._key("hist", feature_set, version, row.entity),
                    ents,
                ],
                args=[repr(row.timestamp), "" if row.expires is None else repr(row.expires),
                      member, row.entity, blob],
                client=pipe,
            )  # fmt: skip
        self._call(pipe.execute)

    def _decode_latest(self, entity: str, found: Mapping[bytes, bytes]) -> FeatureRow | None:
        if not found:
            return None
        expires = found.get(b"_x") or None
        return FeatureRow(
            entity, self._codec.decode(found[b"d"]), float(found[b"_ts"]),
            float(expires) if expires else None,
        )  # fmt: skip

    def _decode_history(self, entity: str, found: list[bytes]) -> FeatureRow | None:
        if not found:
            return None
        timestamp, expires, blob = self._codec.decode_value(found[0])
        return FeatureRow(entity, self._codec.decode(blob), timestamp, expires)

    def read_rows(
        self, feature_set: str, version: int, entities: Sequence[str], as_of: float | None
    ) -> list[FeatureRow | None]:
        if len(entities) == 1 and as_of is None:
            entity = entities[0]
            found = self._call(self._redis.hgetall, self._key("row", feature_set, version, entity))
            return [self._decode_latest(entity, found)]
        pipe = self._redis.pipeline(transaction=False)
        for entity in entities:
            if as_of is None:
                pipe.hgetall(self._key("row", feature_set, version, entity))
            else:
                pipe.zrevrangebyscore(
                    self._key("hist", feature_set, version, entity), as_of, "-inf", 0, 1
                )
        results = self._call(pipe.execute)
        if as_of is None:
            return [self._decode_latest(e, r) for e, r in zip(entities, results, strict=True)]
        return [self._decode_history(e, r) for e, r in zip(entities, results, strict=True)]

    def entities(self, feature_set: str, version: int, limit: int) -> list[str]:
        members = self._call(self._redis.smembers, self._key("ents", feature_set, version))
        return sorted(m.decode() for m in members)[:limit]

    # --- embeddings ----------------------------------------------------------------------------

    def write_vectors(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> IndexInfo:
        encode = self._codec.encode_value
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(self._key("idx"), index, json.dumps({"dim": matrix.shape[1], "metric": metric}))
        pipe.hset(self._key("vec", index), mapping={
            item: matrix[row].tobytes() for row, item in enumerate(ids)})  # fmt: skip
        pipe.hset(self._key("meta", index), mapping={
            item: encode(dict(metadata[row])) for row, item in enumerate(ids)})  # fmt: skip
        pipe.incr(self._key("ver", index))
        pipe.hlen(self._key("vec", index))
        count = self._call(pipe.execute)[-1]
        return IndexInfo(index, int(matrix.shape[1]), metric, int(count), self.method)

    def index_info(self, index: str) -> IndexInfo | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hget(self._key("idx"), index)
        pipe.hlen(self._key("vec", index))
        found, count = self._call(pipe.execute)
        if found is None:
            return None
        described = json.loads(found)
        return IndexInfo(index, described["dim"], described["metric"], count, self.method)

    def indexes(self) -> list[IndexInfo]:
        names = sorted(n.decode() for n in self._call(self._redis.hkeys, self._key("idx")))
        return [info for info in map(self.index_info, names) if info is not None]

    def _load(self, index: str) -> _Vectors | None:
        version = self._call(self._redis.get, self._key("ver", index))
        cached = self._vectors.get(index)
        if cached is not None and cached.version == version:
            return cached
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(self._key("ver", index))
        pipe.hgetall(self._key("vec", index))
        pipe.hgetall(self._key("meta", index))
        pipe.hget(self._key("idx"), index)
        version, vectors, metadata, described = self._call(pipe.execute)
        if described is None:
            return None
        dim = json.loads(described)["dim"]
        ids = sorted(vectors)
        data = np.frombuffer(b"".join(vectors[i] for i in ids), dtype=np.float32).reshape(-1, dim)
        decode = self._codec.decode_value
        loaded = _Vectors(version, [i.decode() for i in ids], data,
                          [decode(metadata[i]) if i in metadata else {} for i in ids])  # fmt: skip
        self._vectors[index] = loaded
        return loaded

    def read_vectors(self, index: str, ids: Sequence[str]) -> dict[str, Any]:
        found = self._call(self._redis.hmget, self._key("vec", index), list(ids))
        return {
            item: np.frombuffer(value, dtype=np.float32).copy()
            for item, value in zip(ids, found, strict=True)
            if value is not None
        }

    def vector_ids(self, index: str, limit: int) -> list[str]:
        keys = self._call(self._redis.hkeys, self._key("vec", index))
        return sorted(k.decode() for k in keys)[:limit]

    def search(
        self,
        index: str,
        query: Any,
        k: int,
        where: MetadataFilter | None,
        method: str | None,
    ) -> list[Neighbor]:
        loaded = self._load(index)
        info = self.index_info(index)
        if loaded is None or info is None:
            return []
        chosen = method or self.method
        if chosen not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {chosen!r}; use one of {', '.join(METHODS)}."
            )
        if where is not None:
            rows, found = exact_search(
                loaded.data, query, k, info.metric, matching_rows(loaded.metadata, where)
            )
        elif chosen == "int8":
            if loaded.codes is None:
                loaded.codes, loaded.scales = quantize_int8(loaded.data)
            rows, found = int8_search(loaded.codes, loaded.scales, query, k, info.metric)
        else:
            rows, found = exact_search(loaded.data, query, k, info.metric)
        return [
            Neighbor(loaded.ids[row], float(distance), loaded.metadata[row])
            for row, distance in zip(rows.tolist(), found.tolist(), strict=True)
        ]
