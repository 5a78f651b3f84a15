"""``espaluz conjugate``, ``espaluz g2p`` and ``espaluz check`` (a full review of a text).

JSON output (``--json``) is one object per line, UTF-8 (``ensure_ascii=False``), so it can be
piped into ``jq`` or a test. Without ``--json`` the commands print short human-readable tables.
The heavy modules are imported inside each command, so listing commands stays cheap.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click


def _emit(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _cell(value: Any) -> str:
    return " / ".join(value) if isinstance(value, list) else str(value)


@click.command()
@click.argument("verbs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per verb, one per line.")
def conjugate(verbs: tuple[str, ...], as_json: bool) -> None:
    """Conjugate Spanish VERBS (infinitives, optionally pronominal: levantarse)."""
    from espaluz.spanish.conjugation import conjugate as run

    for verb in verbs:
        try:
            data = run(verb)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="VERB") from exc
        if as_json:
            _emit(data)
            continue
        nf = data["nonfinite"]
        click.echo(f"{data['verb']}  ({_cell(nf['gerund'])}, {_cell(nf['participle'])})")
        for tense, persons in data["forms"].items():
            row = "  ".join(f"{p}: {_cell(f)}" for p, f in persons.items()) or "-"
            click.echo(f"  {tense:<30} {row}")


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--dialect", type=click.Choice(["latam", "spain"]), default="latam", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per word, one per line.")
def g2p(words: tuple[str, ...], dialect: str, as_json: bool) -> None:
    """Transcribe WORDS into IPA (one phone per item), with syllables and stress."""
    from espaluz.spanish.phonetics import g2p as run

    for word in words:
        try:
            p = run(word, dialect)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="WORD") from exc
        if as_json:
            _emit(p.to_json())
        else:
            sylls = "-".join(s.upper() if i == p.stress else s for i, s in enumerate(p.syllables))
            click.echo(f"{word}\t[{' '.join(p.phones)}]\t{sylls}")


@click.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text, one per line.")
@click.option(
    "--language",
    type=click.Choice(["en", "es"]),
    default="en",
    show_default=True,
    help="Language of the explanations in the table output (JSON has both).",
)
def check(text: str | None, as_json: bool, language: str) -> None:
    """Review TEXT for frequent learner errors (or each line of stdin when TEXT is omitted): every
    correction applied, the corrected text, and whether the engine finds nothing left in it."""
    from espaluz.spanish.review import review

    texts = [text] if text is not None else [line.rstrip("\n") for line in sys.stdin]
    for t in texts:
        result = review(t)
        if as_json:
            _emit(
                {
                    "text": t,
                    "corrected": result.corrected,
                    "clean": result.clean,
                    "corrections": [f.to_json() for f in result.corrections],
                }
            )
            continue
        click.echo(t)
        if not result.corrections:
            click.echo("  (no corrections)")
            continue
        for f in result.corrections:
            click.echo(f"  {f.start}-{f.end} {f.wrong!r} → {f.suggestion!r} [{f.rule}] {f.why(language)}")
        mark = "" if result.clean else "  (not clean: the engine still finds errors)"
        click.echo(f"  = {result.corrected}{mark}")
