"""Exercises generated from the syllabus: seven types, each with every answer it accepts.

- ``cloze``: conjugation in context, a practice sentence with its verb blanked (the conjugator's forms);
- ``choice``: multiple choice (buttons, or a WhatsApp list past three options): the focus words against the
  data's wrong choices, or a verb against its other persons in the same tense;
- ``vocabulary``: a word of the unit, either way (Spanish → English glosses; English → the lemma, its
  dialect variants, with or without the article);
- ``translation``: English → Spanish, several accepted sentences (see :mod:`.answers` for how answers are
  normalised: accents, punctuation, a dropped subject pronoun, clitic position);
- ``listening``: a model voice note of the sentence, which the learner writes down;
- ``word_order``: the sentence's words shuffled, to be put in order;
- ``speaking``: a sentence to say in a voice note (the tutor's voice path scores it; only offered when it
  is set up).

Every exercise carries its FSRS skill (``gp:<grammar point>`` or ``word:<lemma>``): an answer reviews that
card, so items become cards exactly as conjugation skills already are. Generation is pure and cheap
(the data are loaded once): a generated exercise is plain data, stored with the conversation.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from espaluz.curriculum.syllabus import Item, Point, Syllabus, Unit, load
from espaluz.spanish import lexicon
from espaluz.spanish.conjugation import conjugate_table
from espaluz.spanish.nouns import noun_info
from espaluz.text import strip_marks

TYPES = ("cloze", "choice", "vocabulary", "translation", "listening", "word_order", "speaking")
_ARTICLE = {"m": "el", "f": "la", "mf": "el"}


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``instruction`` (by language, "es"/"en") over ``content`` (the sentence, word or word
    list, the same for everyone); ``accepted`` the answers the checker accepts (before its
    normalisation); ``say`` the text of the model voice note (listening, speaking); ``reason`` what a
    wrong answer is told, by language."""

    type: str
    instruction: dict[str, str]
    content: str
    accepted: tuple[str, ...]
    unit: str
    grammar: str
    skill: str
    options: tuple[str, ...] = ()
    say: str = ""
    verb: str = ""
    tense: str = ""
    person: str = ""
    direction: str = ""  # vocabulary: "to_es" (English shown, Spanish asked) or "to_en"
    reason: dict[str, str] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """The Spanish instruction and the content, as one text."""
        return f"{self.instruction['es']}\n\n{self.content}" if self.content else self.instruction["es"]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exercise:
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        for key in ("accepted", "options"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + ("." if dot else "")


def _point_reason(point: Point, answer: str) -> dict[str, str]:
    return {
        "es": f"La respuesta es *{answer}*. {_first_sentence(point.explanation['es'])}",
        "en": f"The answer is “{answer}”. {_first_sentence(point.explanation['en'])}",
    }


def _cloze(unit: Unit, point: Point, item: Item) -> Exercise:
    r = item.render()
    forms = conjugate_table(r.verb).forms.get(r.tense, {}).get(r.person, (r.focus,))
    blanked = f"{r.text[: r.start]}…… ({r.verb}){r.text[r.end :]}"
    return Exercise(
        "cloze",
        {"es": "Completa con el verbo en la forma correcta:", "en": "Fill in the verb in the right form."},
        blanked,
        tuple(dict.fromkeys((r.focus, *forms))),
        unit.unit, point.id, f"gp:{point.id}",
        verb=r.verb, tense=r.tense, person=r.person, reason=_point_reason(point, r.focus),
    )  # fmt: skip


def _distractors(verb: str, tense: str, focus: str) -> list[str]:
    """Wrong options for a verb item without written ones: the same tense in other persons (the engine's
    forms, so each is a real form and none equals the answer once accents are dropped)."""
    forms = conjugate_table(verb).forms.get(tense, {})
    plain = strip_marks(focus)
    out: list[str] = []
    for person in ("1s", "2s", "3s", "1p", "3p"):
        for form in forms.get(person, ())[:1]:
            if strip_marks(form) != plain and form not in out:
                out.append(form)
    return out[:3]


def _choice(unit: Unit, point: Point, item: Item, rng: random.Random) -> Exercise:
    r = item.render()
    options = [r.focus, *(item.choices or _distractors(r.verb, r.tense, r.focus))]
    rng.shuffle(options)
    blanked = r.blanked()
    return Exercise(
        "choice",
        {"es": "Elige la opción correcta:", "en": "Choose the right option."},
        blanked,
        (r.focus,), unit.unit, point.id, f"gp:{point.id}", options=tuple(options),
        verb=r.verb, tense=r.tense, person=r.person, reason=_point_reason(point, r.focus),
    )  # fmt: skip


def _sentence_answers(item: Item) -> tuple[str, ...]:
    return tuple(dict.fromkeys((item.render().text, *item.alt)))


def _translation(unit: Unit, point: Point, item: Item) -> Exercise:
    accepted = _sentence_answers(item)
    return Exercise(
        "translation",
        {"es": "Traduce al español:", "en": "Translate into Spanish."},
        f"“{item.en}”",
        accepted, unit.unit, point.id, f"gp:{point.id}",
        reason={"es": f"Una traducción correcta: *{accepted[0]}*",
                "en": f"A correct translation: “{accepted[0]}”"},
    )  # fmt: skip


def _listening(unit: Unit, point: Point, item: Item) -> Exercise:
    text = item.render().text
    return Exercise(
        "listening",
        {"es": "🎧 Escucha la nota de voz y escribe lo que oyes.",
         "en": "Listen to the voice note and write down what you hear (in Spanish)."},
        "",
        (text,), unit.unit, point.id, f"gp:{point.id}", say=text,
        reason={"es": f"La frase era: *{text}*", "en": f"The sentence was: “{text}”"},
    )  # fmt: skip


def _word_order(unit: Unit, point: Point, item: Item, rng: random.Random) -> Exercise:
    text = item.render().text
    words = [w.strip('¿?¡!.,;:«»"').lower() for w in text.split()]
    shuffled = [w for w in words if w]
    original = list(shuffled)
    for _ in range(5):  # a shuffle that happens to give the sentence back is shuffled again
        rng.shuffle(shuffled)
        if shuffled != original:
            break
    listed = " / ".join(shuffled)
    return Exercise(
        "word_order",
        {"es": "Ordena las palabras para formar una frase:",
         "en": "Put the words in order to make a sentence."},
        listed,
        (text,), unit.unit, point.id, f"gp:{point.id}", options=tuple(shuffled),
        reason={"es": f"El orden correcto: *{text}*", "en": f"The right order: “{text}”"},
    )  # fmt: skip


def _speaking(unit: Unit, point: Point, item: Item) -> Exercise:
    text = item.render().text
    return Exercise(
        "speaking",
        {"es": "🎙️ Graba una nota de voz diciendo esta frase:",
         "en": "Record a voice note saying this sentence."},
        f"*{text}*",
        (text,), unit.unit, point.id, f"gp:{point.id}", say=text,
    )  # fmt: skip


def with_article(entry: lexicon.Entry) -> str:
    """A noun as a learner should learn it, with its article (*el agua*, *la mano*)."""
    if entry.pos != "noun":
        return entry.lemma
    article = "el" if entry.gender == "f" and _stressed_a(entry.lemma) else _ARTICLE[entry.gender]
    return f"{article} {entry.lemma}"


def _stressed_a(noun: str) -> bool:
    info = noun_info(noun)
    return bool(info and info.stressed_a)


def _vocabulary(unit: Unit, entry: lexicon.Entry, to_spanish: bool) -> Exercise:
    shown = with_article(entry)
    if to_spanish:
        spanish = (entry.lemma, *entry.variants)
        accepted = tuple(dict.fromkeys((*spanish, shown)))
        also = f" (también: {', '.join(entry.variants)})" if entry.variants else ""
        also_en = f" (also: {', '.join(entry.variants)})" if entry.variants else ""
        prompt = {"es": "¿Cómo se dice en español?", "en": "How do you say it in Spanish?"}
        content = f"“{entry.gloss}”"
        reason = {
            "es": f"«{entry.gloss}» es *{shown}*{also}.",
            "en": f"“{entry.gloss}” is *{shown}*{also_en}.",
        }
    else:
        accepted = entry.glosses
        prompt = {"es": "¿Qué significa en inglés?", "en": "What does it mean in English?"}
        content = f"*{shown}*"
        meanings = " / ".join(entry.glosses)
        reason = {"es": f"*{shown}* significa «{meanings}».", "en": f"*{shown}* means “{meanings}”."}
    note = {"es": f" {entry.note}", "en": f" ({entry.note})"} if entry.note else {"es": "", "en": ""}
    reason = {k: v + note[k] for k, v in reason.items()}
    return Exercise(
        "vocabulary", prompt, content, accepted, unit.unit, "", f"word:{entry.lemma}",
        reason=reason, direction="to_es" if to_spanish else "to_en",
    )  # fmt: skip


def available(syl: Syllabus, unit: Unit, point: str = "") -> dict[str, int]:
    """How many distinct exercises of each type a unit (or one of its grammar points) yields."""
    items = [it for gid in ((point,) if point else unit.grammar) for it in syl.points[gid].items]
    n = len(items)
    return {
        "cloze": sum(it.is_verb for it in items),
        "choice": sum(bool(it.choices) or it.is_verb for it in items),
        "vocabulary": 0 if point else 2 * len(syl.vocabulary.get(unit.unit, ())),
        "translation": n,
        "listening": n,
        "word_order": n,
        "speaking": n,
    }


def make(
    syl: Syllabus,
    unit: Unit,
    kind: str,
    rng: random.Random,
    *,
    point: str = "",
    lemma: str = "",
) -> Exercise:
    """An exercise of type ``kind`` from ``unit`` (a given grammar point or word, else a random one).

    Raises ``ValueError`` when the unit has nothing for that type (``available`` says what it has)."""
    if kind == "vocabulary":
        words = [e for e in syl.vocabulary.get(unit.unit, ()) if not lemma or e.lemma == lemma]
        if not words:
            raise ValueError(f"unit {unit.unit} has no vocabulary")
        return _vocabulary(unit, rng.choice(words), to_spanish=rng.random() < 0.5)
    points = [syl.points[g] for g in unit.grammar if not point or g == point]
    pairs = [(p, it) for p in points for it in p.items]
    if kind == "cloze":
        pairs = [(p, it) for p, it in pairs if it.is_verb]
    elif kind == "choice":
        pairs = [(p, it) for p, it in pairs if it.choices or it.is_verb]
    elif kind not in TYPES:
        raise ValueError(f"unknown exercise type {kind!r}; expected one of {TYPES}")
    if not pairs:
        raise ValueError(f"unit {unit.unit} has no {kind} exercise")
    p, it = rng.choice(pairs)
    if kind == "cloze":
        return _cloze(unit, p, it)
    if kind == "choice":
        return _choice(unit, p, it, rng)
    if kind == "translation":
        return _translation(unit, p, it)
    if kind == "listening":
        return _listening(unit, p, it)
    if kind == "word_order":
        return _word_order(unit, p, it, rng)
    return _speaking(unit, p, it)


def generate(level: str, kind: str | None, seed: int | None) -> Exercise:
    """One exercise of ``level`` (a random unit of it; a random type the unit has when ``kind`` is None)."""
    if level not in lexicon.LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {lexicon.LEVELS}")
    rng = random.Random(seed)  # noqa: S311 - which exercise to show, not security
    syl = load()
    units = list(syl.of_level(level))
    rng.shuffle(units)
    for unit in units:
        kinds = [k for k, n in available(syl, unit).items() if n and (kind is None or k == kind)]
        if kinds:
            return make(syl, unit, rng.choice(kinds), rng)
    raise ValueError(f"no {kind} exercise at level {level}")


__all__ = ["TYPES", "Exercise", "available", "generate", "make", "with_article"]
