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

Beside them, one more internal, reached by ``panel_tui.tui.translated`` (its own ``missing()``,
tested the same way): ``DOMNode._bindings`` (a ``BindingsMap``; its ``key_to_bindings``, key ->
[Binding]), each instance's copy of its class's bindings, whose descriptions it translates.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

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
)
METHODS = ("_update_dimensions",)


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
