"""The learner profile beyond ``storage.learners``: what onboarding and the commands read and write.

``level``, ``dialect`` and ``native_language`` are columns of ``learners`` since 0001; goals, the consent
to study reminders and the end of onboarding come with migration 0006. Functions take a connection and
do not commit: the caller owns the transaction.

``native_language`` is the explanation language: ``en`` or ``es`` (:data:`LANGUAGES`). Portuguese was
once offered and may still be stored: :func:`explanation_language` reads it as English (why: see there).

``dialect`` holds the learner's target variety as a country code of the culture guide's table
(``mx co ar es pa caribe pe cl``) or the older region names (``latam spain rioplatense``).
:func:`engine_dialect` maps any of them to the three dialects the Spanish engine knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from espaluz.text import fold

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    import psycopg

LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1")
# The explanation languages offered: code -> button title. Only languages every fixed text is written in.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
# code -> (name in Spanish, name in English), as the profile and the confirmations show it
LANGUAGE_NAMES: dict[str, tuple[str, str]] = {"es": ("español", "Spanish"), "en": ("inglés", "English")}
# What a learner may type for a language; the ones not in LANGUAGES get "not offered" answers.
LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"en", "english", "ingles"}),
    "es": frozenset({"es", "español", "espanol", "spanish", "castellano"}),
    "pt": frozenset({"pt", "portugues", "portuguese"}),
}
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


# Typed names of the dialects besides their titles and codes (folded: no accents, lower case).
_DIALECT_WORDS: dict[str, str] = {
    "spain": "es",
    "espana": "es",
    "españa": "es",
    "spanish from spain": "es",
    "mexico": "mx",
    "argentina": "ar",
    "uruguay": "ar",
    "rioplatense": "ar",
    "caribbean": "caribe",
    "cuba": "caribe",
    "puerto rico": "caribe",
    "republica dominicana": "caribe",
    "dominican republic": "caribe",
    "panama": "pa",
    "peru": "pe",
    "latin america": "latam",
    "latinoamerica": "latam",
    "latam": "latam",
    "neutral": "latam",
}


def explanation_language(code: str | None) -> str:
    """The explanation language to use for a stored ``native_language``: ``es`` or ``en``.

    Anything but ``es`` is English, ``pt`` included. Portuguese was offered at onboarding, but no fixed
    text is written in Portuguese: ``texts.tr`` glosses only in English and the exercise path
    (``tutor.exercise.language_of``) already explains to everyone but Spanish speakers in English.
    A learner who chose Portuguese therefore reads English glosses everywhere, the same as the rest
    of the tutor, rather than Spanish here and something else there."""
    return "es" if code == "es" else "en"


def language_of_words(text: str) -> str | None:
    """The language code a learner typed ("inglés", "English", "español"...), Portuguese included so
    that the caller can say it is not offered; None when no language is named."""
    said = fold(text)
    return next((code for code, words in LANGUAGE_WORDS.items() if said in words), None)


def dialect_of_words(text: str) -> str | None:
    """The dialect code a learner typed: a code, a row title ("España", "Latinoamérica general"), or a
    country or region name in Spanish or English; None when it names no dialect we offer."""
    said = fold(text)
    if not said:
        return None
    if said in DIALECTS:
        return said
    titles = {fold(title): code for code, (title, _) in DIALECTS.items()}
    return titles.get(said) or _DIALECT_WORDS.get(said)


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
