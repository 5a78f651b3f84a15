"""``espaluz dlq list|show|redrive``: inspect the inbound queue's dead-letter queue and send it back.

The dead-letter queue is found from the inbound queue (``QUEUE_URL``, or ``--queue-url``) by its
``RedrivePolicy``, so operators need one setting. A message lands there after ``maxReceiveCount`` failed
turns (a bug, a provider outage longer than the retries); once the cause is fixed, ``redrive`` puts it
back on the inbound queue with its message group (the learner), so that learner's order holds.

Peeking: ``list`` and ``show`` receive messages with a short visibility timeout and make them visible again
at once, so they stay where they are. A FIFO queue hands out one group's messages in order, and while a
message is in flight its group is locked; the peek releases them before returning.

Redrive sends each message with its body, group and attributes and a new deduplication id (the original
wamid plus a suffix): SQS would drop a resend of the same id within its 5-minute window, and the tutor
dedupes on the wamid in the body anyway (``turns``), so a message that was in fact answered is not
answered twice. The DLQ copy is deleted only after the send succeeded.

Privacy: ``list`` prints ids and metadata only; ``show`` prints the body (which holds the learner's
message) because an operator asked for that one message.

The local stack's queue (``QUEUE_URL=local:NAME``, espaluz/queue/local.py) answers the same commands with
the same output: its dead letters are read from Redis (``REDIS_URL`` and ``REDIS_CLUSTER`` when set, else
the Redis that ``espaluz dev`` embeds under ``ESPALUZ_DATA_DIR``, reachable only while it runs), peeking
needs no visibility dance, and a redrive moves each message atomically (never in both places).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sqs import SQSClient

    from espaluz.queue.local import LocalFifoQueue

PEEK_VISIBILITY_SECONDS = 30
MAX_PEEK = 1000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    group_id: str
    dedup_id: str
    sent_at_ms: int
    receive_count: int
    size: int
    wamid: str
    body: str
    receipt_handle: str

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("body", "receipt_handle"):
            data.pop(private)
        return data


class DlqError(RuntimeError):
    pass


def _client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


def dead_letter_queue_url(client: SQSClient, queue_url: str) -> str:
    """The DLQ of ``queue_url``, from its RedrivePolicy."""
    attrs = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attrs.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise DlqError(f"{queue_url} has no dead-letter queue (no RedrivePolicy)")
    arn = json.loads(policy)["deadLetterTargetArn"]
    _, _, _, _region, account, name = arn.split(":", 5)
    return client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def _wamid(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    return str(data.get("wamid", "")) if isinstance(data, dict) else ""


def _receive_all(client: SQSClient, dlq_url: str, limit: int) -> list[DeadLetter]:
    """Receive up to ``limit`` messages and keep them in flight (the caller releases or deletes them).
    A FIFO queue returns at most one batch (10) per message group while that group is in flight, so a
    learner with more than 10 dead letters shows the first 10; redrive again for the rest."""
    found: dict[str, DeadLetter] = {}
    while len(found) < limit:
        response = client.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - len(found)),
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        if not batch:
            break
        for m in batch:
            attrs = m.get("Attributes", {})
            body = m.get("Body", "")
            found[m["MessageId"]] = DeadLetter(
                message_id=m["MessageId"],
                group_id=attrs.get("MessageGroupId", ""),
                dedup_id=attrs.get("MessageDeduplicationId", ""),
                sent_at_ms=int(attrs.get("SentTimestamp", 0)),
                receive_count=int(attrs.get("ApproximateReceiveCount", 0)),
                size=len(body.encode()),
                wamid=_wamid(body),
                body=body,
                receipt_handle=m["ReceiptHandle"],
            )
    return sorted(found.values(), key=lambda d: (d.sent_at_ms, d.message_id))


def peek(client: SQSClient, dlq_url: str, limit: int = MAX_PEEK) -> list[DeadLetter]:
    """Up to ``limit`` messages, oldest first, left on the queue (visible again when this returns)."""
    letters = _receive_all(client, dlq_url, limit)
    _release(client, dlq_url, letters)
    return letters


def _release(client: SQSClient, dlq_url: str, letters: list[DeadLetter]) -> None:
    for start in range(0, len(letters), 10):
        chunk = letters[start : start + 10]
        client.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": d.receipt_handle, "VisibilityTimeout": 0}
                for i, d in enumerate(chunk)
            ],
        )


def redrive(
    client: SQSClient,
    queue_url: str,
    dlq_url: str,
    *,
    message_ids: set[str] | None = None,
    limit: int = MAX_PEEK,
    dry_run: bool = False,
) -> list[DeadLetter]:
    """Move messages (all, or those in ``message_ids``) from the DLQ back to ``queue_url``, oldest
    first; returns the moved ones. Each is deleted from the DLQ only after it was sent; whatever is not
    moved (not selected, a dry run, or after a failed send) is made visible again."""
    letters = _receive_all(client, dlq_url, limit)
    moved: list[DeadLetter] = []
    try:
        for letter in letters:
            if dry_run or (message_ids is not None and letter.message_id not in message_ids):
                continue
            dedup = f"{letter.dedup_id or letter.message_id}:redrive:{letter.receive_count}"[:128]
            client.send_message(
                QueueUrl=queue_url,
                MessageBody=letter.body,
                MessageGroupId=letter.group_id or letter.message_id,
                MessageDeduplicationId=dedup,
            )
            client.delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)
            moved.append(letter)
    finally:
        gone = {d.message_id for d in moved}
        _release(client, dlq_url, [d for d in letters if d.message_id not in gone])
    if dry_run:
        return [d for d in letters if message_ids is None or d.message_id in message_ids]
    return moved


def _local_letter(entry: dict[str, str]) -> DeadLetter:
    body = entry.get("body", "")
    return DeadLetter(
        message_id=entry["id"],
        group_id=entry.get("group", ""),
        dedup_id=entry.get("dedup", ""),
        sent_at_ms=int(entry.get("sent") or 0),
        receive_count=int(entry.get("receives") or 0),
        size=len(body.encode()),
        wamid=_wamid(body),
        body=body,
        receipt_handle="",
    )


def local_peek(queue: LocalFifoQueue, limit: int = MAX_PEEK, *, now: float | None = None) -> list[DeadLetter]:
    """The local queue's dead letters within its retention at ``now``, oldest first (by send time, then
    the queue's sequence, so one learner's stay in order), at most ``limit``."""
    letters = [_local_letter(e) for e in queue.dead_letters(now=now)]
    letters.sort(key=lambda d: (d.sent_at_ms, int(d.message_id) if d.message_id.isdigit() else 0))
    return letters[:limit]


def local_redrive(
    queue: LocalFifoQueue,
    *,
    message_ids: set[str] | None = None,
    limit: int = MAX_PEEK,
    dry_run: bool = False,
    now: float | None = None,
) -> list[DeadLetter]:
    """``redrive`` for the local queue: each selected dead letter, oldest first, goes to the tail of its
    group, as SQS's does. A letter another redrive moved meanwhile is skipped (not reported moved)."""
    selected = [
        d for d in local_peek(queue, limit, now=now) if message_ids is None or d.message_id in message_ids
    ]
    if dry_run:
        return selected
    return [d for d in selected if queue.redrive_dead_letter(d.message_id, now=now) is not None]


class _Target:
    """The dead letters behind ``QUEUE_URL``: an SQS DLQ or the local queue's. Same verbs for both."""

    def __init__(self, option: str | None) -> None:
        self.queue_url = _queue_url(option)
        self.local: LocalFifoQueue | None = None
        if self.queue_url.startswith("local:"):
            from espaluz.queue.local import LocalFifoQueue
            from espaluz.storage.commands import LocalRedisUnavailable, cli_redis

            try:
                client = cli_redis()
            except LocalRedisUnavailable as exc:
                _fail(str(exc))
            self.local = LocalFifoQueue(client, self.queue_url.removeprefix("local:") or "inbound")
            return
        self.client = _client()
        try:
            self.dlq_url = dead_letter_queue_url(self.client, self.queue_url)
        except DlqError as exc:
            _fail(str(exc))

    def peek(self, limit: int = MAX_PEEK) -> list[DeadLetter]:
        if self.local is not None:
            local = self.local
            return _redis_call(lambda: local_peek(local, limit))
        return peek(self.client, self.dlq_url, limit)

    def redrive(self, message_ids: set[str] | None, dry_run: bool) -> list[DeadLetter]:
        if self.local is not None:
            local = self.local
            return _redis_call(lambda: local_redrive(local, message_ids=message_ids, dry_run=dry_run))
        return redrive(self.client, self.queue_url, self.dlq_url, message_ids=message_ids, dry_run=dry_run)


def _redis_call(call: Callable[[], list[DeadLetter]]) -> list[DeadLetter]:
    """``call``, with a Redis that stops answering reported in one line rather than a traceback."""
    import redis
    from redis.exceptions import RedisClusterException

    try:
        return call()
    except (redis.RedisError, RedisClusterException) as exc:
        _fail(f"the local queue's Redis did not answer ({type(exc).__name__})")


def _queue_url(option: str | None) -> str:
    if option:
        return option
    from espaluz.config import Settings

    url = Settings().queue_url  # this call's environment, not a cached one
    if not url:
        raise click.UsageError(
            "set QUEUE_URL (the inbound SQS queue, or local:inbound for the local stack) or pass --queue-url"
        )
    return url


def _fail(message: str) -> NoReturn:
    click.echo(f"espaluz dlq: {message}", err=True)
    sys.exit(1)


queue_option = click.option(
    "--queue-url", default=None, help="The inbound queue (default QUEUE_URL); its DLQ is looked up."
)


@click.group()
def dlq() -> None:
    """Inspect and redrive the inbound queue's dead-letter queue."""


@dlq.command("list")
@queue_option
@click.option("--limit", default=100, show_default=True, help="At most this many messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
def list_command(queue_url: str | None, limit: int, as_json: bool) -> None:
    """List dead letters (ids, group, wamid, receives; never the body)."""
    letters = _Target(queue_url).peek(limit)
    for d in letters:
        if as_json:
            click.echo(json.dumps(d.summary()))
        else:
            click.echo(f"{d.message_id}  group={d.group_id}  wamid={d.wamid}  receives={d.receive_count}")
    if not as_json:
        click.echo(f"{len(letters)} message(s)", err=True)


@dlq.command("show")
@queue_option
@click.argument("message_id")
def show_command(queue_url: str | None, message_id: str) -> None:
    """Print one dead letter with its body (JSON)."""
    letters = _Target(queue_url).peek()
    for d in letters:
        if d.message_id == message_id:
            data = d.summary()
            try:
                data["body"] = json.loads(d.body)
            except ValueError:
                data["body"] = d.body
            click.echo(json.dumps(data, ensure_ascii=False))
            return
    _fail(f"no message {message_id} in the dead-letter queue")


@dlq.command("redrive")
@queue_option
@click.argument("message_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Redrive every message.")
@click.option("--dry-run", is_flag=True, help="Say what would move; move nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per moved message.")
def redrive_command(
    queue_url: str | None, message_ids: tuple[str, ...], everything: bool, dry_run: bool, as_json: bool
) -> None:
    """Send dead letters (MESSAGE_IDS, or --all) back to the inbound queue."""
    if not message_ids and not everything:
        raise click.UsageError("name message ids or pass --all")
    moved = _Target(queue_url).redrive(None if everything else set(message_ids), dry_run)
    for d in moved:
        verb = "would move" if dry_run else "moved"
        click.echo(json.dumps(d.summary()) if as_json else f"{verb} {d.message_id}")
    missing = set(message_ids) - {d.message_id for d in moved}
    if missing:
        _fail(f"not in the dead-letter queue: {', '.join(sorted(missing))}")
    if not as_json:
        click.echo(f"{len(moved)} message(s) {'to move' if dry_run else 'moved'}", err=True)
