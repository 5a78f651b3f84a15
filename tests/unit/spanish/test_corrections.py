"""Quick corrections: every rule with sentences it must fix and correct sentences it must leave alone."""

from __future__ import annotations

import itertools

import pytest

from espaluz.spanish.corrections import Correction, check

POSITIVE: list[tuple[str, str, str, str]] = [
    # agreement (determiner)
    ("El casa es grande.", "El", "La", "agreement"),
    ("La problema es difícil.", "La", "El", "agreement"),
    ("Tengo un mano rota.", "un", "una", "agreement"),
    ("La día fue largo.", "La", "El", "agreement"),
    ("Mira esta mapa.", "esta", "este", "agreement"),
    ("Me gusta el foto.", "el", "la", "agreement"),
    ("Compré un moto nueva.", "un", "una", "agreement"),
    ("Hablo un idioma y la tema es fácil.", "la", "el", "agreement"),
    ("La agua está fría.", "La", "El", "agreement"),
    ("Tengo mucho hambre.", "mucho", "mucha", "agreement"),
    ("Hay mucho gente aquí.", "mucho", "mucha", "agreement"),
    ("Las casa son bonitas.", "Las casa", "Las casas", "agreement"),
    ("La casas son bonitas.", "La casas", "Las casas", "agreement"),
    ("Mis libro está aquí.", "Mis", "Mi", "agreement"),
    ("Vamos al playa.", "al", "a la", "agreement"),
    ("Vengo del escuela.", "del", "de la", "agreement"),
    ("Es un ciudad bonita.", "un", "una", "agreement"),
    ("Los aguas del río.", "Los", "Las", "agreement"),
    # agreement (adjective)
    ("La casa blanco es mía.", "blanco", "blanca", "agreement"),
    ("El agua frío no me gusta.", "frío", "fría", "agreement"),
    ("Tengo unos zapatos negra.", "negra", "negros", "agreement"),
    ("La gente simpático vive aquí.", "simpático", "simpática", "agreement"),
    ("El problema difícil", "difícil", "", ""),
    # contraction
    ("Vengo de el parque.", "de el", "del", "contraction"),
    ("Voy a el mercado.", "a el", "al", "contraction"),
    # subject-verb
    ("Yo tiene un perro.", "tiene", "tengo", "subject_verb"),
    ("Ellos va al cine.", "va", "van", "subject_verb"),
    ("Tú tiene razón.", "tiene", "tienes", "subject_verb"),
    ("Nosotros vive en Lima.", "vive", "vivimos", "subject_verb"),
    ("Yo es estudiante.", "es", "soy", "subject_verb"),
    ("Él hablo con María.", "hablo", "habló", "subject_verb"),
    ("Ella tengo dos hijos.", "tengo", "tiene", "subject_verb"),
    ("Yo no sabe nada.", "sabe", "sé", "subject_verb"),
    # accents
    ("Ella esta bien.", "esta", "está", "accent"),
    ("Mi madre esta cansada.", "esta", "está", "accent"),
    ("¿Cómo esta usted?", "esta", "está", "accent"),
    ("Tú estas trabajando.", "estas", "estás", "accent"),
    ("¿Como estás?", "Como", "Cómo", "accent"),
    ("¿Que haces?", "Que", "Qué", "accent"),
    ("¿De donde eres?", "donde", "dónde", "accent"),
    ("¿Cuando vienes?", "Cuando", "Cuándo", "accent"),
    ("¿Por que no vienes?", "que", "qué", "accent"),
    ("¿Porque no vienes?", "Porque", "Por qué", "accent"),
    ("el es mi amigo.", "el", "él", "accent"),
    ("Esto es para el.", "el", "él", "accent"),
    ("tu eres muy simpático.", "tu", "tú", "accent"),
    ("¿Y tu?", "tu", "tú", "accent"),
    ("Si, claro.", "Si", "Sí", "accent"),
    ("Creo que si.", "si", "sí", "accent"),
    ("Quiero mas café.", "mas", "más", "accent"),
    ("A mi me gusta.", "mi", "mí", "accent"),
    ("Es para mi.", "mi", "mí", "accent"),
    ("No se.", "se", "sé", "accent"),
    ("Yo se que es verdad.", "se", "sé", "accent"),
    # ser/estar
    ("Soy en casa.", "Soy", "Estoy", "ser_estar"),
    ("Somos en Madrid.", "Somos", "Estamos", "ser_estar"),
    ("Ella es en la oficina.", "es", "está", "ser_estar"),
    ("Soy cansado.", "Soy", "Estoy", "ser_estar"),
    ("Eres muy ocupada.", "Eres", "Estás", "ser_estar"),
    ("Soy bien.", "Soy", "Estoy", "ser_estar"),
    ("Soy de acuerdo.", "Soy", "Estoy", "ser_estar"),
    ("Estoy profesor.", "Estoy", "Soy", "ser_estar"),
    ("Estoy un estudiante.", "Estoy", "Soy", "ser_estar"),
    ("Estoy mexicana.", "Estoy", "Soy", "ser_estar"),
    ("Estoy de México.", "Estoy", "Soy", "ser_estar"),
    # gustar
    ("Yo gusto la pizza.", "Yo gusto", "Me gusta", "gustar"),
    ("Yo gusto los perros.", "Yo gusto", "Me gustan", "gustar"),
    ("Yo no gusto el café.", "Yo no gusto", "No me gusta", "gustar"),
    ("Tú gustas bailar.", "Tú gustas", "Te gusta", "gustar"),
    ("Yo me gusta el chocolate.", "Yo", "A mí", "gustar"),
    ("Me gusta los perros.", "gusta", "gustan", "gustar"),
    ("Nos gustan la playa.", "gustan", "gusta", "gustar"),
    # personal a
    ("Veo mi madre.", "mi", "a mi", "personal_a"),
    ("Voy a visitar mi abuela.", "mi", "a mi", "personal_a"),
    ("Conozco Juan.", "Juan", "a Juan", "personal_a"),
    ("Espero el profesor.", "el", "al", "personal_a"),
    ("Llamo la doctora.", "la", "a la", "personal_a"),
    # false friends
    ("Estoy embarazado.", "embarazado", "avergonzado", "false_friend"),
    ("Estoy muy embarazada.", "embarazada", "avergonzada", "false_friend"),
    ("Quiero aplicar para el trabajo.", "aplicar para", "solicitar", "false_friend"),
    ("Apliqué para una beca.", "Apliqué para", "Solicité", "false_friend"),
    ("Realicé que no tenía dinero.", "Realicé que", "Me di cuenta de que", "false_friend"),
    ("Ahora realizo que tienes razón.", "realizo que", "me doy cuenta de que", "false_friend"),
    ("La reunión toma lugar mañana.", "toma lugar", "tiene lugar", "false_friend"),
    ("Eso no hace sentido.", "hace sentido", "tiene sentido", "false_friend"),
    ("Estoy muy excitada por el viaje.", "excitada", "emocionada", "false_friend"),
    ("Atiendo la universidad.", "Atiendo la", "Asisto a la", "false_friend"),
    ("Te introduzco a mi amigo.", "introduzco", "presento", "false_friend"),
    # tener
    ("Soy 25 años.", "Soy", "Tengo", "tener"),
    ("Mi hermano es veinte años.", "es", "tiene", "tener"),
    ("Estoy hambre.", "Estoy", "Tengo", "tener"),
    ("Estoy caliente hoy.", "Estoy caliente", "Tengo calor", "tener"),
]


@pytest.mark.parametrize(("text", "original", "suggestion", "rule"), [p for p in POSITIVE if p[3]])
def test_detects(text: str, original: str, suggestion: str, rule: str) -> None:
    found = check(text)
    matches = [c for c in found if c.original == original]
    assert matches, f"no correction for {original!r} in {found}"
    corr = matches[0]
    assert corr.suggestion == suggestion
    assert corr.rule == rule
    assert text[corr.start : corr.end] == original
    assert corr.explanation
    # the reason exists in Spanish too, and is not the English one
    assert corr.explanation_es
    assert corr.explanation_es != corr.explanation
    assert corr.why("es") == corr.explanation_es
    assert corr.why("en") == corr.explanation


NEGATIVE = [
    # agreement exceptions and clitics
    "El agua fría es buena.",
    "Las aguas del río están limpias.",
    "Un águila vuela sobre el mar.",
    "Tengo hambre y el hambre es mala.",
    "Tengo un problema con el mapa.",
    "El día es largo y la mano está fría.",
    "La foto y la moto son nuevas.",
    "La radio está encendida y el radio también.",
    "El estudiante y la estudiante hablan.",
    "La cambio mañana.",
    "La odio.",
    "Los ayuda siempre.",
    "Las cuento todas.",
    "Los lunes trabajo y el lunes descanso.",
    "Las crisis son difíciles.",
    "El compra pan.",
    "Es de El Salvador.",
    "Vivo en La Paz.",
    "Mi casa es tu casa.",
    "Mis amigos y mis libros.",
    "Hablo español y tengo un coche rojo y una casa grande.",
    "Ella tiene los ojos azules y el pelo largo.",
    "Habla muy alto y canta bajo.",
    "Pon la música alto.",
    # subject-verb
    "Juan y yo tenemos dos gatos.",
    "Tú y yo somos amigos.",
    "A ella le gusta el café.",
    "Con él tengo suerte.",
    "Yo como pan.",
    "Ella como su madre es alta.",
    "Nosotros hablamos español.",
    "Ellos fueron al cine.",
    "Yo hablaba y él hablaba.",
    "Vos tenés razón.",
    "Usted tiene razón.",
    "Más que yo, sabe él.",
    # accents: correct uses
    "Esta casa es bonita.",
    "Esta es mi casa y este es mi coche.",
    "Compré esta bien barata.",
    "Una casa como esta.",
    "Si quieres, podemos ir mañana.",
    "Si, como dices, llueve, no voy.",
    "No sé si puedo.",
    "Creo que sí.",
    "Dime qué quieres.",
    "Como dije, no puedo.",
    "Cuando llegues, me llamas.",
    "Porque no tengo tiempo.",
    "El trabajo es difícil.",
    "El pan está rico.",
    "Tu casa es bonita.",
    "Mi madre es alta.",
    "Para mí es importante.",
    "No se puede fumar aquí.",
    "Se lo di ayer.",
    "Yo se lo doy.",
    "Lo dije, mas no me escucharon.",
    "Más o menos.",
    # ser/estar
    "La fiesta es en mi casa.",
    "El concierto es en el parque.",
    "Soy en realidad profesor.",
    "Estoy cansado pero contento.",
    "Soy alto y delgado.",
    "Estoy muy alto hoy.",
    "Soy de México pero vivo en España.",
    "Estoy de vacaciones en la playa.",
    "Estoy de acuerdo.",
    "Trabajo como profesor en una escuela.",
    "Mi padre es médico.",
    "Estoy casado y soy feliz.",
    "Es cansado trabajar así.",
    # gustar
    "Me gusta la pizza.",
    "Me gustan los perros.",
    "Me gustan el café y el té.",
    "Me gusta la música y el cine.",
    "Me gusta leer libros.",
    "Yo gusto a María.",
    "Yo me gusto.",
    "Ella gusta de la música clásica.",
    # personal a
    "Veo la televisión.",
    "Visito Madrid cada año.",
    "Llamo a mi madre cada día.",
    "Conozco a Juan.",
    "Busco un médico.",
    "Me va a llamar mi madre.",
    "Veo a mi madre los domingos.",
    "Quiero un hermano.",
    # false friends: correct uses
    "Ella está embarazada.",
    "Estoy embarazada de tres meses.",
    "Realicé un proyecto muy interesante.",
    "Aplico la crema para el sol.",
    "Se aplica para todos.",
    "Tengo 25 años.",
    "Tengo calor.",
    "El agua está caliente.",
    "Asisto a la universidad.",
    "Atiendo a los clientes.",
    "Introduzco la llave en la puerta.",
    "Te presento a mi amigo.",
    # plain correct messages
    "Hola, ¿qué tal estás? Yo estoy bien, gracias.",
    "Ayer fuimos a la playa con mis amigos y comimos pescado.",
    "¿Dónde está la estación de tren?",
    "Mi hermana y yo vivimos en Madrid con nuestros padres.",
    "Me levanto a las siete y me ducho.",
    "",
    "   ",
    "123",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_leaves_correct_text_alone(text: str) -> None:
    assert check(text) == []


def test_correction_json_and_offsets() -> None:
    text = "Hola, yo tiene un perro. Me gusta los perros y quiero visitar mi abuela pronto."
    found = check(text)
    assert [(c.original, c.suggestion, c.rule) for c in found] == [
        ("tiene", "tengo", "subject_verb"),
        ("gusta", "gustan", "gustar"),
        ("mi", "a mi", "personal_a"),
    ]
    for c in found:
        assert text[c.start : c.end] == c.original
    assert found[0].to_json() == {
        "start": 9,
        "end": 14,
        "original": "tiene",
        "suggestion": "tengo",
        "rule": "subject_verb",
        "explanation": found[0].explanation,
        "explanation_es": "Con 'yo' el verbo es 'tengo'; 'tiene' es la forma de él/ella/usted.",
    }
    assert isinstance(found[0], Correction)


def test_corrections_never_overlap_and_are_sorted() -> None:
    found = check("Yo me gusta las casa. El casa es grande y yo tiene frío.")
    starts = [c.start for c in found]
    assert starts == sorted(starts)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start


def test_mid_sentence_suggestions_keep_lower_case() -> None:
    (corr,) = check("Ayer conocí Juan.")
    assert corr.suggestion == "a Juan"


# A precision corpus of ordinary correct messages (including the tricky homographs:
# la/lo clitics, como/cuando conjunctions, esta/este demonstratives, si/mas, ser for events).
PRECISION_CORPUS = (
    "Buenos días, ¿cómo te va? Espero que estés bien.",
    "Ayer mi hermano y yo fuimos al mercado y compramos fruta.",
    "La semana pasada estuve enfermo y no pude ir a clase.",
    "Mis padres viven en una casa pequeña cerca del río.",
    "¿Te gustaría venir a cenar el sábado?",
    "No me gusta nada el tráfico de esta ciudad.",
    "Cuando era pequeño, jugaba al fútbol todos los días.",
    "El profesor nos explicó la lección con mucha paciencia.",
    "Si tuviera más tiempo, aprendería a tocar el piano.",
    "Ella siempre lleva un vestido rojo los domingos.",
    "Los niños están jugando en el jardín.",
    "Esta mañana he desayunado pan con tomate.",
    "¿Sabes dónde está la farmacia más cercana?",
    "Creo que va a llover esta tarde.",
    "Mi mejor amiga se llama Lucía y es de Sevilla.",
    "Hace mucho calor en verano y mucho frío en invierno.",
    "Quiero que me ayudes con los deberes.",
    "El agua del mar está muy fría hoy.",
    "Me duele la cabeza desde ayer.",
    "Ella es la que más sabe de historia.",
    "Le di el libro a mi hermana.",
    "La vi ayer en el cine con su novio.",
    "La conozco desde hace años.",
    "Los invité a la fiesta pero no vinieron.",
    "Él dice que tú tienes razón.",
    "Yo también quiero ir.",
    "Ustedes tienen que esperar aquí.",
    "Vos sabés que te quiero.",
    "El que quiera venir, que venga.",
    "Es el mismo problema de siempre.",
    "Aquel hombre es mi vecino.",
    "Tengo muchos amigos y pocas amigas.",
    "Las manos me duelen.",
    "Hay un mapa en la pared.",
    "El tema de la clase es interesante.",
    "Me encantan las películas de acción.",
    "¿Y a ti qué te parece?",
    "Sí, claro que sí.",
    "Él se fue, mas volvió pronto.",
    "No sé cómo se dice.",
    "Se lo dije a él.",
    "Tu amiga está aquí.",
    "Esta noche salimos.",
    "Está lloviendo.",
    "Estas flores son para ti.",
    "Soy profesora de inglés.",
    "Soy muy feliz aquí.",
    "La reunión es a las cinco.",
    "La boda fue en una iglesia antigua.",
    "Busco a mi perro.",
    "Llamé a la doctora.",
    "Visité el museo del Prado.",
    "Conocí a tu hermana en la fiesta.",
    "Estoy esperando el autobús.",
    "Quiero mucho a mi abuela.",
    "Mi padre tiene cincuenta años.",
    "Tengo hambre y sed.",
    "El café está muy caliente.",
    "Me di cuenta de que era tarde.",
    "Realizamos un estudio.",
    "La fiesta tendrá lugar en el jardín.",
    "Le presenté a mi madre.",
    "Mi hija está embarazada.",
    "Aprendo español en una escuela de idiomas.",
    "Vengo del trabajo.",
    "Voy al parque con el perro.",
    "Te mando un mensaje luego.",
    "¿Por qué lo hiciste?",
    "¿Cuál prefieres?",
    "Cuando llegues, avísame.",
    "Donde vivo hay muchos árboles.",
    "Como no tenía dinero, no fui.",
    "Quien sabe, sabe.",
    "Me parece que sí.",
    "Ella dijo que sí.",
)


def test_precision_corpus_has_no_false_positives() -> None:
    assert len(PRECISION_CORPUS) > 70
    flagged = {text: check(text) for text in PRECISION_CORPUS}
    assert {t: c for t, c in flagged.items() if c} == {}


def test_verb_index_and_noun_lexicon() -> None:
    from espaluz.spanish.nouns import noun_info, plural_of
    from espaluz.spanish.verb_index import readings

    assert ("tener", "indicative.present", "3s") in readings("tiene")
    assert ("ser", "indicative.preterite", "3s") in readings("fue")
    assert ("ir", "indicative.preterite", "3s") in readings("fue")
    assert readings("casita") == ()
    agua = noun_info("agua")
    assert agua is not None
    assert (agua.gender, agua.stressed_a, agua.plural) == ("f", True, False)
    mano = noun_info("manos")
    assert mano is not None
    assert (mano.lemma, mano.gender, mano.plural) == ("mano", "f", True)
    assert [plural_of(w) for w in ("canción", "joven", "examen", "lápiz", "lunes", "país", "café")] == [
        "canciones", "jóvenes", "exámenes", "lápices", "lunes", "países", "cafés",
    ]  # fmt: skip


def test_spanish_reasons_keep_the_words_they_quote() -> None:
    """A Spanish reason that quoted a different form than the English one would teach the wrong form."""
    for text, _, _, rule in POSITIVE:
        if not rule:
            continue
        for c in check(text):
            quoted_en = {q for q in c.explanation.split("'")[1::2] if q == c.suggestion.lower()}
            quoted_es = {q for q in c.explanation_es.split("'")[1::2] if q == c.suggestion.lower()}
            assert quoted_en <= quoted_es, (text, c.explanation, c.explanation_es)


MOOD_POSITIVE: list[tuple[str, str, str, str]] = [
    ("Si tendría tiempo, iría.", "tendría", "tuviera", "conditional_si"),
    ("Si podría, te ayudaría.", "podría", "pudiera", "conditional_si"),
    ("Espero que vienes.", "vienes", "vengas", "subjunctive"),
    ("Quiero que tú hablas con ella.", "hablas", "hables", "subjunctive"),
    ("Ojalá llueve.", "llueve", "llueva", "subjunctive"),
    ("Es importante que estudias.", "estudias", "estudies", "subjunctive"),
    ("Lo hago para que entiendes.", "entiendes", "entiendas", "subjunctive"),
    ("Cuando llegaré, te llamo.", "llegaré", "llegue", "subjunctive"),
    ("Ojala que vengas.", "Ojala", "Ojalá", "accent"),
]


@pytest.mark.parametrize(("text", "original", "suggestion", "rule"), MOOD_POSITIVE)
def test_check_finds_mood_errors(text: str, original: str, suggestion: str, rule: str) -> None:
    """The mood rules are part of check(), so the tutor's existing callers get them too."""
    (corr,) = [c for c in check(text) if c.original == original]
    assert (corr.suggestion, corr.rule) == (suggestion, rule)
    assert corr.explanation_es


def test_ambiguous_forms_are_left_alone() -> None:
    """siento (sentir or sentar), venís (vosotros or vos) have two different subjunctives: no guess."""
    assert check("Espero que siento algo.") == []
    assert check("Espero que venís.") == []
    assert [c.suggestion for c in check("Espero que vosotros venís.")] == ["vengáis"]
    assert [c.suggestion for c in check("Quiero que vos venís.")] == ["vengas"]
