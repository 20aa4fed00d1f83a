"""Textual's command palette with its own words in the panel's language (imported when the
palette opens: the console's first frame does without it)."""

from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from panel_tui.i18n import _


class Palette(CommandPalette):
    """Textual's command palette, its "No matches found" in the panel's language.

    HACK (Textual 8.2, CommandPalette._start_no_matches_countdown): Textual writes those words
    in a timer callback made inside that method; the countdown is started again here with ours.
    ``missing`` names what an upgrade removed (``PALETTE_ATTRIBUTES``)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        super()._start_no_matches_countdown(search_value)
        if search_value:
            self._stop_no_matches_countdown()
            self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, self._no_matches)

    def _no_matches(self) -> None:
        found = Option(Align.center(Text(_("No matches found"), style="not bold")), disabled=True, id=self._NO_MATCHES)
        self.query_one(CommandList).add_option(found)
        self._list_visible = True
