"""RedisFeatureStore: the ``redis`` feature store component (key layout in the README)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelops_core.config import mask_url, mask_urls_in
from modelops_core.features.values import (
    Codec,
    EmbeddingDimensionError,
    FeatureRow,
    FeatureSetInfo,
    FeatureStoreConnectionError,
    FeatureValueError,
    IndexInfo,
    Neighbor,
)
from modelops_core.features.vectors import Matrix, MetadataFilter
from modelops_featurestore_redis.cache import VectorCache

# Write a batch of rows in one call: KEYS[1] = the key prefix of the feature set version,
# ARGV = (entity, ts, expires, value) per row. The keys are built here rather than passed as
# KEYS (a third of the arguments to encode and parse); the layout needs a standalone server,
# not Redis Cluster, anyway. Every push is kept in the history; the latest row is replaced
# only by a row at least as new (a late event stays in the history only).
_WRITE_ROWS = """
local base = KEYS[1]
for i = 1, #ARGV, 4 do
    local entity, ts, expires, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local hist = base .. 'hist:' .. entity
    local latest = base .. 'latest:' .. entity
    redis.call('ZREMRANGEBYSCORE', hist, ts, ts)
    redis.call('ZADD', hist, ts, value)
    local current = redis.call('GET', latest)
    local newer = true
    if current then
        local cut = string.find(current, '\\n', 1, true)
        newer = tonumber(string.sub(current, 1, cut - 1)) <= tonumber(ts)
    end
    if newer then
        if expires ~= '' then
            redis.call('SET', latest, value, 'PXAT', math.floor(tonumber(expires) * 1000))
        else
            redis.call('SET', latest, value)
        end
    end
end
return 1
"""
# Prune the history of a batch of entities: KEYS = (row key prefix, entities set), ARGV =
# (cut, entity...). Deleted: rows superseded by a newer row at or before the cut, then the
# remaining row at or before the cut (and the latest row) when expired by then; an entity
# left with no row at all leaves the entities set.
_PRUNE = """
local base, ents, cut = KEYS[1], KEYS[2], tonumber(ARGV[1])
local deleted = 0
local function expired(value)
    local first = string.find(value, '\\n', 1, true)
    local second = string.find(value, '\\n', first + 1, true)
    local expires = string.sub(value, first + 1, second - 1)
    return expires ~= '' and tonumber(expires) <= cut
end
for i = 2, #ARGV do
    local hist, latest = base .. 'hist:' .. ARGV[i], base .. 'latest:' .. ARGV[i]
    local newest = redis.call('ZREVRANGEBYSCORE', hist, ARGV[1], '-inf', 'WITHSCORES',
        'LIMIT', 0, 1)
    if newest[1] then
        deleted = deleted + redis.call('ZREMRANGEBYSCORE', hist, '-inf', '(' .. newest[2])
        if expired(newest[1]) then
            deleted = deleted + redis.call('ZREM', hist, newest[1])
        end
    end
    local current = redis.call('GET', latest)
    if current and expired(current) then
        redis.call('DEL', latest)
        current = false
    end
    if not current and redis.call('EXISTS', hist) == 0 then
        redis.call('SREM', ents, ARGV[i])
    end
end
return deleted
"""
_ROWS_PER_CALL = 2000
# Store a batch of vectors of one index: KEYS = (indexes hash, vectors hash, metadata hash, log),
# ARGV = (index, description, dim, metric, log entry or '', then id, vector, metadata per row).
# The width and metric are checked against the index's description here, on the server, where
# no other client's push can come in between: the first push of an index writes its
# description. Returns 1, or the stored description (and writes nothing) when it differs.
_WRITE_VECTORS = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
    local found = cjson.decode(stored)
    if tonumber(found['dim']) ~= tonumber(ARGV[3]) or found['metric'] ~= ARGV[4] then
        return stored
    end
else
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
if ARGV[5] ~= '' then
    redis.call('RPUSH', KEYS[4], ARGV[5])
end
for i = 6, #ARGV, 3 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2])
end
return 1
"""
_VECTORS_PER_CALL = 2000
_KEYS_PER_MGET = 10_000  # bounds how long one command holds the server
METHODS = ("exact", "int8", "hnsw")


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
        self._write_rows = self._redis.register_script(_WRITE_ROWS)
        self._prune = self._redis.register_script(_PRUNE)
        self._write_vectors = self._redis.register_script(_WRITE_VECTORS)
        self._codec = Codec()
        self._vectors: dict[str, VectorCache] = {}

    def __repr__(self) -> str:
        return f"RedisFeatureStore(url={mask_url(self.url)!r}, prefix={self.prefix!r})"

    def _connection_error(self, exc: Exception) -> FeatureStoreConnectionError:
        return FeatureStoreConnectionError(
            f"Cannot reach the Redis feature store at {mask_url(self.url)} "
            f"({mask_urls_in(str(exc))}). Start the "
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
        encode = self._codec.encode
        base = self._key("rows", feature_set, version, "")
        ents = self._key("ents", feature_set, version)
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(self._key("sets"), f"{feature_set}\x1f{version}")
        for start in range(0, len(rows), _ROWS_PER_CALL):
            args: list[bytes | str] = []
            chunk = rows[start : start + _ROWS_PER_CALL]
            for entity, features, timestamp, expiry in chunk:
                stamp = repr(timestamp)
                expires = "" if expiry is None else repr(expiry)
                args += (entity, stamp, expires,
                         f"{stamp}\n{expires}\n".encode() + encode(features, entity))  # fmt: skip
            self._write_rows(keys=[base], args=args, client=pipe)
            pipe.sadd(ents, *[row.entity for row in chunk])
        self._call(pipe.execute)

    def _decode(self, entity: str, value: bytes | None) -> FeatureRow | None:
        """A row stored as ``<ts>\\n<expires>\\n<msgpack features>``."""
        if value is None:
            return None
        stamp, expires, blob = value.split(b"\n", 2)
        return FeatureRow(
            entity, self._codec.decode(blob), float(stamp), float(expires) if expires else None
        )

    def read_rows(
        self, feature_set: str, version: int, entities: Sequence[str], as_of: float | None
    ) -> list[FeatureRow | None]:
        if as_of is None:
            latest = self._key("rows", feature_set, version, "latest:")
            if len(entities) == 1:
                found = [self._call(self._redis.get, latest + entities[0])]
            else:
                pipe = self._redis.pipeline(transaction=False)
                for start in range(0, len(entities), _KEYS_PER_MGET):
                    pipe.mget([latest + e for e in entities[start : start + _KEYS_PER_MGET]])
                found = [value for chunk in self._call(pipe.execute) for value in chunk]
            decode = self._decode
            return [decode(e, v) for e, v in zip(entities, found, strict=True)]
        hist = self._key("rows", feature_set, version, "hist:")
        pipe = self._redis.pipeline(transaction=False)
        for entity in entities:
            pipe.zrevrangebyscore(hist + entity, as_of, "-inf", 0, 1)
        results = self._call(pipe.execute)
        return [
            self._decode(e, r[0] if r else None) for e, r in zip(entities, results, strict=True)
        ]

    def prune_history(self, older_than: float, feature_set: str | None, version: int | None) -> int:
        """Delete history entries no read at or after ``older_than`` can return: superseded
        before it, or expired by then (expired latest rows too); returns how many."""
        sets = sorted(m.decode() for m in self._call(self._redis.smembers, self._key("sets")))
        deleted = 0
        for field in sets:
            name, number = field.split("\x1f")
            if (feature_set is not None and name != feature_set) or (
                version is not None and int(number) != version
            ):
                continue
            keys = [self._key("rows", name, number, ""), self._key("ents", name, number)]
            members = [m.decode() for m in self._call(self._redis.smembers, keys[1])]
            for start in range(0, len(members), _ROWS_PER_CALL):
                chunk = members[start : start + _ROWS_PER_CALL]
                deleted += int(self._call(self._prune, keys, [repr(older_than), *chunk]))
        return deleted

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
        """Store the rows in one ``MULTI``/``EXEC`` of Lua calls that check the index's width
        and metric on the server, where no other push can come between the check and the
        write (a first push fixes them; a racing first push of another width is refused)."""
        encode = self._codec.encode_value
        dim = int(matrix.shape[1])
        keys = [self._key("idx"), self._key("vec", index), self._key("meta", index),
                self._key("log", index)]  # fmt: skip
        described = json.dumps({"dim": dim, "metric": metric})
        pipe = self._redis.pipeline(transaction=True)
        for start in range(0, max(len(ids), 1), _VECTORS_PER_CALL):
            args: list[bytes | str] = [index, described, str(dim), metric]
            # The ids of this push go to the log once, so other clients fetch only them.
            args.append(encode(list(ids)) if start == 0 else b"")
            for row in range(start, min(start + _VECTORS_PER_CALL, len(ids))):
                args += (ids[row], matrix[row].tobytes(), encode(dict(metadata[row])))
            self._write_vectors(keys=keys, args=args, client=pipe)
        pipe.hlen(self._key("vec", index))
        results = self._call(pipe.execute)
        stored = results[0]
        if stored != 1:
            found = json.loads(stored)
            if found["dim"] != dim:
                raise EmbeddingDimensionError(
                    f"Index {index!r} holds {found['dim']}-dimensional vectors; the vector of id "
                    f"{ids[0]!r} has {dim}. Use the same embedding model, or push to another "
                    "index."
                )
            raise FeatureValueError(
                f"Index {index!r} uses the metric {found['metric']!r}, not {metric!r}; pass "
                f"metric={found['metric']!r} or push to another index."
            )
        return IndexInfo(index, dim, metric, int(results[-1]), self.method)

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

    def _load(self, index: str) -> VectorCache | None:
        """The cached rows of ``index``, brought up to date (one round trip when current)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.llen(self._key("log", index))
        pipe.hget(self._key("idx"), index)
        length, described = self._call(pipe.execute)
        if described is None:
            self._vectors.pop(index, None)
            return None
        cached = self._vectors.get(index)
        if cached is not None and cached.applied == length:
            return cached
        decode = self._codec.decode_value
        if cached is None or cached.applied > length:  # first use, or the index was rebuilt
            shape = json.loads(described)
            cached = VectorCache(shape["dim"], shape["metric"])
            pipe = self._redis.pipeline(transaction=True)
            pipe.llen(self._key("log", index))
            pipe.hgetall(self._key("vec", index))
            pipe.hgetall(self._key("meta", index))
            length, vectors, metadata = self._call(pipe.execute)
            ids = sorted(vectors)
            cached.apply([i.decode() for i in ids], [vectors[i] for i in ids],
                         [decode(metadata[i]) if i in metadata else {} for i in ids])  # fmt: skip
        else:
            entries = self._call(self._redis.lrange, self._key("log", index), cached.applied,
                                 length - 1)  # fmt: skip
            ids = list(dict.fromkeys(item for entry in entries for item in decode(entry)))
            pipe = self._redis.pipeline(transaction=True)
            pipe.hmget(self._key("vec", index), ids)
            pipe.hmget(self._key("meta", index), ids)
            vectors, metadata = self._call(pipe.execute)
            cached.apply(ids, vectors, [decode(m) if m is not None else {} for m in metadata])
        cached.applied = length
        self._vectors[index] = cached
        return cached

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
        chosen = method or self.method
        if chosen not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {chosen!r}; use one of {', '.join(METHODS)}."
            )
        loaded = self._load(index)
        if loaded is None:
            return []
        return loaded.search(query, k, where, chosen)
