"""The local stack's web app: the simulator page, the simulator's API, the Graph API emulator, and the
webhook and billing functions behind a local API Gateway, all on one port.

Paths are those of production (``/webhooks/whatsapp``, ``/webhooks/stripe``, ``/healthz``) plus ``/dev/*``
for the simulator and the emulator, and ``/graph/*`` for the emulated Graph API. The scheduler's pass runs
every minute (``SchedulerTicker``), and ``POST /dev/tick`` runs one at another time (the simulator's
"skip ahead").
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from espaluz.config import get_settings
from espaluz.dev import gateway
from espaluz.dev.checkout import StripeEmulator, stripe_router
from espaluz.dev.emulator import EmulatorStore, graph_router
from espaluz.dev.settings import DEFAULT_LEARNER, DISPLAY_PHONE_NUMBER, PHONE_NUMBER_ID, DevSecrets
from espaluz.dev.simulator import Phone, SimulatorInputError
from espaluz.dev.worker import QueueWorker, SchedulerTicker
from espaluz.ops import health
from espaluz.storage.redis import get_redis

if TYPE_CHECKING:
    from espaluz.scheduler.tick import TickResult

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's audio limit


@dataclass
class DevContext:
    base_url: str
    data_dir: Path
    secrets: DevSecrets
    redis_url: str
    run_worker: bool = True
    run_scheduler: bool = True  # the pass every minute (``POST /dev/tick`` works either way)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


def _handler(module: str) -> gateway.LambdaHandler:
    handler: gateway.LambdaHandler = importlib.import_module(module).handler
    return handler


def create_app(ctx: DevContext) -> FastAPI:
    """Build the app. The environment must already point at the local stack (``apply_environment``)."""
    redis_client = get_redis(ctx.redis_url, cluster=get_settings().redis_cluster)
    webhook = _handler("functions.webhook.handler")
    billing = _handler("functions.billing.handler")
    tutor = _handler("functions.tutor.handler")
    phone = Phone(
        f"{ctx.base_url}/webhooks/whatsapp", ctx.secrets.app_secret, PHONE_NUMBER_ID, DISPLAY_PHONE_NUMBER
    )
    worker = QueueWorker.for_local_stack(redis_client, tutor, get_settings())
    ticker = SchedulerTicker(scheduler_pass)
    client = httpx.AsyncClient(timeout=30.0)

    def on_message(item: dict[str, Any]) -> None:
        # Meta reports "sent" for every accepted message; the page reports delivered/read.
        task = asyncio.get_running_loop().create_task(
            phone.send_status(client, item["id"], "sent", item["to"])
        )
        ctx.tasks.add(task)
        task.add_done_callback(ctx.tasks.discard)

    store = EmulatorStore(
        redis_client, ctx.data_dir / "media", ctx.secrets.access_token, on_message=on_message
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if ctx.run_worker:
            worker.start()
        if ctx.run_scheduler:
            ticker.start()
        try:
            yield
        finally:
            ticker.stop()
            worker.stop()
            await client.aclose()

    app = FastAPI(title="Espaluz local stack", lifespan=lifespan, docs_url="/dev/docs", redoc_url=None)
    app.state.worker = worker
    app.state.ticker = ticker
    app.state.store = store
    app.include_router(graph_router(store))
    # The Stripe stand-in (API and checkout page) for a stack without Stripe keys.
    stripe_emulator = StripeEmulator(
        ctx.base_url, f"{ctx.base_url}/webhooks/stripe", ctx.secrets.stripe_webhook_secret
    )
    app.state.stripe = stripe_emulator
    app.include_router(stripe_router(stripe_emulator))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.api_route("/webhooks/whatsapp", methods=["GET", "POST"])
    async def whatsapp_webhook(request: Request) -> Response:
        return await gateway.invoke(request, webhook, "espaluz-webhook")

    @app.get("/healthz")
    async def healthz(request: Request) -> Response:
        """The webhook function's own checks (Redis, its queue setting), as API Gateway's ``/healthz``
        runs them, plus Postgres, which the tutor and billing need: this process is the whole stack."""
        database_url = get_settings().database_url
        webhook_answer, postgres = await asyncio.gather(
            gateway.invoke(request, webhook, "espaluz-webhook"),
            run_in_threadpool(health.run_checks, {"postgres": lambda: health.postgres_answers(database_url)}),
        )
        try:
            webhook_checks = dict(json.loads(bytes(webhook_answer.body))["checks"])
        except (ValueError, KeyError, TypeError):  # the function failed before it could check anything
            webhook_checks = {"webhook": health.UNAVAILABLE}
        status, body = health.report({**webhook_checks, **postgres})
        return JSONResponse(body, status_code=status)

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> Response:
        return await gateway.invoke(request, billing, "espaluz-billing")

    @app.get("/dev/config")
    async def config() -> dict[str, Any]:
        return {
            "phone_number_id": PHONE_NUMBER_ID,
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "business_name": "Espaluz",
            "default_learner": DEFAULT_LEARNER,
        }

    @app.post("/dev/simulator/messages")
    async def simulate_message(request: Request) -> Response:
        try:
            spec = await request.json()
            if not isinstance(spec, dict):
                raise SimulatorInputError("a JSON object is required")
            wamid, status = await phone.send(client, spec)
        except (ValueError, SimulatorInputError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"webhook unreachable: {type(exc).__name__}"}, status_code=502)
        return JSONResponse({"wamid": wamid, "webhook_status": status})

    @app.post("/dev/simulator/statuses")
    async def simulate_status(request: Request) -> Response:
        try:
            spec = await request.json()
            status = await phone.send_status(
                client, str(spec["wamid"]), str(spec["status"]), str(spec["wa_id"])
            )
        except (ValueError, KeyError, TypeError, SimulatorInputError) as exc:
            return JSONResponse({"error": f"bad status: {exc}"}, status_code=400)
        return JSONResponse({"webhook_status": status})

    @app.post("/dev/simulator/media")
    async def simulate_media(file: UploadFile = File(...)) -> Response:  # noqa: B008
        data = await file.read(MAX_MEDIA_BYTES + 1)
        if len(data) > MAX_MEDIA_BYTES:
            return JSONResponse({"error": "media larger than 16 MB"}, status_code=413)
        if not data:
            return JSONResponse({"error": "empty file"}, status_code=400)
        mime = (file.content_type or "application/octet-stream").split(";")[0]
        return JSONResponse({"media_id": store.save_media(data, mime), "mime_type": mime})

    @app.post("/dev/tick")
    async def tick(request: Request) -> Response:
        """One scheduler pass at ``{"at": ISO 8601}`` or ``{"hours": N}`` from now (``{}``: now); answers
        the pass's ``TickResult``. What it queues reaches the chat through the worker like any reply."""
        try:
            spec = await request.json() if await request.body() else {}
            at = tick_time(spec, datetime.now(UTC))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"bad tick: {exc}"}, status_code=400)
        try:
            result = await run_in_threadpool(ticker.tick, at)
        except Exception as exc:
            logger.warning("scheduler pass failed (%s)", type(exc).__name__, exc_info=True)
            return JSONResponse({"error": f"scheduler pass failed: {type(exc).__name__}"}, status_code=502)
        return JSONResponse(result.to_json())

    return app


def scheduler_pass(at: datetime | None) -> TickResult:
    """The scheduler Lambda's pass, with the local settings (queue ``local:inbound``)."""
    from espaluz.scheduler.tick import tick_from_settings

    return tick_from_settings(get_settings(), at)


def tick_time(spec: Any, now: datetime) -> datetime:
    """The time ``POST /dev/tick`` asks for: ``at`` (ISO 8601; naive means UTC) or ``hours`` after ``now``
    (negative allowed, at most a year either way), else ``now``. Raises ``ValueError`` otherwise."""
    if not isinstance(spec, dict):
        raise ValueError("a JSON object is required")
    if spec.get("at") is not None:
        from espaluz.scheduler.tick import parse_at

        return parse_at(spec["at"])
    if spec.get("hours") is not None:
        hours = spec["hours"]
        if isinstance(hours, bool) or not isinstance(hours, int | float) or abs(hours) > 366 * 24:
            raise ValueError("hours must be a number of hours within a year")
        return now + timedelta(hours=hours)
    return now


def wipe_data(data_dir: Path) -> None:
    """``--reset``: remove what the local stack keeps, and nothing else in that folder."""
    for name in ("postgres", "redis", "media"):
        shutil.rmtree(data_dir / name, ignore_errors=True)
    (data_dir / "dev-secrets.json").unlink(missing_ok=True)
