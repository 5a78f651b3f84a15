"""What billing says in chat: the free tier's notices, checkout and portal links, offers, and the notices
that follow Stripe events. Pure functions returning ``Reply`` objects (checked against WhatsApp's limits
when sent).

Every text is Spanish first (the learner is here to read Spanish); a learner whose explanation language is
English (``learner.native_language == "en"``, passed here as ``language``) gets an English gloss in
italics underneath, as the tutor's own texts do. Billing keeps its own copy of that convention (``_tr``)
because it must not import the tutor. Counts go through ``plural`` so that Spanish agrees: "1 tiempo
verbal", "2 tiempos verbales".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, MAX_TEXT, Button, Reply, UrlButton

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from espaluz.billing.offers import WeekProgress
    from espaluz.billing.plans import Catalog

OFFER_YES = "billing:offer:yes"
OFFER_NO = "billing:offer:no"
PLAN_BUTTON = "billing:plan"
RULE = "———"  # separates a notice from the answer it follows


def plural(n: int, one: str, many: str) -> str:
    """``n`` with the noun phrase that agrees with it: ``plural(1, "tiempo verbal", "tiempos
    verbales")`` is "1 tiempo verbal", ``plural(2, ...)`` "2 tiempos verbales" (0 takes the plural)."""
    return f"{n} {one if n == 1 else many}"


def _tr(language: str, es: str, en: str) -> str:
    """Spanish, with the English gloss in italics underneath for learners who explain in English."""
    return f"{es}\n\n_{en}_" if language == "en" and en else es


def _title(language: str, es: str, en: str) -> str:
    return en if language == "en" else es


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def _wait(delta: timedelta, language: str) -> str:
    """How long until the allowance comes back, in whole hours rounded up ("unas 7 horas")."""
    hours = max(math.ceil(delta.total_seconds() / 3600), 1)
    if hours == 1:
        return _title(language, "menos de una hora", "less than an hour")
    return _title(language, f"unas {hours} horas", f"about {hours} hours")


def _plan_line(catalog: Catalog, language: str) -> str:
    """The plan, its price and what it adds, in one sentence of the learner's language."""
    gives = ", ".join(catalog.unlocked_lines(language))
    if language == "en":
        return f"With {catalog.paid_name} ({catalog.price('en')} a month): {gives}."
    return f"Con *{catalog.paid_name}* ({catalog.price('es')} al mes): {gives}."


def _append(base: Reply, extra: str) -> Reply:
    """The answer with ``extra`` after it, in one message. The answer's buttons stay when the whole
    fits an interactive body; otherwise it goes as plain text, whole (only an answer near WhatsApp's
    4096-character limit is shortened, so that ``extra`` always arrives)."""
    text = f"{base.text}\n\n{extra}"
    if base.interactive and len(text) <= MAX_INTERACTIVE_BODY:
        return Reply(
            text,
            buttons=base.buttons,
            list_button=base.list_button,
            rows=base.rows,
            url_button=base.url_button,
            reply_to=base.reply_to,
        )
    if len(text) > MAX_TEXT:
        text = base.text[: MAX_TEXT - len(extra) - 3] + "…\n\n" + extra
    return Reply(text, reply_to=base.reply_to)


# --- the free tier ----------------------------------------------------------------------------------


def last_free_turn(catalog: Catalog, language: str, renewed_in: timedelta, base: Reply) -> Reply:
    """The answer to the turn that used the last free message of the day, with a short notice after it:
    that it was the last, when the allowance comes back, and the plan's price."""
    n = catalog.free_turns_per_day
    es = (
        f"{RULE}\nEste fue tu último mensaje gratis de hoy. Tendrás "
        f"{plural(n, 'mensaje gratis', 'mensajes gratis')} más en {_wait(renewed_in, 'es')}. "
        f"Con *{catalog.paid_name}* ({catalog.price('es')} al mes) practicas sin límite: escribe *plan*."
    )
    en = (
        "That was your last free message today. You'll have "
        f"{plural(n, 'more free message', 'more free messages')} in {_wait(renewed_in, 'en')}. "
        f"With {catalog.paid_name} ({catalog.price('en')} a month) there is no daily limit: type *plan*."
    )
    return _append(base, _tr(language, es, en))


def free_limit(catalog: Catalog, language: str, renewed_in: timedelta) -> Reply:
    """The short, kind answer to a teaching message once the day's free messages are used."""
    n = catalog.free_turns_per_day
    es = (
        f"Por hoy ya no te quedan mensajes gratis (el plan gratis incluye {n} al día). 🌙 "
        f"Se renuevan en {_wait(renewed_in, 'es')} y seguimos practicando. "
        f"Con *{catalog.paid_name}* ({catalog.price('es')} al mes) no hay límite diario.\n"
        "Los comandos (*progreso*, *nivel*, *perfil*…) siguen funcionando."
    )
    en = (
        f"You have no free messages left today (the free plan includes {n} a day). They renew in "
        f"{_wait(renewed_in, 'en')}. With {catalog.paid_name} ({catalog.price('en')} a month) there is no "
        "daily limit. Commands (*progreso*, *nivel*, *perfil*…) still work."
    )
    return Reply(
        _tr(language, es, en), buttons=(Button(PLAN_BUTTON, _title(language, "Ver el plan", "See the plan")),)
    )


# --- the plan command -------------------------------------------------------------------------------


def checkout_link(catalog: Catalog, language: str, url: str) -> Reply:
    """The plan with its price and what it adds, before the checkout button."""
    es = (
        f"*{catalog.paid_name}*: {catalog.price('es')} al mes.\n{_bullets(catalog.unlocked_lines('es'))}\n\n"
        "Puedes cancelar cuando quieras: escribe *plan* y te mando el enlace para gestionar tu suscripción."
    )
    en = (
        f"{catalog.paid_name}: {catalog.price('en')} a month ({', '.join(catalog.unlocked_lines('en'))}). "
        "Cancel whenever you like: type *plan* for the link to manage it."
    )
    return Reply(
        _tr(language, es, en), url_button=UrlButton(_title(language, "Suscribirme", "Subscribe"), url)
    )


def already_subscribed(catalog: Catalog, language: str, portal_url: str | None) -> Reply:
    if portal_url:
        body = _tr(
            language,
            f"Ya tienes *{catalog.paid_name}* activo. ✨ Aquí puedes gestionar o cancelar tu suscripción.",
            f"You already have {catalog.paid_name}. Here you can manage or cancel your subscription.",
        )
        return Reply(body, url_button=UrlButton(_title(language, "Gestionar", "Manage"), portal_url))
    return Reply(
        _tr(language, f"Ya tienes *{catalog.paid_name}* activo. ✨", f"You already have {catalog.paid_name}.")
    )


def payments_unavailable(language: str) -> Reply:
    return Reply(
        _tr(
            language,
            "Ahora mismo no puedo abrir el pago. Inténtalo de nuevo en un rato. 🙏",
            "I can't open the payment page right now. Please try again in a while.",
        )
    )


# --- offers -----------------------------------------------------------------------------------------


def value_line(progress: WeekProgress, language: str) -> str:
    """A concrete line from the learner's week of drills, in Spanish or English (no gloss: one line)."""
    if progress.verbs >= 2:
        if language == "en":
            return (
                f"This week you conjugated {progress.verbs} different verbs correctly and got "
                f"{plural(progress.right, 'exercise', 'exercises')} right"
            )
        return (
            f"Esta semana ya conjugaste bien {progress.verbs} verbos distintos y acertaste "
            f"{plural(progress.right, 'ejercicio', 'ejercicios')}"
        )
    if progress.right >= 2:
        if language == "en":
            line = f"This week you have {progress.right} correct answers"
            return line + (f" in {plural(progress.tenses, 'tense', 'tenses')}" if progress.tenses else "")
        line = f"Esta semana llevas {progress.right} respuestas correctas"
        tenses = plural(progress.tenses, "tiempo verbal", "tiempos verbales")
        return line + (f" en {tenses}" if progress.tenses else "")
    return _title(language, "¡Vas muy bien!", "You're doing really well!")


def bonus_line(catalog: Catalog, feature: str, days: int, language: str) -> str:
    """The bonus an offer lends (a sold feature for a few days)."""
    from espaluz.billing.plans import FEATURE_LABELS

    es_label, en_label = FEATURE_LABELS.get(feature, (feature.replace("_", " "),) * 2)
    if language == "en":
        return f"A gift: {plural(days, 'day', 'days')} of {en_label}, starting now."
    return f"Te regalo {plural(days, 'día', 'días')} de *{es_label}*, desde ya. ¡Pruébalo!"


def offer(
    catalog: Catalog, language: str, progress: WeekProgress, bonus: tuple[str, int] | None, base: Reply
) -> Reply:
    """The turn's own answer with the offer after it, in one message (WhatsApp paces messages to one
    user, and fewer messages cost less): praise from the learner's week, the plan with its price, and
    the bonus if any (``(feature, days)``). The offer's buttons replace the answer's buttons."""
    lines = [f"{value_line(progress, 'es')} 🎉", _plan_line(catalog, "es")]
    if bonus:
        lines.append(f"🎁 {bonus_line(catalog, bonus[0], bonus[1], 'es')}")
    es = "\n".join(lines)
    en_lines = [value_line(progress, "en") + ".", _plan_line(catalog, "en")]
    if bonus:
        en_lines.append(bonus_line(catalog, bonus[0], bonus[1], "en"))
    extra = f"{RULE}\n" + _tr(language, es, " ".join(en_lines))
    text = f"{base.text}\n\n{extra}"
    if len(text) > MAX_INTERACTIVE_BODY:  # callers keep answers short (the gate's MAX_ANSWER_WITH_OFFER)
        text = base.text[: MAX_INTERACTIVE_BODY - len(extra) - 3] + "…\n\n" + extra
    return Reply(text, buttons=offer_buttons(language))


def offer_buttons(language: str) -> tuple[Button, ...]:
    """An offer's answers (also under its next-day follow-up): see the plan, or not now."""
    return (
        Button(OFFER_YES, _title(language, "Ver el plan", "See the plan")),
        Button(OFFER_NO, _title(language, "Ahora no", "Not now")),
    )


def offer_declined(language: str) -> Reply:
    return Reply(
        _tr(language, "¡Sin problema! Seguimos practicando. 😊", "No problem! Let's keep practising."),
        buttons=(
            Button("practice", _title(language, "Practicar", "Practice")),
            Button("help", _title(language, "Ayuda", "Help")),
        ),
    )


# --- notices after Stripe events --------------------------------------------------------------------


def thanks(catalog: Catalog, language: str) -> Reply:
    es = (
        f"¡Gracias! 🎉 Ya tienes *{catalog.paid_name}*. Acabas de desbloquear:\n"
        f"{_bullets(catalog.unlocked_lines('es'))}\n\nEscribe *practicar* cuando quieras seguir."
    )
    en = (
        f"Thank you! You now have {catalog.paid_name}: {', '.join(catalog.unlocked_lines('en'))}. "
        "Type *practicar* whenever you want to go on."
    )
    return Reply(
        _tr(language, es, en), buttons=(Button("practice", _title(language, "Practicar", "Practice")),)
    )


def payment_failed(language: str, portal_url: str | None) -> Reply:
    es = (
        "No pudimos cobrar tu suscripción. 😕 Lo intentaremos de nuevo en unos días; "
        "mientras tanto sigues con tu plan."
    )
    en = "We couldn't charge your subscription. We'll try again in a few days; meanwhile you keep your plan."
    if portal_url:
        return Reply(
            _tr(language, es + " Puedes actualizar tu tarjeta aquí:", en + " You can update your card here."),
            url_button=UrlButton(_title(language, "Actualizar pago", "Update payment"), portal_url),
        )
    return Reply(
        _tr(
            language,
            es + " Escribe *plan* para gestionar tu pago.",
            en + " Type *plan* to manage your payment.",
        )
    )


def trial_ending(language: str, portal_url: str | None) -> Reply:
    body = _tr(
        language,
        "Tu periodo de prueba termina en unos días. Si no haces nada, la suscripción continúa.",
        "Your trial ends in a few days. If you do nothing, the subscription goes on.",
    )
    if portal_url:
        return Reply(body, url_button=UrlButton(_title(language, "Gestionar", "Manage"), portal_url))
    return Reply(body)


def cancel_scheduled(catalog: Catalog, language: str, until: datetime | None) -> Reply:
    when_es = f" hasta el {until:%d/%m/%Y}" if until else " hasta el final del periodo pagado"
    when_en = f" until {until:%d/%m/%Y}" if until else " until the end of the paid period"
    return Reply(
        _tr(
            language,
            f"Cancelaste *{catalog.paid_name}*. Lo sigues teniendo{when_es}. ¡Gracias por aprender conmigo!",
            f"You cancelled {catalog.paid_name}. You keep it{when_en}. Thanks for learning with me!",
        )
    )


def subscription_ended(catalog: Catalog, language: str) -> Reply:
    n = catalog.free_turns_per_day
    return Reply(
        _tr(
            language,
            f"Tu *{catalog.paid_name}* ha terminado. Sigues con el plan gratis: "
            f"{plural(n, 'mensaje de práctica', 'mensajes de práctica')} al día. "
            "Escribe *plan* si quieres volver.",
            f"Your {catalog.paid_name} has ended. You're back on the free plan: "
            f"{plural(n, 'practice message', 'practice messages')} a day. Type *plan* to come back.",
        )
    )
