"""The send policy: how the tutor's messages leave for WhatsApp without tripping Meta's limits.

Every outbound message of every function goes through ``Sender.send``, which applies, in order:

1. **Opt-outs.** A learner who sent STOP/BAJA gets nothing proactive (replies to their own messages still
   go: they wrote to us). A learner who stopped marketing messages (``user_preferences`` webhook or error
   131050) gets no marketing template.
2. **Merging.** A turn's text parts become one message (the interactive element of the last part rides
   along), because Meta allows about one message per 6 s to one user (131056) and, since 2026-10, bills
   replies per message: fewer, richer messages are both faster and cheaper.
3. **The 24-hour window.** Outside it (counted from the learner's last message) only approved templates
   may be sent. Depending on ``outside_window`` the free-form content is either held until the learner
   writes again, with the configured re-engagement template sent in its place (``"template"``), or only
   held (``"hold"``). Error 131047 from Meta takes the same path (our clock and Meta's may disagree).
4. **Pacing.** A token bucket per business number (80 messages/s by default) and a per-learner slot
   (one message per ``learner_interval`` seconds) shared by every container through Redis; the sender
   waits for its slot, or gives up with ``SendDeferred`` (retryable) when the wait would exceed
   ``max_wait``, so the queue redelivers the turn instead of a Lambda sleeping for minutes.
5. **Retries.** 130429, 131056, 131000/131016 and 5xx are retried with exponential backoff and jitter;
   permanent errors are raised at once.

A caller that must know which messages went out (the tutor's turn ledger, ``espaluz.tutor.ledger``) passes
a ``Journal``: it hears of each message right before its Graph call and right after Meta's answer, never
during the waits for the learner's slot or a retry's backoff, so a process that dies while waiting has
sent nothing that the journal calls in flight.

Written here rather than taken from ``pywa``: pywa's client sends one request per call with no shared
rate state, retry or window policy, and brings its own web framework integration that the Lambda bundle
does not want; the policy above needs Redis shared between containers, which is ours to write anyway.

The clock is injectable (``Clock``), so tests drive rate limits, pacing and window expiry on a fake clock.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from uuid import UUID

import httpx

from espaluz.ops import metrics
from espaluz.storage.redis import register_script
from espaluz.whatsapp.graph import GraphAPIError, MarketingOptOut, OutsideWindow, RateLimited
from espaluz.whatsapp.outgoing import (
    MAX_INTERACTIVE_BODY,
    MAX_TEXT,
    Outgoing,
    Recipient,
    Reply,
    Template,
)

if TYPE_CHECKING:
    from espaluz.storage.learners import Learner
    from espaluz.storage.redis import RedisClient
    from espaluz.whatsapp.graph import GraphClient

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 24 * 3600
HELD_TTL_SECONDS = 14 * 24 * 3600


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class SendDeferred(GraphAPIError):
    """The send would have to wait longer than ``max_wait``; try again later (the queue redelivers)."""

    retryable = True


class OptedOut(GraphAPIError):
    """The learner opted out of this kind of message; nothing was sent."""


class Journal(Protocol):
    """Hears what happens to each message of one ``Sender.send`` call, by its index in the parts given
    (the parts are merged first: give already merged parts, see ``merge_parts``, for the indexes to mean
    the messages sent). ``sending`` may raise to stop the send before that message leaves (the turn was
    taken over by another delivery); whatever it raises propagates."""

    def sending(self, index: int) -> None:
        """The Graph call for this message is about to be made: from now on it may have gone out."""

    def unsent(self, index: int) -> None:
        """Meta refused the call with an error: the message did not go out (a retry may follow)."""

    def sent(self, index: int, wamid: str) -> None:
        """Meta accepted the message."""

    def held(self, indexes: Sequence[int]) -> None:
        """Outside the 24-hour window: these messages are about to be held for the learner's next one."""


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The knobs of the policy (all settings; see ``espaluz.config``)."""

    rate_per_second: float = 80.0
    learner_interval: float = 6.0
    max_wait: float = 20.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    outside_window: Literal["template", "hold"] = "template"
    window_template: str = "espaluz_seguimos"
    window_template_language: str = "es"
    window_seconds: float = WINDOW_SECONDS


@dataclass(frozen=True, slots=True)
class Target:
    """Who a message goes to and what we know about their consent and window."""

    learner_id: UUID
    phone_number_id: str
    recipient: Recipient
    last_inbound_at: datetime | None
    name: str = ""
    opted_out: bool = False
    marketing_opt_out: bool = False

    @property
    def key(self) -> str:
        return str(self.learner_id)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message already rendered to its Graph API body (held messages are kept this way in Redis)."""

    body: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return dict(self.body)


@dataclass(frozen=True, slots=True)
class SendResult:
    wamids: tuple[str, ...] = ()
    held: int = 0
    template: str | None = None
    marketing_opt_out: bool = False


def merge_parts(parts: Sequence[Outgoing | Prepared]) -> list[Outgoing | Prepared]:
    """Merge consecutive text replies into one message.

    The texts join with a blank line; the merged message keeps the interactive element of the last
    part that has one, and the ``reply_to`` of the first. A merge that would break Meta's length limits
    (4096 characters of text, 1024 in an interactive body) is not done: the parts stay separate.
    """
    merged: list[Outgoing | Prepared] = []
    for part in parts:
        prev = merged[-1] if merged else None
        if (
            isinstance(part, Reply)
            and isinstance(prev, Reply)
            and not (prev.interactive and part.interactive)
        ):
            candidate = _join(prev, part)
            limit = MAX_INTERACTIVE_BODY if candidate.interactive else MAX_TEXT
            if len(candidate.text) <= limit:
                merged[-1] = candidate
                continue
        merged.append(part)
    return merged


def _join(first: Reply, second: Reply) -> Reply:
    carrier = second if second.interactive else first
    return Reply(
        f"{first.text}\n\n{second.text}",
        buttons=carrier.buttons,
        list_button=carrier.list_button,
        rows=carrier.rows,
        url_button=carrier.url_button,
        reply_to=first.reply_to or second.reply_to,
    )


class Sender:
    """Sends through ``GraphClient`` under the policy above. Thread-safe; one per container."""

    def __init__(
        self,
        graph: GraphClient,
        redis_client: RedisClient,
        policy: SendPolicy | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.graph = graph
        self.redis = redis_client
        self.policy = policy or SendPolicy()
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._bucket = register_script(redis_client, _BUCKET_SCRIPT)
        self._slot = register_script(redis_client, _SLOT_SCRIPT)

    # -- the window ---------------------------------------------------------------------------------

    def in_window(self, target: Target) -> bool:
        if target.last_inbound_at is None:
            return False
        age = self.clock.now() - target.last_inbound_at.astimezone(UTC).timestamp()
        return age < self.policy.window_seconds

    # -- sending ------------------------------------------------------------------------------------

    def send(
        self,
        target: Target,
        parts: Sequence[Outgoing | Prepared],
        *,
        proactive: bool = False,
        journal: Journal | None = None,
    ) -> SendResult:
        """Send a turn's parts to one learner; returns the wamids sent and what was held.

        ``proactive`` marks messages the learner did not ask for (reminders, reviews, offers): those are
        never sent to a learner who opted out. Raises ``OptedOut`` for those, a retryable
        ``GraphAPIError`` (SQS should redeliver) or a permanent one. ``journal`` hears of each message
        (see ``Journal``).
        """
        if proactive and target.opted_out:
            raise OptedOut("the learner opted out of messages they did not ask for")
        messages = merge_parts(parts)
        if not messages:
            return SendResult()
        templates = [m for m in messages if isinstance(m, Template)]
        if target.marketing_opt_out and any(t.marketing for t in templates):
            raise MarketingOptOut("the learner stopped marketing messages", code=131050)
        free_form = [m for m in messages if not _is_template(m)]
        if free_form and not self.in_window(target):
            return self._outside_window(target, messages, journal)
        wamids: list[str] = []
        for index, message in enumerate(messages):
            try:
                wamids.append(self._send_one(target, message, journal, index))
            except OutsideWindow:
                logger.info("outside the window by Meta's clock", extra={"learner_id": target.key})
                result = self._outside_window(target, messages[index:], journal, index)
                return SendResult((*wamids, *result.wamids), result.held, result.template)
            except MarketingOptOut:
                logger.info("marketing opt-out reported by Meta", extra={"learner_id": target.key})
                return SendResult(tuple(wamids), marketing_opt_out=True)
        return SendResult(tuple(wamids))

    def _outside_window(
        self,
        target: Target,
        messages: Sequence[Outgoing | Prepared],
        journal: Journal | None = None,
        first: int = 0,
    ) -> SendResult:
        """Hold the free-form messages (``first`` is the index of ``messages[0]`` among the parts the
        journal knows) and send the templates, or the re-engagement template in their place."""
        indexed = list(enumerate(messages, start=first))
        templates = [(i, m) for i, m in indexed if _is_template(m)]
        held = [m for _, m in indexed if not _is_template(m)]
        if journal is not None and held:
            journal.held([i for i, m in indexed if not _is_template(m)])
        self.hold(target, held)
        metrics.send_status("held", len(held))
        wamids = [self._send_one(target, t, journal, i) for i, t in templates]
        sent_template = None
        if not templates and self.policy.outside_window == "template" and not target.opted_out:
            template = Template(
                self.policy.window_template,
                self.policy.window_template_language,
                body_params=(target.name or "👋",),
                button_payloads=("window:continue",),
            )
            wamids.append(self._send_one(target, template))
            sent_template = template.name
        logger.info(
            "outside the 24-hour window: content held",
            extra={"learner_id": target.key, "held": len(held), "template": sent_template},
        )
        return SendResult(tuple(wamids), held=len(held), template=sent_template)

    def _send_one(
        self,
        target: Target,
        message: Outgoing | Prepared,
        journal: Journal | None = None,
        index: int | None = None,
    ) -> str:
        """Wait for the slot, then call the Graph API, retrying with backoff. The journal hears of the
        call only around the call itself: the waits before it are not 'in flight', so dying in one of
        them leaves the message unsent and free to be sent by the next delivery."""
        # One slot per message, not per attempt: a failed attempt delivered nothing to the learner.
        self._wait_for_slot(target)
        attempt = 0
        while True:
            if journal is not None and index is not None:
                journal.sending(index)
            try:
                wamid = self.graph.send(target.phone_number_id, target.recipient, message)
            except GraphAPIError as exc:
                if journal is not None and index is not None:
                    if in_doubt(exc):  # it may have reached Meta: it stays in flight and is not retried
                        raise
                    journal.unsent(index)
                attempt += 1
                if not exc.retryable or attempt >= self.policy.max_attempts:
                    metrics.send_status("failed")
                    raise
                delay = self._backoff(attempt, exc)
                logger.warning(
                    "send retried",
                    extra={"code": exc.code, "status": exc.status, "attempt": attempt, "delay": delay},
                )
                self.clock.sleep(delay)
                continue
            metrics.send_status("template" if isinstance(message, Template) else "sent")
            if journal is not None and index is not None:
                journal.sent(index, wamid)
            return wamid

    def _backoff(self, attempt: int, exc: GraphAPIError) -> float:
        delay = min(self.policy.backoff_max, self.policy.backoff_base * 2.0 ** (attempt - 1))
        delay *= 0.5 + self.rng.random() / 2
        if isinstance(exc, RateLimited) and exc.code == 131056:
            delay = max(delay, self.policy.learner_interval)  # the pair limit clears only with time
        return delay

    def _wait_for_slot(self, target: Target) -> None:
        """Reserve this learner's next slot, then a token of the business number's bucket, and wait."""
        now = self.clock.now()
        policy = self.policy
        reserved, learner_wait = self._slot(
            keys=[pace_key(target.key)], args=[now, policy.learner_interval, policy.max_wait]
        )
        if not int(reserved):
            raise SendDeferred(f"this learner's next slot is {float(learner_wait):.1f} s away", code=0)
        bucket_wait = float(
            self._bucket(
                keys=[f"wa:bucket:{target.phone_number_id}"],
                args=[policy.rate_per_second, policy.rate_per_second, now + float(learner_wait)],
            )
        )
        wait = float(learner_wait) + bucket_wait
        if wait > 0:
            self.clock.sleep(wait)

    # -- held messages ------------------------------------------------------------------------------

    def hold(self, target: Target, messages: Sequence[Outgoing | Prepared]) -> None:
        """Keep free-form messages for the learner's next message (which reopens the window)."""
        if not messages:
            return
        key = held_key(target.key)
        pipe = self.redis.pipeline(transaction=True)  # one key: a valid MULTI in a cluster too
        for m in messages:
            body = m.payload()
            body.pop("context", None)  # the message it answered is long gone
            pipe.rpush(key, json.dumps(body, ensure_ascii=False))
        pipe.expire(key, HELD_TTL_SECONDS)
        pipe.execute()

    def held(self, target: Target) -> list[Outgoing | Prepared]:
        """The held messages, oldest first (send them when the learner writes again, then
        ``drop_held``: they stay held until the send succeeded). Held text, and the text of held
        interactive messages, comes back as a plain ``Reply`` so it merges with the turn's answer into
        one message; their old buttons are dropped, since the new answer carries the current ones."""
        parts: list[Outgoing | Prepared] = []
        for raw in self.redis.lrange(held_key(target.key), 0, -1):
            body = json.loads(raw)
            kind = body.get("type")
            if kind == "text":
                parts.append(Reply(str(body["text"]["body"])))
            elif kind == "interactive":
                parts.append(Reply(str(body["interactive"]["body"]["text"])))
            else:
                parts.append(Prepared(body))
        return parts

    def drop_held(self, target: Target, count: int) -> None:
        """Forget the ``count`` oldest held messages (those just delivered)."""
        if count:
            self.redis.ltrim(held_key(target.key), count, -1)

    def forget(self, learner_id: UUID) -> None:
        """Drop everything the policy keeps about a learner (data deletion). One DEL per key: the keys
        share the learner's hash tag today, but a two-key DEL would break with CROSSSLOT in a cluster the
        day one of them lost it, and this path runs rarely enough that the second command costs nothing."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(held_key(str(learner_id)))
        pipe.delete(pace_key(str(learner_id)))
        pipe.execute()


def in_doubt(exc: GraphAPIError) -> bool:
    """Whether the request may have reached Meta although no answer came back (a read timeout, a
    connection dropped after the request was written): retrying it could deliver the message twice. A
    refused or timed-out connection, or any answer from Meta, means it did not go out."""
    cause = exc.__cause__
    if not isinstance(cause, httpx.TransportError):
        return False
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _is_template(message: Outgoing | Prepared) -> bool:
    """A template, also when it comes back from the turn ledger as a rendered body."""
    if isinstance(message, Prepared):
        return message.body.get("type") == "template"
    return isinstance(message, Template)


# A learner's keys share the hash tag ``{<learner id>}`` (as ``conv:{<learner id>}`` does), so they live in
# one cluster slot and may be used together in a script or a MULTI.
def held_key(learner: str) -> str:
    """Free-form messages held outside the 24-hour window (a list of Graph API bodies)."""
    return f"wa:{{{learner}}}:held"


def pace_key(learner: str) -> str:
    """When this learner's next message may leave (per-learner pacing)."""
    return f"wa:{{{learner}}}:pace"


def target_for(
    learner: Learner,
    *,
    reply_from: str | None = None,
    routes: Mapping[str, str] | None = None,
    default_number: str = "",
) -> Target:
    """Where a message to ``learner`` goes and from which business number.

    A reply leaves from the number that received the learner's message (``reply_from``). A conversation
    the tutor starts (a review, a reminder, a follow-up) leaves from the number mapped to the learner's
    country code in ``routes`` (``WHATSAPP_COUNTRY_NUMBERS``), else from the number they last wrote to,
    else from ``default_number`` (``WHATSAPP_PHONE_NUMBER_ID``)."""
    number = reply_from or number_for_country(
        learner.wa_id, dict(routes or {}), learner.business_phone_number_id or default_number
    )
    return Target(
        learner.id,
        number,
        Recipient(wa_id=learner.wa_id, bsuid=learner.bsuid),
        learner.last_inbound_at,
        name=learner.display_name,
        opted_out=learner.opted_out,
        marketing_opt_out=learner.marketing_opt_out,
    )


def number_for_country(wa_id: str | None, routes: dict[str, str], default: str) -> str:
    """The business number that starts a conversation with this learner: the longest country-code
    prefix of their phone number found in ``routes`` (e.g. ``{"52": MX number, "34": ES number}``), else
    ``default``. Learners known only by a BSUID have no country code and get ``default``."""
    if wa_id:
        digits = wa_id.lstrip("+")
        for length in (4, 3, 2, 1):
            number = routes.get(digits[:length])
            if number:
                return number
    return default


# A reservation token bucket: each call takes a token (the count may go negative) and learns how long
# to wait for it, so concurrent containers queue fairly instead of polling. Numbers go back as strings:
# Redis truncates Lua numbers to integers.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) else now = ts end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""

# One slot per learner every ARGV[2] seconds. Returns {reserved, wait}: a slot further away than
# ARGV[3] seconds is not reserved, so a deferred send does not push the learner's later slots back.
_SLOT_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
if slot - now > tonumber(ARGV[3]) then return {0, tostring(slot - now)} end
redis.call('SET', KEYS[1], tostring(slot + interval), 'EX', math.ceil(interval) + 3600)
return {1, tostring(slot - now)}
"""
