"""``response_cache``: an exact-key cache of (model, input) -> output, in SQLite or Redis.

The key is ``sha256(namespace NUL input)``, where the namespace names what produces the
outputs (the parent model and any weight transform), so a cached answer is never served for a
different model. Outputs are stored as JSON. A batch looks up every input at once and sends
only the misses (each distinct input once) to the model below.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelops_core.optimize.values import (
    LAYER_CACHE,
    BuildRequest,
    OptimizeError,
    Predict,
    ServingContext,
)

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_CONFIG_KEY = '[optimize] optimizers = [{ name = "response_cache", url = ... }]'
BACKENDS = ("sqlite", "redis")


class CacheBackendError(OptimizeError):
    """The cache's store cannot be reached or used."""


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", url)


def cache_key(namespace: str, text: str) -> str:
    return hashlib.sha256(f"{namespace}\0{text}".encode()).hexdigest()


class SqliteResponses:
    """Responses in one SQLite file (WAL), shared by threads through one connection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS responses "
            "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL)"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        now = time.time()
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, value, expires FROM responses WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update({k: v for k, v, expires in rows if expires is None or expires > now})
        return found

    def set_many(self, items: Mapping[str, str], ttl: float | None) -> None:
        expires = time.time() + ttl if ttl else None
        with self._lock:
            self._connection.execute("BEGIN")
            self._connection.executemany(
                "INSERT OR REPLACE INTO responses (key, value, expires) VALUES (?, ?, ?)",
                [(key, value, expires) for key, value in items.items()],
            )
            self._connection.execute("COMMIT")

    def clear(self) -> None:
        with self._lock:
            self._connection.execute("DELETE FROM responses")

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class RedisResponses:
    """Responses as Redis strings under ``prefix``; TTL by ``SET … PX``."""

    def __init__(self, url: str, prefix: str) -> None:
        try:
            import redis
        except ImportError as exc:
            raise CacheBackendError(
                "The response_cache redis backend needs redis-py: "
                "pip install 'modelops-optimizers[redis]'."
            ) from exc
        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            self._client.ping()
        except redis.RedisError as exc:
            self._client.close()
            raise CacheBackendError(
                f"Cannot reach the Redis response cache at {mask_url(url)} ({exc}). Start the "
                f'server or fix the URL in {_CONFIG_KEY}, or use backend = "sqlite".'
            ) from None

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        values = self._client.mget([self.prefix + key for key in keys])
        # bytes, or str when the URL asks for ``?decode_responses=true``
        return {
            key: value.decode() if isinstance(value, bytes) else value
            for key, value in zip(keys, values, strict=True)
            if value
        }

    def set_many(self, items: Mapping[str, str], ttl: float | None) -> None:
        pipeline = self._client.pipeline(transaction=False)
        for key, value in items.items():
            # milliseconds: a TTL under a second (0.5) is kept, not sent as EX 0 (an error)
            pipeline.set(self.prefix + key, value, px=max(1, round(ttl * 1000)) if ttl else None)
        pipeline.execute()

    def clear(self) -> None:
        keys = list(self._client.scan_iter(match=self.prefix + "*", count=1000))
        for start in range(0, len(keys), 1000):
            self._client.delete(*keys[start : start + 1000])

    def close(self) -> None:
        self._client.close()


class ResponseCache:
    """Serve repeated inputs from a cache; send only the misses to the model.

    :param home: the modelops home (given by the core); the SQLite file is
        ``<home>/optimize/response_cache.sqlite`` unless ``path`` says otherwise.
    :param backend: ``sqlite`` (default) or ``redis``.
    :param url: the Redis server, ``redis://[user:password@]host:port/db`` (backend redis).
    :param path: the SQLite file (backend sqlite).
    :param ttl: seconds a response is kept (default: forever).
    :param prefix: the Redis key prefix.
    """

    name = "response_cache"
    layer = LAYER_CACHE

    def __init__(
        self,
        home: str = ".modelops",
        backend: str = "sqlite",
        url: str | None = None,
        path: str | None = None,
        ttl: float | None = None,
        prefix: str = "modelops:response:",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be positive seconds, got {ttl}")
        self.backend = backend
        self.url = url
        self.path = path
        self.ttl = ttl
        self.prefix = prefix
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self.store: SqliteResponses | RedisResponses
        if backend == "redis":
            if not url:
                raise ValueError(
                    f"backend 'redis' needs url = 'redis://host:6379/0' ({_CONFIG_KEY})"
                )
            self.store = RedisResponses(url, prefix)
        else:
            file = Path(path) if path else Path(home) / "optimize" / "response_cache.sqlite"
            self.store = SqliteResponses(file)

    def __repr__(self) -> str:
        where = mask_url(self.url or "") if self.backend == "redis" else str(self.path or "home")
        return f"ResponseCache(backend={self.backend!r}, at={where!r})"

    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"backend": self.backend}
        if self.backend == "redis" and self.url:
            settings["url"] = mask_url(self.url)
            settings["prefix"] = self.prefix
        if self.path:
            settings["path"] = self.path
        if self.ttl:
            settings["ttl"] = self.ttl
        return settings

    def build(self, request: BuildRequest) -> dict[str, Any]:
        return {}

    def wrap(self, predict: Predict, context: ServingContext) -> Predict:
        namespace = context.cache_namespace
        store = self.store
        ttl = self.ttl

        def cached(inputs: Sequence[str]) -> list[Any]:
            keys = [cache_key(namespace, text) for text in inputs]
            found = store.get_many(list(dict.fromkeys(keys)))
            missing: dict[str, str] = {}
            for key, text in zip(keys, inputs, strict=True):
                if key not in found and key not in missing:
                    missing[key] = text
            with self._lock:
                self.misses += len(missing)
                self.hits += len(inputs) - len(missing)
            if missing:
                outputs = predict(list(missing.values()))
                fresh = {key: _dumps(output) for key, output in zip(missing, outputs, strict=True)}
                store.set_many(fresh, ttl)
                found.update(fresh)
            return [json.loads(found[key]) for key in keys]

        return cached

    def clear(self) -> None:
        """Forget every cached response of this store."""
        self.store.clear()

    def close(self) -> None:
        self.store.close()


def _dumps(output: Any) -> str:
    try:
        return json.dumps(output, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise OptimizeError(
            f"response_cache stores outputs as JSON; the model returned a "
            f"{type(output).__name__} ({exc}). Leave response_cache out for this model."
        ) from exc
