"""The built-in phrasebook and the authored grammar notes: their data, how a request is read and how an
entry or a topic is found.

Bad input covered: typos, missing accents and capitals, curly quotes and «guillemets», a trailing
"please", text that is not a phrase request, a phrase the phrasebook does not have, ordinary sentences
that contain a grammar word ("¿Te gusta el cine?", "¿Hay un banco cerca?").
"""

from __future__ import annotations

import re

import pytest

from espaluz.tutor import phrasebook
from espaluz.tutor.agents import grammar_notes
from espaluz.tutor.phrasebook import PhraseRequest, format_entry, lookup, parse_request

DEVELOPER_WORDS = re.compile(r"API_KEY|GROQ|ANTHROPIC|MODAL|None|Traceback|\{|\}")


def test_the_phrasebook_has_300_complete_entries_with_real_variants() -> None:
    """Data integrity: every entry has an English phrase and a Spanish form, only known regions as
    variants (and each variant differs from the general form), known registers, both languages in a
    note, unique ids; at least 300 entries, and the dialect pairs learners ask about are there."""
    entries = phrasebook.entries()
    assert len(entries) >= 300
    assert len({e.id for e in entries}) == len(entries)
    for entry in entries:
        assert entry.english.strip()
        assert entry.spanish.strip()
        assert set(entry.variants) <= {"latam", "spain", "rioplatense"}, entry.id
        assert all(form != entry.spanish for form in entry.variants.values()), entry.id
        assert entry.register in {"neutral", "informal", "formal", "colloquial"}, entry.id
        assert all(entry.note) or not any(entry.note), entry.id
    with_variants = [e for e in entries if e.variants]
    assert len(with_variants) >= 60
    assert lookup("car") is not None
    car = lookup("car")
    assert car is not None
    assert (car.spanish, car.for_region("latam"), car.for_region("rioplatense")) == ("Coche", "Carro", "Auto")


@pytest.mark.parametrize(
    ("text", "kind", "query"),
    [
        ("how do I say I miss you?", "say", "i miss you"),
        ("How do you say 'I miss you' in Spanish?", "say", "i miss you"),
        ("¿Cómo se dice «I miss you»?", "say", "i miss you"),
        ("Hola, ¿cómo se dice “thank you”?", "say", "thank you"),
        ("como se dice good morning en español", "say", "good morning"),
        ("What’s the Spanish for car?", "say", "car"),
        ("how to say the bill please", "say", "the bill please"),
        ("translate: see you tomorrow", "say", "see you tomorrow"),
        ("I miss you in Spanish?", "say", "i miss you"),
        ("¿Qué significa «vale»?", "mean", "vale"),
        ("what does 'te echo de menos' mean?", "mean", "te echo de menos"),
        ("¿Qué quiere decir chévere?", "mean", "chevere"),
    ],
)
def test_phrase_requests_in_english_and_spanish_are_read(text: str, kind: str, query: str) -> None:
    """Wordings, quotes of every kind, capitals and missing accents: the phrase asked about comes out
    folded, without the request words or "in Spanish"."""
    assert parse_request(text) == PhraseRequest(kind, query)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["Vivo en España desde 2019", "¿cuándo uso ser y estar?", "Hola", "I said hello to my neighbour", ""],
)
def test_text_that_is_not_a_phrase_request_is_left_alone(text: str) -> None:
    """Not a request: no phrasebook answer, so the message goes on to the other routes."""
    assert parse_request(text) is None


@pytest.mark.parametrize(
    ("query", "entry_id"),
    [
        ("I miss you", "i_miss_you"),
        ("i mis you", "i_miss_you"),  # one typo
        ("te extrano", "i_miss_you"),  # no tilde typed
        ("TE ECHO DE MENOS", "i_miss_you"),
        ("strawbery", "strawberry"),
        ("gracais", "thank_you"),  # two letters swapped
        ("the bill please", "the_bill_please"),
        ("bill", "the_bill_please"),
        ("vale", "ok"),
        ("Where is the toilet", "where_is_the_bathroom"),
    ],
)
def test_lookup_is_accent_case_punctuation_and_typo_tolerant(query: str, entry_id: str) -> None:
    entry = lookup(query)
    assert entry is not None
    assert entry.id == entry_id


def test_a_distant_phrase_is_a_miss_not_a_guess() -> None:
    """A phrase far from every key: None (and near entries are offered only when they are near)."""
    assert lookup("supercalifragilistic expialidocious") is None
    assert lookup("xq") is None
    assert [e.id for e in phrasebook.suggest("strawbery jam")] == ["strawberry"]


def test_entries_are_shown_for_the_learners_region_in_the_learners_language() -> None:
    """Dialects: a learner of Spain's Spanish sees *Te echo de menos* first and the Latin American form
    as the alternative, once (Argentina shares it); texts are framed in the explanation language."""
    entry = lookup("i miss you")
    assert entry is not None
    say = PhraseRequest("say", "i miss you")
    english = format_entry(entry, say, language="en", dialect="latam")
    assert english.splitlines()[0] == "💬 _I miss you_ in Spanish: *Te extraño*"
    assert "• In Spain: *Te echo de menos*" in english
    assert "Informal" in english
    spanish = format_entry(entry, say, language="es", dialect="spain")
    assert spanish.splitlines()[0] == "💬 _I miss you_ en español: *Te echo de menos*"
    assert spanish.count("Te extraño") == 1
    assert "• En Latinoamérica: *Te extraño*" in spanish
    meaning = format_entry(entry, PhraseRequest("mean", "te echo de menos"), language="es", dialect="latam")
    assert meaning.splitlines()[0] == "💬 *Te echo de menos* significa _I miss you_."
    for text in (english, spanish, meaning):
        assert not DEVELOPER_WORDS.search(text)


def test_a_miss_says_so_in_the_learners_language() -> None:
    request = PhraseRequest("say", "supercalifragilistic")
    assert phrasebook.miss_text(request, language="en").startswith(
        "I don't have “supercalifragilistic” in my phrasebook yet."
    )
    assert phrasebook.miss_text(request, language="es").startswith(
        "Todavía no tengo «supercalifragilistic» en mi diccionario de frases."
    )


def test_grammar_notes_cover_the_most_asked_topics_in_both_languages() -> None:
    """Data integrity: at least 20 topics (the old engine table's five among them), each with a short
    and a longer explanation in Spanish and English, 2-3 examples and extra ones for the buttons."""
    notes = grammar_notes.notes()
    assert len(notes) >= 20
    for required in (
        "ser_estar",
        "por_para",
        "preterite_vs_imperfect",
        "subjunctive",
        "gender_agreement",
        "gustar",
        "saber_conocer",
        "hay_estar",
        "present_perfect",
    ):
        assert required in notes
    for note in notes.values():
        assert all(note.title), note.id
        assert all(note.short), note.id
        assert all(note.more), note.id
        assert len(note.more[0]) > len(note.short[0]), note.id
        assert 2 <= len(note.examples) <= 3, note.id
        assert len(note.extra_examples) >= 2, note.id
        assert not set(note.examples) & set(note.extra_examples), note.id
        assert note.aliases, note.id


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("¿cuándo uso ser y estar?", "ser_estar"),
        ("What is the difference between por and para?", "por_para"),
        ("¿Cuál es la diferencia entre el indefinido y el imperfecto?", "preterite_vs_imperfect"),
        ("when do I use the subjunctive?", "subjunctive"),
        ("¿Saber o conocer?", "saber_conocer"),
        ("muy vs mucho", "muy_mucho"),
        ("preterite", "preterite_vs_imperfect"),
        ("ser_estar", "ser_estar"),
    ],
)
def test_a_topic_is_found_from_a_question_in_either_language(question: str, topic: str) -> None:
    note = grammar_notes.find_topic(question)
    assert note is not None
    assert note.id == topic


@pytest.mark.parametrize("sentence", ["¿Te gusta el cine?", "¿Hay un banco cerca?", "¿Usted habla inglés?"])
def test_ordinary_sentences_do_not_name_a_topic(sentence: str) -> None:
    """Example phrases ("me gusta", "hay", "usted") name a topic only inside a grammar question: the
    strong search, used to tell grammar from conversation, does not see them."""
    assert grammar_notes.find_topic(sentence, strong_only=True) is None


def test_follow_up_texts_are_recognised() -> None:
    """The texts the processor sends for the buttons give back the kind and the original question."""
    assert grammar_notes.follow_up_of("Dame otro ejemplo, por favor: ¿ser o estar?") == (
        "more_example",
        "¿ser o estar?",
    )
    assert grammar_notes.follow_up_of("Explícamelo mejor: ¿ser o estar?") == ("explain", "¿ser o estar?")
    assert grammar_notes.follow_up_of("¿ser o estar?") == (None, "¿ser o estar?")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ('¿Qué significa "mis"?', "es", "📖 *mis* (plural de *mi*): _my_"),
        ("what does mis mean?", "en", "📖 *mis* (plural of *mi*): _my_"),
        ('What does "pelicula" mean?', "en", "📖 *película* (*la película*): _film, movie_"),
        (
            "¿qué significa comemos?",
            "es",
            "📖 *comemos* (*comer*, presente, nosotros): _to eat, to have lunch_",
        ),
        ("¿Qué significa ventana?", "es", "📖 *ventana* (*la ventana*): _window_"),
        ("how do I say window?", "en", "💬 _window_ in Spanish: *la ventana*"),
        ("¿cómo se dice angry?", "es", "💬 _angry_ en español: *enfadado, enfadada* / *enojado, enojada*"),
    ],
)
def test_one_word_the_phrasebook_lacks_is_answered_from_the_lexicon(
    text: str, language: str, expected: str
) -> None:
    """Found holding a chat: "¿Qué significa mis?" got "I don't have it" and three unrelated phrases."""
    request = parse_request(text)
    assert request is not None
    assert phrasebook.lookup(request.query) is None
    assert phrasebook.word_text(request, language=language) == expected


def test_the_lexicon_answers_only_one_known_word() -> None:
    """A phrase, or a word the lexicon lacks, is left to the phrasebook's miss (or the providers)."""
    for text in ("¿Qué significa xyzzy?", "how do I say the cat is sleeping?"):
        request = parse_request(text)
        assert request is not None
        assert phrasebook.word_text(request, language="es") is None
