"""The console's screens: help, candidate detail, notes, decisions, discussion and the lock.

The lock and discussion screens lay out the view models of ``panel_tui.views`` and update
them in place when the console has a new snapshot (``show_snapshot``). The forms only
collect: each returns what was filled in through ``dismiss``, and the console records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import polars as pl
from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Digits,
    Footer,
    Input,
    Label,
    ListItem,
    ListView,
    Markdown,
    Select,
    Static,
    TextArea,
)
from textual.widgets.button import ButtonVariant

from panel_tui.engine import EXCLUSION_CODES
from panel_tui.export import FORMATS
from panel_tui.i18n import N_, _, language, ngettext
from panel_tui.meeting import decision_text
from panel_tui.text import clip, text_width
from panel_tui.tui.app import PanelApp
from panel_tui.tui.charts import (
    SCORE_WIDTH,
    PercentChart,
    StripColours,
    percent_legend,
    score_legend,
    score_strip,
    strip_colours,
)
from panel_tui.tui.literal import cell, markup, plain
from panel_tui.tui.translated import TranslatedBindings, status_word
from panel_tui.views import (
    Checklist,
    Comparison,
    DiscussionView,
    FinalCategory,
    LockView,
    area_labels,
    area_strips,
    key_words,
    number,
    score_strips,
)
from panel_tui.vocabulary import METHOD_WORDS, exclusion_words, method_words

HELP = Path(__file__).with_name("help.md")  # in English; help.<language>.md beside it in another
DETAIL_WIDE = 160  # columns: the candidate's detail shows every column of its indicators from here
AREA_WIDTH = 32  # cells of an area's strip

# The lock screen's export buttons: the minutes by their name, the lists by their format.
FORMAT_WORDS = {
    "minutes-md": N_("minutes (Markdown)"),
    "minutes-html": N_("minutes (HTML)"),
    "minutes-pdf": N_("minutes (PDF)"),
}


class ScreenBanners(Vertical):
    """The boards' lock title and drift banner, on a screen in front of them: a stale
    proposal and files that drifted from the lock show on every screen (the app updates them)."""

    DEFAULT_CSS = """
    ScreenBanners { height: auto; }
    """

    app = getters.app(PanelApp)  # the console that shows it (Textual's own typed accessor)

    def __init__(self, *, title: bool = True) -> None:
        super().__init__()
        self.with_title = title  # the lock screen has its own title once locked

    def compose(self) -> ComposeResult:
        yield Static("", classes="lock-title hidden")
        yield Static("", classes="drift-banner hidden")

    def on_mount(self) -> None:
        self.show(*self.app.journal_banners())

    def show(self, title: Content | None, drift: Content | None) -> None:
        for widget, text in zip(
            self.query(Static).results(Static), (title if self.with_title else None, drift), strict=False
        ):
            widget.update(text or "")
            widget.set_class(text is None, "hidden")


def help_file(lang: str) -> Path:
    """The help in the panel's language: help.ko.md for Korean, help.md for English."""
    translated = HELP.with_name(f"help.{lang}.md")
    return translated if lang != "en" and translated.exists() else HELP


class HelpScreen(TranslatedBindings, ModalScreen):
    """F1: the keys and what each mark means, from help.md (help.ko.md in Korean) beside this file."""

    what = N_("the help")

    BINDINGS = [Binding("escape,f1,q", "dismiss", N_("Close"))]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_file(language()).read_text(encoding="utf-8"))
        yield Footer()


class DetailScreen(TranslatedBindings, Screen):
    """A candidate's areas and indicators, the evaluators' spread, extra columns, notes and decisions."""

    app = getters.app(PanelApp)

    what = N_("the candidate's detail")

    BINDINGS = [Binding("escape,q", "dismiss", N_("Back"))]

    def __init__(self, candidate_id: str) -> None:
        super().__init__()
        self.candidate_id = candidate_id

    def compose(self) -> ComposeResult:
        app = self.app
        snapshot = app.current
        data = app.reader.data()
        cid = self.candidate_id
        candidate = data.candidates.filter(pl.col("candidate_id") == cid).row(0, named=True)
        category = app.meeting.config.category(candidate["category"])
        board = app.shown.board(category.id)
        entry = board.entries.filter(pl.col("candidate_id") == cid).row(0, named=True)
        decimals = app.meeting.config.scoring.decimals
        drifted = (
            snapshot.check is not None and snapshot.check.drifted and board is not snapshot.standings.board(category.id)
        )
        yield ScreenBanners()
        with VerticalScroll(id="detail"):
            rank = "–" if entry["rank"] is None else str(entry["rank"])
            yield Static(
                markup("[b]$name[/]  ($cid, $label)", name=entry["name"], cid=cid, label=category.label),
                classes="title",
            )
            summary = [
                _("rank {rank}").format(rank=rank),
                _("total {total} of {points}").format(
                    total=number(entry["total"], decimals), points=f"{board.max_points:,.0f}"
                ),
                f"{number(entry['percent'], decimals)} %",
                status_word(str(entry["status"])),
            ]
            if entry["grade"] is not None:
                summary.append(_("grade {grade}").format(grade=entry["grade"]))
            if entry["decided_by"] == "panel":
                summary.append(_("ordered by the panel"))
            elif entry["decided_by"]:
                summary.append(_("separated by {key}").format(key=key_words(entry["decided_by"], {})))
            if entry["evaluators"] is not None:
                n = entry["evaluators"]
                summary.append(ngettext("{n} evaluator", "{n} evaluators", n).format(n=n))
            yield Static(plain(" · ".join(summary)), id="summary")
            extras = [
                f"{data.config.heading(c)}: {candidate[c]}"
                for c in data.extra_columns
                if candidate[c] not in (None, "")
            ]
            if extras:
                yield Static(plain(" · ".join(extras)), classes="muted")
            if data.left_out is not None and data.left_out.height:
                mine = data.left_out.filter(pl.col("candidate_id") == cid)
                if mine.height:
                    who = ", ".join(
                        ngettext("{evaluator} ({n} score)", "{evaluator} ({n} scores)", n).format(evaluator=e, n=n)
                        for e, n in mine.group_by(pl.col("evaluator_id").cast(pl.String))
                        .len()
                        .sort("evaluator_id")
                        .iter_rows()
                    )
                    yield Static(
                        plain(_("Left out of consolidation, declared conflict of interest: {who}").format(who=who)),
                        classes="muted",
                    )
            if data.conflicts is not None:
                recused = data.conflicts.filter(pl.col("candidate_id") == cid)["evaluator_id"].to_list()
                if recused:
                    yield Static(
                        plain(_("Declared conflicts of interest: {who}").format(who=", ".join(recused))),
                        classes="muted",
                    )
            yield Label(_("Areas"), classes="section")
            areas: DataTable[str | Text] = DataTable(id="areas", cursor_type="none")
            areas.can_focus = False
            yield areas
            robust = (app.analysis or {}).get(cid)
            if robust is not None:
                yield Static(_robustness_text(robust, entry, display=app.display_mode), id="robustness")
            yield Label(_("Indicators"), classes="section")
            if drifted:
                yield Static(
                    _(
                        "(from the files as they are now, which changed since the lock; the totals above are "
                        "the locked list's)"
                    ),
                    classes="muted",
                )
            if not app.display_mode:
                trimmed = app.meeting.config.scoring.method == "trimmed_mean"
                yield Static(plain(score_legend(trimmed)), classes="muted", id="strip-legend")
            yield DataTable(id="indicators", cursor_type="row")
            yield Label(_("Notes and decisions"), classes="section")
            yield Static(self._journal_text(), id="history")
        yield Static("", id="indicator-more")
        yield Footer()

    def _journal_text(self) -> Content:
        cid = self.candidate_id
        lines = []
        config = self.app.meeting.config
        for e in self.app.current.state.counted:
            p = e.payload
            when = config.contest.time(e.at)
            if e.kind == "note" and p.get("candidate_id") == cid:
                lines.append(f"{when}  {e.author}: {p['text']}")
            elif (
                e.kind == "exclusion"
                and p.get("candidate_id") == cid
                or e.kind == "tie_order"
                and cid in p.get("order", [])
            ):
                lines.append(f"{when}  {e.author}: {decision_text(e.kind, p, config.labels)}")
            elif e.kind == "focus" and p.get("candidate_id") == cid:
                lines.append(f"{when}  " + _("{author} put it under discussion").format(author=e.author))
        return plain("\n".join(lines) or _("(none yet)"), lines=True)

    wide: bool | None = None  # the indicators' table has every column (None: not filled yet)

    def on_mount(self) -> None:
        self._fill(self.app.size.width)
        self.query_one("#indicators", DataTable).focus()

    def on_resize(self) -> None:
        self._fill(self.app.size.width)

    def _fill(self, width: int) -> None:
        """The areas' and the indicators' tables for a screen ``width`` columns wide. From
        ``DETAIL_WIDE`` columns the spread (min, max given, dropped) has columns; below, the
        label is cut to the room left and the spread shows in a line at the foot of the screen
        for the selected indicator, which also says who gave what."""
        app = self.app
        display = app.display_mode
        wide = width >= DETAIL_WIDE
        if wide == self.wide:
            return
        self.wide = wide
        data = app.reader.data()
        standings = app.current.standings
        cells = standings.cells.filter(pl.col("candidate_id").cast(pl.String) == self.candidate_id).with_columns(
            pl.col("candidate_id", "indicator_id").cast(pl.String)
        )
        labels = data.indicators.select("indicator_id", "label")
        rows = cells.join(labels, on="indicator_id", how="left").sort("indicator_id")
        # The display keeps the evaluators' scores off the projector: no strip, no spread.
        self.strips = {} if display else score_strips(data, standings, self.candidate_id)
        colours = strip_colours(app.theme_variables)
        self._fill_areas(rows, width, colours)
        table = self.query_one("#indicators", DataTable)
        table.clear(columns=True)
        columns = [_("Indicator"), _("Area"), _("Label"), _("Max"), _("Score")]
        if not display:
            columns.append(_pad(_("0 … Max"), SCORE_WIDTH))
        columns.append(_("n"))
        if wide and not display:
            columns += [_("Min"), _("Max given"), _("Dropped (trimmed mean)")]
        ids = max((text_width(i) for i in rows["indicator_id"]), default=4)
        fixed = max(ids, 9) + 4 + 5 + 6 + 2 + (0 if display else SCORE_WIDTH)
        room = width - 4 - 2 * len(columns) - fixed  # the screen's padding and scrollbar, each column's
        longest = max((text_width(t or "") for t in rows["label"]), default=5)
        label_width = longest if wide else max(8, min(longest, room))
        table.add_columns(*columns)
        self.spread: dict[str, str] = {}
        for row in rows.iter_rows(named=True):
            iid = row["indicator_id"]
            strip = self.strips.get(iid)
            cells_out: list[str | Text] = [
                cell(iid),
                cell(row["area_id"]),
                cell(clip(row["label"] or "", label_width)),
                number(row["max_points"], 1),
                number(row["value"], 2),
            ]
            if not display:
                cells_out.append(score_strip(strip, colours=colours) if strip is not None else "")
            cells_out.append(str(row["n"]))
            if not display:
                given = sorted(strip.scores) if strip is not None else []
                everyone = " ".join(f"{e}:{v:g}" for e, v in given) if data.has_evaluators else ""
                dropped = strip.dropped_text() if strip is not None else ""
                spread = [number(row["min"], 1), number(row["max"], 1), dropped, everyone]
                if wide:
                    cells_out += [spread[0], spread[1], cell(dropped)]
                self.spread[iid] = " · ".join(
                    part
                    for part in (
                        f"{iid} {row['label'] or ''}",
                        "" if wide else _("min {min}, max given {max}").format(min=spread[0], max=spread[1]),
                        _("dropped by the trimmed mean: {dropped}").format(dropped=dropped)
                        if dropped and not wide
                        else "",
                        _("evaluators {scores}").format(scores=everyone) if everyone else "",
                    )
                    if part
                )
            table.add_row(*cells_out, key=iid)
        self._show_spread(table)

    def _fill_areas(self, rows: pl.DataFrame, width: int, colours: StripColours) -> None:
        """One row per area: its name, subtotal of its maximum and (not on the display) what
        each evaluator gave it in all as a strip with the subtotal marked."""
        app = self.app
        data = app.reader.data()
        candidate = data.candidates.filter(pl.col("candidate_id") == self.candidate_id).row(0, named=True)
        category = app.meeting.config.category(candidate["category"])
        board = app.shown.board(category.id)
        entry = board.entries.filter(pl.col("candidate_id") == self.candidate_id).row(0, named=True)
        decimals = app.meeting.config.scoring.decimals
        names = area_labels(data, category.indicator_set)
        maxima = dict(rows.group_by("area_id").agg(pl.col("max_points").sum()).iter_rows())
        area_of = dict(rows.select("indicator_id", "area_id").iter_rows())
        strips = area_strips(self.strips, area_of, {a: entry[a] for a in board.areas})
        table = self.query_one("#areas", DataTable)
        table.clear(columns=True)
        columns = [_("Area"), _("Name"), _("Subtotal"), _("of")]
        if strips:
            columns.append(_pad(_("0 … Max (each evaluator in all)"), AREA_WIDTH))
        table.add_columns(*columns)
        room = width - 4 - 2 * len(columns) - 4 - 9 - 6 - (AREA_WIDTH if strips else 0)
        for area in board.areas:
            strip = strips.get(area)
            out: list[str | Text] = [
                cell(area),
                cell(clip(names.get(area, ""), max(8, room))),
                number(entry[area], decimals),
                f"{maxima.get(area, 0):,.0f}",
            ]
            if strips:
                out.append(score_strip(strip, AREA_WIDTH, colours=colours) if strip is not None else "")
            table.add_row(*out)

    @on(DataTable.RowHighlighted, "#indicators")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_spread(event.data_table)

    def _show_spread(self, table: DataTable) -> None:
        more = self.query_one("#indicator-more", Static)
        spread = getattr(self, "spread", {})
        if not spread or not table.row_count:
            more.update("")
            more.display = False
            return
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        more.update(plain(spread.get(str(key), "")))
        more.display = True


def _robustness_text(a: dict, entry: dict, *, display: bool) -> Content:
    """The candidate's robustness in two lines: rank and certification under each method, and
    with one evaluator fewer (on the display, how many evaluators, not who)."""

    def outcome(m: str) -> str:
        rank, certified = a["ranks"][m], a["certified"][m]
        mark = "✔" if certified else ("?" if certified is None else "✘")
        return f"{method_words(m)} {'–' if rank is None else rank} {mark}"

    verdict = markup("[b]$word[/]", word="⚠ " + _("fragile")) if a["verdict"] == "fragile" else plain(_("stable"))
    flips = a["leave_one_out"]["certification_flips_without"]
    if flips:
        n = len(flips)
        who = ngettext("{n} evaluator", "{n} evaluators", n).format(n=n) if display else ", ".join(flips)
        flipped = _("certification flips without {who}").format(who=who)
    else:
        flipped = _("no single evaluator's absence changes its certification")
    swing = a["leave_one_out"]["max_rank_swing"]
    moves = _("no rank moves") if not swing else _("the rank moves by up to {n}").format(n=swing)
    by_method = _("rank and certification by method: {methods}").format(
        methods=" · ".join(outcome(m) for m in METHOD_WORDS)
    )
    fewer = _("With one evaluator fewer: {moves}; {flipped}").format(moves=moves, flipped=flipped)
    return Content.assemble(plain(_("Robustness:") + " "), verdict, plain(" · " + by_method + "\n" + fewer, lines=True))


def _pad(text: str, width: int) -> str:
    """``text`` filled out with spaces to ``width`` cells (Hangul takes two)."""
    return text + " " * max(0, width - text_width(text))


ResultType = TypeVar("ResultType")


@dataclass(frozen=True)
class ExclusionForm:
    """What the exclusion form returns: the reason code and the reason."""

    code: str
    reason: str


@dataclass(frozen=True)
class TieOrderForm:
    """What the tie form returns: the panel's order, best first, and the reason."""

    order: tuple[str, ...]
    reason: str


LockStep = Literal["propose", "confirm"]  # what the lock screen's buttons ask the console to record


class Dialog(TranslatedBindings, ModalScreen[ResultType]):
    """A small form over the boards: a title, its fields, Save and Cancel (Esc).

    It only collects: Save dismisses it with what was filled in (``collect``), Cancel with
    None, and the console records it (``PanelApp.ask``); a refused write opens the form again
    with what was typed (``refilled``)."""

    app = getters.app(PanelApp)

    what = N_("a form")

    BINDINGS = [Binding("escape", "dismiss", N_("Cancel"))]
    save_label = N_("Save")  # (translated where the button is made)
    save_variant: ButtonVariant = "primary"

    def title_text(self) -> str:
        raise NotImplementedError

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def collect(self) -> ResultType | None:
        """What the form holds, or None (after saying what is missing) when it is not complete."""
        raise NotImplementedError

    def refilled(self, result: ResultType) -> Dialog[ResultType]:
        """The same form again, filled in with ``result``."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.title_text()), classes="dialog-title")  # wraps, never cut
            yield from self.fields()
            with Horizontal(classes="buttons"):
                yield Button(_(self.save_label), id="save", variant=self.save_variant)
                yield Button(_("Cancel"), id="cancel")
        yield Footer()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        result = self.collect()
        if result is not None:
            self.dismiss(result)


class NoteScreen(Dialog[str]):
    """Write a discussion note on the selected candidate, or on the board's category: returns its text."""

    BINDINGS = [Binding("escape", "dismiss", N_("Cancel")), Binding("ctrl+s", "save", N_("Save"))]
    save_label = N_("Save (ctrl+s)")

    def __init__(self, candidate_id: str | None, name: str | None, category_id: str, text: str = "") -> None:
        super().__init__()
        self.candidate_id = candidate_id
        self.label = name
        self.category_id = category_id
        self.text = text

    def title_text(self) -> str:
        if self.label:
            return _("Note on {name}").format(name=self.label)
        return _("Note on the {category} board").format(category=self.category_id)

    def fields(self) -> ComposeResult:
        yield TextArea(self.text, id="note-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self._save()

    def collect(self) -> str | None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.app.notify(_("A note needs some text."), severity="warning")
            return None
        return text

    def refilled(self, result: str) -> NoteScreen:
        return NoteScreen(self.candidate_id, self.label, self.category_id, result)


class ExcludeScreen(Dialog[ExclusionForm]):
    """Exclude a candidate: a reason code and a reason, both required."""

    save_label = N_("Exclude")
    save_variant = "error"

    def __init__(self, candidate_id: str, name: str, form: ExclusionForm | None = None) -> None:
        super().__init__()
        self.candidate_id = candidate_id
        self.label = name
        self.form = form

    def title_text(self) -> str:
        return _("Exclude {name} from the ranking").format(name=self.label)

    def fields(self) -> ComposeResult:
        code = self.form.code if self.form else Select.NULL
        choices = [(exclusion_words(c), c) for c in EXCLUSION_CODES]
        yield Select(choices, prompt=_("Reason code"), id="code", value=code)
        yield Input(self.form.reason if self.form else "", placeholder=_("Reason (required)"), id="reason")

    def collect(self) -> ExclusionForm | None:
        code = self.query_one("#code", Select).value
        reason = self.query_one("#reason", Input).value
        if code == Select.NULL or not reason.strip():  # (NULL: no code chosen; Textual 8 has no Select.BLANK)
            self.app.notify(_("Choose a reason code and write the reason."), severity="warning")
            return None
        return ExclusionForm(str(code), reason)

    def refilled(self, result: ExclusionForm) -> ExcludeScreen:
        return ExcludeScreen(self.candidate_id, self.label, result)


class TieOrderScreen(Dialog[TieOrderForm]):
    """Record the panel's order for a fully tied group, with the reason: the tied candidates as
    a list, best first, reordered with the keys (↑/↓ choose one, Alt+↑/↓ or Shift+↑/↓ move it)."""

    save_label = N_("Record the order")

    BINDINGS = [
        Binding("alt+up,shift+up,ctrl+up", "move(-1)", N_("Move up")),
        Binding("alt+down,shift+down,ctrl+down", "move(1)", N_("Move down")),
    ]

    def __init__(self, category_id: str, group: list[str], form: TieOrderForm | None = None) -> None:
        super().__init__()
        self.category_id = category_id
        self.group = group
        self.form = form
        self.order = list(form.order) if form else list(group)

    def title_text(self) -> str:
        return _("Order the tie: {board}").format(board=self.app.category_label(self.category_id))

    def fields(self) -> ComposeResult:
        yield Static(_("Best first. ↑/↓ choose a candidate, Alt+↑/↓ (or Shift+↑/↓) move it."), classes="hint")
        yield ListView(*(ListItem(Label(self._line(i, cid))) for i, cid in enumerate(self.order)), id="order")
        yield Input(self.form.reason if self.form else "", placeholder=_("Reason (required)"), id="reason")

    def _line(self, index: int, candidate_id: str) -> Content:
        return plain(f"{index + 1}. {self.app.name_of(candidate_id)}")

    def on_mount(self) -> None:
        self.query_one("#order", ListView).focus()

    def action_move(self, step: int) -> None:
        """Move the chosen candidate one place up or down the order."""
        view = self.query_one("#order", ListView)
        here = view.index
        if here is None or not 0 <= here + step < len(self.order):
            return
        there = here + step
        self.order[here], self.order[there] = self.order[there], self.order[here]
        for index, item in enumerate(view.query(ListItem).results(ListItem)):
            item.query_one(Label).update(self._line(index, self.order[index]))
        view.index = there

    def collect(self) -> TieOrderForm | None:
        reason = self.query_one("#reason", Input).value
        if not reason.strip():
            self.app.notify(_("A tie decision needs a reason."), severity="warning")
            return None
        return TieOrderForm(tuple(self.order), reason)

    def refilled(self, result: TieOrderForm) -> TieOrderScreen:
        return TieOrderScreen(self.category_id, self.group, result)


class DiscussionScreen(TranslatedBindings, Screen):
    """A board's ties and borderline candidates side by side, with the keys that separate them.

    Built from ``views.DiscussionView``; a new snapshot updates it in place (``show_snapshot``):
    the tables' cells and the notes change, the scroll position and the focus stay."""

    app = getters.app(PanelApp)

    what = N_("the discussion")

    BINDINGS = [
        Binding("escape,q", "dismiss", N_("Back")),
        Binding("t", "tie", N_("Order the tie")),
        Binding("n", "note", N_("Note on the board")),
        # Shown only when offered; otherwise the same keys say why (``action_tie``, ``action_note``).
        Binding("t", "tie('why not')", show=False),
        Binding("n", "note('why not')", show=False),
    ]

    def __init__(self, category_id: str) -> None:
        super().__init__()
        self.category_id = category_id
        self.view: DiscussionView | None = None  # what is shown
        self.laid_out_for = 0  # the console's width the comparisons' titles were cut for

    def compose(self) -> ComposeResult:
        view = self.app.discussion_view(self.category_id)
        self.view = view
        yield ScreenBanners()
        with VerticalScroll(id="discussion"):
            yield Static(self._title(view), id="discussion-title", classes="title")
            yield PercentChart(view.strip, id="discussion-chart")
            yield Static(self._legend(view), id="discussion-legend", classes="muted chart-legend")
            yield Static(
                _("No ties and no borderline candidates on this board."),
                id="no-comparison",
                classes="hidden" if view.comparisons else "",
            )
            for comparison in view.comparisons:
                yield from self._comparison(comparison)
            yield Label(_("Notes on this board"), classes="section", id="notes-title")
            yield Static(self._notes(view), id="board-notes")
        yield Footer()

    @staticmethod
    def _title(view: DiscussionView) -> Content:
        return markup("[b]$title[/]", title=_("Discussion: {board}").format(board=view.label))

    @staticmethod
    def _legend(view: DiscussionView) -> Content:
        return percent_legend(view.strip) if view.strip is not None else Content("")

    @staticmethod
    def _notes(view: DiscussionView) -> Content:
        return plain("\n".join(view.notes) or _("(none yet)"), lines=True)

    def _comparison(self, comparison: Comparison) -> tuple[Static, DataTable[Text]]:
        table: DataTable[Text] = DataTable(cursor_type="none", classes="comparison")
        table.add_column("", key="key")
        # Each candidate's column gets an equal share of the screen; a name longer than that
        # ends in "…" (the board and the detail show it whole).
        key_width = max(text_width(row[0]) for row in comparison.rows) + 2
        self.laid_out_for = self.app.size.width
        share = max(14, (self.app.size.width - key_width - 4) // max(1, len(comparison.candidates)) - 2)
        for cid, header in zip(comparison.candidates, comparison.headers, strict=True):
            suffix = f" ({cid})"  # the ID stays whole
            if text_width(header) > share and header.endswith(suffix):
                header = clip(header.removesuffix(suffix), max(4, share - text_width(suffix))) + suffix
            table.add_column(cell(header), key=cid)
        for row in comparison.rows:
            table.add_row(*(cell(value) for value in row))
        return Static(plain(comparison.title), classes="section comparison-title"), table  # a title wraps

    def show_snapshot(self) -> None:
        """A new snapshot: the same tables with new values where their candidates are the same,
        else new tables in place of the old; the notes; nothing scrolls, nothing loses focus."""
        if self.view is None:
            return  # not composed yet: it will be, from this snapshot
        view = self.app.discussion_view(self.category_id)
        old, self.view = self.view, view
        self.query_one("#discussion-title", Static).update(self._title(view))
        if view.strip is not None:
            self.query_one("#discussion-chart", PercentChart).show(view.strip)
        self.query_one("#discussion-legend", Static).update(self._legend(view))
        self.query_one("#no-comparison", Static).set_class(bool(view.comparisons), "hidden")
        self.query_one("#board-notes", Static).update(self._notes(view))
        titles = list(self.query(".comparison-title").results(Static))
        tables = list(self.query(".comparison").results(DataTable))
        same_shape = len(old.comparisons) == len(view.comparisons) == len(tables) and all(
            (a.candidates, a.headers, len(a.rows)) == (b.candidates, b.headers, len(b.rows))
            for a, b in zip(old.comparisons, view.comparisons, strict=True)
        )
        if same_shape:
            for title, table, before, now in zip(titles, tables, old.comparisons, view.comparisons, strict=True):
                if before.title != now.title:
                    title.update(plain(now.title))
                for r, (was, row) in enumerate(zip(before.rows, now.rows, strict=True)):
                    for c, (a, b) in enumerate(zip(was, row, strict=True)):
                        if a != b:
                            table.update_cell_at(Coordinate(r, c), cell(b), update_width=True)
            return
        # Other groups (a tie decided, a candidate now borderline): new tables where the old stood.
        self._new_comparisons(view)

    def _new_comparisons(self, view: DiscussionView) -> None:
        for widget in (*self.query(".comparison-title"), *self.query(".comparison")):
            widget.remove()
        widgets = [w for comparison in view.comparisons for w in self._comparison(comparison)]
        if widgets:
            self.query_one("#discussion", VerticalScroll).mount_all(widgets, before="#notes-title")

    def on_resize(self) -> None:
        """Another width: the names in the tables' titles get the room there is now."""
        if self.view is not None and self.app.size.width != self.laid_out_for:
            self._new_comparisons(self.view)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The footer offers ``t`` and ``n`` only when they can be used (the hidden copies of
        the same keys answer why not)."""
        if parameters:
            return True
        if action == "tie":
            return self.app.may("tie_order") and self.view is not None and self.view.tie is not None
        if action == "note":
            return self.app.may("note")
        return True

    def action_tie(self, *_why: str) -> None:
        if self.app.refuse("tie_order"):
            return
        if self.view is None or self.view.tie is None:
            self.app.notify(_("This board has no unresolved tie to order."), severity="warning")
            return
        self.app.order_tie(self.category_id, list(self.view.tie))  # the discussion shows the order

    def action_note(self, *_why: str) -> None:
        if self.app.refuse("note"):
            return
        self.app.write_note(None, self.category_id)  # the discussion shows the note


class LockScreen(TranslatedBindings, Screen[LockStep]):
    """What blocks the lock, a preview of the final list, proposal, confirmation, fingerprint, export.

    Built from ``views.LockView``; a new snapshot updates it in place (``show_snapshot``), the
    scroll position and the focus kept; only the lock itself (a checklist becoming the locked
    list) builds it anew. Its buttons dismiss it with the step to record (``LockStep``): the
    console records it (``PanelApp.open_lock``)."""

    app = getters.app(PanelApp)

    what = N_("the lock and the final list")

    BINDINGS = [
        Binding("escape,q", "dismiss", N_("Back")),
        Binding("p", "press('propose')", N_("Propose the lock")),
        Binding("p", "press('propose', 'again')", N_("Propose again")),  # the same button, after a proposal
        Binding("c", "press('confirm')", N_("Confirm the lock")),
        Binding("e", "export_all", N_("Export every format (the list and the minutes)")),
        # Without the button, the same keys say why it is not offered.
        Binding("p", "why_not('propose')", show=False),
        Binding("c", "why_not('confirm')", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: LockView | None = None  # what is shown

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The keys are offered only with the buttons they press (the role and the state decide)."""
        if action == "press":
            again = len(parameters) > 1
            return any(b.has_class("again") == again for b in self.query(f"#{parameters[0]}"))
        if action == "export_all":
            return bool(self.query("#export-csv"))
        if action == "why_not":
            return not self.query(f"#{parameters[0]}")
        return True

    def action_why_not(self, step: str) -> None:
        """``p`` or ``c`` without its button: why the step is not offered now."""
        kind = "lock_proposed" if step == "propose" else "lock_confirmed"
        if self.app.refuse(kind):
            return
        checklist = self.view.checklist if self.view is not None else None
        if checklist is None:
            why = _("The final list is locked.")
        elif step == "propose" and checklist.blockers:
            why = _("The lock is blocked: {blockers}.").format(blockers="; ".join(checklist.blockers))
        elif checklist.proposal is None:
            why = _("There is no proposal to confirm yet: the secretary proposes the lock first.")
        elif checklist.stale:
            why = _("The proposal is stale ({why}): the secretary proposes again.").format(
                why="; ".join(checklist.proposal.stale)
            )
        else:
            why = _("Nothing to do now.")
        self.app.notify(why, title=_("Not now"), severity="warning")

    def action_press(self, button: str, *_again: str) -> None:
        for found in self.query(f"#{button}").results(Button):
            found.press()

    def action_export_all(self) -> None:
        for fmt in FORMATS:
            self.app.export(fmt)

    def compose(self) -> ComposeResult:
        view = self.app.lock_view()
        self.view = view
        texts = self._texts(view)

        def static(widget_id: str, classes: str = "") -> Static:
            text = texts[widget_id]
            return Static(
                "" if text is None else text, id=widget_id, classes=f"{classes} hidden" if text is None else classes
            )

        yield ScreenBanners(title=view.locked is None)
        with VerticalScroll(id="lock"):
            if view.locked is not None:
                yield Static(markup("[b]$title[/]", title=_("The final list is locked")), classes="title")
                yield Digits(view.locked.fingerprint, id="lock-digits")
                yield static("lock-who")
                yield static("signing", "muted")
                yield Label(texts["list-shown"] or "", classes=self._list_classes(view), id="list-shown")
                yield static("final-list")
                if view.locked.exports:  # the shared screen takes no actions
                    with Horizontal(classes="buttons"):
                        for fmt in FORMATS:
                            what = _(FORMAT_WORDS[fmt]) if fmt in FORMAT_WORDS else fmt.upper()
                            yield Button(_("Export {format}").format(format=what), id=f"export-{fmt}")
            elif view.checklist is not None:
                checklist = view.checklist
                yield Static(markup("[b]$title[/]", title=_("Lock the final list")), classes="title")
                yield static("signing", "muted")
                yield Label(_("Checklist"), classes="section")
                yield static("blockers")
                yield static("stale-orders")
                yield static("fragile")
                yield static("analysing", "muted")
                yield static("proposal", self._proposal_classes(checklist))
                yield Label(texts["changes-since"] or "", classes="section", id="changes-since")
                yield static("changes-basis", "muted")
                yield static("changes")
                yield Label(texts["list-shown"] or "", classes=self._list_classes(view), id="list-shown")
                yield static("final-list")
                with Horizontal(classes="buttons", id="lock-buttons"):
                    yield from self._buttons(checklist)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_bindings()
        # A snapshot that came between compose and now was not shown (``show_snapshot``).
        self.call_after_refresh(self.show_snapshot)

    def show_snapshot(self) -> None:
        """A new snapshot: the same screen with what changed, in place (the lock itself, a
        checklist becoming the locked list, builds it anew)."""
        if self.view is None or not self.is_mounted:
            # Not composed yet, or composed and its widgets not mounted yet (a snapshot can
            # come between the two: the console's analysis): shown once it is (``on_mount``).
            return
        view = self.app.lock_view()
        if (view.locked is None) != (self.view.locked is None):
            self.refresh(recompose=True)
            return
        self.view = view
        for widget_id, text in self._texts(view).items():
            widget = self.query_one(f"#{widget_id}", Static)
            widget.set_class(text is None, "hidden")
            if text is not None:
                widget.update(text)
        self.query_one("#list-shown", Label).set_classes(self._list_classes(view))
        if view.locked is not None:
            self.query_one("#lock-digits", Digits).update(view.locked.fingerprint)
        if view.checklist is not None:
            self.query_one("#proposal", Static).set_class(view.checklist.stale, "stale")
            self._show_buttons(view.checklist)
        self.refresh_bindings()

    def _texts(self, view: LockView) -> dict[str, Content | str | None]:
        """What each of the screen's texts shows (by widget id); None: hidden."""
        texts: dict[str, Content | str | None] = {
            "signing": plain(view.signing),
            "list-shown": plain(view.list_title),
            "final-list": self._final(view.final),
        }
        if view.locked is not None:
            texts["lock-who"] = plain(view.locked.who)
        checklist = view.checklist
        if checklist is not None:
            blockers, fragile, proposal = checklist.blockers, checklist.fragile, checklist.proposal
            texts |= {
                "blockers": plain("\n".join(f"✘ {b}" for b in blockers), lines=True)
                if blockers
                else "✔ " + _("no pending candidate") + "\n✔ " + _("no unresolved tie"),
                "stale-orders": plain("\n".join(checklist.stale_tie_orders), lines=True)
                if checklist.stale_tie_orders
                else None,
                "fragile": plain(
                    "\n".join(fragile) + "\n" + _("(for the panel to look at; the lock is not blocked)"), lines=True
                )
                if fragile
                else None,
                "analysing": _("(robustness analysis running…)") if checklist.analysing and not fragile else None,
                "proposal": plain(proposal.text, lines=True) if proposal is not None else None,
                "changes-since": plain(checklist.changes_since),
                "changes-basis": plain(checklist.changes_basis),
                "changes": plain("\n".join(checklist.changes) or _("nothing"), lines=True),
            }
        return texts

    @staticmethod
    def _list_classes(view: LockView) -> str:
        return "section warning" if view.locked is not None and view.locked.live else "section"

    @staticmethod
    def _proposal_classes(checklist: Checklist) -> str:
        return "stale" if checklist.stale else ""

    @staticmethod
    def _buttons(checklist: Checklist) -> Iterator[Button]:
        if checklist.propose is not None:
            again = "again" if checklist.propose_again else ""
            yield Button(_(checklist.propose), id="propose", variant="warning", classes=again)
        if checklist.confirm:
            yield Button(_("Confirm the lock"), id="confirm", variant="error")

    def _show_buttons(self, checklist: Checklist) -> None:
        """The proposal's and the confirmation's buttons, there only when offered (the keys
        follow them); a button that stays keeps its place, and the focus if it has it."""
        box = self.query_one("#lock-buttons", Horizontal)
        now = {button.id: button for button in self._buttons(checklist)}
        for button in list(box.query(Button).results(Button)):
            wanted = now.pop(button.id, None) if button.id else None
            if wanted is None:
                button.remove()
            else:
                button.label = wanted.label
                button.set_classes(wanted.classes)
        for button in now.values():
            box.mount(button, before=0 if button.id == "propose" and box.children else None)

    @staticmethod
    def _final(final: tuple[FinalCategory, ...]) -> Content:
        lines = []
        for category in final:
            certified = ngettext("{n} certified", "{n} certified", category.certified).format(n=category.certified)
            lines.append(markup("[b]$label[/]: $certified", label=category.label, certified=certified))
            lines.extend(plain(line) for line in category.lines)
        return Content("\n").join(lines)

    @on(Button.Pressed, "#propose")
    def propose(self) -> None:
        self.dismiss("propose")

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        self.dismiss("confirm")

    @on(Button.Pressed)
    def export(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("export-"):
            self.app.export(event.button.id.removeprefix("export-"))


class EvaluatorsScreen(TranslatedBindings, Screen):
    """Evaluator calibration: each evaluator's mean deviation from the consolidated scores,
    overall and per area, in percentage points of the indicators' maxima, and the outliers."""

    app = getters.app(PanelApp)

    what = N_("the evaluator calibration")

    BINDINGS = [Binding("escape,q", "dismiss", N_("Back"))]

    def compose(self) -> ComposeResult:
        from panel_tui.analysis import OUTLIER_Z

        yield ScreenBanners()
        with VerticalScroll(id="evaluators"):
            yield Static(markup("[b]$title[/]", title=_("Evaluator calibration")), classes="title")
            yield Static(
                plain(
                    _(
                        "Mean deviation of each evaluator's scores from the consolidated score, in percentage points "
                        "of each indicator's maximum (+ lenient, - severe); ⚠ outlier when |z| > {z} against the "
                        "other evaluators."
                    ).format(z=f"{OUTLIER_Z:g}")
                ),
                classes="muted",
            )
            yield DataTable(id="calibration", cursor_type="row", zebra_stripes=True)
            yield Static("", id="outliers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#outliers", Static).update(_("(computing…)"))
        self.calibrate()

    @work(thread=True, exclusive=True, description=N_("the evaluator calibration"), exit_on_error=False)
    def calibrate(self) -> None:
        from panel_tui.analysis import calibration

        snapshot = self.app.current
        table = calibration(snapshot.data, snapshot.standings)
        self.app.call_from_thread(self.show, table)

    def on_worker_state_changed(self, event) -> None:
        self.app.on_worker_state_changed(event)  # the app reports a failed worker (not bubbled)

    def show(self, table: pl.DataFrame) -> None:
        out = self.query_one("#calibration", DataTable)
        note = self.query_one("#outliers", Static)
        if table.is_empty():
            note.update(_("The score sheet has no evaluator_id column: there is nothing to calibrate."))
            return
        areas = [c for c in table.columns if c.startswith("deviation_")]
        out.add_columns(
            _("Evaluator"), _("Scores"), _("Mean (pp)"), *(cell(c.removeprefix("deviation_")) for c in areas), "z", ""
        )
        for row in table.iter_rows(named=True):
            out.add_row(
                cell(row["evaluator_id"]),
                f"{row['scores']:,}",
                _signed(row["mean_deviation"]),
                *(_signed(row[c]) for c in areas),
                _signed(row["z"]),
                "⚠ " + _("outlier") if row["outlier"] else "",
                key=row["evaluator_id"],
            )
        flagged = table.filter(pl.col("outlier"))["evaluator_id"].to_list()
        note.update(plain(_("Outliers: {who}").format(who=", ".join(flagged)) if flagged else _("No outlier.")))


def _signed(value) -> str:
    return "" if value is None else f"{value:+.2f}"
