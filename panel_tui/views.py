"""What the console's lock and discussion screens show, computed without Textual.

The console keeps one ``Snapshot`` (the standings, the journal state they were computed with,
the files, and the pending proposal or the lock checked against the files). From it and the
meeting, ``lock_view`` and ``discussion_view`` build plain, immutable view models: the lines,
labels and table cells the screens put on the terminal, and which buttons they offer. The
screens (``panel_tui.tui.screens``) only lay them out, and update them in place when a new
snapshot arrives; the view models are tested without a terminal (tests/test_views.py).

Everything here is data, not markup: the screens show every string literally.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import polars as pl

from panel_tui import shared_boards
from panel_tui.analysis import Robustness
from panel_tui.engine import Decisions, Leaderboard, Standings, standings
from panel_tui.i18n import N_, _, ngettext
from panel_tui.inputs import ContestData
from panel_tui.inputs.cache import writes_afterwards
from panel_tui.meeting import (
    Meeting,
    SessionState,
    decision_text,
    final_in_words,
    final_list,
    final_standings,
    what_changed,
)
from panel_tui.vocabulary import method_words, status_words

ANALYSE_UP_TO = 20_000_000  # score rows: beyond this the robustness analysis is `rank --analysis` only
# (10,000 candidates x 12 evaluators, 6.7 million rows: 0.85 s of its worker, bench/README.md, bench_analysis)


# -- the snapshot the console shows -----------------------------------------------------------


@dataclass(frozen=True)
class JournalCheck:
    """What the journal's pending proposal or lock says against the files as they are now.

    Computed in the console's reload worker (it reads every file for its digest), for one
    proposal or lock (``event``: its hash) and one set of files."""

    event: str
    stale: tuple[str, ...] = ()  # why the pending proposal can no longer be confirmed
    locked: Standings | None = None  # the locked list's boards, once locked
    drift: tuple[str, ...] = ()  # the files changed since the lock: "scores.csv changed at 10:41"
    differs: bool = False  # the files now give another list than the locked one

    @property
    def drifted(self) -> bool:
        """The files no longer are what the lock recorded (or no longer give its list)."""
        return bool(self.drift) or self.differs


@dataclass
class Snapshot:
    """One consistent view: the standings and the journal state they were computed with."""

    standings: Standings
    state: SessionState
    data: ContestData
    check: JournalCheck | None = None  # the pending proposal or the lock against the files


def all_entries(result: Standings, *columns: str) -> pl.DataFrame:
    """Every board's entries in one frame: their category, candidate ID and ``columns``."""
    return pl.concat(
        [
            b.entries.select("candidate_id", *columns).with_columns(category=pl.lit(b.category.id))
            for b in result.boards
        ],
        how="vertical_relaxed",
    )


def candidates_changed(before: Standings, now: Standings) -> int:
    """How many candidates' rank, total, percent or status differ between two standings (a
    candidate on only one of them counts too)."""
    keys = ("rank", "total", "percent", "status")
    joined = all_entries(before, *keys).join(
        all_entries(now, *keys), on="candidate_id", how="full", suffix="_now", coalesce=True
    )
    differs = pl.any_horizontal(pl.col(c).cast(pl.String).ne_missing(pl.col(f"{c}_now").cast(pl.String)) for c in keys)
    return joined.filter(differs).height


def reload_notice(files: tuple[str, ...], at: str, before: Standings, now: Standings) -> str:
    """What every screen says when the contest's files were read again: "scores.csv reloaded
    10:41:03: 3 candidates changed"."""
    n = candidates_changed(before, now)
    which = ", ".join(files) or _("the contest's files")
    if n == 0:
        return _("{files} reloaded {at}: no candidate changed").format(files=which, at=at)
    return ngettext(
        "{files} reloaded {at}: {n} candidate changed", "{files} reloaded {at}: {n} candidates changed", n
    ).format(files=which, at=at, n=n)


def same_inputs(snapshot: Snapshot | None, data: ContestData, decisions: Decisions) -> bool:
    """Whether ``snapshot`` ranks these very files with these decisions: then its standings and
    its robustness analysis stand (a note or a new focus changes neither)."""
    return snapshot is not None and snapshot.data is data and snapshot.state.decisions == decisions


def take_snapshot(
    meeting: Meeting,
    *,
    reload: bool = False,
    last: Snapshot | None = None,
    marks: list[int] | None = None,
    preview: Callable[[Standings, SessionState], None] | None = None,
    placed: bool = False,
) -> Snapshot:
    """Standings from the meeting's files (re-read with ``reload``) and its journal as it is
    now; what ``last`` computed from the same files and decisions is reused. A sheet parsed
    afresh has its cache entry written once the standings are computed, not beside them.
    ``marks``: receives the loading marks of the files read (``cache.writes_afterwards``),
    for the console to let go of once the boards are painted.

    New files' standings are kept for the account's other screens (``shared_boards``).
    ``preview``: while this process waits for another one reading the same new sheet, it is
    given that one's boards, if the journal (neither proposal nor lock) and the files are the
    same here, as soon as they are kept: standings with no cells, to show until these are ready.
    ``placed``: the caller will analyse the contest (``load_contest``'s ``placed``)."""
    waiting = None
    if preview is not None and reload:
        waiting = _Previewing(meeting, preview)
    with writes_afterwards(marks):
        data = meeting.data(reload=reload, placed=placed, waiting=waiting, live=True)
        state = meeting.state()
        result = (
            last.standings
            if last is not None and same_inputs(last, data, state.decisions)
            else standings(data, state.decisions)
        )
        kept = data.kept
        # (With declared conflicts every screen reads the sheet whole, as the lock does: none waits.)
        if kept is not None and data.conflicts is None and (last is None or last.data is not data):
            shared_boards.keep_boards(
                kept.entry,
                shared_boards.boards_key(meeting.config, kept.candidates, kept.indicators, state.decisions),
                result,
            )
    return Snapshot(result, state, data, journal_check(meeting, state, result, data, last))


class _Previewing:
    """``load_contest``'s ``waiting`` for ``take_snapshot``'s ``preview``: at each look, the
    boards kept beside the sheet's entry for this journal and these files, handed over once."""

    def __init__(self, meeting: Meeting, preview: Callable[[Standings, SessionState], None]) -> None:
        self._meeting, self._preview = meeting, preview
        self._state: SessionState | None = None
        self._keys: dict[str, list[str]] = {}
        self._done = False

    def __call__(self, entry: str, candidates: pl.DataFrame, indicators: pl.DataFrame) -> None:
        if self._done:
            return
        if self._state is None:
            self._state = self._meeting.state()
        state = self._state
        if state.lock is not None or state.proposal is not None:
            self._done = True  # (the boards then show what the lock or proposal is checked against)
            return
        if entry not in self._keys:
            self._keys[entry] = shared_boards.boards_key(self._meeting.config, candidates, indicators, state.decisions)
        found = shared_boards.kept_boards(entry, self._keys[entry], self._meeting.config)
        if found is not None:
            self._done = True
            # The journal as it is now (the wait may have lasted seconds): still no proposal
            # or lock, still these decisions, or no preview.
            now = self._meeting.state()
            if now.lock is None and now.proposal is None and now.decisions == state.decisions:
                self._preview(found, now)


def journal_check(
    meeting: Meeting, state: SessionState, result: Standings, data: ContestData, last: Snapshot | None = None
) -> JournalCheck | None:
    """The pending proposal or the lock against the files: whether the proposal went stale,
    and after the lock its boards and how the files drifted from it. Reads every file's
    digest, so only again for new files or a new event (else ``last``'s check stands)."""
    lock = state.lock
    event = lock.proposal if lock is not None else state.proposal
    if event is None:
        return None
    if (
        last is not None
        and last.check is not None
        and last.check.event == event.hash
        and last.data is data
        and last.standings is result
    ):
        return last.check
    if lock is None:
        return JournalCheck(event.hash, stale=tuple(meeting.proposal_problems(state, result)))
    drift = tuple(what for _, what in meeting.changed_files(lock.files))
    return JournalCheck(
        event.hash,
        locked=final_standings(lock.final, meeting.config, result),
        drift=drift,
        differs=final_list(result) != lock.final,
    )


# -- small helpers ------------------------------------------------------------------------


def number(value: object, decimals: int = 2) -> str:
    """A number as the screens write it: thousands separated, ``decimals`` places; "" for none."""
    return "" if value is None else f"{value:,.{decimals}f}"


def name_of(result: Standings, candidate_id: str) -> str:
    """The candidate as "Name (ID)", from a board of ``result``; the bare ID if no board has it."""
    for board in result.boards:
        match = board.entries.filter(pl.col("candidate_id") == candidate_id)
        if match.height:
            return f"{match['name'][0]} ({candidate_id})"
    return candidate_id


def _certified(result: Standings, candidate_id: str) -> bool:
    for board in result.boards:
        match = board.entries.filter(pl.col("candidate_id") == candidate_id)
        if match.height:
            return bool(match["certified"][0])
    return False


# -- the lock screen ----------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who looks at a screen, and what their console offers them (``PanelApp.may`` decides)."""

    may_propose: bool = False
    may_confirm: bool = False
    display: bool = False  # the read-only shared screen
    show_live: bool = False  # after the lock, `v`: the live standings instead of the locked list


@dataclass(frozen=True)
class FinalCategory:
    """One category of a final list (locked, proposed or previewed): its certified candidates
    and the panel's decisions, one line each."""

    label: str
    certified: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    """The pending lock proposal: who made it, in which event, and why it went stale (if it did)."""

    author: str
    seq: int
    stale: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.stale:
            return _(
                "Proposed by {author} (event {seq}), now stale: it can no longer be confirmed; "
                "the secretary must propose it again."
            ).format(author=self.author, seq=self.seq) + "".join(f"\n✘ {why}" for why in self.stale)
        return _("Proposed by {author} (event {seq}); waiting for a chair to confirm.").format(
            author=self.author, seq=self.seq
        )


@dataclass(frozen=True)
class Checklist:
    """Before the lock: what blocks it, what the panel should look at, what changed, the buttons."""

    blockers: tuple[str, ...]  # pending candidates and unresolved ties, named
    stale_tie_orders: tuple[str, ...]  # tie orders that no longer match a tie
    fragile: tuple[str, ...]  # outcomes another method or one evaluator fewer would change
    analysing: bool  # the robustness analysis is still running
    proposal: Proposal | None
    changes_since: str  # "What changed since …"
    changes_basis: str  # "against …"
    changes: tuple[str, ...]
    propose: str | None  # the proposal button's label ("Propose the lock", "Propose again"); None: not offered
    confirm: bool  # the chair's Confirm is offered

    @property
    def stale(self) -> bool:
        """The pending proposal went stale: it can no longer be confirmed."""
        return self.proposal is not None and bool(self.proposal.stale)

    @property
    def propose_again(self) -> bool:
        return self.proposal is not None


@dataclass(frozen=True)
class Locked:
    """After the lock: its fingerprint, who proposed and confirmed it, and which list is shown."""

    fingerprint: str
    who: str  # "proposed by kim at …, confirmed by lee at …"
    live: bool  # the live standings are shown, not the locked list (the files drifted, `v`)
    drifted: bool  # the files changed since the lock
    exports: bool  # the export buttons are offered


@dataclass(frozen=True)
class LockView:
    """The lock screen: a checklist before the lock, the locked list after it."""

    signing: str  # whether the journal is signed, and so what it protects against
    list_title: str  # the title above the final list
    final: tuple[FinalCategory, ...]  # the final list shown (preview, locked or live)
    checklist: Checklist | None = None  # before the lock
    locked: Locked | None = None  # after it


def final_categories(final: Mapping[str, Any]) -> tuple[FinalCategory, ...]:
    """A final list (``meeting.final_list``, or a lock's) as the lock screen lists it."""
    out = []
    for category in final["categories"]:
        certified = [e for e in category["entries"] if e["certified"]]
        top = "  ★ " + _("top")
        lines = [
            f"  {e['rank']:>3}. {e['name']}  {e['total']:,.2f}  {e['percent']:.2f} %{top if e['top'] else ''}"
            for e in certified
        ]
        labels = {category["id"]: category["label"]}
        lines += [f"  ⚖ {decision_text(d['kind'], d, labels)}" for d in category.get("decisions", [])]
        out.append(FinalCategory(category["label"], len(certified), tuple(lines)))
    return tuple(out)


def signing_text(meeting: Meeting) -> str:
    """Whether the journal is signed, and so what it protects against (the README's "The session")."""
    signers = meeting.config.contest.signers
    if meeting.signed and signers is not None:
        return _("signed journal: every event signed with its author's SSH key, checked against {signers}").format(
            signers=signers.name
        )
    return _("unsigned journal: protects against accidents, not against an account on this host")


def fragile_lines(result: Standings, analysis: Mapping[str, Robustness] | None) -> tuple[str, ...]:
    """One line per fragile outcome: under which methods its certification differs, and
    without which evaluators it flips."""
    lines = []
    for cid, a in (analysis or {}).items():
        if a["verdict"] != "fragile":
            continue
        certified = _certified(result, cid)
        methods = [m for m, c in a["certified"].items() if c is not None and bool(c) != certified]
        without = a["leave_one_out"]["certification_flips_without"]
        why = "; ".join(
            filter(
                None,
                [
                    _("certification differs under {methods}").format(
                        methods=", ".join(method_words(m) for m in methods)
                    )
                    if methods
                    else "",
                    _("flips without {evaluators}").format(evaluators=", ".join(without)) if without else "",
                ],
            )
        )
        lines.append(_("! fragile: {candidate}: {why}").format(candidate=name_of(result, cid), why=why))
    return tuple(lines)


def lock_view(
    snapshot: Snapshot,
    meeting: Meeting,
    analysis: Mapping[str, Robustness] | None = None,
    viewer: Viewer = Viewer(),
) -> LockView:
    """The lock screen for ``snapshot``: before the lock, what blocks it, the fragile outcomes,
    the proposal, what changed and a preview of the final list; after it, the locked list (or,
    with ``viewer.show_live`` while the files drifted, the live standings)."""
    state, check, result = snapshot.state, snapshot.check, snapshot.standings
    signing = signing_text(meeting)
    lock = state.lock
    if lock is not None:
        drifted = check is not None and check.drifted
        live = drifted and viewer.show_live
        time = meeting.config.contest.time
        who = _("proposed by {author} at {when}").format(
            author=lock.proposal.author, when=time(lock.proposal.at, seconds=True)
        )
        if lock.confirmation:
            who += _(", confirmed by {author} at {when}").format(
                author=lock.confirmation.author, when=time(lock.confirmation.at, seconds=True)
            )
        if live:
            title = _("LIVE standings from the files now, NOT the locked list (v: locked list)")
            final = final_in_words(final_list(result), meeting.config, snapshot.data)
        else:
            title = _("The locked final list") + (_(" (v: the live standings)") if drifted else "")
            # (the files' words only while they are the locked files)
            final = lock.final if drifted else final_in_words(lock.final, meeting.config, snapshot.data)
        return LockView(
            signing=signing,
            list_title=title,
            final=final_categories(final),
            locked=Locked(lock.fingerprint, who, live=live, drifted=drifted, exports=not viewer.display),
        )
    blockers = tuple(meeting.blockers(result))
    stale = check.stale if check is not None else ()
    event = state.proposal
    proposal = Proposal(event.author, event.seq, stale) if event is not None else None
    changes = what_changed(state, result, snapshot.data)
    lines = changes.lines(meeting.config.labels, meeting.config.scoring.decimals)
    propose = None
    if viewer.may_propose and not blockers:
        propose = _("Propose again") if proposal is not None else _("Propose the lock")
    checklist = Checklist(
        blockers=blockers,
        stale_tie_orders=tuple(
            _("! tie order {order} no longer matches a tie; not applied").format(order=", ".join(o.order))
            for b in result.boards
            for o in b.stale_tie_orders
        ),
        fragile=fragile_lines(result, analysis),
        analysing=analysis is None and snapshot.data.rows.height <= ANALYSE_UP_TO,
        proposal=proposal,
        changes_since=_("What changed since {since}").format(since=changes.since),
        changes_basis=_("against {basis}").format(basis=changes.basis),
        changes=tuple(lines),
        propose=propose,
        confirm=viewer.may_confirm and proposal is not None and not stale and not viewer.display,
    )
    return LockView(
        signing=signing,
        list_title=_("Preview of the final list"),
        final=final_categories(final_in_words(final_list(result), meeting.config, snapshot.data)),
        checklist=checklist,
    )


# -- the discussion screen ------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A tie or the borderline candidates of a board, side by side: one column per candidate,
    one row per key (rank, total, percent, each area, status, decided by); a key on which
    the candidates differ that ranks them (the total, a tie-break area) is marked."""

    title: str
    candidates: tuple[str, ...]  # candidate IDs, one per column
    headers: tuple[str, ...]  # "Name (ID)", whole (the screen fits them to its width)
    rows: tuple[tuple[str, ...], ...]  # the key's label, then one value per candidate

    @property
    def separating(self) -> tuple[str, ...]:
        """The labels of the rows that separate the candidates."""
        return tuple(row[0] for row in self.rows if row[0].endswith(_(SEPARATES)))


@dataclass(frozen=True)
class DiscussionView:
    """A board's ties and borderline candidates side by side, the notes on it, and the tie
    that `t` orders."""

    category_id: str
    label: str
    comparisons: tuple[Comparison, ...]
    notes: tuple[str, ...]  # "10:41  kim [C05]: text", "[board]" for a note on the whole board
    tie: tuple[str, ...] | None  # the group `t` orders: the first unresolved tie, else the first tie
    strip: PercentStrip | None = None  # the board's percents, the line, the band, who is discussed


SEPARATES = N_("◀ separates")  # (translated where shown: ``_(SEPARATES)``)


def area_labels(data: ContestData, indicator_set: str) -> dict[str, str]:
    """Each area of an indicator set and what the contest calls it ("A1" -> its label)."""
    frame = data.indicators.filter(pl.col("indicator_set") == indicator_set)
    if "area_label" not in frame.columns:
        return {}
    pairs = frame.select("area_id", "area_label").unique(maintain_order=True).iter_rows()
    return {area: label for area, label in pairs if label}


def key_words(key: str, labels: Mapping[str, str]) -> str:
    """A ranking key in the panel's words: "the total", "A1 subtotal (Experiential effect …)"."""
    if key == "total":
        return _("the total")
    label = labels.get(key)
    if label:
        return _("{area} subtotal ({label})").format(area=key, label=label)
    return _("{area} subtotal").format(area=key)


def comparison(
    board: Leaderboard, title: str, ids: list[str], decimals: int, labels: Mapping[str, str] | None = None
) -> Comparison:
    """``ids`` of ``board`` side by side (``Comparison``): only the key that ranks them apart
    (the first of the total and the tie-break areas on which they differ) is marked."""
    labels = labels or {}
    rows = {r["candidate_id"]: r for r in board.entries.iter_rows(named=True) if r["candidate_id"] in ids}
    keys = ("total", *board.category.tie_break)
    separating = next((k for k in keys if len({rows[c][k] for c in ids}) > 1), None)
    names = {
        "rank": _("Rank"),
        "total": _("Total"),
        "percent": _("Percent"),
        "status": _("Status"),
        "decided_by": _("Decided by"),
    }
    out = []
    for key in ["rank", "total", "percent", *board.areas, "status", "decided_by"]:
        values = [rows[c][key] for c in ids]
        label = names.get(key) or _("{area} subtotal").format(area=key)
        if key == separating:
            label = f"{label} {_(SEPARATES)}"
        if key == "decided_by":
            shown = ["" if v is None else _("the panel's order") if v == "panel" else key_words(v, {}) for v in values]
        elif key == "status":
            shown = [status_words(v).replace("_", " ") for v in values]
        else:
            shown = [
                number(v, decimals) if isinstance(v, float) else ("" if v is None else str(v).replace("_", " "))
                for v in values
            ]
        out.append((label, *shown))
    headers = tuple(f"{rows[cid]['name']} ({cid})" for cid in ids)
    return Comparison(title, tuple(ids), headers, tuple(out))


def discussion_view(snapshot: Snapshot, shown: Standings, category_id: str, meeting: Meeting) -> DiscussionView:
    """The discussion of one board of ``shown`` (the standings the boards show: after the lock
    the locked list), with the notes of ``snapshot``'s journal; the tie to order comes from
    the live standings (only they can still be decided)."""
    board = shown.board(category_id)
    config = meeting.config
    comparisons = []
    decimals = config.scoring.decimals
    labels = area_labels(snapshot.data, board.category.indicator_set)
    unresolved = {frozenset(g) for g in board.unresolved_ties}
    decided = {frozenset(o.order): o for o in board.applied_tie_orders}
    full = {frozenset(g) for g in board.tie_groups}
    # Every group with the same total: a full tie (equal on every key: the panel orders it), or
    # one a tie-break area separates, named.
    ranked = board.entries.filter(pl.col("rank").is_not_null())
    same_total = (
        ranked.group_by("total", maintain_order=True)
        .agg(pl.col("candidate_id"))
        .filter(pl.col("candidate_id").list.len() > 1)
    )
    for total, ids in same_total.iter_rows():
        group = frozenset(ids)
        if group in full:
            if group in unresolved:
                title = _(
                    "Tie, unresolved: equal on the total ({total}) and every tie-break area; the panel must order it"
                ).format(total=number(total, decimals))
            elif group in decided:
                order = decided[group]
                title = _("Tie, ordered by the panel: {order} ({reason})").format(
                    order=" > ".join(order.order), reason=order.reason
                )
            else:
                title = _("Tie: equal on the total ({total}) and every tie-break area").format(
                    total=number(total, decimals)
                )
        else:
            key = next(
                (
                    k
                    for k in board.category.tie_break
                    if ranked.filter(pl.col("candidate_id").is_in(ids))[k].n_unique() > 1
                ),
                None,
            )
            words = key_words(key, labels) if key else _("a tie-break area")
            title = _("Equal total ({total}), separated by {key}").format(total=number(total, decimals), key=words)
        comparisons.append(comparison(board, title, list(ids), decimals, labels))
    border = board.entries.filter(pl.col("borderline"))["candidate_id"].to_list()
    if border:
        margin = config.scoring.review_margin
        title = (
            _("Borderline: within {margin} percentage point of the {threshold} % line")
            if margin == 1
            else _("Borderline: within {margin} percentage points of the {threshold} % line")
        ).format(margin=f"{margin:.1f}", threshold=f"{board.category.threshold:g}")
        comparisons.append(comparison(board, title, border, decimals, labels))
    on_board = set(board.entries["candidate_id"].to_list())
    notes = []
    for e in snapshot.state.notes:
        p = e.payload
        if p.get("category") == category_id or p.get("candidate_id") in on_board:
            about = p.get("candidate_id") or _("board")

            notes.append(f"{snapshot.data.config.contest.time(e.at, date=False)}  {e.author} [{about}]: {p['text']}")
    live = snapshot.standings.board(category_id)
    groups = live.unresolved_ties or live.tie_groups
    return DiscussionView(
        category_id=category_id,
        label=board.category.label,
        comparisons=tuple(comparisons),
        notes=tuple(notes),
        tie=tuple(groups[0]) if groups else None,
        strip=percent_strip(board, config.scoring.review_margin, under_discussion(snapshot.state)),
    )


def under_discussion(state: SessionState) -> str | None:
    """The candidate the panel put under discussion (``focus``); after the lock, none."""
    return state.focus if state.lock is None else None


# -- the pictures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreStrip:
    """One indicator's scores for one candidate, as its strip in the detail shows them: every
    evaluator's score from 0 to the indicator's maximum, the ones the trimmed mean dropped
    marked, and the consolidated value."""

    indicator_id: str
    maximum: float
    scores: tuple[tuple[str, float], ...]  # (evaluator, score), lowest first ("" without evaluator ids)
    dropped: frozenset[int]  # indices into ``scores``: one lowest and one highest when trimmed
    value: float | None  # the consolidated score

    def dropped_text(self) -> str:
        """The dropped scores as the detail's table writes them: "0.3 (E04), 1.5 (E12)"."""
        return ", ".join(
            f"{score:g} ({who})" if who else f"{score:g}"
            for i, (who, score) in enumerate(self.scores)
            if i in self.dropped
        )


def score_strips(data: ContestData, result: Standings, candidate_id: str) -> dict[str, ScoreStrip]:
    """Each indicator's ``ScoreStrip`` for a candidate, by indicator id: the scores that were
    consolidated (a declared conflict's are left out), and under the trimmed mean with enough
    evaluators the one lowest and one highest it dropped, even when values repeat (SPEC §3.1;
    among equal scores the first and last evaluator by id)."""
    cells = result.cells.filter(pl.col("candidate_id").cast(pl.String) == candidate_id).with_columns(
        pl.col("indicator_id").cast(pl.String)
    )
    scores = data.scores.filter(pl.col("candidate_id").cast(pl.String) == candidate_id)
    who = pl.col("evaluator_id").cast(pl.String) if "evaluator_id" in scores.columns else pl.lit("")
    given: dict[str, list[tuple[str, float]]] = {}
    for iid, evaluator, score in scores.select(pl.col("indicator_id").cast(pl.String), who, "score").iter_rows():
        given.setdefault(iid, []).append((evaluator or "", float(score)))
    out = {}
    for row in cells.sort("indicator_id").iter_rows(named=True):
        iid = row["indicator_id"]
        mine = tuple(sorted(given.get(iid, []), key=lambda ev: (ev[1], ev[0])))
        dropped = frozenset({0, len(mine) - 1}) if row["trimmed"] and len(mine) >= 2 else frozenset()
        out[iid] = ScoreStrip(iid, float(row["max_points"]), mine, dropped, row["value"])
    return out


def area_strips(
    strips: Mapping[str, ScoreStrip], area_of: Mapping[str, str], values: Mapping[str, float | None]
) -> dict[str, ScoreStrip]:
    """Each area's ``ScoreStrip`` from its indicators' (``score_strips``), by area id in the
    order of ``values``: what each evaluator gave the area in all (only an evaluator who scored
    every one of its indicators), from 0 to the area's maximum, and the area's subtotal
    (``values``; the sum of the consolidated indicators, which a trimmed mean keeps apart from
    any one evaluator's sum). Nothing is dropped at the level of an area. An area is left out
    where the scores carry no evaluator ids."""
    out = {}
    for area, value in values.items():
        mine = [s for iid, s in strips.items() if area_of.get(iid) == area]
        if not mine or any(not who for s in mine for who, _ in s.scores):
            continue
        given = [dict(s.scores) for s in mine]
        everyone = set(given[0]).intersection(*given[1:])
        sums = sorted(((who, sum(g[who] for g in given)) for who in everyone), key=lambda ev: (ev[1], ev[0]))
        out[area] = ScoreStrip(area, sum(s.maximum for s in mine), tuple(sums), frozenset(), value)
    return out


class PercentMark(NamedTuple):
    """One ranked candidate on a board's percent strip, and why it is highlighted ("" if not).
    (A named tuple: a board of 5,000 makes as many at each show of a display, and compares
    them with the last strip's, half and a tenth of what a frozen dataclass costs.)"""

    candidate_id: str
    percent: float
    why: str = ""  # "focus": under discussion; "tie": an equal total; "borderline": near the line


@dataclass(frozen=True)
class PercentStrip:
    """A board's percents for its strip: the ranked candidates, the certification line, the
    borderline band around it, and the candidates under discussion highlighted."""

    category_id: str
    threshold: float
    margin: float  # the borderline band: threshold ± margin
    marks: tuple[PercentMark, ...]  # in rank order

    @property
    def band(self) -> tuple[float, float]:
        return self.threshold - self.margin, self.threshold + self.margin

    def highlighted(self, why: str) -> tuple[str, ...]:
        """The candidate IDs highlighted for ``why``, in rank order."""
        return tuple(m.candidate_id for m in self.marks if m.why == why)

    def domain(self) -> tuple[float, float]:
        """The strip's range in percent: the candidates and the band, widened to multiples of 5
        (at least 10 points wide), within 0 to 100."""
        values = [m.percent for m in self.marks] + list(self.band)
        low = max(0.0, 5 * math.floor((min(values) - 1) / 5))
        high = min(100.0, 5 * math.ceil((max(values) + 1) / 5))
        if high - low < 10:
            low, high = max(0.0, high - 10), max(high, 10.0)
        return low, high


def percent_strip(board: Leaderboard, margin: float, focus: str | None = None) -> PercentStrip:
    """A board's ``PercentStrip``: its ranked candidates (pending and excluded ones have no
    place on it), ``focus`` (the candidate under discussion) highlighted first, then those that
    share their total with another (the discussion's ties) and the borderline ones."""
    ranked = board.entries.filter(pl.col("rank").is_not_null() & pl.col("percent").is_not_null())
    cid = pl.col("candidate_id").cast(pl.String)
    why = (
        pl.when(cid == focus if focus is not None else pl.lit(False))
        .then(pl.lit("focus"))
        .when(pl.col("total").is_duplicated())  # (over the ranked ones: who shares a total)
        .then(pl.lit("tie"))
        .when(pl.col("borderline").fill_null(False))
        .then(pl.lit("borderline"))
        .otherwise(pl.lit(""))
    )
    rows = ranked.select(cid, pl.col("percent").cast(pl.Float64), why).iter_rows()
    marks = tuple(PercentMark(*row) for row in rows)
    return PercentStrip(board.category.id, board.category.threshold, margin, marks)
