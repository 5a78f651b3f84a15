"""Cached grammar explanations and culture notes, by topic, level, dialect and explanation language.

A generic explanation of *ser/estar* for an A2 learner of rioplatense Spanish who reads English is the
same for every such learner: it is generated once, then served from Redis in a millisecond at no token
cost. Only answers from a provider are cached (an engine fallback is not worth keeping, and caching it
would hide the provider's return). Values are the agents' pydantic outputs as JSON; a value that no
longer validates (the model changed) is a miss. Redis being down is a miss too, never an error.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
PREFIX = "llmcache:v1"


def slug(text: str) -> str:
    """A cache-key-safe topic: lower case, accents off, words joined by ``_`` (max 60 chars)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:60] or "general"


class ExplanationCache:
    def __init__(self, client: RedisClient, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(kind: str, topic: str, level: str, dialect: str, language: str) -> str:
        return f"{PREFIX}:{kind}:{slug(topic)}:{level}:{dialect}:{language}"

    def get(self, model: type[M], kind: str, topic: str, level: str, dialect: str, language: str) -> M | None:
        try:
            raw = self.redis.get(self.key(kind, topic, level, dialect, language))
        except Exception:  # Redis gone: serve without the cache
            logger.warning("explanation cache unavailable (get)", exc_info=True)
            return None
        if raw is None:
            return None
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            return None

    def put(self, value: BaseModel, kind: str, topic: str, level: str, dialect: str, language: str) -> None:
        try:
            self.redis.set(
                self.key(kind, topic, level, dialect, language), value.model_dump_json(), ex=self.ttl_seconds
            )
        except Exception:
            logger.warning("explanation cache unavailable (put)", exc_info=True)
