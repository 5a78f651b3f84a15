"""The webhook models, case by case: every update type under tests/events/updates/ parses to the kind,
identity and accessor values its manifest (cases.json) states; the models keep fields Meta adds and stay
frozen."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from espaluz.whatsapp.inbound import InboundEnvelope
from espaluz.whatsapp.models import (
    Message,
    MessageKind,
    Status,
    Value,
    WebhookPayload,
    error_codes,
    is_voice_note,
    location_of,
    media_id,
    message_text,
    reaction_of,
    reply_id,
    sender_of,
)
from tests.conftest import stamped

UPDATES = Path(__file__).parent.parent / "events" / "updates"


def load_cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = json.loads((UPDATES / "cases.json").read_text())["cases"]
    return cases


def load_update(name: str) -> dict[str, Any]:
    """An update fixture, its timestamps stamped at run time (``tests.conftest.stamped``)."""
    data: dict[str, Any] = json.loads((UPDATES / name).read_text())
    return stamped(data)


CASES = load_cases()
MESSAGE_CASES = sorted(n for n, c in CASES.items() if c["kind"] == "message")
STATUS_CASES = sorted(n for n, c in CASES.items() if c.get("status"))


def the_value(payload: dict[str, Any]) -> Value:
    parsed = WebhookPayload.model_validate(payload)
    [entry] = parsed.entry
    [change] = entry.changes
    assert isinstance(change.value, Value), "the fixture must parse as a typed value"
    return change.value


def test_every_fixture_has_a_case_and_every_case_a_fixture() -> None:
    """Bad input covered: a fixture added without expectations (or a case left without its file) would
    silently escape the data-driven tests."""
    files = {p.name for p in UPDATES.glob("*.json")} - {"cases.json"}
    assert files == set(CASES)


@pytest.mark.parametrize("name", MESSAGE_CASES)
def test_message_fixture_parses_to_its_kind_identity_and_content(name: str) -> None:
    """Every message type Meta sends (text, voice/audio, media, location, contacts, reactions and
    un-reactions, replies, template buttons, referral, unsupported, system, unknown types) parses to the
    expected kind, sender and accessor values; a wrong mapping would make the tutor answer the wrong
    thing."""
    case = CASES[name]
    value = the_value(load_update(name))
    [message] = value.messages
    assert message.kind == MessageKind(case["message_kind"])
    sender = sender_of(value, message)
    assert (sender.wa_id, sender.bsuid) == (case["wa_id"], case["bsuid"])
    assert sender.parent_bsuid == case.get("parent_bsuid")
    if "username" in case:
        assert sender.username == case["username"]
    assert message_text(message) == case.get("text", "")
    assert reply_id(message) == case.get("reply_id")
    assert media_id(message) == case.get("media_id")
    assert is_voice_note(message) is case.get("voice", False)
    reaction = reaction_of(message)
    assert (list(reaction) if reaction else None) == case.get("reaction")
    location = location_of(message)
    assert ([location.latitude, location.longitude] if location else None) == case.get("location")
    assert error_codes(message) == case.get("errors", [])
    if "referral_source_id" in case:
        assert message.referral is not None
        assert message.referral.source_id == case["referral_source_id"]
        assert message.referral.ctwa_clid


@pytest.mark.parametrize("name", MESSAGE_CASES)
def test_message_survives_the_queue_round_trip(name: str) -> None:
    """The webhook dumps a message into the envelope and the tutor re-validates it: nothing Meta sent,
    including fields this module does not model, may be lost or change meaning on the way."""
    raw = load_update(name)
    [message] = the_value(raw).messages
    dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
    again = Message.model_validate(json.loads(json.dumps(dumped)))
    assert again == message
    assert again.kind == message.kind
    original = raw["entry"][0]["changes"][0]["value"]["messages"][0]
    for key in original:
        assert key in dumped, f"{key} lost in the envelope"


@pytest.mark.parametrize("name", STATUS_CASES)
def test_status_fixture_parses_with_its_error(name: str) -> None:
    """Statuses (sent, delivered, read, played, failed; phone or BSUID recipient) parse with their error
    code, conversation and pricing; a failed status without its code would hide why a reply was lost."""
    expected = CASES[name]["status"]
    [status] = the_value(load_update(name)).statuses
    assert (status.id, status.status) == (expected["wamid"], expected["status"])
    assert str(status.error_code or 0) == expected["error"]


def test_failed_status_carries_title_details_and_pricing() -> None:
    """A failed status: the error's title, message and error_data.details are kept for the tutor's error
    path; sent statuses keep conversation and pricing."""
    [failed] = the_value(load_update("status_failed.json")).statuses
    [error] = failed.errors
    assert error.code == 131047
    assert error.title == "Re-engagement message"
    assert error.error_data is not None
    assert "24 hours" in (error.error_data.details or "")
    [sent] = the_value(load_update("status_sent.json")).statuses
    assert sent.conversation is not None
    assert sent.conversation.origin is not None
    assert sent.conversation.origin.type == "service"
    assert sent.pricing is not None
    assert sent.pricing.category == "service"
    [bsuid_only] = the_value(load_update("status_bsuid_only.json")).statuses
    assert bsuid_only.recipient_id is None
    assert bsuid_only.recipient_user_id == "US.13491208655300000001"


def test_contacts_card_is_typed() -> None:
    """A shared contact card: name, phones, emails, org, urls and addresses are typed (third parties'
    data the tutor must not mistake for the learner's)."""
    [message] = the_value(load_update("contacts.json")).messages
    assert message.contacts is not None
    [card] = message.contacts
    assert card.name.formatted_name == "Carmen Ejemplar"
    assert [p.wa_id for p in card.phones] == ["15550002468"]
    assert [e.email for e in card.emails] == ["carmen.ejemplo@example.com"]
    assert card.org is not None
    assert card.org.company == "Academia Ficticia"
    assert card.urls[0].url == "https://example.com/carmen"
    assert card.addresses[0].country_code == "ES"


def test_system_messages_carry_the_new_identifiers() -> None:
    """Identity changes: a changed number keeps the old number as sender and the new one in system.wa_id;
    a changed BSUID has no sender at all, so the new BSUID identifies the learner."""
    value = the_value(load_update("system_user_changed_number.json"))
    [message] = value.messages
    assert message.system is not None
    assert message.system.type == "user_changed_number"
    assert message.system.wa_id == "15550009877"
    assert sender_of(value, message).wa_id == "15550009876"
    value = the_value(load_update("system_user_changed_user_id.json"))
    [message] = value.messages
    assert message.from_ is None
    assert message.from_user_id is None
    assert message.system is not None
    assert message.system.type == "user_changed_user_id"
    assert sender_of(value, message).bsuid == "US.13491208655300000002"
    assert message.system.previous_bsuid == "US.13491208655300000001"
    explicit = message.system.model_copy(update={"previous_user_id": "US.1", "body": ""})
    assert explicit.previous_bsuid == "US.1"
    assert message.system.model_copy(update={"body": "User changed"}).previous_bsuid is None


def test_user_preferences_and_user_id_updates_parse() -> None:
    """The non-message fields: a marketing stop/resume (by phone or by BSUID only, integer timestamp) and a
    BSUID replacement (previous and current)."""
    [stop] = the_value(load_update("user_preferences_stop.json")).user_preferences
    assert (stop.category, stop.value, stop.wa_id) == ("marketing_messages", "stop", "15550009876")
    [resume] = the_value(load_update("user_preferences_resume_bsuid.json")).user_preferences
    assert (resume.value, resume.user_id, resume.wa_id) == ("resume", "US.13491208655300000001", None)
    [update] = the_value(load_update("user_id_update.json")).user_id_update
    assert update.user_id.previous == "US.13491208655300000001"
    assert update.user_id.current == "US.13491208655300000002"


def _add_fields(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _add_fields(v) for k, v in node.items()}
        out["added_by_meta_tomorrow"] = {"nested": [1, "x"]}
        return out
    if isinstance(node, list):
        return [_add_fields(v) for v in node]
    return node


@pytest.mark.parametrize("name", sorted(CASES))
def test_fields_meta_adds_tomorrow_are_tolerated_and_kept(name: str) -> None:
    """Bad input covered: a payload with fields we have never seen at every level still parses to the same
    meaning, and the extra fields are kept for whoever needs them."""
    plain = the_value(load_update(name))
    extended = the_value(_add_fields(load_update(name)))
    assert [m.kind for m in extended.messages] == [m.kind for m in plain.messages]
    assert [s.status for s in extended.statuses] == [s.status for s in plain.statuses]
    for message in extended.messages:
        assert message.model_extra is not None
        assert message.model_extra["added_by_meta_tomorrow"] == {"nested": [1, "x"]}


def test_models_are_frozen() -> None:
    """An update is a fact: code that tried to edit a parsed message would fail loudly."""
    [message] = the_value(load_update("text.json")).messages
    with pytest.raises(ValidationError):
        message.type = "image"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("reaction", "kind"),
    [
        ({"message_id": "wamid.X", "emoji": "👍"}, MessageKind.REACTION),
        ({"message_id": "wamid.X", "emoji": ""}, MessageKind.UNREACTION),
        ({"message_id": "wamid.X"}, MessageKind.UNREACTION),
        ({"message_id": "wamid.X", "emoji": None}, MessageKind.UNREACTION),
    ],
)
def test_reaction_removed_when_emoji_absent_empty_or_null(
    reaction: dict[str, Any], kind: MessageKind
) -> None:
    """Un-reactions come with the emoji absent, empty or null; all three mean 'removed'."""
    message = Message.model_validate({"id": "wamid.R", "type": "reaction", "reaction": reaction})
    assert message.kind is kind
    assert reaction_of(message) == ("wamid.X", reaction.get("emoji") or None)


def test_unknown_and_malformed_messages() -> None:
    """Bad input covered: an unknown type parses as OTHER with its sub-object kept; an interactive message
    of an unknown sub-type is OTHER; a message without id or type is a validation error."""
    order = Message.model_validate({"id": "wamid.O", "type": "order", "order": {"catalog_id": "1"}})
    assert order.kind is MessageKind.OTHER
    assert order.model_extra == {"order": {"catalog_id": "1"}}
    odd = Message.model_validate({"id": "wamid.I", "type": "interactive", "interactive": {"type": "new"}})
    assert odd.kind is MessageKind.OTHER
    assert message_text(odd) == ""
    assert reply_id(odd) is None
    for broken in ({"type": "text"}, {"id": "wamid.N"}, {"id": "w", "type": "text", "text": {"body": 5}}):
        with pytest.raises(ValidationError):
            Message.model_validate(broken)


def test_audio_without_voice_flag_is_a_file() -> None:
    """An audio message without the voice flag (older clients) is treated as a file, not a voice note."""
    message = Message.model_validate({"id": "w", "type": "audio", "audio": {"id": "m1"}})
    assert message.kind is MessageKind.AUDIO
    assert not is_voice_note(message)


def test_status_of_unknown_kind_parses() -> None:
    """A status value Meta adds later parses (and is ranked 0 by the webhook, so it changes nothing)."""
    status = Status.model_validate({"id": "wamid.S", "status": "queued_somewhere"})
    assert status.status == "queued_somewhere"
    assert status.error_code is None


def test_version_1_envelope_reads_as_a_message() -> None:
    """Backward compatibility: envelopes queued before this version (no kind, no update) are messages."""
    old = {
        "v": 1,
        "wamid": "wamid.OLD",
        "phone_number_id": "100000000000001",
        "display_phone_number": "15550100001",
        "learner_key": "0" * 32,
        "bsuid": None,
        "wa_id": "15550009876",
        "name": "Lucía",
        "message": {"id": "wamid.OLD", "type": "text", "text": {"body": "hola"}},
        "received_at": 1.0,
    }
    envelope = InboundEnvelope.model_validate_json(json.dumps(old))
    assert envelope.kind == "message"
    assert envelope.update is None
    assert Message.model_validate(envelope.message).kind is MessageKind.TEXT


def test_sender_prefers_bsuid_and_falls_back_to_the_contact() -> None:
    """Identity: the BSUID wins when present; a message without its own ids takes them from its contact;
    with several contacts and no match, the sender is unknown rather than someone else."""
    value = the_value(load_update("text_bsuid_and_phone.json"))
    [message] = value.messages
    assert sender_of(value, message).key_material == "bsuid:US.13491208655300000001"
    raw = copy.deepcopy(load_update("text.json"))
    del raw["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    value = the_value(raw)
    sender = sender_of(value, value.messages[0])
    assert sender.wa_id == "15550009876"
    assert sender.key_material == "wa:15550009876"
    raw["entry"][0]["changes"][0]["value"]["contacts"].append(
        {"profile": {"name": "x"}, "wa_id": "15550001111"}
    )
    value = the_value(raw)
    assert not sender_of(value, value.messages[0]).known
