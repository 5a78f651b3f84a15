"""The tutor brain as a newcomer meets it: no provider key at all (``TutorBrain(LLM())``).

Each test asserts the texts the learner reads, for a learner who explains in English and one who
explains in Spanish. Every answer is also checked for developer words (setting names such as
GROQ_API_KEY, provider names, ``None``, tracebacks). Faults covered: no keys, a follow-up button pressed
with no topic kept by the caller, a statement that names a country, a message far longer than a model's
output limits (the old 400-character failure), a grammar question on a topic with no note.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import uuid

import pytest

from espaluz.llm.chain import LLM
from espaluz.storage.learners import Learner
from espaluz.tutor.agents import grammar_notes
from espaluz.tutor.agents.brain import AFTER_EXPLAIN, FOLLOW_UP, KEY_NOTE, SAFE_REPLY, BrainAnswer, TutorBrain
from espaluz.tutor.agents.intent import Intent
from espaluz.tutor.state import ConversationState

DEVELOPER_WORDS = re.compile(r"API_KEY|GROQ|ANTHROPIC|MODAL|None|Traceback|engine|fallback")
# What the processor sends for the follow-up buttons (espaluz.tutor.processor._ask_brain).
MORE = "Dame otro ejemplo, por favor: "
EXPLAIN = "Explícamelo mejor: "


def learner(language: str = "en", dialect: str = "latam") -> Learner:
    return Learner(uuid.uuid4(), "1555", None, "", "1", "A2", dialect, language, "free", "none")


def ask(
    language: str,
    text: str,
    *,
    dialect: str = "latam",
    seed: int = 0,
    intent_name: Intent | None = None,
    topic: str = "general",
) -> BrainAnswer:
    brain = TutorBrain(LLM())
    answer = brain.answer(
        learner(language, dialect),
        ConversationState(),
        text,
        rng=random.Random(seed),
        intent_name=intent_name,
        topic=topic,
    )
    assert not DEVELOPER_WORDS.search(answer.text), answer.text
    assert "brain:error" not in answer.failures
    assert answer.usages == []
    return answer


def test_how_do_i_say_i_miss_you_is_answered_from_the_phrasebook() -> None:
    """English learner, Latin American Spanish: the expression, Spain's variant, the register; no
    buttons (nothing behind them) and no key note (the answer is complete)."""
    answer = ask("en", "how do I say I miss you?")
    assert answer.text == (
        "💬 _I miss you_ in Spanish: *Te extraño*\n"
        "• In Spain: *Te echo de menos*\n"
        "Informal (friends and family). With *usted*: *lo extraño* / *la extraño*."
    )
    assert answer.buttons == ()
    assert answer.key_note is None
    assert answer.route == "phrasebook"


def test_como_se_dice_i_miss_you_for_a_spanish_speaking_learner_of_spain() -> None:
    answer = ask("es", "¿cómo se dice 'I miss you'?", dialect="spain")
    assert answer.text == (
        "💬 _I miss you_ en español: *Te echo de menos*\n"
        "• En Latinoamérica: *Te extraño*\n"
        "Informal (con amigos y familia). Con *usted*: *lo extraño* / *la extraño*."
    )
    assert answer.buttons == ()


def test_a_phrase_the_phrasebook_lacks_is_said_plainly() -> None:
    """A miss without providers: the learner is told in their language, with the one-sentence key note,
    and gets no buttons."""
    answer = ask("es", "¿Cómo se dice supercalifragilistic?")
    assert answer.text.startswith("Todavía no tengo «supercalifragilistic» en mi diccionario de frases.")
    assert answer.text.endswith(KEY_NOTE["es"])
    assert answer.buttons == ()


def test_what_a_word_means_is_answered_from_the_lexicon_without_a_key() -> None:
    """A Spanish learner asks about an inflected word: exact and free, no key note, no buttons."""
    answer = ask("es", '¿Qué significa "mis"?')
    assert answer.text == "📖 *mis* (plural de *mi*): _my_"
    assert answer.key_note is None
    assert answer.route == "phrasebook"


@pytest.mark.parametrize(
    ("language", "short", "more_head", "longer"),
    [
        ("en", "*ser* for identity, origin", "📘 More examples of *ser* vs *estar*:", "Think of *ser* as"),
        ("es", "*ser* para identidad, origen", "📘 Más ejemplos de *ser* y *estar*:", "Piensa en *ser* como"),
    ],
)
def test_ser_estar_question_and_each_follow_up_button(
    language: str, short: str, more_head: str, longer: str
) -> None:
    """ "¿cuándo uso ser y estar?" then the buttons, as the processor sends them (the last intent, no
    topic kept): the short note with Spanish examples and three buttons; "Otro ejemplo" gives new
    examples; "Explícalo" gives the longer explanation and drops itself from the buttons."""
    note = grammar_notes.notes()["ser_estar"]
    first = ask(language, "¿cuándo uso ser y estar?")
    assert first.text.startswith("📘 ")
    assert short in first.text
    for example in note.examples:
        assert f"• {example}" in first.text
    assert first.buttons == FOLLOW_UP
    assert [b.title for b in first.buttons] == ["Otro ejemplo", "Explícalo", "Entendido"]
    assert first.topic == "ser_estar"
    assert first.key_note is None

    question = "¿cuándo uso ser y estar?"
    more = ask(language, MORE + question, intent_name="grammar_question", topic="general", seed=1)
    assert more.text.startswith(more_head)
    shown = [line[2:] for line in more.text.splitlines() if line.startswith("• ")]
    assert len(shown) == 2
    assert set(shown) <= set(note.extra_examples)
    assert more.buttons == FOLLOW_UP
    # With the topic kept by the caller, and another draw: still new examples from the same note.
    another = ask(language, MORE + question, intent_name="grammar_question", topic="ser_estar", seed=7)
    drawn = [line[2:] for line in another.text.splitlines() if line.startswith("• ")]
    assert len(drawn) == 2
    assert set(drawn) <= set(note.extra_examples)

    explained = ask(language, EXPLAIN + question, intent_name="grammar_question", topic="general")
    assert longer in explained.text
    assert len(explained.text) > len(first.text)
    assert explained.buttons == AFTER_EXPLAIN
    assert [b.title for b in explained.buttons] == ["Otro ejemplo", "Entendido"]
    assert len(explained.text) <= 1024  # WhatsApp drops the buttons of a longer interactive body


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "what is the difference between por and para?", "*para* points to a goal"),
        ("es", "¿Por o para?", "*para* mira hacia un destino"),
        ("en", "When do I use the subjunctive?", "The *subjunctive* follows wishes"),
        ("es", "¿Cuándo uso el indefinido y cuándo el imperfecto?", "El *indefinido* cuenta acciones"),
    ],
)
def test_grammar_questions_get_the_authored_note(language: str, text: str, expected: str) -> None:
    answer = ask(language, text)
    assert answer.intent == "grammar_question"
    assert expected in answer.text
    assert answer.buttons == FOLLOW_UP


def test_a_grammar_question_without_a_note_offers_no_dead_buttons() -> None:
    """No note on the topic: the learner reads which topics there are, with no buttons (they would lead
    nowhere) and the plain key note."""
    answer = ask("en", "Can you explain the passive voice with se?")
    assert answer.intent == "grammar_question"
    assert answer.text.startswith("📘 I don't have a note on that yet. I have notes on: *ser* vs *estar*")
    assert answer.buttons == ()
    assert answer.text.endswith(KEY_NOTE["en"])


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_statement_about_spain_is_conversation_not_a_culture_note(language: str) -> None:
    """The old misroute: a statement naming a country got the Día de Muertos note. It is conversation:
    a reaction, a question back, and the one-sentence key note in the learner's language."""
    answer = ask(language, "Vivo en España desde 2019 y me encanta")
    assert answer.intent == "conversation"
    assert "🌎" not in answer.text
    assert "Muertos" not in answer.text
    assert answer.text.startswith("¡Qué bien! ¿Qué es lo que más te gusta de vivir allí?")
    assert ("_How nice! What do you like most about living there?_" in answer.text) == (language == "en")
    assert answer.key_note == KEY_NOTE[language]
    assert answer.text.endswith(KEY_NOTE[language])


def test_a_statement_with_an_error_gets_the_correction_and_a_question() -> None:
    answer = ask("es", "Yo es profesora en un colegio")
    assert "✏️ *Yo soy profesora en un colegio*" in answer.text
    assert "¿" in answer.text.split("✏️")[0]


def test_a_culture_question_is_still_a_culture_note_about_the_country_asked() -> None:
    """A real culture question (food in Colombia) gets the table's note on that country's food, without
    follow-up buttons (the table has nothing more to show)."""
    answer = ask("en", "¿Qué comida típica hay en Colombia?")
    assert answer.intent == "culture_question"
    assert answer.text.startswith("🌎 En Colombia se come, por ejemplo: arepas")
    assert answer.buttons == ()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_3000_character_message_is_answered(language: str) -> None:
    """Long input: a message of 3,000 characters (one error in a 600-character sentence, past every
    output limit) is answered with a correction of that sentence, never with the brain's safe reply."""
    long_sentence = "Yo es muy feliz porque " + ", ".join(["vivo en una ciudad muy bonita"] * 20) + "."
    text = (long_sentence + " " + "Hoy hace sol y paseo por el parque con mis amigos. " * 60)[:3000]
    assert len(text) == 3000
    answer = ask(language, text)
    assert not answer.text.startswith(SAFE_REPLY)
    assert "✏️ *Yo soy muy feliz porque" in answer.text
    assert "Hoy hace sol" not in answer.text.split("✏️")[1]  # the sentence with the error, not the page
    assert answer.text.endswith(KEY_NOTE[language])


def test_the_operator_is_warned_once_per_process_with_the_setting_names() -> None:
    """Missing config: the setting names go to the log, once per process however many brains and
    turns, never to the learner."""
    script = (
        "import logging, uuid\n"
        "logging.basicConfig(level=logging.WARNING, format='%(message)s')\n"
        "from espaluz.llm.chain import LLM\n"
        "from espaluz.storage.learners import Learner\n"
        "from espaluz.tutor.agents.brain import TutorBrain\n"
        "from espaluz.tutor.state import ConversationState\n"
        "who = Learner(uuid.uuid4(), '1', None, '', '1', 'A1', 'latam', 'en', 'free', 'none')\n"
        "for _ in range(2):\n"
        "    brain = TutorBrain(LLM())\n"
        "    for text in ('Hola', 'Vivo en Lima'):\n"
        "        print(brain.answer(who, ConversationState(), text).text)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    warnings = [line for line in run.stderr.splitlines() if "LLM providers not configured" in line]
    assert len(warnings) == 1
    assert "GROQ_API_KEY" in warnings[0]
    assert "ANTHROPIC_API_KEY" in warnings[0]
    assert "API_KEY" not in run.stdout
