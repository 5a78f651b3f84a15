"""Routes (``LLM_ROUTES``, ``LLM_MAX_TOKENS``, ``LLM_MODEL_PARAMS``) through the official SDKs against the
local Groq/Anthropic servers: with the default settings (only fake keys and base URLs) each agent's call
goes to the model its route names, with the route's answer cap and the model's request parameters; a
failing step falls to the route's next one; a typo in the routes stops the deployment; Groq's cached
prompt tokens are billed as cache reads."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from espaluz.config import Settings
from espaluz.llm.chain import LLM
from espaluz.llm.types import Deadline
from espaluz.storage.learners import Learner
from espaluz.tutor.agents import culture, exercises, grammar
from espaluz.tutor.agents.base import Profile
from espaluz.tutor.agents.brain import TutorBrain
from espaluz.tutor.agents.conversation import chat
from espaluz.tutor.state import ConversationState
from tests.providers import Answer, ProviderServers

# Words of each agent's system prompt (the local servers pick scripted answers by them).
PARTNER = "conversation partner"
CLASSIFIER = "intent classifier"
EXPERT = "grammar expert"
WRITER = "exercise writer"

# What the default settings add for a gpt-oss model (espaluz.config.Settings.llm_model_params).
REASONING = {"reasoning_effort": "low", "include_reasoning": False}
RESERVE = 250


@pytest.fixture
def servers() -> Iterator[ProviderServers]:
    with ProviderServers() as running:
        yield running


def learner() -> Learner:
    return Learner(uuid.uuid4(), "34600000009", None, "Ana", "100", "A2", "latam", "en", "free", "none")


def groq_bodies(servers: ProviderServers, phrase: str) -> list[dict[str, Any]]:
    """The Groq request bodies whose system prompt contains ``phrase``, in request order."""
    return [body for body in servers.groq.requests if phrase in body["messages"][0]["content"]]


def test_a_default_turn_sends_the_partner_to_gpt_oss_and_the_classifier_to_the_small_model(
    servers: ProviderServers,
) -> None:
    """Default settings: the partner's request goes to Groq's openai/gpt-oss-120b with low reasoning
    effort, no reasoning text and room for it (300 + 250 tokens); the classifier goes to
    llama-3.1-8b-instant with 60 tokens and none of gpt-oss's parameters; the grammar check rides on the
    check route (gpt-oss-120b, 300 + 250); Claude is not asked at all."""
    brain = TutorBrain.from_settings(servers.settings())
    text = "Ayer yo voy al mercado con mi hermana"
    answer = brain.answer(learner(), ConversationState(), text, deadline=5.0)
    assert (answer.route, answer.source) == ("llm.conversation", "groq")
    assert servers.claude.requests == []

    [partner] = groq_bodies(servers, PARTNER)
    assert partner["model"] == "openai/gpt-oss-120b"
    assert {key: partner.get(key) for key in REASONING} == REASONING
    assert "reserve_tokens" not in partner  # a setting of ours, never sent
    assert partner["max_tokens"] == 300 + RESERVE
    assert partner["response_format"] == {"type": "json_object"}

    [classifier] = groq_bodies(servers, CLASSIFIER)
    assert classifier["model"] == "llama-3.1-8b-instant"
    assert classifier["max_tokens"] == 60
    assert not {"reasoning_effort", "include_reasoning"} & set(classifier)

    [check] = groq_bodies(servers, EXPERT)
    assert check["model"] == "openai/gpt-oss-120b"
    assert check["max_tokens"] == 300 + RESERVE
    assert check["reasoning_effort"] == "low"

    models = {(u.agent, u.provider, u.model) for u in answer.usages}
    assert models == {
        ("intent", "groq", "llama-3.1-8b-instant"),
        ("conversation", "groq", "openai/gpt-oss-120b"),
        ("grammar", "groq", "openai/gpt-oss-120b"),
    }


def test_the_grammar_check_uses_the_check_route_and_explanations_the_grammar_route(
    servers: ProviderServers,
) -> None:
    """Default settings, gpt-oss-120b down (500) for both: the learner's sentence check (route "check")
    falls to Groq's llama-3.3-70b-versatile and never to Claude, while an explanation (route
    "grammar") falls to claude-haiku-4-5. A check route of its own in the settings is followed too,
    with its own answer cap."""
    llm = LLM.from_settings(servers.settings())
    servers.groq.push(Answer(status=500, when=EXPERT))
    checked = grammar.correct(llm, Profile(), "Yo es de Lima", Deadline(5))
    assert checked.source == "groq"
    assert [(u.model, u.outcome) for u in checked.usages] == [
        ("openai/gpt-oss-120b", "server_error"),
        ("llama-3.3-70b-versatile", "ok"),
    ]
    fallback = groq_bodies(servers, EXPERT)[-1]
    assert fallback["model"] == "llama-3.3-70b-versatile"
    assert fallback["max_tokens"] == 300  # no reasoning reserve for a model without parameters
    assert "reasoning_effort" not in fallback
    assert servers.claude.requests == []

    servers.groq.push(Answer(status=500, when=EXPERT))
    explained = grammar.explain(llm, Profile(), "ser_estar", "¿ser o estar?", Deadline(5))
    assert explained.source == "claude"
    assert [u.model for u in explained.usages] == ["openai/gpt-oss-120b", "claude-haiku-4-5"]
    assert servers.claude.requests[-1]["max_tokens"] == 400

    own = LLM.from_settings(
        servers.settings(llm_routes={"check": ["groq:llama-3.1-8b-instant"]}, llm_max_tokens={"check": 123})
    )
    grammar.correct(own, Profile(), "Yo es de Lima", Deadline(5))
    last = groq_bodies(servers, EXPERT)[-1]
    assert (last["model"], last["max_tokens"]) == ("llama-3.1-8b-instant", 123)


def test_a_culture_note_goes_to_claude_sonnet(servers: ProviderServers) -> None:
    """Default settings: the culture route starts with Claude's claude-sonnet-4-5, capped at 350 tokens
    (no reasoning parameters: they belong to gpt-oss models)."""
    llm = LLM.from_settings(servers.settings())
    note = culture.guide(llm, Profile("B1", "spain", "en"), "comida", "¿Qué se cena en Madrid?", Deadline(5))
    assert note.source == "claude"
    [body] = servers.claude.requests
    assert body["model"] == "claude-sonnet-4-5"
    assert body["max_tokens"] == 350
    assert "reasoning_effort" not in body
    assert servers.groq.requests == []


def test_an_open_exercise_follows_the_exercises_route(servers: ProviderServers) -> None:
    """Default settings, gpt-oss-120b down (500): the exercise writer falls to the route's second step,
    llama-3.3-70b-versatile, capped at 250 tokens."""
    llm = LLM.from_settings(servers.settings())
    servers.groq.push(Answer(status=500, when=WRITER))
    rng = random.Random(3)
    result = exercises.open_exercise(llm, Profile(), "preterite", "un ejercicio", Deadline(5), rng)
    first, second = groq_bodies(servers, WRITER)
    assert (first["model"], first["max_tokens"]) == ("openai/gpt-oss-120b", 250 + RESERVE)
    assert (second["model"], second["max_tokens"]) == ("llama-3.3-70b-versatile", 250)
    assert result.source == "groq"


def test_when_groq_fails_the_conversation_falls_to_claude_haiku(servers: ProviderServers) -> None:
    """Default settings, Groq answers 500 to the partner: the route's second step, claude-haiku-4-5,
    answers with the route's cap (300, no reserve) and the request's temperature; no SDK retry."""
    servers.groq.push(Answer(status=500, when=PARTNER))
    result = chat(LLM.from_settings(servers.settings()), Profile(), "Hola, ¿qué tal?", Deadline(5))
    assert result.source == "claude"
    assert [(u.provider, u.model, u.outcome) for u in result.usages] == [
        ("groq", "openai/gpt-oss-120b", "server_error"),
        ("claude", "claude-haiku-4-5", "ok"),
    ]
    assert len(servers.groq.requests) == 1
    [body] = servers.claude.requests
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("claude-haiku-4-5", 300, 0.4)


def test_a_model_configured_without_temperature_gets_none(servers: ProviderServers) -> None:
    """Bad input for some models: a temperature they refuse. ``{"temperature": null}`` in
    LLM_MODEL_PARAMS sends the request without one; other keys go as they are, reserve_tokens is added
    to the cap and never sent; a model without parameters still gets the request's temperature."""
    params = {"vendor/strict-model": {"temperature": None, "top_p": 0.9, "reserve_tokens": 20}}
    routes = {"conversation": ["groq:vendor/strict-model"], "check": ["groq:llama-3.3-70b-versatile"]}
    settings = servers.settings(llm_routes=routes, llm_model_params=params)
    result = chat(LLM.from_settings(settings), Profile(), "Hola", Deadline(5))
    assert result.source == "groq"
    [body] = servers.groq.requests
    assert body["model"] == "vendor/strict-model"
    assert "temperature" not in body
    assert body["top_p"] == 0.9
    assert "reserve_tokens" not in body
    assert body["max_tokens"] == 300 + 20
    grammar.correct(LLM.from_settings(settings), Profile(), "Yo es de Lima", Deadline(5))
    assert servers.groq.requests[-1]["temperature"] == 0.4
    assert "top_p" not in servers.groq.requests[-1]


def test_a_provider_alone_means_its_default_model(servers: ProviderServers) -> None:
    """A step naming only the provider ("claude") uses CLAUDE_MODEL."""
    settings = servers.settings(llm_routes={"conversation": ["claude"]}, claude_model="claude-haiku-4-5")
    result = chat(LLM.from_settings(settings), Profile(), "Hola", Deadline(5))
    assert result.source == "claude"
    assert servers.claude.requests[0]["model"] == "claude-haiku-4-5"


def test_an_unknown_provider_in_the_routes_is_refused(
    servers: ProviderServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad input: a provider the code does not know ("gpt:foo", from the environment's JSON or given
    directly) stops the LLM from being built, with the entry named, instead of silently skipping it."""
    monkeypatch.setenv("LLM_ROUTES", json.dumps({"conversation": ["groq:openai/gpt-oss-120b", "gpt:foo"]}))
    from_env = Settings(groq_api_key="gsk_test_fake")
    assert from_env.llm_routes == {"conversation": ["groq:openai/gpt-oss-120b", "gpt:foo"]}
    with pytest.raises(ValueError, match="'gpt:foo'"):
        LLM.from_settings(from_env)
    with pytest.raises(ValueError, match="'gpt:foo'"):
        TutorBrain.from_settings(servers.settings(llm_routes={"intent": ["gpt:foo"]}))
    with pytest.raises(ValueError, match="'gpt:foo'"):
        LLM(routes={"culture": ["claude", "gpt:foo"]})
    assert servers.groq.requests == []
    assert servers.claude.requests == []


def test_groq_cached_prompt_tokens_are_billed_as_cache_reads(servers: ProviderServers) -> None:
    """The same partner request twice on gpt-oss-120b: the first reads no cache; the second reports
    cached prompt tokens, recorded as ``cache_read_tokens``, with ``tokens_in`` only the uncached rest
    (the two add up to the first call's prompt, so nothing is billed twice)."""
    llm = LLM.from_settings(servers.settings())
    first = chat(llm, Profile("A2", "latam", "en"), "Hoy estoy contento", Deadline(5))
    second = chat(llm, Profile("A2", "latam", "en"), "Hoy estoy contento", Deadline(5))
    assert (first.source, second.source) == ("groq", "groq")
    [one], [two] = first.usages, second.usages
    assert one.cache_read_tokens == 0
    assert two.cache_read_tokens > 0
    assert 0 < two.tokens_in < one.tokens_in
    assert two.tokens_in + two.cache_read_tokens == one.tokens_in
    assert two.cache_write_tokens == 0
