"""Analysis that lets a panel defend its list: evaluator calibration and robustness.

Calibration: how far each evaluator's scores sit from the consolidated scores, over all their
scores and per area, in percentage points of each indicator's maximum (so a 2-point and a
35-point indicator weigh alike), and which evaluators stand out: |z| > 2, where z is the
evaluator's mean deviation against the other evaluators' (sample standard deviation).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal, TypedDict

import polars as pl

from panel_tui import engine
from panel_tui.config import Scoring
from panel_tui.engine import (
    CANDIDATE,
    SCENARIO,
    CandidateSums,
    Decisions,
    Standings,
    area_slot,
    consolidated_value,
    contest_areas,
    outcomes,
    spread_sums,
)
from panel_tui.inputs.cells import (
    EVALUATOR_SET,
    cell_key,
    cell_keys,
    enum_ids,
    evaluator_bits,
    has_evaluator_sets,
    scattered,
)
from panel_tui.inputs.contest import ContestData

OUTLIER_Z = 2.0

# Part of the key of the per-area statistics kept in the cache (``_kept_per_area``): this
# module's code and the engine's (its consolidation), so that statistics computed by other code
# are never loaded.
_CODE = hashlib.sha256(Path(__file__).read_bytes() + Path(engine.__file__).read_bytes()).hexdigest()


class LeaveOneOut(TypedDict):
    max_rank_swing: int  # the largest rank change with one evaluator fewer
    certification_flips_without: list[str]  # the evaluators without whom the certification flips


class Robustness(TypedDict):
    """One candidate's robustness (``robustness``; ``rank --format json`` prints it as is)."""

    ranks: dict[str, int | None]  # per alternative consolidation method (ALTERNATIVES)
    certified: dict[str, bool | None]
    leave_one_out: LeaveOneOut
    verdict: Literal["fragile", "stable"]


def calibration(data: ContestData, result: Standings) -> pl.DataFrame:
    """One row per evaluator: scores given, mean deviation (pp), per-area deviations, z, outlier."""
    if not data.has_evaluators:
        return pl.DataFrame()
    cells = result.cells.select(
        pl.col("candidate_id").cast(pl.String),
        pl.col("indicator_id").cast(pl.String),
        "value",
        "area_id",
        "max_points",
    )
    deviations = (
        data.scores.select(
            pl.col("candidate_id").cast(pl.String),
            pl.col("indicator_id").cast(pl.String),
            pl.col("evaluator_id").cast(pl.String),
            "score",
        )
        .join(cells, on=["candidate_id", "indicator_id"], how="inner")
        .with_columns(deviation=(pl.col("score") - pl.col("value")) / pl.col("max_points") * 100)
    )
    overall = deviations.group_by("evaluator_id").agg(scores=pl.len(), mean_deviation=pl.col("deviation").mean())
    areas = sorted(deviations["area_id"].unique().to_list())
    # (The pivot's index under a name no area id is: an area may be called "evaluator_id".)
    per_area = (
        deviations.group_by(pl.col("evaluator_id").alias("#evaluator"), "area_id")
        .agg(pl.col("deviation").mean())
        .pivot(on="area_id", index="#evaluator", values="deviation", on_columns=areas)
        .select(pl.col("#evaluator").alias("evaluator_id"), *(pl.col(a).alias(f"deviation_{a}") for a in areas))
    )
    spread = pl.col("mean_deviation").std()
    return (
        overall.join(per_area, on="evaluator_id", how="left")
        .with_columns(z=pl.when(spread > 0).then((pl.col("mean_deviation") - pl.col("mean_deviation").mean()) / spread))
        .with_columns(outlier=pl.col("z").abs().fill_null(0) > OUTLIER_Z)
        .sort("evaluator_id")
    )


# Robustness ----------------------------------------------------------------------------------
#
# Every variant of the contest is a scenario of one ranking pass (``engine.outcomes``): the
# four methods (ALTERNATIVES) and leaving out each evaluator in turn. None of them regroups the
# score sheet, and nothing sorts its rows: every scenario's sums come from statistics of the
# cells (``_per_area``, then ``_scenario_sums``).
#
# The matrix route (``_matrix_route``): the scores laid out as a matrix, a row per scored cell
# and a column per evaluator, each score placed at its (cell, evaluator) position (the loader
# allows one score per pair). Then everything is column-wise over the cells: the median and
# the order statistics that taking a score out needs (a sorting network over the evaluators'
# columns, ``_sorted_columns``), the standardised scores (each evaluator's column rescaled by
# their own mean and spread, ``_standardised_columns``), and what leaving each evaluator out
# does to each cell's consolidated value (``_without_one``), summed per candidate and area in
# one group-by of the cells, which are in candidate and area order.
#
# A panel where each evaluator scores only a few of the cells would make that matrix mostly
# empty (``_dense_enough``); then the rows route (``_rows_route``) gets the same from the
# score rows: one group-by per cell into lists (order statistics), one of the standardised
# scores, and a pass over the rows that finds each row's cell by position (``_lookup``) and
# sums the changes per evaluator, candidate and area.
#
# tests/reference_analysis.py computes the same by the definition (every variant's score sheet
# re-ranked from scratch by ``engine.standings``); tests/test_analysis.py compares the two, by
# each route, on random contests, and the plan's parts with their definitions.

ALTERNATIVES = ("mean", "median", "trimmed_mean", "zscore")
ANALYSIS = "analysis"  # robustness_table's column: each candidate's Robustness, as a struct
_CELL = "_cell"
MATRIX_FILL = 0.25  # the least share of the (cell, evaluator) matrix that is scored for the matrix route
# The most cell keys (candidates x indicators) per scored cell for which the matrix's columns are
# laid out by cell key, as the stream placed the scores (``_score_columns``).
KEYS_PER_CELL = 2
_NAN = float("nan")  # what the matrix's scores are placed over (``_score_columns``)


def _lookup(data: ContestData, cells: pl.DataFrame, column: str) -> pl.Expr:
    """A score row's cell's ``column`` of ``cells`` (a row per scored cell, keyed by ``_cell``):
    the column spread over every cell key (position k holds cell k's value, null where no such
    cell was scored), so each row finds its cell by position, a gather rather than a join."""
    table = scattered(cell_keys(data.rows.schema), cells.schema[column], cells[_CELL], cells[column])
    return pl.lit(table).gather(pl.col(_CELL)).alias(column)


def _keyed_cells(data: ContestData, areas: tuple[str, ...]) -> pl.DataFrame:
    """Per scored cell, in candidate and area order: its key (``_cell``), row (``_row``), its
    candidate and area as one code (``_slot``: the candidate id's Enum code * len(areas) + the
    area's index in ``areas``), n, sum, min, max and indicator maximum."""
    return (
        data.cells.select(
            cell_key(data.cells.schema).alias(_CELL),
            area_slot(len(areas), areas).alias("_slot"),
            "n",
            "sum",
            "min",
            "max",
            "max_points",
        )
        .sort(pl.col("_slot").cast(pl.UInt64) * (1 << 32) + pl.col(_CELL))
        .with_row_index("_row")
        .with_columns(pl.col("_slot").set_sorted())
    )


def _score_rows(data: ContestData, cells: pl.DataFrame) -> pl.LazyFrame:
    """The score rows with their cell's key (``_cell``), row in ``cells`` (``_row``) and
    indicator maximum (``max_points``)."""
    return (
        data.scores.lazy()
        .with_columns(cell_key(data.rows.schema).alias(_CELL))
        .with_columns(_lookup(data, cells, "_row"), _lookup(data, cells, "max_points"))
    )


def _standardised_share(share: pl.Expr, evaluator: str) -> pl.Expr:
    """Each score's share of its indicator's maximum as a z-score of its evaluator's shares,
    mapped back onto the common scale (mean and sample standard deviation of every share) and
    kept within 0..1: a lenient and a severe evaluator weigh alike. An evaluator with fewer
    than two scores, or all equal, keeps their shares."""
    mean_e, std_e = share.mean().over(evaluator), share.std().over(evaluator)
    z = (share - mean_e) / std_e
    return pl.when(std_e.is_null() | (std_e == 0)).then(share).otherwise(share.mean() + z * share.std()).clip(0.0, 1.0)


def _standardised_score() -> pl.Expr:
    """A score row's standardised score (``_standardised_share``) in points."""
    return _standardised_share(pl.col("score") / pl.col("max_points"), "evaluator_id") * pl.col("max_points")


def _standardised(data: ContestData) -> pl.DataFrame:
    """The score sheet with each evaluator's scores standardised: the ``zscore`` variant's sheet."""
    return (
        _score_rows(data, _keyed_cells(data, contest_areas(data)))
        .with_columns(score=_standardised_score())
        .select("candidate_id", "evaluator_id", "indicator_id", "score")
        .collect()
    )


def _midpoint(low: pl.Expr, high: pl.Expr) -> pl.Expr:
    # As polars' own median interpolates, bit for bit (the engine consolidates by it).
    return low + (high - low) * 0.5


def _order_statistics(scoring: Scoring, n: pl.Expr, nth: Callable[[pl.Expr], pl.Expr]) -> dict[str, pl.Expr]:
    """From a cell's n sorted scores (``nth(i)``: the i-th lowest, null past the end): its
    median, and what taking one score out needs besides n, sum, minimum and maximum: the second
    lowest and second highest and, for the median, the scores around the middle (s[p - 1],
    s[p], s[p + 1], with p = n // 2)."""
    n = n.cast(pl.Int64)
    p = n // 2
    statistics = {
        "median": pl.when(n % 2 == 1).then(nth(p)).otherwise(_midpoint(nth(p - 1), nth(p))),
        "min_2": nth(pl.lit(1, pl.Int64)),
        "max_2": nth(n - 2),
    }
    if scoring.method == "median":
        statistics |= {"below": nth(p - 1), "at": nth(p), "above": nth(p + 1)}
    return statistics


def _without_one(scoring: Scoring, score: pl.Expr) -> dict[str, pl.Expr]:
    """A cell's n, sum, minimum, maximum and median with one of its scores (``score``) taken
    out, from the cell's n, sum, min, max and ``_order_statistics``, named for
    ``consolidated_value``.

    Taking out a score equal to the lowest leaves the second lowest as the minimum (equal to
    the lowest when it repeats); likewise for the maximum. The median of the n - 1 left, with
    n = 2p: s[p] when the score is at most s[p - 1], else s[p - 1]; with n = 2p + 1: the
    midpoint of s[p] and s[p + 1] when the score is below s[p], of s[p - 1] and s[p + 1] when
    it equals s[p], else of s[p - 1] and s[p]."""
    n = pl.col("n").cast(pl.Int64)
    low, high = pl.col("min"), pl.col("max")
    without = {
        "n": n - 1,
        "sum": pl.col("sum") - score,
        "min": pl.when(score == low).then(pl.col("min_2")).otherwise(low),
        "max": pl.when(score == high).then(pl.col("max_2")).otherwise(high),
    }
    if scoring.method == "median":
        below, at, above = pl.col("below"), pl.col("at"), pl.col("above")
        even = pl.when(score <= below).then(at).otherwise(below)
        odd = (
            pl.when(score < at)
            .then(_midpoint(at, above))
            .when(score == at)
            .then(_midpoint(below, above))
            .otherwise(_midpoint(below, at))
        )
        without["median"] = pl.when(n % 2 == 0).then(even).otherwise(odd)
    return without


def _change_without(scoring: Scoring) -> dict[str, pl.Expr]:
    """From ``_without_one``'s columns beside the cell's ``value``: how much the cell's
    consolidated value drops (``change``) and whether it is left unscored (``lost``)."""
    without = pl.when(pl.col("n") > 0).then(consolidated_value(scoring))
    return {"change": pl.col("value") - without.fill_null(0.0), "lost": without.is_null()}


# The matrix route ------------------------------------------------------------------------------


def _dense_enough(data: ContestData, evaluators: tuple[str, ...]) -> bool:
    """Whether the (cell, evaluator) matrix is scored enough to lay the scores out in it."""
    return data.rows.height >= MATRIX_FILL * data.cells.height * max(len(evaluators), 1)


def _evaluator_code(data: ContestData, evaluators: tuple[str, ...]) -> pl.Expr:
    """A score row's evaluator as its index in ``evaluators`` (0 when the sheet names none):
    looked up by the id's own code in a table of the sheet's codes (a sheet's evaluator ids
    have codes of their own, 0 .. evaluators - 1, in the order read), else by casting."""
    if not evaluators:
        return pl.lit(0, pl.UInt32)
    dtype = data.rows.schema["evaluator_id"]
    if isinstance(dtype, pl.Categorical | pl.Enum):
        codes = pl.Series(evaluators).cast(dtype).to_physical()
        top = max(codes.to_list())
        if top < 4 * len(evaluators) + 1024:
            index = pl.Series(range(len(evaluators)), dtype=pl.UInt32)
            table = scattered(top + 1, pl.UInt32, codes, index)
            return pl.lit(table).gather(pl.col("evaluator_id").to_physical())
    return pl.col("evaluator_id").cast(pl.Enum(evaluators)).to_physical().cast(pl.UInt32)


def _score_columns(data: ContestData, cells: pl.DataFrame, evaluators: tuple[str, ...]) -> list[pl.Series]:
    """Each evaluator's scores of ``cells``' rows, in the order of ``evaluators`` (null where
    they did not score the cell; one column when the sheet names none): from the scores the
    stream placed (``ContestData.placed_scores``: then the rows are never needed), else from
    the rows. The scores are placed in one series of the columns end to end, over NaN, which
    no score is (a sheet with one is refused), then made null column by column: half the time
    of placing them over nulls (0.05 s against 0.1 s at 6.72 million scores)."""
    width = max(len(evaluators), 1)
    placed = data.placed_scores()
    if placed is not None and evaluators and set(placed[1]) == set(evaluators):
        frame, by_code = placed
        keys = cell_keys(data.rows.schema)
        code = {evaluator: c for c, evaluator in enumerate(by_code)}
        if len(by_code) * keys <= KEYS_PER_CELL * cells.height * len(evaluators):
            # As the stream placed them (each evaluator's column a cell key long, in the sheet's
            # codes), each evaluator's column picked out by the cells' keys: no score is moved.
            grid = scattered(len(by_code) * keys, pl.Float64, frame["_at"], frame["score"], _NAN)
            if _in_key_order(cells, keys):  # (then each evaluator's column is its slice, as it is)
                return [
                    grid.slice(code[e] * keys, keys).fill_nan(None).alias(f"_{j}") for j, e in enumerate(evaluators)
                ]
            columns = (pl.lit(grid.slice(code[e] * keys, keys)).gather(cells[_CELL]).fill_nan(None) for e in evaluators)
            return pl.select(column.alias(f"_{j}") for j, column in enumerate(columns)).get_columns()
        # (Few of the keys scored, as when categories have indicator sets of their own: the
        # columns a row of ``cells`` long instead, each score moved to its cell's row.)
        index = pl.Series([evaluators.index(e) for e in by_code], dtype=pl.UInt32)
        at = pl.lit(index).gather(pl.col("_at") // keys) * cells.height + _lookup(data, cells, "_row")
        places = frame.with_columns((pl.col("_at") % keys).alias(_CELL)).select(at)
        grid = scattered(cells.height * width, pl.Float64, places.to_series(), frame["score"], _NAN)
    else:
        row = pl.col(_CELL) if _in_key_order(cells, cell_keys(data.rows.schema)) else pl.col("_row")
        at = _evaluator_code(data, evaluators) * cells.height + row
        places = _score_rows(data, cells).select(at).collect()
        grid = scattered(cells.height * width, pl.Float64, places.to_series(), data.scores["score"], _NAN)
    return [grid.slice(j * cells.height, cells.height).fill_nan(None) for j in range(width)]


def _in_key_order(cells: pl.DataFrame, keys: int) -> bool:
    """Whether the keyed cells (``_keyed_cells``) are every cell key (``keys`` of them) in key
    order, row k being key k: every candidate scored on every indicator, the indicators' codes
    in the order of their areas (a contest of one indicator set, its file listed area by area)."""
    return cells.height == keys and cells[_CELL].is_sorted()


def _comparators(width: int) -> list[list[tuple[int, int]]]:
    """Batcher's odd-even merge sort for ``width`` inputs, as layers of disjoint comparators
    (i, j), i < j: after all of them, input i holds the i-th lowest."""
    layers = []
    p = 1
    while p < width:
        k = p
        while k >= 1:
            layer = [
                (i + j, i + j + k)
                for j in range(k % p, width - k, 2 * k)
                for i in range(min(k, width - j - k))
                if (i + j) // (2 * p) == (i + j + k) // (2 * p)
            ]
            if layer:
                layers.append(layer)
            k //= 2
        p *= 2
    return layers


def _sorted_columns(frame: pl.LazyFrame, columns: list[str], prefix: str) -> pl.LazyFrame:
    """``frame`` with ``prefix`` 0, 1, ...: the values of ``columns`` in each row, lowest
    first, the nulls (as +inf) last. A sorting network of min/max over whole columns."""
    frame = frame.with_columns(pl.col(c).fill_null(float("inf")).alias(f"{prefix}{i}") for i, c in enumerate(columns))
    for layer in _comparators(len(columns)):
        frame = frame.with_columns(
            expr
            for i, j in layer
            for expr in (
                pl.min_horizontal(f"{prefix}{i}", f"{prefix}{j}").alias(f"{prefix}{i}"),
                pl.max_horizontal(f"{prefix}{i}", f"{prefix}{j}").alias(f"{prefix}{j}"),
            )
        )
    return frame


def _nth(prefix: str, width: int) -> Callable[[pl.Expr], pl.Expr]:
    """The i-th of a row's sorted columns (``_sorted_columns``); null out of range."""

    def nth(i: pl.Expr) -> pl.Expr:
        return pl.coalesce(pl.when(i == j).then(pl.col(f"{prefix}{j}")) for j in range(width))

    return nth


def _standardised_columns(matrix: pl.DataFrame, scores: list[str]) -> list[pl.Expr]:
    """Each evaluator's column of the matrix as standardised scores (``_standardised_share``:
    each evaluator's mean and spread from their column, the common ones over every score)."""
    shares = [pl.col(column) / pl.col("max_points") for column in scores]
    moments = matrix.select(
        *(share.count().alias(f"n{j}") for j, share in enumerate(shares)),
        *(share.mean().alias(f"mean{j}") for j, share in enumerate(shares)),
        *(share.std().alias(f"std{j}") for j, share in enumerate(shares)),
    ).row(0, named=True)
    common_mean, common_std = _pooled(
        [(moments[f"n{j}"], moments[f"mean{j}"], moments[f"std{j}"]) for j in range(len(shares))]
    )
    columns = []
    for j, share in enumerate(shares):
        mean, std = moments[f"mean{j}"], moments[f"std{j}"]
        if std is not None and std != 0:
            share = pl.lit(common_mean) + (share - mean) / std * common_std
        columns.append((share.clip(0.0, 1.0) * pl.col("max_points")).alias(f"_z{j}"))
    return columns


def _pooled(groups: list[tuple[int, float | None, float | None]]) -> tuple[float | None, float | None]:
    """The mean and sample standard deviation of the values of several groups together, from
    each group's count, mean and sample standard deviation (None where it has too few values):
    the common scale of ``_standardised_share``, without laying every share end to end."""
    present = [(count, mean, std) for count, mean, std in groups if count and mean is not None]
    n = sum(count for count, _, _ in present)
    if n == 0:
        return None, None
    mean = math.fsum(count * m for count, m, _ in present) / n
    if n == 1:
        return mean, None
    within = math.fsum((count - 1) * s * s for count, _, s in present if s is not None)
    between = math.fsum(count * (m - mean) ** 2 for count, m, _ in present)
    return mean, math.sqrt((within + between) / (n - 1))


def _matrix_route(data: ContestData, cells: pl.DataFrame, evaluators: tuple[str, ...]) -> pl.DataFrame:
    """Per candidate and area (``_per_area``), from the (cell, evaluator) matrix."""
    scoring = data.config.scoring
    width = max(len(evaluators), 1)
    scores = [f"_s{j}" for j in range(width)]
    matrix = cells.select("_slot", "n", "sum", "min", "max", "max_points").hstack(
        [column.alias(name) for column, name in zip(_score_columns(data, cells, evaluators), scores, strict=True)]
    )
    methods = {
        f"_m{i}": consolidated_value(replace(scoring, method=m)) for i, m in enumerate(ALTERNATIVES, 1) if m != "zscore"
    }
    statistics = (
        _sorted_columns(matrix.lazy(), scores, "_o")
        .with_columns(**_order_statistics(scoring, pl.col("n"), _nth("_o", width)))
        .with_columns(value=consolidated_value(scoring), **methods)
        .collect()
    )
    zscore = f"_m{ALTERNATIVES.index('zscore') + 1}"
    if evaluators:
        zs = [f"_z{j}" for j in range(width)]
        standardised = statistics.lazy().select("n", *_standardised_columns(matrix, scores))
        if scoring.method == "median":
            standardised = _sorted_columns(standardised, zs, "_oz")
        moments = {
            "n": pl.col("n"),
            "sum": pl.sum_horizontal(zs),
            "min": pl.min_horizontal(zs),
            "max": pl.max_horizontal(zs),
        }
        if scoring.method == "median":
            moments["median"] = _order_statistics(scoring, pl.col("n"), _nth("_oz", width))["median"]
        z_value = standardised.select(**moments).select(consolidated_value(scoring).alias(zscore)).collect()
        statistics = statistics.hstack(z_value.get_columns())
    else:
        statistics = statistics.with_columns(pl.col("value").alias(zscore))
    context = ["value", "n", "sum", "min", "max", *_order_statistics(scoring, pl.col("n"), _nth("_o", width))]
    # Only a cell with a single score can be left unscored: without any, ``lost`` is all false.
    outcome = {k: v for k, v in _change_without(scoring).items() if k != "lost" or cells["n"].min() == 1}
    leaving = [
        statistics.lazy()
        .select(*context, score=pl.col(column))
        .select("value", "score", **_without_one(scoring, pl.col("score")))
        .select(**{f"{name}_{j}": pl.when(pl.col("score").is_not_null()).then(expr) for name, expr in outcome.items()})
        for j, column in enumerate(scores[: len(evaluators)])
    ]
    changes = pl.concat(leaving, how="horizontal").collect() if leaving else pl.DataFrame()
    return _per_area(
        statistics.select("_slot", "value", *methods, zscore).hstack(changes.get_columns()),
        len(evaluators),
    )


def prepare(data: ContestData) -> None:
    """Before other work (the standings): when the analysis will compute its per-area
    statistics (they are not kept) from the score rows (the stream did not place the scores
    for its matrix), the rows are loaded meanwhile, in a thread."""
    evaluators = _evaluator_ids(data)
    if data.keeps(_per_area_key(data, contest_areas(data), evaluators)):
        return
    if not (data.placed_scores() is not None and evaluators and _dense_enough(data, evaluators)):
        data.load_rows_meanwhile()


def _per_area_key(data: ContestData, areas: tuple[str, ...], evaluators: tuple[str, ...]) -> list[str]:
    """What the per-area statistics rest on besides the contest's sheet and cells
    (``_kept_per_area``): of the scoring settings, the method and the trimming rule only (the
    decimals and the review margin act on the ranking of the sums, not on the sums)."""
    scoring = data.config.scoring
    settings = json.dumps([scoring.method, scoring.trim_min_evaluators])
    return ["per-area statistics", _CODE, settings, json.dumps(areas), json.dumps(evaluators)]


def _kept_per_area(data: ContestData, areas: tuple[str, ...], evaluators: tuple[str, ...]) -> pl.DataFrame:
    """``_per_area`` by the route that suits the sheet, kept in the cache beside the sheet's
    entry and its cells (``ContestData.derived``), keyed also by the scoring settings, the
    areas, the evaluators (sorted: ``change_j`` is the j-th one's, whatever the codes of this
    process) and the code: the analysis of an unchanged sheet does not compute them again."""

    def compute() -> pl.DataFrame:
        route = _matrix_route if _dense_enough(data, evaluators) else _rows_route
        return route(data, _keyed_cells(data, areas), evaluators)

    parts = _per_area_key(data, areas, evaluators)
    # Every screen of the account asks for them at once after a change: one computes them.
    found = data.derived(parts, compute, lambda frame: _fits_per_area(frame, len(evaluators)), one_at_a_time=True)
    data.let_go_of_placed_scores()  # (they serve the first analysis: ``PlacedScores``)
    return found


def _fits_per_area(frame: pl.DataFrame, evaluators: int) -> bool:
    """Whether ``frame`` has the columns and types ``_per_area`` gives (``lost_j`` may be absent)."""
    expected: dict[str, type[pl.DataType]] = {"_slot": pl.UInt32, "scored": pl.UInt32}
    expected |= {f"sub_{k}": pl.Float64 for k in range(len(ALTERNATIVES) + 1)}
    expected |= {f"change_{j}": pl.Float64 for j in range(evaluators)}
    lost = {f"lost_{j}": pl.UInt32 for j in range(evaluators)}
    schema = dict(frame.schema)
    return all(schema.pop(c, None) == t for c, t in expected.items()) and (not schema or schema == lost)


def _per_area(cells: pl.DataFrame, evaluators: int) -> pl.DataFrame:
    """Per candidate and area (``_slot``): how many cells are scored (``scored``), the sum of each
    method scenario's values (``sub_0``: as configured, ``sub_1`` ...: ALTERNATIVES), and for
    the j-th evaluator what leaving them out takes off the sum (``change_j``) and how many cells
    it leaves unscored (``lost_j``, absent when no cell has a single score)."""
    sums = [pl.col("value").sum().alias("sub_0")]
    sums += [pl.col(f"_m{i}").sum().alias(f"sub_{i}") for i in range(1, len(ALTERNATIVES) + 1)]
    sums += [pl.col(f"change_{j}").sum() for j in range(evaluators)]
    sums += [pl.col(f"lost_{j}").sum().cast(pl.UInt32) for j in range(evaluators) if f"lost_{j}" in cells.columns]
    return cells.group_by(pl.col("_slot").set_sorted(), maintain_order=True).agg(pl.len().alias("scored"), *sums)


# The rows route --------------------------------------------------------------------------------


def _rows_route(data: ContestData, cells: pl.DataFrame, evaluators: tuple[str, ...]) -> pl.DataFrame:
    """Per candidate and area (``_per_area``), from the score rows: one group-by per cell into
    a sorted list (order statistics), one of the standardised scores, and one pass over the
    rows that looks up each row's cell by its row in ``cells`` (a gather) and sums what taking
    that score out of its cell changes, per evaluator, candidate and area."""
    scoring = data.config.scoring
    rows = _score_rows(data, cells)

    def nth(i: pl.Expr) -> pl.Expr:
        return pl.col("_sorted").list.get(i, null_on_oob=True)

    ordered = (
        rows.group_by("_row")
        .agg(_sorted=pl.col("score"))
        .with_columns(pl.col("_sorted").list.sort())
        .select("_row", **_order_statistics(scoring, pl.col("_sorted").list.len(), nth))
    )
    methods = {
        f"_m{i}": consolidated_value(replace(scoring, method=m)) for i, m in enumerate(ALTERNATIVES, 1) if m != "zscore"
    }
    statistics = cells.lazy().join(ordered, on="_row").with_columns(value=consolidated_value(scoring), **methods)
    zscore = f"_m{ALTERNATIVES.index('zscore') + 1}"
    if evaluators:
        z = pl.col("z")
        moments = [z.len().alias("n"), z.sum().alias("sum"), z.min().alias("min"), z.max().alias("max")]
        if scoring.method == "median":
            moments.append(z.median().alias("median"))
        z_values = (
            rows.select("_row", z=_standardised_score())
            .group_by("_row")
            .agg(moments)
            .select("_row", consolidated_value(scoring).alias(zscore))
        )
        statistics = statistics.join(z_values, on="_row")
    else:
        statistics = statistics.with_columns(pl.col("value").alias(zscore))
    frame = statistics.sort("_row").collect()
    per_area = _per_area(frame, 0)
    if not evaluators:
        return per_area
    n_slots = frame.select(pl.col("_slot").max().fill_null(0) + 1).item()
    needed = ["value", "n", "sum", "min", "max", *_order_statistics(scoring, pl.col("n"), nth)]
    cell = {c: pl.lit(frame[c]).gather(pl.col("_row")) for c in needed}
    slot = pl.lit(frame["_slot"].cast(pl.UInt64)).gather(pl.col("_row"))
    changes = (
        rows.select(
            _key=_evaluator_code(data, evaluators).cast(pl.UInt64) * n_slots + slot, score=pl.col("score"), **cell
        )
        .select("_key", "value", **_without_one(scoring, pl.col("score")))
        .select("_key", **_change_without(scoring))
        .group_by("_key")
        .agg(pl.col("change").sum(), pl.col("lost").sum().cast(pl.UInt32))
        .select(
            _e=pl.col("_key") // n_slots,
            _slot=(pl.col("_key") % n_slots).cast(pl.UInt32),
            change=pl.col("change"),
            lost=pl.col("lost"),
        )
        .group_by("_slot")
        .agg(
            expr
            for j in range(len(evaluators))
            for expr in (
                pl.col("change").filter(pl.col("_e") == j).sum().alias(f"change_{j}"),
                pl.col("lost").filter(pl.col("_e") == j).sum().cast(pl.UInt32).alias(f"lost_{j}"),
            )
        )
        .collect()
    )
    return per_area.join(changes, on="_slot", how="left").fill_null(0)


# Scenarios -------------------------------------------------------------------------------------


def _scenario_sums(
    data: ContestData, per_area: pl.DataFrame, areas: tuple[str, ...], evaluators: tuple[str, ...]
) -> CandidateSums:
    """Every scenario's sums from ``_per_area``: scenario 0 as configured, 1 ..
    len(ALTERNATIVES) each alternative method, then one per evaluator left out (their changes
    taken off scenario 0's subtotals, their lost cells off its scored count), laid out per
    candidate by ``engine.spread_sums``, as the ranking's own, every scenario in one call."""
    first = len(ALTERNATIVES) + 1
    changes = [f"change_{j}" for j in range(len(evaluators))]
    losses = [f"lost_{j}" if f"lost_{j}" in per_area.columns else None for j in range(len(evaluators))]
    sub = [pl.col(f"sub_{k}") for k in range(first)] + [pl.col("sub_0") - pl.col(c) for c in changes]
    scored = [pl.col("scored")] * first + [pl.col("scored") - (pl.col(c) if c else 0) for c in losses]
    candidate_ids = enum_ids(data.cells.schema["candidate_id"])
    # Every scenario at once: scenario k's slots numbered after the k scenarios' before it, so
    # that one layout (``spread_sums``) of k x candidates "candidates" gives every scenario's
    # rows, candidate c of scenario k at k x candidates + c.
    n_candidates, n_slots = len(candidate_ids), len(candidate_ids) * len(areas)
    per_slot = pl.concat(
        per_area.select(
            (pl.col("_slot").cast(pl.UInt64) + k * n_slots).alias("_slot"),
            sub_k.alias("_sub"),
            scored_k.alias("_scored"),
        )
        for k, (sub_k, scored_k) in enumerate(zip(sub, scored, strict=True))
    )
    frame = spread_sums(per_slot, len(sub) * n_candidates, len(areas), "_sub", "_scored").select(
        (pl.col(CANDIDATE) // n_candidates).cast(pl.Int32).alias(SCENARIO),
        (pl.col(CANDIDATE) % n_candidates).alias(CANDIDATE),
        pl.exclude(CANDIDATE),
    )
    return CandidateSums(frame=frame, areas=areas, candidate_ids=candidate_ids)


def robustness(data: ContestData, decisions: Decisions = Decisions()) -> dict[str, Robustness]:
    """Per candidate: rank and certification under each consolidation method and under
    z-standardised evaluators; under leaving each evaluator out, the largest rank swing and who
    flips its certification; and a verdict: ``fragile`` when any of these changes whether it
    is certified, else ``stable``. (How: the comment above ALTERNATIVES.) ``robustness_table``
    as Python values."""
    table = robustness_table(data, decisions)
    return dict(zip(table["candidate_id"].to_list(), table[ANALYSIS].to_list(), strict=True))


def robustness_table(data: ContestData, decisions: Decisions = Decisions()) -> pl.DataFrame:
    """``robustness`` as a frame: ``candidate_id`` and ``analysis``, a struct with the fields
    of ``Robustness`` (polars writes it as ``rank --format json`` prints it, nothing built per
    candidate in Python)."""
    evaluators = _evaluator_ids(data)
    areas = contest_areas(data)
    sums = _scenario_sums(data, _kept_per_area(data, areas, evaluators), areas, evaluators)
    first = len(ALTERNATIVES) + 1
    scenarios = first + len(evaluators)
    wide = _by_candidate(outcomes(data, sums, decisions, scenarios), scenarios, sums.candidate_ids)
    now_rank, now_certified = pl.col("rank_0"), pl.col("certified_0")
    left_out = range(first, scenarios)
    swing = pl.max_horizontal((pl.col(f"rank_{k}") - now_rank).abs() for k in left_out) if evaluators else pl.lit(0)
    flips = _flips(wide, [pl.col(f"certified_{k}").ne_missing(now_certified) for k in left_out], evaluators)
    method = {name: k for k, name in enumerate(ALTERNATIVES, 1)}
    changed = pl.any_horizontal(pl.col(f"certified_{k}").ne_missing(now_certified) for k in method.values()) | (
        pl.col("_flips").list.len() > 0
    )
    return wide.with_columns(_flips=flips).select(
        "candidate_id",
        pl.struct(
            ranks=pl.struct(pl.col(f"rank_{k}").alias(name) for name, k in method.items()),
            certified=pl.struct(pl.col(f"certified_{k}").alias(name) for name, k in method.items()),
            leave_one_out=pl.struct(
                max_rank_swing=swing.fill_null(0).cast(pl.Int64), certification_flips_without=pl.col("_flips")
            ),
            verdict=pl.when(changed).then(pl.lit("fragile")).otherwise(pl.lit("stable")),
        ).alias(ANALYSIS),
    )


def _flips(wide: pl.DataFrame, flipped: list[pl.Expr], evaluators: tuple[str, ...]) -> pl.Series:
    """Per candidate (a row of ``wide``), the evaluators (in order) for whom ``flipped`` (one
    flag per evaluator) holds. The flags are packed into 64-bit words; each distinct set of
    words (few: most candidates flip for nobody) is turned into its list once, and every
    candidate's list gathered from those, rather than a list assembled on every row."""
    if not evaluators:
        return pl.Series("_flips", [[]] * wide.height, dtype=pl.List(pl.String))
    words = [
        pl.sum_horizontal(
            flag.cast(pl.UInt64) * pl.lit(1 << j, pl.UInt64) for j, flag in enumerate(flipped[start : start + 64])
        ).alias(f"_w{start}")
        for start in range(0, len(flipped), 64)
    ]
    keys = wide.select(words)
    distinct = keys.unique(maintain_order=True)
    lists = pl.Series(
        "_flips",
        [[e for j, e in enumerate(evaluators) if row[j // 64] >> (j % 64) & 1] for row in distinct.iter_rows()],
        dtype=pl.List(pl.String),
    )
    at = keys.join(distinct.with_row_index("_at"), on=keys.columns, how="left", maintain_order="left")["_at"]
    return lists.gather(at)


def _by_candidate(result: pl.DataFrame, scenarios: int, candidate_ids: pl.Series) -> pl.DataFrame:
    """``engine.outcomes``'s rows (scenario, candidate_id, rank, certified) as one row per
    candidate, in id order, with ``rank_k`` and ``certified_k`` of every scenario k. Every
    scenario ranks every candidate once: each row goes to its place (scenario k's block, then
    the id's place in sorted order) in one column per field, and each block is a slice of it;
    no sort, group-by or join."""
    n = len(candidate_ids)
    order = candidate_ids.arg_sort()  # the code at each place in id order
    place = scattered(n, pl.UInt32, order, pl.Series(range(n), dtype=pl.UInt32))
    code = pl.col("candidate_id").cast(pl.Enum(candidate_ids)).to_physical()
    at = result.select(pl.col(SCENARIO).cast(pl.UInt64) * n + pl.lit(place).gather(code)).to_series()
    size = n * scenarios
    seen = scattered(size, pl.Boolean, at, pl.repeat(True, result.height, eager=True))
    if result.height != size or seen.null_count():  # (then some place was filled twice, or never)
        raise RuntimeError("the scenarios do not rank the same candidates")  # (outcomes ranks every one in each)
    rank, certified = (
        scattered(size, pl.Int64, at, result["rank"]),
        scattered(size, pl.Boolean, at, result["certified"]),
    )
    return pl.DataFrame(
        [
            candidate_ids.gather(order).cast(pl.String).alias("candidate_id"),
            *(rank.slice(k * n, n).alias(f"rank_{k}") for k in range(scenarios)),
            *(certified.slice(k * n, n).alias(f"certified_{k}") for k in range(scenarios)),
        ]
    )


def _evaluator_ids(data: ContestData) -> tuple[str, ...]:
    """The sheet's evaluators, sorted (``ContestData.evaluator_ids``), read off the cells'
    evaluator sets (``inputs.cells``: bit i, the evaluator of code i) rather than the rows."""
    dtype = data.rows.schema["evaluator_id"]
    if not (
        data.has_evaluators
        and isinstance(dtype, pl.Categorical)
        and evaluator_bits(dtype)
        and has_evaluator_sets(data.cells)
    ):
        return data.evaluator_ids
    word = data.cells.select(pl.col(EVALUATOR_SET).bitwise_or()).item() or 0
    codes = dtype.categories.to_series()
    return tuple(sorted(codes[i] for i in range(codes.len()) if word >> i & 1))
