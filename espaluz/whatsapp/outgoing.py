"""Outgoing WhatsApp messages, checked against Meta's limits before they are sent.

A message that breaks a limit raises ``MessageLimitError`` here, with the rule named, instead of costing
a round trip and a 400 from the Graph API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
MAX_URL_BUTTON_TEXT = 20
MAX_CAPTION = 1024
MAX_FILENAME = 240
MAX_TEMPLATE_PARAM = 1024
MAX_VOICE_BYTES = 512 * 1024  # larger OGG/Opus files arrive as a plain audio file, not a voice note
VOICE_MIME = "audio/ogg"


class MessageLimitError(ValueError):
    """The message breaks one of Meta's documented limits."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a message goes: a phone number (``to``) when known, else a BSUID (``recipient``)."""

    wa_id: str | None = None
    bsuid: str | None = None

    def fields(self) -> dict[str, str]:
        if self.wa_id:
            return {"to": self.wa_id}
        if self.bsuid:
            return {"recipient": self.bsuid}
        raise MessageLimitError("a message needs a wa_id or a BSUID to go to")


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class UrlButton:
    """A call-to-action URL button (interactive ``cta_url``): checkout and portal links."""

    display_text: str
    url: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One tutor message: text, plus at most one interactive element (buttons, a list or a URL button)."""

    text: str
    buttons: tuple[Button, ...] = ()
    list_button: str = ""
    rows: tuple[ListRow, ...] = ()
    url_button: UrlButton | None = None
    reply_to: str | None = None

    @property
    def interactive(self) -> bool:
        return bool(self.buttons or self.rows or self.url_button)

    def payload(self) -> dict[str, Any]:
        """The Graph API body without the recipient fields."""
        if sum(map(bool, (self.buttons, self.rows, self.url_button))) > 1:
            raise MessageLimitError("a message carries one interactive element: buttons, a list or a URL")
        body = _envelope(self.reply_to)
        if self.url_button is not None:
            if not self.url_button.url.startswith(("https://", "http://")):
                raise MessageLimitError("a URL button needs an http(s) URL")
            body["type"] = "interactive"
            body["interactive"] = {
                "type": "cta_url",
                "body": {"text": _check_len(self.text, MAX_INTERACTIVE_BODY, "interactive body")},
                "action": {
                    "name": "cta_url",
                    "parameters": {
                        "display_text": _check_len(
                            self.url_button.display_text, MAX_URL_BUTTON_TEXT, "URL button text"
                        ),
                        "url": self.url_button.url,
                    },
                },
            }
        elif self.buttons:
            body["type"] = "interactive"
            body["interactive"] = {
                "type": "button",
                "body": {"text": _check_len(self.text, MAX_INTERACTIVE_BODY, "interactive body")},
                "action": {
                    "buttons": [_button(b) for b in _check_count(self.buttons, MAX_BUTTONS, "buttons")]
                },
            }
        elif self.rows:
            body["type"] = "interactive"
            body["interactive"] = {
                "type": "list",
                "body": {"text": _check_len(self.text, MAX_INTERACTIVE_BODY, "interactive body")},
                "action": {
                    "button": _check_len(self.list_button or "Ver opciones", MAX_LIST_BUTTON, "list button"),
                    "sections": [
                        {
                            "title": "Opciones",
                            "rows": [_row(r) for r in _check_count(self.rows, MAX_LIST_ROWS, "list rows")],
                        }
                    ],
                },
            }
        else:
            body["type"] = "text"
            body["text"] = {"body": _check_len(self.text, MAX_TEXT, "text"), "preview_url": False}
        return body


@dataclass(frozen=True, slots=True)
class Image:
    """An image by uploaded media id or public HTTPS link, with an optional caption (progress charts)."""

    media_id: str = ""
    link: str = ""
    caption: str = ""
    reply_to: str | None = None

    def payload(self) -> dict[str, Any]:
        body = _envelope(self.reply_to)
        body["type"] = "image"
        body["image"] = _media_ref(self.media_id, self.link)
        if self.caption:
            body["image"]["caption"] = _check_len(self.caption, MAX_CAPTION, "caption")
        return body


@dataclass(frozen=True, slots=True)
class VoiceNote:
    """An OGG/Opus voice note by uploaded media id (``voice: true``). The 512 KB limit is checked when the
    audio is uploaded (``check_voice_note``), since the id alone does not carry the size."""

    media_id: str
    reply_to: str | None = None

    def payload(self) -> dict[str, Any]:
        body = _envelope(self.reply_to)
        body["type"] = "audio"
        body["audio"] = {**_media_ref(self.media_id, ""), "voice": True}
        return body


@dataclass(frozen=True, slots=True)
class Template:
    """An approved message template: the only kind of message allowed outside the 24-hour window.

    ``body_params`` fill {{1}}, {{2}}... of the body; ``button_payloads`` are the payloads of its
    quick-reply buttons, in order (they come back as the ``button.payload`` of the learner's tap).
    ``marketing`` says whether the template's category is marketing (users can stop those: 131050).
    """

    name: str
    language: str = "es"
    body_params: tuple[str, ...] = ()
    button_payloads: tuple[str, ...] = ()
    marketing: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.body_params)

    def payload(self) -> dict[str, Any]:
        if not self.name:
            raise MessageLimitError("a template needs a name")
        components: list[dict[str, Any]] = []
        if self.body_params:
            components.append(
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": _check_len(p, MAX_TEMPLATE_PARAM, "template parameter")}
                        for p in self.body_params
                    ],
                }
            )
        for index, payload in enumerate(_check_count(self.button_payloads, 10, "template buttons")):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
            )
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if components:
            template["components"] = components
        body = _envelope(None)
        body["type"] = "template"
        body["template"] = template
        return body


@dataclass(frozen=True, slots=True)
class Document:
    """A document by uploaded media id (the learner's data export), with its file name."""

    media_id: str
    filename: str
    caption: str = ""

    def payload(self) -> dict[str, Any]:
        if not self.media_id:
            raise MessageLimitError("a document needs an uploaded media id")
        document: dict[str, Any] = {
            "id": self.media_id,
            "filename": _check_len(self.filename, 240, "filename"),
        }
        if self.caption:
            document["caption"] = _check_len(self.caption, MAX_CAPTION, "caption")
        body = _envelope(None)
        body["type"] = "document"
        body["document"] = document
        return body


Outgoing = Reply | Image | VoiceNote | Template | Document
"""Everything the tutor can send; each has ``payload()`` (the Graph API body without the recipient)."""


class Sendable(Protocol):
    """Anything that renders to a Graph API message body (the recipient fields excepted)."""

    def payload(self) -> dict[str, Any]: ...


def check_voice_note(data: bytes, mime_type: str) -> None:
    """Raise unless ``data`` can go out as a WhatsApp voice note (OGG/Opus, at most 512 KB)."""
    if not mime_type.startswith(VOICE_MIME):
        raise MessageLimitError(f"a voice note must be OGG/Opus ({VOICE_MIME}), not {mime_type}")
    if not data.startswith(b"OggS"):
        raise MessageLimitError("a voice note must be an OGG container")
    if len(data) > MAX_VOICE_BYTES:
        raise MessageLimitError(f"a voice note has {len(data)} bytes; the limit is {MAX_VOICE_BYTES}")


def _envelope(reply_to: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def _media_ref(media_id: str, link: str) -> dict[str, Any]:
    if bool(media_id) == bool(link):
        raise MessageLimitError("media needs exactly one of an uploaded media id or a link")
    if link and not link.startswith("https://"):
        raise MessageLimitError("a media link must be HTTPS")
    return {"id": media_id} if media_id else {"link": link}


def _check_len(value: str, limit: int, what: str) -> str:
    if not value:
        raise MessageLimitError(f"{what} is empty")
    if len(value) > limit:
        raise MessageLimitError(f"{what} has {len(value)} characters; the limit is {limit}")
    return value


def _check_count(items: tuple[Any, ...], limit: int, what: str) -> tuple[Any, ...]:
    if len(items) > limit:
        raise MessageLimitError(f"{len(items)} {what}; the limit is {limit}")
    return items


def _button(b: Button) -> dict[str, Any]:
    return {
        "type": "reply",
        "reply": {"id": b.id, "title": _check_len(b.title, MAX_BUTTON_TITLE, "button title")},
    }


def _row(r: ListRow) -> dict[str, Any]:
    row = {"id": r.id, "title": _check_len(r.title, MAX_ROW_TITLE, "list row title")}
    if r.description:
        row["description"] = _check_len(r.description, MAX_ROW_DESCRIPTION, "list row description")
    return row
