"""Routing thresholds, the per-clip cost estimate behind them (Groq's 10-second billing minimum, Modal's
idle tail), and the feedback message (three levels, one fix, try again, approximate note, what was heard,
the listen button that stands in for the model voice note).
Bad input: a clip of zero seconds, a negative idle time, unknown GPU prices."""

from __future__ import annotations

import numpy as np

from espaluz.config import Settings
from espaluz.voice.audio import AudioProblem, PreparedAudio, Segment
from espaluz.voice.costs import VoicePrices, groq_cost_usd, modal_cost_usd
from espaluz.voice.feedback import (
    DRILL_BUTTON,
    LISTEN_ID,
    PROBLEM_REPLIES,
    RETRY_BUTTON,
    assessment_reply,
    fix_first,
    heard_else_line,
    listen_button,
    problem_reply,
    syllabified,
)
from espaluz.voice.routing import Route, choose_route, clip_cost_usd
from espaluz.voice.scoring import Vocabulary, score
from espaluz.whatsapp.outgoing import Button
from tests.voice_samples import PAUSE, VOCAB, posteriorgram

VOC = Vocabulary(VOCAB)


def clip(duration: float, snr: float) -> PreparedAudio:
    return PreparedAudio(np.zeros(16), 16_000, duration, snr, (Segment(0.1, duration - 0.1),), 48_000)


def test_route_by_duration_snr_and_exercise() -> None:
    """Boundaries: under 5 s AND above 20 dB goes to Groq; exactly 5 s or 20 dB, any exercise -> Modal."""
    settings = Settings(modal_gpu="L4", voice_fast_max_seconds=5.0, voice_fast_min_snr_db=20.0)
    assert choose_route(clip(3.0, 30.0), exercise=False, settings=settings) is Route.GROQ
    assert choose_route(clip(5.0, 30.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 20.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=settings) is Route.MODAL
    relaxed = Settings(modal_gpu="L4", voice_fast_max_seconds=10.0, voice_fast_min_snr_db=10.0)
    assert choose_route(clip(8.0, 15.0), exercise=False, settings=relaxed) is Route.GROQ


def test_groq_bills_at_least_ten_seconds() -> None:
    """A 0 s, 2 s or 10 s clip costs Groq the same (the 10-second minimum); 20 s costs twice that."""
    prices = VoicePrices.from_settings(Settings())
    floor = groq_cost_usd(10.0, prices)
    assert prices.groq_min_seconds == 10.0
    assert groq_cost_usd(0.0, prices) == groq_cost_usd(2.0, prices) == floor
    assert groq_cost_usd(20.0, prices) == 2 * floor
    assert floor == 10 * 0.04 / 3600  # whisper-large-v3-turbo: $0.04 per audio hour


def test_modal_cost_counts_the_idle_tail() -> None:
    """A cold Modal call pays a start and the whole idle window; a busy container only the work and the
    time since its last answer (a negative idle time counts as none); exercises (no Whisper) cost less."""
    prices = VoicePrices.from_settings(Settings(modal_gpu="L4"))
    cold = modal_cost_usd(2.0, prices, exercise=False, idle_for=None)
    expired = modal_cost_usd(2.0, prices, exercise=False, idle_for=prices.modal_scaledown_seconds + 1)
    busy = modal_cost_usd(2.0, prices, exercise=False, idle_for=0.0)
    assert cold == expired > modal_cost_usd(2.0, prices, exercise=False, idle_for=5.0) > busy
    assert modal_cost_usd(2.0, prices, exercise=False, idle_for=-3.0) == busy
    assert modal_cost_usd(2.0, prices, exercise=True, idle_for=0.0) < busy
    assert cold > 100 * groq_cost_usd(2.0, prices)  # why a lone short clip never wakes a GPU
    odd = VoicePrices.from_settings(Settings(modal_gpu="B300"))  # unknown GPU: the L4 rate, not zero
    assert odd.modal_usd_per_second == prices.modal_usd_per_second


def test_short_clean_clip_goes_to_the_cheaper_path() -> None:
    """With Groq's minimum, a 1 s clip is cheaper on a Modal container that just answered (its work only)
    than on Groq, a 4 s clip is not; with no container known to be up, Groq. Each choice is the cheaper
    of the two estimates; exercises and noisy clips stay on Modal whatever the cost (a GPU app)."""
    settings = Settings(modal_gpu="L4")
    for seconds, idle, expected in ((1.0, 0.0, Route.MODAL), (4.0, 0.0, Route.GROQ), (1.0, None, Route.GROQ)):
        chosen = choose_route(clip(seconds, 30.0), exercise=False, settings=settings, modal_idle_for=idle)
        assert chosen is expected
        costs = {r: clip_cost_usd(r, seconds, settings, modal_idle_for=idle) for r in Route}
        assert costs[chosen] == min(costs.values())
    assert choose_route(clip(1.0, 30.0), exercise=True, settings=settings, modal_idle_for=None) is Route.MODAL
    assert (
        choose_route(clip(1.0, 10.0), exercise=False, settings=settings, modal_idle_for=None) is Route.MODAL
    )


def test_heard_line_only_when_other_words() -> None:
    """What was heard is shown only when it is other words (case and punctuation aside), in es or en."""
    assert heard_else_line("en", "El perro.", "el perro") is None
    assert heard_else_line("es", "  ", "el perro") is None
    assert heard_else_line("en", "hola", "el perro") == "🎧 I heard: _hola_. The phrase was: *el perro*."
    assert heard_else_line("pt", "hola", "el perro") == "🎧 Escuché: _hola_. La frase era: *el perro*."


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


def test_feedback_offers_the_listen_button_in_the_learners_language() -> None:
    """Issue 19: without the model voice note the feedback carries a third button, after "try again" and
    "drill this sound" (Meta allows three), titled in the learner's language; with the voice note it has
    none; a passed phrase (neither) says nothing about a model."""
    result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro")
    spanish = assessment_reply(result, drill=True, language="es", model=False, listen=True)
    assert spanish.buttons == (RETRY_BUTTON, DRILL_BUTTON, Button(LISTEN_ID, "🔊 Escuchar"))
    assert spanish.text.endswith(
        "🔊 Toca *Escuchar* para oír cómo suena y después *Try again* para grabarla otra vez."
    )
    spanish.payload()  # within Meta's limits: three buttons, titles under 20 characters
    english = assessment_reply(result, language="en", model=False, listen=True)
    assert english.buttons == (RETRY_BUTTON, listen_button("en"))
    assert listen_button("en").title == "🔊 Listen"
    assert english.text.endswith(
        "🔊 Tap *Listen* to hear how it sounds, then *Try again* and record it once more."
    )
    with_note = assessment_reply(result, language="es", model=True)
    assert LISTEN_ID not in [b.id for b in with_note.buttons]
    assert with_note.text.endswith("🔊 Escucha el modelo y después toca *Try again* para grabarla otra vez.")
    passed = assessment_reply(score(posteriorgram(["p", "e", "r", "o"]), VOC, "perro"), model=False)
    assert "🔊" not in passed.text
    assert passed.buttons == (RETRY_BUTTON,)


def test_syllabified_marks_the_stress_and_keeps_punctuation() -> None:
    """The listen button's answer when no audio can be sent; bad input: punctuation around words, a
    token with no letters, a one-syllable word (left unstressed)."""
    assert syllabified("el perro, pero") == "el PE-rro, PE-ro"
    assert syllabified("¿Dónde está el dado?") == "¿DÓN-de es-TÁ el DA-do?"
    assert syllabified("Cinco zapatos - 5") == "CIN-co za-PA-tos - CIN-co"
    assert syllabified("!!") == "!!"
