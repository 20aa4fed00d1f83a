"""The console's one way to show text that comes from the files or the journal: as data.

Textual parses a ``str`` given to a widget (``Static``, ``Label``, ``Button``, a tab's title,
a palette prompt, a notification) as markup, and DataTable parses ``str`` cells with Rich's
markup. A name such as ``[/]`` or ``[@click=app.quit]q[/]`` would crash a screen or act, and
``[TODO] check`` would lose words. So every widget here gets a ``Content`` or a Rich ``Text``
built by the functions below, never a markup string made by concatenation:

- ``markup(template, **values)``: our own markup, with the data in ``$name`` variables
  (Textual substitutes them literally);
- ``plain(value)``: data alone;
- ``cell(value)``: a DataTable cell;
- ``rich_markup(expr)``: a polars column as Rich markup that shows the data literally (the
  leaderboard's cells are written as markup strings, formatted in polars for speed).

Each also makes control, bidi and zero-width characters visible (``panel_tui.text.visible``),
so no escape sequence from a file reaches the terminal.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from rich.text import Text
from textual.content import Content

from panel_tui.lazy import lazy
from panel_tui.text import pictures, visible

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # (the console's first frame comes before polars: panel_tui.lazy)

# Rich's markup tags (rich.markup.RE_TAGS): an opening bracket followed by one of these
# starts a tag, unless an odd number of backslashes precedes it.
_RICH_TAG = r"(\\*)(\[[a-z#/@][^\[]*?\])"


def markup(template: str, /, *, lines: bool = False, **values: object) -> Content:
    """Our markup ``template`` with the data in ``$name`` variables, each shown literally and
    visibly (``lines=True``: newlines in the data are kept)."""
    return Content.from_markup(template, **{k: visible(v, lines=lines) for k, v in values.items()})


def plain(value: object, *, lines: bool = False) -> Content:
    """Data, shown literally and visibly."""
    return Content(visible(value, lines=lines))


def cell(value: object, style: str = "") -> Text:
    """A DataTable cell: a ``Text`` is drawn as it is (a ``str`` would be parsed as markup)."""
    return Text(visible(value), style=style, no_wrap=True, end="")


@cache
def _pictures() -> tuple[list[str], list[str]]:
    table = pictures()
    return list(table), list(table.values())


def shown(expr: pl.Expr) -> pl.Expr:
    """A text column with its hidden characters made visible (``panel_tui.text.visible``)."""
    hidden, pictured = _pictures()
    return expr.str.replace_many(hidden, pictured)


def rich_escape(expr: pl.Expr) -> pl.Expr:
    """A visible text column as Rich markup that shows it literally: every tag-like ``[``
    escaped (its preceding backslashes doubled, as ``rich.markup.escape``)."""
    return expr.str.replace_all(_RICH_TAG, r"${1}${1}\${2}")


def rich_markup(expr: pl.Expr) -> pl.Expr:
    """A text column as Rich markup that shows it literally: hidden characters made visible,
    every tag-like ``[`` escaped."""
    return rich_escape(shown(expr))


def rich_bold(expr: pl.Expr, *, already_shown: bool = False) -> pl.Expr:
    """``rich_markup`` wrapped in bold (``already_shown``: ``expr`` went through ``shown``):
    trailing backslashes are doubled so that they cannot escape the closing tag."""
    markup = rich_escape(expr) if already_shown else rich_markup(expr)
    return pl.format("[b]{}[/]", markup.str.replace(r"(\\+)$", "${1}${1}"))
