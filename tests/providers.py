"""The local Groq/Anthropic servers for tests; they live in :mod:`espaluz.dev.llm_servers` so the product's
cost simulation can use them without importing tests. This module only re-exports them."""

from espaluz.dev.llm_servers import (
    CLAUDE_REALISTIC,
    GROQ_REALISTIC,
    Answer,
    Latency,
    ProviderServers,
    Script,
    default_text,
    free_port,
)

__all__ = [
    "CLAUDE_REALISTIC",
    "GROQ_REALISTIC",
    "Answer",
    "Latency",
    "ProviderServers",
    "Script",
    "default_text",
    "free_port",
]
