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
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

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


def _queue_url(option: str | None) -> str:
    if option:
        return option
    from espaluz.config import get_settings

    url = get_settings().queue_url
    if not url or url.startswith("local:"):
        raise click.UsageError("set QUEUE_URL (the inbound SQS queue) or pass --queue-url")
    return url


def _fail(message: str) -> None:
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
    client = _client()
    try:
        letters = peek(client, dead_letter_queue_url(client, _queue_url(queue_url)), limit)
    except DlqError as exc:
        _fail(str(exc))
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
    client = _client()
    try:
        letters = peek(client, dead_letter_queue_url(client, _queue_url(queue_url)))
    except DlqError as exc:
        _fail(str(exc))
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
    client = _client()
    source = _queue_url(queue_url)
    try:
        moved = redrive(
            client,
            source,
            dead_letter_queue_url(client, source),
            message_ids=None if everything else set(message_ids),
            dry_run=dry_run,
        )
    except DlqError as exc:
        _fail(str(exc))
    for d in moved:
        verb = "would move" if dry_run else "moved"
        click.echo(json.dumps(d.summary()) if as_json else f"{verb} {d.message_id}")
    missing = set(message_ids) - {d.message_id for d in moved}
    if missing:
        _fail(f"not in the dead-letter queue: {', '.join(sorted(missing))}")
    if not as_json:
        click.echo(f"{len(moved)} message(s) {'to move' if dry_run else 'moved'}", err=True)
