"""Routing thresholds, the per-clip cost estimate behind them (Groq's 10-second billing minimum, Modal's
idle tail), and the feedback message (three levels, one fix, try again, approximate note, what was heard,
the listen button that stands in for the model voice note).
Bad input: a clip of zero seconds, a negative idle time, unknown GPU prices."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from espaluz.config import Settings
from espaluz.voice.audio import AudioProblem, PreparedAudio, Segment
from espaluz.voice.costs import VoicePrices, groq_cost_usd, modal_cost_usd
from espaluz.voice.feedback import (
    DRILL_ID,
    LISTEN_ID,
    PROBLEM_TEXTS,
    RETRY_ID,
    _ordinal,
    assessment_reply,
    drill_button,
    fix_first,
    heard_else_line,
    listen_button,
    problem_reply,
    retry_button,
    syllabified,
)
from espaluz.voice.routing import Route, choose_route, clip_cost_usd
from espaluz.voice.scoring import Assessment, ErrorType, Level, Vocabulary, score
from espaluz.whatsapp.outgoing import Button
from tests.voice_samples import PAUSE, VOCAB, posteriorgram

VOC = Vocabulary(VOCAB)


def clip(duration: float, snr: float) -> PreparedAudio:
    return PreparedAudio(np.zeros(16), 16_000, duration, snr, (Segment(0.1, duration - 0.1),), 48_000)


def test_route_by_duration_snr_and_exercise() -> None:
    """Boundaries: under 5 s AND above 20 dB goes to Groq; exactly 5 s or 20 dB, any exercise -> Modal."""
    settings = Settings(modal_gpu="L4", voice_fast_max_seconds=5.0, voice_fast_min_snr_db=20.0)
    assert choose_route(clip(3.0, 30.0), exercise=False, settings=settings) is Route.GROQ
    assert choose_route(clip(5.0, 30.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 20.0), exercise=False, settings=settings) is Route.MODAL
    assert choose_route(clip(3.0, 30.0), exercise=True, settings=settings) is Route.MODAL
    relaxed = Settings(modal_gpu="L4", voice_fast_max_seconds=10.0, voice_fast_min_snr_db=10.0)
    assert choose_route(clip(8.0, 15.0), exercise=False, settings=relaxed) is Route.GROQ


def test_groq_bills_at_least_ten_seconds() -> None:
    """A 0 s, 2 s or 10 s clip costs Groq the same (the 10-second minimum); 20 s costs twice that."""
    prices = VoicePrices.from_settings(Settings())
    floor = groq_cost_usd(10.0, prices)
    assert prices.groq_min_seconds == 10.0
    assert groq_cost_usd(0.0, prices) == groq_cost_usd(2.0, prices) == floor
    assert groq_cost_usd(20.0, prices) == 2 * floor
    assert floor == 10 * 0.04 / 3600  # whisper-large-v3-turbo: $0.04 per audio hour


def test_modal_cost_counts_the_idle_tail() -> None:
    """A cold Modal call pays a start and the whole idle window; a busy container only the work and the
    time since its last answer (a negative idle time counts as none); exercises (no Whisper) cost less."""
    prices = VoicePrices.from_settings(Settings(modal_gpu="L4"))
    cold = modal_cost_usd(2.0, prices, exercise=False, idle_for=None)
    expired = modal_cost_usd(2.0, prices, exercise=False, idle_for=prices.modal_scaledown_seconds + 1)
    busy = modal_cost_usd(2.0, prices, exercise=False, idle_for=0.0)
    assert cold == expired > modal_cost_usd(2.0, prices, exercise=False, idle_for=5.0) > busy
    assert modal_cost_usd(2.0, prices, exercise=False, idle_for=-3.0) == busy
    assert modal_cost_usd(2.0, prices, exercise=True, idle_for=0.0) < busy
    assert cold > 100 * groq_cost_usd(2.0, prices)  # why a lone short clip never wakes a GPU
    odd = VoicePrices.from_settings(Settings(modal_gpu="B300"))  # unknown GPU: the L4 rate, not zero
    assert odd.modal_usd_per_second == prices.modal_usd_per_second


def test_short_clean_clip_goes_to_the_cheaper_path() -> None:
    """With Groq's minimum, a 1 s clip is cheaper on a Modal container that just answered (its work only)
    than on Groq, a 4 s clip is not; with no container known to be up, Groq. Each choice is the cheaper
    of the two estimates; exercises and noisy clips stay on Modal whatever the cost (a GPU app)."""
    settings = Settings(modal_gpu="L4")
    for seconds, idle, expected in ((1.0, 0.0, Route.MODAL), (4.0, 0.0, Route.GROQ), (1.0, None, Route.GROQ)):
        chosen = choose_route(clip(seconds, 30.0), exercise=False, settings=settings, modal_idle_for=idle)
        assert chosen is expected
        costs = {r: clip_cost_usd(r, seconds, settings, modal_idle_for=idle) for r in Route}
        assert costs[chosen] == min(costs.values())
    assert choose_route(clip(1.0, 30.0), exercise=True, settings=settings, modal_idle_for=None) is Route.MODAL
    assert (
        choose_route(clip(1.0, 10.0), exercise=False, settings=settings, modal_idle_for=None) is Route.MODAL
    )


def test_heard_line_only_when_other_words() -> None:
    """What was heard is shown only when it is other words (case and punctuation aside), in es or en."""
    assert heard_else_line("en", "El perro.", "el perro") is None
    assert heard_else_line("es", "  ", "el perro") is None
    assert heard_else_line("en", "hola", "el perro") == "🎧 I heard: _hola_. The phrase was: *el perro*."
    assert heard_else_line("pt", "hola", "el perro") == "🎧 Escuché: _hola_. La frase era: *el perro*."


def test_feedback_marks_words_and_names_one_fix() -> None:
    result = score(posteriorgram(["e", "l", "p", "e", "ɾ", "o"]), VOC, "el perro")
    reply = assessment_reply(result, reply_to="wamid.X", drill=True)
    assert reply.text.startswith("🟢 el 🟡 perro")
    assert "👉 You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]." in reply.text
    assert reply.text.count("👉") == 1
    assert reply.buttons[0] == retry_button("en")
    assert len(reply.buttons) == 2
    assert "Approximate" not in reply.text
    reply.payload()  # within WhatsApp's limits


def test_free_speech_feedback_says_it_is_approximate() -> None:
    result = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro", approximate=True)
    reply = assessment_reply(result)
    assert "Approximate" in reply.text
    assert reply.buttons == (retry_button("en"),)


def test_fix_first_prefers_the_contrast_over_a_pause() -> None:
    gram = posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "ɾ", "o"])
    assert "that is *pero*" in fix_first(score(gram, VOC, "el perro"))
    clean_but_hesitant = score(
        posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "r", "o"]), VOC, "el perro"
    )
    assert "in one go" in fix_first(clean_but_hesitant)
    perfect = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro")
    assert fix_first(perfect).startswith("Nothing to fix")


def test_every_audio_problem_has_a_friendly_reply() -> None:
    """Every unusable-audio reason has a reply in both languages; "pt" (any explanation language but
    English) gets Spanish, the default English."""
    for problem in AudioProblem:
        english = problem_reply(problem, "en")
        spanish = problem_reply(problem, "es")
        assert english.text == problem_reply(problem).text == PROBLEM_TEXTS[problem][1]
        assert problem_reply(problem, "pt").text == spanish.text != english.text
        assert "error" not in english.text.lower()
        assert "error" not in spanish.text.lower()
    assert problem_reply(AudioProblem.SILENT, "es").text == (
        "No escuché nada 🔇 Revisa tu micrófono e inténtalo otra vez."
    )
    assert (
        problem_reply(AudioProblem.EMPTY, "es").text
        == "Tu nota de voz llegó vacía 🤔 ¿Puedes grabarla otra vez?"
    )


def test_feedback_offers_the_listen_button_in_the_learners_language() -> None:
    """Issue 19: without the model voice note the feedback carries a third button, after "try again" and
    "drill this sound" (Meta allows three), titled in the learner's language; with the voice note it has
    none; a passed phrase (neither) says nothing about a model."""
    result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro")
    spanish = assessment_reply(result, drill=True, language="es", model=False, listen=True)
    assert spanish.buttons == (
        Button(RETRY_ID, "🔁 Otra vez"),
        Button(DRILL_ID, "🎯 Practicar sonido"),
        Button(LISTEN_ID, "🔊 Escuchar"),
    )
    assert spanish.text.endswith(
        "🔊 Toca *Escuchar* para oír cómo suena y después *Otra vez* para volver a grabarla."
    )
    spanish.payload()  # within Meta's limits: three buttons, titles under 20 characters
    english = assessment_reply(result, language="en", model=False, listen=True)
    assert english.buttons == (retry_button("en"), listen_button("en"))
    assert listen_button("en").title == "🔊 Listen"
    assert english.text.endswith(
        "🔊 Tap *Listen* to hear how it sounds, then *Try again* and record it once more."
    )
    with_note = assessment_reply(result, language="es", model=True)
    assert LISTEN_ID not in [b.id for b in with_note.buttons]
    assert with_note.text.endswith("🔊 Escucha el modelo y después toca *Otra vez* para volver a grabarla.")
    passed = assessment_reply(score(posteriorgram(["p", "e", "r", "o"]), VOC, "perro"), model=False)
    assert "🔊" not in passed.text
    assert passed.buttons == (retry_button("en"),)


def test_syllabified_marks_the_stress_and_keeps_punctuation() -> None:
    """The listen button's answer when no audio can be sent; bad input: punctuation around words, a
    token with no letters, a one-syllable word (left unstressed)."""
    assert syllabified("el perro, pero") == "el PE-rro, PE-ro"
    assert syllabified("¿Dónde está el dado?") == "¿DÓN-de es-TÁ el DA-do?"
    assert syllabified("Cinco zapatos - 5") == "CIN-co za-PA-tos - CIN-co"
    assert syllabified("!!") == "!!"


# Words of the old English-only texts a Spanish learner must never see.
ENGLISH_WORDS = ("Accuracy", "Fluency", "Try again", "Drill", "work on", "syllable", "You made",
                 "I didn't", "Approximate", "Nothing to fix", "clear", "almost", "practise", "Stress",
                 "needs")  # fmt: skip


def assert_spanish(text: str) -> None:
    for english in ENGLISH_WORDS:
        assert english not in text, english


def test_minimal_pair_in_the_learners_language() -> None:
    """*perro* said with a tap (*pero*): the whole message, buttons included, in Spanish for a Spanish
    learner and in English for an English one; the English fix is what scoring stored."""
    result = score(posteriorgram(["e", "l", "p", "e", "ɾ", "o"]), VOC, "el perro")
    spanish = assessment_reply(result, drill=True, language="es")
    assert spanish.text.splitlines()[:4] == [
        "🟢 el 🟡 perro",
        "_🟢 bien · 🟡 casi · 🔴 a practicar_",
        "",
        "👉 Hiciste una *r* suave [ɾ]: eso suena a *pero*; *perro* lleva una *r* fuerte [r].",
    ]
    assert spanish.text.splitlines()[5].startswith("Precisión ")
    assert " · Fluidez " in spanish.text
    assert " · Frase completa " in spanish.text
    assert " · Entonación " in spanish.text
    assert spanish.buttons == (retry_button("es"), drill_button("es"))
    assert_spanish(spanish.text)
    assert_spanish(" ".join(b.title for b in spanish.buttons))
    english = assessment_reply(result, drill=True, language="en")
    assert "👉 You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]." in english.text
    assert "_🟢 clear · 🟡 almost · 🔴 practise this_" in english.text
    assert "Accuracy " in english.text
    assert english.buttons == (retry_button("en"), drill_button("en"))
    assert fix_first(result, "en") == result.words[1].diagnosis


def test_an_older_apps_result_renders_in_spanish() -> None:
    """Bad input: an assessment as an older deployed Modal app sends it (JSON, the diagnosis an English
    string only): the Spanish learner still gets the Spanish minimal pair, re-derived from the phones."""
    result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro")
    old = Assessment.from_json(json.loads(json.dumps(result.to_json())))
    assert old.words[0].diagnosis is not None
    assert old.words[0].diagnosis.startswith("You made")
    assert (
        fix_first(old, "es")
        == "Hiciste una *r* suave [ɾ]: eso suena a *pero*; *perro* lleva una *r* fuerte [r]."
    )


def test_the_pair_depends_on_the_dialect_the_word_was_scored_in() -> None:
    """*casa* with [θ] is *caza* only in Spain: scored and rendered in ``spain`` the fix names the pair
    (in both languages); in ``latam`` there is no pair, so it names the two sounds."""
    result = score(posteriorgram(["k", "a", "θ", "a"]), VOC, "casa", dialect="spain")
    assert fix_first(result, "es", "spain") == (
        "Hiciste [θ] (como la *z* de España): eso suena a *caza*; *casa* lleva [s]."
    )
    assert fix_first(result, "en", "spain") == result.words[0].diagnosis
    assert (
        fix_first(result, "es", "latam")
        == "En *casa* hiciste [θ] (como la *z* de España); la palabra lleva [s]."
    )
    other = score(posteriorgram(["m", "e", "x", "a"]), VOC, "mesa")
    assert fix_first(other, "es") == "En *mesa* hiciste [x] (la *j*); la palabra lleva [s]."
    assert fix_first(other, "en") == "In *mesa* you made [x] (a throaty 'h'); it needs [s]."


def test_omissions_in_the_learners_language() -> None:
    """Bad input: a word left out entirely (the learner stopped after *el*) and a sound left out of a
    word (*pe-o*)."""
    stopped = score(posteriorgram(["e", "l", *([PAUSE] * 12)]), VOC, "el perro")
    assert fix_first(stopped, "es") == "No escuché *perro*: di todas las palabras de la frase."
    assert fix_first(stopped, "en") == "I didn't hear *perro*: say every word of the phrase."
    dropped = score(posteriorgram(["p", "e", "o"]), VOC, "perro")
    assert fix_first(dropped, "es") == (
        "En *perro* no escuché una *r* fuerte [r]: pronuncia ese sonido con claridad."
    )
    assert fix_first(dropped, "en") == "In *perro* I missed a trill [r]: say it clearly."
    assert_spanish(assessment_reply(stopped, language="es").text)


def with_stress_error(text: str, expected: int, found: int) -> Assessment:
    """A clean reading of ``text`` (one word) whose stress the prosody put on syllable ``found``."""
    result = score(posteriorgram(list(text)), VOC, text)
    word = replace(
        result.words[0],
        errors=(ErrorType.STRESS,),
        level=Level.FAIR,
        stress_expected=expected,
        stress_found=found,
    )
    return replace(result, words=(word,))


def test_stress_in_the_learners_language() -> None:
    """The stressed syllable in capitals and its ordinal: "la primera sílaba" / "the 1st syllable";
    bad input: a stress beyond the ordinals written out (the 7th syllable) reads "la sílaba 7"."""
    wrong = with_stress_error("pato", expected=0, found=1)
    assert fix_first(wrong, "es") == "Di *PA-to* con el acento en la primera sílaba."
    assert fix_first(wrong, "en") == "Stress *PA-to*: the stress goes on the 1st syllable."
    second = with_stress_error("pato", expected=1, found=0)
    assert fix_first(second, "es") == "Di *pa-TO* con el acento en la segunda sílaba."
    assert fix_first(second, "en") == "Stress *pa-TO*: the stress goes on the 2nd syllable."
    assert _ordinal(7, "es") == "la sílaba 7"
    assert _ordinal(3, "es") == "la tercera sílaba"
    assert (_ordinal(11, "en"), _ordinal(22, "en")) == ("the 11th syllable", "the 22nd syllable")
    assert_spanish(assessment_reply(wrong, language="es").text)


def test_a_pass_and_the_other_fixes_in_the_learners_language() -> None:
    """A pass, a hesitation between words, a nearly-right word, and a wrong sound with nothing named
    in its place (bad input: a mispronounced phone without a produced phone)."""
    perfect = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro")
    assert (
        fix_first(perfect, "es") == "Nada que corregir: ¡sonó genial! 🎉 Intenta decirla un poco más rápido."
    )
    assert fix_first(perfect, "en") == "Nothing to fix: that sounded great! 🎉 Try it a little faster."
    passed = assessment_reply(perfect, language="es", model=False)
    assert passed.buttons == (Button(RETRY_ID, "🔁 Otra vez"),)
    assert_spanish(passed.text)
    hesitant = score(posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "r", "o"]), VOC, "el perro")
    assert fix_first(hesitant, "es") == "Di *el perro* de corrido, sin detenerte entre las palabras."
    el, perro = perfect.words
    nearly = replace(perfect, words=(el, replace(perro, level=Level.FAIR, score=70.0)))
    assert fix_first(nearly, "es") == "Ya casi: di *perro* otra vez, despacio y con claridad."
    assert fix_first(nearly, "en") == "Nearly there: say *perro* once more, slowly and clearly."
    # a wrong sound the recogniser could not name (no phone produced, so no diagnosis)
    unnamed = replace(perro.phones[2], error=ErrorType.MISPRONUNCIATION, score=30.0)
    phones = (*perro.phones[:2], unnamed, *perro.phones[3:])
    wrong = replace(perfect, words=(el, replace(perro, phones=phones, errors=(ErrorType.MISPRONUNCIATION,))))
    assert fix_first(wrong, "es") == "En *perro*, practica este sonido: una *r* fuerte [r]."
    assert fix_first(wrong, "en") == "In *perro*, work on a trill [r]."


def test_the_approximate_note_in_the_learners_language() -> None:
    """Free speech (the transcript stood in for the text): the note in Spanish for a Spanish learner, in
    English for "en"; an exercise has neither."""
    result = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro", approximate=True)
    spanish = assessment_reply(result, language="es", model=False)
    assert "_Es aproximado: comparé tu voz con lo que entendí" in spanish.text
    assert_spanish(spanish.text)
    english = assessment_reply(result, language="en", model=False)
    assert "_Approximate: I compared your voice with what I understood" in english.text
    exact = assessment_reply(replace(result, approximate=False), language="es", model=False)
    assert "aproximado" not in exact.text


def test_button_titles_fit_and_keep_their_ids() -> None:
    """Both languages: the ids the service and the tutor route on never change, titles fit WhatsApp's 20
    characters (counted as UTF-16 units, the stricter count for emoji), and each line that names the
    try-again button names its title in that language."""
    for language in ("es", "en", "pt"):
        retry, drill, listen = retry_button(language), drill_button(language), listen_button(language)
        assert (retry.id, drill.id, listen.id) == ("voice:retry", "voice:drill", "voice:listen")
        for button in (retry, drill, listen):
            assert len(button.title.encode("utf-16-le")) // 2 <= 20, button.title
        result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro")
        for reply in (
            assessment_reply(result, language=language, model=True),
            assessment_reply(result, language=language, model=False, listen=True),
        ):
            assert f"*{retry.title.removeprefix('🔁 ')}*" in reply.text
    assert (retry_button("es").id, drill_button("es").id) == (RETRY_ID, DRILL_ID)  # the service's ids
    assert retry_button("es").title != retry_button("en").title
