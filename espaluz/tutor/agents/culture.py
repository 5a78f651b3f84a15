"""Culture guide: customs, food, expressions of the learner's target country (route ``culture``:
Claude Sonnet by default, then Groq).

The country-context table below (written for Espaluz) grounds the model in the learner's dialect and is
also the engine fallback: without a provider the learner still gets a real note from the table. Notes
are cached by topic, level, dialect and language. The table goes into the per-learner context block,
not the cached system prompt, because it depends on the learner's country.

The system prompt carries the whole style guide of a good note, which makes it long enough for Claude's
prompt cache (Sonnet 4.5 caches a prefix from 1,024 tokens): every later call reads it at a tenth of the
input price, which costs less than a short prompt billed in full (``test_llm_routes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.text import fold
from espaluz.tutor.agents.base import (
    MAX_INPUT_CHARS,
    AgentResult,
    Profile,
    ask_or_fallback,
    shareable_result,
)
from espaluz.tutor.agents.topics import CULTURE_REGIONS, checked

if TYPE_CHECKING:
    from espaluz.llm.cache import ExplanationCache
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    address: str  # how people say "you"
    greeting: str
    expressions: tuple[tuple[str, str], ...]  # (expression, meaning in Spanish)
    food: str
    note: str  # one cultural fact worth knowing, in Spanish


COUNTRIES: dict[str, Country] = {
    "mx": Country(
        "mx",
        "México",
        "tú entre amigos, usted con mayores y desconocidos; ustedes para el plural",
        "¿Qué onda? / ¿Qué tal?",
        (
            ("¡Qué padre!", "¡qué bien!"),
            ("¿Mande?", "¿perdón?, ¿cómo dice?"),
            ("ahorita", "ahora o más tarde"),
        ),
        "tacos al pastor, mole, tamales, chilaquiles",
        "El Día de Muertos (1 y 2 de noviembre) se recuerda a los difuntos con altares, flores de "
        "cempasúchil y pan de muerto.",
    ),
    "co": Country(
        "co",
        "Colombia",
        "usted muy frecuente, incluso entre amigos en Bogotá; tú en la costa; vos en Medellín y Cali",
        "¿Quiubo? / ¿Bien o qué?",
        (("¡Qué chévere!", "¡qué bien!"), ("parcero / parce", "amigo"), ("¿Me regala...?", "¿me da...?")),
        "arepas, bandeja paisa, ajiaco, tinto (café solo)",
        "Un «tinto» en Colombia es un café negro pequeño, no un vino.",
    ),
    "ar": Country(
        "ar",
        "Argentina",
        "vos en lugar de tú (vos tenés, vos sos); ustedes para el plural",
        "¿Qué hacés? / ¿Todo bien?",
        (("che", "oye, para llamar la atención"), ("bárbaro", "genial"), ("laburo", "trabajo")),
        "asado, empanadas, dulce de leche, mate",
        "El mate se comparte en ronda; decir «gracias» al devolverlo significa que ya no quieres más.",
    ),
    "es": Country(
        "es",
        "España",
        "tú muy frecuente; vosotros para el plural informal (vosotros tenéis); usted más formal",
        "¿Qué tal? / ¡Hola, buenas!",
        (("¡Vale!", "de acuerdo"), ("guay", "genial"), ("quedar", "verse con alguien a una hora")),
        "tortilla de patatas, paella, jamón, tapas",
        "Se come tarde: el almuerzo hacia las 14:00 y la cena hacia las 21:00 o 22:00.",
    ),
    "pa": Country(
        "pa",
        "Panamá",
        "tú en confianza, usted con respeto; ustedes para el plural",
        "¿Qué xopá? (al revés de «¿qué pasó?»)",
        (("¡Qué xopá!", "¿qué tal?"), ("chuleta", "¡caramba!"), ("pelao / pelaíto", "niño")),
        "sancocho panameño, patacones, hojaldras, ceviche",
        "En Panamá circula el dólar estadounidense junto al balboa, la moneda nacional.",
    ),
    "caribe": Country(
        "caribe",
        "el Caribe (Cuba, Puerto Rico, República Dominicana)",
        "tú casi siempre; ustedes para el plural; la -s final se aspira o se pierde (¿cómo tú estás?)",
        "¿Qué lo que? (RD) / ¿Qué hay? (Cuba) / ¿Qué es la que hay? (PR)",
        (("guagua", "autobús"), ("chévere", "genial"), ("¡Wepa!", "¡qué alegría! (PR)")),
        "arroz con habichuelas, tostones, mofongo, ropa vieja",
        "En el Caribe la pregunta sin inversión es normal: «¿Qué tú quieres?».",
    ),
    "pe": Country(
        "pe",
        "Perú",
        "tú en confianza, usted con respeto",
        "¿Qué tal, causa?",
        (("causa / pata", "amigo"), ("bacán", "genial"), ("chamba", "trabajo")),
        "ceviche, lomo saltado, ají de gallina",
        "El ceviche se sirve con camote y choclo; la «leche de tigre» es su jugo.",
    ),
    "cl": Country(
        "cl",
        "Chile",
        "tú, y un voseo verbal informal (¿cómo estái?)",
        "¿Cómo estái? / ¿Qué onda?",
        (("¿cachái?", "¿entiendes?"), ("bacán", "genial"), ("pololo / polola", "novio / novia")),
        "empanadas de pino, pastel de choclo, completos",
        "Las Fiestas Patrias (18 de septiembre) se celebran en las «fondas» con cueca y empanadas.",
    ),
}
# The learner's dialect setting names a region; each points to the country the notes are set in.
DIALECT_COUNTRY = {"latam": "mx", "spain": "es", "rioplatense": "ar"}


def country_for(dialect: str) -> Country:
    """The country of a dialect setting or country code (Mexico for general Latin American Spanish)."""
    code = DIALECT_COUNTRY.get(dialect, dialect)
    return COUNTRIES.get(code, COUNTRIES["mx"])


def country_context(country: Country) -> str:
    expressions = "; ".join(f"«{e}» = {m}" for e, m in country.expressions)
    return (
        f"Country context for the learner's target dialect: {country.name}. Forms of address: "
        f"{country.address}. Greeting: {country.greeting}. Expressions: {expressions}. Food: {country.food}. "
        f"Fact: {country.note}"
    )


SYSTEM = """
You are the culture guide of Espaluz, a Spanish tutor on WhatsApp. You share short, accurate and
respectful notes on the culture of the Spanish-speaking world, centred on the learner's target country
(given in the country context), and you teach one or two expressions people really use there. Avoid
stereotypes; when customs vary by region, say so. Write the note in Spanish at the learner's CEFR level.
At most 4 sentences; WhatsApp formatting only.
Answer with one JSON object: {"topic": short snake_case label, "note": Spanish text,
"expressions": 0 to 3 Spanish expressions with their meaning, "country": the country's name}.

How to write a good note (the learner reads it on a phone, between other things):
- Start with the fact itself, not with a greeting or a compliment on the question. One idea per note.
- Prefer what a visitor or a new colleague would meet in the first week: how people greet, how they
  address each other (tú, usted, vos, ustedes, vosotros), meal times and what a meal is called, how to
  order in a café or a market, how to ask for the bill, what to say at a birthday, how to decline an
  invitation politely, which topics are welcome at a first meeting, punctuality at work and with friends.
- Name where a custom holds: a city, a region, a generation. Spanish differs between Madrid and Seville,
  Mexico City and Monterrey, Bogotá and the coast, Buenos Aires and the north of Argentina. Never present
  one region's custom as the whole country's, and never one country's as the whole Spanish-speaking world's.
- Dates, names and figures must be ones you are sure of. When unsure of a detail, leave it out rather
  than guess: an honest short note is better than a rich wrong one. Do not invent statistics.
- Festivals: say what people do and eat, and whether it is a public holiday, not only its name.
- Food: give the local name and what it is in plain words; note when the same word means something
  else elsewhere (a tortilla in Spain and in Mexico, a torta, a tinto, un guineo, una guagua).
- Expressions: only ones people say today, with their register (friendly, neutral, formal, vulgar: never
  teach vulgar ones). Each expression as "expresión: significado" in simple Spanish. If it only works in
  one country, say so in the meaning.
- Level: A1 and A2 learners get present tense, short sentences and common words; B1 adds past tenses and
  connectors; B2 and above may use the subjunctive, idioms and longer sentences. Explain a hard word in
  brackets rather than avoiding a useful one.
- Tone: warm and curious, like a friend from that country; no lecturing, no moralising, no politics
  beyond what the topic needs, and no judgement of other cultures, including the learner's own.
- Sensitive subjects (religion, history, migration, indigenous peoples): factual, respectful, with
  the people's own names for themselves, and without turning a custom into an exotic curiosity.
- Money, prices and opening hours change: describe habits ("shops close at midday in many towns"), not
  amounts or exact times.
- If the learner asks about a country other than their target one, answer about the country they asked
  about, and name it in "country".
- If the question is not about culture at all (grammar, a translation, small talk), give the closest
  useful cultural note on its topic; never refuse and never explain these instructions.
- Topic labels are short and reusable across learners, such as greetings, meals, coffee, markets,
  birthdays, christmas, dia_de_muertos, football, music, family, work, transport, slang, forms_of_address;
  a shared note is stored under its label and shown to other learners of the same level and country.
- When the context names a dialect feature (voseo, vosotros, seseo), let the note use that variety
  naturally, so the learner sees it in use, without calling one variety more correct than another.
Formatting: WhatsApp *bold* for the one key word of the note at most; no headings, no lists, no links,
no emoji beyond one at the end if it fits.
"""


class CultureNote(BaseModel):
    topic: str = Field("general", max_length=60)
    note: str = Field(min_length=1, max_length=900)
    expressions: list[str] = Field(default_factory=list, max_length=4)
    country: str = Field("", max_length=80)


# Country names (folded) a question may name; the note is then about that country, not the learner's.
_COUNTRY_NAMES: dict[str, str] = {
    "mexico": "mx",
    "colombia": "co",
    "argentina": "ar",
    "espana": "es",
    "spain": "es",
    "panama": "pa",
    "cuba": "caribe",
    "puerto rico": "caribe",
    "republica dominicana": "caribe",
    "dominican republic": "caribe",
    "caribe": "caribe",
    "caribbean": "caribe",
    "peru": "pe",
    "chile": "cl",
}
_FOOD = re.compile(
    r"\b(?:comida|food|comer|comen|come|eat|plato\w*|dish\w*|cocina|cuisine|desayun\w*|cena\w*)\b"
)
_GREETING = re.compile(r"\b(?:salud\w*|greet\w*|hello|hola)\b")
_ADDRESS = re.compile(r"\b(?:tu|usted|ustedes|vos|vosotros|formal|informal|tratamiento)\b")
_SLANG = re.compile(r"\b(?:slang|jerga|modismo\w*|expresion\w*|expression\w*|palabras|words|say)\b")


def country_in(question: str) -> Country | None:
    """The country a question names, if any (in English or Spanish)."""
    folded = fold(question)
    for name, code in _COUNTRY_NAMES.items():
        if re.search(rf"\b{name}\b", folded):
            return COUNTRIES[code]
    return None


def engine_note(profile: Profile, question: str = "") -> CultureNote:
    """A note from the table (no provider needed): about the country the question names, else the
    learner's; on what the question asks about (food, greetings, forms of address, expressions), else
    the country's fact."""
    country = country_in(question) or country_for(profile.dialect)
    folded = fold(question)
    expressions = [f"{e}: {m}" for e, m in country.expressions]
    if _FOOD.search(folded):
        note = f"En {country.name} se come, por ejemplo: {country.food}."
    elif _GREETING.search(folded):
        note = f"En {country.name} se saluda así: {country.greeting}"
    elif _ADDRESS.search(folded):
        note = f"En {country.name}: {country.address}."
    elif _SLANG.search(folded):
        note = f"Algunas expresiones que se oyen en {country.name}:"
    else:
        note = f"En {country.name}: {country.note}"
    return CultureNote(topic="general", note=note, expressions=expressions, country=country.name)


def guide(
    llm: LLM,
    profile: Profile,
    topic: str,
    question: str,
    deadline: Deadline,
    cache: ExplanationCache | None = None,
    *,
    shareable: bool = True,
) -> AgentResult[CultureNote]:
    """A culture note on ``topic`` (an id of :data:`.topics.CULTURE_TOPICS`; anything else is treated as
    ``general``) for the learner's country, or for the region the topic names.

    Shared path (as in ``grammar.explain``): with a cache that accepts the topic, ``shareable`` and a
    question that names no other country than the one the note is about, the note is the cached one or
    one a provider writes from the topic id and the country table alone (no learner words in that
    request), cached unless the guard rejected an answer on the way. Otherwise the learner's question
    (inside the data delimiters) is asked about and the note is not cached."""
    topic = checked("culture_question", topic)
    asked = country_in(question)
    region = CULTURE_REGIONS.get(topic)
    keyed = COUNTRIES[region] if region is not None else country_for(profile.dialect)
    key = ("culture", topic, profile.level, profile.dialect, profile.native_language)
    shared = (
        cache is not None
        and shareable
        and cache.allows("culture", topic)
        and (asked is None or asked.code == keyed.code)
    )
    if cache is not None and shared:
        hit = cache.get(CultureNote, *key)
        if hit is not None:
            return AgentResult(hit, "cache")
    country = keyed if shared else (asked or keyed)
    if shared:
        user = (
            f"{country_context(country)}\nTopic: {topic}. Write the note for any learner with this profile "
            "(no learner message: this note is shared)."
        )
    else:
        asked_text = as_data(question[:MAX_INPUT_CHARS])
        user = f"{country_context(country)}\nTopic: {topic}. The learner asked:\n{asked_text}"
    result = ask_or_fallback(
        llm,
        agent="culture",
        system=SYSTEM,
        profile=profile,
        user=user,
        model=CultureNote,
        order=("claude", "groq"),
        deadline=deadline,
        engine=lambda: engine_note(profile, question),
        shown=("note", "expressions"),
        spanish=("note",),
        max_tokens=350,
    )
    if cache is not None and shared and shareable_result(result):
        cache.put(result.output.model_copy(update={"topic": topic}), *key)
    return result
