"""Amazon SQS FIFO adapter (boto3).

The endpoint comes from boto3's own configuration (``AWS_ENDPOINT_URL_SQS`` for moto or LocalStack),
never from a setting of ours. boto3 is imported on first use so the webhook's cold import stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from espaluz.queue.base import QueueError, QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10  # SQS SendMessageBatch limit


class SqsQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            entries: list[Any] = [
                {
                    "Id": str(i),
                    "MessageBody": m.body,
                    "MessageGroupId": m.group_id,
                    "MessageDeduplicationId": m.dedup_id,
                }
                for i, m in enumerate(chunk)
            ]
            try:
                result = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:  # botocore errors, timeouts, DNS: all mean "not enqueued"
                raise QueueError(f"SQS send failed: {type(exc).__name__}") from exc
            failed = result.get("Failed") or []
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise QueueError(f"SQS rejected {len(failed)} of {len(chunk)} messages: {codes}")
