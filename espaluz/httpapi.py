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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


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
