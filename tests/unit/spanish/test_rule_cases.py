"""Every rule's case file, line by line: ``tests/unit/spanish/cases/<rule>.tsv``.

Format (UTF-8, tab-separated, ``#`` comments and blank lines ignored): ``kind<TAB>sentence<TAB>corrected``.
``ERR``: ``check`` must yield a correction whose ``rule`` is the file's name, and ``review(sentence)
.corrected`` must equal ``corrected`` exactly. ``OK``: no rule at all may flag the sentence; ``corrected``
is empty (or absent). Each file must have at least 30 ERR and 30 OK lines. A malformed line (unknown kind,
wrong number of fields, an ERR without its correction, an ERR whose correction is the sentence itself, an OK
with one) is a failure naming the file and line, never a silently skipped case. Tests are parametrised by
``<rule>:<line>`` so a failing case reads at a glance. ``bench/bench_spanish_rules.py`` reuses
:func:`load_cases` for per-rule precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from espaluz.spanish.corrections import check
from espaluz.spanish.review import review

CASES_DIR = Path(__file__).resolve().parent / "cases"
MIN_PER_KIND = 30
KINDS = ("ERR", "OK")


class CaseFileError(ValueError):
    """A case file line is malformed (the message names the file and line)."""


@dataclass(frozen=True)
class Case:
    rule: str
    line: int
    kind: str
    sentence: str
    corrected: str

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.line}"


def parse_cases(path: Path) -> list[Case]:
    """The cases of one file; raises :class:`CaseFileError` at the first malformed line."""
    rule = path.stem
    out: list[Case] = []
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = raw.split("\t")
        where = f"{path.name}:{no}"
        if len(fields) == 2:
            fields.append("")
        if len(fields) != 3:
            raise CaseFileError(f"{where}: expected 3 tab-separated fields, got {len(fields)}: {raw!r}")
        kind, sentence, corrected = (f.strip() for f in fields)
        if kind not in KINDS:
            raise CaseFileError(f"{where}: kind must be ERR or OK, got {kind!r}")
        if not sentence:
            raise CaseFileError(f"{where}: empty sentence")
        if kind == "ERR" and not corrected:
            raise CaseFileError(f"{where}: ERR line without its corrected sentence")
        if kind == "ERR" and corrected == sentence:
            raise CaseFileError(f"{where}: ERR line whose corrected sentence is the sentence itself")
        if kind == "OK" and corrected:
            raise CaseFileError(f"{where}: OK line with a corrected sentence {corrected!r}")
        out.append(Case(rule, no, kind, sentence, corrected))
    return out


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.tsv"))


def load_cases() -> tuple[list[Case], dict[str, str]]:
    """All well-formed files' cases, and for each malformed file its error (reported by a test)."""
    cases: list[Case] = []
    errors: dict[str, str] = {}
    for path in case_files():
        try:
            cases.extend(parse_cases(path))
        except CaseFileError as exc:
            errors[path.stem] = str(exc)
    return cases, errors


_CASES, _ERRORS = load_cases()
_RULES = [p.stem for p in case_files()]


@pytest.mark.parametrize("rule", _RULES)
def test_case_file_is_well_formed_and_big_enough(rule: str) -> None:
    assert rule not in _ERRORS, _ERRORS.get(rule)
    mine = [c for c in _CASES if c.rule == rule]
    n_err = sum(c.kind == "ERR" for c in mine)
    n_ok = sum(c.kind == "OK" for c in mine)
    assert n_err >= MIN_PER_KIND, f"{rule}.tsv has {n_err} ERR lines (need {MIN_PER_KIND})"
    assert n_ok >= MIN_PER_KIND, f"{rule}.tsv has {n_ok} OK lines (need {MIN_PER_KIND})"
    dupes = {c.sentence for c in mine if sum(d.sentence == c.sentence for d in mine) > 1}
    assert not dupes, f"{rule}.tsv repeats: {sorted(dupes)}"


@pytest.mark.parametrize("case", [c for c in _CASES if c.kind == "ERR"], ids=lambda c: c.id)
def test_err_case_is_flagged_and_fully_corrected(case: Case) -> None:
    found = check(case.sentence)
    rules = [c.rule for c in found]
    assert case.rule in rules, f"{case.rule} did not flag {case.sentence!r} (flags: {rules})"
    got = review(case.sentence).corrected
    assert got == case.corrected, f"review gave {got!r}, expected {case.corrected!r}"


@pytest.mark.parametrize("case", [c for c in _CASES if c.kind == "OK"], ids=lambda c: c.id)
def test_ok_case_is_not_flagged(case: Case) -> None:
    flags = [f"{c.rule}: {c.original!r} → {c.suggestion!r}" for c in check(case.sentence)]
    assert not flags, f"false flag(s) on {case.sentence!r}: {flags}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ERR\tLa problema es difícil.", "without its corrected"),
        ("ERR La problema es difícil. El problema es difícil.", "3 tab-separated fields"),
        ("OK\tEl problema es difícil.\tEl problema.", "OK line with a corrected"),
        ("BAD\tEl problema es difícil.\t", "kind must be ERR or OK"),
        ("ERR\tEl día.\tEl día.", "the sentence itself"),
        ("OK\t\t", "empty sentence"),
        ("ERR\ta\tb\tc", "got 4"),
    ],
)
def test_malformed_line_fails_loudly_with_its_place(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "agreement.tsv"
    path.write_text(f"# comment\nOK\tEl día es largo.\n\n{line}\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=message) as info:
        parse_cases(path)
    assert "agreement.tsv:4" in str(info.value)


def test_parser_reads_kinds_comments_and_optional_empty_field(tmp_path: Path) -> None:
    path = tmp_path / "gustar.tsv"
    path.write_text(
        "# header\nERR\tMe gusta los perros.\tMe gustan los perros.\nOK\tMe gustan los perros.\t\n"
        "OK\tNos gusta el mar.\n",
        encoding="utf-8",
    )
    cases = parse_cases(path)
    assert [(c.rule, c.line, c.kind) for c in cases] == [
        ("gustar", 2, "ERR"),
        ("gustar", 3, "OK"),
        ("gustar", 4, "OK"),
    ]
    assert cases[0].corrected == "Me gustan los perros."
    assert cases[1].corrected == ""
