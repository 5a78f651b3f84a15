"""API Gateway HTTP API v2 events: parsing, raw bodies, routing (malformed events included)."""

from __future__ import annotations

import base64
import json

from espaluz.httpapi import Request, Response, dispatch, request_from_event
from tests.conftest import load_event


def event(
    body: bytes, b64: bool, method: str = "POST", path: str = "/webhooks/whatsapp"
) -> dict[str, object]:
    e = load_event("apigw_http_v2.json")
    e["rawPath"] = path
    e["requestContext"]["http"].update(method=method, path=path)
    e["headers"]["X-Hub-Signature-256"] = "sha256=abc"
    e["body"] = base64.b64encode(body).decode() if b64 else body.decode()
    e["isBase64Encoded"] = b64
    return e


def test_raw_bytes_are_the_same_with_and_without_base64() -> None:
    raw = '{"t": "¿qué tal? ñ"}'.encode()
    assert request_from_event(event(raw, False)).body == raw
    assert request_from_event(event(raw, True)).body == raw


def test_headers_are_case_insensitive() -> None:
    request = request_from_event(event(b"{}", False))
    assert request.header("X-HUB-SIGNATURE-256") == "sha256=abc"


def test_not_an_http_event_and_bad_base64_are_400() -> None:
    assert dispatch({"Records": []}, {})["statusCode"] == 400
    broken = event(b"{}", True)
    broken["body"] = "%%%not base64%%%"
    assert dispatch(broken, {})["statusCode"] == 400


def test_routing_404_405_and_trailing_slash() -> None:
    def ok(r: Request) -> Response:
        return Response.json(200, {"path": r.path})

    routes = {("POST", "/webhooks/whatsapp"): ok}
    assert dispatch(event(b"", False, path="/webhooks/whatsapp/"), routes)["statusCode"] == 200
    assert dispatch(event(b"", False, method="DELETE"), routes)["statusCode"] == 405
    assert dispatch(event(b"", False, path="/elsewhere"), routes)["statusCode"] == 404
    assert json.loads(dispatch(event(b"", False), routes)["body"]) == {"path": "/webhooks/whatsapp"}
