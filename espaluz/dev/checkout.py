"""A local stand-in for Stripe: the API endpoints billing calls, a checkout page, and signed events.

Like the Graph API emulator, it speaks the provider's HTTP protocol so the official ``stripe`` package runs
unchanged against it (``STRIPE_API_BASE=<base>/stripe``): form-encoded requests with Stripe's bracket
notation, bearer auth, Stripe's JSON objects and error format. It serves

- ``POST /stripe/v1/checkout/sessions``, ``GET /stripe/v1/checkout/sessions/{id}``,
  ``GET|POST /stripe/v1/subscriptions/{id}``, ``POST /stripe/v1/billing_portal/sessions``;
- ``GET /dev/checkout/{session}``: a checkout page whose "Pay" button completes the session: a customer
  and an active subscription are created and ``checkout.session.completed``,
  ``customer.subscription.created`` and ``invoice.paid`` are sent to ``/webhooks/stripe``, signed as Stripe
  signs them (``t=<unix>,v1=HMAC-SHA256(secret, "<t>.<payload>")``);
- ``GET /dev/checkout/portal/{session}``: a portal page to cancel at the period end, simulate a failed
  renewal or end the period, each sending the events Stripe would send.

State is kept in memory: a restarted stack forgets test customers (the database keeps what the webhook
applied). Nothing here runs in Lambda.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
API_VERSION = "2025-09-30.clover"
PERIOD_SECONDS = 30 * 24 * 3600
PRICE_AMOUNT = 999  # cents, what the page shows for any price
REFERENCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) as nested dicts; numeric keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts:
            node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    result: dict[str, Any] = lists(root)
    return result


def stripe_error(status: int, message: str, code: str = "", param: str = "") -> JSONResponse:
    error = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class StripeEmulator:
    """The emulated account's objects, and the events it sends. Thread-safe."""

    public_url: str  # where pages are served (checkout and portal links point here)
    webhook_url: str
    webhook_secret: str
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    portals: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of API calls
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- objects ---------------------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _id("cs")
        items = params.get("line_items") or []
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "metadata": params.get("metadata") or {},
            "subscription": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.public_url}/dev/checkout/{session_id}",
            "created": int(time.time()),
            "livemode": False,
            "amount_total": PRICE_AMOUNT,
            "currency": "eur",
            "_price": items[0].get("price") if items else None,
            "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
        }
        with self.lock:
            self.sessions[session_id] = session
        return self.public(session)

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def new_subscription(self, customer: str, price: str, metadata: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        sub = {
            "id": _id("sub"),
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
            "created": now,
            "metadata": dict(metadata),
            "livemode": False,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _id("si"),
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price", "unit_amount": PRICE_AMOUNT},
                        "quantity": 1,
                        "current_period_start": now,
                        "current_period_end": now + PERIOD_SECONDS,
                    }
                ],
            },
        }
        with self.lock:
            self.subscriptions[str(sub["id"])] = sub
        return sub

    def snapshot(self, sub_id: str) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.subscriptions[sub_id]))  # type: ignore[no-any-return]

    def invoice(self, sub: dict[str, Any], status: str) -> dict[str, Any]:
        return {
            "id": _id("in"),
            "object": "invoice",
            "customer": sub["customer"],
            "status": status,
            "amount_due": PRICE_AMOUNT,
            "amount_paid": PRICE_AMOUNT if status == "paid" else 0,
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}},
            "created": int(time.time()),
            "livemode": False,
        }

    @staticmethod
    def event(event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }

    # --- flows (each returns the events to send, in Stripe's usual order) ---------------------------

    def complete(self, session_id: str) -> list[dict[str, Any]]:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise KeyError(session_id)
            if session["status"] == "complete":
                return []
            customer = session.get("customer") or _id("cus")
            self.customers.setdefault(customer, {"id": customer, "object": "customer"})
        sub = self.new_subscription(str(customer), str(session["_price"]), session["_subscription_metadata"])
        with self.lock:
            session.update(
                status="complete", payment_status="paid", customer=customer, subscription=sub["id"]
            )
            done = self.public(session)
        return [
            self.event("customer.subscription.created", self.snapshot(sub["id"])),
            self.event("checkout.session.completed", done),
            self.event("invoice.paid", self.invoice(sub, "paid")),
        ]

    def act(self, sub_id: str, action: str) -> list[dict[str, Any]]:
        """Portal and lifecycle actions: cancel_at_period_end, resume, payment_failed, renew, end_period."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            item = sub["items"]["data"][0]
            now = int(time.time())
            if action == "cancel_at_period_end":
                sub.update(cancel_at_period_end=True, cancel_at=item["current_period_end"], canceled_at=now)
            elif action == "resume":
                sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
            elif action == "payment_failed":
                sub["status"] = "past_due"
            elif action == "renew":
                sub["status"] = "active"
                item.update(current_period_start=now, current_period_end=now + PERIOD_SECONDS)
            elif action == "end_period":
                sub.update(status="canceled", ended_at=now, canceled_at=sub["canceled_at"] or now)
            else:
                raise ValueError(f"unknown action {action}")
        snap = self.snapshot(sub_id)
        if action == "payment_failed":
            return [
                self.event("invoice.payment_failed", self.invoice(snap, "open")),
                self.event("customer.subscription.updated", snap),
            ]
        if action == "renew":
            return [
                self.event("invoice.paid", self.invoice(snap, "paid")),
                self.event("customer.subscription.updated", snap),
            ]
        if action == "end_period":
            return [self.event("customer.subscription.deleted", snap)]
        return [self.event("customer.subscription.updated", snap)]

    async def deliver(self, client: httpx.AsyncClient, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST each event to the billing webhook, signed; returns what the webhook answered."""
        results = []
        for event in events:
            payload = json.dumps(event)
            response = await client.post(
                self.webhook_url,
                content=payload.encode(),
                headers={
                    "content-type": "application/json",
                    "stripe-signature": sign(payload, self.webhook_secret),
                },
            )
            results.append({"id": event["id"], "type": event["type"], "status": response.status_code})
        return results


def stripe_router(emulator: StripeEmulator) -> APIRouter:
    """The emulated Stripe API (under ``/stripe``) and the local checkout and portal pages."""
    router = APIRouter()
    client = httpx.AsyncClient(timeout=30.0)

    def authorised(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer sk_")

    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        return parse_form([(k, str(v)) for k, v in data.multi_items()])

    @router.post("/stripe/v1/checkout/sessions")
    async def create_session(request: Request) -> Response:
        emulator.requests.append(("POST", "/v1/checkout/sessions"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        params = await form(request)
        if params.get("mode") != "subscription":
            return stripe_error(400, "This emulator supports mode=subscription only.", param="mode")
        items = params.get("line_items")
        if not isinstance(items, list) or not items or not items[0].get("price"):
            return stripe_error(400, "Missing required param: line_items[0][price].", param="line_items")
        if not params.get("success_url"):
            return stripe_error(400, "Missing required param: success_url.", param="success_url")
        ref = params.get("client_reference_id")
        if ref is not None and not REFERENCE_ID.match(str(ref)):
            return stripe_error(
                400,
                "client_reference_id may contain letters, digits, '-' and '_' only.",
                param="client_reference_id",
            )
        return JSONResponse(emulator.create_session(params))

    @router.get("/stripe/v1/checkout/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> Response:
        emulator.requests.append(("GET", "/v1/checkout/sessions/{id}"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        session = emulator.sessions.get(session_id)
        if session is None:
            return stripe_error(404, f"No such checkout.session: '{session_id}'", code="resource_missing")
        return JSONResponse(emulator.public(session))

    @router.get("/stripe/v1/subscriptions/{sub_id}")
    async def get_subscription(sub_id: str, request: Request) -> Response:
        emulator.requests.append(("GET", "/v1/subscriptions/{id}"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        if sub_id not in emulator.subscriptions:
            return stripe_error(404, f"No such subscription: '{sub_id}'", code="resource_missing", param="id")
        return JSONResponse(emulator.snapshot(sub_id))

    @router.post("/stripe/v1/subscriptions/{sub_id}")
    async def update_subscription(sub_id: str, request: Request) -> Response:
        emulator.requests.append(("POST", "/v1/subscriptions/{id}"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        if sub_id not in emulator.subscriptions:
            return stripe_error(404, f"No such subscription: '{sub_id}'", code="resource_missing", param="id")
        params = await form(request)
        if "cancel_at_period_end" in params:
            action = "cancel_at_period_end" if params["cancel_at_period_end"] == "true" else "resume"
            await emulator.deliver(client, emulator.act(sub_id, action))
        return JSONResponse(emulator.snapshot(sub_id))

    @router.delete("/stripe/v1/customers/{customer_id}")
    async def delete_customer(customer_id: str, request: Request) -> Response:
        """A learner's erasure deletes their customer (Stripe cancels its subscriptions)."""
        emulator.requests.append(("DELETE", "/v1/customers/{id}"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        with emulator.lock:
            gone = emulator.customers.pop(customer_id, None)
        if gone is None:
            missing = f"No such customer: '{customer_id}'"
            return stripe_error(404, missing, code="resource_missing", param="id")
        return JSONResponse({"id": customer_id, "object": "customer", "deleted": True})

    @router.post("/stripe/v1/billing_portal/sessions")
    async def create_portal(request: Request) -> Response:
        emulator.requests.append(("POST", "/v1/billing_portal/sessions"))
        if not authorised(request):
            return stripe_error(401, "Invalid API Key provided")
        params = await form(request)
        customer = params.get("customer")
        if not customer:
            return stripe_error(400, "Missing required param: customer.", param="customer")
        portal_id = _id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": params.get("return_url"),
            "url": f"{emulator.public_url}/dev/checkout/portal/{portal_id}",
            "created": int(time.time()),
            "livemode": False,
        }
        with emulator.lock:
            emulator.portals[portal_id] = portal
        return JSONResponse(portal)

    # --- pages and their actions ---------------------------------------------------------------------

    @router.get("/dev/checkout/portal/{portal_id}", include_in_schema=False)
    async def portal_page(portal_id: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "checkout.html")

    @router.get("/dev/checkout/{session_id}", include_in_schema=False)
    async def checkout_page(session_id: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "checkout.html")

    @router.get("/dev/checkout/api/sessions/{session_id}")
    async def session_info(session_id: str) -> Response:
        session = emulator.sessions.get(session_id)
        if session is None:
            return JSONResponse({"error": "no such checkout session"}, status_code=404)
        return JSONResponse({**emulator.public(session), "price": session["_price"]})

    @router.post("/dev/checkout/api/sessions/{session_id}/pay")
    async def pay(session_id: str) -> Response:
        try:
            events = emulator.complete(session_id)
        except KeyError:
            return JSONResponse({"error": "no such checkout session"}, status_code=404)
        return JSONResponse({"events": await emulator.deliver(client, events)})

    @router.get("/dev/checkout/api/portal/{portal_id}")
    async def portal_info(portal_id: str) -> Response:
        portal = emulator.portals.get(portal_id)
        if portal is None:
            return JSONResponse({"error": "no such portal session"}, status_code=404)
        subs = [
            emulator.snapshot(s)
            for s, v in emulator.subscriptions.items()
            if v["customer"] == portal["customer"]
        ]
        return JSONResponse({**portal, "subscriptions": subs})

    @router.post("/dev/checkout/api/subscriptions/{sub_id}/{action}")
    async def lifecycle(sub_id: str, action: str) -> Response:
        if sub_id not in emulator.subscriptions:
            return JSONResponse({"error": "no such subscription"}, status_code=404)
        try:
            events = emulator.act(sub_id, action)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"events": await emulator.deliver(client, events)})

    return router
