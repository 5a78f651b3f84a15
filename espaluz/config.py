"""One settings object for every function and the local stack.

Values come from environment variables (names as in ARCHITECTURE.md). Secrets are plain settings here so
that code and fixtures never carry them; in Lambda they are filled from Secrets Manager before the first
``get_settings()`` call (production wiring lives with the deploy issue).

A caller must know: ``get_settings()`` is cached per process. Tests that change the environment call
``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the local stack keeps its embedded database and files (XDG data folder)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "espaluz"


class Settings(BaseSettings):
    """Every setting the project reads. Unset secrets are empty, and features that need them say so."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # WhatsApp Cloud API
    whatsapp_app_secret: SecretStr = SecretStr("")
    whatsapp_verify_token: SecretStr = SecretStr("")
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""
    whatsapp_graph_url: str = Field(
        "https://graph.facebook.com/v23.0",
        description="Graph API base URL; the local stack points it at its emulator.",
    )
    webhook_max_body_bytes: int = 1_000_000

    # Stripe
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = Field("", description="Override of Stripe's API base (local servers in tests).")

    # LLM providers
    groq_api_key: SecretStr = SecretStr("")
    anthropic_api_key: SecretStr = SecretStr("")

    # Modal
    modal_token_id: SecretStr = SecretStr("")
    modal_token_secret: SecretStr = SecretStr("")

    # Infrastructure
    database_url: str = ""
    redis_url: str = ""
    queue_url: str = ""
    espaluz_data_dir: Path = Field(default_factory=default_data_dir)

    # Behaviour
    dedupe_ttl_seconds: int = Field(7 * 24 * 3600, description="How long a seen wamid is remembered.")
    conversation_ttl_seconds: int = Field(
        24 * 3600, description="Conversation state follows the 24 h window."
    )
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; see module docstring)."""
    return Settings()
