"""Secrets Manager -> settings, against moto's Secrets Manager (real boto3 calls over HTTP).

Failures covered: a secret that does not exist or that the role may not read (the function must fail,
not run with empty keys), a value that is not a JSON object, a local override that must win, the RDS
secret turned into a TLS DATABASE_URL with the proxy host, passwords with URL-special characters, and
secret values leaking into logs.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from espaluz.config import get_settings
from espaluz.ops import secrets

WHATSAPP = {"WHATSAPP_APP_SECRET": "app-secret-from-aws", "WHATSAPP_VERIFY_TOKEN": "verify-from-aws"}
DATABASE = {
    "engine": "postgres",
    "host": "espaluz-dev.cluster-abc.us-east-1.rds.amazonaws.com",
    "port": 5432,
    "username": "espaluz",
    "password": "p@ss:w/rd?#%",
    "dbname": "espaluz",
}


@pytest.fixture
def secrets_env(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_env)
    client = boto3.client("secretsmanager")
    arns = {}
    run = uuid.uuid4().hex  # moto's server lives for the session: names must differ between tests
    for name, value in (("whatsapp", WHATSAPP), ("database", DATABASE), ("broken", None)):
        secret_id = f"espaluz/test/{name}-{run}"
        raw = json.dumps(value) if value is not None else "not json"
        arns[name] = client.create_secret(Name=secret_id, SecretString=raw)["ARN"]
    # Empty, not deleted: monkeypatch then restores whatever the loader writes into os.environ.
    for key in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "DATABASE_URL", "DATABASE_HOST"):
        monkeypatch.setenv(key, "")
    secrets.clear_cache()
    get_settings.cache_clear()
    yield arns
    secrets.clear_cache()
    get_settings.cache_clear()


def test_settings_are_filled_from_the_functions_secrets(
    secrets_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ESPALUZ_SECRETS", f"{secrets_env['whatsapp']},{secrets_env['database']}")
    caplog.set_level(logging.DEBUG, logger="espaluz")
    settings = get_settings()
    assert settings.whatsapp_app_secret.get_secret_value() == "app-secret-from-aws"
    assert settings.whatsapp_verify_token.get_secret_value() == "verify-from-aws"
    url = urlsplit(settings.database_url)
    assert url.hostname == DATABASE["host"]
    assert unquote(url.password or "") == DATABASE["password"]  # special characters survive
    assert url.path == "/espaluz"
    assert url.query == "sslmode=require"
    ours = [r for r in caplog.records if r.name.startswith("espaluz")]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for value in (*WHATSAPP.values(), DATABASE["password"]):
        assert value not in logged
    assert secrets_env["whatsapp"] in logged  # the id is logged, for operators


def test_proxy_host_and_local_overrides_win(
    secrets_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESPALUZ_SECRETS", f"{secrets_env['whatsapp']},{secrets_env['database']}")
    monkeypatch.setenv("DATABASE_HOST", "espaluz-dev.proxy-xyz.us-east-1.rds.amazonaws.com")
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "set-locally")
    settings = get_settings()
    assert urlsplit(settings.database_url).hostname == "espaluz-dev.proxy-xyz.us-east-1.rds.amazonaws.com"
    assert settings.whatsapp_verify_token.get_secret_value() == "set-locally"
    assert settings.whatsapp_app_secret.get_secret_value() == "app-secret-from-aws"


def test_a_missing_or_malformed_secret_fails_loudly(
    secrets_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESPALUZ_SECRETS", "espaluz/test/does-not-exist")
    with pytest.raises(secrets.SecretsError, match="cannot read secret espaluz/test/does-not-exist"):
        get_settings()
    monkeypatch.setenv("ESPALUZ_SECRETS", secrets_env["broken"])
    with pytest.raises(secrets.SecretsError, match="is not a JSON object"):
        get_settings()


def test_secrets_are_read_once_per_container(
    secrets_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings rebuild (cache cleared) reuses the cached value instead of calling AWS again."""
    calls: list[str] = []

    def fetch(secret_id: str) -> str:
        calls.append(secret_id)
        return json.dumps(WHATSAPP)

    first: dict[str, str] = {"ESPALUZ_SECRETS": "a,b"}
    assert sorted(secrets.load_secrets(first, fetch)) == sorted(WHATSAPP)
    second: dict[str, str] = {"ESPALUZ_SECRETS": "a,b"}
    assert sorted(secrets.load_secrets(second, fetch)) == sorted(WHATSAPP)
    assert second == first
    assert calls == ["a", "b"]
