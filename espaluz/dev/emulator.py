"""A local emulator of the WhatsApp Cloud API endpoints the tutor calls.

It speaks the Graph API's HTTP protocol (paths, bearer auth, JSON bodies, Meta's error format), so the
tutor's real client runs unchanged against it, in the local stack and in the tests. What it receives is
kept in order (the "outbox", ``GET /dev/outbox``) in Redis, so the simulator page can show it and tests
can assert on it. Media uploads are kept on disk; media URLs expire after five minutes like Meta's.

Failure injection (``POST /dev/emulator/failures``) makes the next sends answer with a given Meta error,
for tests of retry and fallback paths; ``after`` lets that many calls succeed first (the second message
of a reply fails, not the first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from espaluz.storage.redis import RedisClient
from espaluz.whatsapp import outgoing

MEDIA_URL_TTL_SECONDS = 300
# Single-key commands only (no hash tags needed): the emulator works against a Redis Cluster as well.
OUTBOX_KEY = "dev:outbox"
FAILURES_KEY = "dev:emulator:failures"
TEMPLATES_KEY = "dev:emulator:templates"


def meta_error(status: int, code: int, message: str, subcode: int | None = None) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "local",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class EmulatorStore:
    """The emulator's state: Redis for the outbox and media metadata, a folder for media bytes."""

    redis: RedisClient
    media_dir: Path
    access_token: str
    url_secret: str = ""
    on_message: Callable[[dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.url_secret = self.url_secret or secrets.token_hex(16)

    def record(self, item: dict[str, Any]) -> dict[str, Any]:
        """Append to the outbox. The list position is the sequence number: RPUSH returns it atomically,
        so concurrent calls never share or skip one, and ``outbox(after)`` reads only what is newer."""
        item["at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        item["seq"] = int(self.redis.rpush(OUTBOX_KEY, json.dumps(item, ensure_ascii=False)))
        return item

    def outbox(self, after: int = 0) -> list[dict[str, Any]]:
        start = max(after, 0)
        raws = self.redis.lrange(OUTBOX_KEY, start, -1)
        return [{**json.loads(raw), "seq": start + i + 1} for i, raw in enumerate(raws)]

    def save_media(self, data: bytes, mime_type: str) -> str:
        media_id = str(uuid.uuid4().int)[:16]
        (self.media_dir / media_id).write_bytes(data)
        self.redis.hset(f"dev:media:{media_id}", mapping={"mime_type": mime_type, "size": len(data)})
        return media_id

    def media(self, media_id: str) -> tuple[bytes, str] | None:
        meta = self.redis.hgetall(f"dev:media:{media_id}")
        path = self.media_dir / media_id
        if not meta or not path.exists() or not media_id.isdigit():
            return None
        return path.read_bytes(), meta[b"mime_type"].decode()

    def url_signature(self, media_id: str, expires: int) -> str:
        return hmac.new(
            self.url_secret.encode(), f"{media_id}:{expires}".encode(), hashlib.sha256
        ).hexdigest()

    def add_failures(
        self, status: int, code: int, count: int, message: str, on: str = "send", after: int = 0
    ) -> None:
        """Queue ``count`` failures for the next calls to an endpoint (``send`` or ``download``), once
        ``after`` calls have succeeded."""
        for _ in range(after):
            self.redis.rpush(f"{FAILURES_KEY}:{on}", json.dumps({"pass": True}))
        for _ in range(count):
            spec = {"status": status, "code": code, "message": message}
            self.redis.rpush(f"{FAILURES_KEY}:{on}", json.dumps(spec))

    def next_failure(self, on: str = "send") -> dict[str, Any] | None:
        raw = self.redis.lpop(f"{FAILURES_KEY}:{on}")
        spec: dict[str, Any] | None = json.loads(raw) if raw else None
        return None if spec is None or spec.get("pass") else spec

    def set_templates(self, templates: list[dict[str, Any]]) -> None:
        """What ``GET /{waba_id}/message_templates`` answers (each: name, language, status, category)."""
        self.redis.set(TEMPLATES_KEY, json.dumps(templates))

    def templates(self) -> list[dict[str, Any]]:
        """The templates set, or by default the tutor's required ones, all APPROVED."""
        raw = self.redis.get(TEMPLATES_KEY)
        if raw is not None:
            data: list[dict[str, Any]] = json.loads(raw)
            return data
        from espaluz.config import get_settings
        from espaluz.ops.templates import required_templates

        return [
            {"name": r.name, "language": r.language, "status": "APPROVED", "category": "UTILITY"}
            for r in required_templates(get_settings())
        ]


def _authorised(request: Request, store: EmulatorStore) -> bool:
    return request.headers.get("authorization", "") == f"Bearer {store.access_token}"


def _validate_send(body: dict[str, Any]) -> str | None:
    """Meta's own checks on a send, so the emulator refuses what Meta would (error 131009/100)."""
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not (body.get("to") or body.get("recipient")):
        return "to or recipient is required"
    kind = body.get("type", "text")
    if kind not in body:
        return f"the {kind} object is required"
    if kind == "interactive":
        inter = body["interactive"]
        buttons = inter.get("action", {}).get("buttons", [])
        if len(buttons) > outgoing.MAX_BUTTONS:
            return "too many buttons"
        if any(len(b["reply"]["title"]) > outgoing.MAX_BUTTON_TITLE for b in buttons):
            return "button title too long"
        rows = [r for s in inter.get("action", {}).get("sections", []) for r in s.get("rows", [])]
        if len(rows) > outgoing.MAX_LIST_ROWS:
            return "too many list rows"
        if inter.get("type") == "cta_url":
            params = inter.get("action", {}).get("parameters", {})
            if not params.get("url") or not 0 < len(params.get("display_text", "")) <= 20:
                return "cta_url needs a url and a display_text of 1 to 20 characters"
    if kind == "template":
        template = body["template"]
        if not template.get("name") or not template.get("language", {}).get("code"):
            return "a template needs a name and a language code"
    if kind in ("audio", "image") and not (body[kind].get("id") or body[kind].get("link")):
        return f"the {kind} needs an id or a link"
    return None


def graph_router(store: EmulatorStore) -> APIRouter:
    router = APIRouter()

    @router.post("/graph/{version}/{phone_number_id}/messages")
    async def send(phone_number_id: str, request: Request) -> Response:
        if not _authorised(request, store):
            return meta_error(401, 190, "Invalid OAuth access token")
        try:
            body = await request.json()
        except ValueError:
            return meta_error(400, 100, "Invalid JSON")
        if body.get("status") == "read":
            if not body.get("message_id"):
                return meta_error(400, 100, "message_id is required")
            store.record(
                {
                    "phone_number_id": phone_number_id,
                    "kind": "read",
                    "to": None,
                    "type": "read",
                    "id": None,
                    "body": body,
                }
            )
            return JSONResponse({"success": True})
        problem = _validate_send(body)
        if problem:
            return meta_error(400, 131009, f"Parameter value is not valid: {problem}")
        failure = store.next_failure()
        if failure:
            return meta_error(failure["status"], failure["code"], failure["message"])
        wamid = "wamid.LOCAL" + uuid.uuid4().hex.upper()
        to = body.get("to") or body.get("recipient")
        item = store.record(
            {
                "phone_number_id": phone_number_id,
                "kind": "message",
                "to": to,
                "type": body.get("type", "text"),
                "id": wamid,
                "body": body,
            }
        )
        if store.on_message is not None:
            store.on_message(item)
        contact = {"input": to, "wa_id": to} if body.get("to") else {"input": to, "user_id": to}
        return JSONResponse(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )

    @router.get("/graph/{version}/{waba_id}/message_templates")
    async def message_templates(
        waba_id: str, request: Request, limit: int = 25, after: int = 0, fields: str = ""
    ) -> Response:
        """Meta's template list: ``data`` plus cursor paging (``after`` is an offset here)."""
        if not _authorised(request, store):
            return meta_error(401, 190, "Invalid OAuth access token")
        if not waba_id.isdigit():
            return meta_error(400, 100, "Unsupported get request: unknown WhatsApp Business Account")
        items = store.templates()
        page = [{**t, "id": str(after + i + 1)} for i, t in enumerate(items[after : after + max(limit, 1)])]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"after": str(after + len(page))}}}
        if after + len(page) < len(items):
            query = f"limit={limit}&after={after + len(page)}" + (f"&fields={fields}" if fields else "")
            body["paging"]["next"] = f"{str(request.url).split('?')[0]}?{query}"
        return JSONResponse(body)

    @router.post("/dev/emulator/templates")
    async def set_templates(request: Request) -> Response:
        templates = await request.json()
        store.set_templates(list(templates))
        return JSONResponse({"templates": len(templates)})

    @router.post("/graph/{version}/{phone_number_id}/media")
    async def upload(
        phone_number_id: str,
        request: Request,
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's declaration style
        type: str = Form(""),
        messaging_product: str = Form(""),
    ) -> Response:
        if not _authorised(request, store):
            return meta_error(401, 190, "Invalid OAuth access token")
        if messaging_product != "whatsapp":
            return meta_error(400, 100, "messaging_product must be whatsapp")
        data = await file.read()
        media_id = store.save_media(data, type or file.content_type or "application/octet-stream")
        store.record(
            {
                "phone_number_id": phone_number_id,
                "kind": "media_upload",
                "to": None,
                "type": "media_upload",
                "id": media_id,
                "body": {"mime_type": type, "size": len(data), "filename": file.filename or ""},
            }
        )
        return JSONResponse({"id": media_id})

    @router.get("/graph/media-download/{media_id}")
    async def download(media_id: str, request: Request, expires: int = 0, sig: str = "") -> Response:
        if not _authorised(request, store):
            return meta_error(401, 190, "Invalid OAuth access token")
        if not hmac.compare_digest(sig, store.url_signature(media_id, expires)) or expires < time.time():
            return meta_error(404, 131052, "Media download error: URL expired")
        failure = store.next_failure("download")
        if failure:
            return meta_error(failure["status"], failure["code"], failure["message"])
        found = store.media(media_id)
        if found is None:
            return meta_error(404, 131052, "Media not found")
        return Response(found[0], media_type=found[1])

    @router.get("/graph/{version}/{media_id}")
    async def media_info(media_id: str, request: Request) -> Response:
        if not _authorised(request, store):
            return meta_error(401, 190, "Invalid OAuth access token")
        found = store.media(media_id)
        if found is None:
            return meta_error(404, 100, "Unsupported get request: media not found", subcode=33)
        data, mime = found
        expires = int(time.time()) + MEDIA_URL_TTL_SECONDS
        url = str(request.url_for("download", media_id=media_id))
        url += f"?expires={expires}&sig={store.url_signature(media_id, expires)}"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            }
        )

    @router.get("/dev/outbox")
    async def outbox(after: int = 0) -> Response:
        return JSONResponse(store.outbox(after))

    @router.post("/dev/emulator/failures")
    async def failures(request: Request) -> Response:
        spec = await request.json()
        store.add_failures(
            int(spec.get("status", 400)),
            int(spec["code"]),
            int(spec.get("count", 1)),
            str(spec.get("message", "injected failure")),
            str(spec.get("on", "send")),
            int(spec.get("after", 0)),
        )
        return JSONResponse({"queued": int(spec.get("count", 1))})

    @router.get("/dev/media/{media_id}")
    async def media_bytes(media_id: str) -> Response:
        found = store.media(media_id)
        if found is None:
            return JSONResponse({"error": "no such media"}, status_code=404)
        return Response(found[0], media_type=found[1])

    return router
