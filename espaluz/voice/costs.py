"""What one voice clip costs on each recogniser: the estimate routing compares, and the cost simulation's.

- **Groq Whisper** bills seconds of audio with a **10-second minimum per request**: a 2 s "sí, claro"
  costs what a 10 s clip does, and only clips over 10 s cost more. So every clean free-speech clip under
  10 s costs the same on Groq, and a short one is not cheaper there than a longer one.
- **Modal** bills the container's GPU, CPU cores and memory per second while it runs: the clip's
  processing time, plus the idle tail it causes. A container stays up ``scaledown_window`` seconds after
  its last input, so a call to a container that last answered ``idle_for`` seconds ago extends its life
  by that much (up to the window); a call that finds no container pays its start and the whole window.
  Hence a short clip is cheaper on Modal only when a container is busy anyway (``idle_for`` near 0),
  e.g. a learner's free speech right after their exercise, or the "what was heard" check inside an
  exercise call, which runs on the GPU that is already working (cheaper there than a 10-second Groq
  minimum for any clip under about 10 s).

Prices are list prices (groq.com/pricing: whisper-large-v3-turbo $0.04 per audio hour, 10 s minimum;
modal.com/pricing: per-second GPU, CPU core and GiB rates), as settings (``VOICE_GROQ_USD_PER_AUDIO_HOUR``,
``VOICE_GROQ_MIN_BILLED_SECONDS``, ``MODAL_GPU_USD_PER_SECOND`` or the table below by ``MODAL_GPU``,
``MODAL_CPU``, ``MODAL_CPU_USD_PER_CORE_SECOND``, ``MODAL_MEMORY_USD_PER_GIB_SECOND``).
Processing times (``MODAL_SECONDS``): on a GPU they are assumptions for an L4, not measured here (no GPU
lent); on a CPU-only container (``MODAL_GPU`` empty, the default) they are measured on this project's
2-core CI machine with random-weight models of the real sizes (``gpu/app.py`` ``load_tiny(size="real")``:
wav2vec2 large, 24 layers of 1024): 0.76 s for a 2 s clip, 1.29 s for 4 s, 1.78 s for 6 s, so about
0.25 s + 0.255 s per second of audio for the phoneme model, alignment and scoring aside (milliseconds).

**Why a CPU container by default.** A container's price runs while it waits for the next clip, and at
the original design's usage (12 exercise clips a learner a day) a deployment of 1,000 learners sends one
every few seconds through a 16-hour day: the container never scales down, and the bill is its hours, not
its work. An L4 container (GPU + 2 cores + 8 GiB, 0.000266 USD/s) kept up 16 hours a day is about
460 USD a month (0.46 USD per learner); a 2-core CPU container (0.000044 USD/s) about 76 USD (0.08),
and it still does the work (12,000 clips x 1.3 s = 4.3 busy hours of the 16). A GPU pays off once the
work fills the day: a 4 s clip costs 0.000056 USD of CPU time and about 0.000024 of L4 time (assumed),
so past some 25,000 learners ``MODAL_GPU=L4`` saves about a cent per learner a month. The price is
latency: about 1.3 s for a 4 s clip instead of a fraction of a second. Whisper does not run on a CPU
container: free speech goes to Groq (``espaluz.voice.routing``), and an exercise's "what was heard"
check too (the app answers ``recheck_wanted``).

A caller must know: these are estimates for choosing a path and for the simulation, not invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espaluz.config import Settings

MODAL_GPU_USD_PER_SECOND = {"T4": 0.000164, "L4": 0.000222, "A10G": 0.000306, "L40S": 0.000542,
                            "A100": 0.000583, "H100": 0.001097}  # fmt: skip
MODAL_MEMORY_GIB = 8.0  # Whisper large-v3-turbo and a wav2vec2 large in RAM, with room for four inputs
MODAL_START_SECONDS = 10.0  # a cold start restored from a memory snapshot, weights moved to the GPU
# Container seconds per clip: (fixed, per second of audio). Free speech runs Whisper's decoding loop and
# the phoneme model; an exercise the phoneme model alone (gpu/app.py). GPU: assumed for an L4; CPU:
# measured on 2 cores (module docstring; free speech never runs there).
MODAL_SECONDS = {"free": (0.3, 0.06), "exercise": (0.05, 0.01)}
MODAL_CPU_SECONDS = {"free": (1.0, 1.0), "exercise": (0.25, 0.255)}


@dataclass(frozen=True, slots=True)
class VoicePrices:
    """The rates an estimate uses (``from_settings``)."""

    groq_usd_per_second: float
    groq_min_seconds: float
    modal_usd_per_second: float
    modal_scaledown_seconds: float
    modal_gpu: bool = True  # False: a CPU-only container (``MODAL_CPU_SECONDS``)

    @classmethod
    def from_settings(cls, settings: Settings) -> VoicePrices:
        gpu_rate = settings.modal_gpu_usd_per_second  # None: the list price of MODAL_GPU
        if not settings.modal_gpu:
            gpu_rate = 0.0
        elif gpu_rate is None:
            gpu_rate = MODAL_GPU_USD_PER_SECOND.get(settings.modal_gpu, MODAL_GPU_USD_PER_SECOND["L4"])
        return cls(
            groq_usd_per_second=settings.voice_groq_usd_per_audio_hour / 3600.0,
            groq_min_seconds=settings.voice_groq_min_billed_seconds,
            modal_usd_per_second=gpu_rate
            + settings.modal_cpu * settings.modal_cpu_usd_per_core_second
            + MODAL_MEMORY_GIB * settings.modal_memory_usd_per_gib_second,
            modal_scaledown_seconds=float(settings.modal_scaledown_window_seconds),
            modal_gpu=bool(settings.modal_gpu),
        )


def groq_cost_usd(seconds: float, prices: VoicePrices) -> float:
    """One Groq transcription: the clip's seconds, billed as at least ``groq_min_seconds``."""
    return max(seconds, prices.groq_min_seconds) * prices.groq_usd_per_second


def modal_seconds(seconds: float, *, exercise: bool, gpu: bool = True) -> float:
    """Container seconds to process one clip (``MODAL_SECONDS``, ``MODAL_CPU_SECONDS`` without a GPU)."""
    fixed, per_second = (MODAL_SECONDS if gpu else MODAL_CPU_SECONDS)["exercise" if exercise else "free"]
    return fixed + per_second * seconds


def modal_cost_usd(seconds: float, prices: VoicePrices, *, exercise: bool, idle_for: float | None) -> float:
    """One Modal call: its processing plus the idle tail it adds (module docstring). ``idle_for``: seconds
    since the container last answered, ``None`` when no container is known to be up (a cold start)."""
    work = modal_seconds(seconds, exercise=exercise, gpu=prices.modal_gpu)
    if idle_for is None or idle_for >= prices.modal_scaledown_seconds:
        tail = MODAL_START_SECONDS + prices.modal_scaledown_seconds
    else:
        tail = max(idle_for, 0.0)
    return (work + tail) * prices.modal_usd_per_second


__all__ = ["VoicePrices", "groq_cost_usd", "modal_cost_usd", "modal_seconds"]
