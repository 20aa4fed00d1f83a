"""The ranking rules (the README's "The contest files", rules), in one place, as polars expressions over whole frames.

``standings(data, decisions)`` is the whole engine: consolidate each (candidate, indicator)
over its evaluators, total and subtotal per area, round, set pending candidates aside, rank
each category with its tie-break areas, find the ties the panel must decide, apply the
panel's decisions (tie orders and exclusions) and derive status, certification, top,
borderline and grade. It is a pure function of its inputs: the session supplies the
decisions, the console and the command line only present the result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from panel_tui.config import Category, Config, Scoring
from panel_tui.inputs.cells import EVALUATOR_SET, cell_key, enum_ids, has_evaluator_sets, scattered
from panel_tui.inputs.contest import ContestData
from panel_tui.vocabulary import DECISION_COLUMNS, ENTRY_FIELDS, ExclusionCode, Status

EXCLUSION_CODES: tuple[str, ...] = tuple(ExclusionCode)  # (panel_tui.vocabulary lists the words once)
STATUSES: tuple[str, ...] = tuple(Status)


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
class UnresolvedTie:
    """A tie the panel must decide before the lock: at rank 1, or across the cap."""

    category: str
    candidate_ids: tuple[str, ...]


@dataclass(frozen=True)
class Standings:
    """The engine's result for the whole contest."""

    config: Config
    boards: tuple[Leaderboard, ...]
    cells: pl.DataFrame = field(repr=False)  # consolidated value per (candidate, indicator)
    # candidate_id, name as candidates.csv's ``name`` has it, when the boards show the names in
    # another language (``ContestData.in_language``): JSON and the lock record these.
    written_names: pl.DataFrame | None = field(default=None, repr=False)

    def shown_names(self) -> dict[str, str]:
        """candidate_id -> name as the boards show it, where that is not the name as written
        (empty when the boards show the names as written)."""
        if self.written_names is None:
            return {}
        return {cid: name for b in self.boards for cid, name in b.entries.select("candidate_id", "name").iter_rows()}

    def board(self, category_id: str) -> Leaderboard:
        for board in self.boards:
            if board.category.id == category_id:
                return board
        raise KeyError(category_id)

    @property
    def unresolved_ties(self) -> list[UnresolvedTie]:
        """Every tie the panel must still decide, board by board."""
        return [UnresolvedTie(b.category.id, group) for b in self.boards for group in b.unresolved_ties]

    @property
    def pending(self) -> list[str]:
        return [
            cid for b in self.boards for cid in b.entries.filter(pl.col("status") == Status.PENDING)["candidate_id"]
        ]


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
    if scoring.method == "median" and "median" not in cells.columns:
        # (The loader groups a median contest's cells with their medians; a variant of another
        # method asked for its medians, the analysis, takes them from the rows here.)
        key = cell_key(data.rows.schema).alias("_cell")
        medians = data.scores.lazy().group_by(key).agg(median=pl.col("score").median())
        cells = cells.lazy().with_columns(key).join(medians, on="_cell", how="left").drop("_cell").collect()
    trims = pl.lit(scoring.method == "trimmed_mean") & (pl.col("n") >= scoring.trim_min_evaluators)
    return cells.with_columns(value=consolidated_value(scoring), trimmed=trims)


def standings(data: ContestData, decisions: Decisions = Decisions()) -> Standings:
    """Rank every category of the contest, with the panel's decisions applied. The evaluator
    counts come from the cells' evaluator sets (``inputs.cells``): no second pass over the rows."""
    cells = consolidate(data)
    rankings = _rank_scenarios(data, candidate_sums(data, cells), decisions)
    return Standings(
        config=data.config,
        boards=tuple(_leaderboard(r) for r in rankings),
        cells=cells,
        written_names=data.written_names,
    )


def _leaderboard(ranking: _RankedCategory) -> Leaderboard:
    """A category's board from its ranking (scenario 0 of ``_rank_scenarios``, the only one ``standings`` asks for)."""
    # The area columns take their ids as names only now (``area_column``), from the columns
    # of the board: the loader refused an area id that is one of them (``BOARD_COLUMNS``).
    areas = [pl.col(column).alias(area) for column, area in zip(ranking.area_columns, ranking.areas, strict=True)]
    columns = [*entry_columns(ranking.areas), *DECISION_COLUMNS]
    entries = (
        pl.concat(
            [frame.select(*ENTRY_FIELDS, *DECISION_COLUMNS, *areas) for frame in (ranking.ranked, ranking.rest)],
            how="vertical_relaxed",
        )
        .select(columns)
        .with_columns(pl.col("rank").cast(pl.Int64), pl.col("grade").cast(pl.Int64))
    )
    return Leaderboard(
        category=ranking.category,
        max_points=ranking.max_points,
        areas=ranking.areas,
        entries=entries,
        unresolved_ties=_groups(ranking.ranked, "unresolved", "rank"),
        tie_groups=_groups(ranking.ranked, "tie", "group"),
        applied_tie_orders=tuple(ranking.tie_orders.applied.get(0, {}).values()),
        stale_tie_orders=tuple(ranking.tie_orders.stale.get(0, ())),
    )


def _groups(ranked: pl.DataFrame, flag: str, by: str) -> tuple[tuple[str, ...], ...]:
    """The candidate ids of the rows with ``flag``, grouped by ``by``, in rank order."""
    groups = ranked.filter(pl.col(flag)).group_by(by, maintain_order=True).agg(pl.col("candidate_id"))
    return tuple(tuple(ids) for ids in groups["candidate_id"].to_list())


SCENARIO = "scenario"
CANDIDATE = "candidate"  # a candidate id's Enum code (``inputs.cells.enum_ids`` gives the ids back)


def area_column(index: int) -> str:
    """The engine's own name for the subtotal column of ``CandidateSums.areas[index]``. An area
    id is any text, even the name of a column the engine works with ("group", "pending"):
    it names a column only on the finished board (``_leaderboard``), where the loader has
    refused the board's own column names (``vocabulary.BOARD_COLUMNS``)."""
    return f"#area{index}"


def contest_areas(data: ContestData) -> tuple[str, ...]:
    """Every area of the contest's indicators, sorted: the areas ``CandidateSums`` sums."""
    return tuple(sorted(data.indicators["area_id"].unique().to_list()))


@dataclass(frozen=True)
class CandidateSums:
    """Consolidated cells summed per candidate, in one or more scenarios: a row per scenario
    and candidate of the contest (scored or not): ``scenario``, ``candidate`` (its id's Enum
    code), ``total``, ``scored`` (how many indicators are scored), ``evaluators`` (distinct
    evaluators, null where unknown) and the subtotal of ``areas[i]`` in ``area_column(i)``
    (null: no indicator of that area scored)."""

    frame: pl.DataFrame
    areas: tuple[str, ...]
    candidate_ids: pl.Series  # the ids by code (the Enum's categories)


def area_slot(n_areas: int, areas: tuple[str, ...]) -> pl.Expr:
    """A cell's candidate and area as one integer: the candidate id's Enum code * ``n_areas``
    + the area's index in ``areas`` (cells with ``candidate_id`` an Enum, ``area_id`` text)."""
    candidate = pl.col("candidate_id").to_physical().cast(pl.UInt32)
    return candidate * n_areas + pl.col("area_id").cast(pl.Enum(areas)).to_physical().cast(pl.UInt32)


def spread_sums(
    per_slot: pl.DataFrame, n_candidates: int, n_areas: int, sub: str, scored: str, evaluator_set: str | None = None
) -> pl.DataFrame:
    """One scenario's row per candidate (``candidate``, ``total``, ``scored``, ``evaluators``
    and the area columns) from per-slot sums (``_slot``: ``area_slot``; the columns ``sub``,
    ``scored`` and, when given, the evaluator set as bits): each column laid out over every
    slot and read back area by area (gathers, not a pivot and joins)."""
    size = n_candidates * n_areas
    at = [pl.col(CANDIDATE) * n_areas + i for i in range(n_areas)]

    def column(name: str, dtype: pl.DataType | type[pl.DataType]) -> list[pl.Expr]:
        table = pl.lit(scattered(size, dtype, per_slot["_slot"], per_slot[name]))
        return [table.gather(where) for where in at]

    subs = [expr.alias(area_column(i)) for i, expr in enumerate(column(sub, pl.Float64))]
    counts = column(scored, pl.UInt32)
    if evaluator_set is None:
        evaluators = pl.lit(None, pl.Int64)
    else:
        bits = [expr.fill_null(0) for expr in column(evaluator_set, pl.UInt64)]
        word = bits[0]
        for more in bits[1:]:
            word = word | more
        evaluators = word.bitwise_count_ones().cast(pl.Int64)
    return (
        pl.select(pl.int_range(n_candidates, dtype=pl.UInt32).alias(CANDIDATE))
        .with_columns(*subs, _scored=pl.sum_horizontal(counts), _any=pl.any_horizontal(c.is_not_null() for c in counts))
        .select(
            CANDIDATE,
            pl.when("_any").then(pl.sum_horizontal(area_column(i) for i in range(n_areas))).alias("total"),
            pl.when("_any").then(pl.col("_scored").cast(pl.UInt32)).alias("scored"),
            pl.when("_any").then(evaluators).alias("evaluators"),
            *(area_column(i) for i in range(n_areas)),
        )
    )


def candidate_sums(data: ContestData, cells: pl.DataFrame) -> CandidateSums:
    """From consolidated cells: per candidate its total, how many indicators are scored, how
    many distinct evaluators scored it (the OR of its cells' evaluator sets, ``inputs.cells``)
    and its area subtotals: one group-by over the cells, per (candidate, area), laid out per
    candidate by ``spread_sums``. Scenario 0."""
    areas = contest_areas(data)
    candidate_ids = enum_ids(cells.schema["candidate_id"])
    sets = data.has_evaluators and has_evaluator_sets(cells)
    per_slot = (
        cells.lazy()
        .group_by(area_slot(len(areas), areas).alias("_slot"))
        .agg(
            sub=pl.col("value").sum(),
            scored=pl.len(),
            **({EVALUATOR_SET: pl.col(EVALUATOR_SET).bitwise_or()} if sets else {}),
        )
        .collect()
    )
    frame = spread_sums(per_slot, len(candidate_ids), len(areas), "sub", "scored", EVALUATOR_SET if sets else None)
    if data.has_evaluators and not sets:  # (more than 64 evaluator codes: counted over the rows)
        counts = data.scores.group_by(code=pl.col("candidate_id").to_physical()).agg(pl.col("evaluator_id").n_unique())
        table = scattered(len(candidate_ids), pl.Int64, counts["code"], counts["evaluator_id"])
        frame = frame.with_columns(evaluators=pl.lit(table).gather(pl.col(CANDIDATE)))
    return CandidateSums(
        frame=frame.select(pl.lit(0, pl.Int32).alias(SCENARIO), pl.all()), areas=areas, candidate_ids=candidate_ids
    )


@dataclass(frozen=True)
class _TieOrders:
    """The panel's tie orders of one category matched to its tied groups, in each scenario."""

    applied: dict[int, dict[int, TieOrder]]  # per scenario, by the tied group each one orders
    stale: dict[int, list[TieOrder]]  # per scenario, those that order no tied group (the scores moved)


@dataclass(frozen=True)
class _RankedCategory:
    """One category as ``_rank_scenarios`` ranks it, every scenario at once."""

    category: Category
    areas: tuple[str, ...]
    area_columns: tuple[str, ...]  # each area's subtotal column in ``ranked`` and ``rest`` (``area_column``)
    max_points: float
    ranked: pl.DataFrame  # scenario, then rank order
    rest: pl.DataFrame  # pending and excluded
    tie_orders: _TieOrders


def outcomes(
    data: ContestData,
    sums: CandidateSums,
    decisions: Decisions = Decisions(),
    scenarios: int = 1,
) -> pl.DataFrame:
    """Rank and certification of every candidate under any number of scenarios at once.

    ``sums``, as ``candidate_sums`` makes them, may hold scenarios 0 to ``scenarios`` - 1
    (the robustness analysis's variants): each is ranked by the same rules and decisions as
    ``standings``, in one pass. Returns (scenario, candidate_id, rank, certified)."""
    frames = []
    for ranking in _rank_scenarios(data, sums, decisions):
        for frame in (ranking.ranked, ranking.rest):
            frames.append(frame.select(SCENARIO, "candidate_id", pl.col("rank").cast(pl.Int64), "certified"))
    return pl.concat(frames, how="vertical_relaxed")


def _rank_scenarios(data: ContestData, sums: CandidateSums, decisions: Decisions) -> list[_RankedCategory]:
    """Per category: its areas and maximum, the ranked candidates and the rest (pending,
    excluded) of every scenario of ``sums``, and the panel's tie orders applied and stale per
    scenario. A category's rows are its members' rows of ``sums`` (a gather by the ids'
    codes), with their ids and names by code: no joins but the exclusions'."""
    config = data.config
    exclusions = _exclusions(decisions)
    n_candidates = len(sums.candidate_ids)
    members = data.candidates.select(
        "category", "name", code=pl.col("candidate_id").cast(pl.Enum(sums.candidate_ids)).to_physical()
    )
    names = scattered(n_candidates, pl.String, members["code"], members["name"])
    area_index = {area: i for i, area in enumerate(sums.areas)}
    candidate = pl.col(CANDIDATE)
    result = []
    for category in config.categories:
        indicators = data.indicators.filter(pl.col("indicator_set") == category.indicator_set)
        areas = tuple(indicators["area_id"].unique(maintain_order=True).to_list())
        columns = tuple(area_column(area_index[area]) for area in areas)
        # fsum and a final snap: 28 x (1000/28) is 2000, not 1999.9999999999986.
        max_points = round(math.fsum(indicators["max_points"].to_list()), 9)
        codes = members.filter(pl.col("category") == category.id)["code"]
        member = scattered(n_candidates, pl.Boolean, codes, pl.Series([True] * len(codes))).fill_null(False)
        joined = (
            sums.frame.filter(pl.lit(member).gather(candidate))
            .select(
                SCENARIO,
                pl.lit(sums.candidate_ids).gather(candidate).alias("candidate_id"),
                pl.lit(names).gather(candidate).alias("name"),
                "total",
                "scored",
                "evaluators",
                *columns,
            )
            .join(exclusions, on="candidate_id", how="left")
        )
        frame = _scored(joined, columns, max_points, indicators.height, config.scoring.decimals)
        tie_break = {area_column(area_index[area]): area for area in category.tie_break}
        ranked = _competition_ranks(frame, tie_break)
        tie_orders = _match_tie_orders(ranked, [t for t in decisions.tie_orders if t.category == category.id])
        ranked = _certify(_apply_tie_orders(ranked, tie_orders), category, config.scoring)
        result.append(
            _RankedCategory(
                category=category,
                areas=areas,
                area_columns=columns,
                max_points=max_points,
                ranked=ranked,
                rest=_set_aside(frame),
                tie_orders=tie_orders,
            )
        )
    return result


def _exclusions(decisions: Decisions) -> pl.DataFrame:
    """The panel's exclusions in force, one row per candidate (a later one replaces an earlier one)."""
    excluded = {e.candidate_id: e for e in decisions.exclusions}
    return pl.DataFrame(
        {
            "candidate_id": list(excluded),
            "exclusion_code": [e.code for e in excluded.values()],
            "exclusion_reason": [e.reason for e in excluded.values()],
        },
        schema={"candidate_id": pl.String, "exclusion_code": pl.String, "exclusion_reason": pl.String},
    )


def _scored(
    frame: pl.DataFrame, areas: tuple[str, ...], max_points: float, indicators: int, decimals: int
) -> pl.DataFrame:
    """A category's candidates with their sums: total and area subtotals rounded (nothing
    scored counts 0), the percent of ``max_points``, and whether each is pending (fewer than
    ``indicators`` scored) or excluded."""
    return (
        frame.with_columns(pl.col("total", *areas).fill_null(0.0), pl.col("scored").fill_null(0))
        .with_columns(round_half_away(pl.col("total", *areas), decimals))
        .with_columns(percent=round_half_away(pl.col("total") / max_points * 100, decimals))
        .with_columns(
            pending=pl.col("scored") < indicators,
            excluded=pl.col("exclusion_code").is_not_null(),
        )
    )


def _set_aside(frame: pl.DataFrame) -> pl.DataFrame:
    """The pending and excluded candidates, unranked, excluded ones last."""
    return (
        frame.filter(pl.col("pending") | pl.col("excluded"))
        .with_columns(
            rank=pl.lit(None, pl.Int64),
            status=pl.when(pl.col("excluded")).then(pl.lit(Status.EXCLUDED)).otherwise(pl.lit(Status.PENDING)),
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


def _competition_ranks(frame: pl.DataFrame, tie_break: dict[str, str]) -> pl.DataFrame:
    """The category's scored, not excluded candidates ranked within each scenario by the total,
    then each tie-break area (``tie_break``: its column, its id, in order): ``rank``
    (competition ranking: a tied group shares its best position), ``group`` (equal on every
    key), ``tie`` and ``decided_by`` (the key that sets the group apart from the one above:
    "total" or the area's id)."""
    keys = ["total", *tie_break]
    said = {"total": "total", **tie_break}
    ranked = frame.filter(~pl.col("pending") & ~pl.col("excluded")).sort(
        [SCENARIO, *keys, "candidate_id"], descending=[False] + [True] * len(keys) + [False]
    )
    # A new group starts wherever any key changes (and at the start of each scenario). The rows
    # are in order, so each group's rank, size and deciding key are read off its first row and
    # carried down (forward fills), not computed per group (a window per group is a hash
    # group-by of every row).
    first = (pl.col(SCENARIO) != pl.col(SCENARIO).shift(1)).fill_null(True)
    changed = {k: (pl.col(k) != pl.col(k).shift(1)).fill_null(True) | first for k in keys}
    row = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    return (
        ranked.with_columns(
            position=row - pl.when(first).then(row).forward_fill() + 1,
            new_group=pl.any_horizontal(*changed.values()),
            separated_by=pl.coalesce(pl.when(changed[k]).then(pl.lit(said[k], pl.String)) for k in keys),
        )
        .with_columns(group=pl.col("new_group").cum_sum())
        .with_columns(
            rank=pl.when("new_group").then("position").forward_fill(),
            tie=~pl.col("new_group") | ~pl.col("new_group").shift(-1, fill_value=True),
            # The key that separates this group from the one above, read off its first row.
            decided_by=pl.when("new_group").then("separated_by").forward_fill(),
        )
    )


def _match_tie_orders(ranked: pl.DataFrame, tie_orders: list[TieOrder]) -> _TieOrders:
    """Which of the category's tie orders apply in each scenario: one applies to a tied group
    whose members are exactly the ordered candidates; a later one for the same group replaces
    an earlier one; one that matches no group is stale."""
    if not tie_orders:
        return _TieOrders(applied={}, stale={})
    tied_sets: dict[int, dict[frozenset[str], int]] = {}
    groups = (
        ranked.filter(pl.col("tie")).group_by(SCENARIO, "group", maintain_order=True).agg(pl.col("candidate_id").sort())
    )
    for row in groups.iter_rows(named=True):
        tied_sets.setdefault(row[SCENARIO], {})[frozenset(row["candidate_id"])] = row["group"]
    applied: dict[int, dict[int, TieOrder]] = {}
    stale: dict[int, list[TieOrder]] = {}
    for scenario in ranked[SCENARIO].unique().to_list():
        here: dict[int, TieOrder] = {}
        for order in tie_orders:  # later decisions for the same group replace earlier ones
            group = tied_sets.get(scenario, {}).get(frozenset(order.order))
            if group is None or len(order.order) != len(set(order.order)):
                stale.setdefault(scenario, []).append(order)
            else:
                here[group] = order
        applied[scenario] = here
        stale[scenario] = [o for o in stale.get(scenario, []) if o not in here.values()]
    return _TieOrders(applied=applied, stale=stale)


def _apply_tie_orders(ranked: pl.DataFrame, tie_orders: _TieOrders) -> pl.DataFrame:
    """The ranking with the panel's applied orders: each ordered candidate one place further
    down per candidate before it in the order, ``decided_by`` "panel" (and none left on an
    undecided tie or at rank 1), rows in (scenario, rank) order."""
    panel = pl.DataFrame(
        [
            (group, cid, position, order.reason)
            for here in tie_orders.applied.values()
            for group, order in here.items()
            for position, cid in enumerate(order.order)
        ],
        schema={"group": pl.UInt32, "candidate_id": pl.String, "panel_position": pl.Int64, "panel_reason": pl.String},
        orient="row",
    )
    if panel.is_empty():  # (then the rows are in (scenario, rank, candidate_id) order already)
        ranked = ranked.with_columns(panel_position=pl.lit(None, pl.Int64), panel_reason=pl.lit(None, pl.String))
    else:
        ranked = ranked.join(
            panel.with_columns(pl.col("group").cast(ranked.schema["group"])), on=["group", "candidate_id"], how="left"
        )
    ranked = ranked.with_columns(
        rank=pl.col("rank") + pl.col("panel_position").fill_null(0),
        # Every expression here still sees the rank before the panel's order.
        decided_by=pl.when(pl.col("panel_position") > 0)
        .then(pl.lit("panel"))
        .when((pl.col("tie") & pl.col("panel_position").is_null()) | (pl.col("rank") == 1))
        .then(None)
        .otherwise(pl.col("decided_by")),
    )
    return ranked if panel.is_empty() else ranked.sort(SCENARIO, "rank", "candidate_id")


def _certify(ranked: pl.DataFrame, category: Category, scoring: Scoring) -> pl.DataFrame:
    """Status, certification, top, borderline and grade of the ranked candidates: certified
    at or above the threshold within the cap; a tie across the cap (or at rank 1) is unresolved
    until the panel orders it, and one across the cap leaves its members undecided."""
    cap = category.max_certified
    eligible = pl.col("percent") >= category.threshold
    # How many share the row's rank (after panel orders, only undecided ties still do): the rows
    # are in (scenario, rank) order, so a run's first and last rows are carried over it.
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = ((pl.col(SCENARIO) != pl.col(SCENARIO).shift(1)) | (pl.col("rank") != pl.col("rank").shift(1))).fill_null(
        True
    )
    ends = starts.shift(-1, fill_value=True)
    size = pl.when(ends).then(row).backward_fill() - pl.when(starts).then(row).forward_fill() + 1
    straddles = pl.lit(cap > 0) & eligible & (pl.col("rank") <= cap) & (pl.col("rank") + size - 1 > cap)
    return (
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
            .then(pl.lit(Status.UNDECIDED))
            .when(pl.col("certified"))
            .then(pl.lit(Status.CERTIFIED))
            .otherwise(pl.lit(Status.NOT_CERTIFIED)),
            borderline=_within_margin(pl.col("percent"), category.threshold, scoring.review_margin),
            grade=_grade(category),
        )
    )


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
    """The ``rank --format json`` document as Python values (``to_json_text``, read back)."""
    doc: dict[str, Any] = json.loads(to_json_text(standings, locked=locked, category=category))
    return doc


def to_json_text(
    standings: Standings, *, locked: bool = False, category: str | None = None, extra: pl.DataFrame | None = None
) -> str:
    """The ``rank --format json`` document (the fields the README's "The command line" shows,
    in that order), as compact JSON text. Polars writes each board's entries (the areas a struct: a nested
    object), straight into the text: no Python dict is built per entry, and none is encoded
    again (at 10,000 entries that was a tenth of the command's time). ``extra``: further
    fields of every entry (``candidate_id`` and the fields, e.g. ``analysis.robustness_table``),
    after the entry's own."""
    config = standings.config
    at = ENTRY_FIELDS.index("percent") + 1  # the area subtotals go after the percent
    parts = []
    for board in standings.boards:
        if category is not None and board.category.id != category:
            continue
        # Names and labels as the files write them, whatever language the boards show them in.
        shown = board.entries
        if standings.written_names is not None:
            shown = shown.update(standings.written_names, on="candidate_id", how="left")
        fields = [*ENTRY_FIELDS[:at], pl.struct(list(board.areas)).alias("areas"), *ENTRY_FIELDS[at:]]
        if extra is not None:
            shown = shown.join(extra, on="candidate_id", how="left", maintain_order="left")
            fields += [c for c in extra.columns if c != "candidate_id"]
        entries = shown.select(fields).write_json()
        head = _compact(
            {
                "id": board.category.id,
                "label": board.category.label_as_written,
                "threshold": board.category.threshold,
                "max_points": board.max_points,
                "unresolved_ties": [list(group) for group in board.unresolved_ties],
            }
        )
        parts.append(f'{head[:-1]},"entries":{entries}}}')
    head = _compact({"contest": config.contest.id, "method": config.scoring.method, "locked": locked})
    return f'{head[:-1]},"categories":[{",".join(parts)}]}}'


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
