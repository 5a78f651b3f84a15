"""Grammatical gender of frequent nouns, and gender-variable adjectives (written for espaluz).

The lists favour the nouns learners actually write, with the classic exceptions: *el día, el mapa,
el problema, el idioma, el tema, el sofá; la mano, la foto, la moto, la radio, la flor, la
ciudad*; feminine nouns with a stressed initial *a-/ha-* that take *el/un* in the singular (*el
agua fría, las aguas*). Nouns of either gender (*el/la estudiante*) or whose gender varies by
region or meaning (*el/la mar, el/la radio* in the Americas, *el/la azúcar*, *el/la internet*) are
marked ``mf`` and never corrected.

Use :func:`noun_info` and :func:`adjective_info`; both are cached and build their tables once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from espaluz.spanish.orthography import (
    place_accent,
    stressed_syllable,
    stressed_vowel_index,
    strip_accents,
    syllabify,
)

_MASCULINE = """
    año día mes momento tiempo hombre niño chico amigo hermano hijo padre abuelo tío primo novio esposo
    marido señor doctor profesor maestro médico jefe vecino compañero trabajo problema tema idioma sistema
    programa mapa clima planeta sofá papá bebé libro coche carro auto autobús tren avión barco camión
    camino viaje país mundo pueblo barrio lugar sitio hotel restaurante bar café hospital banco parque
    museo cine teatro mercado supermercado aeropuerto centro edificio piso apartamento cuarto baño
    dormitorio salón jardín techo suelo árbol río mar lago monte cielo sol viento fuego aire
    perro gato pájaro pez caballo animal dinero precio euro dólar peso regalo juego partido equipo
    deporte fútbol nombre apellido número teléfono móvil celular ordenador computador correo mensaje
    correo periódico artículo cuento poema examen curso colegio instituto estudio ejercicio error
    ejemplo verbo sustantivo adjetivo diccionario lápiz bolígrafo papel cuaderno escritorio
    desayuno almuerzo cena postre pan queso jamón pollo pescado arroz huevo vino agua_no té zumo jugo
    refresco helado chocolate azúcar_no tomate plátano limón vaso plato cuchillo tenedor
    corazón cuerpo brazo pie pelo ojo dedo diente estómago cuello hombro labio
    vestido pantalón zapato sombrero abrigo traje bolso reloj anillo color
    lunes martes miércoles jueves viernes sábado domingo verano invierno otoño fin
    principio final amor odio miedo sueño hambre_no frío calor dolor éxito fracaso gusto placer
    consejo favor permiso derecho deber horario proyecto plan objetivo resultado cambio
    idioma español inglés francés alemán chino árabe italiano portugués
    día_no corazón dinero mes tráfico ruido silencio espacio paisaje mensaje viaje garaje
    lenguaje personaje pasaje equipaje champú menú
    país pueblo continente océano desierto bosque campo
    hermano sobrino nieto suegro cuñado padrino
    documento pasaporte billete boleto asiento vuelo
    """

_FEMININE = """
    casa ciudad calle plaza playa montaña isla tierra luna estrella lluvia nieve noche tarde mañana
    semana hora vida muerte gente familia madre mamá hermana hija abuela tía prima novia esposa mujer
    señora doctora profesora maestra médica jefa vecina compañera amiga chica niña
    mano foto moto radio_no flor piel sal leche carne fruta verdura comida bebida cerveza sopa ensalada
    tortilla pizza paella naranja manzana fresa patata papa_no mesa silla cama puerta ventana cocina
    habitación oficina escuela universidad clase biblioteca tienda farmacia iglesia estación
    empresa fábrica casa pared llave lámpara televisión computadora música canción película novela
    revista carta palabra frase pregunta respuesta lengua lección tarea nota idea razón verdad mentira
    cabeza cara boca nariz oreja espalda pierna rodilla garganta sangre salud enfermedad fiebre gripe
    ropa camisa camiseta falda chaqueta corbata bufanda bota
    primavera vez fiesta boda reunión cita visita vacaciones
    luz paz guerra libertad amistad felicidad tristeza alegría suerte ayuda compra venta cuenta
    moneda tarjeta página historia cultura costumbre política economía ciencia
    opinión información educación situación conversación decisión solución relación
    explicación dirección profesión nación región religión población generación
    crisis tesis parte_no frente_no orden_no clase noticia
    calle avenida carretera autopista frontera
    mañana tarde noche madrugada semana quincena
    bicicleta maleta mochila cartera
    computadora impresora pantalla
    vaca oveja cabra gallina
    """

# Feminine nouns with stressed initial a-/ha-: el/un in the singular (el agua fría).
_STRESSED_A = "agua águila alma arma aula área hambre hacha haba ala arpa ave hada asma ancla"

# Either gender, or gender that varies by region/meaning: never corrected.
_EITHER = """
    estudiante turista artista periodista dentista cantante joven policía presidente
    mar azúcar internet radio sartén calor arte cometa capital orden frente cura corte parte papa
    coma cólera modelo testigo colega pianista guía atleta representante gerente paciente cliente
    """

_IRREGULAR_PLURAL = {"carácter": "caracteres", "régimen": "regímenes", "espécimen": "especímenes"}


@dataclass(frozen=True)
class NounInfo:
    """What agreement needs to know about a noun form."""

    lemma: str
    gender: str  # "m", "f" or "mf" (either: never corrected)
    plural: bool
    stressed_a: bool


def plural_of(noun: str) -> str:
    """Regular plural with the accent moved as needed (*canción* → *canciones*, *joven* → *jóvenes*)."""
    if noun in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[noun]
    last = noun[-1]
    if last in "aeiouáéó":
        return noun + "s"
    if last in "íú":
        return noun + "s"
    if last == "z":
        return noun[:-1] + "ces"
    if last in "sx" and stressed_syllable(noun) < len(syllabify(noun)) - 1:
        return noun  # lunes, crisis, tórax
    pos = stressed_vowel_index(noun)
    return place_accent(strip_accents(noun) + "es", pos)


def _clean_list(text: str) -> list[str]:
    return [w for w in text.split() if not w.endswith("_no")]


@cache
def _noun_table() -> dict[str, NounInfo]:
    table: dict[str, NounInfo] = {}
    stressed_a = set(_STRESSED_A.split())
    groups = (
        (_clean_list(_MASCULINE), "m"),
        (_clean_list(_FEMININE), "f"),
        (sorted(stressed_a), "f"),
        (_clean_list(_EITHER), "mf"),
    )
    for words, gender in groups:
        for w in words:
            sa = w in stressed_a
            table[w] = NounInfo(w, gender, False, sa)
            pl = plural_of(w)
            if pl != w:
                table.setdefault(pl, NounInfo(w, gender, True, sa))
            else:
                table[w] = NounInfo(w, "mf" if gender == "mf" else gender, False, sa)
    # invariant plurals (lunes, crisis): number unknown from the form alone
    return table


def noun_info(word: str) -> NounInfo | None:
    """Gender/number of a lower-case noun form, or ``None`` if not in the lexicon."""
    return _noun_table().get(word)


def is_invariant(word: str) -> bool:
    """True for nouns whose singular and plural coincide (*el lunes / los lunes*)."""
    info = noun_info(word)
    return info is not None and plural_of(info.lemma) == info.lemma


_ADJ_O = """
    nuevo viejo blanco negro rojo amarillo morado pequeño bonito feo barato largo corto ancho
    estrecho moderno antiguo limpio sucio lleno vacío frío delicioso famoso perfecto precioso hermoso
    simpático antipático divertido aburrido cansado contento ocupado enfermo rico bueno malo guapo
    gordo flaco delgado alto bajo tranquilo nervioso preocupado enojado enfadado cómodo caro sabroso
    mexicano americano italiano argentino colombiano chileno peruano cubano ruso chino
    oscuro claro mismo propio próximo último primero segundo tercero cierto seguro
    """
_ADJ_E = "grande verde importante interesante inteligente alegre triste caliente fuerte pobre libre"
_ADJ_CONS = "azul gris feliz difícil fácil útil joven mejor peor marrón"
_ADJ_NATIONALITY = {
    "español": "española",
    "inglés": "inglesa",
    "francés": "francesa",
    "alemán": "alemana",
    "japonés": "japonesa",
    "portugués": "portuguesa",
}
# Adjectives also used as adverbs after a verb (habla alto, cuesta caro): never checked.
ADVERBIAL = frozenset({"alto", "bajo", "claro", "caro", "barato", "rápido", "lento", "fuerte", "mismo"})


@dataclass(frozen=True)
class AdjInfo:
    lemma: str
    gender: str  # "m", "f", or "" (invariable in gender)
    plural: bool
    forms: tuple[str, str, str, str]  # m.sg, f.sg, m.pl, f.pl


@cache
def _adj_table() -> dict[str, AdjInfo]:
    table: dict[str, AdjInfo] = {}
    for w in _ADJ_O.split():
        forms = (w, w[:-1] + "a", w + "s", w[:-1] + "as")
        for k, f in enumerate(forms):
            table[f] = AdjInfo(w, "mf"[k % 2], k >= 2, forms)
    for w in _ADJ_E.split() + _ADJ_CONS.split():
        pl = plural_of(w)
        forms = (w, w, pl, pl)
        table[w] = AdjInfo(w, "", False, forms)
        table[pl] = AdjInfo(w, "", True, forms)
    for m, f in _ADJ_NATIONALITY.items():
        forms = (m, f, plural_of(m), f + "s")
        for k, form in enumerate(forms):
            table[form] = AdjInfo(m, "mf"[k % 2], k >= 2, forms)
    return table


def adjective_info(word: str) -> AdjInfo | None:
    """Gender/number of a lower-case adjective form, or ``None``."""
    return _adj_table().get(word)


def adjective_form(info: AdjInfo, gender: str, plural: bool) -> str:
    """The form of an adjective for a gender (``m``/``f``) and number."""
    return info.forms[(2 if plural else 0) + (1 if gender == "f" else 0)]
