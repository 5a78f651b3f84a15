"""WhatsApp text formatting, rendered for a terminal (``espaluz chat``).

WhatsApp marks *bold*, _italics_, ~strikethrough~, ```monospace``` and `inline code` with the characters
around a span; lines starting with ``* `` or ``- `` are bullets and ``> `` a quote. ``render`` turns a
message into what a terminal should show, following the same rules as the simulator page
(espaluz/dev/static/app.js, ``formatWhatsApp``) so both show a message alike:

- A span opens at the start of the text or after a character that is not a letter, digit or marker, with
  no space right after the marker; it closes before a space, punctuation or the end, with no space right
  before it; it never crosses a line break. ``5 * 3 * 2``, ``snake_case_names`` and URLs stay as typed.
- ``color=True`` (stdout is a terminal): ANSI bold, italics, strikethrough and a colour for code; spans nest
  (``_All set! *practicar* starts…_``). ``color=False`` (piped, a file, a test): the markers go, the
  words stay, except ~strikethrough~, which keeps its tildes, because a struck-out word is a correction
  ("~yo soy~ yo estoy") and plain text would show the wrong form as if it were right.
- Bullets become ``•``; quotes and numbered lists stay as they are.
- Control and format characters (ESC, bidi overrides…) are removed first: message text comes from a
  language model or a learner, and must not move the cursor, retitle the window or colour the session.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["BOLD", "ITALIC", "RESET_BOLD", "RESET_ITALIC", "render", "sanitize", "style"]

BOLD, RESET_BOLD = "\x1b[1m", "\x1b[22m"
ITALIC, RESET_ITALIC = "\x1b[3m", "\x1b[23m"
STRIKE, RESET_STRIKE = "\x1b[9m", "\x1b[29m"
CODE, RESET_CODE = "\x1b[36m", "\x1b[39m"  # cyan: terminals have no monospace switch, the font already is
_ANSI = {"*": (BOLD, RESET_BOLD), "_": (ITALIC, RESET_ITALIC), "~": (STRIKE, RESET_STRIKE)}

_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_URL = re.compile(r"\bhttps?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")


def _span_pattern(marker: str) -> str:
    m = re.escape(marker)
    return rf"(?<![\w{m}]){m}(?![\s{m}])([^\n]*?[^\s{m}]){m}(?![\w{m}])"


# One span of one marker, not crossing a line: group 1 is what *…* wraps, 2 _…_, 3 ~…~.
_SPAN = re.compile("|".join(_span_pattern(marker) for marker in "*_~"))
_BULLET = re.compile(r"^(\s*)[*-] (?=\S)", re.MULTILINE)
_SLOT = re.compile("\x00(\\d+)\x00")
_KEPT = "\n\t\u200d"  # line breaks, tabs, and the zero-width joiner that glues emoji (👩‍🏫) together


def sanitize(text: str) -> str:
    """``text`` without control characters other than line breaks and tabs (module docstring)."""
    return "".join(c for c in text if c in _KEPT or unicodedata.category(c) not in ("Cc", "Cf"))


def style(text: str, on: str, off: str, color: bool) -> str:
    """``text`` between two ANSI codes when ``color``, else as it is."""
    return f"{on}{text}{off}" if color else text


def render(text: str, *, color: bool) -> str:
    """What a terminal shows for the WhatsApp message ``text`` (module docstring for the rules)."""
    parts = _FENCE.split(sanitize(text))
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:  # inside ```...```: shown as typed, no formatting
            out.append(style(part, CODE, RESET_CODE, color))
        else:
            out.append(_render_prose(part, color))
    return "".join(out)


def _render_prose(text: str, color: bool) -> str:
    slots: list[str] = []

    def keep(shown: str) -> str:
        slots.append(shown)
        return f"\x00{len(slots) - 1}\x00"

    text = _INLINE_CODE.sub(lambda m: keep(style(m.group(1), CODE, RESET_CODE, color)), text)
    text = _URL.sub(lambda m: keep(m.group(0)), text)
    text = _BULLET.sub(lambda m: m.group(1) + "• ", text)
    text = _spans(text, color)
    return _SLOT.sub(lambda m: slots[int(m.group(1))], text)


def _spans(text: str, color: bool) -> str:
    """Replace each outermost span, rendering what it wraps the same way (nesting)."""

    def one(match: re.Match[str]) -> str:
        group = next(i for i in (1, 2, 3) if match.group(i) is not None)
        marker, inner = "*_~"[group - 1], _spans(match.group(group), color)
        if color:
            on, off = _ANSI[marker]
            return f"{on}{inner}{off}"
        return f"~{inner}~" if marker == "~" else inner

    return _SPAN.sub(one, text)
