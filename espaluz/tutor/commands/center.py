"""Chat commands and onboarding: the rules the processor runs before the orchestrator.

``CommandCenter.handle(learner, text, reply_id, state)`` returns a :class:`CommandResult` when the message
is a command (or an onboarding answer), and None when it is not, so the rest of the tutor answers it.

Commands, typed as a whole message in Spanish or English (case and accents ignored) or as a button/list id:

====================  =========================================================  ====================
command               words                                                      ids
====================  =========================================================  ====================
level                 nivel, level, mi nivel, my level, nivel B1, level b1       cmd:level, level:set:B1,
                                                                                 level:test, place:*
progress              progreso, progress, mi progreso, estadísticas, stats       cmd:progress
pronounce             pronunciar, pronunciación, pronounce, pronunciar perro     cmd:pronounce
delete                borrar, borrar mis datos, delete my data, ...              cmd:delete, del:*
export                exportar, export, exportar mis datos, export my data, ...  cmd:export
profile               perfil, profile, mi perfil, configurar, setup              cmd:profile, prof:*
                      idioma inglés, language english, variante España,
                      dialect spain, recordatorios no, objetivo viajar, idioma,
                      recordatorio a las 20, reminder at 8pm, zona horaria Madrid
====================  =========================================================  ====================

"perfil" shows the profile and changes one field at a time (:mod:`.profile_menu`); it never restarts
onboarding. The explanation language of every reply is ``profile.explanation_language`` of the stored
one (a learner who once chose Portuguese reads English glosses; see there why).

Left to others on purpose: ayuda/help and practicar/practice (the orchestrator), plan/suscribir (billing),
baja/stop (the channel), memoria (memory).

Onboarding starts for a new learner (``learner.is_new``) and for one whose profile was never completed
(``learners.onboarded_at`` is NULL, checked once per conversation state). While it is open, a message that
is no answer is left to the tutor when it is a button of another feature, a help/practice word, the
answer to a pending drill or a free message (``onboarding.free_message``: a sentence or a question, once
the step was asked); otherwise the step is asked again, at most ``onboarding.MAX_MISSES`` times.

``handle`` may annotate ``state`` in place even when it returns None (the onboarding marker); the processor
saves the state it passes on, as it does today.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.tutor.commands import level as levels
from espaluz.tutor.commands import onboarding, privacy, profile_menu, pronounce
from espaluz.tutor.commands import profile as profiles
from espaluz.tutor.commands import progress as progresses
from espaluz.tutor.commands.result import CommandResult
from espaluz.tutor.commands.texts import LEAVE_COMMANDS, fold, tr
from espaluz.tutor.state import ConversationState
from espaluz.whatsapp.outgoing import Button, Reply

if TYPE_CHECKING:
    from uuid import UUID

    from psycopg_pool import ConnectionPool

    from espaluz.storage.learners import Learner
    from espaluz.storage.redis import RedisClient

logger = logging.getLogger(__name__)

WORDS: dict[str, frozenset[str]] = {
    "level": frozenset(
        {"nivel", "level", "mi nivel", "my level", "cambiar nivel", "cambiar de nivel", "change level"}
    ),
    "progress": frozenset(
        {"progreso", "progress", "mi progreso", "my progress", "estadisticas", "stats", "statistics"}
    ),
    "pronounce": frozenset(
        {"pronunciar", "pronunciacion", "pronunciation", "pronounce", "practicar pronunciacion"}
    ),
    "delete": frozenset(
        {
            "borrar",
            "borrar mis datos",
            "borrar datos",
            "borrar todo",
            "borrar mi cuenta",
            "eliminar mis datos",
            "eliminar mi cuenta",
            "delete",
            "delete my data",
            "delete my account",
            "erase my data",
        }
    ),
    "export": frozenset(
        {
            "exportar",
            "exportar mis datos",
            "exportar datos",
            "descargar mis datos",
            "export",
            "export my data",
            "download my data",
        }
    ),
    "profile": frozenset({"perfil", "profile", "mi perfil", "my profile", "configurar", "setup"}),
}
_LEVEL_SET = re.compile(r"^(?:mi |my |cambiar |change )?(?:nivel|level)(?: a)? (a1|a2|b1|b2|c1)$")
_PRONOUNCE_WORDS = re.compile(r"^(?:pronunciar|pronounce) (.+)$")
# The buttons after a change: see the profile again (to change something else) or practise.
_AFTER_CHANGE = (Button("cmd:profile", "Mi perfil"), Button("practice", "Practicar"))
# What the rest of the tutor answers even in the middle of onboarding.
PASSTHROUGH = frozenset(
    {"ayuda", "help", "menu", "practicar", "practice", "practica", "plan", "suscribir", "memoria", "memory"}
)
CHECKED_KEY = "profile_checked"
UNKNOWN_PREFIX = "prof?"  # a typed profile shortcut whose value names nothing offered (never a button id)


class CommandCenter:
    def __init__(
        self,
        pool: ConnectionPool,
        redis_client: RedisClient | None = None,
        *,
        rng: random.Random | None = None,
        onboarding: bool = True,
        local_queue: str | None = None,
    ) -> None:
        self.pool = pool
        self.redis = redis_client
        self.rng = rng or random.Random()  # noqa: S311 - exercise choice, not security
        self.onboarding = onboarding  # False: new learners are never asked (the "perfil" command still works)
        self.local_queue = local_queue  # the local stack's queue: its dead letters go with an erasure

    # --- entry point ---------------------------------------------------------------------------------

    def handle(
        self,
        learner: Learner,
        text: str,
        reply_id: str | None,
        state: ConversationState,
        *,
        now: datetime | None = None,
    ) -> CommandResult | None:
        """The answer when the message is a command or an onboarding answer; None otherwise."""
        now = now or datetime.now(UTC)
        explained = profiles.explanation_language(learner.native_language)
        if explained != learner.native_language:  # e.g. "pt", once offered: every command reads English
            learner = replace(learner, native_language=explained)
        said = fold(text)
        command, argument = self._command(said, reply_id)
        if command is not None:
            return self._run(command, argument, learner, state, now)
        if reply_id and reply_id.startswith(levels.PLACE_PREFIX):
            return self._placement(learner, text, reply_id, state)
        if reply_id and reply_id.startswith("del:"):
            return self._confirm_delete(learner, reply_id, state, now)
        if levels.active(state) is not None and not reply_id:
            if said in onboarding.SKIP_WORDS:
                return self._skip_placement(learner, state)
            step = levels.answer(state, text, None)
            if step.accepted:
                return self._placement_done(learner, state, step)
            if levels.purpose(state) != "onboarding":
                # The learner walked away from a test they asked for: end it, so that a later message
                # that happens to equal an option ("te", "por") is not taken as an answer.
                levels.cancel(state)
        return self._onboarding(learner, text, reply_id, said, state)

    def erase(self, learner_id: UUID) -> bool:
        """Erase the learner everywhere (``espaluz.tutor.erasure``: the rows, their Redis keys, voice notes,
        dead letters, Stripe customer); True if the learner existed. Call it after the goodbye of a
        confirmed deletion (``CommandResult.delete_learner``) has been sent. The report (counts per store,
        or why a store was not reached) is logged."""
        from espaluz.tutor import erasure

        stores = erasure.Stores()
        try:
            from espaluz.config import get_settings

            stores = erasure.stores_from_settings(get_settings(), self.redis)
        except Exception as exc:  # settings incomplete (a bare test center): Postgres and Redis still go
            logger.warning("erasure without the deployment's stores", extra={"error": type(exc).__name__})
        stores.redis = self.redis
        stores.local_queue = self.local_queue
        with self.pool.connection() as conn:
            return erasure.erase_learner(conn, learner_id, stores).existed

    # --- commands ------------------------------------------------------------------------------------

    @staticmethod
    def _command(said: str, reply_id: str | None) -> tuple[str | None, str]:
        if reply_id:
            if reply_id.startswith("cmd:") and reply_id[4:] in WORDS:
                return reply_id[4:], ""
            if reply_id.startswith("level:"):
                return "level", reply_id
            if reply_id.startswith(profile_menu.PREFIX):
                return "profile", reply_id
            return None, ""
        for name, words in WORDS.items():
            if said in words:
                return name, ""
        if match := _LEVEL_SET.match(said):
            return "level", f"level:set:{match.group(1).upper()}"
        if match := _PRONOUNCE_WORDS.match(said):
            return "pronounce", match.group(1)
        if typed := profile_menu.parse_typed(said):
            field, value, named = typed
            if value is None and named:
                return "profile", f"{UNKNOWN_PREFIX}{field}"
            if field == "lang" and value is not None and value not in profiles.LANGUAGES:
                return "profile", f"{UNKNOWN_PREFIX}lang:{value}"
            return "profile", f"{profile_menu.PREFIX}{field}" + (f":{value}" if value else "")
        return None, ""

    def _run(
        self,
        command: str,
        argument: str,
        learner: Learner,
        state: ConversationState,
        now: datetime,
    ) -> CommandResult:
        lang = profiles.explanation_language(learner.native_language)
        if command == "level":
            return self._level(learner, argument, state)
        if command == "progress":
            from espaluz.memory.skills import skill_statuses
            from espaluz.tutor.exercise import Course, unit_status

            with self.pool.connection() as conn:
                progress = progresses.load(conn, learner.id, now)
                course = Course(skill_statuses(conn, learner.id, now), now)
            reply = Reply(
                progresses.report(progress, lang, unit_status(learner.level, lang, course)),
                buttons=(Button("practice", "Practicar"), Button("cmd:level", "Mi nivel")),
            )
            logger.info("progress report", extra={"learner_id": str(learner.id)})
            return CommandResult(reply, state, "command.progress", image=progresses.chart(progress))
        if command == "pronounce":
            reply = pronounce.exercise(learner, state, self.rng, argument)
            return CommandResult(reply, state, "command.pronounce")
        if command == "delete":
            return CommandResult(privacy.ask_confirmation(learner, state, now), state, "command.delete.ask")
        if command == "export":
            with self.pool.connection() as conn:
                export = privacy.export_data(conn, learner, state, now)
            logger.info("data export", extra={"learner_id": str(learner.id)})
            return CommandResult(
                privacy.export_reply(learner, export), state, "command.export", export=export
            )
        return self._profile(learner, argument, state)

    def _level(self, learner: Learner, argument: str, state: ConversationState) -> CommandResult:
        lang = profiles.explanation_language(learner.native_language)
        if argument == "level:test":
            reply = levels.start(state, lang, "level", self.rng.randrange(1000))
            return CommandResult(reply, state, "command.level.test")
        if argument.startswith("level:set:"):
            level = argument.removeprefix("level:set:")
            if level not in profiles.LEVELS:
                hint = tr(lang, "Ese nivel no existe.", "That level does not exist.")
                menu = levels.level_menu(lang, learner.level)
                return CommandResult(
                    Reply(f"{hint}\n\n{menu.text}", list_button=menu.list_button, rows=menu.rows),
                    state,
                    "command.level.invalid",
                )
            with self.pool.connection() as conn:
                before = profiles.load(conn, learner.id)
                profiles.set_level(conn, learner.id, level)
            levels.cancel(state)  # a level chosen outright ends a test in progress
            if before is not None and before.level == level:
                line = "✅ " + levels.level_unchanged(lang, level)
                return CommandResult(Reply(line, buttons=_AFTER_CHANGE), state, "command.level.same")
            state.pending = None  # a drill of the old level is no longer the right one
            line = "✅ " + levels.level_changed(lang, level)
            logger.info("level changed", extra={"learner_id": str(learner.id), "level": level})
            return CommandResult(Reply(line, buttons=_AFTER_CHANGE), state, "command.level.set")
        if argument.startswith("level:"):  # an id we never sent
            return CommandResult(levels.level_menu(lang, learner.level), state, "command.level.invalid")
        return CommandResult(levels.level_menu(lang, learner.level), state, "command.level")

    # --- placement -----------------------------------------------------------------------------------

    def _placement(
        self, learner: Learner, text: str, reply_id: str, state: ConversationState
    ) -> CommandResult:
        step = levels.answer(state, text, reply_id)
        if step.accepted:
            return self._placement_done(learner, state, step)
        lang = profiles.explanation_language(learner.native_language)
        question = levels.repeat(state)
        hint = tr(lang, "Ese botón ya no vale.", "That button is no longer valid.")
        if question is None:
            return CommandResult(
                Reply(
                    hint
                    + "\n\n"
                    + tr(lang, "Escribe *nivel* para ver tu nivel.", "Write *nivel* to see your level."),
                    buttons=(),
                ),
                state,
                "command.level.stale",
            )
        return CommandResult(
            Reply(f"{hint}\n\n{question.text}", buttons=question.buttons), state, "command.level.stale"
        )

    def _placement_done(
        self, learner: Learner, state: ConversationState, step: levels.PlacementStep
    ) -> CommandResult:
        if step.reply is not None:
            return CommandResult(step.reply, state, "placement.question")
        assert step.result is not None
        outcome = step.result
        with self.pool.connection() as conn:
            profiles.set_level(conn, learner.id, outcome.level)
        state.pending = None
        raw = onboarding.current(state)
        lang = self._language(learner, raw)
        line = levels.placed(lang, outcome)
        logger.info(
            "placement finished",
            extra={"learner_id": str(learner.id), "level": outcome.level, "questions": outcome.questions},
        )
        if raw and raw["step"] == "level":
            return self._advance(learner, state, raw, line)
        return CommandResult(Reply(line, buttons=_AFTER_CHANGE), state, "command.level.placed")

    def _skip_placement(self, learner: Learner, state: ConversationState) -> CommandResult:
        """ "saltar" during a test: the test ends, the level stays; inside onboarding the next step
        follows (skipping the test is not skipping the whole setup)."""
        levels.cancel(state)
        raw = onboarding.current(state)
        lang = self._language(learner, raw)
        with self.pool.connection() as conn:
            current = profiles.load(conn, learner.id)
        level = current.level if current is not None else learner.level
        line = tr(
            lang,
            f"Test cancelado: tu nivel sigue siendo *{levels.named(level, 'es')}*.",
            f"Test cancelled: your level stays {levels.named(level, 'en')}.",
        )
        if raw and raw["step"] == "level":
            return self._advance(learner, state, raw, line)
        return CommandResult(Reply(line, buttons=_AFTER_CHANGE), state, "command.level.cancelled")

    @staticmethod
    def _language(learner: Learner, raw: dict[str, Any] | None) -> str:
        """The explanation language: the one chosen in an open onboarding, else the stored one."""
        chosen = raw.get("lang") if raw else None
        return profiles.explanation_language(str(chosen or learner.native_language))

    # --- perfil / profile ----------------------------------------------------------------------------

    def _profile(self, learner: Learner, argument: str, state: ConversationState) -> CommandResult:
        """Show the profile, ask one field, or write one field (never the whole onboarding again)."""
        with self.pool.connection() as conn:
            profile = profiles.load(conn, learner.id)
        if profile is None:  # the row was erased under us: nothing to show
            lang = profiles.explanation_language(learner.native_language)
            gone = Reply(tr(lang, "No encuentro tu perfil.", "I can't find your profile."))
            return CommandResult(gone, state, "command.profile.gone")
        lang = profiles.explanation_language(profile.native_language)
        if argument.startswith(UNKNOWN_PREFIX):
            field, _, code = argument.removeprefix(UNKNOWN_PREFIX).partition(":")
            if field == "lang":
                hint = profile_menu.not_offered(lang, code or None)
            else:
                hint = profile_menu.unknown_value(lang, field)
            return CommandResult(
                profile_menu.ask(field, profile, lead=hint), state, f"command.profile.{field}.unknown"
            )
        parsed = profile_menu.parse_id(argument) if argument else None
        if argument and parsed is None:  # an id we never sent
            hint = tr(lang, "Esa opción no existe.", "That option does not exist.")
            return CommandResult(profile_menu.show(learner, profile, hint), state, "command.profile.invalid")
        if parsed is None:
            return CommandResult(profile_menu.show(learner, profile), state, "command.profile")
        field, value = parsed
        if field == "level":
            return CommandResult(levels.level_menu(lang, profile.level), state, "command.profile.level")
        if field == "test":
            reply = levels.start(state, lang, "level", self.rng.randrange(1000))
            return CommandResult(reply, state, "command.level.test")
        if value is None:
            return CommandResult(profile_menu.ask(field, profile), state, f"command.profile.{field}")
        with self.pool.connection() as conn:
            line, lang = profile_menu.apply(conn, learner.id, field, value, lang)
        raw = onboarding.current(state)
        if raw is not None and field == "lang":
            raw["lang"] = value  # an open onboarding goes on in the new language
        logger.info("profile changed", extra={"learner_id": str(learner.id), "field": field})
        return CommandResult(Reply(line, buttons=_AFTER_CHANGE), state, f"command.profile.{field}.set")

    # --- deletion ------------------------------------------------------------------------------------

    def _confirm_delete(
        self, learner: Learner, reply_id: str, state: ConversationState, now: datetime
    ) -> CommandResult:
        if reply_id == privacy.CANCEL_ID:
            privacy.cancel(state)
            return CommandResult(privacy.cancelled(learner), state, "command.delete.cancelled")
        if privacy.confirm(state, reply_id, now):
            logger.info("data deletion confirmed", extra={"learner_id": str(learner.id)})
            return CommandResult(
                privacy.goodbye(learner), ConversationState(), "command.delete", delete_learner=True
            )
        logger.info("data deletion refused (stale or unknown token)", extra={"learner_id": str(learner.id)})
        return CommandResult(privacy.rejected(learner), state, "command.delete.rejected")

    # --- onboarding ----------------------------------------------------------------------------------

    def _onboarding(
        self, learner: Learner, text: str, reply_id: str | None, said: str, state: ConversationState
    ) -> CommandResult | None:
        raw = onboarding.current(state)
        if raw is None:
            if self.onboarding and (learner.is_new or self._needs_onboarding(learner, state)):
                raw = onboarding.begin(state, profiles.explanation_language(learner.native_language))
            elif reply_id and reply_id.startswith(onboarding.PREFIX):
                return self._stale_onboarding(learner, state)
            else:
                return None
        lang = self._language(learner, raw)
        step = str(raw["step"])
        leaving = said in LEAVE_COMMANDS and state.pending is None  # "salir": an open exercise goes first
        if not reply_id and (said in onboarding.SKIP_WORDS or leaving):
            return self._finish_onboarding(learner, state, lang, "")
        try:
            choice = onboarding.parse(step, text, reply_id)
        except onboarding.Stale:
            raw["misses"] = int(raw.get("misses", 0)) + 1
            return CommandResult(
                onboarding.again(step, lang, learner, state), state, f"onboarding.{step}.stale"
            )
        if choice is None and step == "language" and raw.get("prompted") and not reply_id:
            written = onboarding.written_language(text)
            choice = onboarding.Choice(step, written) if written else None
        if choice is not None:
            return self._onboarding_choice(learner, state, raw, choice)
        passthrough = bool(reply_id) or said in onboarding_passthrough() or state.pending is not None
        if passthrough:
            return None
        if not raw.get("prompted"):
            raw["prompted"] = True
            return CommandResult(onboarding.prompt(step, lang, learner), state, f"onboarding.{step}")
        if onboarding.free_message(text):
            return None  # written to the tutor, not a missed option: answered, and the step stays open
        if int(raw.get("misses", 0)) >= onboarding.MAX_MISSES:
            return None
        raw["misses"] = int(raw.get("misses", 0)) + 1
        return CommandResult(onboarding.again(step, lang, learner, state), state, f"onboarding.{step}.again")

    def _needs_onboarding(self, learner: Learner, state: ConversationState) -> bool:
        if state.extra.get(CHECKED_KEY):
            return False
        with self.pool.connection() as conn:
            done = profiles.is_onboarded(conn, learner.id)
        state.extra[CHECKED_KEY] = True
        return not done

    def _onboarding_choice(
        self, learner: Learner, state: ConversationState, raw: dict[str, Any], choice: onboarding.Choice
    ) -> CommandResult:
        raw["misses"] = 0
        lang = self._language(learner, raw)
        if choice.step == "level" and choice.value == "pick":
            return CommandResult(onboarding.level_list(lang), state, "onboarding.level.pick")
        if choice.step == "level" and choice.value == "test":
            reply = levels.start(state, lang, "onboarding", self.rng.randrange(1000))
            return CommandResult(reply, state, "onboarding.level.test")
        if choice.step == "level":
            levels.cancel(state)  # a level chosen outright ends a test in progress
        with self.pool.connection() as conn:
            line = onboarding.apply(conn, learner.id, choice, lang)
        if choice.step == "language":
            raw["lang"] = choice.value
        return self._advance(learner, state, raw, line)

    def _advance(
        self, learner: Learner, state: ConversationState, raw: dict[str, Any], line: str
    ) -> CommandResult:
        lang = self._language(learner, raw)
        following = onboarding.next_step(str(raw["step"]))
        if following is None:
            return self._finish_onboarding(learner, state, lang, line)
        raw.update(step=following, prompted=True, misses=0)
        return CommandResult(
            onboarding.prompt(following, lang, learner, lead=line), state, f"onboarding.{following}"
        )

    def _finish_onboarding(
        self, learner: Learner, state: ConversationState, lang: str, line: str
    ) -> CommandResult:
        with self.pool.connection() as conn:
            profiles.mark_onboarded(conn, learner.id)
        state.extra.pop(onboarding.KEY, None)
        levels.cancel(state)
        state.extra[CHECKED_KEY] = True
        logger.info("onboarding finished", extra={"learner_id": str(learner.id), "skipped": not line})
        return CommandResult(onboarding.finished(lang, line), state, "onboarding.done")

    def _stale_onboarding(self, learner: Learner, state: ConversationState) -> CommandResult:
        lang = profiles.explanation_language(learner.native_language)
        reply = Reply(
            tr(
                lang,
                "Ese botón es de la configuración inicial, que ya terminó. Escribe *perfil* para cambiar "
                "tus respuestas.",
                "That button belongs to the finished setup. Write *perfil* to change your answers.",
            ),
            buttons=(Button("cmd:profile", "Cambiar perfil"), Button("practice", "Practicar")),
        )
        return CommandResult(reply, state, "onboarding.stale")


def onboarding_passthrough() -> frozenset[str]:
    """Words the rest of the tutor answers even while onboarding is open (help, practice, plan...)."""
    from espaluz.whatsapp.consent import START_WORDS, STOP_WORDS

    return PASSTHROUGH | STOP_WORDS | START_WORDS


def build_commands(settings: Any, pool: ConnectionPool, redis_client: RedisClient) -> CommandCenter:
    """The command center the tutor processor runs before the orchestrator; onboarding follows the
    ``TUTOR_ONBOARDING`` setting."""
    queue_url = str(settings.queue_url or "")
    local_queue = (queue_url.removeprefix("local:") or "inbound") if queue_url.startswith("local:") else None
    return CommandCenter(
        pool, redis_client, onboarding=bool(settings.tutor_onboarding), local_queue=local_queue
    )
