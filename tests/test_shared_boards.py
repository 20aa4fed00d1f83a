"""Issue 16.4: the boards one screen ranked from a new score sheet, kept for the account's other
screens (panel_tui/shared_boards.py), and a display waiting for that screen's read showing them
at once (``views.take_snapshot``'s ``preview``; the console's ``BoardsPreviewed``).

Kept boards come back as they were ranked (every field of every board); they are found only
under the very key of what they rest on (the configuration, the candidates and indicators, the
decisions, the sheet's entry): another journal or other files find nothing; damaged ones
are not shown; a screen with a proposal or a lock pending takes none; a console takes none.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import polars as pl
import pytest
from conftest import ContestFiles
from textual.pilot import Pilot

from panel_tui import shared_boards, views
from panel_tui.config import load_config
from panel_tui.engine import Decisions, Exclusion, Standings, TieOrder, standings
from panel_tui.inputs import cache, load_contest
from panel_tui.meeting import Meeting
from panel_tui.tui.app import PanelApp
from panel_tui.tui.leaderboard import LeaderboardTable


@pytest.fixture
def bare(cached: ContestFiles) -> ContestFiles:
    """The demo contest, cached (``conftest.cached``), with no conflicts declared (a sheet with
    them is read whole by every screen, as it is parsed)."""
    cached.edit_config('conflicts = "data/conflicts.csv"', "")
    return cached


def _same_boards(a: Standings, b: Standings) -> bool:
    return len(a.boards) == len(b.boards) and all(
        x.entries.equals(y.entries)
        and x.entries.schema == y.entries.schema
        and dataclasses.replace(x, entries=y.entries) == y
        for x, y in zip(a.boards, b.boards, strict=True)
    )


def _ranked(files: ContestFiles, decisions: Decisions = Decisions()):
    config = load_config(files.config)
    data = load_contest(config)
    cache.wait_for_writes()
    assert data.kept is not None
    return config, data, standings(data, decisions)


DECIDED = Decisions(
    tie_orders=(TieOrder("service", ("S02", "S01"), "panel vote 5-4", "kim", 3),),
    exclusions=(Exclusion("C24", "withdrawn", "withdrew on 12 Sept", "kim", 2),),
)


@pytest.mark.parametrize("decisions", [Decisions(), DECIDED], ids=["undecided", "decided"])
def test_kept_boards_come_back_as_they_were_ranked(bare, decisions):
    config, data, result = _ranked(bare, decisions)
    assert any(b.tie_groups for b in result.boards)  # (ties, decided or not, go with them)
    kept = data.kept
    key = shared_boards.boards_key(config, kept.candidates, kept.indicators, decisions)
    shared_boards.keep_boards(kept.entry, key, result)
    found = shared_boards.kept_boards(kept.entry, key, config)
    assert found is not None and _same_boards(found, result)
    assert found.cells.is_empty()  # (boards to show, nothing to open a candidate's detail from)


def test_boards_are_found_only_under_the_key_of_what_they_rest_on(bare):
    config, data, result = _ranked(bare)
    kept = data.kept
    key = shared_boards.boards_key(config, kept.candidates, kept.indicators, Decisions())
    shared_boards.keep_boards(kept.entry, key, result)
    renamed = kept.candidates.with_columns(
        pl.when(pl.col("candidate_id") == "C01").then(pl.lit("Seoul!")).otherwise(pl.col("name")).alias("name")
    )
    halved = kept.indicators.with_columns(pl.col("max_points") / 2)
    other_config = dataclasses.replace(config, scoring=dataclasses.replace(config.scoring, decimals=3))
    others = [
        shared_boards.boards_key(config, kept.candidates, kept.indicators, DECIDED),
        shared_boards.boards_key(config, renamed, kept.indicators, Decisions()),
        shared_boards.boards_key(config, kept.candidates, halved, Decisions()),
        shared_boards.boards_key(other_config, kept.candidates, kept.indicators, Decisions()),
    ]
    assert all(other != key for other in others)
    assert all(shared_boards.kept_boards(kept.entry, other, config) is None for other in others)
    assert shared_boards.kept_boards(kept.entry.replace("-", "-0", 1), key, config) is None  # another sheet


def test_the_key_is_the_same_in_every_process(bare):
    config, data, _ = _ranked(bare)
    here = shared_boards.boards_key(config, data.kept.candidates, data.kept.indicators, DECIDED)
    code = (
        "import sys; sys.path.insert(0, sys.argv[2])\n"
        "from test_shared_boards import DECIDED\n"
        "from panel_tui import shared_boards\n"
        "from panel_tui.config import load_config\n"
        "from panel_tui.inputs import cache, load_contest\n"
        "cache.MIN_SIZE = 0\n"
        "config = load_config(sys.argv[1]); kept = load_contest(config).kept\n"
        "print(repr(shared_boards.boards_key(config, kept.candidates, kept.indicators, DECIDED)))\n"
    )
    tests = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(bare.config), tests],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    ).stdout
    assert out.strip() == repr(here)


def test_damaged_or_foreign_kept_boards_are_not_shown(bare):
    config, data, result = _ranked(bare)
    kept = data.kept
    key = shared_boards.boards_key(config, kept.candidates, kept.indicators, Decisions())
    shared_boards.keep_boards(kept.entry, key, result)
    (path,) = _kept_boards_files()
    data_bytes = bytearray(path.read_bytes())
    data_bytes[len(data_bytes) // 2] ^= 0x01
    path.write_bytes(bytes(data_bytes))
    assert shared_boards.kept_boards(kept.entry, key, config) is None  # (its checksum)
    # A frame of the right columns but no board of this configuration's categories.
    cache.keep_derived_now(kept.entry, key, pl.DataFrame({"board": ['{"category": "elsewhere"}'], "entries": [b""]}))
    assert shared_boards.kept_boards(kept.entry, key, config) is None
    # Or of other columns.
    cache.keep_derived_now(kept.entry, key, pl.DataFrame({"board": ["x"]}))
    assert shared_boards.kept_boards(kept.entry, key, config) is None


# -- a screen waiting for another one's read ----------------------------------------------------


def _waiting_snapshot(files: ContestFiles, meeting: Meeting) -> list[tuple[Standings, object]]:
    """A reload of ``meeting`` while "another process" holds the sheet's lock (it reads the
    same new sheet): what its ``preview`` was given."""
    previews: list[tuple[Standings, object]] = []
    sheet = files.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))  # (its stat hint no longer matches)
    (lock_file,) = (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui").glob("*.lock")
    with lock_file.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        snapshot = views.take_snapshot(meeting, reload=True, preview=lambda s, state: previews.append((s, state)))
    cache.wait_for_writes()
    assert _same_boards(snapshot.standings, standings(snapshot.data, snapshot.state.decisions))
    return previews


@pytest.fixture
def two(bare, monkeypatch):
    """Two screens of one account on the demo: the first has read the sheet (and kept its boards)."""
    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    session = bare.root / "sessions" / "2022.sqlite"
    first = Meeting(load_config(bare.config), session, who="kim")
    second = Meeting(load_config(bare.config), session, who="kim", writable=False)
    shown = views.take_snapshot(first, reload=True)
    cache.wait_for_writes()
    return bare, first, second, shown


def test_a_display_waiting_for_anothers_read_is_given_its_boards(two):
    files, first, second, shown = two
    previews = _waiting_snapshot(files, second)
    assert len(previews) == 1
    preview, state = previews[0]
    assert _same_boards(preview, shown.standings) and state.decisions == shown.state.decisions


def test_boards_ranked_with_other_decisions_are_not_given(two):
    files, first, second, _ = two
    first.exclude("C24", "withdrawn", "withdrew on 12 Sept")  # (after the first screen ranked)
    assert _waiting_snapshot(files, second) == []


def _kept_boards_files() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    return [p for p in folder.glob("*+*.arrow") if "entries" in pl.read_ipc_schema(p)]


def test_boards_are_kept_once_per_new_sheet_and_not_with_declared_conflicts(cached):
    contest = cached
    session = contest.root / "sessions" / "2022.sqlite"
    views.take_snapshot(Meeting(load_config(contest.config), session, who="kim"), reload=True)
    cache.wait_for_writes()
    assert _kept_boards_files() == []  # (every screen reads such a sheet whole: none waits)
    contest.edit_config('conflicts = "data/conflicts.csv"', "")
    kim = Meeting(load_config(contest.config), session, who="kim")
    first = views.take_snapshot(kim, reload=True)
    cache.wait_for_writes()
    assert len(_kept_boards_files()) == 1
    kim.exclude("C24", "withdrawn", "withdrew on 12 Sept")  # (a decision: the same files)
    views.take_snapshot(kim, last=first)
    cache.wait_for_writes()
    assert len(_kept_boards_files()) == 1


def test_a_screen_with_a_proposal_pending_is_given_none(two):
    files, first, second, _ = two
    first.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    first.decide_tie("service", ["S01", "S02"], "panel vote 5-4")
    views.take_snapshot(first, reload=True)  # (its boards, with these decisions, kept)
    first.propose_lock()
    assert _waiting_snapshot(files, second) == []


# -- the console --------------------------------------------------------------------------------


class _Worker:
    def __init__(self, cancelled: bool = False) -> None:
        self.is_cancelled = cancelled


def _kept_like(live: Standings) -> Standings:
    """Boards as another screen could have kept them: ``live``'s, with C05's total 999.99."""
    return Standings(
        config=live.config,
        boards=tuple(
            dataclasses.replace(
                b,
                entries=b.entries.with_columns(
                    total=pl.when(pl.col("candidate_id") == "C05").then(999.99).otherwise(pl.col("total"))
                ),
            )
            for b in live.boards
        ),
        cells=pl.DataFrame(),
    )


@contextlib.asynccontextmanager
async def _display(root: Path) -> AsyncIterator[tuple[PanelApp, Pilot, LeaderboardTable]]:
    """A display (``--display``) on the contest at ``root``, its boards and analysis up: the
    app, its pilot and its large cities' board."""
    from test_console import make_app, settled

    app = make_app(root, display=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(pilot, app, lambda: app.analysis is not None)
        yield app, pilot, app.board("large_city")


def test_a_display_shows_the_kept_boards_until_its_own_replace_them(solo):
    """Shown at once, painted before the reload goes on (``done``), kept when an analysis of
    the boards before arrives meanwhile, then replaced by the display's own standings, or by
    its last good ones when its own read is refused; one from a reload since replaced is not
    shown."""
    from test_console import settled

    from panel_tui.tui.app import AnalysisComputed, BoardsPreviewed, InputsRejected

    async def scenario():
        async with _display(solo) as (app, pilot, table):
            own = table.cell_text("C05", "total")
            kept = _kept_like(app.snapshot.standings)
            stale = BoardsPreviewed(kept, app.snapshot.state, _Worker(cancelled=True))
            app.post_message(stale)
            await pilot.pause(0.1)
            assert stale.done.is_set() and table.cell_text("C05", "total") == own
            message = BoardsPreviewed(kept, app.snapshot.state, _Worker())
            app.post_message(message)
            await pilot.pause(0.1)
            assert message.done.is_set()
            assert table.cell_text("C05", "total").strip() == "999.99"
            app.post_message(AnalysisComputed(app.snapshot, app.analysis))
            await pilot.pause(0.1)
            assert table.cell_text("C05", "total").strip() == "999.99"
            app.post_message(InputsRejected("scores.csv: line 2: not a number", 2))
            await pilot.pause(0.1)
            banner = app.query_one("#error-banner")
            assert table.cell_text("C05", "total") == own and not banner.has_class("hidden")
            app.post_message(BoardsPreviewed(kept, app.snapshot.state, _Worker()))
            await pilot.pause(0.1)
            # (another screen read the files as they are now: "refused" would be wrong over them)
            assert table.cell_text("C05", "total").strip() == "999.99" and banner.has_class("hidden")
            app.reload(True)
            await settled(pilot, app, lambda: table.cell_text("C05", "total") == own)

    asyncio.run(scenario())


def test_only_a_display_asks_for_the_kept_boards(solo, monkeypatch):
    """A console's keys act on the standings it computed itself: it never shows another's."""
    from test_console import make_app, settled

    asked: dict[bool, list[object]] = {False: [], True: []}
    take = views.take_snapshot

    async def scenario(display: bool):
        def recorded(*args, **kwargs):
            asked[display].append(kwargs.get("preview"))
            return take(*args, **kwargs)

        monkeypatch.setattr(views, "take_snapshot", recorded)
        app = make_app(solo, display=display)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)

    for display in (False, True):
        asyncio.run(scenario(display))
    assert asked[False] and all(p is None for p in asked[False])
    assert asked[True] and all(callable(p) for p in asked[True])


# -- what an attack on the preview found (session 15) -------------------------------------------


def _drop_everything_beside(folder: Path) -> None:
    """Drop every frame kept beside any entry (boards, cells, evaluators): a screen asking for
    the sheet now waits for another one's read."""
    for p in folder.iterdir():
        if "+" in p.name:
            p.unlink()


def test_a_proposal_written_while_a_display_waits_stops_its_preview(two):
    """Found by an attack (session 15): the journal was read once, at the first look."""
    files, first, second, shown = two
    first.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    first.decide_tie("service", ["S01", "S02"], "panel vote 5-4")
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    _drop_everything_beside(folder)
    kept = shown.data.kept
    previews = []
    previewing = views._Previewing(second, lambda s, state: previews.append((s, state)))
    previewing(kept.entry, kept.candidates, kept.indicators)  # first poll: nothing kept yet
    assert previews == []
    # The reading screen ranks with the decisions as they are now ...
    keeper = views.take_snapshot(first, reload=True)
    cache.wait_for_writes()
    assert keeper.data.kept is not None
    # ... and, meanwhile, the secretary proposes the lock.
    first.propose_lock()
    assert second.state().proposal is not None
    previewing(kept.entry, kept.candidates, kept.indicators)  # a later poll
    assert previews == []


def test_a_proposal_written_while_a_display_waits_stops_its_preview_end_to_end(two):
    """The same through take_snapshot: a display waits for another process's read (the
    sheet's lock held), a proposal is written, then the boards are kept."""
    files, first, second, shown = two
    first.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    first.decide_tie("service", ["S01", "S02"], "panel vote 5-4")
    keeper = views.take_snapshot(first, reload=True)  # boards for these decisions (dropped below)
    cache.wait_for_writes()
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    _drop_everything_beside(folder)
    sheet = files.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))
    (lock_file,) = folder.glob("*.lock")
    previews = []
    out = {}
    with lock_file.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)

        def display():
            out["snap"] = views.take_snapshot(
                second, reload=True, preview=lambda s, state: previews.append((s, state, second.state()))
            )

        t = threading.Thread(target=display)
        t.start()
        time.sleep(0.4)  # the display polls (state read once)
        first.propose_lock()
        kept = keeper.data.kept
        shared_boards.keep_boards(
            kept.entry,
            shared_boards.boards_key(first.config, kept.candidates, kept.indicators, keeper.state.decisions),
            keeper.standings,
        )
        time.sleep(0.4)
    t.join(10)
    cache.wait_for_writes()
    assert out["snap"].state.proposal is not None  # its own standings know of the proposal
    assert previews == [], "preview given with state.proposal None although the journal has one: " + repr(
        [(p[1].proposal, p[2].proposal is not None) for p in previews]
    )


def test_the_key_names_every_module_the_boards_are_ranked_with(tmp_path):
    """Two installs sharing the account's cache that differ in a module the engine ranks with
    (vocabulary.py: the board's columns and statuses; inputs/cells.py: evaluator counts;
    config.py; inputs/contest.py) never find each other's boards (found by an attack: the key
    named engine.py and this module only)."""
    import shutil
    import subprocess
    import sys

    import panel_tui

    src = Path(panel_tui.__file__).parent
    codes = {}
    for variant in ("a", "b"):
        root = tmp_path / variant
        shutil.copytree(src, root / "panel_tui", ignore=shutil.ignore_patterns("__pycache__"))
        if variant == "b":
            for name in ("vocabulary.py", "inputs/cells.py", "config.py", "inputs/contest.py"):
                p = root / "panel_tui" / name
                p.write_text(p.read_text() + "\n# a different install\n")
        codes[variant] = subprocess.run(
            [sys.executable, "-c", "from panel_tui import shared_boards; print(shared_boards._CODE)"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    assert codes["a"] != codes["b"], "boards key unchanged although the engine's imports changed"


def test_a_note_while_a_display_reads_the_new_files_keeps_their_boards_up(solo, monkeypatch):
    """A display waits for another screen's read of a new sheet and shows its boards; a
    journal event (a note, the focus) meanwhile starts a reload for the journal alone, which
    ranks the files before (the new ones are still being loaded): the boards stay the new ones
    (found by an attack: the projector went new, old, new)."""
    from test_console import settled

    take = views.take_snapshot
    gate = threading.Event()
    kept_holder = {}

    def slow(meeting, *, reload=False, last=None, marks=None, preview=None, **more):
        if reload and preview is not None and "kept" in kept_holder and not gate.is_set():
            preview(kept_holder["kept"], last.state)
            gate.wait(10)
        return take(meeting, reload=reload, last=last, marks=marks, preview=preview, **more)

    monkeypatch.setattr(views, "take_snapshot", slow)

    async def scenario():
        async with _display(solo) as (app, pilot, table):
            kept_holder["kept"] = _kept_like(app.snapshot.standings)
            app.reload(True)
            for _ in range(50):
                await pilot.pause(0.05)
                if table.cell_text("C05", "total").strip() == "999.99":
                    break
            assert table.cell_text("C05", "total").strip() == "999.99"  # the preview is on
            app.reload(False)  # (what _poll does for a note or the focus)
            for _ in range(20):
                await pilot.pause(0.05)
            shown = table.cell_text("C05", "total")
            gate.set()
            await settled(pilot, app)
            assert shown.strip() == "999.99", f"the projector went back to the old boards ({shown!r}) mid-reload"

    asyncio.run(scenario())


def test_a_reload_that_fails_takes_the_other_screens_boards_down(solo, monkeypatch):
    """The reload that showed another screen's boards fails (not a refused file: any other
    exception): this screen's own last boards come back (found by an attack)."""
    from panel_tui.tui import app as app_module

    monkeypatch.setattr(app_module.PanelApp, "raise_failures", False)
    take = views.take_snapshot
    armed = {}

    def failing(meeting, *, reload=False, last=None, marks=None, preview=None, **more):
        if reload and preview is not None and "kept" in armed:
            preview(armed.pop("kept"), last.state)
            raise RuntimeError("boom")
        return take(meeting, reload=reload, last=last, marks=marks, preview=preview, **more)

    monkeypatch.setattr(views, "take_snapshot", failing)

    async def scenario():
        async with _display(solo) as (app, pilot, table):
            own = table.cell_text("C05", "total")
            armed["kept"] = _kept_like(app.snapshot.standings)
            app.reload(True)
            for _ in range(30):
                await pilot.pause(0.05)
            assert table.cell_text("C05", "total") == own, "preview left on screen after the reload failed"

    asyncio.run(scenario())


def test_a_failing_look_for_kept_boards_fails_nothing_and_leaks_nothing(two):
    """A look that fails (the journal locked a moment) ends the looking, not the load, and
    leaves no descriptor open (found by an attack: the load failed, two descriptors leaked)."""
    import sqlite3

    files, first, second, shown = two
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    _drop_everything_beside(folder)
    os.utime(files.path("scores.csv"), (time.time() + 5, time.time() + 5))
    real = second.state
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:  # (a transient journal read failure while waiting)
            raise sqlite3.OperationalError("database is locked")
        return real()

    real()  # (the journal's connection open before counting)
    second.state = flaky
    (lock_file,) = folder.glob("*.lock")
    before = len(os.listdir("/proc/self/fd"))
    error = None
    with lock_file.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            views.take_snapshot(second, reload=True, preview=lambda s, state: None)
        except Exception as exc:  # noqa: BLE001
            error = exc
    cache.wait_for_writes()
    after = len(os.listdir("/proc/self/fd"))
    assert error is None and after <= before, f"load failed with {error!r}; fds {before} -> {after}"
