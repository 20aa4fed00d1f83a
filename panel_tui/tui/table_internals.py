"""Every private part of Textual's DataTable that the leaderboard reaches into, in one place.

The leaderboard updates its table in place (``LeaderboardTable.show``): it writes changed cells
straight into the table's store, removes rows in bulk, and re-places only the rows that moved.
DataTable's public route does the same work one cell or one row at a time, invalidating
every cache each time (bench/bench_console.py measures both). That needs these internals of
Textual 8.2 (``textual>=8.2,<8.3`` in pyproject.toml, pinned for them):

- ``_data``: row key -> {column key: cell}, the table's store;
- ``rows``: row key -> Row; ``_new_rows``: rows not yet measured;
- ``_row_locations``: a ``textual._two_way_dict.TwoWayDict`` of row key <-> position;
- ``_update_count``: the generation the row-order and render caches are keyed on;
- ``_require_update_dimensions``: re-measure on the next idle;
- ``_row_render_cache``, ``_cell_render_cache`` (keyed by row key first),
  ``_row_renderable_cache`` (by generation and position), ``_line_cache``, ``_offset_cache``,
  ``_ordered_row_cache``: ``textual.cache.LRUCache``, whose ``keys`` and ``discard`` drop
  one row's entries;
- ``_row_label_column_width``, ``_total_row_height``: for the table's size;
- ``_update_dimensions(new_rows)``: overridden by the leaderboard (every width is fixed).

``missing()`` names any of them that an upgraded Textual lacks; a test calls it, so an upgrade
fails with one clear message instead of a wrong board.

A cell is painted by ``render_cell`` (the leaderboard's ``_render_cell``): the same lines as
DataTable's own, which hands every cell to Rich's general pipeline (the cell padded, styled
before and after, then cut into lines), built directly for a one-line text cell that fits its
column (``cell_lines``; bench_console.py times a board painted both ways); anything else goes
the general way. That needs,
besides ``_cell_render_cache``, ``_row_locations`` and ``_update_count`` above:

- ``_column_locations``, ``_show_hover_cursor``, ``_pseudo_class_state``: the rest of a cell's
  render cache key, as DataTable makes it;
- ``_get_row_renderables(row)``: a row's cells as renderables (the markup parsed);
- ``_get_styles_to_render_cell(...)``: a cell's component style and post style;
- ``_render_cell``: overridden by the leaderboard.

Beside them, one more internal, reached by ``panel_tui.tui.translated`` (its own ``missing()``,
tested the same way): ``DOMNode._bindings`` (a ``BindingsMap``; its ``key_to_bindings``, key ->
[Binding]), each instance's copy of its class's bindings, whose descriptions it translates.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

K = TypeVar("K", bound=Hashable)

ATTRIBUTES = (
    "_data",
    "rows",
    "_new_rows",
    "_row_locations",
    "_update_count",
    "_require_update_dimensions",
    "_row_render_cache",
    "_cell_render_cache",
    "_row_renderable_cache",
    "_line_cache",
    "_offset_cache",
    "_ordered_row_cache",
    "_row_label_column_width",
    "_total_row_height",
    "_column_locations",
    "_show_hover_cursor",
    "_pseudo_class_state",
)
METHODS = ("_update_dimensions", "_get_row_renderables", "_get_styles_to_render_cell", "_render_cell")


def missing(table: DataTable[Any]) -> list[str]:
    """The internals this module relies on that ``table`` (a mounted DataTable) lacks."""
    gone = [name for name in ATTRIBUTES if not hasattr(table, name)]
    gone += [name for name in METHODS if not callable(getattr(DataTable, name, None))]
    try:
        from textual._two_way_dict import TwoWayDict  # noqa: F401
    except ImportError:
        gone.append("textual._two_way_dict.TwoWayDict")
    return gone


class TableInternals:
    """The leaderboard's only way into its DataTable's private parts."""

    def __init__(self, table: DataTable[Any]) -> None:
        self.table = table

    def cells(self, key: RowKey) -> dict[ColumnKey, Any]:
        """A row's cells as the table stores them (column key -> cell), to write in place."""
        return self.table._data[key]

    def remove_rows(self, keys: list[RowKey]) -> None:
        """Remove rows at once; the rows left keep their order, closed up (``remove_row`` does a
        pass over the whole table for each row)."""
        table = self.table
        for key in keys:
            del table._data[key], table.rows[key]
            table._new_rows.discard(key)
        self.place({key: i for i, key in enumerate(sorted(table._data, key=self._at))})

    def place(self, positions: dict[RowKey, int]) -> None:
        """Every row's position anew."""
        from textual._two_way_dict import TwoWayDict

        self.table._row_locations = TwoWayDict(positions)

    def move(self, key: RowKey, at: int) -> None:
        """One row's new position (a permutation: each position set once)."""
        self.table._row_locations[key] = at

    def position(self, key: RowKey) -> int | None:
        return self.table._row_locations.get(key)

    def _at(self, key: RowKey) -> int:
        """The position of a row in the table's store (every such row has one)."""
        at = self.table._row_locations.get(key)
        assert at is not None, f"row {key.value!r} is in the table's store without a position"
        return at

    def rows_moved(self, *, added_or_removed: bool) -> None:
        """Rows came or went, or many moved: the row order, the line offsets and every
        rendered row are recomputed on the next paint (and the table re-measured when rows
        came or went)."""
        table = self.table
        table._update_count += 1
        if added_or_removed:
            table._require_update_dimensions = True

    def rows_changed(self, keys: set[RowKey], *, moved: bool) -> None:
        """Only the rows ``keys`` changed, their text or their place among the same rows
        (``moved``: a permutation of the places they had): what was rendered of them is
        dropped, every other row's rendering is kept. Bumping the generation instead would
        make the next paint render every visible cell again, for one changed total
        (bench_console's "one live refresh"). A moved row's rendered cells carry its place (for the
        mouse), so they go too, and with them the row order and line offsets."""
        table = self.table
        _drop(table._cell_render_cache, lambda key: key[0] in keys)
        _drop(table._row_render_cache, lambda key: key[0] in keys)
        places = {table._row_locations.get(key) for key in keys}
        _drop(table._row_renderable_cache, lambda key: key[1] in places)
        table._line_cache.clear()
        if moved:
            table._offset_cache.clear()
            table._ordered_row_cache.clear()

    def size_parts(self) -> tuple[int, int]:
        """(the row label column's width, every row's height summed): for the table's size."""
        return self.table._row_label_column_width, self.table._total_row_height


def _drop(cache: LRUCache[K, Any], which: Callable[[K], bool]) -> None:
    """Drop the entries of a DataTable's cache whose key is ``which`` (an LRUCache has no
    iteration of its own: its ``keys``, copied first)."""
    for key in [key for key in cache.keys() if which(key)]:  # noqa: SIM118
        cache.discard(key)


def render_cell(
    table: DataTable[Any], row_index: int, column_index: int, base_style: Style, width: int, cursor: bool, hover: bool
) -> list[list[Segment]] | None:
    """A body cell's lines as DataTable's ``_render_cell`` makes them, from its render cache or
    by ``cell_lines``, kept in that cache under DataTable's own key; None when the cell needs
    DataTable's general route (a header, label or fixed cell, a row taller than one line, a
    cell ``cell_lines`` does not take)."""
    if row_index < table.fixed_rows or column_index < table.fixed_columns:  # (the header row is -1)
        return None
    row_key = table._row_locations.get_key(row_index)
    column_key = table._column_locations.get_key(column_index)
    if row_key is None or column_key is None:
        return None
    cache_key = (
        row_key,
        column_key,
        base_style,
        cursor,
        hover,
        table._show_hover_cursor,
        table._update_count,
        table._pseudo_class_state,
    )
    cache = table._cell_render_cache
    if cache_key in cache:
        lines: list[list[Segment]] = cache[cache_key]
        return lines
    row = table.rows.get(row_key)
    if row is None or row.height != 1 or row.auto_height:
        return None
    # (DataTable renders with the app's console options, which never justify: Textual 8.2
    # builds them afresh at each call, no justification set.)
    component_style, post_style = table._get_styles_to_render_cell(
        False,
        False,
        False,
        hover,
        cursor,
        table.show_cursor,
        table._show_hover_cursor,
        table.cursor_foreground_priority == "css",
        table.cursor_background_priority == "css",
    )
    pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
    _, cells = table._get_row_renderables(row_index)
    if column_index >= len(cells):
        return None
    found = cell_lines(table.app.console, cells[column_index], width, table.cell_padding, pre_style, post_style)
    if found is not None:
        cache[cache_key] = found
    return found


def cell_lines(
    console: Console, cell: RenderableType, width: int, padding: int, pre_style: Style, post_style: Style
) -> list[list[Segment]] | None:
    """What Rich's ``console.render_lines(Styled(Padding(cell, (0, padding)), pre_style,
    post_style), options)`` gives for one line ``width`` cells wide (``no_wrap``, as DataTable
    renders a one-line row), made directly: for a text (no style of its own, not made to wrap,
    justified the default way, no end, tab or line break) that fits between the paddings, the
    left padding, the text's own segments, spaces up to the right padding and the right
    padding, each segment styled as ``Segment.apply_style`` styles it. None for any other cell
    (then the caller takes Rich's route). tests/test_leaderboard.py compares the two on random
    texts."""
    # (A text made to wrap, Rich wraps, and may drop a space at its end: DataTable's one-line
    # cells are never made to wrap.)
    if not isinstance(cell, Text) or cell.style or cell.end or cell.justify not in (None, "default"):
        return None
    if cell.no_wrap is False:
        return None
    plain = cell.plain
    inner = width - 2 * padding
    if inner <= 0 or "\t" in plain or "\n" in plain or cell_len(plain) > inner:
        return None

    def styled(style: Style | None) -> Style | None:  # as Segment.apply_style(style=pre, post_style=post)
        if pre_style:
            style = pre_style + style
        if post_style:
            style = style + post_style if style else post_style
        return style

    around = styled(Style.null())  # (Padding's own style, "none", on its spaces and on the fill)
    line = [Segment(" " * padding, around)] if padding else []
    length = 0
    for segment in cell.render(console, end=""):
        if segment.control:
            return None
        line.append(Segment(segment.text, styled(segment.style)))
        length += segment.cell_length
    if length > inner:  # (Rich would crop the line: its route)
        return None
    if length < inner:
        line.append(Segment(" " * (inner - length), around))
    if padding:
        line.append(Segment(" " * padding, around))
    return [line]
