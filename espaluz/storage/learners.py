"""Learners in Postgres, found by either WhatsApp identity and keyed by an internal UUID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row


@dataclass(frozen=True, slots=True)
class Identity:
    """Who wrote: a business-scoped user id (BSUID), a phone number (wa_id), or both."""

    bsuid: str | None
    wa_id: str | None
    name: str = ""

    def __post_init__(self) -> None:
        if not (self.bsuid or self.wa_id):
            raise ValueError("an identity needs a BSUID or a wa_id")

    @property
    def key_material(self) -> str:
        """The identifier used for the learner key: the BSUID when known (stable), else wa_id."""
        return f"bsuid:{self.bsuid}" if self.bsuid else f"wa:{self.wa_id}"


@dataclass(frozen=True, slots=True)
class Learner:
    id: UUID
    wa_id: str | None
    bsuid: str | None
    display_name: str
    business_phone_number_id: str
    level: str
    dialect: str
    native_language: str
    plan: str
    plan_status: str
    last_inbound_at: datetime | None = None
    opted_out: bool = False
    marketing_opt_out: bool = False
    is_new: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "learner_id": str(self.id),
            "wa_id": self.wa_id,
            "bsuid": self.bsuid,
            "name": self.display_name,
            "level": self.level,
            "dialect": self.dialect,
            "native_language": self.native_language,
            "plan": self.plan,
            "plan_status": self.plan_status,
        }


_COLUMNS = (
    "id, wa_id, bsuid, display_name, business_phone_number_id, level, dialect, native_language, "
    "plan, plan_status, last_inbound_at, opted_out_at IS NOT NULL AS opted_out, marketing_opt_out"
)


def _learner(row: dict[str, Any], is_new: bool = False) -> Learner:
    return Learner(**row, is_new=is_new)


def get(conn: psycopg.Connection[Any], learner_id: UUID) -> Learner | None:
    """The learner with this internal id, if any."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM learners WHERE id = %s", (learner_id,))  # noqa: S608
        row = cur.fetchone()
    return _learner(row) if row else None


def find(conn: psycopg.Connection[Any], whatsapp_id: str) -> Learner | None:
    """The learner with this wa_id or BSUID, if any."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM learners WHERE wa_id = %s OR bsuid = %s LIMIT 1",  # noqa: S608
            (whatsapp_id, whatsapp_id),
        )
        row = cur.fetchone()
    return _learner(row) if row else None


def upsert(
    conn: psycopg.Connection[Any],
    identity: Identity,
    phone_number_id: str,
    inbound_at: datetime | None = None,
) -> Learner:
    """Find the learner by BSUID or wa_id (filling in whichever was missing), or create one.

    Records the time of this inbound message (``inbound_at``, the message's own timestamp; default: this
    process's clock, which the send policy measures the window with, not the database's ``now()``) as the
    start of WhatsApp's 24-hour window; a late or redriven older message never moves it back.
    The caller owns the transaction.
    """
    inbound_at = inbound_at or datetime.now(UTC)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM learners
                WHERE (%(bsuid)s::text IS NOT NULL AND bsuid = %(bsuid)s)
                   OR (%(wa_id)s::text IS NOT NULL AND wa_id = %(wa_id)s)
                ORDER BY (bsuid IS NOT DISTINCT FROM %(bsuid)s) DESC
                LIMIT 1 FOR UPDATE""",  # noqa: S608
            {"bsuid": identity.bsuid, "wa_id": identity.wa_id},
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(
                # created_at on this process's clock too: the offers' first session is measured from it
                f"""INSERT INTO learners (wa_id, bsuid, display_name, business_phone_number_id,
                                          last_inbound_at, created_at)
                    VALUES (%s, %s, %s, %s, %s, %s)
                    RETURNING {_COLUMNS}""",  # noqa: S608
                (
                    identity.wa_id,
                    identity.bsuid,
                    identity.name,
                    phone_number_id,
                    inbound_at,
                    datetime.now(UTC),
                ),
            )
            created = cur.fetchone()
            assert created is not None
            return _learner(created, is_new=True)
        cur.execute(
            f"""UPDATE learners SET
                    wa_id = COALESCE(wa_id, %(wa_id)s),
                    bsuid = COALESCE(bsuid, %(bsuid)s),
                    display_name = CASE WHEN %(name)s <> '' THEN %(name)s ELSE display_name END,
                    business_phone_number_id = %(pnid)s,
                    last_inbound_at = GREATEST(last_inbound_at, %(at)s)
                WHERE id = %(id)s
                RETURNING {_COLUMNS}""",  # noqa: S608
            {
                "wa_id": identity.wa_id,
                "bsuid": identity.bsuid,
                "name": identity.name,
                "pnid": phone_number_id,
                "at": inbound_at,
                "id": row["id"],
            },
        )
        updated = cur.fetchone()
        assert updated is not None
        return _learner(updated)


def remember_group(conn: psycopg.Connection[Any], learner_id: UUID, learner_key: str) -> None:
    """Keep the learner's message group (the webhook's learner key, an HMAC of their WhatsApp identity)
    so that billing's notices join the same FIFO group as the learner's messages without needing Meta's
    app secret (espaluz.billing.notify)."""
    conn.execute(
        "UPDATE learners SET learner_key = %s WHERE id = %s AND learner_key IS DISTINCT FROM %s",
        (learner_key, learner_id, learner_key),
    )


def set_opted_out(conn: psycopg.Connection[Any], learner_id: UUID, opted_out: bool) -> None:
    """STOP/BAJA (``True``) or ALTA/START (``False``): whether proactive messages may reach the learner."""
    conn.execute(
        "UPDATE learners SET opted_out_at = CASE WHEN %s THEN COALESCE(opted_out_at, now()) END"
        " WHERE id = %s",
        (opted_out, learner_id),
    )


def set_marketing_opt_out(
    conn: psycopg.Connection[Any], learner_id: UUID, opted_out: bool, at: datetime | None = None
) -> bool:
    """The learner's "stop promotions" choice (``user_preferences`` webhook, or error 131050), made at
    ``at`` (default: this process's clock). Preference webhooks arrive in any order: an older choice than
    the one recorded changes nothing. Returns whether it was applied."""
    applied = conn.execute(
        """UPDATE learners SET marketing_opt_out = %(out)s, marketing_pref_at = %(at)s
           WHERE id = %(id)s AND (marketing_pref_at IS NULL OR marketing_pref_at <= %(at)s)""",
        {"out": opted_out, "at": at or datetime.now(UTC), "id": learner_id},
    ).rowcount
    return bool(applied)


def find_identity(conn: psycopg.Connection[Any], bsuid: str | None, wa_id: str | None) -> Learner | None:
    """The learner with this BSUID, else with this wa_id (for updates that are not messages)."""
    for whatsapp_id in (bsuid, wa_id):
        if whatsapp_id:
            found = find(conn, whatsapp_id)
            if found is not None:
                return found
    return None


def change_identity(
    conn: psycopg.Connection[Any], learner_id: UUID, *, wa_id: str | None = None, bsuid: str | None = None
) -> None:
    """Record a changed phone number or BSUID (a ``system`` message). Another learner row that already
    holds the new identifier keeps it (a number recycled to someone else is not merged silently)."""
    conn.execute(
        """UPDATE learners SET wa_id = COALESCE(%(wa_id)s, wa_id), bsuid = COALESCE(%(bsuid)s, bsuid)
           WHERE id = %(id)s
             AND NOT EXISTS (SELECT 1 FROM learners o WHERE o.id <> %(id)s
                             AND (o.wa_id = %(wa_id)s OR o.bsuid = %(bsuid)s))""",
        {"wa_id": wa_id, "bsuid": bsuid, "id": learner_id},
    )
