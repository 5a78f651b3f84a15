"""Meta's limits are checked before a send (bad input gets a clear error, not a Graph API 400)."""

from __future__ import annotations

import pytest

from espaluz.whatsapp.outgoing import Button, ListRow, MessageLimitError, Recipient, Reply


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
