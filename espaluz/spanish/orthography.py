"""Spanish orthographic syllables, stress and written accents (RAE 2010 rules).

Shared by the conjugator (which must re-place accents when it adds a prefix or an enclitic
pronoun: *tén* → *detén*, *levanta* + *te* → *levántate*, *rió* → *rio*) and by the phonetics
module (which reports syllables and the stressed one).

Callers must pass lower-case words. ``ü`` and ``ñ`` are letters, not accented vowels.
Rules implemented: diphthongs (weak unaccented *i/u/ü* + any vowel; *ui*, *iu*), hiatus (two strong
vowels, or a stressed *í/ú*), digraphs *ch ll rr qu gu(e/i)*, final *y* as a vowel (*hoy, rey*),
inseparable onsets (*pr bl tr...*), and the acute/grave/proparoxytone accent rules, including the
2010 rule that orthographic monosyllables (*fue, dio, guion, rio*) take no accent.
"""

from __future__ import annotations

from functools import lru_cache

STRONG = frozenset("aeoáéíóú")
WEAK = frozenset("iuü")
VOWELS = STRONG | WEAK
ACCENTED = frozenset("áéíóú")
_STRIP = str.maketrans("áéíóú", "aeiou")
_ACUTE = str.maketrans("aeiou", "áéíóú")
_ONSETS = frozenset(
    {"pr", "br", "tr", "dr", "cr", "kr", "gr", "fr", "pl", "bl", "cl", "kl", "gl", "fl"},
)


def strip_accents(word: str) -> str:
    """Remove acute accents (keeps ``ü`` and ``ñ``)."""
    return word.translate(_STRIP)


def _units(word: str) -> list[tuple[str, bool]]:
    """Split into (text, is_vowel) units, merging digraphs into one consonant."""
    units: list[tuple[str, bool]] = []
    i = 0
    n = len(word)
    while i < n:
        ch = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        after = word[i + 2] if i + 2 < n else ""
        if ch == "c" and nxt == "h":
            units.append(("ch", False))
            i += 2
        elif ch == "l" and nxt == "l":
            units.append(("ll", False))
            i += 2
        elif ch == "r" and nxt == "r":
            units.append(("rr", False))
            i += 2
        elif ch in "qg" and nxt == "u" and after in ("e", "i", "é", "í"):
            units.append((ch + "u", False))
            i += 2
        elif ch == "y":
            prev_vowel = bool(units) and units[-1][1]
            is_vowel = n == 1 or (prev_vowel and (nxt == "" or (nxt not in VOWELS and nxt != "y")))
            units.append(("y", is_vowel))
            i += 1
        else:
            units.append((ch, ch in VOWELS))
            i += 1
    return units


def _split_vowels(group: list[str]) -> list[list[str]]:
    """Split a run of vowels into syllable nuclei (hiatus between two strong vowels)."""
    parts: list[list[str]] = [[group[0]]]
    for v in group[1:]:
        prev = parts[-1][-1]
        if (prev in STRONG and v in STRONG) or (prev == v and prev in WEAK):
            parts.append([v])
        else:
            parts[-1].append(v)
    return parts


@lru_cache(maxsize=8192)
def syllabify(word: str) -> tuple[str, ...]:
    """Orthographic syllables of one lower-case word: ``perro`` → ``("pe", "rro")``."""
    if not word:
        return ()
    units = _units(word)
    # Build a list of segments: nuclei (lists of vowel units) and consonant runs between them.
    nuclei: list[list[str]] = []
    consonant_runs: list[list[str]] = [[]]
    i = 0
    while i < len(units):
        text, is_vowel = units[i]
        if is_vowel:
            group = []
            while i < len(units) and units[i][1]:
                group.append(units[i][0])
                i += 1
            parts = _split_vowels(group)
            for k, part in enumerate(parts):
                nuclei.append(part)
                if k < len(parts) - 1:
                    consonant_runs.append([])
            consonant_runs.append([])
        else:
            consonant_runs[-1].append(text)
            i += 1
    if not nuclei:
        return (word,)
    # consonant_runs[0] is the onset of the first syllable, consonant_runs[-1] the final coda.
    sylls = ["".join(consonant_runs[0]) + "".join(nuclei[0])]
    for k in range(1, len(nuclei)):
        run = consonant_runs[k]
        if len(run) <= 1:
            coda, onset = list[str](), run
        elif len(run) == 2:
            if run[0] + run[1] in _ONSETS:
                coda, onset = list[str](), run
            else:
                coda, onset = run[:1], run[1:]
        elif len(run) == 3:
            if run[1] + run[2] in _ONSETS:
                coda, onset = run[:1], run[1:]
            else:
                coda, onset = run[:2], run[2:]
        else:
            coda, onset = run[:2], run[2:]
        sylls[-1] += "".join(coda)
        sylls.append("".join(onset) + "".join(nuclei[k]))
    sylls[-1] += "".join(consonant_runs[len(nuclei)])
    return tuple(sylls)


def _ends_like_vowel(word: str) -> bool:
    """True where the 'vowel, n or s' accent rule applies (s/n after a consonant does not count)."""
    last = word[-1]
    if last in "aeiouáéíóú":
        return True
    if last in "ns":
        return len(word) > 1 and word[-2] in VOWELS
    return False


def stressed_syllable(word: str) -> int:
    """Index of the stressed syllable by the written accent or the default rules."""
    sylls = syllabify(word)
    for i, syl in enumerate(sylls):
        if any(c in ACCENTED for c in syl):
            return i
    if len(sylls) == 1:
        return 0
    return len(sylls) - 2 if _ends_like_vowel(word) else len(sylls) - 1


def _nucleus_offset(syl: str) -> int:
    """Offset inside a syllable of the vowel that carries stress."""
    for i, c in enumerate(syl):
        if c in ACCENTED:
            return i
    vowels = [i for i, c in enumerate(syl) if c in VOWELS and not _is_silent_u(syl, i)]
    if not vowels:
        ys = [i for i, c in enumerate(syl) if c == "y"]
        return ys[0] if ys else 0
    for i in vowels:
        if syl[i] in STRONG:
            return i
    return vowels[-1]


def _is_silent_u(text: str, i: int) -> bool:
    return text[i] == "u" and i > 0 and text[i - 1] in "qg" and i + 1 < len(text) and text[i + 1] in "eiéí"


def stressed_vowel_index(word: str) -> int:
    """Character index of the stressed vowel of ``word``."""
    for i, c in enumerate(word):
        if c in ACCENTED:
            return i
    sylls = syllabify(word)
    k = stressed_syllable(word)
    start = sum(len(s) for s in sylls[:k])
    return start + _nucleus_offset(sylls[k])


def _neighbour_strong(bare: str, pos: int) -> bool:
    """Whether the vowel at ``pos`` touches a strong vowel (an intervening ``h`` does not count)."""
    for step in (-1, 1):
        j = pos + step
        if 0 <= j < len(bare) and bare[j] == "h" and not (step == -1 and j > 0 and bare[j - 1] == "c"):
            j += step
        if 0 <= j < len(bare) and bare[j] in "aeo":
            return True
    return False


def place_accent(bare: str, pos: int) -> str:
    """Write the accent a word needs when its stress falls on the vowel at ``pos``.

    ``bare`` must carry no acute accents. Returns the correctly accented word (possibly unchanged).
    """
    if bare[pos] in "iu" and _neighbour_strong(bare, pos):
        return bare[:pos] + bare[pos].translate(_ACUTE) + bare[pos + 1 :]
    sylls = syllabify(bare)
    if len(sylls) == 1:
        return bare
    acc = 0
    idx = len(sylls) - 1
    for i, s in enumerate(sylls):
        if acc + len(s) > pos:
            idx = i
            break
        acc += len(s)
    from_end = len(sylls) - 1 - idx
    if from_end == 0:
        needs = _ends_like_vowel(bare)
    elif from_end == 1:
        needs = not _ends_like_vowel(bare)
    else:
        needs = True
    if not needs or bare[pos] not in "aeiou":
        return bare
    return bare[:pos] + bare[pos].translate(_ACUTE) + bare[pos + 1 :]


@lru_cache(maxsize=16384)
def normalize_accent(word: str) -> str:
    """Re-derive the written accent of a word from its stressed vowel (``rió`` → ``rio``)."""
    if not word or " " in word:
        return word
    pos = stressed_vowel_index(word)
    return place_accent(strip_accents(word), pos)


def add_prefix(prefix: str, word: str) -> str:
    """Prefix a word keeping its stress: ``de`` + ``ten`` → ``detén``, ``son`` + ``rio`` → ``sonrió``."""
    from_end = len(word) - stressed_vowel_index(word)
    joined = strip_accents(prefix + word)
    return place_accent(joined, len(joined) - from_end)


def add_enclitic(word: str, clitic: str, drop: int = 0) -> str:
    """Attach an enclitic keeping the verb's stress: ``levanta`` + ``te`` → ``levántate``.

    ``drop`` letters are removed from the end of the verb first (``levantemos`` + ``nos`` drops
    the ``s``: *levantémonos*; ``vestid`` + ``os`` drops the ``d``: *vestíos*).
    """
    pos = stressed_vowel_index(word)
    bare = strip_accents(word)
    if drop:
        bare = bare[:-drop]
    return place_accent(bare + clitic, pos)


def accent_last_vowel(stem: str) -> str:
    """Put an acute accent on the last vowel of ``stem`` (``habla`` → ``hablá``)."""
    for i in range(len(stem) - 1, -1, -1):
        if stem[i] in "aeiou":
            return stem[:i] + stem[i].translate(_ACUTE) + stem[i + 1 :]
    return stem
