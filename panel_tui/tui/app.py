"""The panel's console: live leaderboards, discussion, decisions and the lock (SPEC §6).

Every instance on the host shares one session. A timer polls the files and the journal a
few times a second (``ChangeWatch``); a change reloads in a worker thread, and the result
updates every leaderboard in place. Writes go through ``Meeting`` (the same rules as the
command line); the role of the OS account decides which actions are offered at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.content import Content
from textual.markup import escape as escape_markup
from textual.notifications import SeverityLevel
from textual.widgets import Digits, Footer, Header, Static, TabbedContent, TabPane

from panel_tui.engine import Decisions, Standings, standings
from panel_tui.errors import PanelError
from panel_tui.inputs import ContestData
from panel_tui.meeting import ChangeWatch, Meeting, SessionState
from panel_tui.text import visible
from panel_tui.tui.leaderboard import LeaderboardTable
from panel_tui.tui.literal import markup, plain

PROJECTOR = Theme(
    name="projector",
    primary="#FFD700",
    secondary="#00BFFF",
    accent="#FFD700",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    success="#00FF66",
    warning="#FFD700",
    error="#FF4040",
    dark=True,
)
ANALYSE_UP_TO = 20_000_000  # score rows: beyond this the robustness analysis is `rank --analysis` only
# (10,000 candidates x 12 evaluators, 6.7 million rows, take about 2.5 s in its worker: bench/README.md)
COMPACT_BELOW = 150  # columns: narrower terminals get the compact leaderboard (no area columns)
POLL_SECONDS = 0.25


@dataclass
class Snapshot:
    """One consistent view: the standings and the journal state they were computed with."""

    standings: Standings
    state: SessionState
    data: ContestData


def _same_inputs(snapshot: Snapshot | None, data: ContestData, decisions: Decisions) -> bool:
    """Whether ``snapshot`` ranks these very files with these decisions: then its standings and
    its robustness analysis stand (a note or a new focus changes neither)."""
    return snapshot is not None and snapshot.data is data and snapshot.state.decisions == decisions


class StandingsComputed(Message):
    """A reload finished: new standings and session state to show."""

    def __init__(self, snapshot: Snapshot, files_error: str | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.files_error = files_error


class AnalysisComputed(Message):
    """How robust each outcome is, for the snapshot it was computed from."""

    def __init__(self, snapshot: Snapshot, analysis: dict) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.analysis = analysis


class InputsRejected(Message):
    """The files could not be read; the last good boards stay up."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class PanelApp(App):
    """The console. ``display=True`` is the read-only projector instance."""

    CSS_PATH = "app.tcss"
    TITLE = "panel_tui"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f", "focus_candidate", "Focus"),
        Binding("n", "note", "Note"),
        Binding("d", "discuss", "Discuss"),
        Binding("x", "exclude", "Exclude"),
        Binding("l", "lock", "Lock"),
        Binding("e", "evaluators", "Evaluators", show=False),
        Binding("1", "go(0)", "Board 1", show=False),
        Binding("2", "go(1)", "Board 2", show=False),
        Binding("3", "go(2)", "Board 3", show=False),
        Binding("4", "go(3)", "Board 4", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self, meeting: Meeting, reader: Meeting, *, display: bool = False, exports: Path | None = None,
        clock: bool = True,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.meeting = meeting  # writes, on the UI thread
        self.reader = reader  # reloads, in the worker thread (its own SQLite connection)
        self.display_mode = display
        self.exports = exports or Path.cwd() / "exports"
        self.snapshot: Snapshot | None = None
        self.files_error: str | None = None
        self.watch = ChangeWatch(reader)
        self.last_focus: str | None = None
        self.shown_lock: str | None = None  # the display turned to this lock's final list
        self._terminal: int | None = None  # the terminal's descriptor, once running in one
        self.analysing: Snapshot | None = None  # the snapshot the latest analysis started for
        self.refresh_costs: list = []
        self.analysis: dict | None = None  # candidate id -> robustness (analysis.robustness)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        config = self.meeting.config
        yield Header(show_clock=self.clock)
        with Vertical(id="banners"):
            yield Static("", id="lock-title", classes="hidden")
            yield Digits("", id="fingerprint", classes="hidden")
            yield Static("", id="focus-banner", classes="hidden")
            yield Static("", id="error-banner", classes="hidden")
        compact = self.size.width < COMPACT_BELOW if self.size.width else False
        with TabbedContent(id="boards"):
            for index, category in enumerate(config.categories, 1):
                with TabPane(self._tab_label(index, category.label, compact), id=f"tab-{category.id}"):
                    yield Static("", id=f"info-{category.id}", classes="board-info")
                    areas = self._areas(category.indicator_set)
                    yield LeaderboardTable(category.id, areas, compact=compact, id=f"board-{category.id}")
        yield Footer()

    @staticmethod
    def _tab_label(index: int, label: str, compact: bool) -> Content:
        """The key that shows the board, then its label; on a narrow screen without a trailing
        parenthesis (the demo's Korean names), so that every tab fits in 80 columns."""
        if compact:
            label = re.sub(r"\s*\([^()]*\)$", "", label) or label
        return plain(f"{index} {label}" if index <= 9 else label)

    def _areas(self, indicator_set: str) -> tuple[str, ...]:
        try:
            ind = self.reader.data().indicators
        except PanelError:
            return ()
        return tuple(ind.filter(ind["indicator_set"] == indicator_set)["area_id"].unique(maintain_order=True).to_list())

    def on_mount(self) -> None:
        self.register_theme(PROJECTOR)
        if self.display_mode:
            self.theme = "projector"
        role = "display (read-only)" if self.display_mode else f"{self.meeting.who}: {self.meeting.role}"
        self.title = visible(self.meeting.config.contest.name)  # the header shows it literally
        self.sub_title = visible(role)
        # The first boards are computed here, before the first paint (the data is already
        # loaded by compose); later changes reload in a worker thread.
        self._compute_now()
        # The terminal this console runs in, to notice when it is gone (see _poll).
        self._terminal = 0 if not self.is_headless and os.isatty(0) else None
        self.set_interval(POLL_SECONDS, self._poll)
        self.call_after_refresh(lambda: self.current_table.focus())

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW  # (self.size may not have caught up yet)
        tabs = self.query_one("#boards", TabbedContent)
        for index, category in enumerate(self.meeting.config.categories, 1):
            tabs.get_tab(f"tab-{category.id}").label = self._tab_label(index, category.label, compact)
        for table in self.query(LeaderboardTable):
            if table.compact != compact:
                table.set_compact(compact)
                if self.snapshot:
                    self._show(self.snapshot)

    # -- live -------------------------------------------------------------------------------
    def _poll(self) -> None:
        if self._terminal is not None and not os.isatty(self._terminal):
            # The terminal hung up without the hang-up signal reaching us (e.g. started with
            # `su`, or an SSH connection that died): Textual's input thread would then spin at
            # EOF on a dead terminal forever. Everything is already in the session: quit.
            self.exit(return_code=0)
            return
        files, journal = self.watch.poll()
        if files or journal:
            self.reload(files)

    def _snapshot(self, files: bool) -> Snapshot:
        """Standings from the files (re-read when they changed) and the journal as it is now."""
        data = self.reader.data(reload=files)
        state = self.reader.state()
        last = self.snapshot
        if _same_inputs(last, data, state.decisions):
            return Snapshot(last.standings, state, data)  # a note or the focus: the boards' numbers stand
        return Snapshot(standings(data, state.decisions), state, data)

    def _compute_now(self) -> None:
        try:
            snapshot = self._snapshot(False)
        except PanelError as exc:
            self._rejected(InputsRejected(str(exc)))
            return
        self._computed(StandingsComputed(snapshot))

    @work(thread=True, exclusive=True, group="reload", description="recompute the standings")
    def reload(self, files: bool) -> None:
        try:
            self.post_message(StandingsComputed(self._snapshot(files)))
        except PanelError as exc:
            self.post_message(InputsRejected(str(exc)))

    @on(InputsRejected)
    def _rejected(self, message: InputsRejected) -> None:
        self.files_error = message.error
        banner = self.query_one("#error-banner", Static)
        banner.update(markup("⚠ $error\nShowing the last good leaderboards until the file is fixed.",
                             error=message.error))
        banner.remove_class("hidden")

    @on(StandingsComputed)
    def _computed(self, message: StandingsComputed) -> None:
        self.files_error = None
        self.query_one("#error-banner", Static).add_class("hidden")
        self.snapshot = message.snapshot
        # Writes check decisions against the same files the boards show.
        self.meeting.use_data(message.snapshot.data)
        self._show(message.snapshot)
        snapshot = message.snapshot
        if snapshot.data.scores.height <= ANALYSE_UP_TO and not _same_inputs(
            self.analysing, snapshot.data, snapshot.state.decisions
        ):
            # Only new files or new decisions change the analysis (not notes or the focus).
            self.analysing = snapshot
            self.analyse(snapshot)

    @work(thread=True, exclusive=True, group="analysis", description="how robust each outcome is")
    def analyse(self, snapshot: Snapshot) -> None:
        from panel_tui.analysis import robustness

        try:
            self.post_message(AnalysisComputed(snapshot, robustness(snapshot.data, snapshot.state.decisions)))
        except PanelError:
            pass  # the boards' own reload reports bad input

    @on(AnalysisComputed)
    def _analysed(self, message: AnalysisComputed) -> None:
        current = self.snapshot
        if not _same_inputs(message.snapshot, current.data, current.state.decisions):
            return  # computed for files or decisions no longer shown; the newer one is on its way
        self.analysis = message.analysis
        self._show(self.snapshot)

    @property
    def fragile(self) -> frozenset[str]:
        if not self.analysis:
            return frozenset()
        return frozenset(cid for cid, a in self.analysis.items() if a["verdict"] == "fragile")

    def _show(self, snapshot: Snapshot) -> None:
        config = self.meeting.config
        state = snapshot.state
        notes: dict[str, int] = {}
        for note in state.notes:
            cid = note.payload.get("candidate_id")
            if cid:
                notes[cid] = notes.get(cid, 0) + 1
        costs = []
        for board in snapshot.standings.boards:
            table = self.query_one(f"#board-{board.category.id}", LeaderboardTable)
            costs.append(table.show(board, config.scoring.decimals, notes, self.fragile))
            info = self.query_one(f"#info-{board.category.id}", Static)
            info.update(self._info(board))
        self.refresh_costs.append(costs)
        if getattr(self.screen, "follows_snapshot", False):
            self.screen.refresh(recompose=True)  # the lock and discussion screens show the news too
        self._show_focus(state)
        self._show_lock(state)
        self.refresh_bindings()

    def _info(self, board) -> Content:
        cat = board.category
        certified = board.entries.filter(board.entries["status"] == "certified").height
        parts = [plain(f"threshold {cat.threshold:g} % of {board.max_points:,.0f} points"),
                 plain(f"certified {certified}")]
        if cat.max_certified:
            parts.append(plain(f"cap {cat.max_certified}"))
        for group in board.unresolved_ties:
            parts.append(markup("[b yellow]unresolved tie: $ids[/]", ids=", ".join(group)))
        for order in board.stale_tie_orders:
            parts.append(markup("[b red]tie order $ids no longer matches the scores[/]", ids=", ".join(order.order)))
        return Content("  ·  ").join(parts)

    def _show_focus(self, state: SessionState) -> None:
        banner = self.query_one("#focus-banner", Static)
        focus = state.focus
        if focus is None or state.lock is not None:  # after the lock nothing is under discussion
            banner.add_class("hidden")
        else:
            banner.update(markup("Under discussion: $name", name=self.name_of(focus)))
            banner.remove_class("hidden")
        if focus != self.last_focus:
            self.last_focus = focus
            if focus is not None and self.display_mode:
                self.reveal(focus)

    def _show_lock(self, state: SessionState) -> None:
        lock = state.lock
        title = self.query_one("#lock-title", Static)
        digits = self.query_one("#fingerprint", Digits)
        if lock is None:
            proposal = state.proposal
            if proposal is not None:
                title.update(markup("Lock proposed by $who: waiting for the chair's confirmation", who=proposal.author))
                title.remove_class("hidden")
            else:
                title.add_class("hidden")
            digits.add_class("hidden")
            return
        if self.display_mode and lock.fingerprint != self.shown_lock:
            # The shared screen turns to the final list the moment it is locked.
            from panel_tui.tui.screens import LockScreen

            self.shown_lock = lock.fingerprint
            if not isinstance(self.screen, LockScreen):
                while len(self.screen_stack) > 1:
                    self.pop_screen()
                self.push_screen(LockScreen())
        title.update(markup("FINAL LIST LOCKED · proposed by $who" + (", confirmed by $chair" if lock.confirmation else ""),
                            who=lock.proposal.author, chair=lock.confirmation.author if lock.confirmation else ""))
        title.remove_class("hidden")
        digits.update(lock.fingerprint)
        digits.remove_class("hidden")

    # -- helpers ----------------------------------------------------------------------------
    def name_of(self, candidate_id: str) -> str:
        if self.snapshot:
            for board in self.snapshot.standings.boards:
                match = board.entries.filter(board.entries["candidate_id"] == candidate_id)
                if match.height:
                    return f"{match['name'][0]} ({candidate_id})"
        return candidate_id

    def category_of(self, candidate_id: str) -> str | None:
        if self.snapshot:
            for board in self.snapshot.standings.boards:
                if candidate_id in board.entries["candidate_id"].to_list():
                    return board.category.id
        return None

    def reveal(self, candidate_id: str) -> None:
        """Show the candidate's board with the cursor on its row."""
        category = self.category_of(candidate_id)
        if category is None:
            return
        self.query_one(TabbedContent).active = f"tab-{category}"
        table = self.query_one(f"#board-{category}", LeaderboardTable)
        try:
            table.move_cursor(row=table.get_row_index(candidate_id), animate=False)
        except Exception:
            pass

    @property
    def current_table(self) -> LeaderboardTable:
        active = self.query_one(TabbedContent).active or ""
        return self.query_one(f"#board-{active.removeprefix('tab-')}", LeaderboardTable)

    @property
    def selected(self) -> str | None:
        return self.current_table.selected_candidate

    @property
    def locked(self) -> bool:
        return bool(self.snapshot and self.snapshot.state.lock)

    def may(self, kind: str) -> bool:
        """Whether this instance offers an action: never in display mode, never after the lock."""
        if self.display_mode:
            return False
        if kind in ("note", "focus", "tie_order", "exclusion", "lock_proposed") and self.locked:
            return False
        from panel_tui.session import may

        return may(self.meeting.config, self.meeting.who, kind)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        board_actions = ("focus_candidate", "note", "exclude", "discuss", "lock", "detail", "go", "evaluators")
        if action in board_actions and len(self.screen_stack) > 1:
            return False  # these act on the leaderboards, not on the screen in front of them
        needs = {"focus_candidate": "focus", "note": "note", "exclude": "exclusion"}
        if action in needs:
            return self.may(needs[action])
        if action in ("discuss", "evaluators") and self.display_mode:
            return False  # evaluator-level detail and the discussion stay off the projector
        return True

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information",
        timeout: float | None = None, markup: bool = False,
    ) -> None:
        """A notification: its text is shown literally (it often quotes a name, a note or a
        file's cell), never as markup, whatever the caller asks."""
        super().notify(visible(message, lines=True), title=visible(title), severity=severity, timeout=timeout,
                       markup=False)

    def write(self, what, *args, **kwargs) -> bool:
        """Do one write through the meeting; report a refusal instead of failing."""
        try:
            what(*args, **kwargs)
        except PanelError as exc:
            self.notify(str(exc), title="Not recorded", severity="error", timeout=8)
            return False
        self.reload(False)
        return True

    # -- actions ----------------------------------------------------------------------------
    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self.current_table.focus()

    def action_go(self, index: int) -> None:
        categories = self.meeting.config.categories
        if index < len(categories):
            self.query_one(TabbedContent).active = f"tab-{categories[index].id}"
            self.current_table.focus()

    def action_help(self) -> None:
        from panel_tui.tui.screens import HelpScreen

        self.push_screen(HelpScreen())

    def action_detail(self) -> None:
        cid = self.selected
        if cid and self.snapshot:
            from panel_tui.tui.screens import DetailScreen

            self.push_screen(DetailScreen(cid))

    @on(LeaderboardTable.RowSelected)
    def _row_selected(self, event: LeaderboardTable.RowSelected) -> None:
        self.action_detail()

    def action_focus_candidate(self) -> None:
        cid = self.selected
        if cid and self.write(self.meeting.focus, cid):
            self.notify(f"Under discussion: {self.name_of(cid)}")

    def action_note(self) -> None:
        from panel_tui.tui.screens import NoteScreen

        cid = self.selected
        self.push_screen(NoteScreen(cid, self.name_of(cid) if cid else None, self.current_table.category_id))

    def action_discuss(self) -> None:
        from panel_tui.tui.screens import DiscussionScreen

        self.push_screen(DiscussionScreen(self.current_table.category_id))

    def action_exclude(self) -> None:
        from panel_tui.tui.screens import ExcludeScreen

        cid = self.selected
        if cid:
            self.push_screen(ExcludeScreen(cid, self.name_of(cid)))

    def action_evaluators(self) -> None:
        from panel_tui.tui.screens import EvaluatorsScreen

        if self.snapshot is not None:
            self.push_screen(EvaluatorsScreen())

    def action_lock(self) -> None:
        from panel_tui.tui.screens import LockScreen

        self.push_screen(LockScreen())

    def export(self, fmt: str) -> None:
        from panel_tui.export import ExportError, export

        lock = self.snapshot.state.lock if self.snapshot else None
        if lock is None:
            self.notify("Exports come only from the locked final list.", severity="warning")
            return
        try:
            path = export(lock, fmt, self.exports, self.meeting.config.contest.id)
        except ExportError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"Wrote {path}", title=f"Export ({lock.fingerprint})")

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        for i, category in enumerate(self.meeting.config.categories):
            yield SystemCommand(f"go to: {_palette(category.label)}", f"Show the {_palette(category.id)} leaderboard",
                                lambda i=i: self.action_go(i))
        yield SystemCommand("go to: lock and final list", "The lock checklist, preview and fingerprint", self.action_lock)
        yield SystemCommand("go to: discussion", "Ties and borderline candidates of this board", self.action_discuss)
        if not self.display_mode:
            yield SystemCommand("go to: evaluator calibration", "Each evaluator's deviation from the consolidated "
                                "scores; outliers", self.action_evaluators)
        if self.locked:
            from panel_tui.export import FORMATS

            for fmt in FORMATS:
                label = {"md": "Markdown"}.get(fmt, fmt.upper())
                yield SystemCommand(f"export: final list as {label}", f"Write the locked list into {_palette(self.exports)}",
                                    lambda fmt=fmt: self.export(fmt))
        if not self.display_mode:
            yield SystemCommand("theme: projector (high contrast)", "Black and white for a projector",
                                lambda: setattr(self, "theme", "projector"))


def _palette(text: object) -> str:
    """Data in a palette command's title or help (which the palette parses as markup)."""
    return escape_markup(visible(text))


def run(meeting: Meeting, reader: Meeting, *, display: bool = False) -> None:
    PanelApp(meeting, reader, display=display).run()
