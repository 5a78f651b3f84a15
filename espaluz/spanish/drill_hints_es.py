"""The Spanish side of the drill diagnoses: tense names, hints and the choice drills' explanations.

:mod:`espaluz.spanish.drills` writes each diagnosis in English (``message``) and in Spanish
(``message_es``); this module holds the Spanish words it needs, in the grammar terms a Spanish
teacher uses (*pretérito indefinido*, *presente de subjuntivo*...). ``CHOICE_HINTS`` is keyed by the
English explanation of each choice item in :mod:`espaluz.spanish.drill_bank`; a test checks that
every item has one, so a new item without its Spanish explanation fails the suite.
"""

from __future__ import annotations

TENSE_LABELS: dict[str, str] = {
    "indicative.present": "presente",
    "indicative.preterite": "pretérito indefinido",
    "indicative.imperfect": "pretérito imperfecto",
    "indicative.future": "futuro",
    "conditional.present": "condicional",
    "subjunctive.present": "presente de subjuntivo",
    "subjunctive.imperfect": "pretérito imperfecto de subjuntivo",
    "subjunctive.future": "futuro de subjuntivo",
    "imperative.affirmative": "imperativo",
    "imperative.negative": "imperativo negativo",
    "indicative.present_perfect": "pretérito perfecto",
    "indicative.pluperfect": "pretérito pluscuamperfecto",
    "indicative.future_perfect": "futuro perfecto",
    "indicative.past_anterior": "pretérito anterior",
    "conditional.perfect": "condicional perfecto",
    "subjunctive.present_perfect": "pretérito perfecto de subjuntivo",
    "subjunctive.pluperfect": "pretérito pluscuamperfecto de subjuntivo",
    "subjunctive.future_perfect": "futuro perfecto de subjuntivo",
    "participle": "participio",
    "gerund": "gerundio",
    "infinitive": "infinitivo",
}

CHANGE_HINTS: dict[str, str] = {
    "ie": "e→ie en la sílaba tónica",
    "ue": "o→ue en la sílaba tónica",
    "i": "e→i en la sílaba tónica",
    "ie-i": "e→ie en la sílaba tónica (e→i en algunas formas)",
    "ue-u": "o→ue en la sílaba tónica (o→u en algunas formas)",
    "u-ue": "u→ue en la sílaba tónica",
    "i-ie": "i→ie en la sílaba tónica",
}

SKILL_HINTS: dict[str, str] = {
    "present_irregular_yo": "forma irregular de yo",
    "preterite_irregular": "raíz irregular en el pretérito indefinido, terminaciones -e/-iste/-o sin tilde",
    "preterite_vs_imperfect": (
        "pretérito indefinido para hechos terminados; imperfecto para el fondo y las costumbres"
    ),
    "future_irregular": "raíz irregular del futuro + -é, -ás, -á...",
    "conditional": "raíz del futuro + terminaciones -ía",
    "present_subjunctive": (
        "los deseos, la duda, los sentimientos, la finalidad y 'cuando' con futuro llevan subjuntivo"
    ),
    "imperfect_subjunctive": "de la forma de ellos del pretérito indefinido: -ron → -ra/-se",
    "imperative": "imperativo de tú = presente de él, salvo ten, ven, pon, sal, haz, di, sé, ve",
    "participles": "participio irregular",
    "present_regular": "terminaciones regulares del presente",
}

# English explanation of a choice item (drill_bank.CHOICE) → the same in Spanish.
CHOICE_HINTS: dict[str, str] = {
    "'Apply for a job' is solicitar; aplicar is to apply (a cream, a rule).": (
        "Un trabajo se solicita; 'aplicar' es poner una crema o usar una norma."
    ),
    "'Excited' is emocionado/ilusionado; excitado has a sexual sense.": (
        "La ilusión se dice 'emocionado' o 'ilusionado'; 'excitado' tiene un sentido sexual."
    ),
    "'Realise' is darse cuenta; realizar is to carry out.": (
        "'Realise' es 'darse cuenta'; 'realizar' es llevar a cabo."
    ),
    "A current state of the soup: estar.": "Es el estado de la sopa ahora: estar.",
    "A librería sells books; a biblioteca lends them (library).": (
        "En una librería se venden libros; en una biblioteca se prestan."
    ),
    "Agrees with casas (f. pl.).": "Concuerda con 'casas' (femenino plural).",
    "Cause/thanks: por.": "Causa o agradecimiento: por.",
    "Comparison with expectation: para.": "Comparación con lo esperable: para.",
    "Deadline: para.": "Plazo: para.",
    "Events 'take place': ser.": "Los eventos 'tienen lugar': ser.",
    "Exchange/price: por.": "Intercambio o precio: por.",
    "Location uses estar.": "La ubicación se expresa con estar.",
    "Means: por.": "Medio: por.",
    "Movement through a place: por.": "Movimiento a través de un lugar: por.",
    "Origin uses ser.": "El origen se expresa con ser.",
    "Professions use ser.": "Las profesiones van con ser.",
    "Purpose: para + infinitive.": "Finalidad: para + infinitivo.",
    "Recipient: para.": "Destinatario: para.",
    "Resulting state: estar.": "Estado resultante: estar.",
    "Temporary states use estar.": "Los estados pasajeros van con estar.",
    "actualmente means currently, not 'actually' (en realidad).": (
        "'Actualmente' significa 'en este momento'; 'actually' es 'en realidad'."
    ),
    "agua is feminine but takes el (stressed a-).": (
        "'Agua' es femenino, pero lleva 'el' porque empieza por a tónica."
    ),
    "agua is feminine: el agua fría.": "'Agua' es femenino: el agua fría.",
    "día is masculine despite -a.": "'Día' es masculino aunque termina en -a.",
    "embarazado/a means pregnant; embarrassed is avergonzado/a.": (
        "'Embarazada' significa que espera un bebé; la vergüenza se dice 'avergonzado/a'."
    ),
    "estar listo = ready.": "estar listo = estar preparado.",
    "foto (fotografía) is feminine.": "'Foto' (de fotografía) es femenino.",
    "idea is feminine.": "'Idea' es femenino.",
    "mano is feminine despite -o.": "'Mano' es femenino aunque termina en -o.",
    "problema is masculine (Greek -ma).": "'Problema' es masculino (-ma griego).",
    "ser listo = clever.": "ser listo = ser inteligente.",
    "tema is masculine (Greek -ma).": "'Tema' es masculino (-ma griego).",
}
