"""Which recogniser a voice note goes to.

Every pronunciation exercise goes to the Modal app: it needs the phoneme model (Whisper repairs *pero*
into *perro*, so only phones tell them apart), and there the phoneme model alone scores it (gpu/app.py).
With a GPU (``MODAL_GPU``), noisy free speech and free speech longer than ``VOICE_FAST_MAX_SECONDS`` go
there too: the VAD-aware pipeline, and no single-request latency budget to fit (Groq is called once, no
retry). The default app is a CPU-only container (cheaper, see :mod:`espaluz.voice.costs`) that runs no
Whisper: then all free speech goes to Groq.

Short, clean free speech goes to the cheaper of the two (:mod:`espaluz.voice.costs`). Groq bills at least
10 seconds per request, so a 1 s clip costs there what a 10 s clip does; a Modal container that is busy
anyway (it answered this process under a second ago) processes a very short clip for less than that
minimum. Any other time, Modal's cost includes the idle tail the call adds (up to the whole
``scaledown_window`` and a cold start), and Groq wins. The caller passes ``modal_idle_for``: seconds since
the Modal app last answered this process, ``None`` when unknown.

``VOICE_FAST_MAX_SECONDS`` is 30 s: past Groq's 10-second minimum its price grows by 0.0000111 USD per
second of audio (0.04 USD an hour), while free speech on the GPU app costs about 0.000016 USD per second
on a busy L4 container (0.06 container-seconds per audio second at 0.000266 USD/s, ``costs.py``) plus
0.3 s of fixed work: so a clean clip is cheaper on Groq at any length, and 30 s covers nearly every
voice note a learner sends in practice (the cost simulation's clips are 2–40 s). Longer or noisy clips
keep the GPU app's VAD-aware pipeline. Thresholds are settings (``VOICE_FAST_MAX_SECONDS``,
``VOICE_FAST_MIN_SNR_DB``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from espaluz.voice.costs import VoicePrices, groq_cost_usd, modal_cost_usd

if TYPE_CHECKING:
    from espaluz.config import Settings
    from espaluz.voice.audio import PreparedAudio


class Route(StrEnum):
    GROQ = "groq"
    MODAL = "modal"


def clip_cost_usd(
    route: Route,
    seconds: float,
    settings: Settings,
    *,
    exercise: bool = False,
    modal_idle_for: float | None = None,
) -> float:
    """Estimated cost of sending one clip of ``seconds`` to ``route`` (see :mod:`espaluz.voice.costs`)."""
    prices = VoicePrices.from_settings(settings)
    if route is Route.GROQ:
        return groq_cost_usd(seconds, prices)
    return modal_cost_usd(seconds, prices, exercise=exercise, idle_for=modal_idle_for)


def choose_route(
    audio: PreparedAudio, *, exercise: bool, settings: Settings, modal_idle_for: float | None = None
) -> Route:
    """Modal for every exercise; Groq for all free speech when the voice app has no GPU; else Modal for
    a noisy clip (SNR at or under ``voice_fast_min_snr_db``) and a clip of ``voice_fast_max_seconds`` or
    more, and otherwise the route whose :func:`clip_cost_usd` is lower (Groq on a tie: faster)."""
    if exercise:
        return Route.MODAL
    if not settings.modal_gpu:  # a CPU-only voice app runs no Whisper: free speech is Groq's
        return Route.GROQ
    short = audio.duration < settings.voice_fast_max_seconds
    clean = audio.snr_db > settings.voice_fast_min_snr_db
    if not (short and clean):
        return Route.MODAL
    groq = clip_cost_usd(Route.GROQ, audio.duration, settings)
    modal = clip_cost_usd(Route.MODAL, audio.duration, settings, modal_idle_for=modal_idle_for)
    return Route.MODAL if modal < groq else Route.GROQ
