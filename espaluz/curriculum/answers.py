"""The answer checker of every curriculum exercise (and of any exercise an LLM writes for a grammar point).

Verdicts: ``right``; ``almost`` (only accents differ: *casi*, it counts, with the accent shown); ``wrong``,
always with a reason from the data or the engine:
- a verb form: the conjugator says which person, tense or verb the learner wrote
  (:func:`espaluz.spanish.drills.check_answer`);
- a sentence: the engine's own corrections of the learner's sentence (*el casa* → *la casa*, why), else the
  words that differ from the nearest accepted answer;
- a word: its meaning, with the dialect note;
- a choice: the grammar point's rule.

What counts as the same answer: case, punctuation and spacing never matter; a subject pronoun may be
dropped or added when the verb says the same person (*vivimos* / *nosotros vivimos*); an object pronoun may
sit before the conjugated verb or on the infinitive (*lo quiero ver* / *quiero verlo*). Accents matter
only for the verdict (``almost``), not for being understood.
"""

from __future__ import annotations

from dataclasses import dataclass

from espaluz.curriculum.exercises import Exercise
from espaluz.spanish.correction_scan import CLITICS, SUBJECTS
from espaluz.spanish.drills import Drill, check_answer
from espaluz.spanish.verb_index import readings
from espaluz.text import strip_marks

_PUNCT = "¿?¡!.,;:«»\"“”'()…-"
_DIALECTS = ("latam", "spain", "rioplatense")


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str  # right | almost | wrong
    expected: str  # the accepted answer nearest to what was written
    reason: dict[str, str]  # es / en: why it is wrong, or the accent it misses; empty when right

    @property
    def correct(self) -> bool:
        return self.verdict != "wrong"


def tokens(text: str) -> tuple[str, ...]:
    """Lower-case words without punctuation (accents kept)."""
    cleaned = "".join(" " if ch in _PUNCT else ch for ch in text.lower())
    return tuple(cleaned.split())


def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(strip_marks(w) for w in words)


def _person_of(word: str) -> set[str]:
    return {r.person for r in readings(word) if r.person}


def _variants(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    """An accepted sentence and its equivalent forms: subject pronoun dropped or added, clitic moved."""
    out = {words}
    if len(words) > 1 and words[0] in SUBJECTS and set(SUBJECTS[words[0]]) & _person_of(words[1]):
        out.add(words[1:])
    elif words and _person_of(words[0]):
        for pronoun, persons in SUBJECTS.items():
            if set(persons) & _person_of(words[0]):
                out.add((pronoun, *words))
    for variant in list(out):
        out |= _clitic_moves(variant)
    return out


def _clitic_moves(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    """*quiero verlo* ⇄ *lo quiero ver*: one clitic between a conjugated verb and its infinitive."""
    moved: set[tuple[str, ...]] = set()
    for i in range(len(words) - 1):
        verb, nxt = words[i], words[i + 1]
        for clitic in CLITICS:
            if nxt.endswith("r" + clitic) and _person_of(verb):
                moved.add((*words[:i], clitic, verb, nxt[: -len(clitic)], *words[i + 2 :]))
        if verb in CLITICS and i + 2 < len(words) and _person_of(nxt) and words[i + 2].endswith("r"):
            moved.add((*words[:i], nxt, words[i + 2] + verb, *words[i + 3 :]))
    return moved


def _diff(given: tuple[str, ...], target: tuple[str, ...]) -> list[tuple[str, str]]:
    """Word pairs (written, expected) that differ, position by position, when the lengths agree."""
    if len(given) != len(target):
        return []
    return [(g, t) for g, t in zip(given, target, strict=True) if g != t]


def _accent_reason(given: tuple[str, ...], target: tuple[str, ...]) -> dict[str, str]:
    pairs = ", ".join(f"*{t}*" for _, t in _diff(given, target))
    return {"es": f"Casi: ojo con la tilde ({pairs}).", "en": f"Almost: mind the accent ({pairs})."}


def check(ex: Exercise, answer: str, dialect: str = "latam") -> Verdict:
    """The verdict on ``answer`` to ``ex`` (see the module docstring)."""
    given = tokens(answer)
    if ex.type == "cloze":
        return _check_form(ex, answer, dialect)
    if ex.type == "vocabulary" and ex.direction == "to_en":
        meanings = {tokens(a) for a in ex.accepted}
        stripped = given[1:] if given[:1] in (("to",), ("a",), ("an",), ("the",)) else given
        ok = given in meanings or stripped in meanings or any(stripped == m[1:] for m in meanings)
        return Verdict("right" if ok else "wrong", ex.accepted[0], {} if ok else ex.reason)
    targets = {v: a for a in ex.accepted for v in _variants(tokens(a))}
    if ex.type == "vocabulary":  # the article is welcome, not required
        targets |= {
            t[1:]: a for t, a in list(targets.items()) if len(t) > 1 and t[0] in ("el", "la", "un", "una")
        }
    if given in targets:
        return Verdict("right", targets[given], {})
    if ex.type == "choice" and given in {tokens(o) for o in ex.options}:
        return Verdict("wrong", ex.accepted[0], ex.reason)  # another option (¿donde? for ¿dónde?)
    folded = {_folded(t): t for t in targets}
    if _folded(given) in folded:
        target = folded[_folded(given)]
        return Verdict("almost", targets[target], _accent_reason(given, target))
    return Verdict("wrong", ex.accepted[0], _wrong_reason(ex, answer, given, targets))


def _check_form(ex: Exercise, answer: str, dialect: str) -> Verdict:
    drill = Drill(
        id=f"cloze:{ex.skill}", skill=ex.skill, level="A1", prompt=ex.content, answers=ex.accepted,
        verb=ex.verb, tense=ex.tense, person=ex.person,
    )  # fmt: skip
    result = check_answer(drill, " ".join(tokens(answer)), dialect if dialect in _DIALECTS else "latam")
    verdict = {"right": "right", "accent": "almost"}.get(result.verdict, "wrong")
    reason = {} if verdict == "right" else {"es": result.message_for("es"), "en": result.message_for("en")}
    return Verdict(verdict, ex.accepted[0], reason)


def _wrong_reason(
    ex: Exercise, answer: str, given: tuple[str, ...], targets: dict[tuple[str, ...], str]
) -> dict[str, str]:
    if ex.type in ("translation", "listening", "word_order") and len(given) > 1:
        # Imported here: the checker's corrections cost the tutor's cold start ~25 ms and only a wrong
        # sentence needs them (measured with -X importtime).
        from espaluz.spanish.review import review

        fixes = review(answer).corrections
        if fixes:  # the engine knows what is wrong in the learner's own sentence
            fix = fixes[0]
            es = f"*{fix.wrong}* → *{fix.suggestion}*: {fix.why('es')}"
            en = f"“{fix.wrong}” → “{fix.suggestion}”: {fix.why('en')}"
            return {
                "es": f"{es} {ex.reason.get('es', '')}".strip(),
                "en": f"{en} {ex.reason.get('en', '')}".strip(),
            }
        nearest = min(targets, key=lambda t: len(_diff(given, t)) or len(t) + len(given))
        pairs = _diff(given, nearest)
        if pairs and len(pairs) <= 2:
            said = ", ".join(f"*{g}* → *{t}*" for g, t in pairs)
            return {
                "es": f"Casi: {said}. {ex.reason.get('es', '')}",
                "en": f"Nearly: {said}. {ex.reason.get('en', '')}",
            }
    return ex.reason


__all__ = ["Verdict", "check", "tokens"]
