"""Plain-text and CSV renderings of the standings for the command line (no Textual)."""

from __future__ import annotations

import io

import polars as pl

from panel_tui.engine import Standings, entry_columns
from panel_tui.i18n import N_, _, language, ngettext
from panel_tui.inputs.contest import ContestData
from panel_tui.text import inert_cell, inert_columns, one_line, text_width
from panel_tui.vocabulary import Status, exclusion_words, status_words

MARKS = {
    Status.CERTIFIED: "✔",
    Status.NOT_CERTIFIED: " ",
    Status.UNDECIDED: "?",
    Status.PENDING: "…",
    Status.EXCLUDED: "✘",
}


def width(text: str) -> int:
    """Columns a string takes in a terminal: Hangul and other wide characters take two."""
    return text_width(text)


# The headings of the columns of a list (CSV, XLSX, the table), by column name: in English the
# names themselves (what scripts read), in Korean words. An area's column keeps its id.
HEADINGS: dict[str, str] = {
    "category": N_("category"),
    "category_label": N_("category_label"),
    "rank": N_("rank"),
    "candidate_id": N_("candidate_id"),
    "name": N_("name"),
    "total": N_("total"),
    "percent": N_("percent"),
    "grade": N_("grade"),
    "status": N_("status"),
    "certified": N_("certified"),
    "top": N_("top"),
    "tie": N_("tie"),
    "borderline": N_("borderline"),
    "decided_by": N_("decided_by"),
    "evaluators": N_("evaluators"),
    "fingerprint": N_("fingerprint"),
    "exclusion_code": N_("exclusion_code"),
    "exclusion_reason": N_("exclusion_reason"),
    "panel_reason": N_("panel_reason"),
}


# The consolidation method as the table and ``validate`` name it: its id in English (as the
# config writes it), words in Korean.
METHOD_NAMES: dict[str, str] = {
    "mean": N_("mean"),
    "median": N_("median"),
    "trimmed_mean": N_("trimmed_mean"),
    "zscore": N_("zscore"),  # (the robustness analysis's standardised scores)
}


def method_name(method: str) -> str:
    return _(METHOD_NAMES[method]) if method in METHOD_NAMES else method


def heading(column: str) -> str:
    """A list's column heading in the panel's language: ``HEADINGS``; "area_A1" -> "A1 영역" in
    Korean; any other column (an area id) as it is."""
    if column in HEADINGS:
        return _(HEADINGS[column])
    if column.startswith("area_"):
        return _("area_{area}").format(area=column.removeprefix("area_"))
    return column


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """A list for people in the panel's language: Korean headings (``heading``) and statuses
    in words; in English the frame as it is (column names and status codes are what scripts
    read)."""
    if language() == "en":
        return frame
    if "status" in frame.columns:
        words = {s.value: status_words(s) for s in Status}
        frame = frame.with_columns(pl.col("status").cast(pl.String).replace(words))
    headings = {c: heading(c) for c in frame.columns if heading(c) != c}
    # An area id is a column's name as it is: where one is already what a field's heading
    # would be (an area called 총점), that field keeps its English name rather than two
    # columns having one name.
    kept = set(frame.columns) - set(headings)
    return frame.rename({c: h for c, h in headings.items() if h not in kept})


def pad(text: str, columns: int, right: bool = False) -> str:
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def _fmt(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


def table(standings: Standings, *, category: str | None = None, locked: bool = False) -> str:
    """Aligned text leaderboards, one block per category, with the certification line drawn."""
    config = standings.config
    decimals = config.scoring.decimals
    method = method_name(config.scoring.method)
    state = ", " + _("LOCKED") if locked else ""
    out = [f"{one_line(config.contest.name)}  ({one_line(config.contest.id)}, {method}{state})"]
    for board in standings.boards:
        if category is not None and board.category.id != category:
            continue
        cat = board.category
        cap = (
            ngettext(", at most {n} certified", ", at most {n} certified", cat.max_certified).format(
                n=cat.max_certified
            )
            if cat.max_certified
            else ""
        )
        out.append("")
        out.append(
            _("{label} [{id}]: threshold {threshold} % of {points} points{cap}").format(
                label=one_line(cat.label),
                id=one_line(cat.id),
                threshold=f"{cat.threshold:g}",
                points=f"{board.max_points:,.{decimals}f}",
                cap=cap,
            )
        )
        header = [
            _("rank"),
            _("id"),
            _("name"),
            _("total"),
            "%",
            *map(one_line, board.areas),
            _("grade"),
            _("status"),
            _("notes"),
        ]
        rows: list[list[str]] = []
        line_at = None
        for row in board.entries.iter_rows(named=True):
            notes = []
            if row["top"]:
                notes.append(_("top"))
            if row["tie"]:
                notes.append(_("tie"))
            if row["decided_by"] == "panel":
                notes.append(_("by panel"))
            elif row["decided_by"] == "total":
                notes.append(_("by total"))
            elif row["decided_by"]:
                notes.append(_("by {area}").format(area=row["decided_by"]))

            if row["borderline"]:
                notes.append(_("borderline"))
            if row["exclusion_code"]:
                notes.append(f"{exclusion_words(row['exclusion_code'])}: {row['exclusion_reason']}")
            if row["rank"] is not None and line_at is None and row["certified"] is False:
                line_at = len(rows)
            if row["rank"] is None and line_at is None:
                line_at = len(rows)
            rows.append(
                [
                    "" if row["rank"] is None else str(row["rank"]),
                    one_line(row["candidate_id"]),
                    one_line(row["name"]),
                    _fmt(row["total"], decimals),
                    _fmt(row["percent"], decimals),
                    *[_fmt(row[a], decimals) for a in board.areas],
                    "" if row["grade"] is None else str(row["grade"]),
                    f"{MARKS[row['status']]} {status_words(row['status'])}",
                    one_line(", ".join(notes)),
                ]
            )
        widths = [max(width(h), *(width(r[i]) for r in rows)) if rows else width(h) for i, h in enumerate(header)]
        numeric = {0, 3, 4, *range(5, 5 + len(board.areas))}

        def render(cells: list[str], widths: list[int] = widths, numeric: set[int] = numeric) -> str:
            return "  ".join(
                pad(c, w, right=i in numeric) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            ).rstrip()

        out.append(render(header))
        line_width = width(render(["x" * w for w in widths]))
        for i, cells in enumerate(rows):
            if i == line_at:
                label = " " + _("certification line {threshold} %").format(threshold=f"{cat.threshold:g}") + " "
                out.append(_center(label, line_width, "─"))
            out.append(render(cells))
        for group in board.unresolved_ties:
            out.append(
                "  "
                + _("unresolved tie: {candidates} (the panel must decide the order)").format(
                    candidates=one_line(", ".join(group))
                )
            )
        for order in board.stale_tie_orders:
            out.append(
                "  "
                + _("tie order no longer matches a tied group, not applied: {order}").format(
                    order=one_line(", ".join(order.order))
                )
            )
    return "\n".join(out) + "\n"


def _center(text: str, columns: int, fill: str) -> str:
    """``str.center`` by terminal cells (Hangul takes two)."""
    room = max(0, columns - width(text))
    left = room // 2 + (room & columns & 1)  # (as str.center splits an odd remainder)
    return fill * left + text + fill * (room - left)


def csv_text(standings: Standings, *, category: str | None = None) -> str:
    """One row per entry, every category in one sheet; area columns named by area id (the
    headings in the panel's language: ``readable``)."""
    frames = [
        b.entries.with_columns(pl.lit(b.category.id).alias("category")).select("category", *entry_columns(b.areas))
        for b in standings.boards
        if category is None or b.category.id == category
    ]
    buffer = io.StringIO()
    frame = inert_columns(readable(pl.concat(frames, how="diagonal_relaxed")))  # a spreadsheet runs no cell

    frame.rename({c: str(inert_cell(c)) for c in frame.columns}).write_csv(buffer)  # nor a header (area ids)
    return buffer.getvalue()


def validation_summary(data: ContestData, standings: Standings) -> tuple[list[str], list[str]]:
    """What ``validate`` checked (counts) and what it warns about (pending, ties, recusals)."""
    config = data.config
    checked = [
        _("config: {path} (contest {id}: {name})").format(
            path=config.path, id=repr(config.contest.id), name=config.contest.name
        )
    ]
    counts = dict(data.candidates.group_by("category").len().iter_rows())
    per_category = ", ".join(f"{c.id} {counts.get(c.id, 0)}" for c in config.categories)
    checked.append(
        _("candidates: {n} in {categories} categories ({per_category}) from {file}").format(
            n=data.candidates.height,
            categories=len(config.categories),
            per_category=per_category,
            file=config.contest.candidates.name,
        )
    )
    sets = data.indicators.group_by("indicator_set", maintain_order=True).agg(
        n=pl.len(), points=pl.col("max_points").sum(), areas=pl.col("area_id").unique(maintain_order=True)
    )
    described = "; ".join(
        _("{set} {n} indicators, {points} points, areas {areas}").format(
            set=s, n=n, points=f"{p:,.2f}", areas=" ".join(a)
        )
        for s, n, p, a in sets.iter_rows()
    )
    checked.append(
        _("indicators: {n} in {sets} sets ({described}) from {file}").format(
            n=data.indicators.height, sets=sets.height, described=described, file=config.contest.indicators.name
        )
    )
    evaluators = (
        _(" from {n} evaluators").format(n=len(data.evaluator_ids))
        if data.has_evaluators
        else _(" (already consolidated: no evaluator_id)")
    )
    checked.append(
        _("scores: {n} rows{evaluators} from {file}; method {method}").format(
            n=f"{data.rows.height:,}",
            evaluators=evaluators,
            file=config.contest.scores.name,
            method=method_name(config.scoring.method),
        )
    )

    warnings = []
    names = dict(data.candidates.select("candidate_id", "name").iter_rows())
    set_size = dict(data.indicators.group_by("indicator_set").len().iter_rows())
    scored_n = dict(data.cells.group_by(pl.col("candidate_id").cast(pl.String)).len().iter_rows())
    for board in standings.boards:
        need = set_size[board.category.indicator_set]
        pending = board.entries.filter(pl.col("status") == Status.PENDING)
        for cid in pending["candidate_id"]:
            missing = need - scored_n.get(cid, 0)
            warnings.append(
                _("pending: {id} {name} ({category}): {missing} of {need} indicators have no score yet").format(
                    id=cid, name=names[cid], category=board.category.id, missing=missing, need=need
                )
            )
        for group in board.unresolved_ties:
            warnings.append(
                _("unresolved tie in {category}: {candidates} (the panel must order them before the lock)").format(
                    category=board.category.label, candidates=", ".join(group)
                )
            )
    declared = set()
    if data.conflicts is not None:
        left: dict[tuple[str, str], int] = {}  # (candidate, evaluator): scores left out
        if data.left_out is not None:  # (the loader always sets it when there are conflicts)
            left = dict(
                ((c, e), n)
                for c, e, n in data.left_out.group_by(
                    pl.col("candidate_id").cast(pl.String), pl.col("evaluator_id").cast(pl.String)
                )
                .len()
                .iter_rows()
            )
        for evaluator, cid in data.conflicts.select("evaluator_id", "candidate_id").iter_rows():
            declared.add((cid, evaluator))
            n = left.get((cid, evaluator), 0)
            what = (
                ngettext("{n} score left out of consolidation", "{n} scores left out of consolidation", n).format(n=n)
                if n
                else _("no scores to leave out (recused)")
            )
            warnings.append(
                _("conflict of interest: evaluator {evaluator} declared for {id} {name}: {what}").format(
                    evaluator=evaluator, id=cid, name=names[cid], what=what
                )
            )
    if data.has_evaluators:
        # A recusal: an evaluator who scored others in the category but has no score for this one.
        scored_by = data.scores.select(
            pl.col("candidate_id").cast(pl.String), pl.col("evaluator_id").cast(pl.String)
        ).unique()
        category_of = data.candidates.select("candidate_id", "category")
        panel = scored_by.join(category_of, on="candidate_id").select("category", "evaluator_id").unique()
        expected = category_of.join(scored_by.select("candidate_id").unique(), on="candidate_id").join(
            panel, on="category"
        )
        absent = expected.join(scored_by, on=["candidate_id", "evaluator_id"], how="anti").sort(
            "candidate_id", "evaluator_id"
        )
        for cid, _category, evaluator in absent.select("candidate_id", "category", "evaluator_id").iter_rows():
            if (cid, evaluator) in declared:
                continue
            warnings.append(
                _("recusal: evaluator {evaluator} has no score for {id} {name}").format(
                    evaluator=evaluator, id=cid, name=names[cid]
                )
            )

    return checked, warnings
