"""What every agent shares: the learner profile it sees, its result type, and the ask-or-fallback step."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from espaluz.llm.chain import OutputRejected
from espaluz.llm.guard import CANARY, DATA_RULES, check_output
from espaluz.llm.providers import Request
from espaluz.ops import metrics
from espaluz.tutor.commands.profile import explanation_language

if TYPE_CHECKING:
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline, Provider, Usage
    from espaluz.storage.learners import Learner

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
# How much of one learner message goes to a model: a long message is answered, its tail is not read.
MAX_INPUT_CHARS = 1500
Source = Literal["claude", "groq", "engine", "cache"]

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese"}
# Stored dialects: the engine's three, or the country codes onboarding stores (espaluz.tutor.commands).
DIALECT_NAMES = {
    "latam": "Latin American",
    "spain": "Peninsular (Spain)",
    "rioplatense": "Rioplatense",
    "mx": "Mexican",
    "co": "Colombian",
    "ar": "Rioplatense (Argentina)",
    "es": "Peninsular (Spain)",
    "pa": "Panamanian",
    "caribe": "Caribbean (Cuba, Puerto Rico, Dominican Republic)",
    "pe": "Peruvian",
    "cl": "Chilean",
}


CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


@dataclass(frozen=True, slots=True)
class Profile:
    """What an agent knows of the learner: never the phone number or name. Built by :meth:`of`, every
    field is one of our codes (a level of ``CEFR_LEVELS``, a dialect of ``DIALECT_NAMES``, ``en``/``es``):
    they go into prompts outside the data delimiters and into shared cache keys."""

    level: str = "A1"
    dialect: str = "latam"
    native_language: str = "en"

    @classmethod
    def of(cls, learner: Learner) -> Profile:
        language = explanation_language(learner.native_language)  # "pt" learners read English
        level = learner.level if learner.level in CEFR_LEVELS else "A1"
        dialect = learner.dialect if learner.dialect in DIALECT_NAMES else "latam"
        return cls(level, dialect, language if language in ("en", "es") else "en")

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.native_language, "English")

    def context(self) -> str:
        """The per-learner system block (kept out of the cached prefix)."""
        return (
            f"Learner profile: CEFR level {self.level}; target dialect "
            f"{DIALECT_NAMES.get(self.dialect, DIALECT_NAMES['latam'])}; "
            f"explanations in {self.language_name}."
        )


@dataclass
class AgentResult(Generic[M]):
    """An agent's typed output, where it came from, and the usage of every call it made."""

    output: M
    source: Source
    usages: list[Usage] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        """True when a provider was wanted but the engine answered."""
        return self.source == "engine"


def tainted(failures: Sequence[str]) -> bool:
    """Whether a provider's answer was refused in these failures (``"<provider>:<outcome>:<detail>"``):
    the guard rejected it, or it was not the JSON asked for. A turn where a model misbehaved like that
    may have been steered by the learner; nothing from it is shared with other learners (the cache)."""
    return any(f.split(":")[1:2] in (["rejected"], ["bad_output"]) for f in failures)


# What a generic explanation never needs and a steered one may carry: links, addresses, long numbers
# (phones, cards, codes), and the canary of every system prompt.
_NOT_SHAREABLE = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|co|es|mx|app|info|xyz|me|ly|example)\b|\S@\S|"
    r"\d[\d .-]{6,}\d|" + re.escape(CANARY),
    re.IGNORECASE,
)


def fit_to_share(value: BaseModel) -> bool:
    """Whether an answer may go into the shared cache, beyond what the guard checked: none of its texts
    holds a link, an e-mail or handle, a long number or the canary. A second lock on what is served to
    every learner with the same profile for the cache's lifetime."""

    def texts(item: object) -> list[str]:
        if isinstance(item, str):
            return [item]
        if isinstance(item, dict):
            return [t for v in item.values() for t in texts(v)]
        if isinstance(item, list):
            return [t for v in item for t in texts(v)]
        return []

    return not any(_NOT_SHAREABLE.search(text) for text in texts(value.model_dump()))


def shareable_result(result: AgentResult[Any]) -> bool:
    """Whether an agent's result may be written to the shared cache: a provider's answer (not the
    engine's, not the cache's), from calls where no answer was refused, and :func:`fit_to_share`."""
    return (
        result.source in ("groq", "claude") and not tainted(result.failures) and fit_to_share(result.output)
    )


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def clipped(limit: int) -> BeforeValidator:
    """A validator for secondary text fields (a correction, its explanation): a long value is cut, not
    rejected, so one long field never costs the whole answer."""

    def clip(value: object) -> object:
        return clip_text(value, limit) if isinstance(value, str) else value

    return BeforeValidator(clip)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parser(
    model: type[M],
    system: str,
    *,
    shown: Sequence[str],
    spanish: Sequence[str] = (),
    explanation_language: str = "en",
) -> Callable[[str], M]:
    """A parser for :meth:`LLM.ask`: JSON (code fences tolerated) validated by ``model``, then the guard
    on the ``shown`` fields (string or list-of-string fields the learner will read), which may be in
    Spanish or the learner's ``explanation_language``. A rejection is counted (``GuardFired``)."""

    def parse(text: str) -> M:
        raw = _FENCE.sub("", text.strip())
        start, end = raw.find("{"), raw.rfind("}")
        try:
            data = json.loads(raw[start : end + 1] if start >= 0 else raw)
        except ValueError as exc:
            raise OutputRejected("bad_output", f"not JSON for {model.__name__}") from exc
        try:
            value = model.model_validate(data)
        except ValidationError as exc:
            # Locations and error types only: the message would quote the model's text into the logs.
            where = ", ".join(f"{'.'.join(map(str, e['loc']))}:{e['type']}" for e in exc.errors()[:3])
            raise OutputRejected("bad_output", f"invalid {model.__name__}: {where}") from exc
        fields: dict[str, str] = {}
        for name in shown:
            item = getattr(value, name, None)
            if isinstance(item, list):
                fields[name] = "\n".join(str(x) for x in item)
            elif item:
                fields[name] = str(item)
        reason = check_output(
            fields, system, spanish=tuple(spanish), explanation_language=explanation_language
        )
        if reason:
            metrics.guard_fired(reason)
            raise OutputRejected("rejected", reason)
        return value

    return parse


def ask_or_fallback(
    llm: LLM,
    *,
    agent: str,
    system: str,
    profile: Profile,
    user: str,
    model: type[M],
    order: Sequence[Provider],
    deadline: Deadline,
    engine: Callable[[], M],
    shown: Sequence[str],
    spanish: Sequence[str] = (),
    max_tokens: int = 400,
    route: str = "",
) -> AgentResult[M]:
    """Ask who answers ``route`` (``LLM_ROUTES``; default: the agent's name), else the providers in
    ``order``; the engine's answer when none gives an acceptable one. ``max_tokens`` is the cap when the
    route has none in ``LLM_MAX_TOKENS``."""
    full_system = f"{system.strip()}\n\n{DATA_RULES}"
    request = Request(agent, full_system, profile.context(), user, max_tokens=max_tokens)
    answer = llm.ask(
        request,
        order,
        parser(
            model, full_system, shown=shown, spanish=spanish, explanation_language=profile.native_language
        ),
        deadline,
        route=route,
    )
    if answer.value is not None and answer.provider is not None:
        return AgentResult(answer.value, answer.provider, answer.usages, answer.failures)
    return AgentResult(engine(), "engine", answer.usages, answer.failures)
