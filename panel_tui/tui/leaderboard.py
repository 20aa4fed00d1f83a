"""One category's live leaderboard: a DataTable updated in place, never cleared.

Every row is keyed by candidate id. A refresh updates only the cells whose text changed,
adds new keys, removes missing ones, moves the certification line, sorts once, and puts the
cursor back on the row it was on, so a viewer keeps their place while scores arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from panel_tui.engine import Leaderboard

LINE = "__line__"
REST = "__rest__"
STATUS_TEXT = {
    "certified": ("✔ certified", "bold green"),
    "not_certified": ("not certified", "dim"),
    "undecided": ("? undecided", "bold yellow"),
    "pending": ("… pending", "italic cyan"),
    "excluded": ("✘ excluded", "red"),
}
COMPACT_STATUS = {"certified": "✔ cert", "not_certified": "–", "undecided": "? undec", "pending": "… pend", "excluded": "✘ excl"}


@dataclass
class RefreshCost:
    """What one refresh touched: for the benchmark and for tests of in-place updates."""

    updated_cells: int = 0
    added_rows: int = 0
    removed_rows: int = 0


def _num(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


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
        self.previous_ranks: dict[str, int | None] = {}
        self.movement: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        name_width = 22 if self.compact else 44
        self.add_column("Rank", key="rank", width=4)
        self.add_column("±", key="move", width=3)
        self.add_column("ID", key="id", width=4 if self.compact else 5)
        self.add_column("Name", key="name", width=name_width)
        self.add_column("Total", key="total", width=9)
        self.add_column("%", key="percent", width=6)
        if not self.compact:
            for area in self.areas:
                self.add_column(area, key=f"area:{area}", width=8)
        self.add_column("Gr", key="grade", width=2)
        self.add_column("Status", key="status", width=7 if self.compact else 13)
        self.add_column("Marks", key="marks", width=8 if self.compact else 16)

    def set_compact(self, compact: bool) -> None:
        """Narrow terminals (80 columns) drop the area columns; rebuilt only when the width class changes."""
        if compact == self.compact:
            return
        self.compact = compact
        self.clear(columns=True)
        self._add_columns()
        self.order = {}

    @property
    def selected_candidate(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:
            return None
        return None if key in (LINE, REST) else key

    def _cells(self, row: dict, board: Leaderboard, decimals: int, notes: int) -> dict[str, object]:
        status, style = STATUS_TEXT[row["status"]]
        if self.compact:
            status = COMPACT_STATUS[row["status"]]
        marks = []
        if row["top"]:
            marks.append("★top")
        if row["tie"]:
            marks.append("=tie")
        if row["borderline"]:
            marks.append("≈line")
        if row["decided_by"] not in (None, "total", "panel"):
            marks.append(f"by {row['decided_by']}")
        if row["decided_by"] == "panel" or row["exclusion_code"]:
            marks.append("⚖")
        if notes:
            marks.append(f"✎{notes}")
        cells: dict[str, object] = {
            "rank": Text("" if row["rank"] is None else str(row["rank"]), justify="right"),
            "move": Text(self.movement.get(row["candidate_id"], "")),
            "id": row["candidate_id"],
            "name": Text(row["name"], style="bold" if row["certified"] else ""),
            "total": Text(_num(row["total"], decimals), justify="right"),
            "percent": Text(_num(row["percent"], decimals), justify="right"),
            "grade": "" if row["grade"] is None else str(row["grade"]),
            "status": Text(status, style=style),
            "marks": " ".join(marks),
        }
        if not self.compact:
            for area in board.areas:
                cells[f"area:{area}"] = Text(_num(row[area], decimals), justify="right")
        move = self.movement.get(row["candidate_id"], "")
        if move.startswith("▲"):
            cells["move"] = Text(move, style="bold green")
        elif move.startswith("▼"):
            cells["move"] = Text(move, style="bold red")
        return cells

    def show(self, board: Leaderboard, decimals: int, notes: dict[str, int]) -> RefreshCost:
        """Bring the table up to date with ``board``: keyed, in place, one sort."""
        cost = RefreshCost()
        keep = self.selected_candidate
        columns = [c.value for c in self.columns]
        entries = list(board.entries.iter_rows(named=True))
        ranks = {e["candidate_id"]: e["rank"] for e in entries}
        if self.previous_ranks:
            for cid, rank in ranks.items():
                before = self.previous_ranks.get(cid, "absent")
                if before == "absent":
                    self.movement[cid] = "new"
                elif before is not None and rank is not None and before != rank:
                    self.movement[cid] = f"▲{before - rank}" if rank < before else f"▼{rank - before}"
                elif before != rank:
                    self.movement[cid] = ""
        self.previous_ranks = ranks

        order: dict[str, int] = {}
        line_at = None
        rest_at = None
        for i, e in enumerate(entries):
            position = len(order)
            if e["rank"] is not None and e["certified"] is False and line_at is None:
                line_at = position
                order[LINE] = position
                position += 1
            if e["rank"] is None and rest_at is None:
                if line_at is None:
                    line_at = position
                    order[LINE] = position
                    position += 1
                rest_at = position
                order[REST] = position
                position += 1
            order[e["candidate_id"]] = position
        if line_at is None:
            order[LINE] = len(order)

        existing = {k.value for k in self.rows}
        wanted = set(order)
        for key in existing - wanted:
            self.remove_row(key)
            cost.removed_rows += 1
        threshold = board.category.threshold
        specials = {
            LINE: f"── line {threshold:g} % ────────────" if self.compact else f"── certification line {threshold:g} % ──",
            REST: "── pending and excluded ──",
        }
        for e in entries:
            cid = e["candidate_id"]
            self.names[cid] = e["name"]
            cells = self._cells(e, board, decimals, notes.get(cid, 0))
            if cid in existing:
                for column in columns:
                    new = cells.get(column, "")
                    if _plain(self.get_cell(cid, column)) != _plain(new) or _style(self.get_cell(cid, column)) != _style(new):
                        self.update_cell(cid, column, new)
                        cost.updated_cells += 1
            else:
                self.add_row(*[cells.get(c, "") for c in columns], key=cid)
                cost.added_rows += 1
        for key, label in specials.items():
            if key not in wanted:
                continue
            styled = Text(label, style="bold yellow" if key == LINE else "dim")
            if key in existing:
                if _plain(self.get_cell(key, "name")) != label:
                    self.update_cell(key, "name", styled)
                    cost.updated_cells += 1
            else:
                self.add_row(*[styled if c == "name" else "" for c in columns], key=key)
                cost.added_rows += 1
        if order != self.order:
            self.order = order
            # One sort. DataTable sorts by cell values, so the key maps a row's id cell (or,
            # for the two separator rows, its label) to the position the engine gave it.
            self.sort("id", "name", key=self._position_of)
        if keep is not None and keep in order:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)
        return cost

    def _position_of(self, values: tuple) -> int:
        cid, name = values
        if cid:
            return self.order.get(str(cid), 10**9)
        label = _plain(name)
        return self.order.get(REST if "pending" in label else LINE, 10**9)


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def _style(value: object) -> str:
    return str(value.style) if isinstance(value, Text) else ""
