"""The local Groq/Anthropic servers (espaluz/dev/llm_servers.py) through the official SDKs over real HTTP:
token approximation, Claude's cache minimums and expiry, Groq's implicit prefix caching, gpt-oss
reasoning tokens, refused parameters and realistic answers. The cache clocks are fake, so no test waits."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import anthropic
import groq
import pytest

from espaluz.dev.llm_servers import (
    GROQ_CACHE_TTL,
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_OVERHEAD_TOKENS,
    Answer,
    ProviderServers,
    claude_cache_minimum,
    count_tokens,
    default_text,
)
from espaluz.llm.chain import LLM
from espaluz.llm.types import Deadline
from espaluz.tutor.agents import culture, exercises, grammar
from espaluz.tutor.agents.base import Profile
from espaluz.tutor.agents.conversation import chat

ENGLISH = (
    "Use the present tense for habits and facts. Add a short example after each rule, and keep the "
    "explanation friendly, clear and brief. The learner reads it on a phone, between two other tasks. "
)
SPANISH = (
    "Usa el presente para los hábitos y las verdades generales. Añade un ejemplo corto después de cada "
    "regla y que la explicación sea amable, clara y breve. ¿Lo lees en el móvil? "
)


def english(chars: int) -> str:
    return (ENGLISH * (chars // len(ENGLISH) + 1))[:chars]


class Clock:
    """A settable monotonic clock for the cache expiry."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def servers(clock: Clock) -> Iterator[ProviderServers]:
    with ProviderServers(clock=clock) as running:
        yield running


def claude_client(servers: ProviderServers) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test-fake", base_url=servers.anthropic_base_url, max_retries=0)


def groq_client(servers: ProviderServers) -> groq.Groq:
    return groq.Groq(api_key="gsk_test_fake", base_url=servers.groq_base_url, max_retries=0)


def ask_claude(client: anthropic.Anthropic, model: str, system: str, user: str = "Hola") -> Any:
    return client.messages.create(
        model=model,
        max_tokens=300,
        system=[
            {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Learner profile: CEFR level A2; explanations in English."},
        ],
        messages=[{"role": "user", "content": user}],
    )


def ask_groq(client: groq.Groq, model: str, system: str, user: str, **extra: Any) -> Any:
    return client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        max_tokens=300,
        **extra,
    )


def test_token_counts_follow_the_documented_approximation() -> None:
    """~4 characters per token of English for Llama/gpt-oss, ~3.5 for Claude; Spanish counts more."""
    assert count_tokens(english(400), "llama-3.3-70b-versatile") == pytest.approx(100, rel=0.05)
    assert count_tokens(english(400), "openai/gpt-oss-120b") == pytest.approx(100, rel=0.05)
    assert count_tokens(english(3500), "claude-sonnet-4-5") == pytest.approx(1000, rel=0.05)
    spanish = (SPANISH * 3)[:400]
    llama = "llama-3.3-70b-versatile"
    assert count_tokens(spanish, llama) > count_tokens(english(400), llama)
    assert count_tokens("", "claude-sonnet-4-5") == 0
    assert count_tokens("a", "claude-sonnet-4-5") == 1
    # Twice the text, twice the tokens: the count follows the length, not a fixed figure.
    assert count_tokens(english(8000), llama) == 2 * count_tokens(english(4000), llama)


def test_groq_usage_follows_request_and_answer_lengths(servers: ProviderServers) -> None:
    """prompt_tokens = each message's text plus its chat overhead; completion_tokens = the answer's."""
    client = groq_client(servers)
    answer = json.dumps({"reply": english(200)})
    servers.groq.push(Answer(answer))
    model = "llama-3.3-70b-versatile"
    response = ask_groq(client, model, english(1200), english(400))
    expected_in = count_tokens(english(1200), model) + count_tokens(english(400), model)
    assert response.usage.prompt_tokens == expected_in + 2 * MESSAGE_OVERHEAD_TOKENS + REPLY_OVERHEAD_TOKENS
    assert response.usage.completion_tokens == count_tokens(answer, model)
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_claude_cache_needs_the_model_minimum(servers: ProviderServers) -> None:
    """Bad input for caching: a marked prefix below the model's minimum is not cached (all input tokens);
    ~1,430 tokens is cached on Sonnet 4.5 (minimum 1024) but not on Haiku 4.5 (minimum 4096)."""
    assert (claude_cache_minimum("claude-sonnet-4-5-20250929"), claude_cache_minimum("claude-haiku-4-5")) == (
        1024,
        4096,
    )
    assert claude_cache_minimum("claude-sonnet-4-6") == 2048
    assert claude_cache_minimum("claude-3-5-haiku-latest") == 2048
    assert claude_cache_minimum("claude-opus-4-1") == 1024
    assert claude_cache_minimum("some-new-model") == 1024
    client = claude_client(servers)
    short, long = english(2000), english(5000)

    small = [ask_claude(client, "claude-sonnet-4-5", short).usage for _ in range(2)]
    for usage in small:
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
        assert usage.input_tokens > count_tokens(short, "claude-sonnet-4-5")

    first = ask_claude(client, "claude-sonnet-4-5", long).usage
    second = ask_claude(client, "claude-sonnet-4-5", long, "Otra pregunta").usage
    prefix = count_tokens(long, "claude-sonnet-4-5")
    assert prefix >= 1024
    assert (first.cache_creation_input_tokens, first.cache_read_input_tokens) == (prefix, 0)
    assert (second.cache_creation_input_tokens, second.cache_read_input_tokens) == (0, prefix)
    assert second.input_tokens < 100  # only the profile block and the message are billed as input

    haiku = [ask_claude(client, "claude-haiku-4-5", long).usage for _ in range(2)]
    for usage in haiku:
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
        assert usage.input_tokens > prefix
    assert (servers.claude.answered, servers.claude.cache_hits, servers.claude.cache_writes) == (6, 1, 1)
    assert servers.claude.hit_rate == pytest.approx(1 / 6)


def test_claude_cache_expires_five_minutes_after_last_use(servers: ProviderServers, clock: Clock) -> None:
    """A read refreshes the entry; 5 minutes and a second without use, it is written again."""
    client = claude_client(servers)
    system = english(5000)

    def cache() -> tuple[int, int]:
        usage = ask_claude(client, "claude-sonnet-4-5", system).usage
        return usage.cache_creation_input_tokens, usage.cache_read_input_tokens

    prefix = count_tokens(system, "claude-sonnet-4-5")
    assert cache() == (prefix, 0)
    clock.now += 299
    assert cache() == (0, prefix)
    clock.now += 299  # 598 s after the write, 299 s after the last read: still there
    assert cache() == (0, prefix)
    clock.now += 301
    assert cache() == (prefix, 0)


def test_groq_caches_a_seen_prefix_on_gpt_oss_only(servers: ProviderServers, clock: Clock) -> None:
    """Same system message, new user message: the system message is cached on gpt-oss (prompt_tokens
    stays the full count), never on llama-3.3-70b-versatile; after 2 hours unused it is gone."""
    client = groq_client(servers)
    system = english(3000)
    model = "openai/gpt-oss-20b"
    first = ask_groq(client, model, system, "Hola").usage
    second = ask_groq(client, model, system, "¿Qué tal?").usage
    assert first.prompt_tokens_details.cached_tokens == 0
    assert second.prompt_tokens_details.cached_tokens == count_tokens(system, model) + MESSAGE_OVERHEAD_TOKENS
    assert second.prompt_tokens > second.prompt_tokens_details.cached_tokens

    llama = [ask_groq(client, "llama-3.3-70b-versatile", system, "Hola").usage for _ in range(2)]
    assert [usage.prompt_tokens_details.cached_tokens for usage in llama] == [0, 0]

    clock.now += GROQ_CACHE_TTL + 1
    assert ask_groq(client, model, system, "Hola").usage.prompt_tokens_details.cached_tokens == 0
    # Another model's cache is its own: the same prefix on gpt-oss-120b starts cold.
    assert (
        ask_groq(client, "openai/gpt-oss-120b", system, "Hola").usage.prompt_tokens_details.cached_tokens == 0
    )
    assert (servers.groq.answered, servers.groq.cache_hits) == (6, 1)


def test_gpt_oss_completion_counts_reasoning_tokens(servers: ProviderServers) -> None:
    """Reasoning by effort (absent = medium) is added to completion_tokens and reported apart; the visible
    answer is still the agent's JSON; a non-reasoning model reports none."""
    client = groq_client(servers)
    system = "You are the grammar expert."
    visible = count_tokens(default_text(system), "openai/gpt-oss-120b")
    for effort, reasoning in (("low", 60), ("high", 900), (None, 250)):
        extra = {"reasoning_effort": effort} if effort else {}
        response = ask_groq(client, "openai/gpt-oss-120b", system, "¿ser o estar?", **extra)
        assert response.usage.completion_tokens == visible + reasoning
        assert response.usage.completion_tokens_details.reasoning_tokens == reasoning
        assert json.loads(response.choices[0].message.content)["topic"] == "ser_estar"
    llama = ask_groq(client, "llama-3.3-70b-versatile", system, "¿ser o estar?")
    assert llama.usage.completion_tokens == visible
    assert llama.usage.completion_tokens_details is None


def test_a_refused_parameter_gets_a_400_the_sdks_raise(servers: ProviderServers) -> None:
    """Bad input: a parameter the model refuses (``rejects``) is a 400 invalid_request_error that the SDKs
    raise as BadRequestError; the queued answer is kept for the next accepted call; other models accept."""
    servers.claude.rejects = {"claude-opus-4-5": {"temperature"}}
    servers.groq.rejects = {"openai/gpt-oss": {"temperature"}}
    servers.claude.push(Answer('{"reply": "guardada"}'))
    claude = claude_client(servers)
    kwargs: dict[str, Any] = {"max_tokens": 50, "messages": [{"role": "user", "content": "Hola"}]}
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(model="claude-opus-4-5", temperature=0.3, **kwargs)
    assert refused.value.status_code == 400
    assert refused.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "`temperature` is not supported" in refused.value.message
    accepted = claude.messages.create(model="claude-sonnet-4-5", temperature=0.3, **kwargs)
    assert accepted.content[0].text == '{"reply": "guardada"}'
    assert claude.messages.create(model="claude-opus-4-5", **kwargs).content

    client = groq_client(servers)
    with pytest.raises(groq.BadRequestError) as groq_refused:
        ask_groq(client, "openai/gpt-oss-20b", "system", "Hola", temperature=0.2)
    assert "`temperature` is not supported" in groq_refused.value.message
    assert ask_groq(client, "llama-3.1-8b-instant", "system", "Hola", temperature=0.2).choices
    assert (len(servers.claude.requests), servers.claude.answered) == (3, 2)


AGENTS = {
    "conversation": ("You are a friendly Spanish conversation partner.", 250, 450),
    "grammar": ("You are the grammar expert.", 400, 700),
    "culture": ("You are the culture guide.", 500, 800),
    "exercise": ("You are the exercise writer.", 200, 350),
}


def test_realistic_answers_are_deterministic_varied_and_sized_per_agent() -> None:
    """The same request gets the same answer (two servers, so no state carries over); different messages
    get different answers of the agent's realistic length; about half the replies correct the learner;
    the explanation follows the profile's language; ``realistic=False`` keeps the short defaults."""
    messages = [f"Mensaje número {i}: hoy fui al mercado" for i in range(24)]

    def answers(realistic: bool, system: str, profile: str = "explanations in English.") -> list[str]:
        with ProviderServers(realistic=realistic) as servers:
            client = claude_client(servers)
            out = []
            for text in messages:
                response = client.messages.create(
                    model="claude-sonnet-4-5",
                    max_tokens=300,
                    system=[{"type": "text", "text": system}, {"type": "text", "text": profile}],
                    messages=[{"role": "user", "content": text}],
                )
                out.append("".join(block.text for block in response.content if block.type == "text"))
            return out

    for system, low, high in AGENTS.values():
        first, again = answers(True, system), answers(True, system)
        assert first == again
        assert len(set(first)) >= 3
        assert all(low <= len(text) <= high for text in first), [len(text) for text in first]
    replies = [json.loads(text) for text in answers(True, AGENTS["conversation"][0])]
    corrected = [reply for reply in replies if reply["correction"]]
    assert 0.25 <= len(corrected) / len(replies) <= 0.75
    assert all(reply["explanation"] for reply in corrected)
    spanish = [json.loads(t) for t in answers(True, AGENTS["conversation"][0], "explanations in Spanish.")]
    english_why = {reply["explanation"] for reply in corrected}
    spanish_why = {reply["explanation"] for reply in spanish if reply["correction"]}
    assert english_why
    assert spanish_why
    assert not english_why & spanish_why
    system = AGENTS["grammar"][0]
    assert set(answers(False, system)) == {default_text(system)}


@pytest.mark.parametrize("provider", ["groq", "claude"])
def test_realistic_answers_pass_the_tutors_parsers_and_guard(provider: str) -> None:
    """The cost simulation is only honest if the tutor accepts the realistic answers (otherwise it would
    count fallbacks): every agent's answer parses and passes the output guard, for learners whose
    explanations are in English, Spanish or another language."""
    other_key = "anthropic_api_key" if provider == "groq" else "groq_api_key"
    with ProviderServers(realistic=True) as servers:
        llm = LLM.from_settings(servers.settings(**{other_key: ""}))
        for language in ("en", "es", "fr"):
            profile = Profile("A2", "latam", language)
            for i in range(8):
                deadline = Deadline(5)
                assert chat(llm, profile, f"Hoy fui al mercado {i}", deadline).source == provider
                note = culture.guide(llm, profile, "food", f"¿Qué se come en México? {i}", deadline)
                assert note.source == provider
                if provider == "groq":  # the exercise and grammar routes may have no Claude step
                    rng = random.Random(i)
                    drill = exercises.open_exercise(llm, profile, "preterite", f"{i}", deadline, rng)
                    assert drill.source == "groq"
                    why = grammar.explain(llm, profile, "ser_estar", f"¿ser o estar? {i}", deadline)
                    assert why.source == "groq"
