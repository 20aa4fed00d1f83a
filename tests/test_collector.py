"""The cycle collector held off while a console computes and paints new boards, and only then."""

from __future__ import annotations

import gc
import time

import pytest
from conftest import lower_scores, noted_at_each_call
from test_console import make_app, run, settled

from panel_tui.tui import collector
from panel_tui.tui.collector import CollectorHold


@pytest.fixture(autouse=True)
def collector_back_on():
    yield
    gc.enable()


def test_holds_nest_and_the_collector_runs_again_after_the_last():
    holds = CollectorHold()
    first = holds.hold()
    second = holds.hold()
    assert not gc.isenabled() and holds.held
    first()
    first()  # (twice is harmless: the second hold still stands)
    assert not gc.isenabled()
    second()
    assert gc.isenabled() and not holds.held


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    holds = CollectorHold()
    release = holds.hold()
    release()
    assert not gc.isenabled()


def test_a_hold_never_released_ends_by_itself(monkeypatch):
    holds = CollectorHold()
    release = holds.hold()
    holds.overdue()
    assert not gc.isenabled()  # (not yet)
    monkeypatch.setattr(collector, "MOST", 0.0)
    time.sleep(0.01)
    holds.overdue()
    assert gc.isenabled() and not holds.held
    release()  # (late: changes nothing)
    assert gc.isenabled()


def test_the_console_holds_it_while_it_computes_its_boards_and_lets_go_once_painted(solo, monkeypatch):
    import panel_tui.views as views

    seen_during = noted_at_each_call(monkeypatch, views, "take_snapshot", gc.isenabled)

    async def scenario():
        app = make_app(solo)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)
            await pilot.pause(0.05)
            assert seen_during == [False] and gc.isenabled()
            # New scores: held again while they are read, let go once they are on the board.
            lower_scores(solo / "data" / "scores.csv")
            before = app.snapshot
            await settled(pilot, app, lambda: app.snapshot is not before)
            await pilot.pause(0.05)
            assert seen_during[-1] is False and gc.isenabled()
            # A file refused: let go at once (the boards stay as they were).
            (solo / "data" / "scores.csv").write_text("candidate_id,indicator_id\n", encoding="utf-8")
            await settled(pilot, app, lambda: app.files_error is not None)
            assert gc.isenabled() and not collector.COLLECTOR.held

    run(scenario())
