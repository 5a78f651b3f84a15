"""Which records of an SQS FIFO batch form a burst: a learner's messages waiting together.

SQS hands a message group's waiting messages over in one batch, in order, and holds the group back while
they are in flight. Consecutive records of one group are offered to ``TutorProcessor.process_burst`` as
one turn from the first of them; the processor decides which of them join (text messages of that learner)
and records them in the turn ledger, so the records that follow are acknowledged as already answered when
the handler reaches them, and a failure of the first holds the rest of its group back as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def bursts_of(records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """For the first record of each run of two or more consecutive records of one message group, the
    bodies of the run, by that record's ``messageId``. Records without a group (not FIFO) form none."""
    bursts: dict[str, list[str]] = {}
    run: list[Mapping[str, Any]] = []

    def close() -> None:
        if len(run) > 1:
            bursts[str(run[0]["messageId"])] = [str(r["body"]) for r in run]

    for record in records:
        group = (record.get("attributes") or {}).get("MessageGroupId")
        previous = (run[-1].get("attributes") or {}).get("MessageGroupId") if run else None
        if run and group is not None and group == previous:
            run.append(record)
            continue
        close()
        run = [record]
    close()
    return bursts
