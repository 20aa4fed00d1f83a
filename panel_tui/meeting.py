"""The panel meeting: what the journal's events mean, and the actions that add to it.

``Meeting`` joins a contest (its files) to its session (the journal). The command line and
the console both act through it, so the rules live here once: who may do what, what a
decision must satisfy, what blocks the lock, what the lock freezes, and how ``verify``
re-derives the final list. Writing itself is ``session.Journal.append``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from panel_tui.config import Config, Roles
from panel_tui.errors import PanelError, Refused, UsageError
from panel_tui.i18n import N_, _
from panel_tui.lazy import lazy
from panel_tui.session import (
    MAY,
    Event,
    Journal,
    SessionError,
    account,
    canonical,
    chain_problems,
    require,
    role_of,
)
from panel_tui.vocabulary import (
    DECISION_COLUMNS,
    EventKind,
    Role,
    Status,
    event_words,
    exclusion_words,
    role_words,
    status_words,
)

if TYPE_CHECKING:
    import polars as pl

    from panel_tui import engine
    from panel_tui.engine import Decisions, Standings
    from panel_tui.inputs import contest as contest_inputs
    from panel_tui.inputs import read as read_inputs
    from panel_tui.inputs.contest import ContestData
else:  # imported when first used: a console paints its first frame without them (panel_tui.lazy)
    pl = lazy("polars")
    engine = lazy("panel_tui.engine")
    contest_inputs = lazy("panel_tui.inputs.contest")
    read_inputs = lazy("panel_tui.inputs.read")

# What a refusal says when the journal does not hold, by what was refused.
REFUSED = {
    "the lock": N_("the lock is refused: the journal does not hold: {problems} (run `panel-tui verify`)"),
    "the confirmation": N_(
        "the confirmation is refused: the journal does not hold: {problems} (run `panel-tui verify`)"
    ),
    "the export": N_("the export is refused: the journal does not hold: {problems} (run `panel-tui verify`)"),
}
START = "list_at_start"  # in the session's first event: the final list as the meeting found it
SIGNERS_AT_START = "signers_sha256_at_start"  # in the first event of a signed journal
ROLES_AT_START = "roles_at_start"  # in the session's first event: who held which role then


def _roles_payload(roles: Roles) -> dict[str, list[str]]:
    return {"secretary": list(roles.secretary), "chair": list(roles.chair), "members": list(roles.members)}


def pinned_roles(first: Event | None) -> Roles | None:
    """The roles the session's first event keeps (None: an older journal, or none kept)."""
    if first is None or first.seq != 1:
        return None
    kept = first.payload.get(ROLES_AT_START)
    if not isinstance(kept, dict):
        return None
    lists = {key: kept.get(key, []) for key in ("secretary", "chair", "members")}
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()):
        return None
    return Roles(tuple(lists["secretary"]), tuple(lists["chair"]), tuple(lists["members"]))


@dataclass(frozen=True)
class LockReceipt:
    """The frozen final list: what was proposed, by whom, and who confirmed it."""

    proposal: Event
    confirmation: Event | None

    @property
    def digest(self) -> str:
        """The final list's digest (the list and the files' digests), as proposed."""
        digest: str = self.proposal.payload["digest"]
        return digest

    @property
    def seal(self) -> str:
        """SHA-256 over the list's digest and the signed proposal and confirmation (who, when,
        their hashes and signatures): a confirmation removed or replaced changes it."""

        def signed(e: Event | None) -> dict[str, Any] | None:
            return None if e is None else {"seq": e.seq, "author": e.author, "at": e.at, "hash": e.hash, "sig": e.sig}

        doc = {"list": self.digest, "proposal": signed(self.proposal), "confirmation": signed(self.confirmation)}
        return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()

    @property
    def fingerprint(self) -> str:
        """What people read aloud and compare: the seal's short form."""
        return fingerprint(self.seal)

    @property
    def final(self) -> dict[str, Any]:
        final: dict[str, Any] = self.proposal.payload["final"]
        return final

    @property
    def files(self) -> dict[str, dict[str, str]]:
        files: dict[str, dict[str, str]] = self.proposal.payload["files"]
        return files

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None


def fingerprint(digest: str) -> str:
    """The short form of a lock digest that people read aloud and compare: XXXX-XXXX-XXXX-XXXX."""
    head = digest[:16].upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class SessionState:
    """What the journal says, derived from its events in order.

    ``untrusted``: events that do not count, and why: a payload that is not what its kind needs,
    an author whose role may not write it, a signature that does not verify, a confirmation by
    someone who is not a chair or by the proposer (``Meeting.trust`` finds them). They are shown
    in the log but change nothing: no decision, note, focus or lock comes from them.
    ``damage``: breaks in the hash chain (an event edited, removed, reordered or backdated):
    nothing more is recorded and nothing exported until someone has looked (``verify``).
    """

    events: tuple[Event, ...] = ()
    untrusted: Mapping[int, str] = field(default_factory=dict)
    damage: tuple[str, ...] = ()

    @property
    def counted(self) -> tuple[Event, ...]:
        """The events that count."""
        return tuple(e for e in self.events if e.seq not in self.untrusted)

    @property
    def decisions(self) -> Decisions:
        ties, exclusions = [], []
        for e in self.counted:
            if e.kind == EventKind.TIE_ORDER:
                ties.append(
                    engine.TieOrder(
                        e.payload["category"], tuple(e.payload["order"]), e.payload["reason"], e.author, e.seq
                    )
                )
            elif e.kind == EventKind.EXCLUSION:
                exclusions.append(
                    engine.Exclusion(e.payload["candidate_id"], e.payload["code"], e.payload["reason"], e.author, e.seq)
                )
        return engine.Decisions(tie_orders=tuple(ties), exclusions=tuple(exclusions))

    @property
    def notes(self) -> tuple[Event, ...]:
        return tuple(e for e in self.counted if e.kind == EventKind.NOTE)

    @property
    def focus(self) -> str | None:
        for e in reversed(self.counted):
            if e.kind == EventKind.FOCUS:
                return e.payload.get("candidate_id")
        return None

    @property
    def proposal(self) -> Event | None:
        """The latest lock proposal, if no decision was recorded after it."""
        for e in reversed(self.counted):
            if e.kind in (EventKind.TIE_ORDER, EventKind.EXCLUSION):
                return None
            if e.kind == EventKind.LOCK_PROPOSED:
                return e
        return None

    @property
    def lock(self) -> LockReceipt | None:
        """The confirmed lock, if any: after it the session is read-only."""
        for e in self.counted:
            if e.kind == EventKind.LOCK_CONFIRMED:
                proposal = next((p for p in self.events if p.seq == e.payload.get("proposal")), None)
                if proposal is not None and proposal.seq in self.untrusted:
                    continue
                if proposal is None or "digest" not in proposal.payload:
                    # Only a tampered journal gets here; verify names the broken chain.
                    raise SessionError(
                        _("the journal's lock (event {seq}) has no proposal: run `panel-tui verify`").format(seq=e.seq)
                    )
                return LockReceipt(proposal, e)
        return None

    @property
    def head(self) -> int:
        return self.events[-1].seq if self.events else 0


def decision_text(kind: str, decision: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str:
    """A panel decision in words, the one wording every output uses: "tie order in service:
    S01 > S02: <reason>" or "C24 excluded (withdrawn): <reason>". ``decision`` is an event's
    payload or a final list's decision; ``labels`` (category id -> label) names the category."""
    if kind == EventKind.TIE_ORDER:
        order = " > ".join(decision["order"])
        if decision.get("category"):
            category = decision["category"]
            return _("tie order in {category}: {order}: {reason}").format(
                category=(labels or {}).get(category, category), order=order, reason=decision["reason"]
            )
        return _("tie order: {order}: {reason}").format(order=order, reason=decision["reason"])
    return _("{candidate} excluded ({code}): {reason}").format(
        candidate=decision["candidate_id"], code=exclusion_words(decision["code"]), reason=decision["reason"]
    )


def final_list(result: Standings) -> dict[str, Any]:
    """The list the lock freezes: the ranked entries with their decisions and reasons."""
    doc = engine.to_json(result, locked=True)
    for category in doc["categories"]:
        board = result.board(category["id"])
        decisions = [
            {"kind": EventKind.TIE_ORDER, "order": list(t.order), "reason": t.reason, "by": t.by, "event": t.seq}
            for t in board.applied_tie_orders
        ]
        excluded = board.entries.filter(pl.col("status") == Status.EXCLUDED)
        decisions += [
            {"kind": EventKind.EXCLUSION, "candidate_id": cid, "code": code, "reason": reason}
            for cid, code, reason in excluded.select("candidate_id", "exclusion_code", "exclusion_reason").iter_rows()
        ]
        category["decisions"] = decisions
    return doc


def final_in_words(final: dict[str, Any], config: Config, data: ContestData | None) -> dict[str, Any]:
    """A final list (a lock's, which keeps the names and labels as the files write them) with
    the categories' labels of ``config`` and the candidates' names of ``data`` in the language
    they are shown in (``Config.in_language``): what exports and screens print. A name or a
    category they do not know keeps its recorded words."""
    labels = config.labels
    names = dict(data.candidates.select("candidate_id", "name").iter_rows()) if data is not None else {}
    if not names and all(labels.get(c["id"], c["label"]) == c["label"] for c in final["categories"]):
        return final
    return {
        **final,
        "categories": [
            {
                **c,
                "label": labels.get(c["id"], c["label"]),
                "entries": [{**e, "name": names.get(e["candidate_id"], e["name"])} for e in c["entries"]],
            }
            for c in final["categories"]
        ],
    }


def final_standings(final: dict[str, Any], config: Config, live: Standings | None = None) -> Standings:
    """The boards a final list records (a lock's or a proposal's), as the engine's standings,
    so that after the lock the console shows the locked list itself, not what today's files
    give. ``live`` lends its boards' order of the areas and its consolidated cells (the
    indicators, which a final list does not keep)."""
    from panel_tui.config import Category
    from panel_tui.engine import Leaderboard

    known = {c.id: c for c in config.categories}
    live_areas = {b.category.id: b.areas for b in live.boards} if live is not None else {}
    # The names as ``live`` shows them (another language than the one the lock recorded them in).
    shown_names = live.shown_names() if live is not None else {}
    boards = []
    written = []
    for doc in final["categories"]:
        configured = known.get(doc["id"])
        category = Category(
            doc["id"],
            # (in the language shown, while the config labels it as the lock recorded)
            configured.label if configured and configured.label_as_written == doc["label"] else doc["label"],
            configured.indicator_set if configured else "",
            doc["threshold"],
            configured.tie_break if configured else (),
            configured.max_certified if configured else 0,
            configured.grades if configured else (),
            written_label=doc["label"],
        )
        recorded = sorted({a for e in doc["entries"] for a in e["areas"]})  # (stored with sorted keys)
        first = [a for a in live_areas.get(doc["id"], ()) if a in recorded]
        areas = (*first, *(a for a in recorded if a not in first))
        schema: dict[str, pl.DataType | type[pl.DataType]] = {
            "rank": pl.Int64,
            "candidate_id": pl.String,
            "name": pl.String,
            "total": pl.Float64,
            "percent": pl.Float64,
            "areas": pl.Struct({a: pl.Float64 for a in areas}),
            "grade": pl.Int64,
            "status": pl.String,
            "certified": pl.Boolean,
            "top": pl.Boolean,
            "tie": pl.Boolean,
            "borderline": pl.Boolean,
            "decided_by": pl.String,
            "evaluators": pl.Int64,
        }
        decisions = doc.get("decisions", [])
        orders = tuple(
            engine.TieOrder(doc["id"], tuple(d["order"]), d["reason"], d.get("by", ""), d.get("event", 0))
            for d in decisions
            if d["kind"] == EventKind.TIE_ORDER
        )
        excluded = pl.DataFrame(
            [(d["candidate_id"], d["code"], d["reason"]) for d in decisions if d["kind"] == EventKind.EXCLUSION],
            schema={"candidate_id": pl.String, "exclusion_code": pl.String, "exclusion_reason": pl.String},
            orient="row",
        )
        reasons = pl.DataFrame(
            {"candidate_id": [list(o.order) for o in orders], "panel_reason": [o.reason for o in orders]},
            schema={"candidate_id": pl.List(pl.String), "panel_reason": pl.String},
        ).explode("candidate_id")
        recorded_entries = pl.DataFrame(doc["entries"], schema=schema)
        written.append(recorded_entries.select("candidate_id", "name"))
        if shown_names:
            recorded_entries = recorded_entries.with_columns(
                name=pl.col("candidate_id").replace_strict(shown_names, default=pl.col("name"), return_dtype=pl.String)
            )
        entries = (
            recorded_entries.unnest("areas")
            .join(excluded, on="candidate_id", how="left", maintain_order="left")
            .join(reasons.unique("candidate_id", keep="last"), on="candidate_id", how="left", maintain_order="left")
            .select(*engine.entry_columns(areas), *DECISION_COLUMNS)
        )
        # Every group equal on all keys: the panel's ordered ones and those left sharing a rank.
        shared = (
            entries.filter(pl.col("tie") & pl.col("rank").is_not_null())
            .group_by("rank", maintain_order=True)
            .agg("candidate_id")
            .filter(pl.col("candidate_id").list.len() > 1)
        )
        ranks = dict(entries.select("candidate_id", "rank").iter_rows())
        groups = [tuple(g) for g in shared["candidate_id"].to_list()] + [o.order for o in orders]
        groups.sort(key=lambda g: min((ranks.get(c) or 0) for c in g))
        boards.append(
            Leaderboard(
                category=category,
                max_points=doc["max_points"],
                areas=areas,
                entries=entries,
                unresolved_ties=tuple(tuple(g) for g in doc.get("unresolved_ties", [])),
                tie_groups=tuple(groups),
                applied_tie_orders=orders,
            )
        )
    cells = live.cells if live is not None else pl.DataFrame(schema={"candidate_id": pl.String})
    return engine.Standings(
        config=config,
        boards=tuple(boards),
        cells=cells,
        written_names=pl.concat(written) if shown_names and written else None,
    )


@dataclass(frozen=True)
class Changes:
    """What changed in the final list since a point of comparison (``what_changed``)."""

    since: str  # the point of comparison, in a few words
    basis: str  # what that list is, in a sentence
    since_event: int | None  # the lock proposal's event, or None for the start of the meeting
    moved: tuple[dict[str, Any], ...]  # rank changed: category, candidate_id, name, rank_before, rank_now
    status: tuple[dict[str, Any], ...]  # status (certification) changed: ..., status_before, status_now
    decisions: tuple[Event, ...]  # tie orders and exclusions recorded since
    # total or percent changed (a candidate on both lists): ..., total_before, total_now, percent_before, percent_now
    totals: tuple[dict[str, Any], ...] = ()
    # candidate_id -> name in the language shown, where that is not the name as written (JSON's)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.moved or self.status or self.decisions or self.totals)

    def lines(self, labels: Mapping[str, str] | None = None, decimals: int = 2) -> list[str]:
        """One line per change, in words, for the terminal and the console: the category by its
        label (``labels``: category id -> label), the candidate by name and ID, "not certified →
        certified", "rank 5 → 4", "total 1,389.00 → 1,410.00" (``decimals`` places): a change of
        score that moves no rank still shows."""
        labels = labels or {}

        def who(c: Mapping[str, Any]) -> str:
            name = self.names.get(c["candidate_id"], c["name"])
            return f"{labels.get(c['category'], c['category'])}: {name} ({c['candidate_id']})"

        def status(value: object) -> str:
            return "—" if value is None else status_words(value).replace("_", " ")

        def rank(value: object) -> str:
            return _("not ranked") if value is None else _("rank {rank}").format(rank=value)

        out = []
        for c in self.status:
            out.append(f"{who(c)}: {status(c['status_before'])} → {status(c['status_now'])}")
        for c in self.moved:
            before, now = c["rank_before"], c["rank_now"]
            if before is not None and now is not None:
                out.append(f"{who(c)}: " + _("rank {before} → {now}").format(before=before, now=now))
            else:
                out.append(f"{who(c)}: {rank(before)} → {rank(now)}")

        def number(value: object) -> str:
            return "—" if not isinstance(value, int | float) else f"{value:,.{decimals}f}"

        for c in self.totals:
            parts = []
            if c["total_before"] != c["total_now"]:
                parts.append(
                    _("total {before} → {now}").format(before=number(c["total_before"]), now=number(c["total_now"]))
                )
            if c["percent_before"] != c["percent_now"]:
                parts.append(f"{number(c['percent_before'])} % → {number(c['percent_now'])} %")
            out.append(f"{who(c)}: {', '.join(parts)}")
        for e in self.decisions:
            out.append(
                _("decision (event {seq}, {author}): {decision}").format(
                    seq=e.seq, author=e.author, decision=decision_text(e.kind, e.payload, labels)
                )
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "basis": self.basis,
            "since_event": self.since_event,
            "status_changed": list(self.status),
            "rank_moved": list(self.moved),
            "total_changed": list(self.totals),
            "decisions": [
                {"event": e.seq, "kind": e.kind, "by": e.author, "at": e.at, **e.payload} for e in self.decisions
            ],
        }


def what_changed(state: SessionState, result: Standings, data: ContestData) -> Changes:
    """The final list as it stands against the last lock proposal (even one a later decision
    set aside), or, before any proposal, against the start of the meeting: the list kept with
    the session's first entry (scores that arrived since show as changes), or, before any
    entry, the list from today's files without the panel's decisions. Candidates whose rank
    moved, whose status (and so certification) or total changed, and the decisions recorded since."""
    counted = state.counted
    proposals = [e for e in counted if e.kind == EventKind.LOCK_PROPOSED]
    # The start: the list kept with the journal's first event, when that event counts (a
    # member cannot plant the meeting's starting point).
    first = counted[0] if counted and counted[0].seq == 1 and isinstance(counted[0].payload.get(START), dict) else None
    if proposals:
        last = proposals[-1]
        before, seq = last.payload["final"], last.seq
        since = _("the lock proposal (event {seq})").format(seq=seq)
        basis = _("the list {author} proposed at {when}").format(
            author=last.author, when=data.config.contest.time(last.at)
        )
    elif first is not None:
        before, seq = first.payload[START], None
        since = _("the start of the meeting")
        basis = _(
            "the list as the session's first entry found it, {author} at {when}, before any panel decision"
        ).format(author=first.author, when=data.config.contest.time(first.at))
    else:
        before, seq = final_list(engine.standings(data, engine.Decisions())), None
        since = _("the start of the meeting")
        basis = _("the list from the current files before any panel decision")
    now = final_list(result)

    def entries(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(c["id"], e["candidate_id"]): e for c in doc["categories"] for e in c["entries"]}

    then, current = entries(before), entries(now)
    order = {key: i for i, key in enumerate(current)}
    moved, status, totals = [], [], []
    for key in sorted(then.keys() | current.keys(), key=lambda k: (order.get(k, len(order)), k)):
        a, b = then.get(key, {}), current.get(key, {})
        row = {"category": key[0], "candidate_id": key[1], "name": (b or a).get("name")}
        if a.get("rank") != b.get("rank"):
            moved.append({**row, "rank_before": a.get("rank"), "rank_now": b.get("rank")})
        if a.get("status") != b.get("status"):
            status.append({**row, "status_before": a.get("status"), "status_now": b.get("status")})
        if a and b and (a.get("total"), a.get("percent")) != (b.get("total"), b.get("percent")):
            totals.append(
                {
                    **row,
                    "total_before": a.get("total"),
                    "total_now": b.get("total"),
                    "percent_before": a.get("percent"),
                    "percent_now": b.get("percent"),
                }
            )
    decisions = tuple(
        e for e in counted if e.kind in (EventKind.TIE_ORDER, EventKind.EXCLUSION) and (seq is None or e.seq > seq)
    )
    return Changes(since, basis, seq, tuple(moved), tuple(status), decisions, tuple(totals), result.shown_names())


def _digest(final: dict[str, Any], files: dict[str, dict[str, str]]) -> str:
    return hashlib.sha256(canonical({"final": final, "files": files}).encode("utf-8")).hexdigest()


@dataclass
class Verification:
    """``verify``'s findings: each a line; ``ok`` only when every one holds."""

    findings: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, ok: bool, text: str) -> None:
        self.findings.append((ok, text))

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.findings)


class Meeting:
    """A contest and its session, seen by one OS account."""

    def __init__(self, config: Config, session_path: Path, *, who: str | None = None, writable: bool = True) -> None:
        # ``who`` other than the running account is for tests: in a signed journal nobody can
        # sign as another login without that login's key, and verify names any such event.
        self.config = config
        self.journal = Journal(session_path, writable=writable, signers=config.contest.signers)
        self.who = who if who is not None else account()
        self._data: ContestData | None = None
        self._checked: dict[str, tuple[bool, str]] = {}  # event hash -> signature verdict, checked once

    @property
    def signed(self) -> bool:
        return self.config.contest.signers is not None

    def signature_problems(self, events: list[Event] | tuple[Event, ...]) -> dict[int, str]:
        """Events whose signature does not verify against the signers file, and why (each
        event is checked once per process; ``ssh-keygen -Y verify`` takes ~10 ms)."""
        signers = self.config.contest.signers
        if signers is None:  # (not self.signed)
            return {}
        from panel_tui.signing import ToVerify, verify_many

        todo = [e for e in events if e.hash not in self._checked]
        if todo:
            items = [ToVerify(e.signed_bytes, e.sig, e.author, _when(e.at)) for e in todo]
            try:
                verdicts = verify_many(items, signers)
            except PanelError as exc:  # the signers file itself is missing or bad
                verdicts = [(False, str(exc))] * len(todo)
                return {e.seq: why for e, (ok, why) in zip(todo, verdicts, strict=False)}
            self._checked.update({e.hash: v for e, v in zip(todo, verdicts, strict=False)})
        return {e.seq: self._checked[e.hash][1] for e in events if not self._checked[e.hash][0]}

    def trust(self, events: list[Event] | tuple[Event, ...]) -> dict[int, str]:
        """Events that do not count, and why. Every event: its payload must be what its kind
        needs and its author's role allowed to write it. Decisions and the lock (what the final
        list depends on), in a signed journal: a signature that verifies. The lock: see
        ``lock_problems``. Notes and the focus are signature-checked by ``verify`` (every event)."""
        found: dict[int, str] = {}
        roles = self.session_roles(events)
        for e in events:
            problem = _payload_problem(e)
            if problem is None and e.kind != EventKind.LOCK_CONFIRMED:  # (lock_problems: who confirms)
                role = role_of(roles, e.author)
                if role not in MAY[e.kind]:
                    problem = _("written by {author}, who is a {role} and may not record it").format(
                        author=e.author, role=role_words(role)
                    )
            if problem:
                found[e.seq] = problem
        weighty = [e for e in events if e.seq not in found and e.kind in (EventKind.TIE_ORDER, EventKind.EXCLUSION)]
        found.update(self.signature_problems(weighty))
        for seq, why in self.lock_problems([e for e in events if e.seq not in found]).items():
            found.setdefault(seq, why)
        return dict(sorted(found.items()))

    def lock_problems(self, events: list[Event] | tuple[Event, ...]) -> dict[int, str]:
        """Lock events that do not count, and why: a proposal by someone who is not a secretary,
        or whose list does not match its own digest; a confirmation by someone who is not a
        chair, by the proposer (when the config wants a chair's confirmation), of another
        digest than the proposal's, or signed with the proposal's own key; either one's
        signature not verifying."""
        found: dict[int, str] = {}
        lock_events = [e for e in events if e.kind in (EventKind.LOCK_PROPOSED, EventKind.LOCK_CONFIRMED)]
        by_seq = {e.seq: e for e in lock_events}
        for e in lock_events:
            if e.kind == EventKind.LOCK_PROPOSED:
                p = e.payload
                if (
                    isinstance(p.get("final"), dict)
                    and isinstance(p.get("files"), dict)
                    and _digest(p["final"], p["files"]) != p.get("digest")
                ):
                    found[e.seq] = _("its list does not match its own digest")
            elif e.kind == EventKind.LOCK_CONFIRMED:
                proposal = by_seq.get(e.payload.get("proposal", 0))  # (0: no event)
                if proposal is None:
                    found[e.seq] = _("it confirms event {seq}, which is not a lock proposal").format(
                        seq=e.payload.get("proposal")
                    )
                elif e.payload.get("digest") != proposal.payload.get("digest"):
                    found[e.seq] = _("it confirms another list than the one event {seq} proposed").format(
                        seq=proposal.seq
                    )
                elif (
                    self.signed
                    and e.sig
                    and proposal.sig
                    and _signing_key(e.sig) == _signing_key(proposal.sig)
                    and self.config.lock.require_chair_confirmation
                ):
                    found[e.seq] = _("it is signed with the same key as the proposal: not a second pair of eyes")
        roles = self.session_roles(events)
        for e in lock_events:
            role = role_of(roles, e.author)
            if e.kind == EventKind.LOCK_PROPOSED and role not in MAY[EventKind.LOCK_PROPOSED]:
                found[e.seq] = _("proposed by {author}, who is a {role}, not a secretary").format(
                    author=e.author, role=role_words(role)
                )
            if e.kind == EventKind.LOCK_CONFIRMED:
                proposal = by_seq.get(e.payload.get("proposal", 0))  # (0: no event)
                if self.config.lock.require_chair_confirmation:
                    if role not in MAY[EventKind.LOCK_CONFIRMED]:
                        found[e.seq] = _("confirmed by {author}, who is a {role}, not a chair").format(
                            author=e.author, role=role_words(role)
                        )
                    elif proposal is not None and proposal.author == e.author:
                        found[e.seq] = _("confirmed by {author}, the same login that proposed it").format(
                            author=e.author
                        )
                elif proposal is not None and proposal.author != e.author:
                    found[e.seq] = _("made final by {author}, not by its proposer {proposer}").format(
                        author=e.author, proposer=proposal.author
                    )
        signers = self.config.contest.signers
        if signers is not None and lock_events:  # (self.signed)
            # Who may sign is fixed when the meeting starts (its first event keeps the signers
            # file's digest): a key added later, say a second "chair" key, makes no lock.
            first = events[0] if events and events[0].seq == 1 else None
            pinned = first.payload.get(SIGNERS_AT_START) if first is not None else None
            try:
                current = read_inputs.file_digest(signers)
            except PanelError:
                current = None
            for e in lock_events:
                recorded = e.payload.get("files", {}).get("signers") if e.kind == EventKind.LOCK_PROPOSED else None
                if (
                    pinned is None
                    or current != pinned
                    or (
                        e.kind == EventKind.LOCK_PROPOSED
                        and (not isinstance(recorded, dict) or recorded.get("sha256") != pinned)
                    )
                ):
                    found[e.seq] = _(
                        "the signers file is not the one the meeting started with (keys were added or "
                        "changed during the meeting; a new list of keys needs a new session)"
                    )
        found.update(self.signature_problems(lock_events))  # the first reason to give, when there is one
        return found

    def session_roles(self, events: list[Event] | tuple[Event, ...]) -> Roles:
        """Who holds which role in this session: the roles its first event kept, when that event
        was written by the secretary who owns the session file (``_trusted_opening``); else this
        config's. So a member who names themselves secretary in a config of their own changes
        nothing."""
        first = events[0] if events and events[0].seq == 1 else None
        kept = pinned_roles(first)
        if kept is not None and first is not None and self._trusted_opening(first, kept):
            return kept
        return self.config.roles

    def _trusted_opening(self, first: Event, kept: Roles) -> bool:
        """The roles ``first`` keeps are the session's: its author is a secretary by them and
        owns the session file (``session init`` makes it the secretary's; nobody else can
        change a file's owner, whatever config they write with)."""
        return role_of(kept, first.author) == Role.SECRETARY and first.author == self._session_owner()

    def _session_owner(self) -> str | None:
        """The login that owns the session file (None: no file, or an owner unknown here, as
        on a machine the journal was copied to: then the config's roles count)."""
        try:
            uid = self.journal.path.stat().st_uid
            return pwd.getpwuid(uid).pw_name
        except (OSError, KeyError):
            return None

    @property
    def role(self) -> Role:
        return role_of(self.config.roles, self.who)

    def roles_problem(self, events: list[Event] | tuple[Event, ...]) -> str | None:
        """Why this account may not write with this config into a session of ``events``: its
        config's roles are not the ones the session started with, or (a signed journal) nobody
        but a secretary opens it. None when it may."""
        first = events[0] if events and events[0].seq == 1 else None
        kept = pinned_roles(first)
        if kept is not None and first is not None and not self._trusted_opening(first, kept):
            kept = None  # kept by someone who is no secretary (by them, or by this config): not the session's
        if first is None:
            if self.config.contest.signers is not None and self.role != Role.SECRETARY:
                return _(
                    "the session is not opened yet: the secretary opens it first (panel-tui session init), "
                    "which keeps the roles and the signers file for the whole meeting"
                )
            return None
        if kept is not None and kept != self.config.roles:
            return _(
                "the roles in {config} are not the ones this session started with "
                "(its first event, by {author}: secretary {secretary}; chair {chair}; members {members}); "
                "a change of roles needs a new session"
            ).format(
                config=self.config.path.name,
                author=first.author,
                secretary=", ".join(kept.secretary) or "-",
                chair=", ".join(kept.chair) or "-",
                members=", ".join(kept.members) or "-",
            )
        if SIGNERS_AT_START in first.payload and self.config.contest.signers is None:
            return _("this session is signed (its first event keeps a signers file) but {config} names none").format(
                config=self.config.path.name
            )
        return None

    def data(
        self,
        *,
        reload: bool = False,
        rows: bool = False,
        placed: bool = False,
        waiting: contest_inputs.Waiting | None = None,
        live: bool = False,
    ) -> ContestData:
        """The contest's inputs, loaded once (``reload``: again); ``rows``: the caller will read
        the score rows; ``placed``: it will lay the scores out by cell and evaluator (the
        analysis); ``waiting``: told while another process reads the sheet (``load_contest``).
        ``live`` (a console, which loads the files again as they change): a corrected score
        sheet is patched from the last one loaded here (``load_contest``'s ``previous``)."""
        if self._data is None or reload:
            previous = self._data.basis if live and self._data is not None else None
            self._data = contest_inputs.load_contest(
                self.config, reads_rows=rows, placed=placed, waiting=waiting, previous=previous, keeps_basis=live
            )
            if previous is not None:
                # (The new load's own basis serves the next one: the last sheet's bytes go now,
                # not when the last snapshot that holds its contest goes.)
                previous.let_go()
        return self._data

    def _parse_afresh(self) -> None:
        """The files parsed now, not from the cache of parsed sheets: what the lock, its
        confirmation and ``verify`` record or check must rest on the files alone (a damaged
        cache entry of this account's own must never reach a public list)."""
        self._data = contest_inputs.load_contest(self.config, fresh=True)

    def data_afresh(self) -> ContestData:
        """The contest as its files hold it now, parsed (``_parse_afresh``): for what becomes
        public beside the lock (the minutes' analysis)."""
        self._parse_afresh()
        assert self._data is not None
        return self._data

    def use_data(self, data: ContestData) -> None:
        """Share contest data another ``Meeting`` on the same files already loaded."""
        self._data = data

    def state(self) -> SessionState:
        events = tuple(self.journal.events())
        damage = tuple(p.problem for p in chain_problems(events))
        return SessionState(events, self.trust(events), damage)

    def standings(self, state: SessionState | None = None) -> Standings:
        state = state or self.state()
        return engine.standings(self.data(), state.decisions)

    # -- writing ----------------------------------------------------------------------
    def _append(self, kind: str, payload: dict[str, Any], *, since: int | None = None) -> Event:
        require(self.config, self.who, kind)
        opening: dict[str, Any] | None = None
        if self.journal.head()[0] == 0:
            # The session's first entry keeps the list as it stood then (the files of that
            # moment, no decision yet): "what changed since the start of the meeting", and who
            # holds which role for the whole meeting.
            opening = {
                START: final_list(engine.standings(self.data(), engine.Decisions())),
                ROLES_AT_START: _roles_payload(self.config.roles),
            }
            if self.config.contest.signers is not None:
                # Who may sign is fixed when the meeting starts: a key added to the signers file
                # later (say, a second "chair" key) makes the lock fail verify.
                opening[SIGNERS_AT_START] = read_inputs.file_digest(self.config.contest.signers)
        return self.journal.append(
            kind, self.who, payload, guard=lambda events: self._not_locked(events, since), opening=opening
        )

    def _not_locked(self, events: list[Event], since: int | None) -> None:
        problem = self.roles_problem(events)
        if problem is not None:
            raise Refused(problem)
        damage = tuple(p.problem for p in chain_problems(events))
        _not_locked(SessionState(tuple(events), self.trust(events), damage), since)

    def _candidate(self, candidate_id: str) -> dict[str, Any]:
        match = self.data().candidates.filter(pl.col("candidate_id") == candidate_id)
        if match.height == 0:
            raise UsageError(
                _("unknown candidate {candidate} (not in {file})").format(
                    candidate=repr(candidate_id), file=self.config.contest.candidates.name
                )
            )
        return match.row(0, named=True)

    def _category(self, category_id: str) -> None:
        if category_id not in {c.id for c in self.config.categories}:
            known = ", ".join(c.id for c in self.config.categories)
            raise UsageError(
                _("unknown category {category} (the config has: {known})").format(
                    category=repr(category_id), known=known
                )
            )

    def note(self, text: str, *, candidate: str | None = None, category: str | None = None) -> Event:
        """A discussion note on a candidate, on a category, or on the meeting as a whole."""
        require(self.config, self.who, EventKind.NOTE)
        if not text.strip():
            raise UsageError(_("a note needs some text"))
        if candidate is not None:
            self._candidate(candidate)
        if category is not None:
            self._category(category)
        return self._append(EventKind.NOTE, {"candidate_id": candidate, "category": category, "text": text.strip()})

    def focus(self, candidate: str | None) -> Event:
        """Put a candidate under discussion (None: nobody)."""
        require(self.config, self.who, EventKind.FOCUS)
        if candidate is not None:
            self._candidate(candidate)
        return self._append(EventKind.FOCUS, {"candidate_id": candidate})

    def decide_tie(self, category: str, order: list[str], reason: str) -> Event:
        """Order a group of fully tied candidates; the group must be tied now."""
        require(self.config, self.who, EventKind.TIE_ORDER)
        self._category(category)
        if not reason.strip():
            raise UsageError(_("a tie decision needs a reason (--reason)"))
        if len(set(order)) != len(order) or len(order) < 2:
            raise UsageError(_("--order lists two or more different candidates, best first"))
        state = self.state()
        groups = self.standings(state).board(category).tie_groups
        if set(order) not in [set(g) for g in groups]:
            current = "; ".join(", ".join(sorted(g)) for g in groups) or _("none")
            raise UsageError(
                _("{order} is not a group of fully tied candidates in {category} (tied groups now: {current})").format(
                    order=", ".join(order), category=category, current=current
                )
            )
        return self._append(
            EventKind.TIE_ORDER, {"category": category, "order": order, "reason": reason.strip()}, since=state.head
        )

    def exclude(self, candidate: str, code: str, reason: str) -> Event:
        """Remove a candidate from the ranking, with a reason code and text."""
        require(self.config, self.who, EventKind.EXCLUSION)
        self._candidate(candidate)
        if code not in engine.EXCLUSION_CODES:
            raise UsageError(
                _("unknown reason code {code} (one of: {codes})").format(
                    code=repr(code), codes=", ".join(engine.EXCLUSION_CODES)
                )
            )
        if not reason.strip():
            raise UsageError(_("an exclusion needs a reason (--reason)"))
        return self._append(EventKind.EXCLUSION, {"candidate_id": candidate, "code": code, "reason": reason.strip()})

    # -- the lock -----------------------------------------------------------------------
    def blockers(self, result: Standings) -> list[str]:
        """What stops the lock now: pending candidates and unresolved ties, named."""
        names = dict(self.data().candidates.select("candidate_id", "name").iter_rows())
        found = [
            _("pending: {id} {name} (wait for its scores, or exclude it if it withdrew)").format(
                id=cid, name=names[cid]
            )
            for cid in result.pending
        ]
        found += [
            _("unresolved tie in {category}: {candidates} (record the panel's order)").format(
                category=self.config.category(tie.category).label, candidates=", ".join(tie.candidate_ids)
            )
            for tie in result.unresolved_ties
        ]
        return found

    def final_shown(self, lock: LockReceipt) -> dict[str, Any]:
        """The lock's final list with names and labels in the language shown (``final_in_words``),
        taken from the files only while the config and the candidates are as locked: else, or
        when the files cannot be read, as the lock recorded them."""
        if self.config.shown_in is None:
            return lock.final
        drifted = {name for name, _what in self.changed_files(lock.files)}
        if drifted & {"config", "candidates"}:
            return lock.final
        try:
            data: ContestData | None = self.data()
        except PanelError:
            data = None
        return final_in_words(lock.final, self.config, data)

    def files(self) -> dict[str, dict[str, str]]:
        """Every file the contest names, with its SHA-256 (what the lock records)."""
        return {
            name: {"path": str(path), "sha256": read_inputs.file_digest(path)}
            for name, path in self.config.files().items()
        }

    def changed_files(self, recorded: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
        """The contest's files that differ from ``recorded`` (a proposal's or the lock's), each
        named with when it changed: "scores.csv changed at 10:41"; a file added to or dropped
        from the contest since counts too. Each as (the file's role, what happened)."""
        found = []
        now = self.config.files()
        for name in [*now, *(n for n in recorded if n not in now)]:
            if name not in now:
                found.append((name, _("it is no longer named by the contest")))
                continue
            path = now[name]
            if name not in recorded:
                found.append((name, _("{file} was added to the contest").format(file=path.name)))
                continue
            try:
                same = read_inputs.file_digest(path) == recorded[name]["sha256"]
            except PanelError as exc:
                found.append((name, _("{file} cannot be read ({why})").format(file=path.name, why=exc)))
                continue
            if not same:
                try:
                    when = datetime.fromtimestamp(os.stat(path).st_mtime).strftime("%H:%M")
                    found.append((name, _("{file} changed at {when}").format(file=path.name, when=when)))
                except OSError:
                    found.append((name, _("{file} changed").format(file=path.name)))
        return found

    def proposal_problems(self, state: SessionState, result: Standings) -> list[str]:
        """Why the pending proposal can no longer be confirmed (empty: it still stands): the
        files it was made from changed, or the list they give differs from the one proposed."""
        proposal = state.proposal
        if proposal is None:
            return []
        found = [what for _, what in self.changed_files(proposal.payload.get("files", {}))]
        if not found and final_list(result) != proposal.payload.get("final"):
            found.append(_("the final list the files give now differs from the proposed one"))
        return found

    def preview(
        self, state: SessionState | None = None, result: Standings | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, str]], str]:
        """The final list as it would be locked now, the file digests, and its digest."""
        final = final_list(result or self.standings(state))
        files = self.files()
        return final, files, _digest(final, files)

    def journal_problems(self, state: SessionState) -> list[str]:
        """What is wrong with the journal as a whole: breaks in its chain, events that do not
        count, and in a signed journal any event (notes and focus too) whose signature does not
        verify. The lock, its confirmation and the exports are refused while there is any."""
        found = list(state.damage)
        found += [
            _("event {seq} does not count: {why}").format(seq=seq, why=why) for seq, why in state.untrusted.items()
        ]
        for seq, why in self.signature_problems(state.events).items():
            if seq not in state.untrusted:
                found.append(_("event {seq}: signature refused: {why}").format(seq=seq, why=why))
        return found

    def _refuse_if_tampered(self, state: SessionState, what: str) -> None:
        """``what``: "the lock", "the confirmation" or "the export" (``REFUSED``)."""
        problems = self.journal_problems(state)
        if problems:
            raise Refused(
                _(REFUSED[what]).format(problems="; ".join(problems[:5]) + ("; …" if len(problems) > 5 else ""))
            )

    def exportable(self) -> LockReceipt:
        """The lock to export from, or Refused: not locked, or the journal does not hold."""
        state = self.state()
        lock = state.lock
        if lock is None:
            raise Refused(_("exports come only from the locked final list, and this session is not locked"))
        self._refuse_if_tampered(state, "the export")
        return lock

    def propose_lock(self) -> LockReceipt:
        """The secretary freezes the list; it is final at once unless the chair must confirm."""
        require(self.config, self.who, EventKind.LOCK_PROPOSED)
        state = self.state()
        if state.lock is not None:
            raise Refused(
                _("the session is already locked (fingerprint {fingerprint})").format(
                    fingerprint=state.lock.fingerprint
                )
            )
        self._refuse_if_tampered(state, "the lock")
        self._parse_afresh()
        result = self.standings(state)
        blockers = self.blockers(result)
        if blockers:
            raise Refused(_("the lock is refused while:") + "\n  " + "\n  ".join(blockers))
        final, files, digest = self.preview(result=result)
        proposal = self._append(
            EventKind.LOCK_PROPOSED, {"final": final, "files": files, "digest": digest}, since=state.head
        )
        if self.config.lock.require_chair_confirmation:
            return LockReceipt(proposal, None)
        confirmation = self.journal.append(
            EventKind.LOCK_CONFIRMED,
            self.who,
            {"proposal": proposal.seq, "digest": digest, "chair_confirmation": False},
            guard=lambda events: self._not_locked(events, proposal.seq),
        )
        return LockReceipt(proposal, confirmation)

    def confirm_lock(self) -> LockReceipt:
        """The chair, a second account, confirms the proposed list unchanged."""
        state = self.state()
        if state.lock is not None:
            raise Refused(
                _("the session is already locked (fingerprint {fingerprint})").format(
                    fingerprint=state.lock.fingerprint
                )
            )
        require(self.config, self.who, EventKind.LOCK_CONFIRMED)
        proposal = state.proposal
        if proposal is None:
            raise Refused(_("there is no lock proposal to confirm (the secretary proposes it with `panel-tui lock`)"))
        self._refuse_if_tampered(state, "the confirmation")
        if proposal.author == self.who:
            raise Refused(_("the lock must be confirmed by a different account from the one that proposed it"))
        self._parse_afresh()
        result = self.standings(state)
        stale = self.proposal_problems(state, result)
        digest = self.preview(state, result)[2]
        if stale or digest != proposal.payload["digest"]:
            why = "; ".join(stale) or _("the list or its files changed")
            raise Refused(
                _("the proposal by {author} is stale: {why}; the secretary must propose it again").format(
                    author=proposal.author, why=why
                )
            )

        confirmation = self._append(
            EventKind.LOCK_CONFIRMED, {"proposal": proposal.seq, "digest": digest}, since=state.head
        )
        return LockReceipt(proposal, confirmation)

    # -- verify -------------------------------------------------------------------------
    def verify(self, expected_fingerprint: str | None = None) -> Verification:
        """Recompute everything the lock claims and say what holds and what does not.

        The journal must be there (a moved or deleted file is a failure, not an empty meeting);
        its chain intact; in a signed journal every event signed by a key the signers file lists
        for its author; every event written by a role allowed to write it; the confirmation by
        a chair, another login than the proposer. ``expected_fingerprint`` (from an export or
        the announcement) anchors it all outside the database: it binds the list, the files
        and the signed proposal and confirmation.
        """
        report = Verification()
        path = self.journal.path
        if not path.exists():
            report.add(
                False,
                _("no session journal at {path}: nothing recorded, or the file was moved or deleted").format(path=path),
            )
            return report
        events = self.journal.events()
        problems = chain_problems(events)
        for p in problems:
            report.add(False, p.problem)
        if not problems:
            report.add(True, _("journal: {n} events, hash chain intact").format(n=len(events)))
        signers = self.config.contest.signers
        if signers is not None:  # (self.signed)
            bad = self.signature_problems(events)
            for e in events:
                if e.seq in bad:
                    report.add(
                        False,
                        _("event {seq} ({kind} by {author}): signature refused: {why}").format(
                            seq=e.seq, kind=event_words(e.kind), author=e.author, why=bad[e.seq]
                        ),
                    )
            if not bad:
                report.add(
                    True,
                    _("signatures: all {n} events signed by keys {signers} lists for their authors").format(
                        n=len(events), signers=signers.name
                    ),
                )
        else:
            report.add(
                True,
                _(
                    "unsigned journal: protects against accidents, not against an account on this host "
                    "(set [contest] signers to sign every event)"
                ),
            )
        signature_refused = self.signature_problems(events) if self.signed else {}
        untrusted = self.trust(events)
        by_seq = {e.seq: e for e in events}
        for seq, why in untrusted.items():
            if seq not in signature_refused:  # (named above)
                e = by_seq[seq]
                report.add(
                    False,
                    _("event {seq} ({kind} by {author}) does not count: {why}").format(
                        seq=seq, kind=event_words(e.kind), author=e.author, why=why
                    ),
                )
        state = SessionState(tuple(events), untrusted, tuple(p.problem for p in problems))
        try:
            lock = state.lock
        except SessionError as exc:
            report.add(False, str(exc))
            return report
        if expected_fingerprint is not None:
            wanted = expected_fingerprint.strip().upper()
            if not events:
                report.add(
                    False,
                    _("the journal is empty, but the list was announced locked with fingerprint {fingerprint}").format(
                        fingerprint=wanted
                    ),
                )
            elif lock is None:
                report.add(
                    False,
                    _("no lock in this session, but the list was locked with fingerprint {fingerprint}").format(
                        fingerprint=wanted
                    ),
                )
            elif lock.fingerprint != wanted:
                report.add(
                    False,
                    _("the session's lock has fingerprint {fingerprint}, not {wanted}").format(
                        fingerprint=lock.fingerprint, wanted=wanted
                    ),
                )
            else:
                report.add(True, _("the lock's fingerprint is {fingerprint}, as expected").format(fingerprint=wanted))
        if lock is None:
            report.add(True, _("the session is not locked: no final list to check"))
            return report
        # (state.lock gives confirmed locks only; a proposal alone would lock nothing, so say so)
        confirmation = lock.confirmation
        who = (
            _("confirmed by {author} (event {seq})").format(author=confirmation.author, seq=confirmation.seq)
            if confirmation is not None
            else _("not confirmed")
        )
        report.add(
            confirmation is not None,
            _("locked: proposed by {author} (event {seq}), {confirmed}; fingerprint {fingerprint}").format(
                author=lock.proposal.author, seq=lock.proposal.seq, confirmed=who, fingerprint=lock.fingerprint
            ),
        )
        if _digest(lock.final, lock.files) != lock.digest:
            report.add(False, _("the lock's stored list does not match its own digest"))
        changed = self.changed_files(lock.files)
        for name, what in changed:
            report.add(False, _("{name} file changed since the lock: {what}").format(name=name, what=what))
        if not changed:
            names = ", ".join(Path(f["path"]).name for f in lock.files.values())
            report.add(True, _("every file the contest names is as locked: {files}").format(files=names))
        before = SessionState(tuple(e for e in state.events if e.seq < lock.proposal.seq), untrusted)
        try:
            self._parse_afresh()
            recomputed = final_list(self.standings(before))
        except PanelError as exc:
            report.add(False, _("cannot recompute the final list: {why}").format(why=exc))
            return report
        differences = _differences(lock.final, recomputed)
        if differences:
            report.add(
                False,
                _("the recomputed final list differs from the locked one: {differences}").format(
                    differences="; ".join(differences[:10])
                ),
            )
        else:
            report.add(True, _("the final list recomputed from the files and the journal matches the lock"))
        return report


def _when(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None


def _payload_problem(e: Event) -> str | None:
    """Why ``e``'s payload is not what its kind needs (a row written by hand), or None."""
    p = e.payload

    def text(key: str, *, optional: bool = False) -> bool:
        value = p.get(key)
        return (optional and value is None) or (isinstance(value, str) and bool(value.strip()))

    if "unreadable" in p and len(p) == 1:
        return _("its payload is not a JSON object")
    checks: dict[str, Callable[[], bool]] = {  # looked up by the kind as stored, which may be any text
        EventKind.NOTE: lambda: (
            text("text") and text("candidate_id", optional=True) and text("category", optional=True)
        ),
        EventKind.FOCUS: lambda: text("candidate_id", optional=True),
        EventKind.TIE_ORDER: lambda: (
            text("category")
            and text("reason")
            and isinstance(p.get("order"), list)
            and len(p["order"]) >= 2
            and all(isinstance(c, str) for c in p["order"])
        ),
        EventKind.EXCLUSION: lambda: (
            text("candidate_id") and text("reason") and p.get("code") in engine.EXCLUSION_CODES
        ),
        EventKind.LOCK_PROPOSED: lambda: (
            isinstance(p.get("final"), dict)
            and isinstance(p.get("files"), dict)
            and isinstance(p.get("digest"), str)
            and isinstance(p["final"].get("categories"), list)
        ),
        EventKind.LOCK_CONFIRMED: lambda: isinstance(p.get("proposal"), int) and isinstance(p.get("digest"), str),
    }
    ok = checks.get(e.kind)
    if ok is None:
        return _("its kind {kind} is not one the tool writes").format(kind=repr(e.kind))
    return (
        None
        if ok()
        else _("its payload is not a well-formed {kind}").format(kind=event_words(e.kind).replace("_", " "))
    )


def _signing_key(signature: str) -> str | None:
    """The fingerprint of the key that made an armored SSH signature, or None."""
    from panel_tui.signing import fingerprint_of, read_signature

    try:
        return fingerprint_of(read_signature(signature).key)
    except Exception:  # an unreadable signature: verify names it
        return None


def _not_locked(state: SessionState, since: int | None) -> None:
    events = state.events
    if state.damage:
        raise Refused(
            _(
                "the journal is damaged ({problem}); nothing more can be recorded: "
                "run `panel-tui verify` and look at it with the secretary and the chair"
            ).format(problem=state.damage[0])
        )
    confirmations = [e for e in events if e.kind == EventKind.LOCK_CONFIRMED]
    if state.lock is None and confirmations:
        # A confirmation that does not count (forged, or the signers file changed since) still
        # closes the session: nothing is recorded after it until someone has looked.
        e = confirmations[0]
        raise Refused(
            _(
                "the session holds a lock confirmation (event {seq} by {author}) that does not count "
                "({why}); nothing more can be recorded: run `panel-tui verify`"
            ).format(seq=e.seq, author=e.author, why=state.untrusted.get(e.seq) or _("see verify"))
        )
    if state.lock is not None:
        raise Refused(
            _("the session is locked (fingerprint {fingerprint}); nothing more can be recorded").format(
                fingerprint=state.lock.fingerprint
            )
        )
    if since is not None:
        moved = [
            e
            for e in events
            if e.seq > since and e.kind in (EventKind.TIE_ORDER, EventKind.EXCLUSION, EventKind.LOCK_PROPOSED)
        ]
        if moved:
            raise Refused(
                _("the journal changed meanwhile (event {seq}, {kind} by {author}); try again").format(
                    seq=moved[0].seq, kind=event_words(moved[0].kind), author=moved[0].author
                )
            )


def _differences(locked: dict[str, Any], now: dict[str, Any]) -> list[str]:
    found = []
    then_entries = {(c["id"], e["candidate_id"]): e for c in locked["categories"] for e in c["entries"]}
    now_entries = {(c["id"], e["candidate_id"]): e for c in now["categories"] for e in c["entries"]}
    for key in sorted(then_entries.keys() | now_entries.keys()):
        a, b = then_entries.get(key), now_entries.get(key)
        if a is None or b is None:
            found.append(
                _("{candidate} added").format(candidate=key[1])
                if a is None
                else _("{candidate} missing").format(candidate=key[1])
            )
            continue
        for field_name in a:
            if a[field_name] != b.get(field_name):
                found.append(f"{key[1]} {field_name} {a[field_name]} -> {b.get(field_name)}")
    if not found and canonical(locked) != canonical(now):
        found.append(_("the decisions or category details differ"))

    return found
