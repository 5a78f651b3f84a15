"""Usage rules: ser/estar, por/para and the personal *a*, only where the choice is certain.

These three are the classic "two words for one English word" errors. Each has correct uses that a
naive rule would break, so every rule fires on a narrow pattern and stays silent otherwise:

- ``ser_estar`` (:func:`rule_ser_estar`): states and emotions take estar (*soy cansado/preocupado/
  contento/enfadado* → *estoy*; *soy nervioso* only with a sign of a passing state: *hoy*,
  *ahora*, *por el examen*), location of people and things takes estar (*soy en casa*, *mi madre
  es en el hospital*, *¿dónde eres?* → *estás*), professions, nationalities and origin take ser
  (*estoy profesor*, *estoy de México* → *soy*). Never corrected: events with ser (*la fiesta es
  en mi casa*), *feliz/infeliz/alegre/triste* with either verb, the adjectives that change meaning
  (*listo, aburrido, malo, rico, bueno, vivo, despierto...*: both verbs are right),
  *estar de profesor* ("working as"), *ser casado*, impersonal *es cansado trabajar así*, and
  *cansado/ocupado* with ser about someone else (*tu primo es muy cansado*: tiresome).
- ``por_para`` (:func:`rule_por_para`): *para* for a finished stretch of time after an activity
  verb in the past (*estudié español para dos años* → *durante*; *por* and *durante* are never
  flagged), *para* for a price after *comprar/vender/pagar...* (*lo compré para diez euros* →
  *por*; *pagué veinte euros para la entrada* → *por*), *gracias para* → *gracias por*, *para
  ejemplo* / *para favor*, *para la mañana* after an activity verb (*trabajo para la mañana* →
  *por*), and *por* + infinitive for the purpose of a trip (*voy al mercado por comprar pan* →
  *para*). Silent on deadlines (*para el lunes*), recipients
  (*es para ti*, *es por ti*), intended durations (*comida para dos semanas*, *reservé para dos
  noches*) and every *por/para* + infinitive that could be a cause (*lo hice por ayudar*, *salí
  a la calle por ver qué pasaba*).
- ``personal_a`` (:func:`rule_personal_a`): a specific person as direct object of a verb like
  *ver, conocer, visitar, llamar, buscar, querer, esperar* takes *a* (*veo mi madre* → *veo a mi
  madre*, *conozco Juan* → *conozco a Juan*, *espero el profesor* → *al profesor*). Only definite,
  possessive or demonstrative person phrases and known first names count; silent with *tener*,
  *hay*, things (*veo la televisión*), places (*visito Madrid*), indefinites (*busco un médico*,
  *quiero un novio*: both forms are correct), and inverted subjects (*me llama mi madre*, *la
  película que vimos mi hermano y yo*, *espero mi madre llegue*: a missing *que*). *familia, gente,
  policía* count only with a possessive or demonstrative (*entender la familia* is an idea).

Each rule is ``rule(scan) -> Iterator[(priority, Correction)]`` as registered in
:data:`espaluz.spanish.corrections._RULES`; every correction carries its reason in English and
Spanish.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from espaluz.spanish.conjugation import conjugate_table
from espaluz.spanish.correction_scan import CLITICS, NON_VERB_READINGS, SUBJECTS, Correction, Scan, words
from espaluz.spanish.verb_index import COMMON_VERBS, Reading, readings


def _gendered(stems: str, ends: tuple[str, ...] = ("o", "a", "os", "as")) -> frozenset[str]:
    return frozenset(f"{stem}{end}" for stem in words(stems) for end in ends)


# ------------------------------------------------------------------------------------------
# ser / estar

_SER_TO_ESTAR = {
    "soy": "estoy",
    "eres": "estás",
    "es": "está",
    "somos": "estamos",
    "sois": "estáis",
    "son": "están",
    "era": "estaba",
    "eras": "estabas",
    "éramos": "estábamos",
    "erais": "estabais",
    "eran": "estaban",
}
# Forms whose subject is clear without a subject word (1st/2nd person only).
# The preterite (fui, fue...) is absent: it is also ir (*fui cansado al trabajo*, *fui en tren*).
_SER_OWN_SUBJECT = frozenset(words("soy eres somos sois eras éramos erais"))
ESTAR_TO_SER = {
    "estoy": "soy",
    "estás": "eres",
    "está": "es",
    "estamos": "somos",
    "estáis": "sois",
    "están": "son",
}
_ESTAR_OWN_SUBJECT = frozenset(words("estoy estás estamos estáis"))
# Adjectives of a state that are wrong with ser about a person (no trait reading in standard Spanish).
_ESTAR_ONLY_ADJ = _gendered(
    "cansad enojad enfadad ocupad sentad resfriad mojad dormid preocupad estresad emocionad enamorad "
    "agotad content hart embarazad acostad levantad"
) - frozenset(words("embarazado embarazados"))
# Adjectives with a trait reading (*soy nervioso* = a nervous person): flagged only before a sign of
# a passing state.
_STATE_OR_TRAIT_ADJ = _gendered("nervios ansios tranquil")
# With ser about someone else these read as traits: *es cansado* (tiresome), *es muy ocupado* (a busy person).
_TIRESOME = _gendered("cansad ocupad")
_STATE_CUES = frozenset(words("hoy ahora ahorita porque por antes esta este estos estas desde últimamente"))
# Never corrected: both verbs are right, with different meanings or both usages accepted.
MEANING_CHANGE_ADJ = _gendered("list aburrid mal ric buen viv despiert verde orgullos interesad") | frozenset(
    words("feliz felices infeliz infelices alegre alegres triste tristes casado casada casados casadas")
)
_INFINITIVES = frozenset(COMMON_VERBS)
_INTENSIFIERS = frozenset(words("muy tan bastante demasiado super súper algo re"))
_PLACES = frozenset(
    words(
        """casa clase trabajo oficina escuela colegio universidad hospital playa parque hotel restaurante
        aeropuerto banco biblioteca ciudad campo calle cama cocina baño habitación tienda supermercado
        centro iglesia estación cine teatro museo gimnasio montaña mercado país extranjero salón jardín
        despacho farmacia bar cafetería piscina pueblo mesa sofá armario cajón suelo nevera coche tren
        autobús avión"""
    )
)
_PLACE_DETS = frozenset(words("el la los las mi mis tu tus su sus un una nuestra nuestro este esta ese esa"))
_HERE_THERE = frozenset(words("aquí ahí allí allá acá"))
# Things and people whose location takes estar (*mi casa es en el centro* → *está*). Events
# (fiesta, reunión, clase, concierto, boda...) are absent on purpose: *la fiesta es en mi casa*.
_LOCATED = frozenset(
    words(
        """libro libros llave llaves coche carro móvil teléfono celular gato gatos perro perros cartera
        bolso mochila casa piso apartamento hotel oficina hospital farmacia banco estación tienda
        restaurante escuela colegio universidad pueblo ciudad museo aeropuerto gafas pasaporte"""
    )
)
_PROFESSIONS = _gendered(
    "médic abogad ingenier enfermer camarer secretari arquitect cociner dentist periodist "
    "mexican american argentin colombian italian chin african cuban chilen peruan venezolan brasileñ "
    "rus"
) | frozenset(
    words(
        """profesor profesora profesores profesoras doctor doctora doctores doctoras estudiante estudiantes
        actor actriz pintor pintora escritor escritora programador programadora contable
        español española españoles españolas inglés inglesa ingleses inglesas francés francesa
        franceses francesas alemán alemana alemanes alemanas japonés japonesa japoneses japonesas
        canadiense canadienses estadounidense estadounidenses"""
    )
)
# *estar de Erasmus / de Navidad* are temporary situations, not origin.
_NOT_ORIGIN = frozenset(words("erasmus navidad pascua semana vacaciones"))

# ------------------------------------------------------------------------------------------
# people (ser/estar subjects and personal a)

PERSON_NOUNS = _gendered(
    "herman hij abuel tí prim amig novi espos vecin compañer maestr chic niñ sobrin niet suegr cuñad "
    "alumn médic abogad enfermer camarer"
) | frozenset(
    words(
        """madre padre madres padres mamá papá marido mujer familia profesor profesora profesores
        profesoras jefe jefa jefes jefas doctor doctora doctores doctoras bebé bebés hombre hombres
        señor señora señores señoras gente policía cliente clientes estudiante estudiantes
        novios padrinos"""
    )
)
FIRST_NAMES = frozenset(
    words(
        """juan maría pedro ana carlos luis josé carmen laura pablo sofía lucía miguel javier elena marta
        diego daniel david isabel antonio manuel francisco sara paula andrés alejandro fernando jorge
        raúl sergio alberto teresa cristina patricia beatriz raquel silvia pilar mercedes julia"""
    )
)
_POSSESSIVE_DETS = frozenset(
    words("mi tu su mis tus sus nuestro nuestra nuestros nuestras vuestro vuestra vuestros vuestras")
)
_DEMONSTRATIVES = frozenset(words("este esta estos estas ese esa esos esas aquel aquella aquellos aquellas"))
_DEFINITES = frozenset(words("el la los las"))
_NP_DETS = _POSSESSIVE_DETS | _DEMONSTRATIVES | _DEFINITES


def _person_subject_before(c: Scan, i: int) -> bool:
    """Token i is preceded by a subject pronoun, a first name or a determiner + person noun."""
    if i == 0 or not c.joined(i - 1):
        return False
    prev = c.low(i - 1)
    if prev in SUBJECTS and prev != "vos":
        return True
    if prev in FIRST_NAMES and c.toks[i - 1].text[:1].isupper():
        return True
    return prev in PERSON_NOUNS and i >= 2 and c.joined(i - 2) and c.low(i - 2) in _NP_DETS


def _thing_subject_before(c: Scan, i: int) -> bool:
    """Token i is preceded by a determiner + a noun whose location takes estar (*mi casa es ...*)."""
    if i < 2 or not c.joined(i - 1) or not c.joined(i - 2):
        return False
    return c.low(i - 1) in _LOCATED and c.low(i - 2) in _PLACE_DETS


def _impersonal_after(c: Scan, k: int) -> bool:
    """Token k (an adjective) is followed by an infinitive or *que*: *es cansado trabajar así*."""
    if not c.joined(k):
        return False
    nxt = c.low(k + 1)
    return nxt == "que" or nxt in _INFINITIVES


def _place_after_en(c: Scan, j: int) -> bool:
    """Token j is *en* followed by a place (*en casa*, *en la oficina*, *en Madrid*)."""
    if c.low(j) != "en" or not c.joined(j) or j + 1 >= c.n:
        return False
    place = c.toks[j + 1]
    if place.low in _PLACE_DETS:
        return c.joined(j + 1) and c.low(j + 2) in _PLACES
    return place.low in _PLACES or (place.text[:1].isupper() and place.low not in FIRST_NAMES)


def rule_ser_estar(c: Scan) -> Iterator[tuple[int, Correction]]:
    """ser where estar is needed (states, location) and estar where ser is needed (profession, origin)."""
    for i in range(c.n):
        w = c.low(i)
        if not c.joined(i) and c.low(i - 1) != "dónde":  # *¿dónde eres?* ends the clause
            continue
        nxt = c.low(i + 1) if c.joined(i) else ""
        if w in _SER_TO_ESTAR:
            personal = w in _SER_OWN_SUBJECT or _person_subject_before(c, i)
            fixed = _SER_TO_ESTAR[w]
            why = why_es = ""
            k = i + 1
            if nxt in _INTENSIFIERS and c.joined(i + 1):
                k = i + 2
            elif nxt == "un" and c.low(i + 2) == "poco" and c.joined(i + 1) and c.joined(i + 2):
                k = i + 3
            adj = c.low(k)
            state = adj in _ESTAR_ONLY_ADJ or (
                adj in _STATE_OR_TRAIT_ADJ and c.joined(k) and c.low(k + 1) in _STATE_CUES
            )
            third_person = w in ("es", "son", "eran") or (w == "era" and c.low(i - 1) != "yo")
            if third_person and adj in _TIRESOME:
                state = False  # *Juan es muy cansado*: he is tiresome
            if personal and state and not _impersonal_after(c, k):
                why = f"'{adj}' describes a state or feeling, not who you are: use estar ('{fixed} {adj}')."
                why_es = f"'{adj}' expresa un estado o un sentimiento, no cómo es alguien: va con estar."
            elif (personal or _thing_subject_before(c, i)) and _place_after_en(c, i + 1):
                why = (
                    f"Where a person or thing is uses estar: '{fixed} en ...'. "
                    "(Events use ser: la fiesta es en mi casa.)"
                )
                why_es = (
                    f"El lugar donde está una persona o una cosa se dice con estar: '{fixed} en ...' "
                    "(los eventos, con ser: la fiesta es en mi casa)."
                )
            elif personal and nxt in _HERE_THERE:
                why = f"Where someone is uses estar: '{fixed} {nxt}'."
                why_es = f"El lugar donde está alguien se dice con estar: '{fixed} {nxt}'."
            elif w in _SER_OWN_SUBJECT and i > 0 and c.low(i - 1) == "dónde" and c.joined(i - 1):
                if i < 2 or c.low(i - 2) not in ("de", "a", "desde", "hasta", "por", "adónde"):
                    why = f"Asking where someone is uses estar: '¿dónde {fixed}?' (origin: '¿de dónde {w}?')."
                    why_es = (
                        f"Dónde está alguien se pregunta con estar: '¿dónde {fixed}?' "
                        f"(el origen: '¿de dónde {w}?')."
                    )
            elif nxt in ("bien", "mal") and c.end_after(i + 1) and w in _SER_OWN_SUBJECT:
                why = f"How you are (health, mood) uses estar: '{fixed} {nxt}'."
                why_es = f"Cómo se encuentra uno se dice con estar: '{fixed} {nxt}'."
            elif personal and nxt == "de" and c.low(i + 2) in ("acuerdo", "vacaciones") and c.joined(i + 1):
                why = f"'{fixed} de {c.low(i + 2)}' is a fixed expression with estar."
                why_es = f"'{fixed} de {c.low(i + 2)}' es una expresión fija con estar."
            if why:
                yield 3, c.fix(i, i, fixed, "ser_estar", why, why_es)
        elif w in ESTAR_TO_SER:
            if not (w in _ESTAR_OWN_SUBJECT or _person_subject_before(c, i)):
                continue
            fixed = ESTAR_TO_SER[w]
            k = i + 2 if nxt in ("un", "una") and c.joined(i + 1) else i + 1
            noun = c.low(k)
            if noun in _PROFESSIONS and (k == i + 1 or c.joined(k - 1)):
                why = f"Professions and nationalities say who you are: use ser ('{fixed} {noun}')."
                why_es = f"La profesión y la nacionalidad dicen quién es uno: van con ser ('{fixed} {noun}')."
                yield 3, c.fix(i, i, fixed, "ser_estar", why, why_es)
            elif nxt == "de" and c.joined(i + 1) and i + 2 < c.n:
                origin = c.toks[i + 2]
                if origin.text[:1].isupper() and origin.low not in _NOT_ORIGIN:
                    why = f"Where someone is from uses ser: '{fixed} de {origin.text}'."
                    why_es = f"El origen se expresa con ser: '{fixed} de {origin.text}'."
                    yield 3, c.fix(i, i, fixed, "ser_estar", why, why_es)


# ------------------------------------------------------------------------------------------
# por / para

_DURATION_VERBS = frozenset(
    words(
        """estudiar vivir trabajar estar quedar hablar esperar dormir viajar jugar leer caminar correr bailar
        llover nevar enseñar practicar aprender nadar descansar pasear cantar conducir manejar"""
    )
)
# *nos quedábamos para una semana*: the imperfect of these may be a planned stay.
_PLANNED_STAY = frozenset(words("estar quedar"))
_PAST_TENSES = frozenset({"indicative.preterite", "indicative.imperfect", "perfect"})
_HABER_PRESENT = frozenset(words("he has ha hemos habéis han"))
_TIME_UNITS = frozenset(
    words("año años mes meses semana semanas día días hora horas minuto minutos rato década décadas")
)
_QUANTITIES = frozenset(
    words(
        """un una unos unas dos tres cuatro cinco seis siete ocho nueve diez once doce quince veinte
        treinta cuarenta cincuenta cien mucho mucha muchos muchas varios varias algunos algunas pocos
        pocas media medio"""
    )
)
_AFTER_DURATION = frozenset(words("y en con pero cuando antes después por sin"))
_PRICE_VERBS = frozenset(words("comprar vender pagar cobrar cambiar alquilar conseguir"))
_CURRENCIES = frozenset(
    words("euro euros dólar dólares peso pesos libra libras sol soles céntimos centavos yenes francos pavos")
)
_MONEY_AMOUNTS = _QUANTITIES | frozenset(words("mil cientos doscientos trescientos quinientos"))
_THANKS_RECIPIENTS = frozenset(
    words("ti mí usted ustedes vosotros vosotras él ella ellos ellas nosotros nosotras todos todas")
)
_PART_OF_DAY_VERBS = frozenset(words("trabajar estudiar correr caminar nadar pasear dormir descansar"))
# Forms that are also everyday nouns (*tengo trabajo para la noche*).
_NOUN_FORMS = frozenset(words("trabajo estudio paseo descanso camino"))
_BEFORE_VERB = frozenset(words("yo no también tampoco solo sólo siempre"))
_MOTION_VERBS = frozenset(words("ir venir salir volver regresar"))
_PURPOSE_INFINITIVES = frozenset(
    words(
        """comprar visitar estudiar trabajar aprender buscar comer cenar desayunar almorzar tomar recoger
        pedir comprarle visitarte visitarlo visitarla bailar nadar jugar"""
    )
)


@cache
def _own_index() -> dict[str, tuple[Reading, ...]]:
    """Finite readings (present, preterite, imperfect) and *perfect* participles of the verbs these
    rules name, some of which the shared verb index lacks (*alquilé*, *felicité*)."""
    index: dict[str, list[Reading]] = {}
    for verb in sorted(_DURATION_VERBS | _PRICE_VERBS | _MOTION_VERBS | PERSONAL_A_VERBS):
        table = conjugate_table(verb)
        for tense in ("indicative.present", "indicative.preterite", "indicative.imperfect"):
            for person, forms in table.forms[tense].items():
                for form in forms:
                    index.setdefault(form, []).append(Reading(verb, tense, person))
        for form in table.nonfinite["participle"]:
            index.setdefault(form, []).append(Reading(verb, "participle", ""))
    return {form: tuple(rs) for form, rs in index.items()}


def _verb_readings(w: str) -> tuple[Reading, ...]:
    return _own_index().get(w, ()) or readings(w)


def _verb_before(c: Scan, j: int, window: int = 6) -> tuple[int, tuple[Reading, ...]] | None:
    """The nearest verb form before token j in the same clause: (index, its readings). A participle
    after *he/has/ha...* reads with tense ``perfect``."""
    for k in range(j - 1, max(-1, j - 1 - window), -1):
        if not c.joined(k):
            return None
        w = c.low(k)
        if w in NON_VERB_READINGS:
            continue
        rs = _verb_readings(w)
        if not rs:
            continue
        if k > 0 and c.low(k - 1) in _HABER_PRESENT:
            return k, tuple(Reading(r.verb, "perfect", "") for r in rs if r.tense == "participle")
        return k, tuple(r for r in rs if r.tense != "participle")
    return None


def _duration_after(c: Scan, j: int) -> int | None:
    """Index of the time unit when tokens after j read 'quantity + time unit' (*dos años*)."""
    q = c.toks[j + 1].low if j + 1 < c.n else ""
    if not (q.isdigit() or q in _QUANTITIES) or not c.joined(j + 1):
        return None
    return j + 2 if c.low(j + 2) in _TIME_UNITS else None


def rule_por_para(c: Scan) -> Iterator[tuple[int, Correction]]:
    """por/para where only one is possible: finished duration, price, thanks, fixed phrases, trip purpose."""
    for j in range(c.n - 1):
        w = c.low(j)
        if not c.joined(j):
            continue
        nxt = c.low(j + 1)
        if w == "para":
            prev = c.low(j - 1) if j > 0 and c.joined(j - 1) else ""
            if prev == "gracias" and nxt not in _THANKS_RECIPIENTS:
                why = "You thank someone FOR something with 'por': 'gracias por ...'."
                why_es = "Se agradece algo con 'por': 'gracias por ...'."
                yield 3, c.fix(j, j, "por", "por_para", why, why_es)
                continue
            if nxt in ("ejemplo", "favor"):
                why = f"'por {nxt}' is a fixed expression with por."
                why_es = f"'por {nxt}' es una expresión fija con por."
                yield 3, c.fix(j, j + 1, f"por {nxt}", "por_para", why, why_es)
                continue
            found = _verb_before(c, j)
            if found is None:
                continue
            k, rs = found
            unit = _duration_after(c, j)
            if (
                unit is not None
                and any(r.verb in _DURATION_VERBS and r.tense in _PAST_TENSES for r in rs)
                and not any(r.verb in _PLANNED_STAY and r.tense == "indicative.imperfect" for r in rs)
                and (c.end_after(unit) or c.low(unit + 1) in _AFTER_DURATION)
            ):
                span = c.text[c.toks[j + 1].start : c.toks[unit].end]
                why = (
                    f"A stretch of time something lasted is 'durante {span}' (or 'por'); "
                    "'para' marks a deadline or a purpose."
                )
                why_es = (
                    f"El tiempo que duró algo se dice con 'durante {span}' (o 'por'); "
                    "'para' indica un plazo o una finalidad."
                )
                yield 3, c.fix(j, j, "durante", "por_para", why, why_es)
                continue
            q = c.low(j + 1)
            amount = (q.isdigit() or q in _MONEY_AMOUNTS) and c.joined(j + 1)
            cur = c.low(j + 2) if amount else ""
            if amount and cur not in _CURRENCIES and c.joined(j + 2) and cur in ("mil", "cien"):
                cur = c.low(j + 3)
            if cur in _CURRENCIES and any(r.verb in _PRICE_VERBS for r in rs):
                why = "A price or an exchange uses 'por': 'por diez euros'."
                why_es = "El precio y el intercambio se expresan con 'por': 'por diez euros'."
                yield 3, c.fix(j, j, "por", "por_para", why, why_es)
                continue
            if (
                prev in _CURRENCIES
                and nxt in ("el", "la", "los", "las", "un", "una")
                and c.low(j + 2) not in PERSON_NOUNS
                and any(r.verb in ("pagar", "cobrar") for r in rs)
            ):
                why = f"What you pay for takes 'por': 'pagar ... por {nxt} ...'."
                why_es = f"Lo que se paga va con 'por': 'pagar ... por {nxt} ...'."
                yield 3, c.fix(j, j, "por", "por_para", why, why_es)
                continue
            if (
                nxt in ("la", "las")
                and c.low(j + 2) in ("mañana", "mañanas", "tarde", "tardes", "noche", "noches")
                and c.joined(j + 1)
                and k == j - 1
                and (c.low(k) not in _NOUN_FORMS or k == 0 or c.low(k - 1) in _BEFORE_VERB)
                and any(r.verb in _PART_OF_DAY_VERBS and r.tense == "indicative.present" for r in rs)
                and c.end_after(j + 2)
            ):
                why = f"The part of the day when something happens uses 'por': 'por {nxt} {c.low(j + 2)}'."
                why_es = f"La parte del día en que pasa algo se dice con 'por': 'por {nxt} {c.low(j + 2)}'."
                yield 3, c.fix(j, j, "por", "por_para", why, why_es)
        elif w == "por" and nxt in _PURPOSE_INFINITIVES:
            # ir/venir/salir + a (destination) ... + por + infinitive: the purpose of the trip.
            found = _verb_before(c, j)
            if found is None:
                continue
            k, rs = found
            if not any(r.verb in _MOTION_VERBS for r in rs) or not any(
                c.low(m) in ("a", "al") for m in range(k + 1, j)
            ):
                continue
            why = f"The purpose of going somewhere is 'para' (or 'a') + infinitive: 'para {nxt}'."
            why_es = f"La finalidad de un viaje se expresa con 'para' (o 'a') + infinitivo: 'para {nxt}'."
            yield 3, c.fix(j, j, "para", "por_para", why, why_es)


# ------------------------------------------------------------------------------------------
# personal a

PERSONAL_A_VERBS = frozenset(
    words(
        """ver conocer visitar llamar ayudar amar extrañar invitar escuchar abrazar besar saludar cuidar odiar
        respetar esperar querer buscar llevar acompañar admirar recoger mirar entender oír necesitar
        despertar felicitar molestar"""
    )
)
# Collective nouns that with the definite article may name an institution or idea (*entender la familia*,
# *respetar la policía* as a body); with a possessive or demonstrative they are people (*veo a mi familia*).
_COLLECTIVES = frozenset(words("familia familias gente policía"))
_FINITE_PERSONS = frozenset(("1s", "2s", "1p", "2p", "vos"))
# A subject after the object phrase shows an inverted subject: *la película que vimos mi hermano y yo*.
_AND_PRONOUN = frozenset(words("yo tú nosotros nosotras vosotros vosotras"))


@cache
def _nonfinite_verbs() -> dict[str, str]:
    """Infinitive and gerund forms of :data:`PERSONAL_A_VERBS` → the verb."""
    out: dict[str, str] = {}
    for v in sorted(PERSONAL_A_VERBS):
        nf = conjugate_table(v).nonfinite
        for form in nf["infinitive"] + nf["gerund"]:
            out.setdefault(form, v)
    return out


def rule_personal_a(c: Scan) -> Iterator[tuple[int, Correction]]:
    """A specific person as direct object needs *a* (*veo mi madre* → *veo a mi madre*)."""
    for i in range(c.n - 1):
        if not c.joined(i):
            continue
        w = c.low(i)
        finite = (
            r.verb for r in _verb_readings(w) if r.verb in PERSONAL_A_VERBS and r.person in _FINITE_PERSONS
        )
        verb = next(finite, None)
        nonfinite = False
        if verb is None:
            verb = _nonfinite_verbs().get(w)
            nonfinite = verb is not None
        if verb is None:
            continue
        if nonfinite and any(c.low(m) in CLITICS for m in range(max(0, i - 3), i)):
            continue  # "me va a llamar mi madre": mi madre is the subject
        if i > 0 and c.low(i - 1) in _NP_DETS | frozenset(words("un una")):
            continue  # "el llamar", "mi querer": a noun, not a verb
        det_tok = c.toks[i + 1]
        det = det_tok.low
        why_tail = "A specific person as direct object takes 'a'"
        why_tail_es = "Una persona concreta como complemento directo lleva 'a'"
        if det in FIRST_NAMES and det_tok.text[:1].isupper():
            if c.joined(i + 1) and c.low(i + 2) == "y" and c.low(i + 3) in _AND_PRONOUN:
                continue
            why = f"{why_tail}: '{w} a {det_tok.text}'."
            why_es = f"{why_tail_es}: '{w} a {det_tok.text}'."
            yield 3, c.fix(i + 1, i + 1, f"a {det_tok.text}", "personal_a", why, why_es)
            continue
        if det not in _NP_DETS or not c.joined(i + 1) or c.low(i + 2) not in PERSON_NOUNS:
            continue
        if det in _DEFINITES and c.low(i + 2) in _COLLECTIVES:
            continue  # "entender la familia": the institution, not the people
        after = c.low(i + 3) if c.joined(i + 2) else ""
        if after not in NON_VERB_READINGS and readings(after):
            continue  # "espero mi madre llegue" (que left out): the person is a subject
        if c.joined(i + 2) and c.low(i + 3) == "y" and c.low(i + 4) in _AND_PRONOUN:
            continue  # inverted subject: "que vimos mi hermano y yo"
        fixed = "al" if det == "el" else f"a {det}"
        noun = c.low(i + 2)
        why = f"{why_tail}: '{w} {fixed} {noun}'."
        why_es = f"{why_tail_es}: '{w} {fixed} {noun}'."
        yield 3, c.fix(i + 1, i + 1, fixed, "personal_a", why, why_es)


__all__ = [
    "FIRST_NAMES",
    "MEANING_CHANGE_ADJ",
    "PERSONAL_A_VERBS",
    "PERSON_NOUNS",
    "rule_personal_a",
    "rule_por_para",
    "rule_ser_estar",
]
