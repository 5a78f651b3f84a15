"""A short adaptive placement test that estimates the learner's CEFR level and how sure it is.

Model: a Bayesian update over the five levels A1–C1 with a one-parameter logistic (IRT) item
response, plus guessing (1 / number of options). Each next question is the unasked item that
minimises the expected entropy of the posterior. The test stops after 8 questions once the most
likely level has ≥ 85 % of the probability, and always after 12.

Everything is a pure function over :class:`PlacementState`, which serialises to plain JSON
(``to_json``/``from_json``) so the tutor can keep it in Redis between WhatsApp messages. Questions
fit WhatsApp reply buttons (≤ 3 options, titles ≤ 20 characters); ``Question.to_whatsapp`` builds
the interactive payload body.

Usage::

    state = start()
    q = next_question(state)            # show q.prompt with q.options as buttons
    state = answer(state, q.id, "soy")  # the button title (or its index) the learner chose
    ...
    if finished(state): result(state)   # PlacementResult(level="B1", confidence=0.9, ...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1")
MIN_QUESTIONS = 8
MAX_QUESTIONS = 12
TARGET_CONFIDENCE = 0.85
_SLOPE = 2.2
_SLIP = 0.05

# (id, level, prompt, answer, distractors). Options are ≤ 20 characters (WhatsApp button titles).
_ITEMS: tuple[tuple[str, str, str, str, tuple[str, str]], ...] = (
    ("a1-ser", "A1", "Yo ___ de Colombia.", "soy", ("estoy", "tengo")),
    ("a1-llamar", "A1", "¿Cómo ___ llamas?", "te", ("se", "me")),
    ("a1-edad", "A1", "Ella ___ veinte años.", "tiene", ("es", "está")),
    ("a1-articulo", "A1", "___ casa es grande.", "La", ("El", "Los")),
    ("a1-vivir", "A1", "Nosotros ___ en Madrid.", "vivimos", ("vivís", "viven")),
    ("a1-gustar", "A1", "Me ___ el chocolate.", "gusta", ("gusto", "gustan")),
    ("a1-estar", "A1", "¿Dónde ___ el baño?", "está", ("es", "hay")),
    ("a2-fui", "A2", "Ayer yo ___ al cine con Ana.", "fui", ("iba", "voy")),
    ("a2-jugaba", "A2", "De niño, siempre ___ al fútbol.", "jugaba", ("jugué", "juego")),
    ("a2-participio", "A2", "¿Has ___ la película?", "visto", ("vista", "viendo")),
    ("a2-para", "A2", "Este regalo es ___ ti.", "para", ("por", "a")),
    ("a2-futuro", "A2", "Mañana ___ a llover.", "va", ("vas", "voy")),
    ("a2-reflexivo", "A2", "Yo ___ levanto a las siete.", "me", ("te", "se")),
    ("a2-dijo", "A2", "Ayer ella me ___ la verdad.", "dijo", ("dice", "diga")),
    ("b1-vengas", "B1", "Quiero que tú ___ a la fiesta.", "vengas", ("vienes", "venir")),
    ("b1-cuando", "B1", "Cuando ___ a casa, te llamo.", "llegue", ("llego", "llegaré")),
    ("b1-si", "B1", "Si tengo tiempo, te ___.", "ayudaré", ("ayudaría", "ayudara")),
    ("b1-por", "B1", "Gracias ___ todo.", "por", ("para", "de")),
    ("b1-ojala", "B1", "Ojalá ___ sol mañana.", "haga", ("hace", "hizo")),
    ("b1-relativo", "B1", "Busco un piso que ___ barato.", "sea", ("es", "esté")),
    ("b1-nunca", "B1", "Nunca ___ estado en Perú.", "he", ("hube", "era")),
    ("b2-tuviera", "B2", "Si ___ dinero, viajaría más.", "tuviera", ("tengo", "tendría")),
    ("b2-pidio", "B2", "Me pidió que lo ___.", "ayudara", ("ayudo", "ayudaré")),
    ("b2-creo", "B2", "No creo que ___ razón.", "tenga", ("tiene", "tendrá")),
    ("b2-comosi", "B2", "Habla como si lo ___ todo.", "supiera", ("sabe", "sabrá")),
    ("b2-futuroperf", "B2", "Cuando llegues, ya ___.", "habré salido", ("salí", "saldría")),
    ("b2-se", "B2", "A Juan ___ olvidaron las llaves.", "se le", ("le se", "lo")),
    ("c1-hubieras", "C1", "Si me lo ___ dicho, habría ido.", "hubieras", ("habías", "habrías")),
    ("c1-pormucho", "C1", "Por mucho que ___, no lo logrará.", "insista", ("insiste", "insistirá")),
    ("c1-noesque", "C1", "No es que no ___, es que no puedo.", "quiera", ("quiero", "querré")),
    ("c1-cuyo", "C1", "Es un autor ___ obra admiro.", "cuya", ("cuyo", "que")),
    ("c1-haber", "C1", "Me arrepiento de no ___ estudiado.", "haber", ("había", "he")),
    ("c1-quien", "C1", "___ lo sepa, que lo diga.", "Quien", ("Quién", "Cual")),
)


@dataclass(frozen=True)
class Question:
    """One item: ``options`` (≤ 3, each ≤ 20 chars) in display order."""

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
    shift = sum(map(ord, key)) % len(options)
    return options[shift:] + options[:shift]


QUESTIONS: dict[str, Question] = {
    qid: Question(qid, level, prompt, _rotate((answer, *others), qid), answer)
    for qid, level, prompt, answer, others in _ITEMS
}


@dataclass(frozen=True)
class PlacementState:
    """Serializable test state: the posterior over ``LEVELS`` and the answers so far."""

    posterior: tuple[float, ...] = field(default_factory=lambda: tuple(1 / len(LEVELS) for _ in LEVELS))
    answers: tuple[tuple[str, bool], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"posterior": list(self.posterior), "answers": [[qid, ok] for qid, ok in self.answers]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlacementState:
        posterior = tuple(float(p) for p in data["posterior"])
        if len(posterior) != len(LEVELS):
            raise ValueError("posterior must have one probability per level")
        return cls(posterior, tuple((str(q), bool(ok)) for q, ok in data["answers"]))


@dataclass(frozen=True)
class PlacementResult:
    level: str
    confidence: float
    posterior: dict[str, float]
    questions: int

    def message(self) -> str:
        """A one-line summary for the learner."""
        pct = round(self.confidence * 100)
        return f"Your level looks like {self.level} (about {pct}% sure, after {self.questions} questions)."

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "confidence": self.confidence,
            "posterior": self.posterior,
            "questions": self.questions,
        }


def p_correct(ability: int, question: Question) -> float:
    """Probability that a learner at level index ``ability`` answers ``question`` correctly."""
    guess = 1 / len(question.options)
    difficulty = LEVELS.index(question.level)
    knows = 1 / (1 + math.exp(-_SLOPE * (ability - difficulty + 0.5)))
    return guess + (1 - guess - _SLIP) * knows


def _update(posterior: tuple[float, ...], question: Question, correct: bool) -> tuple[float, ...]:
    likes = [p_correct(k, question) if correct else 1 - p_correct(k, question) for k in range(len(LEVELS))]
    joint = [p * lk for p, lk in zip(posterior, likes, strict=True)]
    total = sum(joint)
    return tuple(j / total for j in joint)


def _entropy(posterior: tuple[float, ...]) -> float:
    return -sum(p * math.log(p) for p in posterior if p > 0)


def start() -> PlacementState:
    """A fresh test with a uniform prior."""
    return PlacementState()


def finished(state: PlacementState) -> bool:
    n = len(state.answers)
    if n >= MAX_QUESTIONS or n >= len(QUESTIONS):
        return True
    return n >= MIN_QUESTIONS and max(state.posterior) >= TARGET_CONFIDENCE


def next_question(state: PlacementState) -> Question | None:
    """The most informative unasked question, or ``None`` when the test is over."""
    if finished(state):
        return None
    asked = {qid for qid, _ in state.answers}
    best: Question | None = None
    best_score = math.inf
    for q in QUESTIONS.values():
        if q.id in asked:
            continue
        p_yes = sum(p * p_correct(k, q) for k, p in enumerate(state.posterior))
        score = p_yes * _entropy(_update(state.posterior, q, True)) + (1 - p_yes) * _entropy(
            _update(state.posterior, q, False)
        )
        if score < best_score - 1e-12:
            best, best_score = q, score
    return best


def answer(state: PlacementState, question_id: str, choice: str | int) -> PlacementState:
    """The state after the learner picks ``choice`` (an option title or its index) for a question."""
    q = QUESTIONS[question_id]
    if any(qid == question_id for qid, _ in state.answers):
        raise ValueError(f"question {question_id} was already answered")
    picked = q.options[choice] if isinstance(choice, int) else choice.strip()
    correct = picked.lower() == q.answer.lower()
    return PlacementState(_update(state.posterior, q, correct), (*state.answers, (question_id, correct)))


def result(state: PlacementState) -> PlacementResult:
    """The most likely level and the posterior probability behind it."""
    k = max(range(len(LEVELS)), key=lambda i: state.posterior[i])
    return PlacementResult(
        level=LEVELS[k],
        confidence=state.posterior[k],
        posterior={lv: p for lv, p in zip(LEVELS, state.posterior, strict=True)},
        questions=len(state.answers),
    )
