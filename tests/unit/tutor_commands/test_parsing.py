"""Pure parts of the chat commands: matching typed words and ids, the deletion token, streaks, verbs,
state compatibility, and every prompt within WhatsApp's limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from espaluz.storage.learners import Learner
from espaluz.tutor.commands import onboarding, privacy, profile_menu
from espaluz.tutor.commands.center import CommandCenter
from espaluz.tutor.commands.level import level_menu, level_rows, parse_level
from espaluz.tutor.commands.profile import (
    GOALS,
    LANGUAGES,
    Profile,
    dialect_of_words,
    engine_dialect,
    explanation_language,
)
from espaluz.tutor.commands.progress import skill_label, streak, verb_of
from espaluz.tutor.commands.texts import fold
from espaluz.tutor.state import ConversationState

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ANA = Learner(uuid4(), "15550001111", None, "Ana", "1", "A1", "latam", "en", "free", "none")


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("Progreso", "progress"),
        ("¿progreso?", "progress"),
        ("  MY   progress!! ", "progress"),
        ("estadísticas", "progress"),
        ("Nivel", "level"),
        ("level", "level"),
        ("pronunciación", "pronounce"),
        ("Pronounce", "pronounce"),
        ("Borrar mis datos", "delete"),
        ("delete my data", "delete"),
        ("EXPORTAR", "export"),
        ("export my data", "export"),
        ("perfil", "profile"),
        ("setup", "profile"),
        ("Mi perfil", "profile"),
        ("idioma", "profile"),
        ("cambiar variante", "profile"),
        ("Recordatorios", "profile"),
    ],
)
def test_command_words_in_both_languages(typed: str, command: str) -> None:
    """Covers case, accents, inner spaces and punctuation around a whole-message command."""
    assert CommandCenter._command(fold(typed), None)[0] == command


@pytest.mark.parametrize(
    "typed", ["progreso semanal por favor", "quiero borrar la pizarra", "nivel de vida", "exportaciones", ""]
)
def test_commands_must_be_the_whole_message(typed: str) -> None:
    """Covers sentences that merely contain a command word: they are conversation, not commands."""
    assert CommandCenter._command(fold(typed), None)[0] is None


@pytest.mark.parametrize(
    ("reply_id", "command"),
    [
        ("cmd:progress", "progress"),
        ("cmd:nope", None),
        ("cmd:", None),
        ("level:set:B1", "level"),
        ("x", None),
    ],
)
def test_command_ids(reply_id: str, command: str | None) -> None:
    """Covers unknown ``cmd:`` ids and junk ids: not commands (they fall through to the tutor)."""
    assert CommandCenter._command("", reply_id)[0] == command


def test_typed_level_change_and_pronunciation_word() -> None:
    """Covers "nivel b1"-style shortcuts and an invalid level name."""
    assert CommandCenter._command(fold("Nivel B1"), None) == ("level", "level:set:B1")
    assert CommandCenter._command(fold("change level c1"), None) == ("level", "level:set:C1")
    assert CommandCenter._command(fold("nivel z9"), None)[0] is None
    assert CommandCenter._command(fold("pronunciar perro"), None) == ("pronounce", "perro")
    assert parse_level("b2") == "B2"
    assert parse_level("b3") is None


def test_onboarding_parse_refuses_ids_of_other_steps_and_unknown_values() -> None:
    """Covers stale ids (another step), unknown values and empty ids; ids of other features are ignored."""
    assert onboarding.parse("dialect", "", "onb:dialect:co") == onboarding.Choice("dialect", "co")
    for bad in ("onb:dialect:zz", "onb:lang:en", "onb:", "onb:dialect:"):
        with pytest.raises(onboarding.Stale):
            onboarding.parse("dialect", "", bad)
    assert onboarding.parse("dialect", "", "practice") is None
    assert onboarding.parse("dialect", "España", None) == onboarding.Choice("dialect", "es")
    assert onboarding.parse("dialect", "Caribe", None) == onboarding.Choice("dialect", "caribe")
    assert onboarding.parse("goals", "Work and career", None) == onboarding.Choice("goals", "work")
    assert onboarding.parse("reminders", "Sí", None) == onboarding.Choice("reminders", "yes")
    assert onboarding.parse("reminders", "quizás", None) is None
    assert onboarding.parse("language", "", None) is None


def test_confirmation_token_is_one_time_and_expires() -> None:
    """Covers a forged token, a replayed one, an expired one and a corrupted state entry."""
    state = ConversationState()
    reply = privacy.ask_confirmation(ANA, state, NOW)
    good = reply.buttons[0].id
    assert not privacy.confirm(state, good + "x", NOW)
    assert not privacy.confirm(state, good, NOW)  # consumed by the forged attempt
    privacy.ask_confirmation(ANA, state, NOW)
    token = state.extra[privacy.CONFIRM_KEY]["token"]
    assert not privacy.confirm(state, f"del:yes:{token}", NOW + timedelta(minutes=10, seconds=1))
    privacy.ask_confirmation(ANA, state, NOW)
    token = state.extra[privacy.CONFIRM_KEY]["token"]
    assert privacy.confirm(state, f"del:yes:{token}", NOW + timedelta(minutes=10))
    assert not privacy.confirm(state, f"del:yes:{token}", NOW)  # replay
    state.extra[privacy.CONFIRM_KEY] = {"token": "", "expires_at": "soon"}
    assert not privacy.confirm(state, "del:yes:", NOW)
    state.extra[privacy.CONFIRM_KEY] = "garbage"
    assert not privacy.confirm(state, "del:yes:garbage", NOW)


def test_streak_counts_consecutive_days_ending_today_or_yesterday() -> None:
    """Covers a gap, a streak that has not been extended yet today, and no activity."""
    today = date(2026, 11, 20)
    day = timedelta(days=1)
    assert streak({today, today - day, today - 2 * day, today - 4 * day}, today) == 3
    assert streak({today - day, today - 2 * day}, today) == 2
    assert streak({today - 2 * day}, today) == 0
    assert streak(set(), today) == 0


def test_verbs_behind_forms() -> None:
    """Covers an ambiguous form (fui: ser or ir) and a form that is no verb."""
    assert verb_of("¿Cómo se conjuga *ir* en pretérito?", "fui") == "ir"
    assert verb_of("¿Cómo se conjuga *ser* en pretérito?", "fui") == "ser"
    assert verb_of("Ayer yo ___ (tener) que trabajar.", "tuve") == "tener"
    assert verb_of("", "xyzzy") is None
    assert skill_label("conjugation:indicative.present") == "presente"
    assert skill_label("pron:r") == "sonido [r]"
    assert skill_label("por_para") == "por para"


def test_state_json_stays_backwards_compatible() -> None:
    """Covers a state saved before ``pending_pronunciation`` existed, and the round trip of the new field."""
    old = json.dumps({"pending": None, "turns": 4, "correct_streak": 1, "extra": {"a": 1}})
    loaded = ConversationState.from_json(old)
    assert loaded.pending_pronunciation is None
    assert loaded.turns == 4
    loaded.pending_pronunciation = "pero, perro"
    assert ConversationState.from_json(loaded.to_json()).pending_pronunciation == "pero, perro"


def test_dialects_map_to_the_engine() -> None:
    """Covers unknown and empty dialect codes: they fall back to Latin American Spanish."""
    assert engine_dialect("es") == "spain"
    assert engine_dialect("ar") == "rioplatense"
    assert engine_dialect("co") == "latam"
    assert engine_dialect("") == "latam"
    assert engine_dialect("klingon") == "latam"


@pytest.mark.parametrize(
    ("typed", "argument"),
    [
        ("idioma inglés", "prof:lang:en"),
        ("Language English", "prof:lang:en"),
        ("cambiar idioma a español", "prof:lang:es"),
        ("explicaciones en inglés", "prof:lang:en"),
        ("idioma portugués", "prof?lang:pt"),
        ("idioma francés", "prof?lang"),
        ("variante España", "prof:dialect:es"),
        ("variante de México", "prof:dialect:mx"),
        ("dialect spain", "prof:dialect:es"),
        ("variante Argentina", "prof:dialect:ar"),
        ("variante Latinoamérica general", "prof:dialect:latam"),
        ("variante klingon", "prof?dialect"),
        ("recordatorios no", "prof:remind:no"),
        ("reminders on", "prof:remind:yes"),
        ("recordatorios quizás", "prof?remind"),
        ("objetivo viajar", "prof:goal:travel"),
        ("goal work and career", "prof:goal:work"),
        ("idioma", "prof:lang"),
        ("change language", "prof:lang"),
        ("variante", "prof:dialect"),
    ],
)
def test_typed_profile_shortcuts(typed: str, argument: str) -> None:
    """Covers both languages, prepositions, accents, Portuguese (not offered) and unknown values."""
    assert CommandCenter._command(fold(typed), None) == ("profile", argument)


@pytest.mark.parametrize(
    "typed",
    ["el idioma es difícil", "mi variante favorita es la de Cuba y la de Chile, ¿y la tuya?", "idiomas"],
)
def test_sentences_about_languages_are_not_profile_commands(typed: str) -> None:
    """Covers conversation that mentions the words: only whole shortcuts are commands."""
    command = CommandCenter._command(fold(typed), None)
    assert command[0] != "profile" or command[1].startswith("prof?")


def test_profile_ids_are_validated() -> None:
    """Covers forged ids: unknown fields, values we never offer (Portuguese), empty parts."""
    assert profile_menu.parse_id("prof:lang:en") == ("lang", "en")
    assert profile_menu.parse_id("prof:dialect") == ("dialect", None)
    for bad in ("prof:lang:pt", "prof:dialect:zz", "prof:nope", "prof:", "prof:remind:maybe"):
        assert profile_menu.parse_id(bad) is None


def test_portuguese_is_not_offered_and_reads_as_english() -> None:
    """Covers learners stored with "pt" (or anything unknown): explained to in English."""
    assert set(LANGUAGES) == {"en", "es"}
    assert explanation_language("pt") == "en"
    assert explanation_language("") == "en"
    assert explanation_language(None) == "en"
    assert explanation_language("es") == "es"
    assert onboarding.parse("language", "Português", None) is None
    assert onboarding.parse("language", "inglés", None) == onboarding.Choice("language", "en")
    assert dialect_of_words("República Dominicana") == "caribe"
    assert dialect_of_words("Narnia") is None


@pytest.mark.parametrize("language", ["en", "es", "pt"])
def test_every_prompt_fits_whatsapp_limits(language: str) -> None:
    """Covers an absurdly long profile name and every step and language (a stored "pt" too): no message
    breaks a limit."""
    long_name = replace(ANA, display_name="X" * 2000, native_language=language)
    profile = Profile("C1", "caribe", language, tuple(GOALS), True, NOW, NOW)
    profile_menu.show(long_name, profile, lead="✅ " + "y" * 300).payload()
    for field in ("dialect", "lang", "goal", "remind"):
        profile_menu.ask(field, profile, lead="✅ " + "y" * 300).payload()
    state = ConversationState()
    for step in onboarding.STEPS:
        onboarding.prompt(step, language, long_name, lead="✅ " + "y" * 100).payload()
        onboarding.again(step, language, long_name, state).payload()
    onboarding.level_list(language).payload()
    onboarding.finished(language, "✅ listo").payload()
    level_menu(language, "B2").payload()
    privacy.ask_confirmation(replace(long_name, plan_status="active"), state, NOW).payload()
    assert all(len(r.title) <= 24 for r in level_rows("level:set:", "level:test"))
