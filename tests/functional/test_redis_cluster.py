"""The paths where a Redis Cluster differs from a single node, against a real three-master cluster in every
run (marker ``redis_cluster``; the rest of the suite runs on the cluster only with
``ESPALUZ_TEST_REDIS=cluster``).

Production runs ElastiCache Serverless, which is always cluster-mode: a command whose keys hash to several
slots fails (CROSSSLOT), a Lua script runs on the node its declared ``KEYS`` route it to and may only touch
that node's keys, and a pipeline is split by node. Each test below sends work that spreads over several
slots (several learners, several wamids, several message groups) and says which old shape it would have
broken; ``test_the_fixture_is_a_real_cluster`` shows that those shapes really fail here.
"""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from typing import Any, cast

import pytest
from redis.cluster import RedisCluster
from redis.exceptions import ClusterCrossSlotError, RedisClusterException, ResponseError

from espaluz.queue.base import QueueMessage
from espaluz.queue.local import LocalFifoQueue
from espaluz.storage.redis import RedisClient, get_redis
from espaluz.tutor.agents.brain import enrichment_key
from espaluz.tutor.state import StateStore
from espaluz.whatsapp.graph import GraphClient
from espaluz.whatsapp.inbound import InboundEnvelope, delivery_status, seen_key
from espaluz.whatsapp.outgoing import Reply
from espaluz.whatsapp.sender import Sender, held_key, pace_key
from tests.conftest import ACCESS_TOKEN, GraphEmulator, load_event
from tests.functional.test_local_stack import stack, wait_for_reply
from tests.functional.test_sender import FakeClock, target
from tests.functional.test_webhook import post, signed

__all__ = ["stack"]  # the local stack fixture, imported for pytest

pytestmark = pytest.mark.redis_cluster

LEARNERS = [("15550001001", "Ana"), ("15550001002", "Bea"), ("15550001003", "Caro"), ("15550001004", "Dani")]


@pytest.fixture
def cluster(redis_client: RedisClient) -> RedisCluster[bytes]:
    assert isinstance(redis_client, RedisCluster), "the redis_cluster marker must give the cluster client"
    return redis_client


@pytest.fixture
def queue(function_env: Any, cluster: RedisCluster[bytes]) -> LocalFifoQueue:
    return LocalFifoQueue(cluster, "inbound")


def several_learners_payload() -> dict[str, Any]:
    """One webhook carrying one message from each of four learners (Meta batches updates)."""
    payload = load_event("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id} for wa_id, name in LEARNERS]
    value["messages"] = []
    for i, (wa_id, _) in enumerate(LEARNERS):
        message = copy.deepcopy(template)
        message.update({"from": wa_id, "id": f"wamid.CLUSTER{i:026d}"})
        value["messages"].append(message)
    return payload


def status_payload(statuses: list[tuple[str, str]]) -> dict[str, Any]:
    payload = load_event("whatsapp_status_read.json")
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["statuses"][0]
    value["statuses"] = [{**template, "id": wamid, "status": status} for wamid, status in statuses]
    return payload


def slots(client: RedisCluster[bytes], keys: list[str]) -> set[int]:
    return {client.keyslot(key) for key in keys}


def node_not_owning(client: RedisCluster[bytes], key: str) -> Any:
    owner = client.get_node_from_key(key)
    assert owner is not None
    return next(node for node in client.get_primaries() if node.name != owner.name)


def on_node(client: RedisCluster[bytes], node: Any, *args: Any) -> Any:
    """A raw command sent to one node, as a client without slot routing would (the types-redis stubs
    leave the cluster client's ``execute_command`` untyped)."""
    return cast(Any, client).execute_command(*args, target_nodes=node)


def exists(client: RedisCluster[bytes], key: str) -> bool:
    return bool(on_key(client, "EXISTS", key))


def on_key(client: RedisCluster[bytes], *args: Any) -> Any:
    """A one-key command, routed by its key (untyped in the stubs, like ``on_node``)."""
    return cast(Any, client).execute_command(*args)


# -- the fixture ---------------------------------------------------------------------------------------


def test_the_fixture_is_a_real_cluster(cluster: RedisCluster[bytes]) -> None:
    """Guards every test in this file: on a single node the shapes below all succeed, so these tests
    would pass without proving anything. Three primaries; a cross-slot MGET (the webhook's old dedupe
    lookup), a cross-slot DEL sent as one command, and a script that touches a key it did not declare
    (the local queue's old scripts) all fail."""
    assert len(cluster.get_primaries()) == 3
    wamid_keys = [seen_key("wamid.A"), seen_key("wamid.B"), seen_key("wamid.C")]
    assert len(slots(cluster, wamid_keys)) > 1
    with pytest.raises(RedisClusterException, match="same key slot"):
        cluster.mget(wamid_keys)  # refused by the client before it is sent
    a, b = "wa:held:x", "wa:pace:x"  # the sender's old key names for one learner: two slots
    assert cluster.keyslot(a) != cluster.keyslot(b)
    with pytest.raises(ClusterCrossSlotError):  # the server's CROSSSLOT
        on_node(cluster, cluster.get_node_from_key(a), "DEL", a, b)
    undeclared = "return redis.call('GET', 'q:inbound:seq')"  # the old queue scripts: KEYS empty
    with pytest.raises(ResponseError, match="non local key"):
        on_node(cluster, node_not_owning(cluster, "q:inbound:seq"), "EVAL", undeclared, 0)


def test_redis_cluster_setting_refuses_a_unix_socket() -> None:
    """Misconfiguration: REDIS_CLUSTER=true with the embedded Redis's socket URL fails with a line that
    names the setting, not a traceback from deep in redis-py."""
    with pytest.raises(RuntimeError, match="REDIS_CLUSTER=true needs a redis://"):
        get_redis("unix:///tmp/espaluz-none.sock", cluster=True)


# -- webhook -------------------------------------------------------------------------------------------


def test_a_webhook_with_several_learners_enqueues_each_message_once(
    queue: LocalFifoQueue, cluster: RedisCluster[bytes], lambda_context: Any
) -> None:
    """Several learners in one webhook: their wamids' dedupe keys hash to several slots. The old single
    MGET over them raised CROSSSLOT, so the webhook answered 503 on every retry and the messages were
    lost. Every message must be enqueued once, each in its learner's group; a redelivery of the same
    payload (duplicate delivery) enqueues none."""
    payload = several_learners_payload()
    wamids = [m["id"] for m in payload["entry"][0]["changes"][0]["value"]["messages"]]
    assert len(slots(cluster, [seen_key(w) for w in wamids])) > 1  # the case the old MGET failed on
    body, headers = signed(payload)
    first = post(body, headers, lambda_context)
    assert first["statusCode"] == 200
    assert json.loads(first["body"]) == {"accepted": 4}
    again = post(body, headers, lambda_context)
    assert again["statusCode"] == 200
    assert json.loads(again["body"]) == {"accepted": 0}
    received = queue.receive(max_messages=10)
    assert sorted(r.dedup_id for r in received) == sorted(wamids)
    envelopes = [InboundEnvelope.model_validate_json(r.body) for r in received]
    assert sorted(e.wa_id or "" for e in envelopes) == sorted(wa_id for wa_id, _ in LEARNERS)
    assert len({r.group_id for r in received}) == 4  # one FIFO group per learner
    assert all(exists(cluster, seen_key(w)) for w in wamids)


def test_duplicate_and_out_of_order_statuses_across_slots(
    queue: LocalFifoQueue, cluster: RedisCluster[bytes], lambda_context: Any
) -> None:
    """Out-of-order and duplicate status deliveries for messages whose records live on different nodes,
    in one webhook and again in a redelivery: each record keeps its highest status ('read' before
    'delivered' stays 'read'), duplicates change nothing, and no status starts a turn. The records are
    written by a script per status in one pipeline; redis-py's cluster pipeline refuses EVALSHA and its
    ``eval`` takes no script, which is how the old ``pipe.eval`` broke here."""
    w1, w2, w3 = "wamid.OUTC1", "wamid.OUTC2", "wamid.OUTC3"
    assert len(slots(cluster, [f"wa:status:{w}" for w in (w1, w2, w3)])) > 1
    statuses = [(w1, "read"), (w1, "delivered"), (w2, "sent"), (w2, "delivered"), (w2, "delivered")]
    statuses += [(w3, "read"), (w3, "sent"), (w1, "sent")]
    body, headers = signed(status_payload(statuses))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    assert post(body, headers, lambda_context)["statusCode"] == 200  # Meta's retry of the same webhook
    late, late_headers = signed(status_payload([(w2, "sent"), (w3, "delivered")]))
    assert post(late, late_headers, lambda_context)["statusCode"] == 200
    assert {w: delivery_status(cluster, w)["status"] for w in (w1, w2, w3)} == {
        w1: "read",
        w2: "delivered",
        w3: "read",
    }
    assert queue.depth() == 0


def test_webhook_answers_503_when_the_cluster_cannot_be_reached(
    function_env: Any, lambda_context: Any, redis_url: str, redis_down_url: str
) -> None:
    """Redis gone at a cold start: the cluster client reads the slot map when it is built, so the failure
    comes from building the service, not from a command. Meta must still get a 503 (and retry), not a
    Lambda error; and once Redis is back the same message is accepted."""
    function_env(REDIS_URL=redis_down_url)
    body, headers = signed(load_event("whatsapp_text.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 503
    function_env(REDIS_URL=redis_url)
    assert post(body, headers, lambda_context)["statusCode"] == 200


# -- sender ---------------------------------------------------------------------------------------------


def test_held_messages_and_forget_for_several_learners(
    graph_emulator: GraphEmulator, cluster: RedisCluster[bytes]
) -> None:
    """Outside the 24-hour window the content is held and the re-engagement template reserves the
    learner's pace slot. Three learners' keys spread over the cluster; each learner's own keys (held,
    pace, conversation state, late corrections) share one hash tag, so one slot. ``forget`` drops both
    of the sender's keys of one learner and leaves the others' alone (the data-deletion path)."""
    clock = FakeClock()
    sender = Sender(GraphClient(graph_emulator.graph_url, ACCESS_TOKEN), cluster, clock=clock)
    targets = [target(clock, hours_since_inbound=30, learner_id=uuid.uuid4()) for _ in range(3)]
    for t in targets:
        result = sender.send(t, [Reply(f"hola {t.key}"), Reply("¿seguimos?")])
        assert (result.held, result.template) == (1, "espaluz_seguimos")  # merged into one held message
    assert len(slots(cluster, [held_key(t.key) for t in targets])) > 1
    for t in targets:
        own = [held_key(t.key), pace_key(t.key), StateStore.key(t.learner_id), enrichment_key(t.learner_id)]
        assert len(slots(cluster, own)) == 1
        assert [p.text for p in sender.held(t) if isinstance(p, Reply)] == [f"hola {t.key}\n\n¿seguimos?"]
    gone, *kept = targets
    sender.forget(gone.learner_id)
    assert not exists(cluster, held_key(gone.key))
    assert not exists(cluster, pace_key(gone.key))
    for t in kept:
        assert exists(cluster, held_key(t.key))
        assert exists(cluster, pace_key(t.key))
    sender.drop_held(kept[0], 1)
    assert sender.held(kept[0]) == []


# -- tutor brain ----------------------------------------------------------------------------------------


def test_late_corrections_are_kept_and_taken_once_in_the_cluster(
    function_env: Any, cluster: RedisCluster[bytes]
) -> None:
    """Late corrections (a grammar check that finished after its turn) of two learners: each learner gets
    exactly their own, oldest first, and only once (duplicate take). Taking them reads and deletes the
    list in one MULTI; redis-py's cluster pipeline is no transaction unless asked, and its ``delete``
    returns None, so the old chained ``pipeline().lrange(...).delete(...).execute()`` raised and the
    corrections were silently never shown."""
    from concurrent.futures import Future

    from espaluz.config import get_settings
    from espaluz.tutor.agents.base import AgentResult
    from espaluz.tutor.agents.brain import TutorBrain
    from espaluz.tutor.agents.grammar import GrammarNote

    brain = TutorBrain.from_settings(get_settings(), cluster)
    ana, bea = uuid.uuid4(), uuid.uuid4()
    for learner, text, correction in [
        (ana, "yo es profesora", "Soy profesora."),
        (bea, "tengo 20 anos", "Tengo 20 años."),
        (ana, "estoy de Madrid", "Soy de Madrid."),
    ]:
        done: Future[AgentResult[Any]] = Future()
        done.set_result(AgentResult(GrammarNote(explanation="x", correction=correction), "groq"))
        brain._keep_enrichment(learner, text, done)  # what the brain does when the late check lands
    assert len(slots(cluster, [enrichment_key(ana), enrichment_key(bea)])) > 1
    assert [line.split("\n")[0] for line in brain.take_enrichments(ana)] == [
        "✏️ *Soy profesora.*",
        "✏️ *Soy de Madrid.*",
    ]
    assert brain.take_enrichments(ana) == []
    assert [line.split("\n")[0] for line in brain.take_enrichments(bea)] == ["✏️ *Tengo 20 años.*"]


# -- local queue ----------------------------------------------------------------------------------------


def test_local_queue_with_several_groups_in_the_cluster(cluster: RedisCluster[bytes]) -> None:
    """Send, receive, settle and release_all with several message groups: the queue's scripts declare
    their keys and every key of the queue shares its hash tag, so each script runs on the node that owns
    them (the old scripts declared no key and ran on any node: 'non local key'). Covers order within a
    group, one batch of a group in flight at a time, a duplicate send, a failed group coming back after
    release_all (a restarted worker), and a group's lock left by a consumer that died."""
    q = LocalFifoQueue(cluster, "clustered")
    groups = ["learner-a", "learner-b", "learner-c", "learner-d"]
    q.send_batch([QueueMessage(f"{g}-{n}", g, f"{g}.{n}") for n in (1, 2) for g in groups])
    q.send_batch([QueueMessage("again", "learner-a", "learner-a.1")])  # duplicate delivery: dropped
    assert q.depth() == 8
    first = q.receive(max_messages=10)
    assert [(m.group_id, m.body) for m in first] == [(g, f"{g}-{n}") for g in groups for n in (1, 2)]
    q.send_batch([QueueMessage("learner-a-3", "learner-a", "learner-a.3")])
    assert q.receive() == []  # every group is in flight
    by_group = {g: [m.message_id for m in first if m.group_id == g] for g in groups}
    q.settle("learner-a", by_group["learner-a"])  # done: its next message is deliverable
    q.settle("learner-b", [], retry_delay_ms=60_000)  # failed: back only after the retry delay
    [next_a] = q.receive()
    assert next_a.body == "learner-a-3"
    # The worker restarts: every lock it finds (b's retry delay, c's and d's and a's visibility) is a
    # dead consumer's.
    assert q.release_all() == 4
    again = q.receive(max_messages=10)
    assert sorted((m.group_id, m.body, m.receive_count) for m in again) == [
        ("learner-a", "learner-a-3", 2),
        ("learner-b", "learner-b-1", 2),
        ("learner-b", "learner-b-2", 2),
        ("learner-c", "learner-c-1", 2),
        ("learner-c", "learner-c-2", 2),
        ("learner-d", "learner-d-1", 2),
        ("learner-d", "learner-d-2", 2),
    ]
    keys = [k.decode() for k in cluster.scan_iter(q.key("*"))]  # scan_iter covers every primary
    assert any(k.startswith(q.key("lock:")) for k in keys)
    assert len(slots(cluster, keys)) == 1
    q.wait(0.05)  # BRPOP on the queue's notify key: routed to the same node
    for g in groups:
        q.settle(g, [m.message_id for m in again if m.group_id == g])
    assert q.depth() == 0
    assert q.release_all() == 0


# -- the local stack ------------------------------------------------------------------------------------


def test_the_local_stack_refuses_cluster_mode_on_its_embedded_redis(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Misconfiguration: REDIS_CLUSTER=true without REDIS_URL would start the embedded single-node Redis
    and then fail deep in the cluster client. The stack refuses at once with one line, before starting
    anything (a DATABASE_URL is given, so no Postgres is started either)."""
    from espaluz.dev.services import StartupError, start_services

    monkeypatch.setenv("REDIS_CLUSTER", "true")
    with pytest.raises(StartupError, match="REDIS_CLUSTER=true needs REDIS_URL"):
        start_services(tmp_path, database_url="postgresql://unused/none", redis_url="")
    assert not (tmp_path / "redis").exists()


def test_the_cluster_command_prints_its_settings_and_stops_every_server(tmp_path: Any) -> None:
    """``python -m espaluz.dev.redis_cluster`` (for ``espaluz dev`` users): it prints the settings to use,
    the cluster behind them has three primaries, and SIGTERM (what Ctrl-C does too) stops every server at
    once. Once the command blocked the stop signals before starting the servers; they inherited the mask,
    ignored its SIGTERM, and each had to be killed after a 10 s grace (or outlived the command)."""
    import select
    import signal
    import subprocess
    import sys
    import time

    import psutil

    command = [sys.executable, "-m", "espaluz.dev.redis_cluster", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    servers: list[psutil.Process] = []
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no settings line within 60 s"
        settings = dict(item.split("=", 1) for item in process.stdout.readline().split())
        assert settings["REDIS_CLUSTER"] == "true"
        client: RedisCluster[bytes] = RedisCluster.from_url(settings["REDIS_URL"])
        try:
            info = cast(Any, client).info("server", target_nodes=RedisCluster.PRIMARIES)
            servers = [psutil.Process(int(node["process_id"])) for node in info.values()]
        finally:
            client.close()
        assert len(servers) == 3
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert time.monotonic() - started < 8  # no server waited out the 10 s grace
        assert not any(server.is_running() for server in servers)
    finally:  # a failed run leaves nothing behind (a server that ignores SIGTERM gets SIGKILL)
        if process.poll() is None:
            process.kill()
        for server in servers:
            with contextlib.suppress(psutil.NoSuchProcess):
                server.kill()


def test_the_local_stack_runs_on_a_cluster(stack: Any, cluster: RedisCluster[bytes]) -> None:
    """``espaluz dev`` with a cluster's REDIS_URL and REDIS_CLUSTER=true (set by the fixture): the
    worker's start (release_all), the webhook, the queue, the tutor and the emulator's outbox all run
    on the cluster client; a message gets its reply."""
    import httpx

    learner = {"wa_id": "15550000077", "name": "Eva"}
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        sent = client.post("/dev/simulator/messages", json={**learner, "type": "text", "text": "hola"}).json()
        assert sent["webhook_status"] == 200
        reply = wait_for_reply(client, learner["wa_id"])
    assert "Eva" in json.dumps(reply, ensure_ascii=False)
    assert exists(cluster, seen_key(sent["wamid"]))
