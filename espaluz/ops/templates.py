"""``espaluz templates check``: do the WhatsApp message templates the tutor sends exist, and are they
approved?

Outside the 24-hour customer-service window the tutor may only send approved templates (error 131047
otherwise), so a missing or rejected template fails silently in production: the learner just never hears
back. Run this after creating the templates in WhatsApp Manager and before each release.

It lists the business account's templates (Graph API ``GET /{WABA_ID}/message_templates``, following
pages) with ``WHATSAPP_ACCESS_TOKEN`` and ``WHATSAPP_BUSINESS_ACCOUNT_ID``, against ``WHATSAPP_GRAPH_URL``
(the local emulator in tests). Exit status: 0 every required template is approved, 1 one is missing or not
approved (each is named), 2 the check could not run (settings missing, the API refused or failed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from espaluz.config import Settings

MAX_PAGES = 50
# The re-engagement template of the send policy (espaluz.whatsapp.sender.SendPolicy.window_template).
WINDOW_TEMPLATE = ("espaluz_seguimos", "es")


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str
    language: str


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    language: str
    status: str  # Meta's status (APPROVED, PENDING, REJECTED, PAUSED, DISABLED...) or MISSING

    @property
    def ok(self) -> bool:
        return self.status == "APPROVED"


class TemplatesError(RuntimeError):
    """The check could not run (exit 2)."""


def required_templates(settings: Settings) -> list[Requirement]:
    """The templates the tutor sends: the window's re-engagement template, the billing follow-up, and the
    scheduler's reminder, review and re-engagement templates in both languages the tutor explains in
    (``espaluz.tutor.proactive`` picks the learner's)."""
    wanted = [Requirement(*WINDOW_TEMPLATE)]
    followup = getattr(settings, "billing_followup_template", "")
    if followup:
        wanted.append(Requirement(followup, "es"))
    for field in ("whatsapp_reminder_template", "whatsapp_review_template", "whatsapp_reengage_template"):
        name = getattr(settings, field, "")
        if name:
            wanted += [Requirement(name, "es"), Requirement(name, "en")]
    return wanted


def parse_requirement(spec: str) -> Requirement:
    """``name`` or ``name:language`` (default language ``es``)."""
    name, _, language = spec.partition(":")
    if not name:
        raise click.BadParameter(f"empty template name in {spec!r}")
    return Requirement(name, language or "es")


def list_templates(graph_url: str, waba_id: str, token: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Every template of the business account (all pages)."""
    import httpx

    url: str | None = f"{graph_url.rstrip('/')}/{waba_id}/message_templates"
    params: dict[str, Any] | None = {"fields": "name,status,language,category", "limit": 100}
    out: list[dict[str, Any]] = []
    with httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(MAX_PAGES):
            if url is None:
                break
            try:
                response = client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise TemplatesError(f"Graph API unreachable: {type(exc).__name__}") from exc
            if response.status_code != 200:
                try:
                    error = response.json().get("error", {})
                except ValueError:
                    error = {}
                message = error.get("message") or f"HTTP {response.status_code}"
                raise TemplatesError(f"Graph API error {error.get('code', response.status_code)}: {message}")
            payload = response.json()
            out.extend(payload.get("data", []))
            url = payload.get("paging", {}).get("next")
            params = None  # the next URL carries its own query
    return out


def check(required: Iterable[Requirement], templates: Iterable[dict[str, Any]]) -> list[Finding]:
    """One finding per requirement: the template's status in that language, or MISSING."""
    by_key = {
        (str(t.get("name")), str(t.get("language"))): str(t.get("status", "")).upper() for t in templates
    }
    return [Finding(r.name, r.language, by_key.get((r.name, r.language), "MISSING")) for r in required]


@click.group()
def templates() -> None:
    """WhatsApp message templates."""


@templates.command("check")
@click.option(
    "--template",
    "specs",
    multiple=True,
    help="NAME or NAME:LANG to require (repeatable); default: the templates the tutor sends.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per template.")
def check_command(specs: tuple[str, ...], as_json: bool) -> None:
    """Check that the required templates exist and are APPROVED."""
    from espaluz.config import get_settings

    settings = get_settings()
    required = [parse_requirement(s) for s in specs] or required_templates(settings)
    token = settings.whatsapp_access_token.get_secret_value()
    problem = ""
    if not settings.whatsapp_business_account_id:
        problem = "WHATSAPP_BUSINESS_ACCOUNT_ID is not set"
    elif not token:
        problem = "WHATSAPP_ACCESS_TOKEN is not set"
    if problem:
        click.echo(f"espaluz templates: {problem}", err=True)
        sys.exit(2)
    try:
        found = list_templates(settings.whatsapp_graph_url, settings.whatsapp_business_account_id, token)
    except TemplatesError as exc:
        click.echo(f"espaluz templates: {exc}", err=True)
        sys.exit(2)
    findings = check(required, found)
    for f in findings:
        if as_json:
            click.echo(json.dumps({"name": f.name, "language": f.language, "status": f.status, "ok": f.ok}))
        elif f.ok:
            click.echo(f"ok            {f.name} ({f.language})")
        elif f.status == "MISSING":
            click.echo(f"missing       {f.name} ({f.language})")
        else:
            click.echo(f"not approved  {f.name} ({f.language}): {f.status}")
    if not all(f.ok for f in findings):
        sys.exit(1)
