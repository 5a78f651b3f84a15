"""Pick the queue adapter from ``QUEUE_URL``: ``local:NAME`` is the Redis-backed local FIFO queue,
anything else an SQS queue URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from espaluz.queue.base import Queue

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient

LOCAL_SCHEME = "local:"


def queue_from_url(url: str, redis_client: RedisClient | None) -> Queue:
    if not url:
        raise RuntimeError("QUEUE_URL is not set")
    if url.startswith(LOCAL_SCHEME):
        if redis_client is None:
            raise RuntimeError("a local queue needs REDIS_URL")
        from espaluz.queue.local import LocalFifoQueue

        return LocalFifoQueue(redis_client, url.removeprefix(LOCAL_SCHEME) or "inbound")
    from espaluz.queue.sqs import SqsQueue

    return SqsQueue(url)
