"""Pronunciation drills aimed at the learner's weak phones, scheduled like the other skills.

Each drillable phone is a skill ``pron:<phone>`` (an FSRS card in ``skill_cards``, reviewed with
:func:`espaluz.memory.skills.review_skill` like the grammar skills). An assessment rates every drillable
phone it heard (:func:`phone_performance`); due skills come back as drills: a minimal pair from the
Spanish engine's lexicon (*pero, perro*) or a short phrase that repeats the sound.

The exercise lives in the conversation state (``state.extra["voice_exercise"]``) until the learner's
next voice note, which the voice service then scores against its text.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from espaluz.memory.kinds import Performance
from espaluz.spanish.phonetics import g2p, minimal_pairs, phone_name
from espaluz.voice.feedback import say
from espaluz.voice.scoring import FAIR, GOOD, ErrorType

_SPIRANT_TO_STOP = {"β": "b", "ð": "d", "ɣ": "g"}

if TYPE_CHECKING:
    from collections.abc import Iterable

    from espaluz.voice.scoring import Assessment

SKILL_PREFIX = "pron:"
STATE_KEY = "voice_exercise"

# The sound learners confuse each phone with (the other side of the minimal pair).
CONTRASTS: dict[str, tuple[str, ...]] = {
    "r": ("ɾ",),
    "ɾ": ("r", "l"),
    "θ": ("s",),
    "ɲ": ("n",),
    "x": ("k", "g"),
    "ʝ": ("l", "t͡ʃ"),
    "t͡ʃ": ("ʝ",),
    "b": ("p",),
    "d": ("t",),
    "g": ("k",),
    "e": ("i", "a"),
    "o": ("u", "a"),
    "l": ("ɾ",),
}

# Phrases written for espaluz: each repeats its sound in everyday words.
PHRASES: dict[str, tuple[str, ...]] = {
    "r": ("El perro corre rápido.", "Rosa ríe en la terraza.", "Me gusta el arroz con carne."),
    "ɾ": ("Quiero un café, por favor.", "Pero ahora no puedo.", "Mi hermano es pintor."),
    "θ": ("Cinco zapatos azules.", "Hace frío en diciembre.", "La cerveza está en la cocina."),
    "ɲ": ("Mañana es el cumpleaños de mi niña.", "El año pasado fui a España."),
    "x": ("Mi hijo juega en el jardín.", "José trabaja junto al río."),
    "ʝ": ("Yo me llamo Yolanda.", "La calle de la playa."),
    "t͡ʃ": ("Muchas gracias, chico.", "La leche está en la noche."),
    "b": ("Bebo vino en el bar.", "Voy a Barcelona en barco."),
    "d": ("Dame el dedo.", "¿Dónde está el dado?"),
    "g": ("El gato come mucho.", "Tengo ganas de ir."),
    "e": ("Tengo tres mesas verdes.", "Pedro bebe leche."),
    "o": ("Todo lo compro yo solo.", "Como pollo con Rosa."),
    "l": ("La luna es linda.", "Lola lee libros."),
}


def skill_for(phone: str) -> str:
    return f"{SKILL_PREFIX}{phone}"


def phone_of(skill: str) -> str | None:
    return skill[len(SKILL_PREFIX) :] if skill.startswith(SKILL_PREFIX) else None


@dataclass(frozen=True, slots=True)
class Drill:
    skill: str
    phone: str
    kind: str  # "minimal_pair" | "phrase"
    text: str  # what the learner reads aloud (the expected text)
    prompt: str

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Drill:
        return cls(**{k: str(data[k]) for k in ("skill", "phone", "kind", "text", "prompt")})


def pair_words(phone: str, dialect: str = "latam") -> list[tuple[str, str]]:
    """(word with ``phone``, its minimal pair with the confusable sound) from the engine's lexicon, the
    pairs of common words first (a learner should drill *perro/pero*, not a rare word)."""
    from espaluz.spanish.phonetic_lexicon import WORDS, rank

    wanted = set(CONTRASTS.get(phone, ()))
    pairs: list[tuple[str, str]] = []
    for word in WORDS:
        if phone not in g2p(word, dialect, narrow=False).phones:
            continue
        for pair in minimal_pairs(word, dialect):
            if pair.phone == phone and pair.other in wanted:
                pairs.append((word, pair.word))
    return sorted(dict.fromkeys(pairs), key=lambda p: max(rank(p[0]), rank(p[1])))


COMMON_PAIRS = 8  # a drill draws among this many of the commonest pairs


# The drill's prompt, in Spanish and English (the learner's explanation language picks one: English for
# "en", Spanish otherwise, as everywhere in the voice layer).
PAIR_PROMPTS = (
    "🎯 Sonido a practicar: {name}. Graba una nota de voz diciendo: *{text}*\n"
    "Solo cambian en ese sonido: que se note la diferencia.",
    "🎯 Sound drill: {name}. Record a voice note saying: *{text}*\n"
    "They differ only in that sound, so make the difference clear.",
)
PHRASE_PROMPTS = (
    "🎯 Sonido a practicar: {name}. Graba una nota de voz leyendo: *{text}*",
    "🎯 Sound drill: {name}. Record a voice note reading: *{text}*",
)


def drill_for(
    phone: str, dialect: str = "latam", *, rng: random.Random | None = None, language: str = "en"
) -> Drill:
    """A drill for ``phone``: a minimal pair when the lexicon has one (every other time), else a phrase;
    its prompt in ``language`` (``"en"``: English, else Spanish)."""
    rng = rng or random.Random()  # noqa: S311 - picking a drill, not a secret
    name = phone_name(phone, "en" if language == "en" else "es")
    pairs = pair_words(phone, dialect)
    phrases = PHRASES.get(phone, ())
    if pairs and (not phrases or rng.random() < 0.5):
        word, other = rng.choice(pairs[:COMMON_PAIRS])
        text = f"{other}, {word}"
        prompt = say(language, PAIR_PROMPTS).format(name=name, text=text)
        return Drill(skill_for(phone), phone, "minimal_pair", text, prompt)
    text = rng.choice(phrases) if phrases else (pairs[0][0] if pairs else "Hola, ¿qué tal?")
    prompt = say(language, PHRASE_PROMPTS).format(name=name, text=text)
    return Drill(skill_for(phone), phone, "phrase", text, prompt)


def phone_performance(assessment: Assessment) -> dict[str, Performance]:
    """How the learner did on each drillable phone of the assessment (worst occurrence counts)."""
    result: dict[str, Performance] = {}
    order = {Performance.WRONG: 0, Performance.PARTIAL: 1, Performance.CORRECT: 2}
    for word in assessment.words:
        for phone in word.phones:
            key = _SPIRANT_TO_STOP.get(phone.phone, phone.phone)
            if key not in CONTRASTS:
                continue
            if phone.error in (ErrorType.MISPRONUNCIATION, ErrorType.OMISSION) or phone.score < FAIR:
                perf = Performance.WRONG
            elif phone.score < GOOD:
                perf = Performance.PARTIAL
            else:
                perf = Performance.CORRECT
            previous = result.get(key)
            if previous is None or order[perf] < order[previous]:
                result[key] = perf
    return result


def next_drill(
    due_skills: Iterable[str],
    weak_phones: Iterable[str],
    dialect: str = "latam",
    *,
    rng: random.Random | None = None,
    language: str = "en",
) -> Drill | None:
    """The drill to offer: the first due ``pron:`` skill, else the learner's weakest drillable phone (its
    prompt in ``language``)."""
    for skill in due_skills:
        phone = phone_of(skill)
        if phone and phone in CONTRASTS:
            return drill_for(phone, dialect, rng=rng, language=language)
    for weak in weak_phones:
        phone = _SPIRANT_TO_STOP.get(weak, weak)
        if phone in CONTRASTS:
            return drill_for(phone, dialect, rng=rng, language=language)
    return None
