"""Pedagogical memory at scale: stage 1 (exact per-learner search on the B-tree vs HNSW), the whole
two-stage retrieval, recall@10 of HNSW against exact search, ingest rate (COPY), index build time and size.

Runs on a throwaway PostgreSQL 16 + pgvector 0.6.2 (pgserver, in a temp folder) with the real schema
(migrations, vector(512)). Learners get ``memories / learners`` memories each, drawn from generated
teaching texts embedded once by the default (hashing) embedder; each learner also gets a few FSRS skill
cards so stage 2 does its real work.

Default: two sizes (200 learners / 20,000 memories and 1,000 / 100,000), to show how figures grow; a
couple of minutes on 2 cores. Full size: ``--learners 10000 --memories 1000000``.

Recall@10 counts an approximate hit when its distance is within the exact 10th distance (ties between
identical generated texts are not misses). HNSW is built over all learners (pgvector 0.6 filters by
learner after the scan, it has no iterative scans), with m=16, ef_construction=64, and queried at
several ef_search values.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pgvector import Vector  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from espaluz.memory.embedders import HashingEmbedder  # noqa: E402
from espaluz.memory.kinds import MemoryKind, importance  # noqa: E402
from espaluz.memory.prerequisites import SKILL_LABELS  # noqa: E402
from espaluz.memory.retrieval import retrieve, stage1  # noqa: E402
from espaluz.memory.store import MemoryStore, check_embedder, vector_literal  # noqa: E402
from espaluz.storage.postgres import migrate  # noqa: E402

VERBS = [
    "hablar",
    "comer",
    "vivir",
    "ser",
    "estar",
    "tener",
    "ir",
    "hacer",
    "poder",
    "querer",
    "decir",
    "venir",
    "salir",
    "poner",
    "saber",
    "conocer",
    "dormir",
    "pedir",
    "jugar",
    "volver",
    "empezar",
    "seguir",
    "traer",
    "oír",
    "ver",
    "dar",
    "leer",
    "escribir",
    "abrir",
    "pensar",
]
PERSONS = ["yo", "tú", "él", "ella", "nosotros", "vosotros", "ellos", "ustedes", "vos"]
SKILLS = list(SKILL_LABELS)
KINDS = [
    (MemoryKind.ROUTINE_PRACTICE, "correct", 0.55),
    (MemoryKind.ERROR_CORRECTION, "wrong", 0.2),
    (MemoryKind.NEW_CONCEPT, "none", 0.08),
    (MemoryKind.COMPLEX_SUCCESS, "correct", 0.07),
    (MemoryKind.CULTURAL_CONTEXT, "none", 0.05),
    (MemoryKind.CONVERSATION, "none", 0.05),
]
PLACES = ["México", "Colombia", "Argentina", "España", "Perú", "Chile", "Cuba", "Guatemala"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5):7.2f}  p95 {pct(values, 0.95):7.2f}  p99 {pct(values, 0.99):7.2f} ms"


def make_texts(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """(content, kind, performance, skill) teaching texts."""
    out = []
    weights = [w for *_, w in KINDS]
    for _ in range(count):
        kind, perf, _ = rng.choices(KINDS, weights)[0]
        skill = rng.choice(SKILLS)
        label = SKILL_LABELS[skill]
        verb, person = rng.choice(VERBS), rng.choice(PERSONS)
        if kind == MemoryKind.ERROR_CORRECTION:
            text = f"Error en {label}: escribió «{verb[:-1]}o» con {person}; conjugar {verb}"
        elif kind == MemoryKind.CULTURAL_CONTEXT:
            text = f"Cultura de {rng.choice(PLACES)}: expresión con {verb} en {label}"
        elif kind == MemoryKind.CONVERSATION:
            text = f"Mensaje del alumno: hoy quiero {verb} con mi amigo, {person} dice hola"
        else:
            text = f"Acierto en {label}: {verb} con {person}"
        out.append((text, kind.value, perf, skill))
    return out


def start_postgres(folder: Path) -> Any:
    import pgserver

    return pgserver.get_server(folder, cleanup_mode="delete")


def with_db(uri: str, name: str) -> str:
    head, _, tail = uri.partition("@/")
    _, _, query = tail.partition("?")
    return f"{head}@/{name}?{query}"


def run_size(
    admin: str, learners: int, memories: int, queries: int, seed: int, hnsw: bool = True
) -> dict[str, Any]:
    rng = random.Random(seed)
    name = f"bench_{learners}_{memories}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = with_db(admin, name)
    migrate(url)
    embedder = HashingEmbedder(512)
    figures: dict[str, Any] = {"learners": learners, "memories": memories}

    distinct = 5000
    texts = make_texts(rng, distinct)
    features = [embedder.features(t[0]) for t in texts]
    numbers = [embedder.features(f"({n})") for n in range(1000)]
    started = time.perf_counter()
    for text, *_ in texts[:2000]:
        embedder.embed_one(f"{text} (123)")
    figures["embed_per_s"] = 2000 / (time.perf_counter() - started)

    def row(learner: uuid.UUID, at: datetime) -> tuple[Any, ...]:
        """One memory: a template plus a number; its vector is exactly the embedding of that text
        (features are additive), so vectors are distinct without embedding every row from scratch."""
        index, n = rng.randrange(distinct), rng.randrange(1000)
        text, kind, perf, skill = texts[index]
        summed = [a + b for a, b in zip(features[index], numbers[n], strict=True)]
        norm = math.hypot(*summed)
        vector = Vector([v / norm for v in summed])
        return (learner, kind, f"{text} ({n})", [skill], perf, 1.0, importance(MemoryKind(kind)), vector, at)

    sample = time.perf_counter()
    probe = uuid.uuid4()
    for _ in range(2000):
        row(probe, datetime(2026, 1, 1, tzinfo=UTC))
    figures["generate_rows_per_s"] = 2000 / (time.perf_counter() - sample)

    with psycopg.connect(url, autocommit=True) as conn:
        check_embedder(conn, embedder)
        register_vector(conn)
        ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(learners)]
        with conn.cursor().copy("COPY learners (id, wa_id) FROM STDIN") as copy:
            for i, learner in enumerate(ids):
                copy.write_row((learner, f"1555{i:08d}"))
        base = datetime(2026, 1, 1, tzinfo=UTC)
        per = memories // learners
        started = time.perf_counter()
        with conn.cursor().copy(
            "COPY memories (learner_id, kind, content, skills, performance, engagement, importance,"
            " embedding, created_at) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(
                ["uuid", "text", "text", "text[]", "text", "float4", "float4", "vector", "timestamptz"]
            )
            # Memories arrive over time, interleaved across learners (as in production).
            for j in range(per):
                at = base + timedelta(minutes=30 * j)
                for learner in ids:
                    copy.write_row(row(learner, at))
        ingest_s = time.perf_counter() - started
        figures["ingest_rows_per_s"] = per * learners / ingest_s
        # COPY alone: the measured total minus the time spent generating rows in this process.
        copy_s = ingest_s - per * learners / figures["generate_rows_per_s"]
        figures["copy_rows_per_s"] = per * learners / copy_s if copy_s > 0 else float("nan")
        figures["ingest_s"] = ingest_s
        card = (
            '{"card_id": 1, "state": 2, "step": null, "stability": 12.0, "difficulty": 5.0, '
            '"due": "2026-12-01T00:00:00+00:00", "last_review": "2026-11-20T00:00:00+00:00"}'
        )
        conn.execute(
            """INSERT INTO skill_cards (learner_id, skill, card, due, reviews)
               SELECT id, s, %s::jsonb, '2026-12-01', 5 FROM learners,
                      unnest(%s::text[]) AS s""",
            (card, SKILLS[:4]),
        )
        conn.execute("VACUUM ANALYZE")
        sizes = conn.execute(
            """SELECT pg_total_relation_size('memories'), pg_relation_size('memories'),
                      pg_relation_size('memories_learner_created')"""
        ).fetchone()
        assert sizes is not None
        figures["table_mb"], figures["heap_mb"], figures["btree_mb"] = (s / 2**20 for s in sizes)

        # Queries: random learners, a random teaching text as the turn.
        picks = [
            (rng.choice(ids), embedder.embed_one(f"{rng.choice(texts)[0]} ({rng.randrange(1000)})"))
            for _ in range(queries)
        ]
        plan = conn.execute(
            "EXPLAIN WITH mine AS MATERIALIZED (SELECT id, embedding FROM memories WHERE learner_id = %s) "
            "SELECT id FROM mine ORDER BY embedding <=> %s::vector LIMIT 10",
            (picks[0][0], vector_literal(picks[0][1])),
        ).fetchall()
        figures["exact_plan"] = "btree" if "memories_learner_created" in str(plan) else "other"

        exact10: dict[int, list[float]] = {}
        lat: list[float] = []
        for qi, (learner, vector) in enumerate(picks):
            t = time.perf_counter()
            found = stage1(conn, learner, vector, k=48)
            lat.append((time.perf_counter() - t) * 1000)
            exact10[qi] = [c.distance for c in found[:10]]
        figures["stage1_exact"] = lat

        store = MemoryStore(embedder)
        whole: list[float] = []
        whole_embed: list[float] = []
        query_texts = [rng.choice(texts) for _ in range(queries)]
        for (learner, vector), (text, _, _, skill) in zip(picks, query_texts, strict=True):
            t = time.perf_counter()
            retrieve(conn, store, learner, text, [skill], query_vector=vector)
            whole.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            retrieve(conn, store, learner, text, [skill])
            whole_embed.append((time.perf_counter() - t) * 1000)
        figures["retrieval"] = whole
        figures["retrieval_with_embedding"] = whole_embed

        if hnsw:
            conn.execute(f"SET maintenance_work_mem = '{max(1, memories * 4 // 1_000_000)}GB'")
            conn.execute("SET max_parallel_maintenance_workers = 1")
            t = time.perf_counter()
            conn.execute("CREATE INDEX memories_hnsw ON memories USING hnsw (embedding vector_cosine_ops)")
            figures["hnsw_build_s"] = time.perf_counter() - t
            hnsw_size = conn.execute("SELECT pg_relation_size('memories_hnsw')").fetchone()
            assert hnsw_size is not None
            figures["hnsw_mb"] = hnsw_size[0] / 2**20
            for ef in (40, 200, 1000):
                lat = []
                hits = 0
                total = 0
                with conn.transaction():
                    for qi, (learner, vector) in enumerate(picks):
                        t = time.perf_counter()
                        found = stage1(conn, learner, vector, k=10, method="hnsw", ef_search=ef)
                        lat.append((time.perf_counter() - t) * 1000)
                        truth = exact10[qi]
                        if not truth:
                            continue
                        bound = truth[-1] + 1e-6
                        hits += min(len(truth), sum(1 for c in found if c.distance <= bound))
                        total += len(truth)
                figures[f"hnsw_ef{ef}"] = lat
                figures[f"recall_ef{ef}"] = hits / total if total else float("nan")
        # Exact search again with the HNSW index present (the planner must keep using the B-tree).
        lat = []
        for learner, vector in picks:
            t = time.perf_counter()
            stage1(conn, learner, vector, k=48)
            lat.append((time.perf_counter() - t) * 1000)
        figures["stage1_exact_with_hnsw"] = lat if hnsw else figures["stage1_exact"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return figures


def report(f: dict[str, Any]) -> None:
    print(f"\n== {f['learners']:,} learners, {f['memories']:,} memories ==")
    print(f"embedding (hashing, 512 d): {f['embed_per_s']:,.0f} texts/s")
    print(
        f"ingest (binary COPY, B-tree in place): {f['ingest_rows_per_s']:,.0f} rows/s with generation "
        f"({f['ingest_s']:.1f} s); COPY alone ~{f['copy_rows_per_s']:,.0f} rows/s"
    )
    print(
        f"sizes: table+indexes {f['table_mb']:.0f} MB, heap {f['heap_mb']:.0f} MB, "
        f"B-tree {f['btree_mb']:.1f} MB"
    )
    if "hnsw_mb" in f:
        print(f"HNSW (m=16, ef_construction=64): {f['hnsw_mb']:.0f} MB, built in {f['hnsw_build_s']:.1f} s")
    base = pct(f["stage1_exact"], 0.95)
    print(
        f"stage 1 exact per learner (k=48, plan: {f['exact_plan']}):  {fmt(f['stage1_exact'])}  recall 1.000"
    )
    print(f"stage 1 exact, HNSW index present:             {fmt(f['stage1_exact_with_hnsw'])}")
    for ef in (40, 200, 1000) if "hnsw_mb" in f else ():
        lat = f[f"hnsw_ef{ef}"]
        print(
            f"stage 1 HNSW ef_search={ef:<4} (k=10):            {fmt(lat)}"
            f"  recall@10 {f[f'recall_ef{ef}']:.3f}"
            f"  p95 x{pct(lat, 0.95) / base:.2f} of exact"
        )
    print(f"whole retrieval (stages 1+2):                  {fmt(f['retrieval'])}")
    print(f"whole retrieval + query embedding:             {fmt(f['retrieval_with_embedding'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, help="one size: this many learners (with --memories)")
    parser.add_argument("--memories", type=int, help="one size: this many memories in all")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-hnsw", action="store_true", help="exact search only (no HNSW build)")
    args = parser.parse_args()
    if args.learners and args.memories:
        sizes = [(args.learners, args.memories)]
    else:
        sizes = [(200, 20_000), (1_000, 100_000)]
    runs = []
    with tempfile.TemporaryDirectory(prefix="espaluz-bench-memory-") as folder:
        server = start_postgres(Path(folder))
        try:
            admin = server.get_uri()
            for learners, memories in sizes:
                started = time.perf_counter()
                figures = run_size(admin, learners, memories, args.queries, args.seed, not args.skip_hnsw)
                report(figures)
                print(f"(size run in {time.perf_counter() - started:.0f} s)")
                runs.append(figures)
        finally:
            server.cleanup()
    if len(runs) > 1 and not args.skip_hnsw:
        a, b = runs[0], runs[-1]
        grow = b["memories"] / a["memories"]
        print(f"\n== growth x{grow:.0f} in memories ({a['memories']:,} -> {b['memories']:,}) ==")
        for key in ("stage1_exact", "retrieval", "hnsw_ef40", "hnsw_ef1000"):
            print(f"{key:<14} p95 x{pct(b[key], 0.95) / pct(a[key], 0.95):.2f}")
        print(
            f"recall@10 ef40 {a['recall_ef40']:.3f} -> {b['recall_ef40']:.3f}; "
            f"ef1000 {a['recall_ef1000']:.3f} -> {b['recall_ef1000']:.3f}"
        )
        print(
            f"HNSW build x{b['hnsw_build_s'] / a['hnsw_build_s']:.1f}, "
            f"size x{b['hnsw_mb'] / a['hnsw_mb']:.1f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbench process peak RSS: {rss:.0f} MB (PostgreSQL's own memory not included)")


if __name__ == "__main__":
    main()
