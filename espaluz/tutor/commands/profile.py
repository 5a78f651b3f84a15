"""The learner profile beyond ``storage.learners``: what onboarding and the commands read and write.

``level``, ``dialect`` and ``native_language`` are columns of ``learners`` since 0001; goals, the consent
to study reminders and the end of onboarding come with migration 0006. Functions take a connection and
do not commit: the caller owns the transaction.

``native_language`` is the explanation language: ``en`` or ``es`` (:data:`LANGUAGES`). Portuguese was
once offered and may still be stored: :func:`explanation_language` reads it as English (why: see there).

The daily reminder comes at ``reminder_hour`` (0-23, default 19) on the learner's ``timezone`` (an IANA
name; NULL until filled from the phone's country code, migration 0008): :attr:`Profile.zone` is the zone
in force either way, :func:`zone_name` its readable city and :func:`zone_of_words` what a learner typed.

``dialect`` holds the learner's target variety as a country code of the culture guide's table
(``mx co ar es pa caribe pe cl``) or the older region names (``latam spain rioplatense``).
:func:`engine_dialect` maps any of them to the three dialects the Spanish engine knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from espaluz.scheduler.zones import known_zones, valid_zone, zone_for
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


# Zones shown with a name of their own (Spanish, English); any other shows its city part.
ZONE_NAMES: dict[str, tuple[str, str]] = {
    "America/Mexico_City": ("Ciudad de México", "Mexico City"),
    "America/Cancun": ("Cancún", "Cancún"),
    "America/Bogota": ("Bogotá", "Bogotá"),
    "America/Argentina/Buenos_Aires": ("Buenos Aires", "Buenos Aires"),
    "America/Santiago": ("Santiago de Chile", "Santiago de Chile"),
    "America/Havana": ("La Habana", "Havana"),
    "America/Asuncion": ("Asunción", "Asunción"),
    "America/Panama": ("Panamá", "Panama"),
    "America/New_York": ("Nueva York", "New York"),
    "America/Los_Angeles": ("Los Ángeles", "Los Angeles"),
    "America/Sao_Paulo": ("São Paulo", "São Paulo"),
    "Atlantic/Canary": ("Canarias", "Canary Islands"),
    "Europe/London": ("Londres", "London"),
    "Europe/Paris": ("París", "Paris"),
    "Europe/Berlin": ("Berlín", "Berlin"),
    "Europe/Rome": ("Roma", "Rome"),
    "Europe/Lisbon": ("Lisboa", "Lisbon"),
    "Europe/Brussels": ("Bruselas", "Brussels"),
    "Europe/Zurich": ("Zúrich", "Zurich"),
    "Europe/Vienna": ("Viena", "Vienna"),
    "Europe/Stockholm": ("Estocolmo", "Stockholm"),
    "Europe/Warsaw": ("Varsovia", "Warsaw"),
    "Europe/Dublin": ("Dublín", "Dublin"),
    "Europe/Moscow": ("Moscú", "Moscow"),
    "Asia/Tokyo": ("Tokio", "Tokyo"),
    "Asia/Shanghai": ("Shanghái", "Shanghai"),
    "Australia/Sydney": ("Sídney", "Sydney"),
}
# Countries and other words learners type for a zone (folded), beyond the zones' own names.
_ZONE_WORDS: dict[str, str] = {
    "mexico": "America/Mexico_City", "cdmx": "America/Mexico_City", "df": "America/Mexico_City",
    "espana": "Europe/Madrid", "españa": "Europe/Madrid", "spain": "Europe/Madrid",
    "colombia": "America/Bogota", "argentina": "America/Argentina/Buenos_Aires",
    "chile": "America/Santiago", "peru": "America/Lima", "venezuela": "America/Caracas",
    "cuba": "America/Havana", "ecuador": "America/Guayaquil", "quito": "America/Guayaquil",
    "bolivia": "America/La_Paz", "paraguay": "America/Asuncion", "uruguay": "America/Montevideo",
    "guatemala": "America/Guatemala", "honduras": "America/Tegucigalpa", "nicaragua": "America/Managua",
    "costa rica": "America/Costa_Rica", "san jose": "America/Costa_Rica", "panama": "America/Panama",
    "san juan": "America/Puerto_Rico", "republica dominicana": "America/Santo_Domingo",
    "dominican republic": "America/Santo_Domingo", "canarias": "Atlantic/Canary",
    "estados unidos": "America/New_York", "eeuu": "America/New_York", "usa": "America/New_York",
    "us": "America/New_York", "california": "America/Los_Angeles", "texas": "America/Chicago",
    "brasil": "America/Sao_Paulo", "brazil": "America/Sao_Paulo", "reino unido": "Europe/London",
    "uk": "Europe/London", "inglaterra": "Europe/London", "england": "Europe/London",
    "alemania": "Europe/Berlin", "germany": "Europe/Berlin", "francia": "Europe/Paris",
    "france": "Europe/Paris", "italia": "Europe/Rome", "italy": "Europe/Rome", "portugal": "Europe/Lisbon",
    "nueva york": "America/New_York",
}  # fmt: skip
# Regions whose zones are places (not the legacy aliases "US/Eastern", "Cuba", "Etc/GMT+5"...).
_PLACE_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/",
                  "Indian/", "Pacific/")  # fmt: skip


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


def zone_name(zone: str, language: str = "es") -> str:
    """A zone as a learner reads it: a known city name in their language, else the city part of the
    IANA name with spaces ("America/Argentina/Buenos_Aires" -> "Buenos Aires")."""
    named = ZONE_NAMES.get(zone)
    if named:
        return named[1] if language == "en" else named[0]
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@cache
def _zone_index() -> dict[str, str]:
    """Folded typed forms -> IANA zone: every zone name ("europe/madrid"), the city part of each place
    zone ("madrid", "buenos aires"), the named cities in both languages and the country words. When two
    place zones share a city part, the shorter name wins ("America/Indianapolis")."""
    index: dict[str, str] = {}
    for zone in sorted(known_zones(), key=lambda z: (len(z), z)):
        if zone.startswith(_PLACE_REGIONS):
            index.setdefault(fold(zone.rsplit("/", 1)[-1].replace("_", " ")), zone)
    for zone in known_zones():
        index[fold(zone)] = zone
        index[fold(zone.replace("_", " "))] = zone
    for zone, (es, en) in ZONE_NAMES.items():
        index[fold(es)] = index[fold(en)] = zone
    index.update(_ZONE_WORDS)
    return {said: zone for said, zone in index.items() if valid_zone(zone)}


def zone_of_words(text: str) -> str | None:
    """The IANA zone a learner typed: an IANA name ("Europe/Madrid", any case), a city part of one
    ("Madrid", "buenos aires"), a named city in Spanish or English ("Ciudad de México", "Nueva York") or a
    country ("España", "Colombia"); accents and case ignored. None when it names no zone."""
    said = fold(text).removeprefix("hora de ").removeprefix("de ").strip()
    if not said:
        return None
    return _zone_index().get(said) or _zone_index().get(said.replace(" / ", "/"))


@dataclass(frozen=True, slots=True)
class Profile:
    level: str
    dialect: str
    native_language: str
    goals: tuple[str, ...]
    reminders_consent: bool | None
    onboarded_at: datetime | None
    created_at: datetime
    reminder_hour: int = 19
    timezone: str | None = None  # as stored: NULL until filled from the phone number or chosen
    wa_id: str | None = None

    @property
    def zone(self) -> str:
        """The zone the reminders follow: the stored one, else the phone number's country zone (what
        the scheduler will store)."""
        return self.timezone or zone_for(self.wa_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "dialect": self.dialect,
            "native_language": self.native_language,
            "goals": list(self.goals),
            "reminders_consent": self.reminders_consent,
            "reminder_hour": self.reminder_hour,
            "timezone": self.timezone,
            "onboarded_at": self.onboarded_at.isoformat() if self.onboarded_at else None,
            "created_at": self.created_at.isoformat(),
        }


def load(conn: psycopg.Connection[Any], learner_id: UUID) -> Profile | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT level, dialect, native_language, goals, reminders_consent, onboarded_at, created_at,
                      reminder_hour, timezone, wa_id
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


def set_reminder_hour(conn: psycopg.Connection[Any], learner_id: UUID, hour: int) -> str:
    """The daily reminder at ``hour`` local, which also turns reminders on (choosing an hour is consent);
    a zone never stored is stored now, the one the learner was shown. Returns the zone in force. The caller
    checks ``hour`` against the quiet hours."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour out of range {hour!r}")
    conn.execute(
        """UPDATE learners SET reminder_hour = %s, reminders_consent = true, reminders_consent_at = now()
           WHERE id = %s""",
        (hour, learner_id),
    )
    return fill_timezone(conn, learner_id)


def set_timezone(conn: psycopg.Connection[Any], learner_id: UUID, zone: str) -> None:
    if not valid_zone(zone):
        raise ValueError(f"unknown zone {zone!r}")
    conn.execute("UPDATE learners SET timezone = %s WHERE id = %s", (zone, learner_id))


def fill_timezone(conn: psycopg.Connection[Any], learner_id: UUID) -> str:
    """The learner's zone, stored from the phone number's country when still NULL (as the scheduler
    would), so that what a confirmation says is what the reminder follows. Returns the zone."""
    row = conn.execute("SELECT timezone, wa_id FROM learners WHERE id = %s", (learner_id,)).fetchone()
    if row is None:
        return zone_for(None)
    if row[0]:
        return str(row[0])
    zone = zone_for(row[1])
    conn.execute("UPDATE learners SET timezone = %s WHERE id = %s AND timezone IS NULL", (zone, learner_id))
    return zone


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
