"""The terminal conversation of ``espaluz chat`` (espaluz/dev/chat.py), against a scripted local stack.

The stack's two endpoints the chat uses (``/dev/outbox`` and ``/dev/simulator/messages``) are served by
``ScriptedStack`` through httpx's transport: each message the learner sends is recorded as posted, and
the next scripted tutor reply is appended to the outbox in the emulator's format.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from espaluz.dev.chat import INDENT, PROMPT, SPEAKER, TerminalChat, show, speaker_block, terminal_reader, wrap

WA_ID = "15550000001"
Reply = list[dict[str, Any]]  # outbox items the tutor "sends" in answer to one learner message


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def buttons(body: str, *pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in pairs]},
        },
    }


def rows(body: str, *triples: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": "Ver temas",
                "sections": [
                    {
                        "title": "Temas",
                        "rows": [{"id": i, "title": t, "description": d} for i, t, d in triples],
                    }
                ],
            },
        },
    }


class ScriptedStack:
    def __init__(self, script: list[Reply], webhook_status: int = 200) -> None:
        self.script = list(script)
        self.webhook_status = webhook_status
        self.outbox: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []

    def add(self, body: dict[str, Any], to: str = WA_ID, kind: str = "message", **extra: Any) -> str:
        wamid = f"wamid.LOCAL{len(self.outbox) + 1}"
        self.outbox.append(
            {"kind": kind, "to": to, "id": wamid, "type": body.get("type"), "body": body, **extra}
        )
        return wamid

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/dev/outbox":
            after = int(request.url.params.get("after", 0))
            return httpx.Response(200, json=[{**i, "seq": n} for n, i in enumerate(self.outbox, 1)][after:])
        if request.url.path == "/dev/simulator/messages" and request.method == "POST":
            self.posted.append(json.loads(request.content))
            if self.webhook_status == 200 and self.script:
                for item in self.script.pop(0):
                    self.add(**item) if "body" in item else self.add(item)
            return httpx.Response(200, json={"wamid": "wamid.SIM1", "webhook_status": self.webhook_status})
        return httpx.Response(404)


def converse(stack: ScriptedStack, lines: list[str], **options: Any) -> str:
    """Run the chat with ``lines`` typed; what the terminal showed."""
    shown: list[str] = []
    typed: Iterator[str] = iter(lines)

    def read() -> str | None:
        line = next(typed, None)
        if line is not None:
            shown.append(PROMPT + line)
        return line

    settings: dict[str, Any] = {"quiet": 0.05, "poll": 0.01, "reply_timeout": 0.3, **options}
    with httpx.Client(base_url="http://stack", transport=httpx.MockTransport(stack.handle)) as client:
        TerminalChat(client, WA_ID, "Ana", read=read, write=shown.append, **settings).run()
    return "\n".join(shown)


def test_the_learner_sees_rendered_text_and_numbered_buttons_and_a_number_sends_the_button_id() -> None:
    stack = ScriptedStack(
        [
            [
                buttons(
                    "🎉 ¡Todo listo! Escribe *practicar* para empezar.\n\n_All set!_",
                    ("cmd:practice", "Practicar"),
                    ("cmd:help", "Ayuda"),
                )
            ],
            [text("¿Cómo se conjuga *estudiar*?")],
        ]
    )
    screen = converse(stack, ["hola", "1"])
    assert f"{SPEAKER}🎉 ¡Todo listo! Escribe practicar para empezar." in screen
    assert f"{INDENT}All set!" in screen
    assert f"{INDENT}1) Practicar  2) Ayuda" in screen
    assert "*" not in screen
    assert "_" not in screen
    assert stack.posted[0] == {"wa_id": WA_ID, "name": "Ana", "type": "text", "text": "hola"}
    assert stack.posted[1] == {
        "wa_id": WA_ID,
        "name": "Ana",
        "type": "button_reply",
        "id": "cmd:practice",
        "title": "Practicar",
        "context_id": "wamid.LOCAL1",  # in reply to the message that offered the button
    }
    assert f"{SPEAKER}¿Cómo se conjuga estudiar?" in screen


def test_list_rows_are_numbered_with_descriptions_and_a_number_sends_a_list_reply() -> None:
    stack = ScriptedStack(
        [[rows("Elige un tema:", ("t:saludos", "Saludos", "hola y adiós"), ("t:comida", "Comida", ""))], []]
    )
    screen = converse(stack, ["temas", "2"])
    assert f"{INDENT}☰ Ver temas\n{INDENT}1) Saludos — hola y adiós\n{INDENT}2) Comida" in screen
    assert stack.posted[1] == {
        "wa_id": WA_ID,
        "name": "Ana",
        "type": "list_reply",
        "id": "t:comida",
        "title": "Comida",
        "context_id": "wamid.LOCAL1",
    }


def test_numbers_without_a_matching_choice_are_sent_as_text() -> None:
    """Bad input: a number past the last button, and a number after a turn that offered no choices."""
    stack = ScriptedStack([[buttons("¿Seguimos?", ("yes", "Sí"))], [text("¿Cuántos hermanos tienes?")], []])
    converse(stack, ["hola", "2", "1"])
    assert stack.posted[1]["type"] == "text"
    assert stack.posted[1]["text"] == "2"
    # The turn after "2" offered no choices: "1" answers the question as text, not the old button.
    assert stack.posted[2] == {"wa_id": WA_ID, "name": "Ana", "type": "text", "text": "1"}


def test_a_plain_message_after_the_buttons_in_the_same_turn_keeps_them() -> None:
    stack = ScriptedStack(
        [[buttons("¿Practicamos?", ("go", "Vamos")), text("Consejo: escribe despacio.")], []]
    )
    converse(stack, ["hola", "1"])
    assert stack.posted[1]["type"] == "button_reply"
    assert stack.posted[1]["id"] == "go"


def test_media_are_one_line_placeholders_named_after_their_upload() -> None:
    stack = ScriptedStack(
        [
            [
                {
                    "body": {"mime_type": "image/png", "size": 10, "filename": "progreso.png"},
                    "kind": "media_upload",
                    "to": None,
                    "id": "5551",  # the upload's media id (the emulator's item names no recipient)
                },
                {"type": "image", "image": {"id": "5551", "caption": "Tu *semana*"}},
                {"type": "audio", "audio": {"id": "77", "voice": True}},
                {"type": "document", "document": {"id": "78", "filename": "mis-datos.json"}},
                {"type": "image", "image": {"id": "79"}},
            ]
        ]
    )
    screen = converse(stack, ["progreso"])
    assert f"{SPEAKER}[imagen: progreso.png]\n{INDENT}Tu semana" in screen
    assert f"{SPEAKER}[nota de voz]" in screen
    assert f"{SPEAKER}[documento: mis-datos.json]" in screen
    assert f"{SPEAKER}[imagen]" in screen  # no upload seen: no name


def test_messages_to_other_learners_and_earlier_ones_are_not_shown() -> None:
    stack = ScriptedStack([[{"body": text("para Luis"), "to": "15550000999"}, text("para Ana")]])
    stack.add(text("de una sesión anterior"))
    screen = converse(stack, ["hola"])
    assert "para Ana" in screen
    assert "para Luis" not in screen
    assert "sesión anterior" not in screen


def test_a_reply_that_comes_late_is_shown_before_the_next_prompt() -> None:
    stack = ScriptedStack([[]])
    shown: list[str] = []
    lines = iter(["hola"])

    def read() -> str | None:
        line = next(lines, None)
        if line is None and not any("llegó tarde" in s for s in shown):
            stack.add(text("llegó tarde"))  # the tutor answers while the learner is at the prompt
            return ""
        return line

    with httpx.Client(base_url="http://stack", transport=httpx.MockTransport(stack.handle)) as client:
        TerminalChat(
            client, WA_ID, "Ana", read=read, write=shown.append, quiet=0.05, poll=0.01, reply_timeout=0.1
        ).run()
    assert any(s.startswith("(Sin respuesta en 0.1 s") for s in shown)
    assert f"{SPEAKER}llegó tarde" in shown


def test_an_undelivered_message_is_said_in_spanish_and_english() -> None:
    """Fault: the webhook refused the simulated message (a signature mismatch answers 401)."""
    screen = converse(ScriptedStack([[text("no llega")]], webhook_status=401), ["hola"])
    assert "(Tu mensaje no llegó: el servidor local respondió 401." in screen
    assert "(Your message did not arrive: the local server answered 401." in screen
    assert "no llega" not in screen


def test_colour_on_a_terminal_styles_bold_and_the_choice_numbers() -> None:
    stack = ScriptedStack([[buttons("Soy *Espaluz*", ("a", "Uno"))]])
    screen = converse(stack, ["hola"], color=True)
    assert "Soy \x1b[1mEspaluz\x1b[22m" in screen
    assert "\x1b[1m1)\x1b[22m Uno" in screen


def test_a_url_button_shows_its_label_and_address() -> None:
    item = {
        "id": "w1",
        "body": {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Hazte *Plus*"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "Pagar", "url": "http://127.0.0.1:8765/checkout/abc"},
                },
            },
        },
    }
    shown = show(item, color=False)
    assert shown.text == "Hazte Plus\n🔗 Pagar: http://127.0.0.1:8765/checkout/abc"
    assert shown.choices == ()


def test_long_lines_wrap_under_the_speaker_by_visible_width() -> None:
    """ANSI codes take no columns and emoji take two, so styled text wraps where plain text would."""
    assert wrap("uno dos tres cuatro", 9) == ["uno dos", "tres", "cuatro"]
    assert wrap("\x1b[1muno\x1b[22m dos tres", 7) == ["\x1b[1muno\x1b[22m dos", "tres"]
    assert wrap("🎉🎉🎉 a", 6) == ["🎉🎉🎉", "a"]
    assert speaker_block("uno dos tres\ncuatro", width=len(SPEAKER) + 7) == (
        f"{SPEAKER}uno dos\n{INDENT}tres\n{INDENT}cuatro"
    )


@pytest.mark.parametrize(("stdin", "expected"), [("hola\n\n1\n", ["hola\n", "\n", "1\n", None])])
def test_piped_input_is_echoed_after_the_prompt(stdin: str, expected: list[str | None]) -> None:
    """Without a terminal, the typed line is shown after ``tú>`` so a transcript reads as a chat."""
    shown: list[str] = []
    read: Callable[[], str | None] = terminal_reader(io.StringIO(stdin), shown.append)
    assert [read() for _ in expected] == expected
    assert shown == [f"{PROMPT}hola", PROMPT, f"{PROMPT}1"]


def test_a_stack_that_stops_answering_ends_the_chat_with_one_line() -> None:
    """Fault: the local stack went away mid-conversation (connection refused)."""
    stack = ScriptedStack([])

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError("connection refused", request=request)
        return stack.handle(request)

    shown: list[str] = []
    lines = iter(["hola", "otra"])
    with httpx.Client(base_url="http://stack", transport=httpx.MockTransport(handle)) as client:
        TerminalChat(client, WA_ID, "Ana", read=lambda: next(lines, None), write=shown.append).run()
    assert shown[-1].startswith("(Se perdió la conexión con Espaluz")
    assert next(lines) == "otra"  # nothing more was read
