"""Quality and speed of the correction rules (run: ``.venv/bin/python bench/bench_spanish_rules.py``).

Prints a table and, last, one JSON line with every figure (issue 18):

- per rule precision and recall on the case files ``tests/unit/spanish/cases/<rule>.tsv``. A flag of
  rule R on a case sentence is one (sentence, R) pair. It is right when the sentence is an ERR line of
  R, or an ERR line of another rule that ``review`` corrects exactly as expected (R helped); it is wrong
  on an OK line, or on an ERR line that ``review`` gets wrong. Precision = right / all flags of R. An ERR
  line of R is recalled when R flags it and ``review`` gives exactly the expected sentence;
- false flags per 1,000 sentences of the correct native corpus ``tests/unit/spanish/corpus/*.txt``, per
  rule and in total (any flag there is false);
- article-flip recall: each definite or indefinite article of the corpus placed right before a noun the
  lexicon knows (``nouns.noun_info``, which reads the lexicon: gender ``m`` or ``f``, never guessed) has
  its gender flipped (*la*→*el*, *unos*→*unas*...), one flip per mutated sentence, except where *la*, *los*
  or *las* (before or after the flip) precede a form that is also a verb (*los cuento*: a clitic, correct
  either way); figures are how often ``review`` restores the original sentence exactly, and how often
  ``check`` flags anything at all, apart for nouns with an other-gender pair (*niño/niña*, *vecino/vecina*),
  whose article the rules leave alone by design (*las niños*: *los niños* or *las niñas*?);
- ``check`` latency p50/p95/p99 on 30-word messages cut from the corpus, next to a baseline measured on
  the same messages in the same run (``str.split`` then ``lower`` on each word), with the p50 ratio.

No target is asserted here: the tests own correctness, this prints figures to compare between runs.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_spanish import measure, percentiles  # noqa: E402
from espaluz.spanish.corrections import check  # noqa: E402
from espaluz.spanish.nouns import noun_info, other_gender  # noqa: E402
from espaluz.spanish.review import review, sentence_spans  # noqa: E402
from espaluz.spanish.verb_index import readings  # noqa: E402
from tests.unit.spanish.test_rule_cases import Case, load_cases  # noqa: E402

CORPUS_DIR = ROOT / "tests" / "unit" / "spanish" / "corpus"
MESSAGE_WORDS = 30
FLIP = {
    "el": "la",
    "la": "el",
    "los": "las",
    "las": "los",
    "un": "una",
    "una": "un",
    "unos": "unas",
    "unas": "unos",
}
_CLITICS = frozenset({"la", "las", "los"})
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def corpus_sentences() -> list[str]:
    out: list[str] = []
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        for para in path.read_text(encoding="utf-8").splitlines():
            out.extend(para[s:e].strip() for s, e in sentence_spans(para) if para[s:e].strip())
    return out


def case_scores(cases: list[Case]) -> dict[str, dict[str, float]]:
    """Per rule: flags, right flags, precision, ERR lines, recalled, recall."""
    right: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    recalled: Counter[str] = Counter()
    errs: Counter[str] = Counter()
    for case in cases:
        flagged = {c.rule for c in check(case.sentence)}
        exact = case.kind == "ERR" and review(case.sentence).corrected == case.corrected
        if case.kind == "ERR":
            errs[case.rule] += 1
            recalled[case.rule] += case.rule in flagged and exact
        for rule in flagged:
            flags[rule] += 1
            right[rule] += case.kind == "ERR" and (rule == case.rule or exact)
    out: dict[str, dict[str, float]] = {}
    for rule in sorted(set(flags) | set(errs)):
        out[rule] = {
            "flags": flags[rule],
            "right": right[rule],
            "precision": right[rule] / flags[rule] if flags[rule] else float("nan"),
            "err_lines": errs[rule],
            "recalled": recalled[rule],
            "recall": recalled[rule] / errs[rule] if errs[rule] else float("nan"),
        }
    return out


def corpus_false_flags(sentences: list[str]) -> tuple[Counter[str], list[str]]:
    per_rule: Counter[str] = Counter()
    examples: list[str] = []
    for sent in sentences:
        for c in check(sent):
            per_rule[c.rule] += 1
            examples.append(f"{c.rule}: {c.original} → {c.suggestion} | {sent}")
    return per_rule, examples


def _known_gender(word: str) -> tuple[str, bool] | None:
    """(``m``/``f``, paired) for a noun form the engine's lexicon table knows (not guessed, not ``mf``);
    ``paired``: the noun has a counterpart of the other gender (*niño/niña*), where the rules leave the
    article alone by design (*la niños* may mean *las niñas*)."""
    info = noun_info(word)
    if info is None or info.gender not in ("m", "f"):
        return None
    return info.gender, other_gender(info.lemma) is not None


def article_flips(sentences: list[str]) -> list[tuple[str, str, bool]]:
    """(original, mutated, paired) triples: one article before a known noun flipped per mutated sentence."""
    out: list[tuple[str, str, bool]] = []
    for sent in sentences:
        tokens = list(_WORD.finditer(sent))
        for tok, nxt in itertools.pairwise(tokens):
            art = tok.group().lower()
            known = _known_gender(nxt.group().lower()) if art in FLIP else None
            if known is None:
                continue
            if sent[tok.end() : nxt.start()] != " ":
                continue  # "la (nueva) casa", "el, dijo": not article + noun
            if {art, FLIP[art]} & _CLITICS and readings(nxt.group().lower()):
                continue  # "los cuento", "la cambio": a clitic + verb reading, correct either way
            flipped = FLIP[art]
            if tok.group()[0].isupper():
                flipped = flipped.capitalize()
            out.append((sent, sent[: tok.start()] + flipped + sent[tok.end() :], known[1]))
    return out


def messages(sentences: list[str], size: int = MESSAGE_WORDS) -> list[str]:
    """The corpus as consecutive messages of exactly ``size`` words."""
    stream = " ".join(sentences).split()
    return [" ".join(stream[i : i + size]) for i in range(0, len(stream) - size + 1, size)]


def main() -> None:
    t0 = time.perf_counter()
    check("La casa es bonita.")
    print(f"first check (lazy tables): {(time.perf_counter() - t0) * 1000:.0f} ms\n")

    cases, errors = load_cases()
    for rule, err in errors.items():
        print(f"skipped malformed case file {rule}.tsv: {err}")
    scores = case_scores(cases)
    print(
        f"{'rule':<16}{'flags':>7}{'right':>7}{'precision':>11}{'ERR lines':>11}{'recalled':>10}{'recall':>8}"
    )
    for rule, s in scores.items():
        print(
            f"{rule:<16}{s['flags']:>7.0f}{s['right']:>7.0f}{s['precision']:>11.3f}"
            f"{s['err_lines']:>11.0f}{s['recalled']:>10.0f}{s['recall']:>8.3f}"
        )

    sentences = corpus_sentences()
    per_rule, examples = corpus_false_flags(sentences)
    total = sum(per_rule.values())
    per_1000 = {rule: n * 1000 / len(sentences) for rule, n in sorted(per_rule.items())}
    print(
        f"\nnative corpus: {len(sentences)} sentences, {total} false flags = "
        f"{total * 1000 / len(sentences):.2f}/1,000"
    )
    for rule, rate in per_1000.items():
        print(f"  {rule:<16}{per_rule[rule]:>5}  {rate:6.2f}/1,000")
    for ex in examples[:20]:
        print(f"    {ex}")

    flips: dict[str, dict[str, float]] = {}
    missed_examples: list[str] = []
    all_flips = article_flips(sentences)
    for label, paired in (("unpaired", False), ("paired", True)):
        pairs = [(orig, mut) for orig, mut, p in all_flips if p is paired]
        missed = [mut for orig, mut in pairs if review(mut).corrected != orig]
        flagged = sum(bool(check(mut)) for _, mut in pairs)
        n = len(pairs) or 1
        flips[label] = {
            "mutated": len(pairs),
            "restored": (len(pairs) - len(missed)) / n,
            "flagged": flagged / n,
        }
        if not paired:
            missed_examples = missed
    print()
    for label, f in flips.items():
        what = "nouns with an other-gender pair (niño/niña)" if label == "paired" else "other nouns"
        print(
            f"article flips, {what}: {f['mutated']:.0f} mutated sentences; "
            f"restored exactly {f['restored']:.1%}, flagged {f['flagged']:.1%}"
        )
    for mut in missed_examples[:10]:
        print(f"    not restored: {mut}")

    msgs = messages(sentences)
    for m in msgs:
        check(m)
    nm = len(msgs)
    base = measure(lambda i: [w.lower() for w in msgs[i % nm].split()], 3 * nm)
    timed = measure(lambda i: check(msgs[i % nm]), 3 * nm)
    bp, cp = percentiles(base), percentiles(timed)
    ratio = cp[0] / bp[0] if bp[0] else float("inf")
    print(f"\n{nm} messages of {MESSAGE_WORDS} words, each timed 3 times")
    print(f"{'baseline split+lower':<24} p50 {bp[0]:9.1f} µs   p95 {bp[1]:9.1f} µs   p99 {bp[2]:9.1f} µs")
    print(f"{'check(message)':<24} p50 {cp[0]:9.1f} µs   p95 {cp[1]:9.1f} µs   p99 {cp[2]:9.1f} µs")
    print(f"check / baseline at p50: {ratio:.0f}×")

    print(
        json.dumps(
            {
                "rules": scores,
                "corpus_sentences": len(sentences),
                "corpus_false_flags": total,
                "corpus_false_flags_per_1000": total * 1000 / len(sentences),
                "corpus_false_flags_per_1000_by_rule": per_1000,
                "article_flips": flips,
                "check_us": {"p50": cp[0], "p95": cp[1], "p99": cp[2]},
                "baseline_us": {"p50": bp[0], "p95": bp[1], "p99": bp[2]},
                "check_over_baseline_p50": ratio,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
