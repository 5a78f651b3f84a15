"""Erasure of one learner (a data-deletion request): the single routine behind the chat's confirmed
"borrar" (``CommandCenter.erase``) and ``espaluz learner delete``.

Every store that can hold the learner's phone number, ids or words is visited, and the returned
:class:`ErasureReport` says per store what went (counts) or why nothing could (not configured, refused,
unreachable). One store failing never stops the others: the database rows go even when Redis is down.

- ``postgres``: the learner row, and with it (ON DELETE CASCADE) every table that names the learner; each
  table with a ``learner_id`` column is also cleared explicitly, so a table added without the foreign key
  is not missed. Counts are per table (``turn_parts`` hang from ``turns``). ``stripe_events`` holds only
  Stripe's event ids and types. Freed rows stay in the table files until PostgreSQL reuses or vacuums
  them (autovacuum); nothing here runs ``VACUUM FULL`` (it locks the table).
- ``redis``: every key under the learner's hash tag ``{<learner id>}`` (``conv:``, ``wa:…:held``,
  ``wa:…:pace``, ``brain:…:late`` and any later one): SCAN of that pattern, on a cluster on the node
  that owns the tag's slot (all of them live there), plus the known names in case SCAN misses one; and
  the delivery records (``wa:status:<wamid>``) of the messages sent to the learner. The ``wa:seen:<wamid>``
  markers of their inbound messages are kept: they are the webhook's guard against a redelivery (which
  would otherwise recreate the learner from a stale message) and expire after ``DEDUPE_TTL_SECONDS``.
- ``redis_persistence``: deleted keys live on in the append-only file and the RDB snapshot until those
  are rewritten, so when the server allows it (the local embedded Redis; ElastiCache refuses) an AOF
  rewrite and a snapshot are started and waited for.
- ``audio``: the learner's voice notes (``AudioStore.delete_learner``: the local folder or S3).
- ``dead_letters_local`` / ``dead_letters_sqs``: the learner's dead letters (messages of their group,
  found by the learner key or by the ids their envelopes carry), on the local queue or in the SQS DLQ.
- ``llm_cache``: nothing to delete (see the note: entries are written from topic ids alone).
- ``stripe``: the learner's Stripe customers, deleted through the API (Stripe then cancels their
  subscriptions at once and keeps only what the law makes it keep).

A caller must know: run it after the goodbye was sent (the chat) and at most once at a time per learner;
running it again is harmless (everything reports 0). It takes seconds at worst (Stripe, SQS, the AOF
rewrite), never minutes: each remote call is bounded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from psycopg import sql
from redis.cluster import RedisCluster

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

    from espaluz.config import Settings
    from espaluz.storage.redis import RedisClient
    from espaluz.voice.storage import AudioStore

logger = logging.getLogger(__name__)

SQS_PEEK_VISIBILITY_SECONDS = 30
SQS_MAX_MESSAGES = 1000
PERSISTENCE_WAIT_SECONDS = 10.0
LLM_CACHE_NOTE = (
    "nothing to delete: cached explanations are keyed by closed topic ids and written from the topic id "
    "alone (espaluz/llm/cache.py), never from a learner's words"
)


class CustomerDeleter(Protocol):
    """What erasure needs from the payments adapter (``StripePayments``)."""

    def delete_customer(self, customer_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Identity:
    """What identifies the learner outside the learner row: read before the row goes."""

    learner_id: UUID
    wa_id: str | None = None
    bsuid: str | None = None
    parent_bsuid: str | None = None
    learner_key: str | None = None
    customer_ids: tuple[str, ...] = ()
    sent_wamids: tuple[str, ...] = ()

    def owns(self, envelope: Any, group: str = "") -> bool:
        """Whether a queued message (its envelope, parsed; ``group`` its message group) is the learner's."""
        if group and group in (str(self.learner_id), self.learner_key):
            return True
        if not isinstance(envelope, dict):
            return False
        update = envelope.get("update")
        if isinstance(update, dict) and update.get("learner_id") == str(self.learner_id):
            return True
        if self.learner_key and envelope.get("learner_key") == self.learner_key:
            return True
        if self.wa_id and envelope.get("wa_id") == self.wa_id:
            return True
        bsuids = {b for b in (self.bsuid, self.parent_bsuid) if b}
        return bool(bsuids & {envelope.get("bsuid"), envelope.get("parent_bsuid")})


@dataclass
class StoreResult:
    """``removed``: how many things went (rows, keys, files, messages, customers); None when the store
    was not looked at. ``note``: why not, or what a reader should know."""

    removed: int | None = 0
    note: str = ""
    detail: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"removed": self.removed}
        if self.note:
            data["note"] = self.note
        if self.detail:
            data["detail"] = dict(self.detail)
        return data


@dataclass
class ErasureReport:
    learner_id: UUID
    existed: bool = False
    stores: dict[str, StoreResult] = field(default_factory=dict)

    def removed(self, store: str) -> int | None:
        found = self.stores.get(store)
        return found.removed if found else None

    def to_json(self) -> dict[str, Any]:
        return {
            "learner_id": str(self.learner_id),
            "existed": self.existed,
            "stores": {name: result.to_json() for name, result in self.stores.items()},
        }


def _reason(exc: BaseException) -> str:
    """A one-line reason without the exception's text (which may quote a key or a URL with a secret)."""
    return type(exc).__name__


def _guarded(report: ErasureReport, store: str, step: Callable[[], StoreResult]) -> None:
    try:
        report.stores[store] = step()
    except Exception as exc:  # one store's failure never stops the others
        logger.warning("erasure step failed", extra={"store": store, "error": _reason(exc)})
        report.stores[store] = StoreResult(None, f"failed ({_reason(exc)}); run the erasure again")


# --- Postgres -------------------------------------------------------------------------------------------


def read_identity(conn: psycopg.Connection[Any], learner_id: UUID) -> Identity | None:
    """The learner's identifiers, Stripe customers and sent wamids; None when there is no such learner."""
    row = conn.execute("SELECT to_jsonb(l) FROM learners l WHERE id = %s", (learner_id,)).fetchone()
    if row is None:
        return None
    data: dict[str, Any] = row[0] or {}
    customers = conn.execute(
        """SELECT customer_id FROM billing_customers WHERE learner_id = %(id)s
           UNION SELECT customer_id FROM subscriptions WHERE learner_id = %(id)s
           UNION SELECT customer_id FROM entitlements WHERE learner_id = %(id)s""",
        {"id": learner_id},
    ).fetchall()
    sent = conn.execute(
        """SELECT unnest(reply_wamids) FROM turns WHERE learner_id = %(id)s
           UNION SELECT p.reply_wamid FROM turn_parts p JOIN turns t USING (wamid)
                 WHERE t.learner_id = %(id)s AND p.reply_wamid IS NOT NULL""",
        {"id": learner_id},
    ).fetchall()
    return Identity(
        learner_id=learner_id,
        wa_id=data.get("wa_id") or None,
        bsuid=data.get("bsuid") or None,
        parent_bsuid=data.get("parent_bsuid") or None,
        learner_key=data.get("learner_key") or None,
        customer_ids=tuple(sorted({str(c) for (c,) in customers if c})),
        sent_wamids=tuple(sorted({str(w) for (w,) in sent if w})),
    )


def erase_rows(conn: psycopg.Connection[Any], learner_id: UUID) -> StoreResult:
    """Delete the learner row and every row naming the learner, in one transaction committed before
    returning (with whatever the caller's connection had open); counts per table."""
    with conn.transaction():
        tables = [
            str(name)
            for (name,) in conn.execute(
                """SELECT c.table_name FROM information_schema.columns c
                   JOIN information_schema.tables t USING (table_schema, table_name)
                   WHERE c.table_schema = current_schema() AND c.column_name = 'learner_id'
                     AND t.table_type = 'BASE TABLE'
                   ORDER BY c.table_name"""
            ).fetchall()
        ]
        detail: dict[str, int] = {}
        for table in tables:
            (count,) = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE learner_id = %s").format(sql.Identifier(table)),
                (learner_id,),
            ).fetchone() or (0,)
            detail[table] = int(count)
        if "turns" in tables:
            (parts,) = conn.execute(
                """SELECT count(*) FROM turn_parts p JOIN turns t USING (wamid) WHERE t.learner_id = %s""",
                (learner_id,),
            ).fetchone() or (0,)
            detail["turn_parts"] = int(parts)
        learner_rows = conn.execute("DELETE FROM learners WHERE id = %s", (learner_id,)).rowcount
        for table in tables:  # rows of a table without ON DELETE CASCADE (none today)
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE learner_id = %s").format(sql.Identifier(table)), (learner_id,)
            )
    conn.commit()  # now, not when the caller's block ends: the other stores take seconds and may fail
    detail = {"learners": max(learner_rows, 0), **{k: v for k, v in detail.items() if v}}
    return StoreResult(sum(detail.values()), detail=detail)


# --- Redis ----------------------------------------------------------------------------------------------


def learner_keys(learner_id: UUID) -> list[str]:
    """The key names known to be the learner's (all under the hash tag ``{<learner id>}``)."""
    from espaluz.tutor.agents.brain import enrichment_key
    from espaluz.tutor.state import StateStore
    from espaluz.whatsapp.sender import held_key, pace_key

    return [
        StateStore.key(learner_id),
        held_key(str(learner_id)),
        pace_key(str(learner_id)),
        enrichment_key(learner_id),
    ]


def _tagged_keys(client: RedisClient, learner_id: UUID) -> set[str]:
    pattern = f"*{{{learner_id}}}*"
    if isinstance(client, RedisCluster):
        # Every key with the tag lives in the tag's slot: scan only the node that owns it.
        node = client.get_node_from_key(f"{{{learner_id}}}")
        found = client.scan_iter(match=pattern, count=1000, target_nodes=node)
    else:
        found = client.scan_iter(match=pattern, count=1000)
    return {k.decode() if isinstance(k, bytes) else str(k) for k in found}


def erase_redis(client: RedisClient, identity: Identity) -> StoreResult:
    """Delete every key under the learner's hash tag and the delivery records of messages sent to them.
    One DEL per key (keys of other slots must not share a command on a cluster)."""
    from espaluz.whatsapp.inbound import status_key

    tagged = _tagged_keys(client, identity.learner_id) | set(learner_keys(identity.learner_id))
    statuses = [status_key(w) for w in identity.sent_wamids]
    detail = {"learner_keys": 0, "delivery_records": 0}
    for key in sorted(tagged):
        detail["learner_keys"] += int(client.delete(key) or 0)
    for key in statuses:
        detail["delivery_records"] += int(client.delete(key) or 0)
    note = "inbound wa:seen:<wamid> markers kept (redelivery guard; they expire with DEDUPE_TTL_SECONDS)"
    return StoreResult(sum(detail.values()), note, detail)


def _node_command(client: RedisClient, learner_id: UUID, *args: Any) -> Any:
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(f"{{{learner_id}}}")
        return client.execute_command(*args, target_nodes=node)  # type: ignore[no-untyped-call]
    return client.execute_command(*args)


def _config(client: RedisClient, learner_id: UUID, name: str) -> str | None:
    """A server setting, or None when CONFIG is not allowed (managed Redis)."""
    try:
        answer = _node_command(client, learner_id, "CONFIG GET", name)
    except Exception:  # ElastiCache renames or refuses CONFIG
        return None
    if isinstance(answer, dict):
        value = answer.get(name.encode(), answer.get(name))
    elif isinstance(answer, list | tuple) and len(answer) >= 2:
        value = answer[1]
    else:
        return None
    return value.decode() if isinstance(value, bytes) else None if value is None else str(value)


def _busy(client: RedisClient, learner_id: UUID) -> bool:
    """Whether an AOF rewrite or a snapshot is running or scheduled (False when INFO is refused)."""
    try:
        info = _node_command(client, learner_id, "INFO", "persistence")
    except Exception:
        return False
    if not isinstance(info, dict):
        return False
    return any(
        int(info.get(flag, 0) or 0)
        for flag in ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")
    )


def _idle(client: RedisClient, learner_id: UUID, deadline: float) -> bool:
    while _busy(client, learner_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def rewrite_persistence(
    client: RedisClient, learner_id: UUID, *, wait_seconds: float = PERSISTENCE_WAIT_SECONDS
) -> StoreResult:
    """Rewrite the AOF, then the RDB snapshot, so that the deleted keys leave the server's files too.
    One at a time, each after any rewrite already running (which may have started before the deletion)
    and waited for (up to ``wait_seconds`` in all), so that stopping the server right after cannot abort
    them. ``removed`` counts the files rewritten."""
    appendonly = _config(client, learner_id, "appendonly")
    save = _config(client, learner_id, "save")
    deadline = time.monotonic() + wait_seconds
    notes: list[str] = []
    rewritten = 0
    steps = []
    if appendonly != "no":  # "yes", or unknown (CONFIG refused): try, a refusal is reported
        steps.append(("BGREWRITEAOF", "append-only file"))
    if save:  # snapshots configured: the last one still holds the keys
        steps.append(("BGSAVE", "snapshot"))
    if not steps:
        return StoreResult(0, "the server keeps no files (no AOF, no snapshots)")
    for command, what in steps:
        if not _idle(client, learner_id, deadline):
            notes.append(f"{what} not rewritten: another rewrite still running")
            continue
        try:
            _node_command(client, learner_id, command)
        except Exception as exc:  # "not permitted" / unknown command on managed Redis
            notes.append(f"{command} refused ({_reason(exc)})")
            continue
        if _idle(client, learner_id, deadline):
            rewritten += 1
            notes.append(f"{what} rewritten")
        else:
            notes.append(f"{what} rewrite still running when the erasure returned")
    return StoreResult(rewritten, "; ".join(notes))


# --- queues ---------------------------------------------------------------------------------------------


def erase_local_dead_letters(client: RedisClient, queue_name: str, identity: Identity) -> int:
    """Delete the learner's dead letters from local queue ``queue_name``; returns how many.

    Their messages are grouped by the learner key (an HMAC of the WhatsApp identity, kept on the row
    since the turn ledger; older rows lack it and it changes when a BSUID arrives), their notices by that
    key or by the learner id. So the groups are also found from the envelopes: a group whose envelope
    names the learner's wa_id, BSUID, learner key or (a notice) learner id; then every dead letter of those
    groups goes, an unreadable body included."""
    from espaluz.queue.local import LocalFifoQueue

    queue = LocalFifoQueue(client, queue_name)
    entries = queue.dead_letters()
    groups = {str(identity.learner_id)} | ({identity.learner_key} if identity.learner_key else set())
    for entry in entries:
        try:
            envelope = json.loads(entry.get("body", ""))
        except ValueError:
            continue
        if identity.owns(envelope, entry.get("group", "")):
            groups.add(entry.get("group", ""))
    return queue.delete_dead_letters([e["id"] for e in entries if e.get("group") in groups])


def erase_sqs_dead_letters(
    client: Any, dlq_url: str, identity: Identity, *, limit: int = SQS_MAX_MESSAGES
) -> int:
    """Delete the learner's messages from the SQS dead-letter queue ``dlq_url``; returns how many.

    Messages are received in batches with a short visibility timeout; the learner's (their message
    group, or an envelope naming them) are deleted at once, which also unlocks their FIFO group so its
    next messages come; the others are made visible again before returning. At most ``limit`` messages
    are looked at per pass; passes repeat while one deleted something."""
    total = 0
    for _ in range(5):
        kept: list[tuple[str, str]] = []  # (receipt handle, group)
        deleted = 0
        groups: set[str] = set()
        try:
            seen = 0
            while seen < limit:
                batch = client.receive_message(
                    QueueUrl=dlq_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=SQS_PEEK_VISIBILITY_SECONDS,
                    WaitTimeSeconds=0,
                    MessageSystemAttributeNames=["MessageGroupId"],
                ).get("Messages", [])
                if not batch:
                    break
                seen += len(batch)
                for message in batch:
                    group = message.get("Attributes", {}).get("MessageGroupId", "")
                    try:
                        envelope = json.loads(message.get("Body", ""))
                    except ValueError:
                        envelope = None
                    if group in groups or identity.owns(envelope, group):
                        groups.add(group)
                        client.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                        deleted += 1
                    else:
                        kept.append((message["ReceiptHandle"], group))
            for handle, _group in [k for k in kept if k[1] in groups]:  # same group, received earlier
                client.delete_message(QueueUrl=dlq_url, ReceiptHandle=handle)
                deleted += 1
            kept = [k for k in kept if k[1] not in groups]
        finally:
            for start in range(0, len(kept), 10):
                client.change_message_visibility_batch(
                    QueueUrl=dlq_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for i, (handle, _group) in enumerate(kept[start : start + 10])
                    ],
                )
        total += deleted
        if not deleted:
            break
    return total


# --- Stripe ---------------------------------------------------------------------------------------------


def erase_stripe(payments: CustomerDeleter | None, customer_ids: Iterable[str]) -> StoreResult:
    customers = sorted(set(customer_ids))
    if not customers:
        return StoreResult(0, "no Stripe customer")
    if payments is None:
        return StoreResult(None, f"STRIPE_API_KEY unset: delete in Stripe by hand: {', '.join(customers)}")
    removed, left = 0, []
    for customer in customers:
        try:
            removed += int(payments.delete_customer(customer))
        except Exception as exc:  # PaymentsError and the like: keep going, name what is left
            left.append(f"{customer} ({_reason(exc)})")
    note = f"not deleted, delete in Stripe by hand: {', '.join(left)}" if left else ""
    if removed < len(customers) - len(left):
        note = "; ".join(x for x in (note, "some customers were already deleted at Stripe") if x)
    return StoreResult(removed, note)


# --- the routine ----------------------------------------------------------------------------------------


@dataclass
class Stores:
    """Where the learner's data may be, besides Postgres. ``None`` (or empty) means that store is not in
    this deployment or could not be reached; ``*_note`` says why, for the report."""

    redis: RedisClient | None = None
    redis_note: str = "no Redis"
    rewrite_redis_files: bool = True
    audio: AudioStore | None = None
    audio_note: str = "no audio store"
    local_queue: str | None = None
    sqs: Any = None  # a boto3 SQS client
    sqs_dlq_url: str = ""
    sqs_note: str = "no SQS queue (QUEUE_URL is a local queue or unset)"
    payments: CustomerDeleter | None = None


def erase_learner(conn: psycopg.Connection[Any], learner_id: UUID, stores: Stores) -> ErasureReport:
    """Erase the learner everywhere (see the module docstring); never raises for one store's failure."""
    report = ErasureReport(learner_id)
    identity = read_identity(conn, learner_id)
    report.existed = identity is not None
    who = identity or Identity(learner_id)
    _guarded(report, "postgres", lambda: erase_rows(conn, learner_id))
    redis_client = stores.redis
    if redis_client is None:
        report.stores["redis"] = StoreResult(None, stores.redis_note)
    else:
        _guarded(report, "redis", lambda: erase_redis(redis_client, who))
    audio = stores.audio
    if audio is None:
        report.stores["audio"] = StoreResult(None, stores.audio_note)
    else:
        _guarded(report, "audio", lambda: StoreResult(audio.delete_learner(learner_id)))
    local_queue = stores.local_queue
    if local_queue is None:
        report.stores["dead_letters_local"] = StoreResult(None, "no local queue")
    elif redis_client is None:
        report.stores["dead_letters_local"] = StoreResult(None, stores.redis_note)
    else:
        _guarded(
            report,
            "dead_letters_local",
            lambda: StoreResult(erase_local_dead_letters(redis_client, local_queue, who)),
        )
    if stores.sqs is None or not stores.sqs_dlq_url:
        report.stores["dead_letters_sqs"] = StoreResult(None, stores.sqs_note)
    else:
        _guarded(
            report,
            "dead_letters_sqs",
            lambda: StoreResult(erase_sqs_dead_letters(stores.sqs, stores.sqs_dlq_url, who)),
        )
    if redis_client is not None and stores.rewrite_redis_files:  # last: after every Redis deletion
        _guarded(report, "redis_persistence", lambda: rewrite_persistence(redis_client, learner_id))
    report.stores["llm_cache"] = StoreResult(0, LLM_CACHE_NOTE)
    _guarded(report, "stripe", lambda: erase_stripe(stores.payments, who.customer_ids))
    logger.info(
        "learner erased",
        extra={
            "learner_id": str(learner_id),
            "existed": report.existed,
            "stores": {k: v.removed for k, v in report.stores.items()},
        },
    )
    return report


def stores_from_settings(
    settings: Settings,
    redis_client: RedisClient | None,
    *,
    redis_note: str = "no Redis",
    rewrite_redis_files: bool = True,
) -> Stores:
    """The stores of this deployment, from its settings: the audio store (``AUDIO_BUCKET`` or the data
    folder), the queue (``QUEUE_URL``: a local queue's dead letters, or SQS's DLQ found from the queue's
    RedrivePolicy) and Stripe (``STRIPE_API_KEY``)."""
    from espaluz.billing.stripe_client import build_payments
    from espaluz.voice.storage import build_store

    stores = Stores(redis=redis_client, redis_note=redis_note, rewrite_redis_files=rewrite_redis_files)
    try:
        stores.audio = build_store(settings)
    except Exception as exc:  # boto3 missing its region and the like
        stores.audio_note = f"audio store not available ({_reason(exc)})"
    queue_url = settings.queue_url or "local:inbound"
    if queue_url.startswith("local:"):
        stores.local_queue = queue_url.removeprefix("local:") or "inbound"
    else:
        try:
            import boto3

            from espaluz.ops.dlq import dead_letter_queue_url

            stores.sqs = boto3.client("sqs")
            stores.sqs_dlq_url = dead_letter_queue_url(stores.sqs, queue_url)
        except Exception as exc:  # no RedrivePolicy (DlqError), no permission, no network
            stores.sqs = None
            stores.sqs_note = f"the SQS dead-letter queue was not reached ({_reason(exc)})"
    try:
        stores.payments = build_payments(settings)
    except Exception as exc:
        logger.warning("stripe not available for erasure", extra={"error": _reason(exc)})
    return stores
