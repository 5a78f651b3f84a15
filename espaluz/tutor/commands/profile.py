"""The learner profile beyond ``storage.learners``: what onboarding and the commands read and write.

``level``, ``dialect`` and ``native_language`` are columns of ``learners`` since 0001; goals, the consent
to study reminders and the end of onboarding come with migration 0006. Functions take a connection and
do not commit: the caller owns the transaction.

``dialect`` holds the learner's target variety as a country code of the culture guide's table
(``mx co ar es pa caribe pe cl``) or the older region names (``latam spain rioplatense``).
:func:`engine_dialect` maps any of them to the three dialects the Spanish engine knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    import psycopg

LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1")
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "pt": "Português"}
# code -> (row title, description); the order is the order of the onboarding list (<= 10 rows).
DIALECTS: dict[str, tuple[str, str]] = {
    "mx": ("México", "tú/usted, «¿qué onda?»"),
    "co": ("Colombia", "usted frecuente, «¡qué chévere!»"),
    "ar": ("Argentina", "voseo: vos tenés, vos sos"),
    "es": ("España", "vosotros, distinción c/z"),
    "pa": ("Panamá", "«¿qué xopá?»"),
    "caribe": ("Caribe", "Cuba, Puerto Rico, R. Dominicana"),
    "pe": ("Perú", "«bacán», «chamba»"),
    "cl": ("Chile", "«¿cachái?»"),
    "latam": ("Latinoamérica general", "neutral, sin país concreto"),
}
_ENGINE_DIALECT = {"es": "spain", "spain": "spain", "ar": "rioplatense", "rioplatense": "rioplatense"}
# code -> (row title, description in English)
GOALS: dict[str, tuple[str, str]] = {
    "travel": ("Viajar", "Travel"),
    "work": ("Trabajo", "Work and career"),
    "family": ("Familia y amigos", "Family, partner, friends"),
    "living": ("Vivir en un país", "Living abroad"),
    "exam": ("Examen (DELE, SIELE)", "An exam"),
    "culture": ("Cultura", "Films, music, books"),
    "conversation": ("Conversar", "Just to chat"),
}


def engine_dialect(dialect: str) -> str:
    """The Spanish engine's dialect (``latam``, ``spain`` or ``rioplatense``) for a stored dialect."""
    return _ENGINE_DIALECT.get((dialect or "").lower(), "latam")


def dialect_name(dialect: str) -> str:
    """A human name for a stored dialect code (the code itself when unknown)."""
    named = DIALECTS.get(dialect)
    if named:
        return named[0]
    return {"spain": "España", "rioplatense": "Argentina / Uruguay"}.get(dialect, dialect)


@dataclass(frozen=True, slots=True)
class Profile:
    level: str
    dialect: str
    native_language: str
    goals: tuple[str, ...]
    reminders_consent: bool | None
    onboarded_at: datetime | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "dialect": self.dialect,
            "native_language": self.native_language,
            "goals": list(self.goals),
            "reminders_consent": self.reminders_consent,
            "onboarded_at": self.onboarded_at.isoformat() if self.onboarded_at else None,
            "created_at": self.created_at.isoformat(),
        }


def load(conn: psycopg.Connection[Any], learner_id: UUID) -> Profile | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT level, dialect, native_language, goals, reminders_consent, onboarded_at, created_at
               FROM learners WHERE id = %s""",
            (learner_id,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return Profile(**{**row, "goals": tuple(row["goals"] or ())})


def set_level(conn: psycopg.Connection[Any], learner_id: UUID, level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    conn.execute("UPDATE learners SET level = %s WHERE id = %s", (level, learner_id))


def set_dialect(conn: psycopg.Connection[Any], learner_id: UUID, dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    conn.execute("UPDATE learners SET dialect = %s WHERE id = %s", (dialect, learner_id))


def set_native_language(conn: psycopg.Connection[Any], learner_id: UUID, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    conn.execute("UPDATE learners SET native_language = %s WHERE id = %s", (language, learner_id))


def set_goals(conn: psycopg.Connection[Any], learner_id: UUID, goals: list[str]) -> None:
    unknown = [g for g in goals if g not in GOALS]
    if unknown:
        raise ValueError(f"unknown goals {unknown!r}")
    conn.execute("UPDATE learners SET goals = %s WHERE id = %s", (list(dict.fromkeys(goals)), learner_id))


def set_reminders_consent(conn: psycopg.Connection[Any], learner_id: UUID, consent: bool) -> None:
    conn.execute(
        "UPDATE learners SET reminders_consent = %s, reminders_consent_at = now() WHERE id = %s",
        (consent, learner_id),
    )


def mark_onboarded(conn: psycopg.Connection[Any], learner_id: UUID) -> None:
    """Onboarding is over (finished or skipped): it is not offered again."""
    conn.execute(
        "UPDATE learners SET onboarded_at = COALESCE(onboarded_at, now()) WHERE id = %s", (learner_id,)
    )


def is_onboarded(conn: psycopg.Connection[Any], learner_id: UUID) -> bool:
    row = conn.execute(
        "SELECT onboarded_at IS NOT NULL FROM learners WHERE id = %s", (learner_id,)
    ).fetchone()
    return bool(row and row[0])


def erase(conn: psycopg.Connection[Any], learner_id: UUID) -> bool:
    """Delete the learner row; every table that names the learner cascades (turns, drill attempts,
    memories, skill cards, billing rows, offers, LLM usage). True if the learner existed."""
    return bool(conn.execute("DELETE FROM learners WHERE id = %s", (learner_id,)).rowcount)
