"""The payments port and its Stripe adapter: Checkout Sessions, subscriptions, the customer portal.

The adapter calls Stripe through the official ``stripe`` package (``StripeClient``). ``STRIPE_API_BASE``
points it elsewhere: the local stack's Stripe emulator (``espaluz.dev.checkout``) and the tests use that,
so the same SDK code runs everywhere. Results are returned as plain dicts (Stripe's JSON), which is what
the event handlers store and compare.

A caller must know: the learner id placed in ``client_reference_id`` is the learner's UUID, which uses
only letters, digits and ``-`` (Stripe accepts letters, digits, ``-`` and ``_``); it is also put in the
session's ``metadata`` and in ``subscription_data.metadata`` so that subscription events, which carry
no ``client_reference_id``, still name the learner.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import stripe

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID

    from espaluz.config import Settings

logger = logging.getLogger(__name__)

REFERENCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class PaymentsError(Exception):
    """Stripe could not be reached or refused the call. ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class PaymentsNotConfigured(PaymentsError):
    def __init__(self) -> None:
        super().__init__("STRIPE_API_KEY is not set", retryable=False)


@dataclass(frozen=True, slots=True)
class CheckoutLink:
    session_id: str
    url: str


class Payments(Protocol):
    """What billing needs from a payment provider."""

    def create_checkout(
        self,
        *,
        learner_id: UUID,
        price_id: str,
        success_url: str,
        cancel_url: str,
        offer_id: str | None = None,
        customer_id: str | None = None,
    ) -> CheckoutLink: ...

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]: ...

    def create_portal(self, customer_id: str, return_url: str) -> str: ...


def reference_id(learner_id: UUID) -> str:
    """The ``client_reference_id`` for a learner; checked against Stripe's character rule."""
    ref = str(learner_id)
    if not REFERENCE_ID.match(ref):
        raise ValueError("client_reference_id must be letters, digits, '-' or '_'")
    return ref


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as the JSON Stripe sent (nested StripeObjects are dicts already)."""
    response = getattr(obj, "last_response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        return data
    return dict(obj)


def _wrap(exc: stripe.StripeError) -> PaymentsError:
    status = exc.http_status or 0
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or status >= 500
    return PaymentsError(f"Stripe: {type(exc).__name__} ({status})", retryable=retryable, status=status)


class StripePayments:
    """``Payments`` over Stripe's API. Thread-safe; one client per process."""

    def __init__(
        self, api_key: str, api_base: str = "", *, max_network_retries: int = 2, timeout: float = 10.0
    ) -> None:
        if not api_key:
            raise PaymentsNotConfigured()
        # Stripe's default HTTP timeout is 80 s: far longer than a chat turn or a webhook should wait.
        kwargs: dict[str, Any] = {
            "max_network_retries": max_network_retries,
            "http_client": stripe.RequestsClient(timeout=timeout),
        }
        if api_base:
            kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
        self.client = stripe.StripeClient(api_key, **kwargs)

    def create_checkout(
        self,
        *,
        learner_id: UUID,
        price_id: str,
        success_url: str,
        cancel_url: str,
        offer_id: str | None = None,
        customer_id: str | None = None,
    ) -> CheckoutLink:
        ref = reference_id(learner_id)
        metadata = {"learner_id": ref}
        if offer_id:
            metadata["offer_id"] = offer_id
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": price_id, "quantity": 1}],
            "client_reference_id": ref,
            "metadata": metadata,
            "subscription_data": {"metadata": {"learner_id": ref}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if customer_id:
            params["customer"] = customer_id
        try:
            session = self.client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            raise _wrap(exc) from exc
        return CheckoutLink(str(session.id), str(session.url))

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        try:
            return _plain(self.client.v1.subscriptions.retrieve(subscription_id))
        except stripe.StripeError as exc:
            raise _wrap(exc) from exc

    def create_portal(self, customer_id: str, return_url: str) -> str:
        try:
            session = self.client.v1.billing_portal.sessions.create(
                params={"customer": customer_id, "return_url": return_url}
            )
        except stripe.StripeError as exc:
            raise _wrap(exc) from exc
        return str(session.url)

    def delete_customer(self, customer_id: str) -> bool:
        """Delete a Stripe customer (a data-deletion request). Stripe cancels the customer's
        subscriptions at once and keeps only what the law makes it keep (invoices, payments). True when
        it was deleted now, False when Stripe has no such customer (already deleted: the erasure is
        repeatable). Raises ``PaymentsError`` otherwise."""
        try:
            self.client.v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if (exc.http_status or 0) == 404:
                return False
            raise _wrap(exc) from exc
        except stripe.StripeError as exc:
            raise _wrap(exc) from exc
        return True


def build_payments(settings: Settings) -> StripePayments | None:
    """The Stripe adapter, or None when ``STRIPE_API_KEY`` is unset (features that need it say so)."""
    key = settings.stripe_api_key.get_secret_value()
    return StripePayments(key, settings.stripe_api_base) if key else None


def subscription_field(sub: Mapping[str, Any], name: str) -> Any:
    """A subscription field that newer API versions moved onto the items (``current_period_end``)."""
    if sub.get(name) is not None:
        return sub.get(name)
    items = (sub.get("items") or {}).get("data") or []
    return items[0].get(name) if items else None
