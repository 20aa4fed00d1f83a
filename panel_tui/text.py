"""Text that comes from the contest's files or the journal is data (the README's "Text from the files is shown as text").

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from panel_tui.i18n import _

if TYPE_CHECKING:
    import polars as pl

# Every character that is invisible, moves other text, or drives a terminal: C0 controls, DEL
# and C1 controls, and Unicode's format characters (bidi controls, zero-width characters, the
# byte order mark, tag characters), line and paragraph separators, and the blanks that render
# as nothing (Hangul fillers, the braille blank). Listed as ranges so that Python's ``re`` and
# polars' regex engine use the same set (``PATTERN`` and ``POLARS_PATTERN``).
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x34F, 0x34F),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regular expression's class of these code point ranges (Python's ``re``)."""
    return "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"


def _polars_char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The same class in the syntax polars' expressions take (Rust's ``regex``)."""
    return "[" + "".join(f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges) + "]"


PATTERN = _char_class(HIDDEN_RANGES)
POLARS_PATTERN = _polars_char_class(HIDDEN_RANGES)
_HIDDEN = re.compile(PATTERN)
_HIDDEN_ABOVE_C0 = re.compile(PATTERN.replace("\\U00000000-\\U0000001f", ""))
_HIDDEN_OR_LINE = re.compile(
    PATTERN.replace("\\U00000000-\\U0000001f", "\\U00000000-\\U00000008\\U0000000b-\\U0000001f")
)


def picture(char: str) -> str:
    """How one hidden character is shown: C0 controls and DEL as their Unicode control
    pictures (ESC as ``␛``), everything else as a ``\\u202e``-style escape."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "␡"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def pictures() -> dict[str, str]:
    """Every hidden character and how it is shown (for ``str.replace_many`` over a column)."""
    return {chr(c): picture(chr(c)) for lo, hi in HIDDEN_RANGES for c in range(lo, hi + 1)}


def visible(text: object, *, lines: bool = False) -> str:
    """``text`` with every control, bidi and invisible character shown as a visible escape.

    ``lines=True`` keeps newlines and tabs (a note may have several lines); otherwise they are
    shown as ``␊`` and ``␉`` too, so that one field stays on one line.
    """
    text = "" if text is None else str(text)
    if text.isascii() and text.isprintable():
        return text  # the common case, fast
    if lines:
        return _HIDDEN_OR_LINE.sub(lambda m: picture(m.group()), text.replace("\r\n", "\n"))
    return _HIDDEN.sub(lambda m: picture(m.group()), text)


def one_line(text: object) -> str:
    """``visible`` for a field shown on one line: a newline is shown as ``␊``."""
    return visible(text, lines=False)


def hidden_character(text: str) -> str | None:
    """The first control, bidi or invisible character in ``text``, named, or None."""
    found = _HIDDEN.search(text)
    if found is None:
        return None
    return _named(found.group())


def _named(char: str) -> str:
    """A character as a message names it: ``U+200B (ZERO WIDTH SPACE)``."""
    name = unicodedata.name(char, "") or _("a control character")
    return f"U+{ord(char):04X} ({name})"


# Characters refused in an id besides the hidden ones: variation selectors, which draw nothing
# of their own ("E01" followed by one looks like "E01"). Not among HIDDEN_RANGES, which also
# decide how names are shown: an emoji in a name keeps its presentation selector.
ID_ONLY_RANGES: tuple[tuple[int, int], ...] = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_ID_ONLY = re.compile(_char_class(ID_ONLY_RANGES))
POLARS_ID_PATTERN = _polars_char_class(HIDDEN_RANGES + ID_ONLY_RANGES)


def draws_nothing(char: str) -> bool:
    """Whether ``char`` is a variation selector (``ID_ONLY_RANGES``): messages quoting a value
    show it as an escape, like a hidden character."""
    return _ID_ONLY.fullmatch(char) is not None


def identifier_problem(text: str) -> str | None:
    """Why ``text`` cannot be an identifier (candidate, evaluator, indicator, area or category
    id), or None: ids are compared and shown exactly, so one that looks like another, or like
    nothing, is refused at the door."""
    if text != text.strip():
        return _("leading or trailing spaces")
    hidden = hidden_character(text)
    if hidden is None and (found := _ID_ONLY.search(text)):
        hidden = _named(found.group())
    if hidden:
        return _("an invisible or control character {character}").format(character=hidden)

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
    text = visible(value, lines=True)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("\n", "<br>").replace("\t", " ")


def json_safe(text: str) -> str:
    """JSON text with every hidden character written as a ``\\uXXXX`` escape (surrogate pairs
    above U+FFFF): the same document, byte for byte the same strings when parsed, but nothing
    in it drives the terminal it is printed on. (``json.dumps`` escapes C0 controls only.)"""

    def escape(match: re.Match[str]) -> str:
        encoded = match.group().encode("utf-16-be")
        return "".join(f"\\u{int.from_bytes(encoded[i : i + 2], 'big'):04x}" for i in range(0, len(encoded), 2))

    if text.isascii() and "\x7f" not in text:
        return text  # (str.isascii is a flag lookup: a plain-ASCII document skips the regex, 0.05 s at 10,000 entries)
    return _HIDDEN_ABOVE_C0.sub(escape, text)  # json.dumps escapes C0 inside strings; outside, it is whitespace


class VisibleStream:
    """A text stream that writes every hidden character visibly (``visible(…, lines=True)``),
    or, for a JSON document, as JSON escapes: the command line's one output point."""

    def __init__(self, stream: TextIO, *, json_document: bool = False) -> None:
        self._stream = stream
        self._escape: Callable[[str], str] = json_safe if json_document else (lambda text: visible(text, lines=True))

    def write(self, text: str) -> int:
        self._stream.write(self._escape(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # flush, fileno, encoding, isatty, close, …


def inert_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``inert_cell`` applied to every text column, in polars (for CSV output)."""
    import polars as pl

    starts = r"^[=+\-@\t\r]"  # FORMULA_PREFIXES
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(starts)).then(pl.lit("'") + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in text
    )


# -- width on a terminal ------------------------------------------------------------------------
# Hangul and other East Asian wide characters take two cells of a terminal. The console sizes
# its columns by cells, in polars for a whole board at once, against the wide characters its
# texts actually use (Python's own Unicode database, East Asian Width W or F): a few hundred
# characters to look up, not the whole table at every start.


def wide_characters(texts: pl.Series) -> str:
    """A regex class of the wide characters that occur in ``texts`` ("" when none does), for
    ``cell_width`` over those texts or any of them."""
    chars = texts.drop_nulls().str.split("").explode().drop_nulls().unique().to_list()
    wide = sorted(c for c in chars if len(c) == 1 and unicodedata.east_asian_width(c) in ("W", "F"))
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in wide) + "]" if wide else ""


def cell_width(expr: pl.Expr, wide: str) -> pl.Expr:
    """The cells a text column takes on a terminal: wide characters (``wide``, from
    ``wide_characters`` of the same texts) count two, combining marks none."""
    width = expr.str.len_chars() - expr.str.count_matches(r"\p{Mn}")
    return width + expr.str.count_matches(wide) if wide else width


def char_width(char: str) -> int:
    """The cells one character takes: 2 wide, 0 a combining mark, else 1."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    """The cells a text takes on a terminal."""
    return sum(map(char_width, text))


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: whole, or cut and ended with ``…``."""
    if text_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        w = char_width(char)
        if used + w > width - 1:
            break
        kept.append(char)
        used += w
    return "".join(kept).rstrip() + "…"
