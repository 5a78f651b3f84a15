"""The rule-and-engine layer of the tutor: greetings, help, conjugation questions and their checks."""

from __future__ import annotations

import random
import uuid

from espaluz.spanish.conjugation import PERSON_PRONOUNS, conjugate
from espaluz.storage.learners import Learner
from espaluz.tutor.orchestrator import respond
from espaluz.tutor.state import ConversationState, PendingDrill


def learner(is_new: bool = False) -> Learner:
    return Learner(
        uuid.uuid4(), "1555", None, "Ana María", "1", "A1", "latam", "en", "free", "none", is_new=is_new
    )


def test_new_learner_is_greeted_by_first_name() -> None:
    out = respond(learner(is_new=True), "buenas", None, ConversationState(), random.Random(1))
    assert out.route == "greeting"
    assert out.reply.text.startswith("¡Hola, Ana!")
    assert [b.id for b in out.reply.buttons] == ["practice", "help"]


def test_practice_asks_a_question_whose_answer_is_the_engine_form() -> None:
    for seed in range(30):
        out = respond(learner(), "practicar", None, ConversationState(), random.Random(seed))
        pending = out.state.pending
        assert pending is not None
        forms = conjugate(pending.verb)["forms"][pending.tense][pending.person]
        assert pending.expected == ([forms] if isinstance(forms, str) else list(forms))
        assert f"*{pending.verb}*" in out.reply.text
        assert PERSON_PRONOUNS[pending.person] in out.reply.text


def _pending(expected: str) -> ConversationState:
    return ConversationState(pending=PendingDrill("enviar", "indicative.present", "1s", [expected], "p"))


def test_answer_right_accent_missing_and_wrong() -> None:
    rng = random.Random(0)
    right = respond(learner(), "yo envío", None, _pending("envío"), rng)
    assert right.attempts[0].verdict == "correct"
    accent = respond(learner(), "envio", None, _pending("envío"), rng)
    assert accent.attempts[0].verdict == "accent"
    assert "*envío*" in accent.reply.text
    wrong = respond(learner(), "enviamos", None, _pending("envío"), rng)
    assert wrong.attempts[0].verdict == "wrong"
    assert wrong.state.correct_streak == 0
    # After each answer the next question is already pending.
    assert wrong.state.pending is not None


def test_n_with_tilde_is_not_an_accent_slip() -> None:
    out = respond(learner(), "sueno", None, _pending("sueño"), random.Random(0))
    assert out.attempts[0].verdict == "wrong"


def test_help_says_what_a_key_would_add_only_without_one() -> None:
    without = respond(learner(), "ayuda", None, ConversationState(), random.Random(0))
    with_key = respond(learner(), "help", None, ConversationState(), random.Random(0), llm_available=True)
    assert "GROQ_API_KEY" in without.reply.text
    assert "GROQ_API_KEY" not in with_key.reply.text


def test_button_reply_id_wins_over_text() -> None:
    out = respond(learner(), "Ayuda", "practice", ConversationState(), random.Random(0))
    assert out.route == "engine.ask"


def test_question_formatting_is_balanced_for_whatsapp() -> None:
    """WhatsApp's *bold* and _italic_ need their markers in pairs, or the raw symbols show."""
    for seed in range(20):
        text = respond(learner(), "practicar", None, ConversationState(), random.Random(seed)).reply.text
        assert text.count("*") % 2 == 0
        assert text.replace("____", "").count("_") % 2 == 0
