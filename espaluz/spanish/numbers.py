"""Cardinal numbers in words (RAE spelling), so that digits can be pronounced.

``number_to_words(25)`` → ``"veinticinco"``; ``21`` → ``"veintiuno"`` but ``21000`` →
``"veintiún mil"`` (apocope before *mil*/*millón*); ``100`` → ``"cien"``, ``101`` → ``"ciento uno"``.
Covers 0 ≤ n < 10¹⁵ (up to *mil billones*); larger numbers raise ``ValueError``.
"""

from __future__ import annotations

_UNITS_TEXT = (
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro "
    "veinticinco veintiséis veintisiete veintiocho veintinueve"
)
_UNITS = _UNITS_TEXT.split()
_TENS = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
_HUNDREDS = (
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
)


def _below_thousand(n: int, apocope: bool) -> str:
    if n == 0:
        return ""
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    parts = [_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        if rest < 30:
            word = _UNITS[rest]
        else:
            tens, unit = divmod(rest, 10)
            word = _TENS[tens] + (" y " + _UNITS[unit] if unit else "")
        if apocope and word.endswith("uno"):
            word = word[:-3] + ("ún" if word.endswith("veintiuno") else "un")
        parts.append(word)
    return " ".join(parts)


def number_to_words(n: int) -> str:
    """Spell a non-negative integer in Spanish words."""
    if n < 0 or n >= 10**15:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return "cero"
    millions, below_million = divmod(n, 1_000_000)
    thousands, units = divmod(below_million, 1000)
    parts: list[str] = []
    if millions:
        if millions == 1:
            parts.append("un millón")
        else:
            high, low = divmod(millions, 1000)
            words = []
            if high:
                words.append("mil" if high == 1 else _below_thousand(high, apocope=True) + " mil")
            if low:
                words.append(_below_thousand(low, apocope=True))
            parts.append(" ".join(words) + " millones")
    if thousands:
        parts.append("mil" if thousands == 1 else _below_thousand(thousands, apocope=True) + " mil")
    if units:
        parts.append(_below_thousand(units, apocope=False))
    return " ".join(parts)
