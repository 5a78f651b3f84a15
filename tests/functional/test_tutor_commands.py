"""Chat commands and onboarding (espaluz.tutor.commands) against real Postgres and Redis.

The CommandCenter is driven directly, as the processor will call it before the orchestrator; every reply
is rendered with ``payload()`` so Meta's limits (3 buttons x 20 chars, 10 rows x 24 chars, 1024-char
interactive body) are checked on every message.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis
from psycopg_pool import ConnectionPool

from espaluz.spanish import placement
from espaluz.storage import learners
from espaluz.storage.postgres import get_pool
from espaluz.tutor.commands import CommandCenter, CommandResult, Document
from espaluz.tutor.commands import profile as profiles
from espaluz.tutor.commands.chart import GOOD, POOR, bar_height
from espaluz.tutor.commands.privacy import CONFIRM_KEY
from espaluz.tutor.state import ConversationState, PendingDrill, StateStore
from espaluz.whatsapp.graph import GraphClient
from espaluz.whatsapp.outgoing import Image, MessageLimitError, Recipient, Reply
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphEmulator
from tests.unit.tutor_commands.test_chart import bars, decode

PNID = PHONE_NUMBER_ID
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def pool(database_url: str) -> ConnectionPool:
    return get_pool(database_url)


@pytest.fixture
def center(pool: ConnectionPool, redis_client: redis.Redis[bytes]) -> CommandCenter:
    return CommandCenter(pool, redis_client, rng=random.Random(5))


def new_learner(pool: ConnectionPool, wa_id: str, name: str = "Ana") -> learners.Learner:
    with pool.connection() as conn:
        return learners.upsert(conn, learners.Identity(bsuid=None, wa_id=wa_id, name=name), PNID)


def learner(pool: ConnectionPool, wa_id: str, *, language: str = "es", level: str = "A2") -> learners.Learner:
    """An existing, onboarded learner (not new)."""
    created = new_learner(pool, wa_id)
    with pool.connection() as conn:
        profiles.set_native_language(conn, created.id, language)
        profiles.set_level(conn, created.id, level)
        profiles.mark_onboarded(conn, created.id)
        found = learners.get(conn, created.id)
    assert found is not None
    return found


def reload(pool: ConnectionPool, learner_id: uuid.UUID) -> profiles.Profile:
    with pool.connection() as conn:
        found = profiles.load(conn, learner_id)
    assert found is not None
    return found


def rendered(result: CommandResult | None) -> CommandResult:
    """The result, after checking its reply renders within WhatsApp's limits."""
    assert result is not None
    result.reply.payload()
    return result


def ids(reply: Reply) -> list[str]:
    return [b.id for b in reply.buttons] or [r.id for r in reply.rows]


def roundtrip(state: ConversationState) -> ConversationState:
    """The state as the next turn loads it from Redis."""
    return ConversationState.from_json(state.to_json())


# --- nivel / level ---------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["nivel", "Nivel!", "level", "MY LEVEL", "mi nivel"])
def test_level_command_shows_the_current_level_and_a_list(
    center: CommandCenter, pool: ConnectionPool, words: str
) -> None:
    """Covers case, punctuation and both languages of the command words."""
    ana = learner(pool, "15550000001", level="B1")
    result = rendered(center.handle(ana, words, None, ConversationState(), now=NOW))
    assert result.route == "command.level"
    assert "Tu nivel es *B1 (Intermedio)*" in result.reply.text
    assert ids(result.reply) == [f"level:set:{lv}" for lv in profiles.LEVELS] + ["level:test"]


def test_level_is_changed_from_the_list_or_typed(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers a pending drill of the old level: it is dropped when the level changes."""
    ana = learner(pool, "15550000002", language="en")
    state = ConversationState(pending=PendingDrill("ser", "indicative.present", "1s", ["soy"], "¿?"))
    result = rendered(center.handle(ana, "B2 · Intermedio alto", "level:set:B2", state, now=NOW))
    assert result.route == "command.level.set"
    assert reload(pool, ana.id).level == "B2"
    assert result.state.pending is None
    assert "A partir de ahora, los ejercicios serán de nivel *B2 (Intermedio alto)*." in result.reply.text
    # the English gloss for an English speaker
    assert "_From now on, your exercises will be at level B2 (Upper intermediate)._" in result.reply.text
    rendered(center.handle(ana, "nivel c1", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).level == "C1"
    rendered(center.handle(ana, "level A2", None, ConversationState(), now=NOW))
    assert reload(pool, ana.id).level == "A2"


@pytest.mark.parametrize("junk", ["level:set:Z9", "level:set:", "level:set:b1; drop table", "level:whatever"])
def test_unknown_level_ids_change_nothing(center: CommandCenter, pool: ConnectionPool, junk: str) -> None:
    """Covers forged or unknown list ids: the level stays and the list is offered again."""
    ana = learner(pool, "15550000003", level="A2")
    result = rendered(center.handle(ana, "", junk, ConversationState(), now=NOW))
    assert result.route == "command.level.invalid"
    assert reload(pool, ana.id).level == "A2"
    assert len(result.reply.rows) == 6


def answer_all(
    center: CommandCenter, who: learners.Learner, result: CommandResult, right: bool
) -> CommandResult:
    """Answer the placement questions (all right or all wrong) by tapping their buttons, to the end."""
    while result.route.endswith((".test", "placement.question")):
        qid = result.reply.buttons[0].id.split(":")[1]
        question = placement.QUESTIONS[qid]
        index = question.options.index(question.answer)
        if not right:
            index = (index + 1) % len(question.options)
        result = rendered(center.handle(who, "", f"place:{qid}:{index}", roundtrip(result.state), now=NOW))
    return result


def test_placement_test_from_the_level_command_sets_the_level(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers a forged answer (another question's id, an index out of range): refused, the test goes on."""
    ana = learner(pool, "15550000004", level="A1")
    start = rendered(center.handle(ana, "", "level:test", ConversationState(), now=NOW))
    assert start.route == "command.level.test"
    assert len(start.reply.buttons) == 3
    qid = start.reply.buttons[0].id.split(":")[1]
    other = next(q for q in placement.QUESTIONS if q != qid)
    for forged in (f"place:{other}:0", f"place:{qid}:7", f"place:{qid}:x", "place:"):
        refused = rendered(center.handle(ana, "", forged, roundtrip(start.state), now=NOW))
        assert refused.route == "command.level.stale"
        assert refused.reply.buttons == start.reply.buttons  # the same open question again
    done = answer_all(center, ana, start, right=True)
    assert done.route == "command.level.placed"
    assert reload(pool, ana.id).level in ("B2", "C1")
    assert "placement" not in done.state.extra


def test_placement_accepts_a_typed_option_and_can_be_cancelled(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers typed answers (an option's text) and "saltar" in the middle of the test."""
    ana = learner(pool, "15550000005", level="B1")
    start = rendered(center.handle(ana, "", "level:test", ConversationState(), now=NOW))
    qid = start.reply.buttons[0].id.split(":")[1]
    typed = placement.QUESTIONS[qid].options[1].upper()
    step = rendered(center.handle(ana, typed, None, roundtrip(start.state), now=NOW))
    assert step.route == "placement.question"
    cancelled = rendered(center.handle(ana, "saltar", None, roundtrip(step.state), now=NOW))
    assert cancelled.route == "command.level.cancelled"
    assert reload(pool, ana.id).level == "B1"
    stale = rendered(center.handle(ana, "", f"place:{qid}:0", roundtrip(cancelled.state), now=NOW))
    assert stale.route == "command.level.stale"


# --- progreso / progress ---------------------------------------------------------------------------


def add_turn(
    conn: psycopg.Connection[Any], who: uuid.UUID, when: datetime, route: str = "engine.check"
) -> str:
    wamid = f"wamid.{uuid.uuid4().hex}"
    conn.execute(
        """INSERT INTO turns (wamid, learner_id, status, route, received_at)
           VALUES (%s, %s, 'answered', %s, %s)""",
        (wamid, who, route, when),
    )
    return wamid


def add_attempt(
    conn: psycopg.Connection[Any],
    who: uuid.UUID,
    skill: str,
    prompt: str,
    expected: str,
    answer: str,
    verdict: str,
    when: datetime,
) -> None:
    conn.execute(
        """INSERT INTO drill_attempts (learner_id, skill, prompt, expected, answer, verdict, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (who, skill, prompt, expected, answer, verdict, when),
    )


PRESENT = "conjugation:indicative.present"
PRETERITE = "conjugation:indicative.preterite"


def seed_progress(pool: ConnectionPool, who: uuid.UUID) -> None:
    day = timedelta(days=1)
    with pool.connection() as conn:
        for back in (0, 1, 2, 4):  # today, yesterday, two days ago; a gap; four days ago
            add_turn(conn, who, NOW - back * day)
        add_turn(conn, who, NOW - 3 * day, route="notice")  # a notice is not the learner's activity
        p = "¿Cómo se conjuga *{}* en presente de indicativo con *yo*?"
        add_attempt(conn, who, PRESENT, p.format("tener"), "tengo", "tengo", "correct", NOW - day)
        add_attempt(conn, who, PRESENT, p.format("hablar"), "hablo", "hablo", "correct", NOW - day)
        add_attempt(conn, who, PRESENT, p.format("ser"), "soy", "soi", "wrong", NOW - day)
        add_attempt(conn, who, PRESENT, p.format("estar"), "estoy", "estoy", "correct", NOW - day)
        # "fui" is ser or ir: the prompt names ir
        pi = "¿Cómo se conjuga *{}* en pretérito indefinido con *yo*?"
        add_attempt(conn, who, PRETERITE, pi.format("ir"), "fui", "fui", "correct", NOW - 2 * day)
        add_attempt(conn, who, PRETERITE, pi.format("hablar"), "hablé", "hable", "accent", NOW - 2 * day)
        add_attempt(conn, who, PRETERITE, pi.format("tener"), "tuve", "tube", "wrong", NOW - 2 * day)
        add_attempt(conn, who, PRETERITE, pi.format("decir"), "dije", "dije", "wrong", NOW - 2 * day)
        # 20 days ago: counts for accuracy (30 days), not for this week's verbs
        add_attempt(conn, who, PRESENT, p.format("vivir"), "vivo", "vivo", "correct", NOW - 20 * day)
        # 40 days ago: outside every window
        add_attempt(conn, who, PRESENT, p.format("comer"), "como", "como", "wrong", NOW - 40 * day)
        add_attempt(conn, who, "por_para", "Gracias ___ todo.", "por", "para", "wrong", NOW - day)


@pytest.mark.parametrize(
    ("words", "language"), [("progreso", "es"), ("my progress", "en"), ("Progress", "en")]
)
def test_progress_reports_real_numbers_and_a_chart(
    center: CommandCenter, pool: ConnectionPool, words: str, language: str
) -> None:
    """Covers data that must not count: another learner's attempts, notices, attempts outside the windows,
    wrong answers as learned verbs, and an ambiguous form (fui) resolved by the prompt."""
    ana = learner(pool, "15550000010", language=language)
    other = learner(pool, "15550000011")
    seed_progress(pool, ana.id)
    with pool.connection() as conn:  # someone else's perfect week must not leak in
        for verb, form in (("poder", "puedo"), ("querer", "quiero")):
            add_attempt(conn, other.id, PRESENT, f"*{verb}*", form, form, "correct", NOW)
        add_turn(conn, other.id, NOW - 3 * timedelta(days=1))
    result = rendered(center.handle(ana, words, None, ConversationState(), now=NOW))
    assert result.route == "command.progress"
    text = result.reply.text
    assert "Racha: *3* días" in text  # today, yesterday, two days ago; the notice does not bridge the gap
    assert "*4*/7" in text  # active days this week
    # verbs learned this week: tener, hablar (twice: correct + accent), estar, ir; not ser/tener wrong,
    # not vivir (20 days ago), not poder/querer (another learner)
    assert "Verbos aprendidos esta semana: *4*" in text
    assert "estar, hablar, ir, tener" in text
    assert "Respuestas esta semana: *9* (56% bien)" in text  # 5 right of 9
    assert ("_(verbs learned)_" in text) == (language == "en")
    assert "presente: 80% (4/5)" in text  # tener, hablar, estar, vivir right; ser wrong; comer too old
    assert "indefinido: 50% (2/4)" in text
    assert "por para: 0% (0/1)" in text
    assert result.image is not None
    png, caption = result.image
    assert "1 presente 80%" in caption
    assert "2 indefinido 50%" in caption
    found = bars(decode(png))
    assert [h for h, _ in found] == [bar_height(0.8), bar_height(0.5)]  # the 0 % bar draws nothing
    assert found[0][1] == GOOD


def test_progress_without_any_practice_has_no_chart(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers an empty history: zeros, an invitation to practise, and no image (nothing to draw)."""
    ana = learner(pool, "15550000012")
    result = rendered(center.handle(ana, "estadísticas", None, ConversationState(), now=NOW))
    assert result.image is None
    assert "Racha: *0* días" in result.reply.text
    assert "practicar" in result.reply.text


def test_progress_chart_marks_a_weak_skill_red(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers the colour bands: a skill under 50 % is drawn as a poor (red) bar of its true height."""
    ana = learner(pool, "15550000013")
    with pool.connection() as conn:
        for i in range(4):
            add_attempt(
                conn,
                ana.id,
                PRESENT,
                "*ser*",
                "soy",
                "soy" if i == 0 else "es",
                "correct" if i == 0 else "wrong",
                NOW,
            )
    result = rendered(center.handle(ana, "", "cmd:progress", ConversationState(), now=NOW))
    assert result.image is not None
    assert bars(decode(result.image[0])) == [(bar_height(0.25), POOR)]


# --- pronunciar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "language"), [("pronunciar", "es"), ("pronunciation", "en"), ("Pronunciación", "en")]
)
def test_pronunciation_exercise_sets_the_expected_text(
    center: CommandCenter, pool: ConnectionPool, words: str, language: str
) -> None:
    """Covers the state handed to the voice path: it survives the Redis round trip."""
    ana = learner(pool, "15550000020", language=language)
    result = rendered(center.handle(ana, words, None, ConversationState(), now=NOW))
    assert result.route == "command.pronounce"
    state = roundtrip(result.state)
    assert state.pending_pronunciation
    assert state.extra["voice_exercise"]["text"] == state.pending_pronunciation
    assert state.pending_pronunciation in result.reply.text
    assert "nota de voz" in result.reply.text
    assert ("_Send a voice note" in result.reply.text) == (language == "en")


def test_pronunciation_of_a_chosen_word_uses_its_minimal_pair(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers a learner-chosen word: perro comes with a word that differs in one sound; junk is ignored."""
    ana = learner(pool, "15550000021")
    result = rendered(center.handle(ana, "pronunciar perro", None, ConversationState(), now=NOW))
    words = result.state.pending_pronunciation
    assert words is not None
    assert words.startswith("perro, ")
    assert result.state.extra["voice_exercise"]["kind"] == "minimal_pair"
    junk = rendered(center.handle(ana, "pronunciar ???", None, ConversationState(), now=NOW))
    assert junk.state.pending_pronunciation
    assert "?" not in junk.state.pending_pronunciation


# --- borrar / delete -------------------------------------------------------------------------------


def seed_everything(pool: ConnectionPool, who: uuid.UUID, tag: str) -> str:
    """A turn, an attempt, a memory, usage and billing rows for ``who``; returns the turn's wamid."""
    with pool.connection() as conn:
        wamid = add_turn(conn, who, NOW)
        add_attempt(conn, who, PRESENT, f"prompt-{tag}", f"expected-{tag}", f"answer-{tag}", "correct", NOW)
        conn.execute(
            """INSERT INTO memories (learner_id, kind, content, importance, embedding)
               VALUES (%s, 'error_correction', %s, 1.0, array_fill(0.1::real, ARRAY[512])::vector)""",
            (who, f"memory-{tag}"),
        )
        conn.execute(
            """INSERT INTO llm_usage (learner_id, wamid, agent, provider, model, tokens_in, tokens_out)
               VALUES (%s, %s, 'grammar', 'groq', %s, 10, 20)""",
            (who, wamid, f"model-{tag}"),
        )
        conn.execute(
            """INSERT INTO entitlements (learner_id, plan, status, customer_id)
               VALUES (%s, 'pro', 'active', %s)""",
            (who, f"cus_{tag}"),
        )
        conn.execute(
            "INSERT INTO offers (learner_id, moment, value_line) VALUES (%s, 'streak', %s)",
            (who, f"offer-{tag}"),
        )
        conn.execute(
            """INSERT INTO proactive_messages (learner_id, kind, slot, queued_at)
               VALUES (%s, 'reminder', %s, %s)""",
            (who, f"slot-{tag}", NOW),
        )
    return wamid


def count_rows(pool: ConnectionPool, who: uuid.UUID) -> dict[str, int]:
    tables = (
        "learners", "turns", "drill_attempts", "memories", "llm_usage", "entitlements", "offers",
        "proactive_messages",
    )  # fmt: skip
    counts: dict[str, int] = {}
    with pool.connection() as conn:
        for t in tables:
            column = "id" if t == "learners" else "learner_id"
            row = conn.execute(f"SELECT count(*) FROM {t} WHERE {column} = %s", (who,)).fetchone()  # noqa: S608
            assert row is not None
            counts[t] = int(row[0])
    return counts


@pytest.mark.parametrize("words", ["borrar mis datos", "Delete my data", "borrar"])
def test_delete_asks_first_and_deletes_only_after_the_button(
    center: CommandCenter, pool: ConnectionPool, redis_client: redis.Redis[bytes], words: str
) -> None:
    """Covers "no confirmation": typing "sí" instead of tapping deletes nothing; then the real button
    erases the learner, everything that cascades from them and their Redis state, and nobody else."""
    ana = learner(pool, "15550000030")
    bob = learner(pool, "15550000031")
    seed_everything(pool, ana.id, "ana")
    seed_everything(pool, bob.id, "bob")
    store = StateStore(redis_client, 3600)
    store.save(ana.id, ConversationState(turns=3))
    ask = rendered(center.handle(ana, words, None, ConversationState(), now=NOW))
    assert ask.route == "command.delete.ask"
    assert not ask.delete_learner
    confirm_id, cancel_id = ids(ask.reply)
    assert confirm_id.startswith("del:yes:")
    assert cancel_id == "del:no"
    assert "No se puede deshacer" in ask.reply.text
    state = roundtrip(ask.state)
    assert center.handle(ana, "sí", None, state, now=NOW) is None  # typing is not confirming
    assert count_rows(pool, ana.id)["learners"] == 1
    done = rendered(center.handle(ana, "Sí, borrar todo", confirm_id, state, now=NOW + timedelta(minutes=9)))
    assert done.delete_learner
    assert done.route == "command.delete"
    assert done.state == ConversationState()
    assert center.erase(ana.id) is True
    assert set(count_rows(pool, ana.id).values()) == {0}
    assert redis_client.get(StateStore.key(ana.id)) is None
    assert count_rows(pool, bob.id) == {t: 1 for t in count_rows(pool, bob.id)}


def test_forged_stale_and_replayed_confirmations_delete_nothing(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers a forged token, a confirmation after the 10-minute expiry, a replay of a used token, a
    confirmation with no deletion pending, and the cancel button."""
    ana = learner(pool, "15550000032")
    ask = rendered(center.handle(ana, "delete", None, ConversationState(), now=NOW))
    token_id = ids(ask.reply)[0]
    # A random token ends in "x" once in 64 runs, and "x" then forged nothing (a CI run met it).
    other = "y" if token_id.endswith("x") else "x"
    forged = rendered(center.handle(ana, "", token_id[:-1] + other, roundtrip(ask.state), now=NOW))
    assert forged.route == "command.delete.rejected"
    assert not forged.delete_learner
    # the forged attempt consumed the token: the genuine button no longer works either
    replay = rendered(center.handle(ana, "", token_id, roundtrip(forged.state), now=NOW))
    assert not replay.delete_learner
    late = rendered(center.handle(ana, "borrar", None, ConversationState(), now=NOW))
    expired = rendered(
        center.handle(ana, "", ids(late.reply)[0], roundtrip(late.state), now=NOW + timedelta(minutes=11))
    )
    assert expired.route == "command.delete.rejected"
    assert not expired.delete_learner
    nothing_pending = rendered(center.handle(ana, "", "del:yes:", ConversationState(), now=NOW))
    assert not nothing_pending.delete_learner
    again = rendered(center.handle(ana, "borrar", None, ConversationState(), now=NOW))
    cancelled = rendered(center.handle(ana, "", "del:no", roundtrip(again.state), now=NOW))
    assert cancelled.route == "command.delete.cancelled"
    assert CONFIRM_KEY not in cancelled.state.extra
    after_cancel = rendered(center.handle(ana, "", ids(again.reply)[0], roundtrip(cancelled.state), now=NOW))
    assert not after_cancel.delete_learner
    assert count_rows(pool, ana.id)["learners"] == 1


def test_delete_warns_about_an_active_subscription(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers deleting while Stripe still bills: the learner is told to cancel the plan first."""
    ana = replace(learner(pool, "15550000033"), plan="pro", plan_status="active")
    ask = rendered(center.handle(ana, "borrar", None, ConversationState(), now=NOW))
    assert "suscripción activa" in ask.reply.text


# --- exportar / export -----------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["exportar mis datos", "export my data", "Exportar"])
def test_export_holds_everything_about_the_learner_and_nothing_of_others(
    center: CommandCenter, pool: ConnectionPool, words: str
) -> None:
    """Covers leakage: another learner's turns, attempts, memories, usage and billing never appear; a
    live deletion token is not exported."""
    ana = learner(pool, "15550000040")
    bob = learner(pool, "15550000041")
    ana_wamid = seed_everything(pool, ana.id, "ana")
    bob_wamid = seed_everything(pool, bob.id, "bob")
    state = ConversationState(turns=2)
    state.extra[CONFIRM_KEY] = {"token": "secret-token", "expires_at": 0}
    result = rendered(center.handle(ana, words, None, state, now=NOW))
    assert result.route == "command.export"
    assert result.export is not None
    export = result.export
    assert export["learner"]["learner_id"] == str(ana.id)
    assert [t["wamid"] for t in export["turns"]] == [ana_wamid]
    assert [a["answer"] for a in export["drill_attempts"]] == ["answer-ana"]
    assert [m["content"] for m in export["memory"]["memories"]] == ["memory-ana"]
    assert [u["model"] for u in export["llm_usage"]] == ["model-ana"]
    assert export["billing"]["entitlement"]["customer_id"] == "cus_ana"
    assert [o["value_line"] for o in export["billing"]["offers"]] == ["offer-ana"]
    assert [p["slot"] for p in export["proactive_messages"]] == ["slot-ana"]  # what the tutor sent first
    assert export["conversation_state"]["turns"] == 2
    document = result.export_document()
    assert document is not None
    data, name, mime = document
    assert mime == "application/json"
    assert name.endswith(".json")
    text = data.decode()
    assert json.loads(text) == json.loads(json.dumps(export))  # JSON-ready: nothing needed default=str
    for leak in ("bob", bob_wamid, str(bob.id), "15550000041", "secret-token"):
        assert leak not in text
    assert "1 ejercicios" in result.reply.text
    assert "1 recuerdos" in result.reply.text


# --- onboarding ------------------------------------------------------------------------------------


def test_onboarding_step_by_step_stores_the_profile(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers the happy path, with one answer typed (a goal's title) instead of tapped."""
    ana = new_learner(pool, "15550000050", name="Ana María")
    assert ana.is_new
    first = rendered(center.handle(ana, "hola", None, ConversationState(), now=NOW))
    assert first.route == "onboarding.language"
    assert "¡Hola, Ana!" in first.reply.text
    assert "_I'm Espaluz" in first.reply.text
    assert ids(first.reply) == ["onb:lang:en", "onb:lang:es"]  # no Portuguese: nothing is written in it
    ana = replace(ana, is_new=False)  # the next turns find the learner

    level = rendered(center.handle(ana, "English", "onb:lang:en", roundtrip(first.state), now=NOW))
    assert level.route == "onboarding.level"
    assert reload(pool, ana.id).native_language == "en"
    assert ids(level.reply) == ["onb:level:test", "onb:level:pick", "onb:level:A1"]
    assert "_What is your Spanish level?_" in level.reply.text

    pick = rendered(center.handle(ana, "", "onb:level:pick", roundtrip(level.state), now=NOW))
    assert ids(pick.reply) == [f"onb:level:{lv}" for lv in profiles.LEVELS]
    dialect = rendered(center.handle(ana, "", "onb:level:B1", roundtrip(pick.state), now=NOW))
    assert dialect.route == "onboarding.dialect"
    assert reload(pool, ana.id).level == "B1"
    assert "onb:dialect:co" in ids(dialect.reply)
    assert len(dialect.reply.rows) <= 10

    goals = rendered(center.handle(ana, "", "onb:dialect:co", roundtrip(dialect.state), now=NOW))
    assert goals.route == "onboarding.goals"
    assert reload(pool, ana.id).dialect == "co"
    reminders = rendered(center.handle(ana, "Viajar", None, roundtrip(goals.state), now=NOW))
    assert reminders.route == "onboarding.reminders"
    assert reload(pool, ana.id).goals == ("travel",)
    assert ids(reminders.reply) == ["onb:remind:yes", "onb:remind:no"]

    done = rendered(center.handle(ana, "", "onb:remind:yes", roundtrip(reminders.state), now=NOW))
    assert done.route == "onboarding.done"
    assert ids(done.reply) == ["practice", "help"]
    profile = reload(pool, ana.id)
    assert profile.reminders_consent is True
    assert profile.onboarded_at is not None
    # afterwards ordinary messages belong to the tutor again
    assert center.handle(ana, "hola", None, roundtrip(done.state), now=NOW) is None


def test_onboarding_with_the_placement_test_then_skip(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers the quick test inside onboarding, and "skip" ending onboarding early (defaults kept)."""
    ana = new_learner(pool, "15550000051")
    first = rendered(center.handle(ana, "hi", None, ConversationState(), now=NOW))
    ana = replace(ana, is_new=False)
    level = rendered(center.handle(ana, "español", None, roundtrip(first.state), now=NOW))
    assert reload(pool, ana.id).native_language == "es"
    test = rendered(center.handle(ana, "", "onb:level:test", roundtrip(level.state), now=NOW))
    assert test.route == "onboarding.level.test"
    placed = answer_all(center, ana, test, right=False)
    assert placed.route == "onboarding.dialect"
    assert reload(pool, ana.id).level == "A1"
    assert "Resultado del test: nivel *A1 (Principiante)*" in placed.reply.text
    assert "Fallaste dos preguntas de nivel A1" in placed.reply.text
    skipped = rendered(center.handle(ana, "Skip", None, roundtrip(placed.state), now=NOW))
    assert skipped.route == "onboarding.done"
    profile = reload(pool, ana.id)
    assert profile.onboarded_at is not None
    assert profile.dialect == "latam"
    assert profile.reminders_consent is None


def test_onboarding_refuses_unknown_and_stale_choices(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers unknown list ids, an id of an earlier step (an old message), junk text (asked again at most
    twice, then left to the tutor), and words or buttons of other features passing through."""
    ana = new_learner(pool, "15550000052")
    first = rendered(center.handle(ana, "hola", None, ConversationState(), now=NOW))
    ana = replace(ana, is_new=False)
    state = roundtrip(first.state)
    for junk in ("onb:lang:klingon", "onb:lang:pt", "onb:dialect:mx", "onb:", "onb:remind:maybe"):
        again = rendered(center.handle(ana, "", junk, state, now=NOW))
        assert again.route == "onboarding.language.stale"
        assert ids(again.reply) == ["onb:lang:en", "onb:lang:es"]
    assert reload(pool, ana.id).dialect == "latam"
    state.extra["onboarding"]["misses"] = 0
    level = rendered(center.handle(ana, "", "onb:lang:es", state, now=NOW))
    stale = rendered(center.handle(ana, "", "onb:lang:en", roundtrip(level.state), now=NOW))
    assert stale.route == "onboarding.level.stale"
    assert reload(pool, ana.id).native_language == "es"

    state = roundtrip(level.state)
    state.extra["onboarding"]["misses"] = 0
    assert center.handle(ana, "ayuda", None, state, now=NOW) is None
    assert center.handle(ana, "practice", None, state, now=NOW) is None
    assert center.handle(ana, "", "plan:monthly", state, now=NOW) is None  # a billing button
    first_miss = rendered(center.handle(ana, "qwerty", None, state, now=NOW))
    assert first_miss.route == "onboarding.level.again"
    assert "No he entendido" in first_miss.reply.text
    rendered(center.handle(ana, "asdf", None, state, now=NOW))
    assert center.handle(ana, "zxcv", None, state, now=NOW) is None  # the tutor answers from now on
    # a drill in progress: its answer goes to the orchestrator, not to onboarding
    state.extra["onboarding"]["misses"] = 0
    state.pending = PendingDrill("tener", "indicative.present", "1s", ["tengo"], "¿?")
    assert center.handle(ana, "tengo", None, state, now=NOW) is None
    # a valid choice still works after all that
    dialect = rendered(center.handle(ana, "", "onb:level:C1", state, now=NOW))
    assert dialect.route == "onboarding.dialect"
    assert reload(pool, ana.id).level == "C1"


def test_onboarding_never_swallows_a_sentence_and_reads_a_typed_answer(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Found holding a first chat: "I want to learn Spanish but I am beginner" at the language question got
    "No he entendido esa opción", and a Spanish sentence written after a first exercise got the language
    question again instead of a correction. Covers free text at an open step: an English sentence answers
    the language step, a short answer with a level word answers the level step, a Spanish sentence or a
    question goes to the tutor (None) without a miss and the step stays open, and junk is still asked
    again."""
    tom = new_learner(pool, "15550000056", name="Tom")
    first = rendered(center.handle(tom, "hola", None, ConversationState(), now=NOW))
    assert first.route == "onboarding.language"
    tom = replace(tom, is_new=False)
    english = rendered(
        center.handle(tom, "I want to learn Spanish but I am beginner", None, roundtrip(first.state), now=NOW)
    )
    assert english.route == "onboarding.level"
    assert reload(pool, tom.id).native_language == "en"
    assert "No he entendido" not in english.reply.text
    assert "_What is your Spanish level?_" in english.reply.text

    state = roundtrip(english.state)
    sentence = "ayer yo fui a la playa con mi amigos y comemos pescado"
    assert center.handle(tom, sentence, None, state, now=NOW) is None  # corrected by the tutor
    assert center.handle(tom, "¿Cómo se dice 'beach'?", None, state, now=NOW) is None
    assert state.extra["onboarding"]["step"] == "level"
    assert state.extra["onboarding"]["misses"] == 0
    junk = rendered(center.handle(tom, "qwerty", None, state, now=NOW))
    assert junk.route == "onboarding.level.again"
    dialect = rendered(center.handle(tom, "I'm a beginner", None, roundtrip(junk.state), now=NOW))
    assert dialect.route == "onboarding.dialect"
    assert reload(pool, tom.id).level == "A1"

    # a Spanish sentence at the language step is practice, not a choice of Spanish explanations
    eva = new_learner(pool, "15550000057", name="Eva")
    asked = rendered(center.handle(eva, "hola", None, ConversationState(), now=NOW))
    eva = replace(eva, is_new=False)
    state = roundtrip(asked.state)
    assert center.handle(eva, "Me llamo Eva y vivo en Toronto", None, state, now=NOW) is None
    assert state.extra["onboarding"]["step"] == "language"
    chosen = rendered(center.handle(eva, "English please", None, state, now=NOW))
    assert chosen.route == "onboarding.level"
    assert reload(pool, eva.id).native_language == "en"
    # "salir" leaves an open exercise first; with none open it leaves the questions
    state = roundtrip(chosen.state)
    state.pending = PendingDrill("tener", "indicative.present", "1s", ["tengo"], "¿?")
    assert center.handle(eva, "salir", None, state, now=NOW) is None
    state.pending = None
    left = rendered(center.handle(eva, "Salir", None, state, now=NOW))
    assert left.route == "onboarding.done"
    assert reload(pool, eva.id).onboarded_at is not None


def test_onboarding_resumes_for_a_learner_who_never_finished(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers an expired conversation state mid-onboarding: onboarded_at is still NULL, so it starts again;
    an onboarded learner is never asked, an onboarding button after the end gets a clear answer, and
    "perfil" shows the profile instead of restarting the questions."""
    ana = replace(new_learner(pool, "15550000053"), is_new=False)
    resumed = rendered(center.handle(ana, "hola", None, ConversationState(), now=NOW))
    assert resumed.route == "onboarding.language"
    bob = learner(pool, "15550000054")
    state = ConversationState()
    assert center.handle(bob, "hola", None, state, now=NOW) is None
    assert state.extra.get("profile_checked") is True  # checked once per conversation state
    late = rendered(center.handle(bob, "", "onb:dialect:mx", ConversationState(), now=NOW))
    assert late.route == "onboarding.stale"
    assert reload(pool, bob.id).dialect == "latam"
    shown = rendered(center.handle(bob, "perfil", None, ConversationState(), now=NOW))
    assert shown.route == "command.profile"
    assert ids(shown.reply)[0] == "prof:level"
    assert "onboarding" not in shown.state.extra


def test_commands_work_during_onboarding(center: CommandCenter, pool: ConnectionPool) -> None:
    """Covers a new learner whose first message is a command: privacy commands are never held back."""
    ana = new_learner(pool, "15550000055")
    result = rendered(center.handle(ana, "exportar", None, ConversationState(), now=NOW))
    assert result.route == "command.export"
    ask = rendered(center.handle(ana, "borrar mis datos", None, ConversationState(), now=NOW))
    assert ask.route == "command.delete.ask"


# --- not commands ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        ("hola", None),
        ("tengo", None),
        ("nivel de vida alto", None),
        ("", "cmd:nonsense"),
        ("", "practice"),
        ("", "help"),
        ("", "x" * 300),
        ("ayuda", None),
        ("plan", None),
        ("baja", None),
    ],
)
def test_other_messages_are_not_commands(
    center: CommandCenter, pool: ConnectionPool, text: str, reply_id: str | None
) -> None:
    """Covers junk and foreign reply ids, and the words other features own (help, plan, stop)."""
    ana = learner(pool, "15550000060")
    assert center.handle(ana, text, reply_id, ConversationState(), now=NOW) is None


# --- migration 0006 --------------------------------------------------------------------------------


def test_profile_migration_rolls_back_and_applies_again(database_url: str) -> None:
    """Covers the rollback file, and learners who existed before 0006: they are not onboarded again."""
    from espaluz.storage.postgres import MIGRATIONS_DIR

    def columns(conn: psycopg.Connection[Any]) -> set[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'learners'"
        ).fetchall()
        return {r[0] for r in rows}

    added = {"goals", "reminders_consent", "reminders_consent_at", "onboarded_at"}
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert added <= columns(conn)
        conn.execute((MIGRATIONS_DIR / "0006.profile.rollback.sql").read_text())
        assert not added & columns(conn)
        conn.execute("INSERT INTO learners (wa_id) VALUES ('15550009999')")
        conn.execute((MIGRATIONS_DIR / "0006.profile.sql").read_text())
        assert added <= columns(conn)
        row = conn.execute(
            "SELECT onboarded_at IS NOT NULL, goals, reminders_consent FROM learners"
        ).fetchone()
    assert row == (True, [], None)


def test_a_placement_test_left_midway_does_not_capture_later_messages(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    """Covers a learner who asks for the test and then talks about something else: the test ends, and a
    later message equal to an option is conversation again; inside onboarding a typed level ends it too."""
    ana = learner(pool, "15550000070", level="B1")
    start = rendered(center.handle(ana, "", "level:test", ConversationState(), now=NOW))
    state = roundtrip(start.state)
    assert center.handle(ana, "¿qué tiempo hace?", None, state, now=NOW) is None
    assert "placement" not in state.extra
    qid = start.reply.buttons[0].id.split(":")[1]
    option = placement.QUESTIONS[qid].options[0]
    assert center.handle(ana, option, None, state, now=NOW) is None
    assert reload(pool, ana.id).level == "B1"

    bob = new_learner(pool, "15550000071")
    first = rendered(center.handle(bob, "hola", None, ConversationState(), now=NOW))
    bob = replace(bob, is_new=False)
    level = rendered(center.handle(bob, "", "onb:lang:es", roundtrip(first.state), now=NOW))
    test = rendered(center.handle(bob, "", "onb:level:test", roundtrip(level.state), now=NOW))
    typed = rendered(center.handle(bob, "B2", None, roundtrip(test.state), now=NOW))
    assert typed.route == "onboarding.dialect"
    assert reload(pool, bob.id).level == "B2"
    assert "placement" not in typed.state.extra


# --- what the processor sends: the chart as an image, the export as a document ---------------------


def test_chart_and_export_go_out_through_the_graph_api(
    center: CommandCenter, pool: ConnectionPool, graph_emulator: GraphEmulator
) -> None:
    """Covers the processor's side of the contract with the real Graph client and Meta's emulator: the PNG
    uploads as image/png and comes back byte for byte; the export uploads as a JSON document; a document
    without a media id or with an oversize caption is refused before any call."""
    ana = learner(pool, "15550000080")
    seed_progress(pool, ana.id)
    graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
    to = Recipient(wa_id="15550000080")

    progress = rendered(center.handle(ana, "progreso", None, ConversationState(), now=NOW))
    assert progress.image is not None
    png, caption = progress.image
    graph.send(PHONE_NUMBER_ID, to, progress.reply)
    media_id = graph.upload_media(PHONE_NUMBER_ID, png, "image/png", "progreso.png")
    graph.send(PHONE_NUMBER_ID, to, Image(media_id=media_id, caption=caption))
    info, data = graph.fetch_media(media_id)
    assert data == png
    assert info.mime_type == "image/png"

    export = rendered(center.handle(ana, "export", None, ConversationState(), now=NOW))
    document = export.export_document()
    assert document is not None
    data, filename, mime = document
    doc_id = graph.upload_media(PHONE_NUMBER_ID, data, mime, filename)
    graph.send(PHONE_NUMBER_ID, to, export.reply)
    graph.send(PHONE_NUMBER_ID, to, Document(doc_id, filename))
    _, fetched = graph.fetch_media(doc_id)
    assert json.loads(fetched)["learner"]["learner_id"] == str(ana.id)

    sent = [m["body"] for m in graph_emulator.messages()]
    assert [b["type"] for b in sent] == ["interactive", "image", "text", "document"]
    assert sent[1]["image"] == {"id": media_id, "caption": caption}
    assert sent[3]["document"] == {"id": doc_id, "filename": filename}
    with pytest.raises(MessageLimitError):
        Document("", filename).payload()
    with pytest.raises(MessageLimitError):
        Document(doc_id, filename, caption="x" * 1025).payload()


def test_onboarding_can_be_turned_off(pool: ConnectionPool, redis_client: redis.Redis[bytes]) -> None:
    """Covers deployments (and older end-to-end tests) that greet new learners without onboarding: a new
    learner's "hola" is left to the tutor, commands still work, and "perfil" shows the profile."""
    from espaluz.config import Settings
    from espaluz.tutor.commands import build_commands

    center = build_commands(Settings(tutor_onboarding=False), pool, redis_client)
    ana = new_learner(pool, "15550000090")
    assert center.handle(ana, "hola", None, ConversationState(), now=NOW) is None
    assert rendered(center.handle(ana, "nivel", None, ConversationState(), now=NOW)).route == "command.level"
    assert (
        rendered(center.handle(ana, "perfil", None, ConversationState(), now=NOW)).route == "command.profile"
    )
    on = build_commands(Settings(tutor_onboarding=True), pool, redis_client)
    assert rendered(on.handle(ana, "hola", None, ConversationState(), now=NOW)).route == "onboarding.language"
