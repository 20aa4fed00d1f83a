"""The minutes of the panel meeting, written from the journal and the contest's files after the lock.

What they hold (issue 15): the contest and its dates; who took part (every account that wrote
to the journal, with its role); per category the final list and the certification line; every
tie and how it was decided (the panel's order with its reason, who and when, or the area that
separated equal totals); every exclusion with its code and reason; the notes per candidate in
time order; the scores that changed during the meeting (the session's first event keeps the
list as the meeting found it); the fragile outcomes of the robustness analysis; the lock
(proposer, confirmer, times, fingerprint, signed or not) and how to verify it.

They are built once as a document of plain blocks (``Minutes``), in the current language
(``panel_tui.i18n``), and rendered three ways: Markdown and HTML here, PDF in
``minutes_pdf``. Every text, ours and the data's alike, is escaped by the renderer: a name or
a note is never Markdown, HTML or typst markup. Nothing depends on the time of writing: the
same journal and files give the same bytes.

Its messages are the ``minutes`` catalogue's (minutes.po). Every catalogue is looked up in turn
(core, console, minutes), so a message the others leave untranslated on purpose (the
leaderboard's bare "%") must not be one of ours: the minutes say "Percent".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from panel_tui.errors import PanelError, Refused
from panel_tui.i18n import N_, _, language, ngettext
from panel_tui.meeting import START, LockReceipt, Meeting, SessionState
from panel_tui.session import Event, role_of
from panel_tui.text import visible
from panel_tui.vocabulary import EventKind, Status, role_words, status_words

TEMPLATES = Path(__file__).with_name("templates")

# -- the document ----------------------------------------------------------------------------

PLAIN, STRONG, CODE = "", "b", "code"
Run = tuple[str, str]  # (style, text): PLAIN, STRONG or CODE


def strong(text: str) -> Run:
    return (STRONG, text)


def code(text: str) -> Run:
    return (CODE, text)


def runs(*parts: str | Run) -> tuple[Run, ...]:
    return tuple((PLAIN, p) if isinstance(p, str) else p for p in parts)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Items:
    items: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    align: str  # one letter per column: "l" or "r"
    rows: tuple[tuple[str, ...], ...]
    line_after: int | None = None  # the certification line is drawn after this row (0-based)
    line_text: str = ""


@dataclass(frozen=True)
class Signatures:
    who: tuple[tuple[str, str], ...]  # (role, account)
    name_label: str = ""
    date_label: str = ""
    signature_label: str = ""


Block = Heading | Paragraph | Items | Table | Signatures


@dataclass(frozen=True)
class Minutes:
    title: str
    subtitle: str
    language: str
    fingerprint: str
    locked_at: str  # the lock's time (ISO), the document's date
    blocks: tuple[Block, ...] = field(default_factory=tuple)


# -- words -----------------------------------------------------------------------------------

CODE_WORDS: dict[str, str] = {
    "withdrawn": N_("withdrawn"),
    "ineligible": N_("ineligible"),
    "disqualified": N_("disqualified"),
    "other": N_("other reason"),
}
FILE_WORDS: dict[str, str] = {
    "config": N_("configuration"),
    "candidates": N_("candidates"),
    "indicators": N_("indicators"),
    "scores": N_("scores"),
    "conflicts": N_("conflicts of interest"),
    "signers": N_("signers' keys"),
}
METHOD_WORDS: dict[str, str] = {
    "mean": N_("mean"),
    "median": N_("median"),
    "trimmed_mean": N_("trimmed mean (highest and lowest score dropped)"),
    "zscore": N_("z-standardised evaluators"),
}


def _status(status: object) -> str:
    """A status in words (the core's, ``vocabulary.status_words``, without the identifier's
    underscore: "not certified"); "—" for none."""
    return "—" if status is None else status_words(status).replace("_", " ")


def _word(words: Mapping[str, str], key: object) -> str:
    if key is None:
        return "—"
    return _(words[str(key)]) if str(key) in words else str(key)


def _code_words(code: str) -> str:
    """An exclusion's reason code in words, in the panel's language ("자진 철회" for withdrawn)."""
    return _word(CODE_WORDS, code)


def number(value: object, decimals: int) -> str:
    return f"{value:,.{decimals}f}" if isinstance(value, int | float) else "—"


# -- what the minutes say --------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the minutes are written from: the lock, the journal, the contest."""

    meeting: Meeting
    lock: LockReceipt
    state: SessionState
    names: dict[str, str]  # candidate_id -> name, from the locked list (else the files)
    category_of: dict[str, str]  # candidate_id -> category id
    area_labels: dict[tuple[str, str], str]  # (category id, area id) -> label
    decimals: int
    final: dict[str, Any]  # the locked list, its names and labels in the language shown

    def role(self, account: str) -> str:
        roles = self.meeting.session_roles(self.state.events)
        return role_words(role_of(roles, account))

    def who(self, account: str) -> str:
        return _("{account} ({role})").format(account=account, role=self.role(account))

    def candidate(self, candidate_id: str) -> str:
        name = self.names.get(candidate_id)
        return f"{name} ({candidate_id})" if name else candidate_id

    def when(self, at: str) -> str:
        """A journal time as people read it, in the contest's time zone: "2022-09-14 19:41 KST"."""
        return self.meeting.config.contest.time(at)

    def event(self, seq: object) -> Event | None:
        return next((e for e in self.state.events if e.seq == seq), None)


def _facts(meeting: Meeting) -> _Facts:
    lock = meeting.exportable()
    state = meeting.state()
    names: dict[str, str] = {}
    category_of: dict[str, str] = {}
    final = meeting.final_shown(lock)
    for category in final["categories"]:
        for e in category["entries"]:
            names[e["candidate_id"]] = e["name"]
            category_of[e["candidate_id"]] = category["id"]
    labels: dict[tuple[str, str], str] = {}
    try:
        data = meeting.data()
        for category in meeting.config.categories:
            frame = data.indicators
            if "area_label" not in frame.columns:
                continue
            for set_id, area, label in frame.select("indicator_set", "area_id", "area_label").iter_rows():
                if set_id == category.indicator_set and label:
                    labels.setdefault((category.id, area), label)
    except PanelError:  # the files may be unreadable since the lock: the minutes come from the lock
        pass
    return _Facts(meeting, lock, state, names, category_of, labels, meeting.config.scoring.decimals, final)


def build(meeting: Meeting) -> Minutes:
    """The minutes of ``meeting``'s locked session, in the current language (Refused before the lock)."""
    facts = _facts(meeting)
    lock = facts.lock
    contest = meeting.config.contest
    blocks: list[Block] = []
    blocks += _overview(facts)
    blocks += _participants(facts)
    blocks += _final_lists(facts)
    blocks += _ties(facts)
    blocks += _exclusions(facts)
    blocks += _notes(facts)
    blocks += _score_changes(facts)
    blocks += _fragile(facts)
    blocks += _the_lock(facts)
    blocks += _signatures(facts)
    locked = lock.confirmation or lock.proposal
    return Minutes(
        title=_("Minutes of the panel meeting"),
        subtitle=f"{contest.name} ({contest.id})",
        language=language(),
        fingerprint=lock.fingerprint,
        locked_at=locked.at,
        blocks=tuple(blocks),
    )


def _overview(f: _Facts) -> list[Block]:
    events = f.state.events
    contest = f.meeting.config.contest
    first, last = events[0].at, (f.lock.confirmation or f.lock.proposal).at
    day, last_day = f.when(first)[:10], f.when(last)[:10]  # (the days in the contest's time zone)
    dates = day if day == last_day else f"{day} – {last_day}"
    rows = [
        (_("Contest"), f"{contest.name} ({contest.id})"),
        (_("Date of the meeting"), dates),
        (_("First entry in the journal"), f.when(first)),
        (_("Final list locked"), f.when(last)),
        (_("Consolidation of the evaluators' scores"), _word(METHOD_WORDS, f.lock.final["method"])),
        (_("Fingerprint of the locked list"), f.lock.fingerprint),
    ]
    return [
        Paragraph(
            runs(
                _(
                    "These minutes are written from the meeting's journal ({events} entries) and the contest's "
                    "files, as locked. Times are in {zone}."
                ).format(events=len(events), zone=contest.timezone or "UTC")
            )
        ),
        Table((_("Item"), _("Record")), "ll", tuple(rows)),
    ]


def _recorded(kind: str, n: int) -> str:
    """How many events of a kind an account recorded, in words: "3 notes"."""
    if kind == EventKind.NOTE:
        return ngettext("{n} note", "{n} notes", n).format(n=n)
    if kind == EventKind.FOCUS:
        return ngettext("{n} change of focus", "{n} changes of focus", n).format(n=n)
    if kind == EventKind.TIE_ORDER:
        return ngettext("{n} tie decision", "{n} tie decisions", n).format(n=n)
    if kind == EventKind.EXCLUSION:
        return ngettext("{n} exclusion", "{n} exclusions", n).format(n=n)
    if kind == EventKind.LOCK_PROPOSED:
        return ngettext("{n} lock proposal", "{n} lock proposals", n).format(n=n)
    if kind == EventKind.LOCK_CONFIRMED:
        return ngettext("{n} lock confirmation", "{n} lock confirmations", n).format(n=n)
    return f"{kind} {n}"


def _participants(f: _Facts) -> list[Block]:
    counts: dict[str, dict[str, int]] = {}
    for e in f.state.counted:
        counts.setdefault(e.author, {}).setdefault(e.kind, 0)
        counts[e.author][e.kind] += 1
    rows = []
    for account in sorted(counts):
        what = ", ".join(_recorded(k, n) for k, n in counts[account].items())
        rows.append((account, f.role(account), str(sum(counts[account].values())), what))
    return [
        Heading(2, _("Participants")),
        Paragraph(runs(_("The accounts that wrote to the journal, with their roles in this session."))),
        Table((_("Account"), _("Role"), _("Entries"), _("What they recorded")), "llrl", tuple(rows)),
    ]


def _final_lists(f: _Facts) -> list[Block]:
    d = f.decimals
    blocks: list[Block] = [Heading(2, _("Final certification list"))]
    for category in f.final["categories"]:
        entries = category["entries"]
        certified = [e for e in entries if e["certified"]]
        blocks.append(Heading(3, category["label"]))
        threshold = category["threshold"]
        points = category["max_points"] * threshold / 100
        line = _("Certification line: {threshold} % of {max_points} points ({points} points).").format(
            threshold=f"{threshold:g}", max_points=number(category["max_points"], d), points=number(points, d)
        )
        try:
            cap = f.meeting.config.category(category["id"]).max_certified
        except KeyError:
            cap = 0
        if cap:
            line += " " + _("At most {cap} candidates are certified.").format(cap=cap)
        line += " " + _("Certified: {certified} of {entries}.").format(certified=len(certified), entries=len(entries))
        blocks.append(Paragraph(runs(line)))
        rows = []
        line_after = None
        for i, e in enumerate(entries):
            grade = "" if e["grade"] is None else str(e["grade"])
            rows.append(
                (
                    "" if e["rank"] is None else str(e["rank"]),
                    e["candidate_id"],
                    e["name"],
                    number(e["total"], d),
                    number(e["percent"], d),
                    grade,
                    _status(e["status"]),
                )
            )
            if e["certified"]:
                line_after = i
        if line_after is None and entries:
            line_after = -1
        blocks.append(
            Table(
                (_("Rank"), _("ID"), _("Candidate"), _("Total"), _("Percent"), _("Grade"), _("Status")),
                "rllrrrl",
                tuple(rows),
                line_after=line_after,
                line_text=_("certification line {threshold} %").format(threshold=f"{threshold:g}"),
            )
        )
    return blocks


def _ties(f: _Facts) -> list[Block]:
    d = f.decimals
    items: list[tuple[Run, ...]] = []
    for category in f.final["categories"]:
        ranked = [e for e in category["entries"] if e["rank"] is not None]
        panel = [x for x in category.get("decisions", []) if x["kind"] == EventKind.TIE_ORDER]
        decided_by_panel = {c for x in panel for c in x["order"]}
        for x in panel:
            event = f.event(x.get("event"))
            by = f.who(event.author if event else x.get("by", ""))
            at = f.when(event.at) if event else "—"
            order = " > ".join(f.candidate(c) for c in x["order"])
            items.append(
                runs(
                    strong(category["label"] + ": "),
                    _(
                        "equal on the total and every area; the panel decided the order {order}. "
                        "Reason: {reason}. Recorded by {who} at {at}."
                    ).format(order=order, reason=x["reason"], who=by, at=at),
                )
            )
        # Equal totals an area separated (decided_by names it), and groups left sharing a rank.
        for above, below in zip(ranked, ranked[1:], strict=False):
            if above["total"] != below["total"] or below["candidate_id"] in decided_by_panel:
                continue
            key = below["decided_by"]
            if key and key not in ("total", "panel"):
                label = f.area_labels.get((category["id"], key))
                area = f"{key} ({label})" if label else key
                items.append(
                    runs(
                        strong(category["label"] + ": "),
                        _(
                            "{above} and {below} have the same total, {total}; the area {area} decided: "
                            "{above_area} against {below_area} (rank {rank_above} and {rank_below})."
                        ).format(
                            above=f.candidate(above["candidate_id"]),
                            below=f.candidate(below["candidate_id"]),
                            total=number(above["total"], d),
                            area=area,
                            above_area=number(above["areas"].get(key), d),
                            below_area=number(below["areas"].get(key), d),
                            rank_above=above["rank"],
                            rank_below=below["rank"],
                        ),
                    )
                )
            elif above["rank"] == below["rank"]:
                items.append(
                    runs(
                        strong(category["label"] + ": "),
                        _(
                            "{above} and {below} are equal on every key and share rank {rank}; no decision was needed."
                        ).format(
                            above=f.candidate(above["candidate_id"]),
                            below=f.candidate(below["candidate_id"]),
                            rank=above["rank"],
                        ),
                    )
                )
    blocks: list[Block] = [Heading(2, _("Ties and how they were decided"))]
    blocks.append(Items(tuple(items)) if items else Paragraph(runs(_("No two candidates had the same total."))))
    return blocks


def _exclusions(f: _Facts) -> list[Block]:
    events = {e.payload.get("candidate_id"): e for e in f.state.counted if e.kind == EventKind.EXCLUSION}
    rows = []
    for category in f.final["categories"]:
        for x in category.get("decisions", []):
            if x["kind"] != EventKind.EXCLUSION:
                continue
            event = events.get(x["candidate_id"])
            rows.append(
                (
                    x["candidate_id"],
                    f.names.get(x["candidate_id"], ""),
                    _code_words(x["code"]),
                    x["reason"],
                    f.who(event.author) if event else "—",
                    f.when(event.at) if event else "—",
                )
            )
    blocks: list[Block] = [Heading(2, _("Exclusions"))]
    if rows:
        blocks.append(
            Table((_("ID"), _("Candidate"), _("Code"), _("Reason"), _("By"), _("When")), "llllll", tuple(rows))
        )
    else:
        blocks.append(Paragraph(runs(_("The panel excluded no candidate."))))
    return blocks


def _notes(f: _Facts) -> list[Block]:
    notes = f.state.notes
    blocks: list[Block] = [Heading(2, _("Notes of the discussion"))]
    if not notes:
        blocks.append(Paragraph(runs(_("No note was written."))))
        return blocks
    order = {cid: i for i, cid in enumerate(f.names)}
    labels = {c["id"]: c["label"] for c in f.final["categories"]}
    groups: dict[tuple[int, int, str], list[Event]] = {}
    for e in notes:
        cid, cat = e.payload.get("candidate_id"), e.payload.get("category")
        if cid:
            key = (1, order.get(cid, len(order)), str(cid))
        elif cat:
            key = (0, list(labels).index(cat) if cat in labels else len(labels), str(cat))
        else:
            key = (-1, 0, "")
        groups.setdefault(key, []).append(e)
    for key in sorted(groups):
        kind, _i, ident = key
        if kind == 1:
            title = f.candidate(ident)
        elif kind == 0:
            title = _("Category: {label}").format(label=labels.get(ident, ident))
        else:
            title = _("The meeting as a whole")
        blocks.append(Heading(3, title))
        items = tuple(
            runs(strong(f"{f.when(e.at)}, {f.who(e.author)}: "), e.payload.get("text", ""))
            for e in sorted(groups[key], key=lambda e: e.seq)
        )
        blocks.append(Items(items))
    return blocks


def _score_changes(f: _Facts) -> list[Block]:
    d = f.decimals
    blocks: list[Block] = [Heading(2, _("Scores that changed during the meeting"))]
    counted = f.state.counted
    first = counted[0] if counted and counted[0].seq == 1 else None
    start = first.payload.get(START) if first is not None else None
    if not isinstance(start, dict):
        blocks.append(Paragraph(runs(_("The journal does not keep the list as the meeting found it."))))
        return blocks

    def entries(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        return {e["candidate_id"]: e for c in doc.get("categories", []) for e in c.get("entries", [])}

    then, now = entries(start), entries(f.lock.final)
    rows = []
    for cid, e in now.items():
        a = then.get(cid)
        if a is None:
            rows.append((f.candidate(cid), "—", number(e["total"], d), "—", number(e["percent"], d), "", ""))
            continue
        # (a pending candidate scored since; one excluded while pending changed no score)
        scored = a["status"] == Status.PENDING and e["status"] not in (Status.PENDING, Status.EXCLUDED)
        if (a["total"], a["percent"]) == (e["total"], e["percent"]) and not scored:
            continue
        rows.append(
            (
                f.candidate(cid),
                number(a["total"], d),
                number(e["total"], d),
                number(a["percent"], d),
                number(e["percent"], d),
                _status(a["status"]),
                _status(e["status"]),
            )
        )
    files = ", ".join(
        f"{Path(x['path']).name} (SHA-256 {x['sha256'][:16]}…)" for name, x in f.lock.files.items() if name == "scores"
    )
    blocks.append(
        Paragraph(
            runs(
                _(
                    "The list as the journal's first entry found it ({who}, {at}), before any decision of the panel, "
                    "against the locked list. The scores file as locked: {files}."
                ).format(who=first.author if first else "—", at=f.when(first.at) if first else "—", files=files or "—")
            )
        )
    )
    if not rows:
        blocks.append(Paragraph(runs(_("No score changed during the meeting: every total is as it was at the start."))))
        return blocks
    blocks.append(
        Paragraph(
            runs(
                ngettext(
                    "The scores changed during the meeting for {n} candidate:",
                    "The scores changed during the meeting for {n} candidates:",
                    len(rows),
                ).format(n=len(rows))
            )
        )
    )
    blocks.append(
        Table(
            (
                _("Candidate"),
                _("Total at the start"),
                _("Total locked"),
                _("% at the start"),
                _("% locked"),
                _("Status at the start"),
                _("Status locked"),
            ),
            "lrrrrll",
            tuple(rows),
        )
    )
    return blocks


def _fragile(f: _Facts) -> list[Block]:
    blocks: list[Block] = [Heading(2, _("Fragile outcomes (robustness analysis)"))]
    changed = f.meeting.changed_files(f.lock.files)
    if changed:
        blocks.append(
            Paragraph(
                runs(
                    _(
                        "Not computed: the contest's files changed since the lock ({files}), so an analysis of "
                        "today's files would not be the locked list's."
                    ).format(files="; ".join(what for _n, what in changed))
                )
            )
        )
        return blocks
    from panel_tui.analysis import robustness

    analysis = robustness(f.meeting.data_afresh(), f.state.decisions)  # (public: the files, not the cache)
    rows = []
    for category in f.final["categories"]:
        for e in category["entries"]:
            a = analysis.get(e["candidate_id"])
            if a is None or a["verdict"] != "fragile" or e["status"] == Status.EXCLUDED:
                continue
            certified = bool(e["certified"])
            methods = [m for m, c in a["certified"].items() if c is not None and bool(c) != certified]
            without = a["leave_one_out"]["certification_flips_without"]
            rows.append(
                (
                    category["label"],
                    f.candidate(e["candidate_id"]),
                    _status(e["status"]),
                    ", ".join(_word(METHOD_WORDS, m) for m in methods) or "—",
                    ", ".join(without) or "—",
                )
            )
    blocks.append(
        Paragraph(
            runs(
                _(
                    "An outcome is fragile when the certification would differ under another way of consolidating "
                    "the scores, or with one evaluator fewer."
                )
            )
        )
    )
    if rows:
        blocks.append(
            Table(
                (
                    _("Category"),
                    _("Candidate"),
                    _("Locked status"),
                    _("Differs under"),
                    _("Flips without evaluator"),
                ),
                "lllll",
                tuple(rows),
            )
        )
    else:
        blocks.append(Paragraph(runs(_("No certification outcome is fragile."))))
    return blocks


def _the_lock(f: _Facts) -> list[Block]:
    lock = f.lock
    proposal, confirmation = lock.proposal, lock.confirmation
    rows = [(_("Proposed by"), f"{f.who(proposal.author)}, {f.when(proposal.at)}")]
    if confirmation is not None and confirmation.payload.get("chair_confirmation") is False:
        rows.append(
            (
                _("Confirmed by"),
                _("not required by the contest: final when proposed ({at})").format(at=f.when(confirmation.at)),
            )
        )
    elif confirmation is not None:
        rows.append((_("Confirmed by"), f"{f.who(confirmation.author)}, {f.when(confirmation.at)}"))
    rows.append((_("Fingerprint"), lock.fingerprint))
    rows.append((_("Lock digest (SHA-256)"), lock.digest))
    signers = f.meeting.config.contest.signers
    if f.meeting.signed and signers is not None:
        journal = _(
            "signed: every entry is signed with its author's SSH key, checked against {signers}; nobody can "
            "write, change or remove an entry in another's name without being found"
        ).format(signers=signers.name)
    else:
        journal = _(
            "unsigned: the hash chain finds accidents and edits by hand, but not an account on this host "
            "that rewrites the whole journal"
        )
    rows.append((_("Journal"), journal))
    rows += [
        (_("File: {name}").format(name=_word(FILE_WORDS, name)), f"{Path(x['path']).name}  SHA-256 {x['sha256']}")
        for name, x in lock.files.items()
    ]
    command = f"panel-tui verify --fingerprint {lock.fingerprint}"
    return [
        Heading(2, _("The lock")),
        Table((_("Item"), _("Record")), "ll", tuple(rows)),
        Heading(3, _("How to verify these minutes")),
        Paragraph(
            runs(
                _("In the contest's folder (beside config.toml and sessions/), run:"),
            )
        ),
        Paragraph(runs(code(command))),
        Paragraph(
            runs(
                _(
                    "It exits 0 only when the journal is there and its hash chain intact, every signature holds "
                    "(a signed journal), every entry was written by a role allowed to write it, the lock's "
                    "fingerprint is the one above, no file changed since the lock, and the final list recomputed "
                    "from the files and the journal is the locked one."
                )
            )
        ),
    ]


def _signatures(f: _Facts) -> list[Block]:
    roles = f.meeting.session_roles(f.state.events)
    proposal, confirmation = f.lock.proposal, f.lock.confirmation
    secretary = proposal.author
    chair = (
        confirmation.author
        if confirmation is not None and confirmation.payload.get("chair_confirmation") is not False
        else (roles.chair[0] if roles.chair else "")
    )
    return [
        Heading(2, _("Signatures")),
        Signatures(
            ((_("Secretary"), secretary), (_("Chair"), chair)),
            name_label=_("Name"),
            date_label=_("Date"),
            signature_label=_("Signature"),
        ),
    ]


# -- Markdown --------------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&$!{}])")
_MD_START = re.compile(r"^([#>+\-=@]|\d+(?=[.)](?:\s|$)))")
_MD_EMOJI = re.compile(r":(?=[A-Za-z0-9_+\-]+:)")


def md(text: object) -> str:
    """Text as Markdown that shows it literally: every inline special escaped (no emphasis,
    code, link, image, HTML, entity or math), what would start a heading, quote, list or
    formula at the start escaped, bare links and emoji codes broken, a newline as ``<br>``."""
    value = visible(text, lines=True).replace("\t", " ").lstrip()
    value = _MD_INLINE.sub(r"\\\1", value)
    value = _MD_START.sub(lambda m: m.group(1) + "\\" if m.group(1).isdigit() else "\\" + m.group(1), value)
    value = value.replace("://", r"\:\/\/").replace("www.", r"www\.").replace("@", r"\@")
    value = _MD_EMOJI.sub(r"\\:", value)
    return value.replace("\r", "").replace("\n", "<br>")


def _md_runs(parts: Iterable[Run]) -> str:
    out = []
    for style, text in parts:
        if style == CODE:
            value = visible(text)
            fence = "`" * (max((len(m) for m in re.findall(r"`+", value)), default=0) + 1)
            pad = " " if value.startswith("`") or value.endswith("`") else ""
            out.append(f"{fence}{pad}{value}{pad}{fence}")
        elif style == STRONG:
            # (a space just inside the stars would leave them as stars: it goes outside)
            inner = text.strip()
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            out.append(f"{lead}**{md(inner)}**{trail}" if inner else text)
        else:
            out.append(md(text))
    return "".join(out)


def _md_table(header: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in header) + " |"]
    lines.append("| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |")
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines


def markdown(minutes: Minutes) -> str:
    lines = [f"# {md(minutes.title)}", "", f"**{md(minutes.subtitle)}**", ""]
    for block in minutes.blocks:
        if isinstance(block, Heading):
            lines.append(f"{'#' * block.level} {md(block.text)}")
        elif isinstance(block, Paragraph):
            lines.append(_md_runs(block.runs))
        elif isinstance(block, Items):
            lines += [f"- {_md_runs(item)}" for item in block.items]
        elif isinstance(block, Table):
            rows = list(block.rows)
            if block.line_after is not None:
                marker = tuple(f"— {block.line_text} —" if i == 2 else "" for i in range(len(block.header)))
                rows.insert(block.line_after + 1, marker)
            lines += _md_table(block.header, block.align, rows)
        elif isinstance(block, Signatures):
            header = ("", block.name_label, block.date_label, block.signature_label)
            lines += _md_table(header, "llll", [(role, who, "", "") for role, who in block.who])
        lines.append("")
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------------


def h(text: object) -> str:
    """Text as HTML that shows it literally (every special escaped; a newline a ``<br>``)."""
    return html.escape(visible(text, lines=True)).replace("\n", "<br>")


def _html_runs(parts: Iterable[Run]) -> str:
    out = []
    for style, text in parts:
        if style == CODE:
            out.append(f"<code>{h(text)}</code>")
        elif style == STRONG:
            out.append(f"<strong>{h(text)}</strong>")
        else:
            out.append(h(text))
    return "".join(out)


def _html_table(block: Table) -> list[str]:
    def cell(tag: str, i: int, text: str) -> str:
        cls = ' class="num"' if block.align[i] == "r" else ""
        return f"<{tag}{cls}>{h(text)}</{tag}>"

    out = ["<table>", "<thead><tr>" + "".join(cell("th", i, t) for i, t in enumerate(block.header)) + "</tr></thead>"]
    out.append("<tbody>")
    if block.line_after == -1:
        out.append(f'<tr class="line"><td colspan="{len(block.header)}">{h(block.line_text)}</td></tr>')
    for r, row in enumerate(block.rows):
        out.append("<tr>" + "".join(cell("td", i, t) for i, t in enumerate(row)) + "</tr>")
        if block.line_after == r:
            out.append(f'<tr class="line"><td colspan="{len(block.header)}">{h(block.line_text)}</td></tr>')
    out.append("</tbody></table>")
    return out


def html_document(minutes: Minutes) -> str:
    body: list[str] = [f"<h1>{h(minutes.title)}</h1>", f'<p class="subtitle">{h(minutes.subtitle)}</p>']
    for block in minutes.blocks:
        if isinstance(block, Heading):
            level = min(block.level, 6)
            body.append(f"<h{level}>{h(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_html_runs(block.runs)}</p>")
        elif isinstance(block, Items):
            body.append("<ul>" + "".join(f"<li>{_html_runs(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            body += _html_table(block)
        elif isinstance(block, Signatures):
            body.append('<div class="signatures">')
            for role, who in block.who:
                body.append(
                    '<div class="signature">'
                    f'<div class="role">{h(role)}</div>'
                    f'<div class="field"><span>{h(block.name_label)}</span> {h(who)}</div>'
                    f'<div class="field"><span>{h(block.date_label)}</span></div>'
                    f'<div class="sign-line"><span>{h(block.signature_label)}</span></div>'
                    "</div>"
                )
            body.append("</div>")
    template = Template((TEMPLATES / "minutes.html").read_text(encoding="utf-8"))
    return template.substitute(
        lang=h(minutes.language),
        title=h(f"{minutes.title}: {minutes.subtitle}"),
        fingerprint=h(minutes.fingerprint),
        body="\n".join(body),
    )


# -- the exports -----------------------------------------------------------------------------


def write(meeting: Meeting, fmt: str, path: Path) -> None:
    """Write the minutes of ``meeting`` in ``fmt`` (minutes-md, minutes-html, minutes-pdf) to ``path``."""
    minutes = build(meeting)
    if fmt == "minutes-md":
        path.write_text(markdown(minutes), encoding="utf-8")
    elif fmt == "minutes-html":
        path.write_text(html_document(minutes), encoding="utf-8")
    elif fmt == "minutes-pdf":
        from panel_tui.minutes_pdf import pdf

        path.write_bytes(pdf(minutes))
    else:
        raise ValueError(fmt)


def require_meeting(meeting: Meeting | None) -> Meeting:
    if meeting is None:
        raise Refused(_("the minutes are written from the meeting's journal: give the meeting"))
    return meeting
