"""Settings of the local stack: fake WhatsApp ids and secrets generated once and kept in the data
folder, so a restarted stack still verifies the signatures it issued."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

PHONE_NUMBER_ID = "100000000000001"
DISPLAY_PHONE_NUMBER = "15550100001"
DEFAULT_LEARNER = {"wa_id": "15550000001", "name": "Ana"}
LOCAL_STRIPE_KEY = "sk_test_local"  # fake; the local Stripe emulator accepts any sk_ key


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


def apply_environment(
    *, base_url: str, database_url: str, redis_url: str, dev_secrets: DevSecrets, data_dir: Path
) -> None:
    """Point the functions' settings at the local stack. Values already set by the user win for the
    provider keys (GROQ/ANTHROPIC/STRIPE API keys), never for the wiring."""
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
            # The local worker is the queue's sole consumer and runs one batch at a time, so a claimed
            # turn it meets again (after a restart, say) was abandoned: take it over at once.
            "TURN_CLAIM_TIMEOUT_SECONDS": "0",
        }
    )
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "espaluz-local")
    if os.environ.get("STRIPE_API_KEY", LOCAL_STRIPE_KEY) == LOCAL_STRIPE_KEY:
        # No Stripe keys: the local Stripe emulator and checkout page (espaluz.dev.checkout) stand in.
        os.environ.update({"STRIPE_API_KEY": LOCAL_STRIPE_KEY, "STRIPE_API_BASE": f"{base_url}/stripe"})
    from espaluz.config import get_settings

    get_settings.cache_clear()
