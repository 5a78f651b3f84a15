"""Grapheme-to-phoneme conversion into IPA, syllables, stress and minimal pairs.

Two dialect families:
- ``latam``: seseo (*c(e,i)*, *z* → [s]) and yeísmo (*ll* = *y* → [ʝ]);
- ``spain``: distinción (*c(e,i)*, *z* → [θ]); *ll* is [ʝ] too unless ``lleismo=True`` asks for [ʎ].

Phones are one IPA symbol per list item (the affricate is ``t͡ʃ`` with its tie bar). By default
the transcription is narrow: *b d g* become [β ð ɣ] except after a pause, a nasal or (for *d*) an
*l*; *n* assimilates to [m] before labials and [ŋ] before velars. ``narrow=False`` gives the
phonemic transcription that :func:`minimal_pairs` compares. Diphthongs are written with glides:
[j w] before the nucleus, [i̯ u̯] after it.

Syllables are the orthographic ones (what a learner reads: *pe-rro*) and ``stress`` indexes them.
Digits are spelled out first (``25`` → *veinticinco*). A word is transcribed in isolation, as if
after a pause (word-initial *b d g* are stops).

Spelling rules beyond the regular alphabet, as educated speakers say the words:

- learned initial clusters drop their first consonant: *psicología* [si-], *pneumático* [ne-],
  *mnemotecnia* [ne-], *pterodáctilo* [te-], *ctenóforo* [te-], *gnomo* [no-];
- *sc*, *xc* before *e/i* (*escena*, *excelente*): one [s] under seseo, [sθ]/[ksθ] in Spain;
- a doubled consonant letter in a loanword is one sound (*jazz*, *lobby*, *cappuccino*, *Mississippi*),
  and so is *ck* (*rock*); *cc* (*acción*), *nn* (*innato*), *ll*, *rr* keep their Spanish values;
- a final *-y* after a consonant is the vowel [i] (*lobby*, *rugby*);
- *x* is [x] in *México*, *Oaxaca*, *Texas*, *Xalapa* and their derivatives, [s] word-initially
  (*Xochimilco*) and before a consonant in Nahuatl names (*Mixcoac*, *Tlaxcala*, *Texcoco*), [ks]
  elsewhere (*taxi*);
- common loanwords (*pizza* [pitsa], *wifi*, *whisky*, *show*, *sándwich*, *software*...) are read from
  their Spanish respelling in :data:`espaluz.spanish.phonetic_lexicon.LOANWORDS`; their syllables are the
  respelling's when the written word would split differently (*hobby* → *jo-bi*).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from espaluz.spanish.numbers import number_to_words
from espaluz.spanish.orthography import STRONG, stressed_syllable, strip_accents, syllabify
from espaluz.spanish.phonetic_lexicon import LOANWORDS

Dialect = Literal["latam", "spain"]
DIALECTS: tuple[str, ...] = ("latam", "spain")

_VOWEL_LETTERS = frozenset("aeiouáéíóúü")
_X_AS_JOTA = ("méxic", "mexic", "oaxac", "oaxaq", "texas", "texan", "xalap", "xavier", "ximena", "ximénez")
# Nahuatl place names whose x before a consonant is [s] (initial x is [s] anyway: Xochimilco).
_X_AS_S = ("mixcoac", "tlaxcal", "texcoc", "taxqueñ")
# Learned initial clusters whose first consonant is silent (psicología [si-]).
_SILENT_INITIAL = ("ps", "pn", "pt", "mn", "ct", "gn")
# Consonant letters that, doubled, stand for one sound (loanwords: jazz, hobby, cappuccino).
_DOUBLED_AS_ONE = frozenset("bdfgkmpstz")
_NASALS = frozenset({"m", "n", "ɲ", "ŋ"})
_SPIRANT = {"b": "β", "d": "ð", "g": "ɣ"}
_NON_LETTER = re.compile(r"[^a-zñáéíóúü0-9]")

PHONE_NAMES: dict[str, str] = {
    "ɾ": "a tap [ɾ]",
    "r": "a trill [r]",
    "θ": "[θ] (as in English 'think')",
    "s": "[s]",
    "x": "[x] (a throaty 'h')",
    "ʝ": "[ʝ] (like 'y' in 'yes')",
    "ʎ": "[ʎ]",
    "ɲ": "[ɲ] (ñ)",
    "n": "[n]",
    "t͡ʃ": "[t͡ʃ] (ch)",
}
# The same sounds named for a learner whose explanation language is Spanish: with the article, so that
# they read in "Hiciste {name}" and "lleva {name}" as the English ones do in "You made {name}".
PHONE_NAMES_ES: dict[str, str] = {
    "ɾ": "una *r* suave [ɾ]",
    "r": "una *r* fuerte [r]",
    "θ": "[θ] (como la *z* de España)",
    "s": "[s]",
    "x": "[x] (la *j*)",
    "ʝ": "[ʝ] (como la *y* de *yo*)",
    "ʎ": "[ʎ] (la *ll* tradicional)",
    "ɲ": "[ɲ] (la *ñ*)",
    "n": "[n]",
    "t͡ʃ": "[t͡ʃ] (la *ch*)",
}


def phone_name(phone: str, language: str = "en") -> str:
    """How a learner is told about ``phone``: Spanish names for ``language == "es"``, English ones
    otherwise (the caller decides which languages mean Spanish); an unnamed phone is ``[phone]``."""
    names = PHONE_NAMES_ES if language == "es" else PHONE_NAMES
    return names.get(phone, f"[{phone}]")


@dataclass(frozen=True)
class Pronunciation:
    """A transcription: ``phones`` (IPA), orthographic ``syllables`` and the ``stress`` index."""

    word: str
    phones: tuple[str, ...]
    syllables: tuple[str, ...]
    stress: int

    def to_json(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "phones": list(self.phones),
            "syllables": list(self.syllables),
            "stress": self.stress,
        }


class MinimalPair(NamedTuple):
    """``word`` differs from the query only at ``position``: query has ``phone``, ``word`` has ``other``."""

    word: str
    position: int
    phone: str
    other: str


def _vowel_roles(word: str) -> dict[int, str]:
    """Map each vowel letter index to 'N' (nucleus), 'on' (glide before) or 'off' (glide after)."""
    idx: list[int] = []
    for i, c in enumerate(word):
        if c in _VOWEL_LETTERS:
            if c == "u" and i > 0 and word[i - 1] in "qg" and i + 1 < len(word) and word[i + 1] in "eiéí":
                continue
            idx.append(i)
    roles: dict[int, str] = {}
    k = 0
    while k < len(idx):
        group = [idx[k]]
        while k + 1 < len(idx) and idx[k + 1] == group[-1] + 1:
            k += 1
            group.append(idx[k])
        k += 1
        # split into nuclei at hiatus (two strong vowels)
        parts: list[list[int]] = [[group[0]]]
        for j in group[1:]:
            if word[parts[-1][-1]] in STRONG and word[j] in STRONG:
                parts.append([j])
            else:
                parts[-1].append(j)
        for part in parts:
            strong = [j for j in part if word[j] in STRONG]
            nucleus = strong[0] if strong else part[-1]
            for j in part:
                roles[j] = "N" if j == nucleus else ("on" if j < nucleus else "off")
    return roles


def _letters_to_phones(word: str, dialect: str, lleismo: bool) -> list[str]:
    theta = "θ" if dialect == "spain" else "s"
    roles = _vowel_roles(word)
    phones: list[str] = []
    n = len(word)
    i = 1 if word.startswith(_SILENT_INITIAL) and n > 2 and word[2] in _VOWEL_LETTERS else 0
    x_as_jota = word.startswith(_X_AS_JOTA)
    x_as_s = word.startswith(_X_AS_S)
    while i < n:
        c = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        nxt2 = word[i + 2] if i + 2 < n else ""
        if c in _VOWEL_LETTERS:
            base = strip_accents(c).replace("ü", "u")
            role = roles.get(i, "N")
            if role == "N":
                phones.append(base)
            elif base == "i":
                phones.append("j" if role == "on" else "i̯")
            elif base == "u":
                phones.append("w" if role == "on" else "u̯")
            else:
                phones.append(base)
            i += 1
            continue
        step = 1
        if c in _DOUBLED_AS_ONE and i > 0 and word[i - 1] == c:
            i += 1
            continue
        if c == "c":
            if nxt == "k":
                pass  # "ck" in loanwords is one [k]: the k follows
            elif nxt == "h":
                phones.append("t͡ʃ")
                step = 2
            elif nxt in "eiéí" and nxt:
                if theta == "s" and i > 0 and word[i - 1] in "sx":
                    pass  # seseo: escena [esena], excelente [ekselente]
                else:
                    phones.append(theta)
            else:
                phones.append("k")
        elif c == "l" and nxt == "l":
            phones.append("ʎ" if lleismo else "ʝ")
            step = 2
        elif c == "r":
            if nxt == "r":
                phones.append("r")
                step = 2
            elif i == 0 or word[i - 1] in "nls" or (i == 3 and word.startswith("sub")):
                phones.append("r")
            else:
                phones.append("ɾ")
        elif c == "q":
            phones.append("k")
            if nxt == "u":
                step = 2
        elif c == "g":
            if nxt in "eiéí" and nxt:
                phones.append("x")
            else:
                phones.append("g")
                if nxt == "u" and nxt2 in "eiéí" and nxt2:
                    step = 2
        elif c == "h":
            if i == 0 and nxt == "i" and nxt2 in "aeoáéó" and nxt2:
                phones.append("ʝ")
                step = 2
            elif i == 0 and nxt == "u" and nxt2 in "aeioáéíó" and nxt2:
                phones.append("w")
                step = 2
            # otherwise silent
        elif c in "bv":
            phones.append("b")
        elif c == "j":
            phones.append("x")
        elif c == "ñ":
            phones.append("ɲ")
        elif c == "z":
            phones.append(theta)
        elif c == "x":
            if x_as_jota:
                phones.append("x")
            elif i == 0 or (x_as_s and nxt and nxt not in _VOWEL_LETTERS):
                phones.append("s")
            else:
                phones.extend(("k", "s"))
        elif c == "y":
            if n == 1 or (i == n - 1 and word[i - 1] not in _VOWEL_LETTERS):
                phones.append("i")  # "y", and a loanword's final -y after a consonant: lobby, rugby
            elif i > 0 and word[i - 1] in _VOWEL_LETTERS and (nxt == "" or nxt not in _VOWEL_LETTERS):
                phones.append("i̯")
            else:
                phones.append("ʝ")
        elif c == "w":
            phones.append("w")
        elif c == "k":
            phones.append("k")
        else:
            phones.append(c)
        i += step
    return phones


def _narrow(phones: list[str]) -> list[str]:
    out = list(phones)
    for k, ph in enumerate(out):
        prev = out[k - 1] if k > 0 else ""
        if ph in _SPIRANT and k > 0 and prev not in _NASALS and not (ph == "d" and prev == "l"):
            out[k] = _SPIRANT[ph]
    for k, ph in enumerate(out[:-1]):
        if ph == "n":
            nxt = out[k + 1]
            if nxt in ("b", "p", "m"):
                out[k] = "m"
            elif nxt in ("k", "g", "x"):
                out[k] = "ŋ"
    return out


def _clean(word: str) -> str:
    return _NON_LETTER.sub("", word.strip().lower())


@lru_cache(maxsize=8192)
def g2p(word: str, dialect: str = "latam", *, lleismo: bool = False, narrow: bool = True) -> Pronunciation:
    """Transcribe one word (or a number written in digits) for ``dialect`` (``latam``/``spain``).

    Punctuation is ignored; an empty word raises ``ValueError``.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    clean = _clean(word)
    if not clean:
        raise ValueError(f"nothing to pronounce in {word!r}")
    words = number_to_words(int(clean)).split() if clean.isdigit() else [re.sub(r"\d", "", clean)]
    phones: list[str] = []
    syllables: list[str] = []
    stress = 0
    for w in words:
        spoken = LOANWORDS.get(w, w)
        ph = _letters_to_phones(spoken, dialect, lleismo)
        phones.extend(_narrow(ph) if narrow else ph)
        stress = len(syllables) + stressed_syllable(spoken)
        written, said = syllabify(w), syllabify(spoken)
        syllables.extend(written if len(written) == len(said) else said)
    return Pronunciation(word=word, phones=tuple(phones), syllables=tuple(syllables), stress=stress)


# ------------------------------------------------------------------------------------------
# Minimal pairs


# Contrast tiers, best first: what a learner of Spanish most needs to hear and make.
# A pair of merged sounds (b/v, and in Latin America s/θ and ll/y) never gets here: the comparison is
# phonemic, so *vaso*/*baso* or (latam) *casa*/*caza* are the same phones, not a pair.
_TAP_TRILL = frozenset({"ɾ", "r"})
_DISTINCION = frozenset({"s", "θ"})  # only Spain's phones have both
_LEARNER_CONTRASTS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("ɲ", "n"),
        ("ɾ", "l"),
        ("r", "l"),
        ("x", "k"),
        ("x", "g"),
        ("ʝ", "t͡ʃ"),
        ("ʝ", "l"),
        ("b", "p"),
        ("d", "t"),
        ("g", "k"),
    )
)
_VOWEL_PHONES = frozenset({"a", "e", "i", "o", "u", "j", "w", "i̯", "u̯"})


def contrast_tier(phone: str, other: str) -> int:
    """How much a pair differing in ``phone``/``other`` teaches (0 is best).

    0: tap/trill (*pero/perro*); 1: [s]/[θ] (*casa/caza*, Spain); 2: the other classic confusions
    (ñ/n, l/r, jota/k/g, ch/y, y/l, b/p, d/t, g/k); 3: two vowels (*mesa/misa*); 4: any other two
    sounds (*cama/cana*: distinct, but nobody confuses them).
    """
    both = frozenset({phone, other})
    if both == _TAP_TRILL:
        return 0
    if both == _DISTINCION:
        return 1
    if both in _LEARNER_CONTRASTS:
        return 2
    if both <= _VOWEL_PHONES:
        return 3
    return 4


@lru_cache(maxsize=4)
def _pair_index(dialect: str) -> dict[tuple[int, tuple[str, ...]], list[tuple[str, str]]]:
    """Wildcard index: (stress, phones with one slot blanked) → [(word, phone in that slot)]."""
    from espaluz.spanish.phonetic_lexicon import WORDS

    index: dict[tuple[int, tuple[str, ...]], list[tuple[str, str]]] = defaultdict(list)
    for w in WORDS:
        p = g2p(w, dialect, narrow=False)
        for k, ph in enumerate(p.phones):
            key = (p.stress, (*p.phones[:k], "*", *p.phones[k + 1 :]))
            index[key].append((w, ph))
    return dict(index)


def minimal_pairs(word: str, dialect: str = "latam") -> list[MinimalPair]:
    """Words of the built-in lexicon that differ from ``word`` in exactly one phoneme, best first.

    Compared phonemically (``narrow=False``) with the same stressed syllable, so in ``latam``
    *casa*/*caza* are homophones (no pair) while in ``spain`` they differ in [s]/[θ]; *b*/*v* are one
    phoneme everywhere. Order: the contrast's :func:`contrast_tier` (tap/trill first, vowels late),
    then the commoner word (:func:`espaluz.spanish.phonetic_lexicon.rank`). The first pair is the
    one to offer a learner (:func:`best_minimal_pair`); every pair is returned, for diagnosis.
    """
    from espaluz.spanish.phonetic_lexicon import rank

    p = g2p(word, dialect, narrow=False)
    index = _pair_index(dialect)
    clean = _clean(word)
    out: list[MinimalPair] = []
    for k, ph in enumerate(p.phones):
        key = (p.stress, (*p.phones[:k], "*", *p.phones[k + 1 :]))
        for other, other_ph in index.get(key, ()):
            if other != clean and other_ph != ph:
                out.append(MinimalPair(other, k, ph, other_ph))
    out.sort(key=lambda m: (contrast_tier(m.phone, m.other), rank(m.word), m.position))
    return out


def best_minimal_pair(word: str, dialect: str = "latam") -> MinimalPair | None:
    """The pair to offer a learner practising ``word`` (see :func:`minimal_pairs`), or ``None``."""
    pairs = minimal_pairs(word, dialect)
    return pairs[0] if pairs else None


def contrast_message(target: str, produced: str, dialect: str = "latam", language: str = "en") -> str | None:
    """Feedback when a learner aiming at ``target`` said ``produced`` (a minimal pair of it).

    ``contrast_message("perro", "pero")`` → "You made a tap [ɾ]: that is *pero*; *perro* needs a
    trill [r]."; with ``language="es"`` the same in Spanish ("Hiciste una *r* suave [ɾ]: eso suena a
    *pero*; *perro* lleva una *r* fuerte [r]."), any other language gets English. Returns ``None`` if the two
    words are not a minimal pair.
    """
    for pair in minimal_pairs(produced, dialect):
        if pair.word == _clean(target):
            said = phone_name(pair.phone, language)
            needed = phone_name(pair.other, language)
            if language == "es":
                return f"Hiciste {said}: eso suena a *{_clean(produced)}*; *{pair.word}* lleva {needed}."
            return f"You made {said}: that is *{_clean(produced)}*; *{pair.word}* needs {needed}."
    return None
