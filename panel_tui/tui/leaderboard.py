"""One category's live leaderboard: a DataTable updated in place, never cleared.

Every row is keyed by candidate id. A refresh renders the whole board to display text in
polars (one frame, one column per table column), compares it with what is on screen column by
column, writes only the cells that differ, adds new keys, removes missing ones, moves the
certification line, sorts once, and puts the cursor back on the row it was on, so a viewer
keeps their place while scores arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from textual._two_way_dict import TwoWayDict
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from panel_tui.engine import Leaderboard

LINE = "__line__"
REST = "__rest__"
STATUS = {
    "certified": "[b green]✔ certified[/]",
    "not_certified": "[dim]not certified[/]",
    "undecided": "[b yellow]? undecided[/]",
    "pending": "[i cyan]… pending[/]",
    "excluded": "[red]✘ excluded[/]",
}
COMPACT_STATUS = {
    "certified": "[b green]✔ cert[/]",
    "not_certified": "[dim]–[/]",
    "undecided": "[b yellow]? undec[/]",
    "pending": "[i cyan]… pend[/]",
    "excluded": "[red]✘ excl[/]",
}


@dataclass
class RefreshCost:
    """What one refresh touched: for the benchmark and for tests of in-place updates."""

    updated_cells: int = 0
    added_rows: int = 0
    removed_rows: int = 0


def _number(column: str, decimals: int, width: int) -> pl.Expr:
    return pl.col(column).cast(pl.Decimal(scale=decimals)).cast(pl.String).fill_null("").str.pad_start(width)


class LeaderboardTable(DataTable):
    """The table of one category; ``show(board, ...)`` brings it up to date in place."""

    DEFAULT_CSS = """
    LeaderboardTable { height: 1fr; }
    """

    def __init__(self, category_id: str, areas: tuple[str, ...], *, compact: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.category_id = category_id
        self.areas = areas
        self.compact = compact
        self.order: dict[str, int] = {}
        self.on_screen: pl.DataFrame | None = None  # the display text of every candidate row
        self._add_columns()

    def _add_columns(self) -> None:
        self.widths = {"rank": 4, "move": 3, "id": 4 if self.compact else 5, "name": 22 if self.compact else 44,
                       "total": 9, "percent": 6}
        if not self.compact:
            self.widths.update({f"area:{a}": 8 for a in self.areas})
        self.widths.update({"grade": 2, "status": 7 if self.compact else 13, "marks": 8 if self.compact else 16})
        labels = {"rank": "Rank", "move": "±", "id": "ID", "name": "Name", "total": "Total", "percent": "%",
                  "grade": "Gr", "status": "Status", "marks": "Marks"}
        for key, width in self.widths.items():
            self.add_column(labels.get(key, key.removeprefix("area:")), key=key, width=width)

    def set_compact(self, compact: bool) -> None:
        """Narrow terminals (80 columns) drop the area columns; rebuilt only when the width class changes."""
        if compact == self.compact:
            return
        self.compact = compact
        self.clear(columns=True)
        self._add_columns()
        self.order = {}
        self.on_screen = None

    @property
    def selected_candidate(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:
            return None
        return None if key in (LINE, REST) else key

    def _display(
        self, board: Leaderboard, decimals: int, notes: dict[str, int], fragile: frozenset[str]
    ) -> pl.DataFrame:
        """Every row's cells as display text (Textual markup), computed over the whole board."""
        notes_frame = pl.DataFrame(
            {"candidate_id": list(notes), "notes": list(notes.values())},
            schema={"candidate_id": pl.String, "notes": pl.Int64},
        )
        frame = board.entries.join(notes_frame, on="candidate_id", how="left")
        previous = (
            self.on_screen.select("candidate_id", pl.col("_rank").alias("_was"), pl.col("move").alias("_move_was"))
            if self.on_screen is not None
            else pl.DataFrame(schema={"candidate_id": pl.String, "_was": pl.Int64, "_move_was": pl.String})
        )
        frame = frame.join(previous, on="candidate_id", how="left")
        rank, was = pl.col("rank"), pl.col("_was")
        fresh = self.on_screen is None
        move = (
            pl.when(pl.lit(fresh)).then(pl.lit(""))
            .when(pl.col("_move_was").is_null()).then(pl.lit("[b]new[/]"))
            .when(rank.is_not_null() & was.is_not_null() & (rank < was))
            .then(pl.format("[b green]▲{}[/]", was - rank))
            .when(rank.is_not_null() & was.is_not_null() & (rank > was))
            .then(pl.format("[b red]▼{}[/]", rank - was))
            .when(rank.eq_missing(was)).then(pl.col("_move_was"))
            .otherwise(pl.lit(""))
        )
        name = pl.col("name").str.replace_all(r"\[", r"\[")
        marks = pl.concat_str(
            [
                pl.when(pl.col("top")).then(pl.lit("★top")),
                pl.when(pl.col("tie")).then(pl.lit("=tie")),
                pl.when(pl.col("borderline")).then(pl.lit("≈line")),
                pl.when(~pl.col("decided_by").is_in(["total", "panel"]) & pl.col("decided_by").is_not_null())
                .then(pl.format("by {}", pl.col("decided_by"))),
                pl.when((pl.col("decided_by") == "panel") | pl.col("exclusion_code").is_not_null()).then(pl.lit("⚖")),
                pl.when(pl.col("notes") > 0).then(pl.format("✎{}", pl.col("notes"))),
                pl.when(pl.col("candidate_id").is_in(list(fragile))).then(pl.lit("[b red]⚠fragile[/]")),
            ],
            separator=" ",
            ignore_nulls=True,
        )
        columns = {
            "rank": rank.cast(pl.String).fill_null("").str.pad_start(4),
            "move": move,
            "id": pl.col("candidate_id"),
            "name": pl.when(pl.col("certified").fill_null(False)).then(pl.format("[b]{}[/]", name)).otherwise(name),
            "total": _number("total", decimals, 9),
            "percent": _number("percent", decimals, 6),
        }
        if not self.compact:
            columns.update({f"area:{a}": _number(a, decimals, 8) for a in board.areas})
        columns.update({
            "grade": pl.col("grade").cast(pl.String).fill_null(""),
            "status": pl.col("status").replace_strict(COMPACT_STATUS if self.compact else STATUS),
            "marks": marks,
        })
        return frame.select(
            "candidate_id", pl.col("rank").alias("_rank"), pl.col("certified").alias("_certified"),
            **{k: v for k, v in columns.items()},
        )

    def show(
        self, board: Leaderboard, decimals: int, notes: dict[str, int], fragile: frozenset[str] = frozenset()
    ) -> RefreshCost:
        """Bring the table up to date with ``board``: keyed, in place, one sort."""
        cost = RefreshCost()
        keep = self.selected_candidate
        columns = list(self.widths)
        display = self._display(board, decimals, notes, fragile)
        order = self._order(display)

        keys = {k.value: k for k in self._data}  # the table's own key objects: identity lookups
        existing = keys.keys()
        for gone in set(existing) - set(order):
            self.remove_row(gone)
            keys.pop(gone)
            cost.removed_rows += 1
        if self.on_screen is not None:
            compared = display.join(self.on_screen, on="candidate_id", how="inner", suffix="_was")
            store = self._data
            for column in columns:
                diff = compared.filter(pl.col(column).ne_missing(pl.col(f"{column}_was")))
                if diff.height == 0:
                    continue
                column_key = ColumnKey(column)
                for cid, value in diff.select("candidate_id", column).iter_rows():
                    key = keys.get(cid)
                    if key is not None:
                        # Written straight into the table's store and refreshed once below:
                        # update_cell() would repaint once per cell.
                        store[key][column_key] = value
                        cost.updated_cells += 1
            if cost.updated_cells:
                self._update_count += 1
                self.refresh()
        for row in display.filter(~pl.col("candidate_id").is_in(list(existing))).select(columns).iter_rows():
            self.add_row(*row, key=row[columns.index("id")])
            cost.added_rows += 1
        self.on_screen = display

        threshold = board.category.threshold
        specials = {
            LINE: f"── line {threshold:g} % ────────────" if self.compact else f"── certification line {threshold:g} % ──",
            REST: "── pending and excluded ──",
        }
        for key, label in specials.items():
            if key not in order:
                continue
            text = f"[b yellow]{label}[/]" if key == LINE else f"[dim]{label}[/]"
            if key in existing:
                if self.get_cell(key, "name") != text:
                    self.update_cell(key, "name", text)
                    cost.updated_cells += 1
            else:
                self.add_row(*[text if c == "name" else "" for c in columns], key=key)
                cost.added_rows += 1
        if order != self.order:
            self.order = order
            self._place_rows(order)
        if keep is not None and keep in order:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)
        return cost

    @staticmethod
    def _order(display: pl.DataFrame) -> dict[str, int]:
        """Row positions: ranked entries, the certification line, then pending and excluded.

        The board comes in the engine's order; the two separator rows shift the rows after them.
        """
        unranked = display["_rank"].is_null()
        below = unranked | (display["_certified"] == False).fill_null(False)  # noqa: E712 (polars mask)
        line_at = below.arg_true()[0] if below.any() else display.height
        rest_at = unranked.arg_true()[0] if unranked.any() else None
        index = pl.int_range(0, display.height, eager=True)
        positions = index + (index >= line_at).cast(pl.Int64)
        if rest_at is not None:
            positions = positions + (index >= rest_at).cast(pl.Int64)
        order = dict(zip(display["candidate_id"].to_list(), positions.to_list()))
        order[LINE] = line_at
        if rest_at is not None:
            order[REST] = rest_at + 1
        return order

    def _update_dimensions(self, new_rows) -> None:
        # Every column here has a fixed width and every row a height of 1, so DataTable's
        # measuring of each new cell (14 per row: seconds at 10,000 rows) would change nothing.
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header)

    def _place_rows(self, order: dict[str, int]) -> None:
        """One sort, by the positions the engine gave. This is what DataTable.sort() does at
        its end; given the positions, we skip its key function over every row (the costliest
        part of a refresh at 10,000 rows). Pinned by the console tests of row order."""
        self._row_locations = TwoWayDict({key: order[key.value] for key in self._data})
        self._update_count += 1
        self.refresh()

    def cell_text(self, candidate_id: str, column: str) -> str:
        """What a cell shows, without markup (for tests and the discussion view)."""
        from rich.text import Text

        value = self.get_cell(candidate_id, column)
        return Text.from_markup(value).plain if isinstance(value, str) else str(value)
