"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``.

The HMAC is over the raw bytes exactly as received. A caller must pass those bytes (decoded from base64
when API Gateway hands the body base64-encoded), never a re-serialised JSON document.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "x-hub-signature-256"
_PREFIX = "sha256="


class SignatureError(Exception):
    """Base for signature failures."""


class SignatureMissing(SignatureError):
    """No signature header: the request did not come from Meta (HTTP 401)."""


class SignatureMismatch(SignatureError):
    """A signature that does not match the body: forged or altered in transit (HTTP 403)."""


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body``; used by the simulator and the tests."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(body: bytes, header_value: str | None, app_secret: str) -> None:
    """Raise ``SignatureMissing`` or ``SignatureMismatch`` unless ``header_value`` signs ``body``.

    The comparison runs in constant time. An empty app secret is a configuration error, not a pass.
    """
    if not app_secret:
        raise RuntimeError("WHATSAPP_APP_SECRET is not set; refusing to accept unsigned webhooks")
    if not header_value:
        raise SignatureMissing("missing X-Hub-Signature-256")
    if not hmac.compare_digest(sign(body, app_secret).encode(), header_value.strip().encode()):
        raise SignatureMismatch("X-Hub-Signature-256 does not match the body")
