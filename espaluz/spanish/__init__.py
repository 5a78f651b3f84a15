"""The Spanish language engine: pure standard library, no files written, lexicons in code.

Modules (import the one you need; this package imports nothing so the webhook stays fast):

- :mod:`.conjugation` — ``conjugate(verb) -> dict``, ``conjugate_table``, ``conjugate_form``;
  irregularities in :mod:`.verb_lexicon`, accents/syllables in :mod:`.orthography`.
- :mod:`.phonetics` — ``g2p(word, dialect)``, ``minimal_pairs(word, dialect)``,
  ``contrast_message(target, produced)``; digits via :mod:`.numbers`.
- :mod:`.corrections` — ``check(text) -> list[Correction]`` (nouns in :mod:`.nouns`, verb forms in
  :mod:`.verb_index`).
- :mod:`.drills` — ``make_drill(skill, level, rng)``, ``check_answer(drill, answer, dialect)``.
- :mod:`.placement` — adaptive CEFR placement over a JSON-serialisable state.
- :mod:`.commands` — the ``espaluz conjugate | g2p | check`` CLI commands.
"""
