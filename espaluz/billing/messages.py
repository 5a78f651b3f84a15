"""What billing says in chat, in Spanish: the free-tier limit, checkout and portal links, offers, and
the notices that follow Stripe events. Pure functions returning ``Reply`` objects (checked against
WhatsApp's limits when sent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from espaluz.whatsapp.outgoing import Button, Reply, UrlButton

if TYPE_CHECKING:
    from datetime import datetime

    from espaluz.billing.plans import Catalog

OFFER_YES = "billing:offer:yes"
OFFER_NO = "billing:offer:no"
PLAN_BUTTON = "billing:plan"


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def free_limit(catalog: Catalog) -> Reply:
    body = (
        f"¡Qué buen ritmo llevas hoy! 💪 Ya usaste tus *{catalog.free_turns_per_day} turnos gratis* de hoy; "
        "mañana tienes más.\n\n"
        f"Si quieres seguir ahora, *{catalog.paid_name}* te da:\n{_bullets(catalog.unlocked_lines())}"
    )
    return Reply(body, buttons=(Button(PLAN_BUTTON, "Ver el plan"),))


def checkout_link(catalog: Catalog, url: str) -> Reply:
    body = (
        f"*{catalog.paid_name}* (mensual):\n{_bullets(catalog.unlocked_lines())}\n\n"
        "Puedes cancelar cuando quieras desde el mismo enlace de gestión."
    )
    return Reply(body, url_button=UrlButton("Suscribirme", url))


def already_subscribed(catalog: Catalog, portal_url: str | None) -> Reply:
    body = f"Ya tienes *{catalog.paid_name}* activo. ✨"
    if portal_url:
        return Reply(
            body + " Aquí puedes gestionar o cancelar tu suscripción.",
            url_button=UrlButton("Gestionar", portal_url),
        )
    return Reply(body)


def payments_unavailable() -> Reply:
    return Reply(
        "Ahora mismo no puedo abrir el pago (falta configurar Stripe en este servidor o no responde). "
        "Inténtalo de nuevo en un rato. 🙏"
    )


def offer(catalog: Catalog, value_line: str, bonus_line: str | None, base: Reply) -> Reply:
    """The turn's own answer with the offer after it, in one message (WhatsApp paces messages to one
    user, and fewer messages cost less). The offer's buttons replace the answer's buttons."""
    extra = f"\n\n———\n{value_line} 🎉\nCon *{catalog.paid_name}* sigues sin límite diario y con " + (
        "corrección de pronunciación."
    )
    if bonus_line:
        extra += f"\n🎁 {bonus_line}"
    text = base.text + extra
    if len(text) > 1024:  # interactive bodies are limited; callers keep answers short (see tutor_gate)
        text = base.text[: 1024 - len(extra) - 1] + "…" + extra
    return Reply(text, buttons=(Button(OFFER_YES, "Ver el plan"), Button(OFFER_NO, "Ahora no")))


def offer_declined() -> Reply:
    return Reply(
        "¡Sin problema! Seguimos practicando. 😊",
        buttons=(Button("practice", "Practicar"), Button("help", "Ayuda")),
    )


def thanks(catalog: Catalog) -> Reply:
    return Reply(
        f"¡Gracias! 🎉 Ya tienes *{catalog.paid_name}*. Acabas de desbloquear:\n"
        f"{_bullets(catalog.unlocked_lines())}\n\nEscribe *practicar* cuando quieras seguir.",
        buttons=(Button("practice", "Practicar"),),
    )


def payment_failed(portal_url: str | None) -> Reply:
    body = (
        "No pudimos cobrar tu suscripción. 😕 Stripe lo intentará de nuevo en unos días; "
        "mientras tanto sigues con tu plan."
    )
    if portal_url:
        return Reply(
            body + " Puedes actualizar tu tarjeta aquí:", url_button=UrlButton("Actualizar pago", portal_url)
        )
    return Reply(body + " Escribe *plan* para gestionar tu pago.")


def trial_ending(portal_url: str | None) -> Reply:
    body = "Tu periodo de prueba termina en unos días. Si no haces nada, la suscripción continúa."
    if portal_url:
        return Reply(body, url_button=UrlButton("Gestionar", portal_url))
    return Reply(body)


def cancel_scheduled(catalog: Catalog, until: datetime | None) -> Reply:
    when = f" hasta el {until:%d/%m/%Y}" if until else " hasta el final del periodo pagado"
    return Reply(
        f"Cancelaste *{catalog.paid_name}*. Lo sigues teniendo{when}. ¡Gracias por aprender conmigo!"
    )


def subscription_ended(catalog: Catalog) -> Reply:
    return Reply(
        f"Tu *{catalog.paid_name}* ha terminado. Sigues con el plan gratis: "
        f"{catalog.free_turns_per_day} turnos al día. Escribe *plan* si quieres volver."
    )
