"""The tutor's agents: one module per agent with its prompt, its typed output and its engine fallback.

Who answers each agent is the route of the same name in ``LLM_ROUTES`` (the grammar check's is ``check``);
the defaults are given in brackets.

- :mod:`.intent`: intent classifier for ambiguous messages (a small Groq model, JSON).
- :mod:`.grammar`: grammar expert (Groq; explanations cached by topic, level and dialect).
- :mod:`.conversation`: conversation partner (Groq's gpt-oss-120b, then Claude Haiku).
- :mod:`.culture`: culture guide (Claude Sonnet, then Groq) with a country-context table.
- :mod:`.exercises`: exercise generator (the Spanish engine first, Groq for open exercises).
- :mod:`.brain`: :class:`~.brain.TutorBrain`, the one entry point the orchestrator calls.

Every agent returns an :class:`~.base.AgentResult` and never raises on a provider problem: with no key,
an outage, a slow answer or a rejected one, its output comes from the Spanish engine instead.
"""
