"""The panel's console: live leaderboards, discussion, decisions and the lock (the README's "The console").

Every instance on the host shares one session. A timer polls the files and the journal a
few times a second (``ChangeWatch``); a change reloads in a worker thread, and the result
updates every leaderboard in place. Writes go through ``Meeting`` (the same rules as the
command line); the role of the OS account decides which actions are offered at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import stat
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.markup import escape as escape_markup
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import ContentSwitcher, Digits, Footer, Header, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker, WorkerState, get_current_worker

from panel_tui.errors import PanelError
from panel_tui.i18n import N_, _, language
from panel_tui.text import clip, text_width, visible
from panel_tui.tui.charts import PercentChart
from panel_tui.tui.collector import COLLECTOR
from panel_tui.tui.leaderboard import LeaderboardTable, RefreshCost
from panel_tui.tui.literal import markup, plain
from panel_tui.tui.translated import TranslatedBindings, role_word, system_command, translate_bindings
from panel_tui.tui.watch import ChangeWatch, FolderEvents
from panel_tui.vocabulary import exclusion_words

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widget import Widget

    from panel_tui import views
    from panel_tui.config import Category
    from panel_tui.engine import Standings
    from panel_tui.meeting import Meeting, SessionState
    from panel_tui.tui.screens import Dialog, ExclusionForm, LockStep, TieOrderForm

    # The snapshot the console shows, and what its reload reuses, are Textual-free (panel_tui.views).
    from panel_tui.views import Snapshot

__all__ = ["PanelApp", "run"]


def _views():
    """``panel_tui.views``, imported when the first boards are computed, in the reading worker:
    the first frame needs neither it nor polars (issue 16: the frame paints at once)."""
    from panel_tui import views

    return views


ResultType = TypeVar("ResultType")

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
LEADERBOARDS = N_("the leaderboards")  # what the boards are called when one fails to show
# The actions the palette runs, in a refusal ("Not available here: …").
ACTION_WORDS = {
    "go": N_("a leaderboard"),
    "lock": N_("the lock"),
    "discuss": N_("the discussion"),
    "evaluators": N_("the evaluator calibration"),
}
COMPACT_BELOW = 150  # columns: narrower terminals get the compact leaderboard (no area columns)
POLL_SECONDS = 0.1  # files (a stat each) and the journal (its last event): a cheap look (woken sooner: _saved)
ANALYSIS_WAITS = 5.0  # seconds an analysis waits at most for other screens' boards (``analyse``)
WAKE_SECONDS = 0.01  # a file moved into place, the journal written: the poll looks this much later (``_saved``)
PREVIEW_WAITS = 2.0  # seconds a reload waits at most for its preview to be painted (``reload``)


class StandingsComputed(Message):
    """A reload finished: new standings and session state to show, and what is let go of
    once they are painted: the loading marks of the files it read
    (``cache.writes_afterwards``) and its hold of the cycle collector (``collector``)."""

    def __init__(
        self, snapshot: Snapshot, marks: list[int] | None = None, release: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.marks = marks if marks is not None else []
        self.release = release

    def painted(self) -> None:
        """The boards are on the screen (or never will be): let go of what was held for them."""
        from panel_tui.inputs.cache import let_go

        let_go(self.marks)
        if self.release is not None:
            self.release()


class BoardsPreviewed(Message):
    """A display's reload waits for another screen of the account reading the same new sheet,
    which kept the boards it ranked from it (``views.take_snapshot``'s ``preview``): shown until
    this one's own standings come (a message of the same worker, after this one)."""

    def __init__(self, standings: Standings, state: SessionState, worker: Worker[None]) -> None:
        super().__init__()
        self.standings, self.state, self.worker = standings, state, worker
        self.done = threading.Event()  # set once they are painted, or will not be


class AnalysisComputed(Message):
    """How robust each outcome is, for the snapshot it was computed from."""

    def __init__(self, snapshot: Snapshot, analysis: dict) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.analysis = analysis


class InputsRejected(Message):
    """The files could not be read; the last good boards stay up."""

    def __init__(self, error: str, status: int = 2) -> None:
        super().__init__()
        self.error = error
        self.status = status  # the exit status, should the console not start (``PanelError.exit_status``)


class PanelApp(TranslatedBindings, App):
    """The console. ``display=True`` is the read-only projector instance.

    It never dies of one bad value: an exception in a handler, a screen, a render or a worker
    is written to a log file beside the session, the screen that failed is closed, and a
    banner says what went wrong and that the meeting can go on (``_failed``). Tests set
    ``raise_failures`` so that a failure fails them too.
    """

    raise_failures: ClassVar[bool] = False

    CSS_PATH = "app.tcss"
    TITLE = "panel_tui"
    BINDINGS = [
        # (N_: the descriptions are translated when the console is made, TranslatedBindings.)
        Binding("f1", "help", N_("Help")),
        Binding("f", "focus_candidate", N_("Focus")),
        Binding("n", "note", N_("Note")),
        Binding("d", "discuss", N_("Discuss")),
        Binding("x", "exclude", N_("Exclude")),
        Binding("l", "lock", N_("Lock")),
        Binding("v", "toggle_live", N_("Locked/live")),
        Binding("e", "evaluators", N_("Evaluators"), show=False),
        Binding("1", "go(0)", N_("Board 1"), show=False),
        Binding("2", "go(1)", N_("Board 2"), show=False),
        Binding("3", "go(2)", N_("Board 3"), show=False),
        Binding("4", "go(3)", N_("Board 4"), show=False),
        Binding("q", "quit", N_("Quit")),
        # A key this console may not use (hidden from its footer) says why in a toast.
        Binding("f", "refused('focus')", N_("Focus"), show=False),
        Binding("n", "refused('note')", N_("Note"), show=False),
        Binding("x", "refused('exclusion')", N_("Exclude"), show=False),
        Binding("d", "refused('discussion')", N_("Discuss"), show=False),
        Binding("e", "refused('evaluators')", N_("Evaluators"), show=False),
        Binding("v", "refused('live')", N_("Locked/live"), show=False),
    ]

    def __init__(
        self,
        meeting: Meeting,
        reader: Meeting,
        *,
        display: bool = False,
        exports: Path | None = None,
        clock: bool = True,
    ) -> None:
        super().__init__()
        # The projector's theme is set before the first styling, not on mount: set then, it
        # makes Textual style every widget a second time before the first frame. And set
        # without Textual's watcher (``set_reactive``), its colours given to the stylesheet
        # before anything is parsed: the watcher queues a re-parse of every stylesheet and a
        # restyling (``refresh_css``), which ran before the first frame. What else the watcher
        # does (the dark or light mode's class, the colour filter) is the default theme's
        # already when the projector's is dark as well.
        self.register_theme(PROJECTOR)
        if display:
            if PROJECTOR.dark == self.current_theme.dark:
                self.set_reactive(App.theme, PROJECTOR.name)
                self.stylesheet.set_variables(self.get_css_variables())
            else:
                self.theme = PROJECTOR.name
        self.clock = clock
        self.meeting = meeting  # writes, on the UI thread
        self.reader = reader  # reloads, in the worker thread (its own SQLite connection); the UI thread uses meeting
        self.display_mode = display
        self.exports = exports or Path.cwd() / "exports"
        self.snapshot: Snapshot | None = None
        self.files_error: str | None = None
        self.startup_error: tuple[str, int] | None = (
            None  # why the files could not be read at the start, the exit status
        )
        self.change_watch = ChangeWatch(reader)  # (not `watch`: that is Textual's own App.watch)
        self._folder_events: FolderEvents | None = None  # (once mounted: ``_saved``)
        self._woken = False  # (a look is due: ``_saved``, ``_poll_woken``)
        self.last_focus: str | None = None
        self.shown_lock: str | None = None  # the display turned to this lock's final list
        self._terminal: int | None = None  # the terminal's descriptor, once running in one
        self.analysing: Snapshot | None = None  # the snapshot the latest analysis started for
        # What the last refreshes touched (tests read the latest); bounded, a meeting is long.
        self.refresh_costs: deque[list[RefreshCost]] = deque(maxlen=100)
        self.analysis: dict | None = None  # candidate id -> robustness (analysis.robustness)
        self._fragile: tuple[dict | None, frozenset[str]] = (None, frozenset())  # (fragile's, once per analysis)
        self.failures: list[str] = []  # what went wrong while running, for the banner and tests
        # Every event this console has seen (seq -> hash): one that later disappears or changes
        # (a journal cut short or rewritten under it) is named in the red banner for good.
        self._seen: dict[int, str] = {}
        self.lost: list[str] = []
        self._meeting_running = False  # from the first paint on, a failure no longer ends the app
        self._boards_mounted = False  # the boards after the first (``_mount_the_other_boards``)
        self._failed_screen: Screen | None = None
        self.show_live = False  # after the lock, `v`: the live standings instead of the locked list
        self._infos: dict[str, Content] = {}  # each board's line above it, by category id
        self._reloading: tuple[tuple[str, ...], str] | None = None  # files seen changing, and when
        self._claims_refuted: Callable[[], list[Path]] | None = None  # (``cache.claims_refuted``, once imported)
        # Another screen's boards for the files seen changing, shown until this one's (``_previewed``).
        self._preview: Snapshot | None = None

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        config = self.meeting.config
        yield Header(show_clock=self.clock)
        with Vertical(id="banners"):
            yield Static("", id="lock-title", classes="hidden")
            yield Digits("", id="fingerprint", classes="hidden")
            yield Static("", id="drift-banner", classes="hidden")
            yield Static("", id="focus-banner", classes="hidden")
            yield Static("", id="error-banner", classes="hidden")
            yield Static("", id="failure-banner", classes="hidden")
        compact = self._compact()
        # The boards' tab bar: one line of our own over a ContentSwitcher (Textual's
        # TabbedContent cost a first frame 1.2x a minimal app's by itself: bench_console,
        # "the tabs alone"); the keys 1 2 3 or a click show a board.
        yield Static(self._tab_bar(compact, 0), id="tabbar")
        with ContentSwitcher(id="boards", initial="tab-1"):
            # The first board only: the others, hidden, are mounted once the first frame is
            # on the screen (``_mount_the_other_boards``), before the files are read.
            yield self._board_pane(1, config.categories[0], compact)
        yield Footer()

    def _board_pane(self, index: int, category: Category, compact: bool) -> Vertical:
        """A board's pane in the switcher: its line of counts (saying, until the files are
        read, that they are being read), the projector's strip, the board."""
        # Widget ids by position: a category id comes from the config and may hold anything.
        reading = plain(_("reading {file}…").format(file=self.meeting.config.contest.scores.name))
        parts: list[Widget] = [Static(reading, id=f"info-{index}", classes="board-info")]
        if self.display_mode:  # the projector: the board's percents as a strip, two lines
            parts.append(PercentChart(id=f"chart-{index}"))
        # (The area columns come with the first board: the files are read after the first frame.)
        parts.append(LeaderboardTable(category.id, (), compact=compact, id=f"board-{index}"))
        return Vertical(*parts, id=f"tab-{index}")

    async def _mount_the_other_boards(self) -> None:
        """After the first frame: the hidden boards (each costs the first frame its mounting),
        then the read of the files (``reload``), whose boards they show. Until then nothing
        shows a board but the first: the keys that show one wait for the boards to be read
        (``check_action``), and the poll for them to be mounted (``_poll``)."""
        categories, compact = self.meeting.config.categories, self._compact()
        panes = [self._board_pane(index, c, compact) for index, c in enumerate(categories[1:], 2)]
        for pane in panes:
            pane.display = False  # (the switcher hides its other children when it mounts, not later)
        if panes:
            await self.query_one("#boards", ContentSwitcher).mount_all(panes)
        self._boards_mounted = True
        self.reload(False)

    def _tab_bar(self, compact: bool, active: int) -> Content:
        """The tab bar: each board's key and label (``_tab_label``), the shown one (``active``,
        from 0) highlighted, each one a click that shows its board."""
        tabs = []
        for index, category in enumerate(self.meeting.config.categories):
            label = self._tab_label(index + 1, category.label, compact)
            style = "bold reverse" if index == active else "dim"
            tabs.append(markup(f"[{style} @click=app.go({index})] $label [/]", label=label))
        return Content(" ").join(tabs)

    @staticmethod
    def _tab_label(index: int, label: str, compact: bool) -> str:
        """The key that shows the board, then its label; on a narrow screen only one of a label
        and its trailing parenthesis (the demo's "Large cities (대도시)"), so that every tab fits
        in 80 columns: the Korean name in a Korean console, else the words before it."""
        if compact:
            found = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", label)
            if found and language() == "ko" and re.search(r"[\uac00-\ud7a3]", found[2]):
                label = found[2]
            elif found:
                label = found[1] or label
        return f"{index} {label}" if index <= 9 else label

    def on_mount(self) -> None:
        if self.display_mode:
            role = _("display (read-only)")
        else:
            role = f"{self.meeting.who}: {role_word(self.meeting.role)}"
            if self.meeting.journal.write_problem():
                role = _("{role} (read-only: this account may not write the session)").format(role=role)
        self.sub_title = visible(role)
        self._fit_title(self.size.width)
        # The frame paints at once, each board saying what is being read; the files are read
        # and the first boards computed in a worker thread (``reload``), like every change
        # later. Files that cannot be read then end the console with the message the command
        # line gives (``startup_error``); once the boards are up, a bad file is a banner.
        # From here on a failure (even in the first boards: a journal written by hand) is a
        # banner, never a traceback painted on the projector.
        self._meeting_running = True
        # The read starts once that frame is on the screen and the other boards are mounted:
        # its imports (polars, the engine) would otherwise hold the interpreter while the
        # frame is being drawn.
        self.call_after_refresh(self._mount_the_other_boards)
        # The terminal this console runs in, to notice when it is gone (see _poll).
        self._terminal = 0 if not self.is_headless and os.isatty(0) else None
        self.set_interval(POLL_SECONDS, self._poll)
        self.call_after_refresh(self._watch_folders)
        self.call_after_refresh(lambda: self.current_table.focus())

    def _watch_folders(self) -> None:
        """A sheet moved into place or a note written wakes the poll at once (on Linux; else,
        and for what the kernel is not asked about, the interval alone): on average half an
        interval sooner (``FolderEvents``)."""
        self._folder_events = FolderEvents.open(self.change_watch.folders())
        if self._folder_events is not None:
            asyncio.get_running_loop().add_reader(self._folder_events.fileno(), self._saved)

    def on_unmount(self) -> None:
        self._stop_folder_events()

    def _stop_folder_events(self) -> None:
        events, self._folder_events = self._folder_events, None
        if events is not None:
            with contextlib.suppress(RuntimeError, ValueError, OSError):
                asyncio.get_running_loop().remove_reader(events.fileno())
            events.close()

    # -- failures -----------------------------------------------------------------------------
    def failure_log(self) -> Path:
        """Where tracebacks go: beside the session, one file per account; else a private file in
        the temporary folder (a read-only viewer cannot write beside the session)."""
        session = self.reader.journal.path
        name = f"{session.stem}.console-{self.meeting.who}.log"
        beside = session.parent / name
        if os.access(session.parent, os.W_OK) and (not beside.exists() or os.access(beside, os.W_OK)):
            return beside
        return Path(tempfile.gettempdir()) / f"panel-tui-{os.geteuid()}-{name}"

    def _failed(self, error: BaseException, what: str | None = None) -> None:
        """Something went wrong while showing ``what``: log it, close the screen that failed,
        say so in a banner; the boards and the session stay as they were."""
        if what is None:
            what = getattr(self.screen, "what", LEADERBOARDS)
        log = self.failure_log()
        try:
            # Never blocks (a FIFO planted in a shared folder), never follows a link, and only
            # into a regular file of this account's own.
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                os.close(fd)
                raise OSError(0, "not a regular file of this account's own")
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} showing {what}\n")
                out.write("".join(traceback.format_exception(error)))
            where = " " + _("Details: {log}").format(log=log)
        except OSError as exc:
            where = " " + _("(the details could not be written to {log}: {error})").format(log=log, error=exc.strerror)
        closing = len(self.screen_stack) > 1 and what == getattr(self.screen, "what", None)
        if closing and self._failed_screen is self.screen:
            return  # the same screen failing again on its way out (its mount after its compose): logged
        self.failures.append(f"{what}: {type(error).__name__}: {error}")
        if closing:
            self._failed_screen = self.screen
            self.call_later(self._close_failed_screen)
        try:
            banner = self.query_one("#failure-banner", Static)
            banner.update(
                plain(_("Something went wrong showing {what}; the meeting can go on.").format(what=_(what)) + where)
            )
            banner.remove_class("hidden")
            self.set_timer(60, lambda: banner.add_class("hidden"))
        except NoMatches:
            pass  # the base screen itself is gone: nothing more to show it on

    def _close_failed_screen(self) -> None:
        if len(self.screen_stack) > 1 and self.screen is self._failed_screen:
            self.pop_screen()

    def _handle_exception(self, error: Exception) -> None:
        # HACK (Textual 8.2, App._handle_exception): Textual ends the app on any exception in
        # any widget and paints its traceback, local variables included, on the terminal (the
        # projector). Once the meeting is on screen, a failure is reported instead.
        if self.raise_failures or not self._meeting_running:
            super()._handle_exception(error)
            return
        self._failed(error)

    async def _dispatch_message(self, message: Message) -> None:
        # HACK (Textual 8.2, MessagePump._dispatch_message): an exception in one of the app's
        # own handlers or actions would end its message loop; report it and go on.
        try:
            return await super()._dispatch_message(message)
        except Exception as error:
            if self._exit or self._closing or self._closed:
                return None  # shutting down: a reload that arrives now finds its widgets gone
            if self.raise_failures or not self._meeting_running:
                raise
            self._failed(error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "reload" and self._preview is not None:
            self._preview = None  # (another screen's boards are never left up as this one's)
            if self.snapshot is not None and not self._closing_down():
                self._show(self.snapshot)
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            if self.raise_failures:
                raise event.worker.error
            self._failed(event.worker.error, event.worker.description)

    def _fit_title(self, width: int) -> None:
        """The header: the contest's name (literally) and who this is; on a narrow screen the
        name is cut, never the account and role."""
        name = visible(self.meeting.config.contest.name)
        if width:
            # Textual's header: its icon (8 cells) and the clock or its space (10) around a
            # centred "title — subtitle".
            name = clip(name, max(8, width - 8 - 10 - 3 - text_width(self.sub_title) - 2))
        self.title = name

    def on_resize(self, event: events.Resize) -> None:
        # (Each board fits its columns to its own width: LeaderboardTable.on_resize.)
        self._fit_title(event.size.width)
        compact = event.size.width < COMPACT_BELOW  # (self.size may not have caught up yet)
        self._show_tab_bar(compact)

    # -- live -------------------------------------------------------------------------------
    def _saved(self) -> None:
        """A watched file was moved into place, or the journal written (``FolderEvents``): the
        poll looks ``WAKE_SECONDS`` later rather than at its next tick. The events are read at
        most once in that time (a folder written without pause, whatever the file, costs one
        read and at most one look per ``WAKE_SECONDS``); the events of one save come to one look."""
        events = self._folder_events
        if events is None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(events.fileno())
        try:
            self._woken = events.drain() or self._woken
        except OSError:  # (never seen; the interval poll goes on alone)
            self._stop_folder_events()
            return
        loop.call_later(WAKE_SECONDS, self._poll_woken)

    def _poll_woken(self) -> None:
        events = self._folder_events
        if events is None:
            return  # (the console is closing)
        due, self._woken = self._woken, False
        # Not while a reload runs (what changed meanwhile, the tick sees): a file touched in a
        # loop brings no more reloads than the tick alone would.
        if due and not any(worker.group == "reload" and worker.is_running for worker in self.workers):
            self._poll()
        if self._folder_events is events:
            asyncio.get_running_loop().add_reader(events.fileno(), self._saved)

    def _poll(self) -> None:
        if self._terminal is not None and not os.isatty(self._terminal):
            # The terminal hung up without the hang-up signal reaching us (e.g. started with
            # `su`, or an SSH connection that died): Textual's input thread would then spin at
            # EOF on a dead terminal forever. Everything is already in the session: quit.
            self.exit(return_code=0)
            return
        COLLECTOR.overdue()
        if not self._boards_mounted:
            return  # (the first read, once they are, reads everything anyway)
        files, journal = self.change_watch.poll()
        changed = self.change_watch.changed_files if files else ()
        # A sheet this console took another's claim of (``cache.take_claims``, in ``reload``) and
        # found, by its own hash, not to hold: read again. (Handed over by the first reload once
        # its worker imported the cache: importing it here would hold the interface, and the
        # module seen while that import runs is only partly there.)
        claims_refuted = self._claims_refuted
        refuted = tuple(path.name for path in claims_refuted()) if claims_refuted is not None else ()
        if refuted:
            files, changed = True, tuple(dict.fromkeys((*changed, *refuted)))
        if files:
            self._reloading = (changed, time.strftime("%H:%M:%S"))
        if files or journal:
            self.reload(files)
            if self._folder_events is not None:
                self._folder_events.watch(self.change_watch.folders())  # (a folder made since: the journal's)

    @work(
        thread=True, exclusive=True, group="reload", description=N_("the new scores or decisions"), exit_on_error=False
    )
    def reload(self, files: bool) -> None:
        """Standings from the files (re-read when they changed) and the journal as it is now;
        a note or the focus reuses the boards' numbers (``views.take_snapshot``). The files'
        loading marks stay held until the boards are painted (``_computed``): every screen's
        boards come before any screen's analysis (``analyse``), on two cores. So is the cycle
        collector, whose full passes would otherwise land on the reload or its paint."""
        from panel_tui.inputs.cache import claims_refuted, let_go, take_claims

        take_claims()  # (checked afterwards: a claim found wrong comes back through ``_poll``)
        self._claims_refuted = claims_refuted
        marks: list[int] = []
        release = COLLECTOR.hold()
        worker = get_current_worker()

        def preview(standings: Standings, state: SessionState) -> None:
            message = BoardsPreviewed(standings, state, worker)
            # Not beside their painting: this reload's own work (loading the cells, ranking
            # them) would take the cores from it, and from the other screens' (on two cores).
            if self.post_message(message):
                message.done.wait(PREVIEW_WAITS)

        try:
            snapshot = _views().take_snapshot(
                self.reader,
                reload=files,
                last=self.snapshot,
                marks=marks,
                # (the display only: a console's keys act on the standings it computed itself)
                preview=preview if self.display_mode else None,
                placed=True,  # (the analysis lays out the scores the stream read: no parse of the rows)
            )
        except PanelError as exc:
            let_go(marks)
            release()
            self.post_message(InputsRejected(str(exc), exc.exit_status))
            return
        except BaseException:
            let_go(marks)
            release()
            raise
        self.post_message(StandingsComputed(snapshot, marks, release))

    @on(InputsRejected)
    def _rejected(self, message: InputsRejected) -> None:
        if self._closing_down():
            return
        if self.snapshot is None:  # nothing to show yet: the console ends, saying why (as rank would)
            self.startup_error = (message.error, message.status)
            self.exit(return_code=message.status)
            return
        self.files_error = message.error
        if self._preview is not None:  # (the last good boards are this screen's own)
            self._preview = None
            self._show(self.snapshot)
        banner = self.query_one("#error-banner", Static)
        if self.display_mode:
            # The projector names the file, not its cell: the message may quote one evaluator's
            # score, which has no place on the shared screen (the consoles show it whole).
            where = message.error.split(",", 1)[0].split(": ", 1)[0].strip()
            name = Path(where).name if where else _("a contest file")
            banner.update(
                plain(
                    _("⚠ {file} was refused; showing the last good leaderboards until it is fixed.").format(file=name)
                )
            )
        else:
            banner.update(
                plain(
                    "⚠ " + message.error + "\n" + _("Showing the last good leaderboards until the file is fixed."),
                    lines=True,
                )
            )
        banner.remove_class("hidden")

    @on(events.DescendantFocus)
    def _translate_the_focused(self, event: events.DescendantFocus) -> None:
        """Textual's own widgets (a table, a form's text field, the palette's input) and what holds
        them: their key descriptions in the panel's language, as the keys panel lists them."""
        for node in event.widget.ancestors_with_self:
            translate_bindings(node)

    @on(BoardsPreviewed)
    def _previewed(self, message: BoardsPreviewed) -> None:
        last = self.snapshot
        if last is None or message.worker.is_cancelled or self._closing_down():
            message.done.set()
            return  # (the first boards come with the first standings; a newer reload is on its way)
        self._preview = replace(last, standings=message.standings, state=message.state, check=None)
        try:
            # (Another screen read the files as they are now: a banner saying this one's last
            # read was refused would be wrong over them; it comes back if this one's is too.)
            self.query_one("#error-banner", Static).add_class("hidden")
            self._show(self._preview)
        finally:
            if not self.call_after_refresh(message.done.set):
                message.done.set()

    @on(StandingsComputed)
    def _computed(self, message: StandingsComputed) -> None:
        if self._closing_down():
            message.painted()
            return
        try:
            self._show_computed(message)
        finally:
            # Once this frame is painted: the other screens' analyses, and this one's, wait until then.
            if not self.call_after_refresh(message.painted):
                message.painted()  # (closing: no refresh to wait for)

    def _show_computed(self, message: StandingsComputed) -> None:
        preview, self._preview = self._preview, None
        self.files_error = None
        self.query_one("#error-banner", Static).add_class("hidden")
        self._remember(message.snapshot.state.events)
        previous, self.snapshot = self.snapshot, message.snapshot
        if previous is not None and self._reloading is not None and message.snapshot.data is not previous.data:
            # The files were read again: every screen says which, when, and how many candidates
            # it changed (the notice goes by itself; the lock screen lists the changes).
            files, at = self._reloading
            self._reloading = None
            # Once the boards are painted: counting the candidates that changed takes a
            # 10,000-candidate contest about 0.05 s of this thread, which the boards need not wait for.
            self.call_after_refresh(self._notify_reload, files, at, previous.standings, message.snapshot.standings)
        # Writes check decisions against the same files the boards show.
        self.meeting.use_data(message.snapshot.data)
        shown = message.snapshot
        if (
            preview is not None
            and previous is not None
            and shown.data is previous.data
            and shown.state.decisions == preview.state.decisions
        ):
            # A reload for the journal alone (a note, the focus) while this screen's own read of
            # the new files is on its way: the boards another screen ranked from them stay up.
            self._preview = shown = replace(preview, state=shown.state)
        try:
            self._show(shown)
        except NoMatches:
            if self._closing_down():  # (closed while the boards were being filled)
                return
            raise
        snapshot = message.snapshot
        v = _views()
        if snapshot.data.rows.height > v.ANALYSE_UP_TO:
            snapshot.data.let_go_of_placed_scores(for_good=True)  # (no analysis here: ``PlacedScores``)
        elif not v.same_inputs(self.analysing, snapshot.data, snapshot.state.decisions):
            # Only new files or new decisions change the analysis (not notes or the focus).
            self.analysing = snapshot
            self.analyse(snapshot)

    def _notify_reload(self, files: tuple[str, ...], at: str, before: Standings, now: Standings) -> None:
        if not self._closing_down():
            self.notify(_views().reload_notice(files, at, before, now), title=_("Contest files reloaded"), timeout=8)

    @work(
        thread=True, exclusive=True, group="analysis", description=N_("how robust each outcome is"), exit_on_error=False
    )
    def analyse(self, snapshot: Snapshot) -> None:
        from panel_tui.analysis import robustness
        from panel_tui.inputs.cache import others_loading

        # Every screen's boards before any screen's analysis: while another console or served
        # tab of this account computes boards from the same sheet (they all saw it change),
        # this one's analysis, seconds of both cores at 10,000 candidates, waits (at most
        # ANALYSIS_WAITS seconds: a stopped process must not hold it back).
        scores = self.meeting.config.contest.scores
        deadline = time.monotonic() + ANALYSIS_WAITS
        worker = get_current_worker()
        while time.monotonic() < deadline and others_loading(scores):
            if worker.is_cancelled:
                # (A newer snapshot is analysed instead: the scores this one's stream placed go,
                # and with them the account's other processes stop leaving the analysis to it.)
                snapshot.data.let_go_of_placed_scores()
                return
            time.sleep(0.05)
        with contextlib.suppress(PanelError):  # the boards' own reload reports bad input
            # One screen computes the statistics the others load (``analysis``: one at a time,
            # kept in the cache): the one that streamed the new sheet, whose scores are placed
            # for them (no parse of the rows), whichever asks first (``cache.hold_placed_mark``).
            self.post_message(AnalysisComputed(snapshot, robustness(snapshot.data, snapshot.state.decisions)))
            if not self.display_mode and not worker.is_cancelled:
                # The score rows of a kept sheet are loaded only when asked for (the boards and
                # a kept analysis need only the cells): loaded now, here, not in the UI thread
                # when the secretary first opens a candidate's detail or the evaluators.
                snapshot.data.scores  # noqa: B018

    @on(AnalysisComputed)
    def _analysed(self, message: AnalysisComputed) -> None:
        if self._closing_down():
            return
        current = self.current  # (an analysis starts only from a snapshot shown)
        if not _views().same_inputs(message.snapshot, current.data, current.state.decisions):
            return  # computed for files or decisions no longer shown; the newer one is on its way
        self.analysis = message.analysis
        self._show(self._preview or current)  # (a preview stays until this screen's own standings)

    def _closing_down(self) -> bool:
        """The console is closing and its boards are already gone: a worker's result that
        arrives now (a reload, the analysis) has nowhere to go and is dropped."""
        # (Textual removes the widgets one by one: any of those the boards are shown in may go first.)
        return not all(self.query(f"#{name}") for name in ("boards", "banners", "focus-banner", "error-banner"))

    @property
    def fragile(self) -> frozenset[str]:
        """The candidates whose outcome the analysis finds fragile (worked out once per
        analysis: each board's every show asks, and at 10,000 candidates going through them
        all cost a display a few milliseconds a board)."""
        analysis = self.analysis
        if not analysis:
            return frozenset()
        if self._fragile[0] is not analysis:
            self._fragile = (analysis, frozenset(cid for cid, a in analysis.items() if a["verdict"] == "fragile"))
        return self._fragile[1]

    def _show(self, snapshot: Snapshot) -> None:
        config = self.meeting.config
        state = snapshot.state
        notes: dict[str, int] = {}
        for note in state.notes:
            cid = note.payload.get("candidate_id")
            if cid:
                notes[cid] = notes.get(cid, 0) + 1
        costs = []
        configured = {c.id for c in config.categories}
        for board in self.shown_standings(snapshot).boards:
            if board.category.id not in configured:
                continue  # a category the lock recorded that the config no longer has: the lock screen lists it
            table = self.board(board.category.id)
            costs.append(table.show(board, config.scoring.decimals, notes, self.fragile))
            self._infos[board.category.id] = self._info(board)
            if self.display_mode:
                v = _views()
                strip = v.percent_strip(board, config.scoring.review_margin, v.under_discussion(state))
                self.query_one(f"#chart-{self._index(board.category.id)}", PercentChart).show(strip)
            self._show_info(table)
        self.refresh_costs.append(costs)
        self._show_focus(state)
        self._show_lock(snapshot)
        for screen in self.screen_stack[1:]:
            # The lock and discussion screens show the news too, in place: where they were
            # scrolled to and what has the focus stay.
            show_snapshot = getattr(screen, "show_snapshot", None)
            if show_snapshot is not None:
                show_snapshot()
        self.refresh_bindings()

    @on(LeaderboardTable.RowHighlighted)
    def _row_highlighted(self, event: LeaderboardTable.RowHighlighted) -> None:
        if isinstance(event.data_table, LeaderboardTable):
            self._show_info(event.data_table)

    def _show_info(self, table: LeaderboardTable) -> None:
        """The line above a board: its threshold, counts and ties, and the selected candidate's
        whole name when the board shows it cut."""
        info = self._infos.get(table.category_id)
        if info is None:
            return
        name = table.full_name(table.selected_candidate)
        if name is not None:
            info = Content("  ·  ").join([info, markup("▸ [b]$name[/]", name=name)])
        self.board_info(table.category_id).update(info)

    def _info(self, board) -> Content:
        cat = board.category
        certified = board.entries.filter(board.entries["status"] == "certified").height
        parts = [
            plain(
                _("threshold {threshold} % of {points} points").format(
                    threshold=f"{cat.threshold:g}", points=f"{board.max_points:,.0f}"
                )
            ),
            plain(_("certified {n}").format(n=certified)),
        ]
        if cat.max_certified:
            parts.append(plain(_("cap {n}").format(n=cat.max_certified)))
        for group in board.unresolved_ties:
            parts.append(markup("[b yellow]$text[/]", text=_("unresolved tie: {ids}").format(ids=", ".join(group))))
        for order in board.stale_tie_orders:
            text = _("tie order {ids} no longer matches the scores").format(ids=", ".join(order.order))
            parts.append(markup("[b red]$text[/]", text=text))
        return Content("  ·  ").join(parts)

    def _show_focus(self, state: SessionState) -> None:
        banner = self.query_one("#focus-banner", Static)
        focus = state.focus
        if focus is None or state.lock is not None:  # after the lock nothing is under discussion
            banner.add_class("hidden")
        else:
            banner.update(plain(_("Under discussion: {name}").format(name=self.name_of(focus))))
            banner.remove_class("hidden")
        if focus != self.last_focus:
            self.last_focus = focus
            if focus is not None and self.display_mode:
                self.reveal(focus)

    # -- the proposal and the lock against the files ------------------------------------
    def shown_standings(self, snapshot: Snapshot) -> Standings:
        """What the boards show: after the lock the locked list (the live standings only while
        the files drifted from it and someone pressed ``v``), before it the live standings."""
        check = snapshot.check
        if check is None or check.locked is None:
            return snapshot.standings
        if not check.drifted:
            self.show_live = False  # the next drift starts on the locked list again
        return snapshot.standings if self.show_live else check.locked

    @property
    def current(self) -> Snapshot:
        """The snapshot on the boards, for what runs only once there is one: the screens in front
        of the boards (opened once the first standings are computed) and ``shown``."""
        snapshot = self.snapshot
        assert snapshot is not None, "no standings computed yet: the files could not be read"
        return snapshot

    @property
    def shown(self) -> Standings:
        """The standings the boards show now (``shown_standings``)."""
        return self.shown_standings(self.current)

    def _remember(self, events) -> None:
        now = {e.seq: e.hash for e in events}
        for seq, seen in self._seen.items():
            if now.get(seq) != seen:
                what = (
                    _("event {seq}, which this console had seen, was removed")
                    if seq not in now
                    else _("event {seq}, which this console had seen, was rewritten")
                ).format(seq=seq)
                if what not in self.lost:
                    self.lost.append(what)
        for seq, digest in now.items():
            self._seen.setdefault(seq, digest)

    def journal_banners(self) -> tuple[Content | None, Content | None]:
        """The lock's title line and the red banner: the journal not holding (damaged, or
        events that do not count) and the files drifting from the lock."""
        title, red = self._journal_banners()
        if self.snapshot is not None:
            state = self.snapshot.state
            trouble = [
                *self.lost,
                *state.damage,
                *(
                    _("event {seq} does not count: {why}").format(seq=seq, why=why)
                    for seq, why in state.untrusted.items()
                ),
            ]
            if trouble:
                text = plain(
                    _("⚠ The journal does not hold: {what}; run panel-tui verify").format(what="; ".join(trouble[:3]))
                )
                red = text if red is None else Content("\n").join([text, red])
        return title, red

    def _journal_banners(self) -> tuple[Content | None, Content | None]:
        """The lock's title line (a pending proposal, stale or not, or the lock) and the red
        drift banner (the files changed since the lock), for every screen; None: not shown."""
        snapshot = self.snapshot
        if snapshot is None:
            return None, None
        state, check = snapshot.state, snapshot.check
        lock = state.lock
        if lock is None:
            proposal = state.proposal
            if proposal is None:
                return None, None
            if check is not None and check.stale:
                return plain(
                    _("⚠ Proposal by {who} is stale: {why}; the secretary must propose it again").format(
                        who=proposal.author, why="; ".join(check.stale)
                    )
                ), None
            return plain(
                _("Lock proposed by {who}: waiting for the chair's confirmation").format(who=proposal.author)
            ), None
        if lock.confirmation:
            title = plain(
                _("FINAL LIST LOCKED · proposed by {who}, confirmed by {chair}").format(
                    who=lock.proposal.author, chair=lock.confirmation.author
                )
            )
        else:
            title = plain(_("FINAL LIST LOCKED · proposed by {who}").format(who=lock.proposal.author))
        if check is None or not check.drifted:
            return title, None
        changed = "; ".join(check.drift) or _("none of its files")
        if not check.differs:
            shown = _("The live standings still give the locked list (v shows them).")
        elif self.show_live:
            shown = _("Showing the LIVE standings, not the locked list; press v for the locked list.")
        else:
            shown = _("The live standings differ from the locked list; press v to view them.")
        return title, plain(_("⚠ The files changed since the lock: {changed}.").format(changed=changed) + " " + shown)

    def action_toggle_live(self) -> None:
        """``v``: the boards between the locked list and the live standings (only while the
        files drifted from the lock; the banner says which is shown)."""
        if self.snapshot is None or self.snapshot.check is None or not self.snapshot.check.drifted:
            return
        self.show_live = not self.show_live
        self._show(self.snapshot)

    def _show_lock(self, snapshot: Snapshot) -> None:
        state = snapshot.state
        lock = state.lock
        title = self.query_one("#lock-title", Static)
        digits = self.query_one("#fingerprint", Digits)
        drift = self.query_one("#drift-banner", Static)
        title_text, drift_text = self.journal_banners()
        for widget, text in ((title, title_text), (drift, drift_text)):
            widget.update(text or "")
            widget.set_class(text is None, "hidden")
        if len(self.screen_stack) > 1:  # (the screens' module, with its forms and help, only once one is open)
            from panel_tui.tui.screens import ScreenBanners

            for screen in self.screen_stack[1:]:
                for banners in screen.query(ScreenBanners):
                    banners.show(title_text, drift_text)
        if lock is None:
            digits.add_class("hidden")
            return
        if self.display_mode and lock.fingerprint != self.shown_lock:
            # The shared screen turns to the final list the moment it is locked.
            from panel_tui.tui.screens import LockScreen

            self.shown_lock = lock.fingerprint
            if not isinstance(self.screen, LockScreen):
                while len(self.screen_stack) > 1:
                    self.pop_screen()
                self.open_lock()
        digits.update(lock.fingerprint)
        digits.remove_class("hidden")

    # -- helpers ----------------------------------------------------------------------------
    def name_of(self, candidate_id: str) -> str:
        return _views().name_of(self.shown, candidate_id) if self.snapshot else candidate_id

    def category_label(self, category_id: str) -> str:
        """The category as the config names it (its id when the config does not have it)."""
        return next((c.label for c in self.meeting.config.categories if c.id == category_id), category_id)

    def lock_view(self) -> views.LockView:
        """What the lock screen shows now, for this console's account."""
        v = _views()
        viewer = v.Viewer(
            may_propose=self.may("lock_proposed"),
            may_confirm=self.may("lock_confirmed"),
            display=self.display_mode,
            show_live=self.show_live,
        )
        return v.lock_view(self.current, self.meeting, self.analysis, viewer)

    def discussion_view(self, category_id: str) -> views.DiscussionView:
        """What the discussion of a board shows now."""
        return _views().discussion_view(self.current, self.shown, category_id, self.meeting)

    def category_of(self, candidate_id: str) -> str | None:
        if self.snapshot:
            for board in self.shown.boards:
                if candidate_id in board.entries["candidate_id"].to_list():
                    return board.category.id
        return None

    def reveal(self, candidate_id: str) -> None:
        """Show the candidate's board with the cursor on its row."""
        category = self.category_of(candidate_id)
        if category is None:
            return
        self._show_board(self._index(category) - 1)
        table = self.board(category)
        with contextlib.suppress(RowDoesNotExist):  # (not on the board it names: nothing to show)
            table.move_cursor(row=table.get_row_index(candidate_id), animate=False)

    @property
    def current_table(self) -> LeaderboardTable:
        return self.query_one(f"#board-{self._shown()}", LeaderboardTable)

    def _shown(self) -> int:
        """The position (1, 2, …) of the board on the screen."""
        return int((self.query_one("#boards", ContentSwitcher).current or "tab-1").removeprefix("tab-"))

    def _compact(self) -> bool:
        """Whether the terminal is narrow enough for the compact boards and tab labels."""
        return self.size.width < COMPACT_BELOW if self.size.width else False

    def _index(self, category_id: str) -> int:
        """The board's position (1, 2, …), which names its widgets."""
        return 1 + [c.id for c in self.meeting.config.categories].index(category_id)

    def board(self, category_id: str) -> LeaderboardTable:
        """The leaderboard of a category."""
        return self.query_one(f"#board-{self._index(category_id)}", LeaderboardTable)

    def board_info(self, category_id: str) -> Static:
        """The line above a category's leaderboard: threshold, certified, ties."""
        return self.query_one(f"#info-{self._index(category_id)}", Static)

    @property
    def selected(self) -> str | None:
        return self.current_table.selected_candidate

    @property
    def locked(self) -> bool:
        return bool(self.snapshot and self.snapshot.state.lock)

    def refusal(self, kind: str) -> str | None:
        """Why this console may not record ``kind`` (an event kind), in a sentence; None when it may."""
        if self.display_mode:
            return _("The display only shows the boards: record from a secretary's, chair's or member's console.")
        if kind in ("note", "focus", "tie_order", "exclusion", "lock_proposed", "lock_confirmed") and self.locked:
            return _("The final list is locked: nothing more is recorded.")
        from panel_tui.errors import Refused
        from panel_tui.session import require

        try:
            require(self.meeting.config, self.meeting.who, kind)
        except Refused as exc:
            text = str(exc)
            return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
        return None

    def may(self, kind: str) -> bool:
        """Whether this console offers an action: never in display mode, never after the lock."""
        return self.refusal(kind) is None

    def refuse(self, kind: str) -> bool:
        """Say why, in a toast, when this console may not record ``kind``; True then."""
        why = self.refusal(kind)
        if why is not None:
            self.notify(why, title=_("Not allowed"), severity="warning")
        return why is not None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        board_actions = (
            "focus_candidate",
            "note",
            "exclude",
            "discuss",
            "lock",
            "detail",
            "go",
            "evaluators",
            "refused",
        )
        if action in board_actions and (len(self.screen_stack) > 1 or self.snapshot is None):
            # These act on the leaderboards, not on the screen in front of them, and only
            # once there are boards (the board's line says the files are being read).
            return False
        needs = {"focus_candidate": "focus", "note": "note", "exclude": "exclusion"}
        if action in needs:
            return self.may(needs[action])
        if action in ("discuss", "evaluators") and self.display_mode:
            return False  # evaluator-level detail and the discussion stay off the projector
        if action == "toggle_live":
            check = self.snapshot.check if self.snapshot else None
            return bool(check and check.drifted)
        return True  # ("refused": the same key's action was not offered, this says why)

    def action_refused(self, what: str) -> None:
        """A key whose action this console does not offer: why, in a toast."""
        if what == "discussion":
            self.notify(_("The display shows the boards only: discuss from a console."), severity="warning")
        elif what == "evaluators":
            self.notify(_("The display shows the boards only: the evaluators' scores stay off it."), severity="warning")
        elif what == "live":
            self.notify(
                _(
                    "v switches between the locked list and the live standings once the files changed "
                    "after the lock; they have not."
                ),
                severity="information",
            )
        else:
            self.refuse(what)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification: its text is shown literally (it often quotes a name, a note or a
        file's cell), never as markup, whatever the caller asks."""
        super().notify(
            visible(message, lines=True), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    def write(self, what, *args, **kwargs) -> bool:
        """Do one write through the meeting; report a refusal instead of failing."""
        try:
            what(*args, **kwargs)
        except PanelError as exc:
            self.notify(str(exc), title=_("Not recorded"), severity="error", timeout=8)
            return False
        self.reload(False)
        return True

    # -- actions ----------------------------------------------------------------------------
    def action_go(self, index: int) -> None:
        categories = self.meeting.config.categories
        if index < len(categories):
            self._show_board(index)
            self.current_table.focus()

    def _show_board(self, index: int) -> None:
        """Show the board at ``index`` (from 0) and mark its tab."""
        self.query_one("#boards", ContentSwitcher).current = f"tab-{index + 1}"
        self._show_tab_bar(self._compact())

    def _show_tab_bar(self, compact: bool) -> None:
        self.query_one("#tabbar", Static).update(self._tab_bar(compact, self._shown() - 1))

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
        if self.refuse("focus"):
            return
        cid = self.selected
        if cid and self.write(self.meeting.focus, cid):
            self.notify(_("Under discussion: {name}").format(name=self.name_of(cid)))

    def action_note(self) -> None:
        if self.refuse("note"):
            return
        self.write_note(self.selected, self.current_table.category_id)

    def action_discuss(self) -> None:
        from panel_tui.tui.screens import DiscussionScreen

        if self.display_mode:  # every path (key, palette, click) ends here: the display only shows
            self.action_refused("discussion")
            return
        self.push_screen(DiscussionScreen(self.current_table.category_id))

    def action_exclude(self) -> None:
        from panel_tui.tui.screens import ExcludeScreen

        if self.refuse("exclusion"):
            return
        cid = self.selected
        if not cid:
            return
        name = self.name_of(cid)

        def record(form: ExclusionForm) -> bool:
            if not self.write(self.meeting.exclude, cid, form.code, form.reason):
                return False
            self.notify(_("{name} excluded ({code}).").format(name=name, code=exclusion_words(form.code)))
            return True

        self.ask(ExcludeScreen(cid, name), record)

    def action_evaluators(self) -> None:
        from panel_tui.tui.screens import EvaluatorsScreen

        if self.display_mode:
            self.action_refused("evaluators")
        elif self.snapshot is not None:
            self.push_screen(EvaluatorsScreen())

    def action_lock(self) -> None:
        self.open_lock()

    # -- the forms and the lock: the screens collect, the console records ---------------------
    def ask(
        self,
        dialog: Dialog[ResultType],
        record: Callable[[ResultType], bool],
        then: Callable[[], object] | None = None,
    ) -> None:
        """Show a form; what it returns is recorded here (``record``: the write, True when it was
        recorded). A refused write (the notification says why) opens the form again with what
        was typed in it; ``then`` runs once the form is closed for good, saved or cancelled."""

        def done(result: ResultType | None) -> None:
            if result is not None and not record(result):
                self.push_screen(dialog.refilled(result), done)
                return
            if then is not None:
                then()

        self.push_screen(dialog, done)

    def write_note(self, candidate_id: str | None, category_id: str, then: Callable[[], object] | None = None) -> None:
        """The note form, on a candidate (when given) or else on a board; records the note."""
        from panel_tui.tui.screens import NoteScreen

        about = {"candidate": candidate_id} if candidate_id else {"category": category_id}

        def record(text: str) -> bool:
            if not self.write(self.meeting.note, text, **about):
                return False
            self.notify(_("Note recorded."))
            return True

        name = self.name_of(candidate_id) if candidate_id else None
        self.ask(NoteScreen(candidate_id, name, category_id), record, then)

    def order_tie(self, category_id: str, group: list[str], then: Callable[[], object] | None = None) -> None:
        """The tie form for a tied group; records the panel's order."""
        from panel_tui.tui.screens import TieOrderScreen

        def record(form: TieOrderForm) -> bool:
            if not self.write(self.meeting.decide_tie, category_id, list(form.order), form.reason):
                return False
            self.notify(_("Tie order recorded: {order}").format(order=" > ".join(form.order)))
            return True

        self.ask(TieOrderScreen(category_id, group), record, then)

    def open_lock(self) -> None:
        """The lock screen; the step its buttons ask for (propose, confirm) is recorded here,
        and a refused one opens the screen again."""
        from panel_tui.tui.screens import LockScreen

        self.push_screen(LockScreen(), self._lock_step)

    def _lock_step(self, step: LockStep | None) -> None:
        if step == "propose":
            if self.write(self.meeting.propose_lock):
                self.notify(_("Lock proposed."))
            else:
                self.open_lock()
        elif step == "confirm":
            if self.write(self.meeting.confirm_lock):
                self.notify(_("The final list is locked."))
            else:
                self.open_lock()

    def export(self, fmt: str) -> None:
        from panel_tui.export import export

        lock = self.snapshot.state.lock if self.snapshot else None
        if self.display_mode:
            self.notify(
                _("The display writes no files: export from a secretary's or chair's console."), severity="warning"
            )
            return
        if lock is None:
            self.notify(_("Exports come only from the locked final list."), severity="warning")
            return
        try:
            lock = self.meeting.exportable()  # the journal as it is now, checked whole (the reader is the worker's)
            path = export(
                lock,
                fmt,
                self.exports,
                self.meeting.config.contest.id,
                decimals=self.meeting.config.scoring.decimals,
                meeting=self.meeting,  # (the minutes are written from the whole journal)
            )
        except PanelError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(
            _("Wrote {path}").format(path=path), title=_("Export ({fingerprint})").format(fingerprint=lock.fingerprint)
        )

    def action_command_palette(self) -> None:
        """The command palette, its prompt in the panel's language."""
        from panel_tui.tui.palette import Palette

        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette(id="--command-palette", placeholder=_("Search for commands…")))

    def _palette_action(self, action: str, *parameters: object) -> None:
        """A palette command goes back to the boards (closing the views in front of them, not a
        form being filled in) and runs its action through the same check as its key."""
        from panel_tui.tui.screens import Dialog

        if any(isinstance(screen, Dialog) for screen in self.screen_stack):
            self.notify(_("Save or cancel the form first."), severity="warning")
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if self.check_action(action, parameters):
            # run_action is a coroutine: run it from the message loop (called bare, it never ran)
            self.call_later(self.run_action, f"{action}({', '.join(map(repr, parameters))})" if parameters else action)
        else:
            what = _(ACTION_WORDS.get(action, action.replace("_", " ")))
            self.notify(_("Not available here: {action}").format(action=what), severity="warning")

    def get_system_commands(self, screen: Screen):
        for command in super().get_system_commands(screen):
            # Textual's own: the display keeps the harmless ones (theme, keys, quit) and writes
            # no screenshot file on the host.
            if not (self.display_mode and command.title == "Screenshot"):
                yield system_command(command)  # (in the panel's language)
        yield SystemCommand(
            _("help: keys and marks"),
            _("What each key does and what each mark on the boards means"),
            self.action_help,
        )
        for i, category in enumerate(self.meeting.config.categories):
            yield SystemCommand(
                _("go to: {board}").format(board=_palette(category.label)),
                _("Show the {category} leaderboard").format(category=_palette(category.id)),
                lambda i=i: self._palette_action("go", i),
            )
        yield SystemCommand(
            _("go to: lock and final list"),
            _("The lock checklist, preview and fingerprint"),
            lambda: self._palette_action("lock"),
        )
        if not self.display_mode:
            yield SystemCommand(
                _("go to: discussion"),
                _("Ties and borderline candidates of this board"),
                lambda: self._palette_action("discuss"),
            )
            yield SystemCommand(
                _("go to: evaluator calibration"),
                _("Each evaluator's deviation from the consolidated scores; outliers"),
                lambda: self._palette_action("evaluators"),
            )
        if self.locked and not self.display_mode:
            from panel_tui.export import FORMATS

            for fmt in FORMATS:
                label = {"md": "Markdown"}.get(fmt, fmt.upper())
                yield SystemCommand(
                    _("export: final list as {format}").format(format=label),
                    _("Write the locked list into {folder}").format(folder=_palette(self.exports)),
                    lambda fmt=fmt: self.export(fmt),
                )
        if not self.display_mode:
            yield SystemCommand(
                _("theme: projector (high contrast)"),
                _("Black and white for a projector"),
                lambda: setattr(self, "theme", "projector"),
            )


def _palette(text: object) -> str:
    """Data in a palette command's title or help (which the palette parses as markup)."""
    return escape_markup(visible(text))


def run(meeting: Meeting, reader: Meeting, *, display: bool = False) -> None:
    PanelApp(meeting, reader, display=display).run()
