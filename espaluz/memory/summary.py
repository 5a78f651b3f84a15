"""A rolling summary of a learner's history: what thousands of turns add up to, in a few lines.

Built from the memories and skill cards (counts per skill, repeated mistakes, mastered skills, cultural
topics), so it costs no LLM call and is the same for the same history. It is rebuilt only when enough new
memories arrived since the last build (``min_new``), and stored in ``memory_summaries``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.memory.skills import skill_statuses

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

MAX_CHARS = 900


def _skill_name(skill: str) -> str:
    return skill.split(":", 1)[-1]


def build_summary(conn: psycopg.Connection[Any], learner_id: UUID, now: datetime) -> tuple[str, int]:
    """(summary text, number of memories it covers)."""
    total_row = conn.execute("SELECT count(*) FROM memories WHERE learner_id = %s", (learner_id,)).fetchone()
    total = int(total_row[0]) if total_row else 0
    per_skill = conn.execute(
        """SELECT skill, count(*) FILTER (WHERE performance <> 'none') AS answers,
                  count(*) FILTER (WHERE performance = 'wrong') AS errors
           FROM memories, unnest(skills) AS skill WHERE learner_id = %s
           GROUP BY skill ORDER BY count(*) DESC LIMIT 8""",
        (learner_id,),
    ).fetchall()
    mistakes = conn.execute(
        """SELECT wrong_answer, expected, reviews FROM review_items WHERE learner_id = %s
           ORDER BY reviews DESC, due LIMIT 4""",
        (learner_id,),
    ).fetchall()
    culture = conn.execute(
        """SELECT content FROM memories WHERE learner_id = %s AND kind = 'cultural_context'
           ORDER BY importance DESC, created_at DESC LIMIT 2""",
        (learner_id,),
    ).fetchall()
    statuses = skill_statuses(conn, learner_id, now)
    lines = [f"History: {total} remembered interactions."]
    if per_skill:
        parts = [f"{_skill_name(s)} {a} answers/{e} errors" for s, a, e in per_skill]
        lines.append("Practice: " + "; ".join(parts) + ".")
    mastered = sorted(_skill_name(s) for s, st in statuses.items() if st.mastered)
    if mastered:
        lines.append("Mastered: " + ", ".join(mastered) + ".")
    weak = sorted((st.retrievability, _skill_name(s)) for s, st in statuses.items() if not st.mastered)
    if weak:
        lines.append("Fragile: " + ", ".join(name for _, name in weak[:4]) + ".")
    if mistakes:
        parts = [f"{w!r} for {e.split('|')[0]!r}" for w, e, _ in mistakes]
        lines.append("Recurring mistakes: " + "; ".join(parts) + ".")
    if culture:
        lines.append("Cultural contexts met: " + " / ".join(c[0][:120] for c in culture) + ".")
    text = "\n".join(lines)
    return text[:MAX_CHARS], total


def current_summary(
    conn: psycopg.Connection[Any], learner_id: UUID, *, now: datetime | None = None, min_new: int = 20
) -> str | None:
    """The stored summary, rebuilt first when ``min_new`` memories arrived since it was built."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        "SELECT summary, memories_covered FROM memory_summaries WHERE learner_id = %s", (learner_id,)
    ).fetchone()
    count_row = conn.execute("SELECT count(*) FROM memories WHERE learner_id = %s", (learner_id,)).fetchone()
    count = int(count_row[0]) if count_row else 0
    if count == 0:
        return None
    if row is not None and count - int(row[1]) < min_new:
        return str(row[0])
    text, covered = build_summary(conn, learner_id, now)
    conn.execute(
        """INSERT INTO memory_summaries (learner_id, summary, memories_covered, updated_at)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (learner_id) DO UPDATE SET summary = EXCLUDED.summary,
               memories_covered = EXCLUDED.memories_covered, updated_at = EXCLUDED.updated_at""",
        (learner_id, text, covered, now),
    )
    return text
