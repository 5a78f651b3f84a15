"""Which model answers each route, with which request parameters, and what the defaults cost.

Pure parts of the routing (``LLM_ROUTES``, ``LLM_MAX_TOKENS``, ``LLM_MODEL_PARAMS``): parsing a route,
the steps a route takes with and without configuration, the SDK options a model gets, Groq's cached
tokens read from either SDK shape, and invariants of the shipped defaults (every routed model has a
price; the large model only where the issue allows it; the culture prompt long enough to be cached).
Bad input covered: an unknown provider in a route, a model that refuses ``temperature``, a usage without
cache details. The calls themselves run through the SDKs in tests/functional/test_llm_routes.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from espaluz.config import Settings
from espaluz.dev.llm_servers import claude_cache_minimum, count_tokens
from espaluz.llm.chain import LLM, parse_route
from espaluz.llm.guard import DATA_RULES
from espaluz.llm.providers import Request, _cached_prompt_tokens, call_options
from espaluz.llm.usage import cost_usd
from espaluz.tutor.agents import culture

REQUEST = Request("conversation", "system", "", "hola", max_tokens=300, temperature=0.4)


def test_a_route_names_provider_and_model_and_a_typo_stops_the_deployment() -> None:
    assert parse_route(["groq:openai/gpt-oss-120b", "claude"]) == (
        ("groq", "openai/gpt-oss-120b"),
        ("claude", None),
    )
    with pytest.raises(ValueError, match="gpt:foo"):
        parse_route(["gpt:foo"])
    with pytest.raises(ValueError, match="unknown provider"):
        LLM(routes={"conversation": ["groq:x", "openai:y"]})
    with pytest.raises(ValueError, match="conversaton"):  # a misspelt route would silently never apply
        LLM(routes={"conversaton": ["groq:x"]})
    with pytest.raises(ValueError, match="exercise"):
        LLM(max_tokens={"exercise": 100})


def test_a_configured_route_overrides_the_callers_order_and_an_unconfigured_one_keeps_it() -> None:
    llm = LLM(routes={"conversation": ["groq:small", "claude:big", "groq:other"]})
    assert llm.steps("conversation", ("claude",)) == (("groq", "small"), ("claude", "big"), ("groq", "other"))
    assert llm.steps("culture", ("claude", "groq"), {"groq": "g"}) == (("claude", None), ("groq", "g"))


def test_request_options_follow_the_models_parameters() -> None:
    """A model that refuses a non-default temperature gets none; a reasoning model gets room for its
    hidden reasoning on top of the route's cap; other parameters travel in extra_body untouched."""
    assert call_options(REQUEST, None) == {"max_tokens": 300, "temperature": 0.4}
    assert call_options(REQUEST, {"temperature": None}) == {"max_tokens": 300}
    reasoning = {"reasoning_effort": "low", "include_reasoning": False, "reserve_tokens": 250}
    assert call_options(REQUEST, reasoning) == {
        "max_tokens": 550,
        "temperature": 0.4,
        "extra_body": {"reasoning_effort": "low", "include_reasoning": False},
    }
    assert reasoning["reserve_tokens"] == 250  # the settings' dict is not consumed


@pytest.mark.parametrize(
    ("usage", "cached"),
    [
        (SimpleNamespace(prompt_tokens_details=SimpleNamespace(cached_tokens=512)), 512),
        (
            SimpleNamespace(
                prompt_tokens_details=None, model_extra={"prompt_tokens_details": {"cached_tokens": 64}}
            ),
            64,
        ),
        (SimpleNamespace(prompt_tokens_details=None, model_extra={}), 0),
        (SimpleNamespace(), 0),
    ],
)
def test_groq_cached_tokens_are_read_from_either_sdk_shape(usage: object, cached: int) -> None:
    """Older SDKs keep the field as an untyped extra; models without caching omit it."""
    assert _cached_prompt_tokens(usage) == cached


def test_the_default_routes_are_priced_and_keep_the_large_model_for_culture() -> None:
    settings = Settings()
    llm = LLM(
        routes=settings.llm_routes, max_tokens=settings.llm_max_tokens, params=settings.llm_model_params
    )
    models = {model for steps in llm.routes.values() for _, model in steps}
    assert None not in models
    assert models <= set(settings.llm_prices), models - set(settings.llm_prices)
    firsts = {route: steps[0] for route, steps in llm.routes.items()}
    assert firsts["intent"] == ("groq", "llama-3.1-8b-instant")
    assert firsts["conversation"][0] == "groq"  # the commonest LLM route is not on the large model
    assert firsts["culture"] == ("claude", "claude-sonnet-4-5")
    assert set(settings.llm_max_tokens) == set(settings.llm_routes)
    # A conversation turn on the default model costs a fraction of the old default's (Sonnet 4.5):
    # 900 tokens in, 150 out (the answer cap is 300).
    new = cost_usd(settings.llm_prices, "openai/gpt-oss-120b", 900, 150 + 60)
    old = cost_usd(settings.llm_prices, "claude-sonnet-4-5", 900, 150)
    assert new is not None
    assert old is not None
    assert new < old / 10


def test_the_culture_prompt_reaches_claudes_cache_minimum() -> None:
    """Below Sonnet 4.5's 1,024 tokens Anthropic caches nothing, silently: the stable block must pass it
    by a margin (the token count is the local servers' documented approximation)."""
    stable = f"{culture.SYSTEM.strip()}\n\n{DATA_RULES}"
    minimum = claude_cache_minimum("claude-sonnet-4-5")
    assert minimum == 1024
    assert count_tokens(stable, "claude-sonnet-4-5") >= 1.15 * minimum
