"""The learner's phone, simulated: builds webhook payloads as Meta sends them, signs them with the app
secret exactly as Meta does (HMAC-SHA256 of the raw bytes), and posts them to the webhook over HTTP.

Used by the simulator page (through ``/dev/simulator/*``), ``espaluz chat`` and the tests.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from espaluz.whatsapp.signature import sign

WABA_ID = "200000000000002"


def new_wamid() -> str:
    return "wamid.SIM" + uuid.uuid4().hex.upper()


def _envelope(phone_number_id: str, display_phone_number: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


class SimulatorInputError(ValueError):
    """The simulated message is malformed (reported to the page as HTTP 400)."""


def message_payload(
    spec: dict[str, Any], phone_number_id: str, display_phone_number: str, wamid: str
) -> dict[str, Any]:
    """A Meta ``messages`` webhook for one learner message described by ``spec`` (the page's JSON)."""
    wa_id = str(spec.get("wa_id") or "")
    bsuid = spec.get("user_id")
    if not (wa_id or bsuid):
        raise SimulatorInputError("wa_id or user_id is required")
    kind = spec.get("type", "text")
    message: dict[str, Any] = {"id": wamid, "timestamp": str(int(time.time())), "type": kind}
    if wa_id:
        message["from"] = wa_id
    if bsuid:
        message["from_user_id"] = bsuid
    if spec.get("context_id"):
        message["context"] = {"from": display_phone_number, "id": spec["context_id"]}
    if kind == "text":
        if not str(spec.get("text", "")).strip():
            raise SimulatorInputError("text is empty")
        message["text"] = {"body": str(spec["text"])}
    elif kind in ("button_reply", "list_reply"):
        if not spec.get("id"):
            raise SimulatorInputError("id of the chosen reply is required")
        reply = {"id": spec["id"], "title": spec.get("title", "")}
        if kind == "list_reply" and spec.get("description"):
            reply["description"] = spec["description"]
        message["type"] = "interactive"
        message["interactive"] = {"type": kind, kind: reply}
    elif kind == "audio":
        if not spec.get("media_id"):
            raise SimulatorInputError("media_id is required")
        message["audio"] = {
            "id": spec["media_id"],
            "mime_type": spec.get("mime_type", "audio/ogg; codecs=opus"),
            "voice": bool(spec.get("voice", True)),
        }
    else:
        raise SimulatorInputError(f"unsupported message type {kind!r}")
    contact: dict[str, Any] = {"profile": {"name": spec.get("name", "")}}
    if wa_id:
        contact["wa_id"] = wa_id
    if bsuid:
        contact["user_id"] = bsuid
    return _envelope(phone_number_id, display_phone_number, {"contacts": [contact], "messages": [message]})


def status_payload(
    wamid: str, status: str, recipient: str, phone_number_id: str, display_phone_number: str
) -> dict[str, Any]:
    if status not in {"sent", "delivered", "read", "played", "failed"}:
        raise SimulatorInputError(f"unknown status {status!r}")
    item = {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": recipient}
    return _envelope(phone_number_id, display_phone_number, {"statuses": [item]})


@dataclass
class Phone:
    """Posts signed webhooks to ``webhook_url``."""

    webhook_url: str
    app_secret: str
    phone_number_id: str
    display_phone_number: str

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, self.app_secret)}
        return body, headers

    async def send(self, client: httpx.AsyncClient, spec: dict[str, Any]) -> tuple[str, int]:
        wamid = new_wamid()
        payload = message_payload(spec, self.phone_number_id, self.display_phone_number, wamid)
        body, headers = self.signed(payload)
        response = await client.post(self.webhook_url, content=body, headers=headers)
        return wamid, response.status_code

    async def send_status(self, client: httpx.AsyncClient, wamid: str, status: str, recipient: str) -> int:
        payload = status_payload(wamid, status, recipient, self.phone_number_id, self.display_phone_number)
        body, headers = self.signed(payload)
        response = await client.post(self.webhook_url, content=body, headers=headers)
        return response.status_code
