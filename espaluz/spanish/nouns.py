"""Grammatical gender and number of Spanish nouns and adjectives, for the agreement rules.

Where the data come from, in order:

1. The one lexicon (:mod:`espaluz.spanish.lexicon`, ``of_pos("noun")`` and ``of_pos("adj")``): gender
   ``m``/``f``/``mf``, the plural column (``=`` invariant: *el lunes / los lunes*; ``-`` no plural) and the
   adjective's feminine. Only the nouns whose gender changes the meaning (``_MEANING_BY_GENDER``: *el/la
   capital, orden, final, frente*...) are forced to ``mf`` whatever the data say.
2. Only when a caller asks (``noun_info(word, guess=True)``): the gender guessed from a reliable ending
   (:func:`guess_noun`): *-ción, -sión, -dad, -tad, -tud, -umbre, -eza, -ez, -itis* feminine; *-aje*,
   non-agent *-or*, Greek *-grama/-ema/-oma* masculine, with the exceptions written down (*la flor, la
   labor, la crema, la broma, la cama, la forma, la llama, la rama, la norma, la pluma*...). A guessed
   :class:`NounInfo` has ``guessed=True``; the agreement rule then only corrects a determiner directly
   before the noun.

Feminine nouns with a stressed initial *a-/ha-* (``stressed_a``) take *el/un* in the singular (*el agua fría,
un hacha, las aguas, esta agua*). Gender ``mf`` (*el/la estudiante*, or a gender that changes the meaning:
*el/la capital, el/la orden, el/la frente*) is never corrected by any rule.

:func:`noun_info` without ``guess`` only answers for known nouns: several rules (subject–verb, gustar,
accents) use it to ask "is this word a noun?", and a guess there would make them skip real verbs.
Both tables are built once (cached) from the lexicon, in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from espaluz.spanish import lexicon
from espaluz.spanish.orthography import (
    place_accent,
    stressed_syllable,
    stressed_vowel_index,
    strip_accents,
    syllabify,
)
from espaluz.spanish.verb_index import readings

# Nouns whose gender changes the meaning (el/la capital, el/la orden, el/la final...) or varies by region
# (el/la mar, el/la azúcar, el/la internet): always ``mf``, never corrected, whatever the data say.
_MEANING_BY_GENDER = frozenset(
    {"capital", "orden", "final", "frente", "cometa", "corte", "cura", "parte", "papa", "coma", "cólera",
     "radio", "mar", "azúcar", "internet", "arte", "pendiente", "margen", "terminal", "vocal", "moral",
     "lente", "génesis", "guía", "policía", "guardia", "editorial", "doblez"}
)  # fmt: skip

_IRREGULAR_PLURAL = {"carácter": "caracteres", "régimen": "regímenes", "espécimen": "especímenes"}

# Feminine nouns that start with a stressed a-/ha- but keep la/una (letters, and nouns of female persons).
_STRESSED_A_KEEP_LA = frozenset({"a", "hache", "árabe", "árbitra", "ácrata"})


@dataclass(frozen=True)
class NounInfo:
    """What agreement needs to know about a noun form.

    ``gender`` is ``m``, ``f`` or ``mf`` (either: never corrected). ``invariant``: the singular and plural
    coincide (*el lunes / los lunes*), so the number is unknown from the form. ``guessed``: the gender comes
    from the ending (:func:`guess_noun`), not from the lexicon.
    """

    lemma: str
    gender: str
    plural: bool
    stressed_a: bool
    invariant: bool = False
    guessed: bool = False


def plural_of(noun: str) -> str:
    """Regular plural with the accent moved as needed (*canción* → *canciones*, *joven* → *jóvenes*)."""
    if noun in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[noun]
    last = noun[-1]
    if last in "aeiouáéó":
        return noun + "s"
    if last in "íú":
        return noun + "s"
    if last == "z":
        return noun[:-1] + "ces"
    if last in "sx" and stressed_syllable(noun) < len(syllabify(noun)) - 1:
        return noun  # lunes, crisis, tórax
    pos = stressed_vowel_index(noun)
    return place_accent(strip_accents(noun) + "es", pos)


def starts_with_stressed_a(noun: str) -> bool:
    """True for a feminine noun that takes *el/un* in the singular: *agua, hacha, águila, aula, hambre*."""
    bare = strip_accents(noun)
    if noun in _STRESSED_A_KEEP_LA or not (bare.startswith("a") or bare.startswith("ha")):
        return False
    return stressed_syllable(noun) == 0


_PLURALS: dict[str, str] = {}  # lemma -> plural, filled with the noun table


def noun_plural(lemma: str) -> str:
    """The plural of a noun lemma: the lexicon's (irregular ones too), else :func:`plural_of`."""
    _noun_table()
    return _PLURALS.get(lemma) or plural_of(lemma)


def _add_noun(table: dict[str, NounInfo], lemma: str, gender: str, plural: str, *, plural_form: bool) -> None:
    """Add a lemma (or, with ``plural_form``, its plural: ``=`` invariant, ``-`` none, empty regular).

    A word already in the table is kept: the caller adds the lexicon first, and all singulars before any
    plural, so that a plural never hides a singular.
    """
    sa = gender == "f" and starts_with_stressed_a(lemma)
    invariant = plural == "=" or (plural in ("", "-") and plural_of(lemma) == lemma)  # el tenis / los tenis
    if not plural_form:
        table.setdefault(lemma, NounInfo(lemma, gender, False, sa, invariant=invariant))
    elif not invariant and plural != "-":
        form = plural or plural_of(lemma)
        known = table.get(form)
        if known is not None and known.plural and known.gender != gender:
            table[form] = NounInfo(known.lemma, "mf", True, False)  # cruces: el cruce / la cruz
        table.setdefault(form, NounInfo(lemma, gender, True, sa))
        _PLURALS.setdefault(lemma, form)


@cache
def _noun_table() -> dict[str, NounInfo]:
    rows = [
        (e.lemma, "mf" if e.lemma in _MEANING_BY_GENDER else e.gender, e.plural)
        for e in lexicon.of_pos("noun")
        if " " not in e.lemma
    ]
    table: dict[str, NounInfo] = {}
    for plural_form in (False, True):
        for lemma, gender, plural in rows:
            _add_noun(table, lemma, gender, plural, plural_form=plural_form)
    return table


def noun_info(word: str, *, guess: bool = False) -> NounInfo | None:
    """Gender/number of a lower-case noun form; ``None`` if unknown.

    With ``guess=True`` a form written without its accent is the lexicon's noun when exactly one noun
    form matches it (*pelicula* is *película*: learners on a phone drop accents), and any other unknown
    word gets the gender its ending implies (:func:`guess_noun`), marked ``guessed``. Without it only
    lexicon nouns as written answer (other rules ask "is this a noun?" and must not be fooled by a guess).
    """
    info = _noun_table().get(word)
    if info is None and guess:
        return _unaccented_nouns().get(word) or guess_noun(word)
    return info


@cache
def _unaccented_nouns() -> dict[str, NounInfo]:
    """Noun forms with an accent, by their spelling without it, where that spelling is unambiguous."""
    found: dict[str, list[NounInfo]] = {}
    for form, info in _noun_table().items():
        bare = strip_accents(form)
        if bare != form and bare not in _noun_table():
            found.setdefault(bare, []).append(info)
    return {bare: infos[0] for bare, infos in found.items() if len(infos) == 1}


def is_invariant(word: str) -> bool:
    """True for nouns whose singular and plural coincide (*el lunes / los lunes*)."""
    info = noun_info(word)
    return info is not None and info.invariant


def other_gender(lemma: str) -> str | None:
    """The lemma of the same noun in the other gender, when the lexicon has it (*profesor* → *profesora*).

    A learner writing *la profesor* may mean *la profesora*: with such pairs the article is not corrected.
    """
    info = noun_info(lemma)
    if info is None or info.gender == "mf":
        return None
    if info.gender == "m":
        candidates = [lemma[:-1] + "a"] if lemma[-1:] in "oe" else []
        candidates += [strip_accents(lemma) + "a"] if lemma[-1:] in "rsnl" else []
    else:
        candidates = [lemma[:-1] + "o", lemma[:-1] + "e", lemma[:-1]] if lemma.endswith("a") else []
        candidates += [place_accent(lemma[:-2], stressed_vowel_index(lemma))] if lemma.endswith("esa") else []
    for cand in candidates:
        other = noun_info(cand)
        if other is not None and other.lemma == cand and other.gender not in ("mf", info.gender):
            return cand
    return None


# --- Gender from the ending, for nouns the lexicon does not know ----------------------------------
# (ending, gender) pairs, longest first; only endings that hold for nearly every noun.
_FEMININE_ENDINGS = ("ción", "sión", "dad", "tad", "tud", "umbre", "eza", "itis")
_MASCULINE_ENDINGS = ("aje", "grama", "orama", "ema", "oma", "or")
# Written-down exceptions: nouns with those endings that are feminine (or not nouns to guess at all).
_ENDING_EXCEPTIONS: dict[str, str] = {
    # -or feminine
    "flor": "f", "labor": "f", "coliflor": "f", "sor": "f", "liflor": "f",
    # -ma feminine (not Greek): la cama, la forma, la llama...
    "cama": "f", "forma": "f", "llama": "f", "rama": "f", "norma": "f", "crema": "f", "pluma": "f",
    "yema": "f", "flema": "f", "diadema": "f", "quema": "f", "apotema": "f", "estratagema": "f",
    "broma": "f", "goma": "f", "paloma": "f", "maroma": "f", "carcoma": "f", "loma": "f", "redoma": "f",
    "grama": "f", "toma": "f", "doma": "f", "gema": "f",
    # -ez / -eza / -umbre masculine
    "ajedrez": "m", "jerez": "m", "pez": "m", "alumbre": "m", "cabeza": "f",
    # either gender or meaning-dependent
    "juez": "mf", "doblez": "mf", "coma": "mf", "pijama": "mf",
}  # fmt: skip
# Adjectives in -or (comparatives): never guessed as nouns (la mayor parte, la mejor idea).
_OR_ADJECTIVES = frozenset(
    {
        "mayor",
        "menor",
        "mejor",
        "peor",
        "superior",
        "inferior",
        "interior",
        "exterior",
        "anterior",
        "posterior",
    }
)


def ending_gender(lemma: str) -> str | None:
    """The gender a singular's ending implies (``m``/``f``/``mf``), or None where it says nothing reliable.

    Looks at the written-down exceptions first (*la flor*, *la crema*, *el ajedrez*); knows nothing of the
    lexicon (use :func:`noun_info` for a word's real gender).
    """
    if lemma in _ENDING_EXCEPTIONS:
        return _ENDING_EXCEPTIONS[lemma]
    if lemma in _OR_ADJECTIVES or len(lemma) < 4:
        return None
    if lemma.endswith(_FEMININE_ENDINGS) or (lemma.endswith("ez") and len(lemma) >= 6):
        return "f"
    if lemma.endswith("or"):
        # agent nouns (el/la conductora, el/la directora) have a feminine form: not guessed
        return None if lemma.endswith(("dor", "tor", "sor")) else "m"
    if lemma.endswith("grama") and len(lemma) >= 7:
        return "m"
    if lemma.endswith(("orama", "ema", "oma")) and len(lemma) >= 5:
        return "m"
    if lemma.endswith("aje"):
        return "m"
    return None


def _plural_candidates(word: str) -> list[str]:
    """Singulars a plural form could come from (*canciones* → *canción*, *viajes* → *viaje*)."""
    out: list[str] = []
    if word.endswith("iones"):
        out.append(word[:-5] + "ión")
    elif word.endswith("es"):
        out.append(word[:-2])  # verdades → verdad, colores → color
    if word.endswith("s"):
        out.append(word[:-1])  # viajes → viaje, bellezas → belleza
    return out


@cache
def guess_noun(word: str) -> NounInfo | None:
    """The gender of an unknown noun from its ending, marked ``guessed`` (``None`` when unsure).

    Words the lexicon knows, verb forms and adjectives are never guessed: *la mayor parte*, *cuesta
    caro*, *colores* as an adjective... The guess is for determiners only (*un canción* → *una*).
    """
    if not word.isalpha() or word != word.lower() or word in _noun_table() or readings(word):
        return None
    if adjective_info(word) is not None:
        return None
    g = ending_gender(word)
    if g is not None:
        if g == "mf":
            return NounInfo(word, g, False, False, guessed=True)
        invariant = word.endswith("itis")
        return NounInfo(word, g, False, False, invariant=invariant, guessed=True)
    for lemma in _plural_candidates(word):
        g = ending_gender(lemma)
        if g is None or g == "mf" or lemma in _OR_ADJECTIVES or adjective_info(lemma) is not None:
            continue
        if plural_of(lemma) == word and not readings(lemma):
            return NounInfo(lemma, g, True, False, guessed=True)
    return None


def guess_reason(info: NounInfo) -> tuple[str, str]:
    """Why a noun has its gender by its ending, in English and Spanish (*nouns in -ción are feminine*).

    Empty strings when the ending says nothing, or when the noun is an exception to it (*la flor*).
    """
    lemma = info.lemma
    ending = next((e for e in (*_FEMININE_ENDINGS, *_MASCULINE_ENDINGS, "ez") if lemma.endswith(e)), "")
    if not ending or lemma in _ENDING_EXCEPTIONS or ending_gender(lemma) != info.gender:
        return "", ""  # la crema, la flor: the ending rule would mislead
    if info.gender == "f":
        return f"nouns in -{ending} are feminine", f"los sustantivos en -{ending} son femeninos"
    return f"nouns in -{ending} are usually masculine", f"los sustantivos en -{ending} suelen ser masculinos"


# Adjectives also used as adverbs (habla alto, cuesta caro, llega temprano, la casa solo tiene...), or in
# prepositions (bajo la mesa, junto al río): never checked for agreement.
ADVERBIAL = frozenset(
    {"alto", "bajo", "claro", "caro", "barato", "rápido", "lento", "fuerte", "mismo", "temprano", "solo",
     "medio", "junto", "justo", "derecho", "seguido", "recto", "salvo", "primero", "demasiado", "mucho",
     "poco", "tanto", "limpio", "hondo", "duro", "firme", "bastante"}
)  # fmt: skip


@dataclass(frozen=True)
class AdjInfo:
    """One adjective form: ``gender`` ``m``/``f``, or ``""`` when the adjective does not change for gender."""

    lemma: str
    gender: str
    plural: bool
    forms: tuple[str, str, str, str]  # m.sg, f.sg, m.pl, f.pl


def _add_adj(table: dict[str, AdjInfo], lemma: str, feminine: str) -> None:
    if feminine in ("=", "", lemma):
        pl = plural_of(lemma)
        forms = (lemma, lemma, pl, pl)
        table.setdefault(lemma, AdjInfo(lemma, "", False, forms))
        table.setdefault(pl, AdjInfo(lemma, "", True, forms))
        return
    forms = (lemma, feminine, plural_of(lemma), plural_of(feminine))
    for k, form in enumerate(forms):
        table.setdefault(form, AdjInfo(lemma, "mf"[k % 2], k >= 2, forms))


@cache
def _adj_table() -> dict[str, AdjInfo]:
    table: dict[str, AdjInfo] = {}
    for e in lexicon.of_pos("adj"):
        if " " not in e.lemma:
            _add_adj(table, e.lemma, e.gender)
    return table


def adjective_info(word: str) -> AdjInfo | None:
    """Gender/number of a lower-case adjective form, or ``None``."""
    return _adj_table().get(word)


def adjective_form(info: AdjInfo, gender: str, plural: bool) -> str:
    """The form of an adjective for a gender (``m``/``f``) and number."""
    return info.forms[(2 if plural else 0) + (1 if gender == "f" else 0)]
