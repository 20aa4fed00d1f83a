"""Text that comes from the contest's files or the journal is data (SPEC §4).

It is shown literally everywhere: never as Textual or Rich markup, never as terminal escape
sequences, never as a spreadsheet formula. This module is the one place that knows which
characters are dangerous and how each is shown; the console, the command line and the exports
each apply it at their one output point.

- ``visible(text)``: control characters (C0, DEL, C1), bidi controls, zero-width and other
  invisible format characters, and line/paragraph separators become visible escapes: C0
  controls and DEL as their Unicode control pictures (ESC as ``␛``), everything else as
  ``\\u202e``-style escapes. Tab and newline are kept only where a field allows several lines.
- ``hidden_character(text)``: the first such character in an identifier, for bad-input errors.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible format characters that are not in Unicode's Cc/Cf/Zl/Zp categories but render as
# nothing (Hangul fillers) or as a blank that looks like a space.
_INVISIBLE_EXTRA = "\u115f\u1160\u3164\uffa0\u2800"
_PATTERN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    + _INVISIBLE_EXTRA + "\U000e0000-\U000e007f]"
)


def _is_hidden(char: str) -> bool:
    return bool(_PATTERN.match(char)) or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC is ␛)
    if code == 0x7F:
        return "␡"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: object, *, lines: bool = False) -> str:
    """``text`` with every control, bidi and invisible character shown as a visible escape.

    ``lines=True`` keeps newlines and tabs (a note may have several lines); otherwise they are
    shown as ``␊`` and ``␉`` too, so that one field stays on one line.
    """
    text = "" if text is None else str(text)
    if text.isascii() and text.isprintable():
        return text  # the common case, fast
    out = []
    for char in text:
        if lines and char in "\n\t":
            out.append(char)
        elif char == "\r" and lines:
            out.append("␍")
        elif _is_hidden(char):
            out.append(_picture(char))
        else:
            out.append(char)
    return "".join(out)


def one_line(text: object) -> str:
    """``visible`` for a field shown on one line: a newline is shown as ``␊``."""
    return visible(text, lines=False)


def hidden_character(text: str) -> str | None:
    """The first control, bidi or invisible character in ``text`` as an escape, or None."""
    for char in text:
        if _is_hidden(char):
            return f"U+{ord(char):04X} ({unicodedata.name(char, 'control')})"
    return None


def identifier_problem(text: str) -> str | None:
    """Why ``text`` cannot be an identifier (candidate, evaluator, indicator, area or category
    id), or None: ids are compared and shown exactly, so one that looks like another, or like
    nothing, is refused at the door."""
    if text != text.strip():
        return "leading or trailing spaces"
    hidden = hidden_character(text)
    if hidden:
        return f"an invisible or control character {hidden}"
    return None


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with ``= + - @``, tab or CR is
    prefixed with ``'`` (numbers are left as numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # the rest only matter at a line's start


def markdown_text(value: object) -> str:
    """Text for a Markdown table cell or list item: every Markdown and HTML special escaped,
    a newline shown as a visible break, so the text cannot add rows, links, images or tags."""
    text = visible(value, lines=True).replace("\r\n", "\n")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("\n", "<br>").replace("\t", " ")
