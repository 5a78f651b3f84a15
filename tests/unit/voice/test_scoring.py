"""Pronunciation scoring on constructed posteriorgrams: GOP, three levels, error types, the minimal-pair
diagnosis (tap/trill: pero/perro), regional variants and the utterance scores."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from espaluz.voice.scoring import (
    Assessment,
    ErrorType,
    Level,
    Vocabulary,
    _edit_alignment,
    diagnose,
    expected_for,
    score,
)
from tests.voice_samples import PAUSE, VOCAB, posteriorgram

VOC = Vocabulary(VOCAB)


def test_clear_speech_scores_good_everywhere() -> None:
    result = score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro")
    assert [w.level for w in result.words] == [Level.GOOD, Level.GOOD]
    assert result.accuracy >= 85
    assert result.completeness == 100
    assert all(not w.errors for w in result.words)


def test_tap_for_trill_is_diagnosed_with_the_minimal_pair() -> None:
    """The learner aimed at *perro* but made a tap: the word is marked down and the reply names *pero*."""
    result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro")
    word = result.words[0]
    assert word.level is not Level.GOOD
    assert ErrorType.MISPRONUNCIATION in word.errors
    trill = word.phones[2]
    assert trill.phone == "r"
    assert trill.produced == "ɾ"
    assert trill.score < 50
    assert trill.gop < -1
    assert word.diagnosis == "You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]."
    assert result.weak_phones() == ["r"]


def test_trill_for_tap_is_diagnosed_the_other_way() -> None:
    result = score(posteriorgram(["p", "e", "r", "o"]), VOC, "pero")
    assert result.words[0].diagnosis == "You made a trill [r]: that is *perro*; *pero* needs a tap [ɾ]."


def test_the_diagnosis_in_spanish_comes_from_the_same_phone() -> None:
    """The stored diagnosis stays English (the Modal JSON keeps its keys); ``substitution`` finds the
    phone it explains, from which ``diagnose`` writes it in Spanish, with or without a minimal pair
    (bad input: an unnamed phone, [l], is written as itself)."""
    word = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro").words[0]
    found = word.substitution()
    assert found is not None
    position, phone = found
    assert (position, phone.phone, phone.produced) == (2, "r", "ɾ")
    assert diagnose(word.text, position, "r", "ɾ", "latam") == word.diagnosis
    assert diagnose(word.text, position, "r", "ɾ", "latam", "es") == (
        "Hiciste una *r* suave [ɾ]: eso suena a *pero*; *perro* lleva una *r* fuerte [r]."
    )
    assert diagnose("perro", 2, "r", "l", "latam", "es") == (
        "Hiciste [l]: eso suena a *pelo*; *perro* lleva una *r* fuerte [r]."
    )
    assert (
        diagnose("mesa", 2, "s", "x", "latam", "es")
        == "En *mesa* hiciste [x] (la *j*); la palabra lleva [s]."
    )
    clean = score(posteriorgram(["p", "e", "r", "o"]), VOC, "perro").words[0]
    assert clean.substitution() is None
    assert clean.diagnosis is None


def test_uncertain_trill_is_fair_not_wrong() -> None:
    """Half tap, half trill: a middle mark (three levels, not right/wrong) and no error."""
    gram = posteriorgram(["p", "e", "r", "o"], mix={2: {"r": 0.55, "ɾ": 0.4}})
    word = score(gram, VOC, "perro").words[0]
    assert 50 <= word.phones[2].score < 80
    assert word.phones[2].error is None
    assert word.level is Level.GOOD or word.level is Level.FAIR


def test_omitted_word_lowers_completeness() -> None:
    """The learner stopped after "el": "perro" is all blank frames (omission), completeness halves."""
    gram = posteriorgram(["e", "l", *([PAUSE] * 12)])
    result = score(gram, VOC, "el perro")
    assert result.words[0].level is Level.GOOD
    assert ErrorType.OMISSION in result.words[1].errors
    assert result.completeness == 50.0
    assert result.words[1].level is Level.POOR


def test_inserted_sound_is_an_insertion() -> None:
    """An extra vowel before the word (a common "espeaking" of s-clusters): an insertion on that word."""
    result = score(posteriorgram(["e", "s", "t", "o"]), VOC, "sto")
    assert result.insertions == ("e",)
    assert ErrorType.INSERTION in result.words[0].errors


def test_long_silence_between_words_is_an_unexpected_pause_but_not_after_a_comma() -> None:
    gram = posteriorgram(["e", "l", *([PAUSE] * 30), "p", "e", "r", "o"])
    hesitant = score(gram, VOC, "el perro")
    assert ErrorType.UNEXPECTED_PAUSE in hesitant.words[1].errors
    assert hesitant.pauses == 1
    assert hesitant.fluency < score(posteriorgram(["e", "l", "p", "e", "r", "o"]), VOC, "el perro").fluency
    punctuated = score(gram, VOC, "el, perro")
    assert ErrorType.UNEXPECTED_PAUSE not in punctuated.words[1].errors


def test_seseo_and_yeismo_are_accepted() -> None:
    """Regional variants are not errors: [s] for *z* in Spain (seseo), [ʎ] for *ll* (lleísmo)."""
    spain = score(posteriorgram(["k", "a", "s", "a"]), VOC, "caza", dialect="spain")
    assert spain.words[0].level is Level.GOOD
    assert not spain.words[0].errors
    latam = score(posteriorgram(["k", "a", "ʎ", "e"]), VOC, "calle", dialect="latam")
    assert latam.words[0].level is Level.GOOD
    # but a [θ] for the *s* of *casa* in Spain is a real contrast (casa/caza)
    wrong = score(posteriorgram(["k", "a", "θ", "a"]), VOC, "casa", dialect="spain")
    assert wrong.words[0].diagnosis is not None
    assert "caza" in wrong.words[0].diagnosis


def test_stops_for_spirants_are_accepted() -> None:
    """[d] where the G2P says [ð] (lado) is an accent, not a mistake."""
    result = score(posteriorgram(["l", "a", "d", "o"]), VOC, "lado")
    assert result.words[0].level is Level.GOOD


def test_assessment_json_round_trip() -> None:
    """The Modal boundary: the JSON form rebuilds the same assessment (enums included), and a word keeps
    the keys an older deployed app sends (the diagnosis one English string, nothing more)."""
    result = score(posteriorgram(["p", "e", "ɾ", "o"]), VOC, "perro", transcript="perro")
    again = Assessment.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result
    assert set(result.to_json()["words"][0]) == {
        "text", "score", "level", "errors", "phones", "start", "end", "stress_expected", "stress_found",
        "diagnosis",
    }  # fmt: skip


def test_free_speech_uses_the_transcript_and_is_approximate() -> None:
    assert expected_for(None, "hola amigo") == ("hola amigo", True)
    assert expected_for("  ", "hola") == ("hola", True)
    assert expected_for("perro", "pero") == ("perro", False)


@given(
    st.lists(st.sampled_from("aeiprɾ"), max_size=12),
    st.lists(st.sampled_from("aeiprɾ"), min_size=1, max_size=12),
)
def test_edit_alignment_is_a_minimal_edit(decoded: list[str], expected: list[str]) -> None:
    """The vectorised Levenshtein against a plain dynamic programme: the operations it reports
    (substitutions, deletions, insertions) are exactly the edit distance."""
    slots = [frozenset({p}) for p in expected]
    changed, inserted = _edit_alignment(decoded, slots)
    n, m = len(expected), len(decoded)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                table[i][j] = i + j
            else:
                table[i][j] = min(
                    table[i - 1][j - 1] + (expected[i - 1] != decoded[j - 1]),
                    table[i - 1][j] + 1,
                    table[i][j - 1] + 1,
                )
    assert len(changed) + len(inserted) == table[n][m]
    assert len(inserted) - sum(v is None for v in changed.values()) == m - n
