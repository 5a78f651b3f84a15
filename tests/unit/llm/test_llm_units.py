"""Pure parts of the LLM layer: prices, parsing, settings, the engine fallbacks and the country table."""

from __future__ import annotations

import json
import random

import pytest

from espaluz.config import Settings
from espaluz.llm.cache import slug
from espaluz.llm.chain import LLM, OutputRejected
from espaluz.llm.guard import CANARY
from espaluz.llm.types import Deadline
from espaluz.llm.usage import cost_usd
from espaluz.spanish.drills import drill_by_id
from espaluz.tutor.agents import culture, exercises, intent
from espaluz.tutor.agents.base import Profile, parser
from espaluz.tutor.agents.conversation import ConversationReply
from espaluz.tutor.agents.grammar import engine_note

PRICES = {"m1": {"in": 1.0, "out": 2.0, "cache_read": 0.1}, "m2": {"in": 3.0, "out": 15.0}}


def test_cost_per_million_with_cache_prices() -> None:
    """Wrong maths would misreport costs: cache reads at their own price, writes default to input price."""
    assert cost_usd(PRICES, "m1", 1_000_000, 500_000) == pytest.approx(2.0)
    assert cost_usd(PRICES, "m1", 0, 0, cache_read=1_000_000) == pytest.approx(0.1)
    assert cost_usd(PRICES, "m2", 0, 0, cache_write=1_000_000) == pytest.approx(3.0)
    assert cost_usd(PRICES, "unknown", 10, 10) is None


def test_price_table_comes_from_json_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad config covered: the env value is JSON and must become a nested dict, not a string."""
    monkeypatch.setenv("LLM_PRICES", json.dumps({"x": {"in": 0.5, "out": 1}}))
    monkeypatch.setenv("LLM_TURN_DEADLINE_SECONDS", "3.5")
    settings = Settings()
    assert settings.llm_prices == {"x": {"in": 0.5, "out": 1.0}}
    assert settings.llm_turn_deadline_seconds == 3.5


def test_parser_accepts_fenced_json_and_rejects_garbage() -> None:
    """Malformed model output: prose, wrong types, fenced JSON, a leak inside a valid object."""
    parse = parser(ConversationReply, "system text", shown=("reply",), spanish=("reply",))
    fenced = '```json\n{"reply": "¡Hola! ¿Qué tal estás hoy?", "correction": null}\n```'
    assert parse(fenced).reply == "¡Hola! ¿Qué tal estás hoy?"
    for bad in ("no json here", '{"reply": 3}', '{"correction": "x"}', '{"reply": ""}'):
        with pytest.raises(OutputRejected) as err:
            parse(bad)
        assert err.value.outcome == "bad_output"
    with pytest.raises(OutputRejected) as err:
        parse(json.dumps({"reply": f"Vale {CANARY}"}))
    assert err.value.outcome == "rejected"


def test_no_keys_means_no_providers_and_named_missing_keys() -> None:
    """Missing config: the layer must know it has no provider and which keys would add one."""
    llm = LLM.from_settings(Settings(groq_api_key="", anthropic_api_key=""))
    assert llm.available == frozenset()
    assert llm.missing_keys() == ["GROQ_API_KEY", "ANTHROPIC_API_KEY"]


def test_deadline_within_never_exceeds_what_is_left() -> None:
    deadline = Deadline(0.5)
    assert deadline.within(10.0) <= 0.5
    assert Deadline(-1).expired()
    assert Deadline(-1).remaining() == 0.0


def test_intent_heuristic() -> None:
    """Without Groq the heuristic must still route the obvious cases."""
    assert intent.engine_intent("¿Me das un ejercicio?").intent == "exercise_request"
    assert intent.engine_intent("¿Qué comida típica hay en Colombia?").intent == "culture_question"
    assert intent.engine_intent("¿Por qué se dice 'estoy' y no 'soy'?").intent == "grammar_question"
    assert intent.engine_intent("Ayer fui a la playa con mi hermana").intent == "conversation"


def test_country_table_covers_the_dialects() -> None:
    """Every dialect setting maps to a country with real content; unknown ones fall back to Mexico."""
    for code in ("mx", "co", "ar", "es", "pa", "caribe"):
        country = culture.COUNTRIES[code]
        assert len(country.expressions) >= 2
        assert country.note
        assert country.food
    assert culture.country_for("rioplatense").name == "Argentina"
    assert culture.country_for("spain").code == "es"
    assert culture.country_for("klingon").code == "mx"
    assert "Argentina" in culture.engine_note(Profile("A2", "rioplatense", "en")).note


def test_exercise_engine_first_at_the_learners_level() -> None:
    """The engine drill is checkable: its id resolves and its level is not above the learner's."""
    rng = random.Random(3)
    drill = exercises.next_drill(Profile("A1", "latam", "en"), rng, "ser_estar")
    assert drill.skill == "ser_estar"
    assert drill.level == "A1"
    assert drill_by_id(exercises.drill_exercise(drill).drill_id or "") == drill


def test_grammar_engine_note_uses_engine_corrections() -> None:
    """The engine's answer: the corrected sentence for a text, the authored note (in the learner's
    language, Spanish examples) for a topic."""
    note = engine_note("yo es estudiante", "general", Profile())
    assert note.correction == "yo soy estudiante"
    spanish = engine_note("", "ser_estar", Profile(native_language="es"))
    assert "*ser* para identidad" in spanish.explanation
    assert spanish.examples
    english = engine_note("", "ser_estar", Profile(native_language="en"))
    assert "*ser* for identity" in english.explanation
    assert english.examples == spanish.examples


def test_slug_makes_cache_keys_safe() -> None:
    assert slug("Ser / Estar ¡ya!") == "ser_estar_ya"
    assert slug("") == "general"


def test_collect_maps_failed_and_late_jobs_to_none() -> None:
    """A job that raises or misses the deadline gives None (the brain then answers from the engine)
    instead of an exception or an endless wait."""
    import threading

    from espaluz.llm.chain import collect, submit

    release = threading.Event()

    def boom() -> int:
        raise RuntimeError("bug")

    def slow() -> int:
        release.wait(5)
        return 2

    futures = submit({"ok": lambda: 1, "boom": boom, "slow": slow})
    try:
        assert collect(futures, Deadline(0.05)) == {"ok": 1, "boom": None, "slow": None}
    finally:
        release.set()
    assert futures["slow"].result(timeout=5) == 2  # still the caller's to pick up


def test_unknown_intent_from_a_caller_is_treated_as_conversation() -> None:
    """Bad input from the orchestrator: an intent the brain does not know routes to conversation (engine
    here: no keys), never to an arbitrary agent."""
    import uuid
    from typing import cast

    from espaluz.storage.learners import Learner
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.state import ConversationState

    brain = TutorBrain(LLM())
    someone = Learner(uuid.uuid4(), "1", None, "", "", "A1", "latam", "en", "free", "none")
    answer = brain.answer(someone, ConversationState(), "hola", intent_name=cast("intent.Intent", "help"))
    assert (answer.intent, answer.route, answer.source) == ("conversation", "llm.conversation", "engine")
    assert answer.drill is None
