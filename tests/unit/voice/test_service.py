"""The voice service's conversation helpers: exercises in state, drills, the feedback buttons, dialects.
No network: these paths never call the Graph API or a recogniser."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from uuid import uuid4

from espaluz.config import Settings
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState
from espaluz.voice.drills import STATE_KEY
from espaluz.voice.service import (
    DRILL_ID,
    LISTEN_ID,
    MISSES_KEY,
    RETRY_ID,
    WEAK_KEY,
    VoiceService,
    dialect_of,
    exercise_of,
    is_voice_button,
    misses_of,
)
from espaluz.whatsapp.graph import GraphClient


def service(tmp_path: Path) -> VoiceService:
    return VoiceService(Settings(espaluz_data_dir=tmp_path), GraphClient("http://127.0.0.1:9", "unused"))


def learner(dialect: str = "latam") -> Learner:
    return Learner(uuid4(), None, "US.1", "Ana", "1000", "A2", dialect, "en", "free", "active")


def test_exercise_survives_the_state_round_trip(tmp_path: Path) -> None:
    """The exercise lives in Redis state as JSON between the prompt and the learner's voice note."""
    state = ConversationState()
    service(tmp_path).start_exercise(state, "Quiero un café, por favor.")
    again = ConversationState.from_json(state.to_json())
    exercise = exercise_of(again)
    assert exercise is not None
    assert exercise.text == "Quiero un café, por favor."


def test_corrupt_exercise_state_is_ignored() -> None:
    """Bad input: a state written by an older version (missing fields) is treated as no exercise."""
    assert exercise_of(ConversationState(extra={STATE_KEY: {"text": "hola"}})) is None
    assert exercise_of(ConversationState(extra={STATE_KEY: "hola"})) is None


def test_buttons_retry_and_drill(tmp_path: Path) -> None:
    voice = service(tmp_path)
    who = learner()
    state = ConversationState()
    assert voice.on_button(RETRY_ID, who, state) is not None  # no exercise: an invitation, not an error
    voice.start_exercise(state, "el perro")
    retry = voice.on_button(RETRY_ID, who, state)
    assert retry is not None
    assert "el perro" in retry.text
    state.extra[WEAK_KEY] = ["r"]
    drill = voice.on_button(DRILL_ID, who, state)
    assert drill is not None
    assert state.extra[STATE_KEY]["skill"] == "pron:r"
    assert state.extra[STATE_KEY]["text"] in drill.text
    assert voice.on_button("menu:main", who, state) is None
    assert is_voice_button(RETRY_ID)
    assert not is_voice_button("menu:main")


def test_drill_for_a_due_skill_and_nothing_to_drill(tmp_path: Path) -> None:
    voice = service(tmp_path)
    state = ConversationState()
    reply = voice.start_drill(learner("spain"), state, due_skills=["verb:ser", "pron:θ"])
    assert reply is not None
    assert state.extra[STATE_KEY]["phone"] == "θ"
    assert voice.start_drill(learner(), ConversationState()) is None


def test_dialect_of_learner() -> None:
    assert dialect_of(learner("spain")) == "spain"
    assert dialect_of(learner("es-ES")) == "spain"
    assert dialect_of(learner("mx")) == "latam"
    assert dialect_of(learner("")) == "latam"


class NoSpeech:
    """A speaker that must not be called: these answers make no speech synthesis and no upload."""

    def speak(self, text: str, dialect: str) -> bytes:
        raise AssertionError(f"speech synthesis asked for {text!r}")


def test_listen_button_without_a_voice_note_path_answers_in_text(tmp_path: Path) -> None:
    """Issue 19: ``on_button`` can only answer in text, so the listen button gets the phrase in stressed
    syllables there, without speech synthesis; with no exercise open (bad input: an old button), a
    pointer to *pronunciar*. ``press`` passes the other buttons through to ``on_button``."""
    voice = VoiceService(
        Settings(espaluz_data_dir=tmp_path), GraphClient("http://127.0.0.1:9", "unused"), speaker=NoSpeech()
    )
    who = learner()  # explains in English
    state = ConversationState()
    idle = voice.on_button(LISTEN_ID, who, state)
    assert idle is not None
    assert idle.text == "There's no phrase to listen to right now. Write *pronunciar* to practise one 🎙️"
    voice.start_exercise(state, "el perro")
    spelled = voice.on_button(LISTEN_ID, who, state)
    assert spelled is not None
    assert spelled.text.endswith("syllable by syllable: *el PE-rro*")
    spanish = voice.on_button(LISTEN_ID, replace(who, native_language="es"), state)
    assert spanish is not None
    assert spanish.text == "🔇 Ahora no puedo enviarte el audio. Dilo así, sílaba a sílaba: *el PE-rro*"
    assert is_voice_button(LISTEN_ID)
    pressed = voice.press(RETRY_ID, who, state)
    assert pressed is not None
    assert pressed.reply is not None
    assert "el perro" in pressed.reply.text
    assert pressed.model_voice_media_id is None
    assert voice.press("menu:main", who, state) is None


def test_listen_button_when_the_model_voice_fails(tmp_path: Path) -> None:
    """Provider fault: the Graph API cannot be reached for the upload; the tap gets the phrase in
    syllables instead of a voice note, and the exercise stays open."""
    voice = service(tmp_path)  # its Graph API address refuses connections
    state = ConversationState()
    voice.start_exercise(state, "pero")
    pressed = voice.press(LISTEN_ID, learner(), state)
    assert pressed is not None
    assert pressed.model_voice_media_id is None
    assert pressed.reply is not None
    assert pressed.reply.text.endswith("*PE-ro*")
    assert exercise_of(state) is not None


def test_miss_count_reads_only_a_positive_number() -> None:
    """Bad input: a count written wrong (text, negative), no record, a record that is not a dict."""
    assert misses_of(ConversationState()) == 0
    assert misses_of(ConversationState(extra={STATE_KEY: "hola"})) == 0
    assert misses_of(ConversationState(extra={STATE_KEY: {MISSES_KEY: "2"}})) == 0
    assert misses_of(ConversationState(extra={STATE_KEY: {MISSES_KEY: -1}})) == 0
    assert misses_of(ConversationState(extra={STATE_KEY: {MISSES_KEY: 2}})) == 2
    state = ConversationState()
    VoiceService(Settings(), GraphClient("http://127.0.0.1:9", "unused")).start_exercise(state, "pero")
    state.extra[STATE_KEY][MISSES_KEY] = 1
    again = ConversationState.from_json(state.to_json())  # the count survives the Redis round trip
    assert misses_of(again) == 1
    assert exercise_of(again) is not None


def test_a_spanish_explainer_reads_every_voice_answer_in_spanish(tmp_path: Path) -> None:
    """The buttons' answers, the drill prompt and the read-aloud prompt follow the learner's explanation
    language: Spanish for "es", no English sentence in it; English for "en" (covers a learner who taps a
    button with no exercise open, and a drill with nothing weak to practise)."""
    voice = service(tmp_path)
    ana = replace(learner(), native_language="es")
    tom = learner()
    state = ConversationState()
    idle = voice.on_button(RETRY_ID, ana, state)
    assert idle is not None
    assert idle.text == "Mándame una nota de voz cuando quieras 🎙️"
    nothing = voice.on_button(DRILL_ID, ana, ConversationState())
    assert nothing is not None
    assert nothing.text.startswith("Ahora no hay ningún sonido que practicar")
    prompt = voice.start_exercise(state, "el perro", language="es")
    assert prompt.text == "🎙️ Graba una nota de voz leyendo: *el perro*"
    again = voice.on_button(RETRY_ID, ana, state)
    assert again is not None
    assert again.text == "🎙️ ¡Adelante! Graba otra vez: *el perro*"
    english = voice.on_button(RETRY_ID, tom, state)
    assert english is not None
    assert english.text == "🎙️ Go ahead: record *el perro* again."
    drill_state = ConversationState(extra={WEAK_KEY: ["r"]})
    drill = voice.start_drill(ana, drill_state)
    assert drill is not None
    assert drill.text.startswith("🎯 Sonido a practicar: una *r* fuerte [r].")
    assert "Record" not in drill.text
    assert "Sound drill" not in drill.text
    english_drill = voice.start_drill(tom, ConversationState(extra={WEAK_KEY: ["r"]}))
    assert english_drill is not None
    assert english_drill.text.startswith("🎯 Sound drill: a trill [r].")
