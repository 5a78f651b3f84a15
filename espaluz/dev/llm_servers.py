"""Local servers that speak Groq's OpenAI-compatible chat completions and Anthropic's Messages API.

The official ``groq`` and ``anthropic`` SDKs reach them through ``GROQ_BASE_URL`` / ``ANTHROPIC_BASE_URL``
(Groq's SDK appends ``/openai/v1/chat/completions``; Anthropic's appends ``/v1/messages``), so the code
under test, or the cost simulation (``espaluz costs --simulate``), runs unchanged. Each provider has a
script: queued answers (status, text, delay, token counts) are served first, in order; when the queue is
empty a default answer is made from the request's system prompt (valid JSON for the agent it names).
Latency follows a model, first token + tokens/second (``Latency``), unless an answer gives its own delay.
Every request body is kept for assertions.

What the usage reports, and how far it can be trusted (an APPROXIMATION for cost estimates, not a bill):

* Tokens (:func:`count_tokens`): characters divided by a characters-per-token ratio of the model family.
  Anthropic's documentation approximates Claude at about 3.5 characters per token; Groq's and OpenAI's
  documentation give "1 token ~ 4 characters ~ 0.75 words" of English for the Llama 3 / gpt-oss
  tokenizers (and the other Groq models). Spanish splits into more tokens than English of the same
  length, so text that reads as Spanish counts 10% more (our assumption, in line with published
  tokenizer comparisons; not measured against the real tokenizers). Each chat message adds
  :data:`MESSAGE_OVERHEAD_TOKENS` (role header and end markers of the chat template) and each request
  :data:`REPLY_OVERHEAD_TOKENS` (the assistant header that primes the answer). Expect +-15% on real text.
* Claude prompt caching: a block with ``cache_control`` caches the prefix of all blocks up to and
  including it, per model, only when that prefix reaches the model's documented minimum
  (:func:`claude_cache_minimum`: 1024 tokens for Sonnet 4.5 / Sonnet 4 / Opus 4.1 / Opus 4, 2048 for
  Sonnet 4.6 and the Haiku 3.x models, 4096 for Haiku 4.5 / Opus 4.5 / Opus 4.6). Below it nothing is
  cached and everything is billed as ``input_tokens``. An entry lives 5 minutes after its last use
  (``cache_control.ttl == "1h"``: an hour). The minimum is always enforced, so a test cannot show a
  cache hit the real API would never give (the tutor's short prompts are not cached on Claude).
* Groq prompt caching (console.groq.com/docs/prompt-caching: automatic, 50% discount on cached input
  tokens, expires after 2 hours without use) on :data:`GROQ_CACHING_MODELS` only: the longest run of
  leading messages (role and content, in order) already sent to the same model within 2 hours is
  reported as ``usage.prompt_tokens_details.cached_tokens``; ``prompt_tokens`` stays the full count.
  Real caching is best effort; here a seen prefix always hits.
* Reasoning (gpt-oss models): ``completion_tokens`` include hidden reasoning tokens, a fixed overhead by
  the request's ``reasoning_effort`` (:data:`REASONING_TOKENS`, our assumption: low 60, medium 250 (the
  default), high 900), reported as ``completion_tokens_details.reasoning_tokens``. The visible answer
  is still the JSON.
* Refused parameters: ``Script.rejects`` maps a model id prefix to body parameters that model refuses;
  such a request gets HTTP 400 with the provider's ``invalid_request_error`` body (the SDKs raise
  ``BadRequestError``), before any queued answer is used.

``realistic=True`` makes the default answers realistic in length and variety per agent (picked by a
hash of the learner's message, so the same request always gets the same answer), for cost estimates.
Each :class:`Script` counts ``answered`` requests, ``cache_hits`` and ``cache_writes`` (``hit_rate``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from espaluz.config import Settings

_IDS = itertools.count(1)

# --- tokens ----------------------------------------------------------------------------------------

CLAUDE_CHARS_PER_TOKEN = 3.5
OTHER_CHARS_PER_TOKEN = 4.0
SPANISH_TOKEN_FACTOR = 1.10
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_OVERHEAD_TOKENS = 3

_WORDS = re.compile(r"[a-záéíóúüñ]+")
# Frequent function words of each language, to tell Spanish text from English.
_SPANISH_LIST = "el la los las que de y en es un una por para con no se del al lo como pero muy qué está"
_ENGLISH_LIST = "the and of to is in you that it for with are this be on not as your"
_SPANISH_WORDS = frozenset(_SPANISH_LIST.split())
_ENGLISH_WORDS = frozenset(_ENGLISH_LIST.split())


def chars_per_token(model: str) -> float:
    """Characters per token of ``model``'s family (English text): Claude 3.5, everything else 4."""
    return CLAUDE_CHARS_PER_TOKEN if model.startswith("claude") else OTHER_CHARS_PER_TOKEN


def looks_spanish(text: str) -> bool:
    """Whether Spanish function words (or Spanish marks) outnumber English ones in ``text``."""
    words = _WORDS.findall(text.lower())
    spanish = sum(word in _SPANISH_WORDS for word in words) + sum(text.count(mark) for mark in "¿¡ñ")
    english = sum(word in _ENGLISH_WORDS for word in words)
    return spanish > english


def count_tokens(text: str, model: str) -> int:
    """Approximate tokens of ``text`` for ``model`` (module docstring): 0 for empty text, else at least 1."""
    if not text:
        return 0
    tokens = len(text) / chars_per_token(model)
    if looks_spanish(text):
        tokens *= SPANISH_TOKEN_FACTOR
    return max(1, math.ceil(tokens))


def _content_text(content: Any) -> str:
    """The text of a message content: a string, or the text blocks of a list (other blocks as JSON)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            else:
                parts.append(json.dumps(block, ensure_ascii=False))
        return "\n".join(parts)
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def message_tokens(message: dict[str, Any], model: str) -> int:
    """Tokens of one chat message: its text plus the chat template's per-message overhead."""
    return count_tokens(_content_text(message.get("content")), model) + MESSAGE_OVERHEAD_TOKENS


# --- caching rules -----------------------------------------------------------------------------------

CLAUDE_CACHE_TTL = 5 * 60.0
CLAUDE_CACHE_TTL_1H = 60 * 60.0
GROQ_CACHE_TTL = 2 * 60 * 60.0
GROQ_CACHING_MODELS = frozenset(
    {"openai/gpt-oss-20b", "openai/gpt-oss-120b", "moonshotai/kimi-k2-instruct-0905"}
)

# Longest prefix first: "claude-sonnet-4-5" must not be read as "claude-sonnet-4".
_CLAUDE_CACHE_MINIMUMS: tuple[tuple[str, int], ...] = (
    ("claude-sonnet-4-6", 2048),
    ("claude-sonnet-4-5", 1024),
    ("claude-sonnet-4", 1024),
    ("claude-opus-4-6", 4096),
    ("claude-opus-4-5", 4096),
    ("claude-opus-4-1", 1024),
    ("claude-opus-4", 1024),
    ("claude-haiku-4-5", 4096),
    ("claude-3-5-haiku", 2048),
    ("claude-3-haiku", 2048),
)
DEFAULT_CLAUDE_CACHE_MINIMUM = 1024


def claude_cache_minimum(model: str) -> int:
    """The fewest tokens a cached prefix needs on ``model`` (Anthropic's documented minimums)."""
    for prefix, minimum in _CLAUDE_CACHE_MINIMUMS:
        if model.startswith(prefix):
            return minimum
    return DEFAULT_CLAUDE_CACHE_MINIMUM


REASONING_TOKENS = {"low": 60, "medium": 250, "high": 900}
DEFAULT_REASONING_EFFORT = "medium"


def reasoning_tokens(model: str, effort: str | None) -> int:
    """Hidden reasoning tokens a gpt-oss model adds to its completion (0 for other models)."""
    if not model.startswith("openai/gpt-oss"):
        return 0
    return REASONING_TOKENS.get(
        effort or DEFAULT_REASONING_EFFORT, REASONING_TOKENS[DEFAULT_REASONING_EFFORT]
    )


def free_port() -> int:
    """A free loopback TCP port (the OS picks it; a race with another process is possible but rare)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Latency:
    """Seconds to the first token, then tokens per second."""

    first_token: float = 0.0
    tokens_per_second: float = 0.0

    def seconds(self, tokens_out: int) -> float:
        rate = tokens_out / self.tokens_per_second if self.tokens_per_second else 0.0
        return self.first_token + rate


GROQ_REALISTIC = Latency(0.3, 400.0)
CLAUDE_REALISTIC = Latency(0.8, 80.0)


@dataclass
class Answer:
    """One scripted answer. ``status`` 429/500/529 answers with the provider's error body."""

    text: str | None = None
    status: int = 200
    delay: float | None = None
    # Visible answer tokens (a gpt-oss model still adds its reasoning tokens).
    tokens_out: int | None = None
    # Only for a request whose system prompt contains this text (e.g. "intent classifier"): concurrent
    # calls to one provider then get their own answers whatever order they arrive in.
    when: str = ""


def default_text(system: str) -> str:
    """A valid answer for the agent the system prompt belongs to."""
    if "intent classifier" in system:
        return json.dumps({"intent": "conversation", "topic": "general", "confidence": 0.9})
    if "grammar expert" in system:
        return json.dumps(
            {
                "topic": "ser_estar",
                "explanation": "Use *ser* for what something is and *estar* for how or where it is.",
                "examples": ["Soy de Lima.", "Estoy en casa."],
                "correction": None,
            }
        )
    if "culture guide" in system:
        return json.dumps(
            {
                "topic": "comida",
                "note": "En México el desayuno del domingo es muy importante y muchas familias comen juntas.",
                "expressions": ["¡Qué padre!: ¡qué bien!"],
                "country": "México",
            }
        )
    if "exercise writer" in system:
        return json.dumps(
            {
                "skill": "preterite",
                "instructions": "Escribe dos frases sobre lo que hiciste ayer.",
                "example_answer": "Ayer fui al mercado y compré fruta.",
            }
        )
    return json.dumps(
        {
            "reply": "¡Qué bien! Yo también estoy contento hoy. ¿Qué vas a hacer esta tarde?",
            "correction": None,
        }
    )


# --- realistic answers ---------------------------------------------------------------------------------

# (reply, correction, explanation in English, explanation in Spanish); half of them correct the learner.
_CONVERSATION: tuple[tuple[str, str | None, str | None, str | None], ...] = (
    (
        "¡Qué interesante! A mí también me gusta cocinar los fines de semana, sobre todo platos sencillos "
        "como una tortilla de papas o una sopa de verduras. Cocinar con calma es una buena manera de "
        "descansar. ¿Cuál es tu comida favorita y quién te enseñó a prepararla?",
        None,
        None,
        None,
    ),
    (
        "¡Qué buen plan! Ayer yo también fui al parque con mi hermana y caminamos casi dos horas. "
        "Hacía sol y había mucha gente. ¿Qué hiciste después?",
        "Ayer fui al parque.",
        "For an action that finished in the past, use the preterite: *fui*, not *voy*.",
        "Para una acción terminada en el pasado se usa el pretérito: *fui*, no *voy*.",
    ),
    (
        "Me alegra mucho leer eso. Aprender un idioma nuevo requiere paciencia, pero lo estás haciendo muy "
        "bien y se nota que cada semana escribes con más soltura. ¿Practicas español todos los días o "
        "solo los fines de semana? ¿Qué es lo que más te cuesta?",
        None,
        None,
        None,
    ),
    (
        "¡Qué bonito! Tu ciudad parece muy tranquila y agradable para vivir. ¿Hay mercados o plazas donde "
        "la gente se reúne por la tarde?",
        "Mi ciudad es muy bonita.",
        "*Ciudad* is feminine, so the adjective ends in -a: *bonita*.",
        "*Ciudad* es femenino, así que el adjetivo termina en -a: *bonita*.",
    ),
    (
        "¡Uf, los lunes pueden ser difíciles! Yo suelo empezar la semana con un café bien cargado, un poco "
        "de música y una lista corta de tareas para no agobiarme. ¿Qué haces tú para tener energía por la "
        "mañana? ¿Eres más de café o de té?",
        None,
        None,
        None,
    ),
    (
        "Entiendo, el trabajo a veces cansa mucho. Me parece una buena idea descansar este fin de semana. "
        "¿Tienes algún plan para relajarte?",
        "Estoy cansado.",
        "Use *estar* for temporary states such as being tired: *estoy cansado*.",
        "Con los estados pasajeros, como el cansancio, se usa *estar*: *estoy cansado*.",
    ),
    (
        "¡Qué buena noticia! Viajar a otro país es una oportunidad perfecta para practicar, porque cada "
        "día tendrás que pedir comida, preguntar direcciones y charlar con la gente. Si vas a México, no te "
        "pierdas los tacos al pastor. ¿Cuándo sales de viaje y con quién vas?",
        None,
        None,
        None,
    ),
    (
        "¡A mí también me encanta la música! Escuchar canciones en español ayuda muchísimo con la "
        "pronunciación. ¿Qué cantante te gusta más?",
        "Me gustan las canciones de Shakira.",
        "When the thing you like is plural, *gustar* is plural too: *me gustan las canciones*.",
        "Cuando lo que gusta es plural, el verbo también va en plural: *me gustan las canciones*.",
    ),
)

# (topic, explanation in English, explanation in Spanish, examples, correction)
_GRAMMAR: tuple[tuple[str, str, str, tuple[str, ...], str | None], ...] = (
    (
        "ser_estar",
        "Use *ser* for identity, origin, profession and lasting traits, and *estar* for location, feelings "
        "and temporary states. A quick test: if you are describing how something is right now, or where "
        "it is, you usually need *estar*. Some adjectives change meaning: *es aburrido* (boring) but *está "
        "aburrido* (bored).",
        "Usa *ser* para la identidad, el origen, la profesión y las características duraderas, y *estar* "
        "para el lugar, los sentimientos y los estados pasajeros. Una pista: si describes cómo está algo "
        "ahora, o dónde está, casi siempre necesitas *estar*. Algunos adjetivos cambian de sentido: *es "
        "aburrido* no es lo mismo que *está aburrido*.",
        ("Soy profesora y soy de Sevilla.", "Hoy estoy cansada porque dormí poco."),
        "Estoy en casa.",
    ),
    (
        "por_para",
        "*Para* points to a goal, a destination, a deadline or the person who receives something. *Por* "
        "gives a cause, a route, an exchange or a length of time. Think of *para* as 'in order to' and "
        "*por* as 'because of' or 'through'. Fixed phrases use *por* too: *por favor*, *por fin*, *por "
        "ejemplo*.",
        "*Para* indica una meta, un destino, un plazo o la persona que recibe algo. *Por* expresa una "
        "causa, un recorrido, un intercambio o una duración. Piensa en *para* como finalidad y en *por* "
        "como causa o camino. También hay expresiones fijas con *por*: *por favor*, *por fin*, *por "
        "ejemplo*.",
        ("Estudio español para viajar a Chile.", "Caminamos por el parque.", "Gracias por tu ayuda."),
        None,
    ),
    (
        "preterite_imperfect",
        "The preterite tells what happened as a finished event: *llegué*, *comimos*. The imperfect "
        "describes the background, habits and what was going on: *llovía*, *siempre comíamos*. In a "
        "story, the imperfect sets the scene and the preterite moves the action forward.",
        "El pretérito cuenta lo que pasó como un hecho terminado: *llegué*, *comimos*. El imperfecto "
        "describe el fondo, los hábitos y lo que estaba pasando: *llovía*, *siempre comíamos*. En un "
        "relato, el imperfecto pinta la escena y el pretérito hace avanzar la acción.",
        ("Cuando era niño, vivía en un pueblo.", "Ayer llovía cuando salí de casa."),
        "Ayer fui al cine con mis amigos.",
    ),
    (
        "subjunctive",
        "After a wish, a doubt or an emotion about someone else, Spanish uses the present subjunctive: "
        "*quiero que vengas*, *espero que estés bien*. When the subject is the same person, use the "
        "infinitive instead: *quiero venir*. Impersonal phrases such as *es importante que* also take the "
        "subjunctive.",
        "Después de un deseo, una duda o una emoción sobre otra persona, se usa el presente de "
        "subjuntivo: *quiero que vengas*, *espero que estés bien*. Si el sujeto es el mismo, se usa el "
        "infinitivo: *quiero venir*. Las expresiones impersonales como *es importante que* también llevan "
        "subjuntivo.",
        ("Espero que tengas un buen día.", "Es importante que practiques cada día."),
        "Quiero que vengas a mi fiesta.",
    ),
)

# (topic, note, expressions, country)
_CULTURE: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "comida",
        "En México la comida principal del día suele ser entre las dos y las cuatro de la tarde, y muchas "
        "familias se reúnen para comer juntas, a veces con sopa, un plato fuerte y agua de frutas. Por la "
        "noche se cena algo ligero, como unos tacos o pan dulce con café. En los mercados hay puestos "
        "donde se puede probar comida casera a buen precio.",
        (
            "¡Buen provecho!: se le dice a quien está comiendo",
            "¿Gustas?: una forma amable de ofrecer comida",
            "¡Qué padre!: ¡qué bien!",
        ),
        "México",
    ),
    (
        "saludos",
        "En España es habitual saludar con dos besos en la mejilla, empezando por la derecha, cuando te "
        "presentan a alguien en un ambiente informal; entre hombres es más común darse la mano. Los "
        "horarios son tardíos: se come hacia las dos y media y se cena a partir de las nueve, así que "
        "quedar para tomar algo a las ocho es muy normal. Y después de comer, la sobremesa puede durar "
        "horas.",
        (
            "¿Quedamos?: ¿nos vemos?",
            "Tomar algo: ir a un bar a beber o picar algo",
            "¡Qué guay!: ¡qué bien!",
        ),
        "España",
    ),
    (
        "música",
        "En Argentina el tango nació a finales del siglo XIX en los barrios del puerto de Buenos Aires, "
        "donde se mezclaron ritmos europeos, africanos y criollos. Hoy se baila en las milongas, salones "
        "donde se reúnen personas de todas las edades. Además del tango, el folclore y el rock nacional "
        "son muy populares, y en las reuniones entre amigos no falta el mate.",
        (
            "Che: forma de llamar a un amigo",
            "¡Qué copado!: ¡qué bueno!",
            "Tomar unos mates: compartir mate con amigos",
        ),
        "Argentina",
    ),
    (
        "fiestas",
        "En Colombia la Navidad empieza el 7 de diciembre con el Día de las Velitas, cuando las familias "
        "encienden velas y faroles en las ventanas y en las calles. Del 16 al 24 se rezan las novenas, "
        "con villancicos y comidas típicas como la natilla y los buñuelos. Es una temporada muy familiar, "
        "con música, primos y vecinos reunidos hasta tarde.",
        (
            "¡Qué chévere!: ¡qué bien!",
            "Parce: amigo, compañero",
            "Rumbear: salir de fiesta a bailar",
        ),
        "Colombia",
    ),
)

# (skill, instructions, example answer)
_EXERCISES: tuple[tuple[str, str, str], ...] = (
    (
        "preterite",
        "Cuenta en tres frases qué hiciste el fin de semana pasado. Usa verbos en pretérito como fui, "
        "comí o visité.",
        "El sábado visité a mi abuela, comimos paella y por la tarde fuimos al cine.",
    ),
    (
        "ser_estar",
        "Describe a una persona de tu familia con dos o tres frases: usa el verbo ser para su carácter y "
        "estar para cómo se siente hoy.",
        "Mi hermano es alto y simpático. Hoy está nervioso porque tiene un examen.",
    ),
    (
        "future",
        "Escribe tres planes para el próximo verano con ir a + infinitivo. Di también con quién los vas a "
        "hacer.",
        "Voy a viajar a Perú con mi prima, voy a aprender a surfear y voy a leer más novelas.",
    ),
    (
        "gustar",
        "Escribe dos cosas que te gustan de tu ciudad y una que no te gusta. Usa me gusta, me gustan o me "
        "encanta.",
        "Me gustan los parques y me encanta el mercado, pero no me gusta el tráfico.",
    ),
)


def _pick(options: Sequence[Any], key: str) -> Any:
    """One of ``options``, the same for the same ``key`` in every run (no salted ``hash``)."""
    digest = hashlib.sha256(key.encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def realistic_text(system: str, user: str) -> str:
    """A realistic answer (length, variety) for the agent ``system`` names, picked by the learner's
    message ``user``: the same request always gets the same answer. Explanations are in English when
    the system prompt asks for "explanations in English", in Spanish otherwise (always allowed)."""
    english = "explanations in English" in system
    if "intent classifier" in system:
        # Classified as the tutor's own keyword heuristic would (a grammar or culture question gets its
        # agent), so a simulation's route mix follows what learners write, not one fixed intent.
        from espaluz.llm.guard import CLOSE, OPEN
        from espaluz.tutor.agents.intent import engine_intent

        said = user.split(OPEN, 1)[-1].split(CLOSE, 1)[0].strip()
        return engine_intent(said).model_dump_json()
    if "grammar expert" in system:
        topic, in_en, in_es, examples, correction = _pick(_GRAMMAR, "grammar:" + user)
        note = {
            "topic": topic,
            "explanation": in_en if english else in_es,
            "examples": list(examples),
            "correction": correction,
        }
        return json.dumps(note, ensure_ascii=False)
    if "culture guide" in system:
        topic, text, expressions, country = _pick(_CULTURE, "culture:" + user)
        culture = {"topic": topic, "note": text, "expressions": list(expressions), "country": country}
        return json.dumps(culture, ensure_ascii=False)
    if "exercise writer" in system:
        skill, instructions, example = _pick(_EXERCISES, "exercise:" + user)
        exercise = {"skill": skill, "instructions": instructions, "example_answer": example}
        return json.dumps(exercise, ensure_ascii=False)
    reply, correction, why_en, why_es = _pick(_CONVERSATION, "conversation:" + user)
    answer = {"reply": reply, "correction": correction, "explanation": why_en if english else why_es}
    return json.dumps(answer, ensure_ascii=False)


# --- scripts -----------------------------------------------------------------------------------------


@dataclass
class Script:
    latency: Latency = field(default_factory=Latency)
    queue: deque[Answer] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # (start, end) on the monotonic clock of each answered request, in request order: tests compare
    # them to show that two calls overlapped.
    spans: list[tuple[float, float]] = field(default_factory=list)
    # Model id prefix -> body parameters that model refuses with HTTP 400 (e.g. {"claude-opus-4-1":
    # {"top_p"}}).
    rejects: dict[str, set[str]] = field(default_factory=dict)
    # Requests answered with 200; of those, how many read cached input tokens, and (Claude) wrote some.
    answered: int = 0
    cache_hits: int = 0
    cache_writes: int = 0

    @property
    def hit_rate(self) -> float:
        """Share of answered requests that read from the prompt cache (0.0 before any)."""
        return self.cache_hits / self.answered if self.answered else 0.0

    def push(self, *answers: Answer) -> None:
        self.queue.extend(answers)

    def next(self, system: str = "") -> Answer | None:
        """The first queued answer meant for this request (``when`` empty or found in its system prompt)."""
        for answer in self.queue:
            if not answer.when or answer.when in system:
                self.queue.remove(answer)
                return answer
        return None

    def refused(self, body: dict[str, Any]) -> str | None:
        """The first body parameter the request's model refuses (``rejects``), if any."""
        model = str(body.get("model", ""))
        for prefix, params in self.rejects.items():
            if model.startswith(prefix):
                for param in sorted(params):
                    if param in body:
                        return param
        return None


def _system_text(body: dict[str, Any], anthropic: bool) -> str:
    if anthropic:
        system = body.get("system") or ""
        if isinstance(system, list):
            return "\n".join(block.get("text", "") for block in system)
        return str(system)
    return "\n".join(
        _content_text(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system"
    )


def _user_text(body: dict[str, Any]) -> str:
    """The last user message's text (what a realistic answer is picked by)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _digest(previous: str, item: Any) -> str:
    return hashlib.sha256(
        (previous + json.dumps(item, sort_keys=True, ensure_ascii=False)).encode()
    ).hexdigest()


async def _answer_after(script: Script, answer: Answer, tokens_out: int) -> None:
    """Wait the answer's delay (or the script's latency model) and record the request's span."""
    started = time.monotonic()
    index = len(script.spans)  # one event loop: arrival order is the requests' order
    script.spans.append((started, float("inf")))
    try:
        await asyncio.sleep(answer.delay if answer.delay is not None else script.latency.seconds(tokens_out))
    finally:
        script.spans[index] = (started, time.monotonic())


class ProviderServers:
    """Both APIs on one loopback server (uvicorn in a thread). Use as a context manager.

    ``realistic``: realistic default answers (:func:`realistic_text`). ``clock`` (seconds, monotonic)
    times the cache entries' expiry; a test passes a fake one. Caches are per server, shared by all
    requests to the same model."""

    def __init__(
        self,
        groq: Latency | None = None,
        claude: Latency | None = None,
        *,
        realistic: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.groq = Script(groq or Latency())
        self.claude = Script(claude or Latency())
        self.realistic = realistic
        self.clock = clock
        # (model, prefix digest) -> (last use, time to live)
        self._claude_cache: dict[tuple[str, str], tuple[float, float]] = {}
        # (model, prefix digest) -> last use
        self._groq_cache: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    # The SDKs append their own paths to these.
    @property
    def groq_base_url(self) -> str:
        return self.base_url

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    def _answer_text(self, answer: Answer, system: str, body: dict[str, Any]) -> str:
        if answer.text is not None:
            return answer.text
        return realistic_text(system, _user_text(body)) if self.realistic else default_text(system)

    def _groq_cached(self, model: str, messages: list[dict[str, Any]]) -> int:
        """Tokens of the longest run of leading messages seen before (2 h), then remember this request's."""
        if model not in GROQ_CACHING_MODELS:
            return 0
        now = self.clock()
        cached = running = 0
        digest = ""
        hit = True
        with self._lock:
            for message in messages:
                digest = _digest(digest, [message.get("role"), message.get("content")])
                running += message_tokens(message, model)
                key = (model, digest)
                seen = self._groq_cache.get(key)
                if hit and seen is not None and now - seen <= GROQ_CACHE_TTL:
                    cached = running
                else:
                    hit = False
                self._groq_cache[key] = now
        return cached

    def _claude_usage(self, model: str, body: dict[str, Any]) -> tuple[int, int, int]:
        """(uncached input, cache write, cache read) tokens of a Messages request."""
        system = body.get("system") or []
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        sizes = [count_tokens(_content_text([block]), model) for block in system]
        total_system = sum(sizes)
        rest = sum(message_tokens(m, model) for m in body.get("messages", [])) + REPLY_OVERHEAD_TOKENS
        # Breakpoints: (index of the marked block, prefix digest, prefix tokens, time to live).
        points: list[tuple[int, str, int, float]] = []
        digest = ""
        running = 0
        minimum = claude_cache_minimum(model)
        for index, block in enumerate(system):
            digest = _digest(digest, {k: v for k, v in block.items() if k != "cache_control"})
            running += sizes[index]
            control = block.get("cache_control")
            if control and running >= minimum:
                ttl = CLAUDE_CACHE_TTL_1H if control.get("ttl") == "1h" else CLAUDE_CACHE_TTL
                points.append((index, digest, running, ttl))
        if not points:
            return total_system + rest, 0, 0
        now = self.clock()
        read = 0
        with self._lock:
            for _, prefix, tokens, _ in reversed(points):
                entry = self._claude_cache.get((model, prefix))
                if entry is not None and now - entry[0] <= entry[1]:
                    read = tokens
                    break
            # Every breakpoint's prefix is now written or refreshed: its 5 minutes start again.
            for _, prefix, _, ttl in points:
                self._claude_cache[(model, prefix)] = (now, ttl)
        cached_prefix = points[-1][2]
        write = cached_prefix - read
        return total_system - cached_prefix + rest, write, read

    def app(self) -> Any:
        app = FastAPI()

        @app.post("/openai/v1/chat/completions")
        async def chat_completions(request: Request) -> JSONResponse:
            body = await request.json()
            script = self.groq
            script.requests.append(body)
            script.headers.append(dict(request.headers))
            model = str(body.get("model", ""))
            param = script.refused(body)
            if param is not None:
                now = time.monotonic()
                script.spans.append((now, now))
                error = {
                    "error": {
                        "message": f"`{param}` is not supported with this model",
                        "type": "invalid_request_error",
                        "param": param,
                        "code": "invalid_request_error",
                    }
                }
                return JSONResponse(error, status_code=400)
            system = _system_text(body, anthropic=False)
            answer = script.next(system) or Answer()
            text = self._answer_text(answer, system, body)
            visible = answer.tokens_out or count_tokens(text, model)
            reasoning = reasoning_tokens(model, body.get("reasoning_effort"))
            tokens_out = visible + reasoning
            messages = body.get("messages", [])
            cached = self._groq_cached(model, messages) if answer.status == 200 else 0
            await _answer_after(script, answer, tokens_out)
            if answer.status != 200:
                kind = "rate_limit_exceeded" if answer.status == 429 else "internal_server_error"
                error = {"error": {"message": f"scripted {answer.status}", "type": kind, "code": kind}}
                return JSONResponse(error, status_code=answer.status, headers={"retry-after": "1"})
            script.answered += 1
            script.cache_hits += cached > 0
            tokens_in = sum(message_tokens(m, model) for m in messages) + REPLY_OVERHEAD_TOKENS
            usage: dict[str, Any] = {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
                "prompt_tokens_details": {"cached_tokens": cached},
            }
            if model.startswith("openai/gpt-oss"):
                usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
            return JSONResponse(
                {
                    "id": f"chatcmpl-{next(_IDS)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )

        @app.post("/v1/messages")
        async def messages(request: Request) -> JSONResponse:
            body = await request.json()
            script = self.claude
            script.requests.append(body)
            script.headers.append(dict(request.headers))
            model = str(body.get("model", ""))
            param = script.refused(body)
            if param is not None:
                now = time.monotonic()
                script.spans.append((now, now))
                error = {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"`{param}` is not supported with this model.",
                    },
                }
                return JSONResponse(error, status_code=400)
            system = _system_text(body, anthropic=True)
            answer = script.next(system) or Answer()
            text = self._answer_text(answer, system, body)
            tokens_out = answer.tokens_out or count_tokens(text, model)
            uncached, cache_write, cache_read = (
                self._claude_usage(model, body) if answer.status == 200 else (0, 0, 0)
            )
            await _answer_after(script, answer, tokens_out)
            if answer.status != 200:
                kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(answer.status, "api_error")
                error = {"type": "error", "error": {"type": kind, "message": f"scripted {answer.status}"}}
                return JSONResponse(error, status_code=answer.status, headers={"retry-after": "1"})
            script.answered += 1
            script.cache_hits += cache_read > 0
            script.cache_writes += cache_write > 0
            return JSONResponse(
                {
                    "id": f"msg_{next(_IDS)}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": uncached,
                        "output_tokens": tokens_out,
                        "cache_creation_input_tokens": cache_write,
                        "cache_read_input_tokens": cache_read,
                    },
                }
            )

        return app

    def __enter__(self) -> ProviderServers:
        import uvicorn

        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("provider server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def settings(self, **overrides: Any) -> Settings:
        """Settings whose providers are these servers (fake keys); ``overrides`` replace any field."""
        values: dict[str, Any] = {
            "groq_api_key": "gsk_test_fake",
            "anthropic_api_key": "sk-ant-test-fake",
            "groq_base_url": self.groq_base_url,
            "anthropic_base_url": self.anthropic_base_url,
        }
        values.update(overrides)
        return Settings(**values)

    def env(self) -> dict[str, str]:
        """Settings that point the SDKs here, with fake keys."""
        return {
            "GROQ_API_KEY": "gsk_test_fake",
            "ANTHROPIC_API_KEY": "sk-ant-test-fake",
            "GROQ_BASE_URL": self.groq_base_url,
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
        }
