"""API Gateway HTTP API v2 events: parsing, raw bodies, routing (malformed events included)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from espaluz.httpapi import (
    MAX_DEPTH,
    Request,
    Response,
    TooDeep,
    clean_document,
    clean_text,
    dispatch,
    json_body,
    request_from_event,
)
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


# -- text hygiene shared by both webhooks (issue 14) ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Lu\x00cía", "Lucía"),  # NUL: Postgres text refuses it
        ("hola \ud83d", "hola \ufffd"),  # a lone high surrogate: UTF-8 refuses it
        ("\udc00x", "\ufffdx"),  # a lone low surrogate
        ("\ud83d\ude00", "\U0001f600"),  # a pair split in two code points is joined again
        ("ñandú 😀", "ñandú 😀"),  # clean text is untouched
    ],
    ids=["nul", "lone-high", "lone-low", "split-pair", "clean"],
)
def test_clean_text_removes_nul_and_replaces_lone_surrogates(raw: str, clean: str) -> None:
    """Bad input: NUL and lone surrogates; the result always encodes as UTF-8."""
    assert clean_text(raw) == clean
    clean_text(raw).encode()


def test_clean_document_cleans_keys_and_values_and_refuses_nesting_beyond_the_limit() -> None:
    """Bad input: NUL in keys and values, and nesting one level beyond ``MAX_DEPTH``."""
    assert clean_document({"a\x00": ["b\x00", 1, None, {"c": "\ud800"}]}) == {
        "a": ["b", 1, None, {"c": "\ufffd"}]
    }
    deepest: Any = []
    for _ in range(MAX_DEPTH - 1):
        deepest = [deepest]
    assert clean_document(deepest) == deepest  # MAX_DEPTH levels: accepted
    with pytest.raises(TooDeep):
        clean_document([deepest])


def test_json_body_reports_deep_nesting_as_too_deep_and_garbage_as_value_error() -> None:
    """Bad input: nesting beyond Python's own recursion limit, and bytes that are not UTF-8 JSON."""
    with pytest.raises(TooDeep):
        json_body(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError, match=r"UTF-8|Expecting|decode"):
        json_body(b"\xff\xfe{}")
