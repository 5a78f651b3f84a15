"""The webhook function's core: verify, parse, drop duplicates, enqueue, answer.

Contract with Meta: answer 200 only once every update of the payload is safely in the queue; on an
enqueue failure answer 503 so Meta retries (it retries for days). Duplicates are dropped here for a week
(Redis), beyond SQS's five-minute deduplication window.

What goes on the queue, one ``InboundEnvelope`` each, grouped by learner (FIFO order per learner):
- every item of ``value.messages``, whatever its type (text, media, reactions, system, unsupported...):
  ``kind="message"``; the tutor decides what deserves an answer;
- every item of ``value.user_preferences`` (marketing stop/resume): ``kind="preference"``;
- every item of ``value.user_id_update`` (a BSUID replaced): ``kind="identity"``.
Statuses of messages we sent never start a tutor turn: they update a small delivery record in Redis.

Poison-proof (issue 14; the rules are in ``espaluz.whatsapp.models``): each item is parsed on its own and an
invalid one skipped, so its siblings are still enqueued; strings are cleaned and ids bounded before
anything is enqueued. Status codes: 413 for a body over ``max_body_bytes``; 400 for a signed body that is
not JSON or is nested deeper than ``models.MAX_DEPTH`` (not from Meta, and a retry cannot change it); 200
for anything else that is signed, whatever it holds; 503 only when Redis or the queue fails, so that Meta
retries. A 500 on content would have Meta retry a poison payload for days.

Privacy: nothing logged here carries a phone number, a BSUID or message text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from espaluz.httpapi import Request, Response, TooDeep, clean_document, json_body
from espaluz.queue.base import Queue, QueueError, QueueMessage
from espaluz.whatsapp import signature
from espaluz.whatsapp.models import (
    Contact,
    Message,
    Sender,
    Status,
    UserIdUpdate,
    UserPreference,
    Value,
    WebhookPayload,
    bounded_id,
    sender_of,
)

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient

logger = logging.getLogger(__name__)

ENVELOPE_VERSION = 2
# A later status never goes back to an earlier one, whatever order Meta delivers them in.
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5, "deleted": 6}
# SQS accepts dedup ids of 1..128 printable ASCII characters; anything else is hashed.
_SQS_DEDUP_ID = re.compile(r"[!-~]{1,128}")
_FIELD_NAME = re.compile(r"[a-z_]{1,64}")

EnvelopeKind = Literal["message", "preference", "identity", "notice", "proactive"]


class InboundEnvelope(BaseModel):
    """What the webhook puts on the queue for one inbound update.

    ``kind`` says which: ``"message"`` (``message`` holds the ``Message`` as Meta sent it),
    ``"preference"`` or ``"identity"`` (``update`` holds the ``UserPreference`` / ``UserIdUpdate``,
    ``message`` is empty), ``"notice"``: a message another function owes the learner (billing), put on
    the queue by ``notice_message`` so it leaves through the tutor's send policy, or ``"proactive"``: a
    message the scheduler chose for the learner (``proactive_message``), which the tutor composes and
    sends. ``wamid`` is the update's unique id: the message's wamid, or for the other kinds a synthetic id
    (``pref.<hash>`` / ``uidu.<hash>`` / ``notice.<event>.<kind>`` / ``tick.<kind>.<learner>.<slot>``)
    that is stable across retries. Envelopes of version 1
    (no ``kind``) read as messages.
    """

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        """Clean text and bounded ids whoever built the envelope: the webhook (already clean), a billing
        notice (its id holds Stripe's event id), or a redrive of an envelope written before these rules."""
        data = clean_document(data)
        if isinstance(data, dict):
            for key in ("wamid", "learner_key", "wa_id", "bsuid", "parent_bsuid", "phone_number_id"):
                if isinstance(data.get(key), str):
                    data[key] = bounded_id(data[key])
        return data

    v: int = ENVELOPE_VERSION
    kind: EnvelopeKind = "message"
    wamid: str
    phone_number_id: str
    display_phone_number: str = ""
    learner_key: str
    bsuid: str | None = None
    parent_bsuid: str | None = None
    wa_id: str | None = None
    name: str = ""
    username: str | None = None
    message: dict[str, Any] = {}
    update: dict[str, Any] | None = None
    received_at: float


def learner_key(identity_material: str, key: str) -> str:
    """A stable pseudonym for a WhatsApp user, used as the SQS message group id.

    Group ids show in the AWS console and in logs, so they must not be the phone number.
    """
    return hmac.new(key.encode(), identity_material.encode(), hashlib.sha256).hexdigest()[:32]


def _content_id(prefix: str, phone_number_id: str, item: BaseModel) -> str:
    """A deterministic id for an update that has none of its own: same content, same id (Meta's retries
    of one preference change dedupe; a later stop/resume has a new timestamp, hence a new id)."""
    content = json.dumps(
        [phone_number_id, item.model_dump(mode="json", exclude_none=True)], sort_keys=True, default=str
    )
    return f"{prefix}.{hashlib.sha256(content.encode()).hexdigest()[:40]}"


@dataclass
class WebhookService:
    app_secret: str
    verify_token: str
    queue: Queue
    redis: RedisClient
    max_body_bytes: int = 1_000_000
    dedupe_ttl_seconds: int = 7 * 24 * 3600

    # GET /webhooks/whatsapp
    def verify_subscription(self, request: Request) -> Response:
        q = request.query
        token = q.get("hub.verify_token", "").encode("utf-8", "surrogatepass")
        token_ok = hmac.compare_digest(token, self.verify_token.encode())
        if q.get("hub.mode") == "subscribe" and self.verify_token and token_ok and "hub.challenge" in q:
            return Response(200, q["hub.challenge"], content_type="text/plain")
        return Response.error(403, "verification failed")

    # POST /webhooks/whatsapp
    def receive(self, request: Request) -> Response:
        if len(request.body) > self.max_body_bytes:
            return Response.error(413, "body too large")
        try:
            signature.verify(request.body, request.header(signature.HEADER), self.app_secret)
        except signature.SignatureMissing:
            return Response.error(401, "missing signature")
        except (signature.SignatureMismatch, UnicodeError):
            logger.warning("webhook signature mismatch")
            return Response.error(403, "bad signature")
        try:
            document = _parse_json(request.body)
        except TooDeep:
            logger.warning("webhook nested too deep refused")
            return Response.error(400, "body nested too deep")
        if document is None:
            return Response.error(400, "body is not JSON")
        try:
            payload = WebhookPayload.model_validate(document)
        except ValidationError as exc:
            # Signed by Meta but of a shape we do not know: accept, so Meta does not retry forever.
            logger.info("webhook of unknown shape accepted", extra={"errors": exc.error_count()})
            return Response.json(200, {"accepted": 0})

        envelopes, statuses = self._collect(payload)
        try:
            fresh = self._drop_seen(envelopes)
            if fresh:
                self.queue.send_batch([self._queue_message(e) for e in fresh])
                self._mark_seen(fresh)
            self._record_statuses(statuses)
        except QueueError as exc:
            logger.error("enqueue failed; asking Meta to retry", extra={"reason": str(exc)})
            return Response.error(503, "queue unavailable")
        except Exception as exc:  # Redis down, timeouts: Meta must retry rather than lose the message
            logger.error(
                "webhook state unavailable; asking Meta to retry", extra={"reason": type(exc).__name__}
            )
            return Response.error(503, "state unavailable")
        logger.info(
            "webhook accepted",
            extra={
                "updates": len(envelopes),
                "enqueued": len(fresh),
                "statuses": len(statuses),
                "wamids": [e.wamid for e in fresh],
            },
        )
        return Response.json(200, {"accepted": len(fresh)})

    def _collect(self, payload: WebhookPayload) -> tuple[list[InboundEnvelope], list[Status]]:
        """Envelopes for every message, preference and identity update, in payload order."""
        envelopes: list[InboundEnvelope] = []
        statuses: list[Status] = []
        now = time.time()
        for entry in payload.entry:
            for change in entry.changes:
                if not isinstance(change.value, Value):
                    field = change.field if _FIELD_NAME.fullmatch(change.field) else "?"
                    logger.info("webhook change of unknown shape ignored", extra={"field": field})
                    continue
                value = change.value
                statuses.extend(value.statuses)
                for message in value.messages:
                    self._append(envelopes, partial(self._message_envelope, value, message, now))
                for preference in value.user_preferences:
                    self._append(envelopes, partial(self._preference_envelope, value, preference, now))
                for update in value.user_id_update:
                    self._append(envelopes, partial(self._identity_envelope, value, update, now))
        return envelopes, statuses

    def _append(self, envelopes: list[InboundEnvelope], build: Callable[[], InboundEnvelope | None]) -> None:
        """Add the envelope ``build`` makes, unless it cannot be made or put on the queue: that item is
        logged and skipped, never allowed to fail its siblings or the webhook (the models should have
        caught it already; this is the last line)."""
        try:
            envelope = build()
            if envelope is not None:
                self._queue_message(envelope)  # what the enqueue will do: fails here, not after
        except (ValueError, TypeError, UnicodeError) as exc:
            logger.warning("webhook update skipped", extra={"reason": type(exc).__name__})
            return
        if envelope is not None:
            envelopes.append(envelope)

    def _envelope(
        self, value: Value, sender: Sender, wamid: str, now: float, **content: Any
    ) -> InboundEnvelope:
        return InboundEnvelope(
            wamid=wamid,
            phone_number_id=value.metadata.phone_number_id,
            display_phone_number=value.metadata.display_phone_number,
            learner_key=learner_key(sender.key_material, self.app_secret),
            bsuid=sender.bsuid,
            parent_bsuid=sender.parent_bsuid,
            wa_id=sender.wa_id,
            name=sender.name,
            username=sender.username,
            received_at=now,
            **content,
        )

    def _message_envelope(self, value: Value, message: Message, now: float) -> InboundEnvelope | None:
        sender = sender_of(value, message)
        if not sender.known:
            logger.warning(
                "message without sender identity dropped", extra={"wamid": message.id, "kind": message.kind}
            )
            return None
        dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self._envelope(value, sender, message.id, now, message=dumped)

    def _preference_envelope(
        self, value: Value, preference: UserPreference, now: float
    ) -> InboundEnvelope | None:
        contact = _contact_matching(value, preference.user_id, preference.wa_id)
        sender = Sender(
            bsuid=preference.user_id or (contact.user_id if contact else None),
            wa_id=preference.wa_id or (contact.wa_id if contact else None),
            parent_bsuid=preference.parent_user_id or (contact.parent_user_id if contact else None),
            name=contact.profile.name if contact else "",
            username=contact.profile.username if contact else None,
        )
        if not sender.known:
            logger.warning("preference without user identity dropped")
            return None
        wamid = _content_id("pref", value.metadata.phone_number_id, preference)
        update = preference.model_dump(mode="json", exclude_none=True)
        if not preference.timestamp:
            # Unknown or out of range: the time we heard of it. Later than the truth, never before an
            # update Meta sent earlier with a valid time (the tutor applies preferences in time order).
            update["timestamp"] = int(now)
        return self._envelope(value, sender, wamid, now, kind="preference", update=update)

    def _identity_envelope(self, value: Value, change: UserIdUpdate, now: float) -> InboundEnvelope | None:
        # Grouped with the *current* BSUID: the learner's next messages carry it, so the tutor sees the
        # link between old and new id before them.
        current = change.user_id.current
        contact = _contact_matching(value, current, change.wa_id)
        parent = change.parent_user_id.current if change.parent_user_id else None
        sender = Sender(
            bsuid=current or None,
            wa_id=change.wa_id or (contact.wa_id if contact else None),
            parent_bsuid=parent or None,
            name=contact.profile.name if contact else "",
            username=contact.profile.username if contact else None,
        )
        if not sender.known:
            logger.warning("user id update without identity dropped")
            return None
        wamid = _content_id("uidu", value.metadata.phone_number_id, change)
        update = change.model_dump(mode="json", exclude_none=True)
        return self._envelope(value, sender, wamid, now, kind="identity", update=update)

    @staticmethod
    def _queue_message(e: InboundEnvelope) -> QueueMessage:
        dedup = e.wamid if _SQS_DEDUP_ID.fullmatch(e.wamid) else hashlib.sha256(e.wamid.encode()).hexdigest()
        return QueueMessage(body=e.model_dump_json(), group_id=e.learner_key, dedup_id=dedup)

    def _drop_seen(self, envelopes: list[InboundEnvelope]) -> list[InboundEnvelope]:
        if not envelopes:
            return []
        unique = list({e.wamid: e for e in envelopes}.values())
        # One GET per wamid in a non-transactional pipeline, not an MGET: the keys hash to different
        # slots (one webhook may carry several learners' messages), and a cluster refuses a multi-key
        # command across slots (CROSSSLOT) while its client splits a pipeline by node. Still one round
        # trip per node.
        pipe = self.redis.pipeline(transaction=False)
        for e in unique:
            pipe.get(seen_key(e.wamid))
        seen = pipe.execute()
        return [e for e, s in zip(unique, seen, strict=True) if s is None]

    def _mark_seen(self, envelopes: list[InboundEnvelope]) -> None:
        # Marked only after the enqueue succeeded: a failed enqueue must stay retryable.
        pipe = self.redis.pipeline(transaction=False)
        for e in envelopes:
            pipe.set(seen_key(e.wamid), "1", ex=self.dedupe_ttl_seconds)
            if e.kind == "message":
                pipe.set(active_key(e.learner_key), str(e.received_at), ex=ACTIVE_TTL_SECONDS)
        pipe.execute()

    def _record_statuses(self, statuses: list[Status]) -> None:
        if not statuses:
            return
        pipe = self.redis.pipeline(transaction=False)
        for s in statuses:
            # EVAL through execute_command: redis-py's cluster pipeline refuses EVALSHA and shadows
            # ``eval`` with a method that takes no script; the generic command is routed by its one key.
            pipe.execute_command(
                "EVAL",
                _STATUS_SCRIPT,
                1,
                status_key(s.id),
                s.status,
                STATUS_RANK.get(s.status, 0),
                s.error_code or 0,
                self.dedupe_ttl_seconds,
            )
        pipe.execute()


def _parse_json(body: bytes) -> Any | None:
    """The JSON document, cleaned (``httpapi.clean_document``: no NUL, lone surrogates replaced), or
    None when the body is not JSON (malformed or not UTF-8). Raises ``TooDeep`` when it nests deeper than
    ``httpapi.MAX_DEPTH`` (or than the JSON parser can)."""
    try:
        return json_body(body)
    except TooDeep:
        raise
    except ValueError:
        return None


# Keep the highest-ranked status (out-of-order deliveries cannot move a message back to "sent").
_STATUS_SCRIPT = """
local rank = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if tonumber(ARGV[2]) > rank then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'error', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
"""


def _contact_matching(value: Value, bsuid: str | None, wa_id: str | None) -> Contact | None:
    for c in value.contacts:
        if (bsuid and c.user_id == bsuid) or (wa_id and c.wa_id == wa_id):
            return c
    return value.contacts[0] if len(value.contacts) == 1 else None


ACTIVE_TTL_SECONDS = 3600


def active_key(learner_key: str) -> str:
    """When the webhook last enqueued a message of this learner (Unix seconds). The tutor reads it before
    a proactive message: a message still waiting in the queue behind it (its turn has not updated the
    learner's row yet) means the learner is writing, and is not interrupted."""
    return f"wa:{{{learner_key}}}:active"


def seen_key(wamid: str) -> str:
    """Marks a wamid already enqueued. One key per message, deliberately without a hash tag: nothing
    reads two of them in one command, and untagged keys spread over the cluster's nodes."""
    return f"wa:seen:{wamid}"


def status_key(wamid: str) -> str:
    """The delivery record of a message we sent (one key per message, like ``seen_key``)."""
    return f"wa:status:{wamid}"


def delivery_status(client: RedisClient, wamid: str) -> Mapping[str, str]:
    """The latest delivery state recorded for a message we sent (empty when none arrived)."""
    raw = client.hgetall(status_key(wamid))
    return {k.decode(): v.decode() for k, v in raw.items()}


def build_service(settings: Any) -> WebhookService:
    """Wire the webhook service from settings (production and the local stack alike)."""
    from espaluz.queue.factory import queue_from_url
    from espaluz.storage.redis import get_redis

    redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
    return WebhookService(
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        verify_token=settings.whatsapp_verify_token.get_secret_value(),
        queue=queue_from_url(settings.queue_url, redis_client),
        redis=redis_client,
        max_body_bytes=settings.webhook_max_body_bytes,
        dedupe_ttl_seconds=settings.dedupe_ttl_seconds,
    )


def notice_message(
    notice_id: str, learner_id: str, body: dict[str, Any], group: str | None = None
) -> QueueMessage:
    """A queue message asking the tutor to deliver ``body`` (a Graph API message body without recipient)
    to a learner, at most once per ``notice_id``.

    ``group`` should be the learner key the webhook computed for the learner's messages (``learner_key``;
    the tutor keeps it on the learner's row): the notice then shares the FIFO message group of the
    learner's own messages, so it is answered in order with them and never alongside one of their turns
    (two sends racing for the learner's pacing slot). Without it (a learner not seen since the key was
    kept) the notice is grouped by the internal learner id, which keeps notices in order among themselves
    only. Neither is personal data."""
    return _owed("notice", notice_id, learner_id, {"learner_id": learner_id, "body": body}, group)


def proactive_message(
    message_id: str, learner_id: str, update: dict[str, Any], group: str | None = None
) -> QueueMessage:
    """A queue message asking the tutor to compose and send a proactive message (``update``: its kind,
    slot and the scheduler's clock; ``espaluz.scheduler.tick``), at most once per ``message_id``, in the
    learner's message group like a notice (``group``: see ``notice_message``)."""
    return _owed("proactive", message_id, learner_id, {"learner_id": learner_id, **update}, group)


def _owed(
    kind: EnvelopeKind, message_id: str, learner_id: str, update: dict[str, Any], group: str | None
) -> QueueMessage:
    group_id = group or learner_id
    envelope = InboundEnvelope(
        kind=kind,
        wamid=message_id,
        phone_number_id="",
        learner_key=group_id,
        update=update,
        received_at=time.time(),
    )
    dedup = hashlib.sha256(message_id.encode()).hexdigest()
    return QueueMessage(body=envelope.model_dump_json(), group_id=group_id, dedup_id=dedup)
