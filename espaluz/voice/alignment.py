"""CTC forced alignment and free decoding over a phoneme posteriorgram, in numpy.

A phoneme CTC model (wav2vec2 fine-tuned on IPA) gives, every 20 ms, log-probabilities over its phone
vocabulary plus a *blank*. Forced alignment finds the single best path that spells the expected phones
(each may be any of its accepted variants) with blanks allowed between them: the classic CTC trellis of
2N+1 states (blank, phone, blank, phone, ..., blank), a phone state may be skipped into from two states
back only when the phone differs from the one before (otherwise a blank must separate them, as in CTC).

Why our own Viterbi: torchaudio's ``forced_align`` does not load with this torch (see ARCHITECTURE.md),
and the maintained aligners (MFA, ctc-segmentation) bring Kaldi or Cython builds; the scoring also runs
on a CPU in tests and benchmarks. The recursion below is O(T x N), vectorised over states.

A caller must know: frames are model frames (``frame_seconds`` apart, 0.02 s for wav2vec2); a phone's
*label frames* are the frames the path spends in its state (CTC is peaky: often one or two), its *span*
runs to the start of the next phone so timing covers the whole sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NEG_INF = -1e30


class AlignmentError(ValueError):
    """The expected phones cannot fit the clip (fewer frames than phones and required blanks)."""


@dataclass(frozen=True, slots=True)
class AlignedPhone:
    """Where expected phone ``index`` sits: label frames [start, end), span [start, span_end)."""

    index: int
    start: int
    end: int
    span_end: int
    token: int  # the accepted variant the path emitted (most probable over its label frames)


@dataclass(frozen=True, slots=True)
class Alignment:
    phones: tuple[AlignedPhone, ...]
    states: np.ndarray  # per frame: the trellis state (even = blank, 2j+1 = phone j)
    log_likelihood: float


@dataclass(frozen=True, slots=True)
class DecodedPhone:
    """A phone of the free (greedy) decoding, with its frames [start, end)."""

    token: int
    start: int
    end: int


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float32 (logits from a model to log-posteriors)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)), dtype=np.float32)


def forced_align(log_probs: np.ndarray, targets: Sequence[Sequence[int]], blank: int = 0) -> Alignment:
    """Best CTC path through ``log_probs`` (T x V) spelling ``targets`` (accepted token ids per slot).

    Raises :class:`AlignmentError` when the path cannot exist, or ``ValueError`` for no targets.
    """
    count = len(targets)
    if count == 0:
        raise ValueError("no expected phones to align")
    frames = log_probs.shape[0]
    ids = [np.fromiter(alt, dtype=np.int64) for alt in targets]
    if any(a.size == 0 for a in ids):
        raise ValueError("every slot needs at least one accepted token")
    # Emission of slot j at frame t: its best accepted variant.
    emit = np.stack([log_probs[:, a].max(axis=1) for a in ids], axis=1)  # T x N
    states = 2 * count + 1
    blank_emit = log_probs[:, blank].astype(np.float64)
    row = np.empty(states, dtype=np.float64)  # emissions of one frame, filled per frame (memory: O(N))

    def emissions(t: int) -> np.ndarray:
        row[0::2] = blank_emit[t]
        row[1::2] = emit[t]
        return row

    # Skip transition s-2 -> s allowed into a phone state whose slot shares no token with the previous.
    can_skip = np.zeros(states, dtype=bool)
    for j in range(1, count):
        can_skip[2 * j + 1] = not set(targets[j]) & set(targets[j - 1])
    repeats = sum(1 for j in range(1, count) if not can_skip[2 * j + 1])
    if frames < count + repeats:
        raise AlignmentError(f"{frames} frames cannot hold {count} phones")

    score = np.full(states, NEG_INF)
    first = emissions(0)
    score[0] = first[0]
    score[1] = first[1]
    back = np.zeros((frames, states), dtype=np.int8)
    for t in range(1, frames):
        stay = score
        step = np.concatenate(([NEG_INF], score[:-1]))
        skip = np.where(can_skip, np.concatenate(([NEG_INF, NEG_INF], score[:-2])), NEG_INF)
        options = np.stack((stay, step, skip))
        best = options.argmax(axis=0)
        back[t] = best
        score = options[best, np.arange(states)] + emissions(t)
    last = states - 1 if score[states - 1] >= score[states - 2] else states - 2
    total = float(score[last])
    if total <= NEG_INF / 2:
        raise AlignmentError("no CTC path spells the expected phones")

    path = np.empty(frames, dtype=np.int64)
    state = last
    for t in range(frames - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])

    phones: list[AlignedPhone] = []
    label_frames = [np.flatnonzero(path == 2 * j + 1) for j in range(count)]
    for j, where in enumerate(label_frames):
        start, end = int(where[0]), int(where[-1]) + 1
        span_end = int(label_frames[j + 1][0]) if j + 1 < count else frames
        frame_scores = log_probs[np.ix_(where, ids[j])]  # label frames x accepted variants
        best_token = int(ids[j][int(frame_scores.max(axis=0).argmax())])
        phones.append(AlignedPhone(j, start, end, max(span_end, end), best_token))
    return Alignment(tuple(phones), path, total)


def greedy_decode(log_probs: np.ndarray, blank: int = 0) -> list[DecodedPhone]:
    """Free phoneme decoding: best token per frame, repeats collapsed, blanks dropped."""
    best = log_probs.argmax(axis=1)
    out: list[DecodedPhone] = []
    start = 0
    for t in range(1, best.size + 1):
        if t == best.size or best[t] != best[start]:
            if best[start] != blank:
                out.append(DecodedPhone(int(best[start]), start, t))
            start = t
    return out
