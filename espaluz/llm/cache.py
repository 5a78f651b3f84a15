"""Cached grammar explanations and culture notes, by topic id, level, dialect and explanation language.

A generic explanation of *ser/estar* for an A2 learner of rioplatense Spanish who reads English is the
same for every such learner: it is generated once, then served from Redis in a millisecond at no token
cost. Only answers from a provider are cached (an engine fallback is not worth keeping, and caching it
would hide the provider's return). Values are the agents' pydantic outputs as JSON; a value that no
longer validates (the model changed) is a miss. Redis being down is a miss too, never an error.

An entry is shared by every learner with the same key for the TTL, so what keys it must not be anything
a learner or a model wrote: the cache is given the closed sets of topic ids per kind (``topics``) and
refuses (a miss, no write) any other topic, and ``general`` always (its answer depends on the question).
The caller must also not write an answer made from a turn where an injection was suspected or the guard
rejected a provider's answer (see ``espaluz.tutor.agents.grammar.explain``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
# v2: keys are closed-set topic ids; v1 entries (free-form topics a model chose) are never read again.
PREFIX = "llmcache:v2"
_PART = re.compile(r"^[A-Za-z0-9_\-]{1,60}$")


def slug(text: str) -> str:
    """A cache-key-safe label: lower case, accents off, words joined by ``_`` (max 60 chars)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:60] or "general"


class ExplanationCache:
    """``topics``: for each kind (``grammar``, ``culture``), the topic ids that may key an entry; a kind
    not named caches nothing. Without ``topics`` nothing is cached (fail closed)."""

    def __init__(
        self, client: RedisClient, ttl_seconds: int, topics: Mapping[str, Collection[str]] | None = None
    ) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds
        self.topics = {kind: frozenset(ids) - {"general"} for kind, ids in (topics or {}).items()}

    def allows(self, kind: str, topic: str) -> bool:
        """Whether ``topic`` may key a ``kind`` entry: an id of its closed set, never ``general``."""
        return topic in self.topics.get(kind, frozenset())

    @staticmethod
    def key(kind: str, topic: str, level: str, dialect: str, language: str) -> str:
        """The Redis key. Every part must be a plain label (it is our id or profile code, never text)."""
        for part in (kind, topic, level, dialect, language):
            if not _PART.match(part):
                raise ValueError("cache key parts must be plain labels")
        return f"{PREFIX}:{kind}:{topic}:{level}:{dialect}:{language}"

    def get(self, model: type[M], kind: str, topic: str, level: str, dialect: str, language: str) -> M | None:
        if not self.allows(kind, topic):
            return None
        try:
            raw = self.redis.get(self.key(kind, topic, level, dialect, language))
        except ValueError:
            return None
        except Exception:  # Redis gone: serve without the cache
            logger.warning("explanation cache unavailable (get)", exc_info=True)
            return None
        if raw is None:
            return None
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            return None

    def put(self, value: BaseModel, kind: str, topic: str, level: str, dialect: str, language: str) -> bool:
        """Store ``value``; False when refused (a topic outside the closed set, odd key parts) or Redis
        is gone."""
        if not self.allows(kind, topic):
            logger.warning("explanation cache refused a %s topic outside the closed set", kind)
            return False
        try:
            key = self.key(kind, topic, level, dialect, language)
        except ValueError:
            logger.warning("explanation cache refused odd key parts")
            return False
        try:
            self.redis.set(key, value.model_dump_json(), ex=self.ttl_seconds)
        except Exception:
            logger.warning("explanation cache unavailable (put)", exc_info=True)
            return False
        return True
