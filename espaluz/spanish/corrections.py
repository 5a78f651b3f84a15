"""Quick, high-precision corrections of frequent learner errors in Spanish text.

Each rule looks at a few adjacent words and fires only where the error is unambiguous; when a
sentence could be right (*la cambio* = "I change it", *el compra* = *él compra*?), the rule stays
silent. A wrong correction costs the tutor more trust than a missed one.

Rules (``Correction.rule``):
- ``agreement``: determiner/adjective vs noun gender and number (*el casa*, *las casa*,
  *la agua*, *la casa blanco*, *al playa*); exceptions like *el día*, *la mano*, *el agua fría*.
- ``contraction``: *de el libro* → *del libro*, *a el parque* → *al parque*.
- ``subject_verb``: *yo tiene* → *tengo*, *ellos va* → *van*, *él hablo* → *habló*.
- ``accent``: *esta* → *está* (*esta bien*), interrogatives (*¿que?* → *¿qué?*, *¿por que?*),
  *el/él*, *tu/tú*, *si/sí*, *mas/más*, *mi/mí*, *se/sé*.
- ``ser_estar``: *soy en casa*, *soy cansado*, *estoy profesor*, *estoy de México*.
- ``gustar``: *yo gusto la pizza* → *me gusta*, *yo me gusta* → *a mí me gusta*,
  *me gusta los perros* → *me gustan*.
- ``personal_a``: *veo mi madre* → *veo a mi madre*.
- ``false_friend``: *embarazado* (embarrassed), *aplicar para*, *realizar que*, *tomar lugar*,
  *hacer sentido*, *estar excitado*, *atender la universidad*, *introducir a alguien*.
- ``tener``: *soy 25 años*, *estoy hambre* → *tengo*.
- ``conditional_si`` and ``subjunctive`` (in :mod:`espaluz.spanish.mood_rules`): *si tendría* →
  *si tuviera*, *espero que vienes* → *vengas*, *cuando llegaré* → *cuando llegue*.

Offsets are character offsets into the input (``text[start:end] == original``). Every correction
has its reason in English (``explanation``) and Spanish (``explanation_es``; ``why(language)``).

:func:`check` returns the corrections of one reading of the text, and some only appear once others
are applied. To show a learner "the correct sentence", use :func:`espaluz.spanish.review.review`,
which applies all of them, re-checks, and says whether the result is clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from espaluz.spanish.conjugation import PERSON_PRONOUNS, conjugate_form, conjugate_table
from espaluz.spanish.correction_scan import (
    CLITICS,
    NON_VERB_READINGS,
    SUBJECTS,
    Correction,
    Scan,
    words,
)
from espaluz.spanish.mood_rules import rule_conditional_si, rule_subjunctive
from espaluz.spanish.nouns import (
    ADVERBIAL,
    NounInfo,
    adjective_form,
    adjective_info,
    is_invariant,
    noun_info,
    plural_of,
)
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.verb_index import INDEXED_TENSES, Reading, readings

_ws = words
_Ctx = Scan


# ------------------------------------------------------------------------------------------
# Lexical sets

_DET_FAMILIES: dict[str, tuple[str, str, str, str]] = {
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
_DETS: dict[str, tuple[str, int]] = {
    form: (family, k) for family, forms in _DET_FAMILIES.items() for k, form in enumerate(forms)
}
_POSSESSIVES = {"mi": "mis", "tu": "tus", "su": "sus"}
_CONTRACTED = {"del": "de", "al": "a"}
# Why a noun breaks the -o/-a pattern: (English, Spanish).
_EXCEPTION_NOTE: dict[str, tuple[str, str]] = {
    "día": ("ends in -a but is masculine", "termina en -a pero es masculino"),
    "mapa": ("ends in -a but is masculine", "termina en -a pero es masculino"),
    "problema": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "tema": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "idioma": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "sistema": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "programa": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "clima": ("ends in -a but is masculine (Greek -ma)", "termina en -a pero es masculino (-ma griego)"),
    "planeta": ("ends in -a but is masculine", "termina en -a pero es masculino"),
    "sofá": ("ends in -á but is masculine", "termina en -á pero es masculino"),
    "mano": ("ends in -o but is feminine", "termina en -o pero es femenino"),
    "foto": (
        "ends in -o but is feminine (short for fotografía)",
        "termina en -o pero es femenino (abreviatura de fotografía)",
    ),
    "moto": (
        "ends in -o but is feminine (short for motocicleta)",
        "termina en -o pero es femenino (abreviatura de motocicleta)",
    ),
}
_SUBJECTS = SUBJECTS
_NOT_SUBJECT_BEFORE = frozenset(
    _ws("y e o u ni a de con para por sin según entre como contra hacia hasta desde sobre")
)
_CLITICS = CLITICS
_NON_VERB_READINGS = NON_VERB_READINGS
_GUSTAR_LIKE = frozenset(
    _ws("gustar encantar interesar importar doler molestar parecer faltar quedar apetecer fascinar")
)
_INTERROGATIVES = {
    "que": "qué",
    "como": "cómo",
    "cuando": "cuándo",
    "donde": "dónde",
    "adonde": "adónde",
    "quien": "quién",
    "quienes": "quiénes",
    "cual": "cuál",
    "cuales": "cuáles",
    "cuanto": "cuánto",
    "cuanta": "cuánta",
    "cuantos": "cuántos",
    "cuantas": "cuántas",
}
_Q_PREPOSITIONS = frozenset(_ws("de a por para con en desde hasta sin sobre"))
_PREPOSITIONS = frozenset(_ws("a de para por sin con contra hacia hasta desde sobre según entre"))
_STATE_ADJ = frozenset(
    f"{stem}{end}"
    for stem in _ws(
        "cansad ocupad enferm enojad enfadad preocupad nervios aburrid list muert llen "
        "vací abiert cerrad rot suci limpi loc casad sentad dormid despiert perdid equivocad segur "
        "emocionad mojad resfriad hart"
    )
    for end in ("o", "a", "os", "as")
) | frozenset({"contento", "contenta", "contentos", "contentas", "bien", "mal", "embarazada"})
_ESTAR_ONLY_ADJ = frozenset(
    f"{stem}{end}"
    for stem in _ws("cansad enojad enfadad ocupad sentad resfriad mojad dormid despiert")
    for end in ("o", "a", "os", "as")
) | frozenset({"contento", "contenta", "contentos", "contentas", "harto", "harta", "hartos", "hartas"})
_PLACES = frozenset(
    _ws("""casa clase trabajo oficina escuela universidad hospital playa parque hotel restaurante aeropuerto
    banco biblioteca ciudad campo calle coche tren autobús cama cocina baño tienda supermercado centro
    iglesia estación cine teatro museo gimnasio montaña mercado país extranjero""")
)
_SER_TO_ESTAR = {
    "soy": "estoy",
    "eres": "estás",
    "somos": "estamos",
    "sois": "estáis",
    "es": "está",
    "son": "están",
}
_ESTAR_TO_SER = {
    "estoy": "soy",
    "estás": "eres",
    "está": "es",
    "estamos": "somos",
    "estáis": "sois",
    "están": "son",
}
_SER_PERSONAL = frozenset({"soy", "eres", "somos", "sois"})
_PROFESSIONS = frozenset(
    f"{stem}{end}"
    for stem in _ws("profesor doctor médic abogad ingenier enfermer estudiante camarer secretari arquitect")
    for end in ("", "a", "o", "es", "as", "os")
) | frozenset(
    _ws(
        "mexicano mexicana español española americano americana inglés inglesa francés francesa "
        "alemán alemana italiano italiana canadiense estadounidense argentino argentina "
        "colombiano colombiana chino china japonés japonesa"
    )
)
_PERSON_NOUNS = frozenset(
    f"{stem}{end}"
    for stem in _ws("herman hij abuel tí prim amig novi espos vecin compañer maestr chic niñ")
    for end in ("o", "a", "os", "as")
) | frozenset(
    _ws(
        "madre padre madres padres mamá papá marido mujer familia profesor profesora jefe jefa "
        "doctor doctora médico médica bebé hombre señor señora"
    )
)
_PERSONAL_A_VERBS = frozenset(
    _ws(
        "ver conocer visitar llamar ayudar amar extrañar invitar escuchar abrazar besar saludar cuidar odiar "
        "respetar esperar querer buscar llevar acompañar admirar recoger mirar"
    )
)
_FIRST_NAMES = frozenset(
    _ws(
        "juan maría pedro ana carlos luis josé carmen laura pablo sofía lucía miguel javier elena marta "
        "diego daniel david isabel rosa antonio manuel francisco sara paula"
    )
)
_NUMBER_WORDS = frozenset(
    _ws(
        "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
        "diecisiete dieciocho diecinueve veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa "
        "cien veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho "
        "veintinueve"
    )
)
_AFTER_SE = frozenset(_ws("que si como cómo donde dónde cuando qué quién"))
_TO_TENER = {
    "soy": "tengo",
    "eres": "tienes",
    "es": "tiene",
    "somos": "tenemos",
    "son": "tienen",
    "estoy": "tengo",
    "estás": "tienes",
    "está": "tiene",
    "estamos": "tenemos",
    "están": "tienen",
}
_TENER_NOUNS = frozenset(_ws("hambre sed miedo sueño frío calor prisa razón suerte"))
_INTENSIFIERS = frozenset(_ws("muy tan bastante demasiado super súper"))
_EVENTS_ATTENDED = frozenset(_ws("universidad escuela colegio conferencia boda reunión misa concierto"))


def _reading_person_ok(rs: tuple[Reading, ...], persons: tuple[str, ...]) -> bool:
    return any(r.person in persons for r in rs)


# ------------------------------------------------------------------------------------------
# Rules. Each yields (priority, Correction); lower priority wins an overlap.

Rule = Callable[[_Ctx], Iterator[tuple[int, Correction]]]


def _gender_word(info: NounInfo) -> str:
    g = "masculine" if info.gender == "m" else "feminine"
    return g + (" plural" if info.plural else "")


def _gender_word_es(gender: str, plural: bool) -> str:
    """'masculino', 'femenino plural'... (agreeing with *sustantivo*/*adjetivo*, both masculine)."""
    return ("masculino" if gender == "m" else "femenino") + (" plural" if plural else "")


def _rule_agreement(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 1):
        det = c.low(i)
        if not c.joined(i):
            continue
        noun_tok = c.toks[i + 1]
        if noun_tok.text[:1].isupper():
            continue
        noun = noun_info(noun_tok.low)
        if noun is None:
            continue
        invariant = is_invariant(noun_tok.low)
        verbish = bool(readings(noun_tok.low))
        expected: str | None = None
        why = ""
        if det in _DETS or det in _CONTRACTED:
            family, k = _DETS.get(det, ("def", 0))
            if verbish and (
                det in ("la", "las", "los") or (det in ("el", "del", "al") and noun.gender == "f")
            ):
                # "la cambio" (I change it), "el compra" (él compra?): only a following verb or
                # adjective proves the noun reading ("la cambio es...", "el casa es...").
                after = c.low(i + 2) if c.joined(i + 1) else ""
                after_adj = adjective_info(after) is not None and after not in ADVERBIAL
                after_verb = bool(readings(after)) and not noun_info(after)
                if not (after_verb or after_adj or (det == "el" and c.end_after(i + 1))):
                    continue
            det_gender = "f" if k % 2 else "m"
            det_plural = k >= 2
            gender = noun.gender if noun.gender != "mf" else det_gender
            plural = det_plural if invariant else (noun.plural or det_plural)
            forms = _DET_FAMILIES[family]
            want = forms[(2 if plural else 0) + (1 if gender == "f" else 0)]
            if noun.stressed_a and not plural and family in ("def", "indef", "alguno", "ninguno"):
                want = forms[0]
                if family != "def" and det == forms[1]:
                    want = det  # "una águila" is also accepted
            prefix = f"{_CONTRACTED[det]} " if det in _CONTRACTED else ""
            if not invariant and det_plural != noun.plural:
                # number mismatch: the plural wins ("las casa" / "la casas" → "las casas")
                noun_pl = noun_tok.low if noun.plural else _plural_noun(noun)
                fixed = f"{prefix}{want} {noun_pl}"
                why = f"Determiner and noun must agree in number: '{fixed}'."
                why_es = f"El determinante y el sustantivo concuerdan en número: '{fixed}'."
                yield 1, c.fix(i, i + 1, fixed, "agreement", why, why_es)
                continue
            if det in _CONTRACTED:
                expected = None if want == "el" else f"{prefix}{want}"
            elif det != want:
                expected = want
            if expected:
                note_en, note_es = _EXCEPTION_NOTE.get(noun.lemma, ("", ""))
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
                    why = f"'{noun_tok.low}' is {_gender_word(noun)}" + (f" ({note_en})" if note_en else "")
                    why += f": use '{expected}'."
                    why_es = f"'{noun_tok.low}' es un sustantivo {_gender_word_es(noun.gender, noun.plural)}"
                    why_es += (f" ({note_es})" if note_es else "") + f": '{expected}'."
                yield 1, c.fix(i, i, expected, "agreement", why, why_es)
                continue
            # adjective right after the noun
            if c.joined(i + 1):
                adj = adjective_info(c.low(i + 2))
                if adj and c.low(i + 2) not in ADVERBIAL:
                    want_adj = adjective_form(adj, gender, plural)
                    if want_adj != c.low(i + 2):
                        kind = ("feminine" if gender == "f" else "masculine") + (" plural" if plural else "")
                        why = f"The adjective agrees with '{noun_tok.low}' ({kind}): '{want_adj}'."
                        kind_es = _gender_word_es(gender, plural)
                        why_es = f"El adjetivo concuerda con '{noun_tok.low}' ({kind_es}): '{want_adj}'."
                        yield 2, c.fix(i + 2, i + 2, want_adj, "agreement", why, why_es)
        elif det in _POSSESSIVES or det in _POSSESSIVES.values():
            if invariant:
                continue
            singular = det in _POSSESSIVES
            if noun.plural and singular:
                expected = _POSSESSIVES[det]
            elif not noun.plural and not singular:
                expected = next(s for s, p in _POSSESSIVES.items() if p == det)
            if expected:
                number = "plural" if noun.plural else "singular"
                why = f"'{noun_tok.low}' is {number}: use '{expected}'."
                why_es = f"'{noun_tok.low}' está en {number}: '{expected}'."
                yield 1, c.fix(i, i, expected, "agreement", why, why_es)


def _plural_noun(info: NounInfo) -> str:
    return plural_of(info.lemma)


def _rule_contraction(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 2):
        if c.low(i) in ("de", "a") and c.low(i + 1) == "el" and c.joined(i) and c.joined(i + 1):
            nxt = c.toks[i + 2]
            if nxt.text[:1].isupper() or c.toks[i + 1].text == "El":
                continue
            info = noun_info(nxt.low)
            if (info and info.gender in ("m", "mf") and not info.plural) or adjective_info(nxt.low):
                fused = "del" if c.low(i) == "de" else "al"
                why = f"'{c.low(i)} + el' always contracts to '{fused}' before a noun."
                why_es = f"'{c.low(i)} + el' siempre se contrae en '{fused}' ante un sustantivo."
                yield 1, c.fix(i, i + 1, fused, "contraction", why, why_es)


def _best_form(verb: str, tenses: list[str], persons: tuple[str, ...], original: str) -> str | None:
    """The form of ``verb`` for ``persons`` closest to ``original`` (an accent slip wins)."""
    table = conjugate_table(verb)
    bare = strip_accents(original)
    candidates: list[str] = []
    for tense in INDEXED_TENSES:
        for p in persons:
            for f in table.forms[tense].get(p, ()):
                if strip_accents(f) == bare:
                    return f
    for tense in tenses:
        for p in persons:
            forms = table.forms[tense].get(p)
            if forms:
                candidates.append(forms[0])
                break
    return candidates[0] if candidates else None


def _rule_subject_verb(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 1):
        pron = c.low(i)
        persons = _SUBJECTS.get(pron)
        if persons is None or not c.joined(i):
            continue
        if i > 0 and c.low(i - 1) in _NOT_SUBJECT_BEFORE and c.joined(i - 1):
            continue
        j = i + 1
        while j < c.n and (c.low(j) == "no" or c.low(j) in _CLITICS) and c.joined(j - 1) and j - i <= 3:
            j += 1
        if j >= c.n or not c.joined(j - 1):
            continue
        form = c.low(j)
        if form in _NON_VERB_READINGS:
            continue
        rs = readings(form)
        if not rs or _reading_person_ok(rs, persons):
            continue
        verbs = list(dict.fromkeys(r.verb for r in rs))
        if any(v in _GUSTAR_LIKE for v in verbs) or noun_info(form) or adjective_info(form):
            continue
        verb = verbs[0]
        tenses = [t for t in INDEXED_TENSES if any(r.tense == t and r.verb == verb for r in rs)]
        best = _best_form(verb, tenses, persons, form)
        if best is None or best == form:
            continue
        have = PERSON_PRONOUNS[next(r.person for r in rs if r.verb == verb)]
        why = f"With '{pron}' the verb is '{best}'; '{form}' is the {have} form."
        why_es = f"Con '{pron}' el verbo es '{best}'; '{form}' es la forma de {have}."
        if strip_accents(best) == strip_accents(form):
            why = f"With '{pron}' write '{best}' (with the accent); '{form}' is the {have} form."
            why_es = f"Con '{pron}' se escribe '{best}', con tilde; '{form}' es la forma de {have}."
        yield 3, c.fix(j, j, best, "subject_verb", why, why_es)


def _rule_accents(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n):
        w = c.low(i)
        nxt = c.low(i + 1) if c.joined(i) else ""
        prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
        # está / estás
        if w in ("esta", "estas"):
            fixed = "está" if w == "esta" else "estás"
            why = f"'{w}' (this/these) is a demonstrative; the verb estar is '{fixed}'."
            why_es = f"'{w}' es un demostrativo; la forma del verbo estar es '{fixed}', con tilde."
            prev_is_verb = bool(prev) and bool(readings(prev))
            if nxt in ("usted", "ustedes", "él", "ella", "tú", "vos") or (
                prev in ("dónde", "donde", "cómo", "como") and c.in_question(i)
            ):
                yield 4, c.fix(i, i, fixed, "accent", why, why_es)
                continue
            if prev_is_verb:
                continue
            k = i + 1
            if nxt in _INTENSIFIERS and c.joined(i + 1):
                k = i + 2
            word_k = c.low(k) if k < c.n and c.joined(k - 1) else ""
            if (
                word_k in ("bien", "mal", "aquí", "ahí", "allí", "allá", "lejos", "cerca")
                or (word_k.endswith(("ando", "iendo", "yendo")) and len(word_k) > 5)
                or (
                    word_k in _STATE_ADJ
                    and (c.end_after(k) or c.low(k + 1) in ("y", "pero", "porque", "hoy"))
                )
            ):
                yield 4, c.fix(i, i, fixed, "accent", why, why_es)
            continue
        # interrogatives after ¿ (optionally after a preposition)
        if w in _INTERROGATIVES:
            direct = c.gap(i).rstrip().endswith("¿")
            after_prep = i > 0 and c.low(i - 1) in _Q_PREPOSITIONS and c.gap(i - 1).rstrip().endswith("¿")
            if direct or (after_prep and c.joined(i - 1)):
                acc = _INTERROGATIVES[w]
                why = f"Question words carry an accent: '{acc}'."
                why_es = f"Las palabras interrogativas llevan tilde: '{acc}'."
                yield 4, c.fix(i, i, acc, "accent", why, why_es)
                continue
            if prev == "se" or prev == "sé":
                infinitive_next = nxt.endswith(("ar", "er", "ir")) and w == "que"
                if (
                    i >= 2
                    and c.low(i - 2) == "no"
                    and (w in ("como", "donde", "cuando", "quien", "cual") or infinitive_next)
                ):
                    acc = _INTERROGATIVES[w]
                    why = f"After 'no sé', '{w}' introduces an indirect question: '{acc}'."
                    why_es = f"Tras 'no sé', '{w}' introduce una pregunta indirecta y lleva tilde: '{acc}'."
                    yield 5, c.fix(i, i, acc, "accent", why, why_es)
            continue
        if w == "porque" and c.gap(i).rstrip().endswith("¿"):
            why = "In a question, 'why' is 'por qué' (two words, accent)."
            why_es = "En una pregunta se escribe 'por qué': separado y con tilde."
            yield 4, c.fix(i, i, "por qué", "accent", why, why_es)
            continue
        if w == "por" and nxt == "que" and c.gap(i).rstrip().endswith("¿"):
            why_es = "En una pregunta se escribe 'por qué', con tilde."
            yield 4, c.fix(i + 1, i + 1, "qué", "accent", "In a question, 'why' is 'por qué'.", why_es)
            continue
        # él: "el" + verb (3s), or preposition + "el" + end
        if w == "el" and c.toks[i].text in ("el", "El"):
            if nxt:
                rs = readings(nxt)
                if (
                    rs
                    and _reading_person_ok(rs, ("3s",))
                    and not noun_info(nxt)
                    and not adjective_info(nxt)
                    and nxt not in _NON_VERB_READINGS
                ):
                    why = "'el' is the article; the pronoun 'he' is 'él'."
                    why_es = "'el' es el artículo; el pronombre es 'él', con tilde."
                    yield 5, c.fix(i, i, "él", "accent", why, why_es)
                    continue
            if prev in _PREPOSITIONS and (c.end_after(i) or nxt in _CLITICS):
                why = "After a preposition, 'him' is 'él' (with accent)."
                why_es = "Tras una preposición, el pronombre es 'él', con tilde."
                yield 5, c.fix(i, i, "él", "accent", why, why_es)
            continue
        # tú
        if w == "tu":
            rs = readings(nxt) if nxt else ()
            if (
                rs and _reading_person_ok(rs, ("2s",)) and not noun_info(nxt) and not adjective_info(nxt)
            ) or (c.end_after(i) and c.gap(i + 1).lstrip().startswith("?")):
                why = "'tu' is 'your'; the pronoun 'you' is 'tú'."
                why_es = "'tu' es posesivo (tu casa); el pronombre es 'tú', con tilde."
                yield 5, c.fix(i, i, "tú", "accent", why, why_es)
            continue
        # sí
        if w == "si":
            after = c.gap(i + 1).lstrip() if i + 1 <= c.n else ""
            yes_words = ("claro", "gracias", "señor", "señora", "por", "vale", "bueno", "exacto", "perfecto")
            if (
                (i == c.n - 1 and after[:1] in ("", ".", "!", "?"))
                or after[:1] in (".", "!")
                or (after.startswith(",") and c.low(i + 1) in yes_words)
            ):
                why_es = "'si' sin tilde es condicional (si quieres...); la afirmación es 'sí', con tilde."
                yield 5, c.fix(i, i, "sí", "accent", "'si' means 'if'; 'yes' is 'sí'.", why_es)
            continue
        # más
        if w == "mas":
            if c.gap(i).strip().endswith((",", ";")):
                continue
            why = "'more' is 'más' (with accent); 'mas' is a literary 'but'."
            why_es = "La cantidad se escribe 'más', con tilde; 'mas' sin tilde es un 'pero' literario."
            yield 5, c.fix(i, i, "más", "accent", why, why_es)
            continue
        # mí
        if w == "mi" and prev in _PREPOSITIONS:
            if c.end_after(i) or nxt in ("me", "mismo", "misma", "también", "tampoco", "no", "es"):
                why = "After a preposition, 'me' is 'mí' (a mí, para mí)."
                why_es = "Tras una preposición, el pronombre es 'mí', con tilde (a mí, para mí)."
                yield 5, c.fix(i, i, "mí", "accent", why, why_es)
            continue
        # sé
        if w == "se" and prev in ("yo", "no") and (c.end_after(i) or nxt in _AFTER_SE):
            why = "'I know' is 'sé' (with accent); 'se' is a pronoun."
            why_es = "'sé' (del verbo saber) lleva tilde; 'se' sin tilde es un pronombre."
            yield 5, c.fix(i, i, "sé", "accent", why, why_es)


def _rule_ser_estar(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 1):
        w = c.low(i)
        if not c.joined(i):
            continue
        nxt = c.low(i + 1)
        prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
        personal = w in _SER_PERSONAL or (w in ("es", "son") and prev in _SUBJECTS)
        if w in _SER_TO_ESTAR and personal:
            fixed = _SER_TO_ESTAR[w]
            hit = hit_es = ""
            if nxt == "en" and c.joined(i + 1):
                place = c.toks[i + 2]
                det = place.low in ("el", "la", "mi", "tu", "su", "un", "una", "nuestra", "nuestro")
                target = c.low(i + 3) if det and c.joined(i + 2) else place.low
                if target in _PLACES or (not det and place.text[:1].isupper()):
                    hit = (
                        f"Location of people and things uses estar: '{fixed} en ...'. "
                        "(Events use ser: la fiesta es en casa.)"
                    )
                    hit_es = (
                        f"La ubicación de personas y cosas se expresa con estar: '{fixed} en ...' "
                        "(los eventos, con ser: la fiesta es en casa)."
                    )
            elif nxt in ("aquí", "ahí", "allí", "allá"):
                hit = f"Location uses estar: '{fixed} {nxt}'."
                hit_es = f"La ubicación se expresa con estar: '{fixed} {nxt}'."
            elif nxt in _INTENSIFIERS and c.joined(i + 1) and c.low(i + 2) in _ESTAR_ONLY_ADJ:
                hit = f"'{c.low(i + 2)}' describes a state, which takes estar: '{fixed}'."
                hit_es = f"'{c.low(i + 2)}' expresa un estado, y los estados van con estar: '{fixed}'."
            elif nxt in _ESTAR_ONLY_ADJ:
                hit = f"'{nxt}' describes a state, which takes estar: '{fixed}'."
                hit_es = f"'{nxt}' expresa un estado, y los estados van con estar: '{fixed}'."
            elif nxt in ("bien", "mal") and c.end_after(i + 1) and w in _SER_PERSONAL:
                hit = f"How you are uses estar: '{fixed} {nxt}'."
                hit_es = f"Cómo se encuentra uno se dice con estar: '{fixed} {nxt}'."
            elif nxt == "de" and c.low(i + 2) in ("acuerdo", "vacaciones"):
                hit = f"'{fixed} de {c.low(i + 2)}' is a fixed expression with estar."
                hit_es = f"'{fixed} de {c.low(i + 2)}' es una expresión fija con estar."
            if hit:
                yield 3, c.fix(i, i, fixed, "ser_estar", hit, hit_es)
        elif w in _ESTAR_TO_SER:
            fixed = _ESTAR_TO_SER[w]
            k = i + 2 if nxt in ("un", "una") and c.joined(i + 1) else i + 1
            if c.low(k) in _PROFESSIONS and k < c.n:
                why = f"Professions and nationalities use ser: '{fixed} {c.low(k)}'."
                why_es = f"Las profesiones y las nacionalidades van con ser: '{fixed} {c.low(k)}'."
                yield 3, c.fix(i, i, fixed, "ser_estar", why, why_es)
            elif nxt == "de" and c.joined(i + 1) and c.toks[i + 2].text[:1].isupper():
                why = f"Origin uses ser: '{fixed} de {c.toks[i + 2].text}'."
                why_es = f"El origen se expresa con ser: '{fixed} de {c.toks[i + 2].text}'."
                yield 3, c.fix(i, i, fixed, "ser_estar", why, why_es)


def _gustar_number(c: _Ctx, k: int) -> bool | None:
    """Whether the phrase starting at token k is plural (None if it is not a noun phrase)."""
    w = c.low(k)
    if w in _DETS:
        return _DETS[w][1] >= 2
    if w in _POSSESSIVES:
        return False
    if w in _POSSESSIVES.values():
        return True
    info = noun_info(w)
    if info:
        return info.plural
    if w.endswith(("ar", "er", "ir")) and len(w) > 3 and not noun_info(w):
        return False  # infinitive
    return None


def _rule_gustar(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    clitic = {"yo": "me", "tú": "te", "nosotros": "nos", "nosotras": "nos", "ellos": "les", "ellas": "les",
              "él": "le", "ella": "le", "vos": "te"}  # fmt: skip
    for i in range(c.n - 1):
        pron = c.low(i)
        if pron not in clitic or not c.joined(i):
            continue
        j = i + 1
        neg = c.low(j) == "no" and c.joined(j)
        if neg:
            j += 1
        w = c.low(j)
        if (
            pron == "yo"
            and w == "me"
            and c.joined(j)
            and c.low(j + 1) in ("gusta", "gustan", "encanta", "encantan")
        ):
            why = "With gustar the person is an indirect object: 'a mí me gusta' (not 'yo')."
            why_es = "Con gustar la persona es el complemento indirecto: 'a mí me gusta' (no 'yo')."
            yield 2, c.fix(i, i, "a mí", "gustar", why, why_es)
            continue
        stem = "gust" if w.startswith("gust") else "encant" if w.startswith("encant") else ""
        if not stem or w not in {f"{stem}{e}" for e in ("o", "a", "an", "as", "amos")} or not c.joined(j):
            continue
        nxt = c.low(j + 1)
        if nxt in ("a", "de"):
            continue  # "yo gusto a María": María likes me (correct)
        plural = _gustar_number(c, j + 1)
        if plural is None:
            continue
        verb = f"{stem}an" if plural else f"{stem}a"
        fixed = f"{'no ' if neg else ''}{clitic[pron]} {verb}"
        why = (
            f"With {stem}ar the thing liked is the subject and the person an indirect object: "
            f"'{fixed} ...' (literally 'it pleases me')."
        )
        why_es = (
            f"Con {stem}ar lo que gusta es el sujeto y la persona es el complemento indirecto: '{fixed} ...'."
        )
        yield 2, c.fix(i, j, fixed, "gustar", why, why_es)
    # me gusta + plural / me gustan + singular
    for i in range(c.n - 2):
        if c.low(i) not in ("me", "te", "le", "nos", "os", "les") or not c.joined(i):
            continue
        w = c.low(i + 1)
        if w not in ("gusta", "gustan", "encanta", "encantan") or not c.joined(i + 1):
            continue
        k = i + 2
        det = c.low(k)
        if det not in _DETS or _DETS[det][0] not in ("def", "este", "ese", "aquel") or not c.joined(k):
            continue
        noun = noun_info(c.low(k + 1))
        if noun is None or noun.lemma in (
            "lunes",
            "martes",
            "miércoles",
            "jueves",
            "viernes",
            "sábado",
            "domingo",
        ):
            continue
        if any(
            c.low(m) == "y" and (c.low(m + 1) in _DETS or noun_info(c.low(m + 1)))
            for m in range(k + 2, min(c.n, k + 6))
        ):
            continue  # coordinated subjects may take the plural
        plural = noun.plural
        want = (w.rstrip("n") + "n") if plural else w.rstrip("n")
        if want != w:
            why = f"The verb agrees with what is liked ('{c.low(k)} {c.low(k + 1)}'): '{want}'."
            why_es = f"El verbo concuerda con lo que gusta ('{c.low(k)} {c.low(k + 1)}'): '{want}'."
            yield 2, c.fix(i + 1, i + 1, want, "gustar", why, why_es)


def _rule_personal_a(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    for i in range(c.n - 1):
        w = c.low(i)
        if not c.joined(i):
            continue
        verb = None
        nonfinite = False
        for r in readings(w):
            if r.verb in _PERSONAL_A_VERBS and r.person in ("1s", "2s", "1p", "2p", "vos"):
                verb = r.verb
                break
        if verb is None:
            for v in _PERSONAL_A_VERBS:
                nf = conjugate_table(v).nonfinite
                if w in nf["infinitive"] or w in nf["gerund"]:
                    verb, nonfinite = v, True
                    break
        if verb is None:
            continue
        if nonfinite and any(c.low(m) in _CLITICS for m in range(max(0, i - 3), i)):
            continue  # "me va a llamar mi madre": mi madre is the subject
        if i > 0 and c.low(i - 1) in _DETS:
            continue
        det_tok = c.toks[i + 1]
        det = det_tok.low
        if det in _FIRST_NAMES and det_tok.text[:1].isupper():
            why = f"A specific person as direct object takes 'a': '{w} a {det_tok.text}'."
            why_es = f"Una persona concreta como complemento directo lleva 'a': '{w} a {det_tok.text}'."
            yield 3, c.fix(i + 1, i + 1, f"a {det_tok.text}", "personal_a", why, why_es)
            continue
        if not c.joined(i + 1) or c.low(i + 2) not in _PERSON_NOUNS:
            continue
        if det in ("mi", "tu", "su", "mis", "tus", "sus", "nuestro", "nuestra", "nuestros", "nuestras"):
            fixed = f"a {det}"
        elif det in ("el", "la", "los", "las"):
            fixed = "al" if det == "el" else f"a {det}"
        else:
            continue
        why = f"A specific person as direct object takes 'a': '{w} {fixed} {c.low(i + 2)}'."
        why_es = f"Una persona concreta como complemento directo lleva 'a': '{w} {fixed} {c.low(i + 2)}'."
        yield 3, c.fix(i + 1, i + 1, fixed, "personal_a", why, why_es)


def _same_slot(form: str, verb: str, target: str) -> str | None:
    """The form of ``target`` in the tense/person of ``form`` (a form of ``verb``)."""
    table = conjugate_table(verb)
    if form in table.nonfinite["infinitive"]:
        return target
    for tense in INDEXED_TENSES:
        for person, forms in table.forms[tense].items():
            if form in forms:
                return conjugate_form(target, tense, person)
    return None


def _person_of(form: str, verb: str) -> str | None:
    for r in readings(form):
        if r.verb == verb:
            return r.person
    return None


def _rule_false_friends(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    reflexive = {"1s": "me", "2s": "te", "3s": "se", "1p": "nos", "2p": "os", "3p": "se", "vos": "te"}
    for i in range(c.n):
        w = c.low(i)
        nxt = c.low(i + 1) if c.joined(i) else ""
        prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
        if w in ("embarazado", "embarazados") or (
            w in ("embarazada", "embarazadas") and prev in _INTENSIFIERS | {"poco"}
        ):
            fixed = w.replace("embarazad", "avergonzad")
            why = "'embarazado/a' means pregnant; 'embarrassed' is 'avergonzado/a'."
            why_es = "'embarazada' significa que espera un bebé; la vergüenza se dice 'avergonzado/a'."
            yield 2, c.fix(i, i, fixed, "false_friend", why, why_es)
        elif w in ("excitado", "excitada", "excitados", "excitadas") and (
            prev in _INTENSIFIERS or prev in _ESTAR_TO_SER or prev.startswith("estaba")
        ):
            fixed = w.replace("excitad", "emocionad")
            why = "'excitado/a' has a sexual sense; 'excited' is 'emocionado/a' or 'ilusionado/a'."
            why_es = (
                "'excitado/a' tiene un sentido sexual; la ilusión se dice 'emocionado/a' o 'ilusionado/a'."
            )
            yield 2, c.fix(i, i, fixed, "false_friend", why, why_es)
        if not nxt:
            continue
        for verb, follow, target, why, why_es in (
            (
                "aplicar",
                "para",
                "solicitar",
                "'aplicar para' is an anglicism; 'apply for' is 'solicitar'.",
                "'aplicar para' es un calco del inglés (apply for): se dice 'solicitar'.",
            ),
            (
                "tomar",
                "lugar",
                "tener",
                "'take place' is 'tener lugar'.",
                "'tomar lugar' es un calco del inglés (take place): se dice 'tener lugar'.",
            ),
            (
                "hacer",
                "sentido",
                "tener",
                "'make sense' is 'tener sentido'.",
                "'hacer sentido' es un calco del inglés (make sense): se dice 'tener sentido'.",
            ),
        ):
            if nxt != follow or (verb == "aplicar" and prev == "se"):
                continue
            if not (
                w.startswith(verb[:3]) or w.startswith("hic") or w.startswith("hag") or w.startswith("hiz")
            ):
                continue
            slot = _same_slot(w, verb, target)
            if slot:
                fixed = slot if verb == "aplicar" else f"{slot} {follow}"
                yield 2, c.fix(i, i + 1, fixed, "false_friend", why, why_es)
        if nxt == "que" and w.startswith("reali"):
            slot = _same_slot(w, "realizar", "dar")
            person = _person_of(w, "realizar")
            if slot and person:
                fixed = f"{reflexive[person]} {slot} cuenta de que"
            elif slot:
                fixed = "darse cuenta de que"
            else:
                continue
            why = "'realizar' means to carry out; 'realise' is 'darse cuenta de'."
            why_es = "'realizar' significa llevar a cabo; 'realise' se dice 'darse cuenta de'."
            yield 2, c.fix(i, i + 1, fixed, "false_friend", why, why_es)
        if w.startswith("atend") or w.startswith("atiend"):
            k = i + 1
            if c.low(k) in ("la", "el", "a") and c.joined(k):
                k += 1
                if c.low(k) in ("la", "el") and c.joined(k):
                    k += 1
            if c.low(k) in _EVENTS_ATTENDED and readings(w):
                slot = _same_slot(w, "atender", "asistir")
                if slot:
                    det = c.low(k - 1) if k - 1 > i else ""
                    fixed = f"{slot} a {det}".strip() if det not in ("a", "") else f"{slot} a"
                    fixed = fixed.replace("a el", "al")
                    why = "'atender' means to serve or pay attention; 'attend (an event)' is 'asistir a'."
                    why_es = "'atender' es servir o prestar atención; ir a un evento es 'asistir a'."
                    yield 2, c.fix(i, k - 1, fixed, "false_friend", why, why_es)
        if w.startswith("introdu") and nxt == "a" and c.joined(i + 1):
            after = c.low(i + 2)
            if after in _POSSESSIVES or after in ("el", "la", "los", "las") or after in _FIRST_NAMES:
                slot = _same_slot(w, "introducir", "presentar")
                if slot:
                    why = "'introducir' means to insert; introducing a person is 'presentar'."
                    why_es = "'introducir' es meter una cosa dentro de otra; a una persona se la 'presenta'."
                    yield 2, c.fix(i, i, slot, "false_friend", why, why_es)


def _rule_tener(c: _Ctx) -> Iterator[tuple[int, Correction]]:
    to_tener = _TO_TENER
    for i in range(c.n - 1):
        w = c.low(i)
        if w not in to_tener or not c.joined(i):
            continue
        nxt = c.low(i + 1)
        fixed = to_tener[w]
        if (nxt.isdigit() or nxt in _NUMBER_WORDS) and c.joined(i + 1) and c.low(i + 2) in ("años", "año"):
            why = f"Age uses tener: '{fixed} {nxt} años'."
            why_es = f"La edad se dice con tener: '{fixed} {nxt} años'."
            yield 2, c.fix(i, i, fixed, "tener", why, why_es)
        elif nxt in _TENER_NOUNS and w in ("soy", "estoy", "eres", "estás", "somos", "estamos"):
            why = f"'{nxt}' is a noun here: Spanish says 'tener {nxt}' ({fixed} {nxt})."
            why_es = f"'{nxt}' es un sustantivo: se dice 'tener {nxt}' ({fixed} {nxt})."
            yield 2, c.fix(i, i, fixed, "tener", why, why_es)
        elif nxt == "caliente" and w in ("estoy", "estás", "estamos"):
            why = "For people 'estar caliente' has a sexual meaning; feeling hot is 'tener calor'."
            why_es = "Dicho de una persona, 'estar caliente' tiene sentido sexual; se dice 'tener calor'."
            yield 2, c.fix(i, i + 1, f"{fixed} calor", "tener", why, why_es)


_RULES: tuple[Rule, ...] = (
    _rule_agreement,
    _rule_contraction,
    _rule_subject_verb,
    _rule_accents,
    _rule_ser_estar,
    _rule_gustar,
    _rule_personal_a,
    _rule_false_friends,
    _rule_tener,
    rule_subjunctive,
    rule_conditional_si,
)


def check(text: str) -> list[Correction]:
    """Corrections for ``text``, sorted by position, never overlapping."""
    c = _Ctx(text)
    found: list[tuple[int, Correction]] = []
    for rule in _RULES:
        found.extend(rule(c))
    found.sort(key=lambda pc: (pc[0], pc[1].start))
    chosen: list[Correction] = []
    for _, corr in found:
        if all(corr.end <= o.start or corr.start >= o.end for o in chosen):
            chosen.append(corr)
    return sorted(chosen, key=lambda x: x.start)


__all__ = ["Correction", "check"]
