"""Typed models of the WhatsApp Cloud API webhook (``field: messages``).

The models are tolerant: unknown fields are kept (``extra="allow"``) and unknown message types parse as
``Message`` with their raw sub-object, so a payload Meta extends tomorrow still reaches the tutor. Phone
numbers are optional: since 2026 a user may be known only by a business-scoped user id (BSUID,
``user_id`` / ``from_user_id``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Metadata(_Model):
    display_phone_number: str = ""
    phone_number_id: str


class Profile(_Model):
    name: str = ""
    username: str | None = None


class Contact(_Model):
    profile: Profile = Profile()
    wa_id: str | None = None
    user_id: str | None = None


class Text(_Model):
    body: str


class ButtonReply(_Model):
    id: str
    title: str = ""


class ListReply(_Model):
    id: str
    title: str = ""
    description: str | None = None


class Interactive(_Model):
    type: str
    button_reply: ButtonReply | None = None
    list_reply: ListReply | None = None


class TemplateButton(_Model):
    """A quick-reply button of a template (``type: button``)."""

    payload: str = ""
    text: str = ""


class Media(_Model):
    id: str
    mime_type: str | None = None
    sha256: str | None = None
    voice: bool | None = None
    caption: str | None = None
    filename: str | None = None


class Context(_Model):
    id: str | None = None
    from_: str | None = Field(default=None, alias="from")


class Message(_Model):
    """One inbound message. ``type`` names the sub-object that carries the content."""

    id: str
    timestamp: str = "0"
    type: str
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    context: Context | None = None
    text: Text | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    audio: Media | None = None
    image: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None


class StatusError(_Model):
    code: int
    title: str = ""
    message: str | None = None


class Status(_Model):
    """Delivery state of a message we sent. Statuses never start a tutor turn."""

    id: str
    status: Literal["sent", "delivered", "read", "played", "failed", "deleted", "warning"] | str
    timestamp: str = "0"
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    errors: list[StatusError] = []


class Value(_Model):
    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[Message] = []
    statuses: list[Status] = []
    errors: list[dict[str, Any]] = []


class Change(_Model):
    field: str
    value: Value | dict[str, Any]


class Entry(_Model):
    id: str
    changes: list[Change] = []


class WebhookPayload(_Model):
    object: str
    entry: list[Entry] = []


def message_text(message: Message) -> str:
    """The learner-visible text of a message: typed text, a button title, or a media caption."""
    if message.text is not None:
        return message.text.body
    if message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return reply.title if reply is not None else ""
    if message.button is not None:
        return message.button.text
    for media in (message.image, message.video, message.document):
        if media is not None and media.caption:
            return media.caption
    return ""


def reply_id(message: Message) -> str | None:
    """The id of the button or list row the learner chose, if this message is such a choice."""
    if message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return reply.id if reply is not None else None
    if message.button is not None:
        return message.button.payload or None
    return None
