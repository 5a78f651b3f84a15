"""The tutor's metrics as CloudWatch EMF lines (what CloudWatch parses), and what stays off cold paths.

Failures covered: a typo'd provider or status minting a new billed metric (dimension), personal data in
a metric line, metrics spamming the local stack's console, out-of-range scores, a missing SentTimestamp,
and heavy imports (boto3, Powertools Metrics) creeping into the webhook's cold start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from espaluz.ops import metrics


@pytest.fixture
def emf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("ESPALUZ_METRICS", "1")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "tutor")
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    return lines


def definition(line: dict[str, Any]) -> dict[str, Any]:
    (block,) = line["_aws"]["CloudWatchMetrics"]
    assert block["Namespace"] == "Espaluz"
    return dict(block)


def test_turn_latency_and_queue_age(emf: Any) -> None:
    metrics.turn_latency(1234.5, route="drill")
    metrics.queue_age(-3)  # clock skew never reports a negative age
    turn, age = emf()
    assert turn["TurnLatency"] == [1234.5]
    assert turn["route"] == "drill"  # a property, not a dimension
    assert definition(turn)["Dimensions"] == [["service"]]
    assert turn["service"] == "tutor"
    assert age["QueueAge"] == [0.0]
    assert definition(age)["Metrics"] == [{"Name": "QueueAge", "Unit": "Seconds"}]


def test_provider_calls_carry_latency_tokens_and_errors_per_provider(emf: Any) -> None:
    metrics.provider_call("groq", 180.0, input_tokens=120, output_tokens=40, model="llama")
    metrics.provider_call("antropic", 900.0, ok=False)  # typo: must not create a new dimension value
    good, typo = emf()
    assert good["provider"] == "groq"
    assert good["ProviderInputTokens"] == [120.0]
    assert good["ProviderOutputTokens"] == [40.0]
    assert good["ProviderErrors"] == [0.0]
    assert good["model"] == "llama"
    assert sorted(definition(good)["Dimensions"][0]) == ["provider", "service"]
    assert typo["provider"] == "other"
    assert typo["ProviderErrors"] == [1.0]
    assert "ProviderInputTokens" not in typo


def test_sends_by_status_and_pronunciation_scores(emf: Any) -> None:
    metrics.send_status("sent")
    metrics.send_status("+15551234567")  # never a phone number as a dimension value
    metrics.pronunciation_score(130.0, kind="phoneme")
    sent, odd, score = emf()
    assert sent["status"] == "sent"
    assert sent["Sends"] == [1.0]
    assert odd["status"] == "other"
    assert "15551234567" not in json.dumps(odd)
    assert score["PronunciationScore"] == [100.0]
    assert score["kind"] == "phoneme"


def test_queue_age_of_an_sqs_record() -> None:
    assert metrics.queue_age_of({"SentTimestamp": "1700000000000"}, now=1700000002.5) == 2.5
    assert metrics.queue_age_of({}, now=1700000002.5) == 0.0


def test_silent_outside_lambda_unless_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ESPALUZ_METRICS", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    metrics.turn_latency(5.0)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "espaluz-dev-tutor")
    assert metrics.enabled()
    monkeypatch.setenv("ESPALUZ_METRICS", "0")
    assert not metrics.enabled()


def test_webhook_cold_import_stays_lean() -> None:
    """Importing the webhook handler (its cold start) loads no boto3, no Powertools Parameters and none
    of espaluz.ops but its small logging helper: secrets and metrics are imported on first use only.
    (Powertools' package __init__ imports its Metrics and Tracer modules whatever one imports from it,
    so those are not checked.)"""
    code = (
        "import sys, json, functions.webhook.handler, espaluz.config; print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Powertools' user-agent hook imports the bare ``botocore`` package (1 ms); its clients are the cost.
    heavy = (
        "boto3",
        "botocore.",
        "espaluz.ops.secrets",
        "espaluz.ops.metrics",
        "espaluz.ops.dlq",
        "espaluz.ops.templates",
        "aws_lambda_powertools.utilities.parameters",
        "aws_xray_sdk",
    )
    assert not [m for m in json.loads(out) if m.startswith(heavy)]
