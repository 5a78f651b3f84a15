"""The voice service's conversation helpers: exercises in state, drills, the feedback buttons, dialects.
No network: these paths never call the Graph API or a recogniser."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from espaluz.config import Settings
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState
from espaluz.voice.drills import STATE_KEY
from espaluz.voice.service import (
    DRILL_ID,
    RETRY_ID,
    WEAK_KEY,
    VoiceService,
    dialect_of,
    exercise_of,
    is_voice_button,
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
