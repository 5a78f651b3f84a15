"""Memories in Postgres: write (with their embedding), list, forget, export and delete.

The embedding dimension is part of the schema (``memories.embedding vector(N)`` and the one-row table
``memory_embedding``). ``check_embedder`` runs at startup: it claims the table for the configured
embedder the first time and refuses, with ``EmbeddingSchemaError``, an embedder of another dimension or
another model, whose vectors would be silently incomparable with the stored ones.

Timestamps are passed in (``now``) so that decay and scheduling can be tested on a simulated clock. The
caller owns the transaction (functions take a connection and do not commit).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from espaluz.memory.kinds import MemoryKind, Performance, current_importance, importance

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    import psycopg

    from espaluz.memory.embedders import Embedder

logger = logging.getLogger(__name__)


class EmbeddingSchemaError(RuntimeError):
    """The configured embedder does not fit the schema; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Memory:
    id: int
    learner_id: UUID
    kind: MemoryKind
    content: str
    skills: tuple[str, ...]
    performance: Performance
    engagement: float
    importance: float
    created_at: datetime
    source_wamid: str | None = None

    def importance_at(self, now: datetime) -> float:
        """Importance after decay (routine fades in days, breakthroughs in months)."""
        return current_importance(self.kind, self.importance, self.created_at, now)

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "content": self.content,
            "skills": list(self.skills),
            "performance": self.performance.value,
            "engagement": self.engagement,
            "importance": self.importance,
            "created_at": self.created_at.isoformat(),
        }
        if now is not None:
            data["importance_now"] = round(self.importance_at(now), 4)
        return data


MEMORY_COLUMNS = (
    "id, learner_id, kind, content, skills, performance, engagement, importance, created_at, source_wamid"
)


def memory_from_row(row: dict[str, Any]) -> Memory:
    return Memory(
        id=int(row["id"]),
        learner_id=row["learner_id"],
        kind=MemoryKind(row["kind"]),
        content=row["content"],
        skills=tuple(row["skills"] or ()),
        performance=Performance(row["performance"]),
        engagement=float(row["engagement"]),
        importance=float(row["importance"]),
        created_at=row["created_at"],
        source_wamid=row.get("source_wamid"),
    )


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form; sent as text and cast with ``::vector`` (no per-connection adapters)."""
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"


_DIM = re.compile(r"vector\((\d+)\)")


def schema_dimension(conn: psycopg.Connection[Any]) -> tuple[int, str | None]:
    """(dimension, embedder name or None) as recorded; checks the column type agrees with the record."""
    row = conn.execute("SELECT dimension, embedder FROM memory_embedding").fetchone()
    column = conn.execute(
        """SELECT format_type(atttypid, atttypmod) FROM pg_attribute
           WHERE attrelid = 'memories'::regclass AND attname = 'embedding'"""
    ).fetchone()
    if row is None or column is None:
        raise EmbeddingSchemaError("the memory schema is missing: run `espaluz migrate`")
    match = _DIM.fullmatch(str(column[0]))
    if match is None or int(match.group(1)) != int(row[0]):
        raise EmbeddingSchemaError(
            f"memories.embedding is {column[0]} but memory_embedding records {row[0]} dimensions"
        )
    return int(row[0]), row[1]


def check_embedder(conn: psycopg.Connection[Any], embedder: Embedder) -> None:
    """Refuse an embedder that does not fit the schema; claim the schema for it on first use."""
    dimension, claimed = schema_dimension(conn)
    if embedder.dimension != dimension:
        raise EmbeddingSchemaError(
            f"embedder {embedder.name} gives {embedder.dimension} dimensions but the schema stores "
            f"vector({dimension}); set EMBEDDING_DIM={dimension} or write a migration that changes the "
            "column and re-embeds the memories"
        )
    if claimed is None:
        conn.execute(
            "UPDATE memory_embedding SET embedder = %s, claimed_at = now() WHERE embedder IS NULL",
            (embedder.name,),
        )
        row = conn.execute("SELECT embedder FROM memory_embedding").fetchone()
        claimed = row[0] if row else None
    if claimed != embedder.name:
        raise EmbeddingSchemaError(
            f"the stored memories were embedded by {claimed}, not {embedder.name}; vectors of two "
            "embedders cannot be compared: re-embed in a migration or configure EMBEDDER accordingly"
        )


class MemoryStore:
    """Writes and reads memories with one embedder (checked against the schema by ``check``)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def check(self, conn: psycopg.Connection[Any]) -> None:
        check_embedder(conn, self.embedder)

    def embed_query(self, text: str) -> list[float]:
        [vector] = self.embedder.embed([text])
        return vector

    def add(
        self,
        conn: psycopg.Connection[Any],
        learner_id: UUID,
        content: str,
        kind: MemoryKind,
        *,
        skills: Sequence[str] = (),
        performance: Performance = Performance.NONE,
        engagement: float = 1.0,
        now: datetime | None = None,
        source_wamid: str | None = None,
        embedding: Sequence[float] | None = None,
    ) -> Memory:
        """Store one memory; its importance is the kind's factor times engagement."""
        if not content.strip():
            raise ValueError("a memory needs content")
        vector = embedding if embedding is not None else self.embed_query(content)
        if len(vector) != self.embedder.dimension:
            raise EmbeddingSchemaError(
                f"embedding has {len(vector)} dimensions, not {self.embedder.dimension}"
            )
        created = now or datetime.now(UTC)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"""INSERT INTO memories (learner_id, kind, content, skills, performance, engagement,
                                          importance, embedding, source_wamid, created_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s::vector, %s, %s)
                    RETURNING {MEMORY_COLUMNS}""",  # noqa: S608
                (
                    learner_id,
                    kind.value,
                    content,
                    list(skills),
                    performance.value,
                    engagement,
                    importance(kind, engagement),
                    vector_literal(vector),
                    source_wamid,
                    created,
                ),
            )
            row = cur.fetchone()
        assert row is not None
        return memory_from_row(row)


def list_memories(
    conn: psycopg.Connection[Any], learner_id: UUID, *, now: datetime | None = None, limit: int = 10
) -> list[Memory]:
    """The learner's memories, most important first (after decay); conversation turns left out."""
    now = now or datetime.now(UTC)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {MEMORY_COLUMNS} FROM memories
                WHERE learner_id = %s AND kind <> 'conversation'""",  # noqa: S608
            (learner_id,),
        )
        memories = [memory_from_row(r) for r in cur.fetchall()]
    memories.sort(key=lambda m: (m.importance_at(now), m.created_at), reverse=True)
    return memories[:limit]


def recent_memories(conn: psycopg.Connection[Any], learner_id: UUID, limit: int) -> list[Memory]:
    """The learner's latest memories, newest first (the turn history of the context builder)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {MEMORY_COLUMNS} FROM memories WHERE learner_id = %s
                ORDER BY created_at DESC, id DESC LIMIT %s""",  # noqa: S608
            (learner_id, limit),
        )
        return [memory_from_row(r) for r in cur.fetchall()]


def forget(conn: psycopg.Connection[Any], learner_id: UUID, memory_id: int) -> bool:
    """Delete one memory of this learner (another learner's id deletes nothing). True if it existed."""
    deleted = conn.execute(
        "DELETE FROM memories WHERE id = %s AND learner_id = %s", (memory_id, learner_id)
    ).rowcount
    if deleted:
        logger.info("memory forgotten", extra={"learner_id": str(learner_id), "memory_id": memory_id})
    return bool(deleted)


def delete_learner_memories(conn: psycopg.Connection[Any], learner_id: UUID) -> int:
    """Delete everything the tutor remembers about a learner: memories (and with them their index
    entries; dead tuples leave the index at the next VACUUM), skill cards, review items, the summary.
    Returns the number of memories deleted. Deleting the learner row cascades to all of these too."""
    conn.execute("DELETE FROM review_items WHERE learner_id = %s", (learner_id,))
    conn.execute("DELETE FROM skill_cards WHERE learner_id = %s", (learner_id,))
    conn.execute("DELETE FROM memory_summaries WHERE learner_id = %s", (learner_id,))
    deleted = conn.execute("DELETE FROM memories WHERE learner_id = %s", (learner_id,)).rowcount
    logger.info("learner memories deleted", extra={"learner_id": str(learner_id), "count": deleted})
    return deleted


def export_learner(conn: psycopg.Connection[Any], learner_id: UUID) -> dict[str, Any]:
    """Everything memory holds about a learner, as JSON-ready data (vectors are described, not dumped:
    they are derived from the content, which is included)."""
    dimension, embedder = schema_dimension(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE learner_id = %s ORDER BY created_at, id",  # noqa: S608
            (learner_id,),
        )
        memories = [memory_from_row(r).to_json() for r in cur.fetchall()]
        cur.execute(
            "SELECT skill, card, due, reviews, lapses FROM skill_cards WHERE learner_id = %s ORDER BY skill",
            (learner_id,),
        )
        skills = [{**r, "due": r["due"].isoformat()} for r in cur.fetchall()]
        cur.execute(
            """SELECT id, skill, prompt, expected, wrong_answer, due, reviews, created_at
               FROM review_items WHERE learner_id = %s ORDER BY id""",
            (learner_id,),
        )
        reviews = [
            {**r, "due": r["due"].isoformat(), "created_at": r["created_at"].isoformat()}
            for r in cur.fetchall()
        ]
        cur.execute("SELECT summary, updated_at FROM memory_summaries WHERE learner_id = %s", (learner_id,))
        summary = cur.fetchone()
    return {
        "learner_id": str(learner_id),
        "embedding": {"embedder": embedder, "dimension": dimension},
        "memories": memories,
        "skills": skills,
        "reviews": reviews,
        "summary": summary["summary"] if summary else None,
    }
