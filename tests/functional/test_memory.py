"""Pedagogical memory on real PostgreSQL + pgvector: retrieval order on constructed learner histories,
decay over simulated time, reviews inside the 24-hour window, the schema's embedding dimension, export
and deletion (rows, index entries and the bytes on disk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from espaluz.config import Settings
from espaluz.memory import prerequisites as sk
from espaluz.memory.embedders import HashingEmbedder
from espaluz.memory.kinds import MemoryKind, Performance
from espaluz.memory.recorder import remember_attempt, remember_turn
from espaluz.memory.retrieval import retrieve, stage1
from espaluz.memory.reviews import answer_review, deliverable_reviews, find_open_item
from espaluz.memory.service import build_memory
from espaluz.memory.skills import DESIRED_RETENTION, due_skills, review_skill, skill_statuses
from espaluz.memory.store import (
    EmbeddingSchemaError,
    MemoryStore,
    check_embedder,
    delete_learner_memories,
    export_learner,
    list_memories,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    """A drill answer shaped like the orchestrator's Attempt."""

    skill: str
    prompt: str
    expected: str
    answer: str
    verdict: str


def new_learner(conn: psycopg.Connection[Any], wa_id: str, last_inbound_at: datetime | None = None) -> UUID:
    row = conn.execute(
        "INSERT INTO learners (wa_id, last_inbound_at) VALUES (%s, %s) RETURNING id", (wa_id, last_inbound_at)
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


@pytest.fixture
def conn(database_url: str) -> Any:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def store(conn: psycopg.Connection[Any]) -> MemoryStore:
    memory_store = MemoryStore(HashingEmbedder(512))
    memory_store.check(conn)
    return memory_store


def present(verb: str, person: str, form: str) -> Answer:
    prompt = f"¿Cómo se conjuga *{verb}* en presente de indicativo con *{person}*?"
    return Answer(sk.PRESENT, prompt, form, form, "correct")


def subjunctive(verb: str, person: str, form: str, answer: str) -> Answer:
    prompt = f"¿Cómo se conjuga *{verb}* en presente de subjuntivo con *{person}*? (quiero que {person} ...)"
    return Answer(sk.PRESENT_SUBJUNCTIVE, prompt, form, answer, "correct" if answer == form else "wrong")


def build_struggling_learner(conn: psycopg.Connection[Any], store: MemoryStore) -> dict[str, Any]:
    """Three weeks of present tense (mastered), some preterite and chat, a cultural context with the
    subjunctive, then a week of subjunctive with many errors and one success."""
    learner = new_learner(conn, "15550000001")
    ids: dict[str, Any] = {"learner": learner, "errors": [], "present": []}
    verbs = [
        ("hablar", "yo", "hablo"),
        ("comer", "tú", "comes"),
        ("vivir", "ella", "vive"),
        ("tener", "yo", "tengo"),
    ]
    for day in range(0, 21, 2):
        for i, (verb, person, form) in enumerate(verbs[:3]):
            at = T0 + timedelta(days=day, minutes=i * 2)
            ids["present"].append(
                remember_attempt(conn, store, learner, present(verb, person, form), now=at).id
            )
    for day in (3, 9, 15):
        prompt = "¿Cómo se conjuga *ir* en pretérito indefinido con *nosotros*?"
        remember_attempt(
            conn,
            store,
            learner,
            Answer(sk.PRETERITE, prompt, "fuimos", "fuimos", "correct"),
            now=T0 + timedelta(days=day, hours=3),
        )
        remember_turn(
            conn,
            store,
            learner,
            text="hola, qué tal, hoy hace sol",
            route="greeting",
            attempts=[],
            now=T0 + timedelta(days=day, hours=2),
        )
    ids["culture"] = store.add(
        conn,
        learner,
        "Cultura mexicana: al despedirse se dice «¡Que te vaya bien!», un deseo con presente de subjuntivo.",
        MemoryKind.CULTURAL_CONTEXT,
        skills=(sk.PRESENT_SUBJUNCTIVE,),
        now=T0 + timedelta(days=22),
    ).id
    wrong = [
        ("venir", "tú", "vengas", "vienes", 23),
        ("tener", "ellos", "tengan", "tienen", 24),
        ("poder", "yo", "pueda", "puedo", 26),
        ("hacer", "nosotros", "hagamos", "hacemos", 29),
        ("salir", "tú", "salgas", "sales", 30),
    ]
    for verb, person, form, answer, day in wrong:
        memory = remember_attempt(
            conn, store, learner, subjunctive(verb, person, form, answer), now=T0 + timedelta(days=day)
        )
        ids["errors"].append(memory.id)
    ids["success"] = remember_attempt(
        conn,
        store,
        learner,
        subjunctive("hablar", "nosotros", "hablemos", "hablemos"),
        now=T0 + timedelta(days=28),
    ).id
    return ids


def test_struggling_learner_retrieves_errors_last_success_mastered_present_and_culture(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """The issue's scenario. Fails if stage 2 drops a pedagogical role (errors, last success, a mastered
    prerequisite, the cultural context) or if one pattern fills the list."""
    ids = build_struggling_learner(conn, store)
    now = T0 + timedelta(days=31)
    statuses = skill_statuses(conn, ids["learner"], now)
    assert statuses[sk.PRESENT].mastered
    assert not statuses[sk.PRESENT_SUBJUNCTIVE].mastered

    results = retrieve(
        conn,
        store,
        ids["learner"],
        "Quiero que mi hermana (venir) a la fiesta: ¿viene o venga?",
        [sk.PRESENT_SUBJUNCTIVE],
        now=now,
        k=8,
    )
    got = [r.memory.id for r in results]
    reasons = {r.memory.id: r.reasons for r in results}
    errors = [i for i in got if i in ids["errors"]]
    assert len(errors) >= 2
    assert ids["success"] in got
    assert "last_success" in reasons[ids["success"]]
    assert any(i in ids["present"] and "mastered_related" in reasons[i] for i in got)
    assert ids["culture"] in got
    # The most similar error (venir/vengas) comes first; then the last success, before the mastered present.
    assert got[0] == ids["errors"][0]
    mastered = next(i for i in got if "mastered_related" in reasons[i])
    assert got.index(ids["success"]) < got.index(mastered)
    # Pedagogy beats noise: no greeting chat and no preterite practice above any of the four roles.
    kinds = [r.memory.kind for r in results]
    assert MemoryKind.CONVERSATION not in kinds
    # Diversity: at most 3 memories from one pattern (kind, skill, outcome).
    groups: dict[tuple[str, str, str], int] = {}
    for r in results:
        key = (r.memory.kind.value, r.memory.skills[0] if r.memory.skills else "", r.memory.performance.value)
        groups[key] = groups.get(key, 0) + 1
    assert max(groups.values()) <= 3


def test_stage1_is_per_learner_and_exact(conn: psycopg.Connection[Any], store: MemoryStore) -> None:
    """Another learner's identical memory must never come back; exact ordering by cosine distance."""
    a = new_learner(conn, "15550000002")
    b = new_learner(conn, "15550000003")
    for text in ("El subjuntivo después de ojalá", "La comida de Oaxaca", "Los verbos reflexivos"):
        store.add(conn, a, text, MemoryKind.NEW_CONCEPT, now=T0)
    store.add(conn, b, "El subjuntivo después de ojalá", MemoryKind.NEW_CONCEPT, now=T0)
    found = stage1(conn, a, store.embed_query("ojalá con subjuntivo"), k=10)
    assert {c.memory.learner_id for c in found} == {a}
    assert found[0].memory.content == "El subjuntivo después de ojalá"
    distances = [c.distance for c in found]
    assert distances == sorted(distances)


def test_routine_fades_faster_than_breakthroughs_on_a_simulated_clock(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """Decay by kind: a fresh routine memory outranks an older correction only for a few days."""
    learner = new_learner(conn, "15550000004")
    correction = store.add(
        conn,
        learner,
        "Error: «sabo» en vez de «sé»",
        MemoryKind.ERROR_CORRECTION,
        skills=(sk.PRESENT,),
        performance=Performance.WRONG,
        engagement=0.8,
        now=T0,
    )
    routine = store.add(
        conn,
        learner,
        "Acierto rutinario: «hablo»",
        MemoryKind.ROUTINE_PRACTICE,
        skills=(sk.PRESENT,),
        performance=Performance.CORRECT,
        engagement=3.0,
        now=T0,
    )
    breakthrough = store.add(
        conn,
        learner,
        "Por fin: «si tuviera tiempo, viajaría»",
        MemoryKind.COMPLEX_SUCCESS,
        skills=(sk.IMPERFECT_SUBJUNCTIVE,),
        performance=Performance.CORRECT,
        now=T0,
    )
    first = list_memories(conn, learner, now=T0 + timedelta(hours=1))
    # 3.0 x 0.5 vs 0.8 x 1.5: the highly engaged routine answer leads at first.
    assert first.index(routine) < first.index(correction)
    later = list_memories(conn, learner, now=T0 + timedelta(days=10))
    assert later.index(correction) < later.index(routine)
    month = T0 + timedelta(days=30)
    assert routine.importance_at(month) / routine.importance < 0.01
    assert breakthrough.importance_at(month) / breakthrough.importance > 0.75
    assert correction.importance_at(month) / correction.importance == pytest.approx(
        0.5 ** (30 / 21), rel=1e-6
    )


def test_skill_retrievability_decays_and_the_card_falls_due_at_the_target(
    conn: psycopg.Connection[Any],
) -> None:
    """FSRS per (learner, skill): retrievability falls with time; due when it reaches the target."""
    from fsrs import Rating

    learner = new_learner(conn, "15550000005")
    review_skill(conn, learner, sk.PRETERITE, Rating.Good, T0)
    review_skill(conn, learner, sk.PRETERITE, Rating.Good, T0 + timedelta(minutes=10))
    status = review_skill(conn, learner, sk.PRETERITE, Rating.Good, T0 + timedelta(hours=1, minutes=10))
    last = status.card.last_review
    assert last is not None
    values = [
        skill_statuses(conn, learner, last + timedelta(days=d))[sk.PRETERITE].retrievability
        for d in (0.5, 2, 5, 20)
    ]
    assert values == sorted(values, reverse=True)
    assert values[-1] < values[0]
    at_due = skill_statuses(conn, learner, status.due)[sk.PRETERITE]
    assert at_due.retrievability == pytest.approx(DESIRED_RETENTION, abs=0.02)
    assert due_skills(conn, learner, status.due - timedelta(hours=1)) == []
    assert [s.skill for s in due_skills(conn, learner, status.due)] == [sk.PRETERITE]
    # A lapse is recorded and brings the card back soon.
    lapsed = review_skill(conn, learner, sk.PRETERITE, Rating.Again, status.due)
    assert lapsed.lapses == 1
    assert lapsed.due - status.due <= timedelta(minutes=10)


def test_a_correction_returns_as_a_review_inside_the_window_only(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """A wrong answer becomes a review item; it is offered when due and the window is open, held while
    the window is closed, and offered again once the learner writes (reopening it)."""
    learner = new_learner(conn, "15550000006", last_inbound_at=T0)
    item_answer = subjunctive("venir", "tú", "vengas", "vienes")
    remember_attempt(conn, store, learner, item_answer, now=T0)
    item = find_open_item(conn, learner, item_answer.skill, item_answer.prompt)
    assert item is not None
    assert item.wrong_answer == "vienes"
    assert item.expected == ("vengas",)
    assert deliverable_reviews(conn, learner, T0 + timedelta(minutes=5), T0) == []
    assert [i.id for i in deliverable_reviews(conn, learner, T0 + timedelta(minutes=11), T0)] == [item.id]
    # The learner answers it right twice: it graduates and moves out by days.
    answered = answer_review(conn, learner, item.id, True, T0 + timedelta(minutes=11))
    assert answered is not None
    answered = answer_review(conn, learner, item.id, True, answered.due)
    assert answered is not None
    assert answered.due - T0 > timedelta(days=1)
    assert deliverable_reviews(conn, learner, T0 + timedelta(hours=3), T0) == []
    # Due while the window is closed: held (no template), delivered after the learner's next message.
    late = answered.due + timedelta(hours=1)
    assert deliverable_reviews(conn, learner, late, T0) == []
    assert [i.id for i in deliverable_reviews(conn, learner, late, late - timedelta(minutes=1))] == [item.id]
    # Someone else's item id answers nothing.
    other = new_learner(conn, "15550000007")
    assert answer_review(conn, other, item.id, True, late) is None


def test_a_repeated_error_is_one_review_item_and_a_later_success_is_a_breakthrough(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """Duplicates: the same failed prompt twice is one item with two reviews; the next right answer is
    recorded as a successful complex usage and answers the review."""
    learner = new_learner(conn, "15550000008", last_inbound_at=T0)
    wrong = subjunctive("tener", "ellos", "tengan", "tienen")
    first = remember_attempt(conn, store, learner, wrong, now=T0)
    assert first.kind == MemoryKind.NEW_CONCEPT  # the first answer ever on the skill
    second = remember_attempt(conn, store, learner, wrong, now=T0 + timedelta(minutes=1))
    assert second.kind == MemoryKind.ERROR_CORRECTION
    rows = conn.execute(
        "SELECT count(*), max(reviews) FROM review_items WHERE learner_id = %s", (learner,)
    ).fetchone()
    assert rows == (1, 1)
    right = subjunctive("tener", "ellos", "tengan", "tengan")
    success = remember_attempt(conn, store, learner, right, now=T0 + timedelta(minutes=20))
    assert success.kind == MemoryKind.COMPLEX_SUCCESS
    item = find_open_item(conn, learner, right.skill, right.prompt)
    assert item is not None
    assert item.reviews == 2
    assert item.due > T0 + timedelta(minutes=20)


def test_dimension_or_embedder_mismatch_is_a_clear_error(conn: psycopg.Connection[Any]) -> None:
    """A 384-dimension embedder on a vector(512) schema, or another model at the same dimension, must
    refuse to start instead of storing incomparable vectors."""
    with pytest.raises(EmbeddingSchemaError, match=r"384 dimensions.*vector\(512\)"):
        check_embedder(conn, HashingEmbedder(384))
    check_embedder(conn, HashingEmbedder(512))  # claims the schema

    class Titan(HashingEmbedder):
        @property
        def name(self) -> str:
            return "bedrock:amazon.titan-embed-text-v2:0"

    with pytest.raises(EmbeddingSchemaError, match="embedded by hashing-v1"):
        check_embedder(conn, Titan(512))
    with pytest.raises(EmbeddingSchemaError, match="EMBEDDING_DIM=512"):
        build_memory(Settings(embedder="deterministic", embedding_dim=1024, database_url=conn.info.dsn))


def test_a_schema_whose_column_disagrees_with_its_record_is_refused(conn: psycopg.Connection[Any]) -> None:
    """A hand-altered column (a half-done migration) is caught, not written to."""
    conn.execute("ALTER TABLE memories ALTER COLUMN embedding TYPE vector(256)")
    with pytest.raises(EmbeddingSchemaError, match=r"vector\(256\) but memory_embedding records 512"):
        check_embedder(conn, HashingEmbedder(512))


def test_export_includes_memories_skills_reviews_and_no_vectors(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """Export: everything remembered about the learner, and nothing about anyone else."""
    learner = new_learner(conn, "15550000009", last_inbound_at=T0)
    other = new_learner(conn, "15550000010")
    remember_attempt(conn, store, learner, subjunctive("venir", "tú", "vengas", "vienes"), now=T0)
    store.add(conn, other, "Otro alumno", MemoryKind.NEW_CONCEPT, now=T0)
    data = export_learner(conn, learner)
    assert data["embedding"] == {"embedder": "hashing-v1", "dimension": 512}
    assert [m["skills"] for m in data["memories"]] == [[sk.PRESENT_SUBJUNCTIVE]]
    assert "vienes" in data["memories"][0]["content"]
    assert [s["skill"] for s in data["skills"]] == [sk.PRESENT_SUBJUNCTIVE]
    assert data["reviews"][0]["wrong_answer"] == "vienes"
    assert "embedding" not in data["memories"][0]


def _database_files(conn: psycopg.Connection[Any]) -> list[Path]:
    row = conn.execute(
        "SELECT current_setting('data_directory'), oid FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    assert row is not None
    return [p for p in (Path(row[0]) / "base" / str(row[1])).iterdir() if p.is_file()]


def test_deletion_really_deletes_rows_index_entries_and_bytes(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """Deleting a learner's memories leaves no row, no index entry, and (after the table is rewritten)
    no byte of them on disk; another learner's memories stay."""
    gone = new_learner(conn, "15550000011", last_inbound_at=T0)
    kept = new_learner(conn, "15550000012")
    marker = "ZQXJ-marca-privada"
    for i in range(30):
        store.add(conn, gone, f"{marker} recuerdo {i}", MemoryKind.NEW_CONCEPT, now=T0 + timedelta(minutes=i))
        store.add(conn, kept, f"recuerdo ajeno {i}", MemoryKind.NEW_CONCEPT, now=T0)
    remember_attempt(conn, store, gone, subjunctive("venir", "tú", "vengas", "vienes"), now=T0)
    conn.execute("CREATE INDEX memories_hnsw ON memories USING hnsw (embedding vector_cosine_ops)")

    assert delete_learner_memories(conn, gone) == 31
    for table in ("memories", "skill_cards", "review_items", "memory_summaries"):
        count = conn.execute(f"SELECT count(*) FROM {table} WHERE learner_id = %s", (gone,)).fetchone()  # noqa: S608
        assert count == (0,)
    # An index scan (B-tree) and an approximate scan (HNSW) find nothing of the learner.
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = conn.execute("EXPLAIN SELECT id FROM memories WHERE learner_id = %s", (gone,)).fetchall()
        assert "memories_learner_created" in str(plan)
        assert conn.execute("SELECT count(*) FROM memories WHERE learner_id = %s", (gone,)).fetchone() == (0,)
        query = store.embed_query(f"{marker} recuerdo 3")
        found = stage1(conn, kept, query, k=5, method="hnsw")
        assert found
        assert all(c.memory.learner_id == kept for c in found)
        near = conn.execute(
            "SELECT content FROM memories ORDER BY embedding <=> %s::vector LIMIT 10",
            ("[" + ",".join(map(str, query)) + "]",),
        ).fetchall()
        assert not any(marker in r[0] for r in near)
    # The learner goes too; the rewrite drops dead tuples and rebuilds every index.
    conn.execute("DELETE FROM learners WHERE id = %s", (gone,))
    conn.execute("VACUUM FULL")
    conn.execute("CHECKPOINT")
    blobs = b"".join(p.read_bytes() for p in _database_files(conn))
    assert gone.bytes not in blobs
    assert marker.encode() not in blobs
    assert kept.bytes in blobs
    assert b"recuerdo ajeno" in blobs


def test_deleting_the_learner_cascades_to_all_memory_tables(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """ON DELETE CASCADE: no orphan memory, card, review or summary survives the learner row."""
    from espaluz.memory.summary import current_summary

    learner = new_learner(conn, "15550000013", last_inbound_at=T0)
    remember_attempt(conn, store, learner, subjunctive("venir", "tú", "vengas", "vienes"), now=T0)
    assert current_summary(conn, learner, now=T0, min_new=1)
    conn.execute("DELETE FROM learners WHERE id = %s", (learner,))
    for table in ("memories", "skill_cards", "review_items", "memory_summaries"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # noqa: S608


def test_context_for_a_1100_message_history_stays_within_budget(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """A learner with 1,100 remembered turns: the turn's context holds the summary, the retrieved
    memories and a sample of the history, and its estimated size never exceeds the budget."""
    from espaluz.memory.context import load_context

    learner = new_learner(conn, "15550000014")
    with conn.transaction():
        for i in range(1100):
            at = T0 + timedelta(minutes=10 * i)
            if i % 25 == 0:
                remember_attempt(conn, store, learner, subjunctive("venir", "tú", "vengas", "vienes"), now=at)
            else:
                text = f"mensaje {i}: hoy practiqué un poco y hablé con mi vecina del mercado"
                remember_turn(conn, store, learner, text=text, route="fallback", attempts=[], now=at)
    now = T0 + timedelta(minutes=10 * 1100)
    context = load_context(
        conn, store, learner, "¿vienes o vengas?", [sk.PRESENT_SUBJUNCTIVE], budget=1200, now=now
    )
    assert context.tokens <= 1200
    assert context.summary.startswith("History: 1100 remembered interactions.")
    assert context.memories
    assert "error_pattern" in context.memories[0].reasons
    assert "mensaje 1099" in context.turns[-1].text
    assert context.omitted_turns > 900
    assert "## Summary" in context.render()


def test_the_memory_migration_rolls_back_and_applies_again(database_url: str) -> None:
    """The rollback file drops exactly this migration's tables; applying again restores the schema."""
    from yoyo import get_backend, read_migrations

    from espaluz.storage.postgres import MIGRATIONS_DIR, migrate, yoyo_url

    backend = get_backend(yoyo_url(database_url))
    try:
        with backend.lock():
            mine = backend.to_rollback(read_migrations(str(MIGRATIONS_DIR))).filter(
                lambda m: m.id == "0003.memory"
            )
            backend.rollback_migrations(mine)
    finally:
        backend.connection.close()
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    with psycopg.connect(database_url) as conn:
        left = {r[0] for r in conn.execute(tables)}
    assert not left & {"memories", "memory_embedding", "skill_cards", "review_items", "memory_summaries"}
    assert "learners" in left
    assert migrate(database_url) == ["0003.memory"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT dimension, embedder FROM memory_embedding").fetchone() == (512, None)


def test_memoria_list_keeps_within_whatsapp_limits_with_many_long_memories(
    conn: psycopg.Connection[Any], store: MemoryStore
) -> None:
    """Fifteen long memories: at most 10 rows (9 + forget-all), titles within 24 characters, body
    within 1,024; the conversation turns are not listed; forged ids forget nothing."""
    from espaluz.memory.chat import handle_memory_command

    learner = new_learner(conn, "15550000015")
    other = new_learner(conn, "15550000016")
    for i in range(15):
        store.add(conn, learner, f"Recuerdo {i}: " + "largo " * 60, MemoryKind.ERROR_CORRECTION, now=T0)
    store.add(conn, learner, "Mensaje del alumno: hola", MemoryKind.CONVERSATION, now=T0)
    theirs = store.add(conn, other, "De otra persona", MemoryKind.NEW_CONCEPT, now=T0)
    reply = handle_memory_command(conn, learner, "memoria", None, now=T0)
    assert reply is not None
    body = reply.payload()["interactive"]
    rows = body["action"]["sections"][0]["rows"]
    assert 2 <= len(rows) <= 10
    assert len(body["body"]["text"]) <= 1024
    assert "Mensaje del alumno" not in body["body"]["text"]
    assert handle_memory_command(conn, learner, "hola", None, now=T0) is None
    forged = handle_memory_command(conn, learner, "", f"mem:forget:{theirs.id}", now=T0)
    assert forged is not None
    assert forged.text.startswith("No encuentro")
    assert conn.execute("SELECT count(*) FROM memories WHERE id = %s", (theirs.id,)).fetchone() == (1,)
    junk = handle_memory_command(conn, learner, "", "mem:forget:abc';--", now=T0)
    assert junk is not None
    assert junk.text.startswith("No encuentro")


def test_the_service_gives_a_turn_context_within_the_configured_budget(
    conn: psycopg.Connection[Any], database_url: str
) -> None:
    """MEMORY_CONTEXT_TOKENS bounds what the tutor's prompt gets, however long the history."""
    service = build_memory(Settings(database_url=database_url, memory_context_tokens=300))
    learner = new_learner(conn, "15550000017")
    for i in range(60):
        service.remember(learner, text=f"mensaje {i} " + "bla " * 40, route="fallback", attempts=[])
    context = service.context(learner, "bla", ["conjugation:subjunctive.present"])
    assert 0 < context.tokens <= 300
    assert "mensaje 59" in context.render()
