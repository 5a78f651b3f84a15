"""The local stand-in for API Gateway: turns an HTTP request into an HTTP API v2 event, calls the real
Lambda handler with it, and turns the handler's answer back into an HTTP response. The local stack thus
runs the functions exactly as AWS does, on the same event shapes."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """The attributes of AWS's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def http_api_event(
    method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event. Bodies that are not UTF-8 text are
    base64-encoded, as API Gateway does."""
    try:
        text, encoded = body.decode("utf-8"), False
        if headers.get("content-type", "").startswith(("multipart/", "application/octet-stream")):
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "binary content type")
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    raw_query = "&".join(f"{k}={v}" for k, v in query.items())
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


async def invoke(request: Request, handler: LambdaHandler, function_name: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    event = http_api_event(
        request.method,
        request.url.path,
        headers,
        dict(request.query_params),
        body,
        request.client.host if request.client else "127.0.0.1",
    )
    result = await run_in_threadpool(handler, event, LambdaContext(function_name))
    payload = result.get("body") or ""
    data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
    return Response(data, status_code=int(result.get("statusCode", 200)), headers=result.get("headers") or {})
