"""The course: a graded A1–B2 syllabus as data, exercises generated from it and checked exactly, and the
learner's path through it (placement, lessons mixing new items and FSRS reviews, units that unlock).

Layers: this package uses the Spanish engine (:mod:`espaluz.spanish`: the one lexicon, the conjugator,
the checker) and is used by the tutor (:mod:`espaluz.tutor.exercise`); it never imports the tutor.

- :mod:`.syllabus`: units and grammar points (``data/units.json``, ``data/grammar.json``), validated on load;
  the vocabulary is the engine's lexicon (``espaluz/spanish/data/lexicon``), picked by level and theme.
- :mod:`.exercises`: seven exercise types generated from the data (:data:`exercises.TYPES`).
- :mod:`.answers`: the checker every exercise (and any LLM-written one) goes through.
- :mod:`.course`: the learner's unit, the next exercise of a lesson, and what "unit done" means.
- ``data/phrasebook.json``: everyday requests ("how do I say...?"), read by :mod:`espaluz.tutor.phrasebook`.
"""
