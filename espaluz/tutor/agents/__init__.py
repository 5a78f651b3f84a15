"""The tutor's agents: one module per agent with its prompt, its typed output and its engine fallback.

- :mod:`.intent`: intent classifier for ambiguous messages (Groq, JSON).
- :mod:`.grammar`: grammar expert (Groq, JSON; explanations cached by topic, level and dialect).
- :mod:`.conversation`: conversation partner (Claude → Groq).
- :mod:`.culture`: culture guide (Claude → Groq) with a country-context table.
- :mod:`.exercises`: exercise generator (the Spanish engine first, Groq for open exercises).
- :mod:`.brain`: :class:`~.brain.TutorBrain`, the one entry point the orchestrator calls.

Every agent returns an :class:`~.base.AgentResult` and never raises on a provider problem: with no key,
an outage, a slow answer or a rejected one, its output comes from the Spanish engine instead.
"""
