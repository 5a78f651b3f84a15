"""Conjugation: full paradigms of the trap verbs, regular models, stem and spelling changes,
accents, voseo, pronominal and compound forms (checked against the RAE's tables)."""

from __future__ import annotations

from typing import Any

import pytest

from espaluz.spanish.conjugation import TENSES, conjugate, conjugate_form, conjugate_table

P6 = ("1s", "2s", "3s", "1p", "2p", "3p")


def six(verb: str, tense: str) -> list[Any]:
    forms = conjugate(verb)["forms"][tense]
    return [forms.get(p) for p in P6]


def test_json_shape_of_regular_verb() -> None:
    data = conjugate("hablar")
    assert set(data) == {"verb", "forms", "nonfinite"}
    assert data["verb"] == "hablar"
    assert list(data["forms"]) == list(TENSES)
    assert data["nonfinite"] == {"infinitive": "hablar", "gerund": "hablando", "participle": "hablado"}
    assert set(data["forms"]["imperative.affirmative"]) == {"2s", "3s", "1p", "2p", "3p", "vos"}
    assert "vos" not in data["forms"]["indicative.preterite"]


@pytest.mark.parametrize(
    ("verb", "tense", "expected"),
    [
        ("hablar", "indicative.present", ["hablo", "hablas", "habla", "hablamos", "habláis", "hablan"]),
        (
            "hablar",
            "indicative.preterite",
            ["hablé", "hablaste", "habló", "hablamos", "hablasteis", "hablaron"],
        ),
        (
            "hablar",
            "indicative.imperfect",
            ["hablaba", "hablabas", "hablaba", "hablábamos", "hablabais", "hablaban"],
        ),
        ("comer", "indicative.future", ["comeré", "comerás", "comerá", "comeremos", "comeréis", "comerán"]),
        (
            "comer",
            "conditional.present",
            ["comería", "comerías", "comería", "comeríamos", "comeríais", "comerían"],
        ),
        ("vivir", "indicative.present", ["vivo", "vives", "vive", "vivimos", "vivís", "viven"]),
        ("vivir", "subjunctive.present", ["viva", "vivas", "viva", "vivamos", "viváis", "vivan"]),
        (
            "vivir",
            "subjunctive.future",
            ["viviere", "vivieres", "viviere", "viviéremos", "viviereis", "vivieren"],
        ),
        (
            "hablar",
            "subjunctive.imperfect",
            [
                ["hablara", "hablase"],
                ["hablaras", "hablases"],
                ["hablara", "hablase"],
                ["habláramos", "hablásemos"],
                ["hablarais", "hablaseis"],
                ["hablaran", "hablasen"],
            ],
        ),
        (
            "comer",
            "indicative.present_perfect",
            ["he comido", "has comido", "ha comido", "hemos comido", "habéis comido", "han comido"],
        ),
        (
            "comer",
            "indicative.pluperfect",
            [
                "había comido",
                "habías comido",
                "había comido",
                "habíamos comido",
                "habíais comido",
                "habían comido",
            ],
        ),
        (
            "vivir",
            "indicative.future_perfect",
            [
                "habré vivido",
                "habrás vivido",
                "habrá vivido",
                "habremos vivido",
                "habréis vivido",
                "habrán vivido",
            ],
        ),
        (
            "vivir",
            "indicative.past_anterior",
            [
                "hube vivido",
                "hubiste vivido",
                "hubo vivido",
                "hubimos vivido",
                "hubisteis vivido",
                "hubieron vivido",
            ],
        ),
        (
            "hablar",
            "conditional.perfect",
            [
                "habría hablado",
                "habrías hablado",
                "habría hablado",
                "habríamos hablado",
                "habríais hablado",
                "habrían hablado",
            ],
        ),
        (
            "hablar",
            "subjunctive.present_perfect",
            [
                "haya hablado",
                "hayas hablado",
                "haya hablado",
                "hayamos hablado",
                "hayáis hablado",
                "hayan hablado",
            ],
        ),
        (
            "hablar",
            "subjunctive.future_perfect",
            [
                "hubiere hablado",
                "hubieres hablado",
                "hubiere hablado",
                "hubiéremos hablado",
                "hubiereis hablado",
                "hubieren hablado",
            ],
        ),
    ],
)
def test_regular_models(verb: str, tense: str, expected: list[Any]) -> None:
    assert six(verb, tense) == expected


def test_subjunctive_pluperfect_lists_ra_and_se() -> None:
    assert conjugate("comer")["forms"]["subjunctive.pluperfect"]["1s"] == ["hubiera comido", "hubiese comido"]


PARADIGMS: list[tuple[str, str, list[Any]]] = [
    # ser, ir, estar, haber, dar, ver
    ("ser", "indicative.present", ["soy", "eres", "es", "somos", "sois", "son"]),
    ("ser", "indicative.imperfect", ["era", "eras", "era", "éramos", "erais", "eran"]),
    ("ir", "indicative.present", ["voy", "vas", "va", "vamos", "vais", "van"]),
    ("ir", "indicative.preterite", ["fui", "fuiste", "fue", "fuimos", "fuisteis", "fueron"]),
    ("ir", "indicative.imperfect", ["iba", "ibas", "iba", "íbamos", "ibais", "iban"]),
    ("ir", "subjunctive.present", ["vaya", "vayas", "vaya", "vayamos", "vayáis", "vayan"]),
    (
        "estar",
        "indicative.preterite",
        ["estuve", "estuviste", "estuvo", "estuvimos", "estuvisteis", "estuvieron"],
    ),
    ("estar", "subjunctive.present", ["esté", "estés", "esté", "estemos", "estéis", "estén"]),
    ("haber", "indicative.preterite", ["hube", "hubiste", "hubo", "hubimos", "hubisteis", "hubieron"]),
    ("dar", "indicative.present", ["doy", "das", "da", "damos", "dais", "dan"]),
    ("dar", "indicative.preterite", ["di", "diste", "dio", "dimos", "disteis", "dieron"]),
    ("dar", "subjunctive.present", ["dé", "des", "dé", "demos", "deis", "den"]),
    ("ver", "indicative.present", ["veo", "ves", "ve", "vemos", "veis", "ven"]),
    ("ver", "indicative.preterite", ["vi", "viste", "vio", "vimos", "visteis", "vieron"]),
    ("ver", "indicative.imperfect", ["veía", "veías", "veía", "veíamos", "veíais", "veían"]),
    # prever follows ver, with the accents a longer word needs
    ("prever", "indicative.present", ["preveo", "prevés", "prevé", "prevemos", "prevéis", "prevén"]),
    (
        "prever",
        "indicative.preterite",
        ["preví", "previste", "previó", "previmos", "previsteis", "previeron"],
    ),
    (
        "prever",
        "indicative.future",
        ["preveré", "preverás", "preverá", "preveremos", "preveréis", "preverán"],
    ),
    # reír and family (2010 orthography: rio, frio without accent)
    ("reír", "indicative.present", ["río", "ríes", "ríe", "reímos", "reís", "ríen"]),
    ("reír", "indicative.preterite", ["reí", "reíste", "rio", "reímos", "reísteis", "rieron"]),
    ("reír", "subjunctive.present", ["ría", "rías", "ría", "riamos", "riais", "rían"]),
    (
        "sonreír",
        "indicative.preterite",
        ["sonreí", "sonreíste", "sonrió", "sonreímos", "sonreísteis", "sonrieron"],
    ),
    ("sonreír", "subjunctive.present", ["sonría", "sonrías", "sonría", "sonriamos", "sonriáis", "sonrían"]),
    ("freír", "indicative.present", ["frío", "fríes", "fríe", "freímos", "freís", "fríen"]),
    ("freír", "indicative.preterite", ["freí", "freíste", "frio", "freímos", "freísteis", "frieron"]),
    # oír, caer, traer, leer: y between vowels, accents on í
    ("oír", "indicative.present", ["oigo", "oyes", "oye", "oímos", "oís", "oyen"]),
    ("oír", "indicative.preterite", ["oí", "oíste", "oyó", "oímos", "oísteis", "oyeron"]),
    ("caer", "indicative.preterite", ["caí", "caíste", "cayó", "caímos", "caísteis", "cayeron"]),
    ("traer", "indicative.preterite", ["traje", "trajiste", "trajo", "trajimos", "trajisteis", "trajeron"]),
    ("leer", "indicative.preterite", ["leí", "leíste", "leyó", "leímos", "leísteis", "leyeron"]),
    ("roer", "indicative.present", [["roo", "roigo", "royo"], "roes", "roe", "roemos", "roéis", "roen"]),
    ("roer", "indicative.preterite", ["roí", "roíste", "royó", "roímos", "roísteis", "royeron"]),
    (
        "proveer",
        "indicative.preterite",
        ["proveí", "proveíste", "proveyó", "proveímos", "proveísteis", "proveyeron"],
    ),
    # -uir
    (
        "construir",
        "indicative.present",
        ["construyo", "construyes", "construye", "construimos", "construís", "construyen"],
    ),
    (
        "construir",
        "indicative.preterite",
        ["construí", "construiste", "construyó", "construimos", "construisteis", "construyeron"],
    ),
    ("huir", "indicative.present", ["huyo", "huyes", "huye", "huimos", "huis", "huyen"]),
    ("huir", "indicative.preterite", ["hui", "huiste", "huyó", "huimos", "huisteis", "huyeron"]),
    # yacer, erguir, asir, podrir, abolir, caber, saber, placer
    (
        "yacer",
        "indicative.present",
        [["yazco", "yazgo", "yago"], "yaces", "yace", "yacemos", "yacéis", "yacen"],
    ),
    (
        "yacer",
        "subjunctive.present",
        [
            ["yazca", "yazga", "yaga"],
            ["yazcas", "yazgas", "yagas"],
            ["yazca", "yazga", "yaga"],
            ["yazcamos", "yazgamos", "yagamos"],
            ["yazcáis", "yazgáis", "yagáis"],
            ["yazcan", "yazgan", "yagan"],
        ],
    ),
    (
        "erguir",
        "indicative.present",
        [
            ["irgo", "yergo"],
            ["irgues", "yergues"],
            ["irgue", "yergue"],
            "erguimos",
            "erguís",
            ["irguen", "yerguen"],
        ],
    ),
    (
        "erguir",
        "indicative.preterite",
        ["erguí", "erguiste", "irguió", "erguimos", "erguisteis", "irguieron"],
    ),
    (
        "erguir",
        "subjunctive.present",
        [["irga", "yerga"], ["irgas", "yergas"], ["irga", "yerga"], "irgamos", "irgáis", ["irgan", "yergan"]],
    ),
    ("asir", "indicative.present", ["asgo", "ases", "ase", "asimos", "asís", "asen"]),
    ("asir", "subjunctive.present", ["asga", "asgas", "asga", "asgamos", "asgáis", "asgan"]),
    ("podrir", "indicative.present", ["pudro", "pudres", "pudre", "pudrimos", "pudrís", "pudren"]),
    (
        "podrir",
        "indicative.preterite",
        ["pudrí", "pudriste", "pudrió", "pudrimos", "pudristeis", "pudrieron"],
    ),
    ("abolir", "indicative.present", ["abolo", "aboles", "abole", "abolimos", "abolís", "abolen"]),
    ("caber", "indicative.present", ["quepo", "cabes", "cabe", "cabemos", "cabéis", "caben"]),
    ("caber", "indicative.preterite", ["cupe", "cupiste", "cupo", "cupimos", "cupisteis", "cupieron"]),
    ("caber", "indicative.future", ["cabré", "cabrás", "cabrá", "cabremos", "cabréis", "cabrán"]),
    ("saber", "indicative.present", ["sé", "sabes", "sabe", "sabemos", "sabéis", "saben"]),
    ("saber", "subjunctive.present", ["sepa", "sepas", "sepa", "sepamos", "sepáis", "sepan"]),
    ("querer", "indicative.preterite", ["quise", "quisiste", "quiso", "quisimos", "quisisteis", "quisieron"]),
    ("querer", "indicative.future", ["querré", "querrás", "querrá", "querremos", "querréis", "querrán"]),
    ("poder", "indicative.present", ["puedo", "puedes", "puede", "podemos", "podéis", "pueden"]),
    (
        "andar",
        "indicative.preterite",
        ["anduve", "anduviste", "anduvo", "anduvimos", "anduvisteis", "anduvieron"],
    ),
    ("valer", "indicative.present", ["valgo", "vales", "vale", "valemos", "valéis", "valen"]),
    ("valer", "indicative.future", ["valdré", "valdrás", "valdrá", "valdremos", "valdréis", "valdrán"]),
    ("salir", "indicative.future", ["saldré", "saldrás", "saldrá", "saldremos", "saldréis", "saldrán"]),
    ("placer", "indicative.present", ["plazco", "places", "place", "placemos", "placéis", "placen"]),
    # tener, hacer, decir, poner, venir and derived verbs
    ("tener", "indicative.present", ["tengo", "tienes", "tiene", "tenemos", "tenéis", "tienen"]),
    (
        "detener",
        "indicative.preterite",
        ["detuve", "detuviste", "detuvo", "detuvimos", "detuvisteis", "detuvieron"],
    ),
    (
        "contener",
        "indicative.future",
        ["contendré", "contendrás", "contendrá", "contendremos", "contendréis", "contendrán"],
    ),
    (
        "obtener",
        "indicative.present",
        ["obtengo", "obtienes", "obtiene", "obtenemos", "obtenéis", "obtienen"],
    ),
    ("hacer", "indicative.preterite", ["hice", "hiciste", "hizo", "hicimos", "hicisteis", "hicieron"]),
    (
        "deshacer",
        "indicative.future",
        ["desharé", "desharás", "deshará", "desharemos", "desharéis", "desharán"],
    ),
    (
        "satisfacer",
        "indicative.present",
        ["satisfago", "satisfaces", "satisface", "satisfacemos", "satisfacéis", "satisfacen"],
    ),
    (
        "satisfacer",
        "indicative.preterite",
        ["satisfice", "satisficiste", "satisfizo", "satisficimos", "satisficisteis", "satisficieron"],
    ),
    (
        "satisfacer",
        "indicative.future",
        ["satisfaré", "satisfarás", "satisfará", "satisfaremos", "satisfaréis", "satisfarán"],
    ),
    ("decir", "indicative.present", ["digo", "dices", "dice", "decimos", "decís", "dicen"]),
    ("decir", "indicative.preterite", ["dije", "dijiste", "dijo", "dijimos", "dijisteis", "dijeron"]),
    ("decir", "indicative.future", ["diré", "dirás", "dirá", "diremos", "diréis", "dirán"]),
    (
        "bendecir",
        "indicative.future",
        ["bendeciré", "bendecirás", "bendecirá", "bendeciremos", "bendeciréis", "bendecirán"],
    ),
    (
        "bendecir",
        "indicative.preterite",
        ["bendije", "bendijiste", "bendijo", "bendijimos", "bendijisteis", "bendijeron"],
    ),
    (
        "maldecir",
        "conditional.present",
        ["maldeciría", "maldecirías", "maldeciría", "maldeciríamos", "maldeciríais", "maldecirían"],
    ),
    (
        "predecir",
        "indicative.present",
        ["predigo", "predices", "predice", "predecimos", "predecís", "predicen"],
    ),
    ("poner", "indicative.preterite", ["puse", "pusiste", "puso", "pusimos", "pusisteis", "pusieron"]),
    ("suponer", "indicative.present", ["supongo", "supones", "supone", "suponemos", "suponéis", "suponen"]),
    (
        "componer",
        "indicative.future",
        ["compondré", "compondrás", "compondrá", "compondremos", "compondréis", "compondrán"],
    ),
    ("venir", "indicative.present", ["vengo", "vienes", "viene", "venimos", "venís", "vienen"]),
    (
        "prevenir",
        "indicative.preterite",
        ["previne", "previniste", "previno", "previnimos", "previnisteis", "previnieron"],
    ),
    (
        "convenir",
        "indicative.present",
        ["convengo", "convienes", "conviene", "convenimos", "convenís", "convienen"],
    ),
    ("atraer", "indicative.present", ["atraigo", "atraes", "atrae", "atraemos", "atraéis", "atraen"]),
    (
        "conducir",
        "indicative.present",
        ["conduzco", "conduces", "conduce", "conducimos", "conducís", "conducen"],
    ),
    (
        "traducir",
        "indicative.preterite",
        ["traduje", "tradujiste", "tradujo", "tradujimos", "tradujisteis", "tradujeron"],
    ),
    (
        "producir",
        "subjunctive.present",
        ["produzca", "produzcas", "produzca", "produzcamos", "produzcáis", "produzcan"],
    ),
    # stem changes
    ("pensar", "indicative.present", ["pienso", "piensas", "piensa", "pensamos", "pensáis", "piensan"]),
    ("contar", "subjunctive.present", ["cuente", "cuentes", "cuente", "contemos", "contéis", "cuenten"]),
    ("pedir", "indicative.preterite", ["pedí", "pediste", "pidió", "pedimos", "pedisteis", "pidieron"]),
    ("pedir", "subjunctive.present", ["pida", "pidas", "pida", "pidamos", "pidáis", "pidan"]),
    ("sentir", "subjunctive.present", ["sienta", "sientas", "sienta", "sintamos", "sintáis", "sientan"]),
    (
        "dormir",
        "indicative.preterite",
        ["dormí", "dormiste", "durmió", "dormimos", "dormisteis", "durmieron"],
    ),
    ("morir", "subjunctive.present", ["muera", "mueras", "muera", "muramos", "muráis", "mueran"]),
    ("jugar", "indicative.present", ["juego", "juegas", "juega", "jugamos", "jugáis", "juegan"]),
    ("jugar", "subjunctive.present", ["juegue", "juegues", "juegue", "juguemos", "juguéis", "jueguen"]),
    (
        "adquirir",
        "indicative.present",
        ["adquiero", "adquieres", "adquiere", "adquirimos", "adquirís", "adquieren"],
    ),
    ("oler", "indicative.present", ["huelo", "hueles", "huele", "olemos", "oléis", "huelen"]),
    ("errar", "indicative.present", ["yerro", "yerras", "yerra", "erramos", "erráis", "yerran"]),
    ("seguir", "indicative.present", ["sigo", "sigues", "sigue", "seguimos", "seguís", "siguen"]),
    (
        "seguir",
        "indicative.preterite",
        ["seguí", "seguiste", "siguió", "seguimos", "seguisteis", "siguieron"],
    ),
    ("elegir", "indicative.present", ["elijo", "eliges", "elige", "elegimos", "elegís", "eligen"]),
    ("reñir", "indicative.preterite", ["reñí", "reñiste", "riñó", "reñimos", "reñisteis", "riñeron"]),
    (
        "avergonzar",
        "indicative.present",
        ["avergüenzo", "avergüenzas", "avergüenza", "avergonzamos", "avergonzáis", "avergüenzan"],
    ),
    ("volver", "indicative.present", ["vuelvo", "vuelves", "vuelve", "volvemos", "volvéis", "vuelven"]),
    ("cocer", "indicative.present", ["cuezo", "cueces", "cuece", "cocemos", "cocéis", "cuecen"]),
    # spelling changes
    ("buscar", "indicative.preterite", ["busqué", "buscaste", "buscó", "buscamos", "buscasteis", "buscaron"]),
    ("llegar", "subjunctive.present", ["llegue", "llegues", "llegue", "lleguemos", "lleguéis", "lleguen"]),
    (
        "empezar",
        "indicative.preterite",
        ["empecé", "empezaste", "empezó", "empezamos", "empezasteis", "empezaron"],
    ),
    (
        "averiguar",
        "subjunctive.present",
        ["averigüe", "averigües", "averigüe", "averigüemos", "averigüéis", "averigüen"],
    ),
    ("coger", "indicative.present", ["cojo", "coges", "coge", "cogemos", "cogéis", "cogen"]),
    ("dirigir", "subjunctive.present", ["dirija", "dirijas", "dirija", "dirijamos", "dirijáis", "dirijan"]),
    (
        "distinguir",
        "indicative.present",
        ["distingo", "distingues", "distingue", "distinguimos", "distinguís", "distinguen"],
    ),
    ("vencer", "indicative.present", ["venzo", "vences", "vence", "vencemos", "vencéis", "vencen"]),
    ("conocer", "indicative.present", ["conozco", "conoces", "conoce", "conocemos", "conocéis", "conocen"]),
    (
        "delinquir",
        "indicative.present",
        ["delinco", "delinques", "delinque", "delinquimos", "delinquís", "delinquen"],
    ),
    # written accents on the stem
    ("enviar", "indicative.present", ["envío", "envías", "envía", "enviamos", "enviáis", "envían"]),
    (
        "continuar",
        "indicative.present",
        ["continúo", "continúas", "continúa", "continuamos", "continuáis", "continúan"],
    ),
    ("reunir", "indicative.present", ["reúno", "reúnes", "reúne", "reunimos", "reunís", "reúnen"]),
    (
        "prohibir",
        "indicative.present",
        ["prohíbo", "prohíbes", "prohíbe", "prohibimos", "prohibís", "prohíben"],
    ),
    ("aislar", "subjunctive.present", ["aísle", "aísles", "aísle", "aislemos", "aisléis", "aíslen"]),
    (
        "estudiar",
        "indicative.present",
        ["estudio", "estudias", "estudia", "estudiamos", "estudiáis", "estudian"],
    ),
    ("guiar", "indicative.preterite", ["guie", "guiaste", "guio", "guiamos", "guiasteis", "guiaron"]),
    ("actuar", "subjunctive.present", ["actúe", "actúes", "actúe", "actuemos", "actuéis", "actúen"]),
]


@pytest.mark.parametrize(("verb", "tense", "expected"), PARADIGMS)
def test_paradigm(verb: str, tense: str, expected: list[Any]) -> None:
    assert six(verb, tense) == expected


@pytest.mark.parametrize(
    ("verb", "gerund", "participle"),
    [
        ("ir", "yendo", "ido"),
        ("oír", "oyendo", "oído"),
        ("reír", "riendo", "reído"),
        ("leer", "leyendo", "leído"),
        ("prever", "previendo", "previsto"),
        ("construir", "construyendo", "construido"),
        ("decir", "diciendo", "dicho"),
        ("poder", "pudiendo", "podido"),
        ("venir", "viniendo", "venido"),
        ("dormir", "durmiendo", "dormido"),
        ("podrir", "pudriendo", "podrido"),
        ("pudrir", "pudriendo", "podrido"),
        ("erguir", "irguiendo", "erguido"),
        ("abrir", "abriendo", "abierto"),
        ("escribir", "escribiendo", "escrito"),
        ("describir", "describiendo", "descrito"),
        ("descubrir", "descubriendo", "descubierto"),
        ("resolver", "resolviendo", "resuelto"),
        ("devolver", "devolviendo", "devuelto"),
        ("romper", "rompiendo", "roto"),
        ("morir", "muriendo", "muerto"),
        ("satisfacer", "satisfaciendo", "satisfecho"),
        ("predecir", "prediciendo", "predicho"),
        ("suponer", "suponiendo", "supuesto"),
        ("imprimir", "imprimiendo", ["impreso", "imprimido"]),
        ("freír", "friendo", ["frito", "freído"]),
        ("proveer", "proveyendo", ["provisto", "proveído"]),
        ("bendecir", "bendiciendo", ["bendecido", "bendito"]),
        ("teñir", "tiñendo", "teñido"),
    ],
)
def test_nonfinite(verb: str, gerund: str, participle: Any) -> None:
    nf = conjugate(verb)["nonfinite"]
    assert nf["gerund"] == gerund
    assert nf["participle"] == participle


def test_podrir_has_both_infinitives() -> None:
    assert conjugate("podrir")["nonfinite"]["infinitive"] == ["pudrir", "podrir"]


def test_double_participles_in_compound_tenses() -> None:
    assert conjugate_form("imprimir", "indicative.present_perfect", "1s") == "he impreso"
    assert conjugate("imprimir")["forms"]["indicative.present_perfect"]["1s"] == [
        "he impreso",
        "he imprimido",
    ]
    assert conjugate("freír")["forms"]["indicative.present_perfect"]["3s"] == ["ha frito", "ha freído"]
    # bendito is adjectival only: compound tenses use bendecido
    assert conjugate("bendecir")["forms"]["indicative.present_perfect"]["3p"] == "han bendecido"


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("hablar", ["habla", "hable", "hablemos", "hablad", "hablen", "hablá"]),
        ("tener", ["ten", "tenga", "tengamos", "tened", "tengan", "tené"]),
        ("vivir", ["vive", "viva", "vivamos", "vivid", "vivan", "viví"]),
        ("andar", ["anda", "ande", "andemos", "andad", "anden", "andá"]),
        ("hacer", ["haz", "haga", "hagamos", "haced", "hagan", "hacé"]),
        ("decir", ["di", "diga", "digamos", "decid", "digan", "decí"]),
        ("poner", ["pon", "ponga", "pongamos", "poned", "pongan", "poné"]),
        ("salir", ["sal", "salga", "salgamos", "salid", "salgan", "salí"]),
        ("venir", ["ven", "venga", "vengamos", "venid", "vengan", "vení"]),
        ("ser", ["sé", "sea", "seamos", "sed", "sean", "sé"]),
        ("ir", ["ve", "vaya", ["vamos", "vayamos"], "id", "vayan", "andá"]),
        ("detener", ["detén", "detenga", "detengamos", "detened", "detengan", "detené"]),
        ("mantener", ["mantén", "mantenga", "mantengamos", "mantened", "mantengan", "mantené"]),
        ("componer", ["compón", "componga", "compongamos", "componed", "compongan", "componé"]),
        ("prevenir", ["prevén", "prevenga", "prevengamos", "prevenid", "prevengan", "prevení"]),
        ("prever", ["prevé", "prevea", "preveamos", "preved", "prevean", "prevé"]),
        ("deshacer", ["deshaz", "deshaga", "deshagamos", "deshaced", "deshagan", "deshacé"]),
        (
            "satisfacer",
            [["satisfaz", "satisface"], "satisfaga", "satisfagamos", "satisfaced", "satisfagan", "satisfacé"],
        ),
        ("predecir", ["predice", "prediga", "predigamos", "predecid", "predigan", "predecí"]),
        ("bendecir", ["bendice", "bendiga", "bendigamos", "bendecid", "bendigan", "bendecí"]),
        ("oír", ["oye", "oiga", "oigamos", "oíd", "oigan", "oí"]),
        ("reír", ["ríe", "ría", "riamos", "reíd", "rían", "reí"]),
        ("enviar", ["envía", "envíe", "enviemos", "enviad", "envíen", "enviá"]),
        (
            "yacer",
            [
                ["yace", "yaz"],
                ["yazca", "yazga", "yaga"],
                ["yazcamos", "yazgamos", "yagamos"],
                "yaced",
                ["yazcan", "yazgan", "yagan"],
                "yacé",
            ],
        ),
    ],
)
def test_imperative_affirmative(verb: str, expected: list[Any]) -> None:
    imp = conjugate(verb)["forms"]["imperative.affirmative"]
    assert [imp[p] for p in ("2s", "3s", "1p", "2p", "3p", "vos")] == expected


def test_imperative_negative() -> None:
    neg = conjugate("hablar")["forms"]["imperative.negative"]
    assert neg["2s"] == "no hables"
    assert neg["2p"] == "no habléis"
    assert neg["vos"] == ["no hables", "no hablés"]
    assert conjugate("decir")["forms"]["imperative.negative"]["2s"] == "no digas"
    assert conjugate("ir")["forms"]["imperative.negative"]["1p"] == "no vayamos"


@pytest.mark.parametrize(
    ("verb", "present", "subjunctive_vos"),
    [
        ("hablar", "hablás", ["hables", "hablés"]),
        ("tener", "tenés", ["tengas", "tengás"]),
        ("vivir", "vivís", ["vivas", "vivás"]),
        ("ser", "sos", ["seas", "seás"]),
        ("poder", "podés", ["puedas", "podás"]),
        ("dormir", "dormís", ["duermas", "durmás"]),
        ("pensar", "pensás", ["pienses", "pensés"]),
        ("prever", "prevés", ["preveas", "preveás"]),
        ("estar", "estás", "estés"),
        ("ir", "vas", ["vayas", "vayás"]),
    ],
)
def test_voseo(verb: str, present: str, subjunctive_vos: Any) -> None:
    forms = conjugate(verb)["forms"]
    assert forms["indicative.present"]["vos"] == present
    assert forms["subjunctive.present"]["vos"] == subjunctive_vos


def test_vos_falls_back_to_tu_form_where_it_has_none() -> None:
    assert conjugate_form("tener", "indicative.preterite", "vos") == "tuviste"
    assert conjugate_form("tener", "indicative.present", "vos") == "tenés"


def test_pronominal_levantarse() -> None:
    forms = conjugate("levantarse")["forms"]
    assert [forms["indicative.present"][p] for p in P6] == [
        "me levanto",
        "te levantas",
        "se levanta",
        "nos levantamos",
        "os levantáis",
        "se levantan",
    ]
    assert forms["indicative.present"]["vos"] == "te levantás"
    assert forms["indicative.present_perfect"]["1s"] == "me he levantado"
    assert forms["subjunctive.imperfect"]["1p"] == ["nos levantáramos", "nos levantásemos"]
    imp = forms["imperative.affirmative"]
    assert [imp[p] for p in ("2s", "3s", "1p", "2p", "3p", "vos")] == [
        "levántate",
        "levántese",
        "levantémonos",
        "levantaos",
        "levántense",
        "levantate",
    ]
    neg = forms["imperative.negative"]
    assert [neg[p] for p in ("2s", "3s", "1p", "2p", "3p")] == [
        "no te levantes",
        "no se levante",
        "no nos levantemos",
        "no os levantéis",
        "no se levanten",
    ]
    nf = conjugate("levantarse")["nonfinite"]
    assert nf == {"infinitive": "levantarse", "gerund": "levantándose", "participle": "levantado"}


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("irse", ["vete", "váyase", ["vámonos", "vayámonos"], "idos", "váyanse"]),
        ("vestirse", ["vístete", "vístase", "vistámonos", "vestíos", "vístanse"]),
        ("ponerse", ["ponte", "póngase", "pongámonos", "poneos", "pónganse"]),
        ("sentarse", ["siéntate", "siéntese", "sentémonos", "sentaos", "siéntense"]),
        ("reírse", ["ríete", "ríase", "riámonos", "reíos", "ríanse"]),
        ("detenerse", ["detente", "deténgase", "detengámonos", "deteneos", "deténganse"]),
    ],
)
def test_pronominal_imperatives(verb: str, expected: list[Any]) -> None:
    imp = conjugate(verb)["forms"]["imperative.affirmative"]
    assert [imp[p] for p in ("2s", "3s", "1p", "2p", "3p")] == expected


def test_weather_verbs_keep_only_third_persons() -> None:
    forms = conjugate("llover")["forms"]
    assert forms["indicative.present"] == {"3s": "llueve", "3p": "llueven"}
    assert forms["indicative.present_perfect"] == {"3s": "ha llovido", "3p": "han llovido"}
    assert forms["imperative.affirmative"] == {}
    assert conjugate("nevar")["forms"]["subjunctive.present"] == {"3s": "nieve", "3p": "nieven"}
    with pytest.raises(ValueError, match=r"no indicative\.present"):
        conjugate_form("nevar", "indicative.present", "1s")


def test_soler_is_defective() -> None:
    forms = conjugate("soler")["forms"]
    assert forms["indicative.future"] == {}
    assert forms["indicative.present"]["1s"] == "suelo"


@pytest.mark.parametrize(
    ("verb", "tense", "person", "expected"),
    [
        ("tropicalizar", "indicative.preterite", "1s", "tropicalicé"),
        ("zarandear", "indicative.preterite", "3s", "zarandeó"),
        ("embarcar", "indicative.preterite", "1s", "embarqué"),
        ("despistar", "subjunctive.present", "3p", "despisten"),
        ("enmascarar", "imperative.affirmative", "vos", "enmascará"),
        ("fluir", "indicative.present", "3p", "fluyen"),
        ("reconocer", "indicative.present", "1s", "reconozco"),
        ("reproducir", "indicative.preterite", "3p", "reprodujeron"),
        ("recomponer", "indicative.preterite", "1s", "recompuse"),
        ("entretener", "imperative.affirmative", "2s", "entretén"),
        ("sobresalir", "indicative.future", "1s", "sobresaldré"),
        ("desoír", "indicative.present", "1s", "desoigo"),
        ("poseer", "indicative.preterite", "3s", "poseyó"),
        ("proteger", "indicative.present", "1s", "protejo"),
        ("evaluar", "indicative.present", "1s", "evalúo"),
        ("apaciguar", "indicative.preterite", "1s", "apacigüé"),
        ("preferir", "indicative.preterite", "3s", "prefirió"),
        ("ejercer", "subjunctive.present", "1s", "ejerza"),
    ],
)
def test_unknown_and_derived_verbs_follow_patterns(verb: str, tense: str, person: str, expected: str) -> None:
    assert conjugate_form(verb, tense, person) == expected


def test_conjugate_form_returns_most_common_alternative() -> None:
    assert conjugate_form("tener", "indicative.present", "1s") == "tengo"
    assert conjugate_form("hablar", "subjunctive.imperfect", "1s") == "hablara"
    assert conjugate_form("erguir", "indicative.present", "1s") == "irgo"
    assert conjugate_form("haber", "indicative.present", "3s") == "ha"


@pytest.mark.parametrize("bad", ["", "casa", "123", "hablarx", "hola mundo"])
def test_rejects_non_infinitives(bad: str) -> None:
    with pytest.raises(ValueError, match="infinitive"):
        conjugate_table(bad)


def test_accepts_unaccented_spelling_and_case() -> None:
    assert conjugate("Reir")["forms"]["indicative.present"]["1s"] == "río"
    assert conjugate("OIR")["forms"]["indicative.present"]["3s"] == "oye"
