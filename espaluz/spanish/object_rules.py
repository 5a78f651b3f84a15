"""Indirect-object rules: gustar-type verbs (rule ``gustar``) and *le/les* doubling (rule ``le_les``).

- ``gustar``: with *gustar, encantar, interesar, importar, molestar, doler, faltar, quedar, fascinar,
  preocupar, apetecer* the thing liked is the subject and the person an indirect object, so the verb
  agrees with what follows it: *me gusta los perros* → *me gustan*, *me duelen la cabeza* → *me duele*,
  *me gustan bailar y cantar* → *me gusta* (infinitives count as singular). The person as subject is
  corrected too: *yo gusto la pizza* → *me gusta*, *ella gusta el cine* → *a ella le gusta*, *María gusta la
  pizza* → *a María le gusta*, *yo me gusta* → *a mí me gusta*; and *me gusto la película* → *me gustó*.
- ``le_les``: a clitic doubled by *a* + person agrees in number with it: *le di el libro a mis padres* →
  *les di*, *a mis padres le gusta* → *les gusta*, *les escribí a mi madre* → *le escribí*, *le voy a decir
  a ellos* → *les*, and attached to the verb: *quiero decirle a ellos* → *decirles*, *dile a tus padres* →
  *diles*. Only for verbs whose *a* + person is always the indirect object (*dar, decir, escribir,
  explicar, regalar*... and the gustar family).

Precision first. Silent when: the subject is not right after the verb (*me gusta, a veces, ...*) or is
coordinated (*me gusta el cine y el teatro* may take either number), the noun after the verb is a time
expression (*me gusta los domingos ir al cine*: the subject is *ir*), *yo gusto a María* (María likes me),
*él le gusta* without a following subject (*ella le gusta a Juan* is right). For *le/les*: *se le/se lo*
(never touched), verbs whose *le* may be a direct object (leísmo: *le vi a tu hermano*, *le conozco*) or that
take a person as direct object (*les presenté a mi madre*), and any *a* phrase that is not clearly a person
(*le mandé la carta a las oficinas* may be a place).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from espaluz.spanish.agreement import DETS, POSSESSIVES
from espaluz.spanish.conjugation import conjugate_table
from espaluz.spanish.correction_scan import Correction, Scan, words
from espaluz.spanish.nouns import noun_info
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.verb_index import COMMON_VERBS, readings

GUSTAR_VERBS = frozenset(
    words("gustar encantar interesar importar molestar doler faltar quedar fascinar preocupar apetecer")
)
_TENSES = ("indicative.present", "indicative.imperfect", "indicative.preterite", "indicative.future",
           "conditional.present")  # fmt: skip
# How a reason names the subject of each verb (English, Spanish); gustar, encantar, fascinar: "what is liked".
_SUBJECT_WORDS = {
    "doler": ("what hurts", "lo que duele"),
    "faltar": ("what is missing", "lo que falta"),
    "quedar": ("its subject", "su sujeto"),
    "molestar": ("what bothers", "lo que molesta"),
    "preocupar": ("what worries", "lo que preocupa"),
    "importar": ("what matters", "lo que importa"),
    "interesar": ("what interests", "lo que interesa"),
    "apetecer": ("what you feel like", "lo que apetece"),
}
_IO_CLITICS = frozenset(words("me te le nos os les"))
# Words allowed between the verb and its subject: "me gusta mucho el cine".
_ADVERBS = frozenset(
    words("mucho muchísimo más bastante tanto también siempre todavía aún demasiado bien mal")
)
# The 1st person present spelled like the 3rd person preterite without its accent: "me gusto la película"
# is "me gustó" (a person who likes herself says "me gusto", with no noun after it).
_ACCENTLESS_PRETERITE = {
    "gusto": "gustar",
    "encanto": "encantar",
    "fascino": "fascinar",
    "intereso": "interesar",
}
# Nouns that after gustar are usually time adverbials, not the subject ("me gusta los lunes ir al cine").
_TIME_NOUNS = frozenset(
    words(
        "lunes martes miércoles jueves viernes sábado sábados domingo domingos fin fines mañana mañanas "
        "tarde tardes noche noches día días semana semanas mes meses año años verano veranos invierno "
        "inviernos primavera primaveras otoño otoños vez veces momento momentos hora horas"
    )
)
_NOT_NOUNS = frozenset(words("mismo misma mismos mismas demás cual cuales cuyo cuya otros otras todos todas"))
_PLURAL_NUMBERS = frozenset(words("dos tres cuatro cinco seis siete ocho nueve diez veinte cien mil"))
_SUBJECT_CLITIC = {
    "yo": "me", "tú": "te", "vos": "te", "nosotros": "nos", "nosotras": "nos", "vosotros": "os",
    "vosotras": "os", "él": "le", "ella": "le", "usted": "le", "ellos": "les", "ellas": "les",
    "ustedes": "les",
}  # fmt: skip
_STRESSED = {"me": "a mí", "te": "a ti", "nos": "a nosotros", "os": "a vosotros"}
_GUSTO_STEMS = ("gust", "encant", "interes", "fascin")


@cache
def _gustar_forms() -> dict[str, tuple[str, str, str]]:
    """Third-person forms of the gustar-type verbs: form → (verb, tense, '3s'|'3p')."""
    out: dict[str, tuple[str, str, str]] = {}
    for verb in GUSTAR_VERBS:
        table = conjugate_table(verb)
        for tense in _TENSES:
            for person in ("3s", "3p"):
                for form in table.forms[tense].get(person, ()):
                    out.setdefault(form, (verb, tense, person))
    return out


@cache
def _form_of(verb: str, tense: str, person: str) -> str:
    return conjugate_table(verb).forms[tense][person][0]


@cache
def _infinitives() -> frozenset[str]:
    return frozenset(COMMON_VERBS) | GUSTAR_VERBS


def _is_infinitive(w: str) -> bool:
    if w in _infinitives():
        return True
    return len(w) > 4 and w.endswith(("ar", "er", "ir", "ír")) and noun_info(w) is None and not readings(w)


def _np_number(c: Scan, k: int) -> tuple[bool, int] | None:
    """(plural?, last token) of a clear noun phrase or infinitive starting at token k, else None."""
    w = c.low(k)
    if not w:
        return None
    nxt = c.low(k + 1) if c.joined(k) else ""
    if w in DETS or w in POSSESSIVES or w in POSSESSIVES.values() or w in _PLURAL_NUMBERS:
        if not nxt or nxt in _TIME_NOUNS or c.toks[k + 1].text[:1].isupper():
            return None
        plural = DETS[w][1] >= 2 if w in DETS else (w in POSSESSIVES.values() or w in _PLURAL_NUMBERS)
        info = noun_info(nxt)
        if info is not None:
            if info.lemma in _TIME_NOUNS or (plural != info.plural and not info.invariant):
                return None  # a time adverbial, or the agreement rule speaks first
            return plural, k + 1
        # A word the noun lexicon lacks (videojuegos, dinosaurios): trusted only when its -s agrees with
        # the determiner and it is nothing else the engine knows.
        if len(nxt) < 4 or not nxt.isalpha() or readings(nxt) or nxt in _NOT_NOUNS:
            return None
        return (plural, k + 1) if nxt.endswith("s") == plural else None
    if _is_infinitive(w):
        return False, k
    return None


def _coordinated(c: Scan, end: int) -> bool:
    """A 'y/e/o/ni' within a few words after the phrase ending at token ``end`` (same clause) that joins
    another noun phrase (*el cine y el teatro*), not a new clause (*los perros y quiero...*)."""
    m = end
    while m < min(c.n - 1, end + 5) and c.joined(m):
        m += 1
        if c.low(m) in ("y", "e", "o", "u", "ni"):
            after = c.low(m + 1)
            np_start = after in DETS or after in POSSESSIVES or after in POSSESSIVES.values()
            return np_start or noun_info(after) is not None or _is_infinitive(after)
    return False


def _infinitives_coordinated(c: Scan, end: int) -> bool:
    """Token ``end`` is an infinitive and the word after the next 'y/e/o' is one too (*bailar y cantar*)."""
    if not _is_infinitive(c.low(end)):
        return False
    m = end + 1
    return c.joined(end) and c.low(m) in ("y", "e", "o", "u", "ni") and _is_infinitive(c.low(m + 1))


def _accentless_preterite(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*me gusto la película* → *me gustó*, *me encanto los regalos* → *me encantaron*."""
    v = i + 1
    verb = _ACCENTLESS_PRETERITE.get(c.low(v))
    if verb is None or c.low(i) == "os" or not c.joined(i) or not c.joined(v):
        return
    if i > 0 and c.low(i - 1) == "se":
        return
    np = _np_number(c, v + 1)
    if np is None or _is_infinitive(c.low(v + 1)) or _coordinated(c, np[1]):
        return
    new = _form_of(verb, "indicative.preterite", "3p" if np[0] else "3s")
    what = c.text[c.toks[v + 1].start : c.toks[np[1]].end]
    mine = c.low(v)
    why = f"'{what}' is what pleased, so the verb is 3rd person past: '{new}' ('{mine}' means 'I please')."
    why_es = (
        f"Lo que gustó es '{what}': el verbo va en 3.ª persona del pasado, '{new}' ('{mine}' es de 'yo')."
    )
    yield 2, c.fix(v, v, new, "gustar", why, why_es)


def _agreement(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """Clitic at token i + gustar-type verb + subject: the verb's number follows the subject."""
    v = i + 1
    form = _gustar_forms().get(c.low(v))
    if form is None:
        yield from _accentless_preterite(c, i)
        return
    if not c.joined(i) or not c.joined(v) or (i > 0 and c.low(i - 1) == "se"):
        return
    verb, tense, person = form
    k = v + 1
    while c.low(k) in _ADVERBS and c.joined(k) and k - v <= 2:
        k += 1
    if c.low(k) in ("a", "de", "que", "en", "por", "con"):
        return
    np = _np_number(c, k)
    if np is None:
        return
    plural, end = np
    if _coordinated(c, end) and not _infinitives_coordinated(c, end):
        return
    want = "3p" if plural else "3s"
    if want == person:
        return
    new = _form_of(verb, tense, want)
    what = c.text[c.toks[k].start : c.toks[end].end]
    liked, liked_es = _SUBJECT_WORDS.get(verb, ("what is liked", "lo que gusta"))
    if plural:
        why = f"With {verb} the verb agrees with {liked}, '{what}' (plural): '{new}'."
        why_es = f"Con {verb} el verbo concuerda con {liked_es}, '{what}', que es plural: '{new}'."
    elif end == k and _is_infinitive(c.low(k)):
        why = f"With {verb} + infinitive the verb stays singular, even with several infinitives: '{new}'."
        why_es = f"Con {verb} + infinitivo el verbo va en singular, aunque haya varios infinitivos: '{new}'."
    else:
        why = f"With {verb} the verb agrees with {liked}, '{what}' (singular): '{new}'."
        why_es = f"Con {verb} el verbo concuerda con {liked_es}, '{what}', que es singular: '{new}'."
    yield 2, c.fix(v, v, new, "gustar", why, why_es)


def _person_as_subject(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """Subject pronoun at token i used with a gustar-type verb: *yo gusto la pizza*, *yo me gusta*."""
    pron = c.low(i)
    clitic = _SUBJECT_CLITIC.get(pron)
    if clitic is None or not c.joined(i) or (i > 0 and c.low(i - 1) in ("a", "de", "para", "con", "que")):
        return
    j = i + 1
    neg = c.low(j) == "no" and c.joined(j)
    if neg:
        j += 1
    w = c.low(j)
    third = clitic in ("le", "les")
    if w == clitic and c.joined(j) and not third:
        form = _gustar_forms().get(c.low(j + 1))
        if form is not None:
            stressed = "a vos" if pron == "vos" else _STRESSED[clitic]
            why = f"With {form[0]} the person is an indirect object: '{stressed} {clitic} ...', not '{pron}'."
            why_es = (
                f"Con {form[0]} la persona es complemento indirecto: '{stressed} {clitic} ...', no '{pron}'."
            )
            yield 2, c.fix(i, i, stressed, "gustar", why, why_es)
        return
    if third and w == clitic and c.joined(j):
        form = _gustar_forms().get(c.low(j + 1))
        if form is None or not c.joined(j + 1) or c.low(j + 2) == "a":
            return
        np = _np_number(c, j + 2)
        if np is None:
            return  # "ella le gusta a Juan" / "ella le gusta": she pleases him
        fixed = f"a {pron}"
        why = f"With {form[0]} the person is an indirect object: '{fixed} {clitic} ...', not '{pron}' alone."
        why_es = (
            f"Con {form[0]} la persona es complemento indirecto: '{fixed} {clitic} ...', no '{pron}' solo."
        )
        yield 2, c.fix(i, i, fixed, "gustar", why, why_es)
        return
    stem = next((s for s in _GUSTO_STEMS if w.startswith(s)), "")
    endings = ("o", "a", "an", "as", "amos", "áis", "ás")
    if not stem or w not in {f"{stem}{e}" for e in endings} or not c.joined(j):
        return
    if c.low(j + 1) in ("a", "de"):
        return  # "yo gusto a María": María likes me (correct)
    np = _np_number(c, j + 1)
    if np is None or _coordinated(c, np[1]):
        return
    verb = f"{stem}an" if np[0] else f"{stem}a"
    lead = f"a {pron} " if third else ""
    fixed = f"{lead}{'no ' if neg else ''}{clitic} {verb}"
    why = (
        f"With {stem}ar the thing liked is the subject and the person an indirect object: "
        f"'{fixed} ...' (literally 'it pleases me')."
    )
    why_es = f"Con {stem}ar lo que gusta es el sujeto y la persona es complemento indirecto: '{fixed} ...'."
    yield 2, c.fix(i, j, fixed, "gustar", why, why_es)


def _name_as_subject(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*María gusta la pizza* → *A María le gusta la pizza* (a name, then gusta/encanta + a clear subject)."""
    if not c.joined(i) or (
        i > 0 and c.joined(i - 1) and c.low(i - 1) in ("a", "de", "que", "y", "con", "para")
    ):
        return
    v = i + 1
    neg = c.low(v) == "no" and c.joined(v)
    if neg:
        v += 1
    form = _gustar_forms().get(c.low(v))
    if (
        form is None
        or form[0] not in ("gustar", "encantar")
        or not c.joined(v)
        or c.low(v + 1) in ("a", "de")
    ):
        return
    np = _np_number(c, v + 1)
    if np is None or _coordinated(c, np[1]):
        return
    new = _form_of(form[0], form[1], "3p" if np[0] else "3s")
    name = c.toks[i].text
    fixed = f"a {name} {'no ' if neg else ''}le {new}"
    why = f"With {form[0]} the person is an indirect object: '{fixed} ...' ('{name}' is not the subject)."
    why_es = f"Con {form[0]} la persona es complemento indirecto: '{fixed} ...' ('{name}' no es el sujeto)."
    yield 2, c.fix(i, v, fixed, "gustar", why, why_es)


def rule_gustar(c: Scan) -> Iterator[tuple[int, Correction]]:
    """Gustar-type verbs: the person is the indirect object and the verb agrees with what is liked."""
    for i in range(c.n - 1):
        w = c.low(i)
        if w in _IO_CLITICS:
            yield from _agreement(c, i)
        elif w in _SUBJECT_CLITIC:
            yield from _person_as_subject(c, i)
        elif w in _FIRST_NAMES and c.toks[i].text[:1].isupper():
            yield from _name_as_subject(c, i)


# ------------------------------------------------------------------------------------------
# le / les

# Verbs whose a + person is always the indirect object, so le/les must agree with it. Verbs whose le may
# be a direct object (leísmo: "le vi", "le conozco") or that take a person as direct object next to an
# indirect one ("les presenté a mi madre": I introduced my mother to them) are not listed: silent.
_IO_VERBS = (
    frozenset(
        words(
            "dar decir escribir contar explicar preguntar pedir regalar comprar hablar responder contestar "
            "mentir prestar ofrecer prometer agradecer devolver vender pagar preparar cocinar abrir "
            "cantar leer mostrar dedicar recordar"
        )
    )
    | GUSTAR_VERBS
    | {"parecer", "pasar", "costar", "tocar", "ocurrir", "suceder", "sentar"}
)
_CLAUSE_WORDS = frozenset(words("que y e pero porque cuando si aunque mientras"))
_FIRST_NAMES = frozenset(
    words(
        "juan maría pedro ana carlos luis josé carmen laura pablo sofía lucía miguel javier elena marta "
        "diego daniel david isabel rosa antonio manuel francisco sara paula andrés jorge raúl teresa pilar "
        "beatriz mónica patricia alberto fernando sergio cristina julia alejandro valentina camila mateo"
    )
)
_PERSON_PLURALS = frozenset(
    f"{stem}{end}"
    for stem in words(
        "herman hij abuel tí prim amig novi espos vecin compañer maestr chic niñ alumn invitad "
        "emplead médic abogad camarer hermanit sobrin suegr cuñad nuev"
    )
    for end in ("os", "as")
) | frozenset(
    words(
        "padres madres estudiantes profesores profesoras clientes jefes jefas señores señoras hombres "
        "mujeres personas gente doctores doctoras perros gatos animales pacientes trabajadores "
        "trabajadoras turistas compañeros vecinos demás niños jóvenes adultos mayores pájaros"
    )
)
_PERSON_SINGULARS = frozenset(
    f"{stem}{end}"
    for stem in words(
        "herman hij abuel tí prim amig novi espos vecin compañer maestr chic niñ alumn "
        "médic abogad camarer sobrin suegr cuñad"
    )
    for end in ("o", "a")
) | frozenset(
    words(
        "madre padre mamá papá marido mujer profesor profesora jefe jefa señor señora doctor doctora "
        "cliente estudiante perro gata gato bebé hombre persona paciente vecino director directora"
    )
)
_PLURAL_PRONOUNS = frozenset(words("ellos ellas ustedes todos todas nosotros nosotras vosotros vosotras"))
_SINGULAR_PRONOUNS = frozenset(words("él ella usted"))


def _a_phrase(c: Scan, k: int) -> tuple[bool, int] | None:
    """(plural?, last token) of 'a' + person at token k ('a' itself), or None if not clearly a person."""
    if c.low(k) != "a" or not c.joined(k):
        return None
    w = c.low(k + 1)
    if w in _PLURAL_PRONOUNS:
        return True, k + 1
    if w in _SINGULAR_PRONOUNS or (w in _FIRST_NAMES and c.toks[k + 1].text[:1].isupper()):
        end = k + 1
    elif (w in DETS or w in POSSESSIVES or w in POSSESSIVES.values()) and c.joined(k + 1):
        head = c.low(k + 2)
        det_plural = DETS[w][1] >= 2 if w in DETS else w in POSSESSIVES.values()
        if DETS.get(w, ("",))[0] not in ("", "def", "este", "ese", "aquel", "nuestro", "vuestro"):
            return None
        if head in _PERSON_PLURALS and det_plural:
            return True, k + 2
        if head not in _PERSON_SINGULARS or det_plural:
            return None
        end = k + 2
    else:
        return None
    # "a Juan y a María", "a mi madre y mi padre": coordinated → plural
    if c.joined(end) and c.low(end + 1) in ("y", "e"):
        return True, end
    return False, end


def _le_les_fix(c: Scan, i: int, plural: bool, phrase: str) -> Correction:
    new = "les" if plural else "le"
    w = c.low(i)
    # an enclitic keeps its verb: decirle → decirles, decirles → decirle
    span_new = new if w in ("le", "les") else (w + "s" if plural else w[:-1])
    number_en = "plural" if plural else "singular"
    number_es = "plural" if plural else "singular"
    why = f"The indirect object pronoun agrees with '{phrase}' ({number_en}): '{new}'."
    why_es = f"El pronombre de complemento indirecto concuerda con '{phrase}', que es {number_es}: '{new}'."
    return c.fix(i, i, span_new, "le_les", why, why_es)


@cache
def _io_forms() -> dict[str, frozenset[str]]:
    """Every finite form of the indirect-object verbs → the verbs it can belong to."""
    out: dict[str, set[str]] = {}
    for verb in _IO_VERBS:
        for persons in conjugate_table(verb).forms.values():
            for forms in persons.values():
                for form in forms:
                    if " " not in form:
                        out.setdefault(form, set()).add(verb)
    return {form: frozenset(vs) for form, vs in out.items()}


# Verbs that lend their clitic to the infinitive after them: "le voy a decir", "les quiero regalar".
_CLIMBING = frozenset(words("querer poder deber ir tener necesitar pensar acabar volver empezar"))


def _io_only(form: str) -> bool:
    """A finite form of an indirect-object verb, and of no other verb the index knows."""
    return form in _io_forms() and all(r.verb in _IO_VERBS for r in readings(form))


def _io_verb_end(c: Scan, i: int) -> int | None:
    """The last token of the verb group after clitic i when its verb takes an indirect object: the finite
    verb (*le di*), or the infinitive the clitic climbed from (*le voy a decir*, *les tengo que escribir*)."""
    if not c.joined(i):
        return None
    v = i + 1
    if _io_only(c.low(v)):
        return v
    rs = readings(c.low(v))
    if rs and all(r.verb == "haber" for r in rs) and c.joined(v):
        return v + 1 if c.low(v + 1) in _io_participles() else None  # "no le he dicho"
    if not rs or not all(r.verb in _CLIMBING for r in rs) or not c.joined(v):
        return None
    k = v + 1
    if c.low(k) in ("a", "que", "de") and c.joined(k):
        k += 1
    return k if c.low(k) in _IO_VERBS else None


@cache
def _io_participles() -> frozenset[str]:
    """Past participles of the indirect-object verbs (*dicho, dado, escrito*)."""
    return frozenset(p for verb in _IO_VERBS for p in conjugate_table(verb).nonfinite["participle"])


@cache
def _enclitic_bases() -> dict[str, str]:
    """Accentless infinitives, gerunds and affirmative imperatives of the indirect-object verbs → verb
    (*decir, diciendo, di, diga, digan*), to recognise *decirle, diciéndoles, dile, dígales*."""
    out: dict[str, str] = {}
    for verb in _IO_VERBS:
        table = conjugate_table(verb)
        bases = [*table.nonfinite["infinitive"], *table.nonfinite["gerund"]]
        for person in ("2s", "3s", "3p", "vos"):
            bases.extend(table.forms["imperative.affirmative"].get(person, ()))
        for base in bases:
            out.setdefault(strip_accents(base), verb)
    return out


def _enclitic(w: str) -> str | None:
    """The verb of an infinitive, gerund or imperative with le/les attached (decirle, dales), else None."""
    for suffix in ("les", "le"):
        if w.endswith(suffix) and len(w) > len(suffix) + 1:
            verb = _enclitic_bases().get(strip_accents(w[: -len(suffix)]))
            if verb is not None:
                return verb
    return None


def rule_le_les(c: Scan) -> Iterator[tuple[int, Correction]]:
    """*le/les* agree in number with the doubled *a* + person phrase."""
    for i in range(c.n):
        w = c.low(i)
        clitic = w in ("le", "les")
        if not clitic and not _enclitic(w):
            continue
        if clitic and i > 0 and c.low(i - 1) == "se" and c.joined(i - 1):
            continue
        if clitic and c.low(i + 1) in ("lo", "la", "los", "las"):
            continue
        plural_clitic = w.endswith("les")
        verb_end = _io_verb_end(c, i) if clitic else i
        if verb_end is None:
            continue
        # fronted: "a mis padres (no) le gusta"
        m = i - 1
        while m >= 0 and c.low(m) in ("no", "también", "tampoco", "nunca", "siempre", "ya") and c.joined(m):
            m -= 1
        found = None
        if clitic:
            for start in (m - 2, m - 1):
                if start >= 0 and all(c.joined(t) for t in range(start, i)):
                    ap = _a_phrase(c, start)
                    if ap is not None and ap[1] == m:
                        found = (start, ap)
                        break
        if found is None:
            k = verb_end + 1
            limit = min(c.n, k + 6)
            while k < limit and c.joined(k - 1) and c.low(k) not in _CLAUSE_WORDS:
                ap = _a_phrase(c, k)
                if ap is not None:
                    found = (k, ap)
                    break
                k += 1
        if found is None:
            continue
        start, (plural, end) = found
        if plural == plural_clitic:
            continue
        phrase = c.text[c.toks[start].start : c.toks[end].end]
        yield 2, _le_les_fix(c, i, plural, phrase)
