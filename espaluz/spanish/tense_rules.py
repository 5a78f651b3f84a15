"""Tense rules: a present-tense action slipped into a story about the past.

- ``past_narrative`` (:func:`rule_past_narrative`): *Ayer fui a la playa y comemos pescado* →
  *comimos*. A learner telling what happened (*ayer, anoche, la semana pasada, hace dos días*) starts in
  the preterite and slides back into the present for the next action. It fires only on that exact
  shape, within one sentence:

  1. a past-time marker: *ayer, anoche, anteayer*, *el/la* + a unit of time + *pasado/a* (*el lunes
     pasado, la semana pasada, el año pasado*), or *hace* + a quantity + a unit (*hace dos días*);
  2. after it, an unambiguous preterite in the same story's person (*fui, visité, comimos*);
  3. after that, an action verb joined to it by *y, e, luego, después, entonces* (a subject pronoun or
     clitics may stand between), whose every reading is the present indicative, in the same person or the
     group the narrator joined (*fui* ... *comemos*: I, then we; *fue* ... *bailan*: she, then they).
     After a marker longer than a day (*la semana pasada, el año pasado, hace un mes*) only a joiner of
     sequence counts (*luego, después, entonces*): *el mes pasado llegué a Quito y busco trabajo* may
     well mean "and I am looking for work now".

  Silent on everything else, because the present is right in many past stories: states and opinions
  that still hold (*fui al médico y estoy mejor*, *compré un libro y me gusta*: *ser, estar, tener,
  gustar, querer, saber...* are never touched), a change of subject (*conocí a Juan y vive en Lima*),
  any sign of another time in the sentence (*hoy, ahora, mañana, siempre, cada, todos los días,
  normalmente, todavía*), relative and causal clauses (no conjunction before the verb: *vi a un chico que
  vive aquí*, *fui porque tengo tiempo*), forms the preterite shares with the present (*hablamos,
  jugamos*), and words that are also nouns or adjectives (*paseo, baile*).

The rule is ``rule(scan) -> Iterator[(priority, Correction)]`` as registered in
:data:`espaluz.spanish.corrections._RULES`; every correction carries its reason in English and Spanish.
"""

from __future__ import annotations

from collections.abc import Iterator

from espaluz.spanish.conjugation import conjugate_form
from espaluz.spanish.correction_scan import CLITICS, NON_VERB_READINGS, SUBJECTS, Correction, Scan, words
from espaluz.spanish.nouns import adjective_info, noun_info
from espaluz.spanish.verb_index import Reading, readings

PRESENT = "indicative.present"
PRETERITE = "indicative.preterite"

_DAY_MARKERS = frozenset(words("ayer anoche anteayer antier"))
_DAYS = frozenset(words("lunes martes miércoles jueves viernes sábado domingo"))
_UNITS = _DAYS | frozenset(words("semana mes año verano invierno otoño primavera curso semestre trimestre"))
_HACE_DAYS = frozenset(words("día días rato"))
_HACE_UNITS = _HACE_DAYS | frozenset(words("semana semanas mes meses año años"))
_QUANTITIES = frozenset(
    words(
        "un una unos unas dos tres cuatro cinco seis siete ocho nueve diez quince veinte muchos muchas pocos"
    )
)
# Another time in the sentence: the present may be right (a habit, now, tomorrow).
_OTHER_TIME = frozenset(
    words(
        "hoy ahora ahorita siempre normalmente generalmente usualmente cada todavía aún nunca actualmente "
        "diario diariamente frecuentemente"
    )
)
_SEQUENCE = frozenset(words("luego después entonces"))
_JOINERS = _SEQUENCE | frozenset(words("y e"))
# Verbs of state, opinion, wish or ability, of going on (*se queda hasta el lunes*) and of saying (*me
# llamó y dice que...*, reported speech): in a past story their present often still holds.
_STATIVE = frozenset(
    words(
        "ser estar tener haber saber conocer querer poder deber necesitar gustar encantar interesar importar "
        "doler parecer creer pensar sentir preferir esperar odiar amar vivir trabajar estudiar llamarse "
        "recordar entender quedar seguir continuar decir"
    )
)
# The persons that may tell the rest of the story begun in a person (I, then we; she, then they).
_STORY_PERSONS = {"1s": ("1s", "1p"), "1p": ("1p",), "3s": ("3s", "3p"), "3p": ("3p",), "2s": ("2s",)}


def _sentences(c: Scan) -> Iterator[range]:
    """Token ranges of the sentences (and ``;``-separated clauses) of the scanned text."""
    start = 0
    for i in range(1, c.n + 1):
        if i == c.n or any(mark in c.gap(i) for mark in ".!?;:"):
            yield range(start, i)
            start = i


def _tomorrow(c: Scan, i: int) -> bool:
    """*mañana* as "tomorrow" (not *esta/la/por la mañana*, the morning)."""
    return c.low(i) == "mañana" and c.low(i - 1) not in ("esta", "la", "una", "cada", "toda")


def _past_marker(c: Scan, i: int) -> tuple[int, bool] | None:
    """(the last token, whether it is a day or less) of a past-time marker starting at token ``i``."""
    w = c.low(i)
    if w in _DAY_MARKERS:
        return i, True
    if w in ("el", "la"):
        for k in range(i + 1, min(i + 5, c.n)):
            units = {c.low(u) for u in range(i + 1, k)}
            if c.low(k) in ("pasado", "pasada") and units & _UNITS:
                return k, bool(units & _DAYS)
    if w == "hace" and c.low(i + 1) in _QUANTITIES and c.low(i + 2) in _HACE_UNITS:
        return i + 2, c.low(i + 2) in _HACE_DAYS
    return None


def _only(form: str, tense: str) -> tuple[Reading, ...]:
    """The readings of ``form`` when every one is in ``tense`` (a form no other tense shares). Of the
    words learners mostly use as something else, only *fue* counts, and only as the story's preterite."""
    rs = readings(form)
    if form in NON_VERB_READINGS and not (form == "fue" and tense == PRETERITE):
        return ()
    if not rs or any(r.tense != tense for r in rs):
        return ()
    return rs


def _joined_verb(c: Scan, j: int, end: int) -> int | None:
    """The verb a joiner at token ``j`` introduces (past a subject pronoun and clitics), or None."""
    k = j + 1
    while k < end and (c.low(k) in SUBJECTS or c.low(k) in CLITICS or c.low(k) in _JOINERS) and k - j <= 3:
        k += 1
    if k >= end or any(not c.joined(m) for m in range(j, k)):
        return None
    return k


def _story(c: Scan, sentence: range) -> tuple[int, int, bool] | None:
    """(first token, last token, lasts a day or less) of the past-time marker that sets ``sentence`` in
    the past; ``None`` without one, or when another time in it may make a present right (*hoy, ahora,
    mañana, siempre, cada, todos los días*...)."""
    lows = [c.low(i) for i in sentence]
    if any(w in _OTHER_TIME for w in lows) or any(_tomorrow(c, i) for i in sentence):
        return None
    if "todos" in lows or "todas" in lows:  # todos los días, todas las semanas
        return None
    found = next(((i, m) for i in sentence if (m := _past_marker(c, i)) is not None), None)
    return None if found is None else (found[0], *found[1])


_SUBORDINATORS = frozenset(words("que porque cuando si donde mientras aunque como"))


def in_past_story(c: Scan, i: int) -> bool:
    """Whether token ``i`` comes after a past-time marker of its sentence that nothing else contradicts,
    in the same clause (*Ayer yo va al cine*: the verb the learner meant is a past one; not after *que,
    porque, cuando...*: *ayer me dijo que yo tiene...* may want *tenía*). For other rules' choice of
    tense."""
    sentence = next((s for s in _sentences(c) if i in s), None)
    story = None if sentence is None else _story(c, sentence)
    if story is None or story[1] >= i:
        return False
    return not any(c.low(k) in _SUBORDINATORS for k in range(story[1] + 1, i))


def rule_past_narrative(c: Scan) -> Iterator[tuple[int, Correction]]:
    for sentence in _sentences(c):
        story = _story(c, sentence)
        if story is None:
            continue
        first, marker, one_day = story
        when = c.text[c.toks[first].start : c.toks[marker].end]
        persons: tuple[str, ...] = ()
        done: set[int] = set()
        for i in range(marker + 1, sentence.stop):
            past = _only(c.low(i), PRETERITE)
            if past and not persons:
                teller = {r.person for r in past}
                if len(teller) == 1:
                    persons = _STORY_PERSONS.get(teller.pop(), ())
                continue
            if not persons or c.low(i) not in _JOINERS:
                continue
            k = _joined_verb(c, i, sentence.stop)
            if k is None or k in done:
                continue
            if not one_day and not any(c.low(m) in _SEQUENCE for m in range(i, k)):
                continue
            done.add(k)
            form = c.low(k)
            now = _only(form, PRESENT)
            verbs = {r.verb for r in now}
            if len(verbs) != 1 or verbs & _STATIVE or noun_info(form) or adjective_info(form):
                continue
            person = now[0].person
            if person not in persons or len({r.person for r in now}) != 1:
                continue
            verb = verbs.pop()
            fixed = conjugate_form(verb, PRETERITE, person)
            if not fixed or fixed == form:
                continue
            why = (
                f"The story is in the past ('{when}'): '{form}' is the present; "
                f"the next action takes the preterite, '{fixed}'."
            )
            why_es = (
                f"La historia es en pasado («{when}»): «{form}» es presente; "
                f"la acción siguiente va en pretérito: «{fixed}»."
            )
            yield 4, c.fix(k, k, fixed, "past_narrative", why, why_es)
