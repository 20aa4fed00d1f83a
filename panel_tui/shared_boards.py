"""Boards one process ranked from a new score sheet, kept for the account's other screens.

When a score sheet changes, every screen of the account (served tabs, consoles) sees it; one of
them reads it (``inputs.contest``: the others wait for its cells, then rank them themselves).
That one keeps the boards it ranked beside the sheet's cache entry (``keep_boards``), and a
served tab waiting meanwhile takes them (``kept_boards``) and shows them at once, before it has
loaded those cells and ranked them itself (``views.take_snapshot``'s ``preview``); its own
ranking then replaces them. On two cores, with three screens at 10,000 candidates, the ones
that waited showed the new boards 0.6 s to 0.7 s after the one that read the sheet
(bench/README.md, "every screen").

The boards are kept under a key of everything they rest on besides the sheet (whose entry
names its bytes): the configuration, the candidates and indicators as loaded, the panel's
decisions and this code. A screen whose journal or files differ in any of these finds
nothing. What is kept is checked like any cache entry (its checksum, its columns); anything
that does not fit is not shown.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from panel_tui import config as config_module
from panel_tui import engine, vocabulary
from panel_tui.config import Config
from panel_tui.engine import Decisions, Leaderboard, Standings, TieOrder
from panel_tui.inputs import cells, contest
from panel_tui.inputs.cache import derived_present, keep_derived_now, kept_derived

# The code the boards come from: this module, the engine, and what it ranks with (the cells,
# the config's types, the contest's loading and translation, the boards' words).
_CODE = hashlib.sha256(
    b"".join(
        Path(path).read_bytes()
        for path in (__file__, *(str(m.__file__) for m in (engine, cells, config_module, contest, vocabulary)))
    )
).hexdigest()
_SCHEMA = pl.Schema({"board": pl.String, "entries": pl.Binary})


def boards_key(config: Config, candidates: pl.DataFrame, indicators: pl.DataFrame, decisions: Decisions) -> list[str]:
    """The key of boards ranked from a sheet (besides its entry): the configuration, the
    candidates and indicators as their files gave them (before any translation), the decisions,
    and the code that ranks and keeps them."""
    return [
        "boards",
        _CODE,
        repr(config),
        _digest(candidates),
        _digest(indicators),
        repr(decisions),
    ]


def keep_boards(entry: str, key: list[str], result: Standings) -> None:
    """Keep ``result``'s boards beside the sheet's entry ``entry`` under ``key``, written now
    (a few milliseconds: the other screens are waiting; nothing when they are kept already)."""
    if not derived_present(entry, key):
        keep_derived_now(entry, key, _frame(result))


def kept_boards(entry: str, key: list[str], config: Config) -> Standings | None:
    """The boards kept beside the sheet's entry ``entry`` under ``key``, as standings with no
    cells (only boards to show: ``Standings.cells`` is empty), or None: none kept, or not
    boards of this configuration."""
    frame = kept_derived(entry, key, _fits)
    if frame is None:
        return None
    categories = {c.id: c for c in config.categories}
    boards = []
    try:
        for meta, entries in frame.iter_rows():
            fields = json.loads(meta)
            category = categories.get(fields["category"])
            if category is None:
                return None
            boards.append(
                Leaderboard(
                    category=category,
                    max_points=float(fields["max_points"]),
                    areas=tuple(fields["areas"]),
                    entries=pl.read_ipc(io.BytesIO(entries)),
                    unresolved_ties=_groups(fields["unresolved_ties"]),
                    tie_groups=_groups(fields["tie_groups"]),
                    applied_tie_orders=_orders(fields["applied_tie_orders"]),
                    stale_tie_orders=_orders(fields["stale_tie_orders"]),
                )
            )
    except (ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        return None
    return Standings(config=config, boards=tuple(boards), cells=pl.DataFrame())


def _frame(result: Standings) -> pl.DataFrame:
    """One row per board: its fields but the entries as JSON, and its entries as Arrow IPC."""
    rows = []
    for board in result.boards:
        meta = {
            "category": board.category.id,
            "max_points": board.max_points,
            "areas": list(board.areas),
            "unresolved_ties": [list(g) for g in board.unresolved_ties],
            "tie_groups": [list(g) for g in board.tie_groups],
            "applied_tie_orders": [asdict(o) for o in board.applied_tie_orders],
            "stale_tie_orders": [asdict(o) for o in board.stale_tie_orders],
        }
        buffer = io.BytesIO()
        board.entries.write_ipc(buffer)
        rows.append((json.dumps(meta), buffer.getvalue()))
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


def _fits(frame: pl.DataFrame) -> bool:
    return frame.schema == _SCHEMA


def _groups(groups: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(c) for c in group) for group in groups)


def _orders(orders: list[dict[str, Any]]) -> tuple[TieOrder, ...]:
    return tuple(
        TieOrder(
            category=str(o["category"]),
            order=tuple(str(c) for c in o["order"]),
            reason=str(o["reason"]),
            by=str(o["by"]),
            seq=int(o["seq"]),
        )
        for o in orders
    )


def _digest(frame: pl.DataFrame) -> str:
    """The SHA-256 of the frame's columns, types and values, written out unambiguously (JSON:
    about 10 ms at 10,000 candidates). Not polars' row hashes: their seeds are fixed and
    known, so someone who may edit candidates.csv could make two versions of it hash alike."""
    values = [frame[column].to_list() for column in frame.columns]
    return hashlib.sha256(json.dumps([frame.columns, [str(t) for t in frame.dtypes], values]).encode()).hexdigest()
