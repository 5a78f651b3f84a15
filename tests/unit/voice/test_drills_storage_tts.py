"""Pronunciation drills (weak phones, minimal pairs, skills), the local audio store with retention, and
the model pronunciation as a voice note (espeak-ng -> OGG/Opus within WhatsApp's 512 KB)."""

from __future__ import annotations

import io
import os
import random
import time
from pathlib import Path
from uuid import uuid4

import pytest
import soundfile as sf  # type: ignore[import-untyped]

from espaluz.memory.kinds import Performance
from espaluz.voice.drills import Drill, drill_for, next_drill, pair_words, phone_performance, skill_for
from espaluz.voice.scoring import Vocabulary, score
from espaluz.voice.storage import LocalAudioStore, audio_key
from espaluz.voice.tts import EspeakSpeaker, SpeechUnavailable, encode_voice_note
from espaluz.whatsapp.outgoing import MAX_VOICE_BYTES, check_voice_note
from tests.voice_samples import VOCAB, posteriorgram


def test_trill_pairs_come_from_the_lexicon() -> None:
    pairs = pair_words("r")
    assert ("perro", "pero") in pairs
    assert ("carro", "caro") in pairs
    assert all(a != b for a, b in pairs)


def test_minimal_pair_drill_and_its_state_round_trip() -> None:
    rng = random.Random(1)
    drills = {drill_for("r", rng=rng).kind for _ in range(12)}
    assert drills == {"minimal_pair", "phrase"}
    drill = next(d for d in (drill_for("r", rng=rng) for _ in range(20)) if d.kind == "minimal_pair")
    assert drill.skill == "pron:r"
    assert "," in drill.text
    assert drill.text in drill.prompt
    assert Drill.from_state(drill.to_state()) == drill


def test_performance_per_drillable_phone_worst_occurrence_wins() -> None:
    """*perro* with a tap: [r] is WRONG; [p] and [e] fine; spirants count for their stop ([ð] -> d)."""
    result = score(posteriorgram(["p", "e", "ɾ", "o", "l", "a", "d", "o"]), Vocabulary(VOCAB), "perro lado")
    perf = phone_performance(result)
    assert perf["r"] is Performance.WRONG
    assert perf["d"] is Performance.CORRECT
    assert perf["e"] is Performance.CORRECT
    assert "p" not in perf  # not a drillable contrast


def test_next_drill_prefers_due_skill_then_weak_phone() -> None:
    rng = random.Random(0)
    assert next_drill([skill_for("θ")], ["r"], "spain", rng=rng).phone == "θ"  # type: ignore[union-attr]
    assert next_drill(["verb:ser", "pron:zz"], ["β"], rng=rng).phone == "b"  # type: ignore[union-attr]
    assert next_drill([], ["p"], rng=rng) is None


def test_local_store_keeps_then_purges_after_retention(tmp_path: Path) -> None:
    store = LocalAudioStore(tmp_path, retention_days=30)
    learner = uuid4()
    key = store.save(learner, "wamid.HBg/../x==", b"OggS-data")
    assert key == audio_key(learner, "wamid.HBg/../x==")
    assert key.count("/") == 2
    assert store.load(key) == b"OggS-data"
    old = time.time() - 31 * 86400
    os.utime(tmp_path / key, (old, old))
    assert store.purge() == 1
    assert not (tmp_path / key).exists()


def test_local_store_refuses_keys_outside_it(tmp_path: Path) -> None:
    """Bad input: a forged key must not read files outside the store."""
    with pytest.raises(ValueError, match="outside"):
        LocalAudioStore(tmp_path / "store", 30).load("../../etc/passwd")


def test_espeak_model_pronunciation_is_a_valid_voice_note() -> None:
    data = EspeakSpeaker().speak("el perro", "latam")
    check_voice_note(data, "audio/ogg")
    samples, rate = sf.read(io.BytesIO(data))
    assert rate == 16_000
    assert 0.4 < len(samples) / rate < 3.0


def test_missing_espeak_and_oversized_audio_raise_speech_unavailable() -> None:
    with pytest.raises(SpeechUnavailable):
        EspeakSpeaker(binary="espeak-ng-not-installed").speak("hola", "latam")
    import numpy as np

    noise = np.random.default_rng(0).uniform(-1, 1, 16_000 * 200).astype(np.float32)  # ~200 s of noise
    with pytest.raises(SpeechUnavailable, match=str(MAX_VOICE_BYTES)):
        encode_voice_note(noise, 16_000)
