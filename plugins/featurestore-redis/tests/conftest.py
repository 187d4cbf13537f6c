"""A unique key prefix per test on the real Redis server, deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_reason() -> str | None:
    """Why the Redis tests cannot run here, or None when the server answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_URL} cannot be reached ({exc}); start redis-server"
    return None


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    import redis

    prefix = f"modelops-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
