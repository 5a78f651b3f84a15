"""Gender and number agreement inside the noun phrase and with ser/estar (rule ``agreement``).

What it corrects, each time with the reason in English and Spanish (the noun's gender, and why when the
noun breaks the -o/-a pattern: *el problema*, *la mano*, *el agua*):

- a determiner before its noun: articles, *un/una*, *algún/ningún*, *otro*, demonstratives, *nuestro*,
  quantifiers *mucho, poco, tanto, demasiado, varios, bastante* (*un entrada* → *una*, *los transiciones* →
  *las*, *muchos canciones* → *muchas*); *todo* before the article (*todo la semana* → *toda*); number with
  possessives (*mis amigo* → *mis amigos*, but *mis libro está* → *mi libro*: a singular verb decides);
- *el/un* before a feminine noun with a stressed *a-/ha-* (*la agua* → *el agua*; *una águila* is accepted),
  while the adjective stays feminine (*el agua fría*);
- an adjective right after its noun, or after one intensifier (*la casa blanco*, *los coches rojas*, *una
  película muy bueno*), the noun also recognised without its accent after a determiner (*una pelicula*);
- a predicate adjective after *ser/estar/parecer* (*la casa es bonito*, *las chicas están cansados*, *mi madre
  está contento*), with *no* or an intensifier (*muy, tan, bastante*...) allowed in between.

Precision first: a wrong correction costs more than a missed one, so the rule stays silent when the
noun is of either gender (``mf``: *el/la capital, el/la orden*), capitalised (a name), a possible verb (*la
cambio*, "I change it"; not after a preposition: *en la cambio*), followed by a number (*la número uno*),
after *de* (*una camisa de algodón blanca*: the adjective may belong to the head), coordinated (*el padre y
la madre son altos*), when the subject is not the noun right before the verb (*lo que dice la gente es
falso*), for adverb-like adjectives (*hablan alto*, *bajo la mesa*, *demasiado tarde*), for states and
participles after an object (*abrió la carta contento*), and for nouns whose gender is only guessed from
their ending (:func:`espaluz.spanish.nouns.guess_noun`), which are corrected only through the determiner
directly before them. A person noun with a form for the other gender (*profesor/profesora*) gets its article
corrected with the other reading offered in the reason (*la profesor* → *el*, "or *la profesora*"), but an
adjective is only corrected when the determiner shows the gender too (*el amigo está cansada*, not *mi
amigo está cansada*: she may mean *mi amiga*).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from espaluz.spanish import lexicon
from espaluz.spanish.correction_scan import CLITICS, Correction, Scan
from espaluz.spanish.nouns import (
    ADVERBIAL,
    AdjInfo,
    NounInfo,
    adjective_form,
    adjective_info,
    guess_reason,
    noun_info,
    noun_plural,
    other_gender,
)
from espaluz.spanish.verb_index import readings

# Determiner families (m.sg, f.sg, m.pl, f.pl). DETS is shared with other rules (gustar, personal a...).
DET_FAMILIES: dict[str, tuple[str, str, str, str]] = {
    "def": ("el", "la", "los", "las"),
    "indef": ("un", "una", "unos", "unas"),
    "este": ("este", "esta", "estos", "estas"),
    "ese": ("ese", "esa", "esos", "esas"),
    "aquel": ("aquel", "aquella", "aquellos", "aquellas"),
    "nuestro": ("nuestro", "nuestra", "nuestros", "nuestras"),
    "vuestro": ("vuestro", "vuestra", "vuestros", "vuestras"),
    "mucho": ("mucho", "mucha", "muchos", "muchas"),
    "poco": ("poco", "poca", "pocos", "pocas"),
    "otro": ("otro", "otra", "otros", "otras"),
    "alguno": ("algún", "alguna", "algunos", "algunas"),
    "ninguno": ("ningún", "ninguna", "ningunos", "ningunas"),
}
DETS: dict[str, tuple[str, int]] = {
    form: (family, k) for family, forms in DET_FAMILIES.items() for k, form in enumerate(forms)
}
POSSESSIVES = {"mi": "mis", "tu": "tus", "su": "sus"}
CONTRACTED = {"del": "de", "al": "a"}

# Quantifiers checked only by this rule (the shared DETS keeps its old meaning for the other rules).
# "varios" has no singular; "bastante" does not change for gender.
_MORE_FAMILIES: dict[str, tuple[str, str, str, str]] = {
    "tanto": ("tanto", "tanta", "tantos", "tantas"),
    "demasiado": ("demasiado", "demasiada", "demasiados", "demasiadas"),
    "varios": ("varios", "varias", "varios", "varias"),
    "bastante": ("bastante", "bastante", "bastantes", "bastantes"),
}
_ALL_FAMILIES = {**DET_FAMILIES, **_MORE_FAMILIES}
_ALL_DETS: dict[str, tuple[str, int]] = {
    **{form: (family, k) for family, forms in _MORE_FAMILIES.items() for k, form in enumerate(forms)},
    "varios": ("varios", 2),
    "varias": ("varios", 3),
    "bastante": ("bastante", 0),
    "bastantes": ("bastante", 2),
    **DETS,
}
# Families that are also adverbs (mucho mejor, demasiado caro): silent before a word that is an adjective too.
_ADVERB_LIKE = frozenset({"mucho", "poco", "tanto", "demasiado", "bastante"})
_GENDERLESS = frozenset({"bastante"})
# Nouns counted as a mass: with a plural quantifier the learner means the singular (*muchos gente* → *mucha*).
_MASS_NOUNS = frozenset(
    {"gente", "agua", "dinero", "tiempo", "hambre", "sed", "frío", "calor", "ruido", "trabajo", "comida",
     "leche", "pan", "arroz", "café", "azúcar", "sal", "suerte", "paciencia", "miedo", "música", "ropa",
     "tráfico", "sueño", "información", "carne", "fruta", "verdura", "luz", "paz", "prisa"}
)  # fmt: skip
_TODO = {"todo": (False, False), "toda": (True, False), "todos": (False, True), "todas": (True, True)}

# Copulas after which an adjective describes the subject (3rd person: the subject is a noun).
_COPULA_VERBS = frozenset({"ser", "estar", "parecer"})
_BETWEEN_VERB_AND_ADJ = frozenset(
    {"muy", "tan", "bastante", "demasiado", "más", "menos", "algo", "super", "súper"}
)
_COORDINATORS = frozenset({"y", "e", "o", "u", "ni"})
# Where a subject noun phrase may start (besides the start of a clause): after these words.
_CLAUSE_OPENERS = frozenset(
    {"que", "porque", "pero", "si", "cuando", "aunque", "pues", "mientras", "entonces", "también", "hoy",
     "ahora"}
)  # fmt: skip
# After these a determiner cannot be a clitic pronoun (*en la cambio* is a noun phrase).
_PREPOSITIONS = frozenset(
    {"a", "ante", "con", "contra", "de", "desde", "en", "entre", "hacia", "hasta", "para", "por", "sin",
     "sobre"}
)  # fmt: skip
# A bare noun after these is not checked: its adjective may belong to the head (una camisa de algodón blanca).
_NOT_BARE_AFTER = frozenset({"de", "lo", "cada"})
# Adjectives that often describe the subject while following an object (*él abrió la carta contento*).
_DEPICTIVE = frozenset(
    {"contento", "tranquilo", "solo", "feliz", "triste", "nervioso", "preocupado", "enfadado", "enojado",
     "cansado", "sentado", "dormido", "despierto", "desnudo", "descalzo", "borracho", "emocionado",
     "sorprendido", "asustado", "serio", "callado", "agotado", "orgulloso", "satisfecho", "encantado"}
)  # fmt: skip
_PARTICIPLES = frozenset(
    {"abierto", "roto", "muerto", "puesto", "escrito", "visto", "vuelto", "hecho", "dicho", "cubierto",
     "frito", "impreso", "preso", "suelto", "despierto", "satisfecho", "descalzo", "desnudo"}
)  # fmt: skip
# Nouns that are also adverbs: after "demasiado, tan(to), poco" they are the adverb (demasiado tarde).
_ALSO_ADVERBS = frozenset({"tarde", "mañana", "pronto", "bien", "mal", "lejos", "cerca", "antes", "después"})
_NUMBERS = frozenset(
    {"uno", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce"}
)
# Why a noun breaks the -o/-a pattern, where a plain "ends in -a but is masculine" would not say enough.
_EXCEPTION_NOTE: dict[str, tuple[str, str]] = {
    "foto": (
        "ends in -o but is feminine (short for fotografía)",
        "termina en -o pero es femenino (abreviatura de fotografía)",
    ),
    "moto": (
        "ends in -o but is feminine (short for motocicleta)",
        "termina en -o pero es femenino (abreviatura de motocicleta)",
    ),
    "radio": (
        "ends in -o but is feminine (short for radiodifusión)",
        "termina en -o pero es femenino (abreviatura de radiodifusión)",
    ),
}


def exception_note(noun: NounInfo) -> tuple[str, str]:
    """What teaches this noun's gender (English, Spanish): the exception it is (*el día*), or the ending rule
    it follows (*la canción*: nouns in -ción are feminine); empty strings when there is nothing to say."""
    if noun.guessed:
        return guess_reason(noun)
    lemma = noun.lemma
    if lemma in _EXCEPTION_NOTE:
        return _EXCEPTION_NOTE[lemma]
    if noun.gender == "m" and lemma.endswith(("a", "á")):
        end = lemma[-1]
        if lemma.endswith(("ma", "ema", "oma")) and len(lemma) >= 4:
            return (
                f"ends in -{end} but is masculine (Greek -ma)",
                f"termina en -{end} pero es masculino (-ma griego)",
            )
        return f"ends in -{end} but is masculine", f"termina en -{end} pero es masculino"
    if noun.gender == "f" and lemma.endswith("o"):
        return "ends in -o but is feminine", "termina en -o pero es femenino"
    return guess_reason(noun)  # "la canción": nouns in -ción are feminine


def _gender_en(gender: str, plural: bool) -> str:
    return ("masculine" if gender == "m" else "feminine") + (" plural" if plural else "")


def _gender_es(gender: str, plural: bool) -> str:
    """'masculino', 'femenino plural'... (agreeing with *sustantivo*/*adjetivo*, both masculine)."""
    return ("masculino" if gender == "m" else "femenino") + (" plural" if plural else "")


def _verb_number(c: Scan, k: int) -> bool | None:
    """Whether the finite verb at token k is plural (True), singular (False), or unclear/not a verb (None)."""
    w = c.low(k)
    rs = readings(w)
    if not w or (not any(r.verb in _COPULA_VERBS for r in rs) and (noun_info(w) or adjective_info(w))):
        return None  # "el son cubano" is a noun, but "son" after a subject is ser
    persons = {r.person for r in rs}
    if persons and persons <= {"3s"}:
        return False
    if persons and persons <= {"3p"}:
        return True
    return None


def _noun_is_verb(c: Scan, det: str, i: int, noun: NounInfo) -> bool:
    """True when "det + noun" may be a clitic + verb (*la cambio*) or *él* + verb (*el compra*)."""
    if not readings(c.low(i + 1)):
        return False
    if not (det in ("la", "las", "los") or (det in ("el", "del", "al") and noun.gender == "f")):
        return False
    if i > 0 and c.joined(i - 1) and c.low(i - 1) in _PREPOSITIONS:
        return False  # "pienso en la cambio": no clitic comes after a preposition
    k = i + 2
    if c.low(k) == "no" and c.joined(k - 1) and c.joined(k):
        k += 1  # "las casas no son": a verb after "no" still proves the noun reading
    after = c.low(k) if c.joined(k - 1) else ""
    after_adj = adjective_info(after) is not None and after not in ADVERBIAL
    after_verb = bool(readings(after)) and not noun_info(after)
    return not (after_verb or after_adj or (det == "el" and c.end_after(i + 1)))


def _det_gender_clue(det: str) -> str:
    """The gender a determiner shows ('m'/'f'), or '' for *mi, su, bastante, varios*... forms that do not."""
    if det in CONTRACTED:
        return "m"
    if det not in _ALL_DETS:
        return ""
    family, k = _ALL_DETS[det]
    forms = _ALL_FAMILIES[family]
    if family in _GENDERLESS or forms[k] == forms[k ^ 1]:
        return ""
    return "f" if k % 2 else "m"


def rule_agreement(c: Scan) -> Iterator[tuple[int, Correction]]:
    """The ``agreement`` rule: yields (priority, correction); determiners win overlaps (priority 1)."""
    phrases: list[_Phrase] = []
    for i in range(c.n):
        det = c.low(i)
        if det in _TODO:
            if c.joined(i):
                yield from _todo(c, i)
            continue
        is_det = det in _ALL_DETS or det in CONTRACTED or det in POSSESSIVES or det in POSSESSIVES.values()
        if not is_det:
            bare = _bare_noun(c, i)
            if bare is not None:
                phrases.append(bare)
            continue
        if not c.joined(i) or c.toks[i + 1].text[:1].isupper():
            continue
        noun = noun_info(c.low(i + 1), guess=True)
        if noun is None:
            continue
        found = (
            _possessive(c, i, noun)
            if det in POSSESSIVES or det in POSSESSIVES.values()
            else _determiner(c, i, noun)
        )
        if isinstance(found, Correction):
            yield 1, found
        elif found is not None:
            phrases.append(found)
    for phrase in phrases:
        yield from _adjective_after(c, phrase)
        yield from _predicate(c, phrase)


@dataclass(frozen=True)
class _Phrase:
    """A noun phrase whose determiner and noun agree: tokens first..noun, and its gender and number."""

    first: int
    noun_at: int
    noun: NounInfo
    gender: str
    plural: bool
    clue: bool  # the determiner shows the gender too (la chica), not only the noun (mi amiga)


def _phrase(c: Scan, i: int, noun: NounInfo, gender: str, plural: bool) -> _Phrase | None:
    if noun.guessed or gender not in ("m", "f"):
        return None
    return _Phrase(i, i + 1, noun, gender, plural, bool(_det_gender_clue(c.low(i))))


def _bare_noun(c: Scan, i: int) -> _Phrase | None:
    """A noun without determiner (*tengo zapatos negros*), only when nothing else can be read into it."""
    w = c.low(i)
    if not c.joined(i) or c.toks[i].text[:1].isupper():
        return None
    noun = noun_info(w)
    if noun is None or noun.gender == "mf" or noun.invariant or readings(w) or adjective_info(w):
        return None
    if lexicon.lookup(w, "verb") is not None or lexicon.lookup(w, "adv") is not None:
        return None  # "poder", "tarde": without an article they are the infinitive or the adverb
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    if (
        prev in _TODO
        or prev in _ALL_DETS
        or prev in CONTRACTED
        or prev in POSSESSIVES
        or prev in _NOT_BARE_AFTER
    ):
        return None
    return _Phrase(i, i, noun, noun.gender, noun.plural, False)


def _todo(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*todo/toda/todos/todas* + article/possessive/demonstrative + noun: *todo* agrees with the noun."""
    det = c.low(i + 1)
    if not c.joined(i + 1) or not (det in DETS or det in POSSESSIVES or det in POSSESSIVES.values()):
        return
    if det in DETS and DETS[det][0] not in ("def", "este", "ese", "aquel", "nuestro", "vuestro"):
        return
    noun = noun_info(c.low(i + 2))
    if noun is None or noun.gender == "mf" or c.toks[i + 2].text[:1].isupper():
        return
    clue = _det_gender_clue(det)
    det_plural = det in POSSESSIVES.values() or (det in DETS and DETS[det][1] >= 2)
    if (clue and clue != noun.gender and not noun.stressed_a) or (
        not noun.invariant and det_plural != noun.plural
    ):
        return  # the determiner itself is off: that correction comes first
    if not clue and other_gender(noun.lemma):
        return  # "todos mis amiga": amigo or amiga?
    want = next(form for form, fp in _TODO.items() if fp == (noun.gender == "f", det_plural))
    if want == c.low(i):
        return
    kind_en, kind_es = _gender_en(noun.gender, det_plural), _gender_es(noun.gender, det_plural)
    word = c.low(i + 2)
    why = f"'todo' agrees with the noun '{word}' ({kind_en}): '{want}'."
    why_es = f"'todo' concuerda con el sustantivo '{word}' ({kind_es}): '{want}'."
    yield 1, c.fix(i, i, want, "agreement", why, why_es)


def _possessive(c: Scan, i: int, noun: NounInfo) -> Correction | _Phrase | None:
    """Number with *mi/tu/su*: *mis amigo* → *mis amigos* (the plural wins), but *mis libro está* → *mi*."""
    det, word = c.low(i), c.low(i + 1)
    singular_det = det in POSSESSIVES
    if noun.invariant or noun.plural != singular_det:
        return _phrase(c, i, noun, noun.gender, noun.plural)
    verb_plural = _verb_number(c, i + 2) if c.joined(i + 1) else None
    sg_det = det if singular_det else next(s for s, p in POSSESSIVES.items() if p == det)
    pl_det = POSSESSIVES[sg_det]
    if singular_det:  # "mi libros"
        if verb_plural is False:
            fixed = f"{det} {noun.lemma}"
            why = f"Possessive, noun and verb agree in number, and the verb is singular: '{fixed}'."
            why_es = (
                f"El posesivo, el sustantivo y el verbo concuerdan; el verbo está en singular: '{fixed}'."
            )
            return c.fix(i, i + 1, fixed, "agreement", why, why_es)
        why = f"'{word}' is plural: use '{pl_det}'."
        why_es = f"'{word}' está en plural: '{pl_det}'."
        return c.fix(i, i, pl_det, "agreement", why, why_es)
    if verb_plural is False:  # "mis libro está"
        why = f"'{word}' is singular: use '{sg_det}'."
        why_es = f"'{word}' está en singular: '{sg_det}'."
        return c.fix(i, i, sg_det, "agreement", why, why_es)
    fixed = f"{det} {noun_plural(noun.lemma)}"
    why = f"'{det}' is plural, so the noun is plural too: '{fixed}'."
    why_es = f"'{det}' es plural, así que el sustantivo también: '{fixed}'."
    return c.fix(i, i + 1, fixed, "agreement", why, why_es)


def _want_det(family: str, det: str, gender: str, plural: bool, noun: NounInfo) -> str:
    """The form of a determiner family for a noun (*el/un/algún* before a singular stressed a-)."""
    forms = _ALL_FAMILIES[family]
    want = forms[(2 if plural else 0) + (1 if gender == "f" else 0)]
    if noun.stressed_a and not plural and family in ("def", "indef", "alguno", "ninguno"):
        want = forms[0]
        if family != "def" and det == forms[1]:
            want = det  # "una águila", "alguna arma" are also accepted
    return want


def _determiner(c: Scan, i: int, noun: NounInfo) -> Correction | _Phrase | None:
    """Gender and number of a determiner before its noun (*la problema* → *el*, *las casa* → *las casas*)."""
    det, word = c.low(i), c.low(i + 1)
    family, k = _ALL_DETS.get(det, ("def", 0))
    if _noun_is_verb(c, det, i, noun):
        return None
    if family in _ADVERB_LIKE and (adjective_info(word) is not None or word in _ALSO_ADVERBS):
        return None  # "mucho mejor", "demasiado viejo", "demasiado tarde"
    if c.joined(i + 1) and (c.low(i + 2).isdigit() or c.low(i + 2) in _NUMBERS):
        return None  # "la número dos del mundo" (a woman), "el capítulo tres"
    clue = _det_gender_clue(det)
    det_plural = k >= 2
    gender = noun.gender if noun.gender != "mf" else clue
    if not gender:
        return None
    prefix = f"{CONTRACTED[det]} " if det in CONTRACTED else ""
    counterpart = other_gender(noun.lemma) is not None
    if not noun.invariant and det_plural != noun.plural:
        if counterpart and clue and clue != noun.gender:
            return None  # "los amiga": los amigos or las amigas?
        plural = _verb_number(c, i + 2) is not False if c.joined(i + 1) else True
        if family in _ADVERB_LIKE and not noun.plural and noun.lemma in _MASS_NOUNS:
            plural = False  # "muchos gente" → "mucha gente", not "muchas gentes"
        if family == "varios":
            plural = True
        want = _want_det(family, det, gender, plural, noun)
        noun_form = word if noun.plural == plural else (noun_plural(noun.lemma) if plural else noun.lemma)
        fixed = f"{prefix}{want} {noun_form}"
        if fixed == f"{det} {word}":
            return None
        why = f"Determiner and noun must agree in number: '{fixed}'."
        why_es = f"El determinante y el sustantivo concuerdan en número: '{fixed}'."
        return c.fix(i, i + 1, fixed, "agreement", why, why_es)
    plural = det_plural if noun.invariant else noun.plural
    want = _want_det(family, det, gender, plural, noun)
    expected = (
        (None if want == "el" else f"{prefix}{want}")
        if det in CONTRACTED
        else (want if det != want else None)
    )
    if expected is None:
        return _phrase(c, i, noun, gender, plural)
    if noun.stressed_a:
        why = (
            f"'{noun.lemma}' is feminine, but takes 'el'/'un' in the singular because it starts "
            f"with a stressed a- (el agua fría, las aguas): use '{expected}'."
        )
        why_es = (
            f"'{noun.lemma}' es femenino, pero en singular lleva 'el'/'un' porque empieza por a "
            f"tónica (el agua fría, las aguas): '{expected}'."
        )
    else:
        note_en, note_es = exception_note(noun)
        why = f"'{word}' is {_gender_en(noun.gender, noun.plural)}" + (f" ({note_en})" if note_en else "")
        why += f": use '{expected}'."
        why_es = f"'{word}' es un sustantivo {_gender_es(noun.gender, noun.plural)}"
        why_es += (f" ({note_es})" if note_es else "") + f": '{expected}'."
        other = other_gender(noun.lemma)
        if other is not None:  # "la profesor": she may mean "la profesora"
            alt = f"{det} {noun_plural(other) if noun.plural else other}"
            why = why[:-1] + f" (or '{alt}', if that is what you meant)."
            why_es = why_es[:-1] + f" (o '{alt}', si querías decir eso)."
    before = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    if expected == "el" and before in ("a", "de") and c.toks[i].text == det:
        fused = "al" if before == "a" else "del"  # "a la agua" → "al agua", not "a el agua"
        return c.fix(
            i - 1,
            i,
            fused,
            "agreement",
            why.replace("'el'.", f"'{fused}'."),
            why_es.replace("'el'.", f"'{fused}'."),
        )
    return c.fix(i, i, expected, "agreement", why, why_es)


def _coordinated_before(c: Scan, first: int) -> bool:
    """A coordinator (*y, o, ni*) shortly before the phrase: *el padre y la madre* may share an adjective."""
    return any(c.low(m) in _COORDINATORS for m in range(max(0, first - 4), first))


def _adjective_fix(
    c: Scan, p: _Phrase, at: int, adj: AdjInfo, lead_en: str, lead_es: str
) -> Iterator[tuple[int, Correction]]:
    """The correction of the adjective at token ``at`` to agree with ``p``, if it disagrees."""
    want = adjective_form(adj, p.gender, p.plural)
    got = c.low(at)
    if want == got:
        return
    if adj.gender and adj.gender != p.gender and not p.clue and other_gender(p.noun.lemma):
        return  # "mi amigo está cansada": maybe she meant "mi amiga"
    word = c.low(p.noun_at)
    kind_en, kind_es = _gender_en(p.gender, p.plural), _gender_es(p.gender, p.plural)
    note_en, note_es = exception_note(p.noun) if adj.gender and adj.gender != p.gender else ("", "")
    if p.noun.stressed_a and p.gender == "f" and adj.gender == "m":
        note_en = "feminine even though it takes 'el' (el agua fría)"
        note_es = "femenino aunque lleve 'el' (el agua fría)"
    why = f"{lead_en} '{word}' ({kind_en}" + (f"; {note_en}" if note_en else "") + f"): '{want}'."
    why_es = f"{lead_es} '{word}' ({kind_es}" + (f"; {note_es}" if note_es else "") + f"): '{want}'."
    yield 2, c.fix(at, at, want, "agreement", why, why_es)


def _adjective_after(c: Scan, p: _Phrase) -> Iterator[tuple[int, Correction]]:
    """An adjective right after its noun, or after one intensifier (*la casa blanco* → *blanca*, *los
    coches rojas* → *rojos*, *una película muy bueno* → *buena*)."""
    at = p.noun_at + 1
    if not c.joined(p.noun_at):
        return
    if c.low(at) in _BETWEEN_VERB_AND_ADJ and c.joined(at):
        at += 1
    if at >= c.n or c.toks[at].text[:1].isupper():
        return
    w = c.low(at)
    adj = adjective_info(w)
    if adj is None or w in ADVERBIAL or _maybe_verb(c, at):
        return
    prev = c.low(p.first - 1) if p.first > 0 and c.joined(p.first - 1) else ""
    if prev in ("de", "del") or c.low(p.first) == "del":
        return  # "una camisa de algodón blanca": the adjective may belong to the head noun
    if adj.plural and _coordinated_before(c, p.first):
        return  # "el padre y la madre altos", "los zapatos y las faldas negros"
    if _may_describe_the_subject(adj) and not _subject_start(c, p.first):
        return  # "él abrió la carta contento", "llegó a casa mojado": the adjective describes the subject
    yield from _adjective_fix(c, p, at, adj, "The adjective agrees with", "El adjetivo concuerda con")


def _maybe_verb(c: Scan, at: int) -> bool:
    """Whether the adjective-looking word at ``at`` may be the verb of its noun: *el niño limpia la mesa*,
    *el trayecto dura unos minutos* (but *el agua frío*: "yo frío" cannot follow a 3rd-person subject)."""
    w = c.low(at)
    if any(r.person in ("3s", "3p") for r in readings(w)):
        return True
    if w.endswith("a") and lexicon.lookup(w[:-1] + "ar", "verb") is not None:
        return True  # corta, llena, baja: cortar, llenar, bajar
    nxt = c.low(at + 1) if c.joined(at) else ""
    return nxt in _ALL_DETS or nxt in POSSESSIVES or nxt in CLITICS or nxt in _NUMBERS or nxt.isdigit()


def _may_describe_the_subject(adj: AdjInfo) -> bool:
    """States and participles often describe the subject from after an object (*volvió a casa cansado*)."""
    return adj.lemma in _DEPICTIVE or adj.lemma in _PARTICIPLES or adj.lemma.endswith(("ado", "ido"))


def _subject_start(c: Scan, first: int) -> bool:
    """Whether a phrase starting at token ``first`` can be a subject: clause start or after *que, pero*..."""
    if c.starts_clause(first):
        return True
    return c.low(first - 1) in _CLAUSE_OPENERS and c.joined(first - 1)


def _predicate(c: Scan, p: _Phrase) -> Iterator[tuple[int, Correction]]:
    """*la casa es bonito* → *bonita*, *las chicas están cansados* → *cansadas* (subject just before)."""
    if not _subject_start(c, p.first) or _coordinated_before(c, p.first):
        return
    v = p.noun_at + 1
    if c.joined(v - 1) and c.low(v) == "no":
        v += 1
    if v >= c.n or not c.joined(v - 1) or not c.joined(v):
        return
    verb = c.low(v)
    if not any(r.verb in _COPULA_VERBS for r in readings(verb)) or _verb_number(c, v) is not p.plural:
        return
    at = v + 1
    while c.low(at) in _BETWEEN_VERB_AND_ADJ and c.joined(at) and at - v <= 2:
        at += 1
    if c.low(at) == "un" and c.low(at + 1) == "poco" and c.joined(at) and c.joined(at + 1):
        at += 2
    if at >= c.n or c.toks[at].text[:1].isupper():
        return
    w = c.low(at)
    adj = adjective_info(w)
    if adj is None or w in ADVERBIAL:
        return
    if c.joined(at) and noun_info(c.low(at + 1)):
        return  # "el problema es mala suerte": the adjective goes with the next noun
    lead_en = f"The adjective after '{verb}' agrees with the subject"
    lead_es = f"El adjetivo tras '{verb}' concuerda con el sujeto"
    yield from _adjective_fix(c, p, at, adj, lead_en, lead_es)
