"""Erasure that erases (``espaluz.tutor.erasure``): after the chat's confirmed "borrar" and after
``espaluz learner delete --json``, nothing of the learner (phone number, ids, a marker phrase they wrote)
is left in any store: Postgres (every table, after VACUUM FULL, and the database's files), Redis (keys and
values; the embedded Redis's append-only file and snapshot), the audio folder, the local dead letters,
the SQS dead-letter queue, the S3 audio bucket and the Stripe emulator's customers.

Faults covered: Redis down during the erasure (the report says so and the rows still go), the local
stack's Redis not running when the CLI erases (it is started on the data folder's files, rewritten and
stopped), keys under the learner's hash tag that no code names (found by SCAN, on a cluster on the slot's
node), dead letters in a group of their own found by the ids in their bodies, and a second erasure
(harmless: everything reports 0).

The Graph API emulator's keys (``dev:``: Meta's side, the messages WhatsApp delivered to the phone) are not
ours and are not searched.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import redis
from click.testing import CliRunner
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from espaluz.config import Settings, get_settings
from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.storage.redis import RedisClient, get_redis
from espaluz.tutor import erasure
from espaluz.whatsapp.sender import held_key
from functions.tutor import handler as tutor
from tests.conftest import STRIPE_SECRET, GraphEmulator, _Server
from tests.functional.test_ops_dlq import exhaust, say_as
from tests.functional.test_tutor import LEARNER, say
from tests.functional.test_tutor_full_turns import groq_voice, ids, messages, send_voice_note
from tests.functional.test_voice import GroqTranscriptionServer
from tests.stripe_api import TEST_KEY, StripeAPI
from tests.voice_samples import speech_ogg

__all__ = ["groq_voice"]  # a fixture used here

MARKER = "Zorbaxita Quelmundo"  # a phrase nobody else writes: found anywhere, it is the learner's
OTHER = "15550004444"


@pytest.fixture
def stripe_api(function_env: Callable[..., None]) -> Iterator[StripeAPI]:
    """``tests.stripe_api``'s local Stripe, plus ``DELETE /v1/customers/{id}`` as Stripe answers it (the
    dev emulator has no customer deletion yet)."""
    from fastapi import FastAPI

    from espaluz.dev import gateway
    from espaluz.dev.checkout import StripeEmulator, stripe_error, stripe_router
    from functions.billing import handler as billing

    app = FastAPI()
    server = _Server(app)
    base = f"http://127.0.0.1:{server.port}"
    emulator = StripeEmulator(base, f"{base}/webhooks/stripe", STRIPE_SECRET)

    @app.delete("/stripe/v1/customers/{customer_id}")
    async def delete_customer(customer_id: str, request: Request) -> Response:
        emulator.requests.append(("DELETE", f"/v1/customers/{customer_id}"))
        if not request.headers.get("authorization", "").startswith("Bearer sk_"):
            return stripe_error(401, "Invalid API Key provided")
        with emulator.lock:
            gone = emulator.customers.pop(customer_id, None)
        if gone is None:
            return stripe_error(404, f"No such customer: '{customer_id}'", "resource_missing", "id")
        return JSONResponse({"id": customer_id, "object": "customer", "deleted": True})

    app.include_router(stripe_router(emulator))

    @app.post("/webhooks/stripe")
    async def webhook(request: Request) -> Response:
        return await gateway.invoke(request, billing.handler, "espaluz-billing")

    with server as url:
        function_env(STRIPE_API_KEY=TEST_KEY, STRIPE_API_BASE=f"{url}/stripe")
        yield StripeAPI(url, emulator)


@pytest.fixture
def worker(stripe_api: StripeAPI, redis_client: redis.Redis[bytes], tmp_path: Path) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def drain(worker: QueueWorker) -> None:
    while worker.run_once():
        pass


def learner_id(database_url: str, who: str = LEARNER) -> uuid.UUID:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (who,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def becomes_a_paying_learner_with_traces_everywhere(
    worker: QueueWorker,
    stripe_api: StripeAPI,
    graph_emulator: GraphEmulator,
    groq: GroqTranscriptionServer,
    database_url: str,
    context: Any,
    data_dir: Path,
) -> tuple[uuid.UUID, str]:
    """LEARNER writes the marker, sends a voice note saying it, subscribes through Stripe, gets a message
    dead-lettered and held keys under their tag; OTHER writes too. Returns LEARNER's id and customer."""
    say(context, "hola", wamid="wamid.E0")
    say_as(context, OTHER, "hola, soy otra persona", "wamid.EOTHER")
    drain(worker)
    say(context, f"Mi perro se llama {MARKER}", wamid="wamid.E1")
    drain(worker)
    groq.transcript = f"mi gato se llama {MARKER}"
    send_voice_note(context, graph_emulator, "wamid.E2", speech_ogg("hola"))
    drain(worker)
    who = learner_id(database_url)
    assert [p.name for p in (data_dir / "audio" / "voice" / str(who)).iterdir()] == ["wamid.E2.ogg"]
    say(context, "plan", wamid="wamid.E3")
    drain(worker)
    session = next(s for s in stripe_api.emulator.sessions.values() if s["client_reference_id"] == str(who))
    assert all(e["status"] == 200 for e in stripe_api.pay(session["id"]))
    drain(worker)
    customer = str(stripe_api.emulator.sessions[session["id"]]["customer"])
    assert customer in stripe_api.emulator.customers
    say(context, f"Otra vez: {MARKER}", wamid="wamid.E4")  # this one fails every receive: a dead letter
    exhaust(worker.queue)
    assert any(MARKER in e["body"] for e in worker.queue.dead_letters())
    # Keys other paths leave under the learner's tag: a held message and one no code names yet.
    client = worker.queue.redis
    client.rpush(held_key(str(who)), json.dumps({"type": "text", "text": {"body": MARKER}}))
    client.set(f"future:{{{who}}}:notes", MARKER)
    return who, customer


def needles(who: uuid.UUID) -> list[str]:
    return [MARKER, LEARNER, str(who)]


def postgres_leftovers(database_url: str, found: list[str]) -> list[str]:
    """Every row of every table, as text, that holds one of ``found`` (after VACUUM FULL)."""
    hits: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM FULL")
        conn.execute("CHECKPOINT")
        tables = [
            str(t)
            for (t,) in conn.execute(
                """SELECT table_name FROM information_schema.tables
                   WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"""
            ).fetchall()
        ]
        for table in tables:
            for (row,) in conn.execute(f'SELECT to_jsonb(t)::text FROM "{table}" t').fetchall():  # noqa: S608
                hits.extend(f"{table}: {n}: {str(row)[:600]}" for n in found if n in str(row))
    return hits


def database_files_with(database_url: str, needle: str) -> list[str]:
    """The files of this database (heap, TOAST, indexes) that contain ``needle``'s bytes."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT current_setting('data_directory'), oid FROM pg_database
               WHERE datname = current_database()"""
        ).fetchone()
    assert row is not None
    folder = Path(str(row[0])) / "base" / str(row[1])
    return [p.name for p in folder.iterdir() if p.is_file() and needle.encode() in p.read_bytes()]


def redis_leftovers(client: RedisClient, found: list[str]) -> list[str]:
    """Keys (except the Graph emulator's ``dev:``) whose name or value holds one of ``found``."""
    hits: list[str] = []
    for raw in client.scan_iter(match="*", count=1000):  # every node on a cluster
        key = raw.decode()
        if key.startswith("dev:"):
            continue
        kind = client.type(key).decode()  # type: ignore[no-untyped-call]
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        else:
            value = b""
        text = key + " " + repr(value)
        hits.extend(f"{key}: {n}" for n in found if n in text)
    return hits


def nothing_left(
    database_url: str, client: RedisClient, data_dir: Path, queue: LocalFifoQueue, who: uuid.UUID
) -> None:
    assert postgres_leftovers(database_url, needles(who)) == []
    assert database_files_with(database_url, MARKER) == []
    assert redis_leftovers(client, needles(who)) == []
    assert not (data_dir / "audio" / "voice" / str(who)).exists()
    assert [e for e in queue.dead_letters() if LEARNER in e["body"] or MARKER in e["body"]] == []


def the_other_learner_is_intact(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM learners WHERE wa_id = %s", (OTHER,)).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (1,)


def test_chat_erasure_leaves_nothing_of_the_learner_in_any_store(
    function_env: Callable[..., None],
    worker: QueueWorker,
    stripe_api: StripeAPI,
    graph_emulator: GraphEmulator,
    groq_voice: GroqTranscriptionServer,
    database_url: str,
    lambda_context: Any,
    tmp_path: Path,
) -> None:
    """Covers: the confirmed "borrar" erases the learner's rows (the marker in their turns), their voice
    note, every key under their tag (one no code names included), their dead letter and their Stripe
    customer; the warning before says the subscription is cancelled too; the other learner keeps all."""
    data_dir = tmp_path / "data"
    function_env(ESPALUZ_DATA_DIR=str(data_dir))
    who, customer = becomes_a_paying_learner_with_traces_everywhere(
        worker, stripe_api, graph_emulator, groq_voice, database_url, lambda_context, data_dir
    )
    assert postgres_leftovers(database_url, [MARKER])  # the search finds what is there
    assert redis_leftovers(worker.queue.redis, [MARKER])

    say(lambda_context, "borrar", wamid="wamid.E5")
    drain(worker)
    ask = messages(worker)[-1]
    assert "suscripción activa" in json.dumps(ask, ensure_ascii=False)
    confirm = next(i for i in ids(ask) if i.startswith("del:yes:"))
    say(lambda_context, wamid="wamid.E6", button=(confirm, "Sí, borrar todo"))
    drain(worker)
    assert "he borrado todos tus datos" in json.dumps(messages(worker)[-1], ensure_ascii=False)

    nothing_left(database_url, worker.queue.redis, data_dir, worker.queue, who)
    assert customer not in stripe_api.emulator.customers
    assert ("DELETE", f"/v1/customers/{customer}") in stripe_api.emulator.requests
    the_other_learner_is_intact(database_url)


def cli(*args: str) -> Any:
    from espaluz.cli import main

    result = CliRunner().invoke(main, list(args))
    get_settings.cache_clear()
    return result


def test_cli_erasure_reports_every_store_and_a_second_run_finds_nothing(
    function_env: Callable[..., None],
    worker: QueueWorker,
    stripe_api: StripeAPI,
    graph_emulator: GraphEmulator,
    groq_voice: GroqTranscriptionServer,
    database_url: str,
    lambda_context: Any,
    tmp_path: Path,
) -> None:
    """Covers: `espaluz learner delete --json` runs the same erasure and prints per store what went
    (the old keys kept); the learner is then gone, so a second run says "no such learner"; the erasure
    routine run again reports 0 everywhere (repeatable)."""
    data_dir = tmp_path / "data"
    function_env(ESPALUZ_DATA_DIR=str(data_dir))
    who, customer = becomes_a_paying_learner_with_traces_everywhere(
        worker, stripe_api, graph_emulator, groq_voice, database_url, lambda_context, data_dir
    )
    result = cli("learner", "delete", LEARNER, "--yes", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["deleted"] == str(who)
    assert report["conversation_state_deleted"] is True
    assert report["dead_letters_deleted"] == 1
    stores = report["stores"]
    assert stores["postgres"]["detail"]["learners"] == 1
    assert stores["postgres"]["detail"]["turns"] >= 4
    assert stores["postgres"]["detail"]["billing_customers"] == 1
    assert stores["redis"]["detail"]["learner_keys"] >= 3  # conv, held, the unnamed one
    assert stores["audio"] == {"removed": 1}
    assert stores["dead_letters_local"] == {"removed": 1}
    assert stores["dead_letters_sqs"]["removed"] is None
    assert "local" in stores["dead_letters_sqs"]["note"]
    assert stores["stripe"] == {"removed": 1}
    assert stores["llm_cache"]["removed"] == 0
    assert LEARNER not in result.stdout
    assert MARKER not in result.stdout
    nothing_left(database_url, worker.queue.redis, data_dir, worker.queue, who)
    assert customer not in stripe_api.emulator.customers
    the_other_learner_is_intact(database_url)

    assert cli("learner", "delete", LEARNER, "--yes", "--json").exit_code == 1
    stores_again = erasure.stores_from_settings(get_settings(), worker.queue.redis)
    with psycopg.connect(database_url) as conn:
        again = erasure.erase_learner(conn, who, stores_again).to_json()["stores"]
    found_again = {name: s["removed"] for name, s in again.items() if s["removed"]}
    assert found_again.pop("redis_persistence", 0) <= 1  # the files are rewritten again: no data in that
    assert found_again == {}


def test_redis_down_during_erasure_is_reported_and_the_rows_still_go(
    function_env: Callable[..., None],
    worker: QueueWorker,
    database_url: str,
    lambda_context: Any,
    tmp_path: Path,
) -> None:
    """Fault: Redis does not answer during the erasure. The report says the Redis store failed (and the
    dead letters could not be looked at), and the learner's rows are deleted all the same."""
    say(lambda_context, f"Mi perro se llama {MARKER}", wamid="wamid.D1")
    drain(worker)
    who = learner_id(database_url)
    down = get_redis(f"unix://{tmp_path}/no-such.sock", cluster=False)
    stores = erasure.Stores(redis=down, local_queue="inbound")
    with psycopg.connect(database_url) as conn:
        report = erasure.erase_learner(conn, who, stores).to_json()["stores"]
    assert report["redis"]["removed"] is None
    assert "ConnectionError" in report["redis"]["note"]
    assert report["dead_letters_local"]["removed"] is None
    assert report["postgres"]["detail"]["learners"] == 1
    assert postgres_leftovers(database_url, needles(who)) == []


@pytest.mark.redis_cluster
def test_tagged_keys_are_found_on_the_cluster_slot_and_others_kept(
    redis_client: RedisClient, redis_is_cluster: bool
) -> None:
    """Covers: on a cluster, SCAN runs on the node owning the learner's slot and finds every key under
    their tag, named or not; another learner's keys and untagged keys stay."""
    assert redis_is_cluster
    who, other = uuid.uuid4(), uuid.uuid4()
    for n, learner in enumerate((who, other)):
        for suffix in ("conv:{%s}", "wa:{%s}:pace", "x:{%s}:later", "y:{%s}"):
            redis_client.set(suffix % learner, n)
    redis_client.set(f"wa:status:wamid.{who}", 1)
    result = erasure.erase_redis(redis_client, erasure.Identity(who, sent_wamids=(f"wamid.{who}",)))
    assert result.detail == {"learner_keys": 4, "delivery_records": 1}
    left = sorted(k.decode() for k in redis_client.scan_iter(match="*"))
    assert left == sorted(s % other for s in ("conv:{%s}", "wa:{%s}:pace", "x:{%s}:later", "y:{%s}"))


def test_sqs_dead_letters_of_the_learner_go_and_others_stay_visible(aws_env: str) -> None:
    """Covers: in the SQS DLQ, the learner's messages go whether found by their group (the learner key)
    or, in another group, by the wa_id in the body (and then that whole group); another learner's
    messages stay and are visible again at once; an unreadable body in another group stays."""
    from espaluz.ops.dlq import dead_letter_queue_url
    from tests.functional.test_ops_dlq import Queues

    client = boto3.client("sqs")
    queues = Queues(client)
    assert dead_letter_queue_url(client, queues.url) == queues.dlq_url

    def put(group: str, body: str, n: int) -> None:
        client.send_message(
            QueueUrl=queues.dlq_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=f"d{n}"
        )

    for n in range(12):  # more than one batch of the learner's group
        put("key-of-ana", json.dumps({"wamid": f"w{n}", "learner_key": "key-of-ana"}), n)
    put("notice-group", json.dumps({"wamid": "n1", "wa_id": LEARNER}), 20)
    put("notice-group", "not json", 21)
    put("key-of-bob", json.dumps({"wamid": "b1", "wa_id": OTHER}), 22)
    put("key-of-bob", "{broken", 23)
    ana = erasure.Identity(uuid.uuid4(), wa_id=LEARNER, learner_key="key-of-ana")
    assert erasure.erase_sqs_dead_letters(client, queues.dlq_url, ana) == 14
    left = queues.drain(queues.dlq_url)  # visible at once: nothing stayed in flight
    assert sorted(m["Body"] for m in left) == sorted([json.dumps({"wamid": "b1", "wa_id": OTHER}), "{broken"])


def test_audio_stores_delete_one_learners_clips(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Covers: both audio stores (a folder; S3 through moto) delete every clip of one learner and keep
    another's; a second deletion finds nothing."""
    from espaluz.voice.storage import LocalAudioStore, build_store

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env)
    boto3.client("s3").create_bucket(Bucket="espaluz-audio-erase")
    who, other = uuid.uuid4(), uuid.uuid4()
    for store in (
        LocalAudioStore(tmp_path / "audio", 30),
        build_store(Settings(audio_bucket="espaluz-audio-erase", audio_retention_days=30)),
    ):
        for n in range(3):
            store.save(who, f"wamid.A{n}", b"OggS-ana")
        kept = store.save(other, "wamid.B0", b"OggS-bob")
        assert store.delete_learner(who) == 3
        assert store.delete_learner(who) == 0
        assert store.load(kept) == b"OggS-bob"
    assert not (tmp_path / "audio" / "voice" / str(who)).exists()
    listed = boto3.client("s3").list_objects_v2(Bucket="espaluz-audio-erase")
    assert [o["Key"] for o in listed["Contents"]] == [f"voice/{other}/wamid.B0.ogg"]


def test_cli_starts_the_stopped_local_redis_erases_and_rewrites_its_files(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fault: `espaluz dev` is not running, so its embedded Redis (append-only file and snapshot on disk)
    is not reachable. `espaluz learner delete` starts it on the data folder's files, deletes the
    learner's keys and dead letters, rewrites the AOF and the snapshot, and stops it: the files no longer
    hold the marker, the phone number or the learner id."""
    from espaluz.dev.services import start_services
    from espaluz.storage.commands import LocalRedisUnavailable, cli_redis
    from espaluz.voice.storage import LocalAudioStore
    from espaluz.whatsapp.inbound import notice_message

    data_dir = tmp_path / "stack"
    data_dir.mkdir()
    for name in ("REDIS_URL", "STRIPE_API_KEY", "AUDIO_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_CLUSTER", "false")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ESPALUZ_DATA_DIR", str(data_dir))
    monkeypatch.setenv("QUEUE_URL", "local:inbound")
    get_settings.cache_clear()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("INSERT INTO learners (wa_id) VALUES (%s) RETURNING id", (LEARNER,)).fetchone()
    assert row is not None
    who = uuid.UUID(str(row[0]))
    services = start_services(data_dir, database_url=database_url)
    try:
        client = get_redis(services.redis_url, cluster=False)
        client.set(f"conv:{{{who}}}", json.dumps({"extra": {"said": MARKER, "phone": LEARNER}}))
        client.rpush(held_key(str(who)), MARKER)
        queue = LocalFifoQueue(client, "inbound", max_receives=1)
        envelope = notice_message("notice.evt.x", str(who), {"text": {"body": MARKER}}, "key-of-ana")
        queue.send_batch([envelope])
        exhaust(queue)
        assert len(queue.dead_letters()) == 1
        client.set("unrelated", "kept")
        LocalAudioStore(data_dir / "audio", 30).save(who, "wamid.L1", b"OggS-" + MARKER.encode())
    finally:
        services.stop()
    files = [p for p in (data_dir / "redis").rglob("*") if p.is_file()]
    assert any(MARKER.encode() in p.read_bytes() for p in files)  # the files held the marker
    with pytest.raises(LocalRedisUnavailable):
        cli_redis()

    result = cli("learner", "delete", LEARNER, "--yes", "--json")
    assert result.exit_code == 0, result.output
    stores = json.loads(result.stdout)["stores"]
    assert stores["redis"]["detail"]["learner_keys"] == 2
    assert stores["dead_letters_local"] == {"removed": 1}
    assert stores["redis_persistence"]["removed"] >= 1, stores["redis_persistence"]
    assert stores["audio"] == {"removed": 1}
    assert stores["stripe"] == {"removed": 0, "note": "no Stripe customer"}
    with pytest.raises(LocalRedisUnavailable):  # stopped again
        cli_redis()
    for path in (p for p in (data_dir / "redis").rglob("*") if p.is_file()):
        data = path.read_bytes()
        for needle in (MARKER, LEARNER, str(who)):
            assert needle.encode() not in data, (path.name, needle)
    services = start_services(data_dir, database_url=database_url)
    try:
        assert get_redis(services.redis_url, cluster=False).get("unrelated") == b"kept"
    finally:
        services.stop()
    assert not (data_dir / "audio" / "voice" / str(who)).exists()
    assert os.environ.get("REDIS_URL") is None


def test_deleting_a_stripe_customer_through_the_sdk(stripe_api: StripeAPI) -> None:
    """Covers: the adapter deletes a customer with the official SDK; a customer Stripe no longer has
    (deleted before) is False, not an error, so an erasure can be run again."""
    from espaluz.billing.stripe_client import StripePayments

    stripe_api.emulator.customers["cus_erase"] = {"id": "cus_erase", "object": "customer"}
    payments = StripePayments(TEST_KEY, stripe_api.api_base, max_network_retries=0)
    assert payments.delete_customer("cus_erase") is True
    assert "cus_erase" not in stripe_api.emulator.customers
    assert payments.delete_customer("cus_erase") is False
