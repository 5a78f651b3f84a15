"""WhatsApp formatting rendered for a terminal (espaluz/dev/markup.py)."""

from __future__ import annotations

import pytest

from espaluz.dev.markup import render


def test_bold_is_ansi_on_a_terminal_and_plain_words_otherwise() -> None:
    text = "Soy *Espaluz*, escribe *saltar*."
    assert render(text, color=True) == "Soy \x1b[1mEspaluz\x1b[22m, escribe \x1b[1msaltar\x1b[22m."
    assert render(text, color=False) == "Soy Espaluz, escribe saltar."


def test_italics_with_bold_inside_nest() -> None:
    """The tutor's English glosses are italic lines that contain bold commands."""
    text = "_All set! *practicar* starts an exercise._"
    assert render(text, color=False) == "All set! practicar starts an exercise."
    assert render(text, color=True) == "\x1b[3mAll set! \x1b[1mpracticar\x1b[22m starts an exercise.\x1b[23m"


def test_strikethrough_keeps_its_tildes_in_plain_text() -> None:
    """A struck-out word is a correction: without a terminal it must not read as the right form."""
    assert render("~yo soy~ → yo estoy", color=False) == "~yo soy~ → yo estoy"
    assert render("~yo soy~ → yo estoy", color=True) == "\x1b[9myo soy\x1b[29m → yo estoy"


@pytest.mark.parametrize(
    "text",
    [
        "5 * 3 * 2 = 30",  # spaces after and before the marker: arithmetic, not bold
        "nombre_de_usuario y otra_cosa",  # underscores inside words
        "a*b*c",  # markers glued to letters on both sides
        "*hola\nmundo*",  # a span never crosses a line break
        "nota: 10 *",  # a lone marker
        "~5 minutos",  # no closing marker
    ],
)
def test_markers_that_do_not_form_a_span_stay_as_typed(text: str) -> None:
    """Bad input: stray markers; they are text, not formatting (and no ANSI code appears)."""
    assert render(text, color=True) == text
    assert render(text, color=False) == text


def test_urls_and_inline_code_are_left_alone() -> None:
    text = "Mira https://example.com/a_b_c_/x y `ser_estar` con _cuidado_"
    assert render(text, color=False) == "Mira https://example.com/a_b_c_/x y ser_estar con cuidado"
    shown = render(text, color=True)
    assert "https://example.com/a_b_c_/x" in shown
    assert "\x1b[36mser_estar\x1b[39m" in shown
    assert "\x1b[3mcuidado\x1b[23m" in shown


def test_monospace_blocks_are_shown_as_typed_even_across_lines() -> None:
    text = "Tabla:\n```yo *soy*\ntú _eres_```\nFin *ya*"
    assert render(text, color=False) == "Tabla:\nyo *soy*\ntú _eres_\nFin ya"
    assert render(text, color=True) == "Tabla:\n\x1b[36myo *soy*\ntú _eres_\x1b[39m\nFin \x1b[1mya\x1b[22m"


def test_bullet_lists_are_kept_as_bullets() -> None:
    text = "Comandos:\n* *practicar*: un ejercicio\n- nivel\n  - sub\n• progreso"
    assert render(text, color=False) == "Comandos:\n• practicar: un ejercicio\n• nivel\n  • sub\n• progreso"


def test_adjacent_spans_and_punctuation_around_them() -> None:
    assert render("*a* *b*", color=False) == "a b"
    assert render("¡*Hola*! (_hi_).", color=False) == "¡Hola! (hi)."


def test_control_characters_from_message_text_cannot_reach_the_terminal() -> None:
    """Bad input: a reply carrying escape sequences (cursor moves, colours) or a bidi override."""
    shown = render("hola\x1b[2J\x1b]0;title\x07 mundo\u202e", color=True)
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "\u202e" not in shown
    assert shown.startswith("hola")
    assert "mundo" in shown
    assert render("👩\u200d🏫 ok\tsí", color=False) == "👩\u200d🏫 ok\tsí"  # emoji joiner and tabs stay
