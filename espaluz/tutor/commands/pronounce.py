""" "pronunciar": a pronunciation exercise that the learner's next voice note answers.

The exercise is a minimal pair from the Spanish engine (``espaluz.spanish.phonetics.minimal_pairs``,
through ``espaluz.voice.drills``: *pero / perro*) or a short phrase that repeats one sound. It is stored
twice in the conversation state: ``state.pending_pronunciation`` (the text the voice note is scored
against) and ``state.extra["voice_exercise"]`` (the voice service's drill record, so its scoring, retry
and "drill this sound" buttons work unchanged). "pronunciar perro" asks for that word and its minimal
pair when the lexicon has one (the pair that teaches the contrast a learner needs: *perro / pero*, not a
vowel change or a rare word), or for the given words as a phrase.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from espaluz.tutor.commands.profile import engine_dialect
from espaluz.tutor.commands.texts import tr
from espaluz.voice.drills import CONTRASTS, PHRASES, STATE_KEY, Drill, drill_for
from espaluz.whatsapp.outgoing import Reply

if TYPE_CHECKING:
    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState

WEAK_KEY = "voice_weak_phones"  # espaluz.voice.service's list of the learner's weakest phones
MAX_PHRASE = 60
# Sounds worth drilling for everyone; [θ] only for learners of Peninsular Spanish.
_COMMON = ("r", "ɾ", "x", "ɲ", "ʝ", "e", "o", "b", "d", "g")


def phonetic_dialect(dialect: str) -> str:
    """The two dialect families the phonetics know: ``spain`` or ``latam``."""
    return "spain" if engine_dialect(dialect) == "spain" else "latam"


def exercise(learner: Learner, state: ConversationState, rng: random.Random, words: str = "") -> Reply:
    dialect = phonetic_dialect(learner.dialect)
    drill = _for_words(words, dialect) if words else None
    if drill is None:
        weak = [p for p in state.extra.get(WEAK_KEY, ()) if p in CONTRASTS]
        choices = _COMMON + (("θ",) if dialect == "spain" else ())
        drill = drill_for(weak[0] if weak else rng.choice(choices), dialect, rng=rng)
    state.pending_pronunciation = drill.text
    state.extra[STATE_KEY] = drill.to_state()
    lang = learner.native_language
    if drill.kind == "minimal_pair":
        a, _, b = drill.text.partition(", ")
        body = tr(
            lang,
            f"🎙️ *Pronunciación*\n\nEstas dos palabras solo cambian en un sonido: *{a}* / *{b}*.\n"
            f"Mándame una *nota de voz* diciendo: *{drill.text}*",
            "Send a voice note saying both words: they differ in one sound only, so make it clear.",
        )
    else:
        body = tr(
            lang,
            f"🎙️ *Pronunciación*\n\nMándame una *nota de voz* leyendo:\n*{drill.text}*",
            "Send a voice note reading this sentence aloud.",
        )
    return Reply(body)


def _for_words(words: str, dialect: str) -> Drill | None:
    """An exercise for words the learner asked for: the word and its best minimal pair, else the words.

    The pair is the engine's first choice for the learner's dialect (``best_minimal_pair``: the
    tap/trill before vowels, common words before rare ones, never two spellings of one sound).
    """
    from espaluz.spanish.phonetics import best_minimal_pair, g2p

    text = " ".join(words.split())[:MAX_PHRASE].strip()
    if not any(c.isalpha() for c in text):
        return None
    if " " not in text:
        word = "".join(c for c in text.lower() if c.isalpha())  # "¡Perro!" is *perro*
        try:
            pair = best_minimal_pair(word, dialect)
            phones = g2p(word, dialect, narrow=False).phones
        except (KeyError, ValueError, IndexError):
            pair, phones = None, ()
        if pair is not None:
            said = f"{word}, {pair.word}"
            phone = _drillable(pair.phone, pair.other)
            return Drill(f"pron:{phone}", phone, "minimal_pair", said, _prompt(said))
        phone = next((p for p in phones if p in PHRASES), "")
        return Drill(f"pron:{phone}" if phone else "pron:phrase", phone, "phrase", text, _prompt(text))
    return Drill("pron:phrase", "", "phrase", text, _prompt(text))


def _drillable(phone: str, other: str) -> str:
    """The side of a contrast the voice drills know (*casa/gasa*: [g]); the learner's phone otherwise."""
    if phone in CONTRASTS or other not in CONTRASTS:
        return phone
    return other


def _prompt(text: str) -> str:
    return f"🎙️ Record a voice note saying: *{text}*"
