"""The chat message for a pronunciation assessment, and friendly replies for unusable audio and for
voice recognition that is not set up (write instead) or down for a moment (try again soon).

One message (fewer, richer messages: see ARCHITECTURE.md): the words marked at three levels (not right
or wrong), the one thing to fix first, the four scores, and a "try again" button. The model
pronunciation is a second billed message (and a speech synthesis and a media upload), so it goes as a
voice note next to the feedback only on the second miss of a phrase; otherwise the feedback carries a
"🔊 Listen" button that sends it on request (``listen_button``; the voice service answers it). In free
speech the transcript stood in for the expected text, and the message says the feedback is approximate.

Fix first, in this order: a sound that turns the word into another one (the minimal-pair message),
a sound left out, any other wrong sound, a hesitation between words, the stress. One thing only:
a learner who gets five corrections fixes none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from espaluz.spanish.phonetics import PHONE_NAMES
from espaluz.text import words
from espaluz.voice.audio import AudioProblem
from espaluz.voice.scoring import ErrorType, Level
from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, Button, Reply

if TYPE_CHECKING:
    from espaluz.voice.scoring import Assessment, WordScore

RETRY_BUTTON = Button("voice:retry", "🔁 Try again")
DRILL_BUTTON = Button("voice:drill", "🎯 Drill this sound")
LISTEN_ID = "voice:listen"  # the "voice:" prefix is what the tutor hands to the voice service
LISTEN_TITLES = ("🔊 Escuchar", "🔊 Listen")
MARKS = {Level.GOOD: "🟢", Level.FAIR: "🟡", Level.POOR: "🔴"}
LEGEND = "🟢 clear · 🟡 almost · 🔴 practise this"

PROBLEM_REPLIES: dict[AudioProblem, str] = {
    AudioProblem.EMPTY: "Your voice note arrived empty 🤔 Could you record it again?",
    AudioProblem.UNDECODABLE: (
        "I couldn't open that audio. Please record a WhatsApp voice note (hold the 🎤 button)."
    ),
    AudioProblem.OVERSIZED: "That audio is too big for me. A short voice note (under a minute) works best!",
    AudioProblem.TOO_LONG: "That voice note is a bit long for me. Could you send a shorter one?",
    AudioProblem.SILENT: "I couldn't hear anything 🔇 Check your microphone and try again.",
    AudioProblem.NOISE_ONLY: "I only hear background noise 🌬️ Try again somewhere quieter.",
}

# Voice recognition failed. Two cases the learner must not confuse: the server has no recogniser at all
# (nothing to wait for: write instead), and a configured one that timed out or answered an error (try
# again soon). Each in Spanish and English; the learner's explanation language picks one (see ``_say``).
UNAVAILABLE_TEXTS = (
    "Ahora mismo no puedo escuchar notas de voz 🙉 Escríbemelo, o vuelve a intentarlo en unos minutos.",
    "I can't listen to voice notes right now 🙉 Please write it, or try again in a few minutes.",
)
NOT_SET_UP_TEXTS = (
    "En este servidor no están activadas las notas de voz, así que no puedo escuchar la tuya 🙉 "
    "Escríbeme tu mensaje, por favor ✍️",
    "Voice notes aren't set up on this server, so I can't listen to yours 🙉 "
    "Please write your message instead ✍️",
)
PRONUNCIATION_NOT_SET_UP_TEXTS = (
    "En este servidor no está activada la corrección de pronunciación, así que no puedo evaluar tu nota "
    "de voz 🙉 Escríbeme y seguimos practicando por escrito ✍️",
    "Pronunciation feedback isn't set up on this server, so I can't score your voice note 🙉 "
    "Write to me and we'll keep practising in writing ✍️",
)


def _say(language: str, texts: tuple[str, str]) -> str:
    """The text in the learner's explanation language: English for ``"en"``, Spanish otherwise.

    (The tutor's own ``tr`` glosses Spanish in English; this layer does not import the tutor, so it
    picks one of the two texts instead.)
    """
    es, en = texts
    return en if language == "en" else es


def unavailable_reply(language: str, *, reply_to: str | None = None) -> Reply:
    """A configured recogniser timed out or failed: a passing outage, so "try again in a few minutes"."""
    return Reply(_say(language, UNAVAILABLE_TEXTS), reply_to=reply_to)


def not_set_up_reply(language: str, *, pronunciation: bool = False, reply_to: str | None = None) -> Reply:
    """No recogniser is configured for this voice note (``pronunciation``: the exercise's scorer): it
    will not work later either, so the learner is asked to write instead. No setting names here: the
    operator finds them in the service's log."""
    texts = PRONUNCIATION_NOT_SET_UP_TEXTS if pronunciation else NOT_SET_UP_TEXTS
    return Reply(_say(language, texts), reply_to=reply_to)


# An exercise whose alignment says the learner read something else: what Whisper heard, above the feedback.
HEARD_ELSE_TEXTS = (
    "🎧 Escuché: _{heard}_. La frase era: *{expected}*.",
    "🎧 I heard: _{heard}_. The phrase was: *{expected}*.",
)


def heard_else_line(language: str, heard: str, expected: str) -> str | None:
    """The line that tells a learner what was heard instead of the exercise's text; ``None`` when
    nothing was heard or it is the same words (case, accents and punctuation aside)."""
    if not words(heard) or words(heard) == words(expected):
        return None
    return _say(language, HEARD_ELSE_TEXTS).format(heard=heard.strip()[:120], expected=expected.strip())


def listen_button(language: str) -> Button:
    """The button that asks for the model pronunciation of the open exercise, titled in the learner's
    explanation language (the id is the same in both)."""
    return Button(LISTEN_ID, _say(language, LISTEN_TITLES))


# The last line of the feedback: the model voice note came with it, or the listen button stands in for it.
WITH_MODEL_TEXTS = (
    "🔊 Escucha el modelo y después toca *Try again* para grabarla otra vez.",
    "🔊 Listen to the model, then tap *Try again* and record it once more.",
)
ON_REQUEST_TEXTS = (
    "🔊 Toca *Escuchar* para oír cómo suena y después *Try again* para grabarla otra vez.",
    "🔊 Tap *Listen* to hear how it sounds, then *Try again* and record it once more.",
)
# The listen button tapped with no exercise open (passed, or replaced by a command meanwhile).
NOTHING_TO_HEAR_TEXTS = (
    "Ahora no hay ninguna frase que escuchar. Escribe *pronunciar* para practicar una 🎙️",
    "There's no phrase to listen to right now. Write *pronunciar* to practise one 🎙️",
)
# The model voice could not be made or uploaded: the phrase in syllables, the stressed one in capitals.
NO_AUDIO_TEXTS = (
    "🔇 Ahora no puedo enviarte el audio. Dilo así, sílaba a sílaba: *{spelled}*",
    "🔇 I can't send the audio right now. Say it like this, syllable by syllable: *{spelled}*",
)


def nothing_to_hear_reply(language: str) -> Reply:
    return Reply(_say(language, NOTHING_TO_HEAR_TEXTS))


def no_audio_reply(language: str, text: str) -> Reply:
    """The answer to the listen button when no model voice can be sent: the phrase in stressed
    syllables (*el PE-rro*), so the tap still teaches something."""
    return Reply(_say(language, NO_AUDIO_TEXTS).format(spelled=syllabified(text)))


def syllabified(text: str) -> str:
    """``text`` with each word split into syllables and the stressed one in capitals (*el PE-rro, PE-ro*);
    a word the Spanish engine cannot split stays as written."""
    from espaluz.spanish.phonetics import g2p

    out: list[str] = []
    for token in text.split():
        lead, core, tail = _TOKEN.match(token).groups()  # type: ignore[union-attr]  # matches any token
        try:
            sounds = g2p(core)
        except (KeyError, ValueError, IndexError):
            out.append(token)
            continue
        syllables = list(sounds.syllables)
        if len(syllables) > 1 and 0 <= sounds.stress < len(syllables):
            syllables[sounds.stress] = syllables[sounds.stress].upper()
        out.append(f"{lead}{'-'.join(syllables)}{tail}")
    return " ".join(out)


_TOKEN = re.compile(r"^(\W*)(.*?)(\W*)$")


def problem_reply(problem: AudioProblem) -> Reply:
    return Reply(PROBLEM_REPLIES[problem])


def _phone_name(phone: str) -> str:
    return PHONE_NAMES.get(phone, f"[{phone}]")


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def fix_first(assessment: Assessment) -> str:
    """The one thing to work on first (see the module docstring for the order)."""
    words = sorted(assessment.words, key=lambda w: w.score)
    for word in words:
        if word.diagnosis and "that is *" in word.diagnosis:
            return word.diagnosis
    for word in words:
        missing = [p for p in word.phones if p.error is ErrorType.OMISSION]
        if missing and len(missing) == len(word.phones):
            return f"I didn't hear *{word.text}*: say every word of the phrase."
        if missing:
            return f"In *{word.text}* I missed {_phone_name(missing[0].phone)}: say it clearly."
    for word in words:
        if word.diagnosis:
            return word.diagnosis
        wrong = [p for p in word.phones if p.error is ErrorType.MISPRONUNCIATION]
        if wrong:
            return f"In *{word.text}*, work on {_phone_name(wrong[0].phone)}."
    for index, word in enumerate(assessment.words):
        if ErrorType.UNEXPECTED_PAUSE in word.errors and index > 0:
            before = assessment.words[index - 1].text
            return f"Say *{before} {word.text}* in one go, without stopping between the words."
    for word in assessment.words:
        if ErrorType.STRESS in word.errors:
            nth = _ordinal(word.stress_expected + 1)
            return f"Stress *{_stressed(word)}*: the stress goes on the {nth} syllable."
    if any(w.level is not Level.GOOD for w in assessment.words):
        weakest = words[0]
        return f"Nearly there: say *{weakest.text}* once more, slowly and clearly."
    return "Nothing to fix: that sounded great! 🎉 Try it a little faster."


def _stressed(word: WordScore) -> str:
    from espaluz.spanish.phonetics import g2p

    syllables = list(g2p(word.text).syllables)
    if 0 <= word.stress_expected < len(syllables):
        syllables[word.stress_expected] = syllables[word.stress_expected].upper()
    return "-".join(syllables)


def marked_words(assessment: Assessment) -> str:
    return " ".join(f"{MARKS[w.level]} {w.text}" for w in assessment.words)


def assessment_reply(
    assessment: Assessment,
    *,
    reply_to: str | None = None,
    drill: bool = False,
    language: str = "en",
    model: bool = True,
    listen: bool = False,
) -> Reply:
    """The feedback message: marked words, the one fix, scores, and the try-again button.

    ``model``: the model voice note goes with it (the last line says to listen to it). ``listen``: it
    does not, and the listen button (titled in ``language``) offers it instead. Neither (a passed
    exercise): no line about the model. The try-again button stays first.
    """
    lines = [
        marked_words(assessment),
        f"_{LEGEND}_",
        "",
        f"👉 {fix_first(assessment)}",
        "",
        f"Accuracy {assessment.accuracy:.0f} · Fluency {assessment.fluency:.0f} · "
        f"Completeness {assessment.completeness:.0f} · Prosody {assessment.prosody:.0f}",
    ]
    if assessment.approximate:
        lines.append(
            "_Approximate: I compared your voice with what I understood, not with a text you read, "
            "so a slip that made another word may go unnoticed._"
        )
    if listen:
        lines.append(_say(language, ON_REQUEST_TEXTS))
    elif model:
        lines.append(_say(language, WITH_MODEL_TEXTS))
    text = "\n".join(lines)
    if len(text) > MAX_INTERACTIVE_BODY:
        text = text[: MAX_INTERACTIVE_BODY - 1] + "…"
    buttons = (RETRY_BUTTON, DRILL_BUTTON) if drill else (RETRY_BUTTON,)
    if listen:
        buttons = (*buttons, listen_button(language))
    return Reply(text, buttons=buttons, reply_to=reply_to)
