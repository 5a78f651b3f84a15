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

Every text is in Spanish and English; the learner's explanation language picks one (``say``: English
for ``"en"``, Spanish otherwise), buttons included (their ids never change: the service and the tutor
route on ids). The substitution diagnosis is re-derived here in that language from the word and the
phone the learner made (:meth:`espaluz.voice.scoring.WordScore.substitution`), not read from the stored
English ``diagnosis``: the assessment's JSON keeps its shape, so results of an older deployed Modal app
still render in both languages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from espaluz.spanish.phonetics import phone_name
from espaluz.text import words
from espaluz.voice.audio import AudioProblem
from espaluz.voice.scoring import ErrorType, Level, diagnose, pair_word
from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, Button, Reply

if TYPE_CHECKING:
    from espaluz.voice.scoring import Assessment, WordScore

RETRY_ID = "voice:retry"
DRILL_ID = "voice:drill"
RETRY_TITLES = ("🔁 Otra vez", "🔁 Try again")  # the texts below name it: *Otra vez* / *Try again*
DRILL_TITLES = ("🎯 Practicar sonido", "🎯 Drill this sound")
LISTEN_ID = "voice:listen"  # the "voice:" prefix is what the tutor hands to the voice service
LISTEN_TITLES = ("🔊 Escuchar", "🔊 Listen")
MARKS = {Level.GOOD: "🟢", Level.FAIR: "🟡", Level.POOR: "🔴"}
LEGEND_TEXTS = ("🟢 bien · 🟡 casi · 🔴 a practicar", "🟢 clear · 🟡 almost · 🔴 practise this")

PROBLEM_TEXTS: dict[AudioProblem, tuple[str, str]] = {
    AudioProblem.EMPTY: (
        "Tu nota de voz llegó vacía 🤔 ¿Puedes grabarla otra vez?",
        "Your voice note arrived empty 🤔 Could you record it again?",
    ),
    AudioProblem.UNDECODABLE: (
        "No pude abrir ese audio. Graba una nota de voz de WhatsApp (mantén presionado el botón 🎤).",
        "I couldn't open that audio. Please record a WhatsApp voice note (hold the 🎤 button).",
    ),
    AudioProblem.OVERSIZED: (
        "Ese audio es demasiado grande para mí. ¡Lo mejor es una nota de voz corta (de menos de un minuto)!",
        "That audio is too big for me. A short voice note (under a minute) works best!",
    ),
    AudioProblem.TOO_LONG: (
        "Esa nota de voz es un poco larga para mí. ¿Puedes enviarme una más corta?",
        "That voice note is a bit long for me. Could you send a shorter one?",
    ),
    AudioProblem.SILENT: (
        "No escuché nada 🔇 Revisa tu micrófono e inténtalo otra vez.",
        "I couldn't hear anything 🔇 Check your microphone and try again.",
    ),
    AudioProblem.NOISE_ONLY: (
        "Solo escucho ruido de fondo 🌬️ Inténtalo otra vez en un lugar más tranquilo.",
        "I only hear background noise 🌬️ Try again somewhere quieter.",
    ),
}

# Voice recognition failed. Two cases the learner must not confuse: the server has no recogniser at all
# (nothing to wait for: write instead), and a configured one that timed out or answered an error (try
# again soon). Each in Spanish and English; the learner's explanation language picks one (see ``say``).
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


def say(language: str, texts: tuple[str, str]) -> str:
    """The text in the learner's explanation language: English for ``"en"``, Spanish otherwise.

    (The tutor's own ``tr`` glosses Spanish in English; this layer does not import the tutor, so it
    picks one of the two texts instead.)
    """
    es, en = texts
    return en if language == "en" else es


def unavailable_reply(language: str, *, reply_to: str | None = None) -> Reply:
    """A configured recogniser timed out or failed: a passing outage, so "try again in a few minutes"."""
    return Reply(say(language, UNAVAILABLE_TEXTS), reply_to=reply_to)


def not_set_up_reply(language: str, *, pronunciation: bool = False, reply_to: str | None = None) -> Reply:
    """No recogniser is configured for this voice note (``pronunciation``: the exercise's scorer): it
    will not work later either, so the learner is asked to write instead. No setting names here: the
    operator finds them in the service's log."""
    texts = PRONUNCIATION_NOT_SET_UP_TEXTS if pronunciation else NOT_SET_UP_TEXTS
    return Reply(say(language, texts), reply_to=reply_to)


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
    return say(language, HEARD_ELSE_TEXTS).format(heard=heard.strip()[:120], expected=expected.strip())


def retry_button(language: str) -> Button:
    """The try-again button, titled in the learner's explanation language (id ``RETRY_ID`` in both)."""
    return Button(RETRY_ID, say(language, RETRY_TITLES))


def drill_button(language: str) -> Button:
    """The drill-this-sound button, titled in the learner's explanation language (id ``DRILL_ID``)."""
    return Button(DRILL_ID, say(language, DRILL_TITLES))


def listen_button(language: str) -> Button:
    """The button that asks for the model pronunciation of the open exercise, titled in the learner's
    explanation language (the id is the same in both)."""
    return Button(LISTEN_ID, say(language, LISTEN_TITLES))


# The last line of the feedback: the model voice note came with it, or the listen button stands in for it.
WITH_MODEL_TEXTS = (
    "🔊 Escucha el modelo y después toca *Otra vez* para volver a grabarla.",
    "🔊 Listen to the model, then tap *Try again* and record it once more.",
)
ON_REQUEST_TEXTS = (
    "🔊 Toca *Escuchar* para oír cómo suena y después *Otra vez* para volver a grabarla.",
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


# The voice service's other answers: a download that failed, a clip whose words could not be made out,
# the try-again and drill buttons' answers, and the prompt of a phrase to read aloud.
DOWNLOAD_FAILED_TEXTS = (
    "No pude descargar tu nota de voz 📶 ¿Puedes enviarla otra vez?",
    "I couldn't download your voice note 📶 Could you send it again?",
)
UNCLEAR_TEXTS = (
    "No entendí bien las palabras 🤔 Inténtalo otra vez leyendo: *{text}*",
    "I couldn't make out the words 🤔 Try again, reading: *{text}*",
)
RECORD_AGAIN_TEXTS = ("🎙️ ¡Adelante! Graba otra vez: *{text}*", "🎙️ Go ahead: record *{text}* again.")
ANY_TIME_TEXTS = (
    "Mándame una nota de voz cuando quieras 🎙️",
    "Send me a voice note whenever you like 🎙️",
)
NOTHING_TO_DRILL_TEXTS = (
    "Ahora no hay ningún sonido que practicar: ¡muy bien! 🎉",
    "Nothing to drill right now: well done! 🎉",
)
READ_ALOUD_TEXTS = ("🎙️ Graba una nota de voz leyendo: *{text}*", "🎙️ Record a voice note reading: *{text}*")


def download_failed_reply(language: str, *, reply_to: str | None = None) -> Reply:
    return Reply(say(language, DOWNLOAD_FAILED_TEXTS), reply_to=reply_to)


def unclear_text(language: str, text: str) -> str:
    """The answer to an exercise clip in which no word of ``text`` could be made out."""
    return say(language, UNCLEAR_TEXTS).format(text=text)


def record_again_reply(language: str, text: str | None) -> Reply:
    """The try-again button's answer: the phrase to record again, or, with none open, an invitation."""
    if text is None:
        return Reply(say(language, ANY_TIME_TEXTS))
    return Reply(say(language, RECORD_AGAIN_TEXTS).format(text=text))


def nothing_to_drill_reply(language: str) -> Reply:
    return Reply(say(language, NOTHING_TO_DRILL_TEXTS))


def read_aloud_prompt(language: str, text: str) -> str:
    return say(language, READ_ALOUD_TEXTS).format(text=text)


def nothing_to_hear_reply(language: str) -> Reply:
    return Reply(say(language, NOTHING_TO_HEAR_TEXTS))


def no_audio_reply(language: str, text: str) -> Reply:
    """The answer to the listen button when no model voice can be sent: the phrase in stressed
    syllables (*el PE-rro*), so the tap still teaches something."""
    return Reply(say(language, NO_AUDIO_TEXTS).format(spelled=syllabified(text)))


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


def problem_reply(problem: AudioProblem, language: str = "en") -> Reply:
    """Why the audio could not be scored and what to do, in the learner's explanation language."""
    return Reply(say(language, PROBLEM_TEXTS[problem]))


# The one fix (see the module docstring), in Spanish and English; ``{nth}`` is an ``_ordinal``.
FIX_TEXTS: dict[str, tuple[str, str]] = {
    "unheard": (
        "No escuché *{word}*: di todas las palabras de la frase.",
        "I didn't hear *{word}*: say every word of the phrase.",
    ),
    "missed": (
        "En *{word}* no escuché {phone}: pronuncia ese sonido con claridad.",
        "In *{word}* I missed {phone}: say it clearly.",
    ),
    "wrong": ("En *{word}*, practica este sonido: {phone}.", "In *{word}*, work on {phone}."),
    "pause": (
        "Di *{before} {word}* de corrido, sin detenerte entre las palabras.",
        "Say *{before} {word}* in one go, without stopping between the words.",
    ),
    "stress": (
        "Di *{stressed}* con el acento en {nth}.",
        "Stress *{stressed}*: the stress goes on {nth}.",
    ),
    "nearly": (
        "Ya casi: di *{word}* otra vez, despacio y con claridad.",
        "Nearly there: say *{word}* once more, slowly and clearly.",
    ),
    "passed": (
        "Nada que corregir: ¡sonó genial! 🎉 Intenta decirla un poco más rápido.",
        "Nothing to fix: that sounded great! 🎉 Try it a little faster.",
    ),
}
SCORES_TEXTS = (
    "Precisión {accuracy:.0f} · Fluidez {fluency:.0f} · Frase completa {completeness:.0f} · "
    "Entonación {prosody:.0f}",
    "Accuracy {accuracy:.0f} · Fluency {fluency:.0f} · Completeness {completeness:.0f} · "
    "Prosody {prosody:.0f}",
)
APPROXIMATE_TEXTS = (
    "_Es aproximado: comparé tu voz con lo que entendí, no con un texto que leyeras, así que quizá no "
    "me dé cuenta si un error convirtió una palabra en otra._",
    "_Approximate: I compared your voice with what I understood, not with a text you read, "
    "so a slip that made another word may go unnoticed._",
)
_ORDINALS_ES = {1: "primera", 2: "segunda", 3: "tercera", 4: "cuarta", 5: "quinta", 6: "sexta"}


def _lang(language: str) -> str:
    """``"en"`` or ``"es"``, as ``say`` reads ``language`` (what the Spanish engine's texts take)."""
    return "en" if language == "en" else "es"


def _ordinal(n: int, language: str = "en") -> str:
    """The ``n``-th syllable (1-based) as a phrase: "the 2nd syllable", "la segunda sílaba"."""
    if _lang(language) == "es":
        return f"la {_ORDINALS_ES[n]} sílaba" if n in _ORDINALS_ES else f"la sílaba {n}"
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix} syllable"


def _diagnosis(word: WordScore, language: str, dialect: str) -> tuple[str, bool] | None:
    """The substitution in ``word`` explained in ``language``, and whether it made another word (a
    minimal pair, first in the order of fixes); ``None`` when the learner swapped no sound.

    ``dialect`` must be the one the word was scored in (it decides which pairs exist: *casa*/*caza*
    only in Spain). A word the Spanish engine cannot transcribe keeps the stored English text, for
    English only."""
    found = word.substitution()
    if found is None:
        return None
    position, phone = found
    produced = phone.produced or ""
    try:
        other = pair_word(word.text, position, produced, dialect)
        text = diagnose(word.text, position, phone.phone, produced, dialect, _lang(language))
    except (KeyError, ValueError, IndexError):
        if word.diagnosis and _lang(language) == "en":
            return word.diagnosis, "that is *" in word.diagnosis
        return None
    return text, other is not None


def fix_first(assessment: Assessment, language: str = "en", dialect: str = "latam") -> str:
    """The one thing to work on first (see the module docstring for the order), in ``language``.
    ``dialect``: the one ``assessment`` was scored in."""

    def fix(key: str, **values: object) -> str:
        return say(language, FIX_TEXTS[key]).format(**values)

    lang = _lang(language)
    words = sorted(assessment.words, key=lambda w: w.score)
    diagnoses = {id(w): _diagnosis(w, language, dialect) for w in words}
    for word in words:
        found = diagnoses[id(word)]
        if found and found[1]:
            return found[0]
    for word in words:
        missing = [p for p in word.phones if p.error is ErrorType.OMISSION]
        if missing and len(missing) == len(word.phones):
            return fix("unheard", word=word.text)
        if missing:
            return fix("missed", word=word.text, phone=phone_name(missing[0].phone, lang))
    for word in words:
        found = diagnoses[id(word)]
        if found:
            return found[0]
        wrong = [p for p in word.phones if p.error is ErrorType.MISPRONUNCIATION]
        if wrong:
            return fix("wrong", word=word.text, phone=phone_name(wrong[0].phone, lang))
    for index, word in enumerate(assessment.words):
        if ErrorType.UNEXPECTED_PAUSE in word.errors and index > 0:
            return fix("pause", before=assessment.words[index - 1].text, word=word.text)
    for word in assessment.words:
        if ErrorType.STRESS in word.errors:
            nth = _ordinal(word.stress_expected + 1, language)
            return fix("stress", stressed=_stressed(word), nth=nth)
    if any(w.level is not Level.GOOD for w in assessment.words):
        return fix("nearly", word=words[0].text)
    return fix("passed")


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
    dialect: str = "latam",
    model: bool = True,
    listen: bool = False,
) -> Reply:
    """The feedback message: marked words, the one fix, scores, and the try-again button, all in
    ``language`` (the learner's explanation language; buttons too, with unchanged ids).

    ``dialect``: the one the assessment was scored in (the minimal pairs depend on it). ``model``: the
    model voice note goes with it (the last line says to listen to it). ``listen``: it does not, and the
    listen button offers it instead. Neither (a passed exercise): no line about the model. The
    try-again button stays first.
    """
    lines = [
        marked_words(assessment),
        f"_{say(language, LEGEND_TEXTS)}_",
        "",
        f"👉 {fix_first(assessment, language, dialect)}",
        "",
        say(language, SCORES_TEXTS).format(
            accuracy=assessment.accuracy,
            fluency=assessment.fluency,
            completeness=assessment.completeness,
            prosody=assessment.prosody,
        ),
    ]
    if assessment.approximate:
        lines.append(say(language, APPROXIMATE_TEXTS))
    if listen:
        lines.append(say(language, ON_REQUEST_TEXTS))
    elif model:
        lines.append(say(language, WITH_MODEL_TEXTS))
    text = "\n".join(lines)
    if len(text) > MAX_INTERACTIVE_BODY:
        text = text[: MAX_INTERACTIVE_BODY - 1] + "…"
    retry = retry_button(language)
    buttons = (retry, drill_button(language)) if drill else (retry,)
    if listen:
        buttons = (*buttons, listen_button(language))
    return Reply(text, buttons=buttons, reply_to=reply_to)
