"""Process one queued WhatsApp message: one tutor turn, at most once per wamid.

Idempotency lives in the turn ledger (``espaluz.tutor.ledger``, its docstring has the states): a turn is
claimed (a lease fenced by its ``claimed_at``), decided, planned (every message it will send written down
with what completing it needs), sent part by part (each part marked ``sending`` only right before its
Graph call, after the learner's pacing slot and any backoff, and ``sent`` with Meta's wamid right after),
then answered. A redelivery of a turn whose attempt died or failed sends exactly the parts not yet sent
(from the plan: the tutor is not asked again) and completes it; a turn whose parts all went out (a
database error after the send) is completed without sending. A claim still live elsewhere fails the
delivery (``TurnInProgress``: SQS retries later); an attempt that outlived its claim (the local stack
cannot kill a thread at the Lambda timeout) stops before its next part. A send error worth retrying
releases the turn (the plan and what went out are kept) and is raised, so SQS delivers the message
again; a permanent error (outside the 24-hour window, a blocked recipient) is recorded and not retried.
Only a crash in the instant between a part's send and its update can cost the learner that part;
nothing can make them get it twice.

Privacy: logs name the learner by internal id and the message by wamid only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.llm.usage import record_late_usage
from espaluz.ops import metrics
from espaluz.storage import learners
from espaluz.tutor import proactive
from espaluz.tutor.commands.profile import explanation_language
from espaluz.tutor.commands.texts import tr
from espaluz.tutor.exercise import Course
from espaluz.tutor.ledger import Claim, Plan, TurnLedger, TurnTakenOver, attempts_json
from espaluz.tutor.orchestrator import respond, start_buttons, wants_practice
from espaluz.tutor.state import ConversationState, PendingDrill, StateStore
from espaluz.tutor.turn import Attempt, Decision, Outcome, Turn
from espaluz.whatsapp import consent
from espaluz.whatsapp.graph import GraphAPIError, GraphClient
from espaluz.whatsapp.inbound import InboundEnvelope, active_key
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
from espaluz.whatsapp.sender import Prepared, Sender, SendPolicy, Target, merge_parts, target_for

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from espaluz.llm.types import Usage
    from espaluz.memory.service import MemoryService
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.commands import CommandCenter, CommandResult
    from espaluz.tutor.paywall import Paywall
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
        billing: Paywall | None = None,
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
        self.ledger = TurnLedger(pool, claim_timeout)
        self.brain = brain  # the LLM agents, for what the rules and the engine cannot answer
        # Which business number starts a conversation (notices): by country code, else the learner's own.
        self.routes = dict(routes or {})
        self.default_number = default_number
        self.memory = memory  # pedagogical memory: "memoria" command, a memory per turn (espaluz.memory)
        self.billing = billing  # plan commands, free-tier limit, offers (espaluz.tutor.paywall)
        self.pool = pool
        self.states = states
        self.graph = graph
        self.sender = sender or Sender(graph, states.redis)
        self.llm_available = llm_available
        self.rng = rng or random.Random()  # noqa: S311 - exercise choice, not security
        self._proactive_composer: proactive.Proactive | None = None

    def process(self, body: str) -> TurnResult:
        started = time.perf_counter()
        envelope = InboundEnvelope.model_validate_json(body)
        if envelope.kind == "notice":
            return self._notice(envelope, started)
        if envelope.kind == "proactive":
            return self._proactive(envelope, started)
        if envelope.kind != "message":
            return self._update(envelope)
        message = Message.model_validate(envelope.message)
        if message.kind is MessageKind.SYSTEM:
            return self._system(envelope, message)
        identity = learners.Identity(bsuid=envelope.bsuid, wa_id=envelope.wa_id, name=envelope.name)

        with self.pool.connection() as conn:
            learner = learners.upsert(conn, identity, envelope.phone_number_id, _sent_at(message))
            learners.remember_group(conn, learner.id, envelope.learner_key)
        claim = self._claim(envelope.wamid, learner.id)
        if claim.outcome == "done":
            logger.info("duplicate delivery acknowledged", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner.id, "duplicate", duplicate=True)

        pnid = envelope.phone_number_id
        if claim.outcome == "new":
            try:
                self.graph.mark_read(pnid, envelope.wamid, typing=True)
            except GraphAPIError as exc:  # blue ticks are a courtesy; the answer matters more
                logger.warning("mark-as-read failed", extra={"code": exc.code})
        target = target_for(learner, reply_from=pnid)
        if claim.outcome != "new":  # a redelivery of a turn that was planned: finish what it started
            return self._deliver(claim, learner, target, started)

        kind = message.kind
        if kind in SILENT_KINDS:
            self._finish(envelope.wamid, kind.value, (), started)
            return TurnResult(envelope.wamid, learner.id, kind.value)

        try:
            decision = self._decide(learner, message, self.states.load(learner.id), pnid)
        except Exception:
            self.ledger.release(claim)  # nothing was planned: let the queue deliver it again
            raise
        return self._plan(claim, learner, target, decision, started)

    def process_burst(self, bodies: Sequence[str]) -> TurnResult:
        """Answer consecutive queued messages of one learner as one turn, in one message that addresses
        each (``bodies``: the first is the turn's; SQS FIFO hands a learner's waiting messages over
        together). What joins the burst: the learner's text messages from the first on, up to the first
        that is not one (or that has a turn of its own already): the rest is left to ``process``, in
        order, as is a lone message. Each joined message is decided in order (commands, drills, the
        engine), and those only the LLM can answer are asked of it together, once; every wamid is in the
        ledger as part of the turn, so a redelivery of any of them sends nothing."""
        run: list[tuple[InboundEnvelope, Message]] = []
        for body in bodies:
            try:  # one that cannot be read ends the burst; on its own it fails or is skipped as before
                envelope = InboundEnvelope.model_validate_json(body)
                message = Message.model_validate(envelope.message) if envelope.kind == "message" else None
            except ValueError:
                break
            if message is None or message.kind is not MessageKind.TEXT:
                break
            if run and envelope.learner_key != run[0][0].learner_key:
                break
            run.append((envelope, message))
        if len(run) < 2:
            return self.process(bodies[0])
        return self._burst(run)

    def _burst(self, run: list[tuple[InboundEnvelope, Message]]) -> TurnResult:
        started = time.perf_counter()
        head, (last, last_message) = run[0][0], run[-1]
        identity = learners.Identity(bsuid=last.bsuid, wa_id=last.wa_id, name=last.name)
        with self.pool.connection() as conn:
            learner = learners.upsert(conn, identity, last.phone_number_id, _sent_at(last_message))
            learners.remember_group(conn, learner.id, last.learner_key)
        claim = self._claim(head.wamid, learner.id)
        if claim.outcome == "done":
            logger.info("duplicate delivery acknowledged", extra={"wamid": head.wamid})
            return TurnResult(head.wamid, learner.id, "duplicate", duplicate=True)
        pnid = head.phone_number_id
        target = target_for(learner, reply_from=pnid)
        if claim.outcome != "new":  # planned before: its plan covers the messages joined then
            return self._deliver(claim, learner, target, started)
        try:
            joined = self.ledger.join(claim, learner.id, [e.wamid for e, _ in run[1:]])
            run = run[: 1 + len(joined)]
            try:  # blue ticks on the latest mark the earlier ones read too
                self.graph.mark_read(pnid, run[-1][0].wamid, typing=True)
            except GraphAPIError as exc:
                logger.warning("mark-as-read failed", extra={"code": exc.code})
            decision = self._decide_burst(learner, [m for _, m in run], pnid)
        except Exception:
            self.ledger.release(claim)  # nothing was planned: the burst goes back as a whole
            raise
        logger.info("burst answered as one turn", extra={"wamid": head.wamid, "messages": len(run)})
        return self._plan(claim, learner, target, decision, started)

    def _decide_burst(self, learner: learners.Learner, messages: list[Message], pnid: str) -> Decision:
        """Each message decided in order, the state carried from one to the next; those only the LLM can
        answer (the engine's fallback) are asked of it in one call, numbered, and its answer stands where
        the last of them was. Each answer is introduced by the words it answers, and only the last keeps
        its buttons (when the whole fits the interactive body), so the replies merge into one message."""
        state = self.states.load(learner.id)
        answers: list[tuple[list[str], Reply]] = []  # the words each answer addresses, and the answer
        usages: list[Usage] = []
        attempts: list[Attempt] = []
        extras: list[Outgoing] = []
        asked: list[str] = []
        llm_at: int | None = None  # where the LLM's one answer stands: after the last message it covers
        routes: dict[str, str] = {}
        note = ""  # the open exercise's word, said under the LLM's answer
        to_llm: list[str] = []  # the wamids the LLM answers
        erase = False
        for message in messages:
            decision = self._decide(learner, message, state, pnid, ask_brain=False)
            reply = decision.outcome.reply
            state = decision.outcome.state
            learner = replace(learner, is_new=False)  # greeted once, by the first answer
            usages += decision.usages
            attempts += decision.outcome.attempts
            extras += decision.extras
            erase = erase or decision.erase
            routes[message.id] = decision.outcome.route
            if decision.outcome.route == "fallback" and self.brain is not None:
                note = decision.outcome.note or note
                asked.append(decision.text)
                to_llm.append(message.id)
                if llm_at is not None:
                    answers.pop(llm_at)
                llm_at = len(answers)
                answers.append((asked, decision.outcome.reply))
            elif answers and llm_at != len(answers) - 1 and answers[-1][1].text == reply.text:
                answers[-1][0].append(decision.text)  # the same answer again (a limit): said once
            else:
                answers.append(([decision.text], decision.outcome.reply))
        if llm_at is not None:
            numbered = asked[0] if len(asked) == 1 else "\n".join(f"{i}. {t}" for i, t in enumerate(asked, 1))
            outcome, more = self._ask_brain(learner, state, numbered, None, messages[0].id)
            state, usages = outcome.state, usages + more
            if self.billing:
                outcome = self.billing.after_turn(learner, outcome)
            answers[llm_at] = (asked, _with_note(outcome.reply, note) if note else outcome.reply)
            routes.update(dict.fromkeys(to_llm, outcome.route))
        replies = [
            replace(reply, text=("".join(f"💬 _{_quote(w)}_\n" for w in said) + reply.text)[:MAX_TEXT])
            for said, reply in answers
        ]
        total = sum(len(r.text) + 2 for r in replies)
        keep_last = replies[-1].interactive and total <= MAX_INTERACTIVE_BODY
        replies = [r if (keep_last and i == len(replies) - 1) else _plain(r) for i, r in enumerate(replies)]
        outcome = Outcome(replies[0], state, "burst", attempts)
        text = "\n".join(m for m in (message_text(m) for m in messages) if m)
        return Decision(outcome, text, usages, [*replies[1:], *extras], erase, routes)

    def _plan(
        self,
        claim: Claim,
        learner: learners.Learner,
        target: Target,
        decision: Decision,
        started: float,
    ) -> TurnResult:
        """Write the decided turn into the ledger (its messages and what completing it needs), then send
        it. The held messages and the late corrections ride along, and leave Redis once planned."""
        try:
            outcome = decision.outcome
            held = self.sender.held(target)
            late = self.brain.peek_enrichments(learner.id) if self.brain is not None else []
            reply = _with_enrichments(outcome.reply, late, explanation_language(learner.native_language))
            # A reply without text (the voice note the learner asked to hear goes alone) sends nothing.
            parts = [*held, reply, *decision.extras]
            messages = merge_parts([m for m in parts if not (isinstance(m, Reply) and not m.text)])
            plan = Plan(
                outcome.route,
                state=outcome.state.to_json(),
                text=decision.text,
                attempts=attempts_json(outcome.attempts),
                erase=decision.erase,
                routes=decision.routes,
            )
            claim = self.ledger.write_plan(
                claim,
                learner.id,
                [m.payload() for m in messages],
                plan,
                decision.usages,
                outcome.attempts,
            )
        except TurnTakenOver as exc:  # a later delivery took the claim over: it answers, this one must not
            raise TurnInProgress(str(exc)) from exc
        except Exception:
            self.ledger.release(claim)  # nothing was planned: let the queue deliver it again
            raise
        _provider_metrics(decision.usages)
        # The plan carries the held messages and the late corrections now: drop them from Redis, so the
        # next turn does not repeat them. Should Redis fail here they would open the next answer again,
        # which is better than losing them.
        try:
            self.sender.drop_held(target, len(held))
            if reply is not outcome.reply and self.brain is not None:
                self.brain.drop_enrichments(learner.id, len(late))
        except Exception:
            logger.warning("held messages not dropped after planning", extra={"wamid": claim.wamid})
        return self._deliver(claim, learner, target, started, messages)

    def _claim(self, wamid: str, learner_id: UUID) -> Claim:
        claim = self.ledger.claim(wamid, learner_id, datetime.now(UTC))
        if claim.outcome == "busy":  # another invocation is working on it right now
            raise TurnInProgress(f"turn {wamid} is being answered elsewhere; retry later")
        return claim

    def _deliver(
        self,
        claim: Claim,
        learner: learners.Learner,
        target: Target,
        started: float,
        messages: list[Outgoing | Prepared] | None = None,
    ) -> TurnResult:
        """Send the planned parts not sent yet (``messages``: the planned objects themselves, on the
        attempt that planned them; else the rendered bodies from the ledger) and complete the turn."""
        wamid = claim.wamid
        plan = Plan.from_json(claim.plan)
        if claim.outcome == "orphan":  # left 'sending' by code before the ledger: it may have gone out
            logger.info("turn left in flight completed without sending", extra={"wamid": wamid})
            self._finish(wamid, "recovered", (), started)
            return TurnResult(wamid, learner.id, "recovered", duplicate=True)
        pending = claim.pending
        if claim.in_doubt:  # the one loss the ledger allows: a crash during the Graph call itself
            logger.warning(
                "parts in flight when an attempt stopped are not sent again; the learner may lack them",
                extra={"wamid": wamid, "parts": [p.part for p in claim.in_doubt]},
            )
        if messages is not None and len(messages) == len(claim.parts):
            outgoing: list[Outgoing | Prepared] = [messages[p.part] for p in pending]
        else:
            outgoing = [Prepared(p.body) for p in pending]
        marketing_opt_out = False
        if outgoing:
            try:
                result = self.sender.send(
                    target,
                    outgoing,
                    proactive=plan.route == proactive.ROUTE,  # refused after STOP
                    journal=self.ledger.journal(claim, [p.part for p in pending]),
                )
            except TurnTakenOver as exc:
                raise TurnInProgress(str(exc)) from exc
            except GraphAPIError as exc:
                if exc.retryable:
                    self.ledger.release(claim)
                    raise
                logger.error("reply undeliverable", extra={"code": exc.code, "wamid": wamid})
                self._finish(wamid, "undeliverable", self.ledger.sent_wamids(wamid), started)
                return TurnResult(wamid, learner.id, "undeliverable")
            except Exception:
                self.ledger.release(claim)
                raise
            marketing_opt_out = result.marketing_opt_out
        else:
            logger.info("every part already went out: turn completed", extra={"wamid": wamid})
        try:
            return self._complete(claim, learner, plan, marketing_opt_out, started)
        except Exception:
            self.ledger.release(claim)  # what went out is recorded: the redelivery only completes it
            raise

    def _complete(
        self,
        claim: Claim,
        learner: learners.Learner,
        plan: Plan,
        marketing_opt_out: bool,
        started: float,
    ) -> TurnResult:
        """What follows the send: the erasure a goodbye announced, the opt-out Meta reported, the state,
        the turn answered, the memory."""
        wamid = claim.wamid
        reply_wamids = self.ledger.sent_wamids(wamid)
        if plan.erase and self.commands is not None:
            self.commands.erase(learner.id)  # the row cascades to every table, turns included
            self.sender.forget(learner.id)
            logger.info("learner erased on request", extra={"learner_id": str(learner.id)})
            return TurnResult(wamid, learner.id, plan.route, reply_wamids)
        if marketing_opt_out:
            with self.pool.connection() as conn:
                learners.set_marketing_opt_out(conn, learner.id, True)
        if plan.state is not None:  # a learner's turn (a notice has no state and nothing to remember)
            self.states.save(learner.id, ConversationState.from_json(plan.state))
        self._finish(wamid, plan.route, reply_wamids, started, plan.routes)
        if self.memory and plan.state is not None and plan.route != proactive.ROUTE:  # never raises
            attempts = [Attempt(**a) for a in plan.attempts]
            self.memory.remember(learner.id, text=plan.text, route=plan.route, attempts=attempts, wamid=wamid)
        logger.info(
            "turn answered",
            extra={
                "wamid": wamid,
                "learner_id": str(learner.id),
                "route": plan.route,
                "messages": len(reply_wamids),
            },
        )
        return TurnResult(wamid, learner.id, plan.route, reply_wamids)

    def _decide(
        self,
        learner: learners.Learner,
        message: Message,
        state: ConversationState,
        pnid: str,
        *,
        ask_brain: bool = True,
    ) -> Decision:
        """The answer: the first of the ``steps`` that answers the message.
        ``ask_brain`` false (inside a burst) leaves the LLM out: the engine's ``fallback`` comes back
        and the burst asks the LLM once for all its messages."""
        turn = Turn(learner, message, state, pnid, message_text(message), reply_id(message), ask_brain)
        for step in self.steps:
            decision = step(turn)
            if decision is not None:
                return decision
        raise AssertionError("the last step answers every message")

    @property
    def steps(self) -> tuple[Callable[[Turn], Decision | None], ...]:
        """The steps of a turn, in order: the first that answers a message decides the turn. Consent
        comes first (STOP must always work), then what cannot be read, the commands (which also close an
        open exercise), voice notes (a transcript goes on as if typed), the memory command, the free
        tier's gate, and the teaching itself: exercises and the engine, then the LLM agents."""
        return (
            self._step_consent,
            self._step_unsupported,
            self._step_command,
            self._step_voice,
            self._step_memory,
            self._step_paywall,
            self._step_teach,
        )

    # --- the steps of a turn, in the order of ``steps`` ------------------------------------------------

    def _step_consent(self, turn: Turn) -> Decision | None:
        """STOP / BAJA and START / ALTA (a typed message that is only that word, or the consent buttons):
        before anything else. A button is judged by its id, never its title (an exercise's "Leave" is not
        an opt-out, whatever it is called)."""
        change = _consent_button(turn.choice) if turn.choice else consent.consent_change(turn.text)
        if change is None:
            return None
        with self.pool.connection() as conn:
            learners.set_opted_out(conn, turn.learner.id, change is consent.ConsentChange.STOP)
        outcome = Outcome(consent.confirmation(change), turn.state, f"consent_{change.value}")
        return Decision(outcome, turn.text)

    def _step_unsupported(self, turn: Turn) -> Decision | None:
        if turn.message.kind is not MessageKind.UNSUPPORTED:
            return None
        return Decision(Outcome(Reply(UNSUPPORTED_REPLY), turn.state, "unsupported"), turn.text)

    def _step_command(self, turn: Turn) -> Decision | None:
        """Chat commands and onboarding answers (``espaluz.tutor.commands``); a command closes the open
        exercise."""
        if self.commands is None or turn.message.kind in (MessageKind.VOICE, MessageKind.AUDIO):
            return None
        command = self.commands.handle(turn.learner, turn.text, turn.choice, turn.state)
        if command is None:
            return None
        command.state.pending = None
        return self._command(command, turn.pnid, turn.text)

    def _step_voice(self, turn: Turn) -> Decision | None:
        """A voice note: pronunciation feedback, or its transcript, which the next steps take as typed."""
        voice_button = (turn.choice or "").startswith(VOICE_BUTTONS)
        if turn.message.kind not in (MessageKind.VOICE, MessageKind.AUDIO) and not voice_button:
            return None
        voiced = self._voice_turn(turn.learner, turn.message, turn.state)
        if isinstance(voiced, Decision):
            return voiced
        turn.text, turn.heard = voiced, f"🎙️ _{voiced}_\n\n"
        return None

    def _step_memory(self, turn: Turn) -> Decision | None:
        """The "memoria" command (what the tutor remembers, and forgetting it)."""
        remembered = self.memory.command(turn.learner.id, turn.text, turn.choice) if self.memory else None
        return Decision(Outcome(remembered, turn.state, "memory"), turn.text) if remembered else None

    def _step_paywall(self, turn: Turn) -> Decision | None:
        gated = (
            self.billing.before_turn(turn.learner, turn.text, turn.choice, turn.state)
            if self.billing
            else None
        )
        return Decision(gated, turn.text) if gated else None

    def _step_teach(self, turn: Turn) -> Decision:
        """The rules and the Spanish engine (exercises, a due review), then the LLM agents for what those
        cannot answer; then the offer, the open exercise's note and the voice transcript."""
        learner, text, choice = turn.learner, turn.text, turn.choice
        usages: list[Usage] = []
        practice = wants_practice(text, choice)
        review = self.memory.due_review(learner) if self.memory and practice else None
        course = self._course(learner) if practice or turn.state.pending is not None else None
        outcome = respond(
            learner,
            text,
            choice,
            turn.state,
            self.rng,
            llm_available=self.llm_available,
            review=review,
            course=course,
        )
        wants_brain = outcome.route == "fallback" or choice in FOLLOW_UP_IDS
        if self.brain is not None and wants_brain and turn.ask_brain:
            note = outcome.note
            outcome, usages = self._ask_brain(learner, outcome.state, text, choice, turn.message.id)
            outcome.note = note
        if self.billing:
            outcome = self.billing.after_turn(learner, outcome)
        if outcome.note and (turn.ask_brain or outcome.route != "fallback"):  # a burst adds it later
            outcome.reply = _with_note(outcome.reply, outcome.note)
        if turn.heard:  # what the tutor understood of the voice note, above the answer
            outcome.reply = replace(outcome.reply, text=(turn.heard + outcome.reply.text)[:MAX_TEXT])
            outcome.route = f"voice.{outcome.route}"
        return Decision(outcome, text, usages, extras=self._spoken(learner, outcome))

    def _course(self, learner: learners.Learner, now: datetime | None = None) -> Course:
        """The learner's skill cards for the course's next exercise at ``now``; a new learner's course when
        the database cannot be read (the exercise is then new material rather than a review)."""
        from espaluz.memory.skills import skill_statuses

        now = now or datetime.now(UTC)
        voice = bool(self.settings is not None and self.settings.modal_token_id.get_secret_value())
        try:
            with self.pool.connection() as conn:
                return Course(skill_statuses(conn, learner.id, now), now, voice)
        except Exception as exc:  # the exercise must not fail with the database: it is new material
            logger.warning("skill cards unreadable learner=%s: %s", learner.id, type(exc).__name__)
            return Course(now=now, voice=voice)

    def _spoken(self, learner: learners.Learner, outcome: Outcome) -> list[Outgoing]:
        """A listening exercise's model voice note; without one (speech or upload failed) the reply says
        so and offers another exercise."""
        if not outcome.speak:
            return []
        from espaluz.voice.service import dialect_of

        media_id = self.voice().model_voice(learner, outcome.speak, dialect_of(learner))
        if media_id:
            return [VoiceNote(media_id)]
        language = explanation_language(learner.native_language)
        missing = "🔇 " + tr(
            language,
            "No he podido enviarte el audio. Escribe *otro* para cambiar de ejercicio.",
            "I couldn't send the audio. Write “otro” for another exercise.",
        )
        outcome.reply = replace(outcome.reply, text=f"{outcome.reply.text}\n\n{missing}"[:MAX_TEXT])
        return []

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
        voice note on the second miss of a phrase, or alone when the learner taps "listen"), a friendly
        word about unusable audio, or the transcript to answer as text."""
        voice = self.voice()
        choice = reply_id(message)
        if (choice or "").startswith(VOICE_BUTTONS):
            pressed = voice.press(choice or "", learner, state)
            if pressed is not None and pressed.model_voice_media_id:  # "listen": the voice note alone
                listen = Outcome(Reply(""), state, "voice.button")
                return Decision(listen, "", extras=[VoiceNote(pressed.model_voice_media_id)])
            reply = pressed.reply if pressed is not None else None
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
        self,
        learner: learners.Learner,
        state: ConversationState,
        text: str,
        choice: str | None,
        wamid: str = "",
    ) -> tuple[Outcome, list[Usage]]:
        """The LLM agents' one consolidated answer (never raises: the brain degrades to the engine).
        The follow-up buttons ask again about the learner's last question."""
        assert self.brain is not None
        if choice == "got_it":
            language = explanation_language(learner.native_language)
            text = tr(language, "¡Genial! ¿Seguimos?", "Great! Shall we go on?")
            return Outcome(Reply(text, buttons=start_buttons(language)), state, "llm.got_it", []), []
        extra = state.extra
        if choice in ("more_example", "explain"):
            ask = "Dame otro ejemplo, por favor: " if choice == "more_example" else "Explícamelo mejor: "
            answer = self.brain.answer(
                learner,
                state,
                ask + str(extra.get("last_question", "")),
                intent_name=extra.get("last_intent") or "grammar_question",
                topic=str(extra.get("last_topic", "general")),
                wamid=wamid,
            )
        else:
            answer = self.brain.answer(learner, state, text, wamid=wamid)
            extra["last_question"], extra["last_intent"] = text[:500], answer.intent
            extra["last_topic"] = answer.topic
        extra["recent"] = [*list(extra.get("recent") or [])[-5:], text[:300]]
        if answer.drill is not None and answer.drill.verb and answer.drill.tense and answer.drill.person:
            d = answer.drill
            state.pending = PendingDrill(d.verb, d.tense, d.person, list(d.answers), d.prompt)
        buttons = answer.buttons[:3] if len(answer.text) <= MAX_INTERACTIVE_BODY else ()
        reply = Reply(answer.text[:MAX_TEXT], buttons=buttons)
        return Outcome(reply, state, answer.route, []), list(answer.usages)

    def _notice(self, envelope: InboundEnvelope, started: float) -> TurnResult:
        """Deliver a message another function owes the learner (billing notices), through the send policy
        (outside the window it is held behind the template), at most once per notice id: a turn of one
        part in the ledger."""
        update = envelope.update or {}
        learner_id = UUID(str(update.get("learner_id")))
        with self.pool.connection() as conn:
            learner = learners.get(conn, learner_id)
        if learner is None:
            logger.info("notice dropped (unknown learner)", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner_id, "notice", duplicate=True)
        claim = self._claim(envelope.wamid, learner.id)
        if claim.outcome == "done":
            logger.info("notice already sent", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner_id, "notice", duplicate=True)
        target = target_for(learner, routes=self.routes, default_number=self.default_number)
        messages: list[Outgoing | Prepared] | None = None
        if claim.outcome == "new":
            messages = [Prepared(dict(update.get("body") or {}))]
            try:
                claim = self.ledger.write_plan(
                    claim, learner.id, [m.payload() for m in messages], Plan("notice")
                )
            except TurnTakenOver as exc:
                raise TurnInProgress(str(exc)) from exc
            except Exception:
                self.ledger.release(claim)
                raise
        return self._deliver(claim, learner, target, started, messages)

    @property
    def proactive(self) -> proactive.Proactive:
        """Composes what the scheduler chose (built on first use from the processor's own parts)."""
        if self._proactive_composer is None:
            from espaluz.scheduler.rules import Rules

            settings = self.settings
            self._proactive_composer = proactive.Proactive(
                self.pool,
                self.states,
                Rules.from_settings(settings) if settings is not None else Rules(),
                proactive.Templates.from_settings(settings)
                if settings is not None
                else proactive.Templates(),
                course=self._course,
                review=lambda learner, now: self.memory.due_review(learner, now) if self.memory else None,
                voice=self._model_voice,
                rng=self.rng,
            )
        return self._proactive_composer

    def _model_voice(self, learner: learners.Learner, text: str) -> str | None:
        """The model voice of a Spanish ``text`` uploaded for the learner; None without a voice set up."""
        if self.settings is None:
            return None
        from espaluz.voice.service import dialect_of

        return self.voice().model_voice(learner, text, dialect_of(learner))

    def _proactive(self, envelope: InboundEnvelope, started: float) -> TurnResult:
        """A message the scheduler chose: composed now on fresh rows (the rules checked again), planned
        as a turn of the ledger under the scheduler's id and sent with ``proactive=True``, at most once
        however often the queue delivers it; its outcome is recorded in ``proactive_messages``."""
        order = proactive.Order.from_update(envelope.update or {})
        wamid = envelope.wamid
        with self.pool.connection() as conn:
            learner = learners.get(conn, order.learner_id)
        if learner is None:  # erased since the pass: the row went with them
            logger.info("proactive message dropped (unknown learner)", extra={"wamid": wamid})
            return TurnResult(wamid, order.learner_id, proactive.ROUTE, duplicate=True)
        claim = self._claim(wamid, learner.id)
        if claim.outcome == "done":
            logger.info("proactive message already sent", extra={"wamid": wamid})
            return TurnResult(wamid, learner.id, proactive.ROUTE, duplicate=True)
        target = target_for(learner, routes=self.routes, default_number=self.default_number)
        messages: list[Outgoing | Prepared] | None = None
        if claim.outcome == "new":
            try:
                composed = self.proactive.compose(order, learner, self._written_at(envelope.learner_key))
                if isinstance(composed, proactive.Skipped):
                    with self.pool.connection() as conn:
                        proactive.record(conn, order, "skipped", reason=composed.reason)
                    self._finish(wamid, proactive.ROUTE, (), started)
                    logger.info(
                        "proactive message skipped", extra={"wamid": wamid, "reason": composed.reason}
                    )
                    return TurnResult(wamid, learner.id, f"{proactive.ROUTE}.skipped")
                messages = list(merge_parts(composed.messages))
                state = composed.state.to_json() if composed.state is not None else None
                claim = self.ledger.write_plan(
                    claim, learner.id, [m.payload() for m in messages], Plan(proactive.ROUTE, state=state)
                )
                with self.pool.connection() as conn:
                    proactive.record(conn, order, "queued", channel=composed.channel)
            except TurnTakenOver as exc:
                raise TurnInProgress(str(exc)) from exc
            except Exception:
                self.ledger.release(claim)
                raise
        result = self._deliver(claim, learner, target, started, messages)
        with self.pool.connection() as conn:
            if result.route == "undeliverable":  # STOP in the instant before the send, or Meta refused
                proactive.record(conn, order, "skipped", reason="undeliverable")
            else:
                proactive.record(conn, order, "sent", at=datetime.now(UTC))
        return result

    def _written_at(self, learner_key: str) -> datetime | None:
        """When the webhook last took a message of the learner (``inbound.active_key``); None when unknown
        or when Redis cannot say (the learner's row still has their last answered message)."""
        try:
            raw = self.states.redis.get(active_key(learner_key))
            return datetime.fromtimestamp(float(raw), UTC) if raw else None
        except Exception:
            logger.warning("learner activity unreadable", exc_info=True)
            return None

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

    def _finish(
        self,
        wamid: str,
        route: str,
        reply_wamids: tuple[str, ...],
        started: float,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        """The turn is answered; then the usage of provider calls that finished after their own turns
        (kept under their own learner and message, in a transaction of their own: see
        ``record_late_usage``)."""
        latency_ms = int((time.perf_counter() - started) * 1000)
        self.ledger.finish(wamid, route, reply_wamids, latency_ms, routes)
        metrics.turn_latency(latency_ms, route)
        if self.brain is not None:
            record_late_usage(self.pool, self.brain.take_late_usages())


class VoiceRetry(RuntimeError):
    """A voice note could not be downloaded for a passing reason: the turn is retried by the queue."""


class TurnInProgress(RuntimeError):
    """The same message is being answered by another invocation (SQS redelivered it after a visibility
    timeout): this delivery fails so SQS retries later, when the turn is either answered or abandoned."""


def _with_enrichments(reply: Reply, late: list[str], language: str) -> Reply:
    """Corrections that missed the learner's previous turns open this answer (when they fit)."""
    if not late:
        return reply
    limit = MAX_INTERACTIVE_BODY if reply.interactive else MAX_TEXT
    about = "Sobre tu mensaje anterior" + ("" if language == "es" else " (about your previous message)")
    about += ":"
    opening = f"📝 _{about}_\n" + "\n".join(late) + "\n\n"
    if len(opening) + len(reply.text) > limit:
        return reply
    return replace(reply, text=opening + reply.text)


def _with_note(reply: Reply, note: str) -> Reply:
    """The open exercise's word under the answer; the buttons go when the whole would not fit them."""
    text = f"{reply.text}\n\n{note}"
    if reply.interactive and len(text) > MAX_INTERACTIVE_BODY:
        return Reply(text[:MAX_TEXT], reply_to=reply.reply_to)
    return replace(reply, text=text[:MAX_TEXT])


def _quote(said: str, limit: int = 80) -> str:
    """The learner's words that an answer of a burst addresses, on one line (underscores would end the
    italics early)."""
    line = " ".join(said.split()).replace("_", " ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _plain(reply: Reply) -> Reply:
    """The reply's text without its buttons or list (an answer of a burst that is not the last)."""
    return Reply(reply.text, reply_to=reply.reply_to)


def _provider_metrics(usages: list[Usage]) -> None:
    for u in usages:
        metrics.provider_call(
            u.provider,
            u.latency_ms,
            input_tokens=u.tokens_in,
            output_tokens=u.tokens_out,
            ok=u.outcome == "ok",
            model=u.model,
        )


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
    from espaluz.memory.service import build_memory
    from espaluz.storage.postgres import get_pool
    from espaluz.storage.redis import get_redis
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.commands import build_commands
    from espaluz.tutor.paywall import build_paywall

    pool = get_pool(settings.database_url)
    redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
    graph = GraphClient(
        settings.whatsapp_graph_url,
        settings.whatsapp_access_token.get_secret_value(),
        timeout=settings.whatsapp_graph_timeout_seconds,  # a part of the per-turn budget (tutor/batch.py)
    )
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
        billing=build_paywall(settings, pool),
        memory=build_memory(settings, pool),
        routes=settings.whatsapp_country_numbers,
        default_number=settings.whatsapp_phone_number_id,
        brain=brain,
        claim_timeout=settings.turn_claim_timeout_seconds,
        settings=settings,
        commands=build_commands(settings, pool, redis_client),
    )
