"""What a turn is made of, for every step that decides one (``TutorProcessor.steps``).

- ``Turn``: one learner message being decided; the steps read it and may change it (a voice note's
  transcript becomes its text, a command closes the open exercise).
- ``Outcome``: what the tutor answers (the reply, the new conversation state, the route recorded in
  the ledger, the real exercise attempts, a note to put under whatever answer the turn ends with).
- ``Decision``: an outcome with what delivering it needs (provider usage, messages that follow it).
- ``Attempt``: a real answer to an exercise, as progress, memory and reviews record it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espaluz.llm.types import Usage
    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState
    from espaluz.whatsapp.models import Message
    from espaluz.whatsapp.outgoing import Outgoing, Reply


@dataclass(frozen=True, slots=True)
class Attempt:
    skill: str
    prompt: str
    expected: str
    answer: str
    verdict: str  # correct | accent | wrong


@dataclass
class Outcome:
    """``note`` goes under whatever answer the turn ends with (the LLM's included): the exercise that
    still waits, or was put aside. ``speak``: a text the processor sends as a model voice note after the
    reply (a listening exercise)."""

    reply: Reply
    state: ConversationState
    route: str
    attempts: list[Attempt] = field(default_factory=list)
    note: str = ""
    speak: str = ""


@dataclass
class Decision:
    """What a turn answers: the outcome, what the learner said (a voice note's transcript included),
    the provider calls it cost, and messages that follow the reply (a model pronunciation)."""

    outcome: Outcome
    text: str
    usages: list[Usage] = field(default_factory=list)
    extras: list[Outgoing] = field(default_factory=list)
    erase: bool = False  # a confirmed "borrar": erase the learner once the goodbye is sent
    routes: dict[str, str] = field(default_factory=dict)  # a burst: each message's route, by wamid


@dataclass
class Turn:
    """One message being decided. ``ask_brain`` is false inside a burst (the LLM is asked once for all
    its messages); ``heard`` is the transcript line shown above the answer to a voice note."""

    learner: Learner
    message: Message
    state: ConversationState
    pnid: str
    text: str
    choice: str | None
    ask_brain: bool = True
    heard: str = ""
