"""Local servers that speak Groq's OpenAI-compatible chat completions and Anthropic's Messages API.

The official ``groq`` and ``anthropic`` SDKs reach them through ``GROQ_BASE_URL`` / ``ANTHROPIC_BASE_URL``
(Groq's SDK appends ``/openai/v1/chat/completions``; Anthropic's appends ``/v1/messages``), so the code
under test runs unchanged. Each provider has a script: queued answers (status, text, delay, token
counts) are served first, in order; when the queue is empty a default answer is made from the request's
system prompt (valid JSON for the agent it names). Latency follows a model, first token + tokens/second
(``Latency``), unless an answer gives its own delay. Every request body is kept for assertions.

Claude's prompt caching is imitated: a system block with ``cache_control`` is "written" the first time
its text is seen and "read" after that, in the usage the answer reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from espaluz.config import Settings
from tests.conftest import free_port

_IDS = itertools.count(1)


@dataclass(frozen=True)
class Latency:
    """Seconds to the first token, then tokens per second."""

    first_token: float = 0.0
    tokens_per_second: float = 0.0

    def seconds(self, tokens_out: int) -> float:
        rate = tokens_out / self.tokens_per_second if self.tokens_per_second else 0.0
        return self.first_token + rate


GROQ_REALISTIC = Latency(0.3, 400.0)
CLAUDE_REALISTIC = Latency(0.8, 80.0)


@dataclass
class Answer:
    """One scripted answer. ``status`` 429/500/529 answers with the provider's error body."""

    text: str | None = None
    status: int = 200
    delay: float | None = None
    tokens_out: int | None = None
    # Only for a request whose system prompt contains this text (e.g. "intent classifier"): concurrent
    # calls to one provider then get their own answers whatever order they arrive in.
    when: str = ""


def default_text(system: str) -> str:
    """A valid answer for the agent the system prompt belongs to."""
    if "intent classifier" in system:
        return json.dumps({"intent": "conversation", "topic": "general", "confidence": 0.9})
    if "grammar expert" in system:
        return json.dumps(
            {
                "topic": "ser_estar",
                "explanation": "Use *ser* for what something is and *estar* for how or where it is.",
                "examples": ["Soy de Lima.", "Estoy en casa."],
                "correction": None,
            }
        )
    if "culture guide" in system:
        return json.dumps(
            {
                "topic": "comida",
                "note": "En México el desayuno del domingo es muy importante y muchas familias comen juntas.",
                "expressions": ["¡Qué padre!: ¡qué bien!"],
                "country": "México",
            }
        )
    if "exercise writer" in system:
        return json.dumps(
            {
                "skill": "preterite",
                "instructions": "Escribe dos frases sobre lo que hiciste ayer.",
                "example_answer": "Ayer fui al mercado y compré fruta.",
            }
        )
    return json.dumps(
        {
            "reply": "¡Qué bien! Yo también estoy contento hoy. ¿Qué vas a hacer esta tarde?",
            "correction": None,
        }
    )


@dataclass
class Script:
    latency: Latency = field(default_factory=Latency)
    queue: deque[Answer] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # (start, end) on the monotonic clock of each answered request, in request order: tests compare
    # them to show that two calls overlapped.
    spans: list[tuple[float, float]] = field(default_factory=list)

    def push(self, *answers: Answer) -> None:
        self.queue.extend(answers)

    def next(self, system: str = "") -> Answer | None:
        """The first queued answer meant for this request (``when`` empty or found in its system prompt)."""
        for answer in self.queue:
            if not answer.when or answer.when in system:
                self.queue.remove(answer)
                return answer
        return None


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _system_text(body: dict[str, Any], anthropic: bool) -> str:
    if anthropic:
        system = body.get("system") or ""
        if isinstance(system, list):
            return "\n".join(block.get("text", "") for block in system)
        return str(system)
    return "\n".join(m.get("content", "") for m in body.get("messages", []) if m.get("role") == "system")


class ProviderServers:
    """Both APIs on one loopback server (uvicorn in a thread). Use as a context manager."""

    def __init__(self, groq: Latency | None = None, claude: Latency | None = None) -> None:
        self.groq = Script(groq or Latency())
        self.claude = Script(claude or Latency())
        self._cached: set[str] = set()
        self._lock = threading.Lock()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    # The SDKs append their own paths to these.
    @property
    def groq_base_url(self) -> str:
        return self.base_url

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    def app(self) -> Any:
        app = FastAPI()

        @app.post("/openai/v1/chat/completions")
        async def chat_completions(request: Request) -> JSONResponse:
            body = await request.json()
            self.groq.requests.append(body)
            self.groq.headers.append(dict(request.headers))
            system = _system_text(body, anthropic=False)
            answer = self.groq.next(system) or Answer()
            text = answer.text if answer.text is not None else default_text(system)
            tokens_out = answer.tokens_out or _tokens(text)
            started = time.monotonic()
            index = len(self.groq.spans)  # one event loop: arrival order is the requests' order
            self.groq.spans.append((started, float("inf")))
            try:
                await asyncio.sleep(
                    answer.delay if answer.delay is not None else self.groq.latency.seconds(tokens_out)
                )
            finally:
                self.groq.spans[index] = (started, time.monotonic())
            if answer.status != 200:
                kind = "rate_limit_exceeded" if answer.status == 429 else "internal_server_error"
                error = {"error": {"message": f"scripted {answer.status}", "type": kind, "code": kind}}
                return JSONResponse(error, status_code=answer.status, headers={"retry-after": "1"})
            tokens_in = sum(_tokens(str(m.get("content", ""))) for m in body.get("messages", []))
            return JSONResponse(
                {
                    "id": f"chatcmpl-{next(_IDS)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", ""),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": tokens_in,
                        "completion_tokens": tokens_out,
                        "total_tokens": tokens_in + tokens_out,
                    },
                }
            )

        @app.post("/v1/messages")
        async def messages(request: Request) -> JSONResponse:
            body = await request.json()
            self.claude.requests.append(body)
            self.claude.headers.append(dict(request.headers))
            system = _system_text(body, anthropic=True)
            answer = self.claude.next(system) or Answer()
            text = answer.text if answer.text is not None else default_text(system)
            tokens_out = answer.tokens_out or _tokens(text)
            started = time.monotonic()
            index = len(self.claude.spans)  # one event loop: arrival order is the requests' order
            self.claude.spans.append((started, float("inf")))
            try:
                await asyncio.sleep(
                    answer.delay if answer.delay is not None else self.claude.latency.seconds(tokens_out)
                )
            finally:
                self.claude.spans[index] = (started, time.monotonic())
            if answer.status != 200:
                kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(answer.status, "api_error")
                error = {"type": "error", "error": {"type": kind, "message": f"scripted {answer.status}"}}
                return JSONResponse(error, status_code=answer.status, headers={"retry-after": "1"})
            cache_read = cache_write = 0
            uncached = 0
            for block in body.get("system") or []:
                size = _tokens(block.get("text", ""))
                if block.get("cache_control"):
                    digest = hashlib.sha256(block.get("text", "").encode()).hexdigest()
                    with self._lock:
                        if digest in self._cached:
                            cache_read += size
                        else:
                            self._cached.add(digest)
                            cache_write += size
                else:
                    uncached += size
            for message in body.get("messages", []):
                uncached += _tokens(json.dumps(message.get("content", ""), ensure_ascii=False))
            return JSONResponse(
                {
                    "id": f"msg_{next(_IDS)}",
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", ""),
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": uncached,
                        "output_tokens": tokens_out,
                        "cache_creation_input_tokens": cache_write,
                        "cache_read_input_tokens": cache_read,
                    },
                }
            )

        return app

    def __enter__(self) -> ProviderServers:
        import uvicorn

        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("provider server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def settings(self, **overrides: Any) -> Settings:
        """Settings whose providers are these servers (fake keys); ``overrides`` replace any field."""
        values: dict[str, Any] = {
            "groq_api_key": "gsk_test_fake",
            "anthropic_api_key": "sk-ant-test-fake",
            "groq_base_url": self.groq_base_url,
            "anthropic_base_url": self.anthropic_base_url,
        }
        values.update(overrides)
        return Settings(**values)

    def env(self) -> dict[str, str]:
        """Settings that point the SDKs here, with fake keys."""
        return {
            "GROQ_API_KEY": "gsk_test_fake",
            "ANTHROPIC_API_KEY": "sk-ant-test-fake",
            "GROQ_BASE_URL": self.groq_base_url,
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
        }
