"""One category's live leaderboard: a DataTable updated in place, never cleared.

Every row is keyed by candidate id. A refresh renders the whole board to display text in
polars and compares it there with what is on screen (one join by candidate id, one pass
that keeps only the cells that differ), writes just those cells, adds new keys, removes
missing ones, moves the certification line, re-places only the rows whose position changed,
and puts the cursor back on the row it was on, so a viewer keeps their place while scores
arrive. Unchanged rows cost no Python work at all.

A board of up to ``PUBLIC_UP_TO`` rows (every board of a real contest) takes DataTable's public
API for that; a larger one takes a route through some of DataTable's internals, every one of
them reached through ``table_internals.TableInternals`` (Textual is pinned to 8.2 for them, and
a test names any an upgrade removes), which bench/bench_console.py measures several times
cheaper at 10,000 rows. Both routes apply the same diff; the console tests of row order, cell
text and cursor pin the behaviour, on each route.

Every board paints its cells through ``table_internals.render_cell``: the lines DataTable's own
rendering gives (tests/test_leaderboard.py compares them, line by line and style by style),
made directly for a cell that fits its column, rather than through Rich's general pipeline: the
cells a board shows are all painted again when every total changes, and on each page scrolled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.markup import escape as escape_rich
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from panel_tui.i18n import N_, _
from panel_tui.lazy import lazy
from panel_tui.text import cell_width, clip, text_width, visible, wide_characters
from panel_tui.tui.literal import cell, rich_bold, rich_escape, rich_markup, shown
from panel_tui.tui.table_internals import TableInternals, render_cell
from panel_tui.tui.translated import TranslatedBindings, status_word
from panel_tui.vocabulary import Status

if TYPE_CHECKING:
    import polars as pl

    from panel_tui.engine import Leaderboard
else:
    pl = lazy("polars")  # (the console's first frame comes before polars: panel_tui.lazy)

PUBLIC_UP_TO = 200
WORDS_FROM = 110  # columns: word marks and the whole status from here, symbols below
MIN_NAME = 12  # cells: the name column never gets narrower
MIN_ID, MAX_ID = 5, 16  # cells: the id column fits the widest id in between; a longer one ends in "…"
SCROLLBAR = 2  # cells kept for the vertical scrollbar

# The separator rows' keys: no candidate id can contain a control character (inputs refuses it).
LINE = "\x00line"
REST = "\x00rest"
# A status as the board shows it (Rich markup around the word, translated where it is shown).
STATUS_STYLE = {
    Status.CERTIFIED: ("[b green]✔ ", "[/]"),
    Status.NOT_CERTIFIED: ("[dim]", "[/]"),
    Status.UNDECIDED: ("[b yellow]? ", "[/]"),
    Status.PENDING: ("[i cyan]… ", "[/]"),
    Status.EXCLUDED: ("[red]✘ ", "[/]"),
}
# Below WORDS_FROM columns, in 7 cells (not certified: a dash).
COMPACT_STATUS_WORDS = {
    Status.CERTIFIED: N_("cert"),
    Status.NOT_CERTIFIED: "–",
    Status.UNDECIDED: N_("undec"),
    Status.PENDING: N_("pend"),
    Status.EXCLUDED: N_("excl"),
}
# The columns' headings (an area's is its id, from the files).
HEADINGS = {
    "rank": N_("Rank"),
    "move": "±",
    "id": N_("ID"),
    "name": N_("Name"),
    "total": N_("Total"),
    "percent": "%",
    "grade": N_("Gr"),
    "status": N_("Status"),
    "marks": N_("Marks"),
}


def status_cells(compact: bool) -> dict[str, str]:
    """Each status as a board's cell shows it, in the panel's language."""
    return {
        status: before + escape_rich(_(COMPACT_STATUS_WORDS[status]) if compact else status_word(status)) + after
        for status, (before, after) in STATUS_STYLE.items()
    }


@dataclass
class _Diff:
    """What one refresh changes on screen (``LeaderboardTable._diff``), applied by either route."""

    frame: pl.DataFrame  # every candidate row: its inputs, slot, position and move, and what was on screen
    specials: dict[str, int]  # the separator rows and their positions
    labels: dict[str, str]  # and their text
    gone: list[str] = field(default_factory=list)  # rows to remove: candidate ids and separator keys
    writes: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)  # column -> (slots, texts)
    added: pl.DataFrame | None = None  # the new candidate rows' cell texts, in the engine's order


def _rule(width: int, *labels: str) -> str:
    """A separator row's text: the longest label that fits, drawn out to ``width`` with rules."""
    label = next((text for text in labels if text_width(text) <= width), labels[-1])
    return clip(label, width) + "─" * max(0, width - text_width(label))


@dataclass(frozen=True)
class Layout:
    """Which columns a board shows and how wide its names are (``LeaderboardTable._choose_layout``)."""

    words: bool  # word marks and the whole status (else symbols and a short status)
    areas: bool  # a column per area
    name: int  # the name column's width in cells
    id: int = MIN_ID  # the id column's: its widest id, up to MAX_ID (an id is never cut short unseen)


@dataclass
class RefreshCost:
    """What one refresh touched: for the benchmark and for tests of in-place updates."""

    updated_cells: int = 0
    added_rows: int = 0
    removed_rows: int = 0
    moved_rows: int = 0


def _measured(values: pl.Series, last: tuple[pl.Series, int, str] | None) -> tuple[pl.Series, int, str]:
    """(``values`` sorted, the widest of them as shown, in cells, the wide characters they use):
    ``last`` again when the values are the same (a refresh of scores leaves the names and ids
    as they were; the boards come in rank order, which a refresh changes, hence the sort)."""
    values = values.cast(pl.String).sort()
    if last is not None and last[0].equals(values):
        return last
    visible_values = values.to_frame("text").select(shown(pl.col("text")))["text"]
    wide = wide_characters(visible_values)
    need = visible_values.to_frame("text").select(cell_width(pl.col("text"), wide).max()).item()
    return values, int(need or 0), wide


def _clipped(text: pl.Expr, width: int, wide: str) -> pl.Expr:
    """``text`` cut to ``width`` cells, ending in "…", only where it is wider (a Python call
    for those: cells are counted per character; ``wide``: the wide characters it may hold)."""
    return (
        pl.when(cell_width(text, wide) > width)
        .then(text.map_elements(lambda value: clip(value, width), return_dtype=pl.String))
        .otherwise(text)
    )


class LeaderboardTable(TranslatedBindings, DataTable):
    """The table of one category; ``show(board, ...)`` brings it up to date in place."""

    DEFAULT_CSS = """
    LeaderboardTable { height: 1fr; }
    """

    # Home and End take the cursor to the first and last candidate (DataTable's scroll sideways).
    BINDINGS = [
        Binding("home", "scroll_top", N_("First"), show=False),
        Binding("end", "scroll_bottom", N_("Last"), show=False),
    ]

    # Boards of up to this many rows are refreshed through DataTable's public API, larger ones
    # in place through ``TableInternals``. bench/bench_console.py measures both routes at
    # 100, 1,000 and 10,000 rows (figures in bench/README.md).
    public_up_to = PUBLIC_UP_TO

    def __init__(self, category_id: str, areas: tuple[str, ...], *, compact: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.category_id = category_id
        self.areas = areas
        # Until the table knows its width (its first board): a guess from the terminal's.
        self.board_layout = Layout(words=not compact, areas=not compact, name=22 if compact else 40)
        self._last: tuple[Leaderboard, int, dict[str, int], frozenset[str]] | None = None
        # The names last measured, the widest in cells, and the wide characters they use.
        self._names: tuple[pl.Series, int, str] | None = None
        self._ids: tuple[pl.Series, int, str] | None = None  # the same for the ids
        self._forget()
        self._add_columns()

    @property
    def compact(self) -> bool:
        """Symbols for the marks and a short status (a narrow screen)."""
        return not self.board_layout.words

    def _forget(self) -> None:
        """Nothing on screen is known any more: the next ``show`` fills the table afresh."""
        self.on_screen: pl.DataFrame | None = None  # what every candidate row was made from, and its position
        self._row_keys: dict[str, RowKey] = {}  # every row's key object (the table's own), by candidate id
        # Each candidate row added gets a slot, its index in these lists (``_slot`` in the
        # frames): the refresh reaches a row's key and cells by integer, not by id.
        self._slot_keys: list[RowKey] = []
        self._slot_cells: list[dict[ColumnKey, Any]] = []  # (in place) each slot's cells as the table stores them
        self._specials: dict[str, int] = {}  # the separator rows on screen, and their positions
        self._separators: frozenset[int] = frozenset()  # their positions, where the cursor never rests
        self._decimals: int | None = None

    def clear(self, columns: bool = False) -> LeaderboardTable:
        super().clear(columns)
        self._forget()
        return self

    def _fixed_widths(self, words: bool, areas: bool, id_width: int = MIN_ID) -> dict[str, int]:
        """Every column's width but the name's, in screen order (``name`` a placeholder)."""
        widths = {"rank": 4, "move": max(3, text_width(_("new"))), "id": id_width, "name": 0, "total": 9, "percent": 6}
        if areas:
            widths.update({f"area:{a}": 8 for a in self.areas})
        widths.update({"grade": 2, "status": 13 if words else 7, "marks": 20 if words else 8})
        # A heading is never cut: its column is as wide as its words (Hangul takes two cells).
        return {
            key: max(width, text_width(_(HEADINGS[key]))) if key in HEADINGS else width for key, width in widths.items()
        }

    def _choose_layout(self, need: int, id_need: int = MIN_ID) -> Layout:
        """The layout for this table's width, names ``need`` cells wide and ids ``id_need``:
        the id column as wide as the widest id (``MIN_ID`` to ``MAX_ID``), the name column
        takes the room the other columns leave; the area columns only when every name then
        fits whole; word marks from ``WORDS_FROM`` columns."""
        width = self.size.width or self.app.size.width
        need = max(need, MIN_NAME)
        ids = min(max(id_need, MIN_ID), MAX_ID)
        pad = 2 * self.cell_padding  # each column's padding, both sides
        words = width >= WORDS_FROM
        room = width - SCROLLBAR - pad  # (the name column's own padding)
        plain = sum(w + pad for k, w in self._fixed_widths(words, False, ids).items() if k != "name")
        with_areas = sum(w + pad for k, w in self._fixed_widths(words, True, ids).items() if k != "name")
        if self.areas and room - with_areas >= need:
            return Layout(words, True, room - with_areas, ids)
        return Layout(words, False, max(MIN_NAME, room - plain), ids)

    def _add_columns(self) -> None:
        self.widths = self._fixed_widths(self.board_layout.words, self.board_layout.areas, self.board_layout.id)
        self.widths["name"] = self.board_layout.name
        labels = {key: _(heading) for key, heading in HEADINGS.items()}
        for key, width in self.widths.items():
            self.add_column(
                labels.get(key) or cell(clip(visible(key.removeprefix("area:")), width)), key=key, width=width
            )  # area ids are data

    def on_resize(self) -> None:
        """A new width may call for another layout: shown again (nothing else is redrawn)."""
        if self._last is not None:
            self.show(*self._last)

    def _name_need(self, names: pl.Series) -> int:
        """The widest name in cells (counted again only when the names changed)."""
        self._names = _measured(names, self._names)
        return self._names[1]

    def _id_need(self, ids: pl.Series) -> int:
        """The widest id in cells (counted again only when the ids changed)."""
        self._ids = _measured(ids, self._ids)
        return self._ids[1]

    def full_name(self, candidate_id: str | None) -> str | None:
        """The candidate's whole name when the table shows it cut (else None)."""
        if candidate_id is None or self.on_screen is None:
            return None
        found = self.on_screen.filter(pl.col("candidate_id") == candidate_id)["name"]
        if found.is_empty() or found[0] is None:
            return None
        name = visible(found[0])
        return name if text_width(name) > self.board_layout.name else None

    def validate_cursor_coordinate(self, value: Coordinate) -> Coordinate:
        """The cursor rests on candidates only: a move onto a separator row goes on past it in
        the same direction (or back, at either end)."""
        value = super().validate_cursor_coordinate(value)
        if value.row not in self._separators:
            return value
        step = 1 if value.row >= self.cursor_row else -1
        for direction in (step, -step):
            row = value.row + direction
            while 0 <= row < self.row_count and row in self._separators:
                row += direction
            if 0 <= row < self.row_count:
                return Coordinate(row, value.column)
        return value

    @property
    def selected_candidate(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except CellDoesNotExist:  # the cursor is past the rows (a board that just shrank)
            return None
        return None if key in (LINE, REST) else key

    def _inputs(self) -> dict[str, tuple[str, ...]]:
        """The board's columns each table column is made from: a cell is written again only
        when one of them changed."""
        inputs = {
            "rank": ("rank",),
            "move": ("move",),
            "id": (),
            "name": ("name", "certified"),
            "total": ("total",),
            "percent": ("percent",),
        }
        inputs.update({column: (column.removeprefix("area:"),) for column in self.widths if column.startswith("area:")})
        inputs.update(
            {
                "grade": ("grade",),
                "status": ("status",),
                "marks": ("top", "tie", "borderline", "decided_by", "exclusion_code", "notes", "_fragile", "_decided"),
            }
        )
        return inputs

    def _input_columns(self) -> list[str]:
        """Every board column a cell is made from, once (``move`` is the table's own)."""
        return sorted({name for names in self._inputs().values() for name in names} - {"move"})

    def _text(self, column: str, col, decimals: int) -> pl.Expr:
        """One column's display text (Textual markup), made from the board's columns as
        ``col(name)`` gives them: all rows, or only the rows to write."""
        if column in ("total", "percent") or column.startswith("area:"):
            width = {"total": 9, "percent": 6}.get(column, 8)
            value = col(column.removeprefix("area:"))
            return value.cast(pl.Decimal(scale=decimals)).cast(pl.String).fill_null("").str.pad_start(width)
        if column == "rank":
            return col("rank").cast(pl.String).fill_null("").str.pad_start(4)
        if column == "move":
            return col("move")
        if column == "id":  # data from the files: shown literally (literal.rich_markup)
            # (Longer than MAX_ID cells, cut to the column, ending in "…": never cut unseen.)
            wide = self._ids[2] if self._ids is not None else ""
            return rich_markup(_clipped(col("candidate_id").cast(pl.String), self.board_layout.id, wide))
        if column == "name":
            # Cut to the column, ending in "…", only where a name is wider (a Python call for
            # those: cells are counted per character); the whole name shows below the board.
            wide = self._names[2] if self._names is not None else ""  # (show measures the names first)
            name = _clipped(shown(col("name")), self.board_layout.name, wide)
            return (
                pl.when(col("certified").fill_null(False))
                .then(rich_bold(name, already_shown=True))
                .otherwise(rich_escape(name))
            )
        if column == "grade":
            return col("grade").cast(pl.String).fill_null("")
        if column == "status":
            return col("status").replace_strict(status_cells(self.compact))
        # Marks: words on a wide screen; at 80 columns (8 cells) the symbols alone, so that
        # every mark of a row fits ("★=≈A1⚖✎2⚠"). The symbols stay in every language.
        short = self.compact

        def word(symbol: str, message: str) -> pl.Expr:
            return pl.lit(symbol if short else symbol + escape_rich(_(message)))

        decided_by = col("decided_by")
        by_before, _area, by_after = _("by {area}").partition("{area}")
        return pl.concat_str(
            [
                pl.when(col("top")).then(word("★", N_("top"))),
                pl.when(col("tie")).then(word("=", N_("tie"))),
                pl.when(col("borderline")).then(word("≈", N_("line"))),
                pl.when(~decided_by.is_in(["total", "panel"]) & decided_by.is_not_null()).then(
                    rich_markup(decided_by)
                    if short
                    else pl.concat_str(
                        [pl.lit(escape_rich(by_before)), rich_markup(decided_by), pl.lit(escape_rich(by_after))]
                    )
                ),
                # The panel decided: every member of a group it ordered, an exclusion.
                pl.when(col("_decided") | col("exclusion_code").is_not_null()).then(pl.lit("⚖")),
                pl.when(col("notes") > 0).then(pl.format("✎{}", col("notes"))),
                pl.when(col("_fragile")).then(
                    pl.lit("[b red]⚠[/]" if short else "[b red]⚠" + escape_rich(_("fragile")) + "[/]")
                ),
            ],
            separator="" if short else " ",
            ignore_nulls=True,
        )

    def _frame(self, board: Leaderboard, notes: dict[str, int], fragile: frozenset[str]) -> pl.DataFrame:
        """The board's columns that the cells are made from, each row's position on screen and
        its move, in the engine's order; beside each, what is on screen now (``<name>_was``,
        and ``_on`` null for a row not on screen)."""
        notes_frame = pl.DataFrame(
            {"candidate_id": list(notes), "notes": list(notes.values())},
            schema={"candidate_id": pl.String, "notes": pl.Int64},
        )
        # Positions on screen: the board comes in the engine's order; the certification line
        # goes before the first row below it, the pending-and-excluded separator before the
        # first unranked row, and each shifts the rows after it by one.
        unranked = pl.col("rank").is_null()
        below = unranked | (pl.col("certified") == False).fill_null(False)  # noqa: E712 (polars mask)
        inputs = self._input_columns()
        entries = board.entries
        # An area this table has a column for that the board lacks (a locked list from before
        # the indicators changed): an empty cell, not a failure.
        missing = [
            name for name in inputs if name not in entries.columns and name not in ("notes", "_fragile", "_decided")
        ]
        if missing:
            entries = entries.with_columns(pl.lit(None, pl.Float64).alias(name) for name in missing)
        frame = (
            entries.lazy()
            .join(notes_frame.lazy(), on="candidate_id", how="left", maintain_order="left")
            .select(
                "candidate_id",
                *[name for name in inputs if name not in ("notes", "_fragile", "_decided")],
                "notes",
                _fragile=pl.col("candidate_id").is_in(list(fragile)),
                _decided=pl.col("candidate_id").is_in(
                    [cid for order in board.applied_tie_orders for cid in order.order]
                ),
                _pos=pl.int_range(pl.len(), dtype=pl.Int64)
                + below.cast(pl.Int64).cum_max()
                + unranked.cast(pl.Int64).cum_max(),
                _below=below,
                _unranked=unranked,
            )
        )
        on_screen = self.on_screen
        fresh = on_screen is None
        if on_screen is None:
            frame = frame.with_columns(
                _slot=pl.lit(None, pl.Int64),
                _on=pl.lit(None, pl.Boolean),
                _pos_was=pl.lit(None, pl.Int64),
                move_was=pl.lit(None, pl.String),
                **{f"{name}_was": pl.lit(None) for name in inputs},
            )
        else:
            previous = on_screen.lazy().select(
                "candidate_id",
                "_slot",
                _on=pl.lit(True),
                _pos_was=pl.col("_pos"),
                move_was=pl.col("move"),
                **{f"{name}_was": pl.col(name) for name in inputs},
            )
            frame = frame.join(previous, on="candidate_id", how="left", maintain_order="left")
        rank, was = pl.col("rank"), pl.col("rank_was")
        move = (
            pl.when(pl.lit(fresh))
            .then(pl.lit(""))
            .when(pl.col("_on").is_null() | (rank.is_not_null() & was.is_null()))
            .then(pl.lit("[b]" + escape_rich(_("new")) + "[/]"))  # or newly ranked
            .when(rank.is_not_null() & was.is_not_null() & (rank < was))
            .then(pl.format("[b green]▲{}[/]", was - rank))
            .when(rank.is_not_null() & was.is_not_null() & (rank > was))
            .then(pl.format("[b red]▼{}[/]", rank - was))
            .when(rank.eq_missing(was))
            .then(pl.col("move_was"))
            .otherwise(pl.lit(""))
        )
        new = pl.col("_on").is_null()
        slot = pl.coalesce(
            "_slot", len(self._slot_keys) + new.cast(pl.Int64).cum_sum() - 1
        )  # new rows: the next slots, in order
        return frame.with_columns(move=move, _slot=slot).collect(
            engine="in-memory"
        )  # the streaming engine costs more at this size

    def show(
        self, board: Leaderboard, decimals: int, notes: dict[str, int], fragile: frozenset[str] = frozenset()
    ) -> RefreshCost:
        """Bring the table up to date with ``board``: keyed, in place, only what changed."""
        keep = self.selected_candidate
        self._last = (board, decimals, notes, fragile)
        areas_changed = board.areas != self.areas  # (the first board brings the areas)
        self.areas = board.areas
        layout = self._choose_layout(
            self._name_need(board.entries["name"]), self._id_need(board.entries["candidate_id"])
        )
        if layout != self.board_layout or areas_changed:  # another width, or longer names: the columns anew
            self.board_layout = layout
            self.clear(columns=True)
            self._add_columns()
        diff = self._diff(board, decimals, notes, fragile)
        if diff.frame.height + len(diff.specials) <= self.public_up_to:
            cost = self._apply_public(diff)
        else:
            cost = self._apply_in_place(diff)
        self._specials = diff.specials
        self._separators = frozenset(diff.specials.values())
        self._decimals = decimals
        self.on_screen = diff.frame.select("candidate_id", "_slot", "_pos", "move", *self._input_columns())
        if keep is not None and keep in self._row_keys:
            index = self.get_row_index(self._row_keys[keep])
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)
        return cost

    def _diff(self, board: Leaderboard, decimals: int, notes: dict[str, int], fragile: frozenset[str]) -> _Diff:
        """What must change on screen, worked out in polars: the rows that went, each column's
        changed cells (by slot) with their new text, the new rows' texts, where the separator
        rows go and what they say."""
        frame = self._frame(board, notes, fragile)
        columns = list(self.widths)
        inputs = self._inputs()
        below, unranked = frame["_below"], frame["_unranked"]
        specials = {LINE: frame.height - int(below.cast(pl.Int64).cum_max().sum())}
        if unranked.any():
            specials[REST] = frame.height - int(unranked.cast(pl.Int64).cum_max().sum()) + 1
        threshold = board.category.threshold
        room = self.board_layout.name
        percent = f"{threshold:g}"
        line = _rule(
            room,
            "── " + _("certification line {percent} %").format(percent=percent) + " ",
            "── " + _("line {percent} %").format(percent=percent) + " ",
            f"{percent} % ",
        )
        rest = _rule(room, "── " + _("pending and excluded") + " ", "── " + _("not ranked") + " ", "── ")
        labels = {LINE: f"[b yellow]{escape_rich(line)}[/]", REST: f"[dim]{escape_rich(rest)}[/]"}
        diff = _Diff(frame=frame, specials=specials, labels={key: labels[key] for key in specials})
        new_rows = frame.height if self.on_screen is None else frame["_on"].null_count()
        if self.on_screen is not None:
            if self.on_screen.height != frame.height - new_rows:
                diff.gone = self.on_screen.join(frame, on="candidate_id", how="anti")["candidate_id"].to_list()
            diff.gone += [key for key in self._specials if key not in specials]
            # The cells to write, in one pass over the board: for each column, the rows on screen
            # whose inputs changed, and only theirs formatted.
            on = pl.col("_on").is_not_null()
            redo = decimals != self._decimals  # every number is written again
            masks = {}
            for column in columns:
                names = inputs[column]
                if redo and (column in ("total", "percent") or column.startswith("area:")):
                    masks[column] = on
                elif names:
                    masks[column] = on & pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"{n}_was")) for n in names])
            frame = frame.with_columns(**{f"_write:{column}": mask for column, mask in masks.items()})
            writes = []
            for column in masks:
                mask = pl.col(f"_write:{column}")
                writes.append(
                    pl.struct(
                        slots=pl.col("_slot").filter(mask).implode(),
                        values=self._text(
                            column, lambda name, mask=mask: pl.col(name).filter(mask), decimals
                        ).implode(),
                    ).alias(column)
                )
            for column, written in zip(masks, frame.select(writes).row(0), strict=True):
                if written["slots"]:
                    diff.writes[column] = (written["slots"], written["values"])
        if new_rows:
            added = frame if self.on_screen is None else frame.filter(pl.col("_on").is_null())
            diff.added = added.select(*(self._text(c, pl.col, decimals).alias(c) for c in columns), "candidate_id")
        return diff

    def _add(self, diff: _Diff, cost: RefreshCost) -> bool:
        """Add the new candidate rows and the separator rows not yet on screen (at the end:
        the caller puts every row in its place); True when any row was added."""
        columns = list(self.widths)
        if diff.added is not None:
            for *row, cid in diff.added.iter_rows():
                row_key = self.add_row(*row, key=cid)
                self._row_keys[cid] = row_key
                self._slot_keys.append(row_key)
            cost.added_rows += diff.added.height
        for key, text in diff.labels.items():
            if key not in self._row_keys:
                self._row_keys[key] = self.add_row(*[text if c == "name" else "" for c in columns], key=key)
                cost.added_rows += 1
        return bool(cost.added_rows)

    def _moved(self, diff: _Diff) -> tuple[pl.DataFrame, list[tuple[str, int]]]:
        """The candidate rows (slot, position) and separator rows (key, position) that moved."""
        frame = diff.frame
        moved = frame.filter(pl.col("_pos").ne_missing(pl.col("_pos_was"))).select("_slot", "_pos")
        return moved, [(key, at) for key, at in diff.specials.items() if self._specials.get(key) != at]

    def _apply_public(self, diff: _Diff) -> RefreshCost:
        """The diff through DataTable's public API: ``remove_row``, ``update_cell(...,
        update_width=False)``, ``add_row`` and one ``sort`` by position. Each call passes over the
        table, which costs nothing that matters on a board of a few hundred rows (the demo's
        have 10 to 14): bench_console measures both routes."""
        cost = RefreshCost()
        row_keys, slot_keys = self._row_keys, self._slot_keys
        for key in diff.gone:  # their slots stay empty
            self.remove_row(row_keys.pop(key))
        cost.removed_rows = len(diff.gone)
        for column, (slots, values) in diff.writes.items():
            for slot, value in zip(slots, values, strict=True):
                self.update_cell(slot_keys[slot], column, value, update_width=False)
            cost.updated_cells += len(slots)
        for key, text in diff.labels.items():
            if key in row_keys and self.get_cell(row_keys[key], "name") != text:
                self.update_cell(row_keys[key], "name", text, update_width=False)
                cost.updated_cells += 1
        structure = self._add(diff, cost) or bool(diff.gone)
        moved, specials_moved = self._moved(diff)
        cost.moved_rows = moved.height + len(specials_moved)
        if structure or cost.moved_rows:
            # Where each row goes, by what the sort is given of it (its cells): a candidate by
            # its id cell (ids are unique and their text is an escaping of them), a separator
            # row (no id) by its label.
            frame = diff.frame
            ids = frame.select(self._text("id", pl.col, self._decimals or 0).alias("id"), "_pos")
            at: dict[object, int] = dict(ids.iter_rows())
            labels = {text: diff.specials[key] for key, text in diff.labels.items()}
            self.sort("id", "name", key=lambda cells: at[cells[0]] if cells[0] else labels[cells[1]])
            if structure:
                self.cursor_coordinate = self.cursor_coordinate  # within the table's new bounds
        return cost

    def _apply_in_place(self, diff: _Diff) -> RefreshCost:
        """The diff written straight into DataTable's store through ``TableInternals``: rows
        removed at once, cells written by slot, only the moved rows re-placed, and only the
        render caches dropped when no row moved (Textual 8.2's ``update_cell`` and ``sort`` each
        bump the generation that also keys the row order, so the next paint re-sorts every row)."""
        cost = RefreshCost()
        internals = TableInternals(self)  # every private part of DataTable, behind one adapter
        row_keys, slot_keys = self._row_keys, self._slot_keys
        column_keys = {key.value: key for key in self.columns}  # the table's own key objects
        slot_cells = self._slot_cells  # filled here for the rows any route added since
        slot_cells.extend(internals.cells(key) if key in self.rows else {} for key in slot_keys[len(slot_cells) :])
        if diff.gone:
            internals.remove_rows([row_keys.pop(key) for key in diff.gone])  # their slots stay empty
            cost.removed_rows = len(diff.gone)
        written: set[int] = set()  # the slots of the rows whose text changes (as ints: a row key hashes in Python)
        for column, (slots, values) in diff.writes.items():
            column_key = column_keys[column]
            for slot, value in zip(slots, values, strict=True):
                slot_cells[slot][column_key] = value
            written.update(slots)
            cost.updated_cells += len(slots)
        changed: set[RowKey] = {slot_keys[slot] for slot in written}  # the rows whose text or place changes
        name_key = column_keys["name"]
        for key, text in diff.labels.items():
            if key in row_keys:
                cells = internals.cells(row_keys[key])
                if cells[name_key] != text:
                    cells[name_key] = text
                    changed.add(row_keys[key])
                    cost.updated_cells += 1
        structure = self._add(diff, cost) or bool(diff.gone)
        moved, specials_moved = self._moved(diff)
        cost.moved_rows = moved.height + len(specials_moved)
        many = cost.moved_rows > len(row_keys) // 4
        if structure or many:
            # Every position anew (cheaper than one by one when many rows move).
            frame = diff.frame
            positions = dict(
                zip(map(slot_keys.__getitem__, frame["_slot"].to_list()), frame["_pos"].to_list(), strict=True)
            )
            positions.update({row_keys[key]: at for key, at in diff.specials.items()})
            internals.place(positions)
        elif cost.moved_rows:
            # A permutation of the positions the rows had: each set once.
            for slot, at in moved.iter_rows():
                internals.move(slot_keys[slot], at)
                changed.add(slot_keys[slot])
            for key, at in specials_moved:
                internals.move(row_keys[key], at)
                changed.add(row_keys[key])
        if structure or many:
            internals.rows_moved(added_or_removed=structure)
            if structure:
                self.cursor_coordinate = self.cursor_coordinate  # within the table's new bounds
                self.check_idle()
        elif changed:
            # Only these rows are rendered again (a correction changes a few cells).
            internals.rows_changed(changed, moved=bool(cost.moved_rows))
        if structure or cost.moved_rows or cost.updated_cells:
            self.refresh()
        return cost

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        # A cell that fits its column is painted without Rich's general pipeline (the same lines:
        # ``table_internals.render_cell``); the visible cells of a board whose every total changed
        # are all painted again, and each page scrolled.
        lines = render_cell(self, row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _update_dimensions(self, new_rows) -> None:
        # Every column here has a fixed width and every row a height of 1, so DataTable's
        # measuring of each new cell (14 per row: seconds at 10,000 rows) would change nothing.
        # A board the public route serves is measured the public way.
        if self.row_count <= self.public_up_to or any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        label_width, rows_height = TableInternals(self).size_parts()
        self.virtual_size = Size(width + label_width, rows_height + header)

    def cell_text(self, candidate_id: str, column: str) -> str:
        """What a cell shows, without markup (what the console tests read)."""
        from rich.text import Text

        value = self.get_cell(candidate_id, column)
        return Text.from_markup(value).plain if isinstance(value, str) else str(value)
