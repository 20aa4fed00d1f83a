"""Snapshot tests of the main screens at 80x24 (an SSH terminal), 120x35 and 200x50 (a projector).

The Korean console (issue 15) is snapshotted at 80x24 and 200x50 (``*_ko``): Hangul takes two
cells, and nothing may overflow or misalign.

Update after a deliberate change with `pytest tests/test_snapshots.py --snapshot-update` and
look at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from panel_tui.config import load_config
from panel_tui.i18n import language
from panel_tui.meeting import Meeting
from panel_tui.tui.app import PanelApp

DEMO = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"
SIZES = [(80, 24), (120, 35), (200, 50)]  # an SSH terminal, a laptop's, a projector's


@pytest.fixture
def app_factory(tmp_path: Path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    shutil.copy(DEMO / "config.toml", tmp_path / "config.toml")

    def make(display: bool = False) -> PanelApp:
        # The contest's own words in the console's language, as the command line loads them.
        config = load_config(tmp_path / "config.toml").in_language(language())
        session = tmp_path / "sessions" / "2022.sqlite"
        return PanelApp(
            Meeting(config, session, who="kim"),
            Meeting(config, session, writable=False, who="kim"),
            display=display,
            clock=False,
        )

    return make


async def loaded(pilot) -> None:
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if pilot.app.snapshot is not None and pilot.app.analysis is not None:
            break  # the boards and their robustness badges: what a person sees a second later
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_leaderboard(snap_compare, app_factory, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_services_board_with_the_unresolved_tie(snap_compare, app_factory, size):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("3")
        await pilot.pause(0.1)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_display_mode(snap_compare, app_factory, size):
    assert snap_compare(app_factory(display=True), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda size: f"{size[0]}x{size[1]}")
def test_display_with_a_candidate_under_discussion(snap_compare, app_factory, tmp_path, size):
    """The projector's strip above the board: Yongin (C05, borderline) under discussion."""
    Meeting(load_config(tmp_path / "config.toml"), tmp_path / "sessions" / "2022.sqlite", who="kim").focus("C05")
    assert snap_compare(app_factory(display=True), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_discussion(snap_compare, app_factory, size):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("3", "d")
        await pilot.pause(0.2)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_lock_checklist(snap_compare, app_factory, size):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("l")
        await pilot.pause(0.2)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_candidate_detail(snap_compare, app_factory, size):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("3")
        table = pilot.app.current_table
        table.move_cursor(row=table.get_row_index("S05"))
        await pilot.press("enter")
        await pilot.pause(0.2)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_stale_proposal(snap_compare, app_factory, tmp_path, size):
    """The secretary's proposal, then the scores file changed (at 10:41 local time, pinned): the
    banner says the proposal is stale and why, on the boards."""
    config = load_config(tmp_path / "config.toml")
    kim = Meeting(config, tmp_path / "sessions" / "2022.sqlite", who="kim")
    kim.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    kim.decide_tie("service", ["S01", "S02"], "panel vote 5-4")
    kim.propose_lock()
    scores = tmp_path / "data" / "scores.csv"
    scores.write_text(
        scores.read_text(encoding="utf-8").replace("C10,E01,CI01,17", "C10,E01,CI01,16"), encoding="utf-8"
    )
    at = time.mktime((2022, 9, 14, 10, 41, 0, 0, 0, -1))
    os.utime(scores, (at, at))
    assert snap_compare(app_factory(), terminal_size=size, run_before=loaded)


# -- the Korean console ----------------------------------------------------------------------

KO_SIZES = [(80, 24), (200, 50)]


async def open_discussion(pilot) -> None:
    await loaded(pilot)
    await pilot.press("3", "d")
    await pilot.pause(0.2)


async def open_lock(pilot) -> None:
    await loaded(pilot)
    await pilot.press("l")
    await pilot.pause(0.2)


async def open_detail(pilot) -> None:
    await loaded(pilot)
    await pilot.press("3")
    table = pilot.app.current_table
    table.move_cursor(row=table.get_row_index("S05"))
    await pilot.press("enter")
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", KO_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_leaderboard_ko(snap_compare, app_factory, korean, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", KO_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_candidate_detail_ko(snap_compare, app_factory, korean, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=open_detail)


@pytest.mark.parametrize("size", KO_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_discussion_ko(snap_compare, app_factory, korean, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=open_discussion)


@pytest.mark.parametrize("size", KO_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_lock_checklist_ko(snap_compare, app_factory, korean, size):
    assert snap_compare(app_factory(), terminal_size=size, run_before=open_lock)
