"""Pronunciation scoring from a phoneme posteriorgram: per phone, per word, per utterance.

Inputs: the CTC log-posteriors of a phoneme model (T frames x V tokens), its vocabulary, and the
expected text. Steps:

1. expected phones for the learner's dialect, each slot with its accepted variants
   (:mod:`espaluz.voice.phones`);
2. forced alignment of those slots to the frames (:func:`espaluz.voice.alignment.forced_align`);
3. goodness of pronunciation per phone over its label frames: GOP is the mean log-ratio of the
   expected phone's posterior to the best non-blank posterior (0 when it is the best); the 0-100
   phone score is the mean posterior of the expected phone among the non-blank tokens. A phone whose
   frames are nearly all blank was not said (omission);
4. free decoding (greedy CTC) aligned to the expected slots by edit distance: a substituted slot names
   the phone the learner actually made, decoded phones matching no slot are insertions;
5. the substitution diagnosed with the Spanish engine's minimal pairs: aiming at *perro* with a tap
   gives "You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]" (stored in English; the
   feedback re-derives it in the learner's language, see ``WordScore.substitution``);
6. unexpected pauses between words (a long run of blank frames, or a VAD pause, where no punctuation
   invites one), speaking rate, and stress from pitch and intensity when a prosody track is given.

Scores follow the assessment services' shape: accuracy, fluency, completeness and prosody (0-100), an
overall score, and words with their phones. Words are marked at three levels, not right or wrong.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from espaluz.spanish.phonetics import contrast_message, minimal_pairs, phone_name
from espaluz.voice.alignment import forced_align, greedy_decode
from espaluz.voice.phones import Expected, expected_phones, is_vowel, normalise

if TYPE_CHECKING:
    from espaluz.voice.alignment import DecodedPhone
    from espaluz.voice.prosody import ProsodyTrack

logger = logging.getLogger(__name__)

FRAME_SECONDS = 0.02  # wav2vec2: one frame per 320 samples at 16 kHz
GOOD = 80.0
FAIR = 50.0
OMITTED_MASS = 0.3  # non-blank probability under this on all of a phone's frames: not said
PAUSE_SECONDS = 0.4
COMFORTABLE_RATE = (2.5, 7.0)  # syllables per second; learners' careful speech starts near 2.5
_SPIRANT_TO_STOP = {"β": "b", "ð": "d", "ɣ": "g"}


class Level(StrEnum):
    """Three marks for a word: said well, nearly, needs work."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class ErrorType(StrEnum):
    MISPRONUNCIATION = "mispronunciation"
    OMISSION = "omission"
    INSERTION = "insertion"
    UNEXPECTED_PAUSE = "unexpected_pause"
    STRESS = "stress"


def level_of(score: float) -> Level:
    return Level.GOOD if score >= GOOD else Level.FAIR if score >= FAIR else Level.POOR


@dataclass(frozen=True, slots=True)
class PhoneScore:
    phone: str
    score: float
    gop: float
    produced: str | None  # the phone the learner made instead, when it differs
    error: ErrorType | None
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class WordScore:
    text: str
    score: float
    level: Level
    errors: tuple[ErrorType, ...]
    phones: tuple[PhoneScore, ...]
    start: float
    end: float
    stress_expected: int
    stress_found: int | None = None
    # The explanation of a substitution, in English: the wire shape the Modal app has always sent. A
    # learner's message re-derives it in their language from ``substitution()`` (:func:`diagnose`).
    diagnosis: str | None = None

    def substitution(self) -> tuple[int, PhoneScore] | None:
        """The phone ``diagnosis`` explains, with its index in the word (``None``: no substitution).

        A method, not a field, so the JSON that crosses the Modal boundary keeps its shape: results of
        an older deployed app carry the same phones, and this finds the same one in them."""
        return _worst_substitution(self.phones)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The result of one pronunciation assessment; ``to_json``/``from_json`` cross the Modal boundary."""

    expected_text: str
    transcript: str
    approximate: bool  # no expected text: the transcript stood in for it
    accuracy: float
    fluency: float
    completeness: float
    prosody: float
    overall: float
    words: tuple[WordScore, ...]
    speaking_rate: float  # syllables per second of speech
    pauses: int
    insertions: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Assessment:
        words = tuple(
            WordScore(
                **{
                    **w,
                    "level": Level(w["level"]),
                    "errors": tuple(ErrorType(e) for e in w["errors"]),
                    "phones": tuple(
                        PhoneScore(**{**p, "error": ErrorType(p["error"]) if p["error"] else None})
                        for p in w["phones"]
                    ),
                }
            )
            for w in data["words"]
        )
        return cls(**{**data, "words": words, "insertions": tuple(data.get("insertions", ()))})

    def weak_phones(self) -> list[str]:
        """Expected phones the learner missed or mispronounced, worst first (for drills)."""
        found = sorted(
            (p for w in self.words for p in w.phones if p.error in (ErrorType.MISPRONUNCIATION,)),
            key=lambda p: p.score,
        )
        return list(dict.fromkeys(p.phone for p in found))


class Vocabulary:
    """A phoneme model's tokens, normalised to the G2P's alphabet, with the blank's index."""

    def __init__(self, tokens: Sequence[str], blank: int = 0) -> None:
        self.tokens = [normalise(t) for t in tokens]
        self.blank = blank
        self.ids: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            if i != blank and token:
                self.ids.setdefault(token, []).append(i)
        self.non_blank = np.array([i for i in range(len(self.tokens)) if i != blank], dtype=np.int64)

    def accepted_ids(self, accepted: frozenset[str]) -> list[int]:
        return sorted({i for phone in accepted for i in self.ids.get(phone, ())})


def _edit_alignment(
    decoded: Sequence[str], slots: Sequence[frozenset[str]]
) -> tuple[dict[int, str | None], list[tuple[int, str]]]:
    """Levenshtein alignment of the decoded phones to the expected slots.

    Returns (slot -> decoded phone or None when deleted, only for slots not matched exactly) and the
    insertions as (slot index they follow, -1 for the start; phone)."""
    n, m = len(slots), len(decoded)
    # mismatch[i, j]: decoded phone j is not accepted in slot i
    mismatch = np.array([[phone not in slot for phone in decoded] for slot in slots], dtype=np.int32)
    mismatch = mismatch.reshape(n, m)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[0, :] = np.arange(m + 1)
    steps = np.arange(m + 1, dtype=np.int32)
    for i in range(1, n + 1):
        # Row by row, vectorised: substitution/match and deletion first, then the insertions along the
        # row as a running minimum (cost[i, j] = min_k<=j (best[k] + j - k)).
        best = np.empty(m + 1, dtype=np.int32)
        best[0] = i
        best[1:] = np.minimum(cost[i - 1, :-1] + mismatch[i - 1], cost[i - 1, 1:] + 1)
        cost[i] = np.minimum.accumulate(best - steps) + steps
    changed: dict[int, str | None] = {}
    inserted: list[tuple[int, str]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if (
            i > 0
            and j > 0
            and cost[i, j] == cost[i - 1, j - 1] + (0 if decoded[j - 1] in slots[i - 1] else 1)
        ):
            if decoded[j - 1] not in slots[i - 1]:
                changed[i - 1] = decoded[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            changed[i - 1] = None
            i -= 1
        else:
            inserted.append((i - 1, decoded[j - 1]))
            j -= 1
    return changed, inserted[::-1]


def _phonemic(phone: str) -> str:
    return _SPIRANT_TO_STOP.get(phone, phone)


def _worst_substitution(phones: Sequence[PhoneScore]) -> tuple[int, PhoneScore] | None:
    """The lowest-scored mispronounced phone whose replacement was recognised, and its index."""
    found = [(i, p) for i, p in enumerate(phones) if p.produced and p.error is ErrorType.MISPRONUNCIATION]
    return min(found, key=lambda item: item[1].score, default=None)


def pair_word(word: str, position: int, produced: str, dialect: str) -> str | None:
    """The word the learner said instead of ``word`` when ``produced`` at phone ``position`` makes one
    (a minimal pair in ``dialect``: *perro* with a tap is *pero*), else ``None``."""
    for pair in minimal_pairs(word, dialect):
        matches = pair.position == position and pair.other == _phonemic(produced)
        if matches and contrast_message(word, pair.word, dialect):
            return pair.word
    return None


def diagnose(
    word: str, position: int, expected: str, produced: str, dialect: str, language: str = "en"
) -> str:
    """Explain a substitution in ``word`` at phone ``position``: with the minimal pair when the
    learner's phone makes another word, else by naming the two sounds. ``language``: ``"es"`` for
    Spanish, anything else English (what ``WordScore.diagnosis`` stores)."""
    other = pair_word(word, position, produced, dialect)
    if other is not None:
        message = contrast_message(word, other, dialect, language)
        if message:
            return message
    said = phone_name(produced, language)
    needed = phone_name(expected, language)
    if language == "es":
        return f"En *{word.lower()}* hiciste {said}; la palabra lleva {needed}."
    return f"In *{word.lower()}* you made {said}; it needs {needed}."


def _rate_score(rate: float) -> float:
    low, high = COMFORTABLE_RATE
    if rate <= 0:
        return 0.0
    if rate < low:
        return 100.0 * rate / low
    if rate > high:
        return max(0.0, 100.0 - 20.0 * (rate - high))
    return 100.0


def score(
    log_probs: np.ndarray,
    vocabulary: Vocabulary,
    expected_text: str,
    *,
    dialect: str = "latam",
    transcript: str = "",
    approximate: bool = False,
    frame_seconds: float = FRAME_SECONDS,
    prosody: ProsodyTrack | None = None,
    vad_pauses: Sequence[tuple[float, float]] = (),
) -> Assessment:
    """Assess one utterance; see the module docstring. Raises ``ValueError`` for an expected text with
    no word, :class:`espaluz.voice.alignment.AlignmentError` for a clip too short for it."""
    expected = expected_phones(expected_text, dialect)
    blank = vocabulary.blank
    everything = frozenset(vocabulary.ids)
    targets = [
        vocabulary.accepted_ids(slot.accepted) or vocabulary.accepted_ids(everything)
        for slot in expected.phones
    ]
    alignment = forced_align(log_probs, targets, blank)
    probs = np.exp(log_probs.astype(np.float64))
    non_blank_mass = 1.0 - probs[:, blank]

    decoded: list[DecodedPhone] = greedy_decode(log_probs, blank)
    decoded_phones = [vocabulary.tokens[d.token] for d in decoded]
    changed, inserted = _edit_alignment(decoded_phones, [s.accepted for s in expected.phones])

    phone_scores: list[PhoneScore] = []
    for slot, aligned, ids in zip(expected.phones, alignment.phones, targets, strict=True):
        frames = np.arange(aligned.start, aligned.end)
        span = np.arange(aligned.start, aligned.span_end)
        target_p = probs[np.ix_(frames, np.asarray(ids, dtype=np.int64))].max(axis=1)
        best_other = probs[np.ix_(frames, vocabulary.non_blank)].max(axis=1)
        gop = float(np.mean(np.log(target_p + 1e-12) - np.log(np.maximum(best_other, target_p) + 1e-12)))
        share = float(np.mean(target_p / np.maximum(non_blank_mass[frames], 1e-9)))
        value = round(100.0 * min(1.0, share), 1)
        produced: str | None = None
        error: ErrorType | None = None
        if float(non_blank_mass[span].max()) < OMITTED_MASS:
            value, error = 0.0, ErrorType.OMISSION
        elif value < GOOD:
            guess = changed.get(aligned.index)
            if guess is None:
                nb = probs[np.ix_(frames, vocabulary.non_blank)].sum(axis=0)
                guess = vocabulary.tokens[int(vocabulary.non_blank[int(nb.argmax())])]
            if guess not in slot.accepted:
                produced = guess
            if value < FAIR:
                error = ErrorType.MISPRONUNCIATION
        phone_scores.append(
            PhoneScore(
                slot.phone,
                value,
                round(gop, 3),
                produced,
                error,
                round(aligned.start * frame_seconds, 3),
                round(aligned.span_end * frame_seconds, 3),
            )
        )

    insert_by_word: dict[int, list[str]] = {}
    for after, phone in inserted:
        word_index = expected.phones[max(after, 0)].word_index
        insert_by_word.setdefault(word_index, []).append(phone)

    words: list[WordScore] = []
    pauses = 0
    stress_checked = stress_right = 0
    for w_index, word in enumerate(expected.words):
        phones = phone_scores[word.first_phone : word.first_phone + len(word.phones)]
        word_aligned = alignment.phones[word.first_phone : word.first_phone + len(word.phones)]
        errors: list[ErrorType] = []
        value = float(np.mean([p.score for p in phones]))
        for p in phones:
            if p.error and p.error not in errors:
                errors.append(p.error)
        if errors:
            value = min(value, GOOD - 1.0)  # one wrong sound in a long word still keeps it off "good"
        if w_index in insert_by_word:
            errors.append(ErrorType.INSERTION)
            value = max(0.0, value - 10.0 * len(insert_by_word[w_index]))
        if w_index > 0 and not expected.words[w_index - 1].pause_after:
            prev_end = alignment.phones[word.first_phone - 1].end
            gap_start, gap_end = prev_end * frame_seconds, word_aligned[0].start * frame_seconds
            vad_gap = any(
                a >= gap_start - 0.1 and b <= gap_end + 0.1 and b - a >= PAUSE_SECONDS * 0.75
                for a, b in vad_pauses
            )
            if gap_end - gap_start >= PAUSE_SECONDS and (vad_gap or not vad_pauses):
                errors.append(ErrorType.UNEXPECTED_PAUSE)
                pauses += 1
        diagnosis = None
        worst = _worst_substitution(phones)
        if worst is not None:
            position, swapped = worst
            diagnosis = diagnose(word.text, position, swapped.phone, swapped.produced or "", dialect)
        stress_found = None
        if prosody is not None:
            from espaluz.voice.prosody import stressed_syllable

            nuclei = [
                (a.start * frame_seconds, a.span_end * frame_seconds)
                for a, ph in zip(word_aligned, word.phones, strict=True)
                if is_vowel(ph)
            ]
            if len(nuclei) == len(word.syllables) and len(nuclei) > 1:
                stress_found = stressed_syllable(prosody, nuclei)
                if stress_found is not None:
                    stress_checked += 1
                    stress_right += int(stress_found == word.stress)
                    if stress_found != word.stress:
                        errors.append(ErrorType.STRESS)
        value = round(value, 1)
        words.append(
            WordScore(
                word.text,
                value,
                level_of(value),
                tuple(errors),
                tuple(phones),
                phones[0].start,
                phones[-1].end,
                word.stress,
                stress_found,
                diagnosis,
            )
        )

    accuracy = float(np.mean([p.score for p in phone_scores]))
    said = [w for w in words if sum(p.error is ErrorType.OMISSION for p in w.phones) * 2 < len(w.phones)]
    completeness = 100.0 * len(said) / len(words)
    speech_start = alignment.phones[0].start * frame_seconds
    speech_end = alignment.phones[-1].end * frame_seconds
    pause_time = sum(
        (alignment.phones[w.first_phone].start - alignment.phones[w.first_phone - 1].end) * frame_seconds
        for i, w in enumerate(expected.words)
        if i > 0 and ErrorType.UNEXPECTED_PAUSE in words[i].errors
    )
    syllables = sum(len(w.syllables) for w in expected.words)
    speaking_time = max(speech_end - speech_start - pause_time, frame_seconds)
    rate = syllables / speaking_time
    fluency = max(0.0, _rate_score(rate) - 15.0 * pauses - 10.0 * len(inserted))
    pause_score = max(0.0, 100.0 - 25.0 * pauses)
    if stress_checked:
        prosody_score = (
            0.6 * 100.0 * stress_right / stress_checked + 0.2 * _rate_score(rate) + 0.2 * pause_score
        )
    else:
        prosody_score = 0.5 * _rate_score(rate) + 0.5 * pause_score
    overall = 0.5 * accuracy + 0.2 * fluency + 0.15 * completeness + 0.15 * prosody_score
    return Assessment(
        expected_text=expected_text,
        transcript=transcript,
        approximate=approximate,
        accuracy=round(accuracy, 1),
        fluency=round(fluency, 1),
        completeness=round(completeness, 1),
        prosody=round(prosody_score, 1),
        overall=round(overall, 1),
        words=tuple(words),
        speaking_rate=round(rate, 2) if math.isfinite(rate) else 0.0,
        pauses=pauses,
        insertions=tuple(p for _, p in inserted),
    )


def expected_for(expected_text: str | None, transcript: str) -> tuple[str, bool]:
    """The text to score against and whether the result is approximate (free speech: the transcript
    stands in for the text the learner meant, and Whisper repairs words towards real ones)."""
    if expected_text and expected_text.strip():
        return expected_text, False
    return transcript, True


__all__ = ["Assessment", "ErrorType", "Expected", "Level", "PhoneScore", "Vocabulary", "WordScore", "score"]
