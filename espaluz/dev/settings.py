"""Settings of the local stack: fake WhatsApp ids and secrets generated once and kept in the data
folder, so a restarted stack still verifies the signatures it issued. Secrets given in the environment
win over the generated ones (``DevSecrets.effective``)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

PHONE_NUMBER_ID = "100000000000001"
DISPLAY_PHONE_NUMBER = "15550100001"
DEFAULT_LEARNER = {"wa_id": "15550000001", "name": "Ana"}
LOCAL_STRIPE_KEY = "sk_test_local"  # fake; the local Stripe emulator accepts any sk_ key
# Secrets a person may set to reach ``espaluz dev`` from outside: Meta's real webhook through a tunnel
# (the app secret signs its posts, the verify token answers its subscription check), Stripe's CLI or a
# script that signs its own requests. Field of DevSecrets -> variable. The access token is not one: the
# tutor's Graph API calls go to the local emulator, which knows only the generated one.
ENVIRONMENT_SECRETS = {
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
}


@dataclass(frozen=True)
class DevSecrets:
    app_secret: str
    verify_token: str
    access_token: str
    stripe_webhook_secret: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DevSecrets:
        path = data_dir / "dev-secrets.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(
            app_secret=secrets.token_hex(16),
            verify_token=secrets.token_urlsafe(12),
            access_token="dev-" + secrets.token_urlsafe(24),
            stripe_webhook_secret="whsec_dev" + secrets.token_hex(12),
        )
        path.write_text(json.dumps(asdict(made)))
        path.chmod(0o600)
        return made

    def effective(self, environ: Mapping[str, str] = os.environ) -> DevSecrets:
        """These secrets with those given in ``environ`` (non-empty) in their place. The stack verifies and
        signs with the result (webhook, simulator, Stripe stand-in); the file keeps the generated ones,
        so unsetting a variable brings them back."""
        given = {field: environ[name] for field, name in ENVIRONMENT_SECRETS.items() if environ.get(name)}
        return replace(self, **given)


def apply_environment(
    *, base_url: str, database_url: str, redis_url: str, dev_secrets: DevSecrets, data_dir: Path
) -> None:
    """Point the functions' settings at the local stack. Values already set by the user win for the
    provider keys (GROQ/ANTHROPIC/STRIPE API keys), never for the wiring. ``dev_secrets`` are the
    effective ones (``DevSecrets.effective``), so the functions check what the simulator signs with."""
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "QUEUE_URL": "local:inbound",
            "WHATSAPP_APP_SECRET": dev_secrets.app_secret,
            "WHATSAPP_VERIFY_TOKEN": dev_secrets.verify_token,
            "WHATSAPP_ACCESS_TOKEN": dev_secrets.access_token,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_GRAPH_URL": f"{base_url}/graph/v23.0",
            "STRIPE_WEBHOOK_SECRET": dev_secrets.stripe_webhook_secret,
            "ESPALUZ_DATA_DIR": str(data_dir),
            # A claimed turn the local worker meets again was abandoned: take it over at once. The worker
            # is the queue's sole consumer, and a group is delivered again only after its invocation
            # settled, passed its deadline plus the visibility timeout, or died with a restarted stack.
            # A timed-out invocation's thread may still be running then (threads cannot be killed); it
            # cannot answer too, because the claim is fenced (espaluz/tutor/processor.py): its move to
            # 'sending' fails once another delivery holds the claim. A value from the timeout would
            # instead make every restart's in-flight turn fail its redeliveries into the dead letters.
            "TURN_CLAIM_TIMEOUT_SECONDS": "0",
        }
    )
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "espaluz-local")
    if os.environ.get("STRIPE_API_KEY", LOCAL_STRIPE_KEY) == LOCAL_STRIPE_KEY:
        # No Stripe keys: the local Stripe emulator and checkout page (espaluz.dev.checkout) stand in.
        os.environ.update({"STRIPE_API_KEY": LOCAL_STRIPE_KEY, "STRIPE_API_BASE": f"{base_url}/stripe"})
    from espaluz.config import get_settings

    get_settings.cache_clear()
