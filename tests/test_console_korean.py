"""A Korean console: its keys, palette, help, boards and screens in the panel's language (issue
15), and the Textual internal the key descriptions are translated through."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_console import make_app, run, settled
from textual.app import App
from textual.command import CommandList
from textual.widgets import Markdown, Static

from panel_tui import i18n
from panel_tui.text import text_width
from panel_tui.tui.charts import _scale
from panel_tui.tui.leaderboard import HEADINGS, LeaderboardTable
from panel_tui.tui.screens import HELP, help_file
from panel_tui.views import PercentStrip


@pytest.fixture
def contest(solo: Path) -> Path:
    return solo


def test_the_binding_internals_the_translation_uses_are_all_there():
    """One clear message when an upgraded Textual no longer keeps each node's bindings in
    ``_bindings.key_to_bindings`` (panel_tui/tui/translated.py translates them there)."""
    import textual

    from panel_tui.tui.translated import missing

    class One(App):
        def compose(self):
            yield LeaderboardTable("large_city", ("A1",), id="t")

    async def check() -> list[str]:
        app = One()
        async with app.run_test():
            return missing(app) + missing(app.query_one(LeaderboardTable))

    gone = run_value(check())
    assert gone == [], (
        f"Textual {textual.__version__} lacks the bindings the console translates (panel_tui/tui/translated.py): "
        f"{', '.join(gone)}; keep textual pinned to 8.2 or adapt it"
    )


def run_value(coro):
    import asyncio

    return asyncio.run(coro)


def test_the_korean_consoles_keys_palette_and_help_are_korean(contest, korean):
    async def scenario():
        app = make_app(contest)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)
            keys = app.screen.active_bindings
            assert keys["f1"].binding.description == "도움말"
            assert keys["l"].binding.description == "확정"
            assert keys["ctrl+p"].binding.description == "명령"
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert "도움말: 키와 표시" in titles and "테마" in titles and "종료" in titles
            assert "이동: 최종 명단 확정" in titles
            assert not any(title in titles for title in ("Theme", "Quit", "help: keys and marks"))
            # The palette, even where nothing matches.
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*"zzqqx")
            await pilot.pause(1.0)
            shown = [str(o.prompt.renderable) for o in app.screen.query_one(CommandList).options]
            assert shown == ["일치하는 명령이 없습니다"], shown
            await pilot.press("escape")
            await pilot.pause(0.1)
            board = app.current_table
            assert [str(column.label) for column in board.columns.values()][:3] == ["순위", "±", "ID"]
            assert board.cell_text("C01", "status") == "✔ 인증"
            for key, heading in HEADINGS.items():
                assert board.columns[key].width >= text_width(i18n._(heading)), key  # (Hangul: 2 cells)
            assert "인증 기준" in str(app.board_info("large_city").render())
            assert "간사" in app.sub_title  # this account's role
            await pilot.press("f1")
            await pilot.pause(0.2)
            source = app.screen.query_one(Markdown).source
            assert source.splitlines()[0] == "# panel_tui: 키와 표시"
            await pilot.press("escape", "l")
            await pilot.pause(0.2)
            assert "최종 명단 확정" in str(app.screen.query(Static).first().render()) or any(
                "최종 명단 확정" in str(widget.render()) for widget in app.screen.query(Static)
            )
            assert app.screen.active_bindings["escape"].binding.description == "뒤로"

    run(scenario())


def test_the_english_console_stays_english(contest):
    async def scenario():
        app = make_app(contest)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)
            assert app.screen.active_bindings["f1"].binding.description == "Help"
            assert app.current_table.cell_text("C01", "status") == "✔ certified"

    run(scenario())


def test_the_help_is_read_in_the_panels_language():
    assert help_file("en") == HELP
    assert help_file("ko").name == "help.ko.md"
    assert help_file("ko").read_text(encoding="utf-8").startswith("# panel_tui: 키와 표시")


def test_the_strips_scale_fits_its_width_in_korean(korean):
    """Hangul takes two cells: the percent strip's scale ("▲ 인증선 70 %") is exactly as wide as
    the strip wherever the line falls."""
    strip = PercentStrip(category_id="large_city", threshold=70.0, margin=2.0, marks=())
    for width in (20, 40, 80, 150):
        for at in (0, width // 2, width - 1):
            assert text_width(_scale(strip, 40.0, 100.0, width, at).plain) == width


def test_the_korean_help_keeps_up_with_the_english():
    """help.ko.md has a row for every row of help.md's tables, and names the same keys: a key
    added to the English help and not to the Korean fails here."""
    import re

    def tables(path: Path) -> list[list[str]]:
        found: list[list[str]] = [[]]
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("|") and not line.startswith("| ---"):
                found[-1].append(line.split("|")[1])
            elif found[-1]:
                found.append([])
        return [table for table in found if table]

    english, korean = tables(HELP), tables(help_file("ko"))
    assert [len(t) for t in english] == [len(t) for t in korean]
    keys = [[re.findall(r"`([^`]+)`", first) for first in table[1:]] for table in (english[0], korean[0])]
    assert keys[0] == keys[1]


def test_every_key_of_textuals_own_widgets_on_our_screens_is_translated(korean):
    """The keys panel (palette: 키) lists the focused widget's keys: Textual's tables, text
    fields, tabs and palette describe theirs in English, and ``translated.TEXTUAL_KEYS`` gives each
    to the catalogue. A Textual upgrade that adds one fails here, naming it."""
    from textual.command import CommandInput, CommandPalette
    from textual.screen import ModalScreen, Screen
    from textual.widgets import Button, DataTable, Input, Markdown, MarkdownViewer, OptionList, TabbedContent, TextArea
    from textual.widgets._tabbed_content import ContentTabs

    from panel_tui.tui.app import PanelApp

    used = [DataTable, Input, TextArea, Button, TabbedContent, ContentTabs, Markdown, MarkdownViewer, OptionList]
    used += [Screen, ModalScreen, PanelApp, CommandPalette, CommandInput, CommandList]
    untranslated = set()
    for cls in used:
        for klass in cls.__mro__:
            for binding in klass.__dict__.get("BINDINGS", []):
                if not isinstance(binding, tuple | list):
                    for text in (binding.description, binding.tooltip):
                        if text and i18n._(text) == text:
                            untranslated.add(f"{cls.__name__}: {text}")
    assert not untranslated, sorted(untranslated)


def test_the_focused_tables_keys_are_described_in_korean(contest, korean):
    async def scenario():
        app = make_app(contest)
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)
            app.current_table.focus()
            await pilot.pause(0.1)
            keys = app.current_table._bindings.key_to_bindings
            assert keys["up"][0].description == "커서 위로" and keys["enter"][0].description != "Select"
            assert app.screen.active_bindings["tab"].binding.description == "다음 항목"

    run(scenario())
