"""The "perfil" command: the learner's profile on one screen, and one field changed at a time.

"perfil" never restarts onboarding: it shows name, level, variety, explanation language, goal and
reminders, with a list to change one of them (ids ``prof:<field>``). Choosing a field asks only that
field (ids ``prof:<field>:<value>``); the answer is written to the learner row and confirmed with what
it changes. The level reuses the "nivel" list (``level:set:<L>``, ``level:test``).

Typed shortcuts, whole messages, case and accents ignored: "idioma inglés", "language english",
"variante España", "dialect spain", "recordatorios no", "objetivo viajar"; the bare word ("idioma",
"variante", "recordatorios", "objetivo") asks that field. "nivel B1" is the level command's.

Texts: Spanish, with the English gloss of ``texts.tr`` / ``texts.inline`` for English speakers; the
language a learner reads is ``profile.explanation_language`` of the stored one ("pt" reads as "en").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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
FIELDS: tuple[str, ...] = ("level", "test", "dialect", "lang", "goal", "remind")
_YES = frozenset({"si", "yes", "on", "activar", "activados", "activos", "encender", "quiero"})
_NO = frozenset({"no", "off", "desactivar", "desactivados", "apagar", "ninguno", "none"})
_CHANGE = r"(?:cambiar (?:el |la |mi |de )?|change (?:the |my )?|mi |my )?"


def _shortcut(keywords: str, prepositions: str) -> re.Pattern[str]:
    """``[cambiar|change|mi|my] KEYWORD [PREPOSITION] [VALUE]`` as a whole (folded) message."""
    return re.compile(rf"^{_CHANGE}(?:{keywords})(?: (?:{prepositions}))?(?: (.+))?$")


_TYPED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lang", _shortcut("idioma|language|explicaciones|explanations", "a|al|en|to|in")),
    ("dialect", _shortcut("variante|variant|variedad|variety|dialecto|dialect", "a|al|de|del|to")),
    ("remind", _shortcut("recordatorios?|reminders?", "a|to")),
    ("goal", _shortcut("objetivo|goal", "a|al|to")),
)
# A dialect with the preposition its name takes ("el español *del* Caribe").
_OF = {"caribe": "del Caribe", "latam": "de Latinoamérica"}
_OF_EN = {"es": "Spain", "caribe": "the Caribbean", "latam": "Latin America"}


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
        inline(lang, f"• Recordatorios: *{remind_es}*", f"reminders: {remind_en}"),
    ]
    hint = tr(
        lang,
        "Elige en la lista qué quieres cambiar, una cosa cada vez. También puedes escribir, por ejemplo, "
        "*nivel B1*, *idioma inglés* o *variante España*.",
        "Pick in the list what to change, one thing at a time, or type e.g. nivel B1, language english "
        "or variante España.",
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
    remind_es, remind_en = _reminders(profile.reminders_consent)
    text = tr(
        lang,
        f"¿Quieres recordatorios para practicar si pasa un día sin que me escribas? Ahora: *{remind_es}*.",
        f"Do you want reminders to practise when a day goes by without a message? Now: {remind_en}.",
    )
    return Reply(
        head + text,
        buttons=(
            Button(f"{PREFIX}remind:yes", "Sí, recuérdame"),
            Button(f"{PREFIX}remind:no", "No, gracias"),
        ),
    )


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
    }.get(field, False)


def parse_typed(said: str) -> tuple[str, str | None, str] | None:
    """A typed profile shortcut (``said`` is folded): ``(field, value, typed)``. ``value`` is None when
    the field is only named ("idioma") or what follows names nothing we offer (``typed`` says what)."""
    for field, pattern in _TYPED:
        match = pattern.match(said)
        if match is None:
            continue
        typed = (match.group(1) or "").strip()
        if not typed:
            return field, None, ""
        return field, _typed_value(field, typed), typed
    return None


def _typed_value(field: str, typed: str) -> str | None:
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
        profiles.set_reminders_consent(conn, learner_id, value == "yes")
        return reminders_line(language, value == "yes"), language
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


def reminders_line(language: str, consent: bool) -> str:
    """The confirmation of the reminder preference (stored; the learner can change it in "perfil")."""
    if consent:
        return tr(
            language,
            "✅ Anotado: quieres recordatorios para practicar. 🔔",
            "Noted: you want reminders to practise.",
        )
    return tr(language, "✅ Anotado: sin recordatorios.", "Noted: no reminders.")


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
    return tr(language, "No he entendido. Elige una opción:", "I didn't get that: pick an option.")
