"""The leaderboard's in-place refresh against a table built afresh, over random sequences of boards.

Each step changes scores, adds and drops candidates, makes some pending or excluded; after
every in-place refresh the table must hold exactly what a freshly filled table holds (every
cell, every row in its place, the separator rows), the move column must say how each rank
moved since the last refresh, and the cursor must stay on its candidate.
"""

from __future__ import annotations

import asyncio
import functools
import random
from types import SimpleNamespace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.renderables.styled import Styled
from textual.widgets import DataTable

from panel_tui.tui.leaderboard import LINE, REST, LeaderboardTable

AREAS = ("A1", "A2")


def scores(rng: random.Random, pool: list[str], previous: list[dict] | None = None) -> list[dict]:
    """Every candidate's scores: drawn afresh, or the previous ones with one or two changed."""
    if previous is not None:
        rows = [dict(row) for row in previous]
        for row in rng.sample(rows, rng.randint(1, 2)):
            row["A1"] = round(row["A1"] * rng.choice([0.9, 1.1]), 2)
            row["total"] = row["percent"] = row["A1"] + row["A2"]
        return rows
    ids = sorted(rng.sample(pool, rng.randint(len(pool) // 2, len(pool))))
    unranked = rng.choice([0.0, 0.12])  # some boards have no pending or excluded candidates
    rows = []
    for cid in ids:
        a1, a2 = rng.choice([round(rng.uniform(20, 60), 2), 55.0, 40.25]), round(rng.uniform(10, 40), 2)
        fate = rng.random()
        status = "pending" if fate < unranked * 2 / 3 else "excluded" if fate < unranked else None
        rows.append(
            {
                "candidate_id": cid,
                "name": f"Name [{cid}]",
                "A1": a1,
                "A2": a2,
                "total": a1 + a2,
                "percent": a1 + a2,
                "status": status,
            }
        )
    return rows


def board(rows: list[dict], threshold: float = 70.0) -> SimpleNamespace:
    """A board in the engine's shape and order: ranked by total, then pending, then excluded."""
    frame = pl.DataFrame(rows)
    ranked = frame.filter(pl.col("status").is_null()).sort(["total", "candidate_id"], descending=[True, False])
    ranked = ranked.with_columns(rank=pl.col("total").rank("min", descending=True).cast(pl.Int64))
    ranked = ranked.with_columns(
        certified=pl.col("percent") >= threshold,
        status=pl.when(pl.col("percent") >= threshold).then(pl.lit("certified")).otherwise(pl.lit("not_certified")),
    )
    rest = frame.filter(pl.col("status").is_not_null()).sort(["status", "candidate_id"], descending=[True, False])
    rest = rest.with_columns(rank=pl.lit(None, pl.Int64), certified=pl.lit(None, pl.Boolean))
    entries = pl.concat([ranked, rest.select(ranked.columns)]).with_columns(
        grade=pl.when(pl.col("rank").is_not_null()).then((pl.col("total") // 20).cast(pl.Int64)),
        top=pl.col("rank") == 1,
        tie=pl.col("total").is_duplicated() & pl.col("rank").is_not_null(),
        borderline=(pl.col("percent") - threshold).abs() < 3,
        decided_by=pl.when(pl.col("rank").is_not_null()).then(pl.lit("total")),
        exclusion_code=pl.when(pl.col("status") == "excluded").then(pl.lit("C1")),
    )
    return SimpleNamespace(
        entries=entries, areas=AREAS, category=SimpleNamespace(threshold=threshold), applied_tie_orders=()
    )


def content(table: LeaderboardTable) -> list[tuple[str, list]]:
    """Every row, in screen order: its key and its cells but the move column."""
    columns = [c for c in table.widths if c != "move"]
    rows = []
    for index in range(table.row_count):
        key = table.coordinate_to_cell_key((index, 0)).row_key.value
        rows.append((key, [table.get_cell(key, c) for c in columns]))
    return rows


def painted(table: LeaderboardTable) -> list:
    """What the table paints, line by line, with each cell's style (its place, for the mouse,
    included), from what it kept rendered."""
    return [table.render_line(y) for y in range(table.size.height)]


def painted_afresh(table: LeaderboardTable) -> list:
    """The same with nothing kept: every visible cell rendered again from the table's store."""
    table._clear_caches()
    table._update_count += 1
    return painted(table)


def painted_by_rich(table: LeaderboardTable) -> list:
    """The same with nothing kept and every cell rendered by DataTable's own route (Rich's
    general pipeline), not the leaderboard's direct one (``table_internals.render_cell``)."""
    table._render_cell = functools.partial(DataTable._render_cell, table)  # (the instance's, for now)
    try:
        return painted_afresh(table)
    finally:
        del table._render_cell


# The two routes a refresh can take: DataTable's public API (boards up to ``public_up_to``
# rows), the in-place one through TableInternals (larger boards), and boards that cross between
# them (the pool has 60 candidates, boards 30 to 60 rows).
ROUTES = {"public": 10**9, "in place": 0, "crossing": 45}


@pytest.mark.parametrize("route", ROUTES)
def test_in_place_refresh_equals_a_fresh_table_over_random_changes(route):
    class Tables(App):
        def compose(self):
            live = LeaderboardTable("c", AREAS, id="live")
            live.public_up_to = ROUTES[route]
            yield live
            yield LeaderboardTable("c", AREAS, id="fresh")

    async def scenario():
        rng = random.Random(7)
        pool = [f"K{i:03d}" for i in range(60)]
        app = Tables()
        async with app.run_test(size=(200, 50)) as pilot:
            live = app.query_one("#live", LeaderboardTable)
            fresh = app.query_one("#fresh", LeaderboardTable)
            ranks: dict[str, int | None] = {}
            moves: dict[str, str] = {}
            rows = None
            notes: dict[str, int] = {}
            fragile: frozenset[str] = frozenset()
            for step in range(60):
                # Half the steps change one or two candidates' scores (a correction), the others
                # draw a new board: candidates come and go, notes, badges and the threshold change.
                small = rows is not None and rng.random() < 0.5
                rows = scores(rng, pool, rows if small else None)
                if not small:
                    notes = {cid: rng.randint(0, 2) for cid in rng.sample(pool, 5)}
                    fragile = frozenset(rng.sample(pool, 3))
                    threshold = rng.choice([70.0, 70.0, 65.0])
                b = board(rows, threshold)
                keep = live.selected_candidate
                cost = live.show(b, 2, notes, fragile)
                fresh.clear()
                fresh.show(b, 2, notes, fragile)
                await pilot.pause(0)
                assert content(live) == content(fresh), f"step {step}"
                # What it paints from the renderings it kept (the in-place route drops only the
                # rows that changed or moved) is what it paints with nothing kept.
                assert painted(live) == painted_afresh(live), f"step {step}"
                # Each cell painted as DataTable itself paints it (the cursor's row, the hover,
                # the separators, markup of every kind the board writes).
                assert painted(live) == painted_by_rich(live), f"step {step}"
                assert live.row_count == b.entries.height + 1 + (b.entries["rank"].null_count() > 0)
                assert LINE in [k for k, _ in content(live)]
                assert (REST in [k for k, _ in content(live)]) == (b.entries["rank"].null_count() > 0)
                # The move column: how the rank moved since the last refresh.
                for cid, rank in b.entries.select("candidate_id", "rank").iter_rows():
                    if step == 0:
                        expected = ""
                    elif cid not in ranks or (rank is not None and ranks[cid] is None):
                        expected = "[b]new[/]"  # new on the board, or newly ranked
                    elif rank is not None and ranks[cid] is not None and rank < ranks[cid]:
                        expected = f"[b green]▲{ranks[cid] - rank}[/]"
                    elif rank is not None and ranks[cid] is not None and rank > ranks[cid]:
                        expected = f"[b red]▼{rank - ranks[cid]}[/]"
                    elif rank == ranks[cid]:
                        expected = moves[cid]
                    else:
                        expected = ""
                    assert live.get_cell(cid, "move") == expected, (step, cid)
                    moves[cid] = expected
                ranks = dict(b.entries.select("candidate_id", "rank").iter_rows())
                moves = {cid: moves[cid] for cid in ranks}
                if keep is not None and keep in ranks:
                    assert live.selected_candidate == keep
                if step and cost.added_rows == 0 and cost.removed_rows == 0:
                    assert cost.updated_cells < live.row_count * len(live.widths)
                live.move_cursor(row=rng.randrange(live.row_count), animate=False)

    asyncio.run(scenario())


@pytest.mark.parametrize("route", ["public", "in place"])
def test_a_refresh_with_nothing_changed_touches_nothing(route):
    class Tables(App):
        def compose(self):
            live = LeaderboardTable("c", AREAS, id="live")
            live.public_up_to = ROUTES[route]
            yield live

    async def scenario():
        b = board(scores(random.Random(3), [f"K{i:03d}" for i in range(30)]))
        app = Tables()
        async with app.run_test(size=(200, 50)) as pilot:
            live = app.query_one("#live", LeaderboardTable)
            live.show(b, 2, {})
            await pilot.pause(0)
            before = live._update_count
            cost = live.show(b, 2, {})
            assert (cost.updated_cells, cost.added_rows, cost.removed_rows, cost.moved_rows) == (0, 0, 0, 0)
            assert live._update_count == before  # no cache of the table was invalidated

    asyncio.run(scenario())


# The direct route for one cell (``table_internals.cell_lines``) against Rich's own pipeline, as
# DataTable calls it: texts of every width class (Latin, Hangul, emoji, combining marks, a joiner,
# a variation selector, Arabic, control characters, brackets), markup spans, styles before and after, with a mouse place or none.
PIECES = st.text(alphabet="ab 1.▲▼✔✎…[]\\가힣서울😀é\u0301\u200d\ufe0f\u0627\x1b\x00\t", max_size=8)
MARKUP = st.sampled_from(["", "b", "dim", "b green", "b red", "i cyan", "red", "link=https://x.kr", "reverse"])
STYLES = st.sampled_from(
    [
        Style(),
        Style(color="red"),
        Style(bold=True, bgcolor="blue") + Style.from_meta({"row": 3, "column": 1}),
        Style.from_meta({"row": 0, "column": 0}),
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(PIECES, MARKUP), max_size=4),
    st.integers(0, 24),
    st.integers(0, 2),
    STYLES,
    STYLES,
    st.sampled_from([True, None, False]),  # (DataTable makes a one-line row's texts no_wrap)
)
def test_a_cell_is_painted_as_rich_paints_it(pieces, width, padding, pre, post, no_wrap):
    from panel_tui.tui.table_internals import cell_lines

    console = Console(width=200)
    markup = "".join(f"[{m}]{escape(p)}[/]" if m and p else escape(p) for p, m in pieces)
    text = Text.from_markup(markup, end="")
    text.no_wrap = no_wrap
    direct = cell_lines(console, text, width, padding, pre, post)
    options = console.options.update_dimensions(width, 1).update(no_wrap=True)
    by_rich = console.render_lines(Styled(Padding(text, (0, padding)), pre_style=pre, post_style=post), options)
    if direct is not None:
        assert direct == by_rich
    fits = (
        no_wrap is not False
        and all(c.isascii() and c.isprintable() for c in text.plain)
        and width - 2 * padding > 0
        and len(text.plain) <= width - 2 * padding
    )
    if fits:  # (a plain text that fits its column: the direct route takes it)
        assert direct is not None


def test_the_datatable_internals_the_leaderboard_uses_are_all_there():
    """One clear message when an upgraded Textual lacks a private part the leaderboard uses."""
    import textual
    from textual.app import App

    from panel_tui.tui.table_internals import missing

    class One(App):
        def compose(self):
            yield LeaderboardTable("large_city", ("A1",), id="t")

    async def check() -> list[str]:
        app = One()
        async with app.run_test():
            return missing(app.query_one(LeaderboardTable))

    gone = asyncio.run(check())
    assert gone == [], (
        f"Textual {textual.__version__} lacks DataTable internals the leaderboard writes through "
        f"(panel_tui/tui/table_internals.py): {', '.join(gone)}; keep textual pinned to 8.2 or adapt the adapter"
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 35), (200, 50)])
def test_ids_are_shown_whole_and_a_long_one_visibly_cut(size):
    """Candidate ids of more than five characters (K02251 and K02252 both showed as "K0225"):
    the id column is as wide as the widest id, up to MAX_ID cells; an id longer than that is
    cut ending in "…", never cut unseen. At every size."""
    from panel_tui.text import text_width
    from panel_tui.tui.leaderboard import MAX_ID

    long = "X" * (MAX_ID + 4)
    ids = ["K02251", "K02252", "SC-2022-017", long]

    class Tables(App):
        def compose(self):
            yield LeaderboardTable("c", AREAS, id="live")

    async def scenario():
        rows = [
            {
                "candidate_id": cid,
                "name": f"Name {i}",
                "A1": 40.0 + i,
                "A2": 20.0,
                "total": 60.0 + i,
                "percent": 60.0 + i,
                "status": None,
            }
            for i, cid in enumerate(ids)
        ]
        async with Tables().run_test(size=size) as pilot:
            live = pilot.app.query_one("#live", LeaderboardTable)
            live.show(board(rows), 2, {})
            await pilot.pause(0)
            width = live.widths["id"]
            shown = {cid: str(live.get_cell(cid, "id")) for cid in ids}
            assert width == MAX_ID
            for cid in ids[:3]:
                assert shown[cid] == cid and text_width(cid) <= width
            assert shown[long] == long[: MAX_ID - 1] + "…"

    asyncio.run(scenario())
