"""The learner's reminder hour and time zone, set in the chat (issue 17): "perfil" shows them, a list or a
typed phrase changes them, onboarding's "yes" says when reminders will come. Through the CommandCenter on
real Postgres and Redis, and once through the real webhook and tutor handlers (Graph API emulator).

What a learner should find: a Mexican number shown in Mexico City time before anything is stored; an hour
list of at most 10 rows with no quiet hour; choosing an hour turns reminders on; texts in Spanish, with the
English gloss for English speakers. Bad input covered: an hour inside the quiet hours typed or forged as a
list id (refused, the allowed hours named, nothing written), hours that are no hours ("25", "abc"), an
unknown zone typed or forged, the same choice sent twice, quiet hours changed in the settings, and STOP
after all this (still an opt-out).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import redis
from psycopg_pool import ConnectionPool

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.storage import learners
from espaluz.tutor.commands import CommandCenter, CommandResult
from espaluz.tutor.state import ConversationState
from espaluz.whatsapp.signature import sign
from functions.tutor import handler as tutor
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, GraphEmulator, load_event
from tests.functional.test_tutor import text_of
from tests.functional.test_tutor_commands import (
    center,
    ids,
    learner,
    new_learner,
    pool,
    reload,
    rendered,
    roundtrip,
)
from tests.functional.test_webhook import api_event

__all__ = ["center", "pool"]  # fixtures, used by name

MEXICO = "5215512340000"  # +52 1 55...: a Mexico City mobile
_numbers = itertools.count(100)
_wamids = itertools.count()


def mexican(pool: ConnectionPool, *, language: str, consent: bool | None = None) -> learners.Learner:
    """An onboarded learner with a Mexican number (a fresh one per call) and no stored zone."""
    who = learner(pool, f"52155123{next(_numbers):05d}", language=language)
    if consent is not None:
        with pool.connection() as conn:
            conn.execute("UPDATE learners SET reminders_consent = %s WHERE id = %s", (consent, who.id))
    return who


def ask(
    center: CommandCenter, who: learners.Learner, text: str, reply_id: str | None = None
) -> CommandResult:
    return rendered(center.handle(who, text, reply_id, ConversationState(), now=datetime.now(UTC)))


# --- the profile shows them --------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_mexican_number_is_shown_in_mexico_city_time(
    center: CommandCenter, pool: ConnectionPool, language: str
) -> None:
    """No zone stored yet: the profile shows the one the phone number's country gives, and offers the
    hour and the zone as fields of their own; showing stores nothing."""
    ana = mexican(pool, language=language, consent=True)
    shown = ask(center, ana, "perfil")
    assert shown.route == "command.profile"
    text = shown.reply.text
    assert "• Recordatorios: *sí*, a las 19:00 (hora de Ciudad de México)" in text
    assert "• Zona horaria: *Ciudad de México*" in text
    if language == "en":
        assert "_(reminders: yes, at 19:00 (Mexico City time))_" in text
        assert "_(time zone: Mexico City)_" in text
    else:
        assert "_" not in text
    assert ids(shown.reply)[-2:] == ["prof:hour", "prof:zone"]
    rows = {r.id: r for r in shown.reply.rows}
    assert rows["prof:hour"].title == "Hora del recordatorio"
    assert rows["prof:zone"].description.endswith("Mexico City" if language == "en" else "Ciudad de México")
    assert reload(pool, ana.id).timezone is None


# --- the hour ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_choosing_20_from_the_hour_list_stores_the_hour_and_consent(
    center: CommandCenter, pool: ConnectionPool, language: str
) -> None:
    """The list: at most 10 rows, 24-hour labels, no quiet hour (22:00-08:00), the current hour among
    them; choosing 20:00 stores 20, turns reminders on and stores the zone shown. The same row again
    (a retried tap) changes nothing more."""
    ana = mexican(pool, language=language)
    assert reload(pool, ana.id).reminders_consent is None
    menu = ask(center, ana, "", "prof:hour")
    assert menu.route == "command.profile.hour"
    rows = menu.reply.rows
    assert 1 <= len(rows) <= 10
    hours = [int(r.id.removeprefix("prof:hour:")) for r in rows]
    assert all(8 <= h <= 21 for h in hours)
    assert hours == sorted(hours)
    assert {19, 20} <= set(hours)
    assert [r.title for r in rows] == [f"{h:02d}:00" for h in hours]
    assert "Ahora: *19:00* (hora de Ciudad de México)" in menu.reply.text
    assert "Solo escribo entre las 08:00 y las 21:00." in menu.reply.text
    assert ("_What time do you want the daily reminder?" in menu.reply.text) == (language == "en")

    for _ in range(2):
        chosen = rendered(
            center.handle(ana, "20:00", "prof:hour:20", roundtrip(menu.state), now=datetime.now(UTC))
        )
        assert chosen.route == "command.profile.hour.set"
        profile = reload(pool, ana.id)
        assert (profile.reminder_hour, profile.reminders_consent) == (20, True)
        assert profile.timezone == "America/Mexico_City"
        text = chosen.reply.text
        assert "✅ Recordatorios activados: cada día a las *20:00* (hora de Ciudad de México)" in text
        assert ("_Reminders on: every day at 20:00 (Mexico City time)" in text) == (language == "en")
        assert ids(chosen.reply) == ["cmd:profile", "practice"]
    shown = ask(center, ana, "perfil")
    assert "• Recordatorios: *sí*, a las 20:00 (hora de Ciudad de México)" in shown.reply.text


@pytest.mark.parametrize(
    ("typed", "language", "hour"),
    [
        ("reminder at 8pm", "en", 20),
        ("Reminders at 7:30 PM", "en", 19),
        ("recordatorio a las 20", "es", 20),
        ("recordatorios 21:00", "es", 21),
        ("Recordatorio a las 9 de la mañana", "es", 9),
        ("cambiar la hora a las 10h", "es", 10),
    ],
)
def test_a_typed_hour_is_stored(
    center: CommandCenter, pool: ConnectionPool, typed: str, language: str, hour: int
) -> None:
    ana = mexican(pool, language=language, consent=False)
    done = ask(center, ana, typed)
    assert done.route == "command.profile.hour.set"
    profile = reload(pool, ana.id)
    assert (profile.reminder_hour, profile.reminders_consent) == (hour, True)
    assert f"a las *{hour:02d}:00* (hora de Ciudad de México)" in done.reply.text
    if language == "en":
        assert f"_Reminders on: every day at {hour:02d}:00 (Mexico City time)" in done.reply.text


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("recordatorio a las 23", "es"),
        ("reminder at 11pm", "en"),
        ("recordatorios 3:00", "es"),
        ("reminder at 25", "en"),
    ],
)
def test_an_hour_inside_the_quiet_hours_is_refused_with_the_allowed_range(
    center: CommandCenter, pool: ConnectionPool, typed: str, language: str
) -> None:
    """23:00 (or 03:00, or no hour at all): nothing written, the allowed hours named, the list again."""
    ana = mexican(pool, language=language, consent=False)
    refused = ask(center, ana, typed)
    assert refused.route == "command.profile.hour.unknown"
    text = refused.reply.text
    assert "No puedo poner esa hora: los recordatorios van entre las 08:00 y las 21:00" in text
    if language == "en":
        assert "_I can't use that hour: reminders come between 08:00 and 21:00 (never at night)." in text
    assert ids(refused.reply)
    assert all(i.startswith("prof:hour:") for i in ids(refused.reply))
    assert "prof:hour:23" not in ids(refused.reply)
    profile = reload(pool, ana.id)
    assert (profile.reminder_hour, profile.reminders_consent, profile.timezone) == (19, False, None)


@pytest.mark.parametrize(
    "forged", ["prof:hour:23", "prof:hour:3", "prof:hour:24", "prof:hour:abc", "prof:hour:-1"]
)
def test_a_forged_hour_id_writes_nothing(center: CommandCenter, pool: ConnectionPool, forged: str) -> None:
    ana = mexican(pool, language="es", consent=False)
    result = ask(center, ana, "", forged)
    assert result.route == "command.profile.invalid"
    profile = reload(pool, ana.id)
    assert (profile.reminder_hour, profile.reminders_consent) == (19, False)


def test_the_quiet_hours_come_from_the_settings(
    center: CommandCenter, pool: ConnectionPool, function_env: Any
) -> None:
    """SCHEDULER_QUIET_HOURS=21-9: 21:00 and 08:00 are refused and never offered; 20:00 is fine."""
    function_env(SCHEDULER_QUIET_HOURS="21-9")
    ana = mexican(pool, language="es")
    menu = ask(center, ana, "cambiar hora")
    hours = [int(i.removeprefix("prof:hour:")) for i in ids(menu.reply)]
    assert hours
    assert all(9 <= h <= 20 for h in hours)
    assert "Solo escribo entre las 09:00 y las 20:00." in menu.reply.text
    for typed in ("recordatorio a las 21", "recordatorio a las 8"):
        assert "entre las 09:00 y las 20:00" in ask(center, ana, typed).reply.text
    assert reload(pool, ana.id).reminder_hour == 19
    ask(center, ana, "recordatorio a las 20")
    assert reload(pool, ana.id).reminder_hour == 20


# --- the zone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "language", "zone", "es", "en"),
    [
        ("zona horaria Madrid", "es", "Europe/Madrid", "Madrid", "Madrid"),
        ("time zone Europe/Madrid", "en", "Europe/Madrid", "Madrid", "Madrid"),
        ("zona America/Bogota", "es", "America/Bogota", "Bogotá", "Bogotá"),
        ("Zona horaria: Nueva York", "en", "America/New_York", "Nueva York", "New York"),
        ("zona horaria buenos aires", "es", "America/Argentina/Buenos_Aires", "Buenos Aires", "Buenos Aires"),
    ],
)
def test_a_typed_zone_is_stored(
    center: CommandCenter, pool: ConnectionPool, typed: str, language: str, zone: str, es: str, en: str
) -> None:
    ana = mexican(pool, language=language, consent=True)
    done = ask(center, ana, typed)
    assert done.route == "command.profile.zone.set"
    assert reload(pool, ana.id).timezone == zone
    assert f"✅ Zona horaria: *{es}* (allí son ahora las " in done.reply.text
    assert f"Los recordatorios llegarán a las 19:00, hora de {es}." in done.reply.text
    assert (f"_Time zone: {en} (it is " in done.reply.text) == (language == "en")
    shown = ask(center, ana, "perfil")
    assert f"• Recordatorios: *sí*, a las 19:00 (hora de {es})" in shown.reply.text


def test_the_zone_list_starts_with_the_country_and_stores_a_choice(
    center: CommandCenter, pool: ConnectionPool
) -> None:
    ana = mexican(pool, language="en")
    menu = ask(center, ana, "zona horaria")
    assert menu.route == "command.profile.zone"
    rows = menu.reply.rows
    assert 1 <= len(rows) <= 10
    assert rows[0].id == "prof:zone:America/Mexico_City"
    assert rows[0].title == "Mexico City"
    assert rows[0].description.startswith("Now ")
    assert rows[0].description.endswith("· your country")
    assert len({r.id for r in rows}) == len(rows)
    assert "prof:zone:Europe/Madrid" in ids(menu.reply)
    assert "_Your time zone: Mexico City (it is " in menu.reply.text
    done = rendered(center.handle(ana, "Madrid", "prof:zone:Europe/Madrid", roundtrip(menu.state)))
    assert reload(pool, ana.id).timezone == "Europe/Madrid"
    assert "_Time zone: Madrid (it is " in done.reply.text
    assert "Los recordatorios llegarán" not in done.reply.text  # no consent yet: no promise


@pytest.mark.parametrize(
    ("typed", "language"), [("zona horaria Narnia", "es"), ("time zone Mars/Base", "en")]
)
def test_an_unknown_zone_is_answered_with_an_example(
    center: CommandCenter, pool: ConnectionPool, typed: str, language: str
) -> None:
    ana = mexican(pool, language=language)
    unknown = ask(center, ana, typed)
    assert unknown.route == "command.profile.zone.unknown"
    text = unknown.reply.text
    assert (
        "No conozco esa zona horaria. Escribe una ciudad o un país, por ejemplo *zona horaria Madrid*" in text
    )
    assert ("_I don't know that time zone. Type a city or a country, e.g. time zone Madrid" in text) == (
        language == "en"
    )
    assert ids(unknown.reply)[0] == "prof:zone:America/Mexico_City"
    forged = ask(center, ana, "", "prof:zone:Mars/Base")
    assert forged.route == "command.profile.invalid"
    assert reload(pool, ana.id).timezone is None


# --- onboarding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_onboarding_yes_says_when_and_where_reminders_come(
    center: CommandCenter, pool: ConnectionPool, language: str
) -> None:
    """The reminders step stays the last one (no extra step); a yes names 19:00 in the country's zone
    and "perfil" to change it, and stores that zone; a no says nothing of hours."""
    ana = new_learner(pool, f"52155124{next(_numbers):05d}")
    now = datetime.now(UTC)
    result = rendered(center.handle(ana, "hola", None, ConversationState(), now=now))
    for reply_id in (f"onb:lang:{language}", "onb:level:A1", "onb:dialect:mx", "onb:goal:travel"):
        result = rendered(center.handle(ana, "", reply_id, roundtrip(result.state), now=now))
    assert result.route == "onboarding.reminders"
    done = rendered(center.handle(ana, "", "onb:remind:yes", roundtrip(result.state), now=now))
    assert done.route == "onboarding.done"
    text = done.reply.text
    assert "✅ Anotado: te escribiré cada día a las *19:00* (hora de Ciudad de México)" in text
    assert "Para cambiar la hora o la zona horaria, escribe *perfil*." in text
    assert ("_Noted: I'll write every day at 19:00 (Mexico City time)" in text) == (language == "en")
    profile = reload(pool, ana.id)
    assert (profile.reminders_consent, profile.timezone, profile.reminder_hour) == (
        True,
        "America/Mexico_City",
        19,
    )

    other = new_learner(pool, f"34600{next(_numbers):06d}")
    result = rendered(center.handle(other, "hola", None, ConversationState(), now=now))
    for reply_id in ("onb:lang:es", "onb:level:A1", "onb:dialect:es", "onb:goal:travel", "onb:remind:no"):
        result = rendered(center.handle(other, "", reply_id, roundtrip(result.state), now=now))
    assert "✅ Anotado: sin recordatorios." in result.reply.text
    assert "19:00" not in result.reply.text


# --- end to end --------------------------------------------------------------------------------------


def send(context: Any, wa_id: str, text: str | None = None, row: tuple[str, str] | None = None) -> None:
    """A message or a list choice from ``wa_id`` through the real webhook."""
    payload = load_event("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    message = value["messages"][0]
    message.update(id=f"wamid.REMIND{next(_wamids)}", **{"from": wa_id})
    if row is not None:
        message["type"] = "interactive"
        message.pop("text", None)
        message["interactive"] = {"type": "list_reply", "list_reply": {"id": row[0], "title": row[1]}}
    else:
        message["text"] = {"body": text}
    body = json.dumps(payload, ensure_ascii=False).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def test_through_the_handlers_a_mexican_learner_sets_20_then_stop_still_works(
    function_env: Any,
    redis_client: redis.Redis[bytes],
    graph_emulator: GraphEmulator,
    lambda_context: Any,
    database_url: str,
) -> None:
    """Webhook -> queue -> tutor -> Graph emulator: "perfil" shows Mexico City time, the hour list's 20:00
    is stored with consent, and STOP afterwards is still the opt-out it always was."""
    worker = QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)

    def say(text: str | None = None, row: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        before = len([m for m in graph_emulator.messages() if m["to"] == MEXICO])
        send(lambda_context, MEXICO, text, row)
        worker.run_once()
        return [m["body"] for m in graph_emulator.messages() if m["to"] == MEXICO][before:]

    say("hola")
    [profile] = say("perfil")
    assert "• Zona horaria: *Ciudad de México*" in text_of(profile)
    rows = [r["id"] for s in profile["interactive"]["action"]["sections"] for r in s["rows"]]
    assert "prof:hour" in rows
    [hours] = say(row=("prof:hour", "Hora del recordatorio"))
    offered = [r["id"] for s in hours["interactive"]["action"]["sections"] for r in s["rows"]]
    assert "prof:hour:20" in offered
    assert "prof:hour:23" not in offered
    assert len(offered) <= 10
    [done] = say(row=("prof:hour:20", "20:00"))
    assert "cada día a las *20:00* (hora de Ciudad de México)" in text_of(done)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT reminder_hour, reminders_consent, timezone FROM learners WHERE wa_id = %s", (MEXICO,)
        )
        assert row.fetchone() == (20, True, "America/Mexico_City")
    [stopped] = say("STOP")
    assert text_of(stopped).startswith("Listo: no te enviaré recordatorios")
    with psycopg.connect(database_url) as conn:
        opted = conn.execute("SELECT opted_out_at IS NOT NULL FROM learners WHERE wa_id = %s", (MEXICO,))
        assert opted.fetchone() == (True,)
