"""Secrets Manager -> the process environment, once per container, before the settings are built.

``ESPALUZ_SECRETS`` lists secret ids (ARNs or names, comma-separated); the deployment gives each function
only the secrets its code reads, and its role may read only those. A secret's value is a JSON object:

- keys named like settings (``WHATSAPP_APP_SECRET``, ``GROQ_API_KEY``...) become environment variables;
- an RDS-style secret (``engine``, ``host``, ``port``, ``username``, ``password``, ``dbname``: what
  Aurora's generated secret holds) becomes ``DATABASE_URL``, TLS required. ``DATABASE_HOST``, when set,
  replaces the secret's host (the RDS Proxy endpoint, which the secret does not know).

A variable that already has a non-empty value wins, so a local override stays possible. Values are never
logged; only secret ids and the names of the variables filled are.

A caller must know: ``espaluz.config.get_settings()`` calls ``load_secrets`` itself (it is cached per
process), so a rotated secret reaches a container when the container is replaced. boto3 is imported here,
on first use: about 0.4 s of a cold start, which the webhook pays anyway for its SQS client.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

SECRETS_VAR = "ESPALUZ_SECRETS"
DATABASE_HOST_VAR = "DATABASE_HOST"
CACHE_SECONDS = 3600.0
_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_RDS_KEYS = {"engine", "host", "username", "password"}

Fetch = Callable[[str], str]

_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


class SecretsError(RuntimeError):
    """A secret could not be read or has an unusable shape (the message names the secret id only)."""


def _fetch_from_aws(secret_id: str) -> str:
    import boto3

    client = boto3.client("secretsmanager")
    response = client.get_secret_value(SecretId=secret_id)
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise SecretsError(f"secret {secret_id} has no string value")
    return value


def get_secret(secret_id: str, fetch: Fetch | None = None, max_age: float = CACHE_SECONDS) -> str:
    """The secret's string, cached in the process for ``max_age`` seconds."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(secret_id)
        if hit is not None and now - hit[0] < max_age:
            return hit[1]
    try:
        value = (fetch or _fetch_from_aws)(secret_id)
    except SecretsError:
        raise
    except Exception as exc:  # botocore errors, no credentials, timeouts
        raise SecretsError(f"cannot read secret {secret_id}: {type(exc).__name__}") from exc
    with _lock:
        _cache[secret_id] = (now, value)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def database_url(secret: dict[str, Any], host: str = "") -> str:
    """``postgresql://`` URL from an RDS-style secret (TLS required)."""
    user = quote(str(secret["username"]), safe="")
    password = quote(str(secret["password"]), safe="")
    port = int(secret.get("port") or 5432)
    dbname = quote(str(secret.get("dbname") or "postgres"), safe="")
    return f"postgresql://{user}:{password}@{host or secret['host']}:{port}/{dbname}?sslmode=require"


def variables_from_secret(secret_id: str, raw: str, environ: MutableMapping[str, str]) -> dict[str, str]:
    """The environment variables a secret's JSON value provides."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise SecretsError(f"secret {secret_id} is not a JSON object") from None
    if not isinstance(data, dict):
        raise SecretsError(f"secret {secret_id} is not a JSON object")
    out: dict[str, str] = {}
    if data.keys() >= _RDS_KEYS:
        out["DATABASE_URL"] = database_url(data, environ.get(DATABASE_HOST_VAR, ""))
    for key, value in data.items():
        if _SETTING_NAME.match(key) and isinstance(value, str | int | float | bool):
            out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def load_secrets(environ: MutableMapping[str, str] | None = None, fetch: Fetch | None = None) -> list[str]:
    """Fill ``environ`` (default ``os.environ``) from the secrets in ``ESPALUZ_SECRETS``; returns the
    names of the variables set. Raises ``SecretsError`` when a secret cannot be read: a function without
    its secrets must fail loudly, not run with empty keys."""
    env = os.environ if environ is None else environ
    ids = [s.strip() for s in env.get(SECRETS_VAR, "").split(",") if s.strip()]
    filled: list[str] = []
    for secret_id in ids:
        started = time.perf_counter()
        values = variables_from_secret(secret_id, get_secret(secret_id, fetch), env)
        for key, value in values.items():
            if not env.get(key):
                env[key] = value
                filled.append(key)
        logger.info(
            "secret loaded",
            extra={"secret_id": secret_id, "ms": round((time.perf_counter() - started) * 1000, 1)},
        )
    return filled
