"""Delete my data (with a confirmation that cannot be forged or replayed) and export my data.

Deletion is confirmed by a reply button whose id carries a one-time token kept in the conversation state
(``state.extra["delete_confirm"]``: token and expiry). Only a tap on that button, within
``CONFIRM_TTL``, confirms; any confirmation attempt (right, wrong or late) consumes the token, so an old
or forged button id deletes nothing and a second tap cannot repeat the deletion. Typing "sí" does not
confirm: an irreversible step needs the button.

The export gathers everything stored about the learner and nothing about anybody else: every query is
filtered by the learner's id (and the memory export is ``espaluz.memory.store.export_learner``).

The erasure itself (rows, Redis keys, voice notes, dead letters, the Stripe customer) is
``espaluz.tutor.erasure.erase_learner``, run by ``CommandCenter.erase`` after the goodbye is sent.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from espaluz.memory.store import export_learner as export_memories
from espaluz.tutor.commands import profile as profiles
from espaluz.tutor.commands.texts import tr
from espaluz.whatsapp.outgoing import Button, Reply

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

    from espaluz.storage.learners import Learner
    from espaluz.storage.redis import RedisClient
    from espaluz.tutor.state import ConversationState

CONFIRM_KEY = "delete_confirm"
CONFIRM_TTL = timedelta(minutes=10)
CONFIRM_PREFIX = "del:yes:"
CANCEL_ID = "del:no"
PAID = ("active", "trialing", "past_due")


def ask_confirmation(learner: Learner, state: ConversationState, now: datetime) -> Reply:
    """Explain what will be deleted and offer the confirmation button (a fresh one-time token)."""
    token = secrets.token_urlsafe(12)
    state.extra[CONFIRM_KEY] = {"token": token, "expires_at": (now + CONFIRM_TTL).timestamp()}
    lang = learner.native_language
    text = tr(
        lang,
        "🗑️ *Borrar mis datos*\n\n"
        "Voy a borrar *todo* lo que Espaluz guarda de ti: tu perfil y nivel, tus mensajes con el tutor "
        "y tus notas de voz, tus ejercicios y tu progreso, lo que recuerdo de ti, tus datos de plan "
        "(también tu ficha de cliente en Stripe) y el uso de la IA. "
        "No se puede deshacer.\n\nEl botón vale 10 minutos.",
        "This deletes everything Espaluz stores about you (profile, messages, voice notes, exercises, "
        "progress, memories, plan data including your customer record at Stripe, AI usage). It cannot be "
        "undone. The button is valid for 10 minutes.",
    )
    if learner.plan_status in PAID:
        text += "\n\n" + tr(
            lang,
            "⚠️ Tienes una suscripción activa: al borrar tus datos también la cancelo, al momento y sin "
            "más cobros.",
            "You have an active subscription: deleting your data also cancels it, at once, with no further "
            "charges.",
        )
    return Reply(
        text,
        buttons=(Button(f"{CONFIRM_PREFIX}{token}", "Sí, borrar todo"), Button(CANCEL_ID, "No, cancelar")),
    )


def confirm(state: ConversationState, reply_id: str, now: datetime) -> bool:
    """Whether ``reply_id`` is the live confirmation button. Consumes the token either way."""
    pending = state.extra.pop(CONFIRM_KEY, None)
    if not isinstance(pending, dict) or not reply_id.startswith(CONFIRM_PREFIX):
        return False
    token = str(pending.get("token") or "")
    try:
        expires = float(pending.get("expires_at") or 0)
    except (TypeError, ValueError):
        return False
    given = reply_id[len(CONFIRM_PREFIX) :]
    return bool(token) and hmac.compare_digest(given.encode(), token.encode()) and now.timestamp() <= expires


def cancel(state: ConversationState) -> None:
    state.extra.pop(CONFIRM_KEY, None)


def goodbye(learner: Learner) -> Reply:
    return Reply(
        tr(
            learner.native_language,
            "✅ Listo: he borrado todos tus datos. ¡Gracias por aprender conmigo! "
            "Si me escribes otra vez, empezaremos desde cero. 👋",
            "Done: all your data is deleted. If you write again, we start from scratch.",
        )
    )


def rejected(learner: Learner) -> Reply:
    return Reply(
        tr(
            learner.native_language,
            "No he borrado nada: ese botón ya no es válido. Si quieres borrar tus datos, escribe *borrar*.",
            "Nothing was deleted: that button is no longer valid. Write *borrar* to start again.",
        )
    )


def cancelled(learner: Learner) -> Reply:
    return Reply(
        tr(learner.native_language, "De acuerdo, no he borrado nada. 👍", "OK, nothing was deleted."),
        buttons=(Button("practice", "Practicar"),),
    )


def erase_dead_letters(
    client: RedisClient,
    queue_name: str,
    learner_id: UUID,
    wa_id: str | None,
    bsuid: str | None,
    *,
    learner_key: str | None = None,
) -> int:
    """Delete the learner's dead letters from local queue ``queue_name``; returns how many. Kept for
    callers of this name: the one implementation is ``espaluz.tutor.erasure.erase_local_dead_letters``
    (which the whole erasure, ``erasure.erase_learner``, uses)."""
    from espaluz.tutor.erasure import Identity, erase_local_dead_letters

    identity = Identity(learner_id, wa_id=wa_id, bsuid=bsuid, learner_key=learner_key)
    return erase_local_dead_letters(client, queue_name, identity)


def _rows(conn: psycopg.Connection[Any], sql: str, learner_id: UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, (learner_id,))
        return [{k: _plain(v) for k, v in row.items()} for row in cur.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUID, Decimal


def export_data(
    conn: psycopg.Connection[Any], learner: Learner, state: ConversationState, now: datetime
) -> dict[str, Any]:
    """Everything stored about ``learner`` as JSON-ready data (strings, numbers, lists, dicts)."""
    lid = learner.id
    profile = profiles.load(conn, lid)
    conversation = json.loads(state.to_json())
    conversation.get("extra", {}).pop(CONFIRM_KEY, None)  # a live deletion token is not data about them
    return {
        "format": "espaluz-export/1",
        "exported_at": now.isoformat(),
        "learner": {**learner.to_json(), **(profile.to_json() if profile else {})},
        "turns": _rows(
            conn,
            """SELECT wamid, status, route, received_at, answered_at, reply_wamids, latency_ms
               FROM turns WHERE learner_id = %s ORDER BY received_at, wamid""",
            lid,
        ),
        "drill_attempts": _rows(
            conn,
            """SELECT skill, prompt, expected, answer, verdict, created_at
               FROM drill_attempts WHERE learner_id = %s ORDER BY created_at, id""",
            lid,
        ),
        "memory": _plain(export_memories(conn, lid)),
        "proactive_messages": _rows(
            conn,
            """SELECT kind, slot, status, channel, reason, queued_at, sent_at
               FROM proactive_messages WHERE learner_id = %s ORDER BY queued_at, kind""",
            lid,
        ),
        "billing": {
            "entitlement": next(
                iter(_rows(conn, "SELECT * FROM entitlements WHERE learner_id = %s", lid)), None
            ),
            "customers": _rows(
                conn, "SELECT customer_id, created_at FROM billing_customers WHERE learner_id = %s", lid
            ),
            "subscriptions": _rows(
                conn, "SELECT * FROM subscriptions WHERE learner_id = %s ORDER BY synced_at", lid
            ),
            "offers": _rows(conn, "SELECT * FROM offers WHERE learner_id = %s ORDER BY offered_at", lid),
            "offer_preferences": next(
                iter(_rows(conn, "SELECT * FROM offer_preferences WHERE learner_id = %s", lid)), None
            ),
        },
        "llm_usage": _rows(
            conn,
            """SELECT wamid, agent, provider, model, tokens_in, tokens_out, cache_read_tokens,
                      cache_write_tokens, latency_ms, outcome, created_at
               FROM llm_usage WHERE learner_id = %s ORDER BY created_at, id""",
            lid,
        ),
        "conversation_state": conversation,
    }


def export_reply(learner: Learner, export: dict[str, Any]) -> Reply:
    counts = (
        f"{len(export['turns'])} mensajes, {len(export['drill_attempts'])} ejercicios, "
        f"{len(export['memory'].get('memories', []))} recuerdos"
    )
    return Reply(
        tr(
            learner.native_language,
            f"📦 Aquí tienes *todos tus datos* en un archivo JSON ({counts}).",
            "Here is all your data as a JSON file.",
        )
    )
