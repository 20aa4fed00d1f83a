"""The leaderboard's refresh through DataTable's public API only: a baseline for bench_console.

The same diff as ``LeaderboardTable.show`` (computed in polars: which cells changed, which rows
came, went or moved), applied the way Textual documents it: ``update_cell(..., update_width=
False)`` for each changed cell, ``add_row`` / ``remove_row``, and one ``sort`` by position. What
the console's private route (``panel_tui/tui/table_internals.py``) buys is measured against it.
"""

from __future__ import annotations

import polars as pl

from panel_tui.engine import Leaderboard
from panel_tui.tui.leaderboard import LINE, LeaderboardTable, RefreshCost


class PublicRouteTable(LeaderboardTable):
    """A leaderboard refreshed through the public API (the first fill is the console's own)."""

    def show(
        self, board: Leaderboard, decimals: int, notes: dict[str, int], fragile: frozenset[str] = frozenset()
    ) -> RefreshCost:
        if self.on_screen is None:
            return super().show(board, decimals, notes, fragile)
        cost = RefreshCost()
        frame = self._frame(board, notes, fragile)
        inputs = self._inputs()
        for cid in self.on_screen.join(frame, on="candidate_id", how="anti")["candidate_id"].to_list():
            self.remove_row(cid)
            cost.removed_rows += 1
        on = pl.col("_on").is_not_null()
        for column in self.widths:
            names = inputs[column]
            if not names:
                continue
            changed = frame.filter(on & pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"{n}_was")) for n in names]))
            if changed.height:
                texts = changed.select(self._text(column, pl.col, decimals).alias("text"), "candidate_id")
                for value, cid in texts.iter_rows():
                    self.update_cell(cid, column, value, update_width=False)
                    cost.updated_cells += 1
        added = frame.filter(pl.col("_on").is_null())
        if added.height:
            texts = added.select(*(self._text(c, pl.col, decimals).alias(c) for c in self.widths), "candidate_id")
            for *row, cid in texts.iter_rows():
                self.add_row(*row, key=cid)
                cost.added_rows += 1
        # Where every row goes: the candidates by the engine's order, the certification line
        # before the first row below it, the pending-and-excluded separator before the first
        # unranked row (as LeaderboardTable.show places them).
        below, unranked = frame["_below"], frame["_unranked"]
        line_at = frame.height - int(below.cast(pl.Int64).cum_max().sum())
        rest_at = frame.height - int(unranked.cast(pl.Int64).cum_max().sum()) + 1 if unranked.any() else None
        position = dict(zip(frame["candidate_id"].to_list(), frame["_pos"].to_list(), strict=True))
        line_name = str(self.get_cell(LINE, "name"))
        moved = frame.filter(pl.col("_pos").ne_missing(pl.col("_pos_was"))).height
        cost.moved_rows = moved

        def where(cells: tuple[object, object]) -> int:
            cid, name = cells
            if cid in position:
                return position[str(cid)]
            if str(name) == line_name:
                return line_at
            return rest_at if rest_at is not None else len(position) + 1

        if moved or cost.added_rows or cost.removed_rows:
            self.sort("id", "name", key=where)
        self.on_screen = frame.select("candidate_id", "_slot", "_pos", "move", *self._input_columns())
        return cost
