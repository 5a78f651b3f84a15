"""``espaluz costs --simulate``: learners through the real handlers, priced by line (espaluz.dev.costsim).

Small runs (2 learners x 1 day, about 25 s each): the same seed gives the same report, another seed
another; the lines add up to the total; the JSON contract's keys are there; the messages a learner
received are counted from what the tutor sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from espaluz.dev.costsim import render_table, simulate

CONTRACT_COUNTRIES = {"CO", "MX", "BR", "US", "ES"}


def stable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its wall-clock block (the only part a seed does not fix)."""
    return {k: v for k, v in report.items() if k != "run"}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return simulate(learners=2, days=1, seed=7)


def test_the_same_seed_gives_the_same_report_and_another_seed_another(report: dict[str, Any]) -> None:
    """Determinism: learners' texts, exercise choices, ids, clip lengths and token counts all follow the
    seed. A run-to-run difference (an unseeded choice, an allocator figure) would break it."""
    again = simulate(learners=2, days=1, seed=7)
    assert json.dumps(stable(again), sort_keys=True) == json.dumps(stable(report), sort_keys=True)
    other = simulate(learners=2, days=1, seed=8)
    assert stable(other)["per_learner_month_usd"] != stable(report)["per_learner_month_usd"]


def test_the_lines_sum_to_the_total_at_each_size(report: dict[str, Any]) -> None:
    """The total is the sum of its lines (no line left out, none counted twice), at 1,000 and 100,000
    learners, and the shared lines are cheaper per learner at 100,000."""
    money = report["per_learner_month_usd"]
    assert money["total_excl_whatsapp"] == pytest.approx(sum(money["lines"].values()), abs=1e-5)
    at = money["at_learners"]
    for size in ("1000", "100000"):
        assert at[size]["total_excl_whatsapp"] == pytest.approx(sum(at[size]["lines"].values()), abs=1e-5)
    assert money["lines"] == at[str(money["shares_at_learners"])]["lines"]
    assert at["100000"]["lines"]["aurora"] < at["1000"]["lines"]["aurora"]
    assert at["100000"]["lines"]["llm:openai/gpt-oss-120b"] == at["1000"]["lines"]["llm:openai/gpt-oss-120b"]


def test_the_json_contract(report: dict[str, Any]) -> None:
    """The keys outside checks read, every line a non-negative number, WhatsApp for the five countries."""
    money = report["per_learner_month_usd"]
    assert isinstance(money["total_excl_whatsapp"], float)
    lines = money["lines"]
    for name in (
        "groq_whisper",
        "modal_gpu",
        "polly",
        "lambda",
        "sqs",
        "api_gateway",
        "aurora",
        "elasticache",
    ):
        assert name in lines
    assert all(isinstance(v, float) and v >= 0 for v in lines.values())
    assert set(money["whatsapp_by_country"]) >= CONTRACT_COUNTRIES
    assert isinstance(report["messages_per_learner_day"], float)
    assert (report["seed"], report["learners"], report["days"]) == (7, 2, 1)


def test_every_model_the_tutor_called_has_its_line(report: dict[str, Any]) -> None:
    """One LLM line per model that answered (from llm_usage), each with a cost, a call count and a cache
    hit rate between 0 and 1; conversation turns ran, so at least two models answered (the intent
    classifier and the partner)."""
    lines = report["per_learner_month_usd"]["lines"]
    models = report["llm_by_model"]
    assert len(models) >= 2
    for model, figures in models.items():
        assert lines[f"llm:{model}"] > 0
        assert figures["calls_per_learner_day"] > 0
        assert 0.0 <= figures["cache_hit_rate"] <= 1.0
    assert {k for k in lines if k.startswith("llm:")} == {f"llm:{m}" for m in models}


def test_messages_per_learner_day_counts_what_the_learner_received(report: dict[str, Any]) -> None:
    """50 messages in (25 typed, 25 voice), at least one reply each, and the received figure is the sum
    of the outbound categories, not the inbound count."""
    assert report["inbound_per_learner_day"] == 50.0
    received = report["messages_per_learner_day"]
    assert 50.0 <= received <= 150.0
    assert received == pytest.approx(sum(report["outbound_by_category_per_learner_day"].values()), abs=0.05)
    assert report["voice"]["seconds_per_learner_day"] == pytest.approx(480.0, abs=1.0)
    assert report["voice"]["clips_per_learner_day"] == 25.0


def test_model_notes_are_spoken_through_the_tutors_speech_cache(report: dict[str, Any]) -> None:
    """Each learner's model voice notes (one exercise clip in three: 4 of 12) are asked of the tutor's own
    cached speaker, so Polly's line is priced from real requests; the shared phrases' share is smaller
    with more learners, and the hit rate is a fraction of what was asked."""
    from espaluz.voice.drills import PHRASES

    shortest = min(len(p) for group in PHRASES.values() for p in group)
    measured = report["measured"]
    assert measured["speech_chars_asked_per_learner_day"] >= 4 * shortest
    assert 0.0 <= measured["speech_cache_hit_rate"] < 1.0
    at = report["per_learner_month_usd"]["at_learners"]
    assert 0 < at["100000"]["lines"]["polly"] <= at["1000"]["lines"]["polly"]


def test_whatsapp_fees_follow_the_rule_in_the_settings(report: dict[str, Any]) -> None:
    """Replies in the window are free under the July 2025 rules; billed at the utility rate under the
    October 2026 ones (the default), so Spain (the dearest utility rate) costs more than Colombia."""
    money = report["per_learner_month_usd"]
    by_country = money["whatsapp_by_country"]
    assert report["whatsapp_service_billed"] is True
    assert by_country["ES"] > by_country["CO"] > 0
    free = money["whatsapp_by_country_service_free"]
    assert all(free[c] <= by_country[c] for c in CONTRACT_COUNTRIES)


def test_the_table_names_every_line(report: dict[str, Any]) -> None:
    """The human-readable output lists each line and the total at both sizes."""
    table = render_table(report)
    for name in report["per_learner_month_usd"]["lines"]:
        assert name in table
    assert "total excluding WhatsApp" in table
    assert "at 100,000" in table


def test_the_command_prints_one_json_object() -> None:
    """``espaluz costs --simulate --json`` prints exactly one JSON object (the contract), not one per line
    like the stored-usage report; a bad size is refused."""
    from espaluz.llm.commands import costs

    runner = CliRunner()
    result = runner.invoke(costs, ["--simulate", "--learners", "1", "--days", "1", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["learners"] == 1
    assert "total_excl_whatsapp" in document["per_learner_month_usd"]
    refused = runner.invoke(costs, ["--simulate", "--learners", "0"])
    assert refused.exit_code != 0
