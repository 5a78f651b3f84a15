"""API Gateway HTTP API (payload format 2.0) requests and responses, without a web framework.

Why hand-written: the webhook and billing functions serve two routes each, and Meta and Stripe judge us
by latency. Powertools' event handler costs about 0.3 s of cold import on its own; this module costs
nothing and gives the one thing signature checks need, the raw body bytes (base64-decoded when API
Gateway encoded them). The local stack builds the same events (``espaluz.dev.gateway``), so both run
one code path.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Levels of objects and arrays a webhook body may nest. Meta's payloads nest about 12 levels and Stripe's
# events about 10; pydantic's JSON parser (the tutor reads its queue with it) stops at about 200, and
# Python's own recursion at about 1,000. Deeper is not from Meta or Stripe: 400.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    """A document nested deeper than ``MAX_DEPTH``."""


def clean_text(value: str) -> str:
    """``value`` without NUL characters and with each lone surrogate replaced by U+FFFD: text that
    Postgres (``text`` refuses NUL), psycopg, Redis and JSON encoders (UTF-8 refuses lone surrogates) all
    accept. Clean text comes back unchanged, so applying it twice is harmless."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii() or not _SURROGATE.search(value):
        return value
    # Through UTF-16: a high and a low surrogate that stand next to each other form their character
    # again; any other surrogate becomes U+FFFD.
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_document(node: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON document with every string, keys included, passed through ``clean_text``. Raises
    ``TooDeep`` beyond ``max_depth`` levels of objects and arrays; the recursion is bounded by that
    limit, so it never reaches Python's."""

    def walk(item: Any, depth: int) -> Any:
        if isinstance(item, str):
            return clean_text(item)
        if isinstance(item, dict | list):
            if depth >= max_depth:
                raise TooDeep(f"nested deeper than {max_depth} levels")
            if isinstance(item, list):
                return [walk(v, depth + 1) for v in item]
            return {clean_text(str(k)): walk(v, depth + 1) for k, v in item.items()}
        return item

    return walk(node, 0)


def json_body(body: bytes | str) -> Any:
    """The JSON document of a webhook body, cleaned (``clean_document``). Raises ``ValueError`` when it
    is not JSON (malformed, not UTF-8, nested beyond the parser's own depth) and ``TooDeep`` (a
    ``ValueError`` too) beyond ``MAX_DEPTH``: both are the sender's fault, a 400."""
    try:
        document = json.loads(body)
    except RecursionError as exc:
        raise TooDeep("nested beyond the JSON parser's depth") from exc
    except UnicodeError as exc:
        raise ValueError("body is not UTF-8") from exc
    return clean_document(document)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: str = ""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        return cls(status, json.dumps(payload, separators=(",", ":")))

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        return cls.json(status, {"error": message})

    def to_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"content-type": self.content_type, **self.headers},
            "body": self.body,
            "isBase64Encoded": False,
        }


class BadEvent(ValueError):
    """The Lambda was invoked with something that is not an HTTP API v2 event."""


def request_from_event(event: Mapping[str, Any]) -> Request:
    """Parse an API Gateway HTTP API v2 event. Raises ``BadEvent`` on any other shape."""
    try:
        http = event["requestContext"]["http"]
        method = str(http["method"]).upper()
        path = str(event.get("rawPath") or http["path"])
    except (KeyError, TypeError) as exc:
        raise BadEvent("not an API Gateway HTTP API v2 event") from exc
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
    except ValueError as exc:
        raise BadEvent("body is not valid base64") from exc
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    return Request(method=method, path=path, headers=headers, query=query, body=body)


Route = Callable[[Request], Response]


def dispatch(event: Mapping[str, Any], routes: Mapping[tuple[str, str], Route]) -> dict[str, Any]:
    """Route an HTTP API v2 event to ``routes[(METHOD, path)]`` and return the Lambda response."""
    try:
        request = request_from_event(event)
    except BadEvent as exc:
        return Response.error(400, str(exc)).to_lambda()
    route = routes.get((request.method, request.path.rstrip("/") or "/"))
    if route is None:
        known_path = any(path == request.path for _, path in routes)
        return Response.error(405 if known_path else 404, "no such route").to_lambda()
    return route(request).to_lambda()
