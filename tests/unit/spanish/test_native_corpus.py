"""False flags of the correction engine on a correct native corpus.

``tests/unit/spanish/corpus/*.txt`` holds edited, grammatically correct Spanish written for espaluz, one
register per file (news, chat, recipes, sports, travel, opinion, stories), one paragraph per line, rich in
the structures the rules look at (tricky genders, predicate adjectives, gustar, personal *a*, le/les,
por/para, si-clauses, indirect questions, subjunctives, diacritic pairs), from Spain and Latin America.
Every flag on it is a false flag: these tests assert ``corrections.check`` finds nothing in any sentence,
and on failure print each flag (rule, original → suggestion, sentence). They also guard the corpus itself
(size per register, no empty or duplicated paragraphs) because ``bench/bench_spanish_rules.py`` measures
false flags per 1,000 sentences on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from espaluz.spanish.corrections import check
from espaluz.spanish.review import sentence_spans

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
REGISTERS = ("news", "chat", "recipes", "sports", "travel", "opinion", "stories")
MIN_SENTENCES = 1400
MIN_PER_REGISTER = 180


def paragraphs(register: str) -> list[str]:
    """The paragraphs (non-empty lines) of one register's file."""
    text = (CORPUS_DIR / f"{register}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def sentences(register: str) -> list[str]:
    """The sentences of one register, split as the reviewer splits a message."""
    out: list[str] = []
    for para in paragraphs(register):
        out.extend(para[s:e].strip() for s, e in sentence_spans(para) if para[s:e].strip())
    return out


def test_every_register_file_exists_and_nothing_else_is_there() -> None:
    assert sorted(p.stem for p in CORPUS_DIR.glob("*.txt")) == sorted(REGISTERS)


@pytest.mark.parametrize("register", REGISTERS)
def test_register_is_big_enough_and_clean_text(register: str) -> None:
    paras = paragraphs(register)
    assert len(sentences(register)) >= MIN_PER_REGISTER
    assert len(set(paras)) == len(paras), "a paragraph is duplicated"
    for para in paras:
        assert "  " not in para, para
        assert "\t" not in para, para
        assert para[-1] in ".!?…", f"paragraph does not end a sentence: {para[-40:]}"


def test_corpus_total_size() -> None:
    assert sum(len(sentences(r)) for r in REGISTERS) >= MIN_SENTENCES


@pytest.mark.parametrize("register", REGISTERS)
def test_no_correction_on_correct_native_text(register: str) -> None:
    flags = [
        f"{c.rule}: {c.original!r} → {c.suggestion!r} in: {sent}"
        for sent in sentences(register)
        for c in check(sent)
    ]
    assert not flags, f"{len(flags)} false flag(s) on the {register} corpus:\n" + "\n".join(flags)
