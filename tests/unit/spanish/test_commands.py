"""The CLI commands' exact JSON shapes (click's CliRunner, no subprocess)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from espaluz.spanish import commands


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_conjugate_json_one_object_per_verb() -> None:
    result = CliRunner().invoke(commands.conjugate, ["tener", "levantarse", "--json"])
    assert result.exit_code == 0, result.output
    objs = lines(result.output)
    assert [o["verb"] for o in objs] == ["tener", "levantarse"]
    tener = objs[0]
    assert set(tener) == {"verb", "forms", "nonfinite"}
    assert tener["nonfinite"] == {"infinitive": "tener", "gerund": "teniendo", "participle": "tenido"}
    forms = tener["forms"]
    assert forms["indicative.present"] == {
        "1s": "tengo", "2s": "tienes", "3s": "tiene", "1p": "tenemos", "2p": "tenéis", "3p": "tienen",
        "vos": "tenés",
    }  # fmt: skip
    assert forms["subjunctive.imperfect"]["1s"] == ["tuviera", "tuviese"]
    assert forms["imperative.affirmative"]["2s"] == "ten"
    assert "1s" not in forms["imperative.affirmative"]
    assert len(forms) == 18
    assert "\\u" not in result.output  # ensure_ascii=False
    assert "tenéis" in result.output


def test_conjugate_table_and_bad_verb() -> None:
    ok = CliRunner().invoke(commands.conjugate, ["hablar"])
    assert ok.exit_code == 0
    assert "indicative.present" in ok.output
    assert "hablo" in ok.output
    bad = CliRunner().invoke(commands.conjugate, ["casa"])
    assert bad.exit_code != 0
    assert "infinitive" in bad.output


def test_g2p_json_shape() -> None:
    result = CliRunner().invoke(commands.g2p, ["perro", "México", "--json"])
    assert result.exit_code == 0, result.output
    perro, mexico = lines(result.output)
    assert perro == {"word": "perro", "phones": ["p", "e", "r", "o"], "syllables": ["pe", "rro"], "stress": 0}
    assert mexico["phones"] == ["m", "e", "x", "i", "k", "o"]
    assert mexico["stress"] == 0


def test_g2p_dialect_option() -> None:
    result = CliRunner().invoke(commands.g2p, ["cielo", "--dialect", "spain", "--json"])
    assert lines(result.output)[0]["phones"] == ["θ", "j", "e", "l", "o"]
    result = CliRunner().invoke(commands.g2p, ["coche", "--json"])
    assert lines(result.output)[0]["phones"] == ["k", "o", "t͡ʃ", "e"]
    plain = CliRunner().invoke(commands.g2p, ["casa"])
    assert "CA-sa" in plain.output


def test_check_json_with_argument() -> None:
    """The JSON is the full review: corrected text, clean flag, every fix with both reasons."""
    result = CliRunner().invoke(commands.check, ["Yo tiene un perro. El casa blanco es mía.", "--json"])
    assert result.exit_code == 0, result.output
    (obj,) = lines(result.output)
    assert obj["text"] == "Yo tiene un perro. El casa blanco es mía."
    assert obj["corrected"] == "Yo tengo un perro. La casa blanca es mía."
    assert obj["clean"] is True
    assert obj["corrections"][0] == {
        "start": 3,
        "end": 8,
        "wrong": "tiene",
        "suggestion": "tengo",
        "rule": "subject_verb",
        "why_en": obj["corrections"][0]["why_en"],
        "why_es": obj["corrections"][0]["why_es"],
    }
    assert [c["suggestion"] for c in obj["corrections"]] == ["tengo", "La", "blanca"]
    assert all(c["why_es"] and c["why_en"] for c in obj["corrections"])


def test_check_reads_stdin_lines() -> None:
    result = CliRunner().invoke(commands.check, ["--json"], input="El casa es grande.\nTengo un perro.\n")
    assert result.exit_code == 0, result.output
    first, second = lines(result.output)
    assert first["text"] == "El casa es grande."
    assert [c["suggestion"] for c in first["corrections"]] == ["La"]
    assert second == {
        "text": "Tengo un perro.",
        "corrected": "Tengo un perro.",
        "clean": True,
        "corrections": [],
    }


def test_check_table_in_spanish() -> None:
    """The table output shows the reasons in the chosen language and the corrected text."""
    result = CliRunner().invoke(commands.check, ["Espero que vienes.", "--language", "es"])
    assert result.exit_code == 0, result.output
    assert "'vienes' → 'vengas'" in result.output
    assert "presente de subjuntivo" in result.output
    assert "= Espero que vengas." in result.output


def test_commands_registered_in_main_cli() -> None:
    from espaluz.cli import main

    result = CliRunner().invoke(main, ["conjugate", "ser", "--json"])
    assert result.exit_code == 0, result.output
    assert lines(result.output)[0]["forms"]["indicative.present"]["vos"] == "sos"
