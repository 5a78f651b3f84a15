"""A short placement test that starts easy and climbs: an adaptive staircase over the CEFR levels A1–C1.

Why a staircase: a new learner must never meet the subjunctive first. The first item is always A1 (the
present of *ser* and *tener*, articles, *gustar*...). After a right answer the next item is one level up;
after a wrong one it is one level down (a slip or a lucky guess is checked against the level below),
and the test stops as soon as one level has been missed twice. Passing the top level (C1) twice also ends
it, and no test asks more than :data:`MAX_QUESTIONS` items.

The level found is the highest level, below any level missed twice, where the learner got more items
right than wrong (A1 when there is none). :class:`PlacementResult` says why, as data (``reason``, the
level that stopped the test): the tutor writes the learner-facing line in the learner's language; this
module writes no chat text, so it stays free of the tutor layer.

Everything is a pure function over :class:`PlacementState`, which serialises to plain JSON
(``to_json``/``from_json``) so the tutor can keep it in Redis between WhatsApp messages. Items fit
WhatsApp reply buttons (3 options, titles ≤ 20 characters, no two options equal once accents are
dropped, since a typed answer is compared without accents). The items are written for Espaluz.

Usage::

    state = start(seed)                 # the seed only varies which item of a level is asked
    q = next_question(state)            # show q.prompt with q.options as buttons
    state = answer(state, q.id, "soy")  # the option title (or its index) the learner chose
    ...
    if finished(state): result(state)   # PlacementResult(level="A2", reason="ceiling", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1")
MAX_QUESTIONS = 8
MISSES_TO_STOP = 2  # misses at one level that end the test
TOP_PASSES = 2  # right answers at the top level that end the test there

# (id, level, prompt, answer, distractors). Each distractor is wrong in standard Spanish in that sentence.
_ITEMS: tuple[tuple[str, str, str, str, tuple[str, str]], ...] = (
    ("a1-ser", "A1", "Yo ___ de Colombia.", "soy", ("estoy", "tengo")),
    ("a1-edad", "A1", "Ella ___ veinte años.", "tiene", ("es", "está")),
    ("a1-articulo", "A1", "___ casa es grande.", "La", ("El", "Los")),
    ("a1-llamar", "A1", "¿Cómo ___ llamas?", "te", ("se", "tu")),
    ("a1-vivir", "A1", "Nosotros ___ en Madrid.", "vivimos", ("vivís", "viven")),
    ("a1-gustar", "A1", "Me ___ el chocolate.", "gusta", ("gusto", "gustan")),
    ("a1-estar", "A1", "Mis padres ___ en casa ahora.", "están", ("son", "hay")),
    ("a2-fui", "A2", "Ayer yo ___ al cine con Ana.", "fui", ("fue", "voy")),
    ("a2-jugaba", "A2", "De niño, siempre ___ al fútbol.", "jugaba", ("jugaré", "juego")),
    ("a2-participio", "A2", "¿Has ___ la película?", "visto", ("vista", "viendo")),
    ("a2-comparativo", "A2", "Mi hermano es ___ alto que yo.", "más", ("muy", "tan")),
    ("a2-futuro", "A2", "Mañana ___ a llover.", "va", ("vas", "voy")),
    ("a2-reflexivo", "A2", "Yo ___ levanto a las siete.", "me", ("te", "se")),
    ("a2-dijo", "A2", "Ayer ella me ___ la verdad.", "dijo", ("dice", "diga")),
    ("b1-vengas", "B1", "Quiero que tú ___ a la fiesta.", "vengas", ("vienes", "venir")),
    ("b1-cuando", "B1", "Cuando ___ a casa, te llamaré.", "llegue", ("llegaré", "llegar")),
    ("b1-si", "B1", "Si tengo tiempo, te ___.", "ayudaré", ("ayudaría", "ayudara")),
    ("b1-por", "B1", "Gracias ___ todo.", "por", ("para", "de")),
    ("b1-ojala", "B1", "Ojalá ___ sol mañana.", "haga", ("hace", "hizo")),
    ("b1-nadie", "B1", "No conozco a nadie que ___ ruso.", "hable", ("habla", "hablará")),
    ("b1-lo", "B1", "¿El libro? Ya ___ he leído.", "lo", ("le", "la")),
    ("b2-tuviera", "B2", "Si ___ dinero, viajaría más.", "tuviera", ("tengo", "tendría")),
    ("b2-pidio", "B2", "Me pidió que lo ___.", "ayudara", ("ayudo", "ayudaré")),
    ("b2-creo", "B2", "No creo que ___ razón.", "tenga", ("tiene", "tendrá")),
    ("b2-comosi", "B2", "Habla como si lo ___ todo.", "supiera", ("sabe", "sabrá")),
    ("b2-futuroperf", "B2", "Cuando llegues, ya ___.", "habré salido", ("salí", "saldría")),
    ("b2-se", "B2", "A Juan ___ olvidaron las llaves.", "se le", ("le se", "lo")),
    ("b2-paraque", "B2", "Te lo digo para que lo ___.", "sepas", ("sabes", "sabrás")),
    ("c1-hubieras", "C1", "Si me lo ___ dicho, habría ido.", "hubieras", ("habías", "habrías")),
    ("c1-pormucho", "C1", "Por mucho que ___, no lo logrará.", "insista", ("insistía", "insistirá")),
    ("c1-noesque", "C1", "No es que no ___, es que no puedo.", "quiera", ("quiero", "querré")),
    ("c1-cuyo", "C1", "Es un autor ___ obra admiro.", "cuya", ("cuyo", "que")),
    ("c1-haber", "C1", "Me arrepiento de no ___ estudiado.", "haber", ("había", "he")),
    ("c1-quien", "C1", "___ lo sepa, que lo diga.", "Quien", ("Cual", "Cuyo")),
    ("c1-debe", "C1", "___ de ser tarde: no hay nadie.", "Debe", ("Tiene", "Hay")),
)


@dataclass(frozen=True)
class Question:
    """One item: ``options`` (3, each ≤ 20 chars) in display order."""

    id: str
    level: str
    prompt: str
    options: tuple[str, ...]
    answer: str

    def to_whatsapp(self) -> dict[str, Any]:
        """The ``interactive`` object of a WhatsApp reply-buttons message."""
        return {
            "type": "button",
            "body": {"text": self.prompt},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"{self.id}:{i}", "title": opt}}
                    for i, opt in enumerate(self.options)
                ]
            },
        }


def _rotate(options: tuple[str, ...], key: str) -> tuple[str, ...]:
    """A fixed, item-dependent order, so the right answer is not always the first button."""
    shift = sum(map(ord, key)) % len(options)
    return options[shift:] + options[:shift]


QUESTIONS: dict[str, Question] = {
    qid: Question(qid, level, prompt, _rotate((answer, *others), qid), answer)
    for qid, level, prompt, answer, others in _ITEMS
}
BY_LEVEL: dict[str, tuple[Question, ...]] = {
    lv: tuple(q for q in QUESTIONS.values() if q.level == lv) for lv in LEVELS
}


@dataclass(frozen=True)
class PlacementState:
    """Serializable test state: the answers so far (question id, right?) and the item seed."""

    answers: tuple[tuple[str, bool], ...] = ()
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"answers": [[qid, ok] for qid, ok in self.answers], "seed": self.seed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlacementState:
        """The state back from JSON. A state saved by the older Bayesian test (with a ``posterior``)
        loads too: its answers replay through the staircase."""
        answers = tuple((str(q), bool(ok)) for q, ok in data["answers"])
        unknown = [q for q, _ in answers if q not in QUESTIONS]
        if unknown:
            raise ValueError(f"unknown questions {unknown!r}")
        return cls(answers, int(data.get("seed", 0)))


@dataclass(frozen=True)
class Walk:
    """The staircase replayed over the answers: the level to ask next and what was seen per level."""

    next_level: int
    right: tuple[int, ...]
    missed: tuple[int, ...]
    stop: str  # "" while the test goes on; else the reason it ended (see PlacementResult.reason)


def walk(answers: tuple[tuple[str, bool], ...]) -> Walk:
    """Replay the staircase: start at A1, up one after a right answer, down one after a wrong one;
    stop after two misses at one level, two right answers at the top, or ``MAX_QUESTIONS``."""
    top = len(LEVELS) - 1
    level = 0
    right = [0] * len(LEVELS)
    missed = [0] * len(LEVELS)
    stop = ""
    for qid, ok in answers:
        asked = LEVELS.index(QUESTIONS[qid].level)
        if ok:
            right[asked] += 1
            if asked == top and right[top] >= TOP_PASSES:
                stop = "top"
            level = min(asked + 1, top)
        else:
            missed[asked] += 1
            if missed[asked] >= MISSES_TO_STOP:
                stop = "basics" if asked == 0 else "ceiling"
            level = max(asked - 1, 0)
        if stop:
            break
    if not stop and len(answers) >= MAX_QUESTIONS:
        stop = "limit"
    return Walk(level, tuple(right), tuple(missed), stop)


def start(seed: int = 0) -> PlacementState:
    """A fresh test. ``seed`` picks which item of each level comes first (variety between learners);
    the first item is A1 whatever the seed."""
    return PlacementState(seed=seed)


def finished(state: PlacementState) -> bool:
    return next_question(state) is None


def next_question(state: PlacementState) -> Question | None:
    """The next item (at the staircase's level), or ``None`` when the test is over."""
    steps = walk(state.answers)
    if steps.stop:
        return None
    pool = BY_LEVEL[LEVELS[steps.next_level]]
    asked = {qid for qid, _ in state.answers}
    first = state.seed % len(pool)
    for k in range(len(pool)):
        q = pool[(first + k) % len(pool)]
        if q.id not in asked:
            return q
    return None  # every item of that level asked: cannot happen within MAX_QUESTIONS, kept safe


def answer(state: PlacementState, question_id: str, choice: str | int) -> PlacementState:
    """The state after the learner picks ``choice`` (an option title or its index) for a question.

    Raises ``KeyError`` for an unknown question and ``ValueError`` for one already answered or an
    index out of range."""
    q = QUESTIONS[question_id]
    if any(qid == question_id for qid, _ in state.answers):
        raise ValueError(f"question {question_id} was already answered")
    if isinstance(choice, int):
        if not 0 <= choice < len(q.options):
            raise ValueError(f"option {choice} out of range")
        picked = q.options[choice]
    else:
        picked = choice.strip()
    correct = picked.lower() == q.answer.lower()
    return PlacementState((*state.answers, (question_id, correct)), state.seed)


@dataclass(frozen=True)
class PlacementResult:
    """The level found and why.

    ``reason``: ``top`` (the top level passed twice), ``ceiling`` (two misses at ``stopped_at``),
    ``basics`` (two misses at A1), ``limit`` (``MAX_QUESTIONS`` asked), or ``unfinished`` (a result
    taken before the end). ``stopped_at`` is the level missed twice, else ``""``."""

    level: str
    reason: str
    stopped_at: str
    questions: int
    right: int

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "reason": self.reason,
            "stopped_at": self.stopped_at,
            "questions": self.questions,
            "right": self.right,
        }


def result(state: PlacementState) -> PlacementResult:
    """The highest level, below any level missed twice, with more right answers than wrong ones."""
    steps = walk(state.answers)
    ceiling = next((k for k, m in enumerate(steps.missed) if m >= MISSES_TO_STOP), len(LEVELS))
    solid = [k for k in range(ceiling) if steps.right[k] > steps.missed[k]]
    level = solid[-1] if solid else 0
    return PlacementResult(
        level=LEVELS[level],
        reason=steps.stop or "unfinished",
        stopped_at=LEVELS[ceiling] if ceiling < len(LEVELS) else "",
        questions=len(state.answers),
        right=sum(steps.right),
    )
