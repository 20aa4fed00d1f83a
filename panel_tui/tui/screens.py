"""The console's screens: help, candidate detail, notes, decisions, discussion and the lock."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Digits, Footer, Input, Label, Markdown, Select, Static, TextArea
from textual.widgets.button import ButtonVariant

from panel_tui.engine import EXCLUSION_CODES
from panel_tui.export import FORMATS
from panel_tui.meeting import decision_text
from panel_tui.tui.app import PanelApp
from panel_tui.tui.literal import cell, markup, plain

HELP = Path(__file__).with_name("help.md")


def _num(value, decimals: int = 2) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


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


class HelpScreen(ModalScreen):
    """F1: the keys and what each mark means, from help.md beside this file."""

    what = "the help"

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP.read_text(encoding="utf-8"))
        yield Footer()


class DetailScreen(Screen):
    """A candidate's areas and indicators, the evaluators' spread, extra columns, notes and decisions."""

    app = getters.app(PanelApp)

    what = "the candidate's detail"

    BINDINGS = [Binding("escape,q", "dismiss", "Back")]

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
            yield Static(
                plain(
                    f"rank {rank} · total {_num(entry['total'], decimals)} of {board.max_points:,.0f} · "
                    f"{_num(entry['percent'], decimals)} % · status {entry['status']}"
                    + (f" · grade {entry['grade']}" if entry["grade"] is not None else "")
                    + (f" · decided by {entry['decided_by']}" if entry["decided_by"] else "")
                    + (f" · {entry['evaluators']} evaluators" if entry["evaluators"] is not None else "")
                ),
                id="summary",
            )
            extras = [f"{c}: {candidate[c]}" for c in data.extra_columns if candidate[c] not in (None, "")]
            if extras:
                yield Static(plain(" · ".join(extras)), classes="muted")
            if data.left_out is not None and data.left_out.height:
                mine = data.left_out.filter(pl.col("candidate_id") == cid)
                if mine.height:
                    who = ", ".join(
                        f"{e} ({n} scores)"
                        for e, n in mine.group_by(pl.col("evaluator_id").cast(pl.String))
                        .len()
                        .sort("evaluator_id")
                        .iter_rows()
                    )
                    yield Static(
                        plain(f"Left out of consolidation, declared conflict of interest: {who}"), classes="muted"
                    )
            if data.conflicts is not None:
                recused = data.conflicts.filter(pl.col("candidate_id") == cid)["evaluator_id"].to_list()
                if recused:
                    yield Static(plain(f"Declared conflicts of interest: {', '.join(recused)}"), classes="muted")
            areas = " · ".join(f"{a} {_num(entry[a], decimals)}" for a in board.areas)
            yield Static(plain(f"Areas: {areas}"))
            robust = (app.analysis or {}).get(cid)
            if robust is not None:
                yield Static(_robustness_text(robust, entry, display=app.display_mode), id="robustness")
            yield Label("Indicators", classes="section")
            if drifted:
                yield Static(
                    "(from the files as they are now, which changed since the lock; the totals above are "
                    "the locked list's)",
                    classes="muted",
                )
            yield DataTable(id="indicators", cursor_type="row")
            yield Label("Notes and decisions", classes="section")
            yield Static(self._journal_text(), id="history")
        yield Footer()

    def _journal_text(self) -> Content:
        cid = self.candidate_id
        lines = []
        for e in self.app.current.state.counted:
            p = e.payload
            when = e.at[:16].replace("T", " ")
            if e.kind == "note" and p.get("candidate_id") == cid:
                lines.append(f"{when}  {e.author}: {p['text']}")
            elif (
                e.kind == "exclusion"
                and p.get("candidate_id") == cid
                or e.kind == "tie_order"
                and cid in p.get("order", [])
            ):
                lines.append(f"{when}  {e.author}: {decision_text(e.kind, p)}")
            elif e.kind == "focus" and p.get("candidate_id") == cid:
                lines.append(f"{when}  {e.author} put it under discussion")
        return plain("\n".join(lines) or "(none yet)", lines=True)

    def on_mount(self) -> None:
        app = self.app
        display = app.display_mode
        data = app.reader.data()
        cells = app.current.standings.cells.filter(pl.col("candidate_id") == self.candidate_id).with_columns(
            pl.col("candidate_id", "indicator_id").cast(pl.String)
        )
        labels = data.indicators.select("indicator_id", "label")
        table = self.query_one("#indicators", DataTable)
        columns = ["Indicator", "Area", "Label", "Max", "Score", "n"]
        if not display:
            columns += ["Min", "Max given", "Dropped (trimmed mean)", "Evaluators"]
        table.add_columns(*columns)
        scores = data.scores.filter(pl.col("candidate_id") == self.candidate_id).with_columns(
            pl.col("indicator_id").cast(pl.String), pl.col("evaluator_id").cast(pl.String)
        )
        spread = {
            iid: list(zip(evs, vals, strict=False))
            for iid, evs, vals in scores.group_by("indicator_id").agg("evaluator_id", "score").iter_rows()
        }
        rows = cells.join(labels, on="indicator_id", how="left").sort("indicator_id")
        for row in rows.iter_rows(named=True):
            cells_out = [
                cell(row["indicator_id"]),
                cell(row["area_id"]),
                cell(row["label"] or ""),
                _num(row["max_points"], 1),
                _num(row["value"], 2),
                str(row["n"]),
            ]
            if not display:
                given = sorted(spread.get(row["indicator_id"], []), key=lambda ev: ev[1])
                dropped = ""
                if row["trimmed"] and given:
                    low, high = given[0], given[-1]
                    dropped = f"{low[1]:g} ({low[0]}), {high[1]:g} ({high[0]})"
                everyone = " ".join(f"{e}:{v:g}" for e, v in sorted(given)) if data.has_evaluators else ""
                cells_out += [_num(row["min"], 1), _num(row["max"], 1), cell(dropped), cell(everyone)]
            table.add_row(*cells_out)


def _totals_moved(before, now, decimals: int) -> list[str]:
    """Candidates whose total or percent differs between two standings (a proposal's list and
    the files now), one line each: a change of score that moves no rank still shows."""

    def entries(standings) -> pl.DataFrame:
        return pl.concat(
            [
                b.entries.select("candidate_id", "name", "total", "percent").with_columns(
                    category=pl.lit(b.category.id)
                )
                for b in standings.boards
            ],
            how="vertical_relaxed",
        )

    moved = (
        entries(before)
        .join(entries(now), on=["category", "candidate_id"], how="inner", suffix="_now")
        .filter(pl.col("total").ne_missing(pl.col("total_now")) | pl.col("percent").ne_missing(pl.col("percent_now")))
    )
    return [
        f"{cat}: {cid} {name}: total {_num(t, decimals)} -> {_num(t_now, decimals)}"
        for cat, cid, name, t, t_now in moved.select(
            "category", "candidate_id", "name_now", "total", "total_now"
        ).iter_rows()
    ]


def _robustness_text(a: dict, entry: dict, *, display: bool) -> Content:
    """The candidate's robustness in two lines: rank and certification under each method, and
    with one evaluator fewer (on the display, how many evaluators, not who)."""
    methods = {"mean": "mean", "median": "median", "trimmed_mean": "trimmed mean", "zscore": "z-scores"}

    def outcome(m: str) -> str:
        rank, certified = a["ranks"][m], a["certified"][m]
        mark = "✔" if certified else ("?" if certified is None else "✘")
        return f"{methods[m]} {'–' if rank is None else rank} {mark}"

    verdict = "[b]⚠ fragile[/]" if a["verdict"] == "fragile" else "stable"  # our markup; the rest is data
    flips = a["leave_one_out"]["certification_flips_without"]
    if flips:
        who = f"{len(flips)} evaluator{'s' if len(flips) != 1 else ''}" if display else ", ".join(flips)
        flipped = f"certification flips without {who}"
    else:
        flipped = "no single evaluator's absence changes its certification"
    return markup(
        f"Robustness: {verdict} · rank and certification by method: $methods"
        "\nWith one evaluator fewer: rank moves by up to $swing; $flipped",
        methods=" · ".join(outcome(m) for m in methods),
        swing=a["leave_one_out"]["max_rank_swing"],
        flipped=flipped,
    )


class Dialog(ModalScreen):
    """A small form over the boards: a title, its fields, Save and Cancel (Esc)."""

    app = getters.app(PanelApp)

    what = "a form"

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]
    save_label = "Save"
    save_variant: ButtonVariant = "primary"

    def title_text(self) -> str:
        raise NotImplementedError

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def save(self) -> None:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain(self.title_text()))
            yield from self.fields()
            with Horizontal(classes="buttons"):
                yield Button(self.save_label, id="save", variant=self.save_variant)
                yield Button("Cancel", id="cancel")
        yield Footer()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.save()


class NoteScreen(Dialog):
    """Write a discussion note on the selected candidate, or on the board's category."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel"), Binding("ctrl+s", "save", "Save")]
    save_label = "Save (ctrl+s)"

    def __init__(self, candidate_id: str | None, name: str | None, category_id: str) -> None:
        super().__init__()
        self.candidate_id = candidate_id
        self.label = name
        self.category_id = category_id

    def title_text(self) -> str:
        return f"Note on {self.label or f'the {self.category_id} board'}"

    def fields(self) -> ComposeResult:
        yield TextArea(id="note-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.save()

    def save(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.app.notify("A note needs some text.", severity="warning")
            return
        kwargs = {"candidate": self.candidate_id} if self.candidate_id else {"category": self.category_id}
        if self.app.write(self.app.meeting.note, text, **kwargs):
            self.app.notify("Note recorded.")
            self.dismiss()


class ExcludeScreen(Dialog):
    """Exclude a candidate: a reason code and a reason, both required."""

    save_label = "Exclude"
    save_variant = "error"

    def __init__(self, candidate_id: str, name: str) -> None:
        super().__init__()
        self.candidate_id = candidate_id
        self.label = name

    def title_text(self) -> str:
        return f"Exclude {self.label} from the ranking"

    def fields(self) -> ComposeResult:
        yield Select([(c, c) for c in EXCLUSION_CODES], prompt="Reason code", id="code")
        yield Input(placeholder="Reason (required)", id="reason")

    def save(self) -> None:
        code = self.query_one("#code", Select).value
        reason = self.query_one("#reason", Input).value
        if code is Select.BLANK or not reason.strip():
            self.app.notify("Choose a reason code and write the reason.", severity="warning")
            return
        if self.app.write(self.app.meeting.exclude, self.candidate_id, str(code), reason):
            self.app.notify(f"{self.label} excluded ({code}).")
            self.dismiss()


class TieOrderScreen(Dialog):
    """Record the panel's order for a fully tied group, with the reason."""

    save_label = "Record the order"

    def __init__(self, category_id: str, group: list[str]) -> None:
        super().__init__()
        self.category_id = category_id
        self.group = group

    def title_text(self) -> str:
        names = ", ".join(self.app.name_of(c) for c in self.group)
        return f"Order the tie in {self.category_id}: {names}"

    def fields(self) -> ComposeResult:
        yield Input(value=",".join(self.group), placeholder="IDs, best first", id="order")
        yield Input(placeholder="Reason (required)", id="reason")

    def save(self) -> None:
        order = [c.strip() for c in self.query_one("#order", Input).value.split(",") if c.strip()]
        reason = self.query_one("#reason", Input).value
        if not reason.strip():
            self.app.notify("A tie decision needs a reason.", severity="warning")
            return
        if self.app.write(self.app.meeting.decide_tie, self.category_id, order, reason):
            self.app.notify(f"Tie order recorded: {' > '.join(order)}")
            self.dismiss()


class DiscussionScreen(Screen):
    """A board's ties and borderline candidates side by side, with the keys that separate them."""

    app = getters.app(PanelApp)

    what = "the discussion"

    follows_snapshot = True

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("t", "tie", "Order the tie"),
        Binding("n", "note", "Note on the board"),
    ]

    def __init__(self, category_id: str) -> None:
        super().__init__()
        self.category_id = category_id

    def compose(self) -> ComposeResult:
        app = self.app
        board = app.shown.board(self.category_id)
        yield ScreenBanners()
        with VerticalScroll(id="discussion"):
            yield Static(markup("[b]Discussion: $label[/]", label=board.category.label), classes="title")
            groups = self._groups(board)
            if not groups:
                yield Static("No ties and no borderline candidates on this board.")
            for title, ids in groups:
                yield Label(plain(title), classes="section")
                yield self._comparison(board, ids)
            yield Label("Notes on this board", classes="section")
            yield Static(self._notes(), id="board-notes")
        yield Footer()

    def _groups(self, board) -> list[tuple[str, list[str]]]:
        groups = []
        unresolved = {frozenset(g) for g in board.unresolved_ties}
        for ids in board.tie_groups:
            state = "unresolved: the panel must order it" if frozenset(ids) in unresolved else "tie"
            groups.append((f"Tie ({state}): equal on the total and every tie-break area", list(ids)))
        border = board.entries.filter(pl.col("borderline"))["candidate_id"].to_list()
        if border:
            margin = self.app.meeting.config.scoring.review_margin
            groups.append((f"Borderline: within {margin:g} points of the {board.category.threshold:g} % line", border))
        return groups

    def _comparison(self, board, ids: list[str]) -> DataTable[str | Text]:
        table: DataTable[str | Text] = DataTable(cursor_type="none", classes="comparison")
        rows = {r["candidate_id"]: r for r in board.entries.iter_rows(named=True) if r["candidate_id"] in ids}
        table.add_column("")
        for cid in ids:
            table.add_column(cell(f"{rows[cid]['name'][:24]} ({cid})"), key=cid)
        decimals = self.app.meeting.config.scoring.decimals
        for key in ["rank", "total", "percent", *board.areas, "status", "decided_by"]:
            values = [rows[c][key] for c in ids]
            separates = key in ("total", *board.category.tie_break) and len(set(values)) > 1
            label = f"{key} ◀ separates" if separates else key
            table.add_row(
                cell(label),
                *[
                    _num(v, decimals) if isinstance(v, float) else cell("" if v is None else str(v).replace("_", " "))
                    for v in values
                ],
            )
        return table

    def _notes(self) -> Content:
        board = self.app.shown.board(self.category_id)
        ids = set(board.entries["candidate_id"].to_list())
        lines = []
        for e in self.app.current.state.notes:
            p = e.payload
            if p.get("category") == self.category_id or p.get("candidate_id") in ids:
                about = p.get("candidate_id") or "board"
                lines.append(f"{e.at[11:16]}  {e.author} [{about}]: {p['text']}")
        return plain("\n".join(lines) or "(none yet)", lines=True)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "tie":
            return self.app.may("tie_order") and bool(self.app.current.standings.board(self.category_id).tie_groups)
        if action == "note":
            return self.app.may("note")
        return True

    def action_tie(self) -> None:
        board = self.app.current.standings.board(self.category_id)
        groups = [list(g) for g in board.unresolved_ties or board.tie_groups]
        if groups:
            self.app.push_screen(TieOrderScreen(self.category_id, groups[0]), lambda _: self.dismiss())

    def action_note(self) -> None:
        self.app.push_screen(NoteScreen(None, None, self.category_id), lambda _: self.dismiss())


class LockScreen(Screen):
    """What blocks the lock, a preview of the final list, proposal, confirmation, fingerprint, export."""

    app = getters.app(PanelApp)

    what = "the lock and the final list"

    follows_snapshot = True

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("p", "press('propose')", "Propose the lock"),
        Binding("p", "press('propose', 'again')", "Propose again"),  # the same button, after a proposal
        Binding("c", "press('confirm')", "Confirm the lock"),
        Binding("e", "export_all", "Export all four formats"),
    ]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The keys are offered only with the buttons they press (the role and the state decide)."""
        if action == "press":
            again = len(parameters) > 1
            return any(b.has_class("again") == again for b in self.query(f"#{parameters[0]}"))
        if action == "export_all":
            return bool(self.query("#export-csv"))
        return True

    def on_mount(self) -> None:
        self.refresh_bindings()

    def action_press(self, button: str, *_: str) -> None:
        for found in self.query(f"#{button}").results(Button):
            found.press()

    def action_export_all(self) -> None:
        for fmt in FORMATS:
            self.app.export(fmt)

    def compose(self) -> ComposeResult:
        app = self.app
        snapshot = app.current
        state = snapshot.state
        check = snapshot.check
        from panel_tui.meeting import final_list, final_standings, what_changed
        from panel_tui.tui.app import ANALYSE_UP_TO

        lock = state.lock
        yield ScreenBanners(title=lock is None)
        with VerticalScroll(id="lock"):
            if lock is not None:
                yield Static("[b]The final list is locked[/]", classes="title")
                yield Digits(lock.fingerprint, id="lock-digits")
                who = f"proposed by {lock.proposal.author} at {lock.proposal.at[:19]}"
                if lock.confirmation:
                    who += f", confirmed by {lock.confirmation.author} at {lock.confirmation.at[:19]}"
                yield Static(plain(who))
                yield Static(self._signing(), id="signing", classes="muted")
                if check is not None and check.drifted and app.show_live:
                    yield Label(
                        "LIVE standings from the files now, NOT the locked list (v: locked list)",
                        classes="section warning",
                        id="list-shown",
                    )
                    yield Static(self._preview(final_list(snapshot.standings)), id="final-list")
                else:
                    label = "The locked final list" + (" (v: the live standings)" if check and check.drifted else "")
                    yield Label(label, classes="section", id="list-shown")
                    yield Static(self._preview(lock.final), id="final-list")
                if not app.display_mode:  # the shared screen takes no actions
                    with Horizontal(classes="buttons"):
                        for fmt in FORMATS:
                            yield Button(f"Export {fmt.upper()}", id=f"export-{fmt}")
            else:
                blockers = app.meeting.blockers(snapshot.standings)
                stale = check.stale if check is not None else ()
                yield Static("[b]Lock the final list[/]", classes="title")
                yield Static(self._signing(), id="signing", classes="muted")
                yield Label("Checklist", classes="section")
                if blockers:
                    yield Static(plain("\n".join(f"✘ {b}" for b in blockers), lines=True), id="blockers")
                else:
                    yield Static("✔ no pending candidate\n✔ no unresolved tie", id="blockers")
                stale_orders = [o for b in snapshot.standings.boards for o in b.stale_tie_orders]
                if stale_orders:
                    yield Static(
                        plain(
                            "\n".join(
                                f"! tie order {', '.join(o.order)} no longer matches a tie; not applied"
                                for o in stale_orders
                            ),
                            lines=True,
                        )
                    )
                fragile = {cid: a for cid, a in (app.analysis or {}).items() if a["verdict"] == "fragile"}
                if fragile:
                    lines = []
                    for cid, a in fragile.items():
                        methods = [
                            m for m, c in a["certified"].items() if c is not None and bool(c) != self._certified(cid)
                        ]
                        without = a["leave_one_out"]["certification_flips_without"]
                        why = "; ".join(
                            filter(
                                None,
                                [
                                    f"certification differs under {', '.join(methods)}" if methods else "",
                                    f"flips without {', '.join(without)}" if without else "",
                                ],
                            )
                        )
                        lines.append(f"! fragile: {app.name_of(cid)}: {why}")
                    yield Static(
                        plain("\n".join(lines) + "\n(for the panel to look at; the lock is not blocked)", lines=True),
                        id="fragile",
                    )
                elif app.analysis is None and snapshot.data.scores.height <= ANALYSE_UP_TO:
                    yield Static("(robustness analysis running…)", classes="muted")
                proposal = state.proposal
                if proposal is not None and stale:
                    yield Static(
                        plain(
                            f"Proposed by {proposal.author} (event {proposal.seq}), now stale: it can no longer be "
                            "confirmed; the secretary must propose it again.\n"
                            + "\n".join(f"✘ {why}" for why in stale),
                            lines=True,
                        ),
                        id="proposal",
                        classes="stale",
                    )
                elif proposal is not None:
                    yield Static(
                        plain(f"Proposed by {proposal.author} (event {proposal.seq}); waiting for a chair to confirm."),
                        id="proposal",
                    )
                changes = what_changed(state, snapshot.standings, snapshot.data)
                lines = changes.lines()
                if proposal is not None and changes.since_event == proposal.seq:
                    proposed = final_standings(proposal.payload["final"], app.meeting.config, snapshot.standings)
                    lines += _totals_moved(proposed, snapshot.standings, app.meeting.config.scoring.decimals)
                yield Label(plain(f"What changed since {changes.since}"), classes="section")
                yield Static(plain(f"against {changes.basis}"), classes="muted")
                yield Static(plain("\n".join(lines) or "nothing", lines=True), id="changes")
                yield Label("Preview of the final list", classes="section")
                yield Static(self._preview(final_list(snapshot.standings)), id="final-list")
                with Horizontal(classes="buttons"):
                    if app.may("lock_proposed") and not blockers:
                        again = proposal is not None
                        yield Button(
                            "Propose again" if again else "Propose the lock",
                            id="propose",
                            variant="warning",
                            classes="again" if again else "",
                        )
                    if app.may("lock_confirmed") and proposal is not None and not stale and not app.display_mode:
                        yield Button("Confirm the lock", id="confirm", variant="error")
        yield Footer()

    def _signing(self) -> Content:
        """Whether the journal is signed, and so what it protects against (the README's "The session")."""
        meeting = self.app.meeting
        signers = meeting.config.contest.signers
        if meeting.signed and signers is not None:
            return markup(
                "signed journal: every event signed with its author's SSH key, checked against $file", file=signers.name
            )
        return plain("unsigned journal: protects against accidents, not against an account on this host")

    def _certified(self, candidate_id: str) -> bool:
        for board in self.app.current.standings.boards:
            match = board.entries.filter(pl.col("candidate_id") == candidate_id)
            if match.height:
                return bool(match["certified"][0])
        return False

    def _preview(self, final: dict) -> Content:
        lines = []
        for category in final["categories"]:
            certified = [e for e in category["entries"] if e["certified"]]
            lines.append(markup("[b]$label[/]: $n certified", label=category["label"], n=len(certified)))
            for e in certified:
                top = "  ★ top" if e["top"] else ""
                lines.append(plain(f"  {e['rank']:>3}. {e['name']}  {e['total']:,.2f}  {e['percent']:.2f} %{top}"))
            for d in category.get("decisions", []):
                lines.append(plain(f"  ⚖ {decision_text(d['kind'], d)}"))
        return Content("\n").join(lines)

    @on(Button.Pressed, "#propose")
    def propose(self) -> None:
        if self.app.write(self.app.meeting.propose_lock):
            self.app.notify("Lock proposed.")
            self.dismiss()

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        if self.app.write(self.app.meeting.confirm_lock):
            self.app.notify("The final list is locked.")
            self.dismiss()

    @on(Button.Pressed)
    def export(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("export-"):
            self.app.export(event.button.id.removeprefix("export-"))


class EvaluatorsScreen(Screen):
    """Evaluator calibration: each evaluator's mean deviation from the consolidated scores,
    overall and per area, in percentage points of the indicators' maxima, and the outliers."""

    app = getters.app(PanelApp)

    what = "the evaluator calibration"

    BINDINGS = [Binding("escape,q", "dismiss", "Back")]

    def compose(self) -> ComposeResult:
        from panel_tui.analysis import OUTLIER_Z

        yield ScreenBanners()
        with VerticalScroll(id="evaluators"):
            yield Static("[b]Evaluator calibration[/]", classes="title")
            yield Static(
                "Mean deviation of each evaluator's scores from the consolidated score, in percentage points of "
                f"each indicator's maximum (+ lenient, - severe); ⚠ outlier when |z| > {OUTLIER_Z:g} against the "
                "other evaluators.",
                classes="muted",
            )
            yield DataTable(id="calibration", cursor_type="row", zebra_stripes=True)
            yield Static("", id="outliers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#outliers", Static).update("(computing…)")
        self.calibrate()

    @work(thread=True, exclusive=True, description="the evaluator calibration", exit_on_error=False)
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
            note.update("The score sheet has no evaluator_id column: there is nothing to calibrate.")
            return
        areas = [c for c in table.columns if c.startswith("deviation_")]
        out.add_columns(
            "Evaluator", "Scores", "Mean (pp)", *(cell(c.removeprefix("deviation_")) for c in areas), "z", ""
        )
        for row in table.iter_rows(named=True):
            out.add_row(
                cell(row["evaluator_id"]),
                f"{row['scores']:,}",
                _signed(row["mean_deviation"]),
                *(_signed(row[c]) for c in areas),
                _signed(row["z"]),
                "⚠ outlier" if row["outlier"] else "",
                key=row["evaluator_id"],
            )
        flagged = table.filter(pl.col("outlier"))["evaluator_id"].to_list()
        note.update(plain(f"Outliers: {', '.join(flagged)}" if flagged else "No outlier."))


def _signed(value) -> str:
    return "" if value is None else f"{value:+.2f}"
