"""The ranking rules (the README's "The contest files", rules), in one place, as polars expressions over whole frames.

``standings(data, decisions)`` is the whole engine: consolidate each (candidate, indicator)
over its evaluators, total and subtotal per area, round, set pending candidates aside, rank
each category with its tie-break areas, find the ties the panel must decide, apply the
panel's decisions (tie orders and exclusions) and derive status, certification, top,
borderline and grade. It is a pure function of its inputs: the session supplies the
decisions, the console and the command line only present the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import polars as pl

from panel_tui.config import Category, Config, Scoring
from panel_tui.inputs.cells import cell_key
from panel_tui.inputs.contest import ContestData
from panel_tui.vocabulary import ExclusionCode, Status

EXCLUSION_CODES: tuple[str, ...] = tuple(ExclusionCode)  # (panel_tui.vocabulary lists the words once)
STATUSES: tuple[str, ...] = tuple(Status)
# An entry's fields, in order: the final list's and the JSON document's (which puts ``areas``,
# the area subtotals, after ``percent``), the exports' and the boards' columns.
ENTRY_FIELDS = (
    "rank", "candidate_id", "name", "total", "percent", "grade", "status", "certified", "top", "tie",
    "borderline", "decided_by", "evaluators",
)  # fmt: skip
DECISION_COLUMNS = ("exclusion_code", "exclusion_reason", "panel_reason")  # a board's, beside the entry's


def entry_columns(areas: Sequence[str]) -> list[str]:
    """An entry's fields with the area subtotals after the percent, as a board's columns."""
    at = ENTRY_FIELDS.index("percent") + 1
    return [*ENTRY_FIELDS[:at], *areas, *ENTRY_FIELDS[at:]]


@dataclass(frozen=True)
class TieOrder:
    """The panel's order for a group of fully tied candidates, best first."""

    category: str
    order: tuple[str, ...]
    reason: str = ""
    by: str = ""  # who recorded it, and the journal event it came from (0: not from a journal)
    seq: int = 0


@dataclass(frozen=True)
class Exclusion:
    """The panel's removal of a candidate from the ranking."""

    candidate_id: str
    code: str  # one of EXCLUSION_CODES
    reason: str = ""
    by: str = ""
    seq: int = 0


@dataclass(frozen=True)
class Decisions:
    """Everything the panel decided, in the order it was decided (later wins)."""

    tie_orders: tuple[TieOrder, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class Leaderboard:
    """One category's ranking.

    ``entries`` has one row per candidate of the category: ranked ones in rank order (ties
    by candidate_id), then pending, then excluded. ``stale_tie_orders`` are tie orders of this
    category that no longer match a tied group (the scores moved) and were not applied.
    """

    category: Category
    max_points: float
    areas: tuple[str, ...]
    entries: pl.DataFrame
    unresolved_ties: tuple[tuple[str, ...], ...]
    tie_groups: tuple[tuple[str, ...], ...] = ()  # every group equal on all keys, in rank order, decided or not
    applied_tie_orders: tuple[TieOrder, ...] = ()
    stale_tie_orders: tuple[TieOrder, ...] = ()


@dataclass(frozen=True)
class Standings:
    """The engine's result for the whole contest."""

    config: Config
    boards: tuple[Leaderboard, ...]
    cells: pl.DataFrame = field(repr=False)  # consolidated value per (candidate, indicator)

    def board(self, category_id: str) -> Leaderboard:
        for board in self.boards:
            if board.category.id == category_id:
                return board
        raise KeyError(category_id)

    @property
    def unresolved_ties(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(b.category.id, group) for b in self.boards for group in b.unresolved_ties]

    @property
    def pending(self) -> list[str]:
        return [cid for b in self.boards for cid in b.entries.filter(pl.col("status") == "pending")["candidate_id"]]


def round_half_away(expr: pl.Expr, decimals: int) -> pl.Expr:
    """Round half away from zero at ``decimals`` places, as a person would on paper.

    Binary floats store 1.005 as 1.00499999…; scaling first and snapping the scaled value to
    6 places removes that noise, so 1.005 rounds to 1.01 as its decimal digits say it should.
    """
    scale = 10.0**decimals
    scaled = (expr * scale).round(6)
    # The final round() snaps the quotient to the float nearest the decimal (28.4, not 28.400000000000002).
    return ((scaled.abs() + 0.5).floor() * scaled.sign() / scale).round(decimals)


def consolidated_value(scoring: Scoring) -> pl.Expr:
    """The consolidated score of a cell from its n, sum, min, max (and median) columns."""
    n, total = pl.col("n"), pl.col("sum")
    if scoring.method == "mean":
        return total / n
    if scoring.method == "median":
        return pl.col("median")
    trimmed = (total - pl.col("max") - pl.col("min")) / (n - 2)
    return pl.when(n >= scoring.trim_min_evaluators).then(trimmed).otherwise(total / n)


def consolidate(data: ContestData) -> pl.DataFrame:
    """Per (candidate, indicator): the consolidated value and which scores it dropped."""
    scoring = data.config.scoring
    cells = data.cells
    if scoring.method == "median":
        key = cell_key(data.scores.schema).alias("_cell")
        medians = data.scores.lazy().group_by(key).agg(median=pl.col("score").median())
        cells = cells.lazy().with_columns(key).join(medians, on="_cell", how="left").drop("_cell").collect()
    trims = pl.lit(scoring.method == "trimmed_mean") & (pl.col("n") >= scoring.trim_min_evaluators)
    return cells.with_columns(value=consolidated_value(scoring), trimmed=trims)


def standings(data: ContestData, decisions: Decisions = Decisions()) -> Standings:
    """Rank every category of the contest, with the panel's decisions applied."""
    cells = consolidate(data)
    totals, subtotals = candidate_sums(cells)
    if data.has_evaluators:
        evaluators = data.scores.group_by("candidate_id").agg(
            evaluators=pl.col("evaluator_id").n_unique().cast(pl.Int64)
        )
    else:
        evaluators = data.scores.group_by("candidate_id").agg(evaluators=pl.lit(None, pl.Int64).first())
    evaluators = evaluators.with_columns(pl.col("candidate_id").cast(pl.String))
    boards = []
    for category, areas, max_points, ranked, rest, applied, stale in _rank_scenarios(
        data, totals, subtotals, decisions, evaluators
    ):
        unresolved = _groups(ranked, "unresolved", "rank")
        tie_groups = _groups(ranked, "tie", "group")
        columns = [*entry_columns(areas), *DECISION_COLUMNS]
        entries = pl.concat([ranked.select(columns), rest.select(columns)], how="vertical_relaxed").with_columns(
            pl.col("rank").cast(pl.Int64), pl.col("grade").cast(pl.Int64)
        )
        boards.append(
            Leaderboard(
                category=category,
                max_points=max_points,
                areas=areas,
                entries=entries,
                unresolved_ties=unresolved,
                tie_groups=tie_groups,
                applied_tie_orders=tuple(applied.get(0, {}).values()),
                stale_tie_orders=tuple(stale.get(0, ())),
            )
        )
    return Standings(config=data.config, boards=tuple(boards), cells=cells)


def _groups(ranked: pl.DataFrame, flag: str, by: str) -> tuple[tuple[str, ...], ...]:
    """The candidate ids of the rows with ``flag``, grouped by ``by``, in rank order."""
    groups = ranked.filter(pl.col(flag)).group_by(by, maintain_order=True).agg(pl.col("candidate_id"))
    return tuple(tuple(ids) for ids in groups["candidate_id"].to_list())


def candidate_sums(cells: pl.DataFrame, scenario: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """From consolidated cells: per candidate its total and how many indicators are scored,
    and per (candidate, area) its subtotal; ids as plain text, tagged with ``scenario``."""
    tag = pl.lit(scenario, pl.Int32).alias(SCENARIO)
    totals = cells.group_by("candidate_id").agg(total=pl.col("value").sum(), scored=pl.len())
    subtotals = cells.group_by("candidate_id", "area_id").agg(sub=pl.col("value").sum())
    return tuple(  # type: ignore[return-value]
        f.select(tag, pl.col("candidate_id").cast(pl.String), pl.exclude("candidate_id")) for f in (totals, subtotals)
    )


SCENARIO = "scenario"


class _Category(NamedTuple):
    """One category as ``_rank_scenarios`` ranks it, every scenario at once."""

    category: Category
    areas: tuple[str, ...]
    max_points: float
    ranked: pl.DataFrame
    rest: pl.DataFrame  # pending and excluded
    applied: dict[int, dict[int, TieOrder]]  # per scenario, the tie orders applied by tied group
    stale: dict[int, list[TieOrder]]  # per scenario, the tie orders left stale


def outcomes(
    data: ContestData,
    totals: pl.DataFrame,
    subtotals: pl.DataFrame,
    decisions: Decisions = Decisions(),
    scenarios: int = 1,
) -> pl.DataFrame:
    """Rank and certification of every candidate under any number of scenarios at once.

    ``totals`` (scenario, candidate_id, total, scored) and ``subtotals`` (scenario,
    candidate_id, area_id, sub), as ``candidate_sums`` makes them, may hold scenarios 0 to
    ``scenarios`` - 1 (the robustness analysis's variants): each is ranked by the same rules and decisions as
    ``standings``, in one pass. Returns (scenario, candidate_id, rank, certified)."""
    frames = []
    for _category, _areas, _max, ranked, rest, _applied, _stale in _rank_scenarios(
        data, totals, subtotals, decisions, None, scenarios
    ):
        for frame in (ranked, rest):
            frames.append(frame.select(SCENARIO, "candidate_id", pl.col("rank").cast(pl.Int64), "certified"))
    return pl.concat(frames, how="vertical_relaxed")


def _rank_scenarios(
    data: ContestData,
    totals: pl.DataFrame,
    subtotals: pl.DataFrame,
    decisions: Decisions,
    evaluators: pl.DataFrame | None = None,
    scenarios: int = 1,
) -> list[_Category]:
    """Per category: its areas and maximum, the ranked candidates and the rest (pending,
    excluded) of every scenario, and the panel's tie orders applied and stale per scenario."""
    config = data.config
    decimals = config.scoring.decimals
    excluded = {e.candidate_id: e for e in decisions.exclusions}
    exclusions = pl.DataFrame(
        {
            "candidate_id": list(excluded),
            "exclusion_code": [e.code for e in excluded.values()],
            "exclusion_reason": [e.reason for e in excluded.values()],
        },
        schema={"candidate_id": pl.String, "exclusion_code": pl.String, "exclusion_reason": pl.String},
    )
    if evaluators is None:
        evaluators = pl.DataFrame(schema={"candidate_id": pl.String, "evaluators": pl.Int64})
    scenario_ids = pl.DataFrame({SCENARIO: range(scenarios)}, schema={SCENARIO: pl.Int32})
    result = []
    for category in config.categories:
        indicators = data.indicators.filter(pl.col("indicator_set") == category.indicator_set)
        areas = tuple(indicators["area_id"].unique(maintain_order=True).to_list())
        # fsum and a final snap: 28 x (1000/28) is 2000, not 1999.9999999999986.
        max_points = round(math.fsum(indicators["max_points"].to_list()), 9)
        members = data.candidates.filter(pl.col("category") == category.id).select("candidate_id", "name")
        per_area = subtotals.join(members.select("candidate_id"), on="candidate_id", how="semi").pivot(
            on="area_id", index=[SCENARIO, "candidate_id"], values="sub", on_columns=list(areas)
        )
        frame = (
            scenario_ids.join(members, how="cross")
            .join(totals, on=[SCENARIO, "candidate_id"], how="left")
            .join(per_area, on=[SCENARIO, "candidate_id"], how="left")
            .join(evaluators, on="candidate_id", how="left")
            .join(exclusions, on="candidate_id", how="left")
            .with_columns(pl.col("total", *areas).fill_null(0.0), pl.col("scored").fill_null(0))
            .with_columns(round_half_away(pl.col("total", *areas), decimals))
            .with_columns(percent=round_half_away(pl.col("total") / max_points * 100, decimals))
            .with_columns(
                pending=pl.col("scored") < indicators.height,
                excluded=pl.col("exclusion_code").is_not_null(),
            )
        )
        tie_orders = [t for t in decisions.tie_orders if t.category == category.id]
        ranked, applied, stale = _rank_category(frame, category, tie_orders, config.scoring)
        rest = (
            frame.filter(pl.col("pending") | pl.col("excluded"))
            .with_columns(
                rank=pl.lit(None, pl.Int64),
                status=pl.when(pl.col("excluded")).then(pl.lit("excluded")).otherwise(pl.lit("pending")),
                certified=pl.lit(False),
                top=pl.lit(False),
                tie=pl.lit(False),
                borderline=pl.lit(False),
                decided_by=pl.lit(None, pl.String),
                grade=pl.lit(None, pl.Int64),
                panel_reason=pl.lit(None, pl.String),
            )
            .sort(SCENARIO, pl.col("excluded"), "candidate_id")
        )
        result.append(_Category(category, areas, max_points, ranked, rest, applied, stale))
    return result


def _rank_category(
    frame: pl.DataFrame,
    category: Category,
    tie_orders: list[TieOrder],
    scoring: Scoring,
) -> tuple[pl.DataFrame, dict[int, dict[int, TieOrder]], dict[int, list[TieOrder]]]:
    """Rank one category's scored, not excluded candidates within each scenario. Returns the
    ranked rows (scenario, then rank order) and per scenario the tie orders applied (by tied
    group) and those left stale."""
    keys = ["total", *category.tie_break]
    ranked = frame.filter(~pl.col("pending") & ~pl.col("excluded")).sort(
        [SCENARIO, *keys, "candidate_id"], descending=[False] + [True] * len(keys) + [False]
    )
    # Competition ranking over the sorted keys: a new group starts wherever any key changes
    # (and at the start of each scenario).
    first = (pl.col(SCENARIO) != pl.col(SCENARIO).shift(1)).fill_null(True)
    changed = {k: (pl.col(k) != pl.col(k).shift(1)).fill_null(True) | first for k in keys}
    ranked = (
        ranked.with_columns(
            position=pl.int_range(1, pl.len() + 1).over(SCENARIO),
            new_group=pl.any_horizontal(*changed.values()),
            separated_by=pl.coalesce(pl.when(changed[k]).then(pl.lit(k)) for k in keys),
        )
        .with_columns(group=pl.col("new_group").cum_sum())
        .with_columns(
            rank=pl.col("position").min().over("group"),
            tie=pl.len().over("group") > 1,
            # The key that separates this group from the one above, read off its first row.
            # (Computed in the step before: a shift inside .over() would shift within the group.)
            decided_by=pl.col("separated_by").first().over("group"),
        )
    )
    # Panel tie orders apply to a tied group whose members are exactly the ordered candidates.
    tied_sets: dict[int, dict[frozenset[str], int]] = {}
    if tie_orders:
        groups = (
            ranked.filter(pl.col("tie"))
            .group_by(SCENARIO, "group", maintain_order=True)
            .agg(pl.col("candidate_id").sort())
        )
        for scenario, g, ids in groups.iter_rows():
            tied_sets.setdefault(scenario, {})[frozenset(ids)] = g
    applied: dict[int, dict[int, TieOrder]] = {}
    stale: dict[int, list[TieOrder]] = {}
    for scenario in ranked[SCENARIO].unique().to_list() if tie_orders else ():
        here: dict[int, TieOrder] = {}
        for order in tie_orders:  # later decisions for the same group replace earlier ones
            group = tied_sets.get(scenario, {}).get(frozenset(order.order))
            if group is None or len(order.order) != len(set(order.order)):
                stale.setdefault(scenario, []).append(order)
            else:
                here[group] = order
        applied[scenario] = here
        stale[scenario] = [o for o in stale.get(scenario, []) if o not in here.values()]
    rows = [
        (g, cid, i, o.reason) for here in applied.values() for g, o in here.items() for i, cid in enumerate(o.order)
    ]
    panel = pl.DataFrame(
        {
            "group": [r[0] for r in rows],
            "candidate_id": [r[1] for r in rows],
            "panel_position": [r[2] for r in rows],
            "panel_reason": [r[3] for r in rows],
        },
        schema={"group": pl.UInt32, "candidate_id": pl.String, "panel_position": pl.Int64, "panel_reason": pl.String},
    )
    ranked = (
        ranked.join(
            panel.with_columns(pl.col("group").cast(ranked.schema["group"])), on=["group", "candidate_id"], how="left"
        )
        .with_columns(
            rank=pl.col("rank") + pl.col("panel_position").fill_null(0),
            # Every expression here still sees the rank before the panel's order.
            decided_by=pl.when(pl.col("panel_position") > 0)
            .then(pl.lit("panel"))
            .when((pl.col("tie") & pl.col("panel_position").is_null()) | (pl.col("rank") == 1))
            .then(None)
            .otherwise(pl.col("decided_by")),
        )
        .sort(SCENARIO, "rank", "candidate_id")
    )
    cap = category.max_certified
    eligible = pl.col("percent") >= category.threshold
    size = pl.len().over(SCENARIO, "rank")  # after panel orders, only undecided ties still share a rank
    straddles = pl.lit(cap > 0) & eligible & (pl.col("rank") <= cap) & (pl.col("rank") + size - 1 > cap)
    ranked = (
        ranked.with_columns(
            unresolved=(size > 1) & ((pl.col("rank") == 1) | straddles),
            undecided=(size > 1) & straddles,
            top=(pl.col("rank") == 1) & (size == 1),
        )
        .with_columns(
            certified=pl.when(pl.col("undecided"))
            .then(None)
            .otherwise(eligible & ((cap == 0) | (pl.col("rank") <= cap))),
        )
        .with_columns(
            status=pl.when(pl.col("undecided"))
            .then(pl.lit("undecided"))
            .when(pl.col("certified"))
            .then(pl.lit("certified"))
            .otherwise(pl.lit("not_certified")),
            borderline=_within_margin(pl.col("percent"), category.threshold, scoring.review_margin),
            grade=_grade(category),
        )
    )
    return ranked, applied, stale


def _within_margin(percent: pl.Expr, threshold: float, margin: float) -> pl.Expr:
    # Compared in millionths, so 71.0 - 70.1 (0.90000000000000568 in binary) is within 0.9.
    return ((percent - threshold) * 1e6).round().abs() <= round(margin * 1e6)


def _grade(category: Category) -> pl.Expr:
    if not category.grades:
        return pl.lit(None, pl.Int64)
    expr = pl.lit(None, pl.Int64)
    for band in reversed(category.grades):  # highest min first: the first band reached wins (outermost)
        expr = pl.when(pl.col("percent") >= band.min).then(pl.lit(band.grade, pl.Int64)).otherwise(expr)
    return expr


def to_json(standings: Standings, *, locked: bool = False, category: str | None = None) -> dict[str, Any]:
    """The ``rank --format json`` document, exactly as the README's "The command line" shows it."""
    config = standings.config
    at = ENTRY_FIELDS.index("percent") + 1  # the area subtotals go after the percent
    result = []
    for board in standings.boards:
        if category is not None and board.category.id != category:
            continue
        entries = []
        for row in board.entries.iter_rows(named=True):
            entries.append(
                {
                    **{f: row[f] for f in ENTRY_FIELDS[:at]},
                    "areas": {area: row[area] for area in board.areas},
                    **{f: row[f] for f in ENTRY_FIELDS[at:]},
                }
            )
        result.append(
            {
                "id": board.category.id,
                "label": board.category.label,
                "threshold": board.category.threshold,
                "max_points": board.max_points,
                "unresolved_ties": [list(group) for group in board.unresolved_ties],
                "entries": entries,
            }
        )
    return {"contest": config.contest.id, "method": config.scoring.method, "locked": locked, "categories": result}
