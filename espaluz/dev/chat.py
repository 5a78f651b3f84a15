"""The terminal conversation behind ``espaluz chat``: what the learner types goes to the local stack as a
WhatsApp message (``POST /dev/simulator/messages``, the simulator page's path), and what the tutor sends
(the Graph API emulator's outbox, ``GET /dev/outbox``) is shown as a terminal can show it.

- Text goes through ``espaluz.dev.markup.render``: *bold* and _italics_ as ANSI styles on a terminal, as
  plain words when the output is piped (``color``).
- Reply buttons and list rows are numbered (``1) Practicar  2) Ayuda``); typing a number sends that button
  or row as the simulator page does: a ``button_reply``/``list_reply`` carrying its id and title, in reply
  to the message that offered it. The numbers answer the latest message that offered choices; a new turn
  whose messages offer none clears them, so a number typed then is plain text ("¿cuántos?" "3").
- Images, voice notes, documents and the like are one-line placeholders (``[imagen: progreso.png]``); the
  name comes from the media upload in the outbox when the emulator recorded one.
- After a message is sent, replies are shown as they arrive until none came for ``quiet`` seconds; one that
  comes later is shown before the next prompt.

``espaluz.dev.commands.chat`` wires this to a terminal, a local stack and a log file.
"""

from __future__ import annotations

import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from espaluz.dev.markup import BOLD, ITALIC, RESET_BOLD, RESET_ITALIC, render, sanitize, style

PROMPT = "tú> "
SPEAKER = "espaluz> "
INDENT = " " * len(SPEAKER)
REPLY_TIMEOUT_S = 30.0
QUIET_S = 0.8
POLL_S = 0.1

# Shown to the person at the keyboard (Spanish first, English underneath, like the tutor's texts).
INTRO_ES = "Escribe en español; un número elige una opción; Ctrl-D para salir."
INTRO_EN = "Write in Spanish; a number picks an option; Ctrl-D quits."
NO_REPLY_ES = "(Sin respuesta en {seconds} s; si llega más tarde, aparecerá aquí.)"
NO_REPLY_EN = "(No reply within {seconds} s; if one comes later, it will show here.)"
NOT_DELIVERED_ES = (
    "(Tu mensaje no llegó: el servidor local respondió {status}. Los detalles están en el registro.)"
)
NOT_DELIVERED_EN = (
    "(Your message did not arrive: the local server answered {status}. The log has the details.)"
)
LOST_ES = "(Se perdió la conexión con Espaluz; la conversación termina aquí.)"
LOST_EN = "(The connection to Espaluz was lost; the conversation ends here.)"
MEDIA_NAMES = {
    "image": "imagen",
    "video": "vídeo",
    "document": "documento",
    "sticker": "sticker",
    "location": "ubicación",
    "contacts": "contacto",
    "template": "plantilla",
}
_ANSI_CODE = re.compile("\x1b\\[[0-9;]*m")


def log_path(data_dir: Path) -> Path:
    """Where the chat's log goes: ``<data dir>/logs/chat.log``, or the temporary folder when the data folder
    cannot hold it (a chat with ``--url`` needs no data folder of its own)."""
    path = data_dir / "logs" / "chat.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError:
        return Path(tempfile.gettempdir()) / "espaluz-chat.log"
    return path


def bilingual(es: str, en: str, *, color: bool) -> str:
    """Spanish, then the English in italics underneath."""
    return f"{es}\n{style(en, ITALIC, RESET_ITALIC, color)}"


@dataclass(frozen=True)
class Choice:
    """A reply button or list row the learner can pick by number."""

    kind: str  # "button_reply" or "list_reply", as the simulator's API names them
    id: str
    title: str
    description: str = ""
    context_id: str = ""  # the wamid of the message that offered it

    def spec(self, wa_id: str, name: str) -> dict[str, Any]:
        """The ``/dev/simulator/messages`` body for choosing it (what the page sends on a tap)."""
        spec: dict[str, Any] = {
            "wa_id": wa_id,
            "name": name,
            "type": self.kind,
            "id": self.id,
            "title": self.title,
        }
        if self.description:
            spec["description"] = self.description
        if self.context_id:
            spec["context_id"] = self.context_id
        return spec


@dataclass(frozen=True)
class Shown:
    """One outbox message as the terminal shows it: its text (choices included) and the choices."""

    text: str
    choices: tuple[Choice, ...] = ()


def _number(index: int, color: bool) -> str:
    return style(f"{index})", BOLD, RESET_BOLD, color)


def _placeholder(kind: str, detail: str, color: bool) -> str:
    name = MEDIA_NAMES.get(kind, kind)
    label = f"[{name}: {sanitize(detail)}]" if detail else f"[{name}]"
    return style(label, ITALIC, RESET_ITALIC, color)


def _with_caption(head: str, caption: str, color: bool) -> str:
    return f"{head}\n{render(caption, color=color)}" if caption else head


def show(item: Mapping[str, Any], *, color: bool, media_names: Mapping[str, str] | None = None) -> Shown:
    """How the terminal shows the outbox ``item`` (a message the tutor sent). ``media_names`` maps uploaded
    media ids to their file names, for the placeholders."""
    names = media_names or {}
    body: Mapping[str, Any] = item.get("body") or {}
    kind = str(body.get("type") or item.get("type") or "text")
    if kind == "text":
        return Shown(render(str((body.get("text") or {}).get("body", "")), color=color))
    if kind == "interactive":
        return _interactive(body.get("interactive") or {}, str(item.get("id") or ""), color)
    if kind == "audio":
        audio = body.get("audio") or {}
        return Shown(_placeholder("nota de voz" if audio.get("voice") else "audio", "", color))
    if kind in ("image", "video", "document", "sticker"):
        media = body.get(kind) or {}
        name = str(media.get("filename") or names.get(str(media.get("id") or ""), ""))
        return Shown(_with_caption(_placeholder(kind, name, color), str(media.get("caption") or ""), color))
    if kind == "template":
        template = body.get("template") or {}
        params = [
            str(p.get("text", ""))
            for c in template.get("components") or []
            if c.get("type") == "body"
            for p in c.get("parameters") or []
        ]
        head = _placeholder("template", str(template.get("name") or ""), color)
        return Shown(_with_caption(head, " · ".join(p for p in params if p), color))
    if kind == "reaction":
        return Shown(_placeholder("reacción", str((body.get("reaction") or {}).get("emoji") or ""), color))
    return Shown(_placeholder(kind, "", color))


def _interactive(inter: Mapping[str, Any], wamid: str, color: bool) -> Shown:
    lines: list[str] = []
    header = inter.get("header") or {}
    if header.get("type") == "text" and header.get("text"):
        lines.append(style(render(str(header["text"]), color=color), BOLD, RESET_BOLD, color))
    elif header.get("type"):
        lines.append(_placeholder(str(header["type"]), "", color))
    lines.append(render(str((inter.get("body") or {}).get("text", "")), color=color))
    footer = (inter.get("footer") or {}).get("text")
    if footer:
        lines.append(style(render(str(footer), color=color), ITALIC, RESET_ITALIC, color))
    action = inter.get("action") or {}
    choices: tuple[Choice, ...] = ()
    if inter.get("type") == "button":
        choices = tuple(
            Choice(
                "button_reply", str(b["reply"]["id"]), sanitize(str(b["reply"].get("title", ""))), "", wamid
            )
            for b in action.get("buttons") or []
            if (b.get("reply") or {}).get("id")
        )
        lines.append("  ".join(f"{_number(i, color)} {c.title}" for i, c in enumerate(choices, 1)))
    elif inter.get("type") == "list":
        choices = tuple(
            Choice(
                "list_reply",
                str(row["id"]),
                sanitize(str(row.get("title", ""))),
                sanitize(str(row.get("description", ""))),
                wamid,
            )
            for section in action.get("sections") or []
            for row in section.get("rows") or []
            if row.get("id")
        )
        lines.append(
            style(f"☰ {sanitize(str(action.get('button') or 'Ver opciones'))}", BOLD, RESET_BOLD, color)
        )
        for i, c in enumerate(choices, 1):
            lines.append(f"{_number(i, color)} {c.title}" + (f" — {c.description}" if c.description else ""))
    elif inter.get("type") == "cta_url":
        params = action.get("parameters") or {}
        label = sanitize(str(params.get("display_text") or "Abrir"))
        lines.append(f"🔗 {style(label, BOLD, RESET_BOLD, color)}: {sanitize(str(params.get('url') or ''))}")
    return Shown("\n".join(line for line in lines if line), choices)


def visible_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: ANSI codes take none, wide characters (emoji, CJK) two."""
    plain = _ANSI_CODE.sub("", text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in plain
    )


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns (words longer than that stay whole); ``width`` 0 keeps
    its lines as they are. ANSI codes count as nothing, so styled words wrap where plain ones would."""
    if width <= 0:
        return text.split("\n")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for word in paragraph.split(" "):
            size = visible_width(word)
            if line and used + 1 + size > width:
                lines.append(line)
                line, used = word, size
            else:
                line, used = (f"{line} {word}", used + 1 + size) if line else (word, size)
        lines.append(line)
    return lines


def speaker_block(text: str, *, width: int = 0, color: bool = False) -> str:
    """``text`` after ``espaluz> ``, its later lines indented under the first so the turn reads as one."""
    lines = wrap(text, width - len(INDENT) if width else 0)
    head = style(SPEAKER, BOLD, RESET_BOLD, color)
    return "\n".join([head + lines[0], *((INDENT + line).rstrip() for line in lines[1:])])


class TerminalChat:
    """The conversation loop. ``read()`` returns the learner's next line, or None at the end of input;
    ``write(text)`` shows a block of text (a line break is added); ``on_poll()`` runs on every poll of the
    outbox (the command moves new log handlers to the log file there). ``width`` wraps long lines (0: no
    wrapping). Ctrl-C (KeyboardInterrupt) ends the conversation like the end of input; so does a stack that
    stops answering, with one line that says so."""

    def __init__(
        self,
        client: httpx.Client,
        wa_id: str,
        name: str,
        *,
        read: Callable[[], str | None],
        write: Callable[[str], None],
        color: bool = False,
        width: int = 0,
        on_poll: Callable[[], None] = lambda: None,
        reply_timeout: float = REPLY_TIMEOUT_S,
        quiet: float = QUIET_S,
        poll: float = POLL_S,
    ) -> None:
        self.client = client
        self.wa_id = wa_id
        self.name = name
        self.read = read
        self.write = write
        self.color = color
        self.width = width
        self.on_poll = on_poll
        self.reply_timeout = reply_timeout
        self.quiet = quiet
        self.poll = poll
        self.choices: tuple[Choice, ...] = ()
        self.media_names: dict[str, str] = {}
        self._seen = 0
        self._new_turn = False

    def run(self) -> None:
        self._seen = max((int(i["seq"]) for i in self.client.get("/dev/outbox").json()), default=0)
        self.write(bilingual(INTRO_ES, INTRO_EN, color=self.color))
        try:
            while True:
                self._show_new()  # a reply that came after the last wait
                line = self.read()
                if line is None:
                    break
                line = line.strip()
                if line:
                    self.send(line)
        except KeyboardInterrupt:
            self.write("")
        except httpx.HTTPError:
            self.write(bilingual(LOST_ES, LOST_EN, color=self.color))

    def spec_for(self, line: str) -> dict[str, Any]:
        """What typing ``line`` sends: the numbered choice it names, else the text."""
        if line.isdigit() and 0 < int(line) <= len(self.choices):
            return self.choices[int(line) - 1].spec(self.wa_id, self.name)
        return {"wa_id": self.wa_id, "name": self.name, "type": "text", "text": line}

    def send(self, line: str) -> None:
        """Send ``line`` and show the replies as they come."""
        sent = self.client.post("/dev/simulator/messages", json=self.spec_for(line))
        status = sent.json().get("webhook_status") if sent.is_success else sent.status_code
        if status != 200:
            self.write(
                bilingual(
                    NOT_DELIVERED_ES.format(status=status),
                    NOT_DELIVERED_EN.format(status=status),
                    color=self.color,
                )
            )
            return
        self._new_turn = True
        started = time.monotonic()
        last = None
        while True:
            now = time.monotonic()
            if last is None and now - started > self.reply_timeout:
                seconds = f"{self.reply_timeout:g}"
                self.write(
                    bilingual(
                        NO_REPLY_ES.format(seconds=seconds),
                        NO_REPLY_EN.format(seconds=seconds),
                        color=self.color,
                    )
                )
                return
            if last is not None and now - last > self.quiet:
                return
            if self._show_new():
                last = time.monotonic()
            time.sleep(self.poll)

    def _show_new(self) -> int:
        """Show the messages to this learner that are newer than the last seen; how many there were."""
        self.on_poll()
        shown = 0
        for item in self.client.get("/dev/outbox", params={"after": self._seen}).json():
            self._seen = max(self._seen, int(item["seq"]))
            if item.get("kind") == "media_upload":
                filename = (item.get("body") or {}).get("filename")
                if filename and item.get("id"):
                    self.media_names[str(item["id"])] = str(filename)
                continue
            if item.get("kind") != "message" or item.get("to") != self.wa_id:
                continue
            message = show(item, color=self.color, media_names=self.media_names)
            if message.choices:
                self.choices = message.choices
            elif self._new_turn:
                self.choices = ()
            self._new_turn = False
            self.write(speaker_block(message.text, width=self.width, color=self.color))
            shown += 1
        return shown


def terminal_reader(stdin: TextIO, write: Callable[[str], None]) -> Callable[[], str | None]:
    """``read`` for ``TerminalChat`` from ``stdin``: ``input()`` with its prompt (and line editing) on a
    terminal; from a pipe or file, the line is echoed after the prompt so the transcript reads as a chat."""
    interactive = stdin.isatty()

    def read() -> str | None:
        if interactive:
            try:
                return input(PROMPT)
            except EOFError:
                write("")
                return None
        line = stdin.readline()
        if not line:
            return None
        write(PROMPT + sanitize(line.rstrip("\n")))
        return line

    return read
