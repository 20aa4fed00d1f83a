"""The lock and discussion screens follow the session in place, and the forms only collect:
driven with Textual's Pilot, a second writer on the same session (another console, or the
command line) changing what they show."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_console import demo_roles, make_app, run, settled
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from panel_tui.config import load_config
from panel_tui.meeting import Meeting
from panel_tui.tui.charts import SCORE_WIDTH, PercentChart
from panel_tui.tui.screens import AREA_WIDTH


@pytest.fixture
def contest(solo: Path) -> Path:
    """The demo with this account as its secretary, no chair confirmation (as in test_console)."""
    return solo


def second_writer(root: Path, who: str | None = None) -> Meeting:
    """Another writer on the console's session (as another console or the command line would be)."""
    return Meeting(load_config(root / "config.toml"), root / "sessions" / "2022.sqlite", who=who)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def raise_s05(scores: Path, by: float = 0.1) -> None:
    """Demand-Responsive Transit (S05, borderline below the services' line) gets ``by`` more on
    SV01 from every evaluator: its total moves, it stays borderline and uncertified."""
    lines = []
    for line in scores.read_text(encoding="utf-8").splitlines():
        cid, evaluator, indicator, score = line.split(",")
        if cid == "S05" and indicator == "SV01":
            score = f"{float(score) + by:g}"
        lines.append(",".join((cid, evaluator, indicator, score)))
    fresh = scores.with_name("scores.csv.new")
    fresh.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fresh.replace(scores)


def test_the_lock_screen_shows_a_decision_in_place_keeping_its_scroll_and_focus(contest):
    async def scenario():
        app = make_app(contest)
        writer = second_writer(contest)
        async with app.run_test(size=(80, 24)) as pilot:
            await settled(pilot, app, lambda: app.analysis is not None)
            await pilot.press("l")
            await pilot.pause(0.2)
            screen = app.screen
            scroll = screen.query_one("#lock", VerticalScroll)
            scroll.focus()
            scroll.scroll_to(y=6, animate=False, immediate=True)
            await pilot.pause(0.1)
            assert scroll.scroll_y == 6 and scroll.max_scroll_y > 6
            changes, blockers = screen.query_one("#changes"), screen.query_one("#blockers")
            assert text_of(screen, "#changes") == "nothing"
            assert not screen.query("#propose")  # blocked

            writer.note("a question for the applicant", candidate="C05")
            writer.decide_tie("service", ["S02", "S01"], "S02 covers more districts")
            await settled(pilot, app, lambda: bool(app.snapshot.state.decisions.tie_orders), timeout=3)
            await pilot.pause(0.2)

            assert app.screen is screen  # the same screen, the same widgets: updated, not rebuilt
            assert screen.query_one("#changes") is changes and screen.query_one("#blockers") is blockers
            assert "S02 covers more districts" in text_of(screen, "#changes")
            assert "unresolved tie" not in text_of(screen, "#blockers") and "pending: C24" in text_of(
                screen, "#blockers"
            )
            assert scroll.scroll_y == 6  # where the reader was
            assert app.focused is scroll

            # The last blocker goes: the proposal's button appears, and its key with it.
            writer.exclude("C24", "withdrawn", "withdrew on 12 Sept")
            await settled(pilot, app, lambda: bool(app.snapshot.state.decisions.exclusions), timeout=3)
            await pilot.pause(0.2)
            assert app.screen is screen and scroll.scroll_y == 6
            assert str(screen.query_one("#propose").label) == "Propose the lock"
            assert screen.check_action("press", ("propose",)) is True
            assert "✔ no pending candidate" in text_of(screen, "#blockers")

    run(scenario())


def test_a_snapshot_while_the_lock_screen_is_being_built_is_shown_once_it_is(contest, monkeypatch):
    """A new snapshot (the console's analysis, a reload) can come after the lock screen has
    composed its view and before its widgets are mounted: it is shown once they are, not a
    failure (CI met it once: "No nodes match '#signing'")."""
    from panel_tui.tui.screens import LockScreen
    from panel_tui.views import take_snapshot

    original = LockScreen.compose

    def composing(self):
        for i, widget in enumerate(original(self)):
            if i == 1:  # (the view composed, the widgets not mounted)
                second_writer(contest).decide_tie("service", ["S02", "S01"], "S02 covers more districts")
                self.app.snapshot = take_snapshot(self.app.reader, last=self.app.snapshot)
                self.show_snapshot()
            yield widget

    from panel_tui.tui.app import PanelApp

    monkeypatch.setattr(PanelApp, "_poll", lambda self: None)  # (no later look at the session: this snapshot only)

    async def scenario():
        app = make_app(contest)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app, lambda: app.analysis is not None)
            monkeypatch.setattr(LockScreen, "compose", composing)
            await pilot.press("l")
            await pilot.pause(0.3)
            assert isinstance(app.screen, LockScreen)
            assert "S02 covers more districts" in text_of(app.screen, "#changes")

    run(scenario())


def test_the_chairs_lock_screen_offers_confirm_when_proposed_and_withdraws_it_when_stale(tmp_path):
    root = demo_roles(tmp_path)
    kim = second_writer(root, "kim")
    kim.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    kim.decide_tie("service", ["S01", "S02"], "panel vote 5-4")

    async def scenario():
        chair = make_app(root, who="lee")
        async with chair.run_test(size=(200, 50)) as pilot:
            await settled(pilot, chair)
            await pilot.press("l")
            await pilot.pause(0.2)
            screen = chair.screen
            assert not screen.query("#confirm") and screen.query_one("#proposal").has_class("hidden")

            kim.propose_lock()
            await settled(pilot, chair, lambda: chair.snapshot.state.proposal is not None, timeout=3)
            await pilot.pause(0.2)
            assert chair.screen is screen and screen.query("#confirm")
            assert screen.check_action("press", ("confirm",)) is True
            assert "waiting for a chair to confirm" in text_of(screen, "#proposal")

            raise_s05(root / "data" / "scores.csv")
            await settled(pilot, chair, lambda: bool(chair.snapshot.check and chair.snapshot.check.stale), timeout=3)
            await pilot.pause(0.2)
            assert chair.screen is screen and not screen.query("#confirm")
            assert screen.check_action("press", ("confirm",)) is False
            assert screen.query_one("#proposal").has_class("stale") and "now stale" in text_of(screen, "#proposal")

    run(scenario())


def test_the_discussion_shows_a_note_and_new_scores_in_place_keeping_its_scroll_and_focus(contest):
    async def scenario():
        app = make_app(contest)
        writer = second_writer(contest)
        async with app.run_test(size=(80, 24)) as pilot:
            await settled(pilot, app)
            await pilot.press("3", "d")
            await pilot.pause(0.2)
            screen = app.screen
            scroll = screen.query_one("#discussion", VerticalScroll)
            tables = list(screen.query(DataTable))
            assert len(tables) == 2  # the tie, the borderline candidates
            tables[1].focus()  # (scrolls it into view)
            await pilot.pause(0.3)
            scroll.scroll_to(y=4, animate=False, immediate=True)
            await pilot.pause(0.1)
            assert scroll.scroll_y == 4
            assert text_of(screen, "#board-notes") == "(none yet)"

            writer.note("check the site visits", category="service")
            await settled(pilot, app, lambda: len(app.snapshot.state.notes) == 1, timeout=3)
            await pilot.pause(0.2)
            assert app.screen is screen and list(screen.query(DataTable)) == tables
            assert "[board]: check the site visits" in text_of(screen, "#board-notes")
            assert scroll.scroll_y == 4 and app.focused is tables[1]

            border = tables[1]
            total = border.get_row_at(1)
            assert [str(c) for c in total] == ["Total ◀ separates", "70.50", "69.80"]
            raise_s05(contest / "data" / "scores.csv")
            await settled(
                pilot, app, lambda: str(border.get_row_at(1)[2]) == "69.90", timeout=3
            )  # the cell, updated in its table
            assert app.screen is screen and list(screen.query(DataTable)) == tables
            assert scroll.scroll_y == 4 and app.focused is tables[1]

            # The tie decided: its comparison shows the panel's order (a new table in its place).
            writer.decide_tie("service", ["S02", "S01"], "S02 covers more districts")
            await settled(pilot, app, lambda: bool(app.snapshot.state.decisions.tie_orders), timeout=3)
            await pilot.pause(0.2)
            assert app.screen is screen
            titles = [str(label.render()) for label in screen.query(".comparison-title")]
            assert titles[0].startswith("Tie, ordered by the panel: S02 > S01") and titles[1].startswith("Borderline: ")
            tie = screen.query(DataTable).first()
            labels = [str(c.label) for c in tie.columns.values()][1:]
            assert labels[0].startswith("Smart Integrated") and labels[0].endswith("… (S02)")  # cut, the ID whole
            assert labels[1].startswith("Smart City Pass") and labels[1].endswith(" (S01)")
            assert "[board]: check the site visits" in text_of(screen, "#board-notes")

    run(scenario())


def test_the_forms_only_collect_and_the_console_records(contest):
    """A form returns what was filled in (dismiss); the console writes it: a form pushed on its
    own writes nothing."""

    async def scenario():
        from panel_tui.tui.screens import ExcludeScreen, ExclusionForm, NoteScreen

        app = make_app(contest)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)
            got: list[object] = []
            app.push_screen(NoteScreen("C05", "Cheongju (C05)", "large_city"), got.append)
            await pilot.pause(0.1)
            await pilot.press("ctrl+s")  # empty: the form says so and stays
            await pilot.pause(0.1)
            assert isinstance(app.screen, NoteScreen) and got == []
            assert any(n.message == "A note needs some text." for n in app._notifications)
            await pilot.press(*"a word")
            await pilot.press("ctrl+s")
            await pilot.pause(0.1)
            assert got == ["a word"] and not isinstance(app.screen, NoteScreen)
            app.push_screen(ExcludeScreen("C24", "Seoul Gangseo-gu"), got.append)
            await pilot.pause(0.1)
            app.screen.query_one("#reason").value = "withdrew"
            await pilot.click("#save")  # no reason code: the form says so and stays
            await pilot.pause(0.1)
            assert isinstance(app.screen, ExcludeScreen)
            assert any(n.message == "Choose a reason code and write the reason." for n in app._notifications)
            app.screen.query_one("#code").value = "withdrawn"
            await pilot.pause(0.1)
            await pilot.click("#save")
            await pilot.pause(0.1)
            assert got[-1] == ExclusionForm("withdrawn", "withdrew")
            await pilot.press("escape")
            await settled(pilot, app)
            assert app.reader.state().events == ()  # nothing was written by the forms themselves

    run(scenario())


async def open_tie_form(pilot) -> None:
    """The services board, its discussion, and the form for its tie (`3`, `d`, `t`)."""
    await pilot.press("3", "d")
    await pilot.pause(0.1)
    await pilot.press("t")
    await pilot.pause(0.1)


def _toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def test_the_tie_is_ordered_with_the_keys_and_esc_goes_back_to_the_discussion(contest):
    """The tied candidates as a list, best first: Alt+↓ moves the chosen one down; Esc and Save
    both leave the secretary in the discussion, which shows the decision; both members of the
    decided group carry ⚖ on the board."""

    async def scenario():
        from panel_tui.tui.screens import DiscussionScreen, TieOrderScreen

        app = make_app(contest)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)
            await open_tie_form(pilot)
            assert isinstance(app.screen, TieOrderScreen) and app.screen.order == ["S01", "S02"]
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert isinstance(app.screen, DiscussionScreen)  # where it was opened
            await pilot.press("t")
            await pilot.pause(0.1)
            await pilot.press("alt+down")  # S01 (chosen: the first) one place down
            await pilot.pause(0.05)
            assert app.screen.order == ["S02", "S01"]
            lines = [str(label.render()) for label in app.screen.query("#order Label")]
            assert lines[0].startswith("1. Smart Integrated Parking") and lines[0].endswith("(S02)")
            await pilot.press("shift+up")  # S01, still chosen, back up
            assert app.screen.order == ["S01", "S02"]
            await pilot.press("down", "ctrl+up")  # choose S02, move it up
            assert app.screen.order == ["S02", "S01"]
            app.screen.query_one("#reason").value = "S02 covers more districts"
            await pilot.click("#save")
            await settled(pilot, app, lambda: bool(app.snapshot.state.decisions.tie_orders))
            assert isinstance(app.screen, DiscussionScreen)  # it shows the decision in place
            assert "Tie order recorded: S02 > S01" in _toasts(app)
            await pilot.press("escape")
            board = app.board("service")
            assert "⚖" in board.cell_text("S01", "marks") and "⚖" in board.cell_text("S02", "marks")

    run(scenario())


def test_a_refused_tie_order_opens_its_form_again_as_it_was(contest):
    """The write is refused (here: the meeting says the group is no longer tied, as when the
    scores change meanwhile): the form opens again with the order and the reason as they were."""

    async def scenario():
        from panel_tui.errors import UsageError
        from panel_tui.tui.screens import TieOrderScreen

        app = make_app(contest)

        def no_longer_tied(*args, **kwargs):
            raise UsageError("S01, S02 is not a group of fully tied candidates in service")

        app.meeting.decide_tie = no_longer_tied
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)
            await open_tie_form(pilot)
            await pilot.press("alt+down")
            app.screen.query_one("#reason").value = "S02 covers more districts"
            await pilot.click("#save")
            await pilot.pause(0.3)
            assert isinstance(app.screen, TieOrderScreen)  # again, as it was filled in
            assert app.screen.order == ["S02", "S01"]
            assert app.screen.query_one("#reason").value == "S02 covers more districts"
            assert any(n.title == "Not recorded" for n in app._notifications)
            assert app.reader.state().events == ()

    run(scenario())


# -- the pictures -------------------------------------------------------------------------------


def test_the_detail_draws_each_indicators_scores_as_a_strip_and_the_display_does_not(contest):
    async def scenario():
        for display in (False, True):
            app = make_app(contest, display=display)
            async with app.run_test(size=(80, 24)) as pilot:
                await settled(pilot, app)
                await pilot.press("3")
                table = app.current_table
                table.move_cursor(row=table.get_row_index("S05"))
                await pilot.press("enter")
                await pilot.pause(0.2)
                indicators = app.screen.query_one("#indicators", DataTable)
                labels = [str(c.label).strip() for c in indicators.columns.values()]
                areas = app.screen.query_one("#areas", DataTable)
                assert areas.row_count == 3
                if display:  # the evaluators' scores stay off the projector
                    assert "0 … Max" not in labels and not app.screen.query("#strip-legend")
                    assert len(areas.columns) == 4 and not app.screen.query_one("#indicator-more").display
                    continue
                # Each area: what each evaluator gave it in all, from 0 to its maximum.
                assert len(areas.columns) == 5 and len(str(areas.get_row_at(0)[4])) == AREA_WIDTH
                # At 80 columns the spread of the selected indicator is a line at the foot, and
                # every column of the table fits on the screen.
                assert sum(c.get_render_width(indicators) for c in indicators.columns.values()) <= 80 - 4
                more = text_of(app.screen, "#indicator-more")
                assert more.startswith("SV01 ") and "dropped by the trimmed mean: 0.3 (E12), 1.1 (E02)" in more
                await pilot.press("down")
                await pilot.pause()
                assert text_of(app.screen, "#indicator-more").startswith("SV02 ")
                assert labels[:7] == ["Indicator", "Area", "Label", "Max", "Score", "0 … Max", "n"]
                assert "× or red: dropped by the trimmed mean" in text_of(app.screen, "#strip-legend")
                sv01 = indicators.get_row_at(0)
                strip = sv01[5]
                assert str(sv01[0]) == "SV01" and len(str(strip)) == SCORE_WIDTH
                # 0.3 and 1.1 dropped (×), seven kept around the consolidated 0.80 (highlighted)
                assert str(strip).count("×") == 2
                assert sum(int(c) if c.isdigit() else c == "●" for c in str(strip)) == 7
                at = round(0.8 / 1.5 * (SCORE_WIDTH - 1))
                assert any(span.start <= at < span.end and "on" in str(span.style) for span in strip.spans)

    run(scenario())


def test_the_discussion_and_the_display_draw_the_boards_percents_with_who_is_discussed(contest):
    async def scenario():
        writer = second_writer(contest)
        console, display = make_app(contest), make_app(contest, display=True)
        async with console.run_test(size=(80, 24)) as pilot, display.run_test(size=(80, 24)) as shown:
            await settled(pilot, console)
            await settled(shown, display)
            await pilot.press("3", "d")
            await pilot.pause(0.2)
            screen = console.screen
            chart = screen.query_one("#discussion-chart", PercentChart)
            legend = text_of(screen, "#discussion-legend")
            assert "the 70 % line" in legend and "borderline band 69–71 %" in legend
            assert "equal total: S01, S02" in legend and "borderline: S04, S05" in legend
            assert "under discussion" not in legend
            strip, scale = str(chart.render()).split("\n")
            assert len(strip) == chart.size.width > 70 and "┃" in strip and "◆" in strip
            assert scale.startswith("50 %") and scale.endswith("85 %") and "▲ 70 % line" in scale
            on_display = display.query_one("#chart-3", PercentChart)
            assert on_display.strip is not None and on_display.strip.category_id == "service"
            assert len(display.query(PercentChart)) == 3  # one above each board

            writer.focus("S05")  # the panel turns to S05: highlighted in place, on both
            await settled(pilot, console, lambda: console.snapshot.state.focus == "S05", timeout=3)
            await settled(shown, display, lambda: display.snapshot.state.focus == "S05", timeout=3)
            await pilot.pause(0.2)
            await shown.pause(0.2)
            assert console.screen is screen and screen.query_one("#discussion-chart", PercentChart) is chart
            assert "under discussion: S05" in text_of(screen, "#discussion-legend")
            assert "borderline: S04 " in text_of(screen, "#discussion-legend") + " "
            assert "◉" in str(chart.render())
            assert on_display.strip.highlighted("focus") == ("S05",)

    run(scenario())
