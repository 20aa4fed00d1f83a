"""Plain-text and CSV renderings of the standings for the command line (no Textual)."""

from __future__ import annotations

import io
import unicodedata

import polars as pl

from panel_tui.engine import Standings, entry_columns
from panel_tui.inputs.contest import ContestData
from panel_tui.text import inert_cell, inert_columns, one_line
from panel_tui.vocabulary import Status

MARKS = {
    Status.CERTIFIED: "✔",
    Status.NOT_CERTIFIED: " ",
    Status.UNDECIDED: "?",
    Status.PENDING: "…",
    Status.EXCLUDED: "✘",
}


def width(text: str) -> int:
    """Columns a string takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def _fmt(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


def table(standings: Standings, *, category: str | None = None, locked: bool = False) -> str:
    """Aligned text leaderboards, one block per category, with the certification line drawn."""
    config = standings.config
    decimals = config.scoring.decimals
    out = [
        f"{one_line(config.contest.name)}  ({one_line(config.contest.id)}, {config.scoring.method}{', LOCKED' if locked else ''})"
    ]
    for board in standings.boards:
        if category is not None and board.category.id != category:
            continue
        cat = board.category
        cap = f", at most {cat.max_certified} certified" if cat.max_certified else ""
        out.append("")
        out.append(
            f"{one_line(cat.label)} [{one_line(cat.id)}]: threshold {cat.threshold:g} % of {board.max_points:,.{decimals}f} points{cap}"
        )
        header = ["rank", "id", "name", "total", "%", *map(one_line, board.areas), "grade", "status", "notes"]
        rows: list[list[str]] = []
        line_at = None
        for row in board.entries.iter_rows(named=True):
            notes = []
            if row["top"]:
                notes.append("top")
            if row["tie"]:
                notes.append("tie")
            if row["decided_by"]:
                notes.append(f"by {row['decided_by']}")
            if row["borderline"]:
                notes.append("borderline")
            if row["exclusion_code"]:
                notes.append(f"{row['exclusion_code']}: {row['exclusion_reason']}")
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
                    f"{MARKS[row['status']]} {row['status']}",
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
                label = f" certification line {cat.threshold:g} % "
                out.append(label.center(line_width, "─"))
            out.append(render(cells))
        for group in board.unresolved_ties:
            out.append(f"  unresolved tie: {one_line(', '.join(group))} (the panel must decide the order)")
        for order in board.stale_tie_orders:
            out.append(f"  tie order no longer matches a tied group, not applied: {one_line(', '.join(order.order))}")
    return "\n".join(out) + "\n"


def csv_text(standings: Standings, *, category: str | None = None) -> str:
    """One row per entry, every category in one sheet; area columns named by area id."""
    frames = [
        b.entries.with_columns(pl.lit(b.category.id).alias("category")).select("category", *entry_columns(b.areas))
        for b in standings.boards
        if category is None or b.category.id == category
    ]
    buffer = io.StringIO()
    frame = inert_columns(pl.concat(frames, how="diagonal_relaxed"))  # a spreadsheet runs no cell
    frame.rename({c: str(inert_cell(c)) for c in frame.columns}).write_csv(buffer)  # nor a header (area ids)
    return buffer.getvalue()


def validation_summary(data: ContestData, standings: Standings) -> tuple[list[str], list[str]]:
    """What ``validate`` checked (counts) and what it warns about (pending, ties, recusals)."""
    config = data.config
    checked = [f"config: {config.path} (contest {config.contest.id!r}: {config.contest.name})"]
    counts = dict(data.candidates.group_by("category").len().iter_rows())
    per_category = ", ".join(f"{c.id} {counts.get(c.id, 0)}" for c in config.categories)
    checked.append(
        f"candidates: {data.candidates.height} in {len(config.categories)} categories ({per_category}) from {config.contest.candidates.name}"
    )
    sets = data.indicators.group_by("indicator_set", maintain_order=True).agg(
        n=pl.len(), points=pl.col("max_points").sum(), areas=pl.col("area_id").unique(maintain_order=True)
    )
    described = "; ".join(
        f"{s} {n} indicators, {p:,.2f} points, areas {' '.join(a)}" for s, n, p, a in sets.iter_rows()
    )
    checked.append(
        f"indicators: {data.indicators.height} in {sets.height} sets ({described}) from {config.contest.indicators.name}"
    )
    evaluators = (
        f" from {len(data.evaluator_ids)} evaluators"
        if data.has_evaluators
        else " (already consolidated: no evaluator_id)"
    )
    checked.append(
        f"scores: {data.scores.height:,} rows{evaluators} from {config.contest.scores.name}; method {config.scoring.method}"
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
                f"pending: {cid} {names[cid]} ({board.category.id}): {missing} of {need} indicators have no score yet"
            )
        for group in board.unresolved_ties:
            warnings.append(
                f"unresolved tie in {board.category.id}: {', '.join(group)} (the panel must order them before the lock)"
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
                f"{n} score{'s' if n != 1 else ''} left out of consolidation"
                if n
                else "no scores to leave out (recused)"
            )
            warnings.append(f"conflict of interest: evaluator {evaluator} declared for {cid} {names[cid]}: {what}")
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
            warnings.append(f"recusal: evaluator {evaluator} has no score for {cid} {names[cid]}")
    return checked, warnings
