"""The irregularities of Spanish verbs, written out from the RAE's conjugation models.

Everything a verb does that its ending does not predict lives here: stem changes, irregular yo
stems (*tengo*), strong preterites (*tuve*), future stems (*tendré*), irregular participles, written
accents on a stressed stem *i/u* (*envío*, *reúno*), and whole-form overrides for the handful of
verbs that no pattern captures (*ser*, *ir*, *erguir*...). Spelling changes that follow from the
ending (*-car* → *-qué*, *-ger* → *-jo*, *-uir* → *-uyo*, vowel + *-cer* → *-zco*) are not listed:
the conjugator derives them, so unknown verbs get them too.

Choices (documented because the RAE allows several):
- *abolir*: conjugated in full. The NGLE (2009) and the DPD's update accept every form
  (*abolo, aboles*...), so we no longer treat it as defective.
- *erguir*: both series, RAE order (*irgo/yergo*). *yacer*: *yazco/yazgo/yago*. *roer*: *roo/roigo/royo*.
- double participles list the more frequent first (*impreso/imprimido*, *frito/freído*,
  *provisto/proveído*); *bendecido* is the participle, *bendito* is listed second but is adjectival and
  compound tenses use only *bendecido*.
- weather verbs (*llover, nevar*...) keep only the third persons; *soler* has no future, conditional or
  imperative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Forms = tuple[str, ...]


@dataclass(frozen=True)
class VerbSpec:
    """How one verb departs from the regular model of its ending.

    ``change`` is one of ``ie`` (pensar), ``ue`` (contar), ``i`` (pedir), ``ie-i`` (sentir),
    ``ue-u`` (dormir), ``u-ue`` (jugar), ``i-ie`` (adquirir), ``o-hue`` (oler), ``e-ye`` (errar).
    ``over`` maps a tense key (``indicative.present``) to person → forms that replace computed ones.
    """

    change: str = ""
    yo: Forms = ()
    pret: str = ""
    fut: str = ""
    imp2s: Forms = ()
    part: Forms = ()
    compound_part: Forms = ()
    ger: str = ""
    accent: bool = False
    imperfect_stem: str = ""
    pret_class: str = ""
    infinitive: Forms = ()
    over: Mapping[str, Mapping[str, Forms]] = field(default_factory=dict)
    missing_tenses: frozenset[str] = frozenset()
    only_persons: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Derived:
    """A verb conjugated as ``prefix`` + ``base`` (*detener* = *de* + *tener*), plus its own quirks."""

    prefix: str
    base: str
    regular_future: bool = False
    spec: VerbSpec = field(default_factory=VerbSpec)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


IE = _words(
    """acertar alentar apretar arrendar atravesar calentar cerrar comenzar concertar confesar
    desconcertar despertar desterrar empezar encerrar enmendar enterrar fregar gobernar helar
    manifestar merendar negar nevar pensar plegar quebrar recomendar regar renegar reventar segar
    sembrar sentar serrar sosegar temblar tentar tropezar desplegar emparentar escarmentar
    ascender atender defender descender encender entender extender perder tender trascender verter
    contender condescender desatender malentender discernir concernir cernir querer tener venir"""
)
UE = _words(
    """acordar acostar almorzar aprobar apostar avergonzar colar colgar comprobar concordar consolar
    contar costar degollar demostrar descontar desollar encontrar esforzar forzar mostrar poblar probar
    recordar recostar reforzar renovar reprobar desaprobar rodar rogar soldar soltar sonar soñar
    tostar tronar volar volcar trocar absolver cocer conmover demoler desenvolver devolver disolver
    doler envolver escocer llover moler morder mover promover remover resolver revolver retorcer
    soler torcer volver poder atronar recocer"""
)
IE_I = _words(
    """adherir advertir arrepentir conferir consentir convertir diferir digerir divertir herir hervir
    inferir ingerir interferir invertir mentir desmentir pervertir preferir presentir referir
    requerir resentir revertir sentir subvertir sugerir transferir controvertir asentir disentir venir"""
)
UE_U = _words("dormir morir")
E_I = _words(
    """pedir competir concebir corregir derretir despedir elegir embestir expedir gemir impedir medir
    reelegir regir rendir repetir seguir conseguir perseguir proseguir servir vestir desvestir
    revestir investir teñir reñir ceñir desteñir colegir constreñir decir"""
)

# Verbs whose stressed stem i/u takes a written accent (envío, continúo, reúno, prohíbo, aíslo).
# -uar verbs do so by default (except -cuar/-guar); -iar verbs only when listed here.
ACCENTED_STEM = _words(
    """ampliar ansiar averiar chirriar confiar contrariar criar desafiar desconfiar desviar enfriar
    enviar espiar esquiar expiar extraviar fiar fotografiar guiar hastiar liar piar porfiar reenviar
    resfriar rociar vaciar variar telegrafiar malcriar descarriar inventariar autografiar radiografiar
    ataviar amnistiar aislar ahumar aullar maullar aunar rehusar reunir prohibir cohibir rehuir ahijar
    enraizar airar ahilar europeizar descafeinar homogeneizar embaular sahumar rehilar amohinar prohijar
    arcaizar hebraizar"""
)
UNACCENTED_UAR = _words("adecuar evacuar licuar oblicuar")

# Vowel + -cer/-cir verbs that do NOT take -zco.
NO_ZC = _words("cocer escocer recocer mecer remecer hacer deshacer rehacer satisfacer decir")

WEATHER = _words(
    "llover lloviznar nevar granizar tronar relampaguear diluviar neviscar garuar escarchar atronar"
)

_P = ("1s", "2s", "3s", "1p", "2p", "3p")


def _row(*forms: str | Forms) -> dict[str, Forms]:
    """Six persons in order; a tuple cell lists alternatives."""
    return {p: (f,) if isinstance(f, str) else f for p, f in zip(_P, forms, strict=True)}


_REIR_OVER: dict[str, dict[str, Forms]] = {
    "indicative.present": {**_row("río", "ríes", "ríe", "reímos", "reís", "ríen"), "vos": ("reís",)},
    "indicative.preterite": _row("reí", "reíste", "rio", "reímos", "reísteis", "rieron"),
    "subjunctive.present": {**_row("ría", "rías", "ría", "riamos", "riais", "rían"), "vos": ("rías",)},
}

SPECS: dict[str, VerbSpec] = {
    "ser": VerbSpec(
        yo=("se",),
        imp2s=("sé",),
        over={
            "indicative.present": {**_row("soy", "eres", "es", "somos", "sois", "son"), "vos": ("sos",)},
            "indicative.preterite": _row("fui", "fuiste", "fue", "fuimos", "fuisteis", "fueron"),
            "indicative.imperfect": _row("era", "eras", "era", "éramos", "erais", "eran"),
            "imperative.affirmative": {"vos": ("sé",)},
        },
    ),
    "ir": VerbSpec(
        yo=("vay",),
        imp2s=("ve",),
        ger="yendo",
        over={
            "indicative.present": {**_row("voy", "vas", "va", "vamos", "vais", "van"), "vos": ("vas",)},
            "indicative.preterite": _row("fui", "fuiste", "fue", "fuimos", "fuisteis", "fueron"),
            "indicative.imperfect": _row("iba", "ibas", "iba", "íbamos", "ibais", "iban"),
            "imperative.affirmative": {"1p": ("vamos", "vayamos"), "vos": ("andá",)},
        },
    ),
    "estar": VerbSpec(
        pret="estuv",
        over={
            "indicative.present": {
                **_row("estoy", "estás", "está", "estamos", "estáis", "están"),
                "vos": ("estás",),
            },
            "subjunctive.present": {
                **_row("esté", "estés", "esté", "estemos", "estéis", "estén"),
                "vos": ("estés",),
            },
        },
    ),
    "haber": VerbSpec(
        yo=("hay",),
        pret="hub",
        fut="habr",
        imp2s=("he",),
        over={
            "indicative.present": {
                **_row("he", "has", ("ha", "hay"), "hemos", "habéis", "han"),
                "vos": ("has",),
            },
        },
    ),
    "dar": VerbSpec(
        pret_class="er",
        over={
            "indicative.present": {"1s": ("doy",)},
            "subjunctive.present": {"1s": ("dé",), "3s": ("dé",), "vos": ("des",)},
        },
    ),
    "ver": VerbSpec(yo=("ve",), imperfect_stem="ve", part=("visto",)),
    "caber": VerbSpec(yo=("quep",), pret="cup", fut="cabr"),
    "saber": VerbSpec(yo=("sep",), pret="sup", fut="sabr", over={"indicative.present": {"1s": ("sé",)}}),
    "querer": VerbSpec(change="ie", pret="quis", fut="querr"),
    "poder": VerbSpec(change="ue", pret="pud", fut="podr", ger="pudiendo"),
    "andar": VerbSpec(pret="anduv"),
    "desandar": VerbSpec(pret="desanduv"),
    "tener": VerbSpec(change="ie", yo=("teng",), pret="tuv", fut="tendr", imp2s=("ten",)),
    "venir": VerbSpec(change="ie-i", yo=("veng",), pret="vin", fut="vendr", imp2s=("ven",)),
    "poner": VerbSpec(yo=("pong",), pret="pus", fut="pondr", imp2s=("pon",), part=("puesto",)),
    "hacer": VerbSpec(yo=("hag",), pret="hic", fut="har", imp2s=("haz",), part=("hecho",)),
    "satisfacer": VerbSpec(
        yo=("satisfag",),
        pret="satisfic",
        fut="satisfar",
        imp2s=("satisfaz", "satisface"),
        part=("satisfecho",),
    ),
    "decir": VerbSpec(change="i", yo=("dig",), pret="dij", fut="dir", imp2s=("di",), part=("dicho",)),
    "traer": VerbSpec(yo=("traig",), pret="traj"),
    "caer": VerbSpec(yo=("caig",)),
    "oír": VerbSpec(yo=("oig",)),
    "reír": VerbSpec(change="i", ger="riendo", imp2s=("ríe",), over=_REIR_OVER),
    "salir": VerbSpec(yo=("salg",), fut="saldr", imp2s=("sal",)),
    "valer": VerbSpec(yo=("valg",), fut="valdr", imp2s=("vale", "val")),
    "yacer": VerbSpec(yo=("yazc", "yazg", "yag"), imp2s=("yace", "yaz")),
    "asir": VerbSpec(yo=("asg",)),
    "roer": VerbSpec(yo=("ro", "roig", "roy")),
    "erguir": VerbSpec(
        imp2s=("irgue", "yergue"),
        ger="irguiendo",
        over={
            "indicative.present": {
                **_row(
                    ("irgo", "yergo"),
                    ("irgues", "yergues"),
                    ("irgue", "yergue"),
                    "erguimos",
                    "erguís",
                    ("irguen", "yerguen"),
                ),
                "vos": ("erguís",),
            },
            "indicative.preterite": _row(
                "erguí", "erguiste", "irguió", "erguimos", "erguisteis", "irguieron"
            ),
            "subjunctive.present": {
                **_row(
                    ("irga", "yerga"),
                    ("irgas", "yergas"),
                    ("irga", "yerga"),
                    "irgamos",
                    "irgáis",
                    ("irgan", "yergan"),
                ),
                "vos": ("irgas", "yergas", "irgás"),
            },
        },
    ),
    "pudrir": VerbSpec(part=("podrido",), infinitive=("pudrir", "podrir")),
    "placer": VerbSpec(
        over={
            "indicative.preterite": {"3s": ("plació", "plugo"), "3p": ("placieron", "pluguieron")},
        },
    ),
    "proveer": VerbSpec(part=("provisto", "proveído"), compound_part=("provisto", "proveído")),
    "imprimir": VerbSpec(part=("impreso", "imprimido"), compound_part=("impreso", "imprimido")),
    "abrir": VerbSpec(part=("abierto",)),
    "entreabrir": VerbSpec(part=("entreabierto",)),
    "reabrir": VerbSpec(part=("reabierto",)),
    "romper": VerbSpec(part=("roto",)),
    "morir": VerbSpec(change="ue-u", part=("muerto",)),
    "volver": VerbSpec(change="ue", part=("vuelto",)),
    "resolver": VerbSpec(change="ue", part=("resuelto",)),
    "disolver": VerbSpec(change="ue", part=("disuelto",)),
    "absolver": VerbSpec(change="ue", part=("absuelto",)),
    "soler": VerbSpec(
        change="ue",
        missing_tenses=frozenset(
            {
                "indicative.future",
                "conditional.present",
                "imperative.affirmative",
                "imperative.negative",
                "indicative.future_perfect",
                "conditional.perfect",
            }
        ),
    ),
    "oler": VerbSpec(change="o-hue"),
    "jugar": VerbSpec(change="u-ue"),
    "adquirir": VerbSpec(change="i-ie"),
    "inquirir": VerbSpec(change="i-ie"),
    "errar": VerbSpec(change="e-ye"),
    "argüir": VerbSpec(),
}

# Verbs conjugated on a base (prefix + base), with their own departures.
_BENDECIR = VerbSpec(
    imp2s=("bendice",),
    part=("bendecido", "bendito"),
    compound_part=("bendecido",),
)
DERIVED: dict[str, Derived] = {
    "prever": Derived("pre", "ver"),
    "entrever": Derived("entre", "ver"),
    "rever": Derived("re", "ver"),
    "freír": Derived("f", "reír", spec=VerbSpec(part=("frito", "freído"), compound_part=("frito", "freído"))),
    "sofreír": Derived("sof", "reír", spec=VerbSpec(part=("sofrito", "sofreído"))),
    "predecir": Derived(
        "pre",
        "decir",
        spec=VerbSpec(
            imp2s=("predice",),
            over={
                "indicative.future": _row(
                    ("predeciré", "prediré"),
                    ("predecirás", "predirás"),
                    ("predecirá", "predirá"),
                    ("predeciremos", "prediremos"),
                    ("predeciréis", "prediréis"),
                    ("predecirán", "predirán"),
                ),
                "conditional.present": _row(
                    ("predeciría", "prediría"),
                    ("predecirías", "predirías"),
                    ("predeciría", "prediría"),
                    ("predeciríamos", "prediríamos"),
                    ("predeciríais", "prediríais"),
                    ("predecirían", "predirían"),
                ),
            },
        ),
    ),
    "contradecir": Derived("contra", "decir", spec=VerbSpec(imp2s=("contradice",))),
    "desdecir": Derived("des", "decir", spec=VerbSpec(imp2s=("desdice",))),
    "bendecir": Derived("ben", "decir", regular_future=True, spec=_BENDECIR),
    "maldecir": Derived(
        "mal",
        "decir",
        regular_future=True,
        spec=VerbSpec(imp2s=("maldice",), part=("maldecido", "maldito"), compound_part=("maldecido",)),
    ),
}

# Suffix families: any verb ending in one of these bases is prefix + base (detener, componer...).
FAMILIES: tuple[str, ...] = (
    "tener",
    "venir",
    "poner",
    "traer",
    "hacer",
    "salir",
    "valer",
    "caer",
    "oír",
    "reír",
    "volver",
    "mover",
    "seguir",
    "pedir",
    "sentir",
    "mentir",
    "vestir",
    "servir",
    "dormir",
    "morir",
    "medir",
    "probar",
    "mostrar",
    "torcer",
    "cocer",
)

# Pattern families that only set a stem change (no base verb to prefix).
SUFFIX_CHANGES: tuple[tuple[str, str], ...] = (
    ("ferir", "ie-i"),
    ("vertir", "ie-i"),
    ("gerir", "ie-i"),
    ("quirir", "i-ie"),
    ("solver", "ue"),
    ("petir", "i"),
    ("cordar", "ue"),
)
# Irregular participles by ending: (ending, replacement for the whole ending).
SUFFIX_PARTICIPLES: tuple[tuple[str, str], ...] = (
    ("scribir", "scrito"),
    ("cubrir", "cubierto"),
    ("solver", "suelto"),
)

ALIASES = {"podrir": "pudrir", "reir": "reír", "oir": "oír", "freir": "freír", "sonreir": "sonreír"}
