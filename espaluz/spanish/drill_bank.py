"""Fill-in sentences for the drills, by skill and CEFR level (written for espaluz).

Conjugation items: ``(level, sentence with ___ and the infinitive in brackets, verb, tense, person)``;
the accepted answers come from the conjugator. Choice items: ``(level, sentence, answer, options,
explanation)``. Persons avoid *vosotros* so the same item works in every dialect; *tú* items accept
*vos* forms for rioplatense learners.
"""

from __future__ import annotations

ConjItem = tuple[str, str, str, str, str]
ChoiceItem = tuple[str, str, str, tuple[str, ...], str]

P, PRET, IMPF, FUT = "indicative.present", "indicative.preterite", "indicative.imperfect", "indicative.future"
COND, SUBJ, SUBJ_IMPF = "conditional.present", "subjunctive.present", "subjunctive.imperfect"
IMP, PERF = "imperative.affirmative", "indicative.present_perfect"

CONJUGATION: dict[str, tuple[ConjItem, ...]] = {
    "present_regular": (
        ("A1", "Yo ___ (hablar) español con mis amigos.", "hablar", P, "1s"),
        ("A1", "¿Tú ___ (vivir) en el centro?", "vivir", P, "2s"),
        ("A1", "Mi hermana ___ (comer) mucha fruta.", "comer", P, "3s"),
        ("A1", "Nosotros ___ (trabajar) en una oficina.", "trabajar", P, "1p"),
        ("A1", "Ellos ___ (escribir) correos todos los días.", "escribir", P, "3p"),
    ),
    "present_stem_change": (
        ("A1", "Yo ___ (querer) un café, por favor.", "querer", P, "1s"),
        ("A1", "¿A qué hora ___ (empezar) la clase? (la clase)", "empezar", P, "3s"),
        ("A1", "Mis padres ___ (dormir) la siesta los domingos.", "dormir", P, "3p"),
        ("A2", "Tú siempre ___ (pedir) pizza.", "pedir", P, "2s"),
        ("A2", "Los niños ___ (jugar) en el parque.", "jugar", P, "3p"),
        ("A2", "Yo no ___ (poder) salir esta noche.", "poder", P, "1s"),
        ("A2", "Ella ___ (pensar) que es demasiado tarde.", "pensar", P, "3s"),
        ("A2", "Nosotros ___ (volver) a casa a las ocho.", "volver", P, "1p"),
        ("B1", "¿Tú ___ (preferir) el mar o la montaña?", "preferir", P, "2s"),
        ("B1", "El profesor ___ (repetir) la pregunta.", "repetir", P, "3s"),
    ),
    "present_irregular_yo": (
        ("A1", "Yo ___ (tener) dos hermanos.", "tener", P, "1s"),
        ("A1", "Yo ___ (hacer) los deberes por la tarde.", "hacer", P, "1s"),
        ("A1", "Yo ___ (salir) de casa a las siete.", "salir", P, "1s"),
        ("A2", "Yo no ___ (conocer) a tu hermano.", "conocer", P, "1s"),
        ("A2", "Yo siempre ___ (poner) la mesa.", "poner", P, "1s"),
        ("A2", "Yo ___ (traer) el postre.", "traer", P, "1s"),
        ("A2", "Yo no ___ (saber) la respuesta.", "saber", P, "1s"),
        ("B1", "Yo ___ (conducir) con cuidado.", "conducir", P, "1s"),
    ),
    "preterite_irregular": (
        ("A2", "Ayer yo ___ (tener) que trabajar.", "tener", PRET, "1s"),
        ("A2", "El sábado nosotros ___ (ir) al cine.", "ir", PRET, "1p"),
        ("A2", "¿Qué ___ (hacer) tú el fin de semana?", "hacer", PRET, "2s"),
        ("A2", "Ella me ___ (decir) la verdad.", "decir", PRET, "3s"),
        ("A2", "Mis amigos ___ (estar) en México en julio.", "estar", PRET, "3p"),
        ("B1", "Yo no ___ (poder) dormir anoche.", "poder", PRET, "1s"),
        ("B1", "¿Dónde ___ (poner) tú las llaves?", "poner", PRET, "2s"),
        ("B1", "Ellos ___ (traer) regalos para todos.", "traer", PRET, "3p"),
        ("B1", "Mi abuelo ___ (venir) a visitarnos.", "venir", PRET, "3s"),
        ("B2", "Los estudiantes ___ (traducir) el texto entero.", "traducir", PRET, "3p"),
        ("B2", "Ella no ___ (querer) venir a la fiesta.", "querer", PRET, "3s"),
    ),
    "preterite_vs_imperfect": (
        ("B1", "Cuando era niño, ___ (vivir) en un pueblo pequeño. (yo)", "vivir", IMPF, "1s"),
        ("B1", "Ayer ___ (llover) toda la tarde.", "llover", PRET, "3s"),
        ("B1", "Mientras yo cocinaba, mi hermano ___ (llegar) a casa.", "llegar", PRET, "3s"),
        ("B1", "De pequeños, nosotros ___ (ir) a la playa cada verano.", "ir", IMPF, "1p"),
        ("B1", "Eran las diez y ___ (hacer) mucho frío.", "hacer", IMPF, "3s"),
        ("B1", "El año pasado ella ___ (viajar) a Perú.", "viajar", PRET, "3s"),
        ("B2", "Yo ___ (leer) cuando sonó el teléfono.", "leer", IMPF, "1s"),
        ("B2", "De repente, el perro ___ (empezar) a ladrar.", "empezar", PRET, "3s"),
    ),
    "future_irregular": (
        ("B1", "Mañana ___ (hacer) sol. (el tiempo)", "hacer", FUT, "3s"),
        ("B1", "El año que viene yo ___ (tener) más tiempo.", "tener", FUT, "1s"),
        ("B1", "¿___ (venir) tú a la boda?", "venir", FUT, "2s"),
        ("B1", "Nosotros ___ (salir) temprano.", "salir", FUT, "1p"),
        ("B2", "No sé si ellos ___ (caber) en el coche.", "caber", FUT, "3p"),
    ),
    "conditional": (
        ("B1", "Yo en tu lugar ___ (decir) la verdad.", "decir", COND, "1s"),
        ("B1", "¿___ (poder) usted ayudarme?", "poder", COND, "3s"),
        ("B2", "Nosotros ___ (querer) una mesa para dos.", "querer", COND, "1p"),
    ),
    "present_subjunctive": (
        ("B1", "Quiero que tú ___ (venir) a mi fiesta.", "venir", SUBJ, "2s"),
        ("B1", "Es importante que nosotros ___ (llegar) a tiempo.", "llegar", SUBJ, "1p"),
        ("B1", "Ojalá ___ (hacer) buen tiempo mañana.", "hacer", SUBJ, "3s"),
        ("B1", "Cuando ___ (tener) dinero, viajaré a Chile. (yo)", "tener", SUBJ, "1s"),
        ("B2", "Te lo explico para que lo ___ (entender). (tú)", "entender", SUBJ, "2s"),
        ("B2", "Dudo que ellos ___ (saber) la respuesta.", "saber", SUBJ, "3p"),
        ("B2", "Busco a alguien que ___ (conocer) la ciudad.", "conocer", SUBJ, "3s"),
        ("B2", "Me alegra que tú ___ (estar) mejor.", "estar", SUBJ, "2s"),
        ("C1", "Por mucho que ___ (insistir), no cambiaré de opinión. (tú)", "insistir", SUBJ, "2s"),
    ),
    "imperfect_subjunctive": (
        ("B2", "Si yo ___ (tener) tiempo, aprendería a tocar la guitarra.", "tener", SUBJ_IMPF, "1s"),
        ("B2", "Mi madre quería que nosotros ___ (estudiar) medicina.", "estudiar", SUBJ_IMPF, "1p"),
        ("B2", "Habla como si ___ (saber) todo. (él)", "saber", SUBJ_IMPF, "3s"),
        ("C1", "Si ellos ___ (ir) más despacio, no tendrían accidentes.", "ir", SUBJ_IMPF, "3p"),
        ("C1", "Me pidió que le ___ (traer) un libro. (yo)", "traer", SUBJ_IMPF, "1s"),
    ),
    "imperative": (
        ("A2", "___ (venir) aquí, por favor. (tú)", "venir", IMP, "2s"),
        ("A2", "___ (hacer) los deberes ahora. (tú)", "hacer", IMP, "2s"),
        ("A2", "___ (poner) la mesa, por favor. (tú)", "poner", IMP, "2s"),
        ("B1", "___ (decir) la verdad. (tú)", "decir", IMP, "2s"),
        ("B1", "___ (sentarse) aquí, señora. (usted)", "sentarse", IMP, "3s"),
    ),
    "participles": (
        ("A2", "Todavía no he ___ (ver) esa película.", "ver", "participle", ""),
        ("B1", "¿Has ___ (escribir) el correo?", "escribir", "participle", ""),
        ("B1", "Se ha ___ (romper) el vaso.", "romper", "participle", ""),
        ("B1", "Hemos ___ (volver) muy tarde.", "volver", "participle", ""),
        ("B2", "Ya han ___ (abrir) la tienda.", "abrir", "participle", ""),
        ("B2", "¿Quién ha ___ (decir) eso?", "decir", "participle", ""),
    ),
}

CHOICE: dict[str, tuple[ChoiceItem, ...]] = {
    "ser_estar": (
        ("A1", "Mi madre ___ profesora.", "es", ("es", "está"), "Professions use ser."),
        ("A1", "Madrid ___ en España.", "está", ("es", "está"), "Location uses estar."),
        ("A1", "Hoy yo ___ muy cansado.", "estoy", ("soy", "estoy"), "Temporary states use estar."),
        ("A1", "Nosotros ___ de Colombia.", "somos", ("somos", "estamos"), "Origin uses ser."),
        ("A2", "La fiesta ___ en mi casa.", "es", ("es", "está"), "Events 'take place': ser."),
        ("A2", "La sopa ___ fría.", "está", ("es", "está"), "A current state of the soup: estar."),
        ("B1", "Este chico ___ muy listo: aprende rápido.", "es", ("es", "está"), "ser listo = clever."),
        ("B1", "¿___ listos para salir? (ustedes)", "están", ("son", "están"), "estar listo = ready."),
        (
            "B2",
            "La puerta ___ abierta toda la noche.",
            "estuvo",
            ("fue", "estuvo"),
            "Resulting state: estar.",
        ),
    ),
    "por_para": (
        ("A2", "Este regalo es ___ ti.", "para", ("por", "para"), "Recipient: para."),
        ("A2", "Gracias ___ tu ayuda.", "por", ("por", "para"), "Cause/thanks: por."),
        ("A2", "Paseamos ___ el parque.", "por", ("por", "para"), "Movement through a place: por."),
        ("B1", "Estudio ___ ser médico.", "para", ("por", "para"), "Purpose: para + infinitive."),
        ("B1", "Te llamo ___ teléfono.", "por", ("por", "para"), "Means: por."),
        ("B1", "Necesito el informe ___ el lunes.", "para", ("por", "para"), "Deadline: para."),
        ("B2", "Compré el coche ___ cinco mil euros.", "por", ("por", "para"), "Exchange/price: por."),
        (
            "B2",
            "___ ser extranjero, hablas muy bien.",
            "para",
            ("por", "para"),
            "Comparison with expectation: para.",
        ),
    ),
    "gender_agreement": (
        ("A1", "___ problema es muy difícil.", "el", ("el", "la"), "problema is masculine (Greek -ma)."),
        ("A1", "___ mano me duele.", "la", ("el", "la"), "mano is feminine despite -o."),
        ("A1", "Hace ___ día precioso.", "un", ("un", "una"), "día is masculine despite -a."),
        ("A1", "___ foto es muy bonita.", "la", ("el", "la"), "foto (fotografía) is feminine."),
        ("A2", "___ agua está fría.", "el", ("el", "la"), "agua is feminine but takes el (stressed a-)."),
        ("A2", "Tengo ___ idea.", "una", ("un", "una"), "idea is feminine."),
        ("A2", "Las casas son muy ___.", "bonitas", ("bonitos", "bonitas"), "Agrees with casas (f. pl.)."),
        ("B1", "___ tema de hoy es la política.", "el", ("el", "la"), "tema is masculine (Greek -ma)."),
        ("B1", "El agua está muy ___.", "fría", ("frío", "fría"), "agua is feminine: el agua fría."),
    ),
    "vocabulary": (
        (
            "A2",
            "Me caí delante de todos. ¡Qué ___ estoy!",
            "avergonzado",
            ("avergonzado", "embarazado"),
            "embarazado/a means pregnant; embarrassed is avergonzado/a.",
        ),
        (
            "A2",
            "Compro mis libros en la ___.",
            "librería",
            ("librería", "biblioteca"),
            "A librería sells books; a biblioteca lends them (library).",
        ),
        (
            "B1",
            "Quiero ___ el puesto de profesor.",
            "solicitar",
            ("solicitar", "aplicar"),
            "'Apply for a job' is solicitar; aplicar is to apply (a cream, a rule).",
        ),
        (
            "B1",
            "Por fin me di ___ de mi error.",
            "cuenta",
            ("cuenta", "realicé"),
            "'Realise' is darse cuenta; realizar is to carry out.",
        ),
        (
            "B1",
            "Estoy ___ por el viaje a Cuba.",
            "emocionado",
            ("emocionado", "excitado"),
            "'Excited' is emocionado/ilusionado; excitado has a sexual sense.",
        ),
        (
            "B2",
            "___ vivo en Lima, pero nací en Quito.",
            "Actualmente",
            ("Actualmente", "En realidad"),
            "actualmente means currently, not 'actually' (en realidad).",
        ),
    ),
}

SKILLS: tuple[str, ...] = (*CONJUGATION, *CHOICE)
