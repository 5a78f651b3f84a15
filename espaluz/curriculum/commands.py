"""``espaluz curriculum`` (the units and their figures) and ``espaluz exercise`` (one generated exercise).

With ``--json`` each prints one JSON object per line (UTF-8), the contract outside checks read:
``{"level","unit","title","can_do":[...],"grammar":[ids],"vocabulary":N,"exercises":{TYPE: N}}`` per unit,
and ``{"type","prompt","accepted":[...],"unit","grammar", ...}`` for an exercise (``prompt`` in Spanish;
``instruction_en``, ``options``, ``say`` and ``skill`` come with it).
"""

from __future__ import annotations

import json
from typing import Any

import click

_LEVELS = click.Choice(["A1", "A2", "B1", "B2"], case_sensitive=False)


def _emit(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


@click.command()
@click.option("--level", type=_LEVELS, default=None, help="Only the units of this CEFR level.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per unit, one per line.")
def curriculum(level: str | None, as_json: bool) -> None:
    """The course's units: goals, grammar points, vocabulary and exercises available."""
    from espaluz.curriculum.exercises import available
    from espaluz.curriculum.syllabus import load

    syl = load()
    for unit in syl.units:
        if level and unit.level != level.upper():
            continue
        counts = available(syl, unit)
        row = {
            "level": unit.level,
            "unit": unit.unit,
            "title": unit.title["es"],
            "title_en": unit.title["en"],
            "themes": list(unit.themes),
            "can_do": [c["es"] for c in unit.can_do],
            "grammar": list(unit.grammar),
            "vocabulary": len(syl.vocabulary.get(unit.unit, ())),
            "exercises": counts,
        }
        if as_json:
            _emit(row)
        else:
            total = sum(counts.values())
            click.echo(f"{unit.unit:6} {unit.title['es'][:40]:40} {len(unit.grammar):2} puntos "
                       f"{row['vocabulary']:4} palabras {total:5} ejercicios")  # fmt: skip


@click.command()
@click.option("--level", type=_LEVELS, required=True, help="CEFR level of the exercise.")
@click.option("--type", "kind", default=None, help="cloze, choice, vocabulary, translation, listening, "
              "word_order or speaking (default: any).")  # fmt: skip
@click.option("--seed", type=int, default=None, help="Seed: the same seed gives the same exercise.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def exercise(level: str, kind: str | None, seed: int | None, as_json: bool) -> None:
    """One exercise generated from the curriculum, with every answer its checker accepts."""
    from espaluz.curriculum.exercises import TYPES, generate

    if kind is not None and kind not in TYPES:
        raise click.BadParameter(f"expected one of {', '.join(TYPES)}", param_hint="--type")
    try:
        ex = generate(level.upper(), kind, seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    row = {
        "type": ex.type,
        "prompt": ex.prompt,
        "accepted": list(ex.accepted),
        "unit": ex.unit,
        "grammar": ex.grammar,
        "instruction_en": ex.instruction["en"],
        "options": list(ex.options),
        "say": ex.say,
        "skill": ex.skill,
    }
    if as_json:
        _emit(row)
    else:
        click.echo(f"[{ex.unit} · {ex.type}] {ex.prompt}")
        click.echo("→ " + " | ".join(ex.accepted))
