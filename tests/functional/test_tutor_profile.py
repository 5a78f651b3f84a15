"""Scripted conversations for the placement test and the "perfil" command, through the CommandCenter (the
processor's entry point for commands) on real Postgres and Redis; every reply is rendered within
WhatsApp's limits.

What a learner should find: a test that opens with A1 and climbs, a result with its reason and what it
changes, a profile that is shown and edited one field at a time (onboarding never restarts), no
Portuguese anywhere, and every text in Spanish with an English gloss only for English speakers.
"""

from __future__ import annotations

import random
from dataclasses import replace

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from espaluz.spanish import placement
from espaluz.storage import learners
from espaluz.tutor.commands import CommandCenter, CommandResult
from espaluz.tutor.state import ConversationState, PendingDrill
from tests.functional.test_tutor_commands import (
    NOW,
    center,
    ids,
    learner,
    new_learner,
    pool,
    reload,
    rendered,
    roundtrip,
)

__all__ = ["center", "pool"]  # fixtures, used by name


def question_of(result: CommandResult) -> placement.Question:
    qid = result.reply.buttons[0].id.split(":")[1]
    return placement.QUESTIONS[qid]


def take_test(
    center: CommandCenter, who: learners.Learner, first: CommandResult, knows: int
) -> tuple[CommandResult, list[str]]:
    """Tap through the test as a learner who knows the levels up to index ``knows``; returns the
    result and the levels of the questions asked, in order."""
    result, asked = first, []
    while result.reply.buttons and result.reply.buttons[0].id.startswith("place:"):
        q = question_of(result)
        asked.append(q.level)
        assert f"({q.level}) {q.prompt}" in result.reply.text
        index = q.options.index(q.answer)
        if placement.LEVELS.index(q.level) > knows:
            index = (index + 1) % len(q.options)
        result = rendered(center.handle(who, "", f"place:{q.id}:{index}", roundtrip(result.state), now=NOW))
    return result, asked


# --- placement ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_placement_for_a_beginner_starts_with_a1_and_ends_low(pool: ConnectionPool, seed: int) -> None:
    """A beginner who knows nothing: the first question is A1 (never the subjunctive), the test ends
    after two misses at A1, the level written is A1 and the reply says why and what changes."""
    center = CommandCenter(pool, rng=random.Random(seed))
    ana = learner(pool, f"1555000020{seed}", level="B2")
    menu = rendered(center.handle(ana, "nivel", None, ConversationState(), now=NOW))
    assert "level:test" in ids(menu.reply)
    first = rendered(center.handle(ana, "", "level:test", roundtrip(menu.state), now=NOW))
    assert question_of(first).level == "A1"
    assert "Empiezan fáciles y suben si aciertas" in first.reply.text
    done, asked = take_test(center, ana, first, knows=-1)
    assert asked == ["A1", "A1"]
    assert done.route == "command.level.placed"
    assert reload(pool, ana.id).level == "A1"
    text = done.reply.text
    assert "Resultado del test: nivel *A1 (Principiante)*" in text
    assert "Fallaste dos preguntas de nivel A1, así que empezamos por lo básico." in text
    assert "A partir de ahora, los ejercicios serán de nivel *A1 (Principiante)*." in text
    assert "_" not in text  # a Spanish speaker gets no English gloss


def test_placement_for_a_learner_who_knows_a1_ends_at_a1_after_an_a2_ceiling(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """A learner sure of A1 and lost at A2: up, down, up again, then stop; the reason names both levels."""
    ana = learner(pool, "15550000210", language="en", level="C1")
    first = rendered(center.handle(ana, "", "level:test", ConversationState(), now=NOW))
    done, asked = take_test(center, ana, first, knows=0)
    assert asked == ["A1", "A2", "A1", "A2"]
    assert reload(pool, ana.id).level == "A1"
    assert "Acertaste en el nivel A1, pero fallaste dos preguntas de nivel A2." in done.reply.text
    assert "_Test result: level A1 (Beginner)." in done.reply.text
    assert "From now on, your exercises will be at level A1 (Beginner)." in done.reply.text


@pytest.mark.parametrize(("knows", "level"), [(3, "B2"), (4, "C1")])
def test_placement_for_an_advanced_learner_climbs_to_their_level(
    center: CommandCenter, pool: ConnectionPool, knows: int, level: str
) -> None:
    """An advanced learner climbs one level per right answer from A1, within the question limit, and
    the level written to the learner row is the one the drills will use."""
    ana = learner(pool, f"1555000022{knows}", level="A1")
    first = rendered(center.handle(ana, "", "level:test", ConversationState(), now=NOW))
    done, asked = take_test(center, ana, first, knows=knows)
    assert asked[: knows + 1] == list(placement.LEVELS[: knows + 1])
    assert len(asked) <= placement.MAX_QUESTIONS
    assert reload(pool, ana.id).level == level
    assert f"A partir de ahora, los ejercicios serán de nivel *{level} (" in done.reply.text
    assert "placement" not in done.state.extra
    assert ids(done.reply) == ["cmd:profile", "practice"]


def test_placement_inside_onboarding_starts_easy_and_moves_on(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers the test chosen at onboarding: A1 first; "saltar" mid-test leaves the test, not the whole
    setup: the level stays and the next step (the variety) is asked."""
    ana = new_learner(pool, "15550000230")
    first = rendered(center.handle(ana, "hello", None, ConversationState(), now=NOW))
    ana = replace(ana, is_new=False)
    level = rendered(center.handle(ana, "", "onb:lang:en", roundtrip(first.state), now=NOW))
    test = rendered(center.handle(ana, "", "onb:level:test", roundtrip(level.state), now=NOW))
    assert question_of(test).level == "A1"
    q = question_of(test)
    step = rendered(center.handle(ana, q.answer, None, roundtrip(test.state), now=NOW))  # typed
    assert question_of(step).level == "A2"
    skipped = rendered(center.handle(ana, "saltar", None, roundtrip(step.state), now=NOW))
    assert skipped.route == "onboarding.dialect"
    assert "Test cancelado: tu nivel sigue siendo *A1 (Principiante)*." in skipped.reply.text
    assert "_Test cancelled: your level stays A1 (Beginner)._" in skipped.reply.text
    profile = reload(pool, ana.id)
    assert profile.level == "A1"
    assert profile.onboarded_at is None  # setup goes on


def test_level_change_says_what_changes_and_drops_the_old_drill(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers "nivel B1" typed (the learner row changes, the open drill of the old level is dropped) and
    the same level chosen again (said plainly: nothing changes)."""
    ana = learner(pool, "15550000240", level="A2")
    state = ConversationState(pending=PendingDrill("ser", "indicative.present", "1s", ["soy"], "¿?"))
    changed = rendered(center.handle(ana, "nivel B1", None, state, now=NOW))
    assert changed.route == "command.level.set"
    assert reload(pool, ana.id).level == "B1"
    assert changed.state.pending is None
    assert changed.reply.text == "✅ A partir de ahora, los ejercicios serán de nivel *B1 (Intermedio)*."
    same = rendered(center.handle(ana, "", "level:set:B1", ConversationState(), now=NOW))
    assert same.route == "command.level.same"
    assert "Ya estás en el nivel *B1 (Intermedio)*" in same.reply.text
    assert reload(pool, ana.id).level == "B1"


# --- perfil ------------------------------------------------------------------------------------------


def onboarded(pool: ConnectionPool, wa_id: str, *, language: str, dialect: str = "mx") -> learners.Learner:
    who = learner(pool, wa_id, language=language, level="A2")
    with pool.connection() as conn:
        conn.execute(
            "UPDATE learners SET dialect = %s, goals = %s, reminders_consent = true WHERE id = %s",
            (dialect, ["travel"], who.id),
        )
        found = learners.get(conn, who.id)
    assert found is not None
    return found


def onboarded_at(pool: ConnectionPool, who: learners.Learner) -> object:
    return reload(pool, who.id).onboarded_at


@pytest.mark.parametrize("words", ["perfil", "Mi perfil", "profile", "", "setup"])
def test_perfil_shows_the_profile_and_never_restarts_onboarding(
    center: CommandCenter, pool: ConnectionPool, words: str
) -> None:
    """Covers the command words and its button: the profile is shown with a list of one-field edits; no
    onboarding question is asked and onboarded_at is untouched."""
    ana = onboarded(pool, "15550000300", language="es")
    before = onboarded_at(pool, ana)
    reply_id = None if words else "cmd:profile"
    shown = rendered(center.handle(ana, words, reply_id, ConversationState(), now=NOW))
    assert shown.route == "command.profile"
    text = shown.reply.text
    for line in (
        "• Nombre: Ana",
        "• Nivel: *A2 (Elemental)*",
        "• Variante: *México*",
        "• Explicaciones: *en español*",
        "• Objetivo: *Viajar*",
        "• Recordatorios: *sí*, a las 19:00 (hora de Nueva York)",
        "• Zona horaria: *Nueva York*",
    ):
        assert line in text
    assert "_" not in text
    fields = ("level", "test", "dialect", "lang", "goal", "remind", "hour", "zone")
    assert ids(shown.reply) == [f"prof:{f}" for f in fields]
    titles = [r.title for r in shown.reply.rows]
    assert {"Cambiar nivel", "Cambiar variante", "Cambiar idioma", "Recordatorios"} <= set(titles)
    assert "onboarding" not in shown.state.extra
    assert onboarded_at(pool, ana) == before


def test_perfil_edits_the_level(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers "Cambiar nivel" → the level list → a level: written, and said what it changes."""
    ana = onboarded(pool, "15550000310", language="en")
    shown = rendered(center.handle(ana, "perfil", None, ConversationState(), now=NOW))
    menu = rendered(center.handle(ana, "Cambiar nivel", "prof:level", roundtrip(shown.state), now=NOW))
    assert menu.route == "command.profile.level"
    assert "level:set:B1" in ids(menu.reply)
    assert "Tu nivel es *A2 (Elemental)*" in menu.reply.text
    done = rendered(center.handle(ana, "B1 · Intermedio", "level:set:B1", roundtrip(menu.state), now=NOW))
    assert reload(pool, ana.id).level == "B1"
    assert "A partir de ahora, los ejercicios serán de nivel *B1 (Intermedio)*." in done.reply.text
    assert "_From now on, your exercises will be at level B1 (Intermediate)._" in done.reply.text
    test = rendered(center.handle(ana, "", "prof:test", roundtrip(done.state), now=NOW))
    assert question_of(test).level == "A1"


def test_perfil_edits_the_variety_by_list_and_typed(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers the list, a typed "variante España", an unknown variety and a forged id (nothing written)."""
    ana = onboarded(pool, "15550000320", language="es")
    ask = rendered(center.handle(ana, "", "prof:dialect", ConversationState(), now=NOW))
    assert ask.route == "command.profile.dialect"
    assert "Tu variante es *México*" in ask.reply.text
    assert "prof:dialect:ar" in ids(ask.reply)
    chosen = rendered(center.handle(ana, "Argentina", "prof:dialect:ar", roundtrip(ask.state), now=NOW))
    assert chosen.route == "command.profile.dialect.set"
    assert reload(pool, ana.id).dialect == "ar"
    assert "✅ Variante cambiada: el español de Argentina." in chosen.reply.text
    typed = rendered(center.handle(ana, "variante España", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).dialect == "es"
    assert "el español de España" in typed.reply.text
    unknown = rendered(center.handle(ana, "variante Narnia", None, ConversationState(), now=NOW))
    assert unknown.route == "command.profile.dialect.unknown"
    assert "No conozco esa variante" in unknown.reply.text
    assert "prof:dialect:es" in ids(unknown.reply)
    forged = rendered(center.handle(ana, "", "prof:dialect:zz", ConversationState(), now=NOW))
    assert forged.route == "command.profile.invalid"
    assert reload(pool, ana.id).dialect == "es"


def test_perfil_edits_the_language_and_offers_no_portuguese(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers the language buttons (Spanish and English only), a typed "idioma inglés" / "language
    spanish", Portuguese asked for by text or by a forged id (refused, nothing written), and the
    confirmation written in the new language."""
    ana = onboarded(pool, "15550000330", language="es")
    ask = rendered(center.handle(ana, "cambiar idioma", None, ConversationState(), now=NOW))
    assert ask.route == "command.profile.lang"
    assert ids(ask.reply) == ["prof:lang:en", "prof:lang:es"]
    english = rendered(center.handle(ana, "idioma inglés", None, ConversationState(), now=NOW))
    assert english.route == "command.profile.lang.set"
    assert reload(pool, ana.id).native_language == "en"
    assert "_Explanations in English" in english.reply.text
    ana = replace(ana, native_language="en")
    shown = rendered(center.handle(ana, "perfil", None, ConversationState(), now=NOW))
    assert "• Explicaciones: *en inglés* _(explanations in English)_" in shown.reply.text
    portuguese = rendered(center.handle(ana, "language portuguese", None, ConversationState(), now=NOW))
    assert "Todavía no explico en portugués" in portuguese.reply.text
    assert ids(portuguese.reply) == ["prof:lang:en", "prof:lang:es"]
    forged = rendered(center.handle(ana, "", "prof:lang:pt", ConversationState(), now=NOW))
    assert forged.route == "command.profile.invalid"
    assert reload(pool, ana.id).native_language == "en"
    spanish = rendered(center.handle(ana, "language spanish", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).native_language == "es"
    assert spanish.reply.text == "✅ Explicaciones en *español*: los mensajes irán solo en español."


def test_perfil_edits_reminders_and_goal(center: CommandCenter, pool: ConnectionPool) -> None:
    ana = onboarded(pool, "15550000340", language="es")
    ask = rendered(center.handle(ana, "", "prof:remind", ConversationState(), now=NOW))
    assert ids(ask.reply) == ["prof:remind:yes", "prof:remind:no"]
    assert "Ahora: *sí*" in ask.reply.text
    off = rendered(center.handle(ana, "", "prof:remind:no", roundtrip(ask.state), now=NOW))
    assert reload(pool, ana.id).reminders_consent is False
    assert "✅ Anotado: sin recordatorios." in off.reply.text
    rendered(center.handle(ana, "recordatorios sí", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).reminders_consent is True
    goal = rendered(center.handle(ana, "objetivo trabajo", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).goals == ("work",)
    assert "✅ Objetivo cambiado: *Trabajo*." in goal.reply.text


def test_perfil_during_onboarding_keeps_the_open_step(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers a new learner who types "perfil" mid-setup: the profile is shown, the setup is not reset,
    and the open step still takes its answer."""
    ana = new_learner(pool, "15550000350")
    first = rendered(center.handle(ana, "hola", None, ConversationState(), now=NOW))
    ana = replace(ana, is_new=False)
    level = rendered(center.handle(ana, "", "onb:lang:es", roundtrip(first.state), now=NOW))
    shown = rendered(center.handle(ana, "perfil", None, roundtrip(level.state), now=NOW))
    assert shown.route == "command.profile"
    assert shown.state.extra["onboarding"]["step"] == "level"
    dialect = rendered(center.handle(ana, "", "onb:level:B1", roundtrip(shown.state), now=NOW))
    assert dialect.route == "onboarding.dialect"
    assert "✅ A partir de ahora, los ejercicios serán de nivel *B1 (Intermedio)*." in dialect.reply.text


def test_a_learner_stored_with_portuguese_reads_english(
    center: CommandCenter, pool: ConnectionPool, database_url: str
) -> None:
    """Covers learners who chose Portuguese before it was removed: every command explains in English
    (the only gloss language written), and the profile shows English, never a Portuguese option."""
    ana = learner(pool, "15550000360", language="es")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE learners SET native_language = 'pt' WHERE id = %s", (ana.id,))
    ana = replace(ana, native_language="pt")
    shown = rendered(center.handle(ana, "perfil", None, ConversationState(), now=NOW))
    assert "*en inglés* _(explanations in English)_" in shown.reply.text
    changed = rendered(center.handle(ana, "nivel B2", None, ConversationState(), now=NOW))
    assert "_From now on, your exercises will be at level B2 (Upper intermediate)._" in changed.reply.text
    ask = rendered(center.handle(ana, "idioma", None, ConversationState(), now=NOW))
    assert ids(ask.reply) == ["prof:lang:en", "prof:lang:es"]
    assert "Ahora te explico en *inglés*" in ask.reply.text
    pronounce = rendered(center.handle(ana, "pronunciar", None, ConversationState(), now=NOW))
    assert "_Send a voice note" in pronounce.reply.text  # commands of other modules read English too


def test_onboarding_offers_no_portuguese_and_refuses_it_typed(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers a typed "português" at the language step: asked again, nothing written."""
    ana = new_learner(pool, "15550000370")
    first = rendered(center.handle(ana, "olá", None, ConversationState(), now=NOW))
    assert ids(first.reply) == ["onb:lang:en", "onb:lang:es"]
    assert "Português" not in first.reply.text
    ana = replace(ana, is_new=False)
    again = rendered(center.handle(ana, "português", None, roundtrip(first.state), now=NOW))
    assert again.route == "onboarding.language.again"
    assert reload(pool, ana.id).native_language == "en"  # the column's default, untouched


@pytest.mark.parametrize("language", ["es", "en"])
def test_onboarding_confirmations_in_both_languages(
    center: CommandCenter, pool: ConnectionPool, language: str
) -> None:
    """Every confirmation is Spanish; English speakers also get the English gloss, Spanish speakers
    never do."""
    ana = new_learner(pool, "155500003801" if language == "es" else "155500003802")
    first = rendered(center.handle(ana, "hola", None, ConversationState(), now=NOW))
    ana = replace(ana, is_new=False)
    level = rendered(center.handle(ana, "", f"onb:lang:{language}", roundtrip(first.state), now=NOW))
    dialect = rendered(center.handle(ana, "", "onb:level:A2", roundtrip(level.state), now=NOW))
    goals = rendered(center.handle(ana, "", "onb:dialect:es", roundtrip(dialect.state), now=NOW))
    reminders = rendered(center.handle(ana, "", "onb:goal:work", roundtrip(goals.state), now=NOW))
    done = rendered(center.handle(ana, "", "onb:remind:no", roundtrip(reminders.state), now=NOW))
    lines = {
        "level": (dialect.reply.text, "nivel *A2 (Elemental)*", "_From now on, your exercises"),
        "dialect": (goals.reply.text, "✅ Variante: *España*.", "_Variety: España._"),
        "goal": (reminders.reply.text, "✅ Objetivo: *Trabajo*.", "_Goal: Work and career._"),
        "remind": (done.reply.text, "✅ Anotado: sin recordatorios.", "_Noted: no reminders._"),
    }
    for text, es, en in lines.values():
        assert es in text
        assert (en in text) == (language == "en")
