"""The words the minimal-pair finder may offer a learner, with a frequency rank (written for espaluz).

Every word here is one a tutor would happily put in front of a learner: real, current, not slang and
not vulgar in any major variety. Words left out on purpose are listed in :data:`AVOID` (a test checks
that none of them creeps back in); a learner may still *ask* for one of them ("pronunciar porro"), it is
just never offered as the other half of a pair.

The words come in three bands, most frequent first, and within a band roughly by how early a learner
meets them. :data:`RANK` turns that order into a number (0 = most frequent); the pair finder prefers
the commoner word when two pairs teach the same contrast. The bands are chosen so that the contrasts a
learner needs have partners: tap/trill (*pero/perro*), [s]/[θ] for Spain (*casa/caza*), ñ/n, l/r,
jota/k/g, ch/y, y/l, b/p, d/t, g/k, and vowels last.
"""

from __future__ import annotations

# Band 1: everyday words of the first months.
_VERY_COMMON = """
    de te da la le lo ya yo me mi se sí tu su dos tos los nos más mes mar mal sol sal pan pon dan
    tan va ve
    pero perro caro carro cara casa cosa caso todo toda mesa peso paso hora hola cero quiero quería
    ahora bien tiene viene noche leche ocho hecho mucho pecho coche calle vale llave llama cama dama
    hombre hambre nombre año una uno pena mano mono boca poca vida día tía tío río frío hijo hija
    hilo puerta puerto muerto muerte suerte fuerte cuatro cuadro tres cien ciento siento gato pato
    rato dato vaso beso piso misa pelo palo ola oro loco loca poco rosa mira vino luna sopa ropa
    copa coma toma modo lugar jugar fuego juego cierra gana voz
"""

# Band 2: common words a learner meets in the first year.
_COMMON = """
    ahorra querría perrito jarra barra gorra gorro cerro pera pala bala bata pata vista pista
    pesar bar par baño paño pino tomo goma cana caña uña cuna taza tasa caza cazar sierra zumo
    pollo polo olla valle bello haya mayo rana lana roca lío lima oso uso queso quiso pesa pisa
    pasa masa gallo gol gasto gota hierro tierra guerra foco fama rama nueve nieve cena moda vos
    mudo banda
"""

# Band 3: real, inoffensive, less frequent words: offered only when nothing commoner makes the contrast.
_LESS_COMMON = """
    parra coro corro vara jara coral corral foro forro careta carreta perito enterar enterrar
    encerar encerrar poro cala calla celo coser cocer sien abrasar abrazar casar maza zeta seta
    seda peña cuña moño jarro garra jota hacha macho lama lave velo yema lema beca peca besar
    panda domo lodo loto mota gama gasa col callo casto corra pecar picar lona rusa nata rima
"""

AVOID: frozenset[str] = frozenset(
    {
        "porro",  # a joint (slang)
        "perra",  # also an insult
        "zorra",  # also an insult
        "coge",  # vulgar in much of Latin America
        "cojo",  # same verb
        "coger",
        "ano",  # the classic año/ano pair, but not one to hand a learner
        "pico",  # vulgar in Chile
        "pito",  # vulgar in several countries
        "bollo",  # vulgar in parts of the Caribbean
        "moro",  # often pejorative
        "curra",  # slang (Spain)
        "pedo",  # vulgar / slang
        "concha",  # vulgar in the Southern Cone
    }
)

LOANWORDS: dict[str, str] = {
    # written form (lower case, as :func:`espaluz.spanish.phonetics.g2p` cleans it) → Spanish respelling
    "pizza": "pitsa",
    "pizzas": "pitsas",
    "pizzería": "pitsería",
    "jazz": "yas",
    "hobby": "jobi",
    "hobbies": "jobis",
    "hockey": "jóquei",
    "hámster": "jámster",
    "cappuccino": "capuchino",
    "mozzarella": "motsarela",
    "spaghetti": "espagueti",
    "capuccino": "capuchino",
    "wifi": "uifi",
    "whisky": "uisqui",
    "show": "chou",
    "shows": "chous",
    "sándwich": "sánduich",
    "sandwich": "sánduich",
    "software": "sófuer",
    "hardware": "járduer",
    "web": "ueb",
    "whatsapp": "uátsap",
    "email": "imeil",
    "online": "onláin",
    "parking": "párquin",
    "camping": "cámpin",
    "marketing": "márquetin",
    "rugby": "rúgbi",
    "sexy": "sexi",
    "ballet": "balé",
    "croissant": "cruasán",
    "wáter": "báter",
    "selfie": "sélfi",
    "okay": "oquéi",
    "ok": "oquéi",
}
"""Common loanwords read from a Spanish respelling (what speakers say), not from their foreign spelling.

The respelling is ordinary Spanish orthography, so it goes through the same rules (and dialects) as any
word: *pizza* → *pitsa* [pitsa] everywhere, *hobby* → *jobi* [xoβi]. Written for espaluz from common
pronunciation; where usage varies (*whisky* [wiski] or [gwiski]) the commonest educated form is given.
"""

WORDS: tuple[str, ...] = tuple(dict.fromkeys((_VERY_COMMON + _COMMON + _LESS_COMMON).split()))
"""Every offerable word, most frequent first."""

RANK: dict[str, int] = {word: index for index, word in enumerate(WORDS)}
"""Frequency rank: 0 for the most frequent word; unknown words rank after all of these."""


def rank(word: str) -> int:
    """The frequency rank of ``word`` (lower is commoner); ``len(WORDS)`` for a word not listed."""
    return RANK.get(word, len(WORDS))
