"""`espaluz templates check` against the local Graph API emulator (real HTTP, Meta's response shapes).

Failures covered: a required template missing, one not yet approved (PENDING / REJECTED), the same name
approved only in another language, a template list spread over several pages, a wrong access token, and
the business account id not configured. Exit codes: 0 ok, 1 problems found, 2 the check could not run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from espaluz.config import get_settings
from espaluz.ops.templates import templates
from tests.conftest import ACCESS_TOKEN, GraphEmulator

WABA_ID = "200000000000002"


@pytest.fixture
def graph_env(graph_emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", graph_emulator.graph_url)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("WHATSAPP_BUSINESS_ACCOUNT_ID", WABA_ID)
    get_settings.cache_clear()
    yield graph_emulator
    get_settings.cache_clear()


def template(name: str, status: str = "APPROVED", language: str = "es") -> dict[str, Any]:
    return {"name": name, "language": language, "status": status, "category": "UTILITY"}


def check(*args: str) -> Any:
    return CliRunner().invoke(templates, ["check", *args])


def test_emulator_default_has_the_tutors_templates_approved(graph_env: GraphEmulator) -> None:
    result = check("--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {(r["name"], r["language"]) for r in rows} == {
        ("espaluz_seguimos", "es"),
        ("espaluz_plus_followup", "es"),
        *((name, language) for name in ("espaluz_recordatorio", "espaluz_repaso", "espaluz_te_esperamos")
          for language in ("es", "en")),  # the scheduler's, in both languages the tutor explains in
    }  # fmt: skip
    assert all(r["ok"] and r["status"] == "APPROVED" for r in rows)


def test_missing_and_unapproved_templates_fail_with_names(graph_env: GraphEmulator) -> None:
    graph_env.store.set_templates(
        [template("espaluz_seguimos", "PENDING"), template("espaluz_plus_followup", "APPROVED", "en_US")]
    )
    result = check()
    assert result.exit_code == 1
    assert "not approved  espaluz_seguimos (es): PENDING" in result.output
    # Approved in English only: the Spanish one the tutor sends does not exist.
    assert "missing       espaluz_plus_followup (es)" in result.output


def test_rejected_template_named_explicitly(graph_env: GraphEmulator) -> None:
    graph_env.store.set_templates(
        [template("streak_reminder", "REJECTED"), template("welcome", "APPROVED", "es_MX")]
    )
    rejected = check("--template", "streak_reminder", "--json")
    assert rejected.exit_code == 1
    assert json.loads(rejected.output) == {
        "name": "streak_reminder",
        "language": "es",
        "status": "REJECTED",
        "ok": False,
    }
    assert check("--template", "welcome:es_MX").exit_code == 0


def test_every_page_of_the_template_list_is_read(graph_env: GraphEmulator) -> None:
    """The API pages at 100; the required template sits on the third page."""
    many = [template(f"filler_{i:03d}") for i in range(230)] + [template("espaluz_last_page")]
    graph_env.store.set_templates(many)
    result = check("--template", "espaluz_last_page")
    assert result.exit_code == 0, result.output
    assert "ok            espaluz_last_page (es)" in result.output


def test_a_refused_token_or_missing_account_cannot_be_checked(
    graph_env: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "wrong-token")
    get_settings.cache_clear()
    refused = check()
    assert refused.exit_code == 2
    assert "Graph API error 190" in refused.output
    monkeypatch.setenv("WHATSAPP_BUSINESS_ACCOUNT_ID", "")
    get_settings.cache_clear()
    unset = check()
    assert unset.exit_code == 2
    assert "WHATSAPP_BUSINESS_ACCOUNT_ID is not set" in unset.output


def test_unreachable_graph_api_cannot_be_checked(
    graph_env: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("WHATSAPP_GRAPH_URL", f"http://127.0.0.1:{free_port()}/graph/v23.0")
    get_settings.cache_clear()
    result = check()
    assert result.exit_code == 2
    assert "unreachable" in result.output
