"""Expected phones for a text, with the regional variants a tutor should accept.

The expected transcription comes from the Spanish engine's G2P (:func:`espaluz.spanish.phonetics.g2p`)
for the learner's dialect. Each position then lists every phone that counts as right there:

- the spirant/stop pairs [β b], [ð d], [ɣ g] (a learner's stop where a native uses the spirant is an
  accent, not an error, and phoneme models trained on espeak output confuse them anyway);
- yeísmo and its regional forms for *ll*/*y*: [ʝ ʎ j ɟʝ ʃ ʒ] (sheísmo/zheísmo in the River Plate);
- seseo in Spain: [θ] expected, [s] accepted (Andalusia, the Canaries);
- the soft jota [h] for [x] (Caribbean, Central America, Colombia, Andalusia);
- aspiration of a syllable-final *s* ([h]) and a velar final *n* ([ŋ]).

A phoneme model speaks "espeak IPA": stress marks and length marks are decoration and the affricate may
come without its tie bar; :func:`normalise` maps a model token to the G2P's alphabet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from espaluz.spanish.phonetics import g2p

_DECORATION = str.maketrans({"ˈ": None, "ˌ": None, "ː": None, "ˑ": None, "͡": None, "‿": None})
_TIED = {"tʃ": "t͡ʃ", "ɟʝ": "ɟ͡ʝ", "dʒ": "d͡ʒ", "ts": "t͡s"}
_SPIRANTS = {"b": "β", "d": "ð", "g": "ɣ"}
_VOWELS = frozenset("aeiou")
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ0-9]+")
_PUNCTUATION = re.compile(r"[,.;:!?¡¿…—-]")

YEISMO = ("ʝ", "ʎ", "j", "ɟ͡ʝ", "ʃ", "ʒ")


def normalise(token: str) -> str:
    """A phoneme model's token in the G2P's alphabet: no stress or length marks, tie bars restored,
    the IPA script g (U+0261) as the plain letter."""
    bare = token.translate(_DECORATION).replace("ɡ", "g").strip()
    return _TIED.get(bare, bare)


def is_vowel(phone: str) -> bool:
    return phone in _VOWELS


@dataclass(frozen=True, slots=True)
class ExpectedPhone:
    """One slot of the expected transcription: the dialect's phone and every accepted variant."""

    phone: str
    accepted: frozenset[str]
    word_index: int


@dataclass(frozen=True, slots=True)
class ExpectedWord:
    text: str
    phones: tuple[str, ...]
    syllables: tuple[str, ...]
    stress: int
    first_phone: int  # index of the word's first phone in the utterance
    pause_after: bool = False  # punctuation follows: a pause here is expected, not a hesitation


@dataclass(frozen=True, slots=True)
class Expected:
    words: tuple[ExpectedWord, ...]
    phones: tuple[ExpectedPhone, ...]


def variants(phones: tuple[str, ...], index: int, dialect: str) -> frozenset[str]:
    """Every phone accepted at ``phones[index]`` in ``dialect`` (see the module docstring)."""
    phone = phones[index]
    nxt = phones[index + 1] if index + 1 < len(phones) else ""
    accepted = {phone}
    for stop, spirant in _SPIRANTS.items():
        if phone in (stop, spirant):
            accepted |= {stop, spirant}
    if phone in ("ʝ", "ʎ"):
        accepted |= set(YEISMO)
    if phone == "θ":
        accepted.add("s")
    if phone == "x":
        accepted |= {"h", "χ"}
    if phone == "s" and (nxt == "" or not is_vowel(nxt)):
        accepted.add("h")
    if phone == "n" and nxt == "":
        accepted.add("ŋ")
    # Glides: espeak-trained models write them as the vowel (or the other glide notation).
    if phone in ("i̯", "j"):
        accepted |= {"i", "j", "i̯"}
    if phone in ("u̯", "w"):
        accepted |= {"u", "w", "u̯"}
    return frozenset(accepted)


def words_of(text: str) -> list[str]:
    """The words of a text as G2P takes them (punctuation dropped, numbers kept)."""
    return _WORD.findall(text)


def expected_phones(text: str, dialect: str = "latam") -> Expected:
    """Expected words and phones of ``text`` in ``dialect``; raises ``ValueError`` for a text with no
    word in it."""
    words: list[ExpectedWord] = []
    slots: list[ExpectedPhone] = []
    matches = list(_WORD.finditer(text))
    for word_index, match in enumerate(matches):
        word = match.group(0)
        pron = g2p(word, dialect)
        between = text[match.end() : matches[word_index + 1].start()] if word_index + 1 < len(matches) else ""
        pause_after = bool(_PUNCTUATION.search(between))
        words.append(ExpectedWord(word, pron.phones, pron.syllables, pron.stress, len(slots), pause_after))
        for k, phone in enumerate(pron.phones):
            slots.append(ExpectedPhone(phone, variants(pron.phones, k, dialect), word_index))
    if not words:
        raise ValueError("nothing to pronounce")
    return Expected(tuple(words), tuple(slots))
