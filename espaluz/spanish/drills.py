"""Conjugation and vocabulary drills by CEFR level and skill, with diagnostic answer checking.

:func:`make_drill` picks a fill-in sentence for a skill and level; :func:`check_answer` classifies a
learner's reply as

- ``right`` (any standard form: *-ra/-se*, *tú* or *vos* for rioplatense learners),
- ``accent``: right letters, written accent missing or misplaced (*tuvo* ok, *hablo* for *habló*),
- ``other_form``: a real form of the same verb in another person or tense (it says which),
- ``other_verb``: a real form of another verb (*es* where *está* was needed),
- ``wrong``,

each with a short diagnosis in English (``message``: *"o→ue in stressed syllables: puedo"*) and in
Spanish (``message_es``: "*hablamos* es la forma de nosotros (presente) de *hablar*; aquí hace falta
*hablo*.", forms in WhatsApp bold); ``AnswerCheck.message_for(language)`` picks one by the learner's
explanation language. Drills and checks are frozen dataclasses with ``to_json`` so the tutor can keep them in
Redis.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from espaluz.spanish import drill_bank, drill_hints_es
from espaluz.spanish import verb_lexicon as lex
from espaluz.spanish.conjugation import PERSON_PRONOUNS, conjugate_table, listed_stem_change
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.verb_index import readings

LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1")
SKILLS: tuple[str, ...] = drill_bank.SKILLS
Verdict = Literal["right", "accent", "other_form", "other_verb", "wrong"]
DIALECTS: tuple[str, ...] = ("latam", "spain", "rioplatense")

_TENSE_LABEL = {
    "indicative.present": "present",
    "indicative.preterite": "preterite",
    "indicative.imperfect": "imperfect",
    "indicative.future": "future",
    "conditional.present": "conditional",
    "subjunctive.present": "present subjunctive",
    "subjunctive.imperfect": "imperfect subjunctive",
    "subjunctive.future": "future subjunctive",
    "imperative.affirmative": "imperative",
    "imperative.negative": "negative imperative",
    "indicative.present_perfect": "present perfect",
    "indicative.pluperfect": "pluperfect",
    "indicative.future_perfect": "future perfect",
    "indicative.past_anterior": "past anterior",
    "conditional.perfect": "conditional perfect",
    "subjunctive.present_perfect": "present perfect subjunctive",
    "subjunctive.pluperfect": "pluperfect subjunctive",
    "subjunctive.future_perfect": "future perfect subjunctive",
    "participle": "participle",
    "gerund": "gerund",
    "infinitive": "infinitive",
}
_CHANGE_HINT = {
    "ie": "e→ie in stressed syllables",
    "ue": "o→ue in stressed syllables",
    "i": "e→i in stressed syllables",
    "ie-i": "e→ie when stressed (e→i in some forms)",
    "ue-u": "o→ue when stressed (o→u in some forms)",
    "u-ue": "u→ue in stressed syllables",
    "i-ie": "i→ie in stressed syllables",
}
_SKILL_HINT = {
    "present_irregular_yo": "irregular yo form",
    "preterite_irregular": "irregular preterite stem, endings -e/-iste/-o without accents",
    "preterite_vs_imperfect": "preterite for completed events, imperfect for background and habits",
    "future_irregular": "irregular future stem + -é, -ás, -á...",
    "conditional": "future stem + -ía endings",
    "present_subjunctive": "wishes, doubt, emotion, purpose and future 'cuando' take the subjunctive",
    "imperfect_subjunctive": "from the preterite ellos form: -ron → -ra/-se",
    "imperative": "tú affirmative = él present, except ten ven pon sal haz di sé ve",
    "participles": "irregular participle",
    "present_regular": "regular present endings",
}


@dataclass(frozen=True)
class Drill:
    """One fill-in item. ``answers`` are all the standard forms (most common first)."""

    id: str
    skill: str
    level: str
    prompt: str
    answers: tuple[str, ...]
    options: tuple[str, ...] = ()
    verb: str = ""
    tense: str = ""
    person: str = ""
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "skill": self.skill,
            "level": self.level,
            "prompt": self.prompt,
            "answers": list(self.answers),
            "options": list(self.options),
            "verb": self.verb,
            "tense": self.tense,
            "person": self.person,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class AnswerCheck:
    """The diagnosis of one answer. ``correct`` is true for ``right`` and ``accent``.

    ``message`` is in English, ``message_es`` in Spanish (forms in WhatsApp bold);
    show :meth:`message_for` with the learner's explanation language.
    """

    verdict: Verdict
    expected: str
    message: str
    verb: str = ""
    tense: str = ""
    person: str = ""
    message_es: str = ""

    @property
    def correct(self) -> bool:
        return self.verdict in ("right", "accent")

    def message_for(self, language: str) -> str:
        """The diagnosis in ``language`` ("es" → Spanish, anything else → English)."""
        return (self.message_es or self.message) if language == "es" else self.message

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "correct": self.correct,
            "expected": self.expected,
            "message": self.message,
            "verb": self.verb,
            "tense": self.tense,
            "person": self.person,
            "message_es": self.message_es,
        }


def _hint(skill: str, verb: str, answer: str) -> str:
    spec = lex.SPECS.get(verb)
    change = (spec.change if spec else "") or listed_stem_change(verb)
    base = _CHANGE_HINT.get(change, "") if skill == "present_stem_change" else ""
    base = base or _SKILL_HINT.get(skill, "")
    return f"{base}: {answer}" if base else answer


def _conj_drill(skill: str, idx: int, item: drill_bank.ConjItem) -> Drill:
    level, prompt, verb, tense, person = item
    table = conjugate_table(verb)
    answers = table.nonfinite[tense] if tense == "participle" else table.forms[tense][person]
    return Drill(
        id=f"{skill}:{idx}",
        skill=skill,
        level=level,
        prompt=prompt,
        answers=answers,
        verb=verb,
        tense=tense,
        person=person,
        hint=_hint(skill, verb, answers[0]),
    )


def _choice_drill(skill: str, idx: int, item: drill_bank.ChoiceItem) -> Drill:
    level, prompt, answer, options, explanation = item
    return Drill(
        id=f"{skill}:{idx}",
        skill=skill,
        level=level,
        prompt=prompt,
        answers=(answer,),
        options=options,
        hint=explanation,
    )


@cache
def all_drills() -> tuple[Drill, ...]:
    """Every drill in the bank (built once)."""
    out: list[Drill] = []
    for skill, conj_items in drill_bank.CONJUGATION.items():
        out.extend(_conj_drill(skill, i, item) for i, item in enumerate(conj_items))
    for skill, choice_items in drill_bank.CHOICE.items():
        out.extend(_choice_drill(skill, i, item) for i, item in enumerate(choice_items))
    return tuple(out)


def drill_by_id(drill_id: str) -> Drill:
    """Look a drill up by its ``id`` (what the tutor stores between messages)."""
    for d in all_drills():
        if d.id == drill_id:
            return d
    raise KeyError(drill_id)


def make_drill(skill: str, level: str, rng: random.Random) -> Drill:
    """A drill for ``skill`` at ``level`` (or the nearest lower level that has one, else any)."""
    if skill not in SKILLS:
        raise ValueError(f"unknown skill {skill!r}; expected one of {SKILLS}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    pool = [d for d in all_drills() if d.skill == skill]
    for lv in reversed(LEVELS[: LEVELS.index(level) + 1]):
        at_level = [d for d in pool if d.level == lv]
        if at_level:
            return rng.choice(at_level)
    return rng.choice(pool)


@cache
def _paradigm_index(verb: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Every form of ``verb`` → its (tense, person) readings."""
    table = conjugate_table(verb)
    index: dict[str, list[tuple[str, str]]] = {}
    for tense, persons in table.forms.items():
        for person, forms in persons.items():
            for f in forms:
                index.setdefault(f, []).append((tense, person))
    for kind, forms in table.nonfinite.items():
        for f in forms:
            index.setdefault(f, []).append((kind, ""))
    return {f: tuple(rs) for f, rs in index.items()}


def _reading(drill: Drill, form: str) -> tuple[str, str] | None:
    """The reading of ``form`` in the drill verb's paradigm, preferring the drill's person."""
    rs = _paradigm_index(drill.verb).get(form) if drill.verb else None
    if not rs:
        return None
    for tense, person in rs:
        if person == drill.person:
            return tense, person
    return rs[0]


_SPACES = re.compile(r"\s+")


def _normalize(answer: str) -> str:
    return _SPACES.sub(" ", answer.strip().strip(".,;:!¡?¿\"'").lower())


def _accepted(drill: Drill, dialect: str) -> tuple[str, ...]:
    accepted = list(drill.answers)
    if drill.verb and drill.person == "2s" and dialect == "rioplatense":
        vos = conjugate_table(drill.verb).forms.get(drill.tense, {}).get("vos", ())
        accepted.extend(vos)
    return tuple(dict.fromkeys(accepted))


def _describe(tense: str, person: str) -> str:
    label = _TENSE_LABEL.get(tense, tense)
    return f"{PERSON_PRONOUNS[person]} {label}" if person else label


def _describe_es(tense: str, person: str) -> str:
    """'la forma de nosotros (presente)', or 'el participio' for a non-finite form."""
    label = drill_hints_es.TENSE_LABELS.get(tense, tense)
    return f"la forma de {PERSON_PRONOUNS[person]} ({label})" if person else f"el {label}"


def _hint_es(drill: Drill) -> str:
    """The Spanish counterpart of ``drill.hint`` ("" when there is none or it has no translation)."""
    if not drill.hint:
        return ""
    if drill.verb and drill.answers and drill.hint == _hint(drill.skill, drill.verb, drill.answers[0]):
        spec = lex.SPECS.get(drill.verb)
        change = (spec.change if spec else "") or listed_stem_change(drill.verb)
        base = drill_hints_es.CHANGE_HINTS.get(change, "") if drill.skill == "present_stem_change" else ""
        base = base or drill_hints_es.SKILL_HINTS.get(drill.skill, "")
        return f"{base}: {drill.answers[0]}" if base else drill.answers[0]
    return drill_hints_es.CHOICE_HINTS.get(drill.hint, "")


def _with_hint(sentence: str, hint: str) -> str:
    """``sentence`` closed with a full stop, then the hint as its own sentence."""
    return f"{sentence}. {hint[:1].upper()}{hint[1:]}." if hint else f"{sentence}."


def check_answer(drill: Drill, answer: str, dialect: str = "latam") -> AnswerCheck:
    """Classify ``answer`` to ``drill`` (see the module docstring for the verdicts); the diagnosis
    comes in English (``message``) and Spanish (``message_es``)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    given = _normalize(answer)
    accepted = _accepted(drill, dialect)
    expected = drill.answers[0]
    base = {"expected": expected}
    if given in accepted:
        others = [a for a in accepted if a != given]
        also = f" (also right: {', '.join(others)})" if others else ""
        also_es = f" (también vale: {', '.join(f'*{o}*' for o in others)})" if others else ""
        return AnswerCheck("right", message=f"Right!{also}", message_es=f"¡Correcto!{also_es}", **base)
    hint = drill.hint.rstrip(".")
    hint_es = _hint_es(drill).rstrip(".")
    reading = _reading(drill, given)
    if reading and reading[1] == "vos":
        why = f"'{given}' is the vos form; with tú it is '{expected}'."
        why_es = f"*{given}* es la forma de vos; con tú es *{expected}*."
        return AnswerCheck(
            "other_form",
            message=why,
            message_es=why_es,
            verb=drill.verb,
            tense=reading[0],
            person="vos",
            **base,
        )
    bare = strip_accents(given)
    for a in accepted:
        if strip_accents(a) == bare:
            missing = any(ch in "áéíóú" for ch in a) and not any(ch in "áéíóú" for ch in given)
            how, how_es = (
                ("with the accent", "con tilde")
                if missing
                else ("without that accent", "sin esa tilde")
                if a == bare
                else ("with the accent here", "con la tilde en este sitio")
            )
            note = note_es = ""
            if reading:
                note = f" — '{given}' is the {_describe(*reading)}"
                note_es = f" — *{given}* es {_describe_es(*reading)}"
            return AnswerCheck(
                "accent",
                message=f"Almost: it is written '{a}', {how}{note}.",
                message_es=f"Casi: se escribe *{a}*, {how_es}{note_es}.",
                **base,
            )
    if reading:
        tense, person = reading
        why = f"'{given}' is the {_describe(tense, person)} of {drill.verb}; here you need '{expected}'"
        why_es = f"*{given}* es {_describe_es(tense, person)} de *{drill.verb}*; aquí hace falta *{expected}*"
        if hint:
            why += f" ({hint})"
        return AnswerCheck(
            "other_form",
            message=why + ".",
            message_es=_with_hint(why_es, hint_es),
            verb=drill.verb,
            tense=tense,
            person=person,
            **base,
        )
    rs = readings(given)
    if rs:
        r = rs[0]
        why = f"'{given}' is a form of {r.verb} ({_describe(r.tense, r.person)}); here you need '{expected}'"
        label_es = drill_hints_es.TENSE_LABELS.get(r.tense, r.tense)
        why_es = (
            f"*{given}* es una forma de *{r.verb}* ({PERSON_PRONOUNS[r.person]}, {label_es}); "
            f"aquí hace falta *{expected}*"
        )
        if hint:
            why += f": {hint}"
        return AnswerCheck(
            "other_verb",
            message=why + ".",
            message_es=_with_hint(why_es, hint_es),
            verb=r.verb,
            tense=r.tense,
            person=r.person,
            **base,
        )
    why = f"Not quite: the answer is '{expected}'"
    why_es = f"No exactamente: la respuesta es *{expected}*"
    if hint and hint != expected:
        why += f" ({hint})"
    hint_es = hint_es if hint_es != expected else ""
    return AnswerCheck("wrong", message=why + ".", message_es=_with_hint(why_es, hint_es), **base)
