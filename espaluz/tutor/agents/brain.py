"""The tutor brain: the one entry point the orchestrator calls for what rules and the engine can't answer.

Usage (in the orchestrator, after the rules and the engine passed)::

    brain = TutorBrain.from_settings(settings, redis_client)      # once per container
    answer = brain.answer(learner, state, text, deadline=Deadline(7.0))
    reply = Reply(answer.text, buttons=answer.buttons)
    if answer.drill: state.pending = ...                          # an engine drill to check next turn
    record_usage(conn, learner.id, wamid, answer.usages)          # espaluz.llm.usage, same transaction
    record_late_usage(pool, brain.take_late_usages())             # calls that finished after their turn

What a caller must know:

- It never raises on a provider problem and always returns a Spanish answer: a missing key, a 429, a 500,
  a slow or a rejected answer all degrade to the next provider and then to the Spanish engine
  (``answer.degraded``). When no provider the route could use has a key and the engine's answer is not
  complete on its own (conversation, culture, a grammar topic without a note, a phrase the phrasebook
  lacks), ``answer.key_note`` is one plain sentence in the learner's language and the text already ends
  with it. Setting names never reach the learner: the operator gets them in one log warning per process.
- Without a key the tutor still teaches: "how do I say ...?" is answered from the phrasebook
  (:mod:`espaluz.tutor.phrasebook`, first even with keys: exact and free), grammar questions from the
  authored notes (:mod:`.grammar_notes`) with follow-up buttons only where something is behind them,
  statements with the engine's correction and a question back.
- Follow-up buttons: the caller sends "Dame otro ejemplo, por favor: <question>" or "Explícamelo mejor:
  <question>" with the last intent; ``answer.topic`` is the grammar topic answered, worth keeping as the
  caller's ``last_topic``.
- The deadline covers everything: the intent call, the agents (run concurrently where independent) and
  their fallbacks. Give it the time left before the turn must be sent. With the intent unknown, the
  conversation partner starts while the classifier runs (``speculate``); a call the turn ends up not
  using is still billed, and its usage comes back from ``take_late_usages``.
- It does not touch the conversation state or the database; ``state`` is read only (``state.extra
  ["recent"]``, a list of the last turns' texts, is used as conversation history when the orchestrator
  keeps it).
- The learner's text reaches the providers only inside data delimiters (:mod:`espaluz.llm.guard`).
- Topics (the classifier's, or the caller's ``topic``) are ids of closed sets (:mod:`.topics`); anything
  else is ``general``. The explanation cache, shared by every learner with the same profile, is written
  only with answers a provider made from a topic id alone (no learner words), and never in a turn where
  injection is suspected (this text or the last two in ``state.extra["recent"]``, disguised forms
  included: :func:`suspicious`) or where a provider's answer was refused.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from espaluz.llm.chain import LLM, collect, submit
from espaluz.llm.guard import looks_like_injection
from espaluz.llm.types import Deadline
from espaluz.spanish.drills import drill_by_id
from espaluz.tutor import phrasebook
from espaluz.tutor.agents import conversation, culture, exercises, grammar, grammar_notes, intent, topics
from espaluz.tutor.agents.base import AgentResult, M, Profile, Source, tainted
from espaluz.tutor.commands.texts import KEYLESS_NOTE
from espaluz.whatsapp.outgoing import Button

if TYPE_CHECKING:
    from uuid import UUID

    from espaluz.config import Settings
    from espaluz.llm.cache import ExplanationCache
    from espaluz.llm.types import Provider, Usage
    from espaluz.spanish.drills import Drill
    from espaluz.storage.learners import Learner
    from espaluz.storage.redis import RedisClient
    from espaluz.tutor.state import ConversationState

logger = logging.getLogger(__name__)

FOLLOW_UP = (
    Button("more_example", "Otro ejemplo"),
    Button("explain", "Explícalo"),
    Button("got_it", "Entendido"),
)
# After the longer explanation, "Explícalo" would only repeat it.
AFTER_EXPLAIN: tuple[Button, ...] = (FOLLOW_UP[0], FOLLOW_UP[2])
MAX_TEXT_READ = 4000  # a WhatsApp text is at most 4096 characters; anything longer is not a message
INTENT_SECONDS = 1.2  # the intent call's share of the deadline: it only decides the route

CONVERSATION_INTENTS = ("conversation", "other")
ENRICHMENT_TTL_SECONDS = 24 * 3600
ENRICHMENT_GRACE_SECONDS = 10.0
SAFE_REPLY = "¡Gracias por tu mensaje! ¿Practicamos un poco? Escribe *practicar* para un ejercicio."
SAFE_REPLY_EN = "_Thanks for your message! Shall we practise? Write *practicar* for an exercise._"

# The LLM route (``LLM_ROUTES``) that answers each intent, and the providers its agent asks when the route
# is not configured. With none of the route's providers configured, the answer carries the key note.
ROUTE_PROVIDERS: dict[str, tuple[str, frozenset[Provider]]] = {
    "conversation": ("conversation", frozenset({"claude", "groq"})),
    "other": ("conversation", frozenset({"claude", "groq"})),
    "culture_question": ("culture", frozenset({"claude", "groq"})),
    "grammar_question": ("grammar", frozenset({"groq"})),
    "exercise_request": ("exercises", frozenset({"groq"})),
}

# What the learner reads when a route would need a provider that is not configured: one plain sentence
# in the learner's language, no setting names (operators get those in the log, see ``warn_missing_keys``).
KEY_NOTE = KEYLESS_NOTE
_warned: set[tuple[str, ...]] = set()
_warn_lock = threading.Lock()


def warn_missing_keys(llm: LLM) -> None:
    """Tell the operator, once per process, which settings would enable the missing providers."""
    missing = tuple(llm.missing_keys())
    if not missing:
        return
    with _warn_lock:
        if missing in _warned:
            return
        _warned.add(missing)
    logger.warning(
        "LLM providers not configured (set %s): the tutor answers from the Spanish engine, the phrasebook "
        "and the grammar notes",
        " and ".join(missing),
    )


@dataclass
class BrainAnswer:
    """One consolidated answer. ``route`` is ``llm.<intent>``; ``source`` is who wrote the main part
    (claude, groq, cache or engine); ``usages`` are every provider call of the turn, to be stored."""

    text: str
    route: str
    intent: str
    source: Source
    buttons: tuple[Button, ...] = ()
    usages: list[Usage] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    key_note: str | None = None
    drill: Drill | None = None
    injection_suspected: bool = False
    topic: str = "general"  # the grammar topic answered (keep it as ``last_topic`` for the follow-ups)

    @property
    def degraded(self) -> bool:
        return self.source == "engine"


def enrichment_key(learner_id: UUID) -> str:
    """Late corrections waiting for the learner's next answer; under the learner's hash tag, like every
    key of one learner (``conv:{<learner id>}``, ``wa:{<learner id>}:held``)."""
    return f"brain:{{{learner_id}}}:late"


def key_note(language: str) -> str:
    """The one sentence a learner reads when free conversation needs a provider this server lacks."""
    return KEY_NOTE["es" if language == "es" else "en"]


class TutorBrain:
    def __init__(
        self,
        llm: LLM,
        cache: ExplanationCache | None = None,
        *,
        turn_deadline_seconds: float = 8.0,
        speculate: bool = True,
    ) -> None:
        """``speculate``: when the intent is unknown, start the conversation partner while the classifier
        runs (saves the classifier's time on the commonest route; costs a discarded call when the intent
        turns out to be another one; that call's usage is kept, see :meth:`take_late_usages`)."""
        self.llm = llm
        self.cache = cache
        self.turn_deadline_seconds = turn_deadline_seconds
        self.speculate = speculate
        self._late: deque[LateUsage] = deque()
        warn_missing_keys(llm)

    @classmethod
    def from_settings(cls, settings: Settings, redis_client: RedisClient | None = None) -> TutorBrain:
        """Providers from the keys in ``settings``; the explanation cache when a Redis client is given."""
        from espaluz.llm.cache import ExplanationCache

        cache = (
            ExplanationCache(redis_client, settings.llm_cache_ttl_seconds, topics.CACHEABLE)
            if redis_client is not None
            else None
        )
        return cls(
            LLM.from_settings(settings),
            cache,
            turn_deadline_seconds=settings.llm_turn_deadline_seconds,
        )

    @staticmethod
    def warm() -> None:
        """Load the Spanish engine's tables now (about 0.3 s once per process) rather than inside the first
        engine fallback, where it would eat the turn's deadline. Call it at container start."""
        from espaluz.spanish.review import review

        review("yo es feliz si tendría tiempo")

    @property
    def llm_available(self) -> bool:
        return bool(self.llm.available)

    def classify(self, learner: Learner, text: str, deadline: Deadline) -> AgentResult[intent.IntentOutput]:
        """The intent alone (Groq; the keyword heuristic without it)."""
        short = Deadline.at_time(min(deadline.at, Deadline(INTENT_SECONDS).at))
        return intent.classify(self.llm, Profile.of(learner), text, short)

    def answer(
        self,
        learner: Learner,
        state: ConversationState,
        text: str,
        *,
        deadline: Deadline | float | None = None,
        intent_name: intent.Intent | None = None,
        topic: str = "general",
        rng: random.Random | None = None,
        wamid: str = "",
    ) -> BrainAnswer:
        """Answer a message the rules and the engine could not. ``intent_name`` (and ``topic``, a snake_case
        label such as ``ser_estar``, which keys the explanation cache) skip the classifier when the caller
        already knows (a button, a command, the topic of the drill just answered). ``wamid`` is the
        message answered: the usage of calls that finish after the answer is kept under it."""
        if not isinstance(deadline, Deadline):
            deadline = Deadline(self.turn_deadline_seconds if deadline is None else deadline)
        if intent_name is not None and intent_name not in ROUTE_PROVIDERS:
            intent_name = "conversation"
        text = text[:MAX_TEXT_READ]
        try:
            return self._answer(learner, state, text, deadline, intent_name, topic, rng, wamid)
        except Exception:  # a bug here must not drop the learner's turn
            logger.exception("tutor brain failed for learner %s; engine answer", learner.id)
            safe = SAFE_REPLY if learner.native_language == "es" else f"{SAFE_REPLY}\n\n{SAFE_REPLY_EN}"
            return BrainAnswer(safe, "llm.conversation", "conversation", "engine", failures=["brain:error"])

    def _answer(
        self,
        learner: Learner,
        state: ConversationState,
        text: str,
        deadline: Deadline,
        intent_name: intent.Intent | None,
        topic: str,
        rng: random.Random | None,
        wamid: str = "",
    ) -> BrainAnswer:
        rng = rng or random.Random()  # noqa: S311 (exercise choice, not security)
        profile = Profile.of(learner)
        usages: list[Usage] = []
        failures: list[str] = []
        if intent_name is None:
            phrase = self._phrase(profile, text)
            if phrase is not None:
                return phrase
        speculative: dict[str, Future[AgentResult[Any]]] | None = None
        if intent_name is None:
            if self.speculate and self.llm.available:
                # Conversation is the commonest answer: start it while the classifier decides.
                speculative = self._start_conversation(profile, state, text, deadline)
            classified = self.classify(learner, text, deadline)
            usages += classified.usages
            failures += classified.failures
            intent_name, topic = classified.output.intent, classified.output.topic
        topic = topics.checked(intent_name, topic)  # a caller's topic is kept state: checked again
        suspected = suspicious(text)
        if suspected:
            logger.info("possible prompt injection from learner %s", learner.id)
        # Shared (cached) answers are never made in a turn that may carry an injection: hinted in this
        # text or the last turns (an attack split over messages), or a provider's answer refused already.
        shareable = not (suspected or _recent_suspected(state) or tainted(failures))
        if speculative is not None:
            shareable = shareable and not _refused(speculative.values())

        if speculative is not None and intent_name not in CONVERSATION_INTENTS:
            self._keep_late(learner.id, wamid, speculative.values())
            speculative = None
        route, default = ROUTE_PROVIDERS.get(intent_name, ROUTE_PROVIDERS["conversation"])
        keyless = not ({name for name, _ in self.llm.steps(route, tuple(default))} & self.llm.available)
        if intent_name in CONVERSATION_INTENTS:
            started = speculative or self._start_conversation(profile, state, text, deadline)
            answer = self._conversation(learner.id, intent_name, profile, text, deadline, started, wamid)
            wants_key = True
        else:
            answer, wants_key = self._route(intent_name, topic, profile, text, deadline, rng, shareable)
        answer.usages[:0] = usages
        answer.failures[:0] = failures
        answer.injection_suspected = suspected
        if answer.source == "engine" and keyless and wants_key:
            answer.key_note = key_note(profile.native_language)
            answer.text = f"{answer.text}\n\n{answer.key_note}"
        return answer

    def _phrase(self, profile: Profile, text: str) -> BrainAnswer | None:
        """A "how do I say ...?" answered from the phrasebook, or for one word from the lexicon: exact,
        instant and free, so it comes first even with providers. A phrase neither has goes on to the
        providers; without them, the learner is told what the phrasebook has near it."""
        request = phrasebook.parse_request(text)
        if request is None:
            return None
        entry = phrasebook.lookup(request.query)
        language = profile.native_language
        if entry is not None:
            body = phrasebook.format_entry(entry, request, language=language, dialect=profile.dialect)
            return BrainAnswer(body, "phrasebook", "other", "engine")
        word = phrasebook.word_text(request, language=language)
        if word is not None:  # one word the lexicon knows: as exact and free as the phrasebook
            return BrainAnswer(word, "phrasebook", "other", "engine")
        if self.llm.available:
            return None
        note = key_note(language)
        body = f"{phrasebook.miss_text(request, language=language)}\n\n{note}"
        return BrainAnswer(body, "phrasebook", "other", "engine", key_note=note)

    def _route(
        self,
        intent_name: str,
        topic: str,
        profile: Profile,
        text: str,
        deadline: Deadline,
        rng: random.Random,
        shareable: bool = True,
    ) -> tuple[BrainAnswer, bool]:
        """The answer of a grammar, culture or exercise route, and whether the learner should read the
        key note when it came from the engine (not when the engine's answer is complete: an authored
        grammar note, a drill)."""
        route = f"llm.{intent_name}"
        follow, question = grammar_notes.follow_up_of(text)
        if intent_name == "grammar_question":
            note = grammar_notes.find_topic(topic if topic != "general" else "", question)
            label = note.id if note is not None else topic
            # The providers read the whole text: "Dame otro ejemplo, por favor: ..." is the request.
            g = grammar.explain(
                self.llm,
                profile,
                label,
                text,
                deadline,
                self.cache,
                follow=follow,
                rng=rng,
                shareable=shareable,
            )
            buttons: tuple[Button, ...]
            if g.source != "engine":
                buttons = FOLLOW_UP
            elif note is None:
                buttons = ()  # nothing behind "another example" when there is no note
            else:
                buttons = AFTER_EXPLAIN if follow == "explain" else FOLLOW_UP
            answer = _answer(_grammar_text(g.output), route, intent_name, g, buttons)
            answer.topic = label or "general"
            return answer, note is None
        if intent_name == "culture_question":
            c = culture.guide(self.llm, profile, topic, text, deadline, self.cache, shareable=shareable)
            # The table has one note per country: follow-ups would only repeat it.
            more: tuple[Button, ...] = FOLLOW_UP if c.source != "engine" else ()
            return _answer(_culture_text(c.output), route, intent_name, c, more), True
        e = exercises.open_exercise(self.llm, profile, topic, text, deadline, rng)
        out = _answer(f"📝 {e.output.instructions}", route, intent_name, e, ())
        out.drill = drill_by_id(e.output.drill_id) if e.output.drill_id else None
        return out, False

    def _start_conversation(
        self, profile: Profile, state: ConversationState, text: str, deadline: Deadline
    ) -> dict[str, Future[AgentResult[Any]]]:
        """The partner's reply and a grammar check of the learner's text, started concurrently."""
        recent = state.extra.get("recent")
        history = [str(x) for x in recent] if isinstance(recent, list) else None
        jobs: dict[str, Callable[[], AgentResult[Any]]] = {
            "chat": lambda: conversation.chat(self.llm, profile, text, deadline, history),
            # The check may outlive the turn (by its own provider timeout at most): a late correction
            # opens the learner's next answer instead (see ``_keep_enrichment``).
            "check": lambda: grammar.correct(
                self.llm, profile, text, Deadline.at_time(deadline.at + ENRICHMENT_GRACE_SECONDS)
            ),
        }
        return submit(jobs)

    def _conversation(
        self,
        learner_id: UUID,
        intent_name: str,
        profile: Profile,
        text: str,
        deadline: Deadline,
        started: dict[str, Future[AgentResult[Any]]],
        wamid: str = "",
    ) -> BrainAnswer:
        jobs = collect(started, deadline)
        self._keep_late(learner_id, wamid, [started[name] for name, result in jobs.items() if result is None])
        if jobs["check"] is None:  # the correction missed this turn: it is folded into the next one
            started["check"].add_done_callback(lambda f: self._keep_enrichment(learner_id, text, f))
        chat = jobs["chat"]
        if not isinstance(chat, AgentResult):
            chat = AgentResult(conversation.engine_reply(text, profile), "engine", failures=["chat:deadline"])
        reply: conversation.ConversationReply = chat.output
        check = jobs["check"]
        usages = list(chat.usages)
        failures = list(chat.failures)
        correction, explanation = reply.correction, reply.explanation
        if isinstance(check, AgentResult):
            usages += check.usages
            failures += check.failures
            note: grammar.GrammarNote = check.output
            if not correction and note.correction and note.correction.strip() != text.strip():
                correction, explanation = note.correction, note.explanation
        body = reply.reply
        if correction:
            body += f"\n\n✏️ *{correction}*"
        if explanation and (correction or chat.source == "engine"):  # the engine's lines stand alone
            body += _explained(explanation)
        return BrainAnswer(body, "llm.conversation", intent_name, chat.source, (), usages, failures)

    def _keep_enrichment(self, learner_id: UUID, text: str, future: Future[AgentResult[Any]]) -> None:
        """A correction that arrived after its turn was answered. WhatsApp cannot edit the sent message
        and an extra message would cost money and the learner's attention, so it waits (in Redis, for the
        24-hour window) to open the learner's next answer."""
        if self.cache is None or future.cancelled() or future.exception() is not None:
            return
        note: grammar.GrammarNote = future.result().output
        if not note.correction or note.correction.strip() == text.strip():
            return
        line = f"✏️ *{note.correction}*" + (_explained(note.explanation) if note.explanation else "")
        key = enrichment_key(learner_id)
        try:
            pipe = self.cache.redis.pipeline(transaction=True)  # one key: a valid MULTI in a cluster too
            pipe.rpush(key, line)
            pipe.expire(key, ENRICHMENT_TTL_SECONDS)
            pipe.execute()
        except Exception:  # Redis gone: the enrichment is lost, the turn was answered anyway
            logger.warning("late correction not kept", extra={"learner_id": str(learner_id)})

    def peek_enrichments(self, learner_id: UUID) -> list[str]:
        """Corrections that missed earlier turns, oldest first, left in Redis: the turn that carries them
        removes them (``drop_enrichments``) only once its reply is safe, so a turn that fails before
        that leaves them for the next one. Redis gone: none (the answer matters more)."""
        if self.cache is None:
            return []
        try:
            raws = self.cache.redis.lrange(enrichment_key(learner_id), 0, -1)
        except Exception:
            return []
        return [raw.decode() for raw in raws]

    def drop_enrichments(self, learner_id: UUID, count: int) -> None:
        """Forget the ``count`` oldest corrections (those a reply now carries); corrections kept since
        the peek stay for the next answer. Raises when Redis is gone: the caller decides."""
        if self.cache is not None and count:
            self.cache.redis.ltrim(enrichment_key(learner_id), count, -1)

    def take_enrichments(self, learner_id: UUID) -> list[str]:
        """Corrections that missed earlier turns, oldest first, removed as they are taken (for a caller
        that shows them at once; the tutor's turns use ``peek_enrichments`` and ``drop_enrichments``)."""
        if self.cache is None:
            return []
        key = enrichment_key(learner_id)
        try:
            # Read and delete in one MULTI (explicit: the cluster client's pipelines are not transactions
            # by default), so a correction pushed in between is not deleted unread. Not chained: the
            # cluster pipeline's ``delete`` returns None.
            pipe = self.cache.redis.pipeline(transaction=True)
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            raws, _ = pipe.execute()
        except Exception:
            return []
        return [raw.decode() for raw in raws]

    def _keep_late(self, learner_id: UUID, wamid: str, futures: Iterable[Future[AgentResult[Any]]]) -> None:
        """Calls whose answer the turn does not use (a speculative reply for another intent, a job past
        the deadline) were still made and billed: their usage is kept for :meth:`take_late_usages`,
        under the learner and the message they were made for (not the turn that happens to take them)."""

        def keep(future: Future[AgentResult[Any]]) -> None:
            if future.cancelled() or future.exception() is not None:
                return
            self._late.extend(LateUsage(learner_id, usage, wamid) for usage in future.result().usages)

        for future in futures:
            future.add_done_callback(keep)

    def take_late_usages(self) -> list[LateUsage]:
        """Usage of calls that finished after their turn was answered, as (learner id, usage, wamid): the
        processor stores them after a later turn, each under its own learner and message
        (``espaluz.llm.usage.record_late_usage``), so that costs stay complete."""
        taken = []
        while self._late:
            taken.append(self._late.popleft())
        return taken


class LateUsage(NamedTuple):
    """A provider call that finished after its turn was answered: whose, and for which message."""

    learner_id: UUID
    usage: Usage
    wamid: str = ""


def _answer(
    text: str, route: str, intent_name: str, result: AgentResult[M], buttons: tuple[Button, ...]
) -> BrainAnswer:
    return BrainAnswer(
        text, route, intent_name, result.source, buttons, list(result.usages), list(result.failures)
    )


_LEET = str.maketrans("0134579@$!|", "oieastgasil")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def suspicious(text: str) -> bool:
    """``looks_like_injection`` on the text and on its disguised forms: invisible characters (zero-width
    spaces, joiners) removed, leetspeak read as letters ("1gn0r3" -> "ignore"), runs of base64 decoded,
    and letters spaced out ("i g n o r e"). A hint only (it decides whether a turn may feed the shared
    cache, and the log line); the defence does not depend on it."""
    plain = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    forms = [plain, plain.translate(_LEET), re.sub(r"(?<=\w) (?=\w\b)", "", plain)]
    for run in _BASE64_RUN.findall(plain)[:5]:
        try:
            forms.append(
                base64.b64decode(run + "=" * (-len(run) % 4), validate=False).decode("utf-8", "ignore")
            )
        except ValueError:
            continue
    return any(looks_like_injection(form) for form in forms)


def _recent_suspected(state: ConversationState) -> bool:
    """Whether one of the learner's last two messages (``state.extra["recent"]``) reads like injection."""
    recent = state.extra.get("recent")
    if not isinstance(recent, list):
        return False
    return any(suspicious(str(item)) for item in recent[-2:])


def _refused(futures: Iterable[Future[AgentResult[Any]]]) -> bool:
    """Whether a finished speculative call of this turn had a provider answer refused."""
    return any(
        f.done() and not f.cancelled() and f.exception() is None and tainted(f.result().failures)
        for f in futures
    )


def _grammar_text(note: grammar.GrammarNote) -> str:
    parts = [f"📘 {note.explanation}"]
    if note.examples:
        parts.append("\n".join(f"• {e}" for e in note.examples))
    if note.correction:
        parts.append(f"✏️ *{note.correction}*")
    return "\n\n".join(parts)


def _explained(explanation: str) -> str:
    """The line under a correction: the engine's list of changes as is, a provider's sentence in italics."""
    return f"\n{explanation}" if explanation.startswith("• ") else f"\n_{explanation}_"


def _culture_text(note: culture.CultureNote) -> str:
    parts = [f"🌎 {note.note}"]
    if note.expressions:
        parts.append("\n".join(f"• {e}" for e in note.expressions))
    return "\n\n".join(parts)
