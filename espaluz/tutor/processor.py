"""Process one queued WhatsApp message: one tutor turn, at most once per wamid.

Idempotency: a turn row keyed by the wamid moves ``claimed`` -> ``sending`` -> ``answered``. A redelivery
finds the row: ``claimed`` longer ago than the claim timeout means the last attempt died before sending
anything, so it is taken over; ``claimed`` more recently means an attempt is still live (SQS redelivered
after a visibility timeout), so this delivery fails and is retried later; ``sending`` or ``answered``
means the reply may have gone out, so the redelivery is acknowledged without a second answer. The claim
is fenced by its ``claimed_at``: the move to ``sending`` and the release succeed only for the attempt
whose claim it still is, so an attempt that outlived its invocation (the local stack cannot kill a thread
at the Lambda timeout) and was taken over stops without sending, and never frees its successor's claim.
If the send fails with an error worth retrying, the row is released and the error
raised, so SQS delivers the message again; a permanent error (outside the 24-hour window, a blocked
recipient) is recorded and not retried. Only a crash in the instant between the send and the final
update can cost the learner that one answer; nothing can make them get it twice.

Privacy: logs name the learner by internal id and the message by wamid only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.llm.usage import record_usage
from espaluz.ops import metrics
from espaluz.storage import learners
from espaluz.tutor.orchestrator import BUTTONS_START, Attempt, Outcome, respond
from espaluz.tutor.state import ConversationState, PendingDrill, StateStore
from espaluz.whatsapp import consent
from espaluz.whatsapp.graph import GraphAPIError, GraphClient
from espaluz.whatsapp.inbound import InboundEnvelope
from espaluz.whatsapp.models import Message, MessageKind, message_text, reply_id
from espaluz.whatsapp.outgoing import (
    MAX_INTERACTIVE_BODY,
    MAX_TEXT,
    Document,
    Image,
    Outgoing,
    Reply,
    VoiceNote,
)
from espaluz.whatsapp.sender import Prepared, Sender, SendPolicy, target_for

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from espaluz.billing.tutor_gate import BillingGate
    from espaluz.llm.types import Usage
    from espaluz.memory.service import MemoryService
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.commands import CommandCenter, CommandResult
    from espaluz.voice.service import VoiceService

logger = logging.getLogger(__name__)

# The buttons of a pronunciation feedback ("Try again", "Drill this sound"), answered by the voice service.
VOICE_BUTTONS = "voice:"
# The follow-up buttons of an LLM answer ("Otro ejemplo", "Explícalo", "Entendido").
FOLLOW_UP_IDS = frozenset({"more_example", "explain", "got_it"})
# Messages that ask for no answer: a reaction or its removal.
SILENT_KINDS = frozenset({MessageKind.REACTION, MessageKind.UNREACTION})
UNSUPPORTED_REPLY = (
    "No puedo abrir ese tipo de mensaje. Escríbeme o mándame una nota de voz.\n\n"
    "_I can't open that kind of message: send text or a voice note._"
)


@dataclass(frozen=True, slots=True)
class TurnResult:
    wamid: str
    learner_id: UUID | None
    route: str
    reply_wamids: tuple[str, ...] = ()
    duplicate: bool = False


class TutorProcessor:
    def __init__(
        self,
        pool: ConnectionPool,
        states: StateStore,
        graph: GraphClient,
        *,
        llm_available: bool = False,
        rng: random.Random | None = None,
        sender: Sender | None = None,
        billing: BillingGate | None = None,
        memory: MemoryService | None = None,
        routes: Mapping[str, str] | None = None,
        default_number: str = "",
        brain: TutorBrain | None = None,
        claim_timeout: float = 90.0,
        settings: Any = None,
        commands: CommandCenter | None = None,
    ) -> None:
        self.commands = commands  # level, progress, pronunciation, export, delete, onboarding
        self.settings = settings  # for services built on first use (voice)
        self._voice: VoiceService | None = None
        # A 'claimed' turn older than this was abandoned (the Lambda timed out or crashed) and may be
        # taken over; a younger one is live elsewhere. Must exceed the tutor function's timeout.
        self.claim_timeout = claim_timeout
        self.brain = brain  # the LLM agents, for what the rules and the engine cannot answer
        # Which business number starts a conversation (notices): by country code, else the learner's own.
        self.routes = dict(routes or {})
        self.default_number = default_number
        self.memory = memory  # pedagogical memory: "memoria" command, a memory per turn (espaluz.memory)
        self.billing = billing  # plan commands, free-tier limit, offers (espaluz.billing.tutor_gate)
        self.pool = pool
        self.states = states
        self.graph = graph
        self.sender = sender or Sender(graph, states.redis)
        self.llm_available = llm_available
        self.rng = rng or random.Random()  # noqa: S311 - exercise choice, not security

    def process(self, body: str) -> TurnResult:
        started = time.perf_counter()
        envelope = InboundEnvelope.model_validate_json(body)
        if envelope.kind == "notice":
            return self._notice(envelope, started)
        if envelope.kind != "message":
            return self._update(envelope)
        message = Message.model_validate(envelope.message)
        if message.kind is MessageKind.SYSTEM:
            return self._system(envelope, message)
        identity = learners.Identity(bsuid=envelope.bsuid, wa_id=envelope.wa_id, name=envelope.name)

        with self.pool.connection() as conn:
            learner = learners.upsert(conn, identity, envelope.phone_number_id, _sent_at(message))
            row = conn.execute(
                # received_at on this process's clock, the one the free tier's day is counted with;
                # the claim is a lease between database sessions, on the database's clock.
                """INSERT INTO turns (wamid, learner_id, received_at) VALUES (%s, %s, %s)
                   ON CONFLICT (wamid) DO UPDATE SET claimed_at = now()
                   WHERE turns.status = 'claimed'
                     AND turns.claimed_at < now() - make_interval(secs => %s)
                   RETURNING claimed_at""",
                (envelope.wamid, learner.id, datetime.now(UTC), self.claim_timeout),
            ).fetchone()
            claim: datetime | None = row[0] if row else None  # this attempt's fence token
            claimed = claim is not None
            status = None if claimed else _turn_status(conn, envelope.wamid)
        if status == "claimed":  # another invocation is working on it right now
            raise TurnInProgress(f"turn {envelope.wamid} is being answered elsewhere; retry later")
        if not claimed:
            logger.info("duplicate delivery acknowledged", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner.id, "duplicate", duplicate=True)

        pnid = envelope.phone_number_id
        try:
            self.graph.mark_read(pnid, envelope.wamid, typing=True)
        except GraphAPIError as exc:  # blue ticks are a courtesy; the answer matters more
            logger.warning("mark-as-read failed", extra={"code": exc.code})

        kind = message.kind
        if kind in SILENT_KINDS:
            self._finish(envelope.wamid, learner.id, kind.value, (), [], started)
            return TurnResult(envelope.wamid, learner.id, kind.value)

        try:
            decision = self._decide(learner, message, self.states.load(learner.id), pnid)
        except Exception:
            self._release(envelope.wamid, claim)  # nothing was sent: let the queue deliver it again
            raise
        outcome, usages, text = decision.outcome, decision.usages, decision.text
        target = target_for(learner, reply_from=pnid)
        held = self.sender.held(target)
        with self.pool.connection() as conn:
            moved = conn.execute(
                """UPDATE turns SET status = 'sending'
                   WHERE wamid = %s AND status = 'claimed' AND claimed_at = %s""",
                (envelope.wamid, claim),
            ).rowcount
        if not moved:  # a later delivery took the claim over: it answers, this attempt must not
            raise TurnInProgress(f"turn {envelope.wamid} was taken over by a later delivery; not sending")
        try:
            result = self.sender.send(target, [*held, outcome.reply, *decision.extras])
            self.sender.drop_held(target, len(held))
        except GraphAPIError as exc:
            if exc.retryable:
                self._release(envelope.wamid, claim)
                raise
            logger.error("reply undeliverable", extra={"code": exc.code, "wamid": envelope.wamid})
            self._finish(envelope.wamid, learner.id, "undeliverable", (), [], started)
            return TurnResult(envelope.wamid, learner.id, "undeliverable")
        except Exception:
            self._release(envelope.wamid, claim)
            raise

        if decision.erase and self.commands is not None:
            self.commands.erase(learner.id)  # the row cascades to every table, turns included
            self.sender.forget(learner.id)
            logger.info("learner erased on request", extra={"learner_id": str(learner.id)})
            return TurnResult(envelope.wamid, learner.id, outcome.route, result.wamids)
        if result.marketing_opt_out:
            with self.pool.connection() as conn:
                learners.set_marketing_opt_out(conn, learner.id, True)
        self.states.save(learner.id, outcome.state)
        self._finish(
            envelope.wamid, learner.id, outcome.route, result.wamids, outcome.attempts, started, usages
        )
        if self.memory:  # never raises: a failed memory write is logged, the turn stands
            self.memory.remember(
                learner.id, text=text, route=outcome.route, attempts=outcome.attempts, wamid=envelope.wamid
            )
        logger.info(
            "turn answered",
            extra={
                "wamid": envelope.wamid,
                "learner_id": str(learner.id),
                "route": outcome.route,
                "messages": len(result.wamids),
                "held": result.held,
            },
        )
        return TurnResult(envelope.wamid, learner.id, outcome.route, result.wamids)

    def _decide(
        self, learner: learners.Learner, message: Message, state: ConversationState, pnid: str
    ) -> Decision:
        """The answer, in order of precedence: consent keywords, what cannot be read, voice notes
        (pronunciation feedback, or a transcript that goes on as if typed), the memory and billing
        commands, a due review, the rules and the Spanish engine, then the LLM agents for what those
        cannot answer."""
        kind, text, choice = message.kind, message_text(message), reply_id(message)
        change = consent.consent_change(text) or _consent_button(choice)
        if change is not None:
            with self.pool.connection() as conn:
                learners.set_opted_out(conn, learner.id, change is consent.ConsentChange.STOP)
            return Decision(Outcome(consent.confirmation(change), state, f"consent_{change.value}"), text)
        if kind is MessageKind.UNSUPPORTED:
            return Decision(Outcome(Reply(UNSUPPORTED_REPLY), state, "unsupported"), text)
        if self.commands is not None and kind not in (MessageKind.VOICE, MessageKind.AUDIO):
            command = self.commands.handle(learner, text, choice, state)
            if command is not None:
                return self._command(command, pnid, text)
        heard = ""
        if kind in (MessageKind.VOICE, MessageKind.AUDIO) or (choice or "").startswith(VOICE_BUTTONS):
            voiced = self._voice_turn(learner, message, state)
            if isinstance(voiced, Decision):
                return voiced
            text, heard = voiced, f"🎙️ _{voiced}_\n\n"
        if self.memory and (remembered := self.memory.command(learner.id, text, choice)):
            return Decision(Outcome(remembered, state, "memory"), text)
        if self.billing and (gated := self.billing.before_turn(learner, text, choice, state)):
            return Decision(gated, text)
        usages: list[Usage] = []
        review = self.memory.review_turn(learner, text, choice, state) if self.memory else None
        outcome = review or respond(learner, text, choice, state, self.rng, llm_available=self.llm_available)
        if self.brain is not None and (outcome.route == "fallback" or choice in FOLLOW_UP_IDS):
            outcome, usages = self._ask_brain(learner, outcome.state, text, choice)
        if self.billing:
            outcome = self.billing.after_turn(learner, outcome)
        if heard:  # what the tutor understood of the voice note, above the answer
            outcome.reply = replace(outcome.reply, text=(heard + outcome.reply.text)[:MAX_TEXT])
            outcome.route = f"voice.{outcome.route}"
        late = self.brain.take_enrichments(learner.id) if self.brain is not None else []
        if late:  # corrections that missed the learner's previous turns open this answer
            limit = MAX_INTERACTIVE_BODY if outcome.reply.interactive else MAX_TEXT
            opening = "📝 _Sobre tu mensaje anterior:_\n" + "\n".join(late) + "\n\n"
            if len(opening) + len(outcome.reply.text) <= limit:
                outcome.reply = replace(outcome.reply, text=opening + outcome.reply.text)
        return Decision(outcome, text, usages)

    def _command(self, command: CommandResult, pnid: str, text: str) -> Decision:
        """A chat command's answer; its chart or data export is uploaded now, before anything is sent,
        so a failed upload simply retries the turn."""
        extras: list[Outgoing] = []
        if command.image is not None:
            png, caption = command.image
            extras.append(
                Image(self.graph.upload_media(pnid, png, "image/png", "progreso.png"), caption=caption)
            )
        exported = command.export_document()
        if exported is not None:
            data, filename, mime = exported
            extras.append(Document(self.graph.upload_media(pnid, data, mime, filename), filename))
        outcome = Outcome(command.reply, command.state, command.route)
        return Decision(outcome, text, extras=extras, erase=command.delete_learner)

    def _voice_turn(
        self, learner: learners.Learner, message: Message, state: ConversationState
    ) -> Decision | str:
        """A voice note or a voice button: the pronunciation feedback (with the model pronunciation as a
        voice note), a friendly word about unusable audio, or the transcript to answer as text."""
        voice = self.voice()
        choice = reply_id(message)
        if (choice or "").startswith(VOICE_BUTTONS):
            reply = voice.on_button(choice or "", learner, state)
            return Decision(Outcome(reply or Reply(UNSUPPORTED_REPLY), state, "voice.button"), "")
        heard = voice.handle(learner, message, state)
        if heard.kind == "transcript" and heard.transcript is not None and heard.transcript.text:
            return heard.transcript.text
        if heard.retryable:
            raise VoiceRetry("the voice note could not be fetched yet; the queue retries the turn")
        if heard.assessment is not None:
            metrics.pronunciation_score(heard.assessment.overall, "utterance")
        if heard.performances:
            from espaluz.memory.skills import RATING_FOR, review_skill

            with self.pool.connection() as conn:
                for skill, performance in heard.performances.items():
                    review_skill(conn, learner.id, skill, RATING_FOR[performance])
        extras: list[Outgoing] = []
        if heard.model_voice_media_id:
            extras.append(VoiceNote(heard.model_voice_media_id))
        reply = heard.reply or Reply(UNSUPPORTED_REPLY)
        return Decision(Outcome(reply, state, f"voice.{heard.kind.value}"), "", extras=extras)

    def voice(self) -> VoiceService:
        """The voice service, built on first use: its import (numpy, audio) stays off text-only turns."""
        if self._voice is None:
            from espaluz.voice.service import build_voice

            self._voice = build_voice(self.settings, self.graph)
        return self._voice

    def _ask_brain(
        self, learner: learners.Learner, state: ConversationState, text: str, choice: str | None
    ) -> tuple[Outcome, list[Usage]]:
        """The LLM agents' one consolidated answer (never raises: the brain degrades to the engine).
        The follow-up buttons ask again about the learner's last question."""
        assert self.brain is not None
        if choice == "got_it":
            return Outcome(Reply("¡Genial! ¿Seguimos?", buttons=BUTTONS_START), state, "llm.got_it", []), []
        extra = state.extra
        if choice in ("more_example", "explain"):
            ask = "Dame otro ejemplo, por favor: " if choice == "more_example" else "Explícamelo mejor: "
            answer = self.brain.answer(
                learner,
                state,
                ask + str(extra.get("last_question", "")),
                intent_name=extra.get("last_intent") or "grammar_question",
                topic=str(extra.get("last_topic", "general")),
            )
        else:
            answer = self.brain.answer(learner, state, text)
            extra["last_question"], extra["last_intent"] = text[:500], answer.intent
        extra["recent"] = [*list(extra.get("recent") or [])[-5:], text[:300]]
        if answer.drill is not None and answer.drill.verb and answer.drill.tense and answer.drill.person:
            d = answer.drill
            state.pending = PendingDrill(d.verb, d.tense, d.person, list(d.answers), d.prompt)
        buttons = answer.buttons[:3] if len(answer.text) <= MAX_INTERACTIVE_BODY else ()
        reply = Reply(answer.text[:MAX_TEXT], buttons=buttons)
        return Outcome(reply, state, answer.route, []), list(answer.usages)

    def _notice(self, envelope: InboundEnvelope, started: float) -> TurnResult:
        """Deliver a message another function owes the learner (billing notices), through the send policy
        (outside the window it is held behind the template), at most once per notice id."""
        update = envelope.update or {}
        learner_id = UUID(str(update.get("learner_id")))
        with self.pool.connection() as conn:
            learner = learners.get(conn, learner_id)
            claimed = (
                learner is not None
                and conn.execute(
                    """INSERT INTO turns (wamid, learner_id, status, received_at)
                       VALUES (%s, %s, 'sending', %s) ON CONFLICT DO NOTHING""",
                    (envelope.wamid, learner_id, datetime.now(UTC)),
                ).rowcount
            )
        if learner is None or not claimed:
            logger.info("notice dropped (unknown learner or already sent)", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner_id, "notice", duplicate=True)
        target = target_for(learner, routes=self.routes, default_number=self.default_number)
        try:
            result = self.sender.send(target, [Prepared(dict(update.get("body") or {}))])
        except GraphAPIError as exc:
            if exc.retryable:
                self._release(envelope.wamid)
                raise
            logger.error("notice undeliverable", extra={"code": exc.code, "wamid": envelope.wamid})
            self._finish(envelope.wamid, learner.id, "undeliverable", (), [], started)
            return TurnResult(envelope.wamid, learner.id, "undeliverable")
        self._finish(envelope.wamid, learner.id, "notice", result.wamids, [], started)
        return TurnResult(envelope.wamid, learner.id, "notice", result.wamids)

    def _update(self, envelope: InboundEnvelope) -> TurnResult:
        """A marketing preference or a BSUID change: recorded on the learner, never answered. Updates
        for someone who never wrote to us are dropped (there is nobody to record them on)."""
        update = envelope.update or {}
        with self.pool.connection() as conn:
            if envelope.kind == "identity":
                ids = update.get("user_id") or {}
                learner = learners.find_identity(conn, ids.get("previous"), envelope.wa_id)
                if learner is not None and ids.get("current"):
                    learners.change_identity(conn, learner.id, bsuid=str(ids["current"]))
            else:
                learner = learners.find_identity(conn, envelope.bsuid, envelope.wa_id)
                if learner is not None and update.get("category") == "marketing_messages":
                    at = datetime.fromtimestamp(int(update.get("timestamp") or 0), UTC)
                    learners.set_marketing_opt_out(conn, learner.id, update.get("value") == "stop", at)
        logger.info(
            "learner update applied" if learner else "update for an unknown learner dropped",
            extra={"kind": envelope.kind, "learner_id": str(learner.id) if learner else None},
        )
        return TurnResult(envelope.wamid, learner.id if learner else None, envelope.kind)

    def _system(self, envelope: InboundEnvelope, message: Message) -> TurnResult:
        """A changed phone number or BSUID, recorded on the learner it belonged to. Never answered, and
        never creates a learner: a ``user_changed_user_id`` may carry only the new identifiers."""
        system = message.system
        learner = None
        with self.pool.connection() as conn:
            if system is not None and system.type == "user_changed_number":
                learner = learners.find_identity(conn, message.from_user_id, message.from_)
                if learner is not None and system.wa_id:
                    learners.change_identity(conn, learner.id, wa_id=system.wa_id)
            elif system is not None:
                learner = learners.find_identity(conn, system.previous_bsuid, None)
                if learner is not None and system.user_id:
                    learners.change_identity(conn, learner.id, bsuid=system.user_id)
        logger.info(
            "identity change recorded" if learner else "identity change for an unknown learner dropped",
            extra={"wamid": envelope.wamid, "how": system.type if system else None},
        )
        return TurnResult(envelope.wamid, learner.id if learner else None, "system")

    def _release(self, wamid: str, claim: datetime | None = None) -> None:
        """Forget an unanswered turn so that its redelivery starts afresh; with ``claim``, only while the
        turn is still that attempt's (a notice's row has no claim to compare)."""
        with self.pool.connection() as conn:
            if claim is None:
                conn.execute("DELETE FROM turns WHERE wamid = %s AND status <> 'answered'", (wamid,))
            else:
                conn.execute(
                    "DELETE FROM turns WHERE wamid = %s AND status <> 'answered' AND claimed_at = %s",
                    (wamid, claim),
                )

    def _finish(
        self,
        wamid: str,
        learner_id: UUID,
        route: str,
        reply_wamids: tuple[str, ...],
        attempts: list[Attempt],
        started: float,
        usages: list[Usage] | None = None,
    ) -> None:
        latency_ms = int((time.perf_counter() - started) * 1000)
        late = self.brain.take_late_usages() if self.brain is not None else []
        with self.pool.connection() as conn:
            if usages:
                record_usage(conn, learner_id, wamid, usages)
                for u in usages:
                    metrics.provider_call(
                        u.provider,
                        u.latency_ms,
                        input_tokens=u.tokens_in,
                        output_tokens=u.tokens_out,
                        ok=u.outcome == "ok",
                        model=u.model,
                    )
            for late_learner, usage in late:  # calls that finished after their own turn was answered
                record_usage(conn, late_learner, wamid, [usage])
            conn.execute(
                """UPDATE turns SET status = 'answered', route = %s, answered_at = now(),
                                    reply_wamids = %s, latency_ms = %s
                   WHERE wamid = %s""",
                (route, list(reply_wamids), latency_ms, wamid),
            )
            if attempts:
                at = datetime.now(UTC)  # the clock the offers' week and the progress chart read with
                with conn.cursor() as cur:
                    cur.executemany(
                        """INSERT INTO drill_attempts
                               (learner_id, skill, prompt, expected, answer, verdict, created_at)
                           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                        [
                            (learner_id, a.skill, a.prompt, a.expected, a.answer, a.verdict, at)
                            for a in attempts
                        ],
                    )
        metrics.turn_latency(latency_ms, route)


@dataclass
class Decision:
    """What a turn answers: the outcome, what the learner said (a voice note's transcript included),
    the provider calls it cost, and messages that follow the reply (a model pronunciation)."""

    outcome: Outcome
    text: str
    usages: list[Usage] = field(default_factory=list)
    extras: list[Outgoing] = field(default_factory=list)
    erase: bool = False  # a confirmed "borrar": erase the learner once the goodbye is sent


class VoiceRetry(RuntimeError):
    """A voice note could not be downloaded for a passing reason: the turn is retried by the queue."""


class TurnInProgress(RuntimeError):
    """The same message is being answered by another invocation (SQS redelivered it after a visibility
    timeout): this delivery fails so SQS retries later, when the turn is either answered or abandoned."""


def _turn_status(conn: Any, wamid: str) -> str | None:
    row = conn.execute("SELECT status FROM turns WHERE wamid = %s", (wamid,)).fetchone()
    return str(row[0]) if row else None


def _sent_at(message: Message) -> datetime | None:
    """When the learner sent the message (Meta's timestamp): the start of the 24-hour window."""
    try:
        seconds = int(message.timestamp)
    except ValueError:
        return None
    if seconds <= 0:
        return None
    return min(datetime.fromtimestamp(seconds, UTC), datetime.now(UTC))  # a clock ahead of ours


def _consent_button(choice: str | None) -> consent.ConsentChange | None:
    return consent.ConsentChange.START if choice == "consent:start" else None


def build_processor(settings: Any) -> TutorProcessor:
    """Wire the processor from settings (production and the local stack alike)."""
    from espaluz.billing.tutor_gate import build_gate
    from espaluz.memory.service import build_memory
    from espaluz.storage.postgres import get_pool
    from espaluz.storage.redis import get_redis
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.commands import build_commands

    pool = get_pool(settings.database_url)
    redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
    graph = GraphClient(settings.whatsapp_graph_url, settings.whatsapp_access_token.get_secret_value())
    brain = TutorBrain.from_settings(settings, redis_client)
    TutorBrain.warm()  # the engine's tables at container start, not inside the first turn's deadline
    policy = SendPolicy(
        rate_per_second=settings.whatsapp_rate_per_second,
        learner_interval=settings.whatsapp_learner_interval_seconds,
        max_wait=settings.whatsapp_send_max_wait_seconds,
        max_attempts=settings.whatsapp_send_max_attempts,
        backoff_base=settings.whatsapp_send_backoff_seconds,
        outside_window=settings.whatsapp_outside_window,
        window_template=settings.whatsapp_window_template,
        window_template_language=settings.whatsapp_window_template_language,
    )
    return TutorProcessor(
        pool,
        StateStore(redis_client, settings.conversation_ttl_seconds),
        graph,
        llm_available=brain.llm_available,
        sender=Sender(graph, redis_client, policy),
        billing=build_gate(settings, pool),
        memory=build_memory(settings, pool),
        routes=settings.whatsapp_country_numbers,
        default_number=settings.whatsapp_phone_number_id,
        brain=brain,
        claim_timeout=settings.turn_claim_timeout_seconds,
        settings=settings,
        commands=build_commands(settings, pool, redis_client),
    )
