"""Outgoing WhatsApp messages, checked against Meta's limits before they are sent.

A message that breaks a limit raises ``MessageLimitError`` here, with the rule named, instead of costing
a round trip and a 400 from the Graph API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20


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
class Reply:
    """One tutor message: text, plus at most one interactive element (buttons or a list)."""

    text: str
    buttons: tuple[Button, ...] = ()
    list_button: str = ""
    rows: tuple[ListRow, ...] = ()
    reply_to: str | None = None

    def payload(self) -> dict[str, Any]:
        """The Graph API body without the recipient fields."""
        if self.buttons and self.rows:
            raise MessageLimitError("a message carries buttons or a list, not both")
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        if self.reply_to:
            body["context"] = {"message_id": self.reply_to}
        if self.buttons:
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
