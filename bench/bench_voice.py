"""Benchmark of the voice pipeline's CPU work (run: ``.venv/bin/python bench/bench_voice.py [--full]``).

Measured on one core (BLAS/OpenMP threads pinned to 1, process pinned to one CPU where allowed):

1. audio preparation (decode OGG/Opus, resample 48 -> 16 kHz, frame energies, VAD, SNR, normalise)
   per clip of espeak-ng speech padded with room noise to 5/15/30 s (60 s with ``--full``), as a real-time
   factor (seconds of work per second of audio), against the baseline of decoding alone;
2. alignment and scoring given posteriors: a posteriorgram the size of the real phoneme model's
   (50 frames/s, 392 tokens) for a text spoken at ~12 phones/s; prosody (parselmouth pitch and
   intensity) timed apart and together;
3. peak memory: Python/numpy allocations (tracemalloc) per step and the process's max RSS.

Target (issue 7): preparation and scoring together under 5% of the audio's duration (RTF < 0.05).
p50/p95/p99 are over ``--repeat`` runs per size (default 7; 25 with ``--full``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import contextlib
import io
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import soundfile as sf  # type: ignore[import-untyped]  # noqa: E402

from espaluz.voice.audio import decode, prepare, resample  # noqa: E402
from espaluz.voice.phones import expected_phones  # noqa: E402
from espaluz.voice.prosody import track  # noqa: E402
from espaluz.voice.scoring import Vocabulary, score  # noqa: E402

TEXT = (
    "El perro de mi vecino corre por la calle todas las mañanas, y yo quiero aprender a pronunciar "
    "bien la erre. Mañana vamos a la playa con mis amigos de la universidad."
)
VOCAB_SIZE = 392  # facebook/wav2vec2-lv-60-espeak-cv-ft
FRAMES_PER_SECOND = 50
PHONES_PER_SECOND = 12


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def speech_clip(seconds: float) -> bytes:
    """espeak-ng speech of TEXT (looped) with room noise, as a 48 kHz OGG/Opus voice note."""
    binary = shutil.which("espeak-ng")
    rng = np.random.default_rng(0)
    if binary:
        raw = subprocess.run(
            [binary, "-v", "es-419", "--stdout", TEXT], capture_output=True, check=True
        ).stdout
        speech, rate = sf.read(io.BytesIO(raw), dtype="float32")
        speech = resample(speech, rate, 48_000) * 0.5
    else:  # no espeak-ng: amplitude-modulated tones stand in for speech
        t = np.arange(48_000 * 4) / 48_000
        speech = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    total = int(seconds * 48_000)
    reps = int(np.ceil(total / speech.size))
    clip = np.tile(np.concatenate([speech, np.zeros(24_000, np.float32)]), reps)[:total]
    clip = clip + rng.normal(0, 0.002, clip.size).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, clip, 48_000, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def posteriorgram(seconds: float, text: str) -> tuple[np.ndarray, Vocabulary, str]:
    """Peaky CTC log-posteriors for ``text`` trimmed to fit ``seconds`` at 12 phones/s."""
    budget = int(seconds * PHONES_PER_SECOND)
    words: list[str] = []
    count = 0
    for word in text.split() * 20:  # the text, looped, until the phone budget is filled
        size = len(expected_phones(word).phones)
        if count + size > budget:
            break
        words.append(word)
        count += size
    expected = expected_phones(" ".join(words))
    phones = sorted({p for slot in expected.phones for p in slot.accepted})
    tokens = ["<pad>", *phones] + [f"x{i}" for i in range(VOCAB_SIZE - 1 - len(phones))]
    frames = int(seconds * FRAMES_PER_SECOND)
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1, (frames, VOCAB_SIZE)).astype(np.float32)
    logits[:, 0] += 6.0  # blank dominates, as in a real CTC model
    positions = np.linspace(2, frames - 3, len(expected.phones)).astype(int)
    for pos, slot in zip(positions, expected.phones, strict=True):
        logits[pos, tokens.index(slot.phone)] += 12.0
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return log_probs.astype(np.float32), Vocabulary(tokens), " ".join(words)


def make_steps(
    clip: bytes, samples: np.ndarray, log_probs: np.ndarray, vocabulary: Vocabulary, text: str
) -> dict[str, Callable[[], object]]:
    def run_all() -> object:
        ready = prepare(clip, max_bytes=10**9, max_seconds=3600)
        assert not isinstance(ready, str)
        return score(log_probs, vocabulary, text, prosody=track(ready.samples, ready.sample_rate))

    return {
        "decode (baseline)": lambda: decode(clip),
        "prepare": lambda: prepare(clip, max_bytes=10**9, max_seconds=3600),
        "align+score": lambda: score(log_probs, vocabulary, text, prosody=None),
        "prosody (parselmouth)": lambda: track(samples, 16_000),
        "prepare+prosody+score": run_all,
    }


def modal_class_latency(size: str, sizes: list[float], repeat: int) -> None:
    """Per-clip latency of gpu/app.py's ``run_assessment`` (the body of ``Pronunciation.assess``) on
    random weights: whisper + phoneme model + scoring, on CUDA when present."""
    import importlib

    torch = importlib.import_module("torch")
    app = importlib.import_module("gpu.app")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    started = time.perf_counter()
    models = app.load_tiny(device, size=size)
    print(f"modal class ({size} random weights, {device}): loaded in {time.perf_counter() - started:.1f} s")
    for seconds in sizes:
        clip = speech_clip(seconds)

        def run(clip: bytes = clip) -> object:
            return app.run_assessment(models, device, clip, TEXT, "latam")

        latencies = timed(run, repeat)
        p50, p95, p99 = percentiles(latencies)
        print(f"{seconds:>5.0f}s  per clip p50 {p50:.3f} s  p95 {p95:.3f} s  p99 {p99:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="add 60 s clips and 25 repeats")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument(
        "--modal-class",
        choices=["tiny", "real"],
        help="also time the Modal class body per clip on random weights (real: the real models' sizes, "
        "meant for a GPU; needs torch and transformers)",
    )
    args = parser.parse_args()
    repeat = args.repeat or (25 if args.full else 7)
    sizes = [5.0, 15.0, 30.0, 60.0] if args.full else [5.0, 15.0, 30.0]
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    print(f"voice bench: one core, {repeat} runs per size; times are seconds of work per second of audio")
    header = (
        f"{'clip':>6}  {'step':<22}{'p50 RTF':>10}{'p95 RTF':>10}{'p99 RTF':>10}{'x audio':>9}{'peak MB':>9}"
    )
    print(header)
    worst = 0.0
    for seconds in sizes:
        clip = speech_clip(seconds)
        prepared = prepare(clip, max_bytes=10**9, max_seconds=3600)
        assert not isinstance(prepared, str), prepared
        log_probs, vocabulary, text = posteriorgram(seconds, TEXT)
        samples = prepared.samples

        steps = make_steps(clip, samples, log_probs, vocabulary, text)
        base = None
        for name, fn in steps.items():
            rtf = [t / seconds for t in timed(fn, repeat)]
            p50, p95, p99 = percentiles(rtf)
            base = base or p50
            mb = peak_bytes(fn) / 2**20
            ratio = p50 / base
            print(f"{seconds:>5.0f}s  {name:<22}{p50:>10.4f}{p95:>10.4f}{p99:>10.4f}{ratio:>8.1f}x{mb:>9.1f}")
            if name == "prepare+prosody+score":
                worst = max(worst, p95)
        aligned = len(expected_phones(text).phones)
        print(f"{'':>8}phones aligned: {aligned}, frames: {log_probs.shape[0]}")
    if args.modal_class:
        modal_class_latency(args.modal_class, sizes, repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "OK" if worst < 0.05 else "MISSED"
    print(
        f"max RSS {rss:.0f} MB; worst p95 RTF of prepare+prosody+score {worst:.4f} (target < 0.05): {verdict}"
    )


if __name__ == "__main__":
    main()
