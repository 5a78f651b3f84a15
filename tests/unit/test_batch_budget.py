"""The per-turn budget and what follows from it (espaluz/tutor/batch.py): the waits of one turn sum below
the tutor's Lambda timeout, Modal is capped and cancelled, failed messages come back within 10-30 s, and
only passing errors are retried that soon."""

from __future__ import annotations

import importlib
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from espaluz.config import Settings
from espaluz.tutor.batch import download_seconds, is_retryable, retry_visibility, turn_budget
from espaluz.tutor.processor import TurnInProgress, VoiceRetry
from espaluz.voice.transcribers import ModalAssessor, TranscriberUnavailable
from espaluz.whatsapp.graph import GraphAPIError, RecipientUnavailable, ServerError
from espaluz.whatsapp.sender import SendDeferred

ROOT = Path(__file__).resolve().parents[2]
MARGIN = 0.15  # of the timeout, for what has no deadline of its own (Postgres, Redis, Polly, decoding)


def serverless_params() -> dict[str, Any]:
    yaml = importlib.import_module("yaml")  # cfn-lint's dependency; no type stubs installed
    params: dict[str, Any] = yaml.safe_load((ROOT / "serverless.yml").read_text())["params"]["default"]
    return params


def test_the_waits_of_one_turn_sum_below_the_tutor_timeout_with_margin() -> None:
    """The budget from the default settings: voice note 18 + LLM 8 + pacing 12 + send 10.5 = 48.5 s,
    under the 60 s of serverless.yml's tutorTimeout with 15 % to spare. Fault covered: a deadline raised
    (Modal back to 60 s, a longer pacing wait, more send attempts) until a turn can outlive the Lambda,
    which then returns its whole batch after the visibility timeout."""
    settings = Settings()
    budget = turn_budget(settings)
    assert dict(budget.waits) == {"voice note": 18.0, "llm": 8.0, "pacing": 12.0, "send": 10.5}
    assert budget.total == 48.5
    timeout = serverless_params()["tutorTimeout"]
    assert settings.tutor_timeout_seconds == timeout
    assert budget.total <= (1 - MARGIN) * timeout
    # The voice note's share holds its parts: the download (never cut) leaves room for Groq.
    assert download_seconds(settings) + settings.voice_groq_timeout_seconds <= settings.voice_deadline_seconds
    assert settings.voice_modal_timeout_seconds <= settings.voice_deadline_seconds


def test_modal_is_capped_at_25_seconds() -> None:
    """Fault covered: a Modal deadline that alone eats half the Lambda's timeout (it was 60 s)."""
    assert Settings().voice_modal_timeout_seconds <= 25
    with pytest.raises(ValidationError):
        Settings(voice_modal_timeout_seconds=30)


def test_a_failed_message_comes_back_within_10_to_30_seconds_with_jitter() -> None:
    """Fault covered: a retry that still blocks the learner for minutes, comes back before a passing
    fault can clear (under 10 s), or brings every learner of an outage back in the same second."""
    rng = random.Random(7)
    settings = Settings()
    draws = [retry_visibility(settings, rng) for _ in range(500)]
    assert min(draws) >= 10
    assert max(draws) <= 30
    assert len(set(draws)) > 5  # jittered


@pytest.mark.parametrize(
    ("error", "soon"),
    [
        (ServerError("5xx", code=131000, status=500), True),
        (SendDeferred("slot 30 s away", code=0), True),
        (VoiceRetry("download failed"), True),
        (RecipientUnavailable("blocked", code=131026, status=400), False),
        (GraphAPIError("bad request", code=100, status=400), False),
        (TurnInProgress("another invocation holds the claim"), False),
        (RuntimeError("Postgres is down"), False),
    ],
)
def test_only_passing_errors_are_retried_soon(error: Exception, soon: bool) -> None:
    """Fault covered: a turn held by another invocation (up to the 90 s claim) or an outage retried every
    15 s, spending the learner's five receives before the dead-letter queue in about a minute."""
    assert is_retryable(error) is soon


class Spawned:
    """Stands in for modal.FunctionCall: ``get`` times out as Modal's does, ``cancel`` is recorded."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.waited: list[float | None] = []
        self.cancelled = 0

    def get(self, timeout: float | None = None) -> Any:
        self.waited.append(timeout)
        raise self.error

    def cancel(self, terminate_containers: bool = False) -> None:
        self.cancelled += 1


def test_an_abandoned_modal_call_is_cancelled_and_waited_for_no_longer_than_asked() -> None:
    """The turn gives Modal 4 s (what the voice deadline leaves, under the 15 s cap); Modal's timeout
    fires: the call is cancelled and the learner gets the 'try again' path. A provider error is not a
    reason to cancel. Fault covered: a GPU left working (and billed) for an answer nobody reads, or a wait
    longer than the turn can afford."""
    import modal

    hung = Spawned(modal.exception.TimeoutError("no output"))
    assessor = ModalAssessor(Settings(), spawn=lambda data, text, dialect: hung)
    with pytest.raises(TranscriberUnavailable):
        assessor.assess(b"OggS", "hola", "latam", timeout=4.0)
    assert hung.waited == [4.0]
    assert hung.cancelled == 1
    failed = Spawned(modal.exception.Error("remote error"))
    with pytest.raises(TranscriberUnavailable):
        ModalAssessor(Settings(), spawn=lambda data, text, dialect: failed).assess(b"OggS", None, "latam")
    assert failed.waited == [Settings().voice_modal_timeout_seconds]
    assert failed.cancelled == 0
