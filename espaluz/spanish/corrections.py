"""Quick, high-precision corrections of frequent learner errors in Spanish text.

Each rule looks at a few adjacent words and fires only where the error is unambiguous; when a
sentence could be right (*la cambio* = "I change it", *el compra* = *él compra*?), the rule stays
silent. A wrong correction costs the tutor more trust than a missed one.

Rules (``Correction.rule``):
- ``agreement`` (in :mod:`espaluz.spanish.agreement`): determiners, quantifiers, possessives, adjectives
  after the noun and predicate adjectives with ser/estar vs the noun's gender and number (*el casa*, *mis
  amigo*, *muchos canciones*, *la casa blanco*, *la casa es bonito*, *al playa*); exceptions like *el día*,
  *la mano*, *el agua fría*; unknown nouns by their ending (*un canción*, *el restricción*).
- ``contraction``: *de el libro* → *del libro*, *a el parque* → *al parque*.
- ``subject_verb``: *yo tiene* → *tengo*, *ellos va* → *van*, *él hablo* → *habló*; in a story set in the
  past by *ayer, anoche...* the present becomes the preterite (*ayer yo va* → *fui*).
- ``accent`` (in :mod:`espaluz.spanish.diacritics`): diacritic pairs decided by context: *esta* →
  *está*, question words in direct and indirect questions and exclamations (*no sé que hacer* →
  *qué*), *el/él*, *tu/tú*, *si/sí*, *mas/más*, *mi/mí*, *se/sé*, *te/té*, *de/dé*, *aun/aún*.
- ``ser_estar``, ``por_para``, ``personal_a`` (in :mod:`espaluz.spanish.usage_rules`): *soy
  cansado*, *soy en casa*, *estoy profesor* → *soy*; *estudié para dos años* → *durante*, *gracias
  para* → *por*; *veo mi madre* → *veo a mi madre*.
- ``gustar`` and ``le_les`` (in :mod:`espaluz.spanish.object_rules`): *yo gusto la pizza* → *me gusta*,
  *yo me gusta* → *a mí me gusta*, *me gusta los perros* → *me gustan*, *me gustan bailar* → *me gusta*;
  *le di el libro a mis padres* → *les di*, *les escribí a mi madre* → *le escribí*.
- ``false_friend``: *embarazado* (embarrassed), *aplicar para*, *realizar que*, *tomar lugar*,
  *hacer sentido*, *estar excitado*, *atender la universidad*, *introducir a alguien*.
- ``tener``: *soy 25 años*, *estoy hambre* → *tengo*.
- ``conditional_si`` and ``subjunctive`` (in :mod:`espaluz.spanish.mood_rules`): *si tendría* →
  *si tuviera*, *espero que vienes* → *vengas*, *cuando llegaré* → *cuando llegue*.
- ``past_narrative`` (in :mod:`espaluz.spanish.tense_rules`): *ayer fui a la playa y comemos pescado* →
  *comimos*.

Offsets are character offsets into the input (``text[start:end] == original``). Every correction
has its reason in English (``explanation``) and Spanish (``explanation_es``; ``why(language)``).

:func:`check` returns the corrections of one reading of the text, and some only appear once others
are applied. To show a learner "the correct sentence", use :func:`espaluz.spanish.review.review`,
which applies all of them, re-checks, and says whether the result is clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from espaluz.spanish.agreement import POSSESSIVES as _POSSESSIVES
from espaluz.spanish.agreement import rule_agreement
from espaluz.spanish.conjugation import PERSON_PRONOUNS, conjugate_form, conjugate_table
from espaluz.spanish.correction_scan import (
    CLITICS,
    NON_VERB_READINGS,
    SUBJECTS,
    Correction,
    Scan,
    words,
)
from espaluz.spanish.diacritics import rule_accents
from espaluz.spanish.mood_rules import rule_conditional_si, rule_subjunctive
from espaluz.spanish.nouns import adjective_info, noun_info
from espaluz.spanish.object_rules import rule_gustar, rule_le_les
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.tense_rules import in_past_story, rule_past_narrative
from espaluz.spanish.usage_rules import ESTAR_TO_SER, rule_personal_a, rule_por_para, rule_ser_estar
from espaluz.spanish.verb_index import INDEXED_TENSES, Reading, readings

_ws = words
_Ctx = Scan


# ------------------------------------------------------------------------------------------
# Lexical sets

_SUBJECTS = SUBJECTS
_NOT_SUBJECT_BEFORE = frozenset(
    _ws("y e o u ni a de en con para por sin según entre como contra hacia hasta desde sobre")
)
_CLITICS = CLITICS
_NON_VERB_READINGS = NON_VERB_READINGS
_GUSTAR_LIKE = frozenset(
    _ws("gustar encantar interesar importar doler molestar parecer faltar quedar apetecer fascinar")
)
_FIRST_NAMES = frozenset(
    _ws(
        "juan maría pedro ana carlos luis josé carmen laura pablo sofía lucía miguel javier elena marta "
        "diego daniel david isabel rosa antonio manuel francisco sara paula"
    )
)
_NUMBER_WORDS = frozenset(
    _ws(
        "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
        "diecisiete dieciocho diecinueve veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa "
        "cien veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho "
        "veintinueve"
    )
)
_TO_TENER = {
    "soy": "tengo",
    "eres": "tienes",
    "es": "tiene",
    "somos": "tenemos",
    "son": "tienen",
    "estoy": "tengo",
    "estás": "tienes",
    "está": "tiene",
    "estamos": "tenemos",
    "están": "tienen",
}
_TENER_NOUNS = frozenset(_ws("hambre sed miedo sueño frío calor prisa razón suerte"))
_INTENSIFIERS = frozenset(_ws("muy tan bastante demasiado super súper"))
_EVENTS_ATTENDED = frozenset(_ws("universidad escuela colegio conferencia boda reunión misa concierto"))


def _reading_person_ok(rs: tuple[Reading, ...], persons: tuple[str, ...]) -> bool:
    return any(r.person in persons for r in rs)


# ------------------------------------------------------------------------------------------
# Rules. Each yields (priority, Correction); lower priority wins an overlap.

Rule = Callable[[_Ctx], Iterator[tuple[int, Correction]]]


def _rule_contraction(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 2):
        if c.low(i) in ("de", "a") and c.low(i + 1) == "el" and c.joined(i) and c.joined(i + 1):
            nxt = c.toks[i + 2]
            if nxt.text[:1].isupper() or c.toks[i + 1].text == "El":
                continue
            info = noun_info(nxt.low)
            if (info and info.gender in ("m", "mf") and not info.plural) or adjective_info(nxt.low):
                fused = "del" if c.low(i) == "de" else "al"
                why = f"'{c.low(i)} + el' always contracts to '{fused}' before a noun."
                why_es = f"'{c.low(i)} + el' siempre se contrae en '{fused}' ante un sustantivo."
                yield 1, c.fix(i, i + 1, fused, "contraction", why, why_es)


def _best_form(verb: str, tenses: list[str], persons: tuple[str, ...], original: str) -> str | None:
    """The form of ``verb`` for ``persons`` closest to ``original`` (an accent slip wins)."""
    table = conjugate_table(verb)
    bare = strip_accents(original)
    candidates: list[str] = []
    for tense in INDEXED_TENSES:
        for p in persons:
            for f in table.forms[tense].get(p, ()):
                if strip_accents(f) == bare:
                    return f
    for tense in tenses:
        for p in persons:
            forms = table.forms[tense].get(p)
            if forms:
                candidates.append(forms[0])
                break
    return candidates[0] if candidates else None


def _rule_subject_verb(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 1):
        pron = c.low(i)
        persons = _SUBJECTS.get(pron)
        if persons is None or not c.joined(i):
            continue
        if i > 0 and c.low(i - 1) in _NOT_SUBJECT_BEFORE and c.joined(i - 1):
            continue
        j = i + 1
        while j < c.n and (c.low(j) == "no" or c.low(j) in _CLITICS) and c.joined(j - 1) and j - i <= 3:
            j += 1
        if j >= c.n or not c.joined(j - 1):
            continue
        form = c.low(j)
        if form in _NON_VERB_READINGS:
            continue
        rs = readings(form)
        if not rs or _reading_person_ok(rs, persons):
            continue
        verbs = list(dict.fromkeys(r.verb for r in rs))
        if any(v in _GUSTAR_LIKE for v in verbs) or noun_info(form) or adjective_info(form):
            continue
        verb = verbs[0]
        tenses = [t for t in INDEXED_TENSES if any(r.tense == t and r.verb == verb for r in rs)]
        if tenses == ["indicative.present"] and in_past_story(c, j):
            tenses = ["indicative.preterite"]  # "Ayer yo va al cine": the learner meant "fui", not "voy"
        best = _best_form(verb, tenses, persons, form)
        if best is None or best == form:
            continue
        have = PERSON_PRONOUNS[next(r.person for r in rs if r.verb == verb)]
        why = f"With '{pron}' the verb is '{best}'; '{form}' is the {have} form."
        why_es = f"Con '{pron}' el verbo es '{best}'; '{form}' es la forma de {have}."
        if strip_accents(best) == strip_accents(form):
            why = f"With '{pron}' write '{best}' (with the accent); '{form}' is the {have} form."
            why_es = f"Con '{pron}' se escribe '{best}', con tilde; '{form}' es la forma de {have}."
        yield 3, c.fix(j, j, best, "subject_verb", why, why_es)


def _same_slot(form: str, verb: str, target: str) -> str | None:
    """The form of ``target`` in the tense/person of ``form`` (a form of ``verb``)."""
    table = conjugate_table(verb)
    if form in table.nonfinite["infinitive"]:
        return target
    for tense in INDEXED_TENSES:
        for person, forms in table.forms[tense].items():
            if form in forms:
                return conjugate_form(target, tense, person)
    return None


def _person_of(form: str, verb: str) -> str | None:
    for r in readings(form):
        if r.verb == verb:
            return r.person
    return None


def _rule_false_friends(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    reflexive = {"1s": "me", "2s": "te", "3s": "se", "1p": "nos", "2p": "os", "3p": "se", "vos": "te"}
    for i in range(c.n):
        w = c.low(i)
        nxt = c.low(i + 1) if c.joined(i) else ""
        prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
        if w in ("embarazado", "embarazados") or (
            w in ("embarazada", "embarazadas") and prev in _INTENSIFIERS | {"poco"}
        ):
            fixed = w.replace("embarazad", "avergonzad")
            why = "'embarazado/a' means pregnant; 'embarrassed' is 'avergonzado/a'."
            why_es = "'embarazada' significa que espera un bebé; la vergüenza se dice 'avergonzado/a'."
            yield 2, c.fix(i, i, fixed, "false_friend", why, why_es)
        elif w in ("excitado", "excitada", "excitados", "excitadas") and (
            prev in _INTENSIFIERS or prev in ESTAR_TO_SER or prev.startswith("estaba")
        ):
            fixed = w.replace("excitad", "emocionad")
            why = "'excitado/a' has a sexual sense; 'excited' is 'emocionado/a' or 'ilusionado/a'."
            why_es = (
                "'excitado/a' tiene un sentido sexual; la ilusión se dice 'emocionado/a' o 'ilusionado/a'."
            )
            yield 2, c.fix(i, i, fixed, "false_friend", why, why_es)
        if not nxt:
            continue
        for verb, follow, target, why, why_es in (
            (
                "aplicar",
                "para",
                "solicitar",
                "'aplicar para' is an anglicism; 'apply for' is 'solicitar'.",
                "'aplicar para' es un calco del inglés (apply for): se dice 'solicitar'.",
            ),
            (
                "tomar",
                "lugar",
                "tener",
                "'take place' is 'tener lugar'.",
                "'tomar lugar' es un calco del inglés (take place): se dice 'tener lugar'.",
            ),
            (
                "hacer",
                "sentido",
                "tener",
                "'make sense' is 'tener sentido'.",
                "'hacer sentido' es un calco del inglés (make sense): se dice 'tener sentido'.",
            ),
        ):
            if nxt != follow or (verb == "aplicar" and prev == "se"):
                continue
            if not (
                w.startswith(verb[:3]) or w.startswith("hic") or w.startswith("hag") or w.startswith("hiz")
            ):
                continue
            slot = _same_slot(w, verb, target)
            if slot:
                fixed = slot if verb == "aplicar" else f"{slot} {follow}"
                yield 2, c.fix(i, i + 1, fixed, "false_friend", why, why_es)
        if nxt == "que" and w.startswith("reali"):
            slot = _same_slot(w, "realizar", "dar")
            person = _person_of(w, "realizar")
            if slot and person:
                fixed = f"{reflexive[person]} {slot} cuenta de que"
            elif slot:
                fixed = "darse cuenta de que"
            else:
                continue
            why = "'realizar' means to carry out; 'realise' is 'darse cuenta de'."
            why_es = "'realizar' significa llevar a cabo; 'realise' se dice 'darse cuenta de'."
            yield 2, c.fix(i, i + 1, fixed, "false_friend", why, why_es)
        if w.startswith("atend") or w.startswith("atiend"):
            k = i + 1
            if c.low(k) in ("la", "el", "a") and c.joined(k):
                k += 1
                if c.low(k) in ("la", "el") and c.joined(k):
                    k += 1
            if c.low(k) in _EVENTS_ATTENDED and readings(w):
                slot = _same_slot(w, "atender", "asistir")
                if slot:
                    det = c.low(k - 1) if k - 1 > i else ""
                    fixed = f"{slot} a {det}".strip() if det not in ("a", "") else f"{slot} a"
                    fixed = fixed.replace("a el", "al")
                    why = "'atender' means to serve or pay attention; 'attend (an event)' is 'asistir a'."
                    why_es = "'atender' es servir o prestar atención; ir a un evento es 'asistir a'."
                    yield 2, c.fix(i, k - 1, fixed, "false_friend", why, why_es)
        if w.startswith("introdu") and nxt == "a" and c.joined(i + 1):
            after = c.low(i + 2)
            if after in _POSSESSIVES or after in ("el", "la", "los", "las") or after in _FIRST_NAMES:
                slot = _same_slot(w, "introducir", "presentar")
                if slot:
                    why = "'introducir' means to insert; introducing a person is 'presentar'."
                    why_es = "'introducir' es meter una cosa dentro de otra; a una persona se la 'presenta'."
                    yield 2, c.fix(i, i, slot, "false_friend", why, why_es)


def _rule_tener(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    to_tener = _TO_TENER
    for i in range(c.n - 1):
        w = c.low(i)
        if w not in to_tener or not c.joined(i):
            continue
        nxt = c.low(i + 1)
        fixed = to_tener[w]
        if (nxt.isdigit() or nxt in _NUMBER_WORDS) and c.joined(i + 1) and c.low(i + 2) in ("años", "año"):
            why = f"Age uses tener: '{fixed} {nxt} años'."
            why_es = f"La edad se dice con tener: '{fixed} {nxt} años'."
            yield 2, c.fix(i, i, fixed, "tener", why, why_es)
        elif nxt in _TENER_NOUNS and w in ("soy", "estoy", "eres", "estás", "somos", "estamos"):
            why = f"'{nxt}' is a noun here: Spanish says 'tener {nxt}' ({fixed} {nxt})."
            why_es = f"'{nxt}' es un sustantivo: se dice 'tener {nxt}' ({fixed} {nxt})."
            yield 2, c.fix(i, i, fixed, "tener", why, why_es)
        elif nxt == "caliente" and w in ("estoy", "estás", "estamos"):
            why = "For people 'estar caliente' has a sexual meaning; feeling hot is 'tener calor'."
            why_es = "Dicho de una persona, 'estar caliente' tiene sentido sexual; se dice 'tener calor'."
            yield 2, c.fix(i, i + 1, f"{fixed} calor", "tener", why, why_es)


_RULES: tuple[Rule, ...] = (
    rule_agreement,
    _rule_contraction,
    _rule_subject_verb,
    rule_accents,
    rule_ser_estar,
    rule_gustar,
    rule_le_les,
    rule_personal_a,
    rule_por_para,
    _rule_false_friends,
    _rule_tener,
    rule_subjunctive,
    rule_conditional_si,
    rule_past_narrative,
)


def check(text: str) -> list[Correction]:
    """Corrections for ``text``, sorted by position, never overlapping."""
    c = _Ctx(text)
    found: list[tuple[int, Correction]] = []
    for rule in _RULES:
        found.extend(rule(c))
    found.sort(key=lambda pc: (pc[0], pc[1].start))
    chosen: list[Correction] = []
    for _, corr in found:
        if all(corr.end <= o.start or corr.start >= o.end for o in chosen):
            chosen.append(corr)
    return sorted(chosen, key=lambda x: x.start)


__all__ = ["Correction", "check"]
