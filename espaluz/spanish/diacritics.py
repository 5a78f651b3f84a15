"""The ``accent`` correction rule: diacritic pairs decided by their context, never by the word alone.

Spanish writes an accent on one member of many word pairs to tell two grammatical roles apart:
*tú eres* (pronoun) / *tu casa* (possessive), *él es* / *el río*, *sé* (I know) / *se llama*,
*sí* (yes) / *si llueve* (if), *mí* / *mi*, *más* / *mas*, *té* (tea) / *te* (clitic), *dé* (give) /
*de*, *está* / *esta*, *aún* (still) / *aun así* (even so), and the question words (*qué, cómo,
dónde, cuándo, quién, cuál, cuánto*) in direct questions, indirect questions (*no sé qué hacer*,
*dime dónde vives*, *pregunta cuánto cuesta*) and exclamations (*¡qué bonito!*), but not as
relatives or conjunctions (*el libro que leo*, *la casa donde vivo*, *cuando llegues*, *como
siempre*, *¡que te vaya bien!*).

:func:`rule_accents` looks at the neighbours of each candidate word (is the next word a verb of the
right person? a subjunctive? the end of the sentence?) and fires only when one reading is left.
Precision comes first: whenever both spellings could be right (*dime que me quieres* / *dime qué
quieres*, *recuerdo cuando era niño*), it stays silent. The rule name is ``accent``; every
correction has its reason in English and Spanish.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from espaluz.spanish.correction_scan import (
    CLITICS,
    NON_VERB_READINGS,
    SENTENCE_MARKS,
    Correction,
    Scan,
    words,
)
from espaluz.spanish.nouns import adjective_info, noun_info
from espaluz.spanish.verb_index import COMMON_VERBS, Reading, readings

RULE = "accent"

INTERROGATIVES: dict[str, str] = {
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
"""Unaccented spelling → the question word; the keys are also relatives or conjunctions."""

_QUESTION_WORDS = frozenset(INTERROGATIVES) | frozenset(INTERROGATIVES.values())
_PREPOSITIONS = frozenset(words("a de para por sin con contra hacia hasta desde sobre según entre"))
_Q_PREPOSITIONS = frozenset(words("de a por para con en desde hasta sin sobre"))
# Words that may stand between ¿/¡ and the question word: "¿Y dónde...?", "¿Tú qué crees?".
_Q_LEAD = frozenset(words("y e pero entonces pues bueno tú usted vos ustedes")) | _Q_PREPOSITIONS
_INTENSIFIERS = frozenset(words("muy tan bastante demasiado super súper"))
# What may stand right before "pregunta" the verb (not the noun: "la/otra/una pregunta que...").
_ASKER = frozenset(words("me te se le les nos os no yo tú él ella usted ellos ellas ustedes"))
_SUBJECT_PRONOUNS = frozenset(
    words("yo tú él ella usted nosotros nosotras vosotros vosotras ellos ellas ustedes")
)
# Words that may come between a question word and its verb: "no sé dónde se compra", "cuánto me cuesta".
_BEFORE_VERB = frozenset(words("no ya se me te le lo la les los las nos os")) | _SUBJECT_PRONOUNS

_STATE_ADJ = frozenset(
    f"{stem}{end}"
    for stem in words(
        "cansad ocupad enferm enojad enfadad preocupad nervios aburrid list muert llen vací abiert "
        "cerrad rot suci limpi loc casad sentad dormid despiert perdid equivocad segur emocionad "
        "mojad resfriad hart"
    )
    for end in ("o", "a", "os", "as")
) | frozenset(words("contento contenta contentos contentas bien mal embarazada"))
_PLACE_ADVERBS = frozenset(words("bien mal aquí ahí allí allá acá lejos cerca"))

# Indirect questions. The verbs that open one, by the question words they take: *que* only before an
# infinitive (*no sé qué hacer*; *sé que es verdad* is a plain *that*), the others before a verb in the
# indicative (*dime cuando llegues* is a time clause: no accent).
_SABER_FORMS = frozenset(
    words(
        "sé sabes sabe sabemos sabéis saben sabés sabía sabías sabíamos sabían supe supiste supo supimos "
        "supieron saber sabré sabrás sabrá"
    )
)
_ASK_FORMS = frozenset(
    words(
        "pregunto preguntas pregunta preguntamos preguntan preguntó pregunté preguntaste preguntaron "
        "preguntaba preguntaban preguntar pregúntale pregúntales pregúntame preguntale preguntame"
    )
)
_TELL_FORMS = frozenset(
    words("dime dinos dile diles decime decile dígame díganme dígale explícame explícamelo explicame")
)
_UNDERSTAND_FORMS = frozenset(words("entiendo entiendes entiende entendemos entienden entendí entendía"))
_REMEMBER_FORMS = frozenset(
    words("recuerdo recuerdas recuerda recordamos recuerdan olvidé olvidó olvidaste acuerdo acuerdas acuerda")
)
_INDIRECT_WORDS: dict[frozenset[str], frozenset[str]] = {
    _SABER_FORMS: frozenset(INTERROGATIVES),
    _ASK_FORMS: frozenset(INTERROGATIVES),
    _TELL_FORMS: frozenset(INTERROGATIVES) - {"cuando"},
    _UNDERSTAND_FORMS: frozenset(words("que como cual cuales")),
    _REMEMBER_FORMS: frozenset(words("que donde quien quienes cuanto cuanta cuantos cuantas")),
}
# Nouns after which *que* is "which": "no sé qué hora es", "¿sabes qué día es hoy?".
_WHICH_NOUNS = frozenset(words("hora día tipo clase color número talla idioma fecha tiempo año mes"))
# Words after which an exclamation is "¡qué ...!" even though the lexicon does not know them as adjectives.
_EXCLAIMED = frozenset(
    words(
        "bien mal pena lástima suerte horror asco lindo linda lindos lindas guay rico rica ricos ricas "
        "bonito bonita bonitos bonitas bueno buena malo mala raro rara rollo alegría vergüenza miedo frío "
        "calor hambre sueño tarde pronto rápido fuerte grande increíble maravilla barbaridad tontería "
        "gracioso graciosa tan más"
    )
)
_YES_AFTER_COMMA = frozenset(words("claro gracias señor señora vale bueno exacto perfecto también sí"))
_YES_BEFORE_QUE = frozenset(words("eso ahora esto ya hoy"))
_TEA_DETS = frozenset(words("un el del al mi tu su este ese otro ningún buen"))
_TEA_VERBS = frozenset(words("tomo tomas toma tomamos toman tomar bebo bebes bebe beber quiero quieres tomé"))
_TEA_FOLLOW = frozenset(words("verde negro rojo frío caliente con de o y helado"))
# Words after which a noun-verb homograph (casa, ayuda, cambio) is read as the noun.
_NOUN_BEFORE = frozenset(
    words(
        "el la los las un una unos unas mi mis tu tus su sus este esta ese esa del al de con en sin por para"
    )
)
_DAR_CLITICS = frozenset(words("me le les nos"))
# Nouns that are also 3rd-person verb forms and follow *el* as nouns before *de* (*el ama de casa*).
_EL_NOUN_HOMOGRAPHS = frozenset(words("ama habla vale debe parte cuenta pase alza toma llama"))
_ENCLITICS = re.compile(r"(?:(?:me|te|se|nos|os)(?:lo|la|los|las|le|les)?|lo|la|los|las|le|les)$")


@cache
def _infinitives() -> frozenset[str]:
    return frozenset(COMMON_VERBS)


def _is_infinitive(w: str) -> bool:
    """``hacer``, ``decirte``, ``comprarlo``: an infinitive of a known verb, with or without clitics."""
    if w in _infinitives():
        return True
    bare = _ENCLITICS.sub("", w)
    if bare != w:
        bare = bare.replace("á", "a").replace("é", "e").replace("í", "i")
        return bare in _infinitives()
    return False


def _finite(w: str) -> tuple[Reading, ...]:
    """The finite readings of ``w``, none for the words learners nearly always use otherwise."""
    return () if w in NON_VERB_READINGS else readings(w)


def _subjunctive_only(rs: tuple[Reading, ...]) -> bool:
    return bool(rs) and all(r.tense.startswith("subjunctive") for r in rs)


def _has_person(rs: tuple[Reading, ...], person: str, *, indicative: bool = False) -> bool:
    return any(r.person == person and not (indicative and r.tense.startswith("subjunctive")) for r in rs)


def _sentence_start(c: Scan, i: int) -> bool:
    return i == 0 or any(ch in c.gap(i) for ch in SENTENCE_MARKS)


def _sentence_end_mark(c: Scan, i: int) -> tuple[str, str]:
    """(the text between token i and the end of its sentence, the mark that ends it: '?', '.', '')."""
    rest = c.text[c.toks[i].end :]
    m = re.search(r"[.!?…]", rest)
    return (rest[: m.start()], m.group()) if m else (rest, "")


def _asks(c: Scan, i: int) -> bool:
    """The sentence of token i is a question: an opening ¿ before it, or a closing ? after it."""
    return c.in_question(i) or _sentence_end_mark(c, i)[1] == "?"


def _opened_by(c: Scan, i: int, mark: str) -> bool:
    """Token i opens a question/exclamation (``mark`` ¿ or ¡), perhaps after *y*, *pero*, a preposition."""
    k = i
    for _ in range(3):
        if c.gap(k).rstrip().endswith(mark):
            # after a lead word ("¿Y cuando llegues, ...?") a comma may hide a subordinate clause
            return k == i or "," not in _sentence_end_mark(c, i)[0]
        if k == 0 or not c.joined(k - 1) or c.low(k - 1) not in _Q_LEAD:
            return False
        k -= 1
    return False


def _verb_after(c: Scan, k: int) -> str:
    """The first word from token k on that is not a clitic, *no* or a subject ('' at a clause break)."""
    for _ in range(4):
        w = c.low(k)
        if w not in _BEFORE_VERB:
            return w
        if not c.joined(k):
            return ""
        k += 1
    return ""


def _fix(c: Scan, i: int, new: str, prio: int, why: str, why_es: str) -> tuple[int, Correction]:
    return prio, c.fix(i, i, new, RULE, why, why_es)


def rule_accents(c: Scan) -> Iterator[tuple[int, Correction]]:
    """Yield ``(priority, Correction)`` for each diacritic the context proves wrong (rule ``accent``)."""
    for i in range(c.n):
        w = c.low(i)
        if w in ("esta", "estas"):
            yield from _estar(c, i)
        elif w in INTERROGATIVES or w in ("porque", "por"):
            yield from _question_word(c, i)
        elif w == "el" and c.toks[i].text in ("el", "El"):
            yield from _el(c, i)
        elif w == "tu":
            yield from _tu(c, i)
        elif w == "si":
            yield from _si(c, i)
        elif w == "mas":
            if not c.gap(i).strip().endswith((",", ";")):
                why = "'more' is 'más' (with accent); 'mas' is a literary 'but'."
                why_es = "La cantidad se escribe 'más', con tilde; 'mas' sin tilde es un 'pero' literario."
                yield _fix(c, i, "más", 5, why, why_es)
        elif w == "mi":
            yield from _mi(c, i)
        elif w == "se":
            yield from _se(c, i)
        elif w == "te":
            yield from _te(c, i)
        elif w == "de":
            yield from _de(c, i)
        elif w in ("aun", "aún"):
            yield from _aun(c, i)


def _estar(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*esta/estas* (this/these) → *está/estás* (the verb) where a verb is needed."""
    w = c.low(i)
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    fixed = "está" if w == "esta" else "estás"
    why = f"'{w}' (this/these) is a demonstrative; the verb estar is '{fixed}'."
    why_es = f"'{w}' es un demostrativo; la forma del verbo estar es '{fixed}', con tilde."
    if nxt in ("usted", "ustedes", "él", "ella", "tú", "vos") or (
        prev in ("dónde", "donde", "cómo", "como") and _asks(c, i)
    ):
        yield _fix(c, i, fixed, 4, why, why_es)
        return
    if prev and readings(prev):
        return  # "compré esta bien barata": esta is the object
    k = i + 2 if nxt in _INTENSIFIERS and c.joined(i + 1) else i + 1
    word_k = c.low(k) if k < c.n and c.joined(k - 1) else ""
    if (
        word_k in _PLACE_ADVERBS
        or (word_k.endswith(("ando", "iendo", "yendo")) and len(word_k) > 5)
        or (word_k in _STATE_ADJ and (c.end_after(k) or c.low(k + 1) in ("y", "pero", "porque", "hoy")))
        or (nxt == "de" and c.low(i + 2) in ("acuerdo", "vacaciones", "viaje") and c.joined(i + 1))
        or (nxt == "muy" and c.joined(i + 1))  # a demonstrative is never followed by "muy"
    ):
        yield _fix(c, i, fixed, 4, why, why_es)
        return
    # "mi madre esta en casa": a subject (noun, pronoun) then *esta en*: only the verb reads.
    if w == "esta" and nxt == "en" and (noun_info(prev) is not None or prev in _SUBJECT_PRONOUNS):
        yield _fix(c, i, fixed, 4, why, why_es)


def _question_word(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    w = c.low(i)
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    if w == "porque":
        if c.gap(i).rstrip().endswith("¿") or (_sentence_start(c, i) and _bare_question(c, i)):
            why = "In a question, 'why' is 'por qué' (two words, accent)."
            why_es = "En una pregunta se escribe 'por qué': separado y con tilde."
            yield _fix(c, i, "por qué", 4, why, why_es)
        return
    if w == "por":
        bare = _sentence_start(c, i) and _bare_question(c, i)
        if nxt == "que" and (bare or _indirect_trigger(c, i) is not None):
            why_es = "En una pregunta, directa o indirecta, se escribe 'por qué', con tilde."
            yield _fix(c, i + 1, "qué", 4, "In a question, direct or indirect, 'why' is 'por qué'.", why_es)
        return
    acc = INTERROGATIVES[w]
    verb = _verb_after(c, i + 1) if nxt else ""
    if w in ("cuando", "como", "donde", "quien") and _subjunctive_only(_finite(verb)):
        return  # "¿Y cuando llegues, qué hacemos?": a time clause inside the question
    if w == "que" and nxt in ("no", "sí", "si"):
        return  # "¿Que no vienes?" echoes what was said (no accent); "¿Qué no entiendes?" asks: unsure
    if _opened_by(c, i, "¿"):
        why = f"Question words carry an accent: '{acc}'."
        why_es = f"Las palabras interrogativas llevan tilde: '{acc}'."
        yield _fix(c, i, acc, 4, why, why_es)
        return
    if _opened_by(c, i, "¡") and _exclamative(c, i):
        why = f"In an exclamation ('how...!', 'what a...!') the word carries an accent: '{acc}'."
        why_es = f"En una exclamación la palabra lleva tilde: '{acc}'."
        yield _fix(c, i, acc, 4, why, why_es)
        return
    if _sentence_start(c, i) and _bare_question(c, i):
        why = f"Question words carry an accent, even without the opening '¿': '{acc}'."
        why_es = f"Las palabras interrogativas llevan tilde, aunque falte el signo '¿': '{acc}'."
        yield _fix(c, i, acc, 4, why, why_es)
        return
    if prev in ("por",):
        return
    trigger = _indirect_trigger(c, i)
    if trigger is not None and _indirect_question(c, i):
        why = f"After '{trigger}', '{w}' opens an indirect question and carries an accent: '{acc}'."
        why_es = f"Tras '{trigger}', '{w}' introduce una pregunta indirecta y lleva tilde: '{acc}'."
        yield _fix(c, i, acc, 5, why, why_es)


def _indirect_trigger(c: Scan, i: int) -> str | None:
    """The verb (*sé*, *pregunta*, *dime*...) right before token i that can open an indirect question."""
    if i == 0 or not c.joined(i - 1):
        return None
    prev = c.low(i - 1)
    if prev == "se" and i >= 2 and c.low(i - 2) in ("no", "yo", "ya") and c.joined(i - 2):
        prev = "sé"  # "no se donde": the se → sé fix comes from the same rule
    for forms, allowed in _INDIRECT_WORDS.items():
        if prev in forms and (c.low(i) in allowed or c.low(i) == "por"):
            noun_slot = i >= 2 and c.joined(i - 2) and c.low(i - 2) not in _ASKER
            if prev in ("pregunta", "preguntas") and noun_slot:
                return None  # "otra pregunta que tengo": the noun; the verb comes first or after a clitic
            if forms is _SABER_FORMS and prev == "sabe" and c.low(i) == "como":
                return None  # "sabe como un limón": tastes like
            if forms is _SABER_FORMS and c.low(i) == "cuando" and c.low(i - 2) != "no" and not _asks(c, i):
                return None  # "sé cuando miente" may be "I know it whenever he lies": only "no sé cuándo"
            return "sé" if prev == "sé" else c.toks[i - 1].text  # quote "sé" even where "se" was written
    return None


def _indirect_question(c: Scan, i: int) -> bool:
    """Token i (after a trigger verb) reads only as a question word, never as a relative/conjunction."""
    w = c.low(i)
    if not c.joined(i):
        # "no sé qué." / "¿sabes qué?": nothing else can follow a bare que/cómo/dónde
        return c.end_after(i) and w in ("que", "como", "donde", "cuando", "quien")
    nxt = c.low(i + 1)
    if w == "que":
        ask = c.low(i - 1) in _ASK_FORMS
        if ask and nxt not in _QUESTION_WORDS and nxt != "si" and _finite(_verb_after(c, i + 1)):
            return True  # "pregúntale que quiere": after preguntar a bare 'que' + verb is 'qué'
        if nxt in _WHICH_NOUNS and c.joined(i + 1):
            k = i + 4 if c.low(i + 2) == "de" and c.joined(i + 2) and c.joined(i + 3) else i + 2
            if _finite(_verb_after(c, k)):
                return True  # "no sé qué hora es", "no sé qué tipo de música te gusta"
        verb = _verb_after(c, i + 1)
        if not verb or not _is_infinitive(verb):
            return False
        # "sé que decir mentiras está mal", "sé que caminar me ayuda": a finite verb later makes the
        # infinitive a subject; a noun-verb homograph counts as a noun only after a determiner ("la casa")
        j = i + 2
        while j < c.n and c.joined(j - 1) and c.low(j) not in ("que", "y", "pero", "o", "porque"):
            w_j = c.low(j)
            if _finite(w_j) and not (noun_info(w_j) and c.low(j - 1) in _NOUN_BEFORE):
                return False
            j += 1
        return True
    k = i + 2 if w.startswith("cuant") and noun_info(nxt) is not None and c.joined(i + 1) else i + 1
    verb = _verb_after(c, k)
    if not verb:
        return False
    if _is_infinitive(verb):
        return True
    rs = _finite(verb)
    return bool(rs) and not _subjunctive_only(rs)


def _exclamative(c: Scan, i: int) -> bool:
    """``¡que bonito!``, ``¡cuánto tiempo!``: an exclamation, not a wish (``¡que te vaya bien!``)."""
    w = c.low(i)
    nxt = c.low(i + 1) if c.joined(i) else ""
    if not nxt:
        return False
    rs = _finite(nxt)
    if c.toks[i + 1].text[:1].isupper():
        return False  # "¡Que Dios te bendiga!"
    if w == "que":
        known = nxt in _EXCLAIMED or noun_info(nxt) is not None or adjective_info(nxt) is not None
        return known and not _subjunctive_only(rs) and nxt not in ("sí", "no")
    if w in ("cuanto", "cuanta", "cuantos", "cuantas"):
        return nxt not in ("antes", "más", "menos") and (noun_info(nxt) is not None or nxt in ("me", "te"))
    if w == "como":
        if "," in _sentence_end_mark(c, i)[0]:
            return False  # "¡Como dice mi madre, hay que comer!": 'as'
        if nxt == "no" and c.end_after(i + 1):
            return True  # "¡Cómo no!"
        verb = _finite(_verb_after(c, i + 1))
        return bool(verb) and not _subjunctive_only(verb)
    return False


def _bare_question(c: Scan, i: int) -> bool:
    """``Como estas?``: a sentence opened by the question word and closed by '?', without '¿'."""
    between, mark = _sentence_end_mark(c, i)
    if mark != "?" or any(ch in between for ch in ",;:¿¡"):
        return False
    w = c.low(i)
    verb = _verb_after(c, i + 1) if c.joined(i) else ""
    # "Cuando puedas?" is a short answer (a time clause), not a question word
    return not (w in ("cuando", "como", "donde") and _subjunctive_only(_finite(verb)))


def _el(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*el* (the) → *él* (he): before a verb in the 3rd person, or after a preposition at the end."""
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    why = "'el' is the article; the pronoun 'he' is 'él'."
    why_es = "'el' es el artículo; el pronombre es 'él', con tilde."
    if nxt:
        k = i + 1
        if nxt in CLITICS - {"la", "las", "los"} or nxt == "no":
            k = i + 2 if c.joined(i + 1) else c.n
            if c.low(k) in CLITICS and c.joined(k - 1) and c.joined(k):
                k += 1  # "el no se lo dijo"
        verb = c.low(k) if k < c.n and c.joined(k - 1) else ""
        rs = _finite(verb)
        follow = c.low(k + 1) if c.joined(k) else ""
        # an article is never followed by a clitic: "el se conocieron" (y el se...) reads only as él
        clitic_first = nxt in ("se", "me", "lo", "le", "les", "nos", "os") and k > i + 1
        if (
            rs
            and (_has_person(rs, "3s", indicative=True) or clitic_first)
            and (k > i + 1 or (not noun_info(verb) and not adjective_info(verb)))
            and not (verb in _EL_NOUN_HOMOGRAPHS and k == i + 1 and (follow in ("de", "") or c.end_after(k)))
        ):
            yield _fix(c, i, "él", 5, why, why_es)
            return
    after = c.gap(i + 1).lstrip() if i + 1 <= c.n else ""
    if prev in _PREPOSITIONS and (c.end_after(i) or nxt in CLITICS or nxt in ("también", "tampoco", "mismo")):
        why = "After a preposition, 'him' is 'él' (with accent)."
        why_es = "Tras una preposición, el pronombre es 'él', con tilde."
        yield _fix(c, i, "él", 5, why, why_es)
    elif prev == "y" and c.end_after(i) and after.startswith("?"):
        yield _fix(c, i, "él", 5, why, why_es)


def _tu(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*tu* (your) → *tú* (you): before a 2nd-person verb, in *tú y yo*, *¿y tú?*, *tú también*."""
    nxt = c.low(i + 1) if c.joined(i) else ""
    k = i + 2 if nxt in ("no", "te", "ya", "nunca", "siempre", "también", "me", "lo", "la", "le") else i + 1
    verb = c.low(k) if k < c.n and c.joined(k - 1) else ""
    rs = _finite(verb)
    after = c.gap(i + 1).lstrip() if i + 1 <= c.n else ""
    if (
        (rs and (_has_person(rs, "2s") or _has_person(rs, "vos")) and not noun_info(verb))
        or (c.end_after(i) and after[:1] in ("?", ",", "!"))  # a possessive needs its noun
        or (nxt == "y" and c.joined(i + 1) and c.low(i + 2) in _SUBJECT_PRONOUNS)
        or (nxt in _QUESTION_WORDS and _opened_by(c, i, "¿"))
        or (nxt in ("también", "tampoco", "mismo", "misma") and c.end_after(i + 1))
    ):
        why = "'tu' is 'your'; the pronoun 'you' is 'tú'."
        why_es = "'tu' es posesivo (tu casa); el pronombre es 'tú', con tilde."
        yield _fix(c, i, "tú", 5, why, why_es)


def _si(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*si* (if) → *sí* (yes) where no condition can follow: at the end, before *claro*, *eso sí que*."""
    after = c.gap(i + 1).lstrip() if i + 1 <= c.n else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    nxt = c.low(i + 1)
    yes = (
        (i == c.n - 1 and after[:1] in ("", ".", "!", "?"))
        or after[:1] in (".", "!", "?")
        or (after.startswith(",") and nxt in _YES_AFTER_COMMA)
        or (after.startswith(",") and nxt == "por" and c.low(i + 2) == "favor")
        or (after.startswith(",") and prev == "que" and nxt in ("pero", "aunque", "porque"))
        or (prev in _YES_BEFORE_QUE and c.joined(i) and nxt == "que")
        or (nxt == "si" and c.joined(i) and _sentence_start(c, i))
    )
    if yes:
        why = "'si' means 'if'; 'yes' is 'sí'."
        why_es = "'si' sin tilde es condicional (si quieres...); la afirmación es 'sí', con tilde."
        yield _fix(c, i, "sí", 5, why, why_es)


def _mi(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    if prev in _PREPOSITIONS and (
        c.end_after(i) or nxt in ("me", "mismo", "misma", "también", "tampoco", "no", "es", "sí")
    ):
        why = "After a preposition, 'me' is 'mí' (a mí, para mí)."
        why_es = "Tras una preposición, el pronombre es 'mí', con tilde (a mí, para mí)."
        yield _fix(c, i, "mí", 5, why, why_es)


def _se(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*se* → *sé* (I know): *no se*, *yo se que*, *ya lo se*, *no se nada*."""
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    after_se = frozenset(INTERROGATIVES) | {"si", "cómo", "dónde", "qué", "quién", "cuándo", "nada", "mucho"}
    if (
        (prev in ("yo", "no") and (c.end_after(i) or nxt in after_se))
        or (prev in ("ya", "tampoco", "también") and c.end_after(i))
        or prev == "lo"  # clitics go "se lo": "lo se" is "lo sé"
        or (
            prev in ("yo", "no", "ya") and _is_infinitive(nxt)
        )  # "no se cocinar": a clitic needs a finite verb
        or (nxt == "lo" and c.low(i + 2) == "que" and c.joined(i + 1))  # "ya se lo que...": sé + lo que
    ):
        why = "'I know' is 'sé' (with accent); 'se' is a pronoun."
        why_es = "'sé' (del verbo saber) lleva tilde; 'se' sin tilde es un pronombre."
        yield _fix(c, i, "sé", 5, why, why_es)


def _te(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*te* → *té* (tea) after an article (*un te*) or *tomo/bebo* where no verb follows."""
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    follows_ok = c.end_after(i) or nxt in _TEA_FOLLOW
    after_det = prev in _TEA_DETS and (prev in ("un", "del", "al") or follows_ok)
    if not _finite(nxt) and (after_det or (prev in _TEA_VERBS and follows_ok)):
        why = "Tea is 'té' (with accent); 'te' is the pronoun 'you'."
        why_es = "La bebida es 'té', con tilde; 'te' sin tilde es un pronombre (te quiero)."
        yield _fix(c, i, "té", 5, why, why_es)


def _de(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*que me de* → *dé* (subjunctive of *dar*): after a clitic, *de* cannot be the preposition."""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    before = c.low(i - 2) if i > 1 and c.joined(i - 2) else ""
    # "te de" may be tea ("un té de menta") and "no se de" may be "no sé de": only me/le/les/nos, "que se".
    if prev in _DAR_CLITICS or (prev == "se" and before == "que"):
        why = "'dé' (give, subjunctive of dar) has an accent; 'de' is the preposition 'of'."
        why_es = "'dé' (del verbo dar) lleva tilde; 'de' sin tilde es la preposición."
        # priority 0: "que me de el libro" must not become "que me del libro" (contraction, priority 1)
        yield _fix(c, i, "dé", 0, why, why_es)


def _aun(c: Scan, i: int) -> Iterator[tuple[int, Correction]]:
    """*aún* = still/yet (*aún no*, *no ha llegado aún*); *aun* = even (*aun así*, *aun cuando*)."""
    w = c.low(i)
    nxt = c.low(i + 1) if c.joined(i) else ""
    prev = c.low(i - 1) if i > 0 and c.joined(i - 1) else ""
    if w == "aun" and prev != "ni" and (nxt in ("no", "más", "menos", "hoy") or (c.end_after(i) and i > 0)):
        why = "'aún' (with accent) means 'still/yet'; 'aun' without it means 'even'."
        why_es = "'aún' con tilde significa 'todavía'; 'aun' sin tilde significa 'incluso'."
        yield _fix(c, i, "aún", 5, why, why_es)
    elif w == "aún" and nxt in ("así", "cuando") and (c.starts_clause(i) or prev in ("y", "pero")):
        why = f"'aun {nxt}' means 'even {'so' if nxt == 'así' else 'if'}': no accent ('aún' is 'still')."
        why_es = f"'aun {nxt}' significa 'incluso {nxt}': sin tilde ('aún' con tilde es 'todavía')."
        yield _fix(c, i, "aun", 5, why, why_es)


__all__ = ["INTERROGATIVES", "RULE", "rule_accents"]
