"""Which recogniser a voice note goes to.

Short, clean clips in free conversation go to Groq's hosted Whisper: fast (a few hundred ms) and cheap,
and a transcript is all the conversation needs. Everything else goes to the Modal GPU app: pronunciation
exercises need the phoneme model (Whisper repairs *pero* into *perro*, so only phones tell them apart),
and long or noisy clips get the large model and the VAD-aware pipeline there. Thresholds are settings
(``VOICE_FAST_MAX_SECONDS``, ``VOICE_FAST_MIN_SNR_DB``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espaluz.config import Settings
    from espaluz.voice.audio import PreparedAudio


class Route(StrEnum):
    GROQ = "groq"
    MODAL = "modal"


def choose_route(audio: PreparedAudio, *, exercise: bool, settings: Settings) -> Route:
    """Groq for a free-speech clip under ``voice_fast_max_seconds`` with SNR above
    ``voice_fast_min_snr_db``; Modal for every exercise and every other clip."""
    if exercise:
        return Route.MODAL
    short = audio.duration < settings.voice_fast_max_seconds
    clean = audio.snr_db > settings.voice_fast_min_snr_db
    return Route.GROQ if short and clean else Route.MODAL
