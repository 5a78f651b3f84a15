"""Typed models of the WhatsApp Cloud API webhook (``messages``, ``user_preferences``, ``user_id_update``).

The models are tolerant: unknown fields are kept (``extra="allow"``) and unknown message types parse as
``Message`` with their raw sub-object (``kind`` is then ``MessageKind.OTHER``), so a payload Meta extends
tomorrow still reaches the tutor. Every model is frozen: an update is a fact, not a draft.

Identity: since 2026 a user may be known only by a business-scoped user id (BSUID: ``user_id`` on contacts
and preferences, ``from_user_id`` on messages, ``recipient_user_id`` on statuses), optionally with a
parent BSUID (``parent_user_id``) for linked business portfolios. The phone number (``wa_id`` / ``from``)
is optional. ``Sender`` resolves both; the BSUID wins when present.

Privacy: these objects carry phone numbers, BSUIDs and message text. Never log them; log wamids.

Poison-proof (issue 14). Meta does not retry a webhook we answered 200, and retries a 5xx for days, so a
payload must neither be refused whole for one bad item nor carry data that fails later in the tutor, where
the message would reach the dead-letter queue without a word to the learner. The rules, applied here, at
the model boundary, so that every consumer (the webhook, the tutor, a redrive) reads clean data:

- Invalid, skipped on its own: an item of ``entry``, ``changes``, ``contacts``, ``messages``,
  ``statuses``, ``user_preferences`` or ``user_id_update`` that does not validate (a message without
  ``id`` or ``type``, a status without ``id``, a list where an object belongs...). It is logged by field
  and index, never by content (``webhook item skipped``); its siblings are kept.
- Tolerated, coerced: ``null`` for any field is read as the field being absent (its default), so a null
  ``text.body`` is a text with an empty body, which the tutor answers (skipping it would leave the
  learner unanswered); a timestamp as a JSON number or string, and one that no ``datetime`` can hold
  (< 0, >= year 10000, e.g. 1e13, or not a number) becomes ``"0"``, which the tutor reads as "use the
  receive time" (``_sent_at``).
- Sanitised (``clean_text``, one function for every string, keys included): NUL removed (Postgres
  ``text`` refuses it: a NUL in the profile name silenced every message of that learner), lone
  surrogates replaced by U+FFFD (not encodable as UTF-8: psycopg, Redis and the queue refuse them); ids
  (wamids, phone numbers, BSUIDs, phone number ids) over ``MAX_ID_CHARS`` replaced by a digest
  (``bounded_id``), well under Postgres's B-tree row limit (2,704 bytes) for the unique and primary keys
  on them. Meta's ids are under 100 characters, so real data never changes.
- Refused: a document nested deeper than ``MAX_DEPTH`` (``TooDeep``; the webhook answers 400). Meta's
  payloads nest about 12 levels; the tutor's JSON parser stops at about 200, so a message accepted deeper
  than that could never be read back.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

# The text hygiene both webhooks share; re-exported, as the rules below are stated in their terms.
from espaluz.httpapi import MAX_DEPTH as MAX_DEPTH
from espaluz.httpapi import TooDeep as TooDeep
from espaluz.httpapi import clean_document as clean_document
from espaluz.httpapi import clean_text as clean_text

logger = logging.getLogger(__name__)

# A BSUID: an ISO country code, a dot, then letters, digits and dots ("US.1349...", "US.ENT.1181...").
_CHANGED_FROM = re.compile(r"changed from ([A-Z]{2}\.[A-Za-z0-9.]*[A-Za-z0-9]) to ")

MAX_ID_CHARS = 256  # at most 1,024 bytes in UTF-8: far below Postgres's 2,704-byte B-tree row limit
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a ``datetime`` can hold
_LOC_PART = re.compile(r"[A-Za-z_]{1,64}")


def bounded_id(value: str) -> str:
    """``value`` when it has at most ``MAX_ID_CHARS`` characters, else a stable digest of it: the same
    over-long id always maps to the same short one, so deduplication and grouping still hold."""
    if len(value) <= MAX_ID_CHARS:
        return value
    return "sha256." + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def unix_seconds(value: Any) -> int:
    """A timestamp as whole Unix seconds; 0 ("unknown: use the receive time") when it is not a number
    (booleans included) or no ``datetime`` can hold it."""
    if isinstance(value, bool):
        return 0
    try:
        seconds = float(value) if isinstance(value, str) else value
        if not isinstance(seconds, int | float) or not math.isfinite(seconds):
            return 0
    except (ValueError, OverflowError):
        return 0
    return int(seconds) if 0 <= seconds <= _MAX_SECONDS else 0


def _timestamp_text(value: Any) -> str:
    return str(unix_seconds(value))


# An id we key by (a wamid, a phone number, a BSUID): clean and bounded.
Id = Annotated[str, AfterValidator(bounded_id)]
# Meta sends message and status timestamps as strings of Unix seconds.
Timestamp = Annotated[str, BeforeValidator(_timestamp_text)]
# Preferences and identity updates carry them as integers.
UnixSeconds = Annotated[int, BeforeValidator(unix_seconds)]


def _error_summary(exc: ValidationError) -> list[str]:
    """Where an item failed and why, by field name and error type only: an error message may quote the
    input, and the input is personal data."""
    out = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(
            str(p) if isinstance(p, int) or _LOC_PART.fullmatch(str(p)) else "?" for p in error["loc"]
        )
        out.append(f"{loc}:{error['type']}")
    return out[:5]


def _each_on_its_own(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Validate a list item by item: an invalid item is logged and dropped, its siblings kept. ``null``
    reads as an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        return handler(value)
    kept: list[Any] = []
    for index, item in enumerate(value):
        try:
            kept.extend(handler([item]))
        except ValidationError as exc:
            logger.warning(
                "webhook item skipped",
                extra={"field": info.field_name, "index": index, "errors": _error_summary(exc)},
            )
    return kept


class _Model(BaseModel):
    """The base of every webhook model: tolerant (extra fields kept), frozen, and reading ``null`` as
    "absent" so that an optional field sent as null takes its default instead of failing its message."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(v is None for v in data.values()):
            return {k: v for k, v in data.items() if v is not None}
        return data


class Metadata(_Model):
    display_phone_number: str = ""
    phone_number_id: Id


class Profile(_Model):
    name: str = ""
    username: str | None = None


class Contact(_Model):
    """The sender of the messages in the same ``value`` (not a shared contact card: see SharedContact)."""

    profile: Profile = Profile()
    wa_id: Id | None = None
    user_id: Id | None = None
    parent_user_id: Id | None = None


# --- message sub-objects ---------------------------------------------------------------------------


class Text(_Model):
    body: str = ""  # a null or missing body is an empty text (see the module docstring)


class ButtonReply(_Model):
    id: str
    title: str = ""


class ListReply(_Model):
    id: str
    title: str = ""
    description: str | None = None


class FlowReply(_Model):
    """A WhatsApp Flow's answer (``interactive.type == "nfm_reply"``); ``response_json`` is a JSON string."""

    name: str | None = None
    body: str | None = None
    response_json: str | None = None


class Interactive(_Model):
    type: str
    button_reply: ButtonReply | None = None
    list_reply: ListReply | None = None
    nfm_reply: FlowReply | None = None


class TemplateButton(_Model):
    """A quick-reply button of a template (``type: button``)."""

    payload: str = ""
    text: str = ""


class Media(_Model):
    """Audio, image, video, document or sticker. Fetch the bytes by ``id`` (the URL Meta gives for an id is
    valid for 5 minutes and needs the bearer token). ``voice`` is true for a recorded voice note."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    voice: bool | None = None
    animated: bool | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None


class Location(_Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactName(_Model):
    formatted_name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    prefix: str | None = None
    suffix: str | None = None


class ContactPhone(_Model):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class ContactEmail(_Model):
    email: str | None = None
    type: str | None = None


class ContactOrg(_Model):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class ContactUrl(_Model):
    url: str | None = None
    type: str | None = None


class ContactAddress(_Model):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    type: str | None = None


class SharedContact(_Model):
    """A contact card the learner shared (``type: contacts``). Full of third parties' personal data."""

    name: ContactName = ContactName()
    phones: list[ContactPhone] = []
    emails: list[ContactEmail] = []
    org: ContactOrg | None = None
    urls: list[ContactUrl] = []
    addresses: list[ContactAddress] = []
    birthday: str | None = None


class Reaction(_Model):
    """A reaction to ``message_id``; an absent or empty ``emoji`` means the reaction was removed."""

    message_id: Id
    emoji: str | None = None

    @property
    def removed(self) -> bool:
        return not self.emoji


class Referral(_Model):
    """Where the conversation came from: a click-to-WhatsApp ad or post."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


class ErrorData(_Model):
    details: str | None = None


class WebhookError(_Model):
    """One of Meta's errors (e.g. 131051 unsupported message type, 131047 outside the 24-hour window)."""

    code: int
    title: str = ""
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


# Kept for callers of the first version of this module.
StatusError = WebhookError


class SystemInfo(_Model):
    """``type: system``: the user's identifiers changed.

    ``user_changed_number``: ``wa_id`` (and possibly ``user_id``) carry the new identifiers, the message's
    ``from`` the old number. ``user_changed_user_id``: ``user_id`` (and ``parent_user_id``) carry the new
    BSUID; no phone number is included, and the message may have no ``from`` at all.
    """

    type: str = ""
    body: str = ""
    wa_id: Id | None = None
    user_id: Id | None = None
    parent_user_id: Id | None = None
    previous_user_id: Id | None = None

    @property
    def previous_bsuid(self) -> str | None:
        """The BSUID replaced by a ``user_changed_user_id``, when the notification names it: the
        ``previous_user_id`` field where present, else the first id of Meta's "changed from A to B" body.
        None when neither says; the ``user_id_update`` webhook is the authoritative link."""
        if self.type != "user_changed_user_id":
            return None
        if self.previous_user_id:
            return self.previous_user_id
        match = _CHANGED_FROM.search(self.body)
        return match.group(1) if match and match.group(1) != self.user_id else None


class Context(_Model):
    id: Id | None = None
    from_: Id | None = Field(default=None, alias="from")
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class MessageKind(StrEnum):
    """What a message is, as the tutor sees it (finer than Meta's ``type``)."""

    TEXT = "text"
    VOICE = "voice"  # an audio message recorded as a voice note (``audio.voice`` true)
    AUDIO = "audio"  # an audio file
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    UNREACTION = "unreaction"  # a reaction removed (emoji absent or empty)
    BUTTON_REPLY = "button_reply"
    LIST_REPLY = "list_reply"
    FLOW_REPLY = "flow_reply"
    TEMPLATE_BUTTON = "template_button"  # quick-reply button of a template (``type: button``)
    UNSUPPORTED = "unsupported"  # Meta could not pass the content on (error 131051)
    SYSTEM = "system"
    OTHER = "other"  # a type this module does not know (order, request_welcome, tomorrow's types)


_SIMPLE_KINDS = {
    "text": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "location": MessageKind.LOCATION,
    "contacts": MessageKind.CONTACTS,
    "button": MessageKind.TEMPLATE_BUTTON,
    "unsupported": MessageKind.UNSUPPORTED,
    "system": MessageKind.SYSTEM,
}


class Message(_Model):
    """One inbound message. ``type`` names the sub-object that carries the content."""

    id: Id
    timestamp: Timestamp = "0"
    type: str
    from_: Id | None = Field(default=None, alias="from")
    from_user_id: Id | None = None
    from_parent_user_id: Id | None = None
    context: Context | None = None
    referral: Referral | None = None
    text: Text | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    audio: Media | None = None
    image: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] | None = None
    reaction: Reaction | None = None
    system: SystemInfo | None = None
    errors: list[WebhookError] = []

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        """Clean on its own too: the tutor validates a message from its queue envelope, which may have
        been written before these rules (a redrive from the dead-letter queue)."""
        return clean_document(data)

    @property
    def kind(self) -> MessageKind:
        """What the learner sent, in the tutor's terms (a voice note apart from an audio file, a removed
        reaction apart from a reaction, the kind of interactive reply)."""
        t = self.type
        if t == "audio":
            return MessageKind.VOICE if self.audio is not None and self.audio.voice else MessageKind.AUDIO
        if t == "reaction":
            removed = self.reaction is None or self.reaction.removed
            return MessageKind.UNREACTION if removed else MessageKind.REACTION
        if t == "interactive" and self.interactive is not None:
            if self.interactive.button_reply is not None:
                return MessageKind.BUTTON_REPLY
            if self.interactive.list_reply is not None:
                return MessageKind.LIST_REPLY
            if self.interactive.nfm_reply is not None:
                return MessageKind.FLOW_REPLY
            return MessageKind.OTHER
        return _SIMPLE_KINDS.get(t, MessageKind.OTHER)


# --- statuses of messages we sent ------------------------------------------------------------------


class ConversationOrigin(_Model):
    type: str = ""


class Conversation(_Model):
    id: str = ""
    expiration_timestamp: str | None = None
    origin: ConversationOrigin | None = None


class Pricing(_Model):
    billable: bool | None = None
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None


class Status(_Model):
    """Delivery state of a message we sent. Statuses never start a tutor turn. ``played`` means the
    learner played a voice note we sent; ``failed`` carries Meta's error in ``errors``."""

    id: Id
    status: Literal["sent", "delivered", "read", "played", "failed", "deleted", "warning"] | str
    timestamp: Timestamp = "0"
    recipient_id: Id | None = None
    recipient_user_id: Id | None = None
    recipient_parent_user_id: Id | None = None
    biz_opaque_callback_data: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: list[WebhookError] = []

    @property
    def error_code(self) -> int | None:
        return self.errors[0].code if self.errors else None


# --- other fields ----------------------------------------------------------------------------------


class UserPreference(_Model):
    """``field: user_preferences``: the user stopped (``value == "stop"``) or resumed marketing messages."""

    wa_id: Id | None = None
    user_id: Id | None = None
    parent_user_id: Id | None = None
    detail: str = ""
    category: str = ""
    value: str = ""
    timestamp: UnixSeconds = 0  # 0: unknown (the webhook then records the receive time)


class UserIdChange(_Model):
    previous: Id | None = None
    current: Id | None = None


class UserIdUpdate(_Model):
    """``field: user_id_update``: a user's BSUID was replaced; links the previous and the current value."""

    wa_id: Id | None = None
    detail: str = ""
    user_id: UserIdChange = UserIdChange()
    parent_user_id: UserIdChange | None = None
    timestamp: UnixSeconds = 0


class Value(_Model):
    messaging_product: str = "whatsapp"
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[Message] = []
    statuses: list[Status] = []
    user_preferences: list[UserPreference] = []
    user_id_update: list[UserIdUpdate] = []
    errors: list[dict[str, Any]] = []

    _items = field_validator(
        "contacts", "messages", "statuses", "user_preferences", "user_id_update", "errors", mode="wrap"
    )(_each_on_its_own)


class Change(_Model):
    field: str
    value: Value | dict[str, Any]


class Entry(_Model):
    id: str
    changes: list[Change] = []

    _items = field_validator("changes", mode="wrap")(_each_on_its_own)


class WebhookPayload(_Model):
    """A whole webhook delivery. Validating one cleans it first (``clean_document``): NUL and lone
    surrogates gone, nesting beyond ``MAX_DEPTH`` refused (a ``ValidationError`` here; the webhook checks
    the depth before and answers 400)."""

    object: str
    entry: list[Entry] = []

    _items = field_validator("entry", mode="wrap")(_each_on_its_own)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        return clean_document(data)


# --- identity --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message: BSUID and/or phone number (at least one is set when ``known``)."""

    bsuid: str | None = None
    wa_id: str | None = None
    parent_bsuid: str | None = None
    name: str = ""
    username: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.bsuid or self.wa_id)

    @property
    def key_material(self) -> str:
        """What the learner key is derived from: the BSUID when present, else the phone number."""
        return f"bsuid:{self.bsuid}" if self.bsuid else f"wa:{self.wa_id}"


def contact_for(contacts: list[Contact], message: Message) -> Contact | None:
    """The sender's entry in ``value.contacts`` (the only one when there is just one)."""
    for c in contacts:
        if (message.from_user_id and c.user_id == message.from_user_id) or (
            message.from_ and c.wa_id == message.from_
        ):
            return c
    return contacts[0] if len(contacts) == 1 else None


def sender_of(value: Value, message: Message) -> Sender:
    """Resolve the sender of ``message``: the message's own ids first, then its contact entry; for system
    messages without a sender (``user_changed_user_id``), the new ids the system object carries."""
    contact = contact_for(value.contacts, message)
    bsuid = message.from_user_id or (contact.user_id if contact else None)
    wa_id = message.from_ or (contact.wa_id if contact else None)
    parent = message.from_parent_user_id or (contact.parent_user_id if contact else None)
    if not (bsuid or wa_id) and message.system is not None:
        bsuid, wa_id = message.system.user_id, message.system.wa_id
        parent = parent or message.system.parent_user_id
    return Sender(
        bsuid=bsuid or None,
        wa_id=wa_id or None,
        parent_bsuid=parent or None,
        name=contact.profile.name if contact else "",
        username=contact.profile.username if contact else None,
    )


# --- accessors the tutor uses ----------------------------------------------------------------------


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


def media_of(message: Message) -> Media | None:
    """The media object of an audio, image, video, document or sticker message (of its ``type``)."""
    by_type = {
        "audio": message.audio,
        "image": message.image,
        "video": message.video,
        "document": message.document,
        "sticker": message.sticker,
    }
    return by_type.get(message.type)


def media_id(message: Message) -> str | None:
    """The id to download the message's media with (valid for a limited time; download at once)."""
    media = media_of(message)
    return media.id if media is not None else None


def is_voice_note(message: Message) -> bool:
    """True for a voice note recorded in WhatsApp (not an audio file the learner attached)."""
    return message.kind is MessageKind.VOICE


def reaction_of(message: Message) -> tuple[str, str | None] | None:
    """``(wamid reacted to, emoji)`` for a reaction; the emoji is None when the reaction was removed."""
    if message.reaction is None:
        return None
    return message.reaction.message_id, message.reaction.emoji or None


def location_of(message: Message) -> Location | None:
    return message.location


def error_codes(message: Message) -> list[int]:
    """Meta's error codes on the message (131051 for an unsupported message type)."""
    return [e.code for e in message.errors]
