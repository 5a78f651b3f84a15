"""The LLM layer: Groq and Claude behind one small interface, with deadlines, fallbacks and usage.

- :mod:`espaluz.llm.types`: ``Deadline``, ``Usage`` (one row per provider call), ``ProviderFailure``.
- :mod:`espaluz.llm.providers`: the official ``groq`` and ``anthropic`` SDKs, one call each, SDK retries off.
- :mod:`espaluz.llm.guard`: learner text as delimited data; outputs that leak or switch role are rejected.
- :mod:`espaluz.llm.chain`: routes (each route's models in order, then the engine) and concurrent calls.
- :mod:`espaluz.llm.cache`: grammar explanations and culture notes by topic, level and dialect in Redis.
- :mod:`espaluz.llm.usage`: usage rows in Postgres and their cost from the price table.
- :mod:`espaluz.llm.commands`: ``espaluz costs`` (``espaluz report`` lives in :mod:`espaluz.tutor.report`).

The agents that use this layer, and the entry point the orchestrator calls, are in
:mod:`espaluz.tutor.agents` (``TutorBrain.answer``).

Nothing here raises out to the tutor on a provider problem: a failed call becomes a ``Usage`` row with
its outcome and the next link of the chain answers.
"""
