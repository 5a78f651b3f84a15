"""CTC forced alignment and greedy decoding on constructed posteriorgrams (known right answers)."""

from __future__ import annotations

import numpy as np
import pytest

from espaluz.voice.alignment import AlignmentError, forced_align, greedy_decode, log_softmax
from tests.voice_samples import VOCAB, posteriorgram


def ids(*phones: str) -> list[list[int]]:
    return [[VOCAB.index(p)] for p in phones]


def test_each_phone_lands_on_its_peak_frame() -> None:
    """The path must put every expected phone on the frame where the model heard it, in order."""
    grams = posteriorgram(["p", "e", "r", "o"], blanks=2)
    alignment = forced_align(grams, ids("p", "e", "r", "o"))
    assert [a.start for a in alignment.phones] == [2, 5, 8, 11]
    assert all(a.end == a.start + 1 for a in alignment.phones)
    # spans run to the next phone; the last runs to the end of the clip
    assert [a.span_end for a in alignment.phones] == [5, 8, 11, grams.shape[0]]
    assert alignment.log_likelihood > -2.0


def test_repeated_phone_needs_a_blank_between() -> None:
    """CTC cannot emit the same token twice without a blank: two [a] in a row need three frames."""
    a = VOCAB.index("a")
    grams = np.log(np.full((2, len(VOCAB)), 1.0 / len(VOCAB), dtype=np.float32))
    with pytest.raises(AlignmentError):
        forced_align(grams, [[a], [a]])
    grams3 = np.log(np.full((3, len(VOCAB)), 1.0 / len(VOCAB), dtype=np.float32))
    alignment = forced_align(grams3, [[a], [a]])
    assert alignment.phones[0].end <= alignment.phones[1].start - 1


def test_too_few_frames_and_empty_targets_are_refused() -> None:
    """Bad input: more phones than frames, or nothing to align."""
    grams = posteriorgram(["p"], blanks=0)
    with pytest.raises(AlignmentError):
        forced_align(grams, ids("p", "e", "r", "o"))
    with pytest.raises(ValueError, match="no expected"):
        forced_align(grams, [])


def test_accepted_variant_is_reported_as_the_emitted_token() -> None:
    """A slot with variants ([ʝ] or [ʎ]) aligns to whichever the speaker made, and says which."""
    grams = posteriorgram(["k", "a", "ʎ", "e"])
    alignment = forced_align(
        grams,
        [[VOCAB.index("k")], [VOCAB.index("a")], [VOCAB.index("ʝ"), VOCAB.index("ʎ")], [VOCAB.index("e")]],
    )
    assert VOCAB[alignment.phones[2].token] == "ʎ"


def test_greedy_decode_collapses_repeats_and_drops_blanks() -> None:
    grams = posteriorgram(["p", "e", "ɾ", "o"], blanks=1)
    doubled = np.repeat(grams, 2, axis=0)  # every frame twice: repeats must collapse
    assert [VOCAB[d.token] for d in greedy_decode(doubled)] == ["p", "e", "ɾ", "o"]


def test_log_softmax_rows_are_distributions() -> None:
    logits = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32) * 10
    assert np.allclose(np.exp(log_softmax(logits)).sum(axis=1), 1.0, atol=1e-5)
