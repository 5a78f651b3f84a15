"""Routing thresholds and the feedback message (three levels, one fix, try again, approximate note)."""

from __future__ import annotations

import numpy as np

from espaluz.config import Settings
from espaluz.voice.audio import AudioProblem, PreparedAudio, Segment
from espaluz.voice.feedback import PROBLEM_REPLIES, RETRY_BUTTON, assessment_reply, fix_first, problem_reply
from espaluz.voice.routing import Route, choose_route
from espaluz.voice.scoring import Vocabulary, score
from tests.voice_samples import PAUSE, VOCAB, posteriorgram

VOC = Vocabulary(VOCAB)


def clip(duration: float, snr: float) -> PreparedAudio:
    return PreparedAudio(np.zeros(16), 16_000, duration, snr, (Segment(0.1, duration - 0.1),), 48_000)


def test_route_by_duration_snr_and_exercise() -> None:
    """Boundaries: under 5 s AND above 20 dB goes to Groq; exactly 5 s or 20 dB, any exercise -> Modal."""
    settings = Settings()
    assert choose_route(clip(3.0, 30.0), exercise=False, settings=settings) is Route.GROQ
    assert choose_route(clip(5.0, 30.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 20.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=settings) is Route.MODAL
    relaxed = Settings(voice_fast_max_seconds=10.0, voice_fast_min_snr_db=10.0)
    assert choose_route(clip(8.0, 15.0), exercise=False, settings=relaxed) is Route.GROQ


def test_feedback_marks_words_and_names_one_fix() -> None:
    result = score(posteriorgram(["e", "l", "p", "e", "ɾ", "o"]), VOC, "el perro")
    reply = assessment_reply(result, reply_to="wamid.X", drill=True)
    assert reply.text.startswith("🟢 el 🟡 perro")
    assert "👉 You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]." in reply.text
    assert reply.text.count("👉") == 1
    assert reply.buttons[0] == RETRY_BUTTON
    assert len(reply.buttons) == 2
    assert "Approximate" not in reply.text
    reply.payload()  # within WhatsApp's limits


def test_free_speech_feedback_says_it_is_approximate() -> None:
    result = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro", approximate=True)
    reply = assessment_reply(result)
    assert "Approximate" in reply.text
    assert reply.buttons == (RETRY_BUTTON,)


def test_fix_first_prefers_the_contrast_over_a_pause() -> None:
    gram = posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "ɾ", "o"])
    assert "that is *pero*" in fix_first(score(gram, VOC, "el perro"))
    clean_but_hesitant = score(
        posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "r", "o"]), VOC, "el perro"
    )
    assert "in one go" in fix_first(clean_but_hesitant)
    perfect = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro")
    assert fix_first(perfect).startswith("Nothing to fix")


def test_every_audio_problem_has_a_friendly_reply() -> None:
    for problem in AudioProblem:
        reply = problem_reply(problem)
        assert reply.text == PROBLEM_REPLIES[problem]
        assert "error" not in reply.text.lower()
