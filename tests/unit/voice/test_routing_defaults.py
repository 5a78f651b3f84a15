"""The shipped routing: clean free speech goes to the cheaper recogniser at any usual length, and the
default CPU-only voice app (no Whisper there) leaves all free speech to Groq.

``VOICE_FAST_MAX_SECONDS`` is 30 s because Groq's per-second price past its 10-second minimum is below the
GPU app's per-second cost of free speech even on a busy container (espaluz.voice.routing). Bad input
covered: a noisy clip and an overlong one (a GPU app's VAD-aware pipeline; Groq without a GPU).
"""

from __future__ import annotations

import numpy as np
import pytest

from espaluz.config import Settings
from espaluz.voice.audio import PreparedAudio, Segment
from espaluz.voice.costs import VoicePrices, modal_cost_usd
from espaluz.voice.routing import Route, choose_route, clip_cost_usd

GPU = Settings(modal_gpu="L4")


def clip(duration: float, snr: float) -> PreparedAudio:
    return PreparedAudio(np.zeros(16), 16_000, duration, snr, (Segment(0.1, duration - 0.1),), 48_000)


@pytest.mark.parametrize("seconds", [2.0, 9.0, 15.0, 29.0])
def test_clean_free_speech_goes_to_groq_even_next_to_a_busy_gpu(seconds: float) -> None:
    route = choose_route(clip(seconds, 30.0), exercise=False, settings=GPU, modal_idle_for=0.0)
    assert route is Route.GROQ
    groq = clip_cost_usd(Route.GROQ, seconds, GPU)
    busy_gpu = clip_cost_usd(Route.MODAL, seconds, GPU, modal_idle_for=0.0)
    assert groq <= busy_gpu


def test_a_gpu_app_keeps_noisy_and_long_free_speech_and_every_exercise() -> None:
    assert choose_route(clip(12.0, 8.0), exercise=False, settings=GPU) is Route.MODAL
    assert choose_route(clip(45.0, 30.0), exercise=False, settings=GPU) is Route.MODAL
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=GPU) is Route.MODAL


def test_the_default_cpu_app_scores_exercises_and_leaves_all_free_speech_to_groq() -> None:
    settings = Settings()
    assert settings.modal_gpu == ""
    assert choose_route(clip(12.0, 8.0), exercise=False, settings=settings) is Route.GROQ
    assert choose_route(clip(45.0, 30.0), exercise=False, settings=settings, modal_idle_for=0.0) is Route.GROQ
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=settings) is Route.MODAL


def test_a_cpu_container_kept_up_all_day_costs_a_sixth_of_a_gpu_one() -> None:
    """The reason for the default: at 1,000 learners the container never scales down, so its price per
    second is the bill. Its work per clip is dearer on CPU (measured 0.25 s + 0.255 s per audio second)."""
    cpu, gpu = VoicePrices.from_settings(Settings()), VoicePrices.from_settings(GPU)
    assert cpu.modal_usd_per_second < gpu.modal_usd_per_second / 5
    day = 16 * 3600.0  # busy all day: every call's idle tail is the gap since the last one
    assert cpu.modal_usd_per_second * day < 3.0 < gpu.modal_usd_per_second * day
    four_seconds = {p.modal_gpu: modal_cost_usd(4.0, p, exercise=True, idle_for=0.0) for p in (cpu, gpu)}
    assert four_seconds[False] > four_seconds[True]  # the work alone: the GPU is quicker per clip
