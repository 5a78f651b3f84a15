"""The "perfil" command: the learner's profile on one screen, and one field changed at a time.

"perfil" never restarts onboarding: it shows name, level, variety, explanation language, goal,
reminders with their hour, and the time zone, with a list to change one of them (ids ``prof:<field>``).
Choosing a field asks only that field (ids ``prof:<field>:<value>``); the answer is written to the
learner row and confirmed with what it changes. The level reuses the "nivel" list (``level:set:<L>``,
``level:test``).

Typed shortcuts, whole messages, case and accents ignored: "idioma inglés", "language english",
"variante España", "dialect spain", "recordatorios no", "objetivo viajar"; the bare word ("idioma",
"variante", "recordatorios", "objetivo") asks that field. "nivel B1" is the level command's.

The reminder hour (``prof:hour``, ``prof:hour:<0-23>``) is offered as a list of at most 10 hours, never one
inside the quiet hours (``scheduler.rules.Rules``, from the settings; the defaults when they cannot be
read); typed: "recordatorio a las 20", "reminder at 8pm", "recordatorios 21:00", "cambiar hora 9". Choosing
an hour turns reminders on. A typed hour inside the quiet hours is no value (the caller answers with
:func:`unknown_value`, which names the hours allowed). The time zone (``prof:zone``,
``prof:zone:<IANA name>``): a list led by the phone number's country zone, or typed: "zona horaria Madrid",
"time zone Europe/Madrid", "zona America/Bogota" (``profile.zone_of_words``).

Texts: Spanish, with the English gloss of ``texts.tr`` / ``texts.inline`` for English speakers; the
language a learner reads is ``profile.explanation_language`` of the stored one ("pt" reads as "en").
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.scheduler.rules import Rules
from espaluz.scheduler.zones import local, valid_zone, zone_for
from espaluz.tutor.commands import level as levels
from espaluz.tutor.commands import profile as profiles
from espaluz.tutor.commands.profile import DIALECTS, GOALS, LANGUAGE_NAMES, LANGUAGES
from espaluz.tutor.commands.texts import LEVEL_NAMES, fold, inline, tr
from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, Button, ListRow, Reply

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

    from espaluz.storage.learners import Learner

PREFIX = "prof:"
FIELDS: tuple[str, ...] = ("level", "test", "dialect", "lang", "goal", "remind", "hour", "zone")
# The zones offered after the learner's own (Spanish-speaking countries, then where many learners live).
COMMON_ZONES: tuple[str, ...] = (
    "America/Mexico_City", "Europe/Madrid", "America/Bogota", "America/Argentina/Buenos_Aires",
    "America/Lima", "America/Santiago", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Europe/London", "Europe/Berlin",
)  # fmt: skip
# The hours a list offers first when more are allowed than a list holds (10 rows), best first.
_HOUR_PREFERENCE = (19, 20, 18, 21, 8, 9, 12, 13, 17, 7, 10, 14, 16, 15, 11, 6, 22, 5, 23, 4, 0, 3, 1, 2)
MAX_ROWS = 10
_YES = frozenset({"si", "yes", "on", "activar", "activados", "activos", "encender", "quiero"})
_NO = frozenset({"no", "off", "desactivar", "desactivados", "apagar", "ninguno", "none"})
_CHANGE = r"(?:cambiar (?:el |la |mi |de )?|change (?:the |my )?|mi |my )?"


def _shortcut(keywords: str, prepositions: str) -> re.Pattern[str]:
    """``[cambiar|change|mi|my] KEYWORD [PREPOSITION] [VALUE]`` as a whole (folded) message."""
    return re.compile(rf"^{_CHANGE}(?:{keywords})(?: (?:{prepositions}))?(?: (.+))?$")


# "[cambiar] hora del recordatorio [a las] 20", "reminder time 8pm", "change the time to 9": any value is
# taken as an hour (None when it is not one).
_HOUR_TYPED = re.compile(
    r"^(?:(?:cambiar|change) (?:la |el |mi |my |the )?(?:hora|time)"
    r"(?: (?:del|de los|de mis|of the|of my) (?:recordatorios?|reminders?))?|"
    r"(?:mi |my )?hora (?:de (?:los |mis )?|del )?recordatorios?|hora de practicar|"
    r"(?:my |the )?reminders? (?:time|hour)|time (?:of|for) (?:the |my )?reminders?)"
    r"(?: (?:a las|a la|para las|a|at|for|to))?(?: (.+))?$"
)
# "recordatorio(s) [a las] 20", "reminder at 8pm": an hour only when what follows looks like one, else
# the yes/no of "recordatorios no".
_REMIND_AT = re.compile(
    rf"^{_CHANGE}(?:recordatorios?|reminders?)"
    r"(?: (?:a las|a la|para las|a|at|for|to|de las|todos los dias a las|every day at|daily at))? (.+)$"
)
_HOUR = re.compile(
    r"^(?:(?:a |hacia |sobre |around |about )?las? )?(\d{1,2})(?:[:.h](\d{2}))?"
    r" ?(?:h|hs|hrs|horas|hours|o'?clock)?"
    r" ?(am|a\.?m|pm|p\.?m|de la mañana|de la manana|del mediodia|de la tarde|de la noche|in the morning|"
    r"in the afternoon|in the evening|at night)?$"
)
_NAMED_HOURS = {"mediodia": 12, "noon": 12, "midday": 12, "medianoche": 0, "midnight": 0}
_ZONE_TYPED = _shortcut("zona horaria|zona|huso horario|time ?zone|timezone", "a|al|de|to|in|en")

_TYPED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lang", _shortcut("idioma|language|explicaciones|explanations", "a|al|en|to|in")),
    ("dialect", _shortcut("variante|variant|variedad|variety|dialecto|dialect", "a|al|de|del|to")),
    ("remind", _shortcut("recordatorios?|reminders?", "a|to")),
    ("goal", _shortcut("objetivo|goal", "a|al|to")),
)
# A dialect with the preposition its name takes ("el español *del* Caribe").
_OF = {"caribe": "del Caribe", "latam": "de Latinoamérica"}
_OF_EN = {"es": "Spain", "caribe": "the Caribbean", "latam": "Latin America"}


logger = logging.getLogger(__name__)


def rules() -> Rules:
    """The scheduler's rules from the settings, or the defaults where the settings cannot be built (a
    bare test, a tool): the quiet hours offered here must be the ones the scheduler applies."""
    try:
        from espaluz.config import get_settings

        return Rules.from_settings(get_settings())
    except Exception as exc:  # settings incomplete: the defaults (22:00-08:00) are the documented ones
        logger.debug("scheduler rules from defaults", extra={"error": type(exc).__name__})
        return Rules()


def allowed_hours(rule: Rules | None = None) -> list[int]:
    """The hours a reminder may be set to, in the order of a day that starts when the quiet hours end."""
    rule = rule or rules()
    start = rule.quiet_to if rule.quiet_from != rule.quiet_to else 0
    return [h % 24 for h in range(start, start + 24) if not rule.quiet(h % 24)]


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def allowed_range(rule: Rules | None = None) -> tuple[str, str]:
    """The allowed hours as a phrase in Spanish and in English: ("entre las 08:00 y las 21:00",
    "between 08:00 and 21:00")."""
    hours = allowed_hours(rule)
    if len(hours) == 24:
        return "a cualquier hora", "at any hour"
    first, last = hour_label(hours[0]), hour_label(hours[-1])
    return f"entre las {first} y las {last}", f"between {first} and {last}"


def hour_of_words(text: str) -> int | None:
    """A typed hour of the day, 0-23: "20", "las 20", "20:00", "20h", "8pm", "8 p.m.", "8 de la tarde",
    "mediodía"; the minutes are dropped (a reminder hour is whole). None when it is no hour."""
    said = fold(text)
    if said in _NAMED_HOURS:
        return _NAMED_HOURS[said]
    match = _HOUR.match(said)
    if match is None:
        return None
    hour, part = int(match.group(1)), (match.group(3) or "").replace(".", "")
    if not part:
        return hour if hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    if part in ("am", "de la mañana", "de la manana", "in the morning"):
        return hour % 12
    if hour == 12:  # noon, except "las 12 de la noche"
        return 0 if part in ("de la noche", "at night") else 12
    return hour + 12


def _looks_like_hour(typed: str) -> bool:
    return any(c.isdigit() for c in typed) or typed in _NAMED_HOURS


def _name(learner: Learner) -> str:
    """The WhatsApp profile name, untrusted: no markup characters, no line breaks, at most 40 chars."""
    cleaned = re.sub(r"[*_~`\s]+", " ", learner.display_name or "").strip()
    return cleaned[:40]


def _goals(goals: tuple[str, ...]) -> tuple[str, str]:
    """The goals as a short phrase (the first two and how many more: a row description holds 72)."""
    known = [g for g in goals if g in GOALS]
    if not known:
        return "sin elegir", "not chosen"
    es, en = ", ".join(GOALS[g][0] for g in known[:2]), ", ".join(GOALS[g][1] for g in known[:2])
    if len(known) > 2:
        es, en = f"{es} y {len(known) - 2} más", f"{en} and {len(known) - 2} more"
    return es, en


def _reminders(consent: bool | None) -> tuple[str, str]:
    if consent is None:
        return "sin elegir", "not chosen"
    return ("sí", "yes") if consent else ("no", "no")


def show(learner: Learner, profile: profiles.Profile, lead: str = "") -> Reply:
    """The profile and the list of what can be changed."""
    lang = profiles.explanation_language(profile.native_language)
    level = profile.level if profile.level in LEVEL_NAMES else "A1"
    explains = profiles.explanation_language(profile.native_language)
    lang_es, lang_en = LANGUAGE_NAMES[explains]
    goal_es, goal_en = _goals(profile.goals)
    remind_es, remind_en = _reminders(profile.reminders_consent)
    zone_es, zone_en = profiles.zone_name(profile.zone, "es"), profiles.zone_name(profile.zone, "en")
    hour = hour_label(profile.reminder_hour)
    at_es, at_en = (
        (f", a las {hour} (hora de {zone_es})", f", at {hour} ({zone_en} time)")
        if profile.reminders_consent
        else ("", "")
    )
    dialect = profiles.dialect_name(profile.dialect)
    name = _name(learner)
    lines = [inline(lang, "👤 *Tu perfil*", "your profile")]
    if name:
        lines.append(inline(lang, f"• Nombre: {name}", "name"))
    lines += [
        inline(lang, f"• Nivel: *{levels.named(level, 'es')}*", f"level: {LEVEL_NAMES[level][1]}"),
        inline(lang, f"• Variante: *{dialect}*", "variety of Spanish"),
        inline(lang, f"• Explicaciones: *en {lang_es}*", f"explanations in {lang_en}"),
        inline(lang, f"• Objetivo: *{goal_es}*", f"goal: {goal_en}"),
        inline(lang, f"• Recordatorios: *{remind_es}*{at_es}", f"reminders: {remind_en}{at_en}"),
        inline(lang, f"• Zona horaria: *{zone_es}*", f"time zone: {zone_en}"),
    ]
    hint = tr(
        lang,
        "Elige en la lista qué quieres cambiar, una cosa cada vez. También puedes escribir, por ejemplo, "
        "*nivel B1*, *idioma inglés*, *recordatorio a las 20* o *zona horaria Madrid*.",
        "Pick in the list what to change, one thing at a time, or type e.g. nivel B1, language english, "
        "reminder at 8pm or time zone Madrid.",
    )
    body = "\n".join(lines) + "\n\n" + hint
    head = f"{lead}\n\n" if lead else ""
    if len(head) + len(body) > MAX_INTERACTIVE_BODY:  # a long lead gives way to the profile itself
        head = head[: max(0, MAX_INTERACTIVE_BODY - len(body) - 3)].rstrip() + "…\n\n"
    now = "Now" if lang == "en" else "Ahora"
    rows = (
        ListRow(f"{PREFIX}level", "Cambiar nivel", f"{now}: {levels.named(level, lang)}"),
        ListRow(
            f"{PREFIX}test",
            "Test de nivel",
            f"Up to {levels.QUICK_QUESTIONS} questions, starting easy"
            if lang == "en"
            else f"Hasta {levels.QUICK_QUESTIONS} preguntas; empieza fácil",
        ),
        ListRow(f"{PREFIX}dialect", "Cambiar variante", f"{now}: {dialect}"),
        ListRow(
            f"{PREFIX}lang",
            "Cambiar idioma",
            f"Explanations in {lang_en}" if lang == "en" else f"Explicaciones en {lang_es}",
        ),
        ListRow(f"{PREFIX}goal", "Cambiar objetivo", f"{now}: {goal_en if lang == 'en' else goal_es}"[:72]),
        ListRow(f"{PREFIX}remind", "Recordatorios", f"{now}: {remind_en if lang == 'en' else remind_es}"),
        ListRow(f"{PREFIX}hour", "Hora del recordatorio", f"{now}: {hour}"),
        ListRow(f"{PREFIX}zone", "Zona horaria", f"{now}: {zone_en if lang == 'en' else zone_es}"[:72]),
    )
    return Reply(head + body, list_button="Cambiar", rows=rows)


def ask(field: str, profile: profiles.Profile, lead: str = "") -> Reply:
    """The question for one field (not ``level``/``test``, which the level command asks)."""
    lang = profiles.explanation_language(profile.native_language)
    head = f"{lead}\n\n" if lead else ""
    if field == "dialect":
        current = profiles.dialect_name(profile.dialect)
        text = tr(
            lang,
            f"Tu variante es *{current}*. ¿Qué español quieres aprender?",
            f"Your variety is {current}. Which Spanish do you want to learn?",
        )
        rows = tuple(ListRow(f"{PREFIX}dialect:{c}", t, d) for c, (t, d) in DIALECTS.items())
        return Reply(head + text, list_button="Elegir variante", rows=rows)
    if field == "lang":
        lang_es, lang_en = LANGUAGE_NAMES[lang]
        text = tr(
            lang,
            f"Ahora te explico en *{lang_es}*. ¿En qué idioma quieres las explicaciones?",
            f"Right now I explain in {lang_en}. Which language do you want explanations in?",
        )
        buttons = tuple(Button(f"{PREFIX}lang:{code}", title) for code, title in LANGUAGES.items())
        return Reply(head + text, buttons=buttons)
    if field == "goal":
        text = tr(lang, "¿Para qué quieres aprender español?", "What do you want Spanish for?")
        rows = tuple(ListRow(f"{PREFIX}goal:{c}", es, en) for c, (es, en) in GOALS.items())
        return Reply(head + text, list_button="Elegir objetivo", rows=rows)
    if field == "hour":
        return _ask_hour(profile, lang, head)
    if field == "zone":
        return _ask_zone(profile, lang, head)
    remind_es, remind_en = _reminders(profile.reminders_consent)
    at, zone_es, zone_en = (
        hour_label(profile.reminder_hour),
        profiles.zone_name(profile.zone, "es"),
        profiles.zone_name(profile.zone, "en"),
    )
    text = tr(
        lang,
        f"¿Quieres un recordatorio para practicar cada día a las {at} (hora de {zone_es}) si ese día no me "
        f"has escrito? Ahora: *{remind_es}*.",
        f"Do you want a reminder to practise every day at {at} ({zone_en} time) when you haven't written "
        f"that day? Now: {remind_en}.",
    )
    return Reply(
        head + text,
        buttons=(
            Button(f"{PREFIX}remind:yes", "Sí, recuérdame"),
            Button(f"{PREFIX}remind:no", "No, gracias"),
        ),
    )


def _ask_hour(profile: profiles.Profile, lang: str, head: str) -> Reply:
    """At most 10 allowed hours, the current one among them, in the order of the day."""
    allowed = allowed_hours()
    preferred = [profile.reminder_hour] + [h for h in _HOUR_PREFERENCE if h != profile.reminder_hour]
    picked = [h for h in preferred if h in allowed][:MAX_ROWS]
    shown = [h for h in allowed if h in picked]
    at, zone_es, zone_en = (
        hour_label(profile.reminder_hour),
        profiles.zone_name(profile.zone, "es"),
        profiles.zone_name(profile.zone, "en"),
    )
    range_es, range_en = allowed_range()
    text = tr(
        lang,
        f"¿A qué hora quieres el recordatorio diario? Ahora: *{at}* (hora de {zone_es}). Elige una hora o "
        f"escribe otra, por ejemplo *recordatorio a las 10*. Solo escribo {range_es}.",
        f"What time do you want the daily reminder? Now: {at} ({zone_en} time). Pick an hour or type "
        f"another, e.g. reminder at 10am. I only write {range_en}.",
    )
    rows = tuple(
        ListRow(f"{PREFIX}hour:{h}", hour_label(h), _part_of_day(h, lang, current=h == profile.reminder_hour))
        for h in shown
    )
    return Reply(head + text, list_button="Elegir hora", rows=rows)


# Parts of the day as list descriptions: (ends before this hour, name). "Por la tarde" runs to 20:00 in
# Spanish; "afternoon" ends at 17:00 in English.
_PARTS = {
    "es": (
        (6, "de madrugada"),
        (12, "por la mañana"),
        (14, "a mediodía"),
        (20, "por la tarde"),
        (24, "por la noche"),
    ),
    "en": ((6, "early morning"), (12, "morning"), (14, "midday"), (17, "afternoon"), (24, "evening")),
}


def _part_of_day(hour: int, lang: str, *, current: bool) -> str:
    part = next(name for end, name in _PARTS["en" if lang == "en" else "es"] if hour < end)
    if current:
        return f"{part} · current" if lang == "en" else f"{part} · la de ahora"
    return part


def _ask_zone(profile: profiles.Profile, lang: str, head: str, now: datetime | None = None) -> Reply:
    """The learner's country zone first, the current one, then common ones: at most 10 rows, each with
    its clock now, since a learner knows their own time better than a zone name."""
    now = now or datetime.now(UTC)
    country = zone_for(profile.wa_id)
    zones = list(dict.fromkeys((country, profile.zone, *COMMON_ZONES)))[:MAX_ROWS]
    clock = local(now, profile.zone).strftime("%H:%M")
    zone_es, zone_en = profiles.zone_name(profile.zone, "es"), profiles.zone_name(profile.zone, "en")
    text = tr(
        lang,
        f"Tu zona horaria: *{zone_es}* (allí son ahora las {clock}). ¿Dónde estás? Elige en la lista o "
        "escribe tu ciudad, por ejemplo *zona horaria Madrid*.",
        f"Your time zone: {zone_en} (it is {clock} there now). Where are you? Pick one, or type your city, "
        "e.g. time zone Madrid.",
    )
    rows = []
    for zone in zones:
        there = local(now, zone).strftime("%H:%M")
        mine = (" · your country" if lang == "en" else " · tu país") if zone == country else ""
        described = f"Now {there}{mine}" if lang == "en" else f"Ahora son las {there}{mine}"
        rows.append(ListRow(f"{PREFIX}zone:{zone}", profiles.zone_name(zone, lang)[:24], described))
    return Reply(head + text, list_button="Elegir zona", rows=tuple(rows))


def parse_id(reply_id: str) -> tuple[str, str | None] | None:
    """``(field, value)`` of a ``prof:`` id (value None: ask the field); None for a malformed one."""
    field, _, value = reply_id.removeprefix(PREFIX).partition(":")
    if field not in FIELDS:
        return None
    if not value:
        return field, None
    return (field, value) if valid(field, value) else None


def valid(field: str, value: str) -> bool:
    return {
        "dialect": value in DIALECTS,
        "lang": value in LANGUAGES,
        "goal": value in GOALS,
        "remind": value in ("yes", "no"),
        "hour": value.isdigit() and int(value) in allowed_hours(),
        "zone": valid_zone(value),
    }.get(field, False)


def parse_typed(said: str) -> tuple[str, str | None, str] | None:
    """A typed profile shortcut (``said`` is folded): ``(field, value, typed)``. ``value`` is None when
    the field is only named ("idioma") or what follows names nothing we offer (``typed`` says what): an
    hour inside the quiet hours is such a value. "Zona horaria: Madrid" reads as "zona horaria Madrid"."""
    said = re.sub(r"[:,] ", " ", said)
    hour = _HOUR_TYPED.match(said)
    if hour is None and (remind := _REMIND_AT.match(said)) and _looks_like_hour(remind.group(1).strip()):
        hour = remind
    if hour is not None:
        typed = (hour.group(1) or "").strip()
        return "hour", (_typed_value("hour", typed) if typed else None), typed
    for field, pattern in (("zone", _ZONE_TYPED), *_TYPED):
        match = pattern.match(said)
        if match is None:
            continue
        typed = (match.group(1) or "").strip()
        if not typed:
            return field, None, ""
        return field, _typed_value(field, typed), typed
    return None


def _typed_value(field: str, typed: str) -> str | None:
    if field == "hour":
        hour = hour_of_words(typed)
        return str(hour) if hour is not None and not rules().quiet(hour) else None
    if field == "zone":
        return profiles.zone_of_words(typed)
    if field == "lang":
        return profiles.language_of_words(typed)  # "pt" included: the caller says it is not offered
    if field == "dialect":
        return profiles.dialect_of_words(typed)
    if field == "remind":
        return "yes" if typed in _YES else "no" if typed in _NO else None
    return next((code for code, (es, en) in GOALS.items() if typed in (code, fold(es), fold(en))), None)


def apply(
    conn: psycopg.Connection[Any], learner_id: UUID, field: str, value: str, language: str
) -> tuple[str, str]:
    """Write one field; returns ``(confirmation line, explanation language from now on)``."""
    if field == "lang":
        profiles.set_native_language(conn, learner_id, value)
        return language_set_line(value), value
    if field == "dialect":
        profiles.set_dialect(conn, learner_id, value)
        return dialect_set_line(language, value), language
    if field == "goal":
        profiles.set_goals(conn, learner_id, [value])
        es, en = GOALS[value]
        return tr(language, f"✅ Objetivo cambiado: *{es}*.", f"Goal changed: {en}."), language
    if field == "remind":
        return consent_to_reminders(conn, learner_id, value == "yes", language), language
    if field == "hour":
        zone = profiles.set_reminder_hour(conn, learner_id, int(value))
        return hour_set_line(language, int(value), zone), language
    if field == "zone":
        profiles.set_timezone(conn, learner_id, value)
        current = profiles.load(conn, learner_id)
        hour = current.reminder_hour if current and current.reminders_consent else None
        return zone_set_line(language, value, hour), language
    raise ValueError(f"unknown profile field {field!r}")


def language_set_line(language: str) -> str:
    """The confirmation of a new explanation language, written in that language's way."""
    if language == "en":
        return tr(
            "en",
            "✅ Explicaciones en *inglés*: cada mensaje irá en español con la traducción al inglés debajo.",
            "Explanations in English: every message comes in Spanish with the English underneath.",
        )
    return "✅ Explicaciones en *español*: los mensajes irán solo en español."


def dialect_set_line(language: str, dialect: str) -> str:
    """The confirmation of a new variety, with what follows it: the culture notes (set in that country)
    and the pronunciation (Spain's or the Americas')."""
    title = DIALECTS[dialect][0]
    of = _OF.get(dialect, f"de {title}")
    of_en = _OF_EN.get(dialect, title)
    return tr(
        language,
        f"✅ Variante cambiada: el español {of}. Desde ahora, la pronunciación y las notas de cultura "
        "siguen esta variante.",
        f"Variety changed to the Spanish of {of_en}. From now on, pronunciation and culture notes follow it.",
    )


def consent_to_reminders(
    conn: psycopg.Connection[Any], learner_id: UUID, consent: bool, language: str
) -> str:
    """Store the answer to "may I remind you?" and return its confirmation; a yes says when the reminder
    comes (the stored hour, in the stored zone, which is stored now from the phone number if missing)."""
    profiles.set_reminders_consent(conn, learner_id, consent)
    if not consent:
        return reminders_line(language, False)
    zone = profiles.fill_timezone(conn, learner_id)
    current = profiles.load(conn, learner_id)
    return reminders_line(language, True, current.reminder_hour if current else 19, zone)


def reminders_line(language: str, consent: bool, hour: int | None = None, zone: str | None = None) -> str:
    """The confirmation of the reminder preference (stored; the learner can change it in "perfil"); with
    ``hour`` and ``zone``, a yes says when the reminders come and how to change that."""
    if consent and hour is not None and zone is not None:
        at, es, en = hour_label(hour), profiles.zone_name(zone, "es"), profiles.zone_name(zone, "en")
        return tr(
            language,
            f"✅ Anotado: te escribiré cada día a las *{at}* (hora de {es}) si ese día aún no me has "
            "escrito, y nunca de noche. Para cambiar la hora o la zona horaria, escribe *perfil*.",
            f"Noted: I'll write every day at {at} ({en} time) if you haven't written to me that day, never "
            "at night. To change the hour or the time zone, write *perfil*.",
        )
    if consent:
        return tr(
            language,
            "✅ Anotado: quieres recordatorios para practicar. 🔔",
            "Noted: you want reminders to practise.",
        )
    return tr(language, "✅ Anotado: sin recordatorios.", "Noted: no reminders.")


def hour_set_line(language: str, hour: int, zone: str) -> str:
    """The confirmation of a reminder hour (which turned reminders on)."""
    at, es, en = hour_label(hour), profiles.zone_name(zone, "es"), profiles.zone_name(zone, "en")
    return tr(
        language,
        f"✅ Recordatorios activados: cada día a las *{at}* (hora de {es}), si ese día aún no me has "
        "escrito. Puedes cambiar la hora o la zona horaria en *perfil*.",
        f"Reminders on: every day at {at} ({en} time), if you haven't written to me that day. Change the "
        "hour or the time zone in *perfil*.",
    )


def zone_set_line(language: str, zone: str, hour: int | None, now: datetime | None = None) -> str:
    """The confirmation of a time zone, with its clock now (so a wrong choice shows at once) and, for a
    learner who gets reminders (``hour`` given), when they will come."""
    clock = local(now or datetime.now(UTC), zone).strftime("%H:%M")
    es, en = profiles.zone_name(zone, "es"), profiles.zone_name(zone, "en")
    then_es = (
        f" Los recordatorios llegarán a las {hour_label(hour)}, hora de {es}." if hour is not None else ""
    )
    then_en = f" Reminders will come at {hour_label(hour)} {en} time." if hour is not None else ""
    return tr(
        language,
        f"✅ Zona horaria: *{es}* (allí son ahora las {clock}).{then_es}",
        f"Time zone: {en} (it is {clock} there now).{then_en}",
    )


def not_offered(language: str, code: str | None) -> str:
    """Why a typed language was not applied (Portuguese, or a language we do not explain in)."""
    if code == "pt":
        return tr(
            language,
            "Todavía no explico en portugués. Puedo explicarte en español o en inglés.",
            "I can't explain in Portuguese yet: Spanish or English.",
        )
    return tr(
        language,
        "Solo puedo explicarte en español o en inglés.",
        "I can explain in Spanish or English only.",
    )


def unknown_value(language: str, field: str) -> str:
    """Why a typed value was not applied, before the field is asked again."""
    if field == "dialect":
        return tr(language, "No conozco esa variante. Elige una de la lista:", "I don't know that variety.")
    if field == "goal":
        return tr(language, "No conozco ese objetivo. Elige uno de la lista:", "I don't know that goal.")
    if field == "hour":
        es, en = allowed_range()
        return tr(
            language,
            f"No puedo poner esa hora: los recordatorios van {es} (de noche no escribo). Elige una hora "
            "de la lista o escribe, por ejemplo, *recordatorio a las 20*.",
            f"I can't use that hour: reminders come {en} (never at night). Pick one, or type e.g. reminder "
            "at 8pm.",
        )
    if field == "zone":
        return tr(
            language,
            "No conozco esa zona horaria. Escribe una ciudad o un país, por ejemplo *zona horaria Madrid* o "
            "*zona horaria America/Bogota*, o elige una de la lista:",
            "I don't know that time zone. Type a city or a country, e.g. time zone Madrid or time zone "
            "America/Bogota, or pick one:",
        )
    return tr(language, "No he entendido. Elige una opción:", "I didn't get that: pick an option.")
