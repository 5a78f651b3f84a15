"""Meta's limits are checked before a send (bad input gets a clear error, not a Graph API 400)."""

from __future__ import annotations

import pytest

from espaluz.whatsapp.outgoing import (
    MAX_VOICE_BYTES,
    Button,
    Image,
    ListRow,
    MessageLimitError,
    Recipient,
    Reply,
    Sendable,
    Template,
    UrlButton,
    VoiceNote,
    check_voice_note,
)


def test_text_payload() -> None:
    assert Reply("Hola").payload() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


def test_buttons_payload_and_reply_context() -> None:
    body = Reply("¿Listo?", buttons=(Button("go", "Sí"),), reply_to="wamid.X").payload()
    assert body["context"] == {"message_id": "wamid.X"}
    assert body["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "go", "title": "Sí"}}
    ]


@pytest.mark.parametrize(
    "reply",
    [
        Reply("x", buttons=tuple(Button(str(i), "b") for i in range(4))),
        Reply("x", buttons=(Button("a", "t" * 21),)),
        Reply("x", rows=tuple(ListRow(str(i), "r") for i in range(11))),
        Reply("x", rows=(ListRow("a", "t" * 25),)),
        Reply("x" * 1025, buttons=(Button("a", "ok"),)),
        Reply("x" * 4097),
        Reply(""),
        Reply("x", buttons=(Button("a", "ok"),), rows=(ListRow("b", "r"),)),
    ],
)
def test_limits_raise_before_sending(reply: Reply) -> None:
    with pytest.raises(MessageLimitError):
        reply.payload()


def test_recipient_prefers_phone_then_bsuid() -> None:
    assert Recipient(wa_id="1555", bsuid="US.1").fields() == {"to": "1555"}
    assert Recipient(bsuid="US.1").fields() == {"recipient": "US.1"}
    with pytest.raises(MessageLimitError):
        Recipient().fields()


# -- URL buttons, images, voice notes, templates ---------------------------------------------------


def test_url_button_payload() -> None:
    body = Reply("Tu enlace de pago", url_button=UrlButton("Pagar", "https://checkout.example/s/1")).payload()
    assert body["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Tu enlace de pago"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Pagar", "url": "https://checkout.example/s/1"},
        },
    }


@pytest.mark.parametrize(
    "reply",
    [
        Reply("x", url_button=UrlButton("x" * 21, "https://a.example")),  # display text over 20
        Reply("x", url_button=UrlButton("Pagar", "javascript:alert(1)")),  # not a web URL
        Reply("x", url_button=UrlButton("Pagar", "https://a.example"), buttons=(Button("a", "A"),)),
    ],
)
def test_url_button_limits(reply: Reply) -> None:
    """Bad input: Meta's cta_url limits (and one interactive element per message) raise before any
    HTTP call."""
    with pytest.raises(MessageLimitError):
        reply.payload()


def test_image_voice_and_template_payloads() -> None:
    assert Image(media_id="42", caption="Tu semana").payload()["image"] == {
        "id": "42",
        "caption": "Tu semana",
    }
    assert VoiceNote("77").payload()["audio"] == {"id": "77", "voice": True}
    template = Template(
        "espaluz_repaso", "es_MX", body_params=("Ana", "3"), button_payloads=("go",)
    ).payload()
    assert template["type"] == "template"
    assert template["template"] == {
        "name": "espaluz_repaso",
        "language": {"code": "es_MX"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "3"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "go"}],
            },
        ],
    }


@pytest.mark.parametrize(
    "message",
    [
        Image(),  # neither id nor link
        Image(media_id="1", link="https://a.example/x.png"),  # both
        Image(link="http://insecure.example/x.png"),
        Template(""),
        Template("t", body_params=("",)),
    ],
)
def test_media_and_template_limits(message: Sendable) -> None:
    """Bad input: media without exactly one source, plain-HTTP links, nameless templates, empty params."""
    with pytest.raises(MessageLimitError):
        message.payload()


def test_voice_note_rules() -> None:
    """Bad input: not OGG, too large for a voice note (512 KB), wrong MIME type."""
    check_voice_note(b"OggS" + b"\0" * 100, "audio/ogg")
    with pytest.raises(MessageLimitError, match="OGG container"):
        check_voice_note(b"ID3" + b"\0" * 100, "audio/ogg")
    with pytest.raises(MessageLimitError, match="limit is"):
        check_voice_note(b"OggS" + b"\0" * MAX_VOICE_BYTES, "audio/ogg")
    with pytest.raises(MessageLimitError, match="OGG/Opus"):
        check_voice_note(b"OggS", "audio/mpeg")
