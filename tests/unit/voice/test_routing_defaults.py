"""The shipped routing threshold sends clean free speech to the cheaper recogniser at any usual length.

``VOICE_FAST_MAX_SECONDS`` is 30 s because Groq's per-second price past its 10-second minimum is below the
GPU app's per-second cost of free speech even on a busy container (espaluz.voice.routing). Bad input
covered: a noisy clip (still the GPU app's VAD-aware pipeline) and an overlong one.
"""

from __future__ import annotations

import numpy as np
import pytest

from espaluz.config import Settings
from espaluz.voice.audio import PreparedAudio, Segment
from espaluz.voice.routing import Route, choose_route, clip_cost_usd


def clip(duration: float, snr: float) -> PreparedAudio:
    return PreparedAudio(np.zeros(16), 16_000, duration, snr, (Segment(0.1, duration - 0.1),), 48_000)


@pytest.mark.parametrize("seconds", [2.0, 9.0, 15.0, 29.0])
def test_clean_free_speech_goes_to_groq_even_next_to_a_busy_gpu(seconds: float) -> None:
    settings = Settings()
    route = choose_route(clip(seconds, 30.0), exercise=False, settings=settings, modal_idle_for=0.0)
    assert route is Route.GROQ
    groq = clip_cost_usd(Route.GROQ, seconds, settings)
    busy_gpu = clip_cost_usd(Route.MODAL, seconds, settings, modal_idle_for=0.0)
    assert groq <= busy_gpu


def test_noisy_or_long_free_speech_and_every_exercise_keep_the_gpu_app() -> None:
    settings = Settings()
    assert choose_route(clip(12.0, 8.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(45.0, 30.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=settings) is Route.MODAL
