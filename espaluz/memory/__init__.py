"""Pedagogical memory: what the tutor remembers about each learner, and how it forgets.

- ``kinds``: memory kinds, importance (factor per kind x engagement) and decay by kind.
- ``embedders``: the embedder port (Bedrock Titan v2, optional local MiniLM, deterministic default).
- ``store``: memories in Postgres + pgvector; the schema's dimension check; ``export_learner`` and
  ``delete_learner_memories`` for the learner's export and deletion commands.
- ``skills`` / ``reviews`` / ``prerequisites``: FSRS cards per (learner, skill), corrections as review
  items delivered inside the 24-hour window, a small prerequisite graph.
- ``retrieval`` / ``context`` / ``summary``: two-stage retrieval, the token-budget context, the rolling
  summary.
- ``recorder`` / ``chat`` / ``service``: what a tutor turn records, the "memoria" command, the wiring.
"""
