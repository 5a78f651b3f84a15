"""Reverse index from a conjugated form to its readings (verb, tense, person).

Used by the quick corrections (is *tiene* a verb, and which person?) and by drill answer checking
(is *tuvo* another form of the same verb?). Built once, lazily, from :mod:`conjugation` for the
common verbs below (about 200 verbs, ~25k forms; ~0.1 s on first use). Unknown words have no
readings.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import NamedTuple

from espaluz.spanish.conjugation import PERSONS, conjugate_table


def _ws(text: str) -> list[str]:
    """Split a whitespace-separated word list."""
    return text.split()


COMMON_VERBS: tuple[str, ...] = tuple(
    _ws("""
    ser estar haber tener hacer poder decir ir ver dar saber querer llegar pasar deber poner parecer
    quedar creer hablar llevar dejar seguir encontrar llamar venir pensar salir volver tomar conocer
    vivir sentir tratar mirar contar empezar esperar buscar existir entrar trabajar escribir perder
    producir ocurrir entender pedir recibir recordar terminar permitir aparecer conseguir comenzar
    servir sacar necesitar mantener resultar leer caer cambiar presentar crear abrir considerar oír
    acabar convertir ganar formar traer partir morir aceptar realizar suponer comprender lograr
    explicar preguntar tocar reconocer estudiar alcanzar nacer dirigir correr utilizar pagar ayudar
    gustar jugar escuchar cumplir ofrecer descubrir levantar intentar usar decidir repetir olvidar
    valer comer mostrar ocupar mover continuar suceder cerrar acercar preparar comprar viajar dormir
    cocinar limpiar lavar bailar cantar nadar correr beber subir bajar enseñar aprender responder
    vender visitar invitar conducir manejar almorzar cenar desayunar despertar duchar vestir sentar
    acostar levantar preferir costar doler encantar interesar importar molestar faltar odiar amar
    besar abrazar saludar cuidar extrañar respetar admirar acompañar recoger aplicar introducir
    atender asistir solicitar construir destruir incluir huir reír sonreír freír elegir corregir
    dibujar pintar tocar regresar caminar andar manejar conducir contestar enviar mandar llenar
    celebrar casar divorciar nevar llover descansar funcionar practicar traducir mentir
    """)
)

INDEXED_TENSES = (
    "indicative.present",
    "indicative.preterite",
    "indicative.imperfect",
    "indicative.future",
    "conditional.present",
    "subjunctive.present",
    "subjunctive.imperfect",
)


class Reading(NamedTuple):
    verb: str
    tense: str
    person: str


@cache
def _index() -> dict[str, tuple[Reading, ...]]:
    index: dict[str, list[Reading]] = defaultdict(list)
    for verb in dict.fromkeys(COMMON_VERBS):
        table = conjugate_table(verb)
        for tense in INDEXED_TENSES:
            for person, forms in table.forms[tense].items():
                for form in forms:
                    reading = Reading(verb, tense, person)
                    if reading not in index[form]:
                        index[form].append(reading)
    return {form: tuple(rs) for form, rs in index.items()}


def readings(form: str) -> tuple[Reading, ...]:
    """Finite readings of a lower-case form (empty tuple if it is not a known verb form)."""
    return _index().get(form, ())


def is_finite_verb(form: str) -> bool:
    return form in _index()


__all__ = ["COMMON_VERBS", "PERSONS", "Reading", "is_finite_verb", "readings"]
