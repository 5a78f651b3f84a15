"""Conjugation of any Spanish verb: every simple and compound tense, voseo, pronominal verbs.

Why not an existing conjugation package? The ones we evaluated either download or train a model
on first use (impossible on Lambda's read-only filesystem, and seconds of cold start), pin heavy
dependencies we do not otherwise carry, or get the traps a tutor is judged on wrong (*rio*/*rió*
under the 2010 orthography, *prevés*/*prevén*, *bendeciré*, *yazgo*, *irgo/yergo*, *satisfaz*,
*averigüe*, *levántate*/*no te levantes*). This module is pure standard library: a table of
regular endings, the irregularities in :mod:`espaluz.spanish.verb_lexicon`, and the accent rules
in :mod:`espaluz.spanish.orthography` (which re-place written accents after prefixes, clitics and
monosyllables, so *detén*, *sonrió*, *vestíos*, *levantémonos* and *hui* come out right).

Public API:
- :func:`conjugate` → the JSON-ready dict the CLI prints
  (``{"verb", "forms": {"MOOD.TENSE": {person: FORM}}, "nonfinite": {...}}``; FORM is a string, or a
  list when several forms are standard, most common first).
- :func:`conjugate_table` → the cached, typed :class:`Conjugation`.
- :func:`conjugate_form` → one form (the most common) for the tutor.

Persons are ``1s 2s 3s 1p 2p 3p`` plus ``vos`` where voseo has its own form (indicative and
subjunctive present, both imperatives); elsewhere *vos* takes the *tú* form, which
:func:`conjugate_form` returns for ``"vos"``. Imperatives have no ``1s``; negative imperatives
include *no* (*no te levantes*). Unknown verbs follow the regular model of their ending, with the
spelling changes the ending implies (*-car* → *-qué*, *-uir* → *-uyo*, vowel + *-cer* → *-zco*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from espaluz.spanish import verb_lexicon as lex
from espaluz.spanish.orthography import (
    accent_last_vowel,
    add_enclitic,
    add_prefix,
    normalize_accent,
    strip_accents,
)

Forms = tuple[str, ...]
Table = dict[str, dict[str, Forms]]

PERSONS: tuple[str, ...] = ("1s", "2s", "3s", "1p", "2p", "3p")
IMPERATIVE_PERSONS: tuple[str, ...] = ("2s", "3s", "1p", "2p", "3p")
# How a person key reads to a learner (one table for drills, corrections and the tutor's prompts).
PERSON_PRONOUNS: dict[str, str] = {
    "1s": "yo",
    "2s": "tú",
    "3s": "él/ella/usted",
    "1p": "nosotros",
    "2p": "vosotros",
    "3p": "ellos/ustedes",
    "vos": "vos",
}
TENSES: tuple[str, ...] = (
    "indicative.present",
    "indicative.preterite",
    "indicative.imperfect",
    "indicative.future",
    "indicative.present_perfect",
    "indicative.pluperfect",
    "indicative.future_perfect",
    "indicative.past_anterior",
    "conditional.present",
    "conditional.perfect",
    "subjunctive.present",
    "subjunctive.imperfect",
    "subjunctive.future",
    "subjunctive.present_perfect",
    "subjunctive.pluperfect",
    "subjunctive.future_perfect",
    "imperative.affirmative",
    "imperative.negative",
)
COMPOUND_AUX: Mapping[str, str] = {
    "indicative.present_perfect": "indicative.present",
    "indicative.pluperfect": "indicative.imperfect",
    "indicative.future_perfect": "indicative.future",
    "indicative.past_anterior": "indicative.preterite",
    "conditional.perfect": "conditional.present",
    "subjunctive.present_perfect": "subjunctive.present",
    "subjunctive.pluperfect": "subjunctive.imperfect",
    "subjunctive.future_perfect": "subjunctive.future",
}
_STRESSED = frozenset({"1s", "2s", "3s", "3p"})
_CLITICS: Mapping[str, str] = {
    "1s": "me",
    "2s": "te",
    "3s": "se",
    "1p": "nos",
    "2p": "os",
    "3p": "se",
    "vos": "te",
}
_KEEP_ACCENT = frozenset({"dé", "sé"})
_VERB_RE = re.compile(r"^[a-zñáéíóúü]*(?:ar|er|ir|ír)(?:se)?$")

_ENDINGS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "ar": {
        "present": ("o", "as", "a", "amos", "áis", "an", "ás"),
        "preterite": ("é", "aste", "ó", "amos", "asteis", "aron"),
        "imperfect": ("aba", "abas", "aba", "ábamos", "abais", "aban"),
        "subj": ("e", "es", "e", "emos", "éis", "en", "és"),
    },
    "er": {
        "present": ("o", "es", "e", "emos", "éis", "en", "és"),
        "preterite": ("í", "iste", "ió", "imos", "isteis", "ieron"),
        "imperfect": ("ía", "ías", "ía", "íamos", "íais", "ían"),
        "subj": ("a", "as", "a", "amos", "áis", "an", "ás"),
    },
    "ir": {
        "present": ("o", "es", "e", "imos", "ís", "en", "ís"),
        "preterite": ("í", "iste", "ió", "imos", "isteis", "ieron"),
        "imperfect": ("ía", "ías", "ía", "íamos", "íais", "ían"),
        "subj": ("a", "as", "a", "amos", "áis", "an", "ás"),
    },
}
_FUTURE = ("é", "ás", "á", "emos", "éis", "án")
_CONDITIONAL = ("ía", "ías", "ía", "íamos", "íais", "ían")
_STRONG_PRETERITE = ("e", "iste", "o", "imos", "isteis", "ieron")
_CHANGES_STRONG: Mapping[str, tuple[str, str]] = {
    "ie": ("e", "ie"),
    "ue": ("o", "ue"),
    "i": ("e", "i"),
    "ie-i": ("e", "ie"),
    "ue-u": ("o", "ue"),
    "u-ue": ("u", "ue"),
    "i-ie": ("i", "ie"),
    "o-hue": ("o", "hue"),
    "e-ye": ("e", "ye"),
}
_CHANGES_WEAK: Mapping[str, tuple[str, str]] = {"i": ("e", "i"), "ie-i": ("e", "i"), "ue-u": ("o", "u")}


@dataclass(frozen=True)
class Conjugation:
    """A verb's full paradigm. ``forms[tense][person]`` is a tuple, most common form first.

    Defective verbs simply lack persons (weather verbs keep ``3s``/``3p``) or have empty tenses.
    """

    verb: str
    forms: Mapping[str, Mapping[str, Forms]]
    nonfinite: Mapping[str, Forms]

    def form(self, tense: str, person: str) -> str:
        """The most common form; ``vos`` falls back to ``2s`` where voseo has no form of its own."""
        persons = self.forms[tense]
        if person == "vos" and "vos" not in persons:
            person = "2s"
        if person not in persons:
            raise ValueError(f"{self.verb} has no {tense} form for {person}")
        return persons[person][0]

    def to_json(self) -> dict[str, Any]:
        """The CLI/JSON shape: a single form is a string, alternatives a list."""

        def cell(forms: Forms) -> str | list[str]:
            return forms[0] if len(forms) == 1 else list(forms)

        return {
            "verb": self.verb,
            "forms": {t: {p: cell(fs) for p, fs in persons.items()} for t, persons in self.forms.items()},
            "nonfinite": {k: cell(v) for k, v in self.nonfinite.items()},
        }


# --------------------------------------------------------------------------------------------
# Stems and junctions


def _change(stem: str, change: str, weak: bool) -> str:
    """Apply a stem change to the last vowel of ``stem`` (``pens`` → ``piens``)."""
    table = _CHANGES_WEAK if weak else _CHANGES_STRONG
    if change not in table:
        return stem
    src, dst = table[change]
    idx = -1
    for i in range(len(stem) - 1, -1, -1):
        c = stem[i]
        if c in "aeiou":
            if c == "u" and i == len(stem) - 1 and i > 0 and stem[i - 1] in "gq":
                continue  # the silent u of segu-, distingu-
            idx = i
            break
    if idx < 0 or stem[idx] != src:
        return stem
    if dst == "ie" and idx == 0:
        dst = "ye"
    elif dst == "ue" and idx == 0:
        dst = "hue"
    elif dst == "ue" and stem[idx - 1] == "g":
        dst = "üe"  # avergüenzo, degüello
    return stem[:idx] + dst + stem[idx + 1 :]


def _accent_stem(stem: str) -> str:
    """Written accent on the stem's last i/u (envi → enví, reun → reún)."""
    for i in range(len(stem) - 1, -1, -1):
        if stem[i] in "iu":
            return stem[:i] + ("í" if stem[i] == "i" else "ú") + stem[i + 1 :]
        if stem[i] in "aeo":
            break
    return stem


@dataclass(frozen=True)
class _Model:
    inf: str
    cls: str
    stem: str
    spec: lex.VerbSpec
    y_insert: bool
    zc: bool

    def join(self, stem: str, ending: str) -> str:
        """Stem + ending with the junction rules (spelling, y, accents on í, ñ/ll absorption)."""
        if not ending:
            return stem
        first = ending[0]
        if self.y_insert and first in "aeoáéó":
            return stem.replace("ü", "u") + "y" + ending
        if self.cls != "ar" and stem and not stem.endswith(("gu", "qu")):
            last = stem[-1]
            if last in "aeouü" and first == "i":
                if len(ending) > 1 and ending[1] in "aeoó":
                    return stem.replace("ü", "u") + "y" + ending[1:]
                if last in "aeo":
                    return stem + "í" + ending[1:]
                return stem + ending
            if (
                (last == "ñ" or stem.endswith("ll"))
                and first == "i"
                and len(ending) > 1
                and ending[1] in "aeoó"
            ):
                return stem + ending[1:]
        return _spell(stem, ending, self.cls)


def _spell(stem: str, ending: str, cls: str) -> str:
    """Keep the stem's final sound before the ending: busc+é → busqué, venc+o → venzo."""
    front = ending[0] in "eéií"
    if cls == "ar":
        if front:
            if stem.endswith("gu"):
                return stem[:-2] + "gü" + ending
            if stem.endswith("c"):
                return stem[:-1] + "qu" + ending
            if stem.endswith("g"):
                return stem[:-1] + "gu" + ending
            if stem.endswith("z"):
                return stem[:-1] + "c" + ending
    elif not front:
        if stem.endswith("gu"):
            return stem[:-2] + "g" + ending
        if stem.endswith("qu"):
            return stem[:-2] + "c" + ending
        if stem.endswith("c"):
            return stem[:-1] + "z" + ending
        if stem.endswith("g"):
            return stem[:-1] + "j" + ending
    return stem + ending


def listed_stem_change(inf: str) -> str:
    """The stem change of a verb named in the lexicon's stem-change lists ("ie", "ue", "ie-i", "ue-u",
    "i"), or "" when it is in none of them."""
    for words, kind in (
        (lex.IE, "ie"),
        (lex.UE, "ue"),
        (lex.IE_I, "ie-i"),
        (lex.UE_U, "ue-u"),
        (lex.E_I, "i"),
    ):
        if inf in words:
            return kind
    return ""


def _spec_for(inf: str) -> lex.VerbSpec:
    spec = lex.SPECS.get(inf)
    if spec is None:
        change = listed_stem_change(inf)
        if not change:
            for suffix, kind in lex.SUFFIX_CHANGES:
                if inf.endswith(suffix):
                    change = kind
                    break
        part: Forms = ()
        for suffix, replacement in lex.SUFFIX_PARTICIPLES:
            if inf.endswith(suffix):
                part = (inf[: -len(suffix)] + replacement,)
                break
        pret = inf[:-3] + "j" if inf.endswith("ducir") else ""
        spec = lex.VerbSpec(change=change, part=part, pret=pret)
    accent = inf in lex.ACCENTED_STEM or (
        inf.endswith("uar") and inf[-4] not in "cg" and inf not in lex.UNACCENTED_UAR
    )
    weather = inf in lex.WEATHER
    if accent or weather:
        spec = lex.VerbSpec(
            **{
                **spec.__dict__,
                "accent": accent or spec.accent,
                "only_persons": frozenset({"3s", "3p"}) if weather else spec.only_persons,
                "missing_tenses": (
                    frozenset({"imperative.affirmative", "imperative.negative"})
                    if weather
                    else spec.missing_tenses
                ),
            }
        )
    return spec


def _model(inf: str) -> _Model:
    cls = strip_accents(inf[-2:])
    stem = inf[:-2]
    spec = _spec_for(inf)
    y_insert = (inf.endswith("uir") and not inf.endswith(("guir", "quir"))) or inf.endswith(("oír", "üir"))
    zc = (
        cls != "ar"
        and stem.endswith("c")
        and len(stem) > 1
        and stem[-2] in "aeiou"
        and inf not in lex.NO_ZC
        and not spec.yo
    )
    return _Model(inf, cls, stem, spec, y_insert, zc)


# --------------------------------------------------------------------------------------------
# Simple tenses


def _subj_past(bases: Forms, suffixes: tuple[str, ...]) -> dict[str, Forms]:
    out: dict[str, Forms] = {}
    for i, p in enumerate(PERSONS):
        forms: list[str] = []
        for suffix in suffixes:
            for base in bases:
                b = accent_last_vowel(base) if p == "1p" else base
                forms.append(b + suffix + ("", "s", "", "mos", "is", "n")[i])
        out[p] = tuple(forms)
    return out


def _build(inf: str) -> tuple[Table, dict[str, Forms], Forms]:
    """Simple tenses, nonfinite forms and compound participles of a non-derived verb."""
    m = _model(inf)
    spec, stem, cls = m.spec, m.stem, m.cls
    end = _ENDINGS[cls]
    strong = _change(stem, spec.change, weak=False)
    if spec.accent:
        strong = _accent_stem(strong)
    weak = _change(stem, spec.change, weak=True) if cls == "ir" else stem
    yo: Forms = spec.yo or ((stem[:-1] + "zc",) if m.zc else ())
    t: Table = {}

    present: dict[str, Forms] = {}
    for i, p in enumerate(PERSONS):
        if p == "1s" and yo:
            present[p] = tuple(y + "o" for y in yo)
        else:
            present[p] = (m.join(strong if p in _STRESSED else stem, end["present"][i]),)
    present["vos"] = (m.join(stem, end["present"][6]),)
    t["indicative.present"] = present

    preterite: dict[str, Forms] = {}
    if spec.pret:
        for i, p in enumerate(PERSONS):
            ending = _STRONG_PRETERITE[i]
            if p == "3p" and spec.pret.endswith("j"):
                ending = "eron"
            preterite[p] = (_spell(spec.pret, ending, "er"),)
    else:
        pend = _ENDINGS[spec.pret_class or cls]["preterite"]
        for i, p in enumerate(PERSONS):
            preterite[p] = (m.join(weak if p in ("3s", "3p") else stem, pend[i]),)
    t["indicative.preterite"] = preterite

    istem = spec.imperfect_stem or stem
    iend = _ENDINGS["er"]["imperfect"] if spec.imperfect_stem else end["imperfect"]
    t["indicative.imperfect"] = {p: (istem + iend[i],) for i, p in enumerate(PERSONS)}

    fstem = spec.fut or strip_accents(inf)
    t["indicative.future"] = {p: (fstem + _FUTURE[i],) for i, p in enumerate(PERSONS)}
    t["conditional.present"] = {p: (fstem + _CONDITIONAL[i],) for i, p in enumerate(PERSONS)}

    subj: dict[str, Forms] = {}
    send = end["subj"]
    for i, p in enumerate(PERSONS):
        if yo:
            subj[p] = tuple(y + send[i] for y in yo)
        else:
            subj[p] = (m.join(strong if p in _STRESSED else weak, send[i]),)
    vos_subj = tuple(y + send[6] for y in yo) if yo else (m.join(weak, send[6]),)
    subj["vos"] = subj["2s"] + vos_subj
    t["subjunctive.present"] = subj

    # Apply whole-form overrides before deriving the tenses that depend on them.
    for tense, persons in spec.over.items():
        if tense in t:
            t[tense].update(persons)
    _normalize(t, spec)

    bases = tuple(f[:-3] for f in t["indicative.preterite"]["3p"])
    t["subjunctive.imperfect"] = _subj_past(bases, ("ra", "se"))
    t["subjunctive.future"] = _subj_past(bases, ("re",))

    imp: dict[str, Forms] = {
        "2s": spec.imp2s or t["indicative.present"]["3s"],
        "3s": t["subjunctive.present"]["3s"],
        "1p": t["subjunctive.present"]["1p"],
        "2p": (inf[:-1] + "d",),
        "3p": t["subjunctive.present"]["3p"],
        "vos": (normalize_accent(accent_last_vowel(strip_accents(inf[:-1]))),),
    }
    imp.update(spec.over.get("imperative.affirmative", {}))
    t["imperative.affirmative"] = imp

    gerund = spec.ger or normalize_accent(m.join(weak, "ando" if cls == "ar" else "iendo"))
    participle = spec.part or (normalize_accent(m.join(stem, "ado" if cls == "ar" else "ido")),)
    nonfinite = {"infinitive": spec.infinitive or (inf,), "gerund": (gerund,), "participle": participle}
    compound = spec.compound_part or participle[:1]
    return t, nonfinite, compound


def _normalize(t: Table, spec: lex.VerbSpec) -> None:
    for tense, persons in t.items():
        over = spec.over.get(tense, {})
        for p, forms in persons.items():
            if p in over:
                continue
            persons[p] = _dedupe(f if f in _KEEP_ACCENT else normalize_accent(f) for f in forms)


def _dedupe(forms: Any) -> Forms:
    seen: list[str] = []
    for f in forms:
        if f not in seen:
            seen.append(f)
    return tuple(seen)


def _derive(inf: str, d: lex.Derived) -> tuple[Table, dict[str, Forms], Forms]:
    base_t, base_nf, base_compound = _simple(d.base)
    t: Table = {
        tense: {p: _dedupe(add_prefix(d.prefix, f) for f in fs) for p, fs in persons.items()}
        for tense, persons in base_t.items()
    }
    if d.regular_future:
        fstem = strip_accents(inf)
        t["indicative.future"] = {p: (fstem + _FUTURE[i],) for i, p in enumerate(PERSONS)}
        t["conditional.present"] = {p: (fstem + _CONDITIONAL[i],) for i, p in enumerate(PERSONS)}
    spec = d.spec
    for tense, persons in spec.over.items():
        t[tense].update(persons)
    if spec.imp2s:
        t["imperative.affirmative"]["2s"] = spec.imp2s
    nonfinite = {
        "infinitive": (inf,),
        "gerund": tuple(add_prefix(d.prefix, g) for g in base_nf["gerund"]),
        "participle": spec.part or tuple(add_prefix(d.prefix, f) for f in base_nf["participle"]),
    }
    compound = spec.compound_part or (
        spec.part[:1] if spec.part else tuple(add_prefix(d.prefix, f) for f in base_compound)
    )
    return t, nonfinite, compound


def _derivation(inf: str) -> lex.Derived | None:
    if inf in lex.DERIVED:
        return lex.DERIVED[inf]
    if inf in lex.SPECS:
        return None
    for base in lex.FAMILIES:
        if inf.endswith(base) and inf != base:
            return lex.Derived(inf[: -len(base)], base)
    return None


@lru_cache(maxsize=2048)
def _simple(inf: str) -> tuple[Table, dict[str, Forms], Forms]:
    d = _derivation(inf)
    return _derive(inf, d) if d else _build(inf)


# --------------------------------------------------------------------------------------------
# Full paradigm


def _parse(verb: str) -> tuple[str, bool]:
    v = verb.strip().lower()
    if not _VERB_RE.match(v):
        raise ValueError(f"not a Spanish infinitive: {verb!r}")
    pronominal = (
        v.endswith("se") and _VERB_RE.match(v[:-2]) is not None and v[-4:-2] in ("ar", "er", "ir", "ír")
    )
    inf = v[:-2] if pronominal else v
    return lex.ALIASES.get(inf, inf), pronominal


def _pronominal(t: Table, nonfinite: dict[str, Forms]) -> None:
    for tense, persons in t.items():
        for p, forms in persons.items():
            cl = _CLITICS[p]
            if tense == "imperative.affirmative":
                if p == "1p":
                    persons[p] = tuple(add_enclitic(f, "nos", drop=1) for f in forms)
                elif p == "2p":
                    persons[p] = tuple("idos" if f == "id" else add_enclitic(f, "os", drop=1) for f in forms)
                else:
                    persons[p] = tuple(add_enclitic(f, cl) for f in forms)
            elif tense == "imperative.negative":
                persons[p] = tuple(f"no {cl} {f[3:]}" for f in forms)
            else:
                persons[p] = tuple(f"{cl} {f}" for f in forms)
    nonfinite["infinitive"] = tuple(f + "se" for f in nonfinite["infinitive"])
    nonfinite["gerund"] = tuple(add_enclitic(g, "se") for g in nonfinite["gerund"])


@lru_cache(maxsize=4096)
def conjugate_table(verb: str) -> Conjugation:
    """The full paradigm of ``verb`` (an infinitive, optionally pronominal: *levantarse*).

    Raises ``ValueError`` if ``verb`` is not a Spanish infinitive. Results are cached; treat them as
    read-only.
    """
    inf, pronominal = _parse(verb)
    simple, nf, compound_part = _simple(inf)
    t: Table = {tense: dict(persons) for tense, persons in simple.items()}
    nonfinite = dict(nf)
    if inf != "haber":
        aux = _simple("haber")[0]
    else:
        aux = {tense: dict(persons) for tense, persons in simple.items()}
    for tense, aux_tense in COMPOUND_AUX.items():
        t[tense] = {
            p: tuple(f"{a} {pt}" for a in aux[aux_tense][p] if a != "hay" for pt in compound_part)
            for p in PERSONS
        }
    subj = t["subjunctive.present"]
    t["imperative.negative"] = {p: tuple(f"no {f}" for f in subj[p]) for p in (*IMPERATIVE_PERSONS, "vos")}
    spec = _spec_for(inf) if _derivation(inf) is None else lex.VerbSpec()
    if pronominal:
        _pronominal(t, nonfinite)
    ordered: dict[str, dict[str, Forms]] = {}
    for tense in TENSES:
        persons = t.get(tense, {})
        keys = IMPERATIVE_PERSONS if tense.startswith("imperative") else PERSONS
        row: dict[str, Forms] = {}
        if tense not in spec.missing_tenses:
            for p in (*keys, "vos"):
                if p in persons and (not spec.only_persons or p in spec.only_persons):
                    row[p] = persons[p]
        ordered[tense] = row
    return Conjugation(verb=verb.strip().lower(), forms=ordered, nonfinite=nonfinite)


def conjugate(verb: str) -> dict[str, Any]:
    """The JSON-ready paradigm (the exact shape ``espaluz conjugate --json`` prints)."""
    return conjugate_table(verb).to_json()


def conjugate_form(verb: str, tense: str, person: str) -> str:
    """One form, the most common: ``conjugate_form("tener", "indicative.present", "1s")`` → ``tengo``."""
    return conjugate_table(verb).form(tense, person)
