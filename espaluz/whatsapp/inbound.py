"""The webhook function's core: verify, parse, drop duplicates, enqueue, answer.

Contract with Meta: answer 200 only once every message of the payload is safely in the queue; on an
enqueue failure answer 503 so Meta retries (it retries for days). Duplicates (same wamid) are dropped
here for a week (Redis), beyond SQS's five-minute deduplication window. Statuses of messages we sent
never start a tutor turn: they update a small delivery record in Redis.

Privacy: nothing logged here carries a phone number, a BSUID or message text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from espaluz.httpapi import Request, Response
from espaluz.queue.base import Queue, QueueError, QueueMessage
from espaluz.whatsapp import signature
from espaluz.whatsapp.models import Contact, Message, Status, Value, WebhookPayload

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

ENVELOPE_VERSION = 1
# A later status never goes back to an earlier one, whatever order Meta delivers them in.
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5, "deleted": 6}


class InboundEnvelope(BaseModel):
    """What the webhook puts on the queue for one inbound message."""

    model_config = ConfigDict(frozen=True)

    v: int = ENVELOPE_VERSION
    wamid: str
    phone_number_id: str
    display_phone_number: str = ""
    learner_key: str
    bsuid: str | None = None
    wa_id: str | None = None
    name: str = ""
    message: dict[str, Any]
    received_at: float


def learner_key(identity_material: str, key: str) -> str:
    """A stable pseudonym for a WhatsApp user, used as the SQS message group id.

    Group ids show in the AWS console and in logs, so they must not be the phone number.
    """
    return hmac.new(key.encode(), identity_material.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class WebhookService:
    app_secret: str
    verify_token: str
    queue: Queue
    redis: redis.Redis[bytes]
    max_body_bytes: int = 1_000_000
    dedupe_ttl_seconds: int = 7 * 24 * 3600

    # GET /webhooks/whatsapp
    def verify_subscription(self, request: Request) -> Response:
        q = request.query
        token_ok = hmac.compare_digest(q.get("hub.verify_token", "").encode(), self.verify_token.encode())
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
        except signature.SignatureMismatch:
            logger.warning("webhook signature mismatch")
            return Response.error(403, "bad signature")
        try:
            document = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
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
            extra={"messages": len(envelopes), "enqueued": len(fresh), "statuses": len(statuses)},
        )
        return Response.json(200, {"accepted": len(fresh)})

    def _collect(self, payload: WebhookPayload) -> tuple[list[InboundEnvelope], list[Status]]:
        envelopes: list[InboundEnvelope] = []
        statuses: list[Status] = []
        now = time.time()
        for entry in payload.entry:
            for change in entry.changes:
                if change.field != "messages" or not isinstance(change.value, Value):
                    continue
                value = change.value
                statuses.extend(value.statuses)
                for message in value.messages:
                    envelope = self._envelope(value, message, now)
                    if envelope is not None:
                        envelopes.append(envelope)
        return envelopes, statuses

    def _envelope(self, value: Value, message: Message, now: float) -> InboundEnvelope | None:
        contact = _contact_for(value.contacts, message)
        bsuid = message.from_user_id or (contact.user_id if contact else None)
        wa_id = message.from_ or (contact.wa_id if contact else None)
        if not (bsuid or wa_id):
            logger.warning("message without sender identity dropped", extra={"type": message.type})
            return None
        material = f"bsuid:{bsuid}" if bsuid else f"wa:{wa_id}"
        return InboundEnvelope(
            wamid=message.id,
            phone_number_id=value.metadata.phone_number_id,
            display_phone_number=value.metadata.display_phone_number,
            learner_key=learner_key(material, self.app_secret),
            bsuid=bsuid,
            wa_id=wa_id,
            name=contact.profile.name if contact else "",
            message=message.model_dump(mode="json", by_alias=True, exclude_none=True),
            received_at=now,
        )

    @staticmethod
    def _queue_message(e: InboundEnvelope) -> QueueMessage:
        # SQS limits the dedup id to 128 characters; wamids are shorter, but hash anything longer.
        dedup = e.wamid if len(e.wamid) <= 128 else hashlib.sha256(e.wamid.encode()).hexdigest()
        return QueueMessage(body=e.model_dump_json(), group_id=e.learner_key, dedup_id=dedup)

    def _drop_seen(self, envelopes: list[InboundEnvelope]) -> list[InboundEnvelope]:
        if not envelopes:
            return []
        unique = list({e.wamid: e for e in envelopes}.values())
        seen = self.redis.mget([f"wa:seen:{e.wamid}" for e in unique])
        return [e for e, s in zip(unique, seen, strict=True) if s is None]

    def _mark_seen(self, envelopes: list[InboundEnvelope]) -> None:
        # Marked only after the enqueue succeeded: a failed enqueue must stay retryable.
        pipe = self.redis.pipeline(transaction=False)
        for e in envelopes:
            pipe.set(f"wa:seen:{e.wamid}", "1", ex=self.dedupe_ttl_seconds)
        pipe.execute()

    def _record_statuses(self, statuses: list[Status]) -> None:
        if not statuses:
            return
        pipe = self.redis.pipeline(transaction=False)
        for s in statuses:
            pipe.eval(
                _STATUS_SCRIPT,
                1,
                f"wa:status:{s.id}",
                s.status,
                STATUS_RANK.get(s.status, 0),
                s.errors[0].code if s.errors else 0,
                self.dedupe_ttl_seconds,
            )
        pipe.execute()


# Keep the highest-ranked status (out-of-order deliveries cannot move a message back to "sent").
_STATUS_SCRIPT = """
local rank = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if tonumber(ARGV[2]) > rank then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'error', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
"""


def _contact_for(contacts: list[Contact], message: Message) -> Contact | None:
    for c in contacts:
        if (message.from_user_id and c.user_id == message.from_user_id) or (
            message.from_ and c.wa_id == message.from_
        ):
            return c
    return contacts[0] if len(contacts) == 1 else None


def delivery_status(client: redis.Redis[bytes], wamid: str) -> Mapping[str, str]:
    """The latest delivery state recorded for a message we sent (empty when none arrived)."""
    raw = client.hgetall(f"wa:status:{wamid}")
    return {k.decode(): v.decode() for k, v in raw.items()}


def build_service(settings: Any) -> WebhookService:
    """Wire the webhook service from settings (production and the local stack alike)."""
    from espaluz.queue.factory import queue_from_url
    from espaluz.storage.redis import get_redis

    redis_client = get_redis(settings.redis_url)
    return WebhookService(
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        verify_token=settings.whatsapp_verify_token.get_secret_value(),
        queue=queue_from_url(settings.queue_url, redis_client),
        redis=redis_client,
        max_body_bytes=settings.webhook_max_body_bytes,
        dedupe_ttl_seconds=settings.dedupe_ttl_seconds,
    )
