"""What a chat command hands back to the processor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.whatsapp.outgoing import Document

if TYPE_CHECKING:
    from espaluz.tutor.state import ConversationState
    from espaluz.whatsapp.outgoing import Reply

EXPORT_MIME = "application/json"
__all__ = ["EXPORT_MIME", "CommandResult", "Document"]


@dataclass
class CommandResult:
    """The answer to a command, and what the processor must do besides sending ``reply``.

    - ``reply``: send it (one message; at most one interactive element, already within Meta's limits).
    - ``image``: ``(png_bytes, caption)`` or None: upload with ``GraphClient.upload_media(pnid, data,
      "image/png")`` and send ``Image(media_id=..., caption=caption)`` after ``reply``.
    - ``state``: save it (it may be a fresh state, e.g. after a deletion was confirmed).
    - ``route``: record it on the turn (``command.<name>[.<detail>]`` or ``onboarding.<step>``).
    - ``delete_learner``: after sending ``reply`` (the goodbye), erase the learner
      (``CommandCenter.erase``: the learner row, which cascades to everything, and the Redis state); do not
      save ``state``, record attempts or write a memory for this turn.
    - ``export``: JSON-ready data about the learner: upload ``export_document()``'s bytes with
      ``GraphClient.upload_media(pnid, data, mime, filename)`` and send ``Document(media_id, filename)``.
    """

    reply: Reply
    state: ConversationState
    route: str
    image: tuple[bytes, str] | None = None
    delete_learner: bool = False
    export: dict[str, Any] | None = None

    def export_document(self) -> tuple[bytes, str, str] | None:
        """``(bytes, filename, mime type)`` of the export as a UTF-8 JSON file, or None."""
        if self.export is None:
            return None
        data = json.dumps(self.export, ensure_ascii=False, indent=1, default=str).encode()
        name = f"espaluz-export-{datetime.now(UTC):%Y%m%d}.json"
        return data, name, EXPORT_MIME
