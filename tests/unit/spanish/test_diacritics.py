"""The ``accent`` rule (espaluz.spanish.diacritics): diacritic pairs decided by their context.

Covers each pair (tú/tu, él/el, sé/se, sí/si, mí/mi, más/mas, té/te, dé/de, está/esta, aún/aun), the
question words in direct questions, indirect questions and exclamations against their relative and
conjunction uses, the registration in ``corrections.check``, bilingual reasons, offsets and speed,
and the case file ``cases/accent.tsv`` (every ERR fixed exactly by ``review``, no OK line flagged).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from espaluz.spanish.correction_scan import Scan
from espaluz.spanish.corrections import check
from espaluz.spanish.diacritics import RULE, rule_accents
from espaluz.spanish.review import review

CASES = Path(__file__).parent / "cases" / "accent.tsv"


def accent_fixes(text: str) -> list[tuple[str, str]]:
    """(original, suggestion) of the accent rule alone, in text order."""
    found = sorted((corr for _, corr in rule_accents(Scan(text))), key=lambda c: c.start)
    return [(c.original, c.suggestion) for c in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # tú / tu
        ("tu eres alta.", [("tu", "tú")]),
        ("Tu y yo.", [("Tu", "Tú")]),
        ("Hazlo tu mismo.", [("tu", "tú")]),
        ("¿Y tu que haces?", [("tu", "tú")]),
        # él / el
        ("el es mi amigo.", [("el", "él")]),
        ("El no quiere venir.", [("El", "Él")]),
        ("el se llama Pedro.", [("el", "él")]),
        ("Mi hermana y el se conocieron aquí.", [("el", "él")]),
        ("¿Y tu, qué opinas?", [("tu", "tú")]),
        ("Voy con el.", [("el", "él")]),
        # sé / se
        ("No se nada.", [("se", "sé")]),
        ("Yo se que es verdad.", [("se", "sé")]),  # 'que' is 'that': only 'se' is wrong
        ("No lo se.", [("se", "sé")]),
        ("Yo tampoco se.", [("se", "sé")]),
        ("No lo se todavía.", [("se", "sé")]),
        ("Yo no se cocinar.", [("se", "sé")]),
        ("Ya se lo que quieres.", [("se", "sé")]),
        # sí / si
        ("Dijo que si.", [("si", "sí")]),
        ("Si, por favor.", [("Si", "Sí")]),
        ("Ahora si que tengo hambre.", [("si", "sí")]),
        # mí, más, té, dé
        ("Es para mi.", [("mi", "mí")]),
        ("Quiero mas agua.", [("mas", "más")]),
        ("Quiero un te.", [("te", "té")]),
        ("Me gusta el te verde.", [("te", "té")]),
        ("Espero que me de tiempo.", [("de", "dé")]),
        # está
        ("Mi madre esta en casa.", [("esta", "está")]),
        ("La sopa esta muy rica.", [("esta", "está")]),
        # aún / aun
        ("Aun no ha llegado.", [("Aun", "Aún")]),
        ("Aún así, voy.", [("Aún", "Aun")]),
        # question words
        ("¿Que quieres?", [("Que", "Qué")]),
        ("¿Pero donde está?", [("donde", "dónde")]),
        ("Como te llamas?", [("Como", "Cómo")]),
        ("No sé que decir.", [("que", "qué")]),
        ("No se que hacer.", [("se", "sé"), ("que", "qué")]),
        ("Dime donde vives.", [("donde", "dónde")]),
        ("Pregunta cuanto cuesta.", [("cuanto", "cuánto")]),
        ("Pregúntale que quiere comer.", [("que", "qué")]),
        ("Por que no vienes?", [("que", "qué")]),
        ("¡Como llueve!", [("Como", "Cómo")]),
        ("No sé que tipo de música te gusta.", [("que", "qué")]),
        ("No sé cuantos años tiene.", [("cuantos", "cuántos")]),
        ("¿Sabes que?", [("que", "qué")]),
        ("No sé por que llora.", [("que", "qué")]),
        ("¡Que bonito!", [("Que", "Qué")]),
        ("¡Que suerte tienes!", [("Que", "Qué")]),
        ("¡Cuanto tiempo!", [("Cuanto", "Cuánto")]),
    ],
)
def test_flags(text: str, expected: list[tuple[str, str]]) -> None:
    assert accent_fixes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tu casa es bonita.",
        "¿Y tu hermano?",
        "El río está limpio.",
        "El compra pan.",
        "El ama de casa trabaja.",
        "El vale de descuento caduca hoy.",
        "El baile fue divertido.",
        "Se llama Ana.",
        "Yo se lo doy.",
        "No se puede fumar.",
        "Si, por ejemplo, llueve, no vamos.",
        "Si quieres, vamos.",
        "Lo dije, mas no me escucharon.",
        "Te quiero.",
        "Un té de menta.",
        "Es la casa de mi madre.",
        "Esta casa es mía.",
        "Compré esta muy barata.",
        "Aun así, no voy.",
        "Ni aun así.",
        "El libro que leo.",
        "La casa donde vivo.",
        "Cuando llegues, llámame.",
        "Creo que sí.",
        "Como siempre, tarde.",
        "Dime que me quieres.",
        "Dime cuando llegues.",
        "Recuerdo cuando era niño.",
        "Sé que decir mentiras está mal.",
        "La sopa sabe como un caldo.",
        "La pregunta que hice.",
        "¿Y cuando llegues, qué hacemos?",
        "¡Que te vaya bien!",
        "¡Que aproveche!",
        "¡Que Dios te bendiga!",
        "¡Que sí, que ya voy!",
        "Hazlo cuanto antes.",
        "Quien sabe, sabe.",
        "Otra pregunta que tengo es esta.",
        "Ahora sé que caminar me ayuda a pensar.",
        "Sé cuando está triste.",
        "Ya se lo dije.",
        "No se vende alcohol.",
        "¡Como quieras!",
        "¡Como dice mi madre, hay que comer!",
        "Porque no quise.",
        "Como no tenía dinero, no fui.",
    ],
)
def test_leaves_alone(text: str) -> None:
    assert accent_fixes(text) == []


def test_registered_in_check_with_bilingual_reasons_and_offsets() -> None:
    text = "Hola. No sé que hacer y tu eres mi amigo."
    found = [c for c in check(text) if c.rule == RULE]
    assert [(c.original, c.suggestion) for c in found] == [("que", "qué"), ("tu", "tú")]
    for c in found:
        assert text[c.start : c.end] == c.original
        assert c.explanation
        assert c.explanation_es
        assert c.explanation != c.explanation_es
        assert c.suggestion in c.explanation_es


def test_sentence_start_keeps_capital_and_mid_sentence_stays_lower() -> None:
    assert accent_fixes("¿Donde vives?") == [("Donde", "Dónde")]
    assert accent_fixes("Y el no quiere.") == [("el", "él")]


def test_de_wins_over_contraction() -> None:
    """'que me de el libro': dé + el, not the contraction 'del'."""
    assert review("Quiero que me de el libro.").corrected == "Quiero que me dé el libro."


def _cases() -> list[tuple[str, str, str]]:
    rows = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, sentence, *rest = line.split("\t")
            rows.append((kind, sentence, rest[0] if rest else ""))
    return rows


def test_case_file_size() -> None:
    kinds = [k for k, _, _ in _cases()]
    assert kinds.count("ERR") >= 30
    assert kinds.count("OK") >= 30
    assert set(kinds) == {"ERR", "OK"}


@pytest.mark.parametrize(("kind", "sentence", "corrected"), _cases())
def test_case_file(kind: str, sentence: str, corrected: str) -> None:
    if kind == "ERR":
        assert any(c.rule == RULE for c in check(sentence))
        assert review(sentence).corrected == corrected
    else:
        assert check(sentence) == []


def test_speed_on_a_30_word_message() -> None:
    text = (
        "Hola, no sé que hacer hoy porque mi madre esta en casa y tu eres mi amigo, ¿sabes donde vive "
        "el chico que me dio el libro ayer por la tarde?"
    )
    check(text)
    times = []
    for _ in range(200):
        t = time.perf_counter()
        check(text)
        times.append(time.perf_counter() - t)
    times.sort()
    assert times[int(0.95 * len(times))] < 0.02  # measured ~0.3 ms; generous for a loaded CI machine


def test_indirect_question_reason_quotes_the_corrected_trigger() -> None:
    """'no se dónde': the reason names the verb as it must be written ('sé'), in both languages."""
    (where,) = [c for c in check("No se donde vive.") if c.original == "donde"]
    assert "'sé'" in where.explanation
    assert "'sé'" in where.explanation_es
