"""Conversation state in Redis: the pending drill, counters, the onboarding step.

The key expires with WhatsApp's 24-hour customer-service window, counted from the learner's last
message: state that outlives the window would describe a conversation the learner no longer sees.
Durable progress (level, attempts, plan) lives in Postgres, not here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uuid import UUID

    from espaluz.storage.redis import RedisClient


@dataclass
class PendingDrill:
    """The open exercise. ``verb``/``tense``/``person`` are empty for a choice or vocabulary item;
    ``drill_id`` names a drill-bank item; ``exercise`` is the course exercise
    (``espaluz.curriculum.exercises.Exercise.to_json``; empty for a review of a past mistake) and
    ``review`` says the course asked it as an FSRS review; ``hints`` counts the hints given, ``waits``
    the messages answered for what they were while it stayed open (espaluz.tutor.exercise)."""

    verb: str
    tense: str
    person: str
    expected: list[str]
    prompt: str
    drill_id: str = ""
    skill: str = ""
    options: list[str] = field(default_factory=list)
    hints: int = 0
    waits: int = 0
    exercise: dict[str, Any] = field(default_factory=dict)
    review: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingDrill:
        """Tolerant of states written by an older or newer version (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ConversationState:
    pending: PendingDrill | None = None
    turns: int = 0
    correct_streak: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # The text the learner's next voice note should say ("pronunciar"); None when no exercise is open.
    pending_pronunciation: str | None = None

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> ConversationState:
        if not raw:
            return cls()
        data = json.loads(raw)
        pending = data.get("pending")
        return cls(
            pending=PendingDrill.from_json(pending) if pending else None,
            turns=int(data.get("turns", 0)),
            correct_streak=int(data.get("correct_streak", 0)),
            extra=dict(data.get("extra", {})),
            pending_pronunciation=data.get("pending_pronunciation") or None,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class StateStore:
    def __init__(self, client: RedisClient, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(learner_id: UUID) -> str:
        """``conv:{<learner id>}``: the braces are a cluster hash tag, shared by every key of one learner
        (``wa:{<learner id>}:held``, ``brain:{<learner id>}:late``...), so they live in one slot."""
        return f"conv:{{{learner_id}}}"

    def load(self, learner_id: UUID) -> ConversationState:
        return ConversationState.from_json(self.redis.get(self.key(learner_id)))

    def save(self, learner_id: UUID, state: ConversationState) -> None:
        self.redis.set(self.key(learner_id), state.to_json(), ex=self.ttl_seconds)

    def delete(self, learner_id: UUID) -> None:
        self.redis.delete(self.key(learner_id))
