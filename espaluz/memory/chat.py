"""The "memoria" chat feature: the learner sees what the tutor remembers and can make it forget.

Typing *memoria* (or *memory*) lists the most important memories, with a WhatsApp list whose rows forget
one item each (row id ``mem:forget:<id>``) and a last row that forgets everything after a confirmation
(``mem:forget-all`` -> buttons ``mem:forget-all:yes`` / ``mem:list``). Forgetting is scoped to the learner
who tapped: an id of someone else's memory forgets nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.memory.kinds import KIND_LABEL
from espaluz.memory.store import delete_learner_memories, forget, list_memories
from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, MAX_ROW_DESCRIPTION, Button, ListRow, Reply

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

logger = logging.getLogger(__name__)

COMMAND_WORDS = {"memoria", "memory", "mi memoria", "my memory", "que recuerdas", "qué recuerdas"}
LIST_ID = "mem:list"
FORGET_PREFIX = "mem:forget:"
FORGET_ALL = "mem:forget-all"
FORGET_ALL_YES = "mem:forget-all:yes"
SHOWN = 9  # list rows: 9 memories + "forget everything" = WhatsApp's limit of 10

BACK_BUTTONS = (Button(LIST_ID, "Ver mi memoria"), Button("practice", "Practicar"))


def _said(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!¡?¿")


def is_memory_command(text: str, reply_id: str | None) -> bool:
    if reply_id:
        return reply_id == LIST_ID or reply_id.startswith(("mem:forget", FORGET_PREFIX))
    return _said(text) in COMMAND_WORDS


def handle_memory_command(
    conn: psycopg.Connection[Any],
    learner_id: UUID,
    text: str,
    reply_id: str | None,
    *,
    now: datetime | None = None,
) -> Reply | None:
    """The reply to a memory command, or None when the message is not one."""
    if not is_memory_command(text, reply_id):
        return None
    now = now or datetime.now(UTC)
    if reply_id == FORGET_ALL:
        return Reply(
            "¿Olvido *todo* lo que recuerdo de ti? Tus errores, logros y repasos se borran para siempre.",
            buttons=(Button(FORGET_ALL_YES, "Sí, olvidar todo"), Button(LIST_ID, "No, volver")),
        )
    if reply_id == FORGET_ALL_YES:
        count = delete_learner_memories(conn, learner_id)
        return Reply(f"🧹 Hecho: he olvidado todo ({count} recuerdos).", buttons=BACK_BUTTONS[1:])
    if reply_id and reply_id.startswith(FORGET_PREFIX):
        raw = reply_id[len(FORGET_PREFIX) :]
        done = raw.isdigit() and forget(conn, learner_id, int(raw))
        head = "🗑️ Listo, lo he olvidado." if done else "No encuentro ese recuerdo (quizá ya lo olvidé)."
        return Reply(head, buttons=BACK_BUTTONS)
    return memory_list(conn, learner_id, now)


def memory_list(conn: psycopg.Connection[Any], learner_id: UUID, now: datetime) -> Reply:
    memories = list_memories(conn, learner_id, now=now, limit=SHOWN)
    if not memories:
        return Reply(
            "🧠 Todavía no recuerdo nada de ti. Practica un poco y te iré conociendo.",
            buttons=(Button("practice", "Practicar"),),
        )
    head = "🧠 Esto es lo que recuerdo de ti (lo más importante primero):\n"
    foot = "\n\nElige en la lista lo que quieras que olvide."
    room = MAX_INTERACTIVE_BODY - len(head) - len(foot)
    lines: list[str] = []
    for n, m in enumerate(memories, 1):
        line = f"{n}. {m.content}"
        line = line if len(line) <= 100 else line[:99] + "…"
        if sum(len(x) + 1 for x in lines) + len(line) + 1 > room:
            break
        lines.append(line)
    rows = [
        ListRow(
            id=f"{FORGET_PREFIX}{m.id}",
            title=f"Olvidar {n} · {KIND_LABEL[m.kind]}",
            description=m.content if len(m.content) <= MAX_ROW_DESCRIPTION else m.content[:71] + "…",
        )
        for n, m in enumerate(memories[: len(lines)], 1)
    ]
    rows.append(ListRow(id=FORGET_ALL, title="Olvidar todo", description="Borra todos tus recuerdos"))
    return Reply(head + "\n".join(lines) + foot, list_button="Olvidar algo", rows=tuple(rows))
