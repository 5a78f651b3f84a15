"""Mood rules for intermediate learners: the subjunctive where Spanish requires it.

- ``conditional_si``: *si tendría tiempo* → *si tuviera tiempo* (also *como si*): an *if* clause
  takes the imperfect subjunctive, never the conditional. Indirect questions (*no sé si podría*,
  *me pregunto si*, *de si*) are left alone.
- ``subjunctive``: the present indicative (or future) after a wish or request (*espero que vienes*
  → *vengas*, *quiero que tú hablas* → *hables*), a feeling (*me gusta que*), a judgement (*es
  importante que*), *ojalá*, and the conjunctions that always take the subjunctive (*para que*,
  *sin que*, *antes de que*, *a menos que*, *en caso de que*, *con tal de que*). A trigger in a
  past or conditional tense (*quería que*, *me gustaría que*) asks for the imperfect subjunctive.
- ``subjunctive`` (doubt and denial): *dudo que es* → *sea* (not after *no dudo*), a negated belief
  *no creo/no pienso/no me parece que tiene* → *tenga* (not in questions: *¿no crees que es caro?*; never
  the plain *creo que tiene*), *no es verdad/cierto/claro que*, *no estoy seguro de que*.
- ``subjunctive`` (feelings with *de que* and *da*): *me alegro de que estás* → *estés*, *estoy contento de
  que*, *tengo miedo de que*, *me da miedo/pena que*, *¡qué pena que no puedes!* → *puedas*. A doubt or
  feeling in the past also corrects a past indicative (*me alegré de que vinieron* → *vinieran*).
- ``subjunctive`` (time): the future after *cuando*, *hasta que*, *en cuanto*, *después de que*,
  *tan pronto como* for a future event (*cuando llegaré* → *cuando llegue*). The present
  indicative stays (*cuando llego a casa, como*: a habit).

Every suggested form comes from the conjugator for the person the learner's form (or its subject)
shows; a form that could belong to two verbs or persons with different subjunctives (*siento*:
sentir or sentar) is left alone, as is any form that already has a subjunctive reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from espaluz.spanish.conjugation import conjugate_form, conjugate_table
from espaluz.spanish.correction_scan import CLITICS, NON_VERB_READINGS, SUBJECTS, Correction, Scan, words
from espaluz.spanish.nouns import adjective_info, noun_info
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.verb_index import readings

PRESENT = "indicative.present"
FUTURE = "indicative.future"
CONDITIONAL = "conditional.present"
SUBJ_PRESENT = "subjunctive.present"
SUBJ_PAST = "subjunctive.imperfect"
_PAST_TENSES = frozenset({"indicative.preterite", "indicative.imperfect", CONDITIONAL, SUBJ_PAST})
# (English, Spanish) names of the moods a correction asks for.
_MOOD_NAMES = {
    SUBJ_PRESENT: ("present subjunctive", "presente de subjuntivo"),
    SUBJ_PAST: ("imperfect subjunctive", "pretérito imperfecto de subjuntivo"),
}

_WISH_VERBS = frozenset(words("querer esperar desear preferir necesitar pedir"))
_FEELING_VERBS = frozenset(words("gustar encantar molestar importar"))
_FEELING_FORMS = frozenset(words("alegra alegran alegró alegraba preocupa preocupaba sorprende sorprendió"))
_IMPERSONAL = frozenset(
    words(
        "importante necesario necesaria mejor peor posible imposible probable improbable bueno malo "
        "raro extraño normal lógico natural increíble fundamental esencial urgente preciso preferible "
        "conveniente útil justo injusto triste fácil difícil"
    )
)
# Doubt: "dudo que es" → "sea" (never after "no": "no dudo que es verdad" is right). "duda" and "dudas"
# are left out: they are nouns too ("la duda que tengo").
_DOUBT_PRESENT = frozenset(words("dudo dudamos dudan dudáis"))
_DOUBT_PAST = frozenset(words("dudaba dudábamos dudaban dudé dudó dudaron dudaría"))
# Belief, only when negated: "no creo que tiene" → "tenga"; "creo que tiene" is right.
_BELIEF_PRESENT = frozenset(words("creo crees cree creemos creen pienso piensas piensa pensamos piensan"))
_BELIEF_PAST = frozenset(words("creía creíamos creían pensaba pensábamos pensaban creí pensé"))
# "no es verdad que", "no está claro que": a denied fact.
_FACT_WORDS = frozenset(words("verdad cierto claro seguro evidente obvio"))
# Feelings with "de que": "me alegro de que", "tengo miedo de que", "estoy contento de que".
_ALEGRAR_PRESENT = frozenset(words("alegro alegras alegra alegramos alegran"))
_ALEGRAR_PAST = frozenset(words("alegré alegraste alegró alegramos alegraron alegraba alegrábamos"))
_GLAD_ADJ = frozenset(words("contento contenta contentos contentas feliz felices orgulloso orgullosa"))
_FEAR_NOUNS = frozenset(words("miedo"))
_DA_FEELING = frozenset(words("miedo pena rabia vergüenza lástima igual"))
# "¡Qué pena que no puedes!" → "puedas". Not "qué bien que" / "qué suerte que": "¡qué bien que cocinas!" (how
# well you cook) and "¡qué suerte que tienes!" (what luck you have) are right with the indicative.
_QUE_EXCLAMATION = frozenset(words("pena lástima"))
_SER_PRESENT = frozenset(words("es será sea"))
_SER_PAST = frozenset(words("era fue sería fuera"))
# Verbs that introduce an indirect question with si / cuando (no sé si..., pregúntale cuando...).
_INDIRECT_VERBS = words(
    "saber preguntar ver decir dudar importar depender recordar olvidar entender explicar mirar pensar "
    "averiguar comprobar imaginar"
)
# Words that open an indirect question too: "no tengo claro si podría", "no estoy seguro si vendría".
_INDIRECT_WORDS = frozenset(words("claro seguro segura seguros seguras idea duda dudas pregunta cuestión"))
_ENCLITICS = ("me", "te", "le", "les", "nos", "lo", "la", "se")
_SUBJECT_WORDS: dict[str, tuple[str, ...]] = {
    **SUBJECTS,
    "todo": ("3s",),
    "esto": ("3s",),
    "eso": ("3s",),
    "alguien": ("3s",),
    "nadie": ("3s",),
    "todos": ("3p", "1p"),
}
_DETERMINERS = frozenset(
    words(
        "el la los las un una unos unas mi mis tu tus su sus este esta estos estas ese esa esos esas "
        "nuestro nuestra nuestros nuestras"
    )
)
_BEFORE_VERB = frozenset(words("no ya también tampoco nunca siempre todavía aún"))


@cache
def _indirect_forms() -> frozenset[str]:
    """Every form (finite, except the conditional, and non-finite) of the indirect-question verbs,
    without accents: *sé*, *pregunto*, *saber*, *pregunta*, *di*... The conditional is left out so
    *te diría la verdad si podría* is still corrected."""
    out: set[str] = set()
    for verb in _INDIRECT_VERBS:
        table = conjugate_table(verb)
        for tense, persons in table.forms.items():
            if tense == CONDITIONAL or " " in next(iter(persons.values()), ("",))[0]:
                continue
            for forms in persons.values():
                out.update(strip_accents(f) for f in forms)
        for forms in table.nonfinite.values():
            out.update(strip_accents(f) for f in forms)
    return frozenset(out)


def _is_indirect_verb(word: str) -> bool:
    bare = strip_accents(word)
    forms = _indirect_forms()
    return bare in forms or any(bare.endswith(cl) and bare[: -len(cl)] in forms for cl in _ENCLITICS)


def _indirect_before(c: Scan, i: int, reach: int = 4) -> bool:
    """A verb of knowing/asking, a word like *claro* or *idea* (or *de* right before) shortly before
    token i in the same clause."""
    m = i - 1
    while m >= 0 and c.joined(m) and i - m <= reach:
        w = c.low(m)
        if _is_indirect_verb(w) or w in _INDIRECT_WORDS or (m == i - 1 and w == "de"):
            return True
        m -= 1
    return False


def _verb_slot(c: Scan, k: int) -> tuple[int, tuple[str, ...]] | None:
    """From token k (right after a trigger), skip what may stand before the verb: a subject (pronoun,
    name, determiner + noun), negation and clitics. Returns the verb's index and the persons the
    subject allows (empty when there is no subject), or None at punctuation or the end."""
    persons: tuple[str, ...] = ()
    for _ in range(6):
        if k >= c.n or not c.joined(k - 1):
            return None
        w = c.low(k)
        nxt = c.low(k + 1) if c.joined(k) else ""
        if w in _SUBJECT_WORDS and not persons:
            persons = _SUBJECT_WORDS[w]
            k += 1
        elif w in _DETERMINERS and nxt and not persons and noun_info(nxt) and not readings(nxt):
            info = noun_info(nxt)
            persons = ("3p",) if info and info.plural else ("3s",)
            k += 2
        elif w in _DETERMINERS and w in CLITICS and nxt and noun_info(nxt) and not persons:
            # "que las ayudas lleguen", "que las cosas cambian": article + noun (noun and verb form) when a
            # verb follows; otherwise it may be clitic + verb ("que la llamas"): do not guess.
            if not (c.joined(k + 1) and readings(c.low(k + 2))):
                return None
            info = noun_info(nxt)
            persons = ("3p",) if info and info.plural else ("3s",)
            k += 2
        elif w in _BEFORE_VERB or w in CLITICS:
            k += 1
        elif c.toks[k].text[:1].isupper() and not readings(w) and not persons:
            persons = ("3s",)  # a name: "espero que María viene"
            k += 1
        else:
            return k, persons
    return None


def _target(form: str, from_tenses: frozenset[str], to_tense: str, persons: tuple[str, ...]) -> str | None:
    """The ``to_tense`` form for ``form`` read in one of ``from_tenses`` (None when the form could be
    a subjunctive already, is not a verb, or is ambiguous between verbs or persons)."""
    if form in NON_VERB_READINGS or adjective_info(form):
        return None
    rs = readings(form)
    if not rs or any(r.tense.startswith("subjunctive") for r in rs):
        return None
    hits = [r for r in rs if r.tense in from_tenses and (not persons or r.person in persons)]
    if not hits:
        return None
    targets = {conjugate_form(r.verb, to_tense, r.person) for r in hits}
    if len(targets) != 1:
        return None
    new = targets.pop()
    return None if new == form else new


def _tense_of(word: str) -> str | None:
    """SUBJ_PAST when every reading of the trigger verb is past or conditional, else SUBJ_PRESENT."""
    rs = readings(word)
    if not rs:
        return None
    return SUBJ_PAST if all(r.tense in _PAST_TENSES for r in rs) else SUBJ_PRESENT


def _main_clause_tense(c: Scan, i: int) -> str:
    """The sequence of tenses for a conjunction at token i: the nearest finite verb before it."""
    for m in range(i - 1, -1, -1):
        if any(ch in c.gap(m + 1) for ch in ".!?"):
            break
        w = c.low(m)
        if w in NON_VERB_READINGS or w in SUBJECTS:
            continue
        tense = _tense_of(w)
        if tense:
            return tense
    return SUBJ_PRESENT


def _phrase(c: Scan, i: int, j: int) -> str:
    """Tokens i..j as typed, first letter in lower case (for quoting inside an explanation)."""
    text = c.text[c.toks[i].start : c.toks[j].end]
    return text[:1].lower() + text[1:]


def _subjunctive_fix(
    c: Scan, trigger: tuple[int, int], kind: str, mood: str, from_tenses: frozenset[str]
) -> Correction | None:
    """The correction of the verb after a trigger (tokens ``trigger``), if it is in the indicative."""
    slot = _verb_slot(c, trigger[1] + 1)
    if slot is None:
        return None
    v, persons = slot
    new = _target(c.low(v), from_tenses, mood, persons)
    if new is None:
        return None
    t = _phrase(c, *trigger)
    m_en, m_es = _MOOD_NAMES[mood]
    if kind == "wish":
        why = f"'{t}' expresses a wish or a request, which takes the {m_en}: '{new}'."
        why_es = f"'{t}' expresa un deseo o una petición, que lleva {m_es}: '{new}'."
    elif kind == "feeling":
        why = f"'{t}' expresses a feeling, which takes the {m_en}: '{new}'."
        why_es = f"'{t}' expresa un sentimiento, que lleva {m_es}: '{new}'."
    elif kind == "doubt":
        why = f"'{t}' expresses doubt or denies a fact, which takes the {m_en}: '{new}'."
        why_es = f"'{t}' expresa duda o niega un hecho, y eso lleva {m_es}: '{new}'."
    elif kind == "judgement":
        why = f"'{t}' is a value judgement, which takes the {m_en}: '{new}'."
        why_es = f"'{t}' es una valoración, que lleva {m_es}: '{new}'."
    elif kind == "time":
        why = f"'{t}' about the future takes the present subjunctive, not the future: '{t} {new}'."
        why_es = f"'{t}' referido al futuro lleva presente de subjuntivo, no futuro: '{t} {new}'."
    else:
        why = f"'{t}' always takes the subjunctive: '{new}' ({m_en})."
        why_es = f"'{t}' siempre va con subjuntivo: '{new}' ({m_es})."
    return c.fix(v, v, new, "subjunctive", why, why_es)


_INDICATIVE = frozenset({PRESENT})
_INDICATIVE_OR_FUTURE = frozenset({PRESENT, FUTURE})
_FUTURE_ONLY = frozenset({FUTURE})
_PAST_INDICATIVE = frozenset({PRESENT, "indicative.imperfect", "indicative.preterite"})


def _joined_back(c: Scan, i: int, n: int) -> list[str]:
    """Up to n words before token i in the same clause, nearest first."""
    out: list[str] = []
    m = i - 1
    while m >= 0 and c.joined(m) and len(out) < n:
        out.append(c.low(m))
        m -= 1
    return out


def _in_question(c: Scan, i: int) -> bool:
    """Token i is in a question: an opening ¿ before it, or its sentence ends with ?."""
    if c.in_question(i):
        return True
    rest = c.text[c.toks[i].end :]
    ends = [p for p in (rest.find(ch) for ch in ".!?") if p >= 0]
    return bool(ends) and rest[min(ends)] == "?"


def _doubt_or_feeling(c: Scan, i: int, back: list[str]) -> tuple[int, str, str, frozenset[str]] | None:
    """Doubt, denial and feelings built with 'de que'. A trigger in the past also corrects a past
    indicative (*dudaba que podía* → *pudiera*, *me alegré de que vinieron* → *vinieran*)."""
    found = _doubt_or_feeling_trigger(c, i, back)
    if found is not None and found[2] == SUBJ_PAST:
        return found[0], found[1], SUBJ_PAST, _PAST_INDICATIVE
    return found


def _doubt_or_feeling_trigger(
    c: Scan, i: int, back: list[str]
) -> tuple[int, str, str, frozenset[str]] | None:
    p1, p2, p3, p4 = back[0], back[1], back[2], back[3]
    if p1 in _DOUBT_PRESENT | _DOUBT_PAST and p2 != "no":
        return i - 1, "doubt", SUBJ_PAST if p1 in _DOUBT_PAST else SUBJ_PRESENT, _INDICATIVE
    if p1 in _BELIEF_PRESENT | _BELIEF_PAST and p2 == "no" and not _in_question(c, i):
        return i - 2, "doubt", SUBJ_PAST if p1 in _BELIEF_PAST else SUBJ_PRESENT, _INDICATIVE
    if p1 == "parece" and p2 in CLITICS and p3 == "no" and not _in_question(c, i):
        return i - 3, "doubt", SUBJ_PRESENT, _INDICATIVE
    if p1 in _FACT_WORDS and p2 in ("es", "está") and p3 == "no" and not _in_question(c, i):
        return i - 3, "doubt", SUBJ_PRESENT, _INDICATIVE
    if p1 == "de":
        if p2 in _ALEGRAR_PRESENT | _ALEGRAR_PAST and p3 in CLITICS:
            return (
                i - 3,
                "feeling",
                SUBJ_PAST if p2 in _ALEGRAR_PAST - {"alegramos"} else SUBJ_PRESENT,
                _INDICATIVE,
            )
        if p2 in _GLAD_ADJ and p3 in _SER_OR_ESTAR:
            return i - 3, "feeling", SUBJ_PRESENT, _INDICATIVE
        if p2 in _FEAR_NOUNS and p3 in _TENER_PRESENT:
            return i - 3, "feeling", SUBJ_PRESENT, _INDICATIVE
        if p2 == "hora" and p3 in ("es", "era"):  # "ya es hora de que te vayas"
            return i - 3, "judgement", SUBJ_PAST if p3 == "era" else SUBJ_PRESENT, _INDICATIVE
        if p2 in ("seguro", "segura", "seguros", "seguras") and p3 in _SER_OR_ESTAR and p4 == "no":
            return i - 4, "doubt", SUBJ_PRESENT, _INDICATIVE
    if p1 in _DA_FEELING and p2 == "da" and p3 in CLITICS:
        return i - 3, "feeling", SUBJ_PRESENT, _INDICATIVE
    if p1 in _QUE_EXCLAMATION and p2 == "qué":
        return i - 2, "judgement", SUBJ_PRESENT, _INDICATIVE
    return None


_SER_OR_ESTAR = frozenset(words("estoy estás está estamos están soy eres es somos son"))
_TENER_PRESENT = frozenset(words("tengo tienes tiene tenemos tienen"))


def _que_trigger(c: Scan, i: int) -> tuple[int, str, str, frozenset[str]] | None:
    """What governs ``que`` at token i: (first token of the trigger, kind, mood, tenses to fix)."""
    back = [*_joined_back(c, i, 4), "", "", "", ""]
    p1, p2, p3 = back[0], back[1], back[2]
    extra = _doubt_or_feeling(c, i, back)
    if extra is not None:
        return extra
    if p1 == "para":
        return i - 1, "conjunction", _main_clause_tense(c, i - 1), _INDICATIVE_OR_FUTURE
    if p1 == "sin":
        return i - 1, "conjunction", _main_clause_tense(c, i - 1), _INDICATIVE_OR_FUTURE
    if p1 == "menos" and p2 == "a":
        return i - 2, "conjunction", _main_clause_tense(c, i - 2), _INDICATIVE_OR_FUTURE
    if p1 == "de" and p2 == "antes":
        return i - 2, "conjunction", _main_clause_tense(c, i - 2), _INDICATIVE_OR_FUTURE
    if p1 == "de" and p2 == "caso" and p3 == "en":
        return i - 3, "conjunction", SUBJ_PRESENT, _INDICATIVE_OR_FUTURE
    if p1 == "de" and p2 == "tal" and p3 == "con":
        return i - 3, "conjunction", SUBJ_PRESENT, _INDICATIVE_OR_FUTURE
    if p1 == "de" and p2 == "después":
        return i - 2, "time", SUBJ_PRESENT, _FUTURE_ONLY
    if p1 == "hasta":
        return i - 1, "time", SUBJ_PRESENT, _FUTURE_ONLY
    if p1 in ("ojalá", "ojala"):
        return i - 1, "conjunction", SUBJ_PRESENT, _INDICATIVE_OR_FUTURE
    rs = readings(p1)
    if any(r.verb in _WISH_VERBS for r in rs) and all(r.verb in _WISH_VERBS for r in rs):
        if any(r.verb == "esperar" and r.person == "3s" for r in rs) and c.starts_clause(i - 1):
            return None  # "Espera que voy": wait, I'm coming (imperative, causal que)
        mood = _tense_of(p1)
        return (i - 1, "wish", mood, _INDICATIVE) if mood else None
    if p2 in CLITICS and (p1 in _FEELING_FORMS or (rs and all(r.verb in _FEELING_VERBS for r in rs))):
        mood = SUBJ_PAST if p1 in _FEELING_FORMS and p1.endswith(("ó", "aba")) else _tense_of(p1)
        return (i - 2, "feeling", mood or SUBJ_PRESENT, _INDICATIVE)
    # es (muy) importante que / es una pena que: k is the token of ser
    if p1 in _IMPERSONAL:
        k = i - 3 if p2 == "muy" else i - 2
    elif p1 in ("pena", "lástima") and p2 == "una":
        k = i - 3
    else:
        return None
    ser = c.low(k) if k >= 0 and all(c.joined(m) for m in range(k, i)) else ""
    if ser not in _SER_PRESENT and ser not in _SER_PAST:
        return None
    before = c.low(k - 1) if k > 0 and c.joined(k - 1) else ""
    name = before and before not in _BEFORE_VERB and c.toks[k - 1].text[:1].isupper()  # "No es..." is no name
    if before in SUBJECTS or (before and noun_info(before)) or name:
        return None  # "Ella es mejor que yo", "la casa es mejor que...": a comparison
    return k, "judgement", SUBJ_PAST if ser in _SER_PAST else SUBJ_PRESENT, _INDICATIVE
    return None


def rule_subjunctive(c: Scan) -> Iterator[tuple[int, Correction]]:
    """The subjunctive after wishes, feelings, judgements, *ojalá*, conjunctions and future time."""
    for i in range(c.n):
        w = c.low(i)
        if w == "que":
            trig = _que_trigger(c, i)
            if trig is None:
                continue
            first, kind, mood, tenses = trig
            fix = _subjunctive_fix(c, (first, i), kind, mood, tenses)
        elif w in ("ojalá", "ojala"):
            if w == "ojala":
                why_es = "'ojalá' se escribe con tilde en la última a."
                yield 5, c.fix(i, i, "ojalá", "accent", "'ojalá' is written with an accent.", why_es)
            if c.low(i + 1) == "que" and c.joined(i):
                continue  # handled at "que"
            fix = _subjunctive_fix(c, (i, i), "conjunction", SUBJ_PRESENT, _INDICATIVE_OR_FUTURE)
        elif w == "cuando" or (w == "cuanto" and c.low(i - 1) == "en" and c.joined(i - 1)):
            fix = _time_fix(c, i)
        elif w == "como" and c.low(i - 1) == "pronto" and c.low(i - 2) == "tan" and c.joined(i - 2):
            fix = _subjunctive_fix(c, (i - 2, i), "time", SUBJ_PRESENT, _FUTURE_ONLY)
        else:
            continue
        if fix is not None:
            yield 2, fix


def _time_fix(c: Scan, i: int) -> Correction | None:
    """*cuando* / *en cuanto* + future → present subjunctive, unless it is a question."""
    first = i - 1 if c.low(i) == "cuanto" else i
    gap = c.gap(first).rstrip()
    if gap.endswith("¿") or (first > 0 and c.low(first - 1) in ("de", "desde", "hasta", "para", "por")):
        return None
    if _indirect_before(c, first) or (first > 1 and c.low(first - 1) in ("se", "sé")):
        return None
    rest = c.text[c.toks[i].end :]
    ends = [p for p in (rest.find(ch) for ch in ".!?") if p >= 0]
    if c.starts_clause(first) and ends and rest[min(ends)] == "?":
        return None  # "cuando llegarás?": a question without its ¿
    return _subjunctive_fix(c, (first, i), "time", SUBJ_PRESENT, _FUTURE_ONLY)


def rule_conditional_si(c: Scan) -> Iterator[tuple[int, Correction]]:
    """*si* + conditional → *si* + imperfect subjunctive (not in indirect questions)."""
    for i in range(c.n - 1):
        if c.toks[i].low != "si" or _indirect_before(c, i):
            continue
        if c.low(i - 1) in ("se", "por") and c.joined(i - 1):
            continue  # "no se si podría" (sé without its accent), "por si acaso"
        slot = _verb_slot(c, i + 1)
        if slot is None:
            continue
        v, persons = slot
        new = _target(c.low(v), frozenset({CONDITIONAL}), SUBJ_PAST, persons)
        if new is None or any(r.tense != CONDITIONAL for r in readings(c.low(v))):
            continue
        lead = c.text[c.toks[i].start : c.toks[v].start]
        shown = (lead[:1].lower() + lead[1:]) + new
        why = f"An 'if' clause takes the imperfect subjunctive, never the conditional: '{shown}'."
        why_es = (
            f"Tras 'si' de condición va el pretérito imperfecto de subjuntivo, no el condicional: '{shown}'."
        )
        yield 2, c.fix(v, v, new, "conditional_si", why, why_es)
